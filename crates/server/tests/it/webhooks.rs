//! Webhooks end to end: decisions and re-decisions reach a real HTTP receiver, signed per
//! Standard Webhooks; a failing receiver gets the message again after a backoff; nothing is sent
//! twice once delivered.

use crate::common::*;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use riskdesk_service::webhooks::{Endpoint, Policy, Webhooks, verify};
use riskdesk_service::{Scope, Service, SystemClock};
use riskdesk_store::conformance::order_json;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inbox {
    received: Vec<(String, String, serde_json::Value)>,
    fail_next: usize,
}

async fn receive(State(inbox): State<Arc<Mutex<Inbox>>>, headers: HeaderMap, body: String) -> StatusCode {
    let mut i = inbox.lock().unwrap();
    if i.fail_next > 0 {
        i.fail_next -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let key = base64::engine::general_purpose::STANDARD.decode("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMy").unwrap();
    let ts: i64 = h("webhook-timestamp").parse().unwrap();
    assert!(verify(&key, &h("webhook-id"), ts, &body, &h("webhook-signature")), "bad signature");
    i.received.push((h("webhook-id"), h("webhook-signature"), serde_json::from_str(&body).unwrap()));
    StatusCode::NO_CONTENT
}

async fn run(store: Arc<dyn riskdesk_store::Store>) {
    let inbox = Arc::new(Mutex::new(Inbox { fail_next: 1, ..Inbox::default() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = Router::new().route("/hooks", post(receive)).with_state(inbox.clone());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let service = Service::new(store, &[3u8; 32], Arc::new(SystemClock)).await.unwrap();
    let endpoint = Endpoint {
        name: "shop".into(),
        url: format!("http://{addr}/hooks"),
        secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMy".into(),
    };
    let policy = Policy { first_retry: chrono::Duration::milliseconds(200), ..Policy::default() };
    service.set_webhooks(Webhooks { endpoints: vec![endpoint], policy }).unwrap();
    let key = service.create_api_key("shop", &[Scope::Intake, Scope::Read]).await.unwrap().secret;
    let cfg = riskdesk_server::config::Config::load(None, &riskdesk_server::config::Overrides::default()).unwrap();
    let app = TestApp {
        router: riskdesk_server::http::router(service.clone(), &cfg),
        intake_key: key.clone(),
        read_key: key.clone(),
        full_key: key.clone(),
        rules_key: key,
        service: service.clone(),
        // Unused here: this service runs on the system clock.
        clock: Arc::new(riskdesk_domain::FixedClock::new(chrono::Utc::now())),
        _guard: Guard::None,
    };
    let now = chrono::Utc::now();
    let mut o = order_json("W-1", "CW", 0);
    o["placed_at"] = serde_json::json!(now.to_rfc3339());
    let (s, d) = app.post("/api/v1/orders", &o).await;
    assert_eq!(s, StatusCode::OK, "{d}");

    let client = reqwest::Client::new();
    // First attempt: the receiver answers 503; the message waits for its retry.
    assert_eq!(service.deliver_webhooks_once(&client).await.unwrap(), 1);
    assert!(inbox.lock().unwrap().received.is_empty());
    let c = service.store().outbox_counts().await.unwrap();
    assert_eq!((c.pending, c.delivered), (1, 0));
    assert_eq!(service.deliver_webhooks_once(&client).await.unwrap(), 0, "not due before the backoff");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(service.deliver_webhooks_once(&client).await.unwrap(), 1);
    {
        let i = inbox.lock().unwrap();
        assert_eq!(i.received.len(), 1);
        let (id, sig, body) = &i.received[0];
        assert!(id.starts_with("msg_") && sig.starts_with("v1,"));
        assert_eq!(body["type"], "order.decided");
        assert_eq!(body["data"]["order_id"], "W-1");
        assert_eq!(body["data"]["decision"], d["decision"]);
    }
    let c = service.store().outbox_counts().await.unwrap();
    assert_eq!((c.pending, c.delivered, c.failed), (0, 1, 0));
    assert_eq!(service.deliver_webhooks_once(&client).await.unwrap(), 0, "delivered once, never again");

    // A re-decision is announced too.
    let ev = serde_json::json!({"event_id": "E-W", "type": "password_changed",
        "occurred_at": (now + chrono::Duration::seconds(1)).to_rfc3339(), "customer_id": "CW"});
    assert_eq!(app.post("/api/v1/events", &ev).await.0, StatusCode::ACCEPTED);
    assert_eq!(service.deliver_webhooks_once(&client).await.unwrap(), 1);
    let i = inbox.lock().unwrap();
    assert_eq!(i.received.len(), 2);
    assert_eq!(i.received[1].2["type"], "order.redecided");
}

#[tokio::test]
async fn webhooks_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = riskdesk_store_sqlite::SqliteStore::open(&dir.path().join("db"), Default::default()).await.unwrap();
    run(Arc::new(store)).await;
}

#[tokio::test]
async fn webhooks_postgres() {
    let Some(db) = riskdesk_store_postgres::testing::fresh_database().await else { return };
    let store = riskdesk_store_postgres::PgStore::connect(&db.url, 4).await.unwrap();
    run(Arc::new(store)).await;
}
