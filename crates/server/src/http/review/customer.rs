//! A customer's page and its API twin (`GET /api/v1/customers/{id}/overview`, masked; machine
//! keys read the stored customer at `/api/v1/customers/{id}`): the account, its orders and
//! decisions, its fraud label, the cases it appears in, and the report button.

use crate::http::error::{ApiError, ApiResult, PageError, PageResult};
use crate::http::extract::{Api, Page};
use crate::http::openapi::ErrorOut;
use crate::http::page::{Nav, money};
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use riskdesk_domain::CustomerId;
use riskdesk_service::review::customer::CustomerView;
use riskdesk_service::{CaseOpener, CaseViewer, OrderViewer};
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(overview))]
pub struct Doc;

pub fn api() -> Router<Arc<AppState>> {
    Router::new().route("/customers/{id}/overview", get(overview))
}

pub fn web() -> Router<Arc<AppState>> {
    Router::new().route("/customers/{id}", get(page))
}

/// A customer as the review desk sees it: masked personal data, orders and decisions, events and
/// labels, matching list entries, linked accounts and hubs, the fraud label, and the cases it
/// appears in (for those who may read cases).
#[utoipa::path(get, path = "/api/v1/customers/{id}/overview", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn overview(State(st): St, Api(cap, caller): Api<OrderViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = CustomerId::parse(&id, "id").map_err(|_| ApiError::not_found())?;
    let cases = caller.grant::<CaseViewer>();
    let v = st.service.customer_view(&cap, &id, cases.as_ref()).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(v).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "review/customer.html")]
struct CustomerPage {
    nav: Nav,
    v: CustomerView,
    amounts: Vec<String>,
    can_report: bool,
    can_cases: bool,
}

async fn page(State(st): St, Page { cap, who }: Page<OrderViewer>, Path(id): Path<String>) -> PageResult<impl IntoResponse> {
    let id = CustomerId::parse(&id, "id").map_err(|_| PageError::not_found())?;
    let cases = who.grant::<CaseViewer>();
    let v = st.service.customer_view(&cap, &id, cases.as_ref()).await?.ok_or_else(PageError::not_found)?;
    Ok(CustomerPage {
        nav: Nav::of(&who, "review"),
        amounts: v.orders.iter().map(|o| money(o.total_minor, &o.currency)).collect(),
        can_report: who.grant::<CaseOpener>().is_some(),
        can_cases: cases.is_some(),
        v,
    })
}
