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
        if self.screener().record_only() {
            return Ok(Vec::new());
        }
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

impl Service {
    /// Screens stored orders placed since `since` that have no decision yet (imported history),
    /// as if each had just arrived at its placing time: their decisions, reviews included, are
    /// stored. Used by the demo so that the review queue holds the latest days' orders.
    pub async fn screen_undecided(
        &self,
        _cap: &crate::Intake,
        since: chrono::DateTime<chrono::Utc>,
    ) -> ServiceResult<usize> {
        if self.screener().record_only() {
            return Err(crate::ServiceError::Invalid("screening is off (screening.record_only)".into()));
        }
        let mut cursor = None;
        let mut todo = Vec::new();
        loop {
            let (rows, next) = self.store().replay_rows(cursor, 5_000).await?;
            for r in rows {
                let order = riskdesk_store::codec::order_from_body(&r.body)?;
                if order.placed_at >= since {
                    todo.push(order);
                }
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        todo.sort_by_key(|o| o.placed_at);
        let mut n = 0;
        for order in todo {
            if self.store().first_decision(&order.order_id).await?.is_some() {
                continue;
            }
            let at = order.placed_at.with_timezone(&chrono::Utc);
            let entities: Vec<_> = order.entities().iter().map(|x| self.hasher().key_of(x)).collect();
            let decided = self.screener().decide_knowing(&order, &entities, at, at.timestamp_millis()).await?;
            self.store().add_decision(&decided.decision, &[]).await?;
            n += 1;
        }
        Ok(n)
    }
}
