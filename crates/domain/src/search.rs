//! What a search box's text may be: an order id, a customer id, or an entity (e-mail, phone,
//! IBAN, IP address, device, card fingerprint, wallet) normalised as intake normalises it, so
//! that its keyed hash matches the stored ones. Nothing in clear is looked up or kept.

use crate::entity::{EntityKind, EntityRef};
use crate::{CustomerId, Email, Iban, OrderId, Phone};

/// The lookups a query calls for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookups {
    pub order_id: Option<OrderId>,
    pub customer_id: Option<CustomerId>,
    pub entities: Vec<EntityRef>,
}

/// Longest query taken.
pub const MAX_QUERY: usize = 200;

pub fn lookups(q: &str) -> Lookups {
    let q = q.trim();
    let mut out = Lookups::default();
    if q.is_empty() || q.len() > MAX_QUERY || q.chars().any(char::is_control) {
        return out;
    }
    out.order_id = OrderId::parse(q, "q").ok();
    out.customer_id = CustomerId::parse(q, "q").ok();
    let mut add = |kind, value: String| {
        if !value.is_empty() && !out.entities.iter().any(|e: &EntityRef| e.kind == kind && e.value == value) {
            out.entities.push(EntityRef { kind, value });
        }
    };
    if q.contains('@') {
        if let Ok(e) = Email::parse(q, "q") {
            add(EntityKind::Email, e.match_key());
        }
        return out;
    }
    if let Ok(ip) = q.parse::<std::net::IpAddr>() {
        add(EntityKind::Ip, ip.to_canonical().to_string());
        return out;
    }
    if let Ok(iban) = Iban::parse(q, "q") {
        add(EntityKind::Iban, iban.as_str().to_owned());
        return out;
    }
    let digits = q.chars().filter(char::is_ascii_digit).count();
    if (q.starts_with('+') || q.starts_with('0'))
        && digits >= 7
        && let Ok(p) = Phone::parse(q, "q")
    {
        add(EntityKind::Phone, p.as_str().to_owned());
    }
    if !q.contains(char::is_whitespace) {
        for kind in [EntityKind::Device, EntityKind::CardFingerprint, EntityKind::Wallet] {
            add(kind, q.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_text_finds_its_lookups() {
        let e = lookups("  Anna.Beispiel@Example.COM ");
        assert_eq!(e.entities.len(), 1);
        assert_eq!(e.entities[0].kind, EntityKind::Email);
        assert_eq!(lookups("DE89 3704 0044 0532 0130 00").entities[0].kind, EntityKind::Iban);
        assert_eq!(lookups("203.0.113.7").entities[0].kind, EntityKind::Ip);
        let phone = lookups("+49 30 1234567");
        assert_eq!(phone.entities[0].kind, EntityKind::Phone);
        let id = lookups("O-1001");
        assert!(id.order_id.is_some() && id.customer_id.is_some());
        assert!(id.entities.iter().any(|e| e.kind == EntityKind::Device));
        assert_eq!(lookups(""), Lookups::default());
        assert_eq!(lookups(&"x".repeat(201)), Lookups::default());
        assert_eq!(lookups("a\u{7}b"), Lookups::default());
    }
}
