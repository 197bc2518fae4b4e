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
    /// `sop` | `playbook` | `faq`; empty means any.
    #[param(pattern = "^(|sop|playbook|faq)$")]
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

/// A page's new version, by `kind`: its title (some text besides white space, at most 200
/// characters), its Markdown body (likewise, at most 100,000), what changed (`note`, at most
/// 500) and the version edited (`base_version`: 0 for a new page; a newer one saved meanwhile
/// answers 409).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PageIn {
    /// A standard operating procedure.
    Sop {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 200)]
        title: String,
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 100000)]
        body: String,
        /// The kind of case it is for; empty or null: none.
        #[serde(default)]
        #[schema(pattern = "^(|fraud_investigation|account_takeover|tier2_escalation|privacy_request|privacy_complaint|refund_claim|dispute|public_mention|suspicion_report)$")]
        case_kind: Option<String>,
        #[serde(default)]
        #[schema(max_length = 500)]
        note: String,
        #[serde(deserialize_with = "crate::http::wire::int")]
        base_version: i64,
    },
    /// A playbook: its body's `- [ ] task` lines (`(mandatory)` marks one) are the checklist of
    /// the cases of its kind.
    Playbook {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 200)]
        title: String,
        #[schema(pattern = "(^|\\n)[^\\S\\n]*[-*] \\[ \\][^\\n]*[^\\s]", max_length = 100000)]
        body: String,
        /// The kind of case it is for.
        #[schema(pattern = "^(fraud_investigation|account_takeover|tier2_escalation|privacy_request|privacy_complaint|refund_claim|dispute|public_mention|suspicion_report)$")]
        case_kind: String,
        #[serde(default)]
        #[schema(max_length = 500)]
        note: String,
        #[serde(deserialize_with = "crate::http::wire::int")]
        base_version: i64,
    },
    /// Answers to frequent questions.
    Faq {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 200)]
        title: String,
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 100000)]
        body: String,
        /// The kind of case it is for; empty or null: none.
        #[serde(default)]
        #[schema(pattern = "^(|fraud_investigation|account_takeover|tier2_escalation|privacy_request|privacy_complaint|refund_claim|dispute|public_mention|suspicion_report)$")]
        case_kind: Option<String>,
        #[serde(default)]
        #[schema(max_length = 500)]
        note: String,
        #[serde(deserialize_with = "crate::http::wire::int")]
        base_version: i64,
    },
}

impl From<PageIn> for PageInput {
    fn from(p: PageIn) -> Self {
        let (kind, title, body, case_kind, note, base_version) = match p {
            PageIn::Sop { title, body, case_kind, note, base_version } => ("sop", title, body, case_kind, note, base_version),
            PageIn::Playbook { title, body, case_kind, note, base_version } => {
                ("playbook", title, body, Some(case_kind), note, base_version)
            }
            PageIn::Faq { title, body, case_kind, note, base_version } => ("faq", title, body, case_kind, note, base_version),
        };
        PageInput { kind: kind.into(), title, body, case_kind, note, base_version }
    }
}

/// A page's address.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct SlugParam {
    /// 3 to 80 lowercase letters, digits and dashes, starting with a letter.
    #[param(pattern = "^[a-z][a-z0-9-]{2,79}$")]
    slug: String,
}

/// Save a new version of a page (or create it).
#[utoipa::path(put, path = "/api/v1/knowledge/{slug}", tag = "knowledge", params(SlugParam), request_body = PageIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn save(State(st): St, Api(cap, _): Api<KnowledgeEditor>, Path(slug): Path<String>, Body(b): Body<PageIn>) -> ApiResult<Response> {
    let p = st.service.save_page(&cap, &slug, b.into()).await?;
    Ok((StatusCode::CREATED, Json(json!({"slug": p.slug, "version": p.version}))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckIn {
    /// The version in force that you read (another answers 409).
    #[serde(deserialize_with = "crate::http::wire::int")]
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
