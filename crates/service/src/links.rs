//! Linked accounts: the cluster an account belongs to, the path of shared entities between two
//! accounts, and the full rebuild of clusters after a bulk load.

use crate::{Intake, ReadAccess, Service, ServiceResult};
use riskdesk_domain::{CustomerId, EntityKind, EventType};
use riskdesk_rules::clusters::{Clusters, hub_limit, links};
use riskdesk_rules::features::ClusterFacts;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, Serialize)]
pub struct ClusterView {
    pub cluster_id: String,
    #[serde(flatten)]
    pub facts: ClusterFacts,
    /// Members, at most the limit asked for.
    pub members: Vec<String>,
}

/// One hop of a path: from the previous account to `customer` through an entity of `via` kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub customer: String,
    pub via: EntityKind,
}

/// How far a path search looks before giving up.
pub const MAX_PATH_ACCOUNTS: usize = 5_000;

impl Service {
    pub async fn cluster(&self, _cap: &ReadAccess, id: &CustomerId, limit: i64) -> ServiceResult<Option<ClusterView>> {
        let Some((cluster_id, facts)) = self.store().cluster_of(id).await? else {
            // An account that shares nothing has no cluster row: it is a cluster of one.
            if self.store().get_customer(id, 1).await?.is_none() {
                return Ok(None);
            }
            let facts = ClusterFacts { size: 1, fraud_accounts: 0, chargeback_accounts: 0 };
            return Ok(Some(ClusterView { cluster_id: id.to_string(), facts, members: vec![id.to_string()] }));
        };
        let members = self.store().cluster_members(&cluster_id, limit).await?;
        Ok(Some(ClusterView { cluster_id, facts, members }))
    }

    /// The shortest chain of shared entities from `a` to `b` (breadth-first over accounts,
    /// skipping hub entities as clustering does); `None` when they are not linked.
    pub async fn link_path(
        &self,
        _cap: &ReadAccess,
        a: &CustomerId,
        b: &CustomerId,
    ) -> ServiceResult<Option<Vec<Hop>>> {
        if a == b {
            return Ok(Some(Vec::new()));
        }
        let mut came: HashMap<String, (String, EntityKind)> = HashMap::new();
        let mut queue = VecDeque::from([a.to_string()]);
        came.insert(a.to_string(), (String::new(), EntityKind::Email));
        while let Some(cur) = queue.pop_front() {
            if came.len() > MAX_PATH_ACCOUNTS {
                break;
            }
            let cid = CustomerId::parse(&cur, "customer_id").map_err(|e| crate::ServiceError::Invalid(e.detail))?;
            for key in self.store().entities_of(&cid).await?.into_iter().filter(|k| links(k.kind)) {
                let uses = self.store().accounts_sharing(&key).await?;
                let mut users: Vec<&str> =
                    uses.iter().filter(|u| u.kind == key.kind).map(|u| u.customer_id.as_str()).collect();
                users.sort_unstable();
                users.dedup();
                if users.len() > hub_limit(key.kind) {
                    continue;
                }
                for u in users {
                    if came.contains_key(u) {
                        continue;
                    }
                    came.insert(u.to_owned(), (cur.clone(), key.kind));
                    if u == b.as_str() {
                        let mut hops = Vec::new();
                        let mut at = u.to_owned();
                        while at != a.as_str() {
                            let (prev, via) = came[&at].clone();
                            hops.push(Hop { customer: at, via });
                            at = prev;
                        }
                        hops.reverse();
                        return Ok(Some(hops));
                    }
                    queue.push_back(u.to_owned());
                }
            }
        }
        Ok(None)
    }

    /// Recomputes every cluster from the stored orders' entity keys, oldest first and a whole
    /// order at a time as the replay links them, then the fraud and chargeback labels (after
    /// imports and demo loads, which skip per-order linking). Returns the number of accounts.
    pub async fn rebuild_clusters(&self, _cap: &Intake) -> ServiceResult<usize> {
        let orders = self.store().orders_for_linking().await?;
        let events = self.store().replay_events().await?;
        let (accounts, clusters) = tokio::task::spawn_blocking(move || {
            let mut c = Clusters::default();
            for (customer, keys) in &orders {
                c.add(customer, keys);
            }
            for e in &events {
                let fraud = e.event_type == EventType::FraudConfirmed;
                let chargeback = e.event_type == EventType::ChargebackReceived;
                if let (true, Some(cust)) = (fraud || chargeback, &e.customer_id) {
                    c.flag(cust, fraud, chargeback);
                }
            }
            c.export()
        })
        .await
        .map_err(|e| crate::ServiceError::Invalid(format!("cluster rebuild failed: {e}")))?;
        let linked = accounts.len();
        // Only accounts in a cluster of two or more, or flagged, are stored: one without a row
        // is a cluster of one (`riskdesk_store::codec::merged_facts`), as on ingest.
        let clusters: Vec<_> = clusters
            .into_iter()
            .filter(|(_, f)| f.size > 1 || f.fraud_accounts > 0 || f.chargeback_accounts > 0)
            .collect();
        let kept: std::collections::HashSet<&str> = clusters.iter().map(|(id, _)| id.as_str()).collect();
        let accounts: Vec<_> = accounts.into_iter().filter(|a| kept.contains(a.1.as_str())).collect();
        self.store().replace_clusters(&accounts, &clusters).await?;
        Ok(linked)
    }
}
