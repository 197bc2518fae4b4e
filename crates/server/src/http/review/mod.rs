//! The review queue: orders screened `review`, by shipping cut-off or by risk; claims and
//! assignment; an order's page (decision, hits, lists, linked accounts, timeline); release, hold
//! and cancel with a reason (a cancel above the threshold by four-eye proposal); the audited
//! unmask of personal data.

mod api;
mod graph;
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
    vec![NavLink { href: "/queue", label: "Queue", area: "review", key: "q" }]
}
