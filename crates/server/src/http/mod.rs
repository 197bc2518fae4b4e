//! HTTP: the JSON API under `/api/v1` (the first surface: everything a person can do in the web
//! UI is an operation here too, with the same authorisation) and the web UI (server-rendered
//! pages, htmx for small in-page updates). One module per area; each owns its API routes, its
//! pages, its OpenAPI paths and its link in the navigation. A handler parses, calls one service
//! operation and answers; who may call it is decided by its extractors (`extract.rs`). This
//! layer reaches storage only through the service (CI checks that it never names the storage
//! crate).

pub mod error;
pub mod extract;
mod layers;
mod metrics_layer;
pub mod openapi;
pub mod page;
pub mod session;
pub mod state;
pub mod wire;

use crate::config::Config;
use axum::Router;
use axum::http::HeaderName;
use axum::response::IntoResponse;
use riskdesk_service::{Analyst, Service};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use state::AppState;

/// Every area, listed once: its module, its routes (API under `/api/v1`, pages at the root), its
/// OpenAPI paths and its navigation links, in the order of the navigation bar. Each area module
/// provides `api()`, `web()`, `nav(&Analyst)` and `Doc`.
macro_rules! areas {
    ($($area:ident),* $(,)?) => {
        $(pub mod $area;)*

        fn area_api() -> Router<Arc<AppState>> {
            Router::new()$(.merge($area::api()))*
        }

        fn area_web() -> Router<Arc<AppState>> {
            Router::new()$(.merge($area::web()))*
        }

        /// The navigation bar's links this person may follow.
        pub fn nav_links(a: &Analyst) -> Vec<page::NavLink> {
            let mut links = Vec::new();
            $(links.extend($area::nav(a));)*
            links
        }

        /// The OpenAPI document: the shared parts and every area's paths.
        pub fn api_doc() -> utoipa::openapi::OpenApi {
            use utoipa::OpenApi;
            let mut doc = openapi::ApiDoc::openapi();
            $(doc.merge($area::Doc::openapi());)*
            openapi::finish(doc)
        }
    };
}

areas!(
    home, intake, review, cases, disputes, qa, kpis, privacy, approvals, knowledge, screening, lists, audit, identity,
    system
);

pub fn router(service: Service, cfg: &Config) -> Router {
    let http = &cfg.http;
    let state = Arc::new(AppState {
        service,
        body_limit: http.body_limit,
        metrics: metrics_layer::handle(),
        secure_cookies: cfg.workspace.secure_cookies.clone(),
    });
    let request_id = HeaderName::from_static("x-request-id");
    let api = area_api().fallback(|| async { ApiError::not_found() });
    let web = area_web().layer(axum::middleware::from_fn(layers::security_headers));
    Router::new()
        .nest("/api/v1", api)
        .merge(web)
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics_layer::track))
        .layer(axum::middleware::from_fn(layers::with_request_id))
        .layer(axum::middleware::from_fn({
            let limits = (Duration::from_secs(http.request_timeout_secs), Duration::from_secs(http.backtest_timeout_secs));
            move |req, next| layers::time_limit(limits, req, next)
        }))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal().into_response()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // The matched route, never the raw path: paths carry customer ids.
            let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), route = route.as_deref().unwrap_or("-"), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, layers::Ulids))
        .layer(axum::middleware::from_fn(layers::drop_unsafe_request_id))
}

/// An unknown address: an HTML page for a browser (it asks for `text/html`) outside the API,
/// JSON for everyone else.
async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> axum::response::Response {
    let browser =
        headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if browser && !uri.path().starts_with("/api/") {
        error::PageError::not_found().into_response()
    } else {
        ApiError::not_found().into_response()
    }
}
