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
    /// Rules that could not be evaluated for this order, with the reason (absent when none).
    pub not_evaluated: Option<Vec<NotEvaluatedOut>>,
}

#[derive(Serialize, ToSchema)]
pub struct NotEvaluatedOut {
    pub rule: String,
    pub reason: String,
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
    /// Every problem when there are several: `{field, message}` for forms and bodies, richer
    /// objects (rule, line, column) for rule files and list imports.
    pub errors: Option<Vec<serde_json::Value>>,
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

/// The shared parts of the document; every area merges its own paths into it (`api_doc`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "riskdesk API",
        description = "Order and event intake (intake-v1), reads, the review queue, four-eye approvals, rule sets, \
                       lists, the audit log and users. Machine clients use API keys with scopes; people use personal \
                       access tokens, which act as them with their role."
    ),
    components(schemas(DecisionOut, ReasonOut, NotEvaluatedOut, EventAckOut, ErrorOut, super::error::Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// What the merged document gets last.
pub fn finish(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    doc
}

pub async fn document() -> impl IntoResponse {
    Json(super::api_doc())
}
