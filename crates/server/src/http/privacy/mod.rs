//! Privacy operations: data-subject requests by days left with their clock, identity, access
//! package, erasure and rectification; the breach register; records of processing; sweeps; the
//! public request page.

mod api;
mod public;
mod report;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::{Analyst, PrivacyViewer};
use std::sync::Arc;

/// The area's OpenAPI paths: staff operations and the public channel.
pub struct Doc;

impl Doc {
    pub fn openapi() -> utoipa::openapi::OpenApi {
        use utoipa::OpenApi;
        let mut d = api::Doc::openapi();
        d.merge(public::Doc::openapi());
        d
    }
}

pub fn api() -> Router<Arc<AppState>> {
    api::routes().merge(public::api())
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes().merge(public::web())
}

pub fn nav(who: &Analyst) -> Vec<NavLink> {
    if who.grant::<PrivacyViewer>().is_some() {
        vec![NavLink { href: "/privacy", label: "Privacy", area: "privacy", key: "" }]
    } else {
        Vec::new()
    }
}
