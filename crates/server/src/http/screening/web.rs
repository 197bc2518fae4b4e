//! The rules pages and their actions.

use crate::http::error::{PageError, PageResult};
use crate::http::page::Flash;
use axum::extract::Query;
use crate::http::extract::{Action, NoForm, Page};
use crate::http::page::{Nav, pct};
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use riskdesk_domain::Permission;
use riskdesk_service::rules::{Backtest, Candidate, RuleSetChange, RuleSetRecord, ScreeningControl};
use riskdesk_service::{Analyst, RulesAdmin, RulesViewer, ServiceError};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/rules", get(rules))
        .route("/rules/validate", post(rules_validate))
        .route("/rules/save", post(rules_save))
        .route("/rules/rollback", post(rules_rollback))
        .route("/rules/shadow/stop", post(rules_shadow_stop))
        .route("/rules/{version}", get(ruleset))
        .route("/rules/{version}/backtest", post(rules_backtest))
        .route("/rules/{version}/shadow", post(rules_shadow))
        .route("/rules/{version}/propose", post(rules_propose))
}

fn back_to(path: String) -> Response {
    Redirect::to(&path).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "screening/rules.html")]
struct RulesPage {
    nav: Nav,
    versions: Vec<RuleSetRecord>,
    control: ScreeningControl,
    changes: Vec<RuleSetChange>,
    can_edit: bool,
    draft: String,
    note: String,
    /// Why saving the draft was refused: the draft and note are shown again as they were.
    error: Option<String>,
}

async fn rules(State(st): St, Page { cap, who: a }: Page<RulesViewer>) -> PageResult<Response> {
    rules_page(&st, &cap, &a, None, String::new(), None).await
}

async fn rules_page(
    st: &AppState,
    cap: &RulesViewer,
    a: &Analyst,
    draft: Option<String>,
    note: String,
    error: Option<String>,
) -> PageResult<Response> {
    let (mut versions, control, mut changes) = st.service.rulesets(cap).await?;
    versions.reverse();
    changes.reverse();
    changes.truncate(20);
    let draft = draft.unwrap_or_else(|| {
        control
            .live_version
            .and_then(|v| versions.iter().find(|r| r.version == v))
            .map(|r| r.source.clone())
            .unwrap_or_default()
    });
    Ok(RulesPage {
        nav: Nav::of(a, "screening"),
        versions,
        control,
        changes,
        can_edit: a.may(Permission::EditRules),
        draft,
        note,
        error,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "screening/ruleset.html")]
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

async fn ruleset_page(
    st: &AppState,
    a: &Analyst,
    version: i64,
    backtest: Option<Backtest>,
    message: Option<String>,
) -> PageResult<Response> {
    let cap = a.rules_viewer().ok_or_else(PageError::forbidden)?;
    let r = st.service.ruleset(&cap, version).await?;
    let control = st.service.screening_control(&cap).await?;
    let rows = st.service.shadow_results(&cap, version, 200).await?;
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
        nav: Nav::of(a, "screening"),
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

fn version_of(raw: &str) -> PageResult<i64> {
    raw.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(PageError::not_found)
}

async fn ruleset(
    State(st): St,
    Page { who, .. }: Page<RulesViewer>,
    Path(v): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult<Response> {
    let message = (f.done.as_deref() == Some("proposed"))
        .then(|| format!("Publishing proposed ({}); it goes live when a second person approves it.", f.id()));
    ruleset_page(&st, &who, version_of(&v)?, None, message).await
}

#[derive(Deserialize)]
pub struct SourceForm {
    source: String,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "screening/validation.html")]
struct ValidationFragment {
    ok: bool,
    summary: String,
    errors: Vec<String>,
}

/// Validation as the analyst types: a fragment htmx swaps in under the editor.
async fn rules_validate(State(st): St, a: Action<RulesAdmin, SourceForm>) -> PageResult<Response> {
    let frag = match st.service.validate_rules(&a.form.source) {
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
    let body = frag.render().map_err(|_| PageError::bad("render"))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

async fn rules_save(State(st): St, a: Action<RulesAdmin, SourceForm>) -> PageResult<Response> {
    match st.service.save_ruleset(&a.cap, &a.form.source, a.form.note.trim()).await {
        Ok((v, _)) => Ok(back_to(format!("/rules/{v}"))),
        // Refused: the editor again with the draft and note as typed, and why.
        Err(e) => {
            let e = PageError::from(e);
            if !e.status().is_client_error() {
                return Err(e);
            }
            let read = a.who.rules_viewer().ok_or_else(PageError::forbidden)?;
            let status = e.status();
            let mut page =
                rules_page(&st, &read, &a.who, Some(a.form.source.clone()), a.form.note.clone(), Some(e.detail().to_owned()))
                    .await?;
            *page.status_mut() = status;
            Ok(page)
        }
    }
}

async fn rules_backtest(State(st): St, Path(v): Path<String>, a: Action<RulesAdmin, NoForm>) -> PageResult<Response> {
    let read = a.who.rules_viewer().ok_or_else(PageError::forbidden)?;
    let v = version_of(&v)?;
    let b = st.service.backtest(&read, Candidate::Version(v)).await?;
    ruleset_page(&st, &a.who, v, Some(b), None).await
}

async fn rules_shadow(State(st): St, Path(v): Path<String>, a: Action<RulesAdmin, NoForm>) -> PageResult<Response> {
    let v = version_of(&v)?;
    st.service.shadow_ruleset(&a.cap, Some(v)).await?;
    Ok(back_to(format!("/rules/{v}")))
}

async fn rules_shadow_stop(State(st): St, a: Action<RulesAdmin, NoForm>) -> PageResult<Response> {
    st.service.shadow_ruleset(&a.cap, None).await?;
    Ok(back_to("/rules".into()))
}

async fn rules_propose(State(st): St, Path(v): Path<String>, a: Action<RulesAdmin, NoForm>) -> PageResult<Response> {
    let v = version_of(&v)?;
    let id = st.service.propose_publish(&a.cap, v).await?;
    Ok(Flash::redirect(&format!("/rules/{v}"), "proposed", None, Some(&id)))
}

#[derive(serde::Deserialize)]
struct RollbackForm {
    reason: String,
}

async fn rules_rollback(State(st): St, a: Action<RulesAdmin, RollbackForm>) -> PageResult<Response> {
    st.service.propose_rollback(&a.cap, &a.form.reason).await?;
    Ok(back_to("/proposals".into()))
}

