//! KPIs: keeping the per-order facts and daily aggregates fresh, and reading them as tables by
//! segment, series by period (with the period before), the orders behind a number, rule
//! effectiveness, and the KPIs the other areas list (cases, disputes, QA). Definitions are in
//! `docs/kpis.md`; the arithmetic is the domain's (`riskdesk_domain::kpis`).

pub mod alerts;
pub mod areas;
pub mod reports;

use crate::{KpiViewer, Service, ServiceResult};
use chrono::NaiveDate;
use riskdesk_domain::kpis::period::{self, Period};
use riskdesk_domain::kpis::{self as k, Dim, Fraction, KpiDef, OrderFacts, Totals};
use riskdesk_store::kpis::{DailyRow, FactFilter};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Storage records the edges show.
pub use riskdesk_store::kpis::{AlertRecord, ReportRun};

/// `[kpis]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KpisConfig {
    /// The controller's zone: an order counts on the local day of its `placed_at`.
    pub time_zone: String,
    /// Money KPIs are summed in this currency…
    pub reporting_currency: String,
    /// …converting others at these rates (units of the reporting currency per unit); a
    /// currency without a rate is left out of the money KPIs and named in the answer.
    pub rates: BTreeMap<String, f64>,
    pub alerts: AlertsConfig,
    pub reports: reports::ReportsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Complete weeks before the judged one that form its baseline.
    pub baseline_weeks: usize,
    /// Standard deviations to the control limit.
    pub sigmas: f64,
    /// Orders a segment needs in the judged week…
    pub min_orders: f64,
    /// …and events (e.g. fraud orders) for a rise to count.
    pub min_events: f64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self { baseline_weeks: 8, sigmas: 3.0, min_orders: 30.0, min_events: 3.0 }
    }
}

impl Default for KpisConfig {
    fn default() -> Self {
        Self {
            time_zone: "Europe/Berlin".into(),
            reporting_currency: "EUR".into(),
            rates: BTreeMap::new(),
            alerts: AlertsConfig::default(),
            reports: reports::ReportsConfig::default(),
        }
    }
}

impl KpisConfig {
    pub fn check(&self) -> Result<(), String> {
        self.zone()?;
        if self.reporting_currency.len() != 3 || !self.reporting_currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err("kpis.reporting_currency must be an ISO 4217 code such as EUR".into());
        }
        if let Some((c, r)) = self.rates.iter().find(|(_, r)| !(r.is_finite() && **r > 0.0)) {
            return Err(format!("kpis.rates.{c} must be a positive number, not {r}"));
        }
        if !(2..=52).contains(&self.alerts.baseline_weeks) {
            return Err("kpis.alerts.baseline_weeks must be between 2 and 52".into());
        }
        if !(1.0..=6.0).contains(&self.alerts.sigmas) {
            return Err("kpis.alerts.sigmas must be between 1 and 6".into());
        }
        self.reports.check()
    }

    pub fn zone(&self) -> Result<chrono_tz::Tz, String> {
        self.time_zone.parse().map_err(|_| format!("kpis.time_zone: unknown time zone {:?}", self.time_zone))
    }

    /// Units of the reporting currency per unit of `currency`, if known.
    pub fn rate(&self, currency: &str) -> Option<f64> {
        if currency == self.reporting_currency { Some(1.0) } else { self.rates.get(currency).copied() }
    }
}

/// One segment's KPIs.
#[derive(Debug, Clone, Serialize)]
pub struct KpiRow {
    pub segment: String,
    pub kpis: BTreeMap<&'static str, Fraction>,
}

/// `GET /api/v1/kpis`: KPIs by segment over local days `from..=to`.
#[derive(Debug, Clone, Serialize)]
pub struct KpiTable {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: &'static str,
    pub rows: Vec<KpiRow>,
    /// All segments together.
    pub total: KpiRow,
    pub reporting_currency: String,
    /// Currencies without a rate, left out of the money KPIs.
    pub excluded_currencies: Vec<String>,
    /// Changed orders not yet counted (large imports are counted in the background).
    pub pending_orders: i64,
}

/// A KPI per period, with the same number of periods before it.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub kpi: &'static KpiDef,
    pub period: &'static str,
    pub points: Vec<SeriesPoint>,
    pub previous: Vec<SeriesPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesPoint {
    pub period: String,
    pub from: NaiveDate,
    #[serde(flatten)]
    pub value: Fraction,
}

/// A rule's effectiveness over a range.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    pub rule: String,
    pub hits: i64,
    /// Hits on orders since labelled fraud.
    pub fraud_hits: i64,
    pub labelled_hits: i64,
    /// Fraud hits over hits.
    pub precision: Option<f64>,
    /// Value of fraud orders it hit that were stopped (reporting currency).
    pub value_saved: f64,
    /// Good orders it held that were then released.
    pub good_held: i64,
    pub declined: i64,
    /// Hits per week over the range, oldest first.
    pub weekly_hits: Vec<i64>,
}

/// A page of the orders behind a number.
#[derive(Debug, Clone, Serialize)]
pub struct OrdersBehind {
    pub total: i64,
    pub orders: Vec<OrderFacts>,
}

/// The counter the part (`numerator` or `denominator`) of an order KPI counts.
pub fn counter_for(kpi: &str, part: &str) -> Option<&'static str> {
    let (num, den) = k::counted_by(kpi)?;
    match part {
        "numerator" => Some(num),
        "denominator" => Some(den),
        _ => None,
    }
}

pub(crate) use crate::cases::invalid;

/// Parses a `YYYY-MM-DD` date of a query.
pub fn parse_date(field: &str, s: &str) -> ServiceResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| invalid(field, "must be a date as YYYY-MM-DD"))
}

/// Checks a range of local days `from..=to` and answers it as `[from, to + 1)`.
pub fn day_range(from: NaiveDate, to: NaiveDate) -> ServiceResult<(i32, i32)> {
    if to < from {
        return Err(invalid("to", "must not be before from"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(invalid("to", "a range covers at most three years"));
    }
    Ok((period::day_of(from), period::day_of(to) + 1))
}

/// Orders counted in one refresh after which the KPI tables are compacted.
const COMPACT_AFTER: usize = 100_000;

impl Service {
    pub(crate) fn kpi_settings(&self) -> KpisConfig {
        self.settings().kpis
    }

    pub(crate) fn kpi_zone(&self) -> chrono_tz::Tz {
        self.kpi_settings().zone().unwrap_or(chrono_tz::Europe::Berlin)
    }

    /// Counts changed orders into the aggregates, at most `budget` of them, in transactions of
    /// 2,000 (a bulk count); returns how many.
    pub async fn refresh_kpis(&self, budget: usize) -> ServiceResult<usize> {
        self.refresh_kpis_in(budget, 2_000).await
    }

    /// The same in transactions of `chunk` orders; after counting many, the KPI tables are
    /// compacted (`KpiStore::kpi_compact`). The background refresher counts beside live
    /// intake in chunks of 250: a transaction of 2,000 held the one SQLite writer long enough to
    /// raise intake's p99 from about 9 to 26 ms.
    async fn refresh_kpis_in(&self, budget: usize, chunk: usize) -> ServiceResult<usize> {
        let mut done = 0;
        while done < budget {
            let marks = self.store().kpi_dirty((budget - done).min(chunk) as i64).await?;
            if marks.is_empty() {
                break;
            }
            if self.count_marks(&marks).await? == 0 {
                // Every mark was bumped meanwhile: the next round reads them again.
                tokio::task::yield_now().await;
            }
            done += marks.len();
        }
        if done >= COMPACT_AFTER {
            self.store().kpi_compact().await?;
        }
        Ok(done)
    }

    /// Recounts the marked orders; returns how many were applied (not bumped meanwhile).
    async fn count_marks(&self, marks: &[(String, i64)]) -> ServiceResult<usize> {
        let zone = self.kpi_zone();
        let sla = self.settings().sla;
        let ids: Vec<String> = marks.iter().map(|(id, _)| id.clone()).collect();
        let facts: Vec<OrderFacts> =
            self.store().kpi_histories(&ids).await?.iter().map(|h| k::facts(h, zone, &sla)).collect();
        Ok(self.store().kpi_apply(&facts, marks).await?)
    }

    /// Before a read: counts what changed since the last count when that is a batch or less
    /// (one small query when nothing did); a larger backlog (an import) is the background
    /// refresher's, and the answer says how many orders are pending.
    pub(crate) async fn fresh_enough(&self) -> ServiceResult<i64> {
        const READ_BUDGET: usize = 2_000;
        let marks = self.store().kpi_dirty(READ_BUDGET as i64 + 1).await?;
        if marks.is_empty() {
            return Ok(0);
        }
        if marks.len() <= READ_BUDGET {
            self.count_marks(&marks).await?;
        }
        Ok(self.store().kpi_pending().await?)
    }

    /// Keeps the KPIs counted: every few seconds, whatever changed.
    pub fn spawn_kpi_refresher(&self) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                if let Err(e) = svc.refresh_kpis_in(usize::MAX, 250).await {
                    tracing::warn!(error = %e, "counting KPIs failed; it runs again in five seconds");
                }
            }
        });
    }

    /// Empties and recounts every order's KPIs (after the time zone changed). Returns how many
    /// orders were marked; the refresher counts them.
    pub async fn rebuild_kpis(&self) -> ServiceResult<i64> {
        Ok(self.store().kpi_reset().await?)
    }

    /// Sums a dimension's daily rows per segment into totals in the reporting currency.
    pub(crate) fn totals_by_segment(&self, rows: &[DailyRow]) -> (HashMap<String, Totals>, Vec<String>) {
        let cfg = self.kpi_settings();
        let mut out: HashMap<String, Totals> = HashMap::new();
        let mut excluded = Vec::new();
        for r in rows {
            let rate = cfg.rate(&r.currency);
            if rate.is_none() && !excluded.contains(&r.currency) {
                excluded.push(r.currency.clone());
            }
            out.entry(r.segment.clone()).or_default().add(&r.counters, rate, minor_per_unit(&r.currency));
        }
        excluded.sort();
        (out, excluded)
    }

    /// The order KPIs by segment of `by` over local days `from..=to`.
    pub async fn kpi_table(
        &self,
        _cap: &KpiViewer,
        from: NaiveDate,
        to: NaiveDate,
        by: Dim,
    ) -> ServiceResult<KpiTable> {
        let (a, b) = day_range(from, to)?;
        let pending = self.fresh_enough().await?;
        // Summed in SQL: a year by brand / method / country is some 300,000 daily rows.
        let rows = self.store().kpi_totals(by, a, b, None).await?;
        let (segments, excluded) = self.totals_by_segment(&rows);
        let (all, _) = self.totals_by_segment(&self.store().kpi_totals(Dim::All, a, b, None).await?);
        let total = row("all", all.get("all").copied().unwrap_or_default());
        let mut list: Vec<(String, Totals)> = segments.into_iter().collect();
        list.sort_by(|x, y| y.1.counts.orders.cmp(&x.1.counts.orders).then_with(|| x.0.cmp(&y.0)));
        Ok(KpiTable {
            from,
            to,
            by: by.as_str(),
            rows: if by == Dim::All { Vec::new() } else { list.into_iter().map(|(s, t)| row(&s, t)).collect() },
            total,
            reporting_currency: self.kpi_settings().reporting_currency,
            excluded_currencies: excluded,
            pending_orders: pending,
        })
    }

    /// One order KPI per period over `from..=to` (one segment, or all orders), beside the same
    /// number of periods just before.
    pub async fn kpi_series(
        &self,
        _cap: &KpiViewer,
        kpi: &str,
        from: NaiveDate,
        to: NaiveDate,
        per: Period,
        segment: Option<(Dim, String)>,
    ) -> ServiceResult<Series> {
        let def = k::order_kpi(kpi).ok_or_else(|| invalid("kpi", "is not an order KPI"))?;
        let (a, b) = day_range(from, to)?;
        self.fresh_enough().await?;
        let starts = period_starts(per, a, b);
        let n = starts.len() as i32;
        // The previous periods: as many, just before.
        let mut prev_starts = Vec::new();
        let mut s = per.start(a - 1);
        while (prev_starts.len() as i32) < n {
            prev_starts.push(s);
            s = per.start(s - 1);
        }
        prev_starts.reverse();
        let first = prev_starts.first().copied().unwrap_or(a);
        let (dim, seg) = match &segment {
            Some((d, s)) => (*d, Some(s.as_str())),
            None => (Dim::All, Some("all")),
        };
        let rows = self.store().kpi_daily(dim, first.min(a), b, seg).await?;
        let cfg = self.kpi_settings();
        let points = |starts: &[i32], end: i32| -> Vec<SeriesPoint> {
            starts
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let e = starts.get(i + 1).copied().unwrap_or(end).min(per.next(*s));
                    let mut t = Totals::default();
                    for r in rows.iter().filter(|r| r.day >= *s && r.day < e) {
                        t.add(&r.counters, cfg.rate(&r.currency), minor_per_unit(&r.currency));
                    }
                    let (num, den) = t.fraction(def.code).unwrap_or((0.0, 0.0));
                    SeriesPoint { period: per.label(*s), from: period::date(*s), value: Fraction::new(num, den) }
                })
                .collect()
        };
        Ok(Series { kpi: def, period: per.as_str(), points: points(&starts, b), previous: points(&prev_starts, a) })
    }

    /// The orders behind a number: those of a segment over `from..=to` where the KPI's part is
    /// counted; a page of `(limit, offset)`.
    pub async fn kpi_orders(
        &self,
        _cap: &KpiViewer,
        from: NaiveDate,
        to: NaiveDate,
        segment: Option<(Dim, String)>,
        kpi: Option<(&str, &str)>,
        (limit, offset): (i64, i64),
    ) -> ServiceResult<OrdersBehind> {
        let (a, b) = day_range(from, to)?;
        let counter = match kpi {
            Some((code, part)) => {
                Some(counter_for(code, part).ok_or_else(|| invalid("kpi", "is not an order KPI with that part"))?)
            }
            None => None,
        };
        self.fresh_enough().await?;
        // How many: the aggregate's own count, exact and without counting millions of rows.
        let (dim, seg) = match &segment {
            Some((d, s)) => (*d, s.clone()),
            None => (Dim::All, "all".to_owned()),
        };
        let name = counter.unwrap_or("orders");
        let i = riskdesk_domain::kpis::Counters::NAMES.iter().position(|n| *n == name).unwrap_or(0);
        let total = self.store().kpi_totals(dim, a, b, Some(&seg)).await?.iter().map(|r| r.counters.values()[i]).sum();
        let orders = self
            .store()
            .kpi_orders(&FactFilter {
                from_day: a,
                to_day: b,
                segment,
                counter,
                limit: limit.clamp(1, 1000),
                offset: offset.max(0),
            })
            .await?;
        Ok(OrdersBehind { total, orders })
    }

    /// Each rule's hits, precision, value saved and friction over `from..=to`.
    pub async fn rule_effectiveness(
        &self,
        _cap: &KpiViewer,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ServiceResult<Vec<RuleRow>> {
        let (a, b) = day_range(from, to)?;
        self.fresh_enough().await?;
        let rows = self.store().kpi_daily(Dim::Rule, a, b, None).await?;
        let cfg = self.kpi_settings();
        let weeks = period_starts(Period::Week, a, b);
        let mut by_rule: BTreeMap<String, (Totals, Vec<i64>)> = BTreeMap::new();
        for r in &rows {
            let e = by_rule.entry(r.segment.clone()).or_insert_with(|| (Totals::default(), vec![0; weeks.len()]));
            e.0.add(&r.counters, cfg.rate(&r.currency), minor_per_unit(&r.currency));
            let w = Period::Week.start(r.day);
            if let Some(i) = weeks.iter().position(|s| *s == w) {
                e.1[i] += r.counters.orders;
            } else if let Some(first) = e.1.first_mut() {
                *first += r.counters.orders;
            }
        }
        let mut out: Vec<RuleRow> = by_rule
            .into_iter()
            .map(|(rule, (t, weekly))| {
                let c = t.counts;
                RuleRow {
                    rule,
                    hits: c.orders,
                    fraud_hits: c.fraud_orders,
                    labelled_hits: c.labelled,
                    precision: (c.orders > 0).then(|| c.fraud_orders as f64 / c.orders as f64),
                    value_saved: k::round2(t.stopped_fraud_value),
                    good_held: c.good_held,
                    declined: c.declined,
                    weekly_hits: weekly,
                }
            })
            .collect();
        out.sort_by(|x, y| y.hits.cmp(&x.hits).then_with(|| x.rule.cmp(&y.rule)));
        Ok(out)
    }
}

fn row(segment: &str, t: Totals) -> KpiRow {
    let kpis = k::ORDER_KPIS
        .iter()
        .map(|d| {
            let (n, den) = t.fraction(d.code).unwrap_or((0.0, 0.0));
            (d.code, Fraction::new(n, den))
        })
        .collect();
    KpiRow { segment: segment.to_owned(), kpis }
}

/// Minor units per unit of a currency (JPY 1, most 100).
pub(crate) fn minor_per_unit(currency: &str) -> f64 {
    let digits = iso_currency::Currency::from_code(currency).and_then(|c| c.exponent()).unwrap_or(2);
    10f64.powi(i32::from(digits))
}

/// The first days of the periods that overlap `[a, b)`, the first clipped to `a`.
pub(crate) fn period_starts(per: Period, a: i32, b: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut s = per.start(a);
    while s < b {
        out.push(s.max(a));
        s = per.next(s);
    }
    out
}

impl Service {
    /// Today in the controller's zone: the dashboards' default range ends here.
    pub fn kpi_today(&self) -> NaiveDate {
        self.now().with_timezone(&self.kpi_zone()).date_naive()
    }

    /// The configuration the dashboard names (zone, reporting currency).
    pub fn kpi_config(&self, _cap: &KpiViewer) -> KpisConfig {
        let mut c = self.kpi_settings();
        c.reports.smtp_url = if c.reports.smtp_url.is_empty() { String::new() } else { "(set)".into() };
        c
    }
}
