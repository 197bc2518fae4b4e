//! The disputes pages: the queue by deadline, a dispute (lifecycle, checklist, CE 3.0, provider
//! events, respond), refund claims, return abuse and the scheme-ratio chart.

use super::api::pdf_response;
use crate::http::error::{PageError, PageResult};
use crate::http::extract::{Action, Page};
use crate::http::page::{Nav, fmt_time};
use crate::http::session::urlencode;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use riskdesk_domain::disputes::{ReasonFamily, Urgency};
use riskdesk_service::disputes::returns::{Claim, ReturnAbuse};
use riskdesk_service::disputes::schemes::{MonthRatio, SchemeReport};
use riskdesk_service::disputes::{DisputeDetail, DisputeOut, DisputeQuery};
use riskdesk_service::{DisputeImporter, DisputeViewer, DisputeWorker, ServiceError};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/disputes", get(queue))
        .route("/disputes/schemes", get(schemes))
        .route("/disputes/volumes", post(volume))
        .route("/disputes/{id}", get(show))
        .route("/disputes/{id}/evidence", post(evidence))
        .route("/disputes/{id}/submit", post(submit))
        .route("/disputes/{id}/accept", post(accept))
        .route("/disputes/{id}/pack.pdf", get(pack_pdf))
        .route("/disputes/{id}/pack.json", get(pack_json))
        .route("/refund-claims", get(claims))
        .route("/return-abuse", get(returns))
}

fn money(v: &serde_json::Value) -> String {
    format!("{} {}", v["amount"].as_str().unwrap_or(""), v["currency"].as_str().unwrap_or(""))
}

fn minor(m: i64, currency: &str) -> String {
    riskdesk_domain::money::display(m, currency)
}

/// How a deadline reads in the queue: `in 2 d 4 h`, `3 h overdue`.
fn left(d: &DisputeOut, now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    let Some(due) = d.due_by else { return "no deadline".into() };
    let mins = (due - now).num_minutes();
    let span = |m: i64| {
        let m = m.abs();
        if m >= 1440 { format!("{} d {} h", m / 1440, (m % 1440) / 60) } else { format!("{} h {} min", m / 60, m % 60) }
    };
    if d.urgency == Urgency::Waiting {
        return format!("due {}", fmt_time(due, tz));
    }
    if mins < 0 { format!("{} overdue", span(mins)) } else { format!("in {}", span(mins)) }
}

fn urgency_class(u: Urgency) -> &'static str {
    match u {
        Urgency::Overdue => "sla-breached",
        Urgency::DueSoon => "sla-warning",
        Urgency::OnTrack => "sla-running",
        Urgency::Waiting => "sla-paused",
    }
}

struct Row {
    d: DisputeOut,
    amount: String,
    left: String,
    class: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "disputes/queue.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<Row>,
    total: i64,
    view: String,
    family: String,
    provider: String,
    families: Vec<(&'static str, &'static str)>,
    alerts: Vec<String>,
}

#[derive(Deserialize)]
struct QueueQuery {
    view: Option<String>,
    family: Option<String>,
    provider: Option<String>,
}

async fn queue(State(st): St, Page { cap, who }: Page<DisputeViewer>, Query(q): Query<QueueQuery>) -> PageResult<impl IntoResponse> {
    let view = q.view.unwrap_or_else(|| "open".into());
    let status = match view.as_str() {
        "open" => Some("open".to_owned()),
        "respond" => Some("needs_response".to_owned()),
        "closed" => Some("won,lost,accepted,expired".to_owned()),
        _ => None,
    };
    let family = q.family.unwrap_or_default();
    let provider = q.provider.unwrap_or_default();
    let query = DisputeQuery { status, family: Some(family.clone()), provider: Some(provider.clone()), limit: Some(200), ..Default::default() };
    let (list, total) = st.service.disputes(&cap, &query).await?;
    let now = st.service.now();
    let alerts = st.service.scheme_ratios(&cap, 2).await.map(|r| r.alerts).unwrap_or_default();
    Ok(QueuePage {
        nav: Nav::of(&who, "disputes"),
        rows: list
            .into_iter()
            .map(|d| Row { amount: money(&d.amount), left: left(&d, now, who.time_zone()), class: urgency_class(d.urgency), d })
            .collect(),
        total,
        view,
        family,
        provider,
        families: ReasonFamily::ALL.iter().map(|f| (f.as_str(), f.label())).collect(),
        alerts,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "disputes/dispute.html")]
struct ShowPage {
    nav: Nav,
    v: DisputeDetail,
    amount: String,
    left: String,
    class: &'static str,
    refunded: String,
    funds: String,
    can_work: bool,
    error: String,
    done: String,
}

#[derive(Deserialize)]
struct ShowQuery {
    error: Option<String>,
    done: Option<String>,
}

async fn show(State(st): St, Page { cap, who }: Page<DisputeViewer>, Path(id): Path<String>, Query(q): Query<ShowQuery>) -> PageResult<impl IntoResponse> {
    let v = st.service.dispute(&cap, &id, who.grant::<DisputeWorker>().is_some()).await.map_err(|e| match e {
        ServiceError::NotFound(_) => PageError::not_found(),
        e => e.into(),
    })?;
    let now = st.service.now();
    let currency = v.dispute.amount["currency"].as_str().unwrap_or("EUR").to_owned();
    Ok(ShowPage {
        nav: Nav::of(&who, "disputes"),
        amount: money(&v.dispute.amount),
        left: left(&v.dispute, now, who.time_zone()),
        class: urgency_class(v.dispute.urgency),
        refunded: minor(v.evidence.refunded_minor, &currency),
        funds: match v.dispute.funds_minor {
            0 => "none".into(),
            f if f < 0 => format!("{} withdrawn", minor(-f, &currency)),
            f => format!("{} reinstated", minor(f, &currency)),
        },
        can_work: who.grant::<DisputeWorker>().is_some(),
        error: q.error.unwrap_or_default(),
        done: q.done.unwrap_or_default(),
        v,
    })
}

/// Back to the dispute, with what happened or why not (the page shows it beside the forms).
fn back(id: &str, r: Result<&str, ServiceError>) -> PageResult<Response> {
    match r {
        Ok(done) => Ok(Redirect::to(&format!("/disputes/{id}?done={done}")).into_response()),
        Err(ServiceError::Conflict(m) | ServiceError::Invalid(m)) => {
            Ok(Redirect::to(&format!("/disputes/{id}?error={}", urlencode(&m))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct EvidenceForm {
    item: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    remove: String,
}

async fn evidence(State(st): St, Path(id): Path<String>, a: Action<DisputeWorker, EvidenceForm>) -> PageResult<Response> {
    let note = if a.form.remove.is_empty() { Some(a.form.note.as_str()) } else { None };
    let r = st.service.mark_dispute_evidence(&a.cap, &id, &a.form.item, note).await;
    back(&id, r.map(|()| "evidence"))
}

#[derive(Deserialize)]
struct SubmitForm {
    #[serde(default)]
    note: String,
}

async fn submit(State(st): St, Path(id): Path<String>, a: Action<DisputeWorker, SubmitForm>) -> PageResult<Response> {
    let r = st.service.submit_dispute(&a.cap, &id, &a.form.note).await;
    back(
        &id,
        r.map(|s| match s {
            riskdesk_service::disputes::respond::Submitted::Submitted { .. } => "submitted",
            riskdesk_service::disputes::respond::Submitted::Pending { .. } => "proposed",
        }),
    )
}

#[derive(Deserialize)]
struct AcceptForm {
    reason: String,
}

async fn accept(State(st): St, Path(id): Path<String>, a: Action<DisputeWorker, AcceptForm>) -> PageResult<Response> {
    let r = st.service.accept_dispute(&a.cap, &id, &a.form.reason).await;
    back(&id, r.map(|_| "accepted"))
}

async fn pack_pdf(State(st): St, Page { cap, .. }: Page<DisputeWorker>, Path(id): Path<String>) -> PageResult<Response> {
    Ok(pdf_response(&id, st.service.dispute_pack(&cap, &id).await?.pdf))
}

/// The provider's evidence fields as a JSON file, for a signed-in person (the API's
/// `/api/v1/disputes/{id}/pack` takes keys and tokens).
async fn pack_json(State(st): St, Page { cap, .. }: Page<DisputeWorker>, Path(id): Path<String>) -> PageResult<Response> {
    let json = st.service.dispute_pack(&cap, &id).await?.json;
    let name = format!("attachment; filename=\"evidence-{}.json\"", id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', ""));
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json".to_owned()), (axum::http::header::CONTENT_DISPOSITION, name)],
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
        .into_response())
}

#[derive(Deserialize)]
struct DaysQuery {
    days: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "disputes/claims.html")]
struct ClaimsPage {
    nav: Nav,
    claims: Vec<(Claim, String)>,
    days: i64,
}

async fn claims(State(st): St, Page { cap, who }: Page<DisputeViewer>, Query(q): Query<DaysQuery>) -> PageResult<impl IntoResponse> {
    let days = q.days.unwrap_or(90);
    let claims = st.service.refund_claims(&cap, days).await?;
    Ok(ClaimsPage {
        nav: Nav::of(&who, "disputes"),
        claims: claims.into_iter().map(|c| (minor(c.refunded_minor, "EUR"), c)).map(|(m, c)| (c, m)).collect(),
        days,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "disputes/returns.html")]
struct ReturnsPage {
    nav: Nav,
    rows: Vec<(ReturnAbuse, String)>,
    days: i64,
}

async fn returns(State(st): St, Page { cap, who }: Page<DisputeViewer>, Query(q): Query<DaysQuery>) -> PageResult<impl IntoResponse> {
    let days = q.days.unwrap_or(180);
    let rows = st.service.return_abuse(&cap, days).await?;
    Ok(ReturnsPage {
        nav: Nav::of(&who, "disputes"),
        rows: rows.into_iter().map(|r| (minor(r.kept_minor, "EUR"), r)).map(|(k, r)| (r, k)).collect(),
        days,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "disputes/schemes.html")]
struct SchemesPage {
    nav: Nav,
    r: SchemeReport,
    vamp_chart: String,
    ecp_chart: String,
    can_work: bool,
    months: u32,
}

#[derive(Deserialize)]
struct MonthsQuery {
    months: Option<u32>,
}

async fn schemes(State(st): St, Page { cap, who }: Page<DisputeViewer>, Query(q): Query<MonthsQuery>) -> PageResult<impl IntoResponse> {
    let months = q.months.unwrap_or(13);
    let mut r = st.service.scheme_ratios(&cap, months).await?;
    // Months before riskdesk held anything are left out rather than drawn as zero.
    let has_data = |m: &MonthRatio| m.assessment.count > 0 || m.assessment.denominator > 0;
    for list in [&mut r.visa_vamp, &mut r.mastercard_ecp] {
        if let Some(first) = list.iter().position(has_data) {
            list.drain(..first);
        }
    }
    Ok(SchemesPage {
        nav: Nav::of(&who, "disputes"),
        vamp_chart: chart(&r.visa_vamp, "Visa VAMP", &[(1.5, "1.5 %"), (2.2, "2.2 % (to Mar 26)")]),
        ecp_chart: chart(&r.mastercard_ecp, "Mastercard ECP", &[(1.0, "1.0 %"), (1.5, "1.5 %"), (3.0, "3.0 %")]),
        can_work: who.grant::<DisputeWorker>().is_some(),
        months,
        r,
    })
}

#[derive(Deserialize)]
struct VolumeForm {
    month: String,
    network: String,
    settled: i64,
}

async fn volume(State(st): St, a: Action<DisputeImporter, VolumeForm>) -> PageResult<Response> {
    st.service.set_scheme_volume(&a.cap, a.form.month.trim(), a.form.network.trim(), a.form.settled).await?;
    Ok(Redirect::to("/disputes/schemes").into_response())
}

/// A line chart of a programme's monthly ratio, server-rendered SVG: the months' ratios, the
/// thresholds as dashed lines, and the running month's forecast with its 90 % interval.
fn chart(months: &[MonthRatio], title: &str, thresholds: &[(f64, &str)]) -> String {
    use std::fmt::Write;
    let (w, h, left, bottom, top) = (720.0_f64, 240.0_f64, 44.0_f64, 28.0_f64, 16.0_f64);
    let top_value = months
        .iter()
        .flat_map(|m| [m.assessment.ratio_pct, m.forecast.as_ref().map_or(0.0, |f| f.ratio_pct.high)])
        .chain(thresholds.iter().map(|t| t.0))
        .fold(0.5_f64, f64::max)
        * 1.15;
    let n = months.len().max(1) as f64;
    let x = |i: usize| left + (w - left - 10.0) * (i as f64 + 0.5) / n;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / top_value);
    let mut s = format!(r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="{title} by month" class="chart">"#);
    let _ = write!(s, r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#889"/>"##, y(0.0), w - 10.0, y(0.0));
    for (v, label) in thresholds {
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#c0392b" stroke-dasharray="4 3"/><text x="2" y="{2:.1}" font-size="10" fill="#c0392b">{label}</text>"##,
            y(*v),
            w - 10.0,
            y(*v) + 3.0
        );
    }
    let points: Vec<String> = months.iter().enumerate().map(|(i, m)| format!("{:.1},{:.1}", x(i), y(m.assessment.ratio_pct))).collect();
    let _ = write!(s, r##"<polyline fill="none" stroke="#2c5d8f" stroke-width="2" points="{}"/>"##, points.join(" "));
    for (i, m) in months.iter().enumerate() {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#2c5d8f"><title>{} {:.2} % ({} of {})</title></circle>"##,
            x(i),
            y(m.assessment.ratio_pct),
            m.month,
            m.assessment.ratio_pct,
            m.assessment.count,
            m.assessment.denominator
        );
        if i % 2 == (months.len() + 1) % 2 || months.len() <= 7 {
            let _ = write!(s, r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#556">{}</text>"##, x(i), h - 8.0, m.month);
        }
        if let Some(f) = &m.forecast {
            let _ = write!(
                s,
                r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#d68910" stroke-width="2"/><circle cx="{0:.1}" cy="{3:.1}" r="4" fill="none" stroke="#d68910" stroke-width="2"><title>forecast {4:.2} % (90 %: {5:.2}-{6:.2} %)</title></circle>"##,
                x(i),
                y(f.ratio_pct.low),
                y(f.ratio_pct.high),
                y(f.ratio_pct.point),
                f.ratio_pct.point,
                f.ratio_pct.low,
                f.ratio_pct.high
            );
        }
    }
    s.push_str("</svg>");
    s
}
