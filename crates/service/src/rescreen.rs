//! Re-screening: an event that changes the risk of orders already approved but not yet shipped
//! produces a new decision for each of them (and a webhook), as Kount and Signifyd re-score
//! approved orders. Triggers: the account's e-mail, phone, password or address changed; a
//! chargeback or confirmed fraud anywhere in the account's linked cluster.

use crate::{Service, ServiceResult, webhooks};
use chrono::Duration;
use riskdesk_domain::{Decision, Event, EventType};

/// How long after placement an approved order is still re-screened.
pub const RESCREEN_DAYS: i64 = 14;

/// What an event puts at risk: the account itself, or its whole cluster.
fn scope(t: EventType) -> Option<bool> {
    match t {
        EventType::EmailChanged | EventType::PhoneChanged | EventType::PasswordChanged | EventType::AddressChanged => {
            Some(false)
        }
        EventType::ChargebackReceived | EventType::FraudConfirmed => Some(true),
        _ => None,
    }
}

impl Service {
    /// Re-decides the open approved orders an event puts at risk; returns the new decisions.
    pub async fn rescreen_after(&self, e: &Event) -> ServiceResult<Vec<Decision>> {
        let Some(cluster_wide) = scope(e.event_type) else { return Ok(Vec::new()) };
        let customer = match (&e.customer_id, &e.order_id) {
            (Some(c), _) => c.clone(),
            (None, Some(o)) => match self.store().get_order(o).await? {
                Some(s) => s.order.customer.customer_id,
                None => return Ok(Vec::new()),
            },
            (None, None) => return Ok(Vec::new()),
        };
        let mut accounts = vec![customer.to_string()];
        if cluster_wide && let Some((cluster, _)) = self.store().cluster_of(&customer).await? {
            accounts = self.store().cluster_members(&cluster, 500).await?;
        }
        let now = self.now();
        let since = (now - Duration::days(RESCREEN_DAYS)).timestamp_millis();
        let mut out = Vec::new();
        for id in self.store().open_approved_orders(&accounts, since).await? {
            let Some(stored) = self.store().get_order(&id).await? else { continue };
            let entities: Vec<_> = stored.order.entities().iter().map(|x| self.hasher().key_of(x)).collect();
            let decided =
                self.screener().decide_knowing(&stored.order, &entities, now, now.timestamp_millis() + 1).await?;
            let d = decided.decision;
            let msgs = webhooks::messages_for(&self.webhooks().endpoints, "order.redecided", &d, now);
            self.store().add_decision(&d, &msgs).await?;
            tracing::info!(verdict = %d.decision, score = d.score, trigger = %e.event_type, "order re-decided");
            out.push(d);
        }
        Ok(out)
    }
}
