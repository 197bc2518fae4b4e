//! The KPI pages: the dashboard (tiles against the previous period, the chosen KPI's chart, the
//! table by segment with the orders behind each number, the other areas' KPIs, open alerts),
//! the orders behind a number, rule effectiveness, trend alerts and reports. Each table has its
//! CSV beside it.

use super::api::{KpiQuery, behind, report_response};
use super::{csv, svg};
use crate::http::error::{ApiError, PageError, PageResult};
use crate::http::extract::{Action, Page};
use crate::http::page::Nav;
use crate::http::session::urlencode;
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use riskdesk_domain::kpis::{Better, Dim, ORDER_KPIS, Unit, order_kpi};
use riskdesk_service::kpis::alerts::Alert;
use riskdesk_domain::kpis::OrderFacts;
use riskdesk_service::kpis::{ReportRun, RuleRow};
use riskdesk_service::{KpiManager, KpiViewer, ServiceError};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/kpis", get(dashboard))
        .route("/kpis/table.csv", get(table_csv))
        .route("/kpis/areas.csv", get(areas_csv))
        .route("/kpis/orders", get(orders))
        .route("/kpis/orders.csv", get(orders_csv))
        .route("/kpis/rules", get(rules))
        .route("/kpis/rules.csv", get(rules_csv))
        .route("/kpis/alerts", get(alerts).post(scan))
        .route("/kpis/alerts/{id}", post(act))
        .route("/kpis/reports", get(reports))
        .route("/kpis/reports/{schedule}", get(report_file).post(send))
}

fn api_err(e: ApiError) -> PageError {
    PageError::from(e)
}

/// The query string of a range and segment, for links.
fn qs(q: &KpiQuery, extra: &[(&str, &str)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in [("from", &q.from), ("to", &q.to), ("by", &q.by), ("period", &q.period), ("kpi", &q.kpi)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty())
            && !extra.iter().any(|(e, _)| *e == k)
        {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    for (k, v) in extra {
        parts.push(format!("{k}={}", urlencode(v)));
    }
    parts.join("&")
}

pub struct Tile {
    pub code: &'static str,
    pub label: &'static str,
    pub value: String,
    pub previous: String,
    pub trend: &'static str,
    pub detail: String,
    pub spark: String,
    pub href: String,
}

pub struct Cell {
    pub text: String,
    pub href: String,
}

pub struct SegmentRow {
    pub segment: String,
    pub orders: i64,
    pub cells: Vec<Cell>,
}

#[derive(Template, WebTemplate)]
#[template(path = "kpis/dashboard.html")]
struct Dashboard {
    nav: Nav,
    from: String,
    to: String,
    by: String,
    period: String,
    kpi: String,
    zone: String,
    currency: String,
    excluded: String,
    pending: i64,
    tiles: Vec<Tile>,
    chart: String,
    chart_label: String,
    heads: Vec<&'static str>,
    rows: Vec<SegmentRow>,
    areas: Vec<Tile>,
    alerts: Vec<(&'static str, Alert)>,
    query: String,
}

fn trend(now: Option<f64>, before: Option<f64>, better: Better) -> &'static str {
    match (now, before) {
        (Some(a), Some(b)) if (a - b).abs() > 1e-12 => {
            if (a > b) == (better == Better::Higher) { "good" } else { "bad" }
        }
        _ => "",
    }
}

async fn dashboard(State(st): St, Page { cap, who }: Page<KpiViewer>, Query(q): Query<KpiQuery>) -> PageResult<impl IntoResponse> {
    let c = q.check(&st.service).map_err(api_err)?;
    let svc = &st.service;
    let days = (c.to - c.from).num_days() + 1;
    let (pf, pt) = (c.from - chrono::Duration::days(days), c.from - chrono::Duration::days(1));
    let now_t = svc.kpi_table(&cap, c.from, c.to, c.by).await?;
    let prev_t = svc.kpi_table(&cap, pf, pt, Dim::All).await?;
    let kpi = q.kpi.clone().filter(|k| order_kpi(k).is_some()).unwrap_or_else(|| "fraud_rate_orders".into());
    let mut tiles = Vec::new();
    let mut chart = String::new();
    let mut chart_label = String::new();
    for d in ORDER_KPIS {
        let f = now_t.total.kpis[d.code];
        let p = prev_t.total.kpis[d.code];
        let s = svc.kpi_series(&cap, d.code, c.from, c.to, c.period, None).await?;
        let vals: Vec<Option<f64>> = s.points.iter().map(|p| p.value.value).collect();
        if d.code == kpi {
            let labels: Vec<String> = s.points.iter().map(|p| p.period.clone()).collect();
            let prev: Vec<Option<f64>> = s.previous.iter().map(|p| p.value.value).collect();
            chart = svg::line_chart(&labels, &vals, &prev, d.unit, d.label);
            chart_label = d.label.to_owned();
        }
        tiles.push(Tile {
            code: d.code,
            label: d.label,
            value: svg::show(f.value, d.unit),
            previous: svg::show(p.value, d.unit),
            trend: trend(f.value, p.value, d.better),
            detail: if d.unit == Unit::Ratio {
                format!("{} of {}", f.numerator, f.denominator)
            } else {
                format!("over {}", f.denominator)
            },
            spark: svg::sparkline(&vals),
            href: format!("/kpis?{}", qs(&q, &[("kpi", d.code)])),
        });
    }
    let heads: Vec<&'static str> = ORDER_KPIS.iter().map(|d| d.label).collect();
    let rows = now_t
        .rows
        .iter()
        .map(|r| SegmentRow {
            segment: r.segment.clone(),
            orders: r.kpis["fraud_rate_orders"].denominator as i64,
            cells: ORDER_KPIS
                .iter()
                .map(|d| {
                    let f = r.kpis[d.code];
                    Cell {
                        text: svg::show(f.value, d.unit),
                        href: format!(
                            "/kpis/orders?{}",
                            qs(&q, &[("segment", &r.segment), ("kpi", d.code), ("part", "numerator")])
                        ),
                    }
                })
                .collect(),
        })
        .collect();
    let areas = svc
        .area_kpis(&cap, c.from, c.to, c.period)
        .await?
        .into_iter()
        .map(|s| {
            let vals: Vec<Option<f64>> = s.points.iter().map(|p| p.value.value).collect();
            Tile {
                code: s.kpi.code,
                label: s.kpi.label,
                value: svg::show(s.total.value, s.kpi.unit),
                previous: String::new(),
                trend: "",
                detail: format!("{} / {}", s.total.numerator, s.total.denominator),
                spark: svg::sparkline(&vals),
                href: match s.kpi.area {
                    "cases" => "/cases".into(),
                    "disputes" => "/disputes".into(),
                    _ => "/qa/dashboard".into(),
                },
            }
        })
        .collect();
    let cfg = svc.kpi_config(&cap);
    Ok(Dashboard {
        nav: Nav::of(&who, "kpis"),
        from: c.from.to_string(),
        to: c.to.to_string(),
        by: c.by.as_str().into(),
        period: c.period.as_str().into(),
        kpi,
        zone: cfg.time_zone,
        currency: now_t.reporting_currency.clone(),
        excluded: now_t.excluded_currencies.join(", "),
        pending: now_t.pending_orders,
        tiles,
        chart,
        chart_label,
        heads,
        rows,
        areas,
        alerts: svc
            .kpi_alerts(&cap, Some("open"))
            .await?
            .into_iter()
            .take(5)
            .map(|a| (order_kpi(&a.kpi).map_or("KPI", |d| d.label), a))
            .collect(),
        query: qs(&q, &[]),
    })
}

async fn table_csv(State(st): St, Page { cap, .. }: Page<KpiViewer>, Query(q): Query<KpiQuery>) -> PageResult<Response> {
    let c = q.check(&st.service).map_err(api_err)?;
    Ok(csv::table(&st.service.kpi_table(&cap, c.from, c.to, c.by).await?))
}

async fn areas_csv(State(st): St, Page { cap, .. }: Page<KpiViewer>, Query(q): Query<KpiQuery>) -> PageResult<Response> {
    let c = q.check(&st.service).map_err(api_err)?;
    Ok(csv::areas(&st.service.area_kpis(&cap, c.from, c.to, c.period).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "kpis/orders.html")]
struct OrdersPage {
    nav: Nav,
    title: String,
    total: i64,
    orders: Vec<OrderFacts>,
    query: String,
    back: String,
    next: Option<String>,
    prev: Option<String>,
}

async fn orders(State(st): St, Page { cap, who }: Page<KpiViewer>, Query(q): Query<KpiQuery>) -> PageResult<impl IntoResponse> {
    let c = q.check(&st.service).map_err(api_err)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let offset = q.offset.unwrap_or(0).max(0);
    let q2 = KpiQuery { limit: Some(limit), offset: Some(offset), ..q.clone() };
    let b = behind(&st.service, &cap, &q2).await.map_err(api_err)?;
    let kpi = q.kpi.as_deref().and_then(order_kpi).map_or("Orders", |d| d.label);
    let part = q.part.as_deref().unwrap_or("numerator");
    let title = format!(
        "{kpi} ({part}){} · {} to {}",
        c.segment.as_ref().map(|(d, s)| format!(" · {} {s}", d.label())).unwrap_or_default(),
        c.from,
        c.to
    );
    let page = |o: i64| {
        let mut extra = vec![("offset", o.to_string()), ("limit", limit.to_string()), ("part", part.to_owned())];
        if let Some(s) = &q.segment {
            extra.push(("segment", s.clone()));
        }
        let e: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        format!("/kpis/orders?{}", qs(&q, &e))
    };
    Ok(OrdersPage {
        nav: Nav::of(&who, "kpis"),
        title,
        total: b.total,
        next: (offset + limit < b.total).then(|| page(offset + limit)),
        prev: (offset > 0).then(|| page((offset - limit).max(0))),
        orders: b.orders,
        query: {
            let mut e = vec![("part", part)];
            if let Some(s) = q.segment.as_deref() {
                e.push(("segment", s));
            }
            qs(&q, &e)
        },
        back: format!("/kpis?{}", qs(&q, &[])),
    })
}

async fn orders_csv(State(st): St, Page { cap, .. }: Page<KpiViewer>, Query(mut q): Query<KpiQuery>) -> PageResult<Response> {
    q.limit = Some(q.limit.unwrap_or(1000));
    Ok(csv::orders(&behind(&st.service, &cap, &q).await.map_err(api_err)?))
}

pub struct RuleView {
    pub r: RuleRow,
    pub precision: String,
    pub spark: String,
    pub href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "kpis/rules.html")]
struct RulesPage {
    nav: Nav,
    from: String,
    to: String,
    currency: String,
    rules: Vec<RuleView>,
    query: String,
}

async fn rules(State(st): St, Page { cap, who }: Page<KpiViewer>, Query(q): Query<KpiQuery>) -> PageResult<impl IntoResponse> {
    let c = q.check(&st.service).map_err(api_err)?;
    let list = st.service.rule_effectiveness(&cap, c.from, c.to).await?;
    let rules = list
        .into_iter()
        .map(|r| RuleView {
            precision: svg::show(r.precision, Unit::Ratio),
            spark: svg::sparkline(&r.weekly_hits.iter().map(|v| Some(*v as f64)).collect::<Vec<_>>()),
            href: format!("/kpis/orders?{}", qs(&q, &[("by", "rule"), ("segment", &r.rule), ("kpi", "fraud_rate_orders"), ("part", "denominator")])),
            r,
        })
        .collect();
    Ok(RulesPage {
        nav: Nav::of(&who, "kpis"),
        from: c.from.to_string(),
        to: c.to.to_string(),
        currency: st.service.kpi_config(&cap).reporting_currency,
        rules,
        query: qs(&q, &[]),
    })
}

async fn rules_csv(State(st): St, Page { cap, .. }: Page<KpiViewer>, Query(q): Query<KpiQuery>) -> PageResult<Response> {
    let c = q.check(&st.service).map_err(api_err)?;
    Ok(csv::rules(&st.service.rule_effectiveness(&cap, c.from, c.to).await?))
}

pub struct AlertView {
    pub a: Alert,
    pub label: &'static str,
    pub dim: &'static str,
    pub orders_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "kpis/alerts.html")]
struct AlertsPage {
    nav: Nav,
    alerts: Vec<AlertView>,
    status: String,
    can_act: bool,
    error: String,
    done: String,
}

#[derive(Deserialize)]
struct AlertsQuery {
    status: Option<String>,
    error: Option<String>,
    done: Option<String>,
}

async fn alerts(State(st): St, Page { cap, who }: Page<KpiViewer>, Query(q): Query<AlertsQuery>) -> PageResult<impl IntoResponse> {
    let status = q.status.clone().filter(|s| !s.is_empty());
    let list = st.service.kpi_alerts(&cap, status.as_deref()).await?;
    let alerts = list
        .into_iter()
        .map(|a| {
            let dim = Dim::parse(&a.dim).unwrap_or(Dim::All);
            let from = riskdesk_domain::kpis::period::date(a.from_day);
            let to = riskdesk_domain::kpis::period::date(a.to_day - 1);
            let mut extra = vec![
                ("from", from.to_string()),
                ("to", to.to_string()),
                ("kpi", a.kpi.clone()),
                ("part", "numerator".to_owned()),
            ];
            if dim != Dim::All {
                extra.push(("by", dim.as_str().to_owned()));
                extra.push(("segment", a.segment.clone()));
            }
            let orders_href = format!(
                "/kpis/orders?{}",
                extra.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
            );
            AlertView { label: order_kpi(&a.kpi).map_or("KPI", |d| d.label), dim: dim.label(), orders_href, a }
        })
        .collect();
    Ok(AlertsPage {
        can_act: who.grant::<KpiManager>().is_some(),
        nav: Nav::of(&who, "kpis"),
        alerts,
        status: status.unwrap_or_default(),
        error: q.error.unwrap_or_default(),
        done: q.done.unwrap_or_default(),
    })
}

fn back(r: Result<&str, ServiceError>) -> PageResult<Response> {
    match r {
        Ok(done) => Ok(Redirect::to(&format!("/kpis/alerts?done={done}")).into_response()),
        Err(ServiceError::Conflict(m) | ServiceError::Invalid(m)) => {
            Ok(Redirect::to(&format!("/kpis/alerts?error={}", urlencode(&m))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn scan(State(st): St, _a: Action<KpiManager, HashMap<String, String>>) -> PageResult<Response> {
    let n = st.service.scan_kpi_alerts().await?.len();
    back(Ok(if n == 0 { "scanned" } else { "new_alerts" }))
}

async fn act(State(st): St, Path(id): Path<String>, a: Action<KpiManager, HashMap<String, String>>) -> PageResult<Response> {
    match a.form.get("action").map(String::as_str) {
        Some("investigate") => match st.service.investigate_kpi_alert(&a.cap, &id).await {
            Ok(x) => Ok(Redirect::to(&format!("/cases/{}", x.case_id.unwrap_or_default())).into_response()),
            Err(e) => back(Err(e)),
        },
        Some("dismiss") => {
            let r = st.service.dismiss_kpi_alert(&a.cap, &id, a.form.get("note").map_or("", String::as_str)).await;
            back(r.map(|_| "dismissed"))
        }
        _ => back(Err(ServiceError::Invalid("action: must be investigate or dismiss".into()))),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "kpis/reports.html")]
struct ReportsPage {
    nav: Nav,
    runs: Vec<ReportRun>,
    can_send: bool,
    weekly: String,
    monthly: String,
    smtp: bool,
    error: String,
    done: String,
}

async fn reports(State(st): St, Page { cap, who }: Page<KpiViewer>, Query(q): Query<AlertsQuery>) -> PageResult<impl IntoResponse> {
    let cfg = st.service.kpi_config(&cap);
    Ok(ReportsPage {
        can_send: who.grant::<KpiManager>().is_some(),
        nav: Nav::of(&who, "kpis"),
        runs: st.service.kpi_report_runs(&cap).await?,
        weekly: cfg.reports.weekly.join(", "),
        monthly: cfg.reports.monthly.join(", "),
        smtp: !cfg.reports.smtp_url.is_empty(),
        error: q.error.unwrap_or_default(),
        done: q.done.unwrap_or_default(),
    })
}

async fn report_file(
    State(st): St,
    Page { cap, .. }: Page<KpiViewer>,
    Path(schedule): Path<String>,
    Query(q): Query<KpiQuery>,
) -> PageResult<Response> {
    report_response(&st.service, &cap, &schedule, &q).await.map_err(api_err)
}

async fn send(State(st): St, Path(schedule): Path<String>, a: Action<KpiManager, HashMap<String, String>>) -> PageResult<Response> {
    match st.service.send_kpi_report(&a.cap, &schedule).await {
        Ok(_) => Ok(Redirect::to("/kpis/reports?done=sent").into_response()),
        Err(ServiceError::Conflict(m) | ServiceError::Invalid(m)) => {
            Ok(Redirect::to(&format!("/kpis/reports?error={}", urlencode(&m))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
