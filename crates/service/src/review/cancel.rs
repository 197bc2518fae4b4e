//! The four-eye kind "cancel an order at or above the threshold": its payload is the review
//! itself, shown to the approver with the order's amount, score and hits; amending changes the
//! reason and note only.

use super::{CancelPayload, ReviewInput, clean_input};
use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::{Actor, OrderDecider, Service, ServiceError, ServiceResult};
use riskdesk_domain::{OrderId, Permission, Proposal, ReviewAction};

pub struct CancelOrder;

#[async_trait::async_trait]
impl ProposalKind for CancelOrder {
    fn code(&self) -> &'static str {
        "cancel_order"
    }

    fn label(&self) -> &'static str {
        "Cancel order"
    }

    fn approver(&self) -> Permission {
        Permission::ApproveOrderActions
    }

    fn link(&self, target: &str) -> String {
        format!("/orders/{target}")
    }

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Ok(c) = payload::<CancelPayload>(p) {
            out.push(("Reason".into(), c.review.reason.label().to_owned()));
            out.push(("Note".into(), if c.review.note.is_empty() { "—".into() } else { c.review.note.clone() }));
            if let Ok(id) = OrderId::parse(&c.order_id, "order_id")
                && let Ok(Some(o)) = svc.store().get_order(&id).await
            {
                let t = &o.order.total;
                out.push(("Amount".into(), format!("{} {}", t.amount_string(), t.currency.code())));
                if let Some(d) = o.decisions.first() {
                    out.push(("Screening".into(), format!("{} (score {})", d.decision, d.score)));
                    let hits: Vec<&str> = d.reasons.iter().map(|r| r.rule.as_str()).collect();
                    out.push(("Rule hits".into(), if hits.is_empty() { "—".into() } else { hits.join(", ") }));
                }
            }
        }
        out
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let c: CancelPayload = payload(p)?;
        let order = OrderId::parse(&c.order_id, "order_id").map_err(|e| ServiceError::Invalid(e.detail))?;
        let input = clean_input(c.review)?;
        let (effects, label) = svc.review_effects(maker, &order, &input, Some(p.id.clone())).await?;
        let audit = entry(
            &maker.id,
            "order.cancel",
            format!("order:{order}"),
            serde_json::json!({"reason": input.reason.as_str(), "proposal": p.id}),
            svc.now(),
        );
        Ok(Execution {
            effects,
            audit,
            then: Some(Box::new(move |svc: Service| Box::pin(async move { svc.after_label(label).await }))),
        })
    }
}

impl Service {
    /// Changes a pending cancellation's reason or note. The amender becomes one of its makers,
    /// and an approval of the earlier payload in flight is void (its hash no longer matches).
    pub async fn amend_cancel(&self, cap: &OrderDecider, id: &str, input: ReviewInput) -> ServiceResult<()> {
        let p = self.proposal(id).await?;
        if p.kind != CancelOrder.code() {
            return Err(ServiceError::Invalid("only cancellations can be amended".into()));
        }
        let old: CancelPayload = payload(&p)?;
        let review = clean_input(input)?;
        if review.action != ReviewAction::Cancel {
            return Err(ServiceError::Invalid("action: an amended cancellation stays a cancellation".into()));
        }
        let text = to_payload(&CancelPayload { order_id: old.order_id, review })?;
        self.amend_payload(cap.actor(), p, text).await
    }
}
