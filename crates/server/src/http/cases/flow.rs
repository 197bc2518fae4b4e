//! Reports, hand-offs and the order-flow monitor over the API: anyone reports suspicion and
//! follows the outcome; other teams read what was handed to them; exceptions open their cases.

use super::api::{CaseOut, opened};
use crate::http::error::ApiResult;
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_service::cases::Opened;
use riskdesk_service::cases::reports::Report;
use riskdesk_service::{CaseOpener, CaseViewer, CaseWorker};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(report, my_reports, handoffs, exceptions, exception_case), components(schemas(ReportIn, ExceptionCaseIn)))]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/reports", post(report))
        .route("/reports/mine", get(my_reports))
        .route("/handoffs", get(handoffs))
        .route("/exceptions", get(exceptions))
        .route("/exceptions/cases", post(exception_case))
}

/// What is suspicious, by `subject_kind`: an order or customer id (`A-Z a-z 0-9 - _ . : # / @ +
/// =`, at most 128), or an entity as `kind:hexhash`; and why (`reason`: some text besides white
/// space, at most 2,000 characters).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "subject_kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReportIn {
    Order {
        #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
        subject_id: String,
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
    },
    Customer {
        #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
        subject_id: String,
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
    },
    Entity {
        #[schema(pattern = "^[a-z_]+:[0-9A-Fa-f]{8,64}$")]
        subject_id: String,
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
    },
}

impl From<ReportIn> for Report {
    fn from(r: ReportIn) -> Self {
        let (kind, subject_id, reason) = match r {
            ReportIn::Order { subject_id, reason } => ("order", subject_id, reason),
            ReportIn::Customer { subject_id, reason } => ("customer", subject_id, reason),
            ReportIn::Entity { subject_id, reason } => ("entity", subject_id, reason),
        };
        Report { subject_kind: kind.into(), subject_id, reason }
    }
}

/// Report suspicious activity. Reports about the same subject join one open case.
#[utoipa::path(post, path = "/api/v1/reports", tag = "cases", request_body = ReportIn,
    responses((status = 201, body = Object), (status = 200, description = "joined the subject's open case", body = Object),
              (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn report(State(st): St, Api(cap, _): Api<CaseOpener>, Body(b): Body<ReportIn>) -> ApiResult<Response> {
    let o = st.service.report_suspicion(&cap, b.into()).await?;
    let (code, joined) = match &o {
        Opened::Created(_) => (StatusCode::CREATED, false),
        Opened::Existing(_) => (StatusCode::OK, true),
    };
    let c = o.case();
    Ok((code, Json(json!({"case_id": c.id, "status": c.status.as_str(), "joined": joined}))).into_response())
}

/// The outcome of the cases you reported or escalated.
#[utoipa::path(get, path = "/api/v1/reports/mine", tag = "cases",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn my_reports(State(st): St, Api(cap, _): Api<CaseOpener>) -> ApiResult<Response> {
    Ok(Json(json!({"reports": st.service.my_reports(&cap).await?})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HandoffQuery {
    /// The team the tasks were handed to.
    #[param(pattern = "^(fraud|risk|payments|privacy|logistics|warehouse|finance|payment_provider)$")]
    team: String,
    /// `true` to include answered and cancelled ones.
    all: Option<bool>,
}

/// Tasks handed to a team.
#[utoipa::path(get, path = "/api/v1/handoffs", tag = "cases", params(HandoffQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn handoffs(State(st): St, Api(cap, _): Api<CaseViewer>, ApiQuery(q): ApiQuery<HandoffQuery>) -> ApiResult<Response> {
    let tasks = st.service.handoffs(&cap, &q.team, !q.all.unwrap_or(false)).await?;
    Ok(Json(json!({"handoffs": tasks})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionQuery {
    /// Days a paid order may wait for its shipment (default 3).
    #[param(minimum = 1, maximum = 60)]
    paid_days: Option<i64>,
}

/// The order-flow monitor: orders in review past their cut-off, paid but not shipped, shipped
/// after an address change.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "cases", params(ExceptionQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn exceptions(State(st): St, Api(cap, _): Api<CaseViewer>, ApiQuery(q): ApiQuery<ExceptionQuery>) -> ApiResult<Response> {
    let list = st.service.order_exceptions(&cap, q.paid_days.unwrap_or(3)).await?;
    Ok(Json(json!({"exceptions": list})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionCaseIn {
    /// `held_past_cutoff` | `paid_not_shipped` | `shipped_after_address_change`.
    #[schema(pattern = "^(held_past_cutoff|paid_not_shipped|shipped_after_address_change)$")]
    kind: String,
    #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
    order_id: String,
    /// The customer to link; empty: none.
    #[serde(default)]
    #[schema(pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$")]
    customer_id: String,
    /// Also hand the first task to this team (`warehouse`, `logistics`, …), due in 24 hours;
    /// null: none.
    #[serde(default)]
    #[schema(pattern = "^(fraud|risk|payments|privacy|logistics|warehouse|finance|payment_provider)$")]
    team: Option<String>,
}

/// Open the case of an exception (one per order and exception: again answers 200 with it).
#[utoipa::path(post, path = "/api/v1/exceptions/cases", tag = "cases", request_body = ExceptionCaseIn,
    responses((status = 201, body = CaseOut), (status = 200, body = CaseOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn exception_case(State(st): St, Api(cap, _): Api<CaseWorker>, Body(b): Body<ExceptionCaseIn>) -> ApiResult<Response> {
    crate::http::wire::no_blank("team", &b.team)?;
    let o = st.service.open_exception_case(&cap, &b.kind, &b.order_id, &b.customer_id, b.team.as_deref()).await?;
    Ok(opened(&st.service, o))
}
