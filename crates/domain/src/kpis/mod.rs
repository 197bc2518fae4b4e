//! KPIs: the catalogue (data: each area lists its own), the facts one order contributes to the
//! daily aggregates, and the arithmetic from counters to ratios. Every KPI is a numerator over a
//! denominator, both counted from stored history; `docs/kpis.md` defines each in words.

pub mod alerts;
pub mod period;

use crate::review::SlaPolicy;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Which way is good, for colouring a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// How a value reads: a share shown as a percentage, minutes, points or an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Ratio,
    Minutes,
    Hours,
    Points,
}

/// One KPI as data: an area adds its KPIs by listing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KpiDef {
    pub code: &'static str,
    pub label: &'static str,
    pub area: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub unit: Unit,
    pub better: Better,
}

impl KpiDef {
    /// A KPI as data, for an area's own list.
    pub const fn new(
        code: &'static str,
        label: &'static str,
        area: &'static str,
        unit: Unit,
        better: Better,
        numerator: &'static str,
        denominator: &'static str,
    ) -> Self {
        Self { code, label, area, numerator, denominator, unit, better }
    }
}

macro_rules! kpi {
    ($code:literal, $label:literal, $area:literal, $unit:ident, $better:ident, $num:literal / $den:literal) => {
        KpiDef {
            code: $code,
            label: $label,
            area: $area,
            numerator: $num,
            denominator: $den,
            unit: Unit::$unit,
            better: Better::$better,
        }
    };
}

/// The order KPIs, computed from the daily aggregates of screened orders. Segmentable by every
/// [`Dim`].
pub const ORDER_KPIS: &[KpiDef] = &[
    kpi!(
        "fraud_rate_orders",
        "Fraud rate (orders)",
        "orders",
        Ratio,
        Lower,
        "orders labelled fraud (fraud_confirmed, or a chargeback or dispute of the fraud family)" / "orders placed"
    ),
    kpi!(
        "fraud_rate_value",
        "Fraud rate (value)",
        "orders",
        Ratio,
        Lower,
        "value of orders labelled fraud" / "value of orders placed (reporting currency)"
    ),
    kpi!(
        "decline_rate",
        "Decline rate",
        "orders",
        Ratio,
        Lower,
        "orders whose latest decision is decline (by screening or a person)" / "orders placed"
    ),
    kpi!(
        "review_rate",
        "Review rate",
        "orders",
        Ratio,
        Lower,
        "orders screening sent to review" / "orders screened by a rule set"
    ),
    kpi!(
        "hold_release_rate",
        "Hold-then-release rate",
        "orders",
        Ratio,
        Lower,
        "held orders (sent to review or put on hold) whose latest decision approves them" / "held orders"
    ),
    kpi!(
        "review_sla_rate",
        "Review SLA compliance",
        "orders",
        Ratio,
        Higher,
        "held orders released or cancelled by a person before the channel's cut-off"
            / "held orders released or cancelled by a person"
    ),
    kpi!(
        "time_to_decision",
        "Time to decision",
        "orders",
        Minutes,
        Lower,
        "minutes from the screening decision to the person's release or cancel, summed"
            / "held orders released or cancelled by a person"
    ),
    kpi!(
        "fraud_chargeback_rate",
        "Fraud chargeback rate",
        "orders",
        Ratio,
        Lower,
        "orders with a chargeback or dispute of the fraud family" / "orders placed"
    ),
];

/// Every KPI any area defines, for documentation and lookups.
pub fn catalogue(areas: &[&'static [KpiDef]]) -> Vec<KpiDef> {
    ORDER_KPIS.iter().chain(areas.iter().flat_map(|a| a.iter())).copied().collect()
}

pub fn order_kpi(code: &str) -> Option<&'static KpiDef> {
    ORDER_KPIS.iter().find(|k| k.code == code)
}

/// A dimension orders are segmented by. `Segment` is the combination an alert watches (the fraud
/// rate of one brand paid by one method in one country).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    All,
    Channel,
    Country,
    PaymentMethod,
    Brand,
    Rule,
    Segment,
}

impl Dim {
    pub const ALL: [Dim; 7] =
        [Self::All, Self::Channel, Self::Country, Self::PaymentMethod, Self::Brand, Self::Rule, Self::Segment];
    /// The dimensions `GET /kpis?by=` accepts.
    pub const BY: [Dim; 6] =
        [Self::Channel, Self::Country, Self::PaymentMethod, Self::Brand, Self::Rule, Self::Segment];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Channel => "channel",
            Self::Country => "country",
            Self::PaymentMethod => "payment_method",
            Self::Brand => "brand",
            Self::Rule => "rule",
            Self::Segment => "segment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All orders",
            Self::Channel => "Channel",
            Self::Country => "Country",
            Self::PaymentMethod => "Payment method",
            Self::Brand => "Brand",
            Self::Rule => "Rule",
            Self::Segment => "Brand / method / country",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// What is missing reads as this segment.
pub const NONE: &str = "(none)";

/// The counters one order adds to each of its aggregate rows. Sums of these over rows are the
/// numerators and denominators of [`ORDER_KPIS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub orders: i64,
    pub value_minor: i64,
    pub fraud_orders: i64,
    pub fraud_value_minor: i64,
    pub declined: i64,
    pub reviewed: i64,
    pub held: i64,
    pub released: i64,
    pub decided: i64,
    pub decision_ms: i64,
    pub sla_met: i64,
    pub fraud_chargebacks: i64,
    /// Held orders released and not labelled fraud: the friction good customers felt.
    pub good_held: i64,
    /// Value of fraud orders stopped (latest decision decline).
    pub stopped_fraud_minor: i64,
    /// Orders labelled fraud or legitimate.
    pub labelled: i64,
    /// Orders a rule set screened (not imported unscreened): the denominator of the screening
    /// rates.
    pub screened: i64,
}

macro_rules! each_counter {
    ($m:ident) => {
        $m!(
            orders,
            value_minor,
            fraud_orders,
            fraud_value_minor,
            declined,
            reviewed,
            held,
            released,
            decided,
            decision_ms,
            sla_met,
            fraud_chargebacks,
            good_held,
            stopped_fraud_minor,
            labelled,
            screened
        )
    };
}

impl Counters {
    pub const NAMES: [&'static str; 16] = {
        macro_rules! names { ($($f:ident),*) => { [$(stringify!($f)),*] } }
        each_counter!(names)
    };

    pub fn add(&mut self, o: &Counters) {
        macro_rules! add { ($($f:ident),*) => { $(self.$f += o.$f;)* } }
        each_counter!(add);
    }

    pub fn sub(&mut self, o: &Counters) {
        macro_rules! sub { ($($f:ident),*) => { $(self.$f -= o.$f;)* } }
        each_counter!(sub);
    }

    pub fn values(&self) -> [i64; 16] {
        macro_rules! vals { ($($f:ident),*) => { [$(self.$f),*] } }
        each_counter!(vals)
    }

    pub fn from_values(v: [i64; 16]) -> Self {
        let [
            orders,
            value_minor,
            fraud_orders,
            fraud_value_minor,
            declined,
            reviewed,
            held,
            released,
            decided,
            decision_ms,
            sla_met,
            fraud_chargebacks,
            good_held,
            stopped_fraud_minor,
            labelled,
            screened,
        ] = v;
        Self {
            orders,
            value_minor,
            fraud_orders,
            fraud_value_minor,
            declined,
            reviewed,
            held,
            released,
            decided,
            decision_ms,
            sla_met,
            fraud_chargebacks,
            good_held,
            stopped_fraud_minor,
            labelled,
            screened,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.values().iter().all(|v| *v == 0)
    }
}

/// Counters with their money already in the reporting currency (major units), as the KPIs read
/// them. Money of a currency without a rate is left out of both value sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Totals {
    pub counts: Counters,
    pub value: f64,
    pub fraud_value: f64,
    pub stopped_fraud_value: f64,
}

impl Totals {
    pub fn add(&mut self, c: &Counters, rate: Option<f64>, minor_per_unit: f64) {
        self.counts.add(c);
        if let Some(r) = rate {
            self.value += c.value_minor as f64 / minor_per_unit * r;
            self.fraud_value += c.fraud_value_minor as f64 / minor_per_unit * r;
            self.stopped_fraud_value += c.stopped_fraud_minor as f64 / minor_per_unit * r;
        }
    }

    pub fn merge(&mut self, o: &Totals) {
        self.counts.add(&o.counts);
        self.value += o.value;
        self.fraud_value += o.fraud_value;
        self.stopped_fraud_value += o.stopped_fraud_value;
    }

    /// The numerator and denominator of an order KPI.
    pub fn fraction(&self, code: &str) -> Option<(f64, f64)> {
        let c = &self.counts;
        let f = |n: i64, d: i64| (n as f64, d as f64);
        Some(match code {
            "fraud_rate_orders" => f(c.fraud_orders, c.orders),
            "fraud_rate_value" => (round2(self.fraud_value), round2(self.value)),
            "decline_rate" => f(c.declined, c.screened),
            "review_rate" => f(c.reviewed, c.screened),
            "hold_release_rate" => f(c.released, c.held),
            "review_sla_rate" => f(c.sla_met, c.decided),
            "time_to_decision" => ((c.decision_ms as f64 / 60_000.0 * 100.0).round() / 100.0, c.decided as f64),
            "fraud_chargeback_rate" => f(c.fraud_chargebacks, c.orders),
            _ => return None,
        })
    }
}

pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A numerator over a denominator; `value` is absent when nothing was counted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fraction {
    pub numerator: f64,
    pub denominator: f64,
    pub value: Option<f64>,
}

impl Fraction {
    pub fn new(numerator: f64, denominator: f64) -> Self {
        let value = (denominator != 0.0).then(|| numerator / denominator);
        Self { numerator, denominator, value }
    }
}

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
        h.channel = Some("amazon".into()); // two hours
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
        let c = facts(&h, chrono_tz::Europe::Berlin, &SlaPolicy::default()).counters;
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
