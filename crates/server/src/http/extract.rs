//! Who calls and what they may do, as extractors, so that no handler repeats a check:
//! - [`Api<C>`]: a bearer caller (machine key or personal access token) holding capability `C`;
//!   401 without a valid secret, 403 naming the right it lacks;
//! - [`Signed`] and [`Page<C>`]: a signed-in person (session cookie), with `C`; pages without a
//!   session redirect to the sign-in page;
//! - [`Action<C, F>`]: a form POST of a signed-in person holding `C`, whose CSRF token matches,
//!   with the form `F` parsed (a bad field answers 422 naming it);
//! - [`JsonBody`] and [`Body<T>`]: a JSON request body within the size limit, raw or typed.

use super::error::{ApiError, PageError};
use super::session::{COOKIE, csrf_ok, urlencode};
use super::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use riskdesk_service::{Analyst, Caller, Capability};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The caller, from `Authorization: Bearer <secret>`.
pub struct Bearer(pub Caller);

impl FromRequestParts<Arc<AppState>> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .ok_or_else(ApiError::unauthorized)?;
        match st.service.authenticate(secret).await? {
            Some(c) => Ok(Self(c)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// A bearer caller holding the capability `C`.
pub struct Api<C>(pub C, pub Caller);

impl<C: Capability + Send> FromRequestParts<Arc<AppState>> for Api<C> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Self, ApiError> {
        let Bearer(caller) = Bearer::from_request_parts(parts, st).await?;
        match caller.grant::<C>() {
            Some(cap) => Ok(Self(cap, caller)),
            None => {
                st.service.audit_refusal(&caller.actor(), C::NAME, &route(parts)).await;
                Err(refusal::<C>(&caller))
            }
        }
    }
}

/// The route asked for, as its template (`/api/v1/orders/{order_id}`): never the raw path.
fn route(parts: &Parts) -> String {
    let m = parts.extensions.get::<axum::extract::MatchedPath>().map_or("-", |p| p.as_str());
    format!("{} {m}", parts.method)
}

fn refusal<C: Capability>(caller: &Caller) -> ApiError {
    match caller {
        Caller::Key(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key's scopes do not allow this operation (it needs the right to {})", C::NAME),
        ),
        Caller::Person(a) => ApiError::lacks(&format!("{} (role {})", C::NAME, a.role().as_str())),
    }
}

/// The query string of an API call: a parameter that cannot be read answers 400 in the error
/// shape (axum's own rejection is plain text).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))
    }
}

/// A signed-in person. Pages without one redirect to the sign-in page.
pub struct Signed(pub Analyst);

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(c) = jar.get(COOKIE) {
            match st.service.session(c.value()).await {
                Ok(Some(a)) => return Ok(Signed(a)),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "session lookup failed");
                    return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
                }
            }
        }
        if parts.headers.contains_key("hx-request") {
            // htmx follows this header with a full navigation.
            return Err((StatusCode::UNAUTHORIZED, [("hx-redirect", "/login")]).into_response());
        }
        let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let target = if parts.method == axum::http::Method::GET && next.starts_with('/') && !next.starts_with("//") {
            format!("/login?next={}", urlencode(next))
        } else {
            "/login".to_owned()
        };
        Err(Redirect::to(&target).into_response())
    }
}

/// A signed-in person holding the capability `C`; others get a 403 page.
pub struct Page<C> {
    pub cap: C,
    pub who: Analyst,
}

impl<C: Capability + Send> FromRequestParts<Arc<AppState>> for Page<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Self, Response> {
        let Signed(who) = Signed::from_request_parts(parts, st).await?;
        match who.grant::<C>() {
            Some(cap) => Ok(Self { cap, who }),
            None => {
                st.service.audit_refusal(&who.actor(), C::NAME, &route(parts)).await;
                Err(PageError::forbidden().into_response())
            }
        }
    }
}

/// A form without fields of its own (the CSRF token aside).
#[derive(serde::Deserialize, Default)]
pub struct NoForm {}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// A form POST by a signed-in person holding `C`, with a matching CSRF token (from the form's
/// `csrf` field or htmx's `x-csrf-token` header) and the form parsed.
pub struct Action<C, F> {
    pub cap: C,
    pub who: Analyst,
    pub form: F,
}

impl<C: Capability + Send, F: DeserializeOwned + Send> FromRequest<Arc<AppState>> for Action<C, F> {
    type Rejection = Response;

    async fn from_request(req: Request, st: &Arc<AppState>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Signed(who) = Signed::from_request_parts(&mut parts, st).await?;
        let bytes = axum::body::to_bytes(body, st.body_limit)
            .await
            .map_err(|_| PageError::bad("The form is too large.").into_response())?;
        let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes).ok().and_then(|f| f.csrf);
        if !csrf_ok(&who, &parts.headers, token.as_deref()) {
            return Err(PageError(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "The form expired or did not come from this site; reload the page.",
            ))
            .into_response());
        }
        let Some(cap) = who.grant::<C>() else {
            st.service.audit_refusal(&who.actor(), C::NAME, &route(&parts)).await;
            return Err(PageError::forbidden().into_response());
        };
        let form = serde_urlencoded::from_bytes::<F>(&bytes)
            .map_err(|e| PageError(form_error(&e.to_string())).into_response())?;
        Ok(Self { cap, who, form })
    }
}

/// A form that failed to parse, naming the field where serde does.
fn form_error(message: &str) -> ApiError {
    match message.strip_prefix("missing field `").and_then(|r| r.split_once('`')) {
        Some((field, _)) => ApiError::invalid(field, "is required"),
        None => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message.to_owned()),
    }
}

/// A JSON request body of at most the configured size.
pub struct JsonBody(pub Bytes);

impl FromRequest<Arc<AppState>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &Arc<AppState>) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if mime != "application/json" && !mime.ends_with("+json") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "the body must be application/json",
                ));
            }
        }
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body exceeds {} bytes", st.body_limit),
            )
        };
        if let Some(len) =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            && len > st.body_limit
        {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(req.into_body(), st.body_limit).await.map_err(|_| too_large())?;
        Ok(Self(bytes))
    }
}

/// Parses a JSON object, naming the field that is wrong. (serde would also fill a struct from an
/// array of its fields' values; the bodies are objects.)
pub fn json_of<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "the body must be a JSON object"));
    }
    json_value_of(body)
}

/// Parses JSON of any shape (an object or an array), naming the field that is wrong.
pub fn json_value_of<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "the body must be JSON"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.inner().to_string();
        if field == "." {
            // A missing field is reported at the top level: name it.
            match inner.strip_prefix("missing field `").and_then(|r| r.split_once('`')) {
                Some((f, _)) => ApiError::invalid(f, "is missing"),
                None => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", inner),
            }
        } else {
            ApiError::invalid(&field, inner)
        }
    })
}

/// A typed JSON body; a wrong field answers 422 naming it.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &Arc<AppState>) -> Result<Self, ApiError> {
        let JsonBody(bytes) = JsonBody::from_request(req, st).await?;
        json_of(&bytes).map(Self)
    }
}
