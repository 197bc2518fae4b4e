//! Cases over the API: the helpdesk escalates (`POST /cases`, deduplicated on `source` +
//! `source_ref`), people and scripts work cases with their tokens, anyone reports suspicion.

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use crate::http::wire;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use riskdesk_service::cases::tasks::NewTask;
use riskdesk_service::cases::{CaseRecord, Move, OpenCase, Opened};
use riskdesk_service::{CaseOpener, CaseViewer, CaseWorker, QueueAssigner, Service};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(open, list, one, transition, notes, add_note, tasks, add_task, update_task, links, add_link, remove_link,
          take, give_back, assign, priority),
    components(schemas(OpenIn, CaseOut, SlaOut, TransitionIn, CaseNoteIn, TaskIn, TaskUpdateIn, LinkIn, CaseAssignIn, PriorityIn))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cases", post(open).get(list))
        .route("/cases/{id}", get(one))
        .route("/cases/{id}/transition", post(transition))
        .route("/cases/{id}/notes", get(notes).post(add_note))
        .route("/cases/{id}/tasks", get(tasks).post(add_task))
        .route("/cases/{id}/tasks/{task_id}", post(update_task))
        .route("/cases/{id}/links", get(links).post(add_link))
        .route("/cases/{id}/links/{kind}/{value}", delete(remove_link))
        .route("/cases/{id}/take", post(take))
        .route("/cases/{id}/give-back", post(give_back))
        .route("/cases/{id}/assign", post(assign))
        .route("/cases/{id}/priority", post(priority))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenIn {
    /// `fraud_investigation`, `account_takeover`, `tier2_escalation`, `privacy_request`,
    /// `privacy_complaint`, `refund_claim`, `dispute`, `public_mention`, `suspicion_report`.
    #[schema(pattern = "^(fraud_investigation|account_takeover|tier2_escalation|privacy_request|privacy_complaint|refund_claim|dispute|public_mention|suspicion_report)$")]
    kind: String,
    /// Some text besides white space (trimmed), at most 200 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 200)]
    title: String,
    #[serde(default)]
    #[schema(max_length = 20000)]
    description: String,
    /// `low` | `normal` | `high` | `urgent` (absent: the kind's).
    #[serde(default)]
    #[schema(pattern = "^(low|normal|high|urgent)$")]
    priority: Option<String>,
    /// The support tier: 1 first line, 2 Tier-2 support, 3 risk experts (default 3).
    #[serde(default, deserialize_with = "wire::opt_int")]
    #[schema(minimum = 1, maximum = 3)]
    tier: Option<i64>,
    /// The customer to link; empty: none.
    #[serde(default)]
    #[schema(pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$")]
    customer_id: Option<String>,
    /// Orders to link (at most 100).
    #[serde(default)]
    #[schema(max_items = 100, inline)]
    order_ids: Vec<OrderIdIn>,
    /// The escalating system (`helpdesk`); with `source_ref`, a second call returns the same case.
    /// Empty: none.
    #[serde(default)]
    #[schema(max_length = 64)]
    source: Option<String>,
    /// The ticket id in that system; needs `source`. Empty: none.
    #[serde(default)]
    #[schema(max_length = 200)]
    source_ref: Option<String>,
}

/// A shop's order id.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
pub struct OrderIdIn(String);

#[derive(Serialize, utoipa::ToSchema)]
pub struct SlaOut {
    first_response_due_at: chrono::DateTime<chrono::Utc>,
    resolution_due_at: chrono::DateTime<chrono::Utc>,
    /// `running` | `warning` | `breached` | `paused` | `stopped`.
    first_response: String,
    resolution: String,
    /// Working seconds left until resolution is due (negative once breached).
    time_left_secs: i64,
}

/// A case as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseOut {
    case_id: String,
    kind: String,
    title: String,
    description: String,
    /// `low` | `normal` | `high` | `urgent`.
    priority: String,
    tier: i64,
    /// `new` | `triage` | `investigating` | `waiting_customer` | `waiting_third_party` |
    /// `pending_approval` | `resolved` | `closed`.
    status: String,
    team: String,
    owner: Option<String>,
    opened_by: String,
    source: Option<String>,
    source_ref: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    first_response_at: Option<chrono::DateTime<chrono::Utc>>,
    resolution: Option<String>,
    summary: Option<String>,
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
    sla: SlaOut,
    /// The states a person may move it to now.
    allowed_next: Vec<&'static str>,
}

fn case_out(svc: &Service, c: CaseRecord) -> CaseOut {
    let sla = svc.case_sla(&c);
    CaseOut {
        allowed_next: c.status.next().iter().map(|s| s.as_str()).collect(),
        case_id: c.id,
        kind: c.kind,
        title: c.title,
        description: c.description,
        priority: c.priority.as_str().into(),
        tier: c.tier,
        status: c.status.as_str().into(),
        team: c.team,
        owner: c.owner,
        opened_by: c.opened_by,
        source: c.source,
        source_ref: c.source_ref,
        created_at: c.created_at,
        updated_at: c.updated_at,
        first_response_at: c.first_response_at,
        resolution: c.resolution.map(|r| r.as_str().into()),
        summary: c.summary,
        closed_at: c.closed_at,
        sla: SlaOut {
            first_response_due_at: sla.first_response_due_at,
            resolution_due_at: sla.resolution_due_at,
            first_response: sla.first_response.as_str().into(),
            resolution: sla.resolution.as_str().into(),
            time_left_secs: sla.time_left_secs,
        },
    }
}

pub(super) fn opened(svc: &Service, o: Opened) -> Response {
    match o {
        Opened::Created(c) => (StatusCode::CREATED, Json(case_out(svc, c))).into_response(),
        Opened::Existing(c) => (StatusCode::OK, Json(case_out(svc, c))).into_response(),
    }
}

/// Open a case. The same `source` + `source_ref` again answers 200 with the same case.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = OpenIn,
    responses((status = 201, body = CaseOut), (status = 200, description = "the case of this source_ref, already open", body = CaseOut),
              (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn open(State(st): St, Api(cap, _): Api<CaseOpener>, Body(b): Body<OpenIn>) -> ApiResult<Response> {
    wire::no_blank("priority", &b.priority)?;
    let input = OpenCase {
        kind: b.kind,
        title: b.title,
        description: b.description,
        priority: b.priority,
        tier: b.tier,
        customer_id: b.customer_id,
        order_ids: b.order_ids.into_iter().map(|o| o.0).collect(),
        source: b.source,
        source_ref: b.source_ref,
    };
    Ok(opened(&st.service, st.service.open_case(&cap, input).await?))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (default), `closed` (resolved and closed), `all`, or one status.
    #[param(pattern = "^(open|closed|all|new|triage|investigating|waiting_customer|waiting_third_party|pending_approval|resolved)$")]
    pub status: Option<String>,
    /// A kind of case; empty means any.
    #[param(pattern = "^(|fraud_investigation|account_takeover|tier2_escalation|privacy_request|privacy_complaint|refund_claim|dispute|public_mention|suspicion_report)$")]
    pub kind: Option<String>,
    /// A team; empty means any.
    #[param(pattern = "^(|fraud|risk|payments|privacy|logistics|warehouse|finance|payment_provider)$")]
    pub team: Option<String>,
    /// A username, or `me`.
    pub owner: Option<String>,
    /// `true`: only cases nobody owns.
    pub unassigned: Option<bool>,
    /// A priority; empty means any.
    #[param(pattern = "^(|low|normal|high|urgent)$")]
    pub priority: Option<String>,
    /// Words of the title.
    pub q: Option<String>,
    /// 1-500 (default 100; beyond, the nearest bound).
    pub limit: Option<i64>,
    /// Below 0: 0.
    pub offset: Option<i64>,
}

/// The filter a list query asks for; `me` is the caller.
pub fn filter_of(q: &ListQuery, me: Option<&str>) -> Result<riskdesk_service::cases::CaseFilter, ApiError> {
    use riskdesk_domain::cases::{CaseKind, CaseStatus, Priority, team_label};
    let statuses = match q.status.as_deref().unwrap_or("open") {
        "open" => None,
        "all" => Some(vec![]),
        "closed" => Some(vec![CaseStatus::Resolved, CaseStatus::Closed]),
        s => Some(vec![CaseStatus::parse(s).ok_or_else(|| ApiError::invalid("status", "open, closed, all or a status"))?]),
    };
    let priority = match q.priority.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(Priority::parse(p).ok_or_else(|| ApiError::invalid("priority", "low, normal, high or urgent"))?),
        None => None,
    };
    let kind = q.kind.clone().filter(|k| !k.is_empty());
    if kind.as_deref().is_some_and(|k| CaseKind::parse(k).is_none()) {
        return Err(ApiError::invalid("kind", "is not a kind of case"));
    }
    let team = q.team.clone().filter(|t| !t.is_empty());
    if team.as_deref().is_some_and(|t| team_label(t).is_none()) {
        return Err(ApiError::invalid("team", "is not a team"));
    }
    let owner = q.owner.as_deref().filter(|o| !o.is_empty()).map(|o| if o == "me" { me.unwrap_or("-").to_owned() } else { o.to_owned() });
    Ok(riskdesk_service::cases::CaseFilter {
        statuses,
        kind,
        team,
        owner,
        unassigned: q.unassigned.unwrap_or(false),
        priority,
        text: q.q.clone().filter(|t| !t.trim().is_empty()).map(|t| t.trim().chars().take(100).collect()),
        limit: q.limit.unwrap_or(100).clamp(1, 500),
        offset: q.offset.unwrap_or(0).max(0),
        ..Default::default()
    })
}

/// Cases, open ones first by working time left (paused ones after running ones).
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(ListQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn list(State(st): St, Api(cap, caller): Api<CaseViewer>, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<Response> {
    let me = caller.person().map(|a| a.user().username.clone());
    let f = filter_of(&q, me.as_deref())?;
    let (cases, total) = st.service.cases(&cap, &f).await?;
    let items: Vec<CaseOut> = cases.into_iter().map(|c| case_out(&st.service, c)).collect();
    Ok(Json(json!({"cases": items, "total": total})).into_response())
}

/// One case with its timeline, tasks, and every link with where else it appears.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn one(State(st): St, Api(cap, _): Api<CaseViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let v = st.service.case_view(&cap, &id).await?;
    let mut out = serde_json::to_value(case_out(&st.service, v.case)).unwrap_or_default();
    out["timeline"] = json!(v.events);
    out["tasks"] = json!(v.tasks);
    out["links"] = json!(v.links);
    Ok(Json(out).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// The next state (`pending_approval` is entered by proposing a decision: 409).
    #[schema(pattern = "^(new|triage|investigating|waiting_customer|waiting_third_party|pending_approval|resolved|closed)$")]
    to: String,
    /// Required to resolve or close (unless the case has one).
    #[serde(default)]
    #[schema(pattern = "^(confirmed_fraud|no_fraud|account_secured|customer_compensated|request_fulfilled|declined|referred_externally|duplicate|no_action)$")]
    resolution: Option<String>,
    /// Required to resolve or close (unless the case has one); empty: none.
    #[serde(default)]
    #[schema(max_length = 20000)]
    summary: Option<String>,
    /// Empty: none.
    #[serde(default)]
    #[schema(max_length = 20000)]
    note: Option<String>,
}

/// Move a case. An illegal move answers 409 naming the allowed next states; resolving or
/// closing without `resolution` or `summary` answers 422 naming the field.
#[utoipa::path(post, path = "/api/v1/cases/{id}/transition", tag = "cases", params(("id" = String, Path)), request_body = TransitionIn,
    responses((status = 200, body = CaseOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn transition(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>, Body(b): Body<TransitionIn>) -> ApiResult<Response> {
    wire::no_blank("resolution", &b.resolution)?;
    let c = st.service.move_case(&cap, &id, Move { to: b.to, resolution: b.resolution, summary: b.summary, note: b.note }).await?;
    Ok(Json(case_out(&st.service, c)).into_response())
}

/// The notes of a case's timeline.
#[utoipa::path(get, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn notes(State(st): St, Api(cap, _): Api<CaseViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let v = st.service.case_view(&cap, &id).await?;
    let notes: Vec<_> = v.events.into_iter().filter(|e| e.kind == "note").collect();
    Ok(Json(json!({"notes": notes})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseNoteIn {
    /// Some text besides white space (trimmed), at most 20,000 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 20000)]
    text: String,
}

/// Add a note (evidence) to a case: its author becomes a maker of any decision proposed on it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = String, Path)), request_body = CaseNoteIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn add_note(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>, Body(b): Body<CaseNoteIn>) -> ApiResult<Response> {
    st.service.add_case_note(&cap, &id, &b.text).await?;
    Ok((StatusCode::CREATED, Json(json!({"case_id": id}))).into_response())
}

/// A case's tasks: its playbook checklist and hand-offs.
#[utoipa::path(get, path = "/api/v1/cases/{id}/tasks", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn tasks(State(st): St, Api(cap, _): Api<CaseViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let v = st.service.case_view(&cap, &id).await?;
    Ok(Json(json!({"tasks": v.tasks})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIn {
    /// Some text besides white space (trimmed), at most 300 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 300)]
    title: String,
    #[serde(default)]
    mandatory: bool,
    /// Hand the task to this team (`logistics`, `warehouse`, `finance`, `payment_provider`, …).
    #[serde(default)]
    #[schema(pattern = "^(fraud|risk|payments|privacy|logistics|warehouse|finance|payment_provider)$")]
    team: Option<String>,
    /// In the future; required for a hand-off (RFC 3339).
    #[serde(default)]
    due_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Add a task, or hand one to another team with a due time.
#[utoipa::path(post, path = "/api/v1/cases/{id}/tasks", tag = "cases", params(("id" = String, Path)), request_body = TaskIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn add_task(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>, Body(b): Body<TaskIn>) -> ApiResult<Response> {
    wire::no_blank("team", &b.team)?;
    let t = st.service.add_case_task(&cap, &id, NewTask { title: b.title, mandatory: b.mandatory, team: b.team, due_at: b.due_at }).await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdateIn {
    /// `done` | `cancelled` | `open`.
    #[schema(pattern = "^(done|cancelled|open)$")]
    status: String,
    /// The other team's answer (required to answer a hand-off).
    #[serde(default)]
    #[schema(max_length = 20000)]
    answer: Option<String>,
}

/// Finish, cancel or reopen a task; answer a hand-off.
#[utoipa::path(post, path = "/api/v1/cases/{id}/tasks/{task_id}", tag = "cases", params(("id" = String, Path), ("task_id" = String, Path)),
    request_body = TaskUpdateIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn update_task(
    State(st): St,
    Api(cap, _): Api<CaseWorker>,
    Path((id, task_id)): Path<(String, String)>,
    Body(b): Body<TaskUpdateIn>,
) -> ApiResult<Response> {
    let t = st.service.finish_case_task(&cap, &task_id, &b.status, b.answer.as_deref()).await?;
    if t.case_id != id {
        return Err(ApiError::not_found());
    }
    Ok(Json(t).into_response())
}

/// A case's links, each with the other cases, decisions and labels it appears in.
#[utoipa::path(get, path = "/api/v1/cases/{id}/links", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn links(State(st): St, Api(cap, _): Api<CaseViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let v = st.service.case_view(&cap, &id).await?;
    Ok(Json(json!({"links": v.links})).into_response())
}

/// What to link, by `kind`: an order or customer id (`A-Z a-z 0-9 - _ . : # / @ + =`, at most
/// 128), or an entity as `kind:hexhash` (a kind of lowercase letters and `_`, a hash of 8 to 64
/// hex digits).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LinkIn {
    Order {
        #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
        value: String,
    },
    Customer {
        #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
        value: String,
    },
    Entity {
        #[schema(pattern = "^[a-z_]+:[0-9A-Fa-f]{8,64}$")]
        value: String,
    },
}

impl LinkIn {
    /// The kind and the value.
    pub(super) fn parts(self) -> (&'static str, String) {
        match self {
            Self::Order { value } => ("order", value),
            Self::Customer { value } => ("customer", value),
            Self::Entity { value } => ("entity", value),
        }
    }
}

/// Link an order, customer or entity.
#[utoipa::path(post, path = "/api/v1/cases/{id}/links", tag = "cases", params(("id" = String, Path)), request_body = LinkIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn add_link(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>, Body(b): Body<LinkIn>) -> ApiResult<Response> {
    let (kind, value) = b.parts();
    st.service.link_case(&cap, &id, kind, &value).await?;
    Ok((StatusCode::CREATED, Json(json!({"case_id": id}))).into_response())
}

/// Remove a link.
#[utoipa::path(delete, path = "/api/v1/cases/{id}/links/{kind}/{value}", tag = "cases",
    params(("id" = String, Path), ("kind" = String, Path), ("value" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn remove_link(State(st): St, Api(cap, _): Api<CaseWorker>, Path((id, kind, value)): Path<(String, String, String)>) -> ApiResult<Response> {
    st.service.unlink_case(&cap, &id, &kind, &value).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Take a case: you become its owner.
#[utoipa::path(post, path = "/api/v1/cases/{id}/take", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = CaseOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn take(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(case_out(&st.service, st.service.take_case(&cap, &id, true).await?)).into_response())
}

/// Give back a case you own.
#[utoipa::path(post, path = "/api/v1/cases/{id}/give-back", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = CaseOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn give_back(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(case_out(&st.service, st.service.take_case(&cap, &id, false).await?)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseAssignIn {
    /// An enabled user who works cases; empty, null or absent unassigns.
    #[serde(default)]
    username: Option<String>,
}

/// Assign a case (team leads).
#[utoipa::path(post, path = "/api/v1/cases/{id}/assign", tag = "cases", params(("id" = String, Path)), request_body = CaseAssignIn,
    responses((status = 200, body = CaseOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn assign(State(st): St, Api(cap, _): Api<QueueAssigner>, Path(id): Path<String>, Body(b): Body<CaseAssignIn>) -> ApiResult<Response> {
    Ok(Json(case_out(&st.service, st.service.assign_case(&cap, &id, b.username.as_deref()).await?)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct PriorityIn {
    /// `low` | `normal` | `high` | `urgent`; the SLA budget follows.
    #[serde(default, deserialize_with = "wire::present")]
    #[schema(pattern = "^(low|normal|high|urgent)$", nullable = false)]
    priority: Option<String>,
    /// 1, 2 or 3: the support tier.
    #[serde(default, deserialize_with = "wire::present_int")]
    #[schema(minimum = 1, maximum = 3, nullable = false)]
    tier: Option<i64>,
}

/// Change a case's priority (the SLA budget follows) or support tier.
#[utoipa::path(post, path = "/api/v1/cases/{id}/priority", tag = "cases", params(("id" = String, Path)), request_body = PriorityIn,
    responses((status = 200, body = CaseOut), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn priority(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>, Body(b): Body<PriorityIn>) -> ApiResult<Response> {
    let mut c = None;
    if let Some(p) = &b.priority {
        c = Some(st.service.set_case_priority(&cap, &id, p).await?);
    }
    if let Some(t) = b.tier {
        c = Some(st.service.set_case_tier(&cap, &id, t).await?);
    }
    let c = c.ok_or_else(|| crate::http::error::ApiError::invalid("priority", "give priority or tier"))?;
    Ok(Json(case_out(&st.service, c)).into_response())
}
