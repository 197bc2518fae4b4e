//! Quality assurance: handlings as received with why they were sampled, versioned scorecards,
//! reviews with their feedback loop (acknowledged, disputed, decided by a second reviewer),
//! calibration sessions, and which provider and team a person belongs to.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::qa::Handling;
use riskdesk_domain::qa::sampling::Pick;
use serde::Serialize;

/// A handling's transcript (the customer's own words) and the reviewer's comment: sealed at rest
/// (`crate::seal`).
pub const TRANSCRIPT: &str = "handlings.transcript";
pub const COMMENT: &str = "qa_reviews.comment";
pub const SEALED: &[crate::seal::SealedColumn] = {
    use crate::seal::{SealedColumn as C, key};
    &[
        C::text("handlings", &[key("handling_id")], "transcript", TRANSCRIPT),
        C::text("qa_reviews", &[key("review_id")], "comment", COMMENT),
    ]
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandlingRecord {
    #[serde(flatten)]
    pub handling: Handling,
    /// ISO week of `closed_at`, `2026-W49`.
    pub week: String,
    pub received_at: DateTime<Utc>,
    /// Why it was sampled (empty: not sampled).
    pub picks: Vec<Pick>,
    /// The scorecard in force when it was sampled.
    pub scorecard_version: Option<i64>,
    /// `open` (sampled, waiting), `reviewed`, or none.
    pub review_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScorecardRecord {
    pub version: i64,
    pub name: String,
    /// The scorecard as JSON.
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewRecord {
    pub review_id: String,
    pub handling_id: String,
    pub reviewer: String,
    pub scorecard_version: i64,
    /// The ratings as JSON (criterion code to points or `"na"`).
    pub ratings: String,
    pub score: f64,
    pub knocked_out: Vec<String>,
    pub failed: Vec<String>,
    pub comment: String,
    /// A calibration session's review (blind, outside the trends and the feedback loop).
    pub session_id: Option<String>,
    pub agent: String,
    pub provider: String,
    pub team: String,
    pub week: String,
    /// Picked at random (and by nothing else): random and targeted scores are shown apart.
    pub random: bool,
    pub created_at: DateTime<Utc>,
    /// `sent`, `acknowledged`, `disputed`, `upheld`, `revised`, or `calibration`.
    pub feedback_status: String,
    pub feedback_due: Option<DateTime<Utc>>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub dispute_reason: Option<String>,
    pub second_reviewer: Option<String>,
    pub second_score: Option<f64>,
    /// A second reviewer's ratings, when they revised the score (its knock-outs and failures
    /// then replace the first reviewer's in `knocked_out` and `failed`).
    pub second_ratings: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRecord {
    pub session_id: String,
    pub name: String,
    pub handling_ids: Vec<String>,
    pub reviewers: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Which provider and team a person belongs to (provider leads; reviewers' own teams).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub username: String,
    pub provider: Option<String>,
    pub team: Option<String>,
}

/// A trend row: reviews of one week and one agent, team or provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRow {
    pub week: String,
    pub key: String,
    pub reviews: i64,
    pub avg_score: f64,
    pub knockouts: i64,
    pub random_reviews: i64,
    pub random_avg: Option<f64>,
}

/// How often a criterion failed over a span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionRow {
    pub criterion: String,
    pub failed: i64,
    pub knockouts: i64,
}

/// How often a criterion failed in one week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionWeek {
    pub week: String,
    pub criterion: String,
    pub failed: i64,
}

#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub provider: Option<String>,
    pub agent: Option<String>,
    /// Leave out this team's handlings (a reviewer's own).
    pub not_team: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    pub handling_id: Option<String>,
    pub provider: Option<String>,
    pub statuses: Option<Vec<String>>,
    pub session_id: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub enum QaChange {
    /// Handlings not stored yet (a repeated id is left as it is).
    Handlings(Vec<HandlingRecord>),
    /// A new scorecard version (an existing one is a conflict).
    Scorecard(ScorecardRecord),
    /// A review, and its handling marked reviewed (not for calibration reviews).
    Review(Box<ReviewRecord>),
    UpdateReview {
        review: Box<ReviewRecord>,
        expected_version: i64,
    },
    Session(SessionRecord),
    Member(Member),
}

#[async_trait]
pub trait QaStore: Send + Sync {
    /// The QA KPIs per local day over `spans`: score, knock-out rate, customer satisfaction.
    async fn qa_kpi_days(&self, spans: &crate::kpis::Spans, now_ms: i64) -> StoreResult<Vec<crate::kpis::AreaDay>>;
    async fn handling(&self, id: &str) -> StoreResult<Option<HandlingRecord>>;
    /// Which of these ids are stored.
    async fn handlings_stored(&self, ids: &[String]) -> StoreResult<Vec<String>>;
    /// Sampled handlings waiting for review, oldest first, and how many.
    async fn qa_inbox(&self, f: &InboxFilter) -> StoreResult<(Vec<HandlingRecord>, i64)>;
    async fn review(&self, id: &str) -> StoreResult<Option<ReviewRecord>>;
    /// Reviews, newest first.
    async fn reviews(&self, f: &ReviewFilter) -> StoreResult<Vec<ReviewRecord>>;
    /// Scorecard versions, newest first.
    async fn scorecards(&self) -> StoreResult<Vec<ScorecardRecord>>;
    async fn scorecard(&self, version: i64) -> StoreResult<Option<ScorecardRecord>>;
    async fn qa_session(&self, id: &str) -> StoreResult<Option<SessionRecord>>;
    async fn qa_sessions(&self, limit: i64) -> StoreResult<Vec<SessionRecord>>;
    async fn member(&self, username: &str) -> StoreResult<Option<Member>>;
    /// Scores per week and `by` (`agent`, `team` or `provider`) for weeks `from..=to`, from the
    /// reviews outside calibration; `provider` keeps one provider's.
    async fn qa_trends(&self, by: &str, from: &str, to: &str, provider: Option<&str>) -> StoreResult<Vec<TrendRow>>;
    /// The criteria that failed most over weeks `from..=to`.
    async fn qa_criteria(&self, from: &str, to: &str, provider: Option<&str>) -> StoreResult<Vec<CriterionRow>>;
    /// Failures per week and criterion over weeks `from..=to`.
    async fn qa_criteria_weekly(&self, from: &str, to: &str, provider: Option<&str>)
    -> StoreResult<Vec<CriterionWeek>>;
}

/// A JSON list column as stored (the SQL of both backends reads them through here).
pub fn json_list<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<Vec<T>> {
    serde_json::from_str(s).map_err(|e| crate::StoreError::Corrupt(format!("a JSON list: {e}")))
}

/// A value as its JSON column.
pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}
