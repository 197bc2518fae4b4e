//! Quality assurance of Tier-2 handlings: handling intake for helpdesks and providers, the
//! reviewer's inbox and scoring form, disputed reviews, calibration sessions, the dashboard, and
//! the feedback inbox a provider's team lead answers.

mod api;
mod web;

use super::page::NavLink;
use super::state::AppState;
use axum::Router;
use riskdesk_service::{Analyst, FeedbackResponder, QaReviewer, QaViewer};
use std::sync::Arc;

pub use api::Doc;

pub fn api() -> Router<Arc<AppState>> {
    api::routes()
}

pub fn web() -> Router<Arc<AppState>> {
    web::routes()
}

pub fn nav(who: &Analyst) -> Vec<NavLink> {
    if who.grant::<QaReviewer>().is_some() {
        vec![NavLink { href: "/qa", label: "QA", area: "qa", key: "" }]
    } else if who.grant::<QaViewer>().is_some() {
        vec![NavLink { href: "/qa/dashboard", label: "QA", area: "qa", key: "" }]
    } else if who.grant::<FeedbackResponder>().is_some() {
        vec![NavLink { href: "/qa/feedback", label: "QA feedback", area: "qa", key: "" }]
    } else {
        Vec::new()
    }
}
