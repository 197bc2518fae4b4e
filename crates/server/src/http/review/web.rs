//! The queue and order pages, and their actions.

use super::graph::{self, Graph};
use crate::http::error::{PageError, PageResult};
use crate::http::extract::{Action, NoForm, Page};
use crate::http::page::{Nav, ago, money, non_empty, until};
use crate::http::session::urlencode;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use riskdesk_domain::{OrderId, Permission, ReviewAction, ReviewReason};
use riskdesk_service::masking::Party;
use riskdesk_service::review::{
    OrderView, QueueFilter, QueueSort, QueueState, ReviewInput, ReviewItem, ReviewOutcome,
};
use riskdesk_service::{Analyst, OrderDecider, OrderViewer, QueueAssigner, Unmasker};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queue", get(queue))
        .route("/orders/{order_id}", get(order))
        .route("/orders/{order_id}/claim", post(claim))
        .route("/orders/{order_id}/unclaim", post(unclaim))
        .route("/orders/{order_id}/assign", post(assign))
        .route("/orders/{order_id}/takeover", post(takeover))
        .route("/orders/{order_id}/review", post(review))
        .route("/orders/{order_id}/unmask", post(unmask))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open`, `held` or `closed`; `active`, empty or absent: open and held.
    #[param(pattern = "^(|active|open|held|closed)$")]
    state: Option<String>,
    /// One sales channel; empty means any.
    channel: Option<String>,
    /// One country; empty means any.
    country: Option<String>,
    /// One payment method; empty means any.
    method: Option<String>,
    /// Orders a rule hit; empty means any.
    rule: Option<String>,
    /// Smallest total in major units (`49.90`); empty: none.
    #[param(pattern = "^(|[0-9]{1,15}(\\.[0-9]{1,10})?)$")]
    min: Option<String>,
    /// Largest total in major units; empty: none.
    #[param(pattern = "^(|[0-9]{1,15}(\\.[0-9]{1,10})?)$")]
    max: Option<String>,
    /// Present (any value): only orders claimed by you.
    mine: Option<String>,
    /// `risk`: riskiest first; empty or absent: by shipping cut-off.
    #[param(pattern = "^(|risk)$")]
    sort: Option<String>,
    /// A hold's or a decision's reason code; empty means any.
    reason: Option<String>,
    /// The page, from 1 (taken into 1-100,000).
    pub(super) page: Option<i64>,
    /// Items per page (API only; the page shows 50), taken into 1-500.
    pub(super) per_page: Option<i64>,
}

pub struct QueueRow {
    pub item: ReviewItem,
    /// A held or decided order's latest review action: reason, note, who and when.
    pub last: Option<riskdesk_service::review::ReviewActionRecord>,
    pub amount: String,
    pub due: String,
    pub late: bool,
    pub placed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "review/queue.html")]
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
    /// Every reason code, to filter held and decided orders by.
    reasons: Vec<(&'static str, &'static str)>,
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
    reason: String,
}

const PAGE: i64 = 50;

/// An amount in major units as minor units (the queue's filters).
pub(super) fn major_to_minor(s: &Option<String>, field: &str) -> Result<Option<i64>, crate::http::ApiError> {
    match non_empty(s) {
        None => Ok(None),
        Some(v) => {
            // Digits, and up to ten after a point: far from overflowing in minor units.
            let (int, frac) = v.split_once('.').unwrap_or((&v, "0"));
            let digits = |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
            (digits(int, 15) && digits(frac, 10))
                .then(|| v.parse::<rust_decimal::Decimal>().ok())
                .flatten()
                .and_then(|d| (d * rust_decimal::Decimal::from(100)).trunc().to_string().parse::<i64>().ok())
                .map(Some)
                .ok_or_else(|| crate::http::ApiError::invalid(field, "not an amount (digits, a point and decimals)"))
        }
    }
}

/// The queue filter from the query, shared by the page and `GET /api/v1/queue`.
pub(super) fn queue_filter(
    q: &QueueQuery,
    me: &Analyst,
    limit: i64,
    offset: i64,
) -> Result<QueueFilter, crate::http::ApiError> {
    let state = match non_empty(&q.state).as_deref() {
        None | Some("active") => None,
        Some(s) => {
            Some(QueueState::parse(s).ok_or_else(|| crate::http::ApiError::invalid("state", "open, held or closed"))?)
        }
    };
    Ok(QueueFilter {
        state,
        channel: non_empty(&q.channel),
        country: non_empty(&q.country),
        payment_method: non_empty(&q.method),
        rule: non_empty(&q.rule),
        min_minor: major_to_minor(&q.min, "min")?,
        max_minor: major_to_minor(&q.max, "max")?,
        claimed_by: q.mine.is_some().then(|| me.user().username.clone()),
        reason: non_empty(&q.reason),
        sort: match q.sort.as_deref() {
            Some("risk") => QueueSort::Risk,
            None | Some("") => QueueSort::CutOff,
            Some(_) => return Err(crate::http::ApiError::invalid("sort", "risk, or empty for the cut-off")),
        },
        limit,
        offset,
    })
}

async fn queue(State(st): St, Page { cap, who }: Page<OrderViewer>, Query(q): Query<QueueQuery>) -> PageResult<impl IntoResponse> {
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let f = queue_filter(&q, &who, PAGE, (page - 1) * PAGE)?;
    let mine = q.mine.is_some();
    let (items, total) = st.service.review_queue(&cap, &f).await?;
    let (channels, countries, methods) = st.service.queue_facets(&cap).await?;
    let now = st.service.now();
    let settled: Vec<String> = items.iter().filter(|i| i.state.as_str() != "open").map(|i| i.order_id.clone()).collect();
    let mut last: std::collections::HashMap<String, _> =
        st.service.latest_review_actions(&cap, &settled).await?.into_iter().map(|a| (a.order_id.clone(), a)).collect();
    let rows = items
        .into_iter()
        .map(|item| QueueRow {
            last: last.remove(&item.order_id),
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
        reason: non_empty(&q.reason).unwrap_or_default(),
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
            ("reason", &view.reason),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        if mine {
            parts.push("mine=1".into());
        }
        format!("/queue?{}", parts.join("&"))
    };
    let pages = ((total + PAGE - 1) / PAGE).max(1);
    Ok(QueuePage {
        nav: Nav::of(&who, "review"),
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
        can_decide: who.may(Permission::DecideOrders),
        me: who.user().username.clone(),
        reasons: riskdesk_domain::review::ReviewReason::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "review/order.html")]
struct OrderPage {
    nav: Nav,
    v: OrderView,
    id: String,
    amount: String,
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
    me: String,
    /// A decision the server refused, shown again with why (nothing typed is lost).
    draft: Draft,
}

/// What the review form held when it was refused.
#[derive(Default)]
pub struct Draft {
    pub action: String,
    pub reason: String,
    pub note: String,
    pub error: Option<String>,
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

pub(super) fn order_id(raw: &str) -> Result<OrderId, PageError> {
    OrderId::parse(raw, "order_id").map_err(|_| PageError::not_found())
}

fn back_to_order(id: &OrderId) -> Response {
    Redirect::to(&format!("/orders/{}", urlencode(id.as_str()))).into_response()
}

async fn order_page(
    st: &AppState,
    a: &Analyst,
    id: &OrderId,
    clear: Option<Party>,
    message: Option<String>,
    draft: Draft,
) -> PageResult<Response> {
    let cap = a.orders().ok_or_else(PageError::forbidden)?;
    let v = st.service.order_view(&cap, id).await?.ok_or_else(PageError::not_found)?;
    let now = st.service.now();
    let o = &v.stored.order;
    let graph = graph::layout(o.customer.customer_id.as_str(), v.customer_fraud, &v.neighbours, &v.hubs);
    let deciders = match a.assigner() {
        Some(cap) => st.service.deciders(&cap).await?,
        None => Vec::new(),
    };
    let hits = v
        .screening
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
        nav: Nav::of(a, "review"),
        id: id.to_string(),
        amount: format!("{} {}", o.total.amount_string(), o.total.currency.code()),
        due: v.item.as_ref().map(|i| until(i.due_at, now)).unwrap_or_default(),
        graph,
        clear: clear.is_some(),
        party: clear.unwrap_or_else(|| v.party.0.clone()),
        can_decide: a.may(Permission::DecideOrders),
        can_assign: a.may(Permission::AssignQueue),
        can_unmask: a.may(Permission::Unmask),
        reasons: reasons_menu(),
        threshold: st.service.settings().cancel_four_eyes_from,
        deciders,
        message,
        hits,
        attributes,
        me: a.user().username.clone(),
        draft,
        v,
    };
    Ok(page.into_response())
}

async fn order(
    State(st): St,
    Page { who, .. }: Page<OrderViewer>,
    Path(id): Path<String>,
    // What the decision just posted did (POST/redirect/GET): `released`, `held`, `cancelled`, `proposed`.
    Query(q): Query<crate::http::page::Flash>,
) -> PageResult<Response> {
    let id = order_id(&id)?;
    let message = match q.done.as_deref() {
        Some("released") => Some("Order released."),
        Some("held") => Some("Order put on hold."),
        Some("cancelled") => Some("Order cancelled."),
        Some("proposed") => Some("Cancellation proposed; it runs when a second person approves it."),
        _ => None,
    };
    order_page(&st, &who, &id, None, message.map(str::to_owned), Draft::default()).await
}

async fn claim(State(st): St, Path(id): Path<String>, a: Action<OrderDecider, NoForm>) -> PageResult<Response> {
    let id = order_id(&id)?;
    st.service.claim(&a.cap, &id, true).await?;
    Ok(back_to_order(&id))
}

async fn unclaim(State(st): St, Path(id): Path<String>, a: Action<OrderDecider, NoForm>) -> PageResult<Response> {
    let id = order_id(&id)?;
    st.service.claim(&a.cap, &id, false).await?;
    Ok(back_to_order(&id))
}

async fn takeover(State(st): St, Path(id): Path<String>, a: Action<QueueAssigner, NoForm>) -> PageResult<Response> {
    let id = order_id(&id)?;
    st.service.take_over(&a.cap, &id).await?;
    Ok(back_to_order(&id))
}

#[derive(Deserialize)]
pub struct AssignForm {
    user: String,
}

async fn assign(State(st): St, Path(id): Path<String>, a: Action<QueueAssigner, AssignForm>) -> PageResult<Response> {
    let id = order_id(&id)?;
    st.service.assign(&a.cap, &id, &a.form.user).await?;
    Ok(back_to_order(&id))
}

#[derive(Deserialize)]
pub struct ReviewForm {
    action: String,
    reason: String,
    #[serde(default)]
    note: String,
}

async fn review(State(st): St, Path(id): Path<String>, a: Action<OrderDecider, ReviewForm>) -> PageResult<Response> {
    let id = order_id(&id)?;
    let f = a.form;
    let decided = match (ReviewAction::parse(&f.action), ReviewReason::parse(&f.reason)) {
        (None, _) => Err(PageError::bad("Choose release, hold or cancel.")),
        (_, None) => Err(PageError::bad("Choose a reason.")),
        (Some(action), Some(reason)) => st
            .service
            .review_order(&a.cap, &id, ReviewInput { action, reason, note: f.note.clone() })
            .await
            .map(|o| (action, o))
            .map_err(PageError::from),
    };
    match decided {
        // POST/redirect/GET: a reload shows the page, it does not post the decision again.
        Ok((action, outcome)) => {
            let done = match outcome {
                ReviewOutcome::Done => match action {
                    ReviewAction::Release => "released",
                    ReviewAction::Hold => "held",
                    ReviewAction::Cancel => "cancelled",
                },
                ReviewOutcome::Proposed(_) => "proposed",
            };
            Ok(Redirect::to(&format!("/orders/{}?done={done}", urlencode(id.as_str()))).into_response())
        }
        // Refused (a claim, a pending proposal, a missing right, a bad field): the page again with
        // the form as it was and why, under the refusal's status.
        Err(e) if e.status() != axum::http::StatusCode::NOT_FOUND && e.status().is_client_error() => {
            let status = e.status();
            let draft = Draft { action: f.action, reason: f.reason, note: f.note, error: Some(e.detail().to_owned()) };
            let mut page = order_page(&st, &a.who, &id, None, None, draft).await?;
            *page.status_mut() = status;
            Ok(page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct UnmaskForm {
    #[serde(default)]
    purpose: String,
}

async fn unmask(State(st): St, Path(id): Path<String>, a: Action<Unmasker, UnmaskForm>) -> PageResult<Response> {
    let id = order_id(&id)?;
    let party = st.service.unmask_order(&a.cap, &id, &a.form.purpose).await?;
    order_page(
        &st,
        &a.who,
        &id,
        Some(party),
        Some("Personal data shown for this page view; the access is logged.".into()),
        Draft::default(),
    )
        .await
}

