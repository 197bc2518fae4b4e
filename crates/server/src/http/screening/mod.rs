//! Screening rules: rule-set versions, validation as the analyst types, backtests on stored
//! history, shadowing beside the live set, publishing by four-eye proposal, roll-back.

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
        vec![NavLink { href: "/rules", label: "Rules", area: "screening", key: "" }]
    } else {
        Vec::new()
    }
}
