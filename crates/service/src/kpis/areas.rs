//! The KPIs other areas list (`riskdesk_domain::{cases, disputes, qa}::KPIS`), each counted by
//! its own area's storage per local day and summed here into periods. Adding an area's KPIs:
//! its list, its store method, and one line in [`AREAS`] and in `area_days`.

use super::{day_range, period_starts};
use crate::{KpiViewer, Service, ServiceResult};
use chrono::NaiveDate;
use riskdesk_domain::kpis::period::{self, Period};
use riskdesk_domain::kpis::{Dim, Fraction, KpiDef};
use riskdesk_store::kpis::AreaDay;
use serde::Serialize;

/// The areas with KPIs of their own, in the dashboard's order.
pub const AREAS: &[(&str, &[KpiDef])] = &[
    ("cases", riskdesk_domain::cases::KPIS),
    ("disputes", riskdesk_domain::disputes::KPIS),
    ("qa", riskdesk_domain::qa::KPIS),
];

/// Every KPI riskdesk defines.
pub fn catalogue() -> Vec<KpiDef> {
    let lists: Vec<&'static [KpiDef]> = AREAS.iter().map(|(_, l)| *l).collect();
    riskdesk_domain::kpis::catalogue(&lists)
}

/// An area KPI over a range and per period.
#[derive(Debug, Clone, Serialize)]
pub struct AreaSeries {
    pub kpi: KpiDef,
    pub total: Fraction,
    pub points: Vec<super::SeriesPoint>,
}

impl Service {
    async fn area_days(&self, spans: &riskdesk_store::kpis::Spans) -> ServiceResult<Vec<AreaDay>> {
        let now = self.now().timestamp_millis();
        let mut out = self.store().case_kpi_days(spans, now).await?;
        out.extend(self.store().dispute_kpi_days(spans, now).await?);
        out.extend(self.store().qa_kpi_days(spans, now).await?);
        Ok(out)
    }

    /// The areas' KPIs over local days `from..=to`, in total and per period.
    pub async fn area_kpis(
        &self,
        _cap: &KpiViewer,
        from: NaiveDate,
        to: NaiveDate,
        per: Period,
    ) -> ServiceResult<Vec<AreaSeries>> {
        let (a, b) = day_range(from, to)?;
        let zone = self.kpi_zone();
        let spans = period::offset_spans(a, b, zone);
        let mut days = self.area_days(&spans).await?;
        // The chargeback ratio's denominator: orders placed on the same days.
        self.fresh_enough().await?;
        let orders = self.store().kpi_daily(Dim::All, a, b, Some("all")).await?;
        let mut per_day: std::collections::BTreeMap<i32, (f64, f64)> = std::collections::BTreeMap::new();
        for d in days.iter().filter(|d| d.code == "chargeback_ratio") {
            per_day.entry(d.day).or_default().0 += d.numerator;
        }
        for o in &orders {
            per_day.entry(o.day).or_default().1 += o.counters.orders as f64;
        }
        days.retain(|d| d.code != "chargeback_ratio");
        days.extend(per_day.into_iter().map(|(day, (numerator, denominator))| AreaDay {
            code: "chargeback_ratio".into(),
            day,
            numerator,
            denominator,
        }));
        let starts = period_starts(per, a, b);
        Ok(catalogue()
            .into_iter()
            .filter(|k| k.area != "orders")
            .map(|kpi| {
                let mine: Vec<&AreaDay> = days.iter().filter(|d| d.code == kpi.code).collect();
                let sum = |lo: i32, hi: i32| {
                    let (n, d) = mine
                        .iter()
                        .filter(|x| x.day >= lo && x.day < hi)
                        .fold((0.0, 0.0), |(n, d), x| (n + x.numerator, d + x.denominator));
                    Fraction::new(riskdesk_domain::kpis::round2(n), d)
                };
                let points = starts
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let e = starts.get(i + 1).copied().unwrap_or(b);
                        super::SeriesPoint { period: per.label(*s), from: period::date(*s), value: sum(*s, e) }
                    })
                    .collect();
                AreaSeries { kpi, total: sum(a, b), points }
            })
            .collect())
    }
}
