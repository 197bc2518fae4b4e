//! What is not an area of its own: health, metrics, the OpenAPI document and the web UI's
//! static files.

use super::page::NavLink;
use super::state::{AppState, St};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use riskdesk_service::Analyst;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Doc;

pub fn api() -> Router<Arc<AppState>> {
    Router::new().route("/openapi.json", get(super::openapi::document))
}

pub fn web() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/static/htmx.min.js",
            get(|| async { asset("text/javascript", include_str!("../../static/htmx.min.js")) }),
        )
        .route("/static/app.js", get(|| async { asset("text/javascript", include_str!("../../static/app.js")) }))
        .route("/static/app.css", get(|| async { asset("text/css", include_str!("../../static/app.css")) }))
}

pub fn nav(_: &Analyst) -> Vec<NavLink> {
    Vec::new()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

async fn healthz(State(st): St) -> Response {
    match st.service.health().await {
        Ok(backend) => Json(serde_json::json!({
            "status": "ok",
            "backend": backend,
            "screening": if st.service.screener().record_only() { "record_only" } else { "on" },
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"}))).into_response()
        }
    }
}

async fn metrics(State(st): St) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], st.metrics.render()).into_response()
}
