//! Linkable entities: the identifiers that let riskdesk see that two accounts share a device,
//! a card, an IBAN, a phone, an IP or a place.
//!
//! Entities are stored as keyed hashes (HMAC-SHA-256 under a key kept outside the database,
//! truncated to 128 bits): equality — and so linking and velocity — works on the hashes alone,
//! while a copy of the database does not reveal the values, and personal fields can later be
//! encrypted at rest without touching how matching works.

use crate::Order;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// What an entity is. The number is its stable storage code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum EntityKind {
    Email = 1,
    Phone = 2,
    Device = 3,
    CardFingerprint = 4,
    Iban = 5,
    Ip = 6,
    ShippingAddress = 7,
    BillingAddress = 8,
    Wallet = 9,
}

impl EntityKind {
    pub const ALL: [EntityKind; 9] = [
        Self::Email,
        Self::Phone,
        Self::Device,
        Self::CardFingerprint,
        Self::Iban,
        Self::Ip,
        Self::ShippingAddress,
        Self::BillingAddress,
        Self::Wallet,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|k| i64::from(k.code()) == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Device => "device",
            Self::CardFingerprint => "card",
            Self::Iban => "iban",
            Self::Ip => "ip",
            Self::ShippingAddress => "shipping_address",
            Self::BillingAddress => "billing_address",
            Self::Wallet => "wallet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The value space the hash is taken in. Shipping and billing addresses share one, so that
    /// one account's billing address matches another's shipping address.
    fn hash_domain(self) -> &'static str {
        match self {
            Self::ShippingAddress | Self::BillingAddress => "address",
            other => other.as_str(),
        }
    }
}

impl serde::Serialize for EntityKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entity in clear, normalised for matching. Lives only in memory, on the way to the hasher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRef {
    pub kind: EntityKind,
    pub value: String,
}

/// The stored form of an entity: its kind and keyed hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey {
    pub kind: EntityKind,
    pub hash: [u8; 16],
}

/// Computes entity hashes under the installation's secret key.
#[derive(Clone)]
pub struct EntityHasher {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for EntityHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EntityHasher(<secret>)")
    }
}

impl EntityHasher {
    /// `key` must be at least 32 bytes of secret randomness.
    pub fn new(key: &[u8]) -> Self {
        assert!(key.len() >= 32, "entity key must have at least 32 bytes");
        // HMAC accepts keys of any length; the assertion above is the policy.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Self { mac }
    }

    pub fn hash(&self, kind: EntityKind, value: &str) -> EntityKey {
        let mut mac = self.mac.clone();
        mac.update(kind.hash_domain().as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut hash = [0u8; 16];
        hash.copy_from_slice(&out[..16]);
        EntityKey { kind, hash }
    }

    pub fn key_of(&self, e: &EntityRef) -> EntityKey {
        self.hash(e.kind, &e.value)
    }
}

impl Order {
    /// Every linkable entity of the order, normalised for matching, without duplicates.
    pub fn entities(&self) -> Vec<EntityRef> {
        let mut out = Vec::with_capacity(9);
        let mut push = |kind, value: String| {
            if !value.is_empty() {
                out.push(EntityRef { kind, value });
            }
        };
        if let Some(e) = &self.customer.email {
            push(EntityKind::Email, e.match_key());
        }
        if let Some(p) = &self.customer.phone {
            push(EntityKind::Phone, p.as_str().to_owned());
        }
        if let Some(d) = &self.device {
            if let Some(id) = &d.device_id {
                push(EntityKind::Device, id.clone());
            }
            if let Some(ip) = d.ip {
                push(EntityKind::Ip, ip.to_canonical().to_string());
            }
        }
        if let Some(c) = &self.payment.card
            && let Some(fp) = &c.fingerprint
        {
            push(EntityKind::CardFingerprint, fp.clone());
        }
        if let Some(i) = &self.payment.iban {
            push(EntityKind::Iban, i.as_str().to_owned());
        }
        if let Some(w) = &self.payment.wallet_id {
            push(EntityKind::Wallet, w.clone());
        }
        let shipping = self.shipping_address.as_ref().and_then(|a| a.key());
        // Most orders bill and ship to one place: its key is computed once.
        let billing = match (&self.billing_address, &self.shipping_address) {
            (Some(b), Some(s)) if b == s => shipping.clone(),
            (b, _) => b.as_ref().and_then(|a| a.key()),
        };
        if let Some(k) = shipping {
            push(EntityKind::ShippingAddress, k.into_string());
        }
        if let Some(k) = billing {
            push(EntityKind::BillingAddress, k.into_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_domain_separated() {
        let a = EntityHasher::new(&[1u8; 32]);
        let b = EntityHasher::new(&[2u8; 32]);
        assert_eq!(a.hash(EntityKind::Device, "d1"), a.hash(EntityKind::Device, "d1"));
        assert_ne!(a.hash(EntityKind::Device, "d1").hash, b.hash(EntityKind::Device, "d1").hash);
        assert_ne!(a.hash(EntityKind::Device, "x").hash, a.hash(EntityKind::Wallet, "x").hash);
        assert_eq!(
            a.hash(EntityKind::ShippingAddress, "DE|1|x|").hash,
            a.hash(EntityKind::BillingAddress, "DE|1|x|").hash
        );
    }

    #[test]
    fn kind_codes_are_stable() {
        for k in EntityKind::ALL {
            assert_eq!(EntityKind::from_code(i64::from(k.code())), Some(k));
            assert_eq!(EntityKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntityKind::CardFingerprint.code(), 4);
    }
}
