//! Block and allow lists over the API: entries one by one or as CSV. Changing needs the right
//! to edit rules; blocking a customer id by a person is a four-eye proposal.

use crate::http::error::ApiError;
use crate::http::extract::{Api, JsonBody, json_of};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use riskdesk_service::lists::NewListEntry;
use riskdesk_service::{RulesAdmin, RulesViewer};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_entries, add_entries, import_csv, remove_entry))]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/lists", get(list_entries).post(add_entries))
        .route("/lists/import", post(import_csv))
        .route("/lists/{id}", delete(remove_entry))
}

/// Active block- and allow-list entries.
#[utoipa::path(get, path = "/api/v1/lists", tag = "lists",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn list_entries(State(st): St, Api(cap, _): Api<RulesViewer>) -> Result<Response, ApiError> {
    Ok(Json(json!({"entries": st.service.list_entries(&cap).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<NewListEntry>),
    One(NewListEntry),
}

/// Add one entry or an array of entries, all or none (scope `rules`).
#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", request_body = Object,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn add_entries(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let entries = match json_of::<OneOrMany>(&body.0)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(e) => vec![e],
    };
    let added = st.service.add_list_entries(&cap, &entries).await?;
    Ok((StatusCode::CREATED, Json(json!({"entries": added}))).into_response())
}

/// `POST /lists/import` with a `text/csv` body: `list,kind,value,reason,expires_at`.
/// Import CSV `list,kind,value,reason[,expires_at]`; every bad line is reported (scope `rules`).
#[utoipa::path(post, path = "/api/v1/lists/import", tag = "lists",
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn import_csv(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if body.len() > st.body_limit {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is too large"));
    }
    let added = st.service.import_list_csv(&cap, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"imported": added.len()}))).into_response())
}

/// Remove an entry (scope `rules`).
#[utoipa::path(delete, path = "/api/v1/lists/{id}", tag = "lists", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn remove_entry(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    st.service.remove_list_entry(&cap, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
