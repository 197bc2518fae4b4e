//! Screening's stored state: rule-set versions, the control row (live and shadow version, the
//! lists' sequence) with its change log, and the linked-account clusters screening reads.

use crate::{ControlChange, RuleSetChange, RuleSetRecord, ScreeningControl, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::{CustomerId, Decision};
use riskdesk_rules::features::ClusterFacts;

#[async_trait]
pub trait ScreeningStore: Send + Sync {
    /// Saves a new rule-set version and returns its number.
    async fn create_ruleset(&self, source: &str, author: &str, note: &str, at: DateTime<Utc>) -> StoreResult<i64>;
    async fn ruleset(&self, version: i64) -> StoreResult<Option<RuleSetRecord>>;
    async fn rulesets(&self) -> StoreResult<Vec<RuleSetRecord>>;
    async fn screening_control(&self) -> StoreResult<ScreeningControl>;
    /// Changes the live or shadow pointer and records who did it, in one transaction.
    async fn change_control(&self, change: ControlChange, actor: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn ruleset_changes(&self) -> StoreResult<Vec<RuleSetChange>>;

    /// Shadow decisions of a version, newest first.
    async fn shadow_decisions(&self, version: i64, limit: i64) -> StoreResult<Vec<(Decision, Option<Decision>)>>;

    /// The cluster of an account: its id and counts.
    async fn cluster_of(&self, customer: &CustomerId) -> StoreResult<Option<(String, ClusterFacts)>>;
    /// Accounts of a cluster, at most `limit`.
    async fn cluster_members(&self, cluster_id: &str, limit: i64) -> StoreResult<Vec<String>>;
}
