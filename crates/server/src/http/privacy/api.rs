//! Privacy operations over the API: requests (the names the tests and portals rely on:
//! `right`, `customer_id`, `received_at`, `channel` in; `request_id`, `status`, `case_id`,
//! `due_on` out), their moves, the access package, erasure and release proposals, the breach
//! register, records of processing, sweeps and the dashboard.

use crate::http::error::ApiResult;
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_service::privacy::RequestIn;
use riskdesk_service::privacy::breaches::{BreachIn, PhaseIn};
use riskdesk_service::{PrivacyIntake, PrivacyViewer, PrivacyWorker};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list, one, export, build_export, identity, pause, extend, refuse, withdraw, complete, note, release, erasure, plan,
          rectify, misdelivery, vault, breaches, register, breach, phase, records, sweep, dashboard),
    components(schemas(CreateIn, IdentityIn, AskIdentityIn, ReasonTextIn, NoteTextIn, OptionalTextIn, WithdrawIn, ExtendIn, CompleteIn,
                       RectifyIn, PurposeIn, BreachDoc, PhaseDoc))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/privacy/requests", post(create).get(list))
        .route("/privacy/requests/{id}", get(one))
        .route("/privacy/requests/{id}/export", get(export).post(build_export))
        .route("/privacy/requests/{id}/identity", post(identity))
        .route("/privacy/requests/{id}/pause", post(pause))
        .route("/privacy/requests/{id}/extend", post(extend))
        .route("/privacy/requests/{id}/refuse", post(refuse))
        .route("/privacy/requests/{id}/withdraw", post(withdraw))
        .route("/privacy/requests/{id}/complete", post(complete))
        .route("/privacy/requests/{id}/notes", post(note))
        .route("/privacy/requests/{id}/release", post(release))
        .route("/privacy/requests/{id}/erasure", post(erasure))
        .route("/privacy/requests/{id}/plan", get(plan))
        .route("/privacy/requests/{id}/rectify", post(rectify))
        .route("/privacy/requests/{id}/misdelivery", post(misdelivery))
        .route("/privacy/vault/{id}/read", post(vault))
        .route("/privacy/breaches", get(breaches).post(register))
        .route("/privacy/breaches/{id}", get(breach))
        .route("/privacy/breaches/{id}/phases", post(phase))
        .route("/privacy/records", get(records))
        .route("/privacy/sweeps", post(sweep))
        .route("/privacy/dashboard", get(dashboard))
}

/// A data-subject request as entered.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct CreateIn {
    /// `access`, `rectification`, `erasure`, `restriction`, `portability` or `objection`.
    #[schema(pattern = "^(access|rectification|erasure|restriction|portability|objection)$")]
    right: String,
    #[schema(pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$")]
    customer_id: String,
    /// RFC 3339, at most five minutes ahead of now and at most 366 days ago.
    #[schema(format = DateTime)]
    received_at: String,
    /// `api`, `email`, `phone`, `letter`, `web_form` or `helpdesk`.
    #[schema(pattern = "^(api|email|phone|letter|web_form|helpdesk)$")]
    channel: String,
    /// What the person asked for in their words (a rectification's correct values); at most
    /// 4,000 characters.
    #[serde(default)]
    #[schema(max_length = 4000)]
    details: String,
}

/// Enter a data-subject request: 201 with `request_id`, `status`, `case_id` and `due_on` (the last
/// day to answer, `YYYY-MM-DD`, in the controller's zone); 200 with `duplicate: true` when the same
/// person's request of the same right is open (this receipt joins it).
#[utoipa::path(post, path = "/api/v1/privacy/requests", tag = "privacy", request_body = CreateIn,
    responses((status = 201, body = Object), (status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn create(State(st): St, Api(cap, _): Api<PrivacyIntake>, Body(b): Body<RequestIn>) -> ApiResult<Response> {
    let r = st.service.submit_privacy_request(&cap, b).await?;
    let status = if r.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(r)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Closed requests too.
    all: Option<bool>,
    customer_id: Option<String>,
}

/// Requests by days left, nearest first (open ones unless `all`).
#[utoipa::path(get, path = "/api/v1/privacy/requests", tag = "privacy", params(ListQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)), security(("api_key" = [])))]
async fn list(State(st): St, Api(cap, _): Api<PrivacyViewer>, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<Response> {
    let rows = st.service.privacy_requests(&cap, q.all.unwrap_or(false), q.customer_id).await?;
    Ok(Json(json!({"requests": rows})).into_response())
}

/// A request with its clock (`due_on`, `days_left`, `paused`), timeline, jobs, erasure outcomes
/// and Art. 19 notifications.
#[utoipa::path(get, path = "/api/v1/privacy/requests/{id}", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn one(State(st): St, Api(cap, _): Api<PrivacyViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.privacy_request_detail(&cap, &id).await?).into_response())
}

/// The access package as JSON: everything held about the person by section, the access log's
/// dates and purposes, and the Art. 15 information. 409 until a package was built.
#[utoipa::path(get, path = "/api/v1/privacy/requests/{id}/export", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn export(State(st): St, Api(cap, _): Api<PrivacyIntake>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.privacy_export(&cap, &id).await?).into_response())
}

/// Start building the access package (a resumable background job): 202 with `job_id`.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/export", tag = "privacy", params(("id" = String, Path)),
    responses((status = 202, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn build_export(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>) -> ApiResult<Response> {
    let job = st.service.start_privacy_export(&cap, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"job_id": job}))).into_response())
}

/// How the identity is verified, by `method`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum IdentityIn {
    /// Staff verified it: how (a call-back to the number on file, an order detail only they
    /// know), 10 to 1,000 characters besides the white space around them.
    Staff {
        #[schema(pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){8,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){10,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f])[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$", max_length = 1000)]
        evidence: String,
    },
    /// Sends a code to the e-mail address on file.
    EmailCode {},
    /// The code the person received (a wrong or expired one answers 422).
    Confirm { code: String },
}

/// Verify the person's identity.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/identity", tag = "privacy", params(("id" = String, Path)), request_body = IdentityIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn identity(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<IdentityIn>) -> ApiResult<Response> {
    let v = match b {
        IdentityIn::Staff { evidence } => st.service.verify_privacy_identity(&cap, &id, &evidence).await?,
        IdentityIn::EmailCode {} => st.service.send_privacy_code(&cap, &id).await?,
        IdentityIn::Confirm { code } => st.service.confirm_privacy_code(&id, &code).await?,
    };
    Ok(Json(v).into_response())
}

/// The body of the moves that take a text: each documents its own rule below.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextIn {
    #[serde(default)]
    text: String,
}

/// A service error about the text of a move, named as the body names it (`text`).
fn text(service_name: &'static str) -> impl Fn(riskdesk_service::ServiceError) -> crate::http::ApiError {
    move |e| crate::http::ApiError::from(e).renaming(service_name, "text")
}

/// What the person is asked for.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AskIdentityIn {
    /// Some text besides white space, at most 1,000 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 1000)]
    text: String,
}

/// The reason the person is told.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ReasonTextIn {
    /// 10 to 2,000 characters besides the white space around them.
    #[schema(pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){8,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){10,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f])[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$", max_length = 2000)]
    text: String,
}

/// A note for the request's timeline.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NoteTextIn {
    /// Some text besides white space, at most 4,000 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 4000)]
    text: String,
}

/// An optional note for the record.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct OptionalTextIn {
    /// At most 2,000 characters.
    #[schema(max_length = 2000, nullable = false)]
    text: Option<String>,
}

/// An optional note on the withdrawal.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct WithdrawIn {
    /// At most 1,000 characters.
    #[schema(max_length = 1000, nullable = false)]
    text: Option<String>,
}

/// Ask the person for identity information: the clock stops until it arrives.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/pause", tag = "privacy", params(("id" = String, Path)), request_body = AskIdentityIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn pause(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<TextIn>) -> ApiResult<Response> {
    Ok(Json(st.service.ask_privacy_identity(&cap, &id, &b.text).await.map_err(text("note"))?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendIn {
    /// 1 or 2 further months (at most 2 in all).
    #[serde(deserialize_with = "crate::http::wire::int")]
    #[schema(minimum = 1, maximum = 2)]
    months: i64,
    /// The reason the person is told, within the first month: 10 to 1,000 characters besides
    /// the white space around them.
    #[schema(pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){8,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){10,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f])[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$", max_length = 1000)]
    reason: String,
}

/// Extend the deadline by up to two further months (Art. 12(3)), within the first month.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/extend", tag = "privacy", params(("id" = String, Path)), request_body = ExtendIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn extend(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<ExtendIn>) -> ApiResult<Response> {
    let months = u32::try_from(b.months).ok().filter(|m| (1..=2).contains(m));
    let months = months.ok_or_else(|| crate::http::ApiError::invalid("months", "1 or 2"))?;
    Ok(Json(st.service.extend_privacy_request(&cap, &id, months, &b.reason).await?).into_response())
}

/// Refuse with the reason (the person is told of the right to complain).
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/refuse", tag = "privacy", params(("id" = String, Path)), request_body = ReasonTextIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn refuse(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<TextIn>) -> ApiResult<Response> {
    Ok(Json(st.service.refuse_privacy_request(&cap, &id, &b.text).await.map_err(text("reason"))?).into_response())
}

/// The person withdrew the request.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/withdraw", tag = "privacy", params(("id" = String, Path)), request_body = WithdrawIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut)), security(("api_key" = [])))]
async fn withdraw(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<TextIn>) -> ApiResult<Response> {
    Ok(Json(st.service.withdraw_privacy_request(&cap, &id, &b.text).await.map_err(text("note"))?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteIn {
    /// Some text besides white space, at most 4,000 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 4000)]
    answer: String,
    /// Some data was withheld (say what and why in `answer`).
    #[serde(default)]
    withheld: bool,
}

/// Answer the request: completed, or partly withheld.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/complete", tag = "privacy", params(("id" = String, Path)), request_body = CompleteIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn complete(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<CompleteIn>) -> ApiResult<Response> {
    Ok(Json(st.service.complete_privacy_request(&cap, &id, &b.answer, b.withheld).await?).into_response())
}

/// Add a note to the request's timeline.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/notes", tag = "privacy", params(("id" = String, Path)), request_body = NoteTextIn,
    responses((status = 204), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)), security(("api_key" = [])))]
async fn note(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<TextIn>) -> ApiResult<Response> {
    st.service.note_privacy_request(&cap, &id, &b.text).await.map_err(text("note"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Propose releasing the built package to the person (a second person approves): 201 with `proposal_id`.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/release", tag = "privacy", params(("id" = String, Path)), request_body = OptionalTextIn,
    responses((status = 201, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut)), security(("api_key" = [])))]
async fn release(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<TextIn>) -> ApiResult<Response> {
    let p = st.service.propose_privacy_release(&cap, &id, &b.text).await.map_err(text("note"))?;
    Ok((StatusCode::CREATED, Json(json!({"proposal_id": p}))).into_response())
}

/// Propose executing the erasure (or restriction) of the request (a second person approves).
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/erasure", tag = "privacy", params(("id" = String, Path)), request_body = OptionalTextIn,
    responses((status = 201, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut)), security(("api_key" = [])))]
async fn erasure(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<TextIn>) -> ApiResult<Response> {
    let p = st.service.propose_privacy_erasure(&cap, &id, &b.text).await.map_err(text("note"))?;
    Ok((StatusCode::CREATED, Json(json!({"proposal_id": p}))).into_response())
}

/// What erasure would do now, per kind of record: outcome and count.
#[utoipa::path(get, path = "/api/v1/privacy/requests/{id}/plan", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)), security(("api_key" = [])))]
async fn plan(State(st): St, Api(_cap, _): Api<PrivacyWorker>, Path(id): Path<String>) -> ApiResult<Response> {
    let plan = st.service.erasure_plan(&id).await?;
    let rows: Vec<_> = plan.into_iter().map(|(k, o, n)| json!({"records": k, "outcome": o, "count": n})).collect();
    Ok(Json(json!({"plan": rows})).into_response())
}

/// The corrected value, by `field`: an e-mail address, an international phone number
/// (`+4915112345678`), or a name (some text besides white space, at most 300 characters).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "field", rename_all = "snake_case", deny_unknown_fields)]
pub enum RectifyIn {
    Email {
        #[schema(pattern = "^\\s*[^\\s@<>\"][^\\s@<>]*@[^\\s@<>\\[][^\\s@<>]*\\s*$", max_length = 300)]
        value: String,
    },
    Phone {
        #[schema(pattern = "^\\s*(\\+|00)[ ./()-]*[1-9]([ ./()-]*[0-9]){6,14}[ ./()-]*\\s*$", max_length = 40)]
        value: String,
    },
    Name {
        #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 300)]
        value: String,
    },
}

/// Correct a value everywhere it is held; recipients' notifications are recorded (Art. 19).
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/rectify", tag = "privacy", params(("id" = String, Path)), request_body = RectifyIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn rectify(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<RectifyIn>) -> ApiResult<Response> {
    let (field, value) = match b {
        RectifyIn::Email { value } => ("email", value),
        RectifyIn::Phone { value } => ("phone", value),
        RectifyIn::Name { value } => ("name", value),
    };
    let n = st.service.rectify_privacy(&cap, &id, field, &value).await?;
    Ok(Json(json!({"records": n})).into_response())
}

/// The package went to the wrong person: registers the breach at once.
#[utoipa::path(post, path = "/api/v1/privacy/requests/{id}/misdelivery", tag = "privacy", params(("id" = String, Path)), request_body = OptionalTextIn,
    responses((status = 201, body = Object), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)), security(("api_key" = [])))]
async fn misdelivery(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<TextIn>) -> ApiResult<Response> {
    Ok((StatusCode::CREATED, Json(st.service.report_misdelivery(&cap, &id, &b.text).await.map_err(text("note"))?)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposeIn {
    /// The legal hold or claim the restricted values are needed for (logged): 10 to 500
    /// characters besides the white space around them.
    #[schema(pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){8,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){10,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f])[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$", max_length = 500)]
    purpose: String,
}

/// Read what the vault keeps of a record, for a legal-hold purpose (audited).
#[utoipa::path(post, path = "/api/v1/privacy/vault/{id}/read", tag = "privacy", params(("id" = String, Path)), request_body = PurposeIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn vault(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<PurposeIn>) -> ApiResult<Response> {
    Ok(Json(st.service.read_vault(&cap, &id, &b.purpose).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreachQuery {
    /// Open breaches only.
    open: Option<bool>,
}

/// The breach register, newest first, with each 72-hour clock.
#[utoipa::path(get, path = "/api/v1/privacy/breaches", tag = "privacy", params(BreachQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorOut)), security(("api_key" = [])))]
async fn breaches(State(st): St, Api(cap, _): Api<PrivacyViewer>, ApiQuery(q): ApiQuery<BreachQuery>) -> ApiResult<Response> {
    Ok(Json(json!({"breaches": st.service.breaches(&cap, q.open.unwrap_or(false)).await?})).into_response())
}

/// A breach to register.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BreachIn)]
#[allow(dead_code)]
pub struct BreachDoc {
    /// Some text besides white space, at most 200 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 200)]
    title: String,
    /// At most 4,000 characters.
    #[schema(max_length = 4000, nullable = false)]
    description: Option<String>,
    /// When the controller became aware: RFC 3339, at most five minutes ahead of now; empty or
    /// absent: now.
    #[schema(pattern = "^(|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))$")]
    aware_at: Option<String>,
    /// When it happened: RFC 3339; empty: now.
    #[schema(pattern = "^(|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))$")]
    occurred_at: Option<String>,
    /// Default 0.
    #[schema(minimum = 0, nullable = false)]
    people_affected: Option<i64>,
    /// Categories of data concerned, e.g. `contact, order history`; at most 500 characters.
    #[schema(max_length = 500, nullable = false)]
    categories: Option<String>,
}

/// Register a breach: `title`, `description`, `aware_at` (default now), `occurred_at`,
/// `people_affected`, `categories`.
#[utoipa::path(post, path = "/api/v1/privacy/breaches", tag = "privacy", request_body = BreachDoc,
    responses((status = 201, body = Object), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)), security(("api_key" = [])))]
async fn register(State(st): St, Api(cap, _): Api<PrivacyWorker>, Body(b): Body<BreachIn>) -> ApiResult<Response> {
    Ok((StatusCode::CREATED, Json(st.service.register_breach(&cap, b, None).await?)).into_response())
}

/// A breach with its clock and phases.
#[utoipa::path(get, path = "/api/v1/privacy/breaches/{id}", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)), security(("api_key" = [])))]
async fn breach(State(st): St, Api(cap, _): Api<PrivacyViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.breach(&cap, &id).await?).into_response())
}

/// A phase of a breach's handling, by `phase`, with a text (at most 4,000 characters) and,
/// if it changed, how many people are affected (0 or more).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "phase", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = PhaseIn)]
pub enum PhaseDoc {
    /// The risk to the people affected.
    Assessed {
        /// `unlikely`, `risk` or `high`.
        #[schema(pattern = "^(unlikely|risk|high)$")]
        risk: String,
        #[serde(default)]
        #[schema(max_length = 4000)]
        text: String,
        #[serde(default, deserialize_with = "crate::http::wire::opt_int")]
        #[schema(minimum = 0)]
        people_affected: Option<i64>,
    },
    Contained {
        #[serde(default)]
        #[schema(max_length = 4000)]
        text: String,
        #[serde(default, deserialize_with = "crate::http::wire::opt_int")]
        #[schema(minimum = 0)]
        people_affected: Option<i64>,
    },
    /// Past the 72 hours, the text gives the reasons for the delay.
    AuthorityNotified {
        #[serde(default)]
        #[schema(max_length = 4000)]
        text: String,
        #[serde(default, deserialize_with = "crate::http::wire::opt_int")]
        #[schema(minimum = 0)]
        people_affected: Option<i64>,
    },
    AuthorityUpdate {
        #[serde(default)]
        #[schema(max_length = 4000)]
        text: String,
        #[serde(default, deserialize_with = "crate::http::wire::opt_int")]
        #[schema(minimum = 0)]
        people_affected: Option<i64>,
    },
    PeopleNotified {
        #[serde(default)]
        #[schema(max_length = 4000)]
        text: String,
        #[serde(default, deserialize_with = "crate::http::wire::opt_int")]
        #[schema(minimum = 0)]
        people_affected: Option<i64>,
    },
    /// The text says why the people are not told (Art. 34(3)): 10 characters or more besides
    /// the white space around them.
    DecidedNotToNotify {
        #[schema(pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){8,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]|[^\\s\\x00-\\x1f\\x7f-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){9,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]|[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]([\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]){10,}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f])[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$", max_length = 4000)]
        text: String,
        #[serde(default, deserialize_with = "crate::http::wire::opt_int")]
        #[schema(minimum = 0)]
        people_affected: Option<i64>,
    },
    /// Once the risk is assessed (409 before).
    Closed {
        #[serde(default)]
        #[schema(max_length = 4000)]
        text: String,
        #[serde(default, deserialize_with = "crate::http::wire::opt_int")]
        #[schema(minimum = 0)]
        people_affected: Option<i64>,
    },
}

impl From<PhaseDoc> for PhaseIn {
    fn from(p: PhaseDoc) -> Self {
        let (phase, risk, text, people_affected) = match p {
            PhaseDoc::Assessed { risk, text, people_affected } => ("assessed", Some(risk), text, people_affected),
            PhaseDoc::Contained { text, people_affected } => ("contained", None, text, people_affected),
            PhaseDoc::AuthorityNotified { text, people_affected } => ("authority_notified", None, text, people_affected),
            PhaseDoc::AuthorityUpdate { text, people_affected } => ("authority_update", None, text, people_affected),
            PhaseDoc::PeopleNotified { text, people_affected } => ("people_notified", None, text, people_affected),
            PhaseDoc::DecidedNotToNotify { text, people_affected } => {
                ("decided_not_to_notify", None, text, people_affected)
            }
            PhaseDoc::Closed { text, people_affected } => ("closed", None, text, people_affected),
        };
        PhaseIn { phase: phase.into(), text, risk, people_affected }
    }
}

/// Record a phase: `phase` (`assessed` with `risk`, `contained`, `authority_notified`,
/// `authority_update`, `people_notified`, `decided_not_to_notify`, `closed`) and `text`.
#[utoipa::path(post, path = "/api/v1/privacy/breaches/{id}/phases", tag = "privacy", params(("id" = String, Path)), request_body = PhaseDoc,
    responses((status = 200, body = Object), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn phase(State(st): St, Api(cap, _): Api<PrivacyWorker>, Path(id): Path<String>, Body(b): Body<PhaseDoc>) -> ApiResult<Response> {
    Ok(Json(st.service.breach_phase(&cap, &id, b.into()).await?).into_response())
}

/// The records of processing (Art. 30) with the retention classes riskdesk enforces.
#[utoipa::path(get, path = "/api/v1/privacy/records", tag = "privacy",
    responses((status = 200, body = Object), (status = 403, body = ErrorOut)), security(("api_key" = [])))]
async fn records(State(st): St, Api(cap, _): Api<PrivacyViewer>) -> ApiResult<Response> {
    Ok(Json(st.service.records_of_processing(&cap)).into_response())
}

/// Start a retention sweep now: 202 with `job_id`.
#[utoipa::path(post, path = "/api/v1/privacy/sweeps", tag = "privacy",
    responses((status = 202, body = Object), (status = 403, body = ErrorOut)), security(("api_key" = [])))]
async fn sweep(State(st): St, Api(cap, _): Api<PrivacyWorker>) -> ApiResult<Response> {
    Ok((StatusCode::ACCEPTED, Json(json!({"job_id": st.service.start_sweep(&cap).await?}))).into_response())
}

/// Open requests by days left, overdue, open breaches, sweep runs, jobs.
#[utoipa::path(get, path = "/api/v1/privacy/dashboard", tag = "privacy",
    responses((status = 200, body = Object), (status = 403, body = ErrorOut)), security(("api_key" = [])))]
async fn dashboard(State(st): St, Api(cap, _): Api<PrivacyViewer>) -> ApiResult<Response> {
    Ok(Json(st.service.privacy_dashboard(&cap).await?).into_response())
}
