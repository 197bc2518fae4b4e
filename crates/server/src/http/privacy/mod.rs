//! Privacy operations: data-subject requests by days left with their clock, identity, access
//! package, erasure and rectification; the breach register; records of processing; sweeps.

mod api;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::{Analyst, PrivacyViewer};
use std::sync::Arc;

pub use api::Doc;

pub fn api() -> Router<Arc<AppState>> {
    api::routes()
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes()
}

pub fn nav(who: &Analyst) -> Vec<NavLink> {
    if who.grant::<PrivacyViewer>().is_some() {
        vec![NavLink { href: "/privacy", label: "Privacy", area: "privacy", key: "" }]
    } else {
        Vec::new()
    }
}
