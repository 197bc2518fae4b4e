//! The order's history as the order page tells it: the review history (the screening decision,
//! every review, every proposal with its amendments and outcome) and the customer's timeline.

use chrono::{DateTime, Utc};
use riskdesk_store::review::ReviewActionRecord;
use riskdesk_store::{StoredCustomer, StoredOrder};
use serde::Serialize;

/// A line of the customer's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub text: String,
    pub order_id: Option<String>,
}

/// One amendment of a proposal: when, by whom, of which proposal, and the reason it replaced.
pub(super) type Amendment = (DateTime<Utc>, String, String, Option<String>);

/// The amendments of these proposals, from the audit log (the proposal keeps only its latest
/// payload).
pub(super) async fn amendments(
    store: &dyn riskdesk_store::Store,
    proposals: &[riskdesk_domain::Proposal],
) -> crate::ServiceResult<Vec<Amendment>> {
    let mut out = Vec::new();
    for p in proposals {
        let f = riskdesk_store::audit::AuditFilter {
            action: Some("proposal.amend".into()),
            subject: Some(format!("proposal:{}", p.id)),
            limit: 50,
            ..Default::default()
        };
        for r in store.audit_records(&f).await? {
            let was = serde_json::from_str::<serde_json::Value>(&r.entry.detail)
                .ok()
                .and_then(|d| d.get("previous_reason").and_then(|x| x.as_str()).map(str::to_owned));
            out.push((r.entry.at, r.entry.actor.clone(), p.id.clone(), was));
        }
    }
    Ok(out)
}

/// The order's review history: the screening decision, every review, every proposal with its
/// amendments and outcome, oldest first.
pub(super) fn review_history(
    stored: &StoredOrder,
    actions: &[ReviewActionRecord],
    proposals: &[riskdesk_domain::Proposal],
    amendments: &[Amendment],
) -> Vec<TimelineEntry> {
    let who = |a: &str| a.trim_start_matches("user:").to_owned();
    let order_id = Some(stored.order.order_id.to_string());
    // Ranked for lines at the same instant: screening, proposal, amendment, outcome, review.
    let mut out: Vec<(u8, TimelineEntry)> = Vec::new();
    if let Some(d) = stored.decisions.first() {
        let hits: Vec<&str> = d.reasons.iter().map(|r| r.rule.as_str()).collect();
        out.push((
            0,
            TimelineEntry {
                at: d.decided_at,
                kind: "screening",
                text: format!(
                    "screened: {} (score {}){}",
                    d.decision,
                    d.score,
                    if hits.is_empty() { String::new() } else { format!(", rules {}", hits.join(", ")) }
                ),
                order_id: order_id.clone(),
            },
        ));
    }
    for a in actions {
        out.push((
            4,
            TimelineEntry {
                at: a.at,
                kind: "review",
                text: format!(
                    "{} by {}: {}{}{}",
                    a.action,
                    who(&a.actor),
                    a.reason.replace('_', " "),
                    a.proposal_id.as_ref().map(|p| format!(" (through proposal {p})")).unwrap_or_default(),
                    if a.note.is_empty() { String::new() } else { format!(" — “{}”", a.note) }
                ),
                order_id: order_id.clone(),
            },
        ));
    }
    for p in proposals {
        let mine: Vec<_> = amendments.iter().filter(|a| a.2 == p.id).collect();
        // The proposal as first made: an amendment replaced its payload, and recorded what it was.
        let first_reason = mine.iter().min_by_key(|a| a.0).and_then(|a| a.3.clone()).or_else(|| {
            serde_json::from_str::<serde_json::Value>(&p.payload)
                .ok()
                .and_then(|v| v.pointer("/review/reason").and_then(|r| r.as_str()).map(str::to_owned))
        });
        let reason = first_reason.map(|r| r.replace('_', " "));
        out.push((
            1,
            TimelineEntry {
                at: p.created_at,
                kind: "proposal",
                text: format!(
                    "{} {} proposed by {}{}",
                    p.kind.replace('_', " "),
                    p.id,
                    p.makers.first().map_or_else(String::new, |m| who(m)),
                    reason.map(|r| format!(": {r}")).unwrap_or_default()
                ),
                order_id: order_id.clone(),
            },
        ));
        for (at, actor, _, was) in mine {
            out.push((
                2,
                TimelineEntry {
                    at: *at,
                    kind: "proposal",
                    text: format!(
                        "{} amended by {}{}",
                        p.id,
                        who(actor),
                        was.as_ref().map(|w| format!(" (was: {})", w.replace('_', " "))).unwrap_or_default()
                    ),
                    order_id: order_id.clone(),
                },
            ));
        }
        if p.status.as_str() != "pending" {
            out.push((
                3,
                TimelineEntry {
                    at: p.decided_at.unwrap_or(p.expires_at),
                    kind: "proposal",
                    text: format!(
                        "{} {}{}",
                        p.id,
                        p.status.as_str(),
                        p.decided_by.as_ref().map(|d| format!(" by {}", who(d))).unwrap_or_default()
                    ),
                    order_id: order_id.clone(),
                },
            ));
        }
    }
    out.sort_by_key(|(rank, e)| (e.at, *rank));
    out.into_iter().map(|(_, e)| e).collect()
}

pub(super) fn timeline(
    stored: &StoredOrder,
    customer: Option<&StoredCustomer>,
    actions: &[ReviewActionRecord],
    proposals: &[riskdesk_domain::Proposal],
) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    // Proposals stay in the history whatever became of them (approved, rejected, withdrawn,
    // overridden by an amendment, expired).
    for p in proposals {
        let by = p.makers.first().map_or("", |m| m.trim_start_matches("user:"));
        let outcome = match (&p.decided_by, p.status.as_str()) {
            (Some(d), s) => format!("{s} by {}", d.trim_start_matches("user:")),
            (None, s) => s.to_owned(),
        };
        out.push(TimelineEntry {
            at: p.created_at,
            kind: "proposal",
            text: format!("{} proposed by {by}: {outcome}", p.kind.replace('_', " ")),
            order_id: Some(stored.order.order_id.to_string()),
        });
    }
    if let Some(c) = customer {
        for o in &c.orders {
            out.push(TimelineEntry {
                at: o.placed_at.with_timezone(&Utc),
                kind: "order",
                text: format!(
                    "order {} {} {}{}",
                    o.order_id,
                    riskdesk_domain::Money::new(
                        o.total_minor,
                        riskdesk_domain::Currency::parse(&o.currency, "c").unwrap_or(stored.order.total.currency)
                    )
                    .amount_string(),
                    o.currency,
                    o.decision.as_deref().map(|d| format!(" — {d}")).unwrap_or_default()
                ),
                order_id: Some(o.order_id.to_string()),
            });
        }
        for e in &c.events {
            let kind = if e.event.event_type.is_label() { "label" } else { "event" };
            out.push(TimelineEntry {
                at: e.event.occurred_at.with_timezone(&Utc),
                kind,
                text: e.event.event_type.as_str().replace('_', " "),
                order_id: e.event.order_id.as_ref().map(|o| o.to_string()),
            });
        }
    }
    for d in &stored.decisions {
        out.push(TimelineEntry {
            at: d.decided_at,
            kind: "decision",
            text: format!("{} (score {})", d.decision, d.score),
            order_id: Some(d.order_id.to_string()),
        });
    }
    for a in actions {
        out.push(TimelineEntry {
            at: a.at,
            kind: "review",
            text: format!("{} by {}: {}", a.action, a.actor.trim_start_matches("user:"), a.reason.replace('_', " ")),
            order_id: Some(a.order_id.clone()),
        });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(200);
    out
}
