//! The installation: what the store holds in total and settings initialised once.

use crate::{Counts, StoreResult};
use async_trait::async_trait;

#[async_trait]
pub trait SystemStore: Send + Sync {
    /// Customers, orders and events stored.
    async fn counts(&self) -> StoreResult<Counts>;

    /// Stores `value` under `name` unless a value is already there; returns the stored value.
    async fn setting_or_init(&self, name: &str, value: &str) -> StoreResult<String>;
}
