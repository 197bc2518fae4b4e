//! The payment providers' webhooks. No API key: the provider's signature over the exact body is
//! the authentication, checked before the body is read further; a bad one answers 401 and
//! stores nothing. A repeated event answers as the first did.

use crate::http::error::ApiResult;
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(stripe, adyen))]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/webhooks/stripe", post(stripe)).route("/webhooks/adyen", post(adyen))
}

/// A Stripe event (`charge.dispute.created`, `.updated`, `.closed`, `.funds_withdrawn`,
/// `.funds_reinstated`), signed in `Stripe-Signature` (`t=…,v1=…`, HMAC-SHA256 of `{t}.{body}`
/// under `disputes.stripe.webhook_secret`, five minutes' tolerance). Deduplicated on the
/// event id; other event types are acknowledged and ignored.
#[utoipa::path(post, path = "/api/v1/webhooks/stripe", tag = "disputes", request_body(content = Object, description = "A Stripe event object"),
    params(("Stripe-Signature" = String, Header, description = "t=…,v1=…")),
    responses((status = 200, body = Object, description = "`{\"received\": true, \"outcome\": \"stored\" | \"duplicate\" | \"ignored\", \"dispute_id\"}`"),
              (status = 400, body = ErrorOut), (status = 401, body = ErrorOut), (status = 413, body = ErrorOut), (status = 422, body = ErrorOut)))]
async fn stripe(State(st): St, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let sig = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let r = st.service.stripe_webhook(sig, &body).await?;
    let mut v = serde_json::to_value(&r).unwrap_or_default();
    v["received"] = serde_json::Value::Bool(true);
    Ok(Json(v).into_response())
}

/// Adyen standard notifications (`notificationItems[].NotificationRequestItem`), each item
/// signed in `additionalData.hmacSignature` under the hex key `disputes.adyen.hmac_key`; one
/// bad item refuses the batch. Answers `[accepted]`, as Adyen expects. Deduplicated on
/// (eventCode, pspReference, eventDate).
#[utoipa::path(post, path = "/api/v1/webhooks/adyen", tag = "disputes", request_body(content = Object, description = "An Adyen notification"),
    responses((status = 200, body = String, description = "`[accepted]`"), (status = 400, body = ErrorOut), (status = 401, body = ErrorOut),
              (status = 413, body = ErrorOut), (status = 422, body = ErrorOut)))]
async fn adyen(State(st): St, body: Bytes) -> ApiResult<Response> {
    st.service.adyen_webhook(&body).await?;
    Ok("[accepted]".into_response())
}
