//! KPIs over the API: the table by segment (the contract finance and marketplaces' scripts
//! read), series per period, the orders behind a number, rule effectiveness, the other areas'
//! KPIs, the catalogue, trend alerts and reports. Each table also as CSV.

use super::csv;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::page::ymd;
use crate::http::state::{AppState, St};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use riskdesk_domain::kpis::Dim;
use riskdesk_domain::kpis::period::Period;
use riskdesk_service::{KpiManager, KpiViewer, Service};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(table, table_csv, series, orders, orders_csv, rules, rules_csv, areas, areas_csv, catalogue, alerts, alert, investigate,
          dismiss, scan, runs, report, send),
    components(schemas(DismissIn))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/kpis", get(table))
        .route("/kpis.csv", get(table_csv))
        .route("/kpis/series", get(series))
        .route("/kpis/orders", get(orders))
        .route("/kpis/orders.csv", get(orders_csv))
        .route("/kpis/rules", get(rules))
        .route("/kpis/rules.csv", get(rules_csv))
        .route("/kpis/areas", get(areas))
        .route("/kpis/areas.csv", get(areas_csv))
        .route("/kpis/catalogue", get(catalogue))
        .route("/kpis/alerts", get(alerts))
        .route("/kpis/alerts/scan", post(scan))
        .route("/kpis/alerts/{id}", get(alert))
        .route("/kpis/alerts/{id}/investigate", post(investigate))
        .route("/kpis/alerts/{id}/dismiss", post(dismiss))
        .route("/kpis/reports", get(runs))
        .route("/kpis/reports/{schedule}", get(report))
        .route("/kpis/reports/{schedule}/send", post(send))
}

/// The query every KPI read takes; what a read does not use it ignores. Each read documents the
/// parameters it uses (the `*Params` below).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KpiQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
    pub period: Option<String>,
    pub kpi: Option<String>,
    pub segment: Option<String>,
    pub part: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub status: Option<String>,
    pub format: Option<String>,
    pub start: Option<String>,
}

/// A range of local days (`/kpis/rules`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RangeParams {
    /// First local day, `YYYY-MM-DD` (empty or absent: 27 days before `to`). The range runs
    /// forward and covers at most three years.
    #[param(pattern = "^(|[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)$")]
    from: Option<String>,
    /// Last local day, included, `YYYY-MM-DD` (empty or absent: today in the configured zone).
    #[param(pattern = "^(|[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)$")]
    to: Option<String>,
}

/// The dimension of a table.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ByParam {
    /// `channel`, `country`, `payment_method`, `brand`, `rule` or `segment` (brand / method /
    /// country); `all`, empty or absent: all orders.
    #[param(pattern = "^(|all|channel|country|payment_method|brand|rule|segment)$")]
    by: Option<String>,
}

/// The length of the periods of a series.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PeriodParam {
    /// `day`, `week` or `month` (empty or absent: week).
    #[param(pattern = "^(|day|week|month)$")]
    period: Option<String>,
}

/// One segment of `by`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SegmentParam {
    /// One segment of `by` (it needs `by`); empty or absent: all.
    segment: Option<String>,
}

/// The order KPI of a series.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SeriesKpiParam {
    /// An order KPI's code.
    #[param(pattern = "^(fraud_rate_orders|fraud_rate_value|decline_rate|review_rate|hold_release_rate|review_sla_rate|time_to_decision|fraud_chargeback_rate)$")]
    kpi: String,
}

/// Which orders behind a number, and a page of them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrdersParams {
    /// An order KPI's code (absent: every order of the range).
    #[param(pattern = "^(fraud_rate_orders|fraud_rate_value|decline_rate|review_rate|hold_release_rate|review_sla_rate|time_to_decision|fraud_chargeback_rate)$")]
    kpi: Option<String>,
    /// `numerator` or `denominator` of the KPI (absent: numerator).
    #[param(pattern = "^(numerator|denominator)$")]
    part: Option<String>,
    /// Orders per page (default 100; `.csv` 1,000), taken into 1-1,000.
    limit: Option<i64>,
    /// Orders to skip (below 0: none).
    offset: Option<i64>,
}

/// Which alerts.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AlertsParams {
    /// `open`, `investigating` or `dismissed` (absent: all).
    #[param(pattern = "^(open|investigating|dismissed)$")]
    status: Option<String>,
}

/// Which report, in which format.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParams {
    /// `pdf`, `csv` or `json` (absent: json).
    #[param(pattern = "^(pdf|csv|json)$")]
    format: Option<String>,
    /// A day in the period to report, `YYYY-MM-DD` (empty or absent: the last complete period).
    #[param(pattern = "^(|[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)$")]
    start: Option<String>,
}

/// A report's schedule.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ScheduleParam {
    /// `weekly` or `monthly`.
    #[param(pattern = "^(weekly|monthly)$")]
    schedule: String,
}

/// A query checked: dates, dimension, period.
pub struct Checked {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Dim,
    pub period: Period,
    pub segment: Option<(Dim, String)>,
}

impl KpiQuery {
    pub fn check(&self, service: &Service) -> Result<Checked, ApiError> {
        let date = |field: &str, v: &Option<String>| -> Result<Option<NaiveDate>, ApiError> {
            match v.as_deref().filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => ymd(s).map(Some).ok_or_else(|| ApiError::invalid(field, "must be a date as YYYY-MM-DD")),
            }
        };
        let to = date("to", &self.to)?.unwrap_or_else(|| service.kpi_today());
        let from = date("from", &self.from)?.unwrap_or(to - chrono::Duration::days(27));
        let by = match self.by.as_deref().filter(|s| !s.is_empty()) {
            None | Some("all") => Dim::All,
            Some(b) => Dim::parse(b).ok_or_else(|| {
                ApiError::invalid("by", "must be channel, country, payment_method, brand, rule or segment")
            })?,
        };
        let period = match self.period.as_deref().filter(|s| !s.is_empty()) {
            None => Period::Week,
            Some(p) => Period::parse(p).ok_or_else(|| ApiError::invalid("period", "must be day, week or month"))?,
        };
        let segment = match self.segment.as_deref().filter(|s| !s.is_empty()) {
            Some(s) if by != Dim::All => Some((by, s.to_owned())),
            Some(_) => return Err(ApiError::invalid("segment", "needs by")),
            None => None,
        };
        Ok(Checked { from, to, by, period, segment })
    }
}

/// Order KPIs by segment over local days `from..=to` (an order counts on the day of its
/// `placed_at` in the configured zone): `{"from", "to", "by", "rows": [{"segment", "kpis":
/// {"<kpi>": {"numerator", "denominator", "value"}}]}` with `fraud_rate_orders`,
/// `fraud_rate_value`, `decline_rate`, `review_rate`, `hold_release_rate`, `review_sla_rate`,
/// `time_to_decision` (minutes) and `fraud_chargeback_rate`; also `total` over all segments.
/// Definitions: `docs/kpis.md` and `/api/v1/kpis/catalogue`.
#[utoipa::path(get, path = "/api/v1/kpis", tag = "kpis", params(RangeParams, ByParam),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn table(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    let c = q.check(&st.service)?;
    let mut t = st.service.kpi_table(&cap, c.from, c.to, c.by).await?;
    if c.by == Dim::All {
        t.rows = vec![t.total.clone()];
    }
    Ok(Json(t).into_response())
}

/// The same table as CSV (one line per segment and KPI).
#[utoipa::path(get, path = "/api/v1/kpis.csv", tag = "kpis", params(RangeParams, ByParam),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn table_csv(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    let c = q.check(&st.service)?;
    Ok(csv::table(&st.service.kpi_table(&cap, c.from, c.to, c.by).await?))
}

/// One order KPI per period (`period`), for all orders or one `segment` of `by`, with as many
/// periods just before (`previous`).
#[utoipa::path(get, path = "/api/v1/kpis/series", tag = "kpis", params(SeriesKpiParam, RangeParams, PeriodParam, ByParam, SegmentParam),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn series(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    let c = q.check(&st.service)?;
    let kpi = q.kpi.as_deref().ok_or_else(|| ApiError::invalid("kpi", "is missing"))?;
    Ok(Json(st.service.kpi_series(&cap, kpi, c.from, c.to, c.period, c.segment).await?).into_response())
}

/// The orders behind a number: a segment's orders over the range where the KPI's `part` counts
/// them (e.g. `kpi=fraud_rate_orders&part=numerator`: its fraud orders), newest first.
#[utoipa::path(get, path = "/api/v1/kpis/orders", tag = "kpis", params(RangeParams, ByParam, SegmentParam, OrdersParams),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn orders(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    Ok(Json(behind(&st.service, &cap, &q).await?).into_response())
}

pub(super) async fn behind(
    service: &Service,
    cap: &KpiViewer,
    q: &KpiQuery,
) -> Result<riskdesk_service::kpis::OrdersBehind, ApiError> {
    let c = q.check(service)?;
    let part = match q.part.as_deref() {
        None => "numerator",
        Some(p @ ("numerator" | "denominator")) => p,
        Some(_) => return Err(ApiError::invalid("part", "must be numerator or denominator")),
    };
    let kpi = q.kpi.as_deref().map(|k| (k, part));
    Ok(service.kpi_orders(cap, c.from, c.to, c.segment, kpi, (q.limit.unwrap_or(100), q.offset.unwrap_or(0))).await?)
}

#[utoipa::path(get, path = "/api/v1/kpis/orders.csv", tag = "kpis", params(RangeParams, ByParam, SegmentParam, OrdersParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn orders_csv(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(mut q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    q.limit = Some(q.limit.unwrap_or(1000));
    Ok(csv::orders(&behind(&st.service, &cap, &q).await?))
}

/// Rule effectiveness over the range: hits, precision against labels, value saved (fraud
/// stopped), friction (good orders held then released), hits per week.
#[utoipa::path(get, path = "/api/v1/kpis/rules", tag = "kpis", params(RangeParams),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn rules(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    let c = q.check(&st.service)?;
    let rows = st.service.rule_effectiveness(&cap, c.from, c.to).await?;
    Ok(Json(json!({"from": c.from, "to": c.to, "rules": rows})).into_response())
}

#[utoipa::path(get, path = "/api/v1/kpis/rules.csv", tag = "kpis", params(RangeParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn rules_csv(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    let c = q.check(&st.service)?;
    Ok(csv::rules(&st.service.rule_effectiveness(&cap, c.from, c.to).await?))
}

/// The KPIs of cases (SLA compliance, handling time), disputes (chargeback ratio, win rate) and
/// QA (score, knock-out rate, customer satisfaction), in total and per `period`.
#[utoipa::path(get, path = "/api/v1/kpis/areas", tag = "kpis", params(RangeParams, PeriodParam),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn areas(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    let c = q.check(&st.service)?;
    let list = st.service.area_kpis(&cap, c.from, c.to, c.period).await?;
    Ok(Json(json!({"from": c.from, "to": c.to, "period": c.period, "kpis": list})).into_response())
}

#[utoipa::path(get, path = "/api/v1/kpis/areas.csv", tag = "kpis", params(RangeParams, PeriodParam),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn areas_csv(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    let c = q.check(&st.service)?;
    Ok(csv::areas(&st.service.area_kpis(&cap, c.from, c.to, c.period).await?))
}

/// Every KPI with its numerator, denominator, unit and which way is good.
#[utoipa::path(get, path = "/api/v1/kpis/catalogue", tag = "kpis",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn catalogue(State(st): St, Api(cap, _): Api<KpiViewer>) -> ApiResult<Response> {
    let cfg = st.service.kpi_config(&cap);
    Ok(Json(json!({
        "time_zone": cfg.time_zone, "reporting_currency": cfg.reporting_currency,
        "kpis": riskdesk_service::kpis::areas::catalogue(),
    }))
    .into_response())
}

/// Trend alerts, newest week first (`status` keeps one status).
#[utoipa::path(get, path = "/api/v1/kpis/alerts", tag = "kpis", params(AlertsParams),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn alerts(State(st): St, Api(cap, _): Api<KpiViewer>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    Ok(Json(json!({"alerts": st.service.kpi_alerts(&cap, q.status.as_deref()).await?})).into_response())
}

#[utoipa::path(get, path = "/api/v1/kpis/alerts/{id}", tag = "kpis", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn alert(State(st): St, Api(cap, _): Api<KpiViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.kpi_alert(&cap, &id).await?).into_response())
}

/// Opens a `fraud_investigation` case for the alert with the orders behind it linked; a second
/// call answers the same case.
#[utoipa::path(post, path = "/api/v1/kpis/alerts/{id}/investigate", tag = "kpis", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut)),
    security(("api_key" = [])))]
async fn investigate(State(st): St, Api(cap, _): Api<KpiManager>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.investigate_kpi_alert(&cap, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissIn {
    /// Why this is no trend (a promotion, a data fix): some text besides white space, at most
    /// 2,000 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
    note: String,
}

/// Dismisses an open alert with a note.
#[utoipa::path(post, path = "/api/v1/kpis/alerts/{id}/dismiss", tag = "kpis", params(("id" = String, Path)), request_body = DismissIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn dismiss(State(st): St, Api(cap, _): Api<KpiManager>, Path(id): Path<String>, Body(b): Body<DismissIn>) -> ApiResult<Response> {
    Ok(Json(st.service.dismiss_kpi_alert(&cap, &id, &b.note).await?).into_response())
}

/// Runs the trend-alert scan now (it runs hourly by itself); answers the new alerts.
#[utoipa::path(post, path = "/api/v1/kpis/alerts/scan", tag = "kpis",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn scan(State(st): St, Api(_cap, _): Api<KpiManager>) -> ApiResult<Response> {
    Ok(Json(json!({"new_alerts": st.service.scan_kpi_alerts().await?})).into_response())
}

/// Report runs, newest first.
#[utoipa::path(get, path = "/api/v1/kpis/reports", tag = "kpis",
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut)),
    security(("api_key" = [])))]
async fn runs(State(st): St, Api(cap, _): Api<KpiViewer>) -> ApiResult<Response> {
    Ok(Json(json!({"runs": st.service.kpi_report_runs(&cap).await?})).into_response())
}

/// The `weekly` or `monthly` report of the last complete period (or the one holding `start`),
/// as JSON, `format=csv` or `format=pdf`: the numbers the dashboard shows.
#[utoipa::path(get, path = "/api/v1/kpis/reports/{schedule}", tag = "kpis", params(ScheduleParam, ReportParams),
    responses((status = 200, description = "The report in the format asked for",
               content((Object = "application/json"), (String = "text/csv"), (crate::http::openapi::FileBody = "application/pdf"))),
              (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn report(State(st): St, Api(cap, _): Api<KpiViewer>, Path(schedule): Path<String>, ApiQuery(q): ApiQuery<KpiQuery>) -> ApiResult<Response> {
    report_response(&st.service, &cap, &schedule, &q).await
}

pub(super) async fn report_response(service: &Service, cap: &KpiViewer, schedule: &str, q: &KpiQuery) -> ApiResult<Response> {
    let start = match q.start.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(ymd(s).ok_or_else(|| ApiError::invalid("start", "must be a date as YYYY-MM-DD"))?),
        None => None,
    };
    let r = service.build_kpi_report(cap, schedule, start).await?;
    let name = format!("riskdesk-{}-{}", r.schedule, r.period);
    Ok(match q.format.as_deref().unwrap_or("json") {
        "json" => Json(r).into_response(),
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\""))],
            r.csv,
        )
            .into_response(),
        "pdf" => (
            [(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.pdf\""))],
            r.pdf,
        )
            .into_response(),
        _ => return Err(ApiError::invalid("format", "must be json, csv or pdf")),
    })
}

/// Sends the last complete period's report to the configured recipients now.
#[utoipa::path(post, path = "/api/v1/kpis/reports/{schedule}/send", tag = "kpis", params(ScheduleParam),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 409, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn send(State(st): St, Api(cap, _): Api<KpiManager>, Path(schedule): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.send_kpi_report(&cap, &schedule).await?).into_response())
}
