//! Decisions on a case (block an account, goodwill, disclosure, overturning a decline): proposed
//! under four eyes through the case decision kind.

use crate::http::error::ApiResult;
use crate::http::extract::{Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use crate::http::wire;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use riskdesk_service::CaseWorker;
use riskdesk_service::cases::decision::{CaseDecisionPayload, Proposed};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(decide), components(schemas(DecisionIn)))]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/cases/{id}/decisions", post(decide))
}

/// A decision on a case, by `decision`, with why (`reason`: some text besides white space, at
/// most 2,000 characters) and what that decision needs.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum DecisionIn {
    /// Block the customer's account (a block-list entry).
    BlockAccount {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
        #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
        customer_id: String,
    },
    /// A goodwill refund of `amount_minor` minor units of `currency` (absent or null: EUR).
    GoodwillRefund {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
        #[serde(deserialize_with = "wire::int")]
        #[schema(minimum = 1)]
        amount_minor: i64,
        #[serde(default)]
        #[schema(schema_with = crate::http::openapi::currency_or_null)]
        currency: Option<String>,
    },
    /// Disclose personal data to a recipient on a legal basis.
    DiscloseData {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 300)]
        recipient: String,
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 300)]
        legal_basis: String,
    },
    /// Overturn the decline of an order.
    OverturnDecline {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
        #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
        order_id: String,
    },
}

impl DecisionIn {
    fn payload(self, case_id: String) -> CaseDecisionPayload {
        let d = CaseDecisionPayload { case_id, ..Default::default() };
        match self {
            Self::BlockAccount { reason, customer_id } => {
                CaseDecisionPayload { decision: "block_account".into(), reason, customer_id: Some(customer_id), ..d }
            }
            Self::GoodwillRefund { reason, amount_minor, currency } => CaseDecisionPayload {
                decision: "goodwill_refund".into(),
                reason,
                amount_minor: Some(amount_minor),
                currency,
                ..d
            },
            Self::DiscloseData { reason, recipient, legal_basis } => CaseDecisionPayload {
                decision: "disclose_data".into(),
                reason,
                recipient: Some(recipient),
                legal_basis: Some(legal_basis),
                ..d
            },
            Self::OverturnDecline { reason, order_id } => {
                CaseDecisionPayload { decision: "overturn_decline".into(), reason, order_id: Some(order_id), ..d }
            }
        }
    }
}

/// Propose a decision on a case. Four eyes apply (202 with `proposal_id`; approve it at
/// `/proposals/{id}/approve`), except a goodwill refund below the configured amount (200, recorded).
#[utoipa::path(post, path = "/api/v1/cases/{id}/decisions", tag = "cases", params(("id" = String, Path)), request_body = DecisionIn,
    responses((status = 202, body = Object), (status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn decide(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>, Body(b): Body<DecisionIn>) -> ApiResult<Response> {
    let d = b.payload(id.clone());
    Ok(match st.service.propose_case_decision(&cap, d).await? {
        Proposed::Pending { proposal_id } => {
            (StatusCode::ACCEPTED, Json(json!({"case_id": id, "status": "pending_approval", "proposal_id": proposal_id}))).into_response()
        }
        Proposed::Recorded => Json(json!({"case_id": id, "status": "recorded"})).into_response(),
    })
}

