//! Refund claims and return abuse. A refund claim (not received, empty box, wrong item,
//! damaged) opens a `refund_claim` case per order, and the claim queue shows the carrier's
//! scans and the warehouse's receipt side by side. Return-abuse signals are counted per
//! customer from the stored events (returns, late returns, wear notes, claims, a refund and a
//! chargeback on one order); a customer with enough signals gets a case.

use crate::cases::OpenCase;
use crate::{Actor, DisputeViewer, Service, ServiceResult};
use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::disputes::returns::{self as r, CustomerReturns, ReturnTrail, Signal, TrailStep};
use riskdesk_domain::{CustomerId, EventType};
use riskdesk_store::StoredEvent;
use riskdesk_store::cases::CaseFilter;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

const RETURN_TYPES: &[&str] = &[
    "return_requested",
    "return_received",
    "refund_issued",
    "refund_claimed",
    "chargeback_received",
    "order_delivered",
    "order_shipped",
];

/// A customer with their counts and the signals they raise.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnAbuse {
    #[serde(flatten)]
    pub counts: CustomerReturns,
    pub return_rate_pct: f64,
    pub kept_minor: i64,
    pub signals: Vec<Signal>,
}

/// One refund claim with what the carrier and the warehouse say.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    pub order_id: String,
    pub customer_id: Option<String>,
    pub claim: String,
    pub claimed_at: DateTime<Utc>,
    pub shipped: Option<String>,
    pub delivered: Option<DateTime<Utc>>,
    pub return_received: Option<String>,
    pub refunded_minor: i64,
    pub case_id: Option<String>,
}

fn text(e: &StoredEvent, k: &str) -> Option<String> {
    e.event.data.get(k).and_then(|v| v.as_str()).map(str::to_owned)
}

fn amount(e: &StoredEvent) -> i64 {
    e.event
        .data
        .get("amount")
        .and_then(|a| serde_json::from_value::<riskdesk_domain::Money>(a.clone()).ok())
        .map_or(0, |m| m.minor)
}

impl Service {
    async fn return_events(&self, days: i64) -> ServiceResult<Vec<StoredEvent>> {
        Ok(self.store().events_of_types(RETURN_TYPES, self.now() - Duration::days(days), 200_000).await?)
    }

    /// Customers with return-abuse signals over the last `days`, most signals first.
    pub async fn return_abuse(&self, _: &DisputeViewer, days: i64) -> ServiceResult<Vec<ReturnAbuse>> {
        if !(1..=730).contains(&days) {
            return Err(crate::ServiceError::Invalid("days: must be between 1 and 730".into()));
        }
        let t = self.dispute_settings().returns;
        let mut events = self.return_events(days).await?;
        events.sort_by_key(|e| e.event.occurred_at);
        // Late returns, wear notes and double dips come from the fold rules count with
        // (`customer.late_returns`, ...), so a rule and this list agree about a customer.
        let mut customers: BTreeMap<String, (CustomerReturns, ReturnTrail)> = BTreeMap::new();
        for e in &events {
            let Some(c) = e.event.customer_id.as_ref().map(|c| c.to_string()) else { continue };
            let (row, trail) = customers
                .entry(c.clone())
                .or_insert_with(|| (CustomerReturns { customer_id: c, ..Default::default() }, ReturnTrail::default()));
            let (worn, refund_minor) = r::trail_marks(&e.event);
            trail.add(
                TrailStep {
                    order_id: e.event.order_id.as_ref().map(|o| o.as_str()),
                    event_type: e.event.event_type,
                    at_ms: e.event.occurred_at.timestamp_millis(),
                    worn,
                    refund_minor,
                },
                &t,
            );
            match e.event.event_type {
                EventType::ReturnRequested => row.returns += 1,
                EventType::RefundClaimed => row.claims += 1,
                _ => {}
            }
        }
        let customers = customers.into_iter().map(|(id, (mut row, trail))| {
            row.late_returns = trail.late_returns;
            row.wear_notes = trail.wear_notes;
            row.refund_and_chargeback = trail.refund_and_chargeback;
            row.refunded_minor = trail.refunded_minor;
            (id, row)
        });
        let mut out = Vec::new();
        for (_, mut c) in customers.filter(|(_, c)| c.returns + c.claims + c.refund_and_chargeback > 0).take(500) {
            if let Ok(id) = CustomerId::parse(&c.customer_id, "customer_id")
                && let Some(s) = self.store().get_customer(&id, 100).await?
            {
                let since = self.now() - Duration::days(days);
                let recent: Vec<_> = s.orders.iter().filter(|o| o.placed_at.to_utc() >= since).collect();
                c.orders = (recent.len() as i64).max(1);
                c.order_value_minor = recent.iter().map(|o| o.total_minor).sum();
            }
            let signals = r::signals(&c, &t);
            if signals.is_empty() {
                continue;
            }
            out.push(ReturnAbuse {
                return_rate_pct: c.return_rate_pct(),
                kept_minor: c.kept_minor(),
                signals,
                counts: c,
            });
        }
        out.sort_by(|a, b| b.signals.len().cmp(&a.signals.len()).then(b.counts.returns.cmp(&a.counts.returns)));
        Ok(out)
    }

    /// Refund claims of the last `days`, newest first, with carrier and warehouse side by side.
    pub async fn refund_claims(&self, _: &DisputeViewer, days: i64) -> ServiceResult<Vec<Claim>> {
        if !(1..=730).contains(&days) {
            return Err(crate::ServiceError::Invalid("days: must be between 1 and 730".into()));
        }
        let events = self.return_events(days).await?;
        let mut by_order: HashMap<String, Vec<&StoredEvent>> = HashMap::new();
        for e in &events {
            if let Some(o) = &e.event.order_id {
                by_order.entry(o.to_string()).or_default().push(e);
            }
        }
        let cases = self
            .store()
            .cases(&CaseFilter {
                kind: Some("refund_claim".into()),
                statuses: Some(vec![]),
                limit: 5000,
                ..Default::default()
            })
            .await?;
        let case_of: HashMap<String, String> = cases
            .iter()
            .filter_map(|c| {
                c.open_key.as_ref().and_then(|k| k.strip_prefix("claim:")).map(|o| (o.to_owned(), c.id.clone()))
            })
            .collect();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for e in events.iter().filter(|e| e.event.event_type == EventType::RefundClaimed) {
            let Some(order) = e.event.order_id.as_ref().map(|o| o.to_string()) else { continue };
            if !seen.insert(order.clone()) {
                continue;
            }
            let es = by_order.get(&order).cloned().unwrap_or_default();
            let find = |t: EventType| es.iter().find(|x| x.event.event_type == t);
            out.push(Claim {
                customer_id: e.event.customer_id.as_ref().map(|c| c.to_string()),
                claim: text(e, "claim").unwrap_or_else(|| "not_received".into()),
                claimed_at: e.event.occurred_at.to_utc(),
                shipped: find(EventType::OrderShipped).map(|s| {
                    let what = [text(s, "carrier"), text(s, "tracking_number")]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    format!("{} {what}", s.event.occurred_at.format("%Y-%m-%d")).trim().to_owned()
                }),
                delivered: find(EventType::OrderDelivered).map(|d| d.event.occurred_at.to_utc()),
                return_received: find(EventType::ReturnReceived).map(|x| {
                    format!("{} {}", x.event.occurred_at.format("%Y-%m-%d"), text(x, "condition").unwrap_or_default())
                        .trim()
                        .to_owned()
                }),
                refunded_minor: es
                    .iter()
                    .filter(|x| x.event.event_type == EventType::RefundIssued)
                    .map(|x| amount(x))
                    .sum(),
                case_id: case_of.get(&order).cloned(),
                order_id: order,
            });
        }
        Ok(out)
    }

    /// Opens the cases refund claims of the last `days` call for (one per order claimed) and,
    /// with `abuse`, those return-abuse signals call for (one per customer); answers how many
    /// opened.
    pub async fn open_return_cases(&self, days: i64, abuse: bool) -> ServiceResult<usize> {
        let cap = DisputeViewer::local(Actor::other("system:returns"));
        let actor = Actor::other("system:returns");
        let mut opened = 0;
        for c in self.refund_claims(&cap, days).await?.into_iter().filter(|c| c.case_id.is_none()) {
            let input = OpenCase {
                kind: "refund_claim".into(),
                title: format!("Refund claim ({}) on order {}", c.claim.replace('_', " "), c.order_id),
                description: format!(
                    "Claimed {}. Carrier: {}. Warehouse: {}.",
                    c.claimed_at.format("%Y-%m-%d"),
                    c.shipped.as_deref().unwrap_or("no shipping scan"),
                    c.return_received.as_deref().unwrap_or("no return received")
                ),
                customer_id: c.customer_id.clone(),
                order_ids: vec![c.order_id.clone()],
                ..Default::default()
            };
            if let crate::cases::Opened::Created(_) =
                self.open_case_as(&actor, input, Some(format!("claim:{}", c.order_id)), Vec::new()).await?
            {
                opened += 1;
            }
        }
        if !abuse {
            return Ok(opened);
        }
        let t = self.dispute_settings().returns;
        for a in
            self.return_abuse(&cap, days.max(90)).await?.into_iter().filter(|a| a.signals.len() >= t.case_at_signals)
        {
            let labels: Vec<&str> = a.signals.iter().map(|s| s.label).collect();
            let input = OpenCase {
                kind: "refund_claim".into(),
                title: format!("Return abuse signals: customer {} ({})", a.counts.customer_id, labels.join(", ")),
                description: a
                    .signals
                    .iter()
                    .map(|s| format!("- {}: {}", s.label, s.detail))
                    .collect::<Vec<_>>()
                    .join("\n"),
                customer_id: Some(a.counts.customer_id.clone()),
                ..Default::default()
            };
            if let crate::cases::Opened::Created(_) =
                self.open_case_as(&actor, input, Some(format!("returns:{}", a.counts.customer_id)), Vec::new()).await?
            {
                opened += 1;
            }
        }
        Ok(opened)
    }
}
