//! Knowledge over the API: read (any person's token), write (editors), acknowledge.

use crate::http::error::ApiResult;
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_service::knowledge::PageInput;
use riskdesk_service::{KnowledgeEditor, Someone};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, one, save, ack), components(schemas(PageIn, AckIn)))]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/knowledge", get(list))
        .route("/knowledge/{slug}", get(one).put(save))
        .route("/knowledge/{slug}/ack", post(ack))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `sop` | `playbook` | `faq`.
    kind: Option<String>,
    /// Words of the title or text.
    q: Option<String>,
}

/// Pages in force, by title.
#[utoipa::path(get, path = "/api/v1/knowledge", tag = "knowledge", params(ListQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn list(State(st): St, Api(who, _): Api<Someone>, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<Response> {
    let pages = st.service.pages(&who, q.kind.as_deref().filter(|k| !k.is_empty()), q.q.as_deref()).await?;
    let items: Vec<_> = pages
        .into_iter()
        .map(|p| json!({"slug": p.slug, "kind": p.kind, "title": p.title, "case_kind": p.case_kind, "version": p.version, "updated_at": p.created_at}))
        .collect();
    Ok(Json(json!({"pages": items})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// An earlier version (default: the one in force).
    v: Option<i64>,
}

/// A page with its Markdown, its sanitised HTML, its versions and who acknowledged it.
#[utoipa::path(get, path = "/api/v1/knowledge/{slug}", tag = "knowledge", params(("slug" = String, Path), VersionQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn one(State(st): St, Api(who, _): Api<Someone>, Path(slug): Path<String>, ApiQuery(q): ApiQuery<VersionQuery>) -> ApiResult<Response> {
    Ok(Json(st.service.page(&who, &slug, q.v).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageIn {
    /// `sop` | `playbook` | `faq`.
    kind: String,
    title: String,
    /// Markdown; a playbook's `- [ ] task (mandatory)` lines are its checklist.
    body: String,
    /// The kind of case a playbook is for.
    #[serde(default)]
    case_kind: Option<String>,
    /// What changed.
    #[serde(default)]
    note: String,
    /// The version you edited (0 for a new page); a newer one saved meanwhile answers 409.
    base_version: i64,
}

/// Save a new version of a page (or create it).
#[utoipa::path(put, path = "/api/v1/knowledge/{slug}", tag = "knowledge", params(("slug" = String, Path)), request_body = PageIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn save(State(st): St, Api(cap, _): Api<KnowledgeEditor>, Path(slug): Path<String>, Body(b): Body<PageIn>) -> ApiResult<Response> {
    let input = PageInput { kind: b.kind, title: b.title, body: b.body, case_kind: b.case_kind, note: b.note, base_version: b.base_version };
    let p = st.service.save_page(&cap, &slug, input).await?;
    Ok((StatusCode::CREATED, Json(json!({"slug": p.slug, "version": p.version}))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckIn {
    /// The version in force that you read.
    version: i64,
}

/// Acknowledge that you read the version in force.
#[utoipa::path(post, path = "/api/v1/knowledge/{slug}/ack", tag = "knowledge", params(("slug" = String, Path)), request_body = AckIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn ack(State(st): St, Api(who, _): Api<Someone>, Path(slug): Path<String>, Body(b): Body<AckIn>) -> ApiResult<Response> {
    st.service.acknowledge_page(&who, &slug, b.version).await?;
    Ok(Json(json!({"slug": slug, "version": b.version, "acknowledged": true})).into_response())
}
