//! Knowledge: SOPs, playbooks and FAQ pages (versioned Markdown, rendered safely), search, and
//! acknowledging the version in force. Every person reads; team leads and administrators write.

mod api;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::Analyst;
use std::sync::Arc;

pub use api::Doc;

pub fn api() -> Router<Arc<AppState>> {
    api::routes()
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes()
}

pub fn nav(_: &Analyst) -> Vec<NavLink> {
    vec![NavLink { href: "/knowledge", label: "Knowledge", area: "knowledge", key: "" }]
}
