//! Four-eye proposals, stored with their exact payload.

use crate::StoreResult;
use crate::changes::Effect;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::{AuditEntry, Proposal};

/// Why a proposal write did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalConflict {
    /// Another proposal for the same kind and target is pending.
    AlreadyPending,
    /// The proposal changed since it was read (its revision moved on).
    Changed,
}

#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// Stores a new proposal (and effects, audit) unless one for the same thing is pending.
    async fn create_proposal(
        &self,
        p: &Proposal,
        audit: &[AuditEntry],
        key: &[u8],
    ) -> StoreResult<Result<(), ProposalConflict>>;
    /// Replaces a proposal if its stored revision is still `expected_revision`, applying the
    /// effects (the approved payload) in the same transaction.
    async fn update_proposal(
        &self,
        p: &Proposal,
        expected_revision: i64,
        effects: &[Effect],
        audit: &[AuditEntry],
        key: &[u8],
    ) -> StoreResult<Result<(), ProposalConflict>>;
    async fn proposal(&self, id: &str) -> StoreResult<Option<Proposal>>;
    /// The pending proposal (expired or not) for a kind and target, if any.
    async fn pending_proposal(&self, kind: &str, target: &str) -> StoreResult<Option<Proposal>>;
    /// Proposals, newest first; `pending_only` limits to pending ones (expired included).
    async fn proposals(&self, pending_only: bool, limit: i64) -> StoreResult<Vec<Proposal>>;
    /// Every proposal about one subject (an order, a rule set, a case), oldest first.
    async fn proposals_for(&self, target: &str) -> StoreResult<Vec<Proposal>>;
    /// Marks pending proposals past their expiry as expired; returns how many.
    async fn expire_proposals(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}
