//! Search by order id, customer id, e-mail, phone, IBAN, IP, device, card fingerprint or
//! wallet (on the keyed hashes), from the box in every page's header; audited.

use crate::http::error::{ApiResult, PageResult};
use crate::http::extract::{ApiQuery, Api, Page};
use crate::http::openapi::ErrorOut;
use crate::http::page::Nav;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use riskdesk_service::OrderViewer;
use riskdesk_service::review::search::SearchResult;
use serde::Deserialize;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(search))]
pub struct Doc;

pub fn api() -> Router<Arc<AppState>> {
    Router::new().route("/search", get(search))
}

pub fn web() -> Router<Arc<AppState>> {
    Router::new().route("/search", get(page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// An order id, customer id, e-mail, phone, IBAN, IP, device id, card fingerprint or wallet:
    /// at most 200 characters, some of them besides white space.
    #[param(pattern = "[\\S\\x1c-\\x1f]", max_length = 200)]
    q: String,
}

/// Orders and accounts matching the text (entities through their keyed hashes); audited.
#[utoipa::path(get, path = "/api/v1/search", tag = "review", params(SearchQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn search(State(st): St, Api(cap, _): Api<OrderViewer>, ApiQuery(q): ApiQuery<SearchQuery>) -> ApiResult<Response> {
    Ok(Json(st.service.search(&cap, &q.q).await?).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "review/search.html")]
struct SearchPage {
    nav: Nav,
    q: String,
    r: SearchResult,
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    q: String,
}

async fn page(State(st): St, Page { cap, who }: Page<OrderViewer>, Query(q): Query<PageQuery>) -> PageResult<Response> {
    let r = st.service.search(&cap, &q.q).await?;
    // One hit is opened straight away.
    match (r.orders.as_slice(), r.accounts.as_slice()) {
        ([o], []) => return Ok(Redirect::to(&format!("/orders/{}", crate::http::session::urlencode(o))).into_response()),
        ([], [a]) => return Ok(Redirect::to(&format!("/customers/{}", crate::http::session::urlencode(&a.customer_id))).into_response()),
        _ => {}
    }
    Ok(SearchPage { nav: Nav::of(&who, "review"), q: q.q, r }.into_response())
}
