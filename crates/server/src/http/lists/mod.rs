//! Block and allow lists: entries by kind (e-mail, device, card, IBAN, customer, …), with a
//! reason and an optional expiry; personal values always masked on the page.

mod api;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_domain::Permission;
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
    if a.may(Permission::ViewRules) {
        vec![NavLink { href: "/lists", label: "Lists", area: "lists", key: "" }]
    } else {
        Vec::new()
    }
}
