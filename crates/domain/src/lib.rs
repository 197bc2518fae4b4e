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
/// Four eyes: proposals holding their exact payload, approved by a second person.
pub mod approvals;
/// The audit chain: entries, their keyed hash and its verification.
pub mod audit;
/// Cases: kinds, the state machine, SLA clocks over business calendars.
#[macro_use]
pub mod cases;
pub mod clock;
pub mod country;
pub mod decision;
/// Disputes: one lifecycle across providers, their signatures, evidence, CE 3.0, scheme ratios.
pub mod disputes;
pub mod email;
pub mod entity;
pub mod error;
pub mod event;
/// Who may do what: roles and permissions.
pub mod identity;
pub mod ids;
pub mod intake;
/// SOPs, playbooks and FAQ pages: kinds, addresses, a playbook's checklist.
pub mod knowledge;
/// KPIs: the catalogue, an order's facts, periods in the controller's zone, trend alerts.
pub mod kpis;
/// How personal data is masked for display.
pub mod masking;
pub mod money;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod order;
pub mod phone;
/// Privacy operations: rights, the statutory clock, retention classes, erasure, breaches.
pub mod privacy;
/// Quality assurance of Tier-2 handlings: intake checks, sampling, scorecards, agreement.
pub mod qa;
/// The review vocabulary: actions, reason codes, the SLA per channel.
pub mod review;
/// What a search box's text is: ids, or entities normalised for their keyed hashes.
pub mod search;
pub mod text;
pub mod timestamp;
pub mod whole;

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

pub use approvals::{Proposal, ProposalStatus, Refusal};
pub use audit::{AuditEntry, AuditRecord, ChainProblem, chain_hash, verify_chain};
pub use identity::{Permission, Role};
pub use masking::{mask_email, mask_iban, mask_ip, mask_name, mask_phone, mask_text};
pub use review::{ReviewAction, ReviewReason, SlaPolicy};
