//! A customer as the people of the review desk see it: the account (personal data masked), its
//! orders with their decisions, its events and labels, the list entries that match it, the
//! accounts linked to it, whether it is labelled confirmed fraud, and the cases it appears in
//! (for those who may read cases).

use crate::cases::view::CaseBrief;
use crate::{CaseViewer, OrderViewer, Service, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::{CustomerId, mask_email, mask_name};
pub use riskdesk_store::OrderSummary;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub customer_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub first_order_at: DateTime<Utc>,
    pub last_order_at: DateTime<Utc>,
    pub order_count: i64,
    /// The newest 100 orders.
    pub orders: Vec<OrderSummary>,
    pub confirmed_fraud: bool,
    /// Cases linking the customer, newest first (empty for those who may not read cases).
    pub cases: Vec<CaseBrief>,
    /// The account's events, newest first (type, time, order; their data stays on the order).
    pub events: Vec<EventLine>,
    /// Ground-truth labels among them: (fraud, legit).
    pub labels: (usize, usize),
    /// Active block and allow entries matching the account or one of its entities.
    pub list_entries: Vec<riskdesk_store::ListEntry>,
    /// Accounts sharing an entity with this one, fraud first (as on the order page).
    pub linked: Vec<super::Neighbour>,
    pub more_linked: usize,
    /// Entities shared too widely to mean a link, counted.
    pub hubs: Vec<super::Hub>,
}

/// One event of the account.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub order_id: Option<String>,
}

impl Service {
    pub async fn customer_view(
        &self,
        _cap: &OrderViewer,
        id: &CustomerId,
        cases: Option<&CaseViewer>,
    ) -> ServiceResult<Option<CustomerView>> {
        let Some(c) = self.store().get_customer(id, 100).await? else { return Ok(None) };
        let confirmed_fraud = !self.store().fraud_accounts(&[id.to_string()]).await?.is_empty();
        let cases = match cases {
            Some(_) => self
                .store()
                .cases_linked("customer", id.as_str(), 50)
                .await?
                .into_iter()
                .map(|c| CaseBrief {
                    id: c.id,
                    title: c.title,
                    kind: c.kind,
                    status: c.status,
                    resolution: c.resolution.map(|r| r.label().to_owned()),
                })
                .collect(),
            None => Vec::new(),
        };
        let mut events: Vec<EventLine> = c
            .events
            .iter()
            .map(|e| EventLine {
                event_type: e.event.event_type.as_str().to_owned(),
                occurred_at: e.event.occurred_at.to_utc(),
                order_id: e.event.order_id.as_ref().map(|o| o.to_string()),
            })
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.occurred_at));
        let labels = (
            events.iter().filter(|e| e.event_type == "fraud_confirmed").count(),
            events.iter().filter(|e| e.event_type == "legit_confirmed").count(),
        );
        events.truncate(200);
        let (linked, more_linked, hubs) = self.neighbours(id).await?;
        let mut keys: std::collections::HashSet<String> =
            self.store().entities_of(id).await?.iter().map(|e| hex::encode(e.hash)).collect();
        keys.insert(id.to_string());
        let now = self.now();
        let list_entries = self
            .store()
            .list_entries()
            .await?
            .into_iter()
            .filter(|e| e.expires_at.is_none_or(|x| x > now) && keys.contains(&e.match_key))
            .collect();
        Ok(Some(CustomerView {
            events,
            labels,
            list_entries,
            linked,
            more_linked,
            hubs,
            customer_id: id.to_string(),
            email: c.profile.email.as_deref().map(mask_email),
            name: c.profile.name.as_deref().map(mask_name),
            first_order_at: c.profile.first_order_at,
            last_order_at: c.profile.last_order_at,
            order_count: c.order_count,
            orders: c.orders,
            confirmed_fraud,
            cases,
        }))
    }
}
