//! The return-trail variables of rules (`customer.late_returns`, `customer.wear_notes`,
//! `customer.refund_and_chargeback`, `customer.refunded`, `customer.kept_value`): the account's
//! delivery, return, refund and chargeback events folded with the domain's [`ReturnTrail`],
//! the same fold the return-abuse list counts with. Live screening reads the events only for rule
//! sets that name one of these variables; the replay keeps a trail per account.

use riskdesk_domain::Order;
use riskdesk_domain::disputes::returns::{ReturnTrail, Thresholds, TrailStep};
use riskdesk_rules::Value;
use riskdesk_rules::features::History;
use riskdesk_rules::needs::{Need, ReturnFact};
use riskdesk_store::ReplayEvent;

/// Whether some of `needs` reads the return trail.
pub fn wanted<'a>(mut needs: impl Iterator<Item = &'a Need>) -> bool {
    needs.any(|n| matches!(n, Need::Returns(_)))
}

/// Adds one stored event to a trail.
pub fn add(trail: &mut ReturnTrail, e: &ReplayEvent, t: &Thresholds) {
    trail.add(
        TrailStep {
            order_id: e.order_id.as_deref(),
            event_type: e.event_type,
            at_ms: e.at_ms,
            worn: e.worn,
            refund_minor: e.refund_minor,
        },
        t,
    );
}

/// A trail from an account's events in time order.
pub fn fold(events: &[ReplayEvent], t: &Thresholds) -> ReturnTrail {
    let mut trail = ReturnTrail::default();
    for e in events {
        add(&mut trail, e, t);
    }
    trail
}

/// The value of one variable for `order`, money in the order's major units.
pub fn value(fact: ReturnFact, trail: &ReturnTrail, history: &History, order: &Order) -> Value {
    let major = |minor: i64| minor as f64 / 10f64.powi(order.total.currency.exponent() as i32);
    match fact {
        ReturnFact::LateReturns => Value::Int(trail.late_returns),
        ReturnFact::WearNotes => Value::Int(trail.wear_notes),
        ReturnFact::RefundAndChargeback => Value::Int(trail.refund_and_chargeback),
        ReturnFact::Refunded => Value::Double(major(trail.refunded_minor)),
        ReturnFact::KeptValue => Value::Double(major((history.prior_spend_minor - trail.refunded_minor).max(0))),
    }
}
