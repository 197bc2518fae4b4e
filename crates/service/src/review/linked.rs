//! The accounts linked to an order's customer and the list entries its values match, for the
//! order page and the customer page.

use crate::{Service, ServiceResult};
use riskdesk_domain::{CustomerId, EntityKey};
use riskdesk_store::{ListEntry, StoredOrder};
use serde::Serialize;

/// An account linked to the order's customer, with the kinds of entity they share.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    pub customer_id: String,
    pub shared: Vec<&'static str>,
    pub fraud: bool,
}

/// An entity of the account shared by too many accounts to mean a link.
#[derive(Debug, Clone, Serialize)]
pub struct Hub {
    pub kind: &'static str,
    pub accounts: usize,
}

/// Accounts drawn around the order's customer at most; the rest is counted.
pub const GRAPH_LIMIT: usize = 40;

impl Service {
    /// Accounts sharing an entity with the customer: those labelled fraud first, then by the
    /// number of entity kinds shared, at most `GRAPH_LIMIT`. Entities used by more accounts than
    /// linking follows (hubs such as a marketplace's IBAN or a mobile carrier's IP) are counted,
    /// not expanded: their accounts are not links, and the picture shows the hub as one node.
    pub(crate) async fn neighbours(&self, customer: &CustomerId) -> ServiceResult<(Vec<Neighbour>, usize, Vec<Hub>)> {
        type Kinds = std::collections::BTreeMap<String, Vec<&'static str>>;
        let mut direct = Kinds::new();
        let mut hubs = Vec::new();
        for key in self.store().entities_of(customer).await? {
            let uses = self.store().accounts_sharing(&key).await?;
            let others: std::collections::BTreeSet<&str> =
                uses.iter().map(|u| u.customer_id.as_str()).filter(|c| *c != customer.as_str()).collect();
            if others.len() > riskdesk_rules::clusters::hub_limit(key.kind) {
                hubs.push(Hub { kind: key.kind.as_str(), accounts: others.len() });
                continue;
            }
            for other in others {
                let kinds = direct.entry(other.to_owned()).or_default();
                if !kinds.contains(&key.kind.as_str()) {
                    kinds.push(key.kind.as_str());
                }
            }
        }
        let total = direct.len();
        let ids: Vec<String> = direct.keys().cloned().collect();
        let fraud: std::collections::HashSet<String> = self.store().fraud_accounts(&ids).await?.into_iter().collect();
        let mut all: Vec<Neighbour> = direct
            .into_iter()
            .map(|(id, shared)| Neighbour { fraud: fraud.contains(&id), customer_id: id, shared })
            .collect();
        all.sort_by(|a, b| {
            b.fraud
                .cmp(&a.fraud)
                .then_with(|| b.shared.len().cmp(&a.shared.len()))
                .then_with(|| a.customer_id.cmp(&b.customer_id))
        });
        all.truncate(GRAPH_LIMIT);
        let more = total - all.len();
        Ok((all, more, hubs))
    }

    /// Active list entries that match the order's values.
    pub(super) async fn list_hits(
        &self,
        stored: &StoredOrder,
        entities: &[EntityKey],
    ) -> ServiceResult<Vec<ListEntry>> {
        let now = self.now();
        let order = &stored.order;
        let mut keys: std::collections::HashSet<String> = entities.iter().map(|e| hex::encode(e.hash)).collect();
        keys.insert(order.customer.customer_id.to_string());
        if let Some(e) = &order.customer.email {
            keys.insert(e.domain().to_ascii_lowercase());
        }
        if let Some(bin) = order.payment.card.as_ref().and_then(|c| c.bin.clone()) {
            keys.insert(bin);
        }
        let ip = order.device.as_ref().and_then(|d| d.ip);
        if let Some(ip) = ip {
            keys.insert(ip.to_string());
        }
        Ok(self
            .store()
            .list_entries()
            .await?
            .into_iter()
            .filter(|e| e.expires_at.is_none_or(|x| x > now))
            .filter(|e| {
                keys.contains(&e.match_key)
                    || (e.kind == riskdesk_rules::needs::ListKind::Ip
                        && ip.is_some_and(|ip| e.match_key.parse::<ipnet::IpNet>().is_ok_and(|n| n.contains(&ip))))
            })
            .collect())
    }
}
