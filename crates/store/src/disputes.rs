//! Disputes: one row per provider dispute (stage, status, deadline, order, case), every provider
//! event kept verbatim beside its normalised form (deduplicated on the provider's key), the
//! evidence satisfied by hand, and the monthly volumes the scheme ratios divide by.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A provider's notification (it can name the cardholder and quote their address) and the notes
/// on evidence: sealed at rest (`crate::seal`).
pub const EVENT_RAW: &str = "dispute_events.raw";
pub const EVENT_NORMALISED: &str = "dispute_events.normalised";
pub const EVIDENCE_NOTE: &str = "dispute_evidence.note";
pub const SEALED: &[crate::seal::SealedColumn] = {
    use crate::seal::{SealedColumn as C, key};
    const EVENT: &[crate::seal::KeyPart] = &[key("provider"), key("dedupe_key")];
    &[
        C::text("dispute_events", EVENT, "raw", EVENT_RAW),
        C::text("dispute_events", EVENT, "normalised", EVENT_NORMALISED),
        C::text("dispute_evidence", &[key("dispute_id"), key("item")], "note", EVIDENCE_NOTE),
    ]
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisputeRecord {
    pub dispute_id: String,
    pub provider: String,
    /// The provider's id of the dispute.
    pub provider_ref: String,
    /// The disputed payment's reference at the provider.
    pub payment_ref: Option<String>,
    pub order_id: Option<String>,
    pub customer_id: Option<String>,
    pub case_id: Option<String>,
    pub stage: String,
    pub status: String,
    pub reason_code: Option<String>,
    pub reason_family: String,
    pub network: String,
    pub amount_minor: i64,
    pub currency: String,
    pub due_by: Option<DateTime<Utc>>,
    /// Only the issuer's fraud report so far (Visa TC40): counted by VAMP, not worked.
    pub fraud_report: bool,
    /// Money moved so far (negative: withdrawn).
    pub funds_minor: i64,
    pub opened_at: DateTime<Utc>,
    /// `YYYY-MM` of `opened_at` (UTC), the scheme month it counts in.
    pub month: String,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub warned_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by: Option<String>,
    pub version: i64,
}

/// One provider event as received and as understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisputeEventRow {
    pub provider: String,
    pub dedupe_key: String,
    pub dispute_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// JSON of the normalised event.
    pub normalised: String,
    /// The provider's bytes, verbatim (the item, for Adyen's batched notifications).
    pub raw: String,
}

/// An evidence item satisfied by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceNote {
    pub dispute_id: String,
    pub item: String,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Settled transactions of a month and network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeVolume {
    /// `YYYY-MM`.
    pub month: String,
    pub network: String,
    pub settled: i64,
    /// `orders` (counted from riskdesk's orders) or `report` (the provider's settlement
    /// report, which wins).
    pub source: String,
    pub updated_at: DateTime<Utc>,
}

/// Disputes of a month and network, as the scheme ratios count them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthCounts {
    pub month: String,
    pub network: String,
    /// Disputes opened (fraud reports excluded).
    pub disputes: i64,
    /// Of them, chargebacks (inquiries excluded): what Mastercard's ECP counts.
    pub chargebacks: i64,
    /// Visa only: distinct payments with a chargeback or a fraud report (VAMP counts a payment
    /// once); 0 for other networks.
    pub vamp_counted: i64,
    pub lost_minor: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DisputeFilter {
    pub order_id: Option<String>,
    pub customer_id: Option<String>,
    pub statuses: Option<Vec<String>>,
    pub provider: Option<String>,
    pub family: Option<String>,
    /// Include the bare fraud reports.
    pub with_fraud_reports: bool,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub enum DisputeChange {
    /// A provider event: its row (a repeated key is a conflict) and the dispute as it now is,
    /// inserted (`expected_version` 0) or replaced if still at `expected_version`.
    Ingest { event: Box<DisputeEventRow>, dispute: Box<DisputeRecord>, expected_version: i64 },
    /// A change by a person or the deadline watch, compare-and-set on the version.
    Update { dispute: Box<DisputeRecord>, expected_version: i64 },
    /// Marks an evidence item satisfied by hand (`note` None: no longer).
    Evidence { dispute_id: String, item: String, note: Option<String>, by: String, at: DateTime<Utc> },
    /// Sets a month's settled volume.
    Volume(SchemeVolume),
}

#[async_trait]
pub trait DisputeStore: Send + Sync {
    /// The disputes KPIs per local day over `spans`: disputes opened, win rate of those closed.
    async fn dispute_kpi_days(&self, spans: &crate::kpis::Spans, now_ms: i64)
    -> StoreResult<Vec<crate::kpis::AreaDay>>;
    async fn dispute(&self, dispute_id: &str) -> StoreResult<Option<DisputeRecord>>;
    async fn dispute_by_ref(&self, provider: &str, provider_ref: &str) -> StoreResult<Option<DisputeRecord>>;
    /// Whether a provider event with this key was stored.
    async fn dispute_event_seen(&self, provider: &str, dedupe_key: &str) -> StoreResult<bool>;
    /// Disputes by deadline (none last), then newest.
    async fn disputes(&self, f: &DisputeFilter) -> StoreResult<Vec<DisputeRecord>>;
    async fn count_disputes(&self, f: &DisputeFilter) -> StoreResult<i64>;
    /// A dispute's events in the order they happened.
    async fn dispute_events(&self, dispute_id: &str) -> StoreResult<Vec<DisputeEventRow>>;
    async fn dispute_evidence(&self, dispute_id: &str) -> StoreResult<Vec<EvidenceNote>>;
    /// Disputes needing a response with a deadline before `before` and not yet warned or
    /// escalated, or without a case (the watch's work).
    async fn disputes_to_watch(&self, before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DisputeRecord>>;
    /// The order whose payment has one of these provider references.
    async fn order_by_payment_ref(&self, refs: &[String]) -> StoreResult<Option<(String, String)>>;
    /// Counts per month and network for months `from..=to` (`YYYY-MM`).
    async fn dispute_months(&self, from: &str, to: &str) -> StoreResult<Vec<MonthCounts>>;
    async fn scheme_volumes(&self, from: &str, to: &str) -> StoreResult<Vec<SchemeVolume>>;
    /// Card orders placed in `[from, to)` per card network, counted from the orders.
    /// Stored events of these types since a time, newest first (the return-abuse signals).
    async fn events_of_types(
        &self,
        types: &[&str],
        since: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<crate::StoredEvent>>;
    async fn card_orders_by_network(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<(String, i64)>>;
}
