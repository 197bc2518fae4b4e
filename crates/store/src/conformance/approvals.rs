//! Four-eye proposals.

#![allow(unused_imports)]
use super::*;
use crate::Store;
use crate::approvals::ProposalConflict;
use crate::audit::AuditFilter;
use crate::changes::{Effect, IdentityChange, ReviewChange};
use crate::identity::SessionRecord;
use crate::review::{QueueFilter, QueueSort, QueueState, ReviewActionRecord};
use chrono::Duration;
use riskdesk_domain::{Permission, Proposal, verify_chain};

/// One pending proposal per kind and target; writes are compare-and-set on the revision.
pub async fn proposals_one_pending_and_compare_and_set(store: &dyn Store) {
    let ttl = Duration::hours(1);
    let mk = |id: &str, at: DateTime<Utc>| {
        Proposal::new(
            id.into(),
            "cancel_order",
            Permission::ApproveOrderActions,
            "o1".into(),
            r#"{"order":"o1"}"#.into(),
            "user:ana",
            at,
            ttl,
        )
    };
    let p1 = mk("prp_1", t0());
    assert_eq!(store.create_proposal(&p1, &[], AUDIT_KEY).await.unwrap(), Ok(()));
    assert_eq!(
        store.create_proposal(&mk("prp_2", t0()), &[], AUDIT_KEY).await.unwrap(),
        Err(ProposalConflict::AlreadyPending)
    );
    let mut amended = store.proposal("prp_1").await.unwrap().unwrap();
    assert_eq!(amended, p1);
    amended.amend("user:ben", r#"{"order":"o1","note":"x"}"#.into(), t0()).unwrap();
    assert_eq!(store.update_proposal(&amended, 0, &[], &[], AUDIT_KEY).await.unwrap(), Ok(()));
    assert_eq!(
        store.update_proposal(&amended, 0, &[], &[], AUDIT_KEY).await.unwrap(),
        Err(ProposalConflict::Changed),
        "stale revision"
    );
    let stored = store.proposal("prp_1").await.unwrap().unwrap();
    assert_eq!(stored.makers, ["user:ana", "user:ben"]);
    assert_eq!(stored.revision, 1);
    // Expired: no longer blocks a new one.
    assert_eq!(store.create_proposal(&mk("prp_3", t0() + ttl), &[], AUDIT_KEY).await.unwrap(), Ok(()));
    assert_eq!(store.proposal("prp_1").await.unwrap().unwrap().status.as_str(), "expired");
    assert_eq!(store.proposals(true, 10).await.unwrap().iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["prp_3"]);
    assert_eq!(store.expire_proposals(t0() + ttl * 3).await.unwrap(), 1);
    assert!(store.proposals(true, 10).await.unwrap().is_empty());
    assert_eq!(store.proposals(false, 10).await.unwrap().len(), 2);
}
