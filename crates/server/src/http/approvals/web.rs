//! The approvals page and its actions.

use crate::http::error::{PageError, PageResult};
use crate::http::extract::{Action, NoForm, Page};
use crate::http::page::{Nav, fmt_time, note};
use crate::http::session::urlencode;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use riskdesk_domain::{Permission, Proposal, ProposalStatus, ReviewAction, ReviewReason};
use riskdesk_service::review::ReviewInput;
use riskdesk_service::{Approver, OrderDecider, OrderViewer, Someone};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/proposals", get(proposals))
        .route("/proposals/{id}/approve", post(approve))
        .route("/proposals/{id}/reject", post(reject))
        .route("/proposals/{id}/withdraw", post(withdraw))
        .route("/proposals/{id}/amend", post(amend))
        .route("/proposals/{id}/bypass", post(bypass))
}

pub struct ProposalRow {
    pub p: Proposal,
    pub label: &'static str,
    pub summary: Vec<(String, String)>,
    pub status: &'static str,
    pub can_decide: bool,
    pub why_not: String,
    pub is_maker: bool,
    pub can_bypass: bool,
    pub created: String,
    pub expires: String,
    pub link: String,
    pub short_hash: String,
    /// An amendment starts from the proposal's reason and note.
    pub amend_reason: String,
    pub amend_note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/proposals.html")]
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

async fn proposals(
    State(st): St,
    Page { who, .. }: Page<OrderViewer>,
    Query(q): Query<AllQuery>,
) -> PageResult<impl IntoResponse> {
    let all = q.all.is_some();
    let now = st.service.now();
    let me = who.actor();
    let mut shown = Vec::new();
    for p in st.service.proposals(!all).await? {
        shown.push(st.service.shown(p).await);
    }
    let rows = shown
        .into_iter()
        .map(|s| {
            let p = s.proposal;
            let check = p.may_decide(&me.id, who.role(), now);
            ProposalRow {
                status: p.status_at(now).as_str(),
                can_decide: check.is_ok(),
                why_not: check.err().map(|r| r.to_string()).unwrap_or_default(),
                is_maker: p.makers.contains(&me.id),
                can_bypass: who.may(Permission::EmergencyBypass) && p.status_at(now) == ProposalStatus::Pending,
                created: fmt_time(p.created_at, who.time_zone()),
                expires: fmt_time(p.expires_at, who.time_zone()),
                link: urlencode(&s.link),
                label: s.label,
                summary: s.summary,
                short_hash: p.payload_hash.chars().take(12).collect(),
                amend_reason: payload_field(&p.payload, "reason_code"),
                amend_note: payload_field(&p.payload, "note"),
                p,
            }
        })
        .collect();
    let cancel_reasons = ReviewReason::for_action(ReviewAction::Cancel).map(|r| (r.as_str(), r.label())).collect();
    Ok(ProposalsPage {
        nav: Nav::of(&who, "approvals"),
        rows,
        all,
        can_amend: who.may(Permission::DecideOrders),
        cancel_reasons,
    })
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    payload_hash: String,
    #[serde(default)]
    note: String,
}

fn to_all() -> Response {
    Redirect::to("/proposals?all=1").into_response()
}

async fn approve(State(st): St, Path(id): Path<String>, a: Action<Approver, DecideForm>) -> PageResult<Response> {
    st.service.approve_proposal(&a.cap, &id, &a.form.payload_hash, note(&a.form.note)).await?;
    Ok(to_all())
}

async fn reject(State(st): St, Path(id): Path<String>, a: Action<Approver, DecideForm>) -> PageResult<Response> {
    st.service.reject_proposal(&a.cap, &id, note(&a.form.note)).await?;
    Ok(to_all())
}

#[derive(Deserialize)]
pub struct AmendForm {
    reason: String,
    #[serde(default)]
    note: String,
}

async fn amend(State(st): St, Path(id): Path<String>, a: Action<OrderDecider, AmendForm>) -> PageResult<Response> {
    let reason = ReviewReason::parse(&a.form.reason).ok_or_else(|| PageError::bad("reason: choose a reason code"))?;
    let input = ReviewInput { action: ReviewAction::Cancel, reason, note: a.form.note };
    st.service.amend_cancel(&a.cap, &id, input).await?;
    Ok(Redirect::to("/proposals").into_response())
}

async fn withdraw(State(st): St, Path(id): Path<String>, a: Action<Someone, NoForm>) -> PageResult<Response> {
    st.service.withdraw_proposal(&a.who.actor(), &id).await?;
    Ok(to_all())
}

async fn bypass(State(st): St, Path(id): Path<String>, a: Action<Approver, DecideForm>) -> PageResult<Response> {
    if !a.who.may(Permission::EmergencyBypass) {
        return Err(PageError::forbidden());
    }
    st.service.bypass_proposal(&a.cap, &id, &a.form.note).await?;
    Ok(to_all())
}

/// A field of a proposal's payload, wherever it sits in it (a cancel keeps them under `review`).
fn payload_field(payload: &str, field: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
    v.get(field)
        .or_else(|| v.get("review").and_then(|r| r.get(field)))
        .or_else(|| if field == "reason_code" { v.get("review").and_then(|r| r.get("reason")) } else { None })
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_owned()
}
