//! Stored orders and accounts as pages and the API read them (the intake's writes stay on
//! `Store`, hand-tuned per backend).

use crate::{StoreResult, StoredCustomer, StoredOrder};
use async_trait::async_trait;
use riskdesk_domain::{CustomerId, Decision, EntityKey, OrderId};

#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn get_order(&self, id: &OrderId) -> StoreResult<Option<StoredOrder>>;

    /// The first decision for an order: the answer a repeated `POST /orders` gets again.
    async fn first_decision(&self, id: &OrderId) -> StoreResult<Option<Decision>>;

    async fn get_customer(&self, id: &CustomerId, order_limit: u32) -> StoreResult<Option<StoredCustomer>>;

    /// The distinct entities an account has used.
    async fn entities_of(&self, customer: &CustomerId) -> StoreResult<Vec<EntityKey>>;
}
