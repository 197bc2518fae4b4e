//! The audit log: every change and every read of personal data, searched, exported (CSV) and
//! its hash chain verified.

mod api;
mod web;

use super::error::ApiError;
use super::page::{NavLink, day, non_empty};
use super::session::urlencode;
use super::state::AppState;
use axum::Router;
use riskdesk_domain::{AuditRecord, Permission};
use riskdesk_service::Analyst;
use riskdesk_service::audit::AuditFilter;
use serde::Deserialize;
use std::sync::Arc;

pub use api::Doc;

pub fn api() -> Router<Arc<AppState>> {
    api::routes()
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes()
}

pub fn nav(a: &Analyst) -> Vec<NavLink> {
    if a.may(Permission::ViewAudit) {
        vec![NavLink { href: "/audit", label: "Audit", area: "audit", key: "" }]
    } else {
        Vec::new()
    }
}

/// The filters of a search, from the query (page and API alike).
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `user:ana`, `apikey:…`, `cli`; empty means any.
    actor: Option<String>,
    /// `order.cancel`, `personal_data.unmask`, …; empty means any.
    action: Option<String>,
    /// A prefix: `order:`, `customer:C-1`; empty means any.
    subject: Option<String>,
    /// A customer id: every record about the account, its orders and its cases; empty means
    /// any.
    #[param(pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$")]
    customer: Option<String>,
    /// First day, `YYYY-MM-DD`; empty: no limit.
    #[param(pattern = "^(|[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)$")]
    from: Option<String>,
    /// Last day (included), `YYYY-MM-DD`; empty: no limit.
    #[param(pattern = "^(|[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)$")]
    to: Option<String>,
    /// Only records before this sequence number (paging newest first).
    before: Option<i64>,
    /// At most this many records (API search; default 100, taken into 1-1,000).
    limit: Option<i64>,
}

async fn audit_filter(
    st: &AppState,
    cap: &riskdesk_service::AuditReader,
    q: &AuditQuery,
    limit: i64,
) -> Result<AuditFilter, ApiError> {
    let subjects = match non_empty(&q.customer) {
        Some(c) => st.service.audit_subjects_of_customer(cap, &c).await?,
        None => Vec::new(),
    };
    Ok(AuditFilter {
        actor: non_empty(&q.actor),
        action: non_empty(&q.action),
        subject: non_empty(&q.subject),
        subjects,
        from: day(&q.from, "from")?,
        // The `to` day is included.
        to: day(&q.to, "to")?.map(|t| t + chrono::Duration::days(1)),
        before_seq: q.before,
        limit,
    })
}

fn audit_query_string(q: &AuditQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in
        [
            ("actor", &q.actor),
            ("action", &q.action),
            ("subject", &q.subject),
            ("customer", &q.customer),
            ("from", &q.from),
            ("to", &q.to),
        ]
    {
        if let Some(v) = non_empty(v) {
            parts.push(format!("{k}={}", urlencode(&v)));
        }
    }
    parts.join("&")
}

/// The records as CSV, with the chain's fields (sequence, previous hash, hash) so that an
/// exported file can be checked on its own. Cells a spreadsheet would read as a formula are
/// prefixed with a quote.
fn csv_of(records: &[AuditRecord]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let cell = |s: &str| if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    let _ = w.write_record([
        "seq", "at", "actor", "action", "subject", "purpose", "request_id", "flagged", "detail", "prev_hash", "hash",
    ]);
    for r in records {
        let e = &r.entry;
        let _ = w.write_record([
            r.seq.to_string(),
            e.at.to_rfc3339(),
            cell(&e.actor),
            cell(&e.action),
            cell(&e.subject),
            cell(e.purpose.as_deref().unwrap_or("")),
            cell(e.request_id.as_deref().unwrap_or("")),
            e.flagged.to_string(),
            cell(&e.detail),
            hex::encode(&r.prev_hash),
            hex::encode(&r.hash),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

fn csv_response(records: &[AuditRecord]) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"riskdesk-audit.csv\""),
        ],
        csv_of(records),
    )
        .into_response()
}
