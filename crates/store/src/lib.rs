//! Storage behind traits of whole operations. Each backend (SQLite, PostgreSQL) implements
//! [`Store`], owns its transactions, and must pass the [`conformance`] suite.

pub mod codec;
pub mod conformance;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use riskdesk_domain::{ApiKeyId, CustomerId, Decision, EntityKey, EntityKind, Event, Order, OrderId, PaymentMethod};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(String),
    /// Data in the database does not decode: a bug or tampering, never the caller's fault.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An order ready to be stored: parsed, its entities hashed, its answer decided.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub order: Order,
    /// The order serialised for storage (built where it is cheapest: in parallel, off the writer).
    pub body: String,
    pub entities: Vec<EntityKey>,
    pub received_at: DateTime<Utc>,
    /// `None` for imported history, which was never screened.
    pub decision: Option<Decision>,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event: Event,
    pub received_at: DateTime<Utc>,
}

/// What happened to one order of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted,
    /// The order id was already stored (earlier, or earlier in the same batch); nothing changed.
    Duplicate,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredOrder {
    pub order: Order,
    pub received_at: DateTime<Utc>,
    /// Every decision, first to last (re-screening adds more).
    pub decisions: Vec<Decision>,
    /// Events of the order, by time of occurrence.
    pub events: Vec<StoredEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    #[serde(flatten)]
    pub event: Event,
    pub received_at: DateTime<Utc>,
}

/// The latest known profile of an account.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerProfile {
    pub customer_id: CustomerId,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub created_at: Option<DateTime<FixedOffset>>,
    pub invited_by: Option<CustomerId>,
    /// Channel of the account's first order.
    pub channel: Option<String>,
    pub first_order_at: DateTime<Utc>,
    pub last_order_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderSummary {
    pub order_id: OrderId,
    pub placed_at: DateTime<FixedOffset>,
    pub channel: Option<String>,
    pub total_minor: i64,
    pub currency: String,
    pub payment_method: PaymentMethod,
    pub decision: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredCustomer {
    pub profile: CustomerProfile,
    pub order_count: i64,
    /// The most recent orders, newest first, at most `limit` of them.
    pub orders: Vec<OrderSummary>,
    /// Distinct billing and shipping addresses of those orders, most recently used first.
    pub addresses: Vec<riskdesk_domain::Address>,
    pub events: Vec<StoredEvent>,
}

/// One account's use of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityUse {
    pub customer_id: CustomerId,
    pub kind: EntityKind,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub orders: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub name: String,
    pub scopes: Vec<String>,
    /// SHA-256 of the secret; the secret itself is never stored.
    #[serde(skip)]
    pub secret_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub customers: i64,
    pub orders: i64,
    pub events: i64,
}

/// What a bulk load writes: only the indexes of those tables are dropped, so lookups the load
/// itself needs (the orders of incoming events, the events of incoming orders) stay fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkTarget {
    Orders,
    Events,
}

impl BulkTarget {
    /// Whether a secondary index belongs to the tables this load writes (indexes are named
    /// after their table: `orders_*`, `order_entities_*`, `events_*`).
    pub fn owns_index(self, name: &str) -> bool {
        match self {
            Self::Orders => name.starts_with("order"),
            Self::Events => name.starts_with("events_"),
        }
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Stores orders, their customers' profiles, entities and decisions in one transaction.
    /// Orders whose id is already stored are left untouched and reported as duplicates.
    async fn insert_orders(&self, orders: &[NewOrder]) -> StoreResult<Vec<InsertOutcome>>;

    /// Stores events in one transaction; repeated event ids are reported as duplicates.
    /// An event without a customer id takes the customer of its order when that is known.
    async fn insert_events(&self, events: &[NewEvent]) -> StoreResult<Vec<InsertOutcome>>;

    async fn get_order(&self, id: &OrderId) -> StoreResult<Option<StoredOrder>>;

    /// The first decision for an order: the answer a repeated `POST /orders` gets again.
    async fn first_decision(&self, id: &OrderId) -> StoreResult<Option<Decision>>;

    async fn get_customer(&self, id: &CustomerId, order_limit: u32) -> StoreResult<Option<StoredCustomer>>;

    /// Every account that used an entity (in any kind of the same value space), with first and
    /// last use: one indexed query.
    async fn accounts_sharing(&self, key: &EntityKey) -> StoreResult<Vec<EntityUse>>;

    /// The distinct entities an account has used.
    async fn entities_of(&self, customer: &CustomerId) -> StoreResult<Vec<EntityKey>>;

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn find_api_key(&self, secret_hash: &[u8]) -> StoreResult<Option<ApiKeyRecord>>;
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Returns false when no such active key exists.
    async fn revoke_api_key(&self, id: &ApiKeyId, at: DateTime<Utc>) -> StoreResult<bool>;

    async fn counts(&self) -> StoreResult<Counts>;

    /// Stores `value` under `name` unless a value is already there; returns the stored value.
    async fn setting_or_init(&self, name: &str, value: &str) -> StoreResult<String>;

    /// Prepares for loading many rows at once: the backend may drop secondary indexes, which
    /// [`Store::end_bulk_load`] rebuilds in one sorted pass (opening the store rebuilds them too,
    /// should a load die half-way). Lookups are slow until then; use it for loads that are large
    /// against what is stored, when nothing else is serving.
    async fn begin_bulk_load(&self, target: BulkTarget) -> StoreResult<()>;
    async fn end_bulk_load(&self) -> StoreResult<()>;

    /// Cheap round trip for health checks.
    async fn ping(&self) -> StoreResult<()>;
}

/// Converts milliseconds since the epoch, as stored, into a time.
pub fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}
