//! The home page: today's queue at a glance. Its figures come from the review, approvals and
//! cases areas' operations (`GET /api/v1/queue/stats`, `GET /api/v1/proposals`,
//! `GET /api/v1/cases?owner=me`).

use super::error::PageResult;
use super::extract::Page;
use super::page::{Nav, NavLink, ago, start_of_today};
use super::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use riskdesk_service::review::{QueueFilter, QueueStats};
use riskdesk_domain::Permission;
use riskdesk_service::{Analyst, OrderViewer};
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Doc;

pub fn api() -> Router<Arc<AppState>> {
    Router::new()
}

pub fn web() -> Router<Arc<AppState>> {
    Router::new().route("/", get(home))
}

pub fn nav(_: &Analyst) -> Vec<NavLink> {
    vec![NavLink { href: "/", label: "Home", area: "home", key: "h" }]
}

#[derive(Template, WebTemplate)]
#[template(path = "home/home.html")]
struct HomePage {
    nav: Nav,
    stats: QueueStats,
    oldest: String,
    pending: usize,
    mine: i64,
    can_decide: bool,
    /// Whether this person approves anything (Tier-2 agents do not: no approvals tile for them).
    can_approve: bool,
    /// Whether this person reports and escalates (their reports' outcome).
    can_report: bool,
    /// Cases: open ones owned by this person, and how many of those are past or near their SLA.
    cases: Option<(usize, usize)>,
}

async fn home(State(st): St, Page { who, .. }: Page<riskdesk_service::Someone>) -> PageResult<axum::response::Response> {
    // Someone who sees no orders (a provider's team lead) starts on the first area they have.
    let Some(cap) = who.grant::<OrderViewer>() else {
        let to = super::nav_links(&who).into_iter().map(|l| l.href).find(|h| *h != "/").unwrap_or("/knowledge");
        return Ok(axum::response::Redirect::to(to).into_response());
    };
    let now = st.service.now();
    let stats = st.service.queue_stats(&cap, start_of_today(now)).await?;
    let pending = st.service.proposals(true).await?.len();
    let f = QueueFilter { claimed_by: Some(who.user().username.clone()), limit: 1, ..Default::default() };
    let (_, mine) = st.service.review_queue(&cap, &f).await?;
    let cases = match who.grant::<riskdesk_service::CaseViewer>() {
        Some(cv) => {
            let f = riskdesk_service::cases::CaseFilter { owner: Some(who.user().username.clone()), limit: 500, ..Default::default() };
            let (mine, _) = st.service.cases(&cv, &f).await?;
            let late = mine.iter().filter(|c| c.escalated_at.is_some() || c.warned_at.is_some()).count();
            Some((mine.len(), late))
        }
        None => None,
    };
    let oldest = stats.oldest_placed_at.map(|t| ago(t, now)).unwrap_or_else(|| "—".into());
    Ok(HomePage {
        nav: Nav::of(&who, "home"),
        stats,
        oldest,
        pending,
        mine,
        can_decide: who.may(Permission::DecideOrders),
        can_approve: who.grant::<riskdesk_service::Approver>().is_some(),
        can_report: who.grant::<riskdesk_service::CaseOpener>().is_some(),
        cases,
    }
    .into_response())
}
