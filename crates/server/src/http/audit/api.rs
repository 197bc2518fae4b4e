//! The audit log over the API: search, CSV export with the chain's fields, verification.

use super::{AuditQuery, audit_filter, csv_response};
use crate::http::extract::ApiQuery;
use crate::http::error::ApiResult;
use crate::http::extract::Api;
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use riskdesk_service::AuditReader;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(search, export, verify))]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/audit", get(search))
        .route("/audit/export", get(export))
        .route("/audit/verify", get(verify))
}

/// Audit records matching the filters, newest first; page with `before`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn search(State(st): St, Api(cap, _): Api<AuditReader>, ApiQuery(q): ApiQuery<AuditQuery>) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let records = st.service.audit_records(&cap, &audit_filter(&st, &cap, &q, limit).await?).await?;
    let next_before = (records.len() as i64 == limit).then(|| records.last().map(|r| r.seq)).flatten();
    let items: Vec<_> = records
        .iter()
        .map(|r| {
            json!({"seq": r.seq, "at": r.entry.at, "actor": r.entry.actor, "action": r.entry.action,
                   "subject": r.entry.subject, "purpose": r.entry.purpose, "request_id": r.entry.request_id,
                   "flagged": r.entry.flagged, "detail": r.entry.detail,
                   "prev_hash": hex::encode(&r.prev_hash), "hash": hex::encode(&r.hash)})
        })
        .collect();
    Ok(Json(json!({"records": items, "next_before": next_before})).into_response())
}

/// The filtered log as CSV (at most 100,000 rows), with sequence, previous hash and hash.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorOut),
              (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn export(State(st): St, Api(cap, _): Api<AuditReader>, ApiQuery(q): ApiQuery<AuditQuery>) -> ApiResult<Response> {
    let records = st.service.audit_records(&cap, &audit_filter(&st, &cap, &q, 100_000).await?).await?;
    Ok(csv_response(&records))
}

/// Verifies the whole chain: every record's hash against its content and its predecessor.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn verify(State(st): St, Api(cap, _): Api<AuditReader>) -> ApiResult<Response> {
    Ok(Json(st.service.verify_audit(&cap).await?).into_response())
}
