//! Cases that open by themselves: screening sends an order to review with a score at or above
//! `cases.auto_open_score`, and the customer's fraud investigation opens, or, if one is open,
//! the order joins it (one case per customer and situation). It runs after the order's answer,
//! off the request, so it never slows or fails the screening answer.

use super::{OpenCase, Opened, event};
use crate::{Actor, Service, ServiceResult};
use riskdesk_domain::{CustomerId, Decision, Verdict};
use riskdesk_store::changes::{CaseChange, Effect};

impl Service {
    /// Starts opening or joining the customer's case when the decision calls for one.
    pub(crate) fn open_case_after_screening(&self, customer: &CustomerId, d: &Decision) {
        let threshold = self.settings().cases.auto_open_score;
        if threshold == 0 || d.decision != Verdict::Review || i64::from(d.score) < threshold {
            return;
        }
        let (svc, customer, d) = (self.clone(), customer.to_string(), d.clone());
        tokio::spawn(async move {
            if let Err(e) = svc.auto_case(&customer, &d).await {
                tracing::warn!(order_id = %d.order_id, error = %e, "opening the screening case failed");
            }
        });
    }

    /// The demo's screening cases (the demo loads history without screening it live).
    pub async fn auto_case_for_demo(&self, customer: &str, d: &Decision) -> ServiceResult<Opened> {
        self.auto_case(customer, d).await
    }

    pub(crate) async fn auto_case(&self, customer: &str, d: &Decision) -> ServiceResult<Opened> {
        let actor = Actor::other("system:screening");
        let order = d.order_id.to_string();
        let rules: Vec<&str> = d.reasons.iter().map(|r| r.rule.as_str()).collect();
        let input = OpenCase {
            kind: "fraud_investigation".into(),
            title: format!("Screening: customer {customer} sent to review (score {})", d.score),
            description: format!("Order {order} scored {} ({}).", d.score, rules.join(", ")),
            customer_id: Some(customer.into()),
            order_ids: vec![order.clone()],
            ..Default::default()
        };
        let opened = self.open_case_as(&actor, input, Some(format!("auto:customer:{customer}")), Vec::new()).await?;
        if let Opened::Existing(c) = &opened {
            let linked = self.store().case_links(&c.id).await?.iter().any(|l| l.kind == "order" && l.value == order);
            if !linked {
                let now = self.now();
                let text = format!("Screening sent order {order} to review (score {})", d.score);
                let link = riskdesk_store::cases::CaseLink {
                    case_id: c.id.clone(),
                    kind: "order".into(),
                    value: order.clone(),
                    added_by: actor.id.clone(),
                    added_at: now,
                };
                let c = self
                    .save_case(
                        c,
                        c.clone(),
                        &actor,
                        vec![event(&c.id, &actor, "link", text, now)],
                        vec![Effect::Cases(CaseChange::Link(link))],
                        ("case.link", serde_json::json!({"kind": "order", "value": order})),
                    )
                    .await?;
                return Ok(Opened::Existing(c));
            }
        }
        Ok(opened)
    }
}
