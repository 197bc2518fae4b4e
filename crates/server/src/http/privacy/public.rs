//! The public channel, without sign-in: the request page (`/public/privacy`) where a person asks
//! by the e-mail address they shop with, and the page where they confirm the code mailed to it;
//! the same two operations in the API for a shop's own privacy portal.

use crate::http::error::{ApiError, ApiResult, PageResult};
use crate::http::extract::Body;
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use riskdesk_service::ServiceError;
use riskdesk_service::privacy::public::PublicRequestIn;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// What the person is told after asking, whatever the address: nobody learns from the page
/// whether an address belongs to a customer.
const RECEIVED: &str = "Thank you. If we hold data under this address, we have sent a message to it with your request \
                        number and a verification code; enter both below. We answer within one month.";

#[derive(utoipa::OpenApi)]
#[openapi(paths(ask, confirm), components(schemas(AskIn, ConfirmIn)))]
pub struct Doc;

pub fn api() -> Router<Arc<AppState>> {
    Router::new().route("/public/privacy/requests", post(ask)).route("/public/privacy/confirm", post(confirm))
}

pub fn web() -> Router<Arc<AppState>> {
    Router::new().route("/public/privacy", get(page).post(ask_page)).route("/public/privacy/confirm", post(confirm_page))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskIn {
    /// `access`, `rectification`, `erasure`, `restriction`, `portability` or `objection`.
    #[schema(pattern = "^(access|rectification|erasure|restriction|portability|objection)$")]
    right: String,
    /// The e-mail address the person shops with (one address: a local part and a domain with
    /// a dot, as RFC 5322 has them, at most 254 characters); the code goes there.
    #[schema(pattern = "^\\s*[^\\s@<>\"][^\\s@<>]*@[^\\s@<>\\[][^\\s@<>]*\\s*$")]
    email: String,
    /// What the person asks for, in their words: at most 4,000 characters.
    #[serde(default)]
    #[schema(max_length = 4000)]
    details: String,
}

/// A person asks (public, no key). Answers 202 with the same text whether or not the address
/// is a customer's; malformed input answers 422 naming the field.
#[utoipa::path(post, path = "/api/v1/public/privacy/requests", tag = "privacy", request_body = AskIn,
    responses((status = 202, body = Object, description = "`{\"received\": true, \"message\"}`"), (status = 422, body = ErrorOut)))]
async fn ask(State(st): St, Body(b): Body<AskIn>) -> ApiResult<Response> {
    st.service.submit_public_privacy_request(PublicRequestIn { right: b.right, email: b.email, details: b.details }).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"received": true, "message": RECEIVED}))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIn {
    /// The request number the message gave.
    request_id: String,
    /// The code the message gave (a wrong or expired one, or an unknown request, answers 422).
    code: String,
}

/// The person confirms the code mailed to them: their identity is verified and the clock runs.
#[utoipa::path(post, path = "/api/v1/public/privacy/confirm", tag = "privacy", request_body = ConfirmIn,
    responses((status = 200, body = Object, description = "`{\"verified\": true, \"due_on\"}`"), (status = 422, body = ErrorOut)))]
async fn confirm(State(st): St, Body(b): Body<ConfirmIn>) -> ApiResult<Response> {
    match st.service.confirm_privacy_code(b.request_id.trim(), &b.code).await {
        Ok(v) => Ok(Json(json!({"verified": true, "due_on": v.due_on})).into_response()),
        // An unknown request answers as a wrong code does.
        Err(ServiceError::NotFound(_)) => Err(ApiError::invalid("code", "the code is wrong or has expired")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate, Default)]
#[template(path = "privacy/public.html")]
struct PublicPage {
    right: String,
    email: String,
    details: String,
    request_id: String,
    error: String,
    received: bool,
    verified: Option<String>,
}

async fn page() -> impl IntoResponse {
    PublicPage { right: "access".into(), ..Default::default() }
}

#[derive(Deserialize)]
struct AskForm {
    #[serde(default)]
    right: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    details: String,
}

async fn ask_page(State(st): St, Form(f): Form<AskForm>) -> PageResult<Response> {
    let input = PublicRequestIn { right: f.right.clone(), email: f.email.clone(), details: f.details.clone() };
    Ok(match st.service.submit_public_privacy_request(input).await {
        Ok(()) => PublicPage { received: true, ..Default::default() }.into_response(),
        Err(ServiceError::Invalid(m)) => {
            let page = PublicPage { right: f.right, email: f.email, details: f.details, error: m, ..Default::default() };
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(e) => return Err(e.into()),
    })
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    code: String,
}

async fn confirm_page(State(st): St, Form(f): Form<ConfirmForm>) -> PageResult<Response> {
    Ok(match st.service.confirm_privacy_code(f.request_id.trim(), &f.code).await {
        Ok(v) => PublicPage { verified: Some(v.due_on), ..Default::default() }.into_response(),
        Err(ServiceError::Invalid(_) | ServiceError::NotFound(_)) => {
            let page = PublicPage {
                received: true,
                request_id: f.request_id,
                error: "The request number or the code is wrong, or the code has expired.".into(),
                ..Default::default()
            };
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(e) => return Err(e.into()),
    })
}
