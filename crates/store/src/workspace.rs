//! Storage of the analyst workspace: users, sessions, the audit chain, four-eye proposals and
//! the review queue. Every change goes through [`WorkspaceStore::commit`] (or a proposal
//! operation), which applies its effects and appends its audit records in one transaction.
//!
//! The SQL is the same on both backends but for a few fragments, so it is written once in
//! [`impl_workspace_store!`] and instantiated by each backend crate with its own types.

use crate::{ListEntry, NewEvent, OutboxMessage, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::Decision;
use riskdesk_domain::workspace::{AuditEntry, AuditRecord, Proposal, ProposalKind, Role};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie token.
    pub token_hash: Vec<u8>,
    pub user_id: String,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

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

/// One change, applied in the transaction that records its audit entries. (A handful are built
/// per request, so the size of the largest variant does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Effect {
    CreateUser(UserRecord),
    SetRole {
        user_id: String,
        role: Role,
    },
    /// Sets a password and ends the user's sessions.
    SetPassword {
        user_id: String,
        password_hash: String,
    },
    /// Disables the account and ends its sessions.
    DisableUser {
        user_id: String,
        at: DateTime<Utc>,
    },
    CreateSession(SessionRecord),
    EndSession {
        token_hash: Vec<u8>,
        at: DateTime<Utc>,
    },
    /// Claim (`Some(user)`) or release (`None`) a queue item.
    Claim {
        order_id: String,
        user: Option<String>,
        at: DateTime<Utc>,
    },
    /// A manual review: the action, a decision the shop is told about, a label, the queue state.
    Review {
        action: ReviewActionRecord,
        decision: Option<Decision>,
        label: Option<NewEvent>,
        outbox: Vec<OutboxMessage>,
        state: QueueState,
    },
    AddListEntries(Vec<ListEntry>),
    RemoveListEntry {
        id: String,
        actor: String,
        at: DateTime<Utc>,
    },
    Control {
        change: crate::ControlChange,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A new rule-set version under the number the caller chose (the next free one; a race
    /// with another writer fails on the key instead of overwriting).
    SaveRuleSet {
        version: i64,
        source: String,
        author: String,
        note: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Prefix match: `order:` or `customer:c1`.
    pub subject: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only records before this sequence number (paging newest first).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Why a proposal write did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalConflict {
    /// Another proposal for the same kind and target is pending.
    AlreadyPending,
    /// The proposal changed since it was read (its revision moved on).
    Changed,
}

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Applies effects and appends the audit entries, sealed into the chain with `key`, in one
    /// transaction: either all of it is stored or none.
    async fn commit(&self, effects: &[Effect], audit: &[AuditEntry], key: &[u8]) -> StoreResult<()>;

    /// Stores a new proposal (and effects, audit) unless one for the same thing is pending.
    async fn create_proposal(
        &self,
        p: &Proposal,
        audit: &[AuditEntry],
        key: &[u8],
    ) -> StoreResult<Result<(), ProposalConflict>>;
    /// Replaces a proposal if its stored revision is still `expected_revision`, applying the
    /// effects (the approved payload) in the same transaction.
    async fn update_proposal(
        &self,
        p: &Proposal,
        expected_revision: i64,
        effects: &[Effect],
        audit: &[AuditEntry],
        key: &[u8],
    ) -> StoreResult<Result<(), ProposalConflict>>;
    async fn proposal(&self, id: &str) -> StoreResult<Option<Proposal>>;
    /// The pending proposal (expired or not) for a kind and target, if any.
    async fn pending_proposal(&self, kind: ProposalKind, target: &str) -> StoreResult<Option<Proposal>>;
    /// Proposals, newest first; `pending_only` limits to pending ones (expired included).
    async fn proposals(&self, pending_only: bool, limit: i64) -> StoreResult<Vec<Proposal>>;
    /// Marks pending proposals past their expiry as expired; returns how many.
    async fn expire_proposals(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    async fn users(&self) -> StoreResult<Vec<UserRecord>>;
    /// A live session and its user (whatever its age: the caller applies the timeouts).
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>>;
    async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> StoreResult<()>;

    async fn record_login_failure(&self, subjects: &[String], at: DateTime<Utc>) -> StoreResult<()>;
    async fn login_failures_since(&self, subject: &str, since: DateTime<Utc>) -> StoreResult<i64>;

    /// Audit records matching the filter, newest first.
    async fn audit_records(&self, f: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
    /// A page of the chain in sequence order, for verification.
    async fn audit_chain(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>>;
    async fn audit_head(&self) -> StoreResult<(i64, Vec<u8>)>;

    async fn review_queue(&self, f: &QueueFilter, sla: &SlaMinutes) -> StoreResult<(Vec<ReviewItem>, i64)>;
    async fn review_item(&self, order_id: &str, sla: &SlaMinutes) -> StoreResult<Option<ReviewItem>>;
    async fn review_actions(&self, order_id: &str) -> StoreResult<Vec<ReviewActionRecord>>;
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

/// Implements [`WorkspaceStore`] for a backend. `$lock` is appended to the read of the audit
/// head (`FOR UPDATE` on PostgreSQL; SQLite has one writer), `$country` extracts the shipping
/// country from `o.body`, `$json` is parameter 6 as a JSON column takes it. The backend provides
/// `append_decision`, `flag_account` and `insert_outbox` beside the invocation.
#[macro_export]
macro_rules! impl_workspace_store {
    (
        $store:ty, $db:ty, writer: $w:ident, reader: $r:ident, lock: $lock:literal, country: $country:literal,
        json_param: $json:literal
    ) => {
        mod workspace_impl {
            use super::*;
            use chrono::{DateTime, Utc};
            use riskdesk_domain::workspace::{
                AuditEntry, AuditRecord, Proposal, ProposalKind, ProposalStatus, Role, chain_hash,
            };
            use $crate::workspace::*;
            use $crate::{StoreError, StoreResult, from_millis};
            use sqlx::{QueryBuilder, Row};

            type Tx<'a> = sqlx::Transaction<'a, $db>;

            fn dberr(e: sqlx::Error) -> StoreError {
                StoreError::Database(e.to_string())
            }

            fn opt_ms(t: Option<DateTime<Utc>>) -> Option<i64> {
                t.map(|t| t.timestamp_millis())
            }

            fn opt_time(v: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
                v.map(from_millis).transpose()
            }

            fn unique_violation(e: &sqlx::Error) -> bool {
                matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
            }

            const USER_COLS: &str = "id, username, display_name, role, password_hash, created_at, disabled_at";
            const PROPOSAL_COLS: &str = "id, kind, target, payload, payload_hash, makers, created_at, expires_at, \
                 status, decided_by, decided_at, decision_note, revision";
            const AUDIT_COLS: &str =
                "seq, at, actor, action, subject, purpose, request_id, detail, flagged, prev_hash, hash";

            fn user_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<UserRecord> {
                let role: String = row.try_get("role").map_err(dberr)?;
                Ok(UserRecord {
                    id: row.try_get("id").map_err(dberr)?,
                    username: row.try_get("username").map_err(dberr)?,
                    display_name: row.try_get("display_name").map_err(dberr)?,
                    role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
                    password_hash: row.try_get("password_hash").map_err(dberr)?,
                    created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                    disabled_at: opt_time(row.try_get("disabled_at").map_err(dberr)?)?,
                })
            }

            fn proposal_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<Proposal> {
                let kind: String = row.try_get("kind").map_err(dberr)?;
                let status: String = row.try_get("status").map_err(dberr)?;
                let makers: String = row.try_get("makers").map_err(dberr)?;
                Ok(Proposal {
                    id: row.try_get("id").map_err(dberr)?,
                    kind: ProposalKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?,
                    target: row.try_get("target").map_err(dberr)?,
                    payload: row.try_get("payload").map_err(dberr)?,
                    payload_hash: row.try_get("payload_hash").map_err(dberr)?,
                    makers: serde_json::from_str(&makers).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                    expires_at: from_millis(row.try_get("expires_at").map_err(dberr)?)?,
                    status: ProposalStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
                    decided_by: row.try_get("decided_by").map_err(dberr)?,
                    decided_at: opt_time(row.try_get("decided_at").map_err(dberr)?)?,
                    decision_note: row.try_get("decision_note").map_err(dberr)?,
                    revision: row.try_get("revision").map_err(dberr)?,
                })
            }

            fn audit_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<AuditRecord> {
                let flagged: i64 = row.try_get("flagged").map_err(dberr)?;
                Ok(AuditRecord {
                    seq: row.try_get("seq").map_err(dberr)?,
                    entry: AuditEntry {
                        at: from_millis(row.try_get("at").map_err(dberr)?)?,
                        actor: row.try_get("actor").map_err(dberr)?,
                        action: row.try_get("action").map_err(dberr)?,
                        subject: row.try_get("subject").map_err(dberr)?,
                        purpose: row.try_get("purpose").map_err(dberr)?,
                        request_id: row.try_get("request_id").map_err(dberr)?,
                        detail: row.try_get("detail").map_err(dberr)?,
                        flagged: flagged != 0,
                    },
                    prev_hash: row.try_get("prev_hash").map_err(dberr)?,
                    hash: row.try_get("hash").map_err(dberr)?,
                })
            }

            /// The cut-off of a queue row as SQL, from the SLA table.
            fn push_due(q: &mut QueryBuilder<$db>, sla: &SlaMinutes) {
                q.push("(placed_at + 60000 * CASE");
                for (channel, minutes) in &sla.per_channel {
                    q.push(" WHEN channel = ").push_bind(channel.clone()).push(" THEN ").push_bind(*minutes);
                }
                q.push(" ELSE ").push_bind(sla.default).push(" END)");
            }

            fn item_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<ReviewItem> {
                let state: String = row.try_get("state").map_err(dberr)?;
                let rules: String = row.try_get("rules").map_err(dberr)?;
                Ok(ReviewItem {
                    order_id: row.try_get("order_id").map_err(dberr)?,
                    customer_id: row.try_get("customer_id").map_err(dberr)?,
                    placed_at: from_millis(row.try_get("placed_at").map_err(dberr)?)?,
                    channel: row.try_get("channel").map_err(dberr)?,
                    country: row.try_get("country").map_err(dberr)?,
                    payment_method: row.try_get("payment_method").map_err(dberr)?,
                    total_minor: row.try_get("total_minor").map_err(dberr)?,
                    currency: row.try_get("currency").map_err(dberr)?,
                    score: row.try_get("score").map_err(dberr)?,
                    rules: rules_from_column(&rules),
                    state: QueueState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
                    claimed_by: row.try_get("claimed_by").map_err(dberr)?,
                    claimed_at: opt_time(row.try_get("claimed_at").map_err(dberr)?)?,
                    due_at: from_millis(row.try_get("due_at").map_err(dberr)?)?,
                })
            }

            const ITEM_COLS: &str = "order_id, customer_id, placed_at, channel, country, payment_method, total_minor, \
                 currency, score, rules, state, claimed_by, claimed_at, ";

            /// Seals and appends audit entries after the current head, and moves the head.
            async fn append_audit(tx: &mut Tx<'_>, audit: &[AuditEntry], key: &[u8]) -> StoreResult<()> {
                if audit.is_empty() {
                    return Ok(());
                }
                let row = sqlx::query(concat!("SELECT seq, hash FROM audit_head WHERE id = 1", $lock))
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(dberr)?;
                let mut seq: i64 = row.try_get("seq").map_err(dberr)?;
                let mut prev: Vec<u8> = row.try_get("hash").map_err(dberr)?;
                for e in audit {
                    seq += 1;
                    let hash = chain_hash(key, seq, &prev, e).to_vec();
                    sqlx::query(
                        "INSERT INTO audit_log (seq, at, actor, action, subject, purpose, request_id, detail, flagged, \
                         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(seq)
                    .bind(e.at.timestamp_millis())
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.subject)
                    .bind(&e.purpose)
                    .bind(&e.request_id)
                    .bind(&e.detail)
                    .bind(i64::from(e.flagged))
                    .bind(&prev)
                    .bind(&hash)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    prev = hash;
                }
                sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(seq)
                    .bind(&prev)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                Ok(())
            }

            /// Ends a user's open sessions, at `at` or (without one) at each session's last use.
            async fn end_sessions(tx: &mut Tx<'_>, user_id: &str, at: Option<DateTime<Utc>>) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET ended_at = COALESCE($1, last_seen_at) WHERE user_id = $2 AND ended_at IS NULL")
                    .bind(opt_ms(at))
                    .bind(user_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                Ok(())
            }

                        async fn apply(tx: &mut Tx<'_>, effect: &Effect) -> StoreResult<()> {
                match effect {
                    Effect::CreateUser(u) => {
                        sqlx::query(
                            "INSERT INTO users (id, username, display_name, role, password_hash, created_at, disabled_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(&u.id)
                        .bind(&u.username)
                        .bind(&u.display_name)
                        .bind(u.role.as_str())
                        .bind(&u.password_hash)
                        .bind(u.created_at.timestamp_millis())
                        .bind(opt_ms(u.disabled_at))
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    }
                    Effect::SetRole { user_id, role } => {
                        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                            .bind(role.as_str())
                            .bind(user_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    Effect::SetPassword { user_id, password_hash } => {
                        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                            .bind(password_hash)
                            .bind(user_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                        // A new password ends every session signed in with the old one.
                        end_sessions(tx, user_id, None).await?;
                    }
                    Effect::DisableUser { user_id, at } => {
                        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
                            .bind(at.timestamp_millis())
                            .bind(user_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                        end_sessions(tx, user_id, Some(*at)).await?;
                    }
                    Effect::CreateSession(s) => {
                        sqlx::query(
                            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, ended_at) \
                             VALUES ($1, $2, $3, $4, $5, NULL)",
                        )
                        .bind(&s.token_hash)
                        .bind(&s.user_id)
                        .bind(&s.csrf)
                        .bind(s.created_at.timestamp_millis())
                        .bind(s.last_seen_at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    }
                    Effect::EndSession { token_hash, at } => {
                        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
                            .bind(at.timestamp_millis())
                            .bind(token_hash)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    Effect::Claim { order_id, user, at } => {
                        sqlx::query("UPDATE review_items SET claimed_by = $1, claimed_at = $2 WHERE order_id = $3")
                            .bind(user)
                            .bind(user.as_ref().map(|_| at.timestamp_millis()))
                            .bind(order_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    Effect::Review { action: a, decision, label, outbox, state } => {
                        sqlx::query(
                            "INSERT INTO review_actions (id, order_id, action, reason, note, actor, at, proposal_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(&a.id)
                        .bind(&a.order_id)
                        .bind(&a.action)
                        .bind(&a.reason)
                        .bind(&a.note)
                        .bind(&a.actor)
                        .bind(a.at.timestamp_millis())
                        .bind(&a.proposal_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                        // Only an item still open or held can be decided: two analysts deciding at
                        // once, or an approval after a release, must not both take effect.
                        let moved = sqlx::query(
                            "UPDATE review_items SET state = $1 WHERE order_id = $2 AND state <> 'closed'",
                        )
                        .bind(state.as_str())
                        .bind(&a.order_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?
                        .rows_affected();
                        if moved != 1 {
                            return Err(StoreError::Conflict("the order was already decided".into()));
                        }
                        // A release or cancel decided directly settles the order: a cancellation
                        // still waiting for approval has nothing left to do.
                        if *state == QueueState::Closed && a.proposal_id.is_none() {
                            sqlx::query(
                                "UPDATE proposals SET status = 'withdrawn', decided_at = $1, \
                                 decision_note = 'the order was decided meanwhile', revision = revision + 1 \
                                 WHERE kind = 'cancel_order' AND target = $2 AND status = 'pending'",
                            )
                            .bind(a.at.timestamp_millis())
                            .bind(&a.order_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                        }
                        if let Some(d) = decision {
                            super::append_decision(&mut **tx, d).await?;
                        }
                        if let Some(n) = label {
                            let e = &n.event;
                            sqlx::query(concat!(
                                "INSERT INTO events (event_id, type, occurred_at, order_id, customer_id, body, received_at) \
                                 VALUES ($1, $2, $3, $4, $5, ",
                                $json,
                                ", $7)"
                            ))
                            .bind(e.event_id.as_str())
                            .bind(e.event_type.as_str())
                            .bind(e.occurred_at.timestamp_millis())
                            .bind(e.order_id.as_ref().map(|o| o.to_string()))
                            .bind(e.customer_id.as_ref().map(|c| c.to_string()))
                            .bind($crate::codec::event_body(e))
                            .bind(n.received_at.timestamp_millis())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                            if e.event_type == riskdesk_domain::EventType::FraudConfirmed {
                                if let Some(c) = &e.customer_id {
                                    super::flag_account(&mut **tx, c.as_str(), true).await?;
                                }
                            }
                        }
                        let refs: Vec<&$crate::OutboxMessage> = outbox.iter().collect();
                        super::insert_outbox(&mut **tx, &refs).await?;
                    }
                    Effect::AddListEntries(entries) => {
                        for e in entries {
                            sqlx::query(
                                "INSERT INTO list_entries (id, list, kind, value, match_key, reason, author, created_at, \
                                 expires_at, removed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                            )
                            .bind(&e.id)
                            .bind(e.list.as_str())
                            .bind(e.kind.as_str())
                            .bind(&e.value)
                            .bind(&e.match_key)
                            .bind(&e.reason)
                            .bind(&e.author)
                            .bind(e.created_at.timestamp_millis())
                            .bind(opt_ms(e.expires_at))
                            .bind(opt_ms(e.removed_at))
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                        }
                        sqlx::query("UPDATE screening_control SET lists_seq = lists_seq + 1 WHERE id = 1")
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    Effect::RemoveListEntry { id, actor, at } => {
                        sqlx::query(
                            "UPDATE list_entries SET removed_at = $1, removed_by = $2 WHERE id = $3 AND removed_at IS NULL",
                        )
                        .bind(at.timestamp_millis())
                        .bind(actor)
                        .bind(id)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                        sqlx::query("UPDATE screening_control SET lists_seq = lists_seq + 1 WHERE id = 1")
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    Effect::SaveRuleSet { version, source, author, note, at } => {
                        sqlx::query(
                            "INSERT INTO rulesets (version, source, author, note, created_at) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(version)
                        .bind(source)
                        .bind(author)
                        .bind(note)
                        .bind(at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    }
                    Effect::Control { change, actor, at } => {
                        let sql = match change {
                            $crate::ControlChange::Publish(_) | $crate::ControlChange::Rollback(_) => {
                                "UPDATE screening_control SET live_version = $1 WHERE id = 1"
                            }
                            _ => "UPDATE screening_control SET shadow_version = $1 WHERE id = 1",
                        };
                        sqlx::query(sql).bind(change.version()).execute(&mut **tx).await.map_err(dberr)?;
                        sqlx::query("INSERT INTO ruleset_changes (action, version, actor, at) VALUES ($1, $2, $3, $4)")
                            .bind(change.action())
                            .bind(change.version())
                            .bind(actor)
                            .bind(at.timestamp_millis())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                }
                Ok(())
            }

            async fn write_proposal(tx: &mut Tx<'_>, p: &Proposal) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO proposals (id, kind, target, payload, payload_hash, makers, created_at, expires_at, \
                     status, decided_by, decided_at, decision_note, revision) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(&p.id)
                .bind(p.kind.as_str())
                .bind(&p.target)
                .bind(&p.payload)
                .bind(&p.payload_hash)
                .bind(serde_json::to_string(&p.makers).unwrap_or_else(|_| "[]".into()))
                .bind(p.created_at.timestamp_millis())
                .bind(p.expires_at.timestamp_millis())
                .bind(p.status.as_str())
                .bind(&p.decided_by)
                .bind(opt_ms(p.decided_at))
                .bind(&p.decision_note)
                .bind(p.revision)
                .execute(&mut **tx)
                .await
                .map(|_| ())
            }

            #[async_trait::async_trait]
            impl WorkspaceStore for $store {
                async fn commit(&self, effects: &[Effect], audit: &[AuditEntry], key: &[u8]) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    for e in effects {
                        apply(&mut tx, e).await?;
                    }
                    append_audit(&mut tx, audit, key).await?;
                    tx.commit().await.map_err(dberr)
                }

                async fn create_proposal(
                    &self,
                    p: &Proposal,
                    audit: &[AuditEntry],
                    key: &[u8],
                ) -> StoreResult<Result<(), ProposalConflict>> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    // A pending proposal past its expiry no longer blocks a new one.
                    sqlx::query(
                        "UPDATE proposals SET status = 'expired', revision = revision + 1 WHERE kind = $1 AND target = $2 AND status = 'pending' \
                         AND expires_at <= $3",
                    )
                    .bind(p.kind.as_str())
                    .bind(&p.target)
                    .bind(p.created_at.timestamp_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(dberr)?;
                    match write_proposal(&mut tx, p).await {
                        Ok(()) => {}
                        Err(e) if unique_violation(&e) => return Ok(Err(ProposalConflict::AlreadyPending)),
                        Err(e) => return Err(dberr(e)),
                    }
                    append_audit(&mut tx, audit, key).await?;
                    tx.commit().await.map_err(dberr)?;
                    Ok(Ok(()))
                }

                async fn update_proposal(
                    &self,
                    p: &Proposal,
                    expected_revision: i64,
                    effects: &[Effect],
                    audit: &[AuditEntry],
                    key: &[u8],
                ) -> StoreResult<Result<(), ProposalConflict>> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    let n = sqlx::query(
                        "UPDATE proposals SET payload = $1, payload_hash = $2, makers = $3, status = $4, decided_by = $5, \
                         decided_at = $6, decision_note = $7, revision = $8 WHERE id = $9 AND revision = $10",
                    )
                    .bind(&p.payload)
                    .bind(&p.payload_hash)
                    .bind(serde_json::to_string(&p.makers).unwrap_or_else(|_| "[]".into()))
                    .bind(p.status.as_str())
                    .bind(&p.decided_by)
                    .bind(opt_ms(p.decided_at))
                    .bind(&p.decision_note)
                    .bind(p.revision)
                    .bind(&p.id)
                    .bind(expected_revision)
                    .execute(&mut *tx)
                    .await
                    .map_err(dberr)?
                    .rows_affected();
                    if n != 1 {
                        return Ok(Err(ProposalConflict::Changed));
                    }
                    for e in effects {
                        apply(&mut tx, e).await?;
                    }
                    append_audit(&mut tx, audit, key).await?;
                    tx.commit().await.map_err(dberr)?;
                    Ok(Ok(()))
                }

                async fn proposal(&self, id: &str) -> StoreResult<Option<Proposal>> {
                    let sql = format!("SELECT {PROPOSAL_COLS} FROM proposals WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.$r).await.map_err(dberr)?;
                    row.as_ref().map(proposal_from).transpose()
                }

                async fn pending_proposal(&self, kind: ProposalKind, target: &str) -> StoreResult<Option<Proposal>> {
                    let sql = format!("SELECT {PROPOSAL_COLS} FROM proposals WHERE kind = $1 AND target = $2 AND status = 'pending'");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(kind.as_str())
                        .bind(target)
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(dberr)?;
                    row.as_ref().map(proposal_from).transpose()
                }

                async fn proposals(&self, pending_only: bool, limit: i64) -> StoreResult<Vec<Proposal>> {
                    let sql = if pending_only {
                        format!("SELECT {PROPOSAL_COLS} FROM proposals WHERE status = 'pending' ORDER BY created_at DESC LIMIT $1")
                    } else {
                        format!("SELECT {PROPOSAL_COLS} FROM proposals ORDER BY created_at DESC LIMIT $1")
                    };
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&self.$r).await.map_err(dberr)?;
                    rows.iter().map(proposal_from).collect()
                }

                async fn expire_proposals(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                    let n = sqlx::query("UPDATE proposals SET status = 'expired', revision = revision + 1 WHERE status = 'pending' AND expires_at <= $1")
                        .bind(now.timestamp_millis())
                        .execute(&self.$w)
                        .await
                        .map_err(dberr)?;
                    Ok(n.rows_affected())
                }

                async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
                    let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&self.$r).await.map_err(dberr)?;
                    row.as_ref().map(user_from).transpose()
                }

                async fn users(&self) -> StoreResult<Vec<UserRecord>> {
                    let sql = format!("SELECT {USER_COLS} FROM users ORDER BY username");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.$r).await.map_err(dberr)?;
                    rows.iter().map(user_from).collect()
                }

                async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
                    let sql = "SELECT s.token_hash, s.user_id, s.csrf, s.created_at AS s_created, s.last_seen_at, \
                         u.id, u.username, u.display_name, u.role, u.password_hash, u.created_at, u.disabled_at \
                         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.ended_at IS NULL";
                    let Some(row) = sqlx::query(sql).bind(token_hash).fetch_optional(&self.$r).await.map_err(dberr)? else {
                        return Ok(None);
                    };
                    let s = SessionRecord {
                        token_hash: row.try_get("token_hash").map_err(dberr)?,
                        user_id: row.try_get("user_id").map_err(dberr)?,
                        csrf: row.try_get("csrf").map_err(dberr)?,
                        created_at: from_millis(row.try_get("s_created").map_err(dberr)?)?,
                        last_seen_at: from_millis(row.try_get("last_seen_at").map_err(dberr)?)?,
                        ended_at: None,
                    };
                    Ok(Some((s, user_from(&row)?)))
                }

                async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                        .bind(at.timestamp_millis())
                        .bind(token_hash)
                        .execute(&self.$w)
                        .await
                        .map_err(dberr)?;
                    Ok(())
                }

                async fn record_login_failure(&self, subjects: &[String], at: DateTime<Utc>) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    // Old failures no longer count; dropping them keeps the table small.
                    sqlx::query("DELETE FROM login_failures WHERE at < $1")
                        .bind(at.timestamp_millis() - 86_400_000)
                        .execute(&mut *tx)
                        .await
                        .map_err(dberr)?;
                    for s in subjects {
                        sqlx::query("INSERT INTO login_failures (subject, at) VALUES ($1, $2)")
                            .bind(s)
                            .bind(at.timestamp_millis())
                            .execute(&mut *tx)
                            .await
                            .map_err(dberr)?;
                    }
                    tx.commit().await.map_err(dberr)
                }

                async fn login_failures_since(&self, subject: &str, since: DateTime<Utc>) -> StoreResult<i64> {
                    sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE subject = $1 AND at >= $2")
                        .bind(subject)
                        .bind(since.timestamp_millis())
                        .fetch_one(&self.$w)
                        .await
                        .map_err(dberr)
                }

                async fn audit_records(&self, f: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {AUDIT_COLS} FROM audit_log WHERE 1 = 1"));
                    if let Some(a) = &f.actor {
                        q.push(" AND actor = ").push_bind(a.clone());
                    }
                    if let Some(a) = &f.action {
                        q.push(" AND action = ").push_bind(a.clone());
                    }
                    if let Some(s) = &f.subject {
                        // Prefix match without LIKE wildcards in the user's text.
                        q.push(" AND substr(subject, 1, CAST(").push_bind(s.chars().count() as i64).push(" AS INTEGER)) = ").push_bind(s.clone());
                    }
                    if let Some(t) = f.from {
                        q.push(" AND at >= ").push_bind(t.timestamp_millis());
                    }
                    if let Some(t) = f.to {
                        q.push(" AND at < ").push_bind(t.timestamp_millis());
                    }
                    if let Some(s) = f.before_seq {
                        q.push(" AND seq < ").push_bind(s);
                    }
                    q.push(" ORDER BY seq DESC LIMIT ").push_bind(f.limit.max(1));
                    let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                    rows.iter().map(audit_from).collect()
                }

                async fn audit_chain(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
                    let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after_seq).bind(limit).fetch_all(&self.$w).await.map_err(dberr)?;
                    rows.iter().map(audit_from).collect()
                }

                async fn audit_head(&self) -> StoreResult<(i64, Vec<u8>)> {
                    sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.$w).await.map_err(dberr)
                }

                async fn review_queue(&self, f: &QueueFilter, sla: &SlaMinutes) -> StoreResult<(Vec<ReviewItem>, i64)> {
                    fn push_where(q: &mut QueryBuilder<$db>, f: &QueueFilter) {
                        match f.state {
                            Some(s) => {
                                q.push(" WHERE state = ").push_bind(s.as_str());
                            }
                            None => {
                                q.push(" WHERE state IN ('open', 'held')");
                            }
                        }
                        if let Some(c) = &f.channel {
                            q.push(" AND channel = ").push_bind(c.clone());
                        }
                        if let Some(c) = &f.country {
                            q.push(" AND country = ").push_bind(c.clone());
                        }
                        if let Some(m) = &f.payment_method {
                            q.push(" AND payment_method = ").push_bind(m.clone());
                        }
                        if let Some(r) = &f.rule {
                            // Whole-id match; ids are [A-Za-z0-9_-], so no LIKE wildcards can hide in them.
                            let id: String = r.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
                            q.push(" AND rules LIKE ").push_bind(format!("% {id} %"));
                        }
                        if let Some(v) = f.min_minor {
                            q.push(" AND total_minor >= ").push_bind(v);
                        }
                        if let Some(v) = f.max_minor {
                            q.push(" AND total_minor <= ").push_bind(v);
                        }
                        if let Some(u) = &f.claimed_by {
                            q.push(" AND claimed_by = ").push_bind(u.clone());
                        }
                    }
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {ITEM_COLS}"));
                    push_due(&mut q, sla);
                    q.push(" AS due_at FROM review_items");
                    push_where(&mut q, f);
                    match f.sort {
                        QueueSort::CutOff => q.push(" ORDER BY due_at, score DESC, order_id"),
                        QueueSort::Risk => q.push(" ORDER BY score DESC, due_at, order_id"),
                    };
                    q.push(" LIMIT ").push_bind(f.limit.max(1)).push(" OFFSET ").push_bind(f.offset.max(0));
                    let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                    let items = rows.iter().map(item_from).collect::<StoreResult<Vec<_>>>()?;
                    let mut c = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM review_items");
                    push_where(&mut c, f);
                    let total: i64 = c.build_query_scalar().fetch_one(&self.$r).await.map_err(dberr)?;
                    Ok((items, total))
                }

                async fn review_item(&self, order_id: &str, sla: &SlaMinutes) -> StoreResult<Option<ReviewItem>> {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {ITEM_COLS}"));
                    push_due(&mut q, sla);
                    q.push(" AS due_at FROM review_items WHERE order_id = ").push_bind(order_id.to_owned());
                    let row = q.build().fetch_optional(&self.$r).await.map_err(dberr)?;
                    row.as_ref().map(item_from).transpose()
                }

                async fn review_actions(&self, order_id: &str) -> StoreResult<Vec<ReviewActionRecord>> {
                    let rows: Vec<(String, String, String, String, String, String, i64, Option<String>)> = sqlx::query_as(
                        "SELECT id, order_id, action, reason, note, actor, at, proposal_id FROM review_actions \
                         WHERE order_id = $1 ORDER BY at",
                    )
                    .bind(order_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                    rows.into_iter()
                        .map(|(id, order_id, action, reason, note, actor, at, proposal_id)| {
                            Ok(ReviewActionRecord { id, order_id, action, reason, note, actor, at: from_millis(at)?, proposal_id })
                        })
                        .collect()
                }

                async fn queue_stats(&self, now: DateTime<Utc>, since: DateTime<Utc>, sla: &SlaMinutes) -> StoreResult<QueueStats> {
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT COALESCE(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0) AS open, \
                         COALESCE(SUM(CASE WHEN state = 'held' THEN 1 ELSE 0 END), 0) AS held, MIN(placed_at) AS oldest, \
                         COALESCE(SUM(CASE WHEN ",
                    );
                    push_due(&mut q, sla);
                    q.push(" < ").push_bind(now.timestamp_millis());
                    q.push(" THEN 1 ELSE 0 END), 0) AS breached FROM review_items WHERE state IN ('open', 'held')");
                    let row = q.build().fetch_one(&self.$r).await.map_err(dberr)?;
                    let decided: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM review_actions WHERE at >= $1")
                        .bind(since.timestamp_millis())
                        .fetch_one(&self.$r)
                        .await
                        .map_err(dberr)?;
                    Ok(QueueStats {
                        open: row.try_get("open").map_err(dberr)?,
                        held: row.try_get("held").map_err(dberr)?,
                        oldest_placed_at: opt_time(row.try_get("oldest").map_err(dberr)?)?,
                        breached: row.try_get("breached").map_err(dberr)?,
                        decided_since: decided,
                    })
                }

                async fn fraud_accounts(&self, customers: &[String]) -> StoreResult<Vec<String>> {
                    if customers.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT customer_id FROM account_links WHERE fraud <> 0 AND customer_id IN (",
                    );
                    let mut list = q.separated(", ");
                    for c in customers {
                        list.push_bind(c.clone());
                    }
                    q.push(")");
                    q.build_query_scalar().fetch_all(&self.$r).await.map_err(dberr)
                }

                async fn queue_facets(&self) -> StoreResult<(Vec<String>, Vec<String>, Vec<String>)> {
                    let mut out = Vec::new();
                    for col in ["channel", "country", "payment_method"] {
                        let sql = format!(
                            "SELECT DISTINCT {col} FROM review_items WHERE state IN ('open', 'held') AND {col} IS NOT NULL ORDER BY {col}"
                        );
                        let v: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&self.$r).await.map_err(dberr)?;
                        out.push(v);
                    }
                    let mut it = out.into_iter();
                    Ok((it.next().unwrap_or_default(), it.next().unwrap_or_default(), it.next().unwrap_or_default()))
                }
            }

            /// Puts an order decided `review` into the queue (or back into it, after a re-decision):
            /// score $1, rules column $2, at $3, order $4.
            pub(crate) const ENQUEUE_REVIEW_SQL: &str = concat!(
                "INSERT INTO review_items (order_id, customer_id, placed_at, channel, country, payment_method, \
                 total_minor, currency, score, rules, state, enqueued_at) \
                 SELECT o.order_id, o.customer_id, o.placed_at, o.channel, ",
                $country,
                ", o.payment_method, o.total_minor, o.currency, $1, $2, 'open', $3 FROM orders o WHERE o.order_id = $4 \
                 ON CONFLICT (order_id) DO UPDATE SET score = excluded.score, rules = excluded.rules, \
                 state = 'open', enqueued_at = excluded.enqueued_at"
            );

            /// See [`ENQUEUE_REVIEW_SQL`].
            pub(crate) async fn enqueue_review(
                conn: &mut <$db as sqlx::Database>::Connection,
                d: &riskdesk_domain::Decision,
            ) -> StoreResult<()> {
                sqlx::query(ENQUEUE_REVIEW_SQL)
                .bind(i64::from(d.score))
                .bind(rules_column(d))
                .bind(d.decided_at.timestamp_millis())
                .bind(d.order_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(dberr)?;
                Ok(())
            }
        }
        #[allow(unused_imports)]
        pub(crate) use workspace_impl::{ENQUEUE_REVIEW_SQL, enqueue_review};
    };
}
