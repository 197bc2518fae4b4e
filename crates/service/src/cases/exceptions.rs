//! The order-flow monitor: orders in review past their shipping cut-off, orders paid but not
//! shipped after some days, and orders shipped after their customer changed an address. Each
//! exception opens its case (one per order and exception) or a hand-off to another team.

use super::tasks::NewTask;
use super::{OpenCase, Opened, invalid};
use crate::review::{QueueFilter, QueueSort};
use crate::{CaseViewer, CaseWorker, Service, ServiceResult};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How far back the monitor looks.
const WINDOW_DAYS: i64 = 60;
const LIMIT: i64 = 200;

/// One exception as the monitor lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Exception {
    /// `held_past_cutoff`, `paid_not_shipped` or `shipped_after_address_change`.
    pub kind: &'static str,
    pub order_id: String,
    pub customer_id: String,
    /// When it started: the cut-off, the payment, the shipment.
    pub since: DateTime<Utc>,
    pub detail: String,
}

pub const EXCEPTION_KINDS: &[(&str, &str)] = &[
    ("held_past_cutoff", "In review past the shipping cut-off"),
    ("paid_not_shipped", "Paid, not shipped"),
    ("shipped_after_address_change", "Shipped after an address change"),
];

impl Service {
    /// Every exception now; `paid_days`: how long a paid order may wait for its shipment.
    pub async fn order_exceptions(&self, _cap: &CaseViewer, paid_days: i64) -> ServiceResult<Vec<Exception>> {
        if !(1..=WINDOW_DAYS).contains(&paid_days) {
            return Err(invalid("paid_days", format!("must be 1 to {WINDOW_DAYS}")));
        }
        let now = self.now();
        let mut out = Vec::new();
        let sla = self.sla_minutes();
        let f = QueueFilter { sort: QueueSort::CutOff, limit: LIMIT, ..Default::default() };
        for i in self.store().review_queue(&f, &sla).await?.0.into_iter().take_while(|i| i.due_at < now) {
            out.push(Exception {
                kind: "held_past_cutoff",
                detail: format!("{} in review, score {}, cut-off passed", i.state.as_str(), i.score),
                order_id: i.order_id,
                customer_id: i.customer_id,
                since: i.due_at,
            });
        }
        let from = now - Duration::days(WINDOW_DAYS);
        for e in self.store().paid_not_shipped(from, now - Duration::days(paid_days), LIMIT).await? {
            out.push(Exception {
                kind: "paid_not_shipped",
                detail: format!("paid {} days ago, no shipment", (now - e.at).num_days()),
                order_id: e.order_id,
                customer_id: e.customer_id,
                since: e.at,
            });
        }
        for e in self.store().shipped_after_address_change(from, LIMIT).await? {
            out.push(Exception {
                kind: "shipped_after_address_change",
                detail: format!(
                    "address changed {}, shipped {}",
                    e.changed_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
                    e.at.format("%Y-%m-%d %H:%M")
                ),
                order_id: e.order_id,
                customer_id: e.customer_id,
                since: e.at,
            });
        }
        Ok(out)
    }

    /// Opens the case of an exception (once per order and exception), optionally handing its
    /// first task to `team` with a due time a day from now.
    pub async fn open_exception_case(
        &self,
        cap: &CaseWorker,
        kind: &str,
        order_id: &str,
        customer_id: &str,
        team: Option<&str>,
    ) -> ServiceResult<Opened> {
        let label = EXCEPTION_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, l)| *l).ok_or_else(|| {
            invalid("kind", "must be held_past_cutoff, paid_not_shipped or shipped_after_address_change")
        })?;
        let team = team.map(str::trim).filter(|t| !t.is_empty());
        if team.is_some_and(|t| riskdesk_domain::cases::team_label(t).is_none()) {
            return Err(invalid("team", "is not a team"));
        }
        let input = OpenCase {
            kind: "fraud_investigation".into(),
            title: format!("{label}: order {}", order_id.trim()),
            description: format!("Opened from the order-flow monitor ({label})."),
            customer_id: Some(customer_id.to_owned()).filter(|c| !c.trim().is_empty()),
            order_ids: vec![order_id.to_owned()],
            ..Default::default()
        };
        let opened = self
            .open_case_as(cap.actor(), input, Some(format!("exception:{kind}:{}", order_id.trim())), Vec::new())
            .await?;
        if let (Some(team), Opened::Created(c)) = (team, &opened) {
            let what = match kind {
                "paid_not_shipped" => "Why has this paid order not shipped? Hold it if it has not left.",
                "shipped_after_address_change" => {
                    "Stop or redirect the parcel if possible; confirm the address with the customer."
                }
                _ => "Hold the parcel until the review is decided.",
            };
            let task = NewTask {
                title: what.into(),
                mandatory: true,
                team: Some(team.into()),
                due_at: Some(self.now() + Duration::hours(24)),
            };
            self.add_case_task(cap, &c.id, task).await?;
        }
        Ok(opened)
    }
}
