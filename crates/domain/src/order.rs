//! An order exactly as intake-v1 describes it, after parsing: every value checked, normalised
//! where matching needs it, and serialised back in the same wire shape.

use crate::{Address, CountryCode, CustomerId, Email, Money, OrderId, Phone};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: OrderId,
    /// With the offset the shop sent, so "unusual hour" can be judged in the customer's time.
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub placed_at: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub customer: Customer,
    pub total: Money,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    pub payment: Payment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promo_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, AttributeValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub customer_id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "crate::timestamp::option::serialize")]
    pub created_at: Option<DateTime<FixedOffset>>,
    /// The inviting account, for invitation-only shops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Card,
    Paypal,
    Invoice,
    Bnpl,
    SepaDebit,
    GiftCard,
    Other,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 7] =
        [Self::Card, Self::Paypal, Self::Invoice, Self::Bnpl, Self::SepaDebit, Self::GiftCard, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Paypal => "paypal",
            Self::Invoice => "invoice",
            Self::Bnpl => "bnpl",
            Self::SepaDebit => "sepa_debit",
            Self::GiftCard => "gift_card",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub method: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<Iban>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// Bank identification number: the first 6 or 8 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    /// The payment provider's fingerprint of the card number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_country: Option<CountryCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// A shop-specific signal: number, string or boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// An IBAN, upper case without spaces, with a valid ISO 13616 check sum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Iban(String);

serialize_as_str!(Iban, as_str);

impl Iban {
    pub fn parse(value: &str, field: impl std::fmt::Display + Copy) -> Result<Self, crate::FieldError> {
        let err = || crate::FieldError::new("invalid_iban", field, format!("{field} is not a valid IBAN"));
        let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if !(15..=34).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(err());
        }
        CountryCode::parse(&compact[..2], field).map_err(|_| err())?;
        if !compact[2..4].chars().all(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        // ISO 7064 mod 97-10 over the rearranged number, digit by digit to stay in u32.
        let rearranged = compact[4..].chars().chain(compact[..4].chars());
        let mut rem: u32 = 0;
        for c in rearranged {
            let v = c.to_digit(36).ok_or_else(err)?;
            rem = if v < 10 { (rem * 10 + v) % 97 } else { (rem * 100 + v) % 97 };
        }
        if rem != 1 {
            return Err(err());
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

impl TryFrom<String> for Iban {
    type Error = crate::FieldError;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Self::parse(&v, "iban")
    }
}

impl Order {
    pub fn customer_id(&self) -> &CustomerId {
        &self.customer.customer_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_checksum() {
        assert_eq!(Iban::parse("DE89 3704 0044 0532 0130 00", "i").unwrap().as_str(), "DE89370400440532013000");
        assert!(Iban::parse("GB82WEST12345698765432", "i").is_ok());
        assert_eq!(Iban::parse("DE89 3704 0044 0532 0130 01", "payment.iban").unwrap_err().code, "invalid_iban");
        assert!(Iban::parse("XX89370400440532013000", "i").is_err());
        assert!(Iban::parse("DE89", "i").is_err());
    }
}
