//! KPIs: the dashboard (tiles with the previous period, a chart per KPI, tables by segment with
//! the orders behind each number), rule effectiveness, trend alerts and reports, each table also
//! as CSV, and the same operations in the API.

mod api;
mod csv;
mod svg;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::{Analyst, KpiViewer};
use std::sync::Arc;

pub use api::Doc;

pub fn api() -> Router<Arc<AppState>> {
    api::routes()
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes()
}

pub fn nav(who: &Analyst) -> Vec<NavLink> {
    if who.grant::<KpiViewer>().is_some() {
        vec![NavLink { href: "/kpis", label: "KPIs", area: "kpis", key: "" }]
    } else {
        Vec::new()
    }
}
