//! Four eyes: the proposals waiting for a second person, and approving, rejecting, amending,
//! withdrawing and (administrators) bypassing them. Who may approve each kind is the kind's own
//! rule (`riskdesk_service::approvals`); makers are never offered Approve and the service refuses
//! it however they ask.

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

pub fn nav(a: &Analyst) -> Vec<NavLink> {
    if a.grant::<riskdesk_service::OrderViewer>().is_none() {
        return Vec::new();
    }
    vec![NavLink { href: "/proposals", label: "Approvals", area: "approvals", key: "p" }]
}
