//! Cases: the queue by SLA time left, the case page, opening and reporting, hand-offs. Machine
//! keys with the `cases` scope (a helpdesk) open and annotate cases; people use their tokens.

mod api;
mod decisions;
mod files;
mod flow;
mod flow_pages;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::{Analyst, CaseOpener, CaseViewer};
use std::sync::Arc;

/// The area's OpenAPI paths: cases, their attachments, reports, hand-offs and exceptions.
pub struct Doc;

impl Doc {
    pub fn openapi() -> utoipa::openapi::OpenApi {
        use utoipa::OpenApi;
        let mut d = api::Doc::openapi();
        d.merge(decisions::Doc::openapi());
        d.merge(files::Doc::openapi());
        d.merge(flow::Doc::openapi());
        d
    }
}

pub fn api() -> Router<Arc<AppState>> {
    api::routes().merge(decisions::routes()).merge(files::api()).merge(flow::routes())
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes().merge(files::web()).merge(flow_pages::routes())
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
