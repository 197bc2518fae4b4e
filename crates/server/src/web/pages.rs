//! Page and action handlers. Each handler asks the signed-in analyst for the capability it
//! needs and answers 403 without one; actions check the CSRF token first.

use super::graph::{self, Graph};
use super::session::{COOKIE, ClientAddr, Signed, csrf_ok, removal_cookie, secure_cookie, session_cookie};
use crate::api::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use riskdesk_domain::OrderId;
use riskdesk_domain::workspace::{AuditRecord, Permission, Proposal, ProposalKind, ReviewAction, ReviewReason, Role};
use riskdesk_service::ServiceError;
use riskdesk_service::lists::NewListEntry;
use riskdesk_service::rules::{Backtest, Candidate};
use riskdesk_service::workspace::Analyst;
use riskdesk_service::workspace::pii::Party;
use riskdesk_service::workspace::proposals::BlockCustomerPayload;
use riskdesk_service::workspace::review::{OrderView, ReviewInput, ReviewOutcome};
use riskdesk_store::workspace::{AuditFilter, QueueFilter, QueueSort, QueueState, QueueStats, ReviewItem};
use riskdesk_store::{ListEntry, RuleSetChange, RuleSetRecord, ScreeningControl};
use serde::Deserialize;
use std::sync::Arc;

type St = State<Arc<AppState>>;

/// An error page or fragment with the right status.
pub struct WebError(StatusCode, String);

impl WebError {
    fn forbidden() -> Self {
        Self(StatusCode::FORBIDDEN, "Your role does not allow this.".into())
    }
    fn bad(msg: impl Into<String>) -> Self {
        Self(StatusCode::UNPROCESSABLE_ENTITY, msg.into())
    }
    fn not_found() -> Self {
        Self(StatusCode::NOT_FOUND, "Not found.".into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let body = ErrorPage { status: self.0.as_u16(), message: &self.1 }.render().unwrap_or_default();
        (self.0, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    }
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => Self(StatusCode::NOT_FOUND, format!("{what} not found")),
            ServiceError::Conflict(m) => Self(StatusCode::CONFLICT, m),
            ServiceError::Invalid(m) => Self::bad(m),
            ServiceError::Forbidden(m) => Self(StatusCode::FORBIDDEN, m),
            ServiceError::Store(riskdesk_store::StoreError::Conflict(m)) => Self(StatusCode::CONFLICT, m),
            ServiceError::Rules(errs) => Self::bad(errs.to_string()),
            ServiceError::ListLines(lines) => Self::bad(
                lines
                    .iter()
                    .map(|l| format!("line {}: {}: {}", l.line, l.field, l.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            e => {
                tracing::error!(error = %e, "page failed");
                Self(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error; the request id identifies it in the logs.".into(),
                )
            }
        }
    }
}

type WebResult<T> = Result<T, WebError>;

/// What the navigation bar needs on every page.
pub struct Nav {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub active: &'static str,
    pub rules: bool,
    pub audit: bool,
    pub users: bool,
}

impl Nav {
    fn of(a: &Analyst, active: &'static str) -> Self {
        Self {
            name: a.user().display_name.clone(),
            role: a.role().label(),
            csrf: a.csrf().to_owned(),
            active,
            rules: a.may(Permission::ViewRules),
            audit: a.may(Permission::ViewAudit),
            users: a.may(Permission::ManageUsers),
        }
    }
}

fn check_csrf(a: &Analyst, headers: &HeaderMap, token: &Option<String>) -> WebResult<()> {
    if csrf_ok(a, headers, token.as_deref()) {
        Ok(())
    } else {
        Err(WebError(StatusCode::FORBIDDEN, "The form expired or did not come from this site; reload the page.".into()))
    }
}

fn back_to(path: String) -> Response {
    Redirect::to(&path).into_response()
}

/// An amount as analysts read it, through the domain's `Money` (the currency's own decimals).
fn money(minor: i64, currency: &str) -> String {
    match riskdesk_domain::Currency::parse(currency, "currency") {
        Ok(c) => format!("{} {currency}", riskdesk_domain::Money::new(minor, c).amount_string()),
        Err(_) => format!("{minor} {currency}"),
    }
}

fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let m = (now - t).num_minutes();
    match m {
        m if m < 0 => format!("in {} min", -m),
        0..=59 => format!("{m} min ago"),
        60..=2879 => format!("{} h ago", m / 60),
        _ => format!("{} d ago", m / 1440),
    }
}

fn until(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let m = (t - now).num_minutes();
    if m < 0 {
        let late = -m;
        if late < 120 {
            format!("{late} min late")
        } else if late < 2880 {
            format!("{} h late", late / 60)
        } else {
            format!("{} d late", late / 1440)
        }
    } else if m < 120 {
        format!("{m} min left")
    } else {
        format!("{} h left", m / 60)
    }
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn start_of_today(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc())
}

// ---------------------------------------------------------------------------------------------
// Sign-in

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn safe_next(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control() || c.is_whitespace())
    })
    .unwrap_or_else(|| "/".into())
}

pub async fn login_page(Query(q): Query<NextQuery>) -> impl IntoResponse {
    LoginPage { error: None, next: safe_next(q.next) }
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(st): St,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> WebResult<Response> {
    let next = safe_next(f.next);
    if super::session::cross_site(&headers) {
        return Err(WebError(StatusCode::FORBIDDEN, "Sign in from riskdesk's own sign-in page.".into()));
    }
    match st.service.login(&f.username, &f.password, &client).await? {
        Ok(token) => {
            let secure = secure_cookie(&st.secure_cookies, &headers);
            // A fresh token at every sign-in; the old cookie (if any) is replaced.
            Ok((jar.add(session_cookie(token.0, secure)), Redirect::to(&next)).into_response())
        }
        Err(e) => {
            let message = match e {
                riskdesk_service::workspace::LoginError::Invalid => {
                    "Sign-in failed: the username or password is not right."
                }
                riskdesk_service::workspace::LoginError::Throttled => {
                    "Too many failed sign-ins. Wait a few minutes and try again."
                }
            };
            let status = match e {
                riskdesk_service::workspace::LoginError::Invalid => StatusCode::UNAUTHORIZED,
                riskdesk_service::workspace::LoginError::Throttled => StatusCode::TOO_MANY_REQUESTS,
            };
            Ok((status, LoginPage { error: Some(message.into()), next }).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn logout(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    if let Some(c) = jar.get(COOKIE) {
        st.service.logout(c.value()).await?;
    }
    Ok((jar.remove(removal_cookie()), Redirect::to("/login")).into_response())
}

// ---------------------------------------------------------------------------------------------
// Home

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    stats: QueueStats,
    oldest: String,
    pending: usize,
    mine: i64,
}

pub async fn home(State(st): St, Signed(a): Signed) -> WebResult<impl IntoResponse> {
    let cap = a.orders().ok_or_else(WebError::forbidden)?;
    let now = st.service.now();
    let stats = st.service.queue_stats(&cap, start_of_today(now)).await?;
    let pending = st.service.proposals(true).await?.len();
    let f = QueueFilter { claimed_by: Some(a.user().username.clone()), limit: 1, ..Default::default() };
    let (_, mine) = st.service.review_queue(&cap, &f).await?;
    let oldest = stats.oldest_placed_at.map(|t| ago(t, now)).unwrap_or_else(|| "—".into());
    Ok(HomePage { nav: Nav::of(&a, "home"), stats, oldest, pending, mine })
}

// ---------------------------------------------------------------------------------------------
// Queue

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    state: Option<String>,
    channel: Option<String>,
    country: Option<String>,
    method: Option<String>,
    rule: Option<String>,
    min: Option<String>,
    max: Option<String>,
    mine: Option<String>,
    sort: Option<String>,
    page: Option<i64>,
}

pub struct QueueRow {
    pub item: ReviewItem,
    pub amount: String,
    pub due: String,
    pub late: bool,
    pub placed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "queue.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<QueueRow>,
    total: i64,
    page: i64,
    pages: i64,
    q: QueueQueryView,
    channels: Vec<String>,
    countries: Vec<String>,
    methods: Vec<String>,
    can_decide: bool,
    me: String,
    prev_link: String,
    next_link: String,
}

/// The filters as the form shows them again.
#[derive(Default)]
pub struct QueueQueryView {
    state: String,
    channel: String,
    country: String,
    method: String,
    rule: String,
    min: String,
    max: String,
    mine: bool,
    sort: String,
}

const PAGE: i64 = 50;

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|x| x.trim().to_owned()).filter(|x| !x.is_empty())
}

fn major_to_minor(s: &Option<String>, field: &str) -> WebResult<Option<i64>> {
    match non_empty(s) {
        None => Ok(None),
        Some(v) => v
            .parse::<rust_decimal::Decimal>()
            .ok()
            .and_then(|d| (d * rust_decimal::Decimal::from(100)).trunc().to_string().parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| WebError::bad(format!("{field}: not an amount"))),
    }
}

pub async fn queue(State(st): St, Signed(a): Signed, Query(q): Query<QueueQuery>) -> WebResult<impl IntoResponse> {
    let cap = a.orders().ok_or_else(WebError::forbidden)?;
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let state = match non_empty(&q.state).as_deref() {
        None | Some("active") => None,
        Some(s) => Some(QueueState::parse(s).ok_or_else(|| WebError::bad("state: open, held or closed"))?),
    };
    let mine = q.mine.is_some();
    let f = QueueFilter {
        state,
        channel: non_empty(&q.channel),
        country: non_empty(&q.country),
        payment_method: non_empty(&q.method),
        rule: non_empty(&q.rule),
        min_minor: major_to_minor(&q.min, "min")?,
        max_minor: major_to_minor(&q.max, "max")?,
        claimed_by: mine.then(|| a.user().username.clone()),
        sort: if q.sort.as_deref() == Some("risk") { QueueSort::Risk } else { QueueSort::CutOff },
        limit: PAGE,
        offset: (page - 1) * PAGE,
    };
    let (items, total) = st.service.review_queue(&cap, &f).await?;
    let (channels, countries, methods) = st.service.queue_facets(&cap).await?;
    let now = st.service.now();
    let rows = items
        .into_iter()
        .map(|item| QueueRow {
            amount: money(item.total_minor, &item.currency),
            due: until(item.due_at, now),
            late: item.due_at < now,
            placed: ago(item.placed_at, now),
            item,
        })
        .collect();
    let view = QueueQueryView {
        state: non_empty(&q.state).unwrap_or_default(),
        channel: non_empty(&q.channel).unwrap_or_default(),
        country: non_empty(&q.country).unwrap_or_default(),
        method: non_empty(&q.method).unwrap_or_default(),
        rule: non_empty(&q.rule).unwrap_or_default(),
        min: non_empty(&q.min).unwrap_or_default(),
        max: non_empty(&q.max).unwrap_or_default(),
        mine,
        sort: non_empty(&q.sort).unwrap_or_default(),
    };
    let link = |p: i64| {
        let mut parts = vec![format!("page={p}")];
        for (k, v) in [
            ("state", &view.state),
            ("channel", &view.channel),
            ("country", &view.country),
            ("method", &view.method),
            ("rule", &view.rule),
            ("min", &view.min),
            ("max", &view.max),
            ("sort", &view.sort),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", super::session::urlencode(v)));
            }
        }
        if mine {
            parts.push("mine=1".into());
        }
        format!("/queue?{}", parts.join("&"))
    };
    let pages = ((total + PAGE - 1) / PAGE).max(1);
    Ok(QueuePage {
        nav: Nav::of(&a, "queue"),
        rows,
        total,
        page,
        pages,
        prev_link: link(page - 1),
        next_link: link(page + 1),
        q: view,
        channels,
        countries,
        methods,
        can_decide: a.may(Permission::DecideOrders),
        me: a.user().username.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// Order page

#[derive(Template, WebTemplate)]
#[template(path = "order.html")]
struct OrderPage {
    nav: Nav,
    v: OrderView,
    id: String,
    amount: String,
    placed: String,
    due: String,
    graph: Graph,
    party: Party,
    clear: bool,
    can_decide: bool,
    can_assign: bool,
    can_unmask: bool,
    reasons: Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
    threshold: i64,
    deciders: Vec<String>,
    message: Option<String>,
    hits: Vec<Hit>,
    attributes: Vec<(String, String)>,
}

pub struct Hit {
    pub rule: String,
    pub action: String,
    pub points: i32,
    pub detail: String,
}

fn reasons_menu() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    ReviewAction::ALL
        .into_iter()
        .map(|a| (a.as_str(), ReviewReason::for_action(a).map(|r| (r.as_str(), r.label())).collect()))
        .collect()
}

fn order_id(raw: &str) -> WebResult<OrderId> {
    OrderId::parse(raw, "order_id").map_err(|_| WebError::not_found())
}

async fn order_page(
    st: &AppState,
    a: &Analyst,
    id: &OrderId,
    clear: Option<Party>,
    message: Option<String>,
) -> WebResult<Response> {
    let cap = a.orders().ok_or_else(WebError::forbidden)?;
    let v = st.service.order_view(&cap, id).await?.ok_or_else(WebError::not_found)?;
    let now = st.service.now();
    let o = &v.stored.order;
    let graph = graph::layout(o.customer.customer_id.as_str(), v.customer_fraud, &v.neighbours);
    let deciders = if a.may(Permission::AssignQueue) {
        st.service
            .store()
            .users()
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .filter(|u| u.role.allows(Permission::DecideOrders) && u.disabled_at.is_none())
            .map(|u| u.username)
            .collect()
    } else {
        Vec::new()
    };
    let hits = v
        .latest
        .as_ref()
        .map(|d| {
            d.reasons
                .iter()
                .map(|r| Hit {
                    rule: r.rule.clone(),
                    action: r.action.clone(),
                    points: r.points,
                    // Masked by the service where a value is personal.
                    detail: r.detail.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let attributes =
        o.attributes.iter().map(|(k, v)| (k.clone(), serde_json::to_string(v).unwrap_or_default())).collect();
    let page = OrderPage {
        nav: Nav::of(a, "queue"),
        id: id.to_string(),
        amount: format!("{} {}", o.total.amount_string(), o.total.currency.code()),
        placed: fmt_time(o.placed_at.with_timezone(&Utc)),
        due: v.item.as_ref().map(|i| until(i.due_at, now)).unwrap_or_default(),
        graph,
        clear: clear.is_some(),
        party: clear.unwrap_or_else(|| v.party.0.clone()),
        can_decide: a.may(Permission::DecideOrders),
        can_assign: a.may(Permission::AssignQueue),
        can_unmask: a.may(Permission::Unmask),
        reasons: reasons_menu(),
        threshold: st.service.workspace_config().cancel_four_eyes_from,
        deciders,
        message,
        hits,
        attributes,
        v,
    };
    Ok(page.into_response())
}

pub async fn order(State(st): St, Signed(a): Signed, Path(id): Path<String>) -> WebResult<Response> {
    let id = order_id(&id)?;
    order_page(&st, &a, &id, None, None).await
}

pub async fn claim(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.decider().ok_or_else(WebError::forbidden)?;
    let id = order_id(&id)?;
    st.service.claim(&cap, &id, true).await?;
    Ok(back_to(format!("/orders/{}", super::session::urlencode(id.as_str()))))
}

pub async fn unclaim(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.decider().ok_or_else(WebError::forbidden)?;
    let id = order_id(&id)?;
    st.service.claim(&cap, &id, false).await?;
    Ok(back_to(format!("/orders/{}", super::session::urlencode(id.as_str()))))
}

#[derive(Deserialize)]
pub struct AssignForm {
    csrf: Option<String>,
    user: String,
}

pub async fn assign(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.assigner().ok_or_else(WebError::forbidden)?;
    let id = order_id(&id)?;
    st.service.assign(&cap, &id, &f.user).await?;
    Ok(back_to(format!("/orders/{}", super::session::urlencode(id.as_str()))))
}

#[derive(Deserialize)]
pub struct ReviewForm {
    csrf: Option<String>,
    action: String,
    reason: String,
    #[serde(default)]
    note: String,
}

pub async fn review(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReviewForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.decider().ok_or_else(WebError::forbidden)?;
    let id = order_id(&id)?;
    let action = ReviewAction::parse(&f.action).ok_or_else(|| WebError::bad("action: release, hold or cancel"))?;
    let reason = ReviewReason::parse(&f.reason).ok_or_else(|| WebError::bad("reason: choose a reason code"))?;
    let outcome = st.service.review_order(&cap, &id, ReviewInput { action, reason, note: f.note }).await?;
    let message = match outcome {
        ReviewOutcome::Done => match action {
            ReviewAction::Release => "Order released.".to_owned(),
            ReviewAction::Hold => "Order put on hold.".to_owned(),
            ReviewAction::Cancel => "Order cancelled.".to_owned(),
        },
        ReviewOutcome::Proposed(p) => format!("Cancellation proposed ({p}); it runs when a second person approves it."),
    };
    order_page(&st, &a, &id, None, Some(message)).await
}

#[derive(Deserialize)]
pub struct UnmaskForm {
    csrf: Option<String>,
    #[serde(default)]
    purpose: String,
}

pub async fn unmask(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<UnmaskForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.unmasker().ok_or_else(WebError::forbidden)?;
    let id = order_id(&id)?;
    let party = st.service.unmask_order(&cap, &id, &f.purpose).await?;
    order_page(&st, &a, &id, Some(party), Some("Personal data shown for this page view; the access is logged.".into()))
        .await
}

// ---------------------------------------------------------------------------------------------
// Proposals

pub struct ProposalRow {
    pub p: Proposal,
    pub status: &'static str,
    pub can_decide: bool,
    pub why_not: String,
    pub is_maker: bool,
    pub can_bypass: bool,
    pub created: String,
    pub expires: String,
    pub link: String,
    pub short_hash: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "proposals.html")]
struct ProposalsPage {
    nav: Nav,
    rows: Vec<ProposalRow>,
    all: bool,
    can_amend: bool,
    cancel_reasons: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
pub struct AllQuery {
    all: Option<String>,
}

pub async fn proposals(State(st): St, Signed(a): Signed, Query(q): Query<AllQuery>) -> WebResult<impl IntoResponse> {
    a.orders().ok_or_else(WebError::forbidden)?;
    let all = q.all.is_some();
    let now = st.service.now();
    let me = a.actor();
    let rows = st
        .service
        .proposals(!all)
        .await?
        .into_iter()
        .map(|p| {
            let check = p.may_decide(&me.id, a.role(), now);
            let link = match p.kind {
                ProposalKind::CancelOrder => format!("/orders/{}", super::session::urlencode(&p.target)),
                ProposalKind::PublishRuleSet => format!("/rules/{}", p.target),
                ProposalKind::BlockCustomer => "/lists".into(),
            };
            ProposalRow {
                status: p.status_at(now).as_str(),
                can_decide: check.is_ok(),
                why_not: check.err().map(|r| r.to_string()).unwrap_or_default(),
                is_maker: p.makers.contains(&me.id),
                can_bypass: a.may(Permission::EmergencyBypass)
                    && p.status_at(now) == riskdesk_domain::workspace::ProposalStatus::Pending,
                created: fmt_time(p.created_at),
                expires: fmt_time(p.expires_at),
                link,
                short_hash: p.payload_hash.chars().take(12).collect(),
                p,
            }
        })
        .collect();
    let cancel_reasons = ReviewReason::for_action(ReviewAction::Cancel).map(|r| (r.as_str(), r.label())).collect();
    Ok(ProposalsPage {
        nav: Nav::of(&a, "proposals"),
        rows,
        all,
        can_amend: a.may(Permission::DecideOrders),
        cancel_reasons,
    })
}

#[derive(Deserialize)]
pub struct DecideForm {
    csrf: Option<String>,
    #[serde(default)]
    payload_hash: String,
    #[serde(default)]
    note: String,
}

fn note(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.chars().take(1000).collect())
}

pub async fn approve(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.approver().ok_or_else(WebError::forbidden)?;
    st.service.approve_proposal(&cap, &id, &f.payload_hash, note(&f.note)).await?;
    Ok(back_to("/proposals?all=1".into()))
}

pub async fn reject(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.approver().ok_or_else(WebError::forbidden)?;
    st.service.reject_proposal(&cap, &id, note(&f.note)).await?;
    Ok(back_to("/proposals?all=1".into()))
}

#[derive(Deserialize)]
pub struct AmendForm {
    csrf: Option<String>,
    reason: String,
    #[serde(default)]
    note: String,
}

pub async fn amend(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AmendForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.decider().ok_or_else(WebError::forbidden)?;
    let reason = ReviewReason::parse(&f.reason).ok_or_else(|| WebError::bad("reason: choose a reason code"))?;
    st.service.amend_cancel(&cap, &id, ReviewInput { action: ReviewAction::Cancel, reason, note: f.note }).await?;
    Ok(back_to("/proposals".into()))
}

pub async fn withdraw(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    a.orders().ok_or_else(WebError::forbidden)?;
    st.service.withdraw_proposal(&a.actor(), &id).await?;
    Ok(back_to("/proposals?all=1".into()))
}

pub async fn bypass(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    if !a.may(Permission::EmergencyBypass) {
        return Err(WebError::forbidden());
    }
    let cap = a.approver().ok_or_else(WebError::forbidden)?;
    st.service.bypass_proposal(&cap, &id, &f.note).await?;
    Ok(back_to("/proposals?all=1".into()))
}

// ---------------------------------------------------------------------------------------------
// Rules

#[derive(Template, WebTemplate)]
#[template(path = "rules.html")]
struct RulesPage {
    nav: Nav,
    versions: Vec<RuleSetRecord>,
    control: ScreeningControl,
    changes: Vec<RuleSetChange>,
    can_edit: bool,
    draft: String,
}

pub async fn rules(State(st): St, Signed(a): Signed) -> WebResult<impl IntoResponse> {
    let cap = a.rules_viewer().ok_or_else(WebError::forbidden)?;
    let (mut versions, control, mut changes) = st.service.rulesets(&cap).await?;
    versions.reverse();
    changes.reverse();
    changes.truncate(20);
    let draft = control
        .live_version
        .and_then(|v| versions.iter().find(|r| r.version == v))
        .map(|r| r.source.clone())
        .unwrap_or_default();
    Ok(RulesPage {
        nav: Nav::of(&a, "rules"),
        versions,
        control,
        changes,
        can_edit: a.may(Permission::EditRules),
        draft,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "ruleset.html")]
struct RuleSetPage {
    nav: Nav,
    r: RuleSetRecord,
    control: ScreeningControl,
    can_edit: bool,
    shadow: Vec<ShadowRow>,
    shadow_same: usize,
    backtest: Option<BacktestView>,
    message: Option<String>,
}

pub struct ShadowRow {
    pub order_id: String,
    pub shadow: String,
    pub shadow_score: u8,
    pub live: String,
}

pub struct BacktestView {
    pub b: Backtest,
    pub precision: String,
    pub recall: String,
    pub live_precision: String,
    pub live_recall: String,
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1} %", v * 100.0)).unwrap_or_else(|| "—".into())
}

async fn ruleset_page(
    st: &AppState,
    a: &Analyst,
    version: i64,
    backtest: Option<Backtest>,
    message: Option<String>,
) -> WebResult<Response> {
    let cap = a.rules_viewer().ok_or_else(WebError::forbidden)?;
    let r = st.service.ruleset(&cap, version).await?;
    let control = st.service.store().screening_control().await.map_err(ServiceError::from)?;
    let rows = st.service.store().shadow_decisions(version, 200).await.map_err(ServiceError::from)?;
    let shadow_same = rows.iter().filter(|(s, l)| l.as_ref().map(|d| d.decision) == Some(s.decision)).count();
    let shadow = rows
        .into_iter()
        .map(|(s, l)| ShadowRow {
            order_id: s.order_id.to_string(),
            shadow: s.decision.to_string(),
            shadow_score: s.score,
            live: l.map(|d| d.decision.to_string()).unwrap_or_else(|| "—".into()),
        })
        .collect();
    let backtest = backtest.map(|b| BacktestView {
        precision: pct(b.candidate.precision),
        recall: pct(b.candidate.recall),
        live_precision: pct(b.live.as_ref().and_then(|l| l.precision)),
        live_recall: pct(b.live.as_ref().and_then(|l| l.recall)),
        b,
    });
    Ok(RuleSetPage {
        nav: Nav::of(a, "rules"),
        r,
        control,
        can_edit: a.may(Permission::EditRules),
        shadow,
        shadow_same,
        backtest,
        message,
    }
    .into_response())
}

fn version_of(raw: &str) -> WebResult<i64> {
    raw.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(WebError::not_found)
}

pub async fn ruleset(State(st): St, Signed(a): Signed, Path(v): Path<String>) -> WebResult<Response> {
    ruleset_page(&st, &a, version_of(&v)?, None, None).await
}

#[derive(Deserialize)]
pub struct SourceForm {
    csrf: Option<String>,
    source: String,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "validation.html")]
struct ValidationFragment {
    ok: bool,
    summary: String,
    errors: Vec<String>,
}

/// Validation as the analyst types: a fragment htmx swaps in under the editor.
pub async fn rules_validate(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Form(f): Form<SourceForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    a.rules_admin().ok_or_else(WebError::forbidden)?;
    let frag = match st.service.validate_rules(&f.source) {
        Ok(v) => ValidationFragment {
            ok: true,
            summary: format!("Valid: {} rules, {} enabled.", v.rules, v.enabled),
            errors: Vec::new(),
        },
        Err(ServiceError::Rules(errs)) => ValidationFragment {
            ok: false,
            summary: format!("{} problem(s)", errs.0.len()),
            errors: errs.0.iter().map(|e| e.to_string()).collect(),
        },
        Err(e) => return Err(e.into()),
    };
    let body = frag.render().map_err(|_| WebError::bad("render"))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

pub async fn rules_save(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Form(f): Form<SourceForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    let (v, _) = st.service.save_ruleset(&cap, &f.source, f.note.trim()).await?;
    Ok(back_to(format!("/rules/{v}")))
}

pub async fn rules_backtest(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(v): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    a.rules_admin().ok_or_else(WebError::forbidden)?;
    let read = a.rules_viewer().ok_or_else(WebError::forbidden)?;
    let v = version_of(&v)?;
    let b = st.service.backtest(&read, Candidate::Version(v)).await?;
    ruleset_page(&st, &a, v, Some(b), None).await
}

pub async fn rules_shadow(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(v): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    let v = version_of(&v)?;
    st.service.shadow_ruleset(&cap, Some(v)).await?;
    Ok(back_to(format!("/rules/{v}")))
}

pub async fn rules_shadow_stop(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    st.service.shadow_ruleset(&cap, None).await?;
    Ok(back_to("/rules".into()))
}

pub async fn rules_propose(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(v): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    let v = version_of(&v)?;
    let id = st.service.propose_publish(&cap, v).await?;
    ruleset_page(
        &st,
        &a,
        v,
        None,
        Some(format!("Publishing proposed ({id}); it goes live when a second person approves it.")),
    )
    .await
}

pub async fn rules_rollback(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    st.service.rollback_ruleset(&cap).await?;
    Ok(back_to("/rules".into()))
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Template, WebTemplate)]
#[template(path = "lists.html")]
struct ListsPage {
    nav: Nav,
    entries: Vec<ListEntry>,
    can_edit: bool,
    kinds: Vec<&'static str>,
    message: Option<String>,
}

async fn lists_page(st: &AppState, a: &Analyst, message: Option<String>) -> WebResult<Response> {
    let cap = a.rules_viewer().ok_or_else(WebError::forbidden)?;
    let mut entries = st.service.list_entries(&cap).await?;
    entries.reverse();
    // Personal values are masked on this page for every role: whoever adds an entry knows it,
    // and the page must be no way around the audited unmask.
    for e in &mut entries {
        e.value = riskdesk_service::workspace::pii::mask_list_value(e.kind, &e.value);
    }
    let kinds = riskdesk_rules::needs::ListKind::ALL.iter().map(|k| k.as_str()).collect();
    Ok(ListsPage { nav: Nav::of(a, "lists"), entries, can_edit: a.may(Permission::EditRules), kinds, message }
        .into_response())
}

pub async fn lists(State(st): St, Signed(a): Signed) -> WebResult<Response> {
    lists_page(&st, &a, None).await
}

#[derive(Deserialize)]
pub struct ListForm {
    csrf: Option<String>,
    list: String,
    kind: String,
    value: String,
    reason: String,
    #[serde(default)]
    expires_days: String,
}

fn expiry(days: &str, now: DateTime<Utc>) -> WebResult<Option<DateTime<Utc>>> {
    match days.trim() {
        "" => Ok(None),
        d => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(|d| Some(now + chrono::Duration::days(d)))
            .ok_or_else(|| WebError::bad("expires_days: a number of days from 1 to 3650")),
    }
}

pub async fn lists_add(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Form(f): Form<ListForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    let expires_at = expiry(&f.expires_days, st.service.now())?;
    if f.list == "block" && f.kind == "customer" {
        let id = st
            .service
            .propose_block_customer(&cap, BlockCustomerPayload { customer_id: f.value, reason: f.reason, expires_at })
            .await?;
        return lists_page(&st, &a, Some(format!("Blocking a customer needs four eyes: proposed ({id})."))).await;
    }
    let e = NewListEntry { list: f.list, kind: f.kind, value: f.value, reason: f.reason, expires_at };
    st.service.add_list_entries(&cap, &[e]).await?;
    lists_page(&st, &a, Some("Entry added.".into())).await
}

#[derive(Deserialize)]
pub struct BlockForm {
    csrf: Option<String>,
    customer_id: String,
    reason: String,
}

pub async fn lists_block_customer(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Form(f): Form<BlockForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    let id = st
        .service
        .propose_block_customer(
            &cap,
            BlockCustomerPayload { customer_id: f.customer_id, reason: f.reason, expires_at: None },
        )
        .await?;
    lists_page(&st, &a, Some(format!("Blocking a customer needs four eyes: proposed ({id})."))).await
}

pub async fn lists_remove(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.rules_admin().ok_or_else(WebError::forbidden)?;
    st.service.remove_list_entry(&cap, &id).await?;
    lists_page(&st, &a, Some("Entry removed.".into())).await
}

// ---------------------------------------------------------------------------------------------
// Audit

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    subject: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    records: Vec<AuditRecord>,
    q_actor: String,
    q_action: String,
    q_subject: String,
    q_from: String,
    q_to: String,
    older: Option<String>,
    csv_link: String,
}

fn day(s: &Option<String>, field: &str) -> WebResult<Option<DateTime<Utc>>> {
    match non_empty(s) {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Some(t.and_utc()))
            .ok_or_else(|| WebError::bad(format!("{field}: a date as YYYY-MM-DD"))),
    }
}

fn audit_filter(q: &AuditQuery, limit: i64) -> WebResult<AuditFilter> {
    Ok(AuditFilter {
        actor: non_empty(&q.actor),
        action: non_empty(&q.action),
        subject: non_empty(&q.subject),
        from: day(&q.from, "from")?,
        // The `to` day is included.
        to: day(&q.to, "to")?.map(|t| t + chrono::Duration::days(1)),
        before_seq: q.before,
        limit,
    })
}

fn audit_query_string(q: &AuditQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in
        [("actor", &q.actor), ("action", &q.action), ("subject", &q.subject), ("from", &q.from), ("to", &q.to)]
    {
        if let Some(v) = non_empty(v) {
            parts.push(format!("{k}={}", super::session::urlencode(&v)));
        }
    }
    parts.join("&")
}

pub async fn audit(State(st): St, Signed(a): Signed, Query(q): Query<AuditQuery>) -> WebResult<impl IntoResponse> {
    let cap = a.audit_reader().ok_or_else(WebError::forbidden)?;
    let records = st.service.audit_records(&cap, &audit_filter(&q, 100)?).await?;
    let qs = audit_query_string(&q);
    let older = (records.len() == 100).then(|| {
        let last = records.last().map_or(0, |r| r.seq);
        if qs.is_empty() { format!("/audit?before={last}") } else { format!("/audit?{qs}&before={last}") }
    });
    Ok(AuditPage {
        nav: Nav::of(&a, "audit"),
        records,
        q_actor: non_empty(&q.actor).unwrap_or_default(),
        q_action: non_empty(&q.action).unwrap_or_default(),
        q_subject: non_empty(&q.subject).unwrap_or_default(),
        q_from: non_empty(&q.from).unwrap_or_default(),
        q_to: non_empty(&q.to).unwrap_or_default(),
        older,
        csv_link: if qs.is_empty() { "/audit.csv".into() } else { format!("/audit.csv?{qs}") },
    })
}

/// The filtered log as CSV (at most 100,000 rows). Cells that a spreadsheet would read as a
/// formula are prefixed with a quote.
pub async fn audit_csv(State(st): St, Signed(a): Signed, Query(q): Query<AuditQuery>) -> WebResult<Response> {
    let cap = a.audit_reader().ok_or_else(WebError::forbidden)?;
    let records = st.service.audit_records(&cap, &audit_filter(&q, 100_000)?).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let cell = |s: &str| if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    let _ = w.write_record(["seq", "at", "actor", "action", "subject", "purpose", "request_id", "flagged", "detail"]);
    for r in &records {
        let e = &r.entry;
        let _ = w.write_record([
            r.seq.to_string(),
            e.at.to_rfc3339(),
            cell(&e.actor),
            cell(&e.action),
            cell(&e.subject),
            cell(e.purpose.as_deref().unwrap_or("")),
            cell(e.request_id.as_deref().unwrap_or("")),
            e.flagged.to_string(),
            cell(&e.detail),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"riskdesk-audit.csv\""),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Users

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<riskdesk_store::workspace::UserRecord>,
    roles: Vec<(&'static str, &'static str)>,
    message: Option<String>,
}

async fn users_page(st: &AppState, a: &Analyst, message: Option<String>) -> WebResult<Response> {
    let cap = a.user_admin().ok_or_else(WebError::forbidden)?;
    let users = st.service.users(&cap).await?;
    let roles = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    Ok(UsersPage { nav: Nav::of(a, "users"), users, roles, message }.into_response())
}

pub async fn users(State(st): St, Signed(a): Signed) -> WebResult<Response> {
    users_page(&st, &a, None).await
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf: Option<String>,
    username: String,
    display_name: String,
    role: String,
    password: String,
}

pub async fn users_add(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Form(f): Form<UserForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.user_admin().ok_or_else(WebError::forbidden)?;
    let role = Role::parse(&f.role).ok_or_else(|| WebError::bad("role: choose a role"))?;
    let u = st.service.add_user(&cap, &f.username, &f.display_name, role, &f.password).await?;
    users_page(&st, &a, Some(format!("User {} added.", u.username))).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    csrf: Option<String>,
    role: String,
}

pub async fn users_role(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<RoleForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.user_admin().ok_or_else(WebError::forbidden)?;
    let role = Role::parse(&f.role).ok_or_else(|| WebError::bad("role: choose a role"))?;
    st.service.set_role(&cap, &name, role).await?;
    users_page(&st, &a, Some(format!("{name} is now {}.", role.label()))).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    password: String,
}

pub async fn users_password(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<PasswordForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.user_admin().ok_or_else(WebError::forbidden)?;
    st.service.set_password(&cap, &name, &f.password).await?;
    users_page(&st, &a, Some(format!("Password of {name} changed."))).await
}

pub async fn users_disable(
    State(st): St,
    Signed(a): Signed,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&a, &headers, &f.csrf)?;
    let cap = a.user_admin().ok_or_else(WebError::forbidden)?;
    if name == a.user().username {
        return Err(WebError::bad("you cannot disable your own account"));
    }
    st.service.disable_user(&cap, &name).await?;
    users_page(&st, &a, Some(format!("{name} is disabled; their sessions have ended."))).await
}
