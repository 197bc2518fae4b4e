//! The audit chain, read back: search, pages in order for verification, the head.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::AuditRecord;

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Prefix match: `order:` or `customer:c1`.
    pub subject: Option<String>,
    /// Exact subjects, any of them (empty: no such filter): a customer's account, orders, cases.
    pub subjects: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only records before this sequence number (paging newest first).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Audit records matching the filter, newest first.
    async fn audit_records(&self, f: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
    /// A page of the chain in sequence order, for verification.
    async fn audit_chain(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>>;
    async fn audit_head(&self) -> StoreResult<(i64, Vec<u8>)>;
}
