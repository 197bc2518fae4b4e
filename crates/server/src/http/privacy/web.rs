//! The privacy pages: the dashboard (requests by days left, overdue, breaches, sweeps), a
//! request with its clock, timeline and every action, the breach register, the records of
//! processing. Each action is also in the API with the same capability.

use crate::http::error::{PageError, PageResult};
use crate::http::page::Flash;
use crate::http::extract::{Action, Page};
use crate::http::page::Nav;
use crate::http::session::urlencode;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use riskdesk_service::privacy::RequestIn;
use riskdesk_service::privacy::breaches::{BreachIn, BreachView, PhaseIn};
use riskdesk_service::privacy::records::Dashboard;
use riskdesk_service::{PrivacyIntake, PrivacyViewer, PrivacyWorker, ServiceError};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/privacy", get(dashboard))
        .route("/privacy/requests", post(create))
        .route("/privacy/requests/{id}", get(request))
        .route("/privacy/requests/{id}/act", post(act))
        .route("/privacy/requests/{id}/export.json", get(export))
        .route("/privacy/requests/{id}/report", get(super::report::report))
        .route("/privacy/breaches", get(breaches).post(register))
        .route("/privacy/breaches/{id}", get(breach).post(phase))
        .route("/privacy/records", get(records))
        .route("/privacy/sweeps", post(sweep))
}

pub(super) fn not_found(e: ServiceError) -> PageError {
    match e {
        ServiceError::NotFound(_) => PageError::not_found(),
        e => e.into(),
    }
}

fn back(path: &str, r: Result<String, ServiceError>) -> PageResult<Response> {
    match r {
        Ok(done) => Ok(Redirect::to(&format!("{path}?done={}", urlencode(&done))).into_response()),
        Err(ServiceError::Conflict(m) | ServiceError::Invalid(m) | ServiceError::Forbidden(m)) => {
            Ok(Redirect::to(&format!("{path}?error={}", urlencode(&m))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy/dashboard.html")]
struct DashboardPage {
    nav: Nav,
    d: Dashboard,
    can_work: bool,
    error: String,
    now: String,
}

async fn dashboard(State(st): St, Page { cap, who }: Page<PrivacyViewer>, Query(f): Query<Flash>) -> PageResult<impl IntoResponse> {
    let d = st.service.privacy_dashboard(&cap).await?;
    Ok(DashboardPage {
        nav: Nav::of(&who, "privacy"),
        can_work: who.grant::<PrivacyWorker>().is_some(),
        error: f.error.unwrap_or_default(),
        now: st.service.now().format("%Y-%m-%dT%H:%M").to_string(),
        d,
    })
}

#[derive(Deserialize)]
struct CreateForm {
    right: String,
    customer_id: String,
    received_at: String,
    channel: String,
    #[serde(default)]
    details: String,
}

async fn create(State(st): St, a: Action<PrivacyIntake, CreateForm>) -> PageResult<Response> {
    // The form's local time is read in the controller's zone.
    let received = st.service.privacy_local_time(&a.form.received_at).unwrap_or_else(|| a.form.received_at.clone());
    let input = RequestIn { right: a.form.right, customer_id: a.form.customer_id, received_at: received, channel: a.form.channel, details: a.form.details };
    match st.service.submit_privacy_request(&a.cap, input).await {
        Ok(s) => Ok(Redirect::to(&format!("/privacy/requests/{}", s.request_id)).into_response()),
        Err(e) => back("/privacy", Err(e)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy/request.html")]
struct RequestPage {
    nav: Nav,
    r: riskdesk_service::privacy::requests::RequestDetail,
    plan: Vec<(String, String, usize)>,
    /// The outcomes counted by kind of record and outcome, the reply's summary.
    summary: Vec<(String, String, usize)>,
    can_work: bool,
    error: String,
    done: String,
}

async fn request(State(st): St, Page { cap, who }: Page<PrivacyViewer>, Path(id): Path<String>, Query(f): Query<Flash>) -> PageResult<impl IntoResponse> {
    let r = st.service.privacy_request_detail(&cap, &id).await.map_err(not_found)?;
    let can_work = who.grant::<PrivacyWorker>().is_some();
    let plan = if can_work && r.view.open && matches!(r.view.record.right.as_str(), "erasure" | "restriction") {
        st.service.erasure_plan(&r.view.record.request_id).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut counts = std::collections::BTreeMap::<(String, String), usize>::new();
    for o in &r.outcomes {
        *counts.entry((o.record_kind.clone(), o.outcome.clone())).or_default() += 1;
    }
    let summary = counts.into_iter().map(|((k, o), n)| (k, o, n)).collect();
    Ok(RequestPage { nav: Nav::of(&who, "privacy"), r, plan, summary, can_work, error: f.error.unwrap_or_default(), done: f.done.unwrap_or_default() })
}

async fn act(State(st): St, Path(id): Path<String>, a: Action<PrivacyWorker, HashMap<String, String>>) -> PageResult<Response> {
    let f = |k: &str| a.form.get(k).cloned().unwrap_or_default();
    let s = &st.service;
    let path = format!("/privacy/requests/{}", urlencode(&id));
    let r: Result<String, ServiceError> = match f("action").as_str() {
        "verify" => s.verify_privacy_identity(&a.cap, &id, &f("evidence")).await.map(|_| "Identity verified.".into()),
        "send_code" => s.send_privacy_code(&a.cap, &id).await.map(|_| "Code sent to the e-mail on file; the clock stops.".into()),
        "confirm_code" => s.confirm_privacy_code(&id, &f("code")).await.map(|_| "Identity verified by the code.".into()),
        "pause" => s.ask_privacy_identity(&a.cap, &id, &f("text")).await.map(|_| "Identity information asked for; the clock stops.".into()),
        "extend" => {
            let months = f("months").parse().unwrap_or(0);
            s.extend_privacy_request(&a.cap, &id, months, &f("text")).await.map(|v| format!("Extended: due {}.", v.due_on))
        }
        "refuse" => s.refuse_privacy_request(&a.cap, &id, &f("text")).await.map(|_| "Refused.".into()),
        "withdraw" => s.withdraw_privacy_request(&a.cap, &id, &f("text")).await.map(|_| "Withdrawn.".into()),
        "complete" => s.complete_privacy_request(&a.cap, &id, &f("text"), f("withheld") == "on").await.map(|_| "Answered.".into()),
        "note" => s.note_privacy_request(&a.cap, &id, &f("text")).await.map(|()| "Note added.".into()),
        "export" => s.start_privacy_export(&a.cap, &id).await.map(|j| format!("Building the access package ({j}).")),
        "release" => s.propose_privacy_release(&a.cap, &id, &f("text")).await.map(|p| format!("Release proposed ({p}); a second person approves.")),
        "erasure" => s.propose_privacy_erasure(&a.cap, &id, &f("text")).await.map(|p| format!("Erasure proposed ({p}); a second person approves.")),
        "rectify" => s.rectify_privacy(&a.cap, &id, &f("field"), &f("value")).await.map(|n| format!("Corrected in {n} record(s).")),
        "misdelivery" => match s.report_misdelivery(&a.cap, &id, &f("text")).await {
            Ok(b) => return Ok(Redirect::to(&format!("/privacy/breaches/{}", b.record.breach_id)).into_response()),
            Err(e) => Err(e),
        },
        _ => Err(ServiceError::Invalid("action: unknown".into())),
    };
    back(&path, r)
}

async fn export(State(st): St, Page { cap, .. }: Page<PrivacyWorker>, Path(id): Path<String>) -> PageResult<Response> {
    let intake = PrivacyIntake::local(cap.actor().clone());
    let v = st.service.privacy_export(&intake, &id).await.map_err(not_found)?;
    let body = serde_json::to_string_pretty(&v).unwrap_or_default();
    Ok((
        [(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}.json\""))],
        body,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy/breaches.html")]
struct BreachesPage {
    nav: Nav,
    items: Vec<BreachView>,
    can_work: bool,
    error: String,
}

async fn breaches(State(st): St, Page { cap, who }: Page<PrivacyViewer>, Query(f): Query<Flash>) -> PageResult<impl IntoResponse> {
    Ok(BreachesPage { nav: Nav::of(&who, "privacy"), items: st.service.breaches(&cap, false).await?, can_work: who.grant::<PrivacyWorker>().is_some(), error: f.error.unwrap_or_default() })
}

#[derive(Deserialize)]
struct BreachForm {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    people_affected: String,
    #[serde(default)]
    categories: String,
}

async fn register(State(st): St, a: Action<PrivacyWorker, BreachForm>) -> PageResult<Response> {
    let input = BreachIn {
        title: a.form.title,
        description: a.form.description,
        people_affected: a.form.people_affected.trim().parse().unwrap_or(0),
        categories: a.form.categories,
        ..Default::default()
    };
    match st.service.register_breach(&a.cap, input, None).await {
        Ok(b) => Ok(Redirect::to(&format!("/privacy/breaches/{}", b.record.breach_id)).into_response()),
        Err(e) => back("/privacy/breaches", Err(e)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy/breach.html")]
struct BreachPage {
    nav: Nav,
    b: BreachView,
    can_work: bool,
    error: String,
    phases: &'static [(&'static str, &'static str)],
}

async fn breach(State(st): St, Page { cap, who }: Page<PrivacyViewer>, Path(id): Path<String>, Query(f): Query<Flash>) -> PageResult<impl IntoResponse> {
    Ok(BreachPage {
        nav: Nav::of(&who, "privacy"),
        b: st.service.breach(&cap, &id).await.map_err(not_found)?,
        can_work: who.grant::<PrivacyWorker>().is_some(),
        error: f.error.unwrap_or_default(),
        phases: riskdesk_domain::privacy::breach::PHASES,
    })
}

async fn phase(State(st): St, Path(id): Path<String>, a: Action<PrivacyWorker, HashMap<String, String>>) -> PageResult<Response> {
    let f = |k: &str| a.form.get(k).cloned().unwrap_or_default();
    let input = PhaseIn {
        phase: f("phase"),
        text: f("text"),
        risk: Some(f("risk")).filter(|r| !r.is_empty()),
        people_affected: f("people_affected").trim().parse().ok(),
    };
    let r = st.service.breach_phase(&a.cap, &id, input).await.map(|_| "Recorded.".to_owned());
    back(&format!("/privacy/breaches/{}", urlencode(&id)), r)
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy/records.html")]
struct RecordsPage {
    nav: Nav,
    json: String,
    retention: Vec<(String, String, String, String)>,
}

async fn records(State(st): St, Page { cap, who }: Page<PrivacyViewer>) -> PageResult<impl IntoResponse> {
    let v = st.service.records_of_processing(&cap);
    let retention = v["retention"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("records"), s("class"), s("limit"), s("basis"))
        })
        .collect();
    Ok(RecordsPage { nav: Nav::of(&who, "privacy"), json: serde_json::to_string_pretty(&v).unwrap_or_default(), retention })
}

async fn sweep(State(st): St, a: Action<PrivacyWorker, HashMap<String, String>>) -> PageResult<Response> {
    let r = st.service.start_sweep(&a.cap).await.map(|j| format!("Sweep {j} started."));
    back("/privacy", r)
}
