//! Rule sets over the API: validate, save, backtest, shadow, propose publishing, roll back.
//! Changing needs the right to edit rules (key scope `rules`, or a person's role); reading
//! needs the right to view them (scope `read` or `rules`).

use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, Api, JsonBody, json_of};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use riskdesk_domain::Verdict;
use riskdesk_rules::schema::{FUNCTIONS, catalogue};
use riskdesk_service::rules::Candidate;
use riskdesk_service::{RulesAdmin, RulesViewer};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    schema,
    validate,
    list_rulesets,
    save_ruleset,
    get_ruleset,
    backtest_source,
    backtest_version,
    publish,
    rollback,
    start_shadow,
    stop_shadow,
    shadow_results
), components(schemas(RollbackIn, SourceIn)))]
pub struct Doc;

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
}

/// A rule file.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceIn {
    /// The rule file (TOML); one that does not compile answers 422 with every error's rule,
    /// line and column.
    source: String,
    /// What changed (kept with a saved version).
    #[serde(default)]
    note: String,
}

pub(super) fn version_of(s: &str) -> Result<i64, ApiError> {
    s.parse().ok().filter(|v| *v > 0).ok_or_else(ApiError::not_found)
}

/// The variables and functions rules can use (public: the catalogue holds no data).
#[utoipa::path(get, path = "/api/v1/rules/schema", tag = "rules", responses((status = 200, body = Object)), security(()))]
async fn schema() -> Response {
    Json(json!({"variables": catalogue(), "functions": FUNCTIONS})).into_response()
}

/// Validate a rule file (TOML in `source`); 422 lists every error with rule, line and column.
#[utoipa::path(post, path = "/api/v1/rulesets/validate", tag = "rules", request_body = SourceIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn validate(
    State(st): St,
    Api(_, _): Api<RulesViewer>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let s: SourceIn = json_of(&body.0)?;
    let v = st.service.validate_rules(&s.source)?;
    Ok(Json(json!({"valid": true, "summary": v})).into_response())
}

/// Versions, the live and shadow pointers, and the history of changes.
#[utoipa::path(get, path = "/api/v1/rulesets", tag = "rules",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn list_rulesets(State(st): St, Api(cap, _): Api<RulesViewer>) -> Result<Response, ApiError> {
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
#[utoipa::path(post, path = "/api/v1/rulesets", tag = "rules", request_body = SourceIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn save_ruleset(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let s: SourceIn = json_of(&body.0)?;
    let (version, summary) = st.service.save_ruleset(&cap, &s.source, &s.note).await?;
    Ok((StatusCode::CREATED, Json(json!({"version": version, "summary": summary}))).into_response())
}

/// One version with its rule file.
#[utoipa::path(get, path = "/api/v1/rulesets/{version}", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn get_ruleset(
    State(st): St,
    Api(cap, _): Api<RulesViewer>,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    let rec = st.service.ruleset(&cap, version_of(&v)?).await?;
    Ok(Json(rec).into_response())
}

/// Backtest an unsaved rule file on all stored history beside the live set.
#[utoipa::path(post, path = "/api/v1/rulesets/backtest", tag = "rules", request_body = SourceIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn backtest_source(
    State(st): St,
    Api(cap, _): Api<RulesViewer>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let s: SourceIn = json_of(&body.0)?;
    Ok(Json(st.service.backtest(&cap, Candidate::Source(s.source)).await?).into_response())
}

/// Backtest a saved version beside the live set.
#[utoipa::path(post, path = "/api/v1/rulesets/{version}/backtest", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn backtest_version(
    State(st): St,
    Api(cap, _): Api<RulesViewer>,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(st.service.backtest(&cap, Candidate::Version(version_of(&v)?)).await?).into_response())
}

/// Make a version live on every instance within a second (scope `rules`).
#[utoipa::path(post, path = "/api/v1/rulesets/{version}/publish", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn publish(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    let v = version_of(&v)?;
    // Publishing needs four eyes, proposed and approved by two signed-in people: an API key
    // names no person, so the service answers 403 and says where to go.
    let id = st.service.propose_publish(&cap, v).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"proposal_id": id, "status": "pending", "version": v}))).into_response())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackIn {
    /// Why the previous version must come back (shown to the approver, kept in the audit log):
    /// some text besides white space, at most 1,000 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 1000)]
    reason: String,
}

/// Propose making the previously live version live again: a person proposes with a reason, a
/// second person approves (202 with `proposal_id`); machine keys cannot.
#[utoipa::path(post, path = "/api/v1/rulesets/rollback", tag = "rules", request_body = RollbackIn,
    responses((status = 202, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn rollback(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    crate::http::extract::Body(b): crate::http::extract::Body<RollbackIn>,
) -> Result<Response, ApiError> {
    let (id, v) = st.service.propose_rollback(&cap, &b.reason).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"proposal_id": id, "status": "pending", "to_version": v}))).into_response())
}

/// Run a version beside the live set without affecting decisions (scope `rules`).
#[utoipa::path(post, path = "/api/v1/rulesets/{version}/shadow", tag = "rules", params(("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn start_shadow(
    State(st): St,
    Api(cap, _): Api<RulesAdmin>,
    Path(v): Path<String>,
) -> Result<Response, ApiError> {
    let v = version_of(&v)?;
    st.service.shadow_ruleset(&cap, Some(v)).await?;
    Ok(Json(json!({"shadow_version": v})).into_response())
}

/// Stop shadowing (scope `rules`).
#[utoipa::path(delete, path = "/api/v1/rulesets/shadow", tag = "rules",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn stop_shadow(State(st): St, Api(cap, _): Api<RulesAdmin>) -> Result<Response, ApiError> {
    st.service.shadow_ruleset(&cap, None).await?;
    Ok(Json(json!({"shadow_version": null})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Limit {
    /// At most this many decisions, newest first (default 1,000; taken into 1-100,000).
    limit: Option<i64>,
}

/// What the shadow set decided on live traffic, beside the live decision.
/// Shadow decisions beside the live ones, with agreement counts.
#[utoipa::path(get, path = "/api/v1/rulesets/{version}/shadow", tag = "rules", params(("version" = i64, Path), Limit),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn shadow_results(
    State(st): St,
    Api(cap, _): Api<RulesViewer>,
    Path(v): Path<String>,
    ApiQuery(q): ApiQuery<Limit>,
) -> Result<Response, ApiError> {
    let v = version_of(&v)?;
    let rows = st.service.shadow_results(&cap, v, q.limit.unwrap_or(1000).clamp(1, 100_000)).await?;
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

