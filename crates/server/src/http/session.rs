//! Sign-in state at the HTTP edge: the session cookie, CSRF checks, the client address for
//! login throttling, and the URL encoding of links built on the server.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, SameSite};
use riskdesk_service::Analyst;
use std::net::SocketAddr;

pub const COOKIE: &str = "riskdesk_session";

/// The client's address as the listener saw it (for throttling sign-ins); empty when unknown
/// (tests that call the router directly).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddr(addr.unwrap_or_default()))
    }
}

/// Checks the synchroniser token: from the form field, or from the `x-csrf-token` header that
/// htmx sends with every request of the page.
pub fn csrf_ok(analyst: &Analyst, headers: &HeaderMap, form_token: Option<&str>) -> bool {
    let sent = form_token
        .filter(|t| !t.is_empty())
        .or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    constant_time_eq(sent.as_bytes(), analyst.csrf().as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether to mark the cookie Secure: always, never, or unless the page is on loopback.
pub fn secure_cookie(setting: &str, headers: &HeaderMap) -> bool {
    match setting {
        "always" => true,
        "never" => false,
        _ => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            !matches!(host, "localhost" | "127.0.0.1" | "[::1]")
        }
    }
}

pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE, token)).path("/").http_only(true).same_site(SameSite::Strict).secure(secure).build()
}

pub fn removal_cookie() -> Cookie<'static> {
    let mut c = Cookie::build((COOKIE, "")).path("/").build();
    c.make_removal();
    c
}

/// What query values and path segments keep unescaped.
const URL_SAFE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Percent-encodes a value for a link built on the server (templates use askama's `urlencode`).
pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_SAFE).to_string()
}

/// Whether a cross-site page sent this form: the browser's `Origin` (or `Referer`) names another
/// host. Sign-in has no session to bind a CSRF token to, so it is checked this way.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let from = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
    match from {
        None => false,
        Some("null") => true,
        Some(f) => {
            let rest = f.split_once("://").map_or(f, |(_, r)| r);
            let origin_host = rest.split('/').next().unwrap_or("");
            origin_host != host
        }
    }
}
