//! Sign-in, the users page and the tokens page, and their actions.

use crate::http::error::{ApiError, PageError, PageResult};
use crate::http::page::Flash;
use crate::http::extract::{Action, NoForm, Page};
use crate::http::page::{Nav, fmt_time};
use crate::http::session::{COOKIE, ClientAddr, cross_site, removal_cookie, secure_cookie, session_cookie};
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use riskdesk_domain::Role;
use riskdesk_service::identity::{TokenRecord, UserRecord};
use riskdesk_service::{Analyst, LoginError, Someone, UserAdmin};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/users", get(users).post(users_add))
        .route("/users/{username}/role", post(users_role))
        .route("/users/{username}/password", post(users_password))
        .route("/users/{username}/disable", post(users_disable))
        .route("/tokens", get(tokens).post(tokens_create))
        .route("/me/time-zone", post(zone_set))
        .route("/tokens/{id}/revoke", post(tokens_revoke))
}

#[derive(Template, WebTemplate)]
#[template(path = "identity/login.html")]
struct LoginPage {
    error: Option<String>,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn safe_next(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control() || c.is_whitespace())
    })
    .unwrap_or_else(|| "/".into())
}

async fn login_page(Query(q): Query<NextQuery>) -> impl IntoResponse {
    LoginPage { error: None, next: safe_next(q.next) }
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(st): St,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> PageResult<Response> {
    let next = safe_next(f.next);
    if cross_site(&headers) {
        return Err(PageError(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Sign in from riskdesk's own sign-in page.",
        )));
    }
    match st.service.login(&f.username, &f.password, &client).await? {
        Ok(token) => {
            let secure = secure_cookie(&st.secure_cookies, &headers);
            // A fresh token at every sign-in; the old cookie (if any) is replaced.
            Ok((jar.add(session_cookie(token.0, secure)), Redirect::to(&next)).into_response())
        }
        Err(e) => {
            let (status, message) = match e {
                LoginError::Invalid => {
                    (StatusCode::UNAUTHORIZED, "Sign-in failed: the username or password is not right.")
                }
                LoginError::Throttled => {
                    (StatusCode::TOO_MANY_REQUESTS, "Too many failed sign-ins. Wait a few minutes and try again.")
                }
            };
            Ok((status, LoginPage { error: Some(message.into()), next }).into_response())
        }
    }
}

async fn logout(State(st): St, jar: CookieJar, _a: Action<Someone, NoForm>) -> PageResult<Response> {
    if let Some(c) = jar.get(COOKIE) {
        st.service.logout(c.value()).await?;
    }
    Ok((jar.remove(removal_cookie()), Redirect::to("/login")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "identity/users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<UserRecord>,
    roles: Vec<(&'static str, &'static str)>,
    message: Option<String>,
}

async fn users_page(st: &AppState, a: &Analyst, message: Option<String>) -> PageResult<Response> {
    let cap = a.user_admin().ok_or_else(PageError::forbidden)?;
    let users = st.service.users(&cap).await?;
    let roles = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
    Ok(UsersPage { nav: Nav::of(a, "identity"), users, roles, message }.into_response())
}

async fn users(State(st): St, Page { who, .. }: Page<UserAdmin>, Query(f): Query<Flash>) -> PageResult<Response> {
    let message = match f.done.as_deref() {
        Some("added") => Some(format!("User {} added.", f.name())),
        Some("role") => Some(format!("The role of {} is changed.", f.name())),
        Some("password") => Some(format!("Password of {} changed.", f.name())),
        Some("disabled") => Some(format!("{} is disabled; their sessions have ended.", f.name())),
        _ => None,
    };
    users_page(&st, &who, message).await
}

#[derive(Deserialize)]
pub struct UserForm {
    username: String,
    display_name: String,
    role: String,
    password: String,
}

async fn users_add(State(st): St, a: Action<UserAdmin, UserForm>) -> PageResult<Response> {
    let f = a.form;
    let role = Role::parse(&f.role).ok_or_else(|| PageError::bad("role: choose a role"))?;
    let u = st.service.add_user(&a.cap, &f.username, &f.display_name, role, &f.password).await?;
    Ok(Flash::redirect("/users", "added", Some(&u.username), None))
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

async fn users_role(State(st): St, Path(name): Path<String>, a: Action<UserAdmin, RoleForm>) -> PageResult<Response> {
    let role = Role::parse(&a.form.role).ok_or_else(|| PageError::bad("role: choose a role"))?;
    st.service.set_role(&a.cap, &name, role).await?;
    Ok(Flash::redirect("/users", "role", Some(&name), None))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

async fn users_password(
    State(st): St,
    Path(name): Path<String>,
    a: Action<UserAdmin, PasswordForm>,
) -> PageResult<Response> {
    st.service.set_password(&a.cap, &name, &a.form.password).await?;
    Ok(Flash::redirect("/users", "password", Some(&name), None))
}

async fn users_disable(State(st): St, Path(name): Path<String>, a: Action<UserAdmin, NoForm>) -> PageResult<Response> {
    if name == a.who.user().username {
        return Err(PageError::bad("you cannot disable your own account"));
    }
    st.service.disable_user(&a.cap, &name).await?;
    Ok(Flash::redirect("/users", "disabled", Some(&name), None))
}

/// A token as the tokens page lists it.
pub struct TokenRow {
    pub t: TokenRecord,
    pub created: String,
    pub expires: String,
    pub state: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "identity/tokens.html")]
struct TokensPage {
    nav: Nav,
    /// Every IANA zone, for the time-zone field's suggestions.
    zones: Vec<&'static str>,
    rows: Vec<TokenRow>,
    /// A token just created: shown once.
    secret: Option<String>,
    message: Option<String>,
}

async fn tokens_page(
    st: &AppState,
    a: &Analyst,
    secret: Option<String>,
    message: Option<String>,
) -> PageResult<Response> {
    let now = st.service.now();
    let rows = st
        .service
        .own_tokens(a)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            created: fmt_time(t.created_at, a.time_zone()),
            expires: t.expires_at.map(|x| fmt_time(x, a.time_zone())).unwrap_or_else(|| "never".into()),
            state: if t.revoked_at.is_some() {
                "revoked"
            } else if t.expires_at.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "active"
            },
            t,
        })
        .collect();
    let zones = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    Ok(TokensPage { nav: Nav::of(a, "tokens"), zones, rows, secret, message }.into_response())
}

async fn tokens(State(st): St, Page { who, .. }: Page<Someone>, Query(f): Query<Flash>) -> PageResult<Response> {
    let mut secret = None;
    let message = match f.done.as_deref() {
        Some("revoked") => Some("Token revoked.".to_owned()),
        Some("zone") => Some(format!("Times are shown in {} now (UTC on hover).", who.time_zone().name())),
        Some("created") => match super::reveal::take(&who.user().id, f.id()) {
            Some(s) => {
                secret = Some(s);
                Some(format!("Token “{}” created. Copy it now: it is not shown again.", f.name()))
            }
            None => Some(format!(
                "Token “{}” was created and shown once. If you did not copy it, revoke it and create another.",
                f.name()
            )),
        },
        _ => None,
    };
    tokens_page(&st, &who, secret, message).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    #[serde(default)]
    expires_in: String,
}

/// Creates the token and redirects to the page that shows its secret once (see `reveal`).
async fn tokens_create(State(st): St, a: Action<Someone, TokenForm>) -> PageResult<Response> {
    let life = super::lifetime(&a.form.expires_in)?;
    let t = st.service.create_own_token(&a.who, &a.form.name, life).await?;
    let nonce = super::reveal::hold(&a.who.user().id, t.secret).map_err(|e| {
        tracing::error!(error = %e, "cannot hold a new token for its page view");
        PageError(ApiError::internal())
    })?;
    Ok(Flash::redirect("/tokens", "created", Some(&t.record.name), Some(&nonce)))
}

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    time_zone: String,
}

async fn zone_set(State(st): St, a: Action<Someone, ZoneForm>) -> PageResult<Response> {
    st.service.set_own_time_zone(&a.who, Some(&a.form.time_zone)).await?;
    Ok(Flash::redirect("/tokens", "zone", None, None))
}

async fn tokens_revoke(State(st): St, Path(id): Path<String>, a: Action<Someone, NoForm>) -> PageResult<Response> {
    st.service.revoke_token(&a.who, &id).await?;
    Ok(Flash::redirect("/tokens", "revoked", None, None))
}
