//! People: sign-in and sign-out, user administration, and each person's personal access
//! tokens (which act as them, with their role, on the API).

mod api;
mod reveal;
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
    let mut links = Vec::new();
    if a.may(Permission::ManageUsers) {
        links.push(NavLink { href: "/users", label: "Users", area: "identity", key: "" });
    }
    links.push(NavLink { href: "/tokens", label: "API tokens", area: "tokens", key: "" });
    links
}

/// A lifetime as a form or body gives it: empty for none, `30d`, `12h`.
fn lifetime(text: &str) -> Result<Option<chrono::Duration>, super::ApiError> {
    match text.trim() {
        "" => Ok(None),
        t => riskdesk_service::identity::parse_lifetime(t).map(Some).map_err(super::ApiError::from),
    }
}
