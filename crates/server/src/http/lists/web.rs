//! The lists page and its actions.

use crate::http::error::{PageError, PageResult};
use crate::http::page::Flash;
use axum::extract::Query;
use crate::http::extract::{Action, NoForm, Page};
use crate::http::page::Nav;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use riskdesk_domain::Permission;
use riskdesk_service::lists::BlockCustomerPayload;
use riskdesk_service::lists::{ListEntry, NewListEntry};
use riskdesk_service::{Analyst, RulesAdmin, RulesViewer};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/lists", get(lists))
        .route("/lists/add", post(lists_add))
        .route("/lists/block-customer", post(lists_block_customer))
        .route("/lists/{id}/remove", post(lists_remove))
}

#[derive(Template, WebTemplate)]
#[template(path = "lists/lists.html")]
struct ListsPage {
    nav: Nav,
    entries: Vec<ListEntry>,
    can_edit: bool,
    kinds: Vec<&'static str>,
    message: Option<String>,
}

async fn lists_page(st: &AppState, a: &Analyst, message: Option<String>) -> PageResult<Response> {
    let cap = a.rules_viewer().ok_or_else(PageError::forbidden)?;
    let mut entries = st.service.list_entries(&cap).await?;
    entries.reverse();
    // Personal values are masked on this page for every role: whoever adds an entry knows it,
    // and the page must be no way around the audited unmask.
    for e in &mut entries {
        e.value = riskdesk_service::masking::mask_list_value(e.kind, &e.value);
    }
    let kinds = riskdesk_rules::needs::ListKind::ALL.iter().map(|k| k.as_str()).collect();
    Ok(ListsPage { nav: Nav::of(a, "lists"), entries, can_edit: a.may(Permission::EditRules), kinds, message }
        .into_response())
}

async fn lists(State(st): St, Page { who, .. }: Page<RulesViewer>, Query(f): Query<Flash>) -> PageResult<Response> {
    let message = match f.done.as_deref() {
        Some("added") => Some("Entry added.".to_owned()),
        Some("removed") => Some("Entry removed.".to_owned()),
        Some("proposed") => Some(format!("Blocking a customer needs four eyes: proposed ({}).", f.id())),
        _ => None,
    };
    lists_page(&st, &who, message).await
}

#[derive(Deserialize)]
pub struct ListForm {
    list: String,
    kind: String,
    value: String,
    reason: String,
    #[serde(default)]
    expires_days: String,
}

fn expiry(days: &str, now: DateTime<Utc>) -> PageResult<Option<DateTime<Utc>>> {
    match days.trim() {
        "" => Ok(None),
        d => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(|d| Some(now + chrono::Duration::days(d)))
            .ok_or_else(|| PageError::bad("expires_days: a number of days from 1 to 3650")),
    }
}

async fn lists_add(State(st): St, a: Action<RulesAdmin, ListForm>) -> PageResult<Response> {
    let f = a.form;
    let expires_at = expiry(&f.expires_days, st.service.now())?;
    if f.list == "block" && f.kind == "customer" {
        let id = st
            .service
            .propose_block_customer(&a.cap, BlockCustomerPayload { customer_id: f.value, reason: f.reason, expires_at })
            .await?;
        return Ok(Flash::redirect("/lists", "proposed", None, Some(&id)));
    }
    let e = NewListEntry { list: f.list, kind: f.kind, value: f.value, reason: f.reason, expires_at };
    st.service.add_list_entries(&a.cap, &[e]).await?;
    Ok(Flash::redirect("/lists", "added", None, None))
}

#[derive(Deserialize)]
pub struct BlockForm {
    customer_id: String,
    reason: String,
}

async fn lists_block_customer(State(st): St, a: Action<RulesAdmin, BlockForm>) -> PageResult<Response> {
    let payload = BlockCustomerPayload { customer_id: a.form.customer_id, reason: a.form.reason, expires_at: None };
    let id = st.service.propose_block_customer(&a.cap, payload).await?;
    Ok(Flash::redirect("/lists", "proposed", None, Some(&id)))
}

async fn lists_remove(State(st): St, Path(id): Path<String>, a: Action<RulesAdmin, NoForm>) -> PageResult<Response> {
    st.service.remove_list_entry(&a.cap, &id).await?;
    Ok(Flash::redirect("/lists", "removed", None, None))
}
