//! Disputes: provider webhooks (Stripe, Adyen), the dispute queue by deadline, a dispute's page
//! with its checklist, CE 3.0 candidates and evidence pack, refund claims, return abuse and the
//! scheme ratios. Payment-operations specialists work them; experts and team leads approve
//! submissions above the four-eye amount.

mod api;
mod web;
mod webhooks;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::{Analyst, DisputeViewer};
use std::sync::Arc;

/// The area's OpenAPI paths: disputes and the providers' webhooks.
pub struct Doc;

impl Doc {
    pub fn openapi() -> utoipa::openapi::OpenApi {
        use utoipa::OpenApi;
        let mut d = api::Doc::openapi();
        d.merge(webhooks::Doc::openapi());
        d
    }
}

pub fn api() -> Router<Arc<AppState>> {
    api::routes().merge(webhooks::routes())
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes()
}

pub fn nav(who: &Analyst) -> Vec<NavLink> {
    if who.grant::<DisputeViewer>().is_some() {
        vec![NavLink { href: "/disputes", label: "Disputes", area: "disputes", key: "" }]
    } else {
        Vec::new()
    }
}
