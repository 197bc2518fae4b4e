//! Cases: the queue by SLA time left, the case page, opening and reporting, hand-offs. Machine
//! keys with the `cases` scope (a helpdesk) open and annotate cases; people use their tokens.

mod api;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::{Analyst, CaseOpener, CaseViewer};
use std::sync::Arc;

pub use api::Doc;

pub fn api() -> Router<Arc<AppState>> {
    api::routes()
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes()
}

pub fn nav(a: &Analyst) -> Vec<NavLink> {
    let mut links = Vec::new();
    if a.grant::<CaseViewer>().is_some() {
        links.push(NavLink { href: "/cases", label: "Cases", area: "cases", key: "k" });
    }
    if a.grant::<CaseOpener>().is_some() {
        links.push(NavLink { href: "/reports", label: "My reports", area: "reports", key: "" });
    }
    links
}
