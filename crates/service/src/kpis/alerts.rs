//! Trend alerts: each watched KPI's weekly series per segment of every dimension (down to the
//! combination of brand, payment method and country) goes through the domain's p-chart; the
//! last complete week out of its control limit becomes an alert, once per KPI, segment and week.
//! A person opens a `fraud_investigation` case from it (linking the orders behind it) or
//! dismisses it with a note; both are audited.

use super::{invalid, minor_per_unit};
use crate::audit::Actor;
use crate::cases::OpenCase;
use crate::{KpiManager, KpiViewer, Service, ServiceError, ServiceResult};
use riskdesk_domain::kpis::alerts::{ChartPolicy, Point, p_chart};
use riskdesk_domain::kpis::period::{self, Period};
use riskdesk_domain::kpis::{self as k, Dim, Totals};
use riskdesk_store::changes::KpiChange;
use riskdesk_store::kpis::{AlertRecord, FactFilter};
use std::collections::HashMap;

pub use riskdesk_store::kpis::AlertRecord as Alert;

/// The KPIs watched: proportions, where a control chart for proportions applies.
pub const WATCHED: &[&str] = &[
    "fraud_rate_orders",
    "fraud_chargeback_rate",
    "decline_rate",
    "review_rate",
    "hold_release_rate",
    "review_sla_rate",
];

/// The dimensions watched.
pub const DIMS: &[Dim] = &[Dim::All, Dim::Channel, Dim::Country, Dim::PaymentMethod, Dim::Brand, Dim::Segment];

impl Service {
    /// Judges the last complete week of every watched series; stores new alerts and returns
    /// them (a rerun finds the same ones and adds nothing).
    pub async fn scan_kpi_alerts(&self) -> ServiceResult<Vec<Alert>> {
        self.refresh_kpis(usize::MAX).await?;
        let cfg = self.kpi_settings();
        let zone = self.kpi_zone();
        let today = period::local_day(self.now(), zone);
        let this_week = Period::Week.start(today);
        let weeks: Vec<i32> = (1..=cfg.alerts.baseline_weeks as i32 + 1).rev().map(|i| this_week - 7 * i).collect();
        let (first, end) = (weeks[0], this_week);
        let policy = ChartPolicy {
            sigmas: cfg.alerts.sigmas,
            min_baseline_periods: (cfg.alerts.baseline_weeks / 2).max(2),
            min_denominator: cfg.alerts.min_orders,
            min_numerator: cfg.alerts.min_events,
        };
        let mut found = Vec::new();
        for dim in DIMS {
            let rows = self.store().kpi_daily(*dim, first, end, None).await?;
            // segment -> week index -> totals
            let mut series: HashMap<String, Vec<Totals>> = HashMap::new();
            for r in &rows {
                let w = ((Period::Week.start(r.day) - first) / 7) as usize;
                let s = series.entry(r.segment.clone()).or_insert_with(|| vec![Totals::default(); weeks.len()]);
                if let Some(t) = s.get_mut(w) {
                    t.add(&r.counters, cfg.rate(&r.currency), minor_per_unit(&r.currency));
                }
            }
            for (segment, totals) in &series {
                for code in WATCHED {
                    let def = k::order_kpi(code).expect("watched KPIs are order KPIs");
                    let points: Vec<Point> = totals
                        .iter()
                        .zip(&weeks)
                        .map(|(t, w)| {
                            let (n, d) = t.fraction(code).unwrap_or((0.0, 0.0));
                            Point { period: Period::Week.label(*w), numerator: n, denominator: d }
                        })
                        .collect();
                    let Some(sig) = p_chart(&points, def.better, &policy) else { continue };
                    let last = *weeks.last().expect("weeks");
                    let a = AlertRecord {
                        alert_id: format!("kal_{}", ulid::Ulid::new()),
                        kpi: (*code).into(),
                        dim: dim.as_str().into(),
                        segment: segment.clone(),
                        period: sig.period,
                        from_day: last,
                        to_day: last + 7,
                        rate: sig.rate,
                        baseline: sig.baseline,
                        limit: sig.limit,
                        z: sig.z,
                        numerator: sig.numerator,
                        denominator: sig.denominator,
                        status: "open".into(),
                        case_id: None,
                        created_at: self.now(),
                        decided_by: None,
                        decided_at: None,
                        note: None,
                    };
                    if self.store().kpi_alert_insert(&a).await? {
                        found.push(a);
                    }
                }
            }
        }
        if !found.is_empty() {
            tracing::info!(alerts = found.len(), "trend alerts raised");
        }
        Ok(found)
    }

    pub async fn kpi_alerts(&self, _cap: &KpiViewer, status: Option<&str>) -> ServiceResult<Vec<Alert>> {
        if let Some(s) = status
            && !["open", "investigating", "dismissed"].contains(&s)
        {
            return Err(invalid("status", "must be open, investigating or dismissed"));
        }
        Ok(self.store().kpi_alerts(status, 500).await?)
    }

    pub async fn kpi_alert(&self, _cap: &KpiViewer, id: &str) -> ServiceResult<Alert> {
        self.store().kpi_alert(id).await?.ok_or(ServiceError::NotFound("alert"))
    }

    /// Opens a `fraud_investigation` case for an alert, linking the orders behind it (the fraud
    /// orders for a fraud KPI, else the numerator's orders; at most 100), and marks the alert.
    /// A second call answers the same case.
    pub async fn investigate_kpi_alert(&self, cap: &KpiManager, id: &str) -> ServiceResult<Alert> {
        let a = self.store().kpi_alert(id).await?.ok_or(ServiceError::NotFound("alert"))?;
        if a.status == "investigating" {
            return Ok(a);
        }
        if a.status != "open" {
            return Err(ServiceError::Conflict(format!("alert {id} is {}", a.status)));
        }
        let dim = Dim::parse(&a.dim).unwrap_or(Dim::All);
        let counter = super::counter_for(&a.kpi, "numerator");
        let orders = self
            .store()
            .kpi_orders(&FactFilter {
                from_day: a.from_day,
                to_day: a.to_day,
                segment: (dim != Dim::All).then(|| (dim, a.segment.clone())),
                counter,
                limit: 100,
                offset: 0,
            })
            .await?;
        let label = k::order_kpi(&a.kpi).map_or(a.kpi.as_str(), |d| d.label);
        let title = format!(
            "{label} of {} in {}: {:.1} % against {:.1} %",
            a.segment,
            a.period,
            a.rate * 100.0,
            a.baseline * 100.0
        );
        let description = format!(
            "Trend alert {id}: {label} for {} = {} reached {:.2} % in {} ({} of {}), against a baseline of {:.2} % \
             (control limit {:.2} %, {:.1} standard deviations). The first {} orders behind it are linked.",
            Dim::parse(&a.dim).map_or("segment", |d| d.label()),
            a.segment,
            a.rate * 100.0,
            a.period,
            a.numerator,
            a.denominator,
            a.baseline * 100.0,
            a.limit * 100.0,
            a.z,
            orders.len(),
        );
        let opened = self
            .open_case_as(
                cap.actor(),
                OpenCase {
                    kind: "fraud_investigation".into(),
                    title: title.chars().take(190).collect(),
                    description,
                    order_ids: orders.iter().map(|o| o.order_id.clone()).collect(),
                    source: None,
                    source_ref: None,
                    ..Default::default()
                },
                Some(format!("kpi_alert:{id}")),
                Vec::new(),
            )
            .await?;
        let case_id = opened.case().id.clone();
        self.move_alert(cap.actor(), &a, "investigating", Some(case_id), None).await
    }

    /// Dismisses an open alert with a note (why it is no trend: a promotion, a data fix).
    pub async fn dismiss_kpi_alert(&self, cap: &KpiManager, id: &str, note: &str) -> ServiceResult<Alert> {
        let a = self.store().kpi_alert(id).await?.ok_or(ServiceError::NotFound("alert"))?;
        let note = crate::cases::clean_text("note", note, 2000, true)?;
        if a.status != "open" {
            return Err(ServiceError::Conflict(format!("alert {id} is {}", a.status)));
        }
        self.move_alert(cap.actor(), &a, "dismissed", None, Some(note)).await
    }

    async fn move_alert(
        &self,
        actor: &Actor,
        a: &Alert,
        status: &str,
        case_id: Option<String>,
        note: Option<String>,
    ) -> ServiceResult<Alert> {
        let now = self.now();
        let entry = crate::audit::entry(
            &actor.id,
            &format!("kpi_alert.{status}"),
            format!("kpi_alert:{}", a.alert_id),
            serde_json::json!({
                "kpi": a.kpi, "dimension": a.dim, "segment": a.segment, "period": a.period, "case_id": case_id,
            }),
            now,
        );
        self.commit_audited(
            &[KpiChange::Alert {
                alert_id: a.alert_id.clone(),
                expected_status: a.status.clone(),
                status: status.into(),
                case_id,
                note,
                actor: actor.id.clone(),
                at: now,
            }
            .into()],
            &[entry],
        )
        .await?;
        Ok(self.store().kpi_alert(&a.alert_id).await?.unwrap_or_else(|| a.clone()))
    }
}
