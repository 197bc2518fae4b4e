//! Block and allow lists over the API: entries one by one or as CSV. Changing needs the right
//! to edit rules; blocking a customer id by a person is a four-eye proposal.

use crate::http::error::ApiError;
use crate::http::extract::{Api, JsonBody, json_value_of};
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
#[openapi(paths(list_entries, add_entries, import_csv, remove_entry), components(schemas(ListEntryIn, ListEntriesIn)))]
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

/// A list entry as a caller writes it. Its `value` must be one of its `kind`: an e-mail address,
/// a domain name, a phone number, a BIN of 6 to 8 digits, an IBAN, an IP address or CIDR
/// range, an address `line1 | postal code | city | country`, or any other text (422 naming
/// `value` otherwise).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEntryIn {
    /// `block` or `allow`.
    #[schema(pattern = "^(block|allow)$")]
    list: String,
    #[schema(pattern = "^(email|email_domain|phone|device|card|bin|iban|ip|address|customer)$")]
    kind: String,
    #[schema(pattern = "[\\S\\x1c-\\x1f]")]
    value: String,
    /// Why: 1 to 500 characters (trimmed), no control characters or markup tags.
    #[schema(pattern = "^[^\\S\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]*([^\\s<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*|<+([^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*)?)$", max_length = 500)]
    reason: String,
    /// In the future (RFC 3339); absent or null: never.
    #[serde(default)]
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<ListEntryIn> for NewListEntry {
    fn from(e: ListEntryIn) -> Self {
        NewListEntry { list: e.list, kind: e.kind, value: e.value, reason: e.reason, expires_at: e.expires_at }
    }
}

/// One entry, or one or more in an array.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ListEntriesIn {
    Many(#[schema(inline)] ListEntryArray),
    One(ListEntryIn),
}

/// One or more entries, all stored or none.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(min_items = 1)]
pub struct ListEntryArray(Vec<ListEntryIn>);

/// Add one entry or an array of entries, all or none (scope `rules`).
#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", request_body = ListEntriesIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn add_entries(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let entries: Vec<NewListEntry> = match json_value_of::<ListEntriesIn>(&body.0)? {
        ListEntriesIn::Many(v) => v.0.into_iter().map(Into::into).collect(),
        ListEntriesIn::One(e) => vec![e.into()],
    };
    let added = st.service.add_list_entries(&cap, &entries).await?;
    Ok((StatusCode::CREATED, Json(json!({"entries": added}))).into_response())
}

/// Import CSV with a header naming the columns `list`, `kind`, `value`, `reason` and optionally
/// `expires_at`, each line an entry as `POST /lists` takes it; all or none, every bad line is
/// reported with its number (scope `rules`).
#[utoipa::path(post, path = "/api/v1/lists/import", tag = "lists", request_body(content = String, content_type = "text/csv"),
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
