//! Cases: the case itself (with its SLA clocks), its timeline, its links to orders, customers
//! and entities, and its tasks (a playbook's checklist, and hand-offs to other teams).

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::AuditEntry;
use riskdesk_domain::cases::sla::SlaClock;
use riskdesk_domain::cases::{CaseStatus, Priority, Resolution};
use serde::Serialize;

/// A case's free text, its timeline's notes and its tasks' answers: sealed at rest
/// (`crate::seal`). Titles stay readable: the list searches them, and they name the matter,
/// not the person.
pub const DESCRIPTION: &str = "cases.description";
pub const SUMMARY: &str = "cases.summary";
pub const EVENT_TEXT: &str = "case_events.text";
pub const TASK_ANSWER: &str = "case_tasks.answer";
pub const ATTACHMENT_DATA: &str = "case_attachments.data";
pub const SEALED: &[crate::seal::SealedColumn] = {
    use crate::seal::{SealedColumn as C, int_key, key};
    const ID: &[crate::seal::KeyPart] = &[key("id")];
    &[
        C::text("cases", ID, "description", DESCRIPTION),
        C::text("cases", ID, "summary", SUMMARY),
        C::text("case_events", &[int_key("id")], "text", EVENT_TEXT),
        C::text("case_tasks", ID, "answer", TASK_ANSWER),
        C { table: "case_attachments", key: ID, column: "data", field: ATTACHMENT_DATA, form: crate::seal::Form::File },
    ]
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRecord {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    /// The support tier handling it: 1 first line, 2 Tier-2 support, 3 risk experts.
    pub tier: i64,
    pub status: CaseStatus,
    pub team: String,
    /// `user:<name>`, or none while unassigned.
    pub owner: Option<String>,
    pub opened_by: String,
    /// The system that escalated it (`helpdesk`) and its reference there (the ticket id).
    pub source: Option<String>,
    pub source_ref: Option<String>,
    /// Set while the case is open for a situation that must open one case only (reports about
    /// one subject, a rule's automatic case); cleared when it ends, so a later one opens anew.
    #[serde(skip)]
    pub open_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub sla: SlaClock,
    pub resolution: Option<Resolution>,
    pub summary: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub warned_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub reopened: i64,
    /// Bumped by every update; an update names the version it read.
    pub version: i64,
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseEvent {
    /// Assigned by the store (0 before).
    pub id: i64,
    pub case_id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `opened`, `note`, `status`, `assigned`, `link`, `task`, `handoff`, `proposal`, `sla`, `report`…
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLink {
    pub case_id: String,
    /// `order`, `customer` or `entity`.
    pub kind: String,
    pub value: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTask {
    pub id: String,
    pub case_id: String,
    pub position: i64,
    pub title: String,
    /// Blocks resolving the case while open.
    pub mandatory: bool,
    /// The team it is handed to (a hand-off), or none for the case's own team.
    pub team: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub done_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    /// The other team's answer, for a hand-off.
    pub answer: Option<String>,
}

/// A file attached to a case, stored in the database with its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: String,
    pub case_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
    /// The content (empty in lists).
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// Which cases, sorted by time left (paused ones last).
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// `None`: open cases only; `Some(vec![])`: every status.
    pub statuses: Option<Vec<CaseStatus>>,
    pub kind: Option<String>,
    pub team: Option<String>,
    pub owner: Option<String>,
    /// Only cases nobody owns.
    pub unassigned: bool,
    pub opened_by: Option<String>,
    /// Cases opened by this person or joined by their suspicion report.
    pub reported_by: Option<String>,
    /// The case of a helpdesk ticket: `source` and `source_ref`.
    pub source: Option<(String, String)>,
    pub priority: Option<Priority>,
    /// Words of the title.
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// An order that left the normal flow: paid but not shipped for days, or shipped after its
/// customer's address changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowException {
    pub order_id: String,
    pub customer_id: String,
    /// When the exception started: the payment, or the shipment.
    pub at: DateTime<Utc>,
    /// The address change, for a shipment after one.
    pub changed_at: Option<DateTime<Utc>>,
}

/// A new case with what it starts with.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub case: CaseRecord,
    pub events: Vec<CaseEvent>,
    pub links: Vec<CaseLink>,
    pub tasks: Vec<CaseTask>,
}

/// A case for the same situation exists: its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyOpen(pub String);

/// Changes to cases, applied with their audit entries in one transaction.
#[derive(Debug, Clone)]
pub enum CaseChange {
    /// Replaces the case if it is still at `expected_version` (else a conflict, nothing stored).
    Update {
        case: Box<CaseRecord>,
        expected_version: i64,
    },
    Event(CaseEvent),
    /// Adds a link (an existing one is kept as it is).
    Link(CaseLink),
    Unlink {
        case_id: String,
        kind: String,
        value: String,
    },
    AddTask(CaseTask),
    UpdateTask(CaseTask),
    Attach(Attachment),
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// The cases KPIs per local day over `spans` (`crate::kpis::Spans`): first-response and
    /// resolution SLA compliance, resolution time.
    async fn case_kpi_days(&self, spans: &crate::kpis::Spans, now_ms: i64) -> StoreResult<Vec<crate::kpis::AreaDay>>;
    /// Stores a new case, unless one with the same `source` + `source_ref` or the same open key
    /// exists: then nothing is stored and its id is returned.
    async fn open_case(&self, c: &NewCase, audit: &[AuditEntry], key: &[u8]) -> StoreResult<Result<(), AlreadyOpen>>;
    async fn case(&self, id: &str) -> StoreResult<Option<CaseRecord>>;
    async fn cases(&self, f: &CaseFilter) -> StoreResult<Vec<CaseRecord>>;
    /// How many cases match (the filter's limit and offset aside).
    async fn count_cases(&self, f: &CaseFilter) -> StoreResult<i64>;
    async fn case_events(&self, case_id: &str) -> StoreResult<Vec<CaseEvent>>;
    async fn case_links(&self, case_id: &str) -> StoreResult<Vec<CaseLink>>;
    async fn case_tasks(&self, case_id: &str) -> StoreResult<Vec<CaseTask>>;
    /// Cases linked to this order, customer or entity, newest first.
    async fn cases_linked(&self, kind: &str, value: &str, limit: i64) -> StoreResult<Vec<CaseRecord>>;
    /// Open, running cases whose resolution is due before `before` and that were not yet warned
    /// or escalated, nearest first.
    async fn cases_due(&self, before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<CaseRecord>>;
    /// Tasks handed to a team (open ones first, by due time).
    async fn handoffs(&self, team: &str, open_only: bool, limit: i64) -> StoreResult<Vec<CaseTask>>;
    async fn case_task(&self, id: &str) -> StoreResult<Option<CaseTask>>;
    /// A case's attachments, without their content.
    async fn case_attachments(&self, case_id: &str) -> StoreResult<Vec<Attachment>>;
    /// One attachment with its content.
    async fn case_attachment(&self, id: &str) -> StoreResult<Option<Attachment>>;
    /// Orders paid between `from` and `to` with no shipment, cancellation or refund since,
    /// oldest first.
    async fn paid_not_shipped(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<FlowException>>;
    /// Orders shipped since `since` whose customer changed an address between placing the order
    /// and its shipment, newest first.
    async fn shipped_after_address_change(&self, since: DateTime<Utc>, limit: i64) -> StoreResult<Vec<FlowException>>;
}
