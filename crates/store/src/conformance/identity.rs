//! Users, sessions, sign-in failures, personal access tokens.

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

/// Sessions belong to a user and end; failed sign-ins are counted per subject and window.
pub async fn sessions_and_login_failures(store: &dyn Store) {
    store
        .commit(&[Effect::Identity(IdentityChange::CreateUser(user("ana", Role::TeamLead)))], &[], AUDIT_KEY)
        .await
        .unwrap();
    let s = SessionRecord {
        token_hash: vec![1; 32],
        user_id: "usr_ana".into(),
        csrf: "csrf".into(),
        created_at: t0(),
        last_seen_at: t0(),
        ended_at: None,
    };
    store.commit(&[Effect::Identity(IdentityChange::CreateSession(s.clone()))], &[], AUDIT_KEY).await.unwrap();
    let (got, u) = store.session(&[1; 32]).await.unwrap().unwrap();
    assert_eq!((got.csrf.as_str(), u.username.as_str(), u.role), ("csrf", "ana", Role::TeamLead));
    store.touch_session(&[1; 32], t0() + Duration::minutes(5)).await.unwrap();
    assert_eq!(store.session(&[1; 32]).await.unwrap().unwrap().0.last_seen_at, t0() + Duration::minutes(5));
    assert!(store.session(&[2; 32]).await.unwrap().is_none());
    store
        .commit(
            &[Effect::Identity(IdentityChange::DisableUser { user_id: "usr_ana".into(), at: t0() })],
            &[],
            AUDIT_KEY,
        )
        .await
        .unwrap();
    assert!(store.session(&[1; 32]).await.unwrap().is_none(), "disabling ends sessions");
    assert!(store.user_by_name("ana").await.unwrap().unwrap().disabled_at.is_some());

    let subjects = ["user:ana".to_owned(), "ip:10.0.0.1".to_owned()];
    for m in 0..3 {
        store.record_login_failure(&subjects, t0() + Duration::minutes(m)).await.unwrap();
    }
    assert_eq!(store.login_failures_since("user:ana", t0()).await.unwrap(), 3);
    assert_eq!(store.login_failures_since("user:ana", t0() + Duration::minutes(2)).await.unwrap(), 1);
    assert_eq!(store.login_failures_since("ip:10.0.0.2", t0()).await.unwrap(), 0);
}

/// A token resolves with its user and its state; revoking it is recorded, and a user's
/// tokens list newest first.
pub async fn tokens_resolve_with_their_user(store: &dyn Store) {
    use crate::identity::TokenRecord;
    store.commit(&[IdentityChange::CreateUser(user("ana", Role::FraudAnalyst)).into()], &[], AUDIT_KEY).await.unwrap();
    let token = |id: &str, hash: u8, minutes: i64| TokenRecord {
        id: id.into(),
        user_id: "usr_ana".into(),
        name: format!("token {id}"),
        secret_hash: vec![hash; 32],
        created_at: t0() + Duration::minutes(minutes),
        expires_at: Some(t0() + Duration::days(30)),
        revoked_at: None,
    };
    let audit_entry = audit("user:ana", "token.create", "user:ana", t0());
    store.commit(&[IdentityChange::CreateToken(token("tok_1", 1, 0)).into()], &[audit_entry], AUDIT_KEY).await.unwrap();
    store.commit(&[IdentityChange::CreateToken(token("tok_2", 2, 1)).into()], &[], AUDIT_KEY).await.unwrap();
    let (t, u) = store.token(&[1; 32]).await.unwrap().expect("the token is found by its hash");
    assert_eq!((t.id.as_str(), u.username.as_str(), u.role), ("tok_1", "ana", Role::FraudAnalyst));
    assert_eq!(t.expires_at, Some(t0() + Duration::days(30)));
    assert!(store.token(&[3; 32]).await.unwrap().is_none());
    assert_eq!(store.token_by_id("tok_2").await.unwrap().map(|t| t.name), Some("token tok_2".to_owned()));
    assert!(store.token_by_id("tok_9").await.unwrap().is_none());
    let ids: Vec<String> = store.tokens_of("usr_ana").await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["tok_2", "tok_1"]);
    store.commit(&[IdentityChange::RevokeToken { id: "tok_1".into(), at: t0() }.into()], &[], AUDIT_KEY).await.unwrap();
    assert_eq!(store.token(&[1; 32]).await.unwrap().unwrap().0.revoked_at, Some(t0()));
    assert!(store.token(&[2; 32]).await.unwrap().unwrap().0.revoked_at.is_none(), "only the one revoked");
}
