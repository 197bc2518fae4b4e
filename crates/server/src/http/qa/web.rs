//! The QA pages: the reviewer's inbox and a handling with its scoring form (each criterion a
//! select, in the order the Tab key takes them), disputed reviews, calibration sessions, the
//! dashboard with its CSV, scorecards, and the provider team lead's feedback inbox.

use super::api::csv_response;
use crate::http::error::{PageError, PageResult};
use crate::http::extract::{Action, Page};
use crate::http::page::Nav;
use crate::http::session::urlencode;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use riskdesk_domain::qa::scorecard::{Na, Rating, Scorecard};
use riskdesk_service::qa::calibration::SessionView;
use riskdesk_service::qa::feedback::FeedbackItem;
use riskdesk_service::qa::review::HandlingView;
use riskdesk_service::qa::trends::Dashboard;
use riskdesk_service::qa::{HandlingRecord, ReviewRecord, ScorecardRecord, SessionRecord};
use riskdesk_service::{FeedbackResponder, QaManager, QaReviewer, QaViewer, ServiceError};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/qa", get(inbox))
        .route("/qa/handlings/{id}", get(handling))
        .route("/qa/handlings/{id}/score", post(score))
        .route("/qa/reviews/{id}/decide", post(decide))
        .route("/qa/feedback", get(feedback))
        .route("/qa/feedback/{id}", get(feedback_one).post(answer))
        .route("/qa/sessions", get(sessions).post(create_session))
        .route("/qa/sessions/{id}", get(session))
        .route("/qa/dashboard", get(dashboard))
        .route("/qa/dashboard.csv", get(dashboard_csv))
        .route("/qa/scorecards", get(scorecards).post(save_scorecard))
}

fn not_found(e: ServiceError) -> PageError {
    match e {
        ServiceError::NotFound(_) => PageError::not_found(),
        e => e.into(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/inbox.html")]
struct InboxPage {
    nav: Nav,
    items: Vec<HandlingRecord>,
    total: i64,
    disputed: Vec<ReviewRecord>,
    provider: String,
}

#[derive(Deserialize)]
struct InboxQuery {
    provider: Option<String>,
}

async fn inbox(State(st): St, Page { cap, who }: Page<QaReviewer>, Query(q): Query<InboxQuery>) -> PageResult<impl IntoResponse> {
    let (items, total) = st.service.qa_inbox(&cap, q.provider.clone(), None, 200).await?;
    Ok(InboxPage { nav: Nav::of(&who, "qa"), items, total, disputed: st.service.disputed_reviews(&cap).await?, provider: q.provider.unwrap_or_default() })
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/handling.html")]
struct HandlingPage {
    nav: Nav,
    v: HandlingView,
    can_score: bool,
    can_review: bool,
    session: String,
    error: String,
    done: String,
}

#[derive(Deserialize)]
struct HandlingQuery {
    session: Option<String>,
    error: Option<String>,
    done: Option<String>,
}

async fn handling(State(st): St, Page { cap, who }: Page<QaViewer>, Path(id): Path<String>, Query(q): Query<HandlingQuery>) -> PageResult<impl IntoResponse> {
    let v = st.service.qa_handling(&cap, &id).await.map_err(not_found)?;
    let can_review = who.grant::<QaReviewer>().is_some();
    let session = q.session.unwrap_or_default();
    Ok(HandlingPage {
        nav: Nav::of(&who, "qa"),
        can_score: can_review && (v.record.review_status.as_deref() == Some("open") || !session.is_empty()),
        can_review,
        session,
        error: q.error.unwrap_or_default(),
        done: q.done.unwrap_or_default(),
        v,
    })
}

/// Ratings from a form: `r_<criterion>` = points or `na`.
fn ratings(form: &HashMap<String, String>) -> Result<BTreeMap<String, Rating>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in form {
        let Some(code) = k.strip_prefix("r_") else { continue };
        let r = if v == "na" {
            Rating::NotApplicable(Na::Na)
        } else {
            Rating::Points(v.parse().map_err(|_| format!("ratings: {code} must be a number or n/a"))?)
        };
        out.insert(code.to_owned(), r);
    }
    Ok(out)
}

fn back(path: &str, r: Result<&str, ServiceError>) -> PageResult<Response> {
    let sep = if path.contains('?') { '&' } else { '?' };
    match r {
        Ok(done) => Ok(Redirect::to(&format!("{path}{sep}done={done}")).into_response()),
        Err(ServiceError::Conflict(m) | ServiceError::Invalid(m)) => Ok(Redirect::to(&format!("{path}{sep}error={}", urlencode(&m))).into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn score(State(st): St, Path(id): Path<String>, a: Action<QaReviewer, HashMap<String, String>>) -> PageResult<Response> {
    let session = a.form.get("session_id").cloned().filter(|s| !s.is_empty());
    let path = match &session {
        Some(s) => format!("/qa/handlings/{}?session={s}", urlencode(&id)),
        None => format!("/qa/handlings/{}", urlencode(&id)),
    };
    let r = match ratings(&a.form) {
        Ok(r) => st.service.score_handling(&a.cap, &id, r, a.form.get("comment").map_or("", String::as_str), session.as_deref()).await.map(|_| "scored"),
        Err(m) => Err(ServiceError::Invalid(m)),
    };
    back(&path, r)
}

async fn decide(State(st): St, Path(id): Path<String>, a: Action<QaReviewer, HashMap<String, String>>) -> PageResult<Response> {
    let handling = a.form.get("handling_id").cloned().unwrap_or_default();
    let revised = match a.form.get("outcome").map(String::as_str) {
        Some("revise") => match ratings(&a.form) {
            Ok(r) => Some(r),
            Err(m) => return back(&format!("/qa/handlings/{}", urlencode(&handling)), Err(ServiceError::Invalid(m))),
        },
        _ => None,
    };
    let r = st.service.decide_qa_dispute(&a.cap, &id, revised, a.form.get("note").map_or("", String::as_str)).await;
    back(&format!("/qa/handlings/{}", urlencode(&handling)), r.map(|_| "decided"))
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/feedback.html")]
struct FeedbackPage {
    nav: Nav,
    provider: String,
    items: Vec<FeedbackItem>,
}

async fn feedback(State(st): St, Page { cap, who }: Page<FeedbackResponder>) -> PageResult<impl IntoResponse> {
    let (provider, items) = st.service.feedback_inbox(&cap).await?;
    Ok(FeedbackPage { nav: Nav::of(&who, "qa"), provider, items })
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/feedback_item.html")]
struct FeedbackItemPage {
    nav: Nav,
    r: ReviewRecord,
    h: HandlingRecord,
    error: String,
}

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
}

async fn feedback_one(State(st): St, Page { cap, who }: Page<FeedbackResponder>, Path(id): Path<String>, Query(q): Query<ErrorQuery>) -> PageResult<impl IntoResponse> {
    let (r, h) = st.service.feedback_item(&cap, &id).await.map_err(not_found)?;
    Ok(FeedbackItemPage { nav: Nav::of(&who, "qa"), r, h, error: q.error.unwrap_or_default() })
}

#[derive(Deserialize)]
struct AnswerForm {
    action: String,
    #[serde(default)]
    reason: String,
}

async fn answer(State(st): St, Path(id): Path<String>, a: Action<FeedbackResponder, AnswerForm>) -> PageResult<Response> {
    let dispute = (a.form.action == "dispute").then_some(a.form.reason.as_str());
    let r = st.service.answer_feedback(&a.cap, &id, dispute).await;
    match r {
        Ok(_) => Ok(Redirect::to("/qa/feedback").into_response()),
        Err(e) => back(&format!("/qa/feedback/{}", urlencode(&id)), Err(e)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/sessions.html")]
struct SessionsPage {
    nav: Nav,
    sessions: Vec<SessionRecord>,
    can_manage: bool,
}

async fn sessions(State(st): St, Page { cap, who }: Page<QaViewer>) -> PageResult<impl IntoResponse> {
    Ok(SessionsPage { nav: Nav::of(&who, "qa"), sessions: st.service.qa_sessions(&cap).await?, can_manage: who.grant::<QaManager>().is_some() })
}

#[derive(Deserialize)]
struct SessionForm {
    name: String,
    /// One id per line or separated by commas.
    handling_ids: String,
    reviewers: String,
}

fn list(s: &str) -> Vec<String> {
    s.split([',', '\n', ' ']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

async fn create_session(State(st): St, a: Action<QaManager, SessionForm>) -> PageResult<Response> {
    let s = st.service.create_qa_session(&a.cap, &a.form.name, list(&a.form.handling_ids), list(&a.form.reviewers)).await?;
    Ok(Redirect::to(&format!("/qa/sessions/{}", s.session_id)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/session.html")]
struct SessionPage {
    nav: Nav,
    v: SessionView,
    reviewer: bool,
}

async fn session(State(st): St, Page { cap, who }: Page<QaViewer>, Path(id): Path<String>) -> PageResult<impl IntoResponse> {
    let v = st.service.qa_session(&cap, &id).await.map_err(not_found)?;
    let me = format!("user:{}", who.user().username);
    Ok(SessionPage { nav: Nav::of(&who, "qa"), reviewer: v.session.reviewers.contains(&me), v })
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/dashboard.html")]
struct DashboardPage {
    nav: Nav,
    d: Dashboard,
    weeks: i64,
    provider: String,
}

#[derive(Deserialize)]
struct DashboardQuery {
    weeks: Option<i64>,
    by: Option<String>,
    provider: Option<String>,
}

async fn dashboard(State(st): St, Page { cap, who }: Page<QaViewer>, Query(q): Query<DashboardQuery>) -> PageResult<impl IntoResponse> {
    let weeks = q.weeks.unwrap_or(12);
    let d = st.service.qa_dashboard(&cap, weeks, q.by.as_deref().unwrap_or("provider"), q.provider.as_deref()).await?;
    Ok(DashboardPage { nav: Nav::of(&who, "qa"), d, weeks, provider: q.provider.unwrap_or_default() })
}

async fn dashboard_csv(State(st): St, Page { cap, .. }: Page<QaViewer>, Query(q): Query<DashboardQuery>) -> PageResult<Response> {
    let d = st.service.qa_dashboard(&cap, q.weeks.unwrap_or(12), q.by.as_deref().unwrap_or("provider"), q.provider.as_deref()).await?;
    Ok(csv_response(&d))
}

#[derive(Template, WebTemplate)]
#[template(path = "qa/scorecards.html")]
struct ScorecardsPage {
    nav: Nav,
    cards: Vec<ScorecardRecord>,
    current: String,
    can_manage: bool,
}

async fn scorecards(State(st): St, Page { cap, who }: Page<QaViewer>) -> PageResult<impl IntoResponse> {
    let cards = st.service.scorecards(&cap).await?;
    let current = cards
        .first()
        .and_then(|c| serde_json::from_str::<Scorecard>(&c.body).ok())
        .and_then(|c| serde_json::to_string_pretty(&c).ok())
        .unwrap_or_default();
    Ok(ScorecardsPage { nav: Nav::of(&who, "qa"), cards, current, can_manage: who.grant::<QaManager>().is_some() })
}

#[derive(Deserialize)]
struct ScorecardForm {
    body: String,
    base_version: i64,
}

async fn save_scorecard(State(st): St, a: Action<QaManager, ScorecardForm>) -> PageResult<Response> {
    let card: Scorecard = serde_json::from_str(&a.form.body).map_err(|e| ServiceError::Invalid(format!("body: {e}")))?;
    st.service.save_scorecard(&a.cap, card, a.form.base_version).await?;
    Ok(Redirect::to("/qa/scorecards").into_response())
}
