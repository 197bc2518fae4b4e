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
    info(title = "riskdesk API", description = "Order and event intake (intake-v1), reads, rule sets and lists."),
    paths(
        super::post_order,
        super::post_event,
        super::get_order,
        super::get_customer,
        super::rules::schema,
        super::rules::validate,
        super::rules::list_rulesets,
        super::rules::save_ruleset,
        super::rules::get_ruleset,
        super::rules::backtest_source,
        super::rules::backtest_version,
        super::rules::publish,
        super::rules::rollback,
        super::rules::start_shadow,
        super::rules::stop_shadow,
        super::rules::shadow_results,
        super::rules::list_entries,
        super::rules::add_entries,
        super::rules::import_csv,
        super::rules::remove_entry
    ),
    components(schemas(DecisionOut, ReasonOut, NotEvaluatedOut, EventAckOut, ErrorOut)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
