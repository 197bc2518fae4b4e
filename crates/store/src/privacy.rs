//! Privacy operations: data-subject requests with their timeline, the background jobs that
//! build an export or carry out an erasure (resumable: each batch commits with its cursor), the
//! per-record outcome list of an erasure, the vault of what a retention class keeps restricted,
//! the breach register, Art. 19 notifications and retention sweep runs. A person's records are
//! read section by section ([`Section`]), in key order, so a job can stop and go on anywhere.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The request's free text, the person's identity evidence, the event timeline, the access
/// package's parts and the vault's kept values: sealed at rest (`crate::seal`).
pub const DETAILS: &str = "privacy_requests.details";
pub const ANSWER: &str = "privacy_requests.answer";
pub const IDENTITY_EVIDENCE: &str = "privacy_requests.identity_evidence";
pub const EVENT_TEXT: &str = "privacy_request_events.text";
pub const EXPORT_BODY: &str = "privacy_export_parts.body";
pub const VAULT_FIELDS: &str = "privacy_vault.fields";
pub const BREACH_EVENT_TEXT: &str = "privacy_breach_events.text";
pub const SEALED: &[crate::seal::SealedColumn] = {
    use crate::seal::{SealedColumn as C, int_key, key};
    const REQUEST: &[crate::seal::KeyPart] = &[key("request_id")];
    const ID: &[crate::seal::KeyPart] = &[int_key("id")];
    &[
        C::text("privacy_requests", REQUEST, "details", DETAILS),
        C::text("privacy_requests", REQUEST, "answer", ANSWER),
        C::text("privacy_requests", REQUEST, "identity_evidence", IDENTITY_EVIDENCE),
        C::text("privacy_request_events", ID, "text", EVENT_TEXT),
        C::text("privacy_export_parts", &[key("job_id"), int_key("section"), int_key("seq")], "body", EXPORT_BODY),
        C::text("privacy_vault", &[key("vault_id")], "fields", VAULT_FIELDS),
        C::text("privacy_breach_events", ID, "text", BREACH_EVENT_TEXT),
    ]
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub request_id: String,
    pub case_id: Option<String>,
    pub customer_id: String,
    pub right: String,
    pub channel: String,
    pub status: String,
    pub received_at: DateTime<Utc>,
    /// The day of receipt in the controller's zone, `YYYY-MM-DD`.
    pub received_on: String,
    /// Months granted: 1, or up to 3 once extended.
    pub months: i64,
    pub paused_days: i64,
    pub paused_since: Option<String>,
    pub extension_reason: Option<String>,
    /// `unverified`, `code_sent`, `verified`.
    pub identity: String,
    /// `email_code` or `staff`, and the staff's evidence.
    pub identity_method: Option<String>,
    pub identity_evidence: Option<String>,
    /// The keyed hash of a code sent to the e-mail on file, and when it expires.
    #[serde(skip)]
    pub code_hash: Option<String>,
    #[serde(skip)]
    pub code_expires_at: Option<DateTime<Utc>>,
    /// What the person asked for in their words (a rectification's new values, an objection's scope).
    pub details: String,
    /// The reply: refusal reason, what was withheld and why.
    pub answer: Option<String>,
    /// Open disputes and fraud cases of the person when the request arrived (erasure waits for them).
    pub flags: Vec<String>,
    /// Receipts of the same request while this one was open.
    pub duplicates: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The last deadline warning sent (days left then).
    pub warned_days: Option<i64>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestEvent {
    pub id: i64,
    pub request_id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `received`, `duplicate`, `identity`, `status`, `extended`, `paused`, `resumed`, `export`,
    /// `erasure`, `released`, `notified`, `warning`, `note`…
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRecord {
    pub job_id: String,
    pub request_id: Option<String>,
    /// `export`, `erasure` or `sweep`.
    pub kind: String,
    /// `queued`, `running`, `done`, `failed`.
    pub status: String,
    /// The section being worked and the last key done in it.
    pub section: i64,
    pub cursor: String,
    pub done_rows: i64,
    /// Who asked (the maker of an approved erasure).
    pub actor: String,
    pub error: Option<String>,
    pub attempts: i64,
    /// What the job needs to go on after a restart and must not outlive it (an erasure's known
    /// values and match keys, JSON); cleared when it finishes.
    #[serde(skip)]
    pub scratch: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One record's fate in an erasure: the line of the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeRow {
    pub request_id: String,
    pub record_kind: String,
    pub record_id: String,
    /// `erased`, `pseudonymised`, `restricted`, `held`.
    pub outcome: String,
    pub until: Option<String>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// What a retention class keeps of an erased person's record, hidden from everyone without a
/// legal-hold purpose, until `until` (then a sweep deletes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaultRow {
    pub vault_id: String,
    pub customer_id: String,
    pub record_kind: String,
    pub record_id: String,
    /// The values taken from the live record, as JSON (`[[path, value], …]`).
    #[serde(skip)]
    pub fields: String,
    pub class: String,
    pub reason: String,
    pub until: String,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreachRecord {
    pub breach_id: String,
    pub title: String,
    pub description: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub aware_at: DateTime<Utc>,
    /// `unlikely`, `risk`, `high`, or none before assessment.
    pub risk: Option<String>,
    pub people_affected: i64,
    /// Categories of data concerned, comma-separated.
    pub categories: String,
    pub authority_notified_at: Option<DateTime<Utc>>,
    pub people_notified_at: Option<DateTime<Utc>>,
    /// Why the people are or are not told (Art. 34).
    pub people_decision: Option<String>,
    /// The request whose export went to the wrong person, if that is the breach.
    pub request_id: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreachEvent {
    pub id: i64,
    pub breach_id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub phase: String,
    pub text: String,
}

/// An Art. 19 record: a recipient told of a rectification, erasure or restriction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub request_id: String,
    pub recipient: String,
    pub action: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepRun {
    pub job_id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
    pub scanned: i64,
    pub erased: i64,
    pub kept: i64,
}

/// The parts of what riskdesk holds about a person, read one after the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Customer,
    /// Orders with their decisions and review actions.
    Orders,
    /// Order and account events, labels among them.
    Events,
    /// Cases linked to the person or their orders, with timeline, links and attachments.
    Cases,
    ListEntries,
    /// Disputes with the providers' notifications and the evidence notes.
    Disputes,
    Handlings,
    /// Reads of the person's data: date, action and purpose (not who).
    AccessLog,
    /// What erasure kept, restricted.
    Vault,
}

impl Section {
    pub const ALL: [Section; 9] = [
        Self::Customer,
        Self::Orders,
        Self::Events,
        Self::Cases,
        Self::ListEntries,
        Self::Disputes,
        Self::Handlings,
        Self::AccessLog,
        Self::Vault,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Orders => "orders",
            Self::Events => "events",
            Self::Cases => "cases",
            Self::ListEntries => "list_entries",
            Self::Disputes => "disputes",
            Self::Handlings => "handlings",
            Self::AccessLog => "access_log",
            Self::Vault => "restricted",
        }
    }

    pub fn index(self) -> i64 {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) as i64
    }

    pub fn at(i: i64) -> Option<Self> {
        usize::try_from(i).ok().and_then(|i| Self::ALL.get(i).copied())
    }
}

/// Whom a section is read for: the customer id and the match keys of their list entries.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub customer_id: String,
    pub match_keys: Vec<String>,
}

/// One record of a section: its key (the cursor), when it arose, its data as JSON, and the open
/// case or dispute that needs it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow {
    pub key: String,
    pub arose_at: i64,
    pub data: serde_json::Value,
    pub open: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// `None`: open requests only.
    pub statuses: Option<Vec<String>>,
    pub customer_id: Option<String>,
    pub right: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub enum PrivacyChange {
    /// Inserts (`expected_version` 0) or replaces the request at that version.
    Request {
        request: Box<RequestRecord>,
        expected_version: i64,
    },
    Event(RequestEvent),
    /// Inserts or replaces a job; `expected_updated` guards against two workers.
    Job {
        job: Box<JobRecord>,
        expected_updated: Option<DateTime<Utc>>,
    },
    /// Writes a record's new (scrubbed) data back to its section's table.
    Rewrite {
        section: Section,
        key: String,
        data: serde_json::Value,
    },
    Outcome(OutcomeRow),
    Vault(VaultRow),
    /// Deletes vault rows (a sweep, past their date).
    DropVault(Vec<String>),
    /// A part of an export (its section's rows from one batch).
    ExportPart {
        job_id: String,
        section: i64,
        seq: i64,
        body: String,
    },
    Breach {
        breach: Box<BreachRecord>,
        expected_version: i64,
    },
    BreachEvent(BreachEvent),
    Notification(Notification),
    /// Deletes the access packages built for a customer (an erasure leaves none behind).
    DropExports(String),
    /// Anonymised order bodies (a retention sweep): order id and the body as stored
    /// ([`crate::body::store_json`]: packed and sealed by the caller, off the writer's path).
    OrderBodies(Vec<(String, Vec<u8>)>),
}

/// An order a retention sweep looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepOrder {
    pub order_id: String,
    pub customer_id: String,
    pub placed_at: i64,
    pub body: String,
}

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    async fn privacy_request(&self, id: &str) -> StoreResult<Option<RequestRecord>>;
    /// Requests, nearest deadline first (by receipt).
    async fn privacy_requests(&self, f: &RequestFilter) -> StoreResult<Vec<RequestRecord>>;
    async fn privacy_request_events(&self, id: &str) -> StoreResult<Vec<RequestEvent>>;
    /// Up to `limit` records of a section about the person with keys after `after`, in key order.
    async fn person_rows(&self, s: Section, who: &Person, after: &str, limit: i64) -> StoreResult<Vec<PersonRow>>;
    async fn privacy_job(&self, id: &str) -> StoreResult<Option<JobRecord>>;
    /// Jobs not finished (queued or running), oldest first.
    async fn privacy_jobs_open(&self) -> StoreResult<Vec<JobRecord>>;
    async fn privacy_jobs_of(&self, request_id: &str) -> StoreResult<Vec<JobRecord>>;
    /// An export's parts, in order.
    async fn export_parts(&self, job_id: &str) -> StoreResult<Vec<(i64, String)>>;
    async fn privacy_outcomes(&self, request_id: &str) -> StoreResult<Vec<OutcomeRow>>;
    async fn vault_rows(&self, customer_id: &str) -> StoreResult<Vec<VaultRow>>;
    async fn vault_fields(&self, vault_id: &str) -> StoreResult<Option<VaultRow>>;
    /// Vault rows past their date (`until` before `today`), up to `limit`, after `after`.
    async fn vault_expired(&self, today: &str, after: &str, limit: i64) -> StoreResult<Vec<VaultRow>>;
    async fn breach(&self, id: &str) -> StoreResult<Option<BreachRecord>>;
    async fn breaches(&self, open_only: bool, limit: i64) -> StoreResult<Vec<BreachRecord>>;
    async fn breach_events(&self, id: &str) -> StoreResult<Vec<BreachEvent>>;
    async fn privacy_notifications(&self, request_id: &str) -> StoreResult<Vec<Notification>>;
    async fn sweep_runs(&self, limit: i64) -> StoreResult<Vec<JobRecord>>;
    /// Orders placed before `before_ms`, after the cursor (placed_at, order_id), oldest first.
    async fn sweep_orders(&self, before_ms: i64, after: (i64, &str), limit: i64) -> StoreResult<Vec<SweepOrder>>;
    /// Which of these customers have an open dispute or an open case (a legal hold).
    async fn held_customers(&self, customers: &[String]) -> StoreResult<Vec<String>>;
}
