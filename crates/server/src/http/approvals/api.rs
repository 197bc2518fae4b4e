//! Four eyes over the API. A person's token acts as them: a maker's token cannot approve.
//! Machine keys name no person, so they can neither propose nor approve.

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::page::note;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_domain::{Permission, Proposal, ReviewAction, ReviewReason};
use riskdesk_service::approvals::Shown;
use riskdesk_service::review::ReviewInput;
use riskdesk_service::{Approver, OrderDecider, OrderViewer, Someone};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, one, approve, reject, withdraw, amend, bypass),
    components(schemas(ApproveIn, RejectIn, AmendIn, BypassIn))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/proposals", get(list))
        .route("/proposals/{id}", get(one))
        .route("/proposals/{id}/approve", post(approve))
        .route("/proposals/{id}/reject", post(reject))
        .route("/proposals/{id}/withdraw", post(withdraw))
        .route("/proposals/{id}/amend", post(amend))
        .route("/proposals/{id}/bypass", post(bypass))
}

/// A proposal as the API shows it: the stored proposal, its status now, where its subject is
/// shown, and whether the caller may decide it (and why not).
#[derive(Serialize)]
struct ProposalOut {
    #[serde(flatten)]
    shown: Shown,
    status_now: &'static str,
    may_decide: bool,
    why_not: Option<String>,
}

async fn out(st: &crate::http::AppState, p: Proposal, caller: &riskdesk_service::Caller) -> ProposalOut {
    let now = st.service.now();
    let check = match caller.person() {
        Some(a) => p.may_decide(&a.actor().id, a.role(), now).map_err(|r| r.to_string()),
        None => Err("an API key names no person".to_owned()),
    };
    ProposalOut {
        status_now: p.status_at(now).as_str(),
        may_decide: check.is_ok(),
        why_not: check.err(),
        shown: st.service.shown(p).await,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `true` for every proposal (newest 200), not only pending ones.
    all: Option<bool>,
}

/// Proposals waiting for a second person (or all with `all=true`), newest first.
#[utoipa::path(get, path = "/api/v1/proposals", tag = "approvals", params(ListQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn list(State(st): St, Api(_, caller): Api<OrderViewer>, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<Response> {
    let all = st.service.proposals(!q.all.unwrap_or(false)).await?;
    let mut items = Vec::new();
    for p in all {
        items.push(out(&st, p, &caller).await);
    }
    Ok(Json(json!({"proposals": items})).into_response())
}

/// One proposal with its exact payload and the hash an approver approves.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn one(State(st): St, Api(_, caller): Api<OrderViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let p = st.service.proposal(&id).await?;
    Ok(Json(out(&st, p, &caller).await).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveIn {
    /// The `payload_hash` of the payload you saw: if it changed since, the approval is refused.
    payload_hash: String,
    /// Kept with the approval (trimmed, its first 1,000 characters).
    #[serde(default)]
    note: String,
}

/// Approve the payload you saw; it runs in the same transaction.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/approve", tag = "approvals", params(("id" = String, Path)),
    request_body = ApproveIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn approve(
    State(st): St,
    Api(cap, _): Api<Approver>,
    Path(id): Path<String>,
    Body(b): Body<ApproveIn>,
) -> ApiResult<Response> {
    st.service.approve_proposal(&cap, &id, &b.payload_hash, note(&b.note)).await?;
    Ok(Json(json!({"id": id, "status": "executed"})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RejectIn {
    /// Why (trimmed, its first 1,000 characters).
    #[serde(default)]
    note: String,
}

/// Reject a proposal.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/reject", tag = "approvals", params(("id" = String, Path)),
    request_body = RejectIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn reject(
    State(st): St,
    Api(cap, _): Api<Approver>,
    Path(id): Path<String>,
    Body(b): Body<RejectIn>,
) -> ApiResult<Response> {
    st.service.reject_proposal(&cap, &id, note(&b.note)).await?;
    Ok(Json(json!({"id": id, "status": "rejected"})).into_response())
}

/// Take back your own proposal.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/withdraw", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn withdraw(State(st): St, Api(cap, _): Api<Someone>, Path(id): Path<String>) -> ApiResult<Response> {
    use riskdesk_service::Capability;
    st.service.withdraw_proposal(cap.actor(), &id).await?;
    Ok(Json(json!({"id": id, "status": "withdrawn"})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendIn {
    /// A reason code of a cancellation.
    #[schema(pattern = "^(confirmed_fraud|stolen_card|account_takeover|reseller_abuse|customer_request)$")]
    reason_code: String,
    /// No control characters or markup tags, at most 2,000 characters.
    #[serde(default)]
    #[schema(pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 2000)]
    note: String,
}

/// Change a pending cancellation's reason or note; you become one of its makers, and an
/// approval of the earlier payload is void.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/amend", tag = "approvals", params(("id" = String, Path)),
    request_body = AmendIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn amend(
    State(st): St,
    Api(cap, _): Api<OrderDecider>,
    Path(id): Path<String>,
    Body(b): Body<AmendIn>,
) -> ApiResult<Response> {
    let reason = ReviewReason::parse(&b.reason_code)
        .ok_or_else(|| ApiError::invalid("reason_code", "not a reason code"))?;
    st.service.amend_cancel(&cap, &id, ReviewInput { action: ReviewAction::Cancel, reason, note: b.note }).await?;
    let p = st.service.proposal(&id).await?;
    Ok(Json(json!({"id": id, "status": "pending", "payload_hash": p.payload_hash})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BypassIn {
    /// Why it cannot wait for a second person (logged and flagged): some text besides white
    /// space.
    #[schema(pattern = "[\\S\\x1c-\\x1f]")]
    reason: String,
}

/// Run a proposal without a second person: administrators only, with a reason; flagged in the
/// audit log.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/bypass", tag = "approvals", params(("id" = String, Path)),
    request_body = BypassIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn bypass(
    State(st): St,
    Api(cap, caller): Api<Approver>,
    Path(id): Path<String>,
    Body(b): Body<BypassIn>,
) -> ApiResult<Response> {
    if !caller.person().is_some_and(|a| a.may(Permission::EmergencyBypass)) {
        return Err(ApiError::lacks("bypass four eyes"));
    }
    if b.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "is blank"));
    }
    st.service.bypass_proposal(&cap, &id, &b.reason).await?;
    Ok(Json(json!({"id": id, "status": "bypassed"})).into_response())
}
