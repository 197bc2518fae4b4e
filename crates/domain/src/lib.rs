//! The pure domain of riskdesk: values that cross a boundary are parsed into newtypes once,
//! and everything after that works on types that cannot hold invalid data.
//!
//! No async, no I/O, no HTTP, no SQL: CI fails if this crate gains such a dependency.

/// Serialises a text newtype as its text. `#[serde(into = "String")]` cloned the value first: an
/// allocation and a copy for every id, e-mail and country of every order stored.
macro_rules! serialize_as_str {
    ($t:ty, $as_str:ident) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.$as_str())
            }
        }
    };
}

pub mod address;
pub mod clock;
pub mod country;
pub mod decision;
pub mod email;
pub mod entity;
pub mod error;
pub mod event;
pub mod ids;
pub mod intake;
pub mod money;
pub mod order;
pub mod phone;
pub mod text;
pub mod timestamp;
pub mod workspace;

pub use address::{Address, AddressKey};
pub use clock::{Clock, FixedClock};
pub use country::CountryCode;
pub use decision::{Decision, NotEvaluated, Reason, Verdict};
pub use email::Email;
pub use entity::{EntityHasher, EntityKey, EntityKind, EntityRef};
pub use error::FieldError;
pub use event::{Event, EventType};
pub use ids::{ApiKeyId, CustomerId, EventId, OrderId};
pub use money::{Currency, Money};
pub use order::{AttributeValue, Card, Customer, Device, Iban, Item, Order, Payment, PaymentMethod};
pub use phone::Phone;
