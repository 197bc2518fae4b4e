//! The cases pages: the queue (mine, team, unassigned, all open, closed) by time left, the case
//! page, opening a case, a person's reports, and a team's hand-offs. Every action here is also
//! an operation of the API (`api.rs`).

use super::api::{ListQuery, filter_of};
use crate::http::error::{PageError, PageResult};
use crate::http::extract::{Action, NoForm, Page};
use crate::http::page::{Nav, fmt_time};
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use riskdesk_domain::cases::sla::SlaState;
use riskdesk_domain::cases::{KINDS, Priority, Resolution, TEAMS};
use riskdesk_service::cases::decision::{CaseDecisionPayload, DECISIONS, Proposed};
use riskdesk_service::cases::tasks::NewTask;
use riskdesk_service::cases::view::{CaseView, SlaView, kind_label};
use riskdesk_service::cases::{CaseRecord, Move, OpenCase, Opened};
use riskdesk_service::{CaseOpener, CaseViewer, CaseWorker, QueueAssigner, Service};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cases", get(queue).post(open))
        .route("/cases/new", get(new_case))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/transition", post(transition))
        .route("/cases/{id}/notes", post(add_note))
        .route("/cases/{id}/take", post(take))
        .route("/cases/{id}/give-back", post(give_back))
        .route("/cases/{id}/assign", post(assign))
        .route("/cases/{id}/priority", post(priority))
        .route("/cases/{id}/links", post(add_link))
        .route("/cases/{id}/links/remove", post(remove_link))
        .route("/cases/{id}/tasks", post(add_task))
        .route("/cases/{id}/tasks/{task_id}", post(update_task))
        .route("/cases/{id}/decisions", post(decide))
}

/// Time left as people read it: "3 h 20 min left", "2 h overdue", "paused".
pub fn left(s: &SlaView) -> String {
    let secs = s.time_left_secs;
    let fmt = |m: i64| {
        if m >= 1440 {
            format!("{} d {} h", m / 1440, (m % 1440) / 60)
        } else if m >= 60 {
            format!("{} h {} min", m / 60, m % 60)
        } else {
            format!("{m} min")
        }
    };
    match s.resolution {
        SlaState::Stopped => "stopped".into(),
        SlaState::Paused => format!("paused · {} left", fmt(secs.max(0) / 60)),
        _ if secs < 0 => format!("{} overdue", fmt(-secs / 60)),
        _ => format!("{} left", fmt(secs / 60)),
    }
}

pub struct Row {
    pub c: CaseRecord,
    pub kind: &'static str,
    pub sla: SlaView,
    pub left: String,
    pub opened: String,
}

fn row(svc: &Service, c: CaseRecord, tz: chrono_tz::Tz) -> Row {
    let sla = svc.case_sla(&c);
    Row { kind: kind_label(&c.kind), left: left(&sla), opened: fmt_time(c.created_at, tz), sla, c }
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/queue.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<Row>,
    total: i64,
    view: String,
    team: String,
    teams: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    kind: String,
    q: String,
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    view: Option<String>,
    team: Option<String>,
    kind: Option<String>,
    q: Option<String>,
}

async fn queue(State(st): St, Page { cap, who }: Page<CaseViewer>, Query(q): Query<QueueQuery>) -> PageResult<impl IntoResponse> {
    let view = q.view.clone().unwrap_or_else(|| "mine".into());
    let mut lq = ListQuery { kind: q.kind.clone(), q: q.q.clone(), limit: Some(200), ..Default::default() };
    match view.as_str() {
        "mine" => lq.owner = Some("me".into()),
        "team" => lq.team = q.team.clone().filter(|t| !t.is_empty()).or_else(|| Some("fraud".into())),
        "unassigned" => lq.unassigned = Some(true),
        "closed" => lq.status = Some("closed".into()),
        _ => {}
    }
    let f = filter_of(&lq, Some(&who.user().username))?;
    let (cases, total) = st.service.cases(&cap, &f).await?;
    Ok(QueuePage {
        nav: Nav::of(&who, "cases"),
        rows: cases.into_iter().map(|c| row(&st.service, c, who.time_zone())).collect(),
        total,
        team: lq.team.unwrap_or_default(),
        view,
        teams: TEAMS.iter().take(4).copied().collect(),
        kinds: KINDS.iter().map(|k| (k.code, k.label)).collect(),
        kind: q.kind.unwrap_or_default(),
        q: q.q.unwrap_or_default(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/new.html")]
struct NewPage {
    nav: Nav,
    kinds: Vec<(&'static str, &'static str)>,
    priorities: Vec<(&'static str, &'static str)>,
    kind: String,
    customer_id: String,
    order_ids: String,
}

#[derive(Deserialize, Default)]
struct NewQuery {
    kind: Option<String>,
    customer_id: Option<String>,
    order_id: Option<String>,
}

async fn new_case(Page { who, .. }: Page<CaseOpener>, Query(q): Query<NewQuery>) -> PageResult<impl IntoResponse> {
    Ok(NewPage {
        nav: Nav::of(&who, "cases"),
        kinds: KINDS.iter().map(|k| (k.code, k.label)).collect(),
        priorities: Priority::ALL.iter().map(|p| (p.as_str(), p.label())).collect(),
        kind: q.kind.unwrap_or_else(|| "tier2_escalation".into()),
        customer_id: q.customer_id.unwrap_or_default(),
        order_ids: q.order_id.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct OpenForm {
    kind: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    order_ids: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    source_ref: String,
}

pub(super) fn some(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

async fn open(State(st): St, a: Action<CaseOpener, OpenForm>) -> PageResult<Response> {
    let f = a.form;
    let input = OpenCase {
        kind: f.kind,
        title: f.title,
        description: f.description,
        priority: some(f.priority),
        tier: None,
        customer_id: some(f.customer_id),
        order_ids: f.order_ids.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        source: some(f.source),
        source_ref: some(f.source_ref),
    };
    let o = st.service.open_case(&a.cap, input).await?;
    Ok(after_open(&a.who, &o))
}

/// Where a person goes after opening or reporting: the case if they may see it, else their reports.
pub(super) fn after_open(who: &riskdesk_service::Analyst, o: &Opened) -> Response {
    if who.grant::<CaseViewer>().is_some() {
        Redirect::to(&format!("/cases/{}", o.case().id)).into_response()
    } else {
        Redirect::to("/reports").into_response()
    }
}

pub struct Shown {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/case.html")]
struct CasePage {
    nav: Nav,
    v: CaseView,
    left: String,
    first_due: String,
    resolution_due: String,
    events: Vec<Shown>,
    can_work: bool,
    can_assign: bool,
    is_owner: bool,
    workers: Vec<String>,
    resolutions: Vec<(&'static str, &'static str)>,
    priorities: Vec<(&'static str, &'static str)>,
    teams: Vec<(&'static str, &'static str)>,
    decisions: &'static [(&'static str, &'static str)],
    customer: String,
    open_mandatory: usize,
    now: DateTime<Utc>,
    next: Vec<(&'static str, &'static str)>,
}

async fn case_page(State(st): St, Page { cap, who }: Page<CaseViewer>, Path(id): Path<String>) -> PageResult<impl IntoResponse> {
    let v = st.service.case_view(&cap, &id).await.map_err(|e| match e {
        riskdesk_service::ServiceError::NotFound(_) => PageError::not_found(),
        e => e.into(),
    })?;
    let events = v
        .events
        .iter()
        .rev()
        .map(|e| Shown { at: fmt_time(e.at, who.time_zone()), actor: e.actor.trim_start_matches("user:").to_owned(), kind: e.kind.clone(), text: e.text.clone() })
        .collect();
    let customer = v.links.iter().find(|l| l.link.kind == "customer").map(|l| l.link.value.clone()).unwrap_or_default();
    Ok(CasePage {
        nav: Nav::of(&who, "cases"),
        left: left(&v.sla),
        first_due: fmt_time(v.sla.first_response_due_at, who.time_zone()),
        resolution_due: fmt_time(v.sla.resolution_due_at, who.time_zone()),
        events,
        can_work: who.grant::<CaseWorker>().is_some(),
        can_assign: who.grant::<QueueAssigner>().is_some(),
        is_owner: v.case.owner.as_deref() == Some(who.user().username.as_str()),
        workers: st.service.case_workers(&cap).await?,
        resolutions: Resolution::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        priorities: Priority::ALL.iter().map(|p| (p.as_str(), p.label())).collect(),
        teams: TEAMS.iter().skip(4).copied().collect(),
        decisions: DECISIONS,
        customer,
        open_mandatory: v.tasks.iter().filter(|t| t.mandatory && t.status == "open").count(),
        now: st.service.now(),
        next: v.case.status.next().iter().map(|s| (s.as_str(), s.label())).collect(),
        v,
    })
}

fn back(id: &str) -> Response {
    Redirect::to(&format!("/cases/{id}")).into_response()
}

#[derive(Deserialize)]
struct TransitionForm {
    to: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    note: String,
}

async fn transition(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, TransitionForm>) -> PageResult<Response> {
    let f = a.form;
    st.service.move_case(&a.cap, &id, Move { to: f.to, resolution: some(f.resolution), summary: some(f.summary), note: some(f.note) }).await?;
    Ok(back(&id))
}

#[derive(Deserialize)]
struct NoteForm {
    text: String,
}

async fn add_note(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, NoteForm>) -> PageResult<Response> {
    st.service.add_case_note(&a.cap, &id, &a.form.text).await?;
    Ok(back(&id))
}

async fn take(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, NoForm>) -> PageResult<Response> {
    st.service.take_case(&a.cap, &id, true).await?;
    Ok(back(&id))
}

async fn give_back(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, NoForm>) -> PageResult<Response> {
    st.service.take_case(&a.cap, &id, false).await?;
    Ok(back(&id))
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    username: String,
}

async fn assign(State(st): St, Path(id): Path<String>, a: Action<QueueAssigner, AssignForm>) -> PageResult<Response> {
    st.service.assign_case(&a.cap, &id, Some(a.form.username.as_str())).await?;
    Ok(back(&id))
}

#[derive(Deserialize)]
struct PriorityForm {
    priority: String,
    tier: i64,
}

async fn priority(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, PriorityForm>) -> PageResult<Response> {
    st.service.set_case_priority(&a.cap, &id, &a.form.priority).await?;
    st.service.set_case_tier(&a.cap, &id, a.form.tier).await?;
    Ok(back(&id))
}

#[derive(Deserialize)]
struct LinkForm {
    kind: String,
    value: String,
}

async fn add_link(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, LinkForm>) -> PageResult<Response> {
    st.service.link_case(&a.cap, &id, &a.form.kind, &a.form.value).await?;
    Ok(back(&id))
}

async fn remove_link(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, LinkForm>) -> PageResult<Response> {
    st.service.unlink_case(&a.cap, &id, &a.form.kind, &a.form.value).await?;
    Ok(back(&id))
}

#[derive(Deserialize)]
struct TaskForm {
    title: String,
    #[serde(default)]
    mandatory: Option<String>,
    #[serde(default)]
    team: String,
    /// `YYYY-MM-DDTHH:MM` from a datetime-local input, read as UTC.
    #[serde(default)]
    due_at: String,
}

async fn add_task(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, TaskForm>) -> PageResult<Response> {
    let f = a.form;
    let due_at = match some(f.due_at) {
        Some(d) => Some(
            chrono::NaiveDateTime::parse_from_str(&d, "%Y-%m-%dT%H:%M")
                .map(|t| t.and_utc())
                .map_err(|_| PageError::bad("due_at: not a date and time"))?,
        ),
        None => None,
    };
    let t = NewTask { title: f.title, mandatory: f.mandatory.is_some(), team: some(f.team), due_at };
    st.service.add_case_task(&a.cap, &id, t).await?;
    Ok(back(&id))
}

#[derive(Deserialize)]
struct TaskUpdateForm {
    status: String,
    #[serde(default)]
    answer: String,
    /// Where to go afterwards (`handoffs` for the hand-off page).
    #[serde(default)]
    back: String,
}

async fn update_task(State(st): St, Path((id, task_id)): Path<(String, String)>, a: Action<CaseWorker, TaskUpdateForm>) -> PageResult<Response> {
    let answer = some(a.form.answer);
    let t = st.service.finish_case_task(&a.cap, &task_id, &a.form.status, answer.as_deref()).await?;
    if a.form.back == "handoffs" {
        return Ok(Redirect::to(&format!("/handoffs?team={}", t.team.unwrap_or_default())).into_response());
    }
    Ok(back(&id))
}

#[derive(Deserialize)]
struct DecisionForm {
    decision: String,
    reason: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    order_id: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    legal_basis: String,
}

async fn decide(State(st): St, Path(id): Path<String>, a: Action<CaseWorker, DecisionForm>) -> PageResult<Response> {
    let f = a.form;
    let amount_minor = match some(f.amount) {
        Some(s) => Some(
            rust_decimal::Decimal::from_str_exact(&s.replace(',', "."))
                .ok()
                .and_then(|d| rust_decimal::prelude::ToPrimitive::to_i64(&(d * rust_decimal::Decimal::from(100)).round()))
                .ok_or_else(|| PageError::bad("amount: not an amount"))?,
        ),
        None => None,
    };
    let d = CaseDecisionPayload {
        case_id: id.clone(),
        decision: f.decision,
        reason: f.reason,
        customer_id: some(f.customer_id),
        order_id: some(f.order_id),
        amount_minor,
        currency: some(f.currency),
        recipient: some(f.recipient),
        legal_basis: some(f.legal_basis),
    };
    match st.service.propose_case_decision(&a.cap, d).await? {
        Proposed::Pending { .. } | Proposed::Recorded => Ok(back(&id)),
    }
}

