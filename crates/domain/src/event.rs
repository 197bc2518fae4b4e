//! Lifecycle events of orders and accounts (intake-v1 `POST /events`).

use crate::{CustomerId, EventId, OrderId};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! event_types {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $name,)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(EventType::$variant),)* _ => None }
            }
        }
    };
}

event_types! {
    PaymentAuthorized => "payment_authorized",
    PaymentDeclined => "payment_declined",
    OrderShipped => "order_shipped",
    OrderDelivered => "order_delivered",
    OrderCancelled => "order_cancelled",
    ReturnRequested => "return_requested",
    ReturnReceived => "return_received",
    RefundIssued => "refund_issued",
    RefundClaimed => "refund_claimed",
    ChargebackReceived => "chargeback_received",
    Login => "login",
    PasswordChanged => "password_changed",
    EmailChanged => "email_changed",
    PhoneChanged => "phone_changed",
    AddressChanged => "address_changed",
    FraudConfirmed => "fraud_confirmed",
    LegitConfirmed => "legit_confirmed",
}

impl EventType {
    /// Ground-truth labels from investigations or the payment provider.
    pub fn is_label(self) -> bool {
        matches!(self, Self::FraudConfirmed | Self::LegitConfirmed)
    }

    /// Events that change who controls an account: the prelude of an account takeover.
    pub fn is_account_change(self) -> bool {
        matches!(self, Self::PasswordChanged | Self::EmailChanged | Self::PhoneChanged | Self::AddressChanged)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Kinds of refund claim (`refund_claimed.data.claim`).
pub const REFUND_CLAIMS: &[&str] = &["not_received", "empty_box", "wrong_item", "damaged"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub event_id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub occurred_at: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// Type-specific data, checked at intake (money parsed, claim kinds known).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub data: serde_json::Map<String, serde_json::Value>,
}
