//! The review queue: orders screened `review`, by shipping cut-off or by risk; claims and
//! assignment; an order's page (decision, hits, lists, linked accounts, timeline); release, hold
//! and cancel with a reason (a cancel above the threshold by four-eye proposal); the audited
//! unmask of personal data.

mod api;
mod customer;
mod graph;
mod search;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::Analyst;
use std::sync::Arc;

/// The area's OpenAPI paths: the queue and orders, and the customer overview.
pub struct Doc;

impl Doc {
    pub fn openapi() -> utoipa::openapi::OpenApi {
        use utoipa::OpenApi;
        let mut d = api::Doc::openapi();
        d.merge(customer::Doc::openapi());
        d.merge(search::Doc::openapi());
        d
    }
}

pub fn api() -> Router<Arc<AppState>> {
    api::routes().merge(customer::api()).merge(search::api())
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes().merge(customer::web()).merge(search::web())
}

pub fn nav(a: &Analyst) -> Vec<NavLink> {
    if a.grant::<riskdesk_service::OrderViewer>().is_none() {
        return Vec::new();
    }
    vec![NavLink { href: "/queue", label: "Queue", area: "review", key: "q" }]
}
