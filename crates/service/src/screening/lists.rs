//! Block and allow lists in memory. Entries are few (thousands) and read on every decision, so
//! each instance keeps an index and reloads it when the lists sequence in the database moves.
//! Values are normalised the way order entities are, and hashed kinds match on the same keyed
//! hash, so an e-mail on a list matches however the shop spells it.

use ipnet::IpNet;
use riskdesk_domain::{Address, CustomerId, Email, EntityHasher, EntityKey, EntityKind, Iban, Order, Phone};
use riskdesk_rules::needs::{ListKind, ListSpec, ListType};
use riskdesk_store::ListEntry;
use std::collections::HashMap;
use std::net::IpAddr;

/// Normalises a list value of `kind`; returns (value to show, match key) or what is wrong.
pub fn normalise(kind: ListKind, raw: &str, hasher: &EntityHasher) -> Result<(String, String), String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("the value is empty".into());
    }
    let hashed = |k: EntityKind, v: &str| hex::encode(hasher.hash(k, v).hash);
    Ok(match kind {
        ListKind::Email => {
            let e = Email::parse(raw, "value").map_err(|e| e.detail)?;
            (e.as_str().to_owned(), hashed(EntityKind::Email, &e.match_key()))
        }
        ListKind::EmailDomain => {
            let d = raw.trim_start_matches('@').to_ascii_lowercase();
            let ok = d.contains('.')
                && d.len() <= 253
                && d.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            if !ok {
                return Err(format!("{raw:?} is not a domain name"));
            }
            (d.clone(), d)
        }
        ListKind::Phone => {
            let p = Phone::try_from(raw.to_owned()).map_err(|e| e.detail)?;
            (p.as_str().to_owned(), hashed(EntityKind::Phone, p.as_str()))
        }
        ListKind::Device => (raw.to_owned(), hashed(EntityKind::Device, raw)),
        ListKind::Card => (raw.to_owned(), hashed(EntityKind::CardFingerprint, raw)),
        ListKind::Bin => {
            if !(6..=8).contains(&raw.len()) || !raw.bytes().all(|b| b.is_ascii_digit()) {
                return Err("a BIN is 6 to 8 digits".into());
            }
            (raw.to_owned(), raw.to_owned())
        }
        ListKind::Iban => {
            let i = Iban::try_from(raw.to_owned()).map_err(|e| e.detail)?;
            (i.as_str().to_owned(), hashed(EntityKind::Iban, i.as_str()))
        }
        ListKind::Ip => {
            let net: IpNet = match raw.parse::<IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => raw
                    .parse::<IpAddr>()
                    .map(|ip| IpNet::from(ip.to_canonical()))
                    .map_err(|_| format!("{raw:?} is neither an IP address nor a CIDR range"))?,
            };
            (net.to_string(), net.to_string())
        }
        ListKind::Address => {
            // "line1 | postal code | city | country", as on a parcel label.
            let parts: Vec<&str> = raw.split('|').map(str::trim).collect();
            let [line1, postal, city, country] = parts.as_slice() else {
                return Err("an address is written \"line1 | postal code | city | country\"".into());
            };
            let a = riskdesk_domain::address::parse_address(
                None,
                Some(*line1),
                None,
                Some(*postal),
                Some(*city),
                Some(*country),
                "value",
            )
            .map_err(|e| e.detail)?;
            let key = a.key().ok_or("the address has no street and postal code")?;
            (display(&a), hashed(EntityKind::ShippingAddress, key.as_str()))
        }
        ListKind::Customer => {
            let c = CustomerId::parse(raw, "value").map_err(|e| e.detail)?;
            (c.to_string(), c.to_string())
        }
    })
}

fn display(a: &Address) -> String {
    let f = |o: &Option<String>| o.clone().unwrap_or_default();
    format!(
        "{} | {} | {} | {}",
        f(&a.line1),
        f(&a.postal_code),
        f(&a.city),
        a.country.as_ref().map_or("", |c| c.as_str())
    )
}

#[derive(Debug, Clone, Copy)]
struct Validity {
    from_ms: i64,
    until_ms: Option<i64>,
}

impl Validity {
    fn active(&self, at_ms: i64) -> bool {
        self.from_ms <= at_ms && self.until_ms.is_none_or(|u| at_ms < u)
    }
}

/// The lists, indexed for look-up by (list, kind, match key).
#[derive(Debug, Default)]
pub struct ListIndex {
    /// (list, kind) → match key → validity of each entry: looked up by `&str`, no allocation.
    exact: HashMap<(ListType, ListKind), HashMap<String, Vec<Validity>>>,
    ranges: Vec<(ListType, IpNet, Validity)>,
    pub entries: usize,
}

/// An order's values as lists see them.
pub struct Probe {
    keys: Vec<(ListKind, String)>,
    ip: Option<IpAddr>,
}

impl Probe {
    pub fn of(order: &Order, entities: &[EntityKey]) -> Self {
        Self::from_parts(
            entities,
            order.customer.email.as_ref().map(|e| Self::domain(e.domain())),
            order.payment.card.as_ref().and_then(|c| c.bin.clone()),
            order.customer.customer_id.as_str(),
            order.device.as_ref().and_then(|d| d.ip),
        )
    }

    /// An e-mail domain as lists match it.
    pub fn domain(d: &str) -> String {
        d.to_ascii_lowercase()
    }

    /// From an order's parts, kept apart (the backtest index keeps them in columns).
    pub fn from_parts(
        entities: &[EntityKey],
        email_domain: Option<String>,
        bin: Option<String>,
        customer_id: &str,
        ip: Option<IpAddr>,
    ) -> Self {
        let mut keys = Vec::with_capacity(10);
        for e in entities {
            if let Some(kind) = Self::kind_of(e.kind) {
                keys.push((kind, hex::encode(e.hash)));
            }
        }
        if let Some(d) = email_domain {
            keys.push((ListKind::EmailDomain, d));
        }
        if let Some(bin) = bin {
            keys.push((ListKind::Bin, bin));
        }
        keys.push((ListKind::Customer, customer_id.to_owned()));
        Probe { keys, ip: ip.map(|ip| ip.to_canonical()) }
    }

    /// The list kind an entity is matched as; IPs are matched as addresses, wallets not at all.
    pub fn kind_of(kind: EntityKind) -> Option<ListKind> {
        Some(match kind {
            EntityKind::Email => ListKind::Email,
            EntityKind::Phone => ListKind::Phone,
            EntityKind::Device => ListKind::Device,
            EntityKind::CardFingerprint => ListKind::Card,
            EntityKind::Iban => ListKind::Iban,
            EntityKind::ShippingAddress | EntityKind::BillingAddress => ListKind::Address,
            EntityKind::Ip | EntityKind::Wallet => return None,
        })
    }
}

impl ListIndex {
    pub fn build(entries: &[ListEntry]) -> Self {
        let mut idx = ListIndex { entries: entries.len(), ..Self::default() };
        for e in entries {
            let v = Validity {
                from_ms: e.created_at.timestamp_millis(),
                until_ms: e.expires_at.map(|t| t.timestamp_millis()),
            };
            if e.kind == ListKind::Ip
                && let Ok(net) = e.match_key.parse::<IpNet>()
                && net.prefix_len() != net.max_prefix_len()
            {
                idx.ranges.push((e.list, net, v));
                continue;
            }
            let key = if e.kind == ListKind::Ip {
                e.match_key.parse::<IpNet>().map_or(e.match_key.clone(), |n| n.addr().to_string())
            } else {
                e.match_key.clone()
            };
            idx.exact.entry((e.list, e.kind)).or_default().entry(key).or_default().push(v);
        }
        idx
    }

    fn hit(&self, list: ListType, kind: ListKind, key: &str, at_ms: i64) -> bool {
        self.exact.get(&(list, kind)).and_then(|m| m.get(key)).is_some_and(|vs| vs.iter().any(|v| v.active(at_ms)))
    }

    /// Whether the order is on the list, as of `at_ms` (entries count from their creation until
    /// their expiry).
    pub fn matches(&self, spec: ListSpec, p: &Probe, at_ms: i64) -> bool {
        let kind_ok = |k: ListKind| spec.kind.is_none_or(|want| want == k);
        if p.keys.iter().any(|(k, key)| kind_ok(*k) && self.hit(spec.list, *k, key, at_ms)) {
            return true;
        }
        if kind_ok(ListKind::Ip)
            && let Some(ip) = p.ip
        {
            if self.hit(spec.list, ListKind::Ip, &ip.to_string(), at_ms) {
                return true;
            }
            return self.ranges.iter().any(|(l, net, v)| *l == spec.list && net.contains(&ip) && v.active(at_ms));
        }
        false
    }
}
