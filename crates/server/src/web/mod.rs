//! The analyst web UI: server-rendered pages (askama templates) with htmx for the small
//! in-page updates. Every page needs a signed-in analyst; every guarded action takes the
//! capability its role grants (the service's types make the check impossible to skip) and
//! every form carries the session's CSRF token.

mod graph;
mod pages;
pub mod session;

use crate::api::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/queue", get(pages::queue))
        .route("/orders/{order_id}", get(pages::order))
        .route("/orders/{order_id}/claim", post(pages::claim))
        .route("/orders/{order_id}/unclaim", post(pages::unclaim))
        .route("/orders/{order_id}/assign", post(pages::assign))
        .route("/orders/{order_id}/review", post(pages::review))
        .route("/orders/{order_id}/unmask", post(pages::unmask))
        .route("/proposals", get(pages::proposals))
        .route("/proposals/{id}/approve", post(pages::approve))
        .route("/proposals/{id}/reject", post(pages::reject))
        .route("/proposals/{id}/withdraw", post(pages::withdraw))
        .route("/proposals/{id}/amend", post(pages::amend))
        .route("/proposals/{id}/bypass", post(pages::bypass))
        .route("/rules", get(pages::rules))
        .route("/rules/validate", post(pages::rules_validate))
        .route("/rules/save", post(pages::rules_save))
        .route("/rules/rollback", post(pages::rules_rollback))
        .route("/rules/shadow/stop", post(pages::rules_shadow_stop))
        .route("/rules/{version}", get(pages::ruleset))
        .route("/rules/{version}/backtest", post(pages::rules_backtest))
        .route("/rules/{version}/shadow", post(pages::rules_shadow))
        .route("/rules/{version}/propose", post(pages::rules_propose))
        .route("/lists", get(pages::lists))
        .route("/lists/add", post(pages::lists_add))
        .route("/lists/block-customer", post(pages::lists_block_customer))
        .route("/lists/{id}/remove", post(pages::lists_remove))
        .route("/audit", get(pages::audit))
        .route("/audit.csv", get(pages::audit_csv))
        .route("/users", get(pages::users).post(pages::users_add))
        .route("/users/{username}/role", post(pages::users_role))
        .route("/users/{username}/password", post(pages::users_password))
        .route("/users/{username}/disable", post(pages::users_disable))
        .route(
            "/static/htmx.min.js",
            get(|| async { asset("text/javascript", include_str!("../../static/htmx.min.js")) }),
        )
        .route("/static/app.js", get(|| async { asset("text/javascript", include_str!("../../static/app.js")) }))
        .route("/static/app.css", get(|| async { asset("text/css", include_str!("../../static/app.css")) }))
        .layer(axum::middleware::from_fn(security_headers))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// Headers that keep pages inert even if escaping ever failed: no inline script, no framing,
/// no sniffing; pages with personal data are not cached.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
