//! Rule sets and lists over HTTP: validate, save, backtest, shadow, publish, roll back; list
//! entries one by one or as CSV. Changing anything needs the `rules` scope; reading needs `read`.

use super::extract::{ApiKey, JsonBody};
use super::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use riskdesk_domain::Verdict;
use riskdesk_rules::schema::{FUNCTIONS, VARS};
use riskdesk_service::lists::NewListEntry;
use riskdesk_service::rules::Candidate;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/rules/schema", get(schema))
        .route("/rulesets", get(list_rulesets).post(save_ruleset))
        .route("/rulesets/validate", post(validate))
        .route("/rulesets/backtest", post(backtest_source))
        .route("/rulesets/rollback", post(rollback))
        .route("/rulesets/shadow", delete(stop_shadow))
        .route("/rulesets/{version}", get(get_ruleset))
        .route("/rulesets/{version}/backtest", post(backtest_version))
        .route("/rulesets/{version}/publish", post(publish))
        .route("/rulesets/{version}/shadow", post(start_shadow).get(shadow_results))
        .route("/lists", get(list_entries).post(add_entries))
        .route("/lists/import", post(import_csv))
        .route("/lists/{id}", delete(remove_entry))
}

fn json_of<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.inner().to_string());
        if field != "." {
            err.field = Some(field);
        }
        err
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceIn {
    /// The rule file (TOML).
    source: String,
    #[serde(default)]
    note: String,
}

fn version_of(s: &str) -> Result<i64, ApiError> {
    s.parse().ok().filter(|v| *v > 0).ok_or_else(ApiError::not_found)
}

/// The variables and functions rules can use.
#[utoipa::path(get, path = "/api/v1/rules/schema", tag = "rules",
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn schema() -> Response {
    Json(json!({"variables": VARS, "functions": FUNCTIONS})).into_response()
}

/// Validate a rule file (TOML in `source`); 422 lists every error with rule, line and column.
#[utoipa::path(post, path = "/api/v1/rulesets/validate", tag = "rules", request_body = Object,
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn validate(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    key.0.read().ok_or_else(ApiError::forbidden)?;
    let s: SourceIn = json_of(&body.0)?;
    let v = st.service.validate_rules(&s.source)?;
    Ok(Json(json!({"valid": true, "summary": v})).into_response())
}

/// Versions, the live and shadow pointers, and the history of changes.
#[utoipa::path(get, path = "/api/v1/rulesets", tag = "rules",
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn list_rulesets(State(st): State<Arc<AppState>>, key: ApiKey) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    let (versions, control, changes) = st.service.rulesets(&cap).await?;
    let versions: Vec<_> = versions
        .iter()
        .map(|r| json!({"version": r.version, "author": r.author, "note": r.note, "created_at": r.created_at}))
        .collect();
    Ok(Json(json!({
        "live_version": control.live_version,
        "shadow_version": control.shadow_version,
        "versions": versions,
        "changes": changes,
    }))
    .into_response())
}

/// Save a validated rule file as a new version (scope `rules`).
#[utoipa::path(post, path = "/api/v1/rulesets", tag = "rules", request_body = Object,
    responses((status = 201, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn save_ruleset(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
    let s: SourceIn = json_of(&body.0)?;
    let (version, summary) = st.service.save_ruleset(&cap, &s.source, &s.note).await?;
    Ok((StatusCode::CREATED, Json(json!({"version": version, "summary": summary}))).into_response())
}

/// One version with its rule file.
#[utoipa::path(get, path = "/api/v1/rulesets/{version}", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn get_ruleset(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    let rec = st.service.ruleset(&cap, version_of(&v)?).await?;
    Ok(Json(rec).into_response())
}

/// Backtest an unsaved rule file on all stored history beside the live set.
#[utoipa::path(post, path = "/api/v1/rulesets/backtest", tag = "rules", request_body = Object,
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn backtest_source(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    let s: SourceIn = json_of(&body.0)?;
    Ok(Json(st.service.backtest(&cap, Candidate::Source(s.source)).await?).into_response())
}

/// Backtest a saved version beside the live set.
#[utoipa::path(post, path = "/api/v1/rulesets/{version}/backtest", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn backtest_version(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
    Ok(Json(st.service.backtest(&cap, Candidate::Version(version_of(&v)?)).await?).into_response())
}

/// Make a version live on every instance within a second (scope `rules`).
#[utoipa::path(post, path = "/api/v1/rulesets/{version}/publish", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn publish(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
    let v = version_of(&v)?;
    // Publishing needs four eyes, proposed and approved by two signed-in people: an API key
    // names no person, so the service answers 403 and says where to go.
    let id = st.service.propose_publish(&cap, v).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"proposal_id": id, "status": "pending", "version": v}))).into_response())
}

/// Make the previously live version live again (scope `rules`).
#[utoipa::path(post, path = "/api/v1/rulesets/rollback", tag = "rules",
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn rollback(State(st): State<Arc<AppState>>, key: ApiKey) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
    let v = st.service.rollback_ruleset(&cap).await?;
    Ok(Json(json!({"live_version": v})).into_response())
}

/// Run a version beside the live set without affecting decisions (scope `rules`).
#[utoipa::path(post, path = "/api/v1/rulesets/{version}/shadow", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn start_shadow(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
    let v = version_of(&v)?;
    st.service.shadow_ruleset(&cap, Some(v)).await?;
    Ok(Json(json!({"shadow_version": v})).into_response())
}

/// Stop shadowing (scope `rules`).
#[utoipa::path(delete, path = "/api/v1/rulesets/shadow", tag = "rules",
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn stop_shadow(State(st): State<Arc<AppState>>, key: ApiKey) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
    st.service.shadow_ruleset(&cap, None).await?;
    Ok(Json(json!({"shadow_version": null})).into_response())
}

#[derive(Deserialize)]
pub(super) struct Limit {
    limit: Option<i64>,
}

/// What the shadow set decided on live traffic, beside the live decision.
/// Shadow decisions beside the live ones, with agreement counts.
#[utoipa::path(get, path = "/api/v1/rulesets/{version}/shadow", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn shadow_results(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(v): Path<String>,
    Query(q): Query<Limit>,
) -> Result<Response, ApiError> {
    key.0.read().ok_or_else(ApiError::forbidden)?;
    let v = version_of(&v)?;
    let rows = st
        .service
        .store()
        .shadow_decisions(v, q.limit.unwrap_or(1000).clamp(1, 100_000))
        .await
        .map_err(riskdesk_service::ServiceError::from)?;
    let (mut agree, mut differ, mut shadow_flagged, mut live_flagged) = (0, 0, 0, 0);
    let items: Vec<_> = rows
        .iter()
        .map(|(s, l)| {
            let lv = l.as_ref().map(|d| d.decision);
            if lv == Some(s.decision) { agree += 1 } else { differ += 1 }
            shadow_flagged += i32::from(s.decision != Verdict::Approve);
            live_flagged += i32::from(lv.is_some_and(|v| v != Verdict::Approve));
            json!({"order_id": s.order_id, "shadow": {"decision": s.decision, "score": s.score, "reasons": s.reasons},
                   "live": l.as_ref().map(|d| json!({"decision": d.decision, "score": d.score, "ruleset_version": d.ruleset_version}))})
        })
        .collect();
    Ok(Json(json!({"version": v, "orders": rows.len(), "same_decision": agree, "different_decision": differ,
                   "shadow_flagged": shadow_flagged, "live_flagged": live_flagged, "decisions": items}))
    .into_response())
}

/// Active block- and allow-list entries.
#[utoipa::path(get, path = "/api/v1/lists", tag = "lists",
    responses((status = 200, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn list_entries(State(st): State<Arc<AppState>>, key: ApiKey) -> Result<Response, ApiError> {
    let cap = key.0.read().ok_or_else(ApiError::forbidden)?;
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
    responses((status = 201, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn add_entries(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
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
    responses((status = 201, body = Object), (status = 422, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn import_csv(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
    if body.len() > st.body_limit {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is too large"));
    }
    let added = st.service.import_list_csv(&cap, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"imported": added.len()}))).into_response())
}

/// Remove an entry (scope `rules`).
#[utoipa::path(delete, path = "/api/v1/lists/{id}", tag = "lists", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::openapi::ErrorOut)),
    security(("api_key" = [])))]
pub(super) async fn remove_entry(
    State(st): State<Arc<AppState>>,
    key: ApiKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let cap = key.0.rules().ok_or_else(ApiError::forbidden)?;
    st.service.remove_list_entry(&cap, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
