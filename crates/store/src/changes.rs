//! Changes made by people: each area's change type, applied with its audit entries in one
//! transaction by [`ChangeStore::commit`] (or a proposal operation), in the SQL of its area.

use crate::{ListEntry, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::AuditEntry;

pub use crate::cases::CaseChange;
pub use crate::disputes::DisputeChange;
pub use crate::identity::IdentityChange;
pub use crate::knowledge::KnowledgeChange;
pub use crate::kpis::KpiChange;
pub use crate::privacy::PrivacyChange;
pub use crate::qa::QaChange;
pub use crate::review::ReviewChange;

/// One change, tagged with its area. Adding an area adds one variant. (A handful are built per
/// request, so the size of the largest variant does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Effect {
    Identity(IdentityChange),
    Review(ReviewChange),
    Lists(ListChange),
    Screening(ScreeningChange),
    Cases(CaseChange),
    Knowledge(KnowledgeChange),
    Disputes(DisputeChange),
    Qa(QaChange),
    Kpis(KpiChange),
    Privacy(PrivacyChange),
}

impl From<IdentityChange> for Effect {
    fn from(c: IdentityChange) -> Self {
        Self::Identity(c)
    }
}
impl From<ReviewChange> for Effect {
    fn from(c: ReviewChange) -> Self {
        Self::Review(c)
    }
}
impl From<CaseChange> for Effect {
    fn from(c: CaseChange) -> Self {
        Self::Cases(c)
    }
}
impl From<KnowledgeChange> for Effect {
    fn from(c: KnowledgeChange) -> Self {
        Self::Knowledge(c)
    }
}
impl From<DisputeChange> for Effect {
    fn from(c: DisputeChange) -> Self {
        Self::Disputes(c)
    }
}
impl From<QaChange> for Effect {
    fn from(c: QaChange) -> Self {
        Self::Qa(c)
    }
}
impl From<KpiChange> for Effect {
    fn from(c: KpiChange) -> Self {
        Self::Kpis(c)
    }
}
impl From<PrivacyChange> for Effect {
    fn from(c: PrivacyChange) -> Self {
        Self::Privacy(c)
    }
}
impl From<ListChange> for Effect {
    fn from(c: ListChange) -> Self {
        Self::Lists(c)
    }
}
impl From<ScreeningChange> for Effect {
    fn from(c: ScreeningChange) -> Self {
        Self::Screening(c)
    }
}

#[derive(Debug, Clone)]
pub enum ListChange {
    Add(Vec<ListEntry>),
    Remove { id: String, actor: String, at: DateTime<Utc> },
}

#[derive(Debug, Clone)]
pub enum ScreeningChange {
    Control {
        change: crate::ControlChange,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A new rule-set version under the number the caller chose (the next free one; a race
    /// with another writer fails on the key instead of overwriting).
    SaveRuleSet {
        version: i64,
        source: String,
        author: String,
        note: String,
        at: DateTime<Utc>,
    },
}

#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// Applies effects and appends the audit entries, sealed into the chain with `key`, in one
    /// transaction: either all of it is stored or none.
    async fn commit(&self, effects: &[Effect], audit: &[AuditEntry], key: &[u8]) -> StoreResult<()>;
}
