//! Refund and return abuse signals per customer (fashion e-commerce patterns: serial returning,
//! wardrobing, "did not arrive" and empty-box claims, a refund and a chargeback for one order).
//! The counts come from the stored events; which counts make a signal is here.

use crate::EventType;
use serde::Serialize;
use std::collections::HashMap;

/// What a customer did over the window looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomerReturns {
    pub customer_id: String,
    pub orders: i64,
    pub order_value_minor: i64,
    pub returns: i64,
    pub refunded_minor: i64,
    /// Returns asked for in the last days of the return window.
    pub late_returns: i64,
    /// Returns the warehouse noted as worn, used, smelling or with cut tags.
    pub wear_notes: i64,
    /// Refund claims (not received, empty box, wrong item, damaged).
    pub claims: i64,
    /// Orders with both a refund and a chargeback.
    pub refund_and_chargeback: i64,
}

impl CustomerReturns {
    /// Returns per order, percent.
    pub fn return_rate_pct(&self) -> f64 {
        if self.orders == 0 { 0.0 } else { self.returns as f64 * 100.0 / self.orders as f64 }
    }

    /// What the customer kept: ordered less refunded.
    pub fn kept_minor(&self) -> i64 {
        (self.order_value_minor - self.refunded_minor).max(0)
    }
}

/// When counts become a signal; configurable (`[disputes.returns]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// A return rate at or above this percent, with at least `min_orders` orders.
    pub return_rate_pct: i64,
    pub min_orders: i64,
    pub late_returns: i64,
    pub wear_notes: i64,
    pub claims: i64,
    pub refund_and_chargeback: i64,
    /// Signals at which a refund-claim case opens.
    pub case_at_signals: usize,
    /// The return window, and how many of its last days make a return "late".
    pub window_days: i64,
    pub late_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            return_rate_pct: 60,
            min_orders: 3,
            late_returns: 2,
            wear_notes: 1,
            claims: 2,
            refund_and_chargeback: 1,
            case_at_signals: 2,
            window_days: 30,
            late_days: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub code: &'static str,
    pub label: &'static str,
    pub detail: String,
}

pub fn signals(c: &CustomerReturns, t: &Thresholds) -> Vec<Signal> {
    let mut out = Vec::new();
    let mut add = |code, label, detail: String| out.push(Signal { code, label, detail });
    if c.orders >= t.min_orders && c.returns * 100 >= t.return_rate_pct * c.orders {
        add(
            "serial_returner",
            "Serial returner",
            format!("{} returns of {} orders ({:.0} %)", c.returns, c.orders, c.return_rate_pct()),
        );
    }
    if c.late_returns >= t.late_returns {
        add(
            "end_of_window",
            "Returns at the end of the window",
            format!("{} returns in the last {} days of the window", c.late_returns, t.late_days),
        );
    }
    if c.wear_notes >= t.wear_notes {
        add(
            "wardrobing",
            "Worn items returned",
            format!("{} returns noted as worn or used by the warehouse", c.wear_notes),
        );
    }
    if c.claims >= t.claims {
        add(
            "claims",
            "Repeated refund claims",
            format!("{} claims (not received, empty box, wrong item, damaged)", c.claims),
        );
    }
    if c.refund_and_chargeback >= t.refund_and_chargeback {
        add(
            "double_dip",
            "Refund and chargeback on one order",
            format!("{} orders refunded and charged back", c.refund_and_chargeback),
        );
    }
    out
}

/// A warehouse note that says the item was worn or used (English and German): whole words
/// ("unused" and "unbenutzt" are not "used"), and not after a negation ("not worn").
pub fn wear_note(condition: &str) -> bool {
    const WORDS: &[&str] = &[
        "worn",
        "used",
        "odour",
        "odor",
        "smell",
        "smells",
        "perfume",
        "deodorant",
        "makeup",
        "make-up",
        "stain",
        "stains",
        "stained",
        "washed",
        "getragen",
        "benutzt",
        "geruch",
        "parfum",
        "flecken",
    ];
    const PHRASES: &[[&str; 2]] = &[
        ["tag", "cut"],
        ["tags", "cut"],
        ["tag", "removed"],
        ["tags", "removed"],
        ["tag", "missing"],
        ["tags", "missing"],
        ["etikett", "entfernt"],
        ["etikett", "abgeschnitten"],
        ["etikett", "fehlt"],
    ];
    const NOT: &[&str] = &["not", "no", "never", "nicht", "kein", "keine", "ohne", "without"];
    let lower = condition.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '-')).filter(|w| !w.is_empty()).collect();
    let negated = |i: usize| i > 0 && NOT.contains(&words[i - 1]);
    words.iter().enumerate().any(|(i, w)| WORDS.contains(w) && !negated(i))
        || words.windows(2).enumerate().any(|(i, p)| PHRASES.iter().any(|ph| ph[..] == *p) && !negated(i))
}

/// A return asked for within the last `late_days` of a `window_days` window from delivery.
pub fn late_return(days_after_delivery: i64, t: &Thresholds) -> bool {
    days_after_delivery <= t.window_days && days_after_delivery > t.window_days - t.late_days
}

/// What one event adds to a customer's return trail: its order, type and time, whether the
/// warehouse noted wear (a `return_received`) and the amount refunded (a `refund_issued`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailStep<'a> {
    pub order_id: Option<&'a str>,
    pub event_type: EventType,
    pub at_ms: i64,
    pub worn: bool,
    pub refund_minor: i64,
}

/// The marks of an event's body that the return trail reads: (worn, refunded minor units).
pub fn trail_marks(e: &crate::Event) -> (bool, i64) {
    match e.event_type {
        EventType::ReturnReceived => (e.data.get("condition").and_then(|c| c.as_str()).is_some_and(wear_note), 0),
        EventType::RefundIssued => (
            false,
            e.data
                .get("amount")
                .and_then(|a| serde_json::from_value::<crate::Money>(a.clone()).ok())
                .map_or(0, |m| m.minor),
        ),
        _ => (false, 0),
    }
}

/// The event types a return trail reads; the others change nothing in it.
pub const TRAIL_TYPES: [EventType; 5] = [
    EventType::OrderDelivered,
    EventType::ReturnRequested,
    EventType::ReturnReceived,
    EventType::RefundIssued,
    EventType::ChargebackReceived,
];

#[derive(Debug, Clone, Copy, Default)]
struct OrderMarks {
    delivered_ms: Option<i64>,
    refunded: bool,
    charged_back: bool,
}

/// One customer's return signals, folded from their events in time order. Rules
/// (`customer.late_returns`, ...) and the return-abuse list count with the same fold, so a
/// rule and the list never disagree about a customer.
#[derive(Debug, Clone, Default)]
pub struct ReturnTrail {
    orders: HashMap<String, OrderMarks>,
    pub late_returns: i64,
    pub wear_notes: i64,
    pub refund_and_chargeback: i64,
    pub refunded_minor: i64,
}

impl ReturnTrail {
    pub fn add(&mut self, s: TrailStep<'_>, t: &Thresholds) {
        if !TRAIL_TYPES.contains(&s.event_type) {
            return;
        }
        let marks = s.order_id.map(|o| self.orders.entry(o.to_owned()).or_default());
        match (s.event_type, marks) {
            (EventType::OrderDelivered, Some(m)) => {
                m.delivered_ms = Some(m.delivered_ms.map_or(s.at_ms, |d| d.min(s.at_ms)))
            }
            (EventType::ReturnRequested, Some(m)) => {
                if let Some(d) = m.delivered_ms
                    && late_return((s.at_ms - d).div_euclid(86_400_000), t)
                {
                    self.late_returns += 1;
                }
            }
            (EventType::ReturnReceived, _) => self.wear_notes += i64::from(s.worn),
            (EventType::RefundIssued, m) => {
                self.refunded_minor += s.refund_minor;
                if let Some(m) = m {
                    if m.charged_back && !m.refunded {
                        self.refund_and_chargeback += 1;
                    }
                    m.refunded = true;
                }
            }
            (EventType::ChargebackReceived, Some(m)) => {
                if m.refunded && !m.charged_back {
                    self.refund_and_chargeback += 1;
                }
                m.charged_back = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_from_counts() {
        let t = Thresholds::default();
        let c = CustomerReturns {
            customer_id: "C-1".into(),
            orders: 5,
            order_value_minor: 100_000,
            returns: 3,
            refunded_minor: 60_000,
            late_returns: 2,
            wear_notes: 1,
            claims: 0,
            refund_and_chargeback: 1,
        };
        let codes: Vec<_> = signals(&c, &t).iter().map(|s| s.code).collect();
        assert_eq!(codes, ["serial_returner", "end_of_window", "wardrobing", "double_dip"]);
        assert_eq!(c.kept_minor(), 40_000);
        // Too few orders for a rate.
        let few = CustomerReturns { orders: 2, returns: 2, ..Default::default() };
        assert!(signals(&few, &t).is_empty());
    }

    #[test]
    fn wear_and_lateness() {
        assert!(wear_note("Dress worn, smells of perfume"));
        assert!(wear_note("Etikett abgeschnitten"));
        assert!(wear_note("tags removed, washed"));
        assert!(!wear_note("unused, Etikett vorhanden"));
        assert!(!wear_note("unbenutzt"));
        assert!(!wear_note("not worn"));
        assert!(!wear_note("As new, in original packaging"));
        let t = Thresholds::default();
        assert!(late_return(29, &t));
        assert!(late_return(30, &t));
        assert!(!late_return(27, &t));
        assert!(!late_return(31, &t));
    }

    fn step(order: &str, event_type: EventType, day: i64) -> TrailStep<'_> {
        TrailStep {
            order_id: Some(order),
            event_type,
            at_ms: day * 86_400_000 + 3_600_000,
            worn: false,
            refund_minor: 0,
        }
    }

    #[test]
    fn trail_counts_each_signal_once() {
        let t = Thresholds::default();
        let mut tr = ReturnTrail::default();
        tr.add(step("A", EventType::OrderDelivered, 0), &t);
        // Day 29 of 30: late; a second request on the same order is late too.
        tr.add(step("A", EventType::ReturnRequested, 29), &t);
        // Day 27: not late.
        tr.add(step("B", EventType::OrderDelivered, 10), &t);
        tr.add(step("B", EventType::ReturnRequested, 37), &t);
        // A return without a delivery scan is never late.
        tr.add(step("C", EventType::ReturnRequested, 40), &t);
        tr.add(TrailStep { worn: true, ..step("A", EventType::ReturnReceived, 33) }, &t);
        tr.add(TrailStep { worn: false, ..step("B", EventType::ReturnReceived, 40) }, &t);
        // Chargeback then refund, then a second refund: one order counted once.
        tr.add(step("D", EventType::ChargebackReceived, 50), &t);
        tr.add(TrailStep { refund_minor: 4_990, ..step("D", EventType::RefundIssued, 51) }, &t);
        tr.add(TrailStep { refund_minor: 1_000, ..step("D", EventType::RefundIssued, 52) }, &t);
        // Refund then chargeback on another order.
        tr.add(TrailStep { refund_minor: 500, ..step("E", EventType::RefundIssued, 60) }, &t);
        tr.add(step("E", EventType::ChargebackReceived, 90), &t);
        // A refund alone is not a double dip.
        tr.add(TrailStep { refund_minor: 100, ..step("F", EventType::RefundIssued, 60) }, &t);
        assert_eq!((tr.late_returns, tr.wear_notes, tr.refund_and_chargeback, tr.refunded_minor), (1, 1, 2, 6_590));
    }

    #[test]
    fn marks_from_event_bodies() {
        let ev = |t: &str, data: serde_json::Value| -> crate::Event {
            serde_json::from_value(serde_json::json!({
                "event_id": "E-1", "type": t, "occurred_at": "2026-05-01T10:00:00Z", "order_id": "O-1", "data": data
            }))
            .unwrap()
        };
        assert_eq!(
            trail_marks(&ev("return_received", serde_json::json!({"condition": "worn, tags removed"}))),
            (true, 0)
        );
        assert_eq!(trail_marks(&ev("return_received", serde_json::json!({"condition": "not worn"}))), (false, 0));
        assert_eq!(
            trail_marks(&ev("refund_issued", serde_json::json!({"amount": {"amount": "49.90", "currency": "EUR"}}))),
            (false, 4_990)
        );
    }
}
