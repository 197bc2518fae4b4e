//! People over the API: who am I, my tokens, and user administration.

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use riskdesk_domain::{Permission, Role};
use riskdesk_service::identity::UserRecord;
use riskdesk_service::{Caller, Someone, UserAdmin, Via};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(me, set_time_zone, my_tokens, create_token, revoke_token, users, add_user, set_role, set_password, disable_user),
    components(schemas(TimeZoneIn, TokenIn, UserIn, RoleIn, PasswordIn))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/me", get(me))
        .route("/me/tokens", get(my_tokens).post(create_token))
        .route("/me/time-zone", axum::routing::put(set_time_zone))
        .route("/me/tokens/{id}", delete(revoke_token))
        .route("/users", get(users).post(add_user))
        .route("/users/{username}/role", post(set_role))
        .route("/users/{username}/password", post(set_password))
        .route("/users/{username}/disable", post(disable_user))
}

fn person(c: &Caller) -> ApiResult<&riskdesk_service::Analyst> {
    c.person().ok_or_else(|| ApiError::lacks("act as a person"))
}

fn user_json(u: &UserRecord) -> serde_json::Value {
    json!({"username": u.username, "display_name": u.display_name, "role": u.role.as_str(),
           "created_at": u.created_at, "disabled_at": u.disabled_at})
}

/// The person a token acts as: username, role and what the role allows.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn me(Api(_, caller): Api<Someone>) -> ApiResult<Response> {
    let a = person(&caller)?;
    let permissions: Vec<_> = Permission::ALL.into_iter().filter(|p| a.may(*p)).collect();
    let token = match a.via() {
        Via::Token { id } => Some(id.clone()),
        Via::Session { .. } => None,
    };
    Ok(Json(json!({
        "user": user_json(a.user()),
        "permissions": permissions,
        "token": token,
        "time_zone": a.time_zone().name(),
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneIn {
    /// An IANA name (`Europe/Paris`); null or empty: the installation's default.
    #[schema(schema_with = crate::http::openapi::time_zone_or_blank, example = "Europe/Paris")]
    time_zone: Option<String>,
}

/// Choose the time zone your pages show times in (UTC stays on hover).
#[utoipa::path(put, path = "/api/v1/me/time-zone", tag = "identity", request_body = TimeZoneIn,
    responses((status = 200, body = Object, description = "`{\"time_zone\": chosen or null}`"), (status = 401, body = ErrorOut),
              (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn set_time_zone(State(st): St, Api(_, caller): Api<Someone>, Body(b): Body<TimeZoneIn>) -> ApiResult<Response> {
    let a = person(&caller)?;
    let zone = st.service.set_own_time_zone(a, b.time_zone.as_deref()).await?;
    Ok(Json(json!({"time_zone": zone})).into_response())
}

/// Your personal access tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "identity",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn my_tokens(State(st): St, Api(_, caller): Api<Someone>) -> ApiResult<Response> {
    let a = person(&caller)?;
    Ok(Json(json!({"tokens": st.service.own_tokens(a).await?})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    name: String,
    /// `30d` or `12h` (a bare number counts days), from 1 hour to 366 days; empty or absent: a
    /// token without expiry.
    #[serde(default)]
    #[schema(pattern = "^(|0*([1-9]|[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-6])d?|0*([1-9][0-9]{0,2}|[1-7][0-9]{3}|8[0-6][0-9]{2}|87[0-7][0-9]|878[0-4])h)$")]
    expires_in: String,
}

/// Tokens are created when signed in (web UI) or by the local operator
/// (`riskdesk user token create`), never with a token: a leaked token must not be able to make
/// itself a successor. This answers 403 for token callers and says so.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "identity", request_body = TokenIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn create_token(State(st): St, Api(_, caller): Api<Someone>, Body(b): Body<TokenIn>) -> ApiResult<Response> {
    let a = person(&caller)?;
    let life = super::lifetime(&b.expires_in)?;
    let t = st.service.create_own_token(a, &b.name, life).await?;
    Ok((StatusCode::CREATED, Json(json!({"token": t.record, "secret": t.secret}))).into_response())
}

/// Revoke one of your tokens (user administrators: anyone's).
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn revoke_token(State(st): St, Api(_, caller): Api<Someone>, Path(id): Path<String>) -> ApiResult<Response> {
    st.service.revoke_token(person(&caller)?, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "identity",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn users(State(st): St, Api(cap, _): Api<UserAdmin>) -> ApiResult<Response> {
    let users: Vec<_> = st.service.users(&cap).await?.iter().map(user_json).collect();
    Ok(Json(json!({"users": users})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    /// 2 to 64 of `a-z 0-9 . _ -` (stored in lowercase); one taken answers 409.
    #[schema(pattern = "^[A-Za-z0-9._-]{2,64}$")]
    username: String,
    /// At most 100 characters (trimmed), no control characters or markup tags; empty: the
    /// username.
    #[schema(pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 100)]
    display_name: String,
    #[schema(pattern = "^(tier2_agent|fraud_analyst|risk_expert|privacy_officer|qa_reviewer|payments_specialist|provider_lead|team_lead|admin|auditor)$")]
    role: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    password: String,
}

fn role_of(s: &str) -> ApiResult<Role> {
    Role::parse(s).ok_or_else(|| ApiError::invalid("role", "not a role"))
}

/// Add a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "identity", request_body = UserIn,
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn add_user(State(st): St, Api(cap, _): Api<UserAdmin>, Body(b): Body<UserIn>) -> ApiResult<Response> {
    let role = role_of(&b.role)?;
    let u = st.service.add_user(&cap, &b.username, &b.display_name, role, &b.password).await?;
    Ok((StatusCode::CREATED, Json(user_json(&u))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleIn {
    #[schema(pattern = "^(tier2_agent|fraud_analyst|risk_expert|privacy_officer|qa_reviewer|payments_specialist|provider_lead|team_lead|admin|auditor)$")]
    role: String,
}

/// Change a user's role.
#[utoipa::path(post, path = "/api/v1/users/{username}/role", tag = "identity", params(("username" = String, Path)),
    request_body = RoleIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn set_role(
    State(st): St,
    Api(cap, _): Api<UserAdmin>,
    Path(name): Path<String>,
    Body(b): Body<RoleIn>,
) -> ApiResult<Response> {
    let role = role_of(&b.role)?;
    st.service.set_role(&cap, &name, role).await?;
    Ok(Json(json!({"username": name, "role": role.as_str()})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    /// At least 12 characters.
    #[schema(min_length = 12)]
    password: String,
}

/// Set a user's password; their sessions end.
#[utoipa::path(post, path = "/api/v1/users/{username}/password", tag = "identity",
    params(("username" = String, Path)), request_body = PasswordIn,
    responses((status = 204), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn set_password(
    State(st): St,
    Api(cap, _): Api<UserAdmin>,
    Path(name): Path<String>,
    Body(b): Body<PasswordIn>,
) -> ApiResult<Response> {
    st.service.set_password(&cap, &name, &b.password).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Disable a user (not yourself: 403): their sessions end and their tokens stop working.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "identity",
    params(("username" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn disable_user(
    State(st): St,
    Api(cap, caller): Api<UserAdmin>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    if caller.person().is_some_and(|a| a.user().username == name) {
        return Err(ApiError::lacks("disable their own account"));
    }
    st.service.disable_user(&cap, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
