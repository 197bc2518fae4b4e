//! Block and allow lists: entries added in bulk (an import) or one by one with an audited change
//! (`changes::ListChange`), removed by marking, read whole by screening.

use crate::{ListEntry, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait ListStore: Send + Sync {
    /// Adds list entries (all or none) and bumps the lists sequence.
    async fn add_list_entries(&self, entries: &[ListEntry]) -> StoreResult<()>;
    /// Marks an entry removed; false if there is no such active entry.
    async fn remove_list_entry(&self, id: &str, actor: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Entries not removed (expired ones included: matching checks expiry at its own time).
    async fn list_entries(&self) -> StoreResult<Vec<ListEntry>>;
}
