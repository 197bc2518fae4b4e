//! Webhooks: the outbox that decisions and changes write in their own transaction and the
//! deliverer drains (claimed with a lease, so several instances share it).

use crate::{OutboxCounts, PendingMessage, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due messages for `lease_ms` (other instances skip them meanwhile).
    async fn claim_outbox(&self, now: DateTime<Utc>, lease_ms: i64, limit: i64) -> StoreResult<Vec<PendingMessage>>;
    async fn outbox_delivered(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a failed attempt; `retry_at: None` gives up.
    async fn outbox_failed(
        &self,
        id: &str,
        attempts: i64,
        retry_at: Option<DateTime<Utc>>,
        error: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn outbox_counts(&self) -> StoreResult<OutboxCounts>;
}
