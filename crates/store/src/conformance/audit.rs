//! The audit chain.

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

/// The audit chain: appends in sequence across commits, verifies, filters; a failed change
/// leaves no audit record behind.
pub async fn audit_chain_appends_atomically(store: &dyn Store) {
    store.commit(&[], &[audit("user:ana", "session.login", "user:ana", t0())], AUDIT_KEY).await.unwrap();
    let two = [
        audit("user:ana", "personal_data.unmask", "order:o1", t0() + Duration::seconds(1)),
        audit("user:ben", "order.release", "order:o2", t0() + Duration::seconds(2)),
    ];
    store
        .commit(&[Effect::Identity(IdentityChange::CreateUser(user("ana", Role::FraudAnalyst)))], &two, AUDIT_KEY)
        .await
        .unwrap();
    let chain = store.audit_chain(0, 100).await.unwrap();
    assert_eq!(chain.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let (head_seq, head_hash) = store.audit_head().await.unwrap();
    assert_eq!(head_seq, 3);
    assert!(verify_chain(AUDIT_KEY, &chain, Some((head_seq, &head_hash))).is_empty());
    // A change that fails (deciding an order that is not in review) stores neither the change
    // nor its audit record.
    let action = ReviewActionRecord {
        id: "rva_1".into(),
        order_id: "nope".into(),
        action: "release".into(),
        reason: "verified_customer".into(),
        note: String::new(),
        actor: "user:ana".into(),
        at: t0(),
        proposal_id: None,
    };
    let effect = Effect::Review(ReviewChange::Review {
        action,
        decision: None,
        label: None,
        outbox: Vec::new(),
        state: QueueState::Closed,
    });
    let err = store.commit(&[effect], &[audit("user:ana", "order.release", "order:nope", t0())], AUDIT_KEY).await;
    assert!(matches!(err, Err(crate::StoreError::Conflict(_))), "{err:?}");
    assert_eq!(store.audit_head().await.unwrap().0, 3);
    // Filters: actor, action, subject prefix, paging.
    let f = |actor: Option<&str>, action: Option<&str>, subject: Option<&str>, before: Option<i64>| AuditFilter {
        actor: actor.map(str::to_owned),
        action: action.map(str::to_owned),
        subject: subject.map(str::to_owned),
        before_seq: before,
        limit: 10,
        ..AuditFilter::default()
    };
    assert_eq!(store.audit_records(&f(Some("user:ana"), None, None, None)).await.unwrap().len(), 2);
    assert_eq!(store.audit_records(&f(None, Some("order.release"), None, None)).await.unwrap()[0].seq, 3);
    assert_eq!(store.audit_records(&f(None, None, Some("order:"), None)).await.unwrap().len(), 2);
    assert_eq!(store.audit_records(&f(None, None, Some("order:o1"), None)).await.unwrap().len(), 1);
    assert_eq!(store.audit_records(&f(None, None, Some("%"), None)).await.unwrap().len(), 0, "no wildcards");
    let newest_first: Vec<i64> =
        store.audit_records(&f(None, None, None, Some(3))).await.unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(newest_first, [2, 1]);
    assert_eq!(store.users().await.unwrap().len(), 1);
}
