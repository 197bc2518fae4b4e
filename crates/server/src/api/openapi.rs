//! The OpenAPI document, generated from the handlers and wire types.

use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The answer to an order (intake-v1).
#[derive(Serialize, ToSchema)]
pub struct DecisionOut {
    pub order_id: String,
    /// `approve`, `review` or `decline`.
    pub decision: String,
    /// 0-100.
    pub score: u8,
    pub reasons: Vec<ReasonOut>,
    pub ruleset_version: i64,
    pub decided_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReasonOut {
    pub rule: String,
    pub action: String,
    pub points: i32,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventAckOut {
    pub event_id: String,
    /// `accepted`, or `duplicate` for a repeated event id.
    pub status: String,
}

/// Every error: a stable `code`, a human `detail`, and the offending `field` when there is one.
#[derive(Serialize, ToSchema)]
pub struct ErrorOut {
    pub code: String,
    pub detail: String,
    pub field: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = api.components.as_mut() {
            c.add_security_scheme(
                "api_key",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "riskdesk API", description = "Order and event intake (intake-v1) and reads."),
    paths(super::post_order, super::post_event, super::get_order, super::get_customer),
    components(schemas(DecisionOut, ReasonOut, EventAckOut, ErrorOut)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
