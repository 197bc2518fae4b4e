//! A customer as the people of the review desk see it: the account (personal data masked), its
//! orders with their decisions, whether it is labelled confirmed fraud, and the cases it appears
//! in (for those who may read cases).

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
        Ok(Some(CustomerView {
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
