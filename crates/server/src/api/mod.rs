//! The JSON API under `/api/v1` (intake-v1), plus `/healthz`, `/metrics` and the OpenAPI
//! document. Handlers only translate between HTTP and the service.

mod error;
mod extract;
mod metrics_layer;
pub mod openapi;
pub(crate) mod rules;

use crate::config::Config;
pub use error::ApiError;
use extract::{ApiKey, JsonBody};

use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_domain::intake::{parse_event_json, parse_order_json};
use riskdesk_domain::{CustomerId, Decision, OrderId};
use riskdesk_service::Service;
use riskdesk_store::InsertOutcome;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub body_limit: usize,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// `workspace.secure_cookies`: "auto", "always" or "never".
    pub secure_cookies: String,
}

pub fn router(service: Service, cfg: &Config) -> Router {
    let http = &cfg.http;
    let state = Arc::new(AppState {
        service,
        body_limit: http.body_limit,
        metrics: metrics_layer::handle(),
        secure_cookies: cfg.workspace.secure_cookies.clone(),
    });
    let request_id = HeaderName::from_static("x-request-id");
    let api = Router::new()
        .route("/orders", post(post_order))
        .route("/orders/{order_id}", get(get_order))
        .route("/events", post(post_event))
        .route("/customers/{customer_id}", get(get_customer))
        .route("/customers/{customer_id}/cluster", get(get_cluster))
        .route("/customers/{customer_id}/path/{other_id}", get(get_path))
        .merge(rules::routes())
        .route("/openapi.json", get(openapi::document));
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::web::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::not_found() })
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics_layer::track))
        .layer(axum::middleware::from_fn(with_request_id))
        .layer(axum::middleware::from_fn({
            let limits = (Duration::from_secs(http.request_timeout_secs), Duration::from_secs(http.backtest_timeout_secs));
            move |req, next| time_limit(limits, req, next)
        }))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal().into_response()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // The matched route, never the raw path: paths carry customer ids.
            let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), route = route.as_deref().unwrap_or("-"), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, Ulids))
        .layer(axum::middleware::from_fn(drop_unsafe_request_id))
}

/// Answers 503 when a request runs past its limit: backtests have their own, longer one.
async fn time_limit(
    (request, backtest): (Duration, Duration),
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = if req.uri().path().ends_with("/backtest") { backtest } else { request };
    tokio::time::timeout(limit, next.run(req)).await.unwrap_or_else(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

/// Runs the request with its id in scope, so audit entries written anywhere below name it.
async fn with_request_id(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    riskdesk_service::workspace::REQUEST_ID.scope(id, next.run(req)).await
}

/// A request id sent by a client (a load balancer's, say) is kept only if it is 1-64 characters
/// of letters, digits, `-` and `_`: it ends up in logs and the audit log, so it must not carry
/// text of the client's choosing. Otherwise the server makes one.
async fn drop_unsafe_request_id(mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let ok = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).is_some_and(|v| {
        (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !ok {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// Request ids are ULIDs: unique, and sortable by time in logs.
#[derive(Clone, Copy)]
struct Ulids;

impl MakeRequestId for Ulids {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = ulid::Ulid::from_parts(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            (u128::from(fastrand::u64(..)) << 64) | u128::from(fastrand::u64(..)),
        );
        HeaderValue::from_str(&id.to_string()).ok().map(RequestId::new)
    }
}

/// `POST /api/v1/orders`: screen and store an order; a repeated `order_id` gets the first answer.
#[utoipa::path(post, path = "/api/v1/orders", tag = "intake",
    request_body = riskdesk_domain::intake::OrderIn,
    responses((status = 200, body = openapi::DecisionOut), (status = 401, body = openapi::ErrorOut),
              (status = 413, body = openapi::ErrorOut), (status = 422, body = openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn post_order(State(st): State<Arc<AppState>>, key: ApiKey, body: JsonBody) -> Result<Response, ApiError> {
    let cap = key.0.intake().ok_or_else(ApiError::forbidden)?;
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
    responses((status = 202, body = openapi::EventAckOut), (status = 401, body = openapi::ErrorOut),
              (status = 422, body = openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn post_event(State(st): State<Arc<AppState>>, key: ApiKey, body: JsonBody) -> Result<Response, ApiError> {
    let cap = key.0.intake().ok_or_else(ApiError::forbidden)?;
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
    responses((status = 200, body = Object), (status = 404, body = openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn get_order(State(st): State<Arc<AppState>>, key: ApiKey, Path(id): Path<String>) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    let id = OrderId::parse(&id, "order_id").map_err(|_| ApiError::not_found())?;
    let order = st.service.order(&cap, &id).await?.ok_or_else(ApiError::not_found)?;
    // The body carries personal data in clear: the read is audited before it is sent.
    st.service.record_api_read(&key.0, format!("order:{id}")).await?;
    Ok(Json(order).into_response())
}

/// `GET /api/v1/customers/{customer_id}`: the account's latest profile, orders and events.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}", tag = "read",
    params(("customer_id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = openapi::ErrorOut)),
    security(("api_key" = [])))]
async fn get_customer(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    let id = CustomerId::parse(&id, "customer_id").map_err(|_| ApiError::not_found())?;
    let customer = st.service.customer(&cap, &id).await?.ok_or_else(ApiError::not_found)?;
    st.service.record_api_read(&key.0, format!("customer:{id}")).await?;
    Ok(Json(customer).into_response())
}

/// `GET /api/v1/customers/{customer_id}/cluster`: the linked cluster, its counts and members.
async fn get_cluster(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    let id = CustomerId::parse(&id, "customer_id").map_err(|_| ApiError::not_found())?;
    let view = st.service.cluster(&cap, &id, 500).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(view).into_response())
}

/// `GET /api/v1/customers/{a}/path/{b}`: the chain of shared entities that links two accounts.
async fn get_path(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path((a, b)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    let a = CustomerId::parse(&a, "customer_id").map_err(|_| ApiError::not_found())?;
    let b = CustomerId::parse(&b, "other_id").map_err(|_| ApiError::not_found())?;
    let hops = st.service.link_path(&cap, &a, &b).await?;
    Ok(Json(serde_json::json!({"from": a.as_str(), "to": b.as_str(), "linked": hops.is_some(), "hops": hops}))
        .into_response())
}

async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    match st.service.store().ping().await {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "backend": st.service.store().backend(),
            "screening": if st.service.screener().record_only() { "record_only" } else { "on" },
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"}))).into_response()
        }
    }
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], st.metrics.render()).into_response()
}
