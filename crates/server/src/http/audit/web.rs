//! The audit page, its CSV export and the chain's verification.

use super::{AuditQuery, audit_filter, audit_query_string, csv_response};
use crate::http::error::PageResult;
use crate::http::extract::Page;
use crate::http::page::{Nav, non_empty};
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use riskdesk_domain::AuditRecord;
use riskdesk_service::AuditReader;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/audit", get(audit)).route("/audit.csv", get(audit_csv)).route("/audit/verify", get(verify))
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/audit.html")]
struct AuditPage {
    nav: Nav,
    records: Vec<AuditRecord>,
    q_actor: String,
    q_action: String,
    q_subject: String,
    q_customer: String,
    q_from: String,
    q_to: String,
    older: Option<String>,
    csv_link: String,
}

async fn audit(State(st): St, Page { cap, who }: Page<AuditReader>, Query(q): Query<AuditQuery>) -> PageResult<impl IntoResponse> {
    let records = st.service.audit_records(&cap, &audit_filter(&st, &cap, &q, 100).await?).await?;
    let qs = audit_query_string(&q);
    let older = (records.len() == 100).then(|| {
        let last = records.last().map_or(0, |r| r.seq);
        if qs.is_empty() { format!("/audit?before={last}") } else { format!("/audit?{qs}&before={last}") }
    });
    Ok(AuditPage {
        nav: Nav::of(&who, "audit"),
        records,
        q_actor: non_empty(&q.actor).unwrap_or_default(),
        q_action: non_empty(&q.action).unwrap_or_default(),
        q_subject: non_empty(&q.subject).unwrap_or_default(),
        q_customer: non_empty(&q.customer).unwrap_or_default(),
        q_from: non_empty(&q.from).unwrap_or_default(),
        q_to: non_empty(&q.to).unwrap_or_default(),
        older,
        csv_link: if qs.is_empty() { "/audit.csv".into() } else { format!("/audit.csv?{qs}") },
    })
}

/// The filtered log as CSV (at most 100,000 rows).
async fn audit_csv(State(st): St, Page { cap, .. }: Page<AuditReader>, Query(q): Query<AuditQuery>) -> PageResult<Response> {
    let records = st.service.audit_records(&cap, &audit_filter(&st, &cap, &q, 100_000).await?).await?;
    Ok(csv_response(&records))
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/verify.html")]
struct VerifyPage {
    nav: Nav,
    records: i64,
    head_seq: i64,
    problems: Vec<String>,
    anchor: String,
}

/// Walks the whole chain, as `riskdesk audit verify` does, and shows the anchor to keep.
async fn verify(State(st): St, Page { cap, who }: Page<AuditReader>) -> PageResult<impl IntoResponse> {
    let r = st.service.verify_audit(&cap).await?;
    let anchor = match st.service.audit_hash_at(&cap, r.head_seq).await? {
        Some(h) => format!("{}:{}", r.head_seq, hex::encode(h)),
        None => String::new(),
    };
    Ok(VerifyPage {
        nav: Nav::of(&who, "audit"),
        records: r.records,
        head_seq: r.head_seq,
        problems: r.problems.iter().map(|p| format!("{p:?}")).collect(),
        anchor,
    })
}
