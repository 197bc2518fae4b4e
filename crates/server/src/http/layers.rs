//! What wraps every request: request ids (checked, or made), the audit's request scope, time
//! limits, panics as 500s, tracing by matched route, metrics, and the web UI's security headers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower_http::request_id::{MakeRequestId, RequestId};

/// Answers 503 when a request runs past its limit: backtests have their own, longer one.
pub async fn time_limit(
    (request, backtest): (Duration, Duration),
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = if req.uri().path().ends_with("/backtest") { backtest } else { request };
    tokio::time::timeout(limit, next.run(req)).await.unwrap_or_else(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

/// Runs the request with its id in scope, so audit entries written anywhere below name it.
pub async fn with_request_id(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    riskdesk_service::REQUEST_ID.scope(id, next.run(req)).await
}

/// A request id sent by a client (a load balancer's, say) is kept only if it is 1-64 characters
/// of letters, digits, `-` and `_`: it ends up in logs and the audit log, so it must not carry
/// text of the client's choosing. Otherwise the server makes one.
pub async fn drop_unsafe_request_id(mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
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
pub struct Ulids;

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

/// Headers that keep pages inert even if escaping ever failed: no inline script, no framing,
/// no sniffing; pages with personal data are not cached.
pub async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
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
