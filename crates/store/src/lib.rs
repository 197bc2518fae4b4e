//! Storage behind traits of whole operations. Each backend (SQLite, PostgreSQL) implements
//! [`Store`], owns its transactions, and must pass the [`conformance`] suite.

pub mod approvals;
pub mod audit;
pub mod body;
pub mod cases;
pub mod changes;
pub mod codec;
pub mod conformance;
pub mod disputes;
pub mod identity;
pub mod knowledge;
pub mod kpis;
pub mod lists;
pub mod orders;
pub mod privacy;
pub mod qa;
pub mod review;
pub mod screening;
pub mod seal;
pub mod system;
pub mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use riskdesk_domain::{
    ApiKeyId, CustomerId, Decision, EntityKey, EntityKind, Event, EventType, Order, OrderId, PaymentMethod,
};
use riskdesk_rules::features::{ClusterFacts, History};
use riskdesk_rules::needs::{ListKind, ListType};
use riskdesk_rules::velocity::UseRow;
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
    /// Deciding an order failed inside a write (see [`Store::screen_orders`]).
    #[error("{0}")]
    Screening(String),
    /// The change lost a race with another (e.g. the order was decided meanwhile); nothing of it
    /// was stored.
    #[error("{0}")]
    Conflict(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What became of one order of [`Store::screen_orders`]: stored or a duplicate, or an error of
/// its own (its judge failed; nothing of it was stored, the rest of the batch was).
pub type Screened = Result<(InsertOutcome, NewOrder), StoreError>;

/// Runs a judge; a panic in it fails its own order only.
pub fn run_judge(judge: Judge, rows: &ScreeningRows, order: &mut NewOrder) -> StoreResult<()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| judge(rows, order)))
        .map_err(|_| StoreError::Screening(format!("judging order {} failed", order.order.order_id)))
}

/// An order ready to be stored: parsed, its entities hashed, its answer decided.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub order: Order,
    /// The order serialised for storage, best packed and sealed where it is prepared ([`OrderBody::packed`]);
    /// built where it is cheapest: in parallel, off the writer.
    pub body: OrderBody,
    pub entities: Vec<EntityKey>,
    pub received_at: DateTime<Utc>,
    /// `None` for imported history, which was never screened.
    pub decision: Option<Decision>,
    /// What the shadow rule set would have decided, when one is running.
    pub shadow: Option<Decision>,
    /// Webhook messages announcing the decision, stored in the same transaction.
    pub outbox: Vec<OutboxMessage>,
}

/// Every column that holds personal data sealed (`seal`), one line per area: what the re-sealing
/// job walks after a key rotation or when encryption is switched on.
pub fn sealed_columns() -> Vec<seal::SealedColumn> {
    use seal::{Form, SealedColumn, key};
    const CUSTOMER: &[seal::KeyPart] = &[key("customer_id")];
    const ORDER: &[seal::KeyPart] = &[key("order_id")];
    const EVENT: &[seal::KeyPart] = &[key("event_id")];
    let mut all = vec![
        SealedColumn { table: "orders", key: ORDER, column: "body", field: body::FIELD, form: Form::Bytes },
        SealedColumn::text("events", EVENT, "body", codec::EVENT_FIELD),
        SealedColumn::text("customers", CUSTOMER, "email", codec::CUSTOMER_EMAIL),
        SealedColumn::text("customers", CUSTOMER, "phone", codec::CUSTOMER_PHONE),
        SealedColumn::text("customers", CUSTOMER, "name", codec::CUSTOMER_NAME),
    ];
    all.extend_from_slice(codec::LIST_SEALED);
    all.extend_from_slice(review::SEALED);
    all.extend_from_slice(cases::SEALED);
    all.extend_from_slice(disputes::SEALED);
    all.extend_from_slice(qa::SEALED);
    all.extend_from_slice(privacy::SEALED);
    all
}

/// An order's stored body: its JSON, or that JSON packed ([`crate::body`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderBody {
    Json(String),
    Packed(Vec<u8>),
}

impl OrderBody {
    /// The body a backend that packs stores: packed where packing works (the JSON is never
    /// kept: serialised into a buffer of the thread's own and packed from there), else JSON.
    /// Sealed under the process's key ring when encryption is on (`crate::seal`).
    pub fn packed(order: &Order) -> Self {
        match body::pack_order(order) {
            Some(p) => Self::Packed(body::seal(p)),
            None => Self::Packed(body::seal(codec::order_body(order).into_bytes())),
        }
    }

    /// The body a backend that keeps JSON stores.
    pub fn json(order: &Order) -> Self {
        Self::Json(codec::order_body(order))
    }

    /// The bytes a backend stores: packed where packing works, sealed when encryption is on.
    pub fn to_stored(&self) -> Vec<u8> {
        match self {
            Self::Packed(p) => p.clone(),
            Self::Json(s) => body::store_json(s),
        }
    }

    /// The JSON text, unpacked if need be.
    pub fn to_json(&self) -> StoreResult<std::borrow::Cow<'_, str>> {
        match self {
            Self::Json(s) => Ok(std::borrow::Cow::Borrowed(s)),
            Self::Packed(p) => body::unpack(p),
        }
    }
}

/// A webhook message to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: String,
    pub endpoint: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    pub id: String,
    pub endpoint: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
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

/// A saved rule-set version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSetRecord {
    pub version: i64,
    pub source: String,
    pub author: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// What screening uses now; every instance polls it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScreeningControl {
    pub live_version: Option<i64>,
    pub shadow_version: Option<i64>,
    /// Bumped by every list change, so instances know to reload their lists.
    pub lists_seq: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlChange {
    Publish(i64),
    Rollback(i64),
    Shadow(i64),
    ShadowStop,
}

impl ControlChange {
    pub fn action(self) -> &'static str {
        match self {
            Self::Publish(_) => "publish",
            Self::Rollback(_) => "rollback",
            Self::Shadow(_) => "shadow",
            Self::ShadowStop => "shadow_stop",
        }
    }

    pub fn version(self) -> Option<i64> {
        match self {
            Self::Publish(v) | Self::Rollback(v) | Self::Shadow(v) => Some(v),
            Self::ShadowStop => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSetChange {
    pub seq: i64,
    pub action: String,
    pub version: Option<i64>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A block- or allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListEntry {
    pub id: String,
    pub list: ListType,
    pub kind: ListKind,
    /// Normalised value as analysts see it.
    pub value: String,
    /// What matching compares: the hex entity hash for hashed kinds, else the value.
    #[serde(skip)]
    pub match_key: String,
    pub reason: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
}

/// The reads behind one screening decision, done together on one connection.
#[derive(Debug, Clone)]
pub struct ScreeningQuery {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub invited_by: Option<CustomerId>,
    /// The order's `placed_at`: history and windows are "as of" this time.
    pub at_ms: i64,
    /// Events count up to here: `at_ms` for a first decision, now for a re-decision.
    pub events_until_ms: i64,
    /// The account's orders placed since then (velocity per customer, new device, new address).
    pub customer_since_ms: i64,
    /// Per entity: rows since when, and whether each row needs its order's entity keys.
    pub entities: Vec<(EntityKey, i64, bool)>,
    /// Every entity of the order, for the linked cluster.
    pub all_entities: Vec<EntityKey>,
    /// Whether some rule reads the account's return trail (`customer.late_returns`, ...).
    pub return_trail: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ScreeningRows {
    pub history: History,
    /// The cluster the account belongs to with this order's entities (its own cluster merged
    /// with those of accounts sharing a non-hub entity).
    pub cluster: ClusterFacts,
    /// The account's earlier orders in the customer window, with their entity keys.
    pub customer_orders: Vec<UseRow>,
    /// Aligned with [`ScreeningQuery::entities`].
    pub entity_rows: Vec<Vec<UseRow>>,
    /// The account's delivery, return, refund and chargeback events up to `events_until_ms`,
    /// in time order; read only when [`ScreeningQuery::return_trail`].
    pub return_trail: Vec<ReplayEvent>,
}

/// Decides an order from the rows read for it: sets its decision, shadow decision and outbox
/// messages. Called by the store between reading and writing (see [`Store::screen_orders`]).
pub type Judge = Box<dyn FnOnce(&ScreeningRows, &mut NewOrder) + Send>;

/// An order to screen and store: what to read for it, the order (its decision not yet made),
/// and how to decide it.
pub struct ToScreen {
    pub query: ScreeningQuery,
    pub order: NewOrder,
    pub judge: Judge,
}

/// Rows a subject's window may hold at most; a busier entity is capped to its latest uses, so a
/// count saturates there ("1,000 or more") instead of costing a scan of every use.
pub const MAX_WINDOW_ROWS: i64 = 1_000;

/// Latest uses of an entity read to find the accounts it links (and whether it is a hub).
pub const HUB_SCAN_ROWS: i64 = 128;

/// A stored event as replay needs it (no body: labels and history counts only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayEvent {
    /// Position in storage order (see [`ReplayRow::pos`]).
    pub pos: i64,
    pub at_ms: i64,
    pub event_type: EventType,
    pub order_id: Option<String>,
    pub customer_id: Option<String>,
    /// Read from the body of return and refund events only (`riskdesk_domain::disputes::returns::trail_marks`).
    pub worn: bool,
    pub refund_minor: i64,
}

/// How much history is stored. Orders and events are only ever added; an event stored before its
/// order gets the order's account filled in when the order arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct HistorySize {
    pub orders: i64,
    pub events: i64,
}

/// A stored order as read for replay, before parsing.
#[derive(Debug, Clone)]
pub struct ReplayRow {
    /// Position in storage order: increasing with every stored row (SQLite's rowid, a
    /// PostgreSQL identity column), so a cache can ask for what was stored after what it holds.
    pub pos: i64,
    pub body: String,
    pub entities: Vec<u8>,
}

/// What was stored after given positions, read in one snapshot with the totals, so that a cache
/// that adds it to what it holds can check it then holds everything (on PostgreSQL a row can
/// commit after a row with a later position was read: the totals of a later read then
/// disagree with what the cache holds).
#[derive(Debug, Clone, Default)]
pub struct HistoryDelta {
    /// In storage order, at most the limit asked for.
    pub orders: Vec<ReplayRow>,
    /// More orders than the limit were stored after the position.
    pub truncated: bool,
    /// In storage order.
    pub events: Vec<ReplayEvent>,
    pub size: HistorySize,
}

/// A stored order for replay, in `placed_at` order.
#[derive(Debug, Clone)]
pub struct ReplayOrder {
    pub order: Order,
    pub entities: Vec<EntityKey>,
}

/// Order writes that run to completion on the calling thread. A backend with one writer
/// connection of its own (SQLite) offers them, so that the service can run its group commit on a
/// thread of its own: after each commit that thread takes the next batch itself, with no hand-off
/// to another thread and back on the one serial path of intake. The methods may wait on async
/// parts of the store: call them from a thread that is not a runtime worker but has entered the
/// runtime's context (`tokio::runtime::Handle::enter`), as `Batcher::spawn_thread` does.
pub trait BlockingWriter: Send + Sync {
    /// As [`Store::insert_orders`].
    fn insert_orders(&self, orders: &[NewOrder]) -> StoreResult<Vec<InsertOutcome>>;
    /// As [`Store::screen_orders`].
    fn screen_orders(&self, batch: Vec<ToScreen>) -> StoreResult<Vec<Screened>>;
    /// Nothing is waiting to be written: let other writers have their turn.
    fn idle(&self) {}
}

#[async_trait]
pub trait Store:
    identity::IdentityStore
    + identity::KeyStore
    + audit::AuditStore
    + approvals::ApprovalStore
    + review::ReviewStore
    + cases::CaseStore
    + disputes::DisputeStore
    + knowledge::KnowledgeStore
    + qa::QaStore
    + privacy::PrivacyStore
    + kpis::KpiStore
    + seal::SealStore
    + webhooks::OutboxStore
    + lists::ListStore
    + orders::OrderStore
    + screening::ScreeningStore
    + system::SystemStore
    + changes::ChangeStore
    + Send
    + Sync
    + 'static
{
    /// See [`BlockingWriter`]; `None` (the default) keeps order writes async.
    fn blocking_writer(&self) -> Option<std::sync::Arc<dyn BlockingWriter>> {
        None
    }

    /// Which backend this is, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Stores orders, their customers' profiles, entities and decisions in one transaction.
    /// Orders whose id is already stored are left untouched and reported as duplicates.
    async fn insert_orders(&self, orders: &[NewOrder]) -> StoreResult<Vec<InsertOutcome>>;

    /// Stores events in one transaction; repeated event ids are reported as duplicates.
    /// An event without a customer id takes the customer of its order when that is known.
    async fn insert_events(&self, events: &[NewEvent]) -> StoreResult<Vec<InsertOutcome>>;

    /// Every account that used an entity (in any kind of the same value space), with first and
    /// last use: one indexed query.
    async fn accounts_sharing(&self, key: &EntityKey) -> StoreResult<Vec<EntityUse>>;

    /// Prepares for loading many rows at once: the backend may drop secondary indexes, which
    /// [`Store::end_bulk_load`] rebuilds in one sorted pass (opening the store rebuilds them too,
    /// should a load die half-way). Lookups are slow until then; use it for loads that are large
    /// against what is stored, when nothing else is serving. `expected_rows` estimates how many
    /// rows the load writes (0 when unknown), for a backend that holds some of it in memory
    /// until the end: sizing that once spares growing it by copying.
    async fn begin_bulk_load(&self, target: BulkTarget, expected_rows: u64) -> StoreResult<()>;
    async fn end_bulk_load(&self) -> StoreResult<()>;

    /// Moves everything committed into the database proper, for a command that wrote much and
    /// is about to exit (SQLite: copies the WAL back and empties it, so the file alone holds the
    /// data, should someone copy it). A no-op where there is nothing to move.
    async fn checkpoint(&self) -> StoreResult<()> {
        Ok(())
    }

    /// The reads one screening decision needs.
    async fn screening_rows(&self, q: &ScreeningQuery) -> StoreResult<ScreeningRows>;

    /// Whether [`Store::screen_orders`] reads inside the write transaction, so that screening
    /// is best done there (SQLite: one writer whose page cache stays warm) rather than with
    /// [`Store::screening_rows`] in parallel before the write (PostgreSQL: many connections,
    /// a round trip per read).
    fn screens_in_writer(&self) -> bool {
        false
    }

    /// Screens and stores orders one after the other: each order's rows are read after the
    /// orders before it were stored, so orders arriving together count each other in velocity
    /// and links. Every order is judged; one whose id is already stored is reported as a
    /// duplicate and nothing of it is stored (its first answer stays the answer). The default
    /// runs each order as its own read and transaction; a backend that can does the whole batch
    /// in one transaction.
    async fn screen_orders(&self, batch: Vec<ToScreen>) -> StoreResult<Vec<Screened>> {
        let mut out = Vec::with_capacity(batch.len());
        for ToScreen { query, mut order, judge } in batch {
            let rows = self.screening_rows(&query).await?;
            if let Err(e) = run_judge(judge, &rows, &mut order) {
                out.push(Err(e));
                continue;
            }
            let outcome = self.insert_orders(std::slice::from_ref(&order)).await?.pop();
            out.push(Ok((outcome.unwrap_or(InsertOutcome::Duplicate), order)));
        }
        Ok(out)
    }

    /// A page of stored orders, unparsed, in the order the backend reads fastest (callers sort);
    /// `cursor` is what the previous page returned, `None` to start. Returns the rows and the
    /// cursor of the next page (`None` at the end).
    async fn replay_rows(&self, cursor: Option<i64>, limit: i64) -> StoreResult<(Vec<ReplayRow>, Option<i64>)>;
    /// Every stored event, by time of occurrence.
    async fn replay_events(&self) -> StoreResult<Vec<ReplayEvent>>;

    /// Orders (at most `limit`) and events stored after the given positions, with the totals.
    async fn history_after(&self, orders_after: i64, events_after: i64, limit: i64) -> StoreResult<HistoryDelta>;

    /// Orders of these accounts placed since `since_ms` whose latest decision approves them and
    /// that are not shipped, delivered or cancelled: what a re-screening may still stop.
    async fn open_approved_orders(&self, customers: &[String], since_ms: i64) -> StoreResult<Vec<OrderId>>;
    /// Appends a re-decision to an order; returns its sequence number.
    async fn add_decision(&self, decision: &Decision, outbox: &[OutboxMessage]) -> StoreResult<i64>;

    /// Every order's account and entity keys, oldest first (ties in storage order): the input
    /// of a rebuild, which replays them as the backtest's replay does.
    async fn orders_for_linking(&self) -> StoreResult<Vec<(String, Vec<EntityKey>)>>;
    /// Replaces the whole partition (after bulk loads): `(account, cluster id, fraud, chargeback)`
    /// and each cluster's counts.
    async fn replace_clusters(
        &self,
        accounts: &[(String, String, bool, bool)],
        clusters: &[(String, ClusterFacts)],
    ) -> StoreResult<()>;

    /// Cheap round trip for health checks.
    async fn ping(&self) -> StoreResult<()>;
}

/// Converts milliseconds since the epoch, as stored, into a time.
pub fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}
