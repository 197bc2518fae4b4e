//! Linked-account clusters in memory: union-find over accounts joined by shared entities. The
//! replay uses it to know, at each order, the cluster the account would belong to; the
//! stores keep the same partition in tables, maintained on ingest. An entity used by very many
//! accounts (a mobile carrier's IP, a marketplace's forwarding address) says nothing about
//! who belongs together, so entities above a hub limit do not link.

use crate::features::ClusterFacts;
// foldhash, not the standard library's SipHash: rebuilding a million orders' clusters does two
// look-ups per linking entity per order. The entity keys are HMAC outputs no one can aim at a
// bucket without the key; account ids come from shops, and foldhash's seed, random per process,
// keeps those from being aimed at buckets either.
use foldhash::HashMap;
use riskdesk_domain::{EntityKey, EntityKind};

/// Most accounts an entity may join before it counts as a hub and stops linking.
pub fn hub_limit(kind: EntityKind) -> usize {
    match kind {
        // Shared NATs and proxies: a handful of accounts is already unusual.
        EntityKind::Ip => 10,
        _ => 100,
    }
}

/// Entities that link accounts.
pub fn links(kind: EntityKind) -> bool {
    !matches!(kind, EntityKind::Email)
}

/// An account's place in the partition: (account, cluster id, fraud, chargeback).
pub type AccountRow = (String, String, bool, bool);
/// A cluster's id and counts.
pub type ClusterRow = (String, ClusterFacts);

#[derive(Debug, Default)]
pub struct Clusters {
    index: HashMap<String, usize>,
    parent: Vec<usize>,
    size: Vec<i64>,
    fraud: Vec<i64>,
    chargebacks: Vec<i64>,
    flags: Vec<(bool, bool)>,
    users: HashMap<[u8; 16], Vec<usize>>,
}

impl Clusters {
    fn id(&mut self, customer: &str) -> usize {
        if let Some(&i) = self.index.get(customer) {
            return i;
        }
        let i = self.parent.len();
        self.index.insert(customer.to_owned(), i);
        self.parent.push(i);
        self.size.push(1);
        self.fraud.push(0);
        self.chargebacks.push(0);
        self.flags.push((false, false));
        i
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn find_ro(&self, mut i: usize) -> usize {
        while self.parent[i] != i {
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra] >= self.size[rb] { (ra, rb) } else { (rb, ra) };
        self.parent[small] = big;
        self.size[big] += self.size[small];
        self.fraud[big] += self.fraud[small];
        self.chargebacks[big] += self.chargebacks[small];
    }

    /// Accounts (other than `customer`) that would be linked through these entities.
    fn neighbours(&self, customer: Option<usize>, entities: &[EntityKey]) -> Vec<usize> {
        let mut out = Vec::new();
        for e in entities.iter().filter(|e| links(e.kind)) {
            if let Some(us) = self.users.get(&e.hash)
                && us.len() + usize::from(customer.is_none_or(|c| !us.contains(&c))) <= hub_limit(e.kind)
            {
                out.extend(us.iter().copied().filter(|u| Some(*u) != customer));
            }
        }
        out
    }

    /// The cluster the account would be in with this order's entities, before the order is added.
    pub fn facts(&self, customer: &str, entities: &[EntityKey]) -> ClusterFacts {
        let me = self.index.get(customer).copied();
        let mut roots: Vec<usize> = self.neighbours(me, entities).into_iter().map(|u| self.find_ro(u)).collect();
        let own = me.map(|m| self.find_ro(m));
        roots.extend(own);
        roots.sort_unstable();
        roots.dedup();
        let mut f = ClusterFacts { size: i64::from(own.is_none()), ..ClusterFacts::default() };
        for r in roots {
            f.size += self.size[r];
            f.fraud_accounts += self.fraud[r];
            f.chargeback_accounts += self.chargebacks[r];
        }
        f
    }

    /// Adds an order: links its account to every account sharing a non-hub entity.
    pub fn add(&mut self, customer: &str, entities: &[EntityKey]) {
        let me = self.id(customer);
        for n in self.neighbours(Some(me), entities) {
            self.union(me, n);
        }
        for e in entities.iter().filter(|e| links(e.kind)) {
            let us = self.users.entry(e.hash).or_default();
            if !us.contains(&me) && us.len() <= hub_limit(e.kind) {
                us.push(me);
            }
        }
    }

    /// Marks an account as having confirmed fraud and/or a chargeback (each counted once).
    pub fn flag(&mut self, customer: &str, fraud: bool, chargeback: bool) {
        let me = self.id(customer);
        let root = self.find(me);
        let (f, c) = self.flags[me];
        if fraud && !f {
            self.fraud[root] += 1;
        }
        if chargeback && !c {
            self.chargebacks[root] += 1;
        }
        self.flags[me] = (f || fraud, c || chargeback);
    }

    /// Every account with its cluster representative (an account id), for storing the partition.
    pub fn assignments(&mut self) -> Vec<(String, String)> {
        let names: Vec<(String, usize)> = self.index.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let mut by_index = vec![String::new(); self.parent.len()];
        for (n, i) in &names {
            by_index[*i] = n.clone();
        }
        names.into_iter().map(|(n, i)| (n, by_index[self.find(i)].clone())).collect()
    }

    /// The partition for storage: `(account, cluster id, fraud, chargeback)` and each cluster's
    /// counts; a cluster's id is one of its accounts.
    pub fn export(&mut self) -> (Vec<AccountRow>, Vec<ClusterRow>) {
        let assignments = self.assignments();
        let mut accounts = Vec::with_capacity(assignments.len());
        let mut clusters = HashMap::default();
        for (name, root_name) in assignments {
            let i = self.index[&name];
            let (f, c) = self.flags[i];
            accounts.push((name, root_name.clone(), f, c));
            let r = self.find(i);
            clusters.entry(root_name).or_insert(ClusterFacts {
                size: self.size[r],
                fraud_accounts: self.fraud[r],
                chargeback_accounts: self.chargebacks[r],
            });
        }
        (accounts, clusters.into_iter().collect())
    }

    /// Facts of an account's current cluster.
    pub fn of(&self, customer: &str) -> Option<ClusterFacts> {
        let r = self.find_ro(*self.index.get(customer)?);
        Some(ClusterFacts {
            size: self.size[r],
            fraud_accounts: self.fraud[r],
            chargeback_accounts: self.chargebacks[r],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(kind: EntityKind, b: u8) -> EntityKey {
        EntityKey { kind, hash: [b; 16] }
    }

    #[test]
    fn accounts_join_through_shared_entities_and_hubs_do_not_link() {
        let mut c = Clusters::default();
        c.add("A", &[k(EntityKind::Device, 1)]);
        c.add("B", &[k(EntityKind::Device, 1), k(EntityKind::CardFingerprint, 2)]);
        c.add("C", &[k(EntityKind::CardFingerprint, 2)]);
        c.add("D", &[k(EntityKind::Device, 9)]);
        c.flag("C", true, false);
        assert_eq!(c.of("A"), Some(ClusterFacts { size: 3, fraud_accounts: 1, chargeback_accounts: 0 }));
        assert_eq!(c.of("D").unwrap().size, 1);
        // A new account with the ring's card would join a cluster of 4 with one fraud.
        assert_eq!(
            c.facts("E", &[k(EntityKind::CardFingerprint, 2)]),
            ClusterFacts { size: 4, fraud_accounts: 1, chargeback_accounts: 0 }
        );
        // Both clusters at once.
        assert_eq!(c.facts("E", &[k(EntityKind::CardFingerprint, 2), k(EntityKind::Device, 9)]).size, 5);
        // E-mail does not link (it is per account by nature).
        c.add("F", &[k(EntityKind::Email, 7)]);
        assert_eq!(c.facts("G", &[k(EntityKind::Email, 7)]).size, 1);
        // An IP shared by more than ten accounts is a hub.
        for i in 0..12 {
            c.add(&format!("N{i}"), &[k(EntityKind::Ip, 5)]);
        }
        assert!(c.of("N11").unwrap().size <= 11);
        assert_eq!(c.facts("Z", &[k(EntityKind::Ip, 5)]).size, 1);
        c.flag("C", true, true);
        assert_eq!(c.of("B"), Some(ClusterFacts { size: 3, fraud_accounts: 1, chargeback_accounts: 1 }));
    }
}
