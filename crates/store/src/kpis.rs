//! KPIs: one row of facts per order and daily aggregates per dimension and segment, kept up to
//! date from a queue of changed orders. The database marks an order changed itself (triggers on
//! orders, decisions, review actions, label events and disputes), so no write path has to
//! remember to, and a change can never be missed; the refresher recomputes each changed order
//! from its history and replaces its contribution. Trend alerts and report runs are kept here too.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::kpis::{Counters, Dim, OrderFacts, OrderHistory};
use serde::Serialize;

/// One aggregate row: a local day, a segment of a dimension, a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyRow {
    pub day: i32,
    pub segment: String,
    pub currency: String,
    pub counters: Counters,
}

/// Which orders of an aggregate to list: the drill-down behind a number.
#[derive(Debug, Clone)]
pub struct FactFilter {
    pub from_day: i32,
    pub to_day: i32,
    /// A dimension and one of its segments (none: all orders).
    pub segment: Option<(Dim, String)>,
    /// Only orders where this counter is not zero (`fraud_orders`, `declined`, …).
    pub counter: Option<&'static str>,
    pub limit: i64,
    pub offset: i64,
}

/// A trend alert: a KPI of a segment out of its control limit in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRecord {
    pub alert_id: String,
    pub kpi: String,
    pub dim: String,
    pub segment: String,
    /// The period's name (`2026-W48`) and its first and next-after-last local days.
    pub period: String,
    pub from_day: i32,
    pub to_day: i32,
    pub rate: f64,
    pub baseline: f64,
    pub limit: f64,
    pub z: f64,
    pub numerator: f64,
    pub denominator: f64,
    /// `open`, `investigating` (a case is open for it) or `dismissed`.
    pub status: String,
    pub case_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A scheduled report's run for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRun {
    pub schedule: String,
    pub period: String,
    pub started_at: DateTime<Utc>,
    /// `sending`, `sent` or `failed`.
    pub status: String,
    pub recipients: String,
    pub detail: String,
}

/// An area KPI's counts on one local day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaDay {
    pub code: String,
    pub day: i32,
    pub numerator: f64,
    pub denominator: f64,
}

/// The UTC spans of constant offset a local-day query covers: `(start ms, end ms, offset ms)`.
pub type Spans = [(i64, i64, i64)];

#[derive(Debug, Clone)]
pub enum KpiChange {
    /// An alert moved by a person (compare-and-set on its status).
    Alert {
        alert_id: String,
        expected_status: String,
        status: String,
        case_id: Option<String>,
        note: Option<String>,
        actor: String,
        at: DateTime<Utc>,
    },
}

#[async_trait]
pub trait KpiStore: Send + Sync {
    /// Changed orders waiting for the refresher, with the mark's count (`bump`).
    async fn kpi_dirty(&self, limit: i64) -> StoreResult<Vec<(String, i64)>>;
    async fn kpi_pending(&self) -> StoreResult<i64>;
    /// After a large count: reclaims what the queue's deletes and the aggregates' upserts left
    /// behind (PostgreSQL keeps dead rows until a vacuum, and a queue of ten million dead rows
    /// makes "is anything pending?" scan them), so reads stay fast whether or not the server
    /// runs autovacuum.
    async fn kpi_compact(&self) -> StoreResult<()>;
    /// Each order's history as its KPIs need it; ids not stored are left out.
    async fn kpi_histories(&self, ids: &[String]) -> StoreResult<Vec<OrderHistory>>;
    /// The facts stored for these orders.
    async fn kpi_facts(&self, ids: &[String]) -> StoreResult<Vec<OrderFacts>>;
    /// In one transaction, serialised with every other refresher: for each mark still as it
    /// was read (not bumped by a change since), replaces the order's stored facts by the new
    /// ones (none: the order is gone), adds the difference to the aggregates
    /// (`riskdesk_domain::kpis::deltas`) and takes the mark off the queue. Marks bumped meanwhile
    /// stay for the next round. Returns how many orders were applied.
    async fn kpi_apply(&self, facts: &[OrderFacts], marks: &[(String, i64)]) -> StoreResult<usize>;
    /// Aggregate rows of a dimension over local days `[from, to)`; `segment` keeps one.
    async fn kpi_daily(&self, dim: Dim, from: i32, to: i32, segment: Option<&str>) -> StoreResult<Vec<DailyRow>>;
    /// The same rows summed over the days, one per segment and currency (`day` is `from`).
    async fn kpi_totals(&self, dim: Dim, from: i32, to: i32, segment: Option<&str>) -> StoreResult<Vec<DailyRow>>;
    /// A page of the orders behind an aggregate, newest first (how many there are is the
    /// aggregate's own count).
    async fn kpi_orders(&self, f: &FactFilter) -> StoreResult<Vec<OrderFacts>>;
    /// Empties facts and aggregates and marks every order changed (a rebuild, e.g. after the
    /// time zone changed). Returns how many orders were marked.
    async fn kpi_reset(&self) -> StoreResult<i64>;
    /// Stores a new alert; false when one for the same KPI, segment and period exists.
    async fn kpi_alert_insert(&self, a: &AlertRecord) -> StoreResult<bool>;
    async fn kpi_alert(&self, id: &str) -> StoreResult<Option<AlertRecord>>;
    /// Alerts, newest period first; `status` keeps one status.
    async fn kpi_alerts(&self, status: Option<&str>, limit: i64) -> StoreResult<Vec<AlertRecord>>;
    /// Claims a report run for a period; false when it was claimed already (by any instance).
    async fn kpi_report_claim(&self, run: &ReportRun) -> StoreResult<bool>;
    async fn kpi_report_finish(&self, schedule: &str, period: &str, status: &str, detail: &str) -> StoreResult<()>;
    async fn kpi_report_runs(&self, limit: i64) -> StoreResult<Vec<ReportRun>>;
}
