//! The audit trail: who did what to what, when, why and in which request. Entries are written
//! by the store in the transaction of the change they record and sealed into a keyed hash chain.

use crate::AuditReader;
use crate::{Service, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::audit::ChainVerifier;
use riskdesk_domain::{AuditEntry, AuditRecord, ChainProblem, Role};
pub use riskdesk_store::audit::AuditFilter;
use riskdesk_store::changes::Effect;
use serde::Serialize;

tokio::task_local! {
    /// The id of the HTTP request being served, set by the server's request-id layer, so that
    /// audit entries name the request without every call passing it along.
    pub static REQUEST_ID: String;
}

/// Who acts: a user (with role), an API key, or the local operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `user:<username>`, `apikey:<id>`, `cli`.
    pub id: String,
    pub username: Option<String>,
    pub role: Option<Role>,
}

impl Actor {
    pub fn user(username: &str, role: Role) -> Self {
        Self { id: format!("user:{username}"), username: Some(username.to_owned()), role: Some(role) }
    }

    pub fn cli() -> Self {
        Self { id: "cli".into(), username: None, role: None }
    }

    pub fn other(id: &str) -> Self {
        Self { id: id.to_owned(), username: None, role: None }
    }
}

/// Builds an entry for `actor` now, in the current request.
pub fn entry(actor: &str, action: &str, subject: String, detail: serde_json::Value, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject,
        purpose: None,
        request_id: REQUEST_ID.try_with(Clone::clone).ok(),
        detail: detail.to_string(),
        flagged: false,
    }
}

/// What `riskdesk audit verify` reports.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub records: i64,
    pub head_seq: i64,
    pub problems: Vec<ChainProblem>,
}

/// Records read per page while verifying.
const VERIFY_PAGE: i64 = 10_000;

impl Service {
    /// Applies effects with their audit entries in one transaction.
    pub(crate) async fn commit_audited(&self, effects: &[Effect], audit: &[AuditEntry]) -> ServiceResult<()> {
        self.store().commit(effects, audit, self.audit_key()).await?;
        Ok(())
    }

    /// Records an event that changes nothing else (a read of personal data, a sign-in).
    pub(crate) async fn audit_only(&self, e: AuditEntry) -> ServiceResult<()> {
        self.commit_audited(&[], &[e]).await
    }

    /// Records a refused attempt: someone asked for something their rights do not allow.
    pub async fn audit_refusal(&self, actor: &Actor, right: &str, route: &str) {
        let e = entry(
            &actor.id,
            "access.refused",
            format!("route:{route}"),
            serde_json::json!({"right": right}),
            self.now(),
        );
        if let Err(err) = self.audit_only(e).await {
            tracing::warn!(error = %err, "recording a refused attempt failed");
        }
    }

    /// The subjects the log records about a customer: the account, its orders, the cases that
    /// link it; the audit view filters by them ("every read that touched the customer").
    pub async fn audit_subjects_of_customer(&self, _cap: &AuditReader, customer: &str) -> ServiceResult<Vec<String>> {
        let id = riskdesk_domain::CustomerId::parse(customer.trim(), "customer")
            .map_err(|e| crate::ServiceError::Invalid(format!("customer: {}", e.detail)))?;
        let mut out = vec![format!("customer:{id}")];
        if let Some(c) = self.store().get_customer(&id, 1000).await? {
            out.extend(c.orders.iter().map(|o| format!("order:{}", o.order_id)));
        }
        out.extend(
            self.store()
                .cases_linked("customer", id.as_str(), 500)
                .await?
                .into_iter()
                .map(|c| format!("case:{}", c.id)),
        );
        Ok(out)
    }

    pub async fn audit_records(&self, _cap: &AuditReader, f: &AuditFilter) -> ServiceResult<Vec<AuditRecord>> {
        Ok(self.store().audit_records(f).await?)
    }

    /// The hash of record `seq`, to compare with an anchor kept outside the database.
    pub async fn audit_hash_at(&self, _cap: &AuditReader, seq: i64) -> ServiceResult<Option<Vec<u8>>> {
        Ok(self.store().audit_chain(seq - 1, 1).await?.into_iter().find(|r| r.seq == seq).map(|r| r.hash))
    }

    /// Walks the whole chain: every record's link and hash, and the head (read first, so a live
    /// server may keep appending meanwhile).
    pub async fn verify_audit(&self, _cap: &AuditReader) -> ServiceResult<VerifyReport> {
        let (head_seq, head_hash) = self.store().audit_head().await?;
        let mut v = ChainVerifier::new(self.audit_key(), Some((head_seq, &head_hash)));
        let mut after = 0;
        loop {
            let page = self.store().audit_chain(after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            page.iter().for_each(|r| v.push(r));
        }
        let records = v.records();
        let problems = v.finish();
        Ok(VerifyReport { records, head_seq, problems })
    }
}
