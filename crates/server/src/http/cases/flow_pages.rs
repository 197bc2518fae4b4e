//! The pages of reports, hand-offs and the order-flow monitor.

use super::web::{after_open, some};
use crate::http::error::PageResult;
use crate::http::extract::{Action, Page};
use crate::http::page::{Nav, fmt_time};
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use riskdesk_domain::cases::TEAMS;
use riskdesk_service::cases::reports::{Report, ReportOutcome};
use riskdesk_service::{CaseOpener, CaseViewer, CaseWorker};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/reports", get(reports).post(report))
        .route("/handoffs", get(handoffs))
        .route("/exceptions", get(exceptions))
        .route("/exceptions/cases", post(exception_case))
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/reports.html")]
struct ReportsPage {
    nav: Nav,
    reports: Vec<ReportOutcome>,
    can_view: bool,
}

async fn reports(State(st): St, Page { cap, who }: Page<CaseOpener>) -> PageResult<impl IntoResponse> {
    Ok(ReportsPage {
        nav: Nav::of(&who, "reports"),
        reports: st.service.my_reports(&cap).await?,
        can_view: who.grant::<CaseViewer>().is_some(),
    })
}

#[derive(Deserialize)]
struct ReportForm {
    subject_kind: String,
    subject_id: String,
    reason: String,
    #[serde(default)]
    detail: String,
}

async fn report(State(st): St, a: Action<CaseOpener, ReportForm>) -> PageResult<Response> {
    let f = a.form;
    let reason = match some(f.detail) {
        Some(d) => format!("{} — {d}", f.reason.trim()),
        None => f.reason,
    };
    let o = st.service.report_suspicion(&a.cap, Report { subject_kind: f.subject_kind, subject_id: f.subject_id, reason }).await?;
    Ok(after_open(&a.who, &o))
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/handoffs.html")]
struct HandoffsPage {
    nav: Nav,
    team: String,
    teams: Vec<(&'static str, &'static str)>,
    tasks: Vec<HandoffRow>,
    can_work: bool,
}

/// A hand-off as the page shows it.
pub struct HandoffRow {
    pub id: String,
    pub case_id: String,
    pub title: String,
    pub status: String,
    pub due: String,
    pub overdue: bool,
    pub answer: String,
    pub created_by: String,
}

#[derive(Deserialize)]
struct HandoffQuery {
    team: Option<String>,
}

async fn handoffs(State(st): St, Page { cap, who }: Page<CaseViewer>, Query(q): Query<HandoffQuery>) -> PageResult<impl IntoResponse> {
    let team = q.team.filter(|t| !t.is_empty()).unwrap_or_else(|| "logistics".into());
    let now = st.service.now();
    let tasks = st
        .service
        .handoffs(&cap, &team, false)
        .await?
        .into_iter()
        .map(|t| HandoffRow {
            overdue: t.status == "open" && t.due_at.is_some_and(|d| d < now),
            due: t.due_at.map(|d| fmt_time(d, who.time_zone())).unwrap_or_default(),
            id: t.id,
            case_id: t.case_id,
            title: t.title,
            status: t.status,
            answer: t.answer.unwrap_or_default(),
            created_by: t.created_by.trim_start_matches("user:").to_owned(),
        })
        .collect();
    Ok(HandoffsPage { nav: Nav::of(&who, "handoffs"), team, teams: TEAMS.iter().skip(4).copied().collect(), tasks, can_work: who.grant::<CaseWorker>().is_some() })
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/exceptions.html")]
struct ExceptionsPage {
    nav: Nav,
    rows: Vec<(String, riskdesk_service::cases::exceptions::Exception)>,
    paid_days: i64,
    kinds: &'static [(&'static str, &'static str)],
    teams: Vec<(&'static str, &'static str)>,
    can_work: bool,
}

#[derive(Deserialize)]
struct ExceptionQuery {
    paid_days: Option<i64>,
}

async fn exceptions(State(st): St, Page { cap, who }: Page<CaseViewer>, Query(q): Query<ExceptionQuery>) -> PageResult<impl IntoResponse> {
    let paid_days = q.paid_days.unwrap_or(3);
    let rows = st.service.order_exceptions(&cap, paid_days).await?.into_iter().map(|e| (fmt_time(e.since, who.time_zone()), e)).collect();
    Ok(ExceptionsPage {
        nav: Nav::of(&who, "cases"),
        rows,
        paid_days,
        kinds: riskdesk_service::cases::exceptions::EXCEPTION_KINDS,
        teams: TEAMS.iter().skip(4).copied().collect(),
        can_work: who.grant::<CaseWorker>().is_some(),
    })
}

#[derive(Deserialize)]
struct ExceptionForm {
    kind: String,
    order_id: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    team: String,
}

async fn exception_case(State(st): St, a: Action<CaseWorker, ExceptionForm>) -> PageResult<Response> {
    let f = a.form;
    let team = some(f.team);
    let o = st.service.open_exception_case(&a.cap, &f.kind, &f.order_id, &f.customer_id, team.as_deref()).await?;
    Ok(Redirect::to(&format!("/cases/{}", o.case().id)).into_response())
}
