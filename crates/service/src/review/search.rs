//! Search from every page: an order id, a customer id, or an e-mail, phone, IBAN, IP, device,
//! card fingerprint or wallet, matched on the keyed hashes the entity index holds (so it keeps
//! working when data is encrypted). The search is a read of personal data: audited, with the
//! hashes looked up rather than the text.

use crate::audit::entry;
use crate::{OrderViewer, Service, ServiceError, ServiceResult};
use riskdesk_domain::search::{MAX_QUERY, lookups};
use serde::Serialize;

/// An account found, and through what.
#[derive(Debug, Clone, Serialize)]
pub struct FoundAccount {
    pub customer_id: String,
    /// `customer_id`, or the entity kind that matched (`email`, `iban`, …).
    pub matched_on: String,
    pub orders: i64,
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub orders: Vec<String>,
    pub accounts: Vec<FoundAccount>,
}

impl Service {
    pub async fn search(&self, cap: &OrderViewer, q: &str) -> ServiceResult<SearchResult> {
        // At most MAX_QUERY characters as sent, some of them besides white space.
        if q.chars().count() > MAX_QUERY || q.trim().is_empty() {
            return Err(ServiceError::Invalid(format!("q: one to {MAX_QUERY} characters")));
        }
        let q = q.trim();
        let l = lookups(q);
        let mut out = SearchResult { orders: Vec::new(), accounts: Vec::new() };
        if let Some(id) = &l.order_id
            && self.store().get_order(id).await?.is_some()
        {
            out.orders.push(id.to_string());
        }
        if let Some(id) = &l.customer_id
            && let Some(c) = self.store().get_customer(id, 1).await?
        {
            out.accounts.push(FoundAccount {
                customer_id: id.to_string(),
                matched_on: "customer_id".into(),
                orders: c.order_count,
                last_seen: c.orders.first().map(|o| o.placed_at.to_utc()),
            });
        }
        let mut hashes = Vec::new();
        for e in &l.entities {
            let key = self.hasher().key_of(e);
            hashes.push(format!(
                "{}:{}",
                e.kind.as_str(),
                key.hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ));
            for u in self.store().accounts_sharing(&key).await?.into_iter().take(200) {
                if out.accounts.iter().any(|a| a.customer_id == u.customer_id.as_str()) {
                    continue;
                }
                out.accounts.push(FoundAccount {
                    customer_id: u.customer_id.to_string(),
                    matched_on: e.kind.as_str().into(),
                    orders: u.orders,
                    last_seen: Some(u.last_seen),
                });
            }
        }
        out.accounts.truncate(200);
        self.audit_only(entry(
            &cap.actor().id,
            "search",
            "search".into(),
            serde_json::json!({"looked_up": hashes, "ids": l.order_id.is_some() || l.customer_id.is_some(),
                               "orders": out.orders.len(), "accounts": out.accounts.len()}),
            self.now(),
        ))
        .await?;
        Ok(out)
    }
}
