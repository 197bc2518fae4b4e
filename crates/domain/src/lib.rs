//! The pure domain of riskdesk: values that cross a boundary are parsed into newtypes once,
//! and everything after that works on types that cannot hold invalid data.
//!
//! No async, no I/O, no HTTP, no SQL: CI fails if this crate gains such a dependency.

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
