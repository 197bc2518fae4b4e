//! The review queue: orders decided `review`, their claims and manual reviews.

use crate::{NewEvent, OutboxMessage, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::Decision;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    Open,
    Held,
    Closed,
}

impl QueueState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Held => "held",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Held, Self::Closed].into_iter().find(|x| x.as_str() == s)
    }
}

/// An order waiting for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    pub order_id: String,
    pub customer_id: String,
    pub placed_at: DateTime<Utc>,
    pub channel: Option<String>,
    pub country: Option<String>,
    pub payment_method: String,
    pub total_minor: i64,
    pub currency: String,
    pub score: i64,
    pub rules: Vec<String>,
    pub state: QueueState,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    /// The shipping cut-off: placed plus the channel's SLA.
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// Nearest shipping cut-off first, riskiest first among equals.
    #[default]
    CutOff,
    /// Highest score first, nearest cut-off first among equals.
    Risk,
}

/// The SLA per channel, as the queue query needs it: `(channel, minutes)` and a default.
#[derive(Debug, Clone, Default)]
pub struct SlaMinutes {
    pub per_channel: Vec<(String, i64)>,
    pub default: i64,
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// `None`: open and held.
    pub state: Option<QueueState>,
    pub channel: Option<String>,
    pub country: Option<String>,
    pub payment_method: Option<String>,
    pub rule: Option<String>,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    pub claimed_by: Option<String>,
    /// Orders with a review action of this reason (a hold's, a decision's).
    pub reason: Option<String>,
    pub sort: QueueSort,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub open: i64,
    pub held: i64,
    pub oldest_placed_at: Option<DateTime<Utc>>,
    /// Open or held items past their cut-off.
    pub breached: i64,
    pub decided_since: i64,
}

/// The reviewer's note, sealed at rest (`crate::seal`).
pub const NOTE_FIELD: &str = "review_actions.note";
pub const SEALED: &[crate::seal::SealedColumn] =
    &[crate::seal::SealedColumn::text("review_actions", &[crate::seal::key("id")], "note", NOTE_FIELD)];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewActionRecord {
    pub id: String,
    pub order_id: String,
    pub action: String,
    pub reason: String,
    pub note: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub proposal_id: Option<String>,
}

/// A change to the queue, applied with its audit entries.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ReviewChange {
    /// Claim (`Some(user)`) or release (`None`) a queue item. With `unless_held_by_other`, the
    /// change is refused (a conflict) when someone other than that user holds the item at the
    /// moment of writing; a team lead's take-over and assignment pass `None`.
    Claim { order_id: String, user: Option<String>, at: DateTime<Utc>, unless_held_by_other: Option<String> },
    /// A manual review: the action, a decision the shop is told about, a label, the queue state.
    Review {
        action: ReviewActionRecord,
        decision: Option<Decision>,
        label: Option<NewEvent>,
        outbox: Vec<OutboxMessage>,
        state: QueueState,
    },
}

#[async_trait]
pub trait ReviewStore: Send + Sync {
    async fn review_queue(&self, f: &QueueFilter, sla: &SlaMinutes) -> StoreResult<(Vec<ReviewItem>, i64)>;
    async fn review_item(&self, order_id: &str, sla: &SlaMinutes) -> StoreResult<Option<ReviewItem>>;
    async fn review_actions(&self, order_id: &str) -> StoreResult<Vec<ReviewActionRecord>>;
    /// The latest review action of each of these orders.
    async fn latest_review_actions(&self, order_ids: &[String]) -> StoreResult<Vec<ReviewActionRecord>>;
    async fn queue_stats(&self, now: DateTime<Utc>, since: DateTime<Utc>, sla: &SlaMinutes) -> StoreResult<QueueStats>;
    /// Which of these accounts are labelled confirmed fraud (from their linked-cluster rows).
    async fn fraud_accounts(&self, customers: &[String]) -> StoreResult<Vec<String>>;
    /// Distinct values seen in the queue for the filter menus: channels, countries, methods.
    async fn queue_facets(&self) -> StoreResult<(Vec<String>, Vec<String>, Vec<String>)>;
}

/// The rules column: ids with a space on each side, so `LIKE '% id %'` matches whole ids.
pub fn rules_column(d: &Decision) -> String {
    let mut s = String::from(" ");
    for r in &d.reasons {
        s.push_str(&r.rule);
        s.push(' ');
    }
    s
}

pub fn rules_from_column(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}
