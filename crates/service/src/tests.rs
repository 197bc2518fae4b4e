use super::*;
use riskdesk_domain::FixedClock;
use riskdesk_store::conformance::{order_json, parse, t0};
use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};

async fn service(dir: &tempfile::TempDir, key: u8) -> ServiceResult<Service> {
    let store = SqliteStore::open(&dir.path().join("db"), SqliteOptions::default()).await?;
    Service::new(Arc::new(store), &[key; 32], Arc::new(FixedClock::new(t0()))).await
}

#[tokio::test]
async fn a_repeated_order_gets_its_first_answer() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir, 1).await.unwrap();
    let cap = access::local::intake();
    let first = svc.submit_order(&cap, parse(&order_json("A-1", "C-1", 0))).await.unwrap();
    assert_eq!(first.outcome, InsertOutcome::Inserted);
    let again = svc.submit_order(&cap, parse(&order_json("A-1", "C-1", 0))).await.unwrap();
    assert_eq!(again.outcome, InsertOutcome::Duplicate);
    assert_eq!(again.decision, first.decision);
}

#[tokio::test]
async fn another_entity_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(service(&dir, 1).await.unwrap());
    assert!(matches!(service(&dir, 2).await, Err(ServiceError::EntityKeyMismatch)));
    assert!(service(&dir, 1).await.is_ok());
}

#[tokio::test]
async fn keys_authenticate_by_scope_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir, 1).await.unwrap();
    let k = svc.create_api_key("shop", &[Scope::Intake]).await.unwrap();
    assert!(k.secret.starts_with("rdk_") && k.secret.len() == 68);
    let p = svc.authenticate(&k.secret).await.unwrap().expect("valid key");
    assert!(p.intake().is_some() && p.read().is_none());
    assert!(svc.authenticate("rdk_wrong").await.unwrap().is_none());
    assert!(svc.revoke_api_key(&k.record.id).await.unwrap());
    let fresh = Service { api_keys: Arc::default(), ..svc.clone() };
    assert!(fresh.authenticate(&k.secret).await.unwrap().is_none(), "revoked");
}

#[tokio::test]
async fn linked_accounts_through_a_shared_device() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir, 1).await.unwrap();
    let mut a = order_json("A-1", "C-1", 0);
    a["device"]["device_id"] = serde_json::json!("shared");
    let mut b = order_json("A-2", "C-2", 5);
    b["device"]["device_id"] = serde_json::json!("shared");
    svc.import_orders(&access::local::intake(), vec![parse(&a), parse(&b)]).await.unwrap();
    let links = svc.linked_accounts(&access::local::read(), &CustomerId::parse("C-1", "c").unwrap()).await.unwrap();
    // device and the shared shipping address
    let kinds: Vec<_> = links.iter().map(|(k, _)| k.kind.as_str()).collect();
    assert!(kinds.contains(&"device") && kinds.contains(&"shipping_address"), "{kinds:?}");
    assert!(links.iter().all(|(_, uses)| uses.iter().all(|u| u.customer_id.as_str() == "C-2")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_are_group_committed_with_their_own_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir, 1).await.unwrap();
    // 200 distinct orders, each submitted twice at once: exactly one of each pair stores it.
    let mut tasks = Vec::new();
    for i in 0..400 {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            let order = parse(&order_json(&format!("A-{}", i % 200), &format!("C-{}", i % 7), i % 200));
            svc.submit_order(&access::local::intake(), order).await.unwrap()
        }));
    }
    let mut stored = std::collections::HashMap::new();
    for t in tasks {
        let s = t.await.unwrap();
        if s.outcome == InsertOutcome::Inserted {
            *stored.entry(s.decision.order_id.to_string()).or_insert(0) += 1;
        }
    }
    assert_eq!(stored.len(), 200);
    assert!(stored.values().all(|n| *n == 1));
    assert_eq!(svc.store().counts().await.unwrap().orders, 200);
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_timeouts_and_on_logout() {
    use riskdesk_domain::Role;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db"), SqliteOptions::default()).await.unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let svc = Service::new(Arc::new(store), &[1; 32], clock.clone()).await.unwrap();
    svc.add_user(&access::local::user_admin(), "ana", "Ana", Role::FraudAnalyst, "long-enough-password").await.unwrap();
    let cfg = svc.settings();
    let login = || async { svc.login("ana", "long-enough-password", "10.0.0.1").await.unwrap().unwrap() };

    // Idle: used every 20 minutes the session lives on; 31 minutes of silence end it.
    let token = login().await;
    for _ in 0..3 {
        clock.advance(chrono::Duration::minutes(20));
        assert!(svc.session(&token.0).await.unwrap().is_some());
    }
    clock.advance(cfg.session_idle + chrono::Duration::minutes(1));
    assert!(svc.session(&token.0).await.unwrap().is_none(), "idle timeout");

    // Absolute: even a busy session ends after 12 hours.
    let token = login().await;
    let mut alive = chrono::Duration::zero();
    while alive < cfg.session_absolute - chrono::Duration::minutes(20) {
        clock.advance(chrono::Duration::minutes(20));
        alive += chrono::Duration::minutes(20);
        assert!(svc.session(&token.0).await.unwrap().is_some());
    }
    clock.advance(chrono::Duration::minutes(25));
    assert!(svc.session(&token.0).await.unwrap().is_none(), "absolute timeout");

    // Sign-out ends it at once; an unknown token is nobody.
    let token = login().await;
    svc.logout(&token.0).await.unwrap();
    assert!(svc.session(&token.0).await.unwrap().is_none());
    assert!(svc.session("forged").await.unwrap().is_none());

    // The password is checked; failures are counted and then throttle even the right password.
    assert_eq!(svc.login("ana", "wrong-password!", "10.0.0.2").await.unwrap().err(), Some(crate::LoginError::Invalid));
    for _ in 0..4 {
        svc.login("ana", "wrong-password!", "10.0.0.2").await.unwrap().ok();
    }
    assert_eq!(
        svc.login("ana", "long-enough-password", "10.0.0.3").await.unwrap().err(),
        Some(crate::LoginError::Throttled)
    );
    clock.advance(cfg.login_window + chrono::Duration::minutes(1));
    let token = svc.login("ana", "long-enough-password", "10.0.0.3").await.unwrap().expect("the window passed");

    // A disabled account loses its sessions at once and cannot sign in; a new password works.
    let admin = access::local::user_admin();
    svc.disable_user(&admin, "ana").await.unwrap();
    assert!(svc.session(&token.0).await.unwrap().is_none());
    assert_eq!(
        svc.login("ana", "long-enough-password", "10.0.0.4").await.unwrap().err(),
        Some(crate::LoginError::Invalid)
    );
    svc.add_user(&admin, "ben", "Ben", Role::RiskExpert, "first-password-1").await.unwrap();
    assert!(svc.set_password(&admin, "ben", "short").await.is_err());
    svc.set_password(&admin, "ben", "second-password-2").await.unwrap();
    assert!(svc.login("ben", "first-password-1", "10.0.0.5").await.unwrap().is_err());
    assert!(svc.login("ben", "second-password-2", "10.0.0.5").await.unwrap().is_ok());
}
