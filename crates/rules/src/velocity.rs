//! Velocity aggregates and account novelty from the rows of earlier orders. Online the rows come
//! from storage (one index range scan per subject), offline from the replay's in-memory windows;
//! both call these functions, so live screening and backtests count the same way.
//!
//! A window is `[t - w, t]` on the orders' `placed_at`, and the current order counts too: with
//! event time rather than arrival time, orders that arrive late or out of order are counted where
//! they belong, and "3 orders from this device in 1 h" means this one and two before it.

use crate::needs::{Agg, Subject, VelocitySpec};
use crate::value::Value;
use riskdesk_domain::{EntityKey, EntityKind};
use std::collections::HashSet;

/// One earlier order seen through a subject (an entity or the customer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseRow {
    pub order_id: String,
    pub customer_id: String,
    pub at_ms: i64,
    pub amount_minor: i64,
    /// The order's entity keys; filled only when a distinct-count or novelty needs them.
    pub entities: Vec<EntityKey>,
}

/// The order being screened, as velocity sees it.
#[derive(Debug, Clone)]
pub struct Current<'a> {
    pub order_id: &'a str,
    pub customer_id: &'a str,
    pub at_ms: i64,
    pub amount_minor: i64,
    /// 10^exponent of the currency, to report sums in major units.
    pub minor_per_major: f64,
    pub entities: &'a [EntityKey],
}

impl Current<'_> {
    pub fn key(&self, kind: EntityKind) -> Option<&EntityKey> {
        self.entities.iter().find(|e| e.kind == kind)
    }

    /// Whether the order has the subject at all (no device id: no device velocity).
    pub fn has(&self, s: Subject) -> bool {
        match s {
            Subject::Customer => true,
            Subject::Entity(k) => self.key(k).is_some(),
        }
    }
}

fn value_of<'r>(s: Subject, customer_id: &'r str, entities: &'r [EntityKey]) -> Option<Distinct<'r>> {
    match s {
        Subject::Customer => Some(Distinct::Customer(customer_id)),
        Subject::Entity(k) => entities.iter().find(|e| e.kind == k).map(|e| Distinct::Hash(e.hash)),
    }
}

#[derive(Hash, PartialEq, Eq)]
enum Distinct<'r> {
    Customer(&'r str),
    Hash([u8; 16]),
}

/// The aggregate of `spec` over `rows` (the subject's earlier orders; any order outside the
/// window, or the current order itself, is skipped).
pub fn aggregate<'r>(spec: &VelocitySpec, cur: &Current<'_>, rows: impl IntoIterator<Item = &'r UseRow>) -> Value {
    if !cur.has(spec.subject) {
        return Value::Null;
    }
    let from = cur.at_ms - spec.window_ms;
    // The current order is never among its own past; ids are compared only on a time tie.
    let in_window = rows
        .into_iter()
        .filter(|r| r.at_ms >= from && r.at_ms <= cur.at_ms && (r.at_ms != cur.at_ms || r.order_id != cur.order_id));
    match spec.agg {
        Agg::Count => Value::Int(in_window.count() as i64 + 1),
        Agg::Sum => {
            let minor: i64 = in_window.map(|r| r.amount_minor).sum::<i64>() + cur.amount_minor;
            Value::Double(minor as f64 / cur.minor_per_major)
        }
        Agg::Distinct(of) => {
            let mut seen: HashSet<Distinct<'_>> = HashSet::new();
            if let Some(v) = value_of(of, cur.customer_id, cur.entities) {
                seen.insert(v);
            }
            for r in in_window {
                if let Some(v) = value_of(of, &r.customer_id, &r.entities) {
                    seen.insert(v);
                }
            }
            Value::Int(seen.len() as i64)
        }
    }
}

/// Whether the account ordered before (within the rows given) but never with this order's
/// value of `kind`. `None` when there is no earlier order or the order lacks the entity.
pub fn is_new<'r>(
    kind: EntityKind,
    cur: &Current<'_>,
    customer_rows: impl IntoIterator<Item = &'r UseRow>,
) -> Option<bool> {
    let key = cur.key(kind)?;
    let earlier: Vec<&UseRow> =
        customer_rows.into_iter().filter(|r| r.order_id != cur.order_id && r.at_ms <= cur.at_ms).collect();
    if earlier.is_empty() {
        return None;
    }
    Some(!earlier.iter().any(|r| r.entities.iter().any(|e| e.kind == kind && e.hash == key.hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: EntityKind, b: u8) -> EntityKey {
        EntityKey { kind, hash: [b; 16] }
    }

    fn row(id: &str, cust: &str, at: i64, amount: i64, entities: Vec<EntityKey>) -> UseRow {
        UseRow { order_id: id.into(), customer_id: cust.into(), at_ms: at, amount_minor: amount, entities }
    }

    #[test]
    fn windows_include_the_current_order_and_skip_the_future() {
        let ents = [key(EntityKind::Device, 1), key(EntityKind::CardFingerprint, 9)];
        let cur = Current {
            order_id: "O3",
            customer_id: "C1",
            at_ms: 10_000_000,
            amount_minor: 1000,
            minor_per_major: 100.0,
            entities: &ents,
        };
        let rows = vec![
            row("O1", "C1", 10_000_000 - 3_600_000, 500, vec![key(EntityKind::CardFingerprint, 1)]),
            row("O2", "C2", 10_000_000 - 60_000, 250, vec![key(EntityKind::CardFingerprint, 2)]),
            row("O0", "C3", 10_000_000 - 3_600_001, 99, vec![]),
            // arrived earlier but placed later: not in this order's past
            row("O4", "C4", 10_000_000 + 1, 77, vec![]),
            row("O3", "C1", 10_000_000, 1000, vec![]),
        ];
        let spec = |agg| VelocitySpec { subject: Subject::Entity(EntityKind::Device), agg, window_ms: 3_600_000 };
        assert_eq!(aggregate(&spec(Agg::Count), &cur, &rows), Value::Int(3));
        assert_eq!(aggregate(&spec(Agg::Sum), &cur, &rows), Value::Double(17.5));
        assert_eq!(aggregate(&spec(Agg::Distinct(Subject::Customer)), &cur, &rows), Value::Int(2));
        assert_eq!(
            aggregate(&spec(Agg::Distinct(Subject::Entity(EntityKind::CardFingerprint))), &cur, &rows),
            Value::Int(3)
        );
        let ip = VelocitySpec { subject: Subject::Entity(EntityKind::Ip), agg: Agg::Count, window_ms: 60_000 };
        assert_eq!(aggregate(&ip, &cur, &rows), Value::Null);
    }

    #[test]
    fn novelty() {
        let ents = [key(EntityKind::Device, 1)];
        let cur = Current {
            order_id: "O3",
            customer_id: "C1",
            at_ms: 100,
            amount_minor: 1,
            minor_per_major: 100.0,
            entities: &ents,
        };
        assert_eq!(is_new(EntityKind::Device, &cur, &[]), None::<bool>);
        let seen = row("O1", "C1", 50, 1, vec![key(EntityKind::Device, 1)]);
        let other = row("O2", "C1", 60, 1, vec![key(EntityKind::Device, 2)]);
        assert_eq!(is_new(EntityKind::Device, &cur, std::slice::from_ref(&other)), Some(true));
        assert_eq!(is_new(EntityKind::Device, &cur, &[other, seen]), Some(false));
        assert_eq!(is_new(EntityKind::Ip, &cur, &[]), None::<bool>);
    }
}
