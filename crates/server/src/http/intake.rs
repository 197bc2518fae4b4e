//! Intake (intake-v1): orders and lifecycle events from the shop's systems, screened and
//! answered; and the machine reads of what was received (personal data in clear, every read
//! audited). Needs the API key scopes `intake` and `read`.

use super::error::ApiError;
use super::extract::{Api, JsonBody};
use super::page::NavLink;
use super::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_domain::intake::{parse_event_json, parse_order_json};
use riskdesk_domain::{CustomerId, Decision, OrderId};
use riskdesk_service::{Analyst, InsertOutcome, Intake, ReadAccess};
use serde::Serialize;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(post_order, post_event, get_order, get_customer, get_cluster, get_path))]
pub struct Doc;

pub fn api() -> Router<Arc<AppState>> {
    Router::new()
        .route("/orders", post(post_order))
        .route("/orders/{order_id}", get(get_order))
        .route("/events", post(post_event))
        .route("/customers/{customer_id}", get(get_customer))
        .route("/customers/{customer_id}/cluster", get(get_cluster))
        .route("/customers/{customer_id}/path/{other_id}", get(get_path))
}

pub fn web() -> Router<Arc<AppState>> {
    Router::new()
}

pub fn nav(_: &Analyst) -> Vec<NavLink> {
    Vec::new()
}

/// `POST /api/v1/orders`: screen and store an order; a repeated `order_id` gets the first answer.
#[utoipa::path(post, path = "/api/v1/orders", tag = "intake",
    request_body = riskdesk_domain::intake::OrderIn,
    responses((status = 200, body = super::openapi::DecisionOut), (status = 401, body = super::openapi::ErrorOut), (status = 403, body = super::openapi::ErrorOut),
              (status = 413, body = super::openapi::ErrorOut), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn post_order(State(st): St, Api(cap, _): Api<Intake>, body: JsonBody) -> Result<Response, ApiError> {
    let order = parse_order_json(&body.0).map_err(ApiError::from_field)?;
    let done = st.service.submit_order(&cap, order).await?;
    metrics::counter!("riskdesk_orders_total", "outcome" => outcome_label(&done.outcome)).increment(1);
    let mut resp = Json(DecisionBody::from(&done.decision)).into_response();
    if done.outcome == InsertOutcome::Duplicate {
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// The intake-v1 response: the decision with `decided_at` in UTC with milliseconds.
#[derive(Serialize)]
struct DecisionBody<'a> {
    order_id: &'a str,
    decision: &'a str,
    score: u8,
    reasons: &'a [riskdesk_domain::Reason],
    ruleset_version: i64,
    decided_at: String,
    /// Rules that could not be evaluated for this order (e.g. an optional field was missing).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    not_evaluated: &'a [riskdesk_domain::NotEvaluated],
}

impl<'a> From<&'a Decision> for DecisionBody<'a> {
    fn from(d: &'a Decision) -> Self {
        Self {
            order_id: d.order_id.as_str(),
            decision: d.decision.as_str(),
            score: d.score,
            reasons: &d.reasons,
            ruleset_version: d.ruleset_version,
            decided_at: d.decided_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            not_evaluated: &d.not_evaluated,
        }
    }
}

fn outcome_label(o: &InsertOutcome) -> &'static str {
    match o {
        InsertOutcome::Inserted => "stored",
        InsertOutcome::Duplicate => "duplicate",
    }
}

#[derive(Serialize)]
struct EventAck {
    event_id: String,
    status: &'static str,
}

/// `POST /api/v1/events`: store a lifecycle event; a repeated `event_id` is accepted once.
#[utoipa::path(post, path = "/api/v1/events", tag = "intake",
    request_body = riskdesk_domain::intake::EventIn,
    responses((status = 202, body = super::openapi::EventAckOut), (status = 401, body = super::openapi::ErrorOut), (status = 403, body = super::openapi::ErrorOut),
              (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn post_event(State(st): St, Api(cap, _): Api<Intake>, body: JsonBody) -> Result<Response, ApiError> {
    let event = parse_event_json(&body.0).map_err(ApiError::from_field)?;
    let event_id = event.event_id.to_string();
    let outcome = st.service.submit_event(&cap, event).await?;
    metrics::counter!("riskdesk_events_total", "outcome" => outcome_label(&outcome)).increment(1);
    let status = if outcome == InsertOutcome::Inserted { "accepted" } else { "duplicate" };
    Ok((StatusCode::ACCEPTED, Json(EventAck { event_id, status })).into_response())
}

/// `GET /api/v1/orders/{order_id}`: the order as received, its decisions and its events.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}", tag = "read",
    params(("order_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = super::openapi::ErrorOut),
              (status = 403, body = super::openapi::ErrorOut), (status = 404, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn get_order(State(st): St, Api(cap, _): Api<ReadAccess>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = OrderId::parse(&id, "order_id").map_err(|_| ApiError::not_found())?;
    let order = st.service.order(&cap, &id).await?.ok_or_else(ApiError::not_found)?;
    // The body carries personal data in clear: the read is audited before it is sent.
    st.service.record_api_read(&cap, format!("order:{id}")).await?;
    Ok(Json(order).into_response())
}

/// `GET /api/v1/customers/{customer_id}`: the account's latest profile, orders and events.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}", tag = "read",
    params(("customer_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = super::openapi::ErrorOut),
              (status = 403, body = super::openapi::ErrorOut), (status = 404, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn get_customer(
    State(st): St,
    Api(cap, _): Api<ReadAccess>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = CustomerId::parse(&id, "customer_id").map_err(|_| ApiError::not_found())?;
    let customer = st.service.customer(&cap, &id).await?.ok_or_else(ApiError::not_found)?;
    st.service.record_api_read(&cap, format!("customer:{id}")).await?;
    Ok(Json(customer).into_response())
}

/// `GET /api/v1/customers/{customer_id}/cluster`: the linked cluster, its counts and members.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/cluster", tag = "read",
    params(("customer_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = super::openapi::ErrorOut),
              (status = 403, body = super::openapi::ErrorOut), (status = 404, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn get_cluster(
    State(st): St,
    Api(cap, _): Api<ReadAccess>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = CustomerId::parse(&id, "customer_id").map_err(|_| ApiError::not_found())?;
    let view = st.service.cluster(&cap, &id, 500).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(view).into_response())
}

/// `GET /api/v1/customers/{a}/path/{b}`: the chain of shared entities that links two accounts.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/path/{other_id}", tag = "read",
    params(("customer_id" = String, Path), ("other_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = super::openapi::ErrorOut),
              (status = 403, body = super::openapi::ErrorOut), (status = 404, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn get_path(
    State(st): St,
    Api(cap, _): Api<ReadAccess>,
    Path((a, b)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let a = CustomerId::parse(&a, "customer_id").map_err(|_| ApiError::not_found())?;
    let b = CustomerId::parse(&b, "other_id").map_err(|_| ApiError::not_found())?;
    let hops = st.service.link_path(&cap, &a, &b).await?;
    Ok(Json(serde_json::json!({"from": a.as_str(), "to": b.as_str(), "linked": hops.is_some(), "hops": hops}))
        .into_response())
}
