//! QA over the API: handlings in (one, or a CSV / JSONL import), a handling with its reviews,
//! the inbox, scoring, disputes, the provider's feedback, scorecards, calibration, dashboard.

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use riskdesk_domain::qa::HandlingIn;
use riskdesk_domain::qa::scorecard::{Rating, Scorecard};
use riskdesk_service::{FeedbackResponder, HandlingIntake, QaManager, QaReviewer, QaViewer, UserAdmin};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(submit, import, one, inbox, score, disputed, decide, feedback, feedback_one, answer, scorecards, save_scorecard,
          sessions, create_session, session, dashboard, dashboard_csv, member),
    components(schemas(ScoreIn, DecideIn, AnswerIn, ScorecardIn, SessionIn, MemberIn, HandlingIn))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/handlings", post(submit))
        .route("/handlings/import", post(import))
        .route("/handlings/{id}", get(one))
        .route("/handlings/{id}/reviews", post(score))
        .route("/qa/inbox", get(inbox))
        .route("/qa/disputes", get(disputed))
        .route("/qa/reviews/{id}/decision", post(decide))
        .route("/qa/feedback", get(feedback))
        .route("/qa/feedback/{id}", get(feedback_one).post(answer))
        .route("/qa/scorecards", get(scorecards).post(save_scorecard))
        .route("/qa/sessions", get(sessions).post(create_session))
        .route("/qa/sessions/{id}", get(session))
        .route("/qa/dashboard", get(dashboard))
        .route("/qa/dashboard.csv", get(dashboard_csv))
        .route("/qa/members/{username}", put(member))
}

/// Send a Tier-2 handling: `handling_id`, `agent`, `provider`, `team`, `channel`, `closed_at`,
/// `case_ref`, `customer_id`, `order_ids`, `actions` (`[{"kind": "refund_issued", "amount":
/// {"amount": "25.00", "currency": "EUR"}}]`), `identity_checked`, `csat` (1-5), `transcript`.
/// 201 when stored (with whether and why it was sampled); 200 for a `handling_id` stored before.
#[utoipa::path(post, path = "/api/v1/handlings", tag = "qa", request_body = HandlingIn,
    responses((status = 201, body = Object), (status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn submit(State(st): St, Api(cap, _): Api<HandlingIntake>, Body(h): Body<HandlingIn>) -> ApiResult<Response> {
    let r = st.service.submit_handling(&cap, h).await?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(r)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `csv` (default) or `jsonl`.
    #[param(pattern = "^(csv|jsonl)$")]
    format: Option<String>,
}

/// Import handlings: CSV with a header (`handling_id, agent, provider, team, channel,
/// closed_at, case_ref, customer_id, order_ids, actions, identity_checked, csat, transcript`;
/// lists separated by `;`, an action as `kind` or `kind:amount:currency`) or JSONL. One bad line
/// stores nothing and is named.
#[utoipa::path(post, path = "/api/v1/handlings/import", tag = "qa", params(ImportQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 413, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn import(State(st): St, Api(cap, _): Api<HandlingIntake>, ApiQuery(q): ApiQuery<ImportQuery>, body: Bytes) -> ApiResult<Response> {
    let jsonl = match q.format.as_deref() {
        None | Some("csv") => false,
        Some("jsonl") => true,
        Some(_) => return Err(ApiError::invalid("format", "must be csv or jsonl")),
    };
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("body", "must be UTF-8 text"))?;
    Ok(Json(st.service.import_handlings(&cap, text, jsonl).await?).into_response())
}

/// A handling with why it was sampled, its scorecard and its reviews. The transcript is
/// personal data: the read is audited.
#[utoipa::path(get, path = "/api/v1/handlings/{id}", tag = "qa", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn one(State(st): St, Api(cap, _): Api<QaViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.qa_handling(&cap, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// One provider's handlings; empty means any.
    provider: Option<String>,
    /// One agent's handlings; empty means any.
    agent: Option<String>,
    /// Default 100, taken into 1-500.
    limit: Option<i64>,
}

/// Sampled handlings waiting for review, oldest first (your own team's left out when so configured).
#[utoipa::path(get, path = "/api/v1/qa/inbox", tag = "qa", params(InboxQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn inbox(State(st): St, Api(cap, _): Api<QaReviewer>, ApiQuery(q): ApiQuery<InboxQuery>) -> ApiResult<Response> {
    let (items, total) = st.service.qa_inbox(&cap, q.provider, q.agent, q.limit.unwrap_or(100)).await?;
    let items: Vec<_> = items
        .into_iter()
        .map(|h| json!({"handling_id": h.handling.handling_id, "agent": h.handling.agent, "provider": h.handling.provider,
                        "team": h.handling.team, "channel": h.handling.channel, "closed_at": h.handling.closed_at, "picks": h.picks}))
        .collect();
    Ok(Json(json!({"handlings": items, "total": total})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreIn {
    /// Every criterion of the handling's scorecard, and no other: points from 0 to its max, or
    /// `"na"` (422 naming the criterion otherwise).
    ratings: BTreeMap<String, Rating>,
    /// At most 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    comment: String,
    /// A calibration session's id: the review is blind and stays out of the trends.
    #[serde(default)]
    session_id: Option<String>,
}

/// Score a handling against the scorecard version in force when it was sampled. A failed
/// knock-out scores 0 (and may open a case).
#[utoipa::path(post, path = "/api/v1/handlings/{id}/reviews", tag = "qa", params(("id" = String, Path)), request_body = ScoreIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn score(State(st): St, Api(cap, _): Api<QaReviewer>, Path(id): Path<String>, Body(b): Body<ScoreIn>) -> ApiResult<Response> {
    let r = st.service.score_handling(&cap, &id, b.ratings, &b.comment, b.session_id.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// Reviews a provider disputed, waiting for a second reviewer.
#[utoipa::path(get, path = "/api/v1/qa/disputes", tag = "qa",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn disputed(State(st): St, Api(cap, _): Api<QaReviewer>) -> ApiResult<Response> {
    Ok(Json(json!({"reviews": st.service.disputed_reviews(&cap).await?})).into_response())
}

/// The second reviewer's decision, by `outcome`, with a note (at most 2,000 characters).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum DecideIn {
    /// The review stands.
    Uphold {
        #[serde(default)]
        #[schema(max_length = 2000)]
        note: String,
    },
    /// New ratings replace the review's: every criterion of its scorecard, as to score.
    Revise {
        ratings: BTreeMap<String, Rating>,
        #[serde(default)]
        #[schema(max_length = 2000)]
        note: String,
    },
}

/// Decide a disputed review as a second reviewer (not the one who scored it).
#[utoipa::path(post, path = "/api/v1/qa/reviews/{id}/decision", tag = "qa", params(("id" = String, Path)), request_body = DecideIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn decide(State(st): St, Api(cap, _): Api<QaReviewer>, Path(id): Path<String>, Body(b): Body<DecideIn>) -> ApiResult<Response> {
    let (revised, note) = match b {
        DecideIn::Uphold { note } => (None, note),
        DecideIn::Revise { ratings, note } => (Some(ratings), note),
    };
    Ok(Json(st.service.decide_qa_dispute(&cap, &id, revised, &note).await?).into_response())
}

/// A provider team lead's feedback inbox: the reviews of their own provider's handlings.
#[utoipa::path(get, path = "/api/v1/qa/feedback", tag = "qa",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn feedback(State(st): St, Api(cap, _): Api<FeedbackResponder>) -> ApiResult<Response> {
    let (provider, items) = st.service.feedback_inbox(&cap).await?;
    Ok(Json(json!({"provider": provider, "reviews": items})).into_response())
}

/// One review of the lead's provider, with its handling (another provider's: 404).
#[utoipa::path(get, path = "/api/v1/qa/feedback/{id}", tag = "qa", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn feedback_one(State(st): St, Api(cap, _): Api<FeedbackResponder>, Path(id): Path<String>) -> ApiResult<Response> {
    let (review, handling) = st.service.feedback_item(&cap, &id).await?;
    Ok(Json(json!({"review": review, "handling": handling})).into_response())
}

/// The provider's answer, by `action`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum AnswerIn {
    /// The feedback is taken.
    Acknowledge {},
    /// The review is contested: a second reviewer decides.
    Dispute {
        /// Why: some text besides white space, at most 2,000 characters.
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
        reason: String,
    },
}

/// Acknowledge the feedback, or dispute it with a reason.
#[utoipa::path(post, path = "/api/v1/qa/feedback/{id}", tag = "qa", params(("id" = String, Path)), request_body = AnswerIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn answer(State(st): St, Api(cap, _): Api<FeedbackResponder>, Path(id): Path<String>, Body(b): Body<AnswerIn>) -> ApiResult<Response> {
    let dispute = match &b {
        AnswerIn::Acknowledge {} => None,
        AnswerIn::Dispute { reason } => Some(reason.as_str()),
    };
    Ok(Json(st.service.answer_feedback(&cap, &id, dispute).await?).into_response())
}

/// Scorecard versions, the one in force first.
#[utoipa::path(get, path = "/api/v1/qa/scorecards", tag = "qa",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn scorecards(State(st): St, Api(cap, _): Api<QaViewer>) -> ApiResult<Response> {
    Ok(Json(json!({"scorecards": st.service.scorecards(&cap).await?})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScorecardIn {
    scorecard: Scorecard,
    /// The version you edited; a newer one saved meanwhile answers 409.
    #[serde(deserialize_with = "crate::http::wire::int")]
    base_version: i64,
}

/// Save a new scorecard version (reviews keep the version they were scored with).
#[utoipa::path(post, path = "/api/v1/qa/scorecards", tag = "qa", request_body = ScorecardIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn save_scorecard(State(st): St, Api(cap, _): Api<QaManager>, Body(b): Body<ScorecardIn>) -> ApiResult<Response> {
    let v = st.service.save_scorecard(&cap, b.scorecard, b.base_version).await?;
    Ok((StatusCode::CREATED, Json(json!({"version": v}))).into_response())
}

/// Calibration sessions, newest first.
#[utoipa::path(get, path = "/api/v1/qa/sessions", tag = "qa",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn sessions(State(st): St, Api(cap, _): Api<QaViewer>) -> ApiResult<Response> {
    Ok(Json(json!({"sessions": st.service.qa_sessions(&cap).await?})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionIn {
    /// Some text besides white space, at most 200 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 200)]
    name: String,
    /// 1 to 50 stored handlings.
    #[schema(min_items = 1, max_items = 50)]
    handling_ids: Vec<String>,
    /// Usernames of 2 to 20 users who review handlings.
    #[schema(min_items = 2, max_items = 20)]
    reviewers: Vec<String>,
}

/// Start a calibration session: the same handlings scored blind by several reviewers.
#[utoipa::path(post, path = "/api/v1/qa/sessions", tag = "qa", request_body = SessionIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn create_session(State(st): St, Api(cap, _): Api<QaManager>, Body(b): Body<SessionIn>) -> ApiResult<Response> {
    let s = st.service.create_qa_session(&cap, &b.name, b.handling_ids, b.reviewers).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

/// A session's agreement: Krippendorff's alpha per criterion and on the score, each reviewer's
/// spread (withheld from a reviewer who has not scored every handling yet).
#[utoipa::path(get, path = "/api/v1/qa/sessions/{id}", tag = "qa", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn session(State(st): St, Api(cap, _): Api<QaViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.qa_session(&cap, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Weeks back, 1-104 (default 12).
    #[param(minimum = 1, maximum = 104)]
    weeks: Option<i64>,
    /// `agent`, `team` or `provider` (default).
    #[param(pattern = "^(agent|team|provider)$")]
    by: Option<String>,
    /// One provider's handlings; empty means any.
    provider: Option<String>,
}

/// QA scores by week and agent, team or provider; knock-out rate; random and targeted apart;
/// the criteria failed most.
#[utoipa::path(get, path = "/api/v1/qa/dashboard", tag = "qa", params(DashboardQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn dashboard(State(st): St, Api(cap, _): Api<QaViewer>, ApiQuery(q): ApiQuery<DashboardQuery>) -> ApiResult<Response> {
    let d = st.service.qa_dashboard(&cap, q.weeks.unwrap_or(12), q.by.as_deref().unwrap_or("provider"), q.provider.as_deref()).await?;
    Ok(Json(d).into_response())
}

/// The dashboard's weekly rows as CSV, for the provider review meeting.
#[utoipa::path(get, path = "/api/v1/qa/dashboard.csv", tag = "qa", params(DashboardQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn dashboard_csv(State(st): St, Api(cap, _): Api<QaViewer>, ApiQuery(q): ApiQuery<DashboardQuery>) -> ApiResult<Response> {
    let d = st.service.qa_dashboard(&cap, q.weeks.unwrap_or(12), q.by.as_deref().unwrap_or("provider"), q.provider.as_deref()).await?;
    Ok(csv_response(&d))
}

pub(super) fn csv_response(d: &riskdesk_service::qa::trends::Dashboard) -> Response {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["week", &d.by, "reviews", "avg_score", "knockouts", "random_reviews", "random_avg"]);
    for r in &d.rows {
        let _ = w.write_record([
            r.week.clone(),
            // A leading = + - @ would run as a formula in a spreadsheet.
            if r.key.starts_with(['=', '+', '-', '@']) { format!("'{}", r.key) } else { r.key.clone() },
            r.reviews.to_string(),
            format!("{:.1}", r.avg_score),
            r.knockouts.to_string(),
            r.random_reviews.to_string(),
            r.random_avg.map_or(String::new(), |a| format!("{a:.1}")),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"qa-trends.csv\"")], body)
        .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    /// The provider a provider team lead answers for (trimmed; empty or null: none).
    #[serde(default)]
    provider: Option<String>,
    /// The person's own team, kept out of their QA inbox (trimmed; empty or null: none).
    #[serde(default)]
    team: Option<String>,
}

/// Set the provider and team a person belongs to (administrators).
#[utoipa::path(put, path = "/api/v1/qa/members/{username}", tag = "qa", params(("username" = String, Path)), request_body = MemberIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn member(State(st): St, Api(cap, _): Api<UserAdmin>, Path(username): Path<String>, Body(b): Body<MemberIn>) -> ApiResult<Response> {
    st.service.set_qa_member(&cap, &username, b.provider.clone(), b.team.clone()).await?;
    Ok(Json(json!({"username": username, "provider": b.provider, "team": b.team})).into_response())
}
