//! The review queue over the API, for people (personal access tokens) with the same rights
//! as in the web UI.

use super::web::{QueueQuery, queue_filter};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::page::start_of_today;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_domain::{OrderId, ReviewAction, ReviewReason};
use riskdesk_service::review::{ReviewInput, ReviewOutcome};
use riskdesk_service::{Caller, OrderDecider, OrderViewer, QueueAssigner, Unmasker};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(queue, stats, view, claim, unclaim, takeover, assign, review, unmask),
    components(schemas(OrderAssignIn, ReviewIn, UnmaskIn))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queue", get(queue))
        .route("/queue/stats", get(stats))
        .route("/orders/{order_id}/review", get(view).post(review))
        .route("/orders/{order_id}/claim", post(claim))
        .route("/orders/{order_id}/unclaim", post(unclaim))
        .route("/orders/{order_id}/takeover", post(takeover))
        .route("/orders/{order_id}/assign", post(assign))
        .route("/orders/{order_id}/unmask", post(unmask))
}

fn order_id(raw: &str) -> ApiResult<OrderId> {
    OrderId::parse(raw, "order_id").map_err(|_| ApiError::not_found())
}

fn person(caller: &Caller) -> ApiResult<&riskdesk_service::Analyst> {
    caller.person().ok_or_else(|| ApiError::lacks("act as a person"))
}

/// Orders in review, by shipping cut-off (or `sort=risk`), filtered like the queue page.
#[utoipa::path(get, path = "/api/v1/queue", tag = "review", params(QueueQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn queue(State(st): St, Api(cap, caller): Api<OrderViewer>, ApiQuery(q): ApiQuery<QueueQuery>) -> ApiResult<Response> {
    let per_page = q.per_page.unwrap_or(50).clamp(1, 500);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let f = queue_filter(&q, person(&caller)?, per_page, (page - 1) * per_page)?;
    let (items, total) = st.service.review_queue(&cap, &f).await?;
    // Held and decided items carry their latest review action (reason, note, who, when).
    let settled: Vec<String> = items.iter().filter(|i| i.state.as_str() != "open").map(|i| i.order_id.clone()).collect();
    let last: std::collections::HashMap<String, _> =
        st.service.latest_review_actions(&cap, &settled).await?.into_iter().map(|a| (a.order_id.clone(), a)).collect();
    let items: Vec<_> = items
        .into_iter()
        .map(|i| {
            let mut v = serde_json::to_value(&i).unwrap_or_default();
            v["last_action"] = json!(last.get(&i.order_id));
            v
        })
        .collect();
    Ok(Json(json!({"total": total, "page": page, "per_page": per_page, "items": items})).into_response())
}

/// Today's figures of the queue: open, held, oldest, breaches, decisions today.
#[utoipa::path(get, path = "/api/v1/queue/stats", tag = "review",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn stats(State(st): St, Api(cap, _): Api<OrderViewer>) -> ApiResult<Response> {
    let since = start_of_today(st.service.now());
    Ok(Json(st.service.queue_stats(&cap, since).await?).into_response())
}

/// An order as the order page shows it, personal data masked: decision, hits, review item,
/// history, lists, linked accounts, timeline.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}/review", tag = "review", params(("order_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn view(State(st): St, Api(cap, _): Api<OrderViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = order_id(&id)?;
    let v = st.service.order_view(&cap, &id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(v).into_response())
}

/// Claim an order in review for yourself.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/claim", tag = "review", params(("order_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn claim(State(st): St, Api(cap, _): Api<OrderDecider>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = order_id(&id)?;
    st.service.claim(&cap, &id, true).await?;
    Ok(Json(json!({"order_id": id.as_str(), "claimed_by": cap.actor().username})).into_response())
}

/// Give up your claim on an order.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/unclaim", tag = "review", params(("order_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn unclaim(State(st): St, Api(cap, _): Api<OrderDecider>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = order_id(&id)?;
    st.service.claim(&cap, &id, false).await?;
    Ok(Json(json!({"order_id": id.as_str(), "claimed_by": null})).into_response())
}

/// Take a claimed order over (team leads): the claim moves to you; audited.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/takeover", tag = "review", params(("order_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn takeover(State(st): St, Api(cap, _): Api<QueueAssigner>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = order_id(&id)?;
    st.service.take_over(&cap, &id).await?;
    Ok(Json(json!({"order_id": id.as_str(), "claimed_by": cap.actor().username})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderAssignIn {
    /// Who gets the order: a user whose role decides orders (an unknown user: 404).
    username: String,
}

/// Assign an order to someone (team leads).
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/assign", tag = "review", params(("order_id" = String, Path)),
    request_body = OrderAssignIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn assign(
    State(st): St,
    Api(cap, _): Api<QueueAssigner>,
    Path(id): Path<String>,
    Body(b): Body<OrderAssignIn>,
) -> ApiResult<Response> {
    let id = order_id(&id)?;
    st.service.assign(&cap, &id, &b.username).await?;
    Ok(Json(json!({"order_id": id.as_str(), "claimed_by": b.username})).into_response())
}

/// What to do (`action`) and why: a reason code of that action, and a note (no control
/// characters or markup tags, at most 2,000 characters).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReviewIn {
    Release {
        #[schema(pattern = "^(verified_customer|known_good_customer|false_positive)$")]
        reason_code: String,
        #[serde(default)]
        #[schema(pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 2000)]
        note: String,
    },
    Hold {
        #[schema(pattern = "^(awaiting_customer|awaiting_payment_provider|needs_expert)$")]
        reason_code: String,
        #[serde(default)]
        #[schema(pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 2000)]
        note: String,
    },
    Cancel {
        #[schema(pattern = "^(confirmed_fraud|stolen_card|account_takeover|reseller_abuse|customer_request)$")]
        reason_code: String,
        #[serde(default)]
        #[schema(pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 2000)]
        note: String,
    },
}

/// Release, hold or cancel an order in review. A cancellation at or above the four-eye
/// threshold becomes a proposal: 202 with its `proposal_id`.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/review", tag = "review", params(("order_id" = String, Path)),
    request_body = ReviewIn,
    responses((status = 200, body = Object), (status = 202, body = Object), (status = 401, body = ErrorOut),
              (status = 403, body = ErrorOut), (status = 404, body = ErrorOut), (status = 409, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn review(
    State(st): St,
    Api(cap, _): Api<OrderDecider>,
    Path(id): Path<String>,
    Body(b): Body<ReviewIn>,
) -> ApiResult<Response> {
    let id = order_id(&id)?;
    let (action, reason_code, note) = match b {
        ReviewIn::Release { reason_code, note } => (ReviewAction::Release, reason_code, note),
        ReviewIn::Hold { reason_code, note } => (ReviewAction::Hold, reason_code, note),
        ReviewIn::Cancel { reason_code, note } => (ReviewAction::Cancel, reason_code, note),
    };
    let reason = ReviewReason::parse(&reason_code)
        .ok_or_else(|| ApiError::invalid("reason_code", "not a reason code"))?;
    match st.service.review_order(&cap, &id, ReviewInput { action, reason, note }).await? {
        ReviewOutcome::Done => {
            Ok(Json(json!({"order_id": id.as_str(), "action": action.as_str(), "status": "done"})).into_response())
        }
        ReviewOutcome::Proposed(p) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"order_id": id.as_str(), "action": action.as_str(), "status": "pending", "proposal_id": p})),
        )
            .into_response()),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmaskIn {
    /// Why you need the data (logged with the read): at most 500 characters, 5 or more without
    /// the white space around them; no control characters or markup tags.
    #[schema(pattern = "^[^\\S\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]*(((([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff][^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])[^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<)<[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])[^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|(([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff][^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])|([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<)<)<[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+([^\\s<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])?)|((([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff][^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])[^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<)<[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])|(([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff][^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])|([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<)<)<)<(<*[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*[^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<*([^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<+)?[^\\s<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+|<*[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<+))[^\\S\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]*$", min_length = 5, max_length = 500)]
    purpose: String,
}

/// The order's personal data in clear, for a stated purpose; the read is audited.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/unmask", tag = "review", params(("order_id" = String, Path)),
    request_body = UnmaskIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn unmask(
    State(st): St,
    Api(cap, _): Api<Unmasker>,
    Path(id): Path<String>,
    Body(b): Body<UnmaskIn>,
) -> ApiResult<Response> {
    let id = order_id(&id)?;
    Ok(Json(st.service.unmask_order(&cap, &id, &b.purpose).await?).into_response())
}
