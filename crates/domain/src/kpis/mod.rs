//! KPIs: the catalogue (data: each area lists its own), the facts one order contributes to the
//! daily aggregates, and the arithmetic from counters to ratios. Every KPI is a numerator over a
//! denominator, both counted from stored history; `docs/kpis.md` defines each in words.

pub mod alerts;
mod facts;
pub mod period;

pub use facts::*;

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

/// The counters an order KPI's numerator and denominator count: the orders behind each part.
pub fn counted_by(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "fraud_rate_orders" | "fraud_rate_value" => ("fraud_orders", "orders"),
        "decline_rate" => ("declined", "screened"),
        "review_rate" => ("reviewed", "screened"),
        "hold_release_rate" => ("released", "held"),
        "review_sla_rate" => ("sla_met", "decided"),
        "time_to_decision" => ("decided", "decided"),
        "fraud_chargeback_rate" => ("fraud_chargebacks", "orders"),
        _ => return None,
    })
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
