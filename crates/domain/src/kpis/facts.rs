//! One order's facts: what its history (decisions, review actions, labels) contributes to each
//! aggregate row, and the difference replacing old facts by new makes.

use super::{Counters, Dim, NONE, period};
use crate::review::SlaPolicy;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A signal from the order's history that labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    FraudConfirmed,
    LegitConfirmed,
    /// A chargeback event or a dispute whose reason is of the fraud family.
    FraudChargeback,
}

/// One decision as the facts need it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFact {
    pub seq: i64,
    /// The rule set that decided (0: none; an import unscreened).
    pub ruleset_version: i64,
    pub verdict: String,
    pub rules: Vec<String>,
    pub decided_at: DateTime<Utc>,
}

/// Everything about one order that its KPIs depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderHistory {
    pub order_id: String,
    pub placed_at: DateTime<Utc>,
    pub channel: Option<String>,
    pub country: Option<String>,
    pub payment_method: String,
    pub brand: Option<String>,
    pub currency: String,
    pub total_minor: i64,
    pub decisions: Vec<DecisionFact>,
    /// Manual review actions (`hold`, `release`, `cancel`) with their times.
    pub actions: Vec<(String, DateTime<Utc>)>,
    pub signals: Vec<Signal>,
}

/// What one order contributes: its segments and counters. Stored per order so a change to the
/// order (a decision, a late label) replaces its contribution exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderFacts {
    pub order_id: String,
    /// Local day of `placed_at` (days since 1970-01-01 in the configured zone).
    pub day: i32,
    pub placed_at: DateTime<Utc>,
    pub channel: String,
    pub country: String,
    pub payment_method: String,
    pub brand: String,
    pub currency: String,
    /// The rules screening's first decision hit.
    pub rules: Vec<String>,
    pub fraud: bool,
    pub counters: Counters,
}

impl OrderFacts {
    /// The `(dimension, segment)` rows this order counts in.
    pub fn keys(&self) -> Vec<(Dim, String)> {
        let mut k = vec![
            (Dim::All, "all".to_owned()),
            (Dim::Channel, self.channel.clone()),
            (Dim::Country, self.country.clone()),
            (Dim::PaymentMethod, self.payment_method.clone()),
            (Dim::Brand, self.brand.clone()),
            (Dim::Segment, segment_key(&self.brand, &self.payment_method, &self.country)),
        ];
        k.extend(self.rules.iter().map(|r| (Dim::Rule, r.clone())));
        k
    }
}

/// A change to one aggregate row: a dimension's segment on a day, in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub dim: Dim,
    pub day: i32,
    pub segment: String,
    pub currency: String,
    pub counters: Counters,
}

/// What replacing the `old` facts of some orders by the `new` ones changes in the aggregates:
/// the new contributions minus the old, summed per row, rows that net to nothing left out.
pub fn deltas(old: &[OrderFacts], new: &[OrderFacts]) -> Vec<Delta> {
    let mut rows: std::collections::HashMap<(Dim, i32, String, String), Counters> = std::collections::HashMap::new();
    for (facts, sign) in [(old, -1), (new, 1)] {
        for f in facts {
            for (dim, segment) in f.keys() {
                let c = rows.entry((dim, f.day, segment, f.currency.clone())).or_default();
                if sign < 0 { c.sub(&f.counters) } else { c.add(&f.counters) }
            }
        }
    }
    let mut out: Vec<Delta> = rows
        .into_iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|((dim, day, segment, currency), counters)| Delta { dim, day, segment, currency, counters })
        .collect();
    // A fixed order, so concurrent writers lock rows in the same order.
    out.sort_by(|a, b| {
        (a.dim.as_str(), a.day, &a.segment, &a.currency).cmp(&(b.dim.as_str(), b.day, &b.segment, &b.currency))
    });
    out
}

/// The daily deltas summed per month (`day` becomes the month's first day), for the monthly
/// rows kept beside the daily ones; same order rule as [`deltas`].
pub fn by_month(daily: &[Delta]) -> Vec<Delta> {
    let mut rows: std::collections::HashMap<(Dim, i32, &str, &str), Counters> = std::collections::HashMap::new();
    for d in daily {
        rows.entry((d.dim, period::Period::Month.start(d.day), &d.segment, &d.currency)).or_default().add(&d.counters);
    }
    let mut out: Vec<Delta> = rows
        .into_iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|((dim, day, segment, currency), counters)| Delta {
            dim,
            day,
            segment: segment.to_owned(),
            currency: currency.to_owned(),
            counters,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.dim.as_str(), a.day, &a.segment, &a.currency).cmp(&(b.dim.as_str(), b.day, &b.segment, &b.currency))
    });
    out
}

/// How a range of days `[from, to)` reads from monthly and daily rows: the whole months inside
/// it as `[lo, hi)` (empty when there is none), the rest from the daily rows.
pub fn month_split(from: i32, to: i32) -> (i32, i32) {
    let month = period::Period::Month;
    let lo = if month.start(from) == from { from } else { month.next(month.start(from)) };
    let mut hi = lo;
    while month.next(hi) <= to {
        hi = month.next(hi);
    }
    if hi <= lo { (from, from) } else { (lo, hi) }
}

pub fn segment_key(brand: &str, method: &str, country: &str) -> String {
    format!("{brand} / {method} / {country}")
}

fn or_none(s: Option<&str>) -> String {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s.chars().take(80).collect(),
        None => NONE.to_owned(),
    }
}

/// Derives an order's facts from its history. Pure: the same history gives the same facts.
pub fn facts(h: &OrderHistory, zone: chrono_tz::Tz, sla: &SlaPolicy) -> OrderFacts {
    let mut decisions: Vec<&DecisionFact> = h.decisions.iter().collect();
    decisions.sort_by_key(|d| d.seq);
    let first = decisions.first();
    let latest = decisions.last();
    let reviewed = first.is_some_and(|d| d.verdict == "review");
    let manual_hold = h.actions.iter().any(|(a, _)| a == "hold");
    let held = reviewed || manual_hold;
    let declined = latest.is_some_and(|d| d.verdict == "decline");
    let approved = latest.is_some_and(|d| d.verdict == "approve");
    let fraud = h.signals.iter().any(|s| matches!(s, Signal::FraudConfirmed | Signal::FraudChargeback));
    let legit = !fraud && h.signals.contains(&Signal::LegitConfirmed);
    let chargeback = h.signals.contains(&Signal::FraudChargeback);
    // The person's decision: the last release or cancel.
    let decided = h.actions.iter().filter(|(a, _)| a == "release" || a == "cancel").map(|(_, at)| *at).max();
    let mut c = Counters {
        orders: 1,
        value_minor: h.total_minor,
        declined: i64::from(declined),
        reviewed: i64::from(reviewed),
        held: i64::from(held),
        fraud_chargebacks: i64::from(chargeback),
        labelled: i64::from(fraud || legit),
        screened: i64::from(first.is_some_and(|d| d.ruleset_version > 0)),
        ..Counters::default()
    };
    if fraud {
        c.fraud_orders = 1;
        c.fraud_value_minor = h.total_minor;
        if declined {
            c.stopped_fraud_minor = h.total_minor;
        }
    }
    if held && approved {
        c.released = 1;
        c.good_held = i64::from(!fraud);
    }
    if let (true, Some(at)) = (held, decided) {
        let from = first.map_or(h.placed_at, |d| d.decided_at);
        c.decided = 1;
        c.decision_ms = (at - from).num_milliseconds().max(0);
        c.sla_met = i64::from(at <= sla.due_at(h.placed_at, h.channel.as_deref()));
    }
    let mut rules: Vec<String> =
        first.map(|d| d.rules.iter().filter(|r| r.as_str() != "manual_review").cloned().collect()).unwrap_or_default();
    rules.sort();
    rules.dedup();
    OrderFacts {
        order_id: h.order_id.clone(),
        day: period::local_day(h.placed_at, zone),
        placed_at: h.placed_at,
        channel: or_none(h.channel.as_deref()),
        country: or_none(h.country.as_deref()),
        payment_method: or_none(Some(&h.payment_method)),
        brand: or_none(h.brand.as_deref()),
        currency: h.currency.clone(),
        rules,
        fraud,
        counters: c,
    }
}

/// The brand an order counts under: that of its largest line by value (ties: the first).
pub fn main_brand(items: &[crate::order::Item]) -> Option<String> {
    let mut best: Option<(i64, &str)> = None;
    for i in items {
        let Some(b) = i.brand.as_deref().filter(|b| !b.trim().is_empty()) else { continue };
        let v = i.unit_price.map_or(0, |p| p.minor.saturating_mul(i64::from(i.quantity)));
        if best.is_none_or(|(bv, _)| v > bv) {
            best = Some((v, b));
        }
    }
    best.map(|(_, b)| b.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, h, m, 0).unwrap()
    }

    fn history() -> OrderHistory {
        OrderHistory {
            order_id: "A-1".into(),
            placed_at: t(10, 0),
            channel: Some("webshop".into()),
            country: Some("DE".into()),
            payment_method: "card".into(),
            brand: Some("Acme".into()),
            currency: "EUR".into(),
            total_minor: 24_990,
            decisions: vec![DecisionFact {
                seq: 0,
                ruleset_version: 3,
                verdict: "review".into(),
                rules: vec!["new_account".into(), "high_value".into()],
                decided_at: t(10, 0),
            }],
            actions: vec![],
            signals: vec![],
        }
    }

    #[test]
    fn a_reviewed_order_released_within_its_cut_off() {
        let mut h = history();
        h.decisions.push(DecisionFact {
            seq: 1,
            ruleset_version: 3,
            verdict: "approve".into(),
            rules: vec!["manual_review".into()],
            decided_at: t(11, 30),
        });
        h.actions.push(("release".into(), t(11, 30)));
        h.signals.push(Signal::LegitConfirmed);
        let f = facts(&h, chrono_tz::Europe::Berlin, &SlaPolicy::default());
        let c = f.counters;
        assert_eq!((c.reviewed, c.held, c.released, c.good_held, c.decided, c.sla_met), (1, 1, 1, 1, 1, 1));
        assert_eq!(c.decision_ms, 90 * 60_000);
        assert_eq!((c.fraud_orders, c.labelled, c.declined), (0, 1, 0));
        assert_eq!(f.rules, vec!["high_value", "new_account"]);
        assert_eq!(f.keys().len(), 8);
    }

    #[test]
    fn a_cancelled_fraud_order_late_and_stopped() {
        let mut h = history();
        h.channel = Some("amazon".into());
        let mut sla = SlaPolicy::default();
        sla.per_channel.insert("amazon".into(), 120); // two hours
        h.decisions.push(DecisionFact {
            seq: 1,
            ruleset_version: 3,
            verdict: "decline".into(),
            rules: vec![],
            decided_at: t(13, 0),
        });
        h.actions.push(("hold".into(), t(11, 0)));
        h.actions.push(("cancel".into(), t(13, 0)));
        h.signals.extend([Signal::LegitConfirmed, Signal::FraudConfirmed, Signal::FraudChargeback]);
        let c = facts(&h, chrono_tz::Europe::Berlin, &sla).counters;
        assert_eq!((c.fraud_orders, c.fraud_value_minor, c.stopped_fraud_minor), (1, 24_990, 24_990));
        assert_eq!((c.declined, c.released, c.good_held, c.sla_met, c.decided), (1, 0, 0, 0, 1));
        assert_eq!(c.fraud_chargebacks, 1);
    }

    #[test]
    fn an_approved_order_counts_once_and_missing_segments_read_none() {
        let mut h = history();
        h.decisions[0].verdict = "approve".into();
        h.brand = None;
        h.channel = Some("  ".into());
        let f = facts(&h, chrono_tz::Europe::Berlin, &SlaPolicy::default());
        assert_eq!(f.counters, Counters { orders: 1, value_minor: 24_990, screened: 1, ..Counters::default() });
        assert_eq!((f.brand.as_str(), f.channel.as_str()), (NONE, NONE));
    }

    #[test]
    fn deltas_replace_an_orders_contribution() {
        let before = facts(&history(), chrono_tz::Europe::Berlin, &SlaPolicy::default());
        let mut h = history();
        h.signals.push(Signal::FraudConfirmed);
        let after = facts(&h, chrono_tz::Europe::Berlin, &SlaPolicy::default());
        let d = deltas(std::slice::from_ref(&before), std::slice::from_ref(&after));
        // Every row of the order gains one fraud order and its value, and nothing else.
        assert_eq!(d.len(), before.keys().len());
        for x in &d {
            assert_eq!(
                x.counters,
                Counters { fraud_orders: 1, fraud_value_minor: 24_990, labelled: 1, ..Counters::default() }
            );
        }
        assert!(deltas(std::slice::from_ref(&after), std::slice::from_ref(&after)).is_empty());
        let fresh = deltas(&[], std::slice::from_ref(&after));
        assert!(fresh.iter().all(|x| x.counters.orders == 1));
    }

    #[test]
    fn counters_add_and_subtract_back() {
        let a = Counters::from_values(std::array::from_fn(|i| i as i64 + 1));
        let mut s = Counters::default();
        s.add(&a);
        s.add(&a);
        s.sub(&a);
        assert_eq!(s, a);
        assert_eq!(Counters::NAMES.len(), a.values().len());
    }
}

#[cfg(test)]
mod month_tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> i32 {
        period::day_of(s.parse::<NaiveDate>().unwrap())
    }

    #[test]
    fn a_range_splits_into_whole_months_and_edge_days() {
        assert_eq!(month_split(d("2025-12-08"), d("2026-12-08")), (d("2026-01-01"), d("2026-12-01")));
        assert_eq!(month_split(d("2026-01-01"), d("2026-03-01")), (d("2026-01-01"), d("2026-03-01")));
        // Less than a whole month: days only.
        let (lo, hi) = month_split(d("2026-01-05"), d("2026-02-20"));
        assert_eq!(lo, hi);
        let (lo, hi) = month_split(d("2026-02-01"), d("2026-02-28"));
        assert_eq!(lo, hi, "February is not whole without its 28th");
    }

    #[test]
    fn monthly_rows_sum_the_daily_ones() {
        let row = |day: &str, orders: i64| Delta {
            dim: Dim::Channel,
            day: d(day),
            segment: "web".into(),
            currency: "EUR".into(),
            counters: Counters { orders, ..Default::default() },
        };
        let m = by_month(&[
            row("2026-01-03", 2),
            row("2026-01-31", 3),
            row("2026-02-01", -1),
            row("2026-03-01", 1),
            row("2026-03-02", -1),
        ]);
        let got: Vec<(i32, i64)> = m.iter().map(|r| (r.day, r.counters.orders)).collect();
        assert_eq!(got, vec![(d("2026-01-01"), 5), (d("2026-02-01"), -1)], "March nets to nothing");
    }
}
