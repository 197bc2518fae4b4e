//! The review queue.

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

/// Review decisions fill the queue; filters, sort by cut-off or risk, stats; claims; a review
/// closes an item once.
pub async fn review_queue_fills_filters_and_closes_once(store: &dyn Store) {
    let batch = [
        review_order("Q-1", "C-1", 0, "webshop", &["device_burst"], 60),
        review_order("Q-2", "C-2", 10, "app", &["country_mismatch", "device_burst"], 90),
        review_order("Q-3", "C-3", 20, "amazon", &["new_account"], 45),
        new_order(&order_json("A-1", "C-4", 30)),
    ];
    store.insert_orders(&batch).await.unwrap();
    let all = QueueFilter { limit: 50, ..QueueFilter::default() };
    let (items, total) = store.review_queue(&all, &sla()).await.unwrap();
    assert_eq!(total, 3, "approved orders are not in review");
    // Cut-off: webshop +60 min (Q-1 at 60), amazon default +120 (Q-3 at 140), app +240 (Q-2 at 250).
    assert_eq!(items.iter().map(|i| i.order_id.as_str()).collect::<Vec<_>>(), ["Q-1", "Q-3", "Q-2"]);
    assert_eq!(items[0].due_at, t0() + Duration::minutes(60));
    assert_eq!(items[1].rules, ["new_account"]);
    let by_risk = QueueFilter { sort: QueueSort::Risk, ..all.clone() };
    assert_eq!(store.review_queue(&by_risk, &sla()).await.unwrap().0[0].order_id, "Q-2");
    let rule = QueueFilter { rule: Some("device_burst".into()), ..all.clone() };
    assert_eq!(store.review_queue(&rule, &sla()).await.unwrap().1, 2);
    let partial = QueueFilter { rule: Some("device".into()), ..all.clone() };
    assert_eq!(store.review_queue(&partial, &sla()).await.unwrap().1, 0, "rule ids match whole");
    let channel = QueueFilter { channel: Some("app".into()), min_minor: Some(20_000), ..all.clone() };
    assert_eq!(store.review_queue(&channel, &sla()).await.unwrap().1, 1);
    let stats = store.queue_stats(t0() + Duration::minutes(100), t0(), &sla()).await.unwrap();
    assert_eq!((stats.open, stats.held, stats.breached), (3, 0, 1));
    assert_eq!(stats.oldest_placed_at, Some(t0()));
    let (channels, countries, _) = store.queue_facets().await.unwrap();
    assert_eq!((channels.len(), countries), (3, vec!["DE".to_owned()]));

    store
        .commit(
            &[Effect::Review(ReviewChange::Claim {
                order_id: "Q-1".into(),
                user: Some("ana".into()),
                at: t0(),
                unless_held_by_other: Some("ana".into()),
            })],
            &[],
            AUDIT_KEY,
        )
        .await
        .unwrap();
    let mine = QueueFilter { claimed_by: Some("ana".into()), ..all.clone() };
    assert_eq!(store.review_queue(&mine, &sla()).await.unwrap().0[0].order_id, "Q-1");
    // Claims lock where they are written: another person's claim, or their direct decision, is
    // refused while ana holds it.
    let ben_claims = store
        .commit(
            &[Effect::Review(ReviewChange::Claim {
                order_id: "Q-1".into(),
                user: Some("ben".into()),
                at: t0(),
                unless_held_by_other: Some("ben".into()),
            })],
            &[],
            AUDIT_KEY,
        )
        .await;
    assert!(matches!(ben_claims, Err(crate::StoreError::Conflict(_))), "{ben_claims:?}");
    let ben_decides = store
        .commit(
            &[Effect::Review(ReviewChange::Review {
                action: ReviewActionRecord {
                    id: "rva_ben".into(),
                    order_id: "Q-1".into(),
                    action: "release".into(),
                    reason: "verified_customer".into(),
                    note: String::new(),
                    actor: "user:ben".into(),
                    at: t0() + Duration::minutes(4),
                    proposal_id: None,
                },
                decision: None,
                label: None,
                outbox: Vec::new(),
                state: QueueState::Closed,
            })],
            &[],
            AUDIT_KEY,
        )
        .await;
    assert!(
        matches!(ben_decides, Err(crate::StoreError::Conflict(ref m)) if m.contains("claimed by ana")),
        "{ben_decides:?}"
    );
    assert_eq!(store.review_actions("Q-1").await.unwrap().len(), 0, "nothing of ben's decision stored");
    let review = |state: QueueState, id: &str| {
        Effect::Review(ReviewChange::Review {
            action: ReviewActionRecord {
                id: id.into(),
                order_id: "Q-1".into(),
                action: "release".into(),
                reason: "verified_customer".into(),
                note: "called".into(),
                actor: "user:ana".into(),
                at: t0() + Duration::minutes(5),
                proposal_id: None,
            },
            decision: None,
            label: None,
            outbox: Vec::new(),
            state,
        })
    };
    store.commit(&[review(QueueState::Held, "rva_1")], &[], AUDIT_KEY).await.unwrap();
    store.commit(&[review(QueueState::Closed, "rva_2")], &[], AUDIT_KEY).await.unwrap();
    let again = store.commit(&[review(QueueState::Closed, "rva_3")], &[], AUDIT_KEY).await;
    assert!(matches!(again, Err(crate::StoreError::Conflict(_))), "decided once: {again:?}");
    assert_eq!(store.review_actions("Q-1").await.unwrap().len(), 2);
    assert_eq!(store.review_queue(&all, &sla()).await.unwrap().1, 2);
    assert_eq!(store.queue_stats(t0(), t0(), &sla()).await.unwrap().decided_since, 2);
}
