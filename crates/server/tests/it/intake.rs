//! API integration tests: the real router over a real store (SQLite always, PostgreSQL when
//! RISKDESK_TEST_POSTGRES_URL is set), each test with a fresh database.

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use riskdesk_store::conformance::order_json;
use serde_json::{Value, json};
use tower::ServiceExt;

both_backends!(order_intake_round_trip, |app: TestApp| async move {
    let order = order_json("A-1001", "C-77", 0);
    let (s, first) = app.post("/api/v1/orders", &order).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["order_id"], "A-1001");
    // A fresh installation screens with the starter pack, published as version 1.
    assert_eq!(first["ruleset_version"], 1);
    assert_eq!(first["decision"], "approve", "{first}");
    let reasons = first["reasons"].as_array().unwrap();
    let points: i64 = reasons.iter().map(|r| r["points"].as_i64().unwrap()).sum();
    assert_eq!(first["score"].as_i64().unwrap(), points.clamp(0, 100), "{first}");
    for r in reasons {
        assert!(
            r["rule"].is_string() && r["action"].is_string() && r["detail"].as_str().unwrap().contains(" = "),
            "{r}"
        );
    }
    assert!(first["decided_at"].as_str().unwrap().ends_with('Z'));
    // idempotent: the same answer, nothing stored twice
    let (s, again) = app.post("/api/v1/orders", &order).await;
    assert_eq!((s, &again), (StatusCode::OK, &first));

    let (s, got) = app.get("/api/v1/orders/A-1001").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["order"]["customer"]["email"], "C-77@example.com");
    assert_eq!(got["order"]["total"], json!({"amount": "249.90", "currency": "EUR"}));
    assert_eq!(got["decisions"].as_array().unwrap().len(), 1);

    let ev = json!({"event_id": "E-1", "type": "chargeback_received", "occurred_at": "2026-12-02T08:00:00Z",
                    "order_id": "A-1001", "data": {"reason_code": "10.4", "amount": {"amount": "249.90", "currency": "EUR"}}});
    let (s, ack) = app.post("/api/v1/events", &ev).await;
    assert_eq!((s, ack["status"].as_str()), (StatusCode::ACCEPTED, Some("accepted")));
    let (s, ack) = app.post("/api/v1/events", &ev).await;
    assert_eq!((s, ack["status"].as_str()), (StatusCode::ACCEPTED, Some("duplicate")));

    let (_, got) = app.get("/api/v1/orders/A-1001").await;
    assert_eq!(got["events"][0]["type"], "chargeback_received");
    assert_eq!(got["events"][0]["customer_id"], "C-77");

    let (s, c) = app.get("/api/v1/customers/C-77").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c["order_count"], 1);
    assert_eq!(c["orders"][0]["order_id"], "A-1001");
    assert_eq!(c["events"].as_array().unwrap().len(), 1);

    assert_eq!(app.get("/api/v1/orders/nope").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/customers/nope").await.0, StatusCode::NOT_FOUND);
});

/// Sends a hostile body and checks the status, code and field, and that nothing was stored.
async fn refused(app: &TestApp, body: Vec<u8>, status: StatusCode, code: &str, field: Option<&str>) {
    let (s, err) = app.call("POST", "/api/v1/orders", Some(&app.full_key), Some(body)).await;
    assert_eq!(s, status, "{err}");
    assert_eq!(err["code"], code, "{err}");
    assert_eq!(err["field"].as_str(), field, "{err}");
    assert!(err["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(app.get("/api/v1/orders/A-1").await.0, StatusCode::NOT_FOUND, "nothing stored for {code}");
}

fn with(mutate: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = order_json("A-1", "C-1", 0);
    mutate(&mut v);
    serde_json::to_vec(&v).unwrap()
}

both_backends!(hostile_orders_are_refused_and_nothing_is_stored, |app: TestApp| async move {
    let u = StatusCode::UNPROCESSABLE_ENTITY;
    refused(&app, b"{\"order_id\": \"A-1\",".to_vec(), StatusCode::BAD_REQUEST, "malformed_json", None).await;
    refused(
        &app,
        b"{\"order_id\": \"A-1\", \"customer\": {\"name\": \"\xff\xfe\"}}".to_vec(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
        None,
    )
    .await;
    refused(&app, with(|v| v["total"]["amount"] = json!(249.9)), u, "invalid_amount", Some("total.amount")).await;
    refused(&app, with(|v| v["total"]["amount"] = json!("-1.00")), u, "negative_amount", Some("total.amount")).await;
    refused(&app, with(|v| v["total"]["amount"] = json!("zwölf")), u, "invalid_amount", Some("total.amount")).await;
    refused(&app, with(|v| v["total"]["currency"] = json!("ABC")), u, "unknown_currency", Some("total.currency")).await;
    refused(
        &app,
        with(|v| v["shipping_address"]["country"] = json!("XX")),
        u,
        "unknown_country",
        Some("shipping_address.country"),
    )
    .await;
    refused(&app, with(|v| v["customer"]["email"] = json!(42)), u, "invalid_type", Some("customer.email")).await;
    refused(
        &app,
        with(|v| {
            v.as_object_mut().unwrap().remove("placed_at");
        }),
        u,
        "missing_field",
        Some("placed_at"),
    )
    .await;
    refused(
        &app,
        with(|v| {
            v["customer"].as_object_mut().unwrap().remove("customer_id");
        }),
        u,
        "missing_field",
        Some("customer.customer_id"),
    )
    .await;
    refused(
        &app,
        with(|v| v["customer"]["name"] = json!("Anna\u{0000}Beispiel")),
        u,
        "invalid_characters",
        Some("customer.name"),
    )
    .await;
    refused(
        &app,
        with(|v| v["shipping_address"]["line1"] = json!("Torstr. 1\u{202E}")),
        u,
        "invalid_characters",
        Some("shipping_address.line1"),
    )
    .await;
    refused(&app, with(|v| v["order_id"] = json!("A-1'; DROP TABLE orders;--")), u, "invalid_id", Some("order_id"))
        .await;
    refused(&app, with(|v| v["order_id"] = json!("<script>alert(1)</script>")), u, "invalid_id", Some("order_id"))
        .await;
    refused(
        &app,
        with(|v| v["items"] = Value::Array(vec![json!({"quantity": 1}); 10_000])),
        u,
        "too_many_items",
        Some("items"),
    )
    .await;
    // one bad item among good ones: the whole order is refused
    refused(
        &app,
        with(|v| v["items"][0]["unit_price"]["amount"] = json!("1.999")),
        u,
        "too_many_decimals",
        Some("items[0].unit_price.amount"),
    )
    .await;
    // 10 MB body
    let big = with(|v| v["customer"]["name"] = json!("x".repeat(10 * 1024 * 1024)));
    refused(&app, big, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", None).await;
    // the store is intact and still works
    assert_eq!(app.post("/api/v1/orders", &order_json("A-2", "C-2", 0)).await.0, StatusCode::OK);
});

both_backends!(sql_looking_text_is_stored_inert, |app: TestApp| async move {
    let evil = "Robert'); DROP TABLE orders;-- ' OR '1'='1";
    let mut v = order_json("A-1", "C-1", 0);
    v["customer"]["name"] = json!(evil);
    v["shipping_address"]["city"] = json!("x'); DELETE FROM customers; --");
    assert_eq!(app.post("/api/v1/orders", &v).await.0, StatusCode::OK);
    let (_, got) = app.get("/api/v1/orders/A-1").await;
    assert_eq!(got["order"]["customer"]["name"], evil);
    assert_eq!(got["order"]["shipping_address"]["city"], "x'); DELETE FROM customers; --");
    assert_eq!(app.post("/api/v1/orders", &order_json("A-2", "C-2", 0)).await.0, StatusCode::OK);
    assert_eq!(app.get("/api/v1/customers/C-1").await.0, StatusCode::OK);
});

both_backends!(bad_events_are_refused, |app: TestApp| async move {
    let cases = [
        (json!({"type": "login", "occurred_at": "2026-01-01T00:00:00Z", "order_id": "A"}), "missing_field", "event_id"),
        (
            json!({"event_id": "E-9", "type": "teleport", "occurred_at": "2026-01-01T00:00:00Z", "order_id": "A"}),
            "invalid_enum",
            "type",
        ),
        (
            json!({"event_id": "E-9", "type": "login", "occurred_at": "yesterday", "order_id": "A"}),
            "invalid_timestamp",
            "occurred_at",
        ),
        (
            json!({"event_id": "E-9", "type": "login", "occurred_at": "2026-01-01T00:00:00Z"}),
            "missing_field",
            "order_id",
        ),
        (
            json!({"event_id": "E-9", "type": "refund_issued", "occurred_at": "2026-01-01T00:00:00Z", "order_id": "A",
                "data": {"amount": {"amount": "1.00", "currency": "EURO"}}}),
            "unknown_currency",
            "data.amount.currency",
        ),
    ];
    for (body, code, field) in cases {
        let (s, err) = app.post("/api/v1/events", &body).await;
        assert_eq!(
            (s, err["code"].as_str(), err["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some(field))
        );
    }
    let (_, c) = app.call("GET", "/api/v1/orders/A", Some(&app.full_key), None).await;
    assert_eq!(c["code"], "not_found");
});

both_backends!(keys_and_scopes, |app: TestApp| async move {
    let body = serde_json::to_vec(&order_json("A-1", "C-1", 0)).unwrap();
    for key in [None, Some("rdk_not_a_key"), Some("")] {
        let (s, err) = app.call("POST", "/api/v1/orders", key, Some(body.clone())).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(
            err,
            json!({"code": "unauthorized", "detail": "a valid API key is required (Authorization: Bearer …)", "field": null})
        );
    }
    // 401 reveals nothing: an existing and a missing order look the same
    app.post("/api/v1/orders", &order_json("A-9", "C-9", 0)).await;
    let (s1, b1) = app.call("GET", "/api/v1/orders/A-9", None, None).await;
    let (s2, b2) = app.call("GET", "/api/v1/orders/A-404", None, None).await;
    assert_eq!((s1, &b1), (s2, &b2));
    // scopes
    assert_eq!(
        app.call("POST", "/api/v1/orders", Some(&app.read_key), Some(body.clone())).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.call("GET", "/api/v1/orders/A-9", Some(&app.intake_key), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.call("POST", "/api/v1/orders", Some(&app.intake_key), Some(body)).await.0, StatusCode::OK);
    assert_eq!(app.call("GET", "/api/v1/orders/A-1", Some(&app.read_key), None).await.0, StatusCode::OK);
});

#[tokio::test]
async fn wrong_content_type_is_refused() {
    let app = sqlite_app().await;
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/orders")
        .header("authorization", format!("Bearer {}", app.full_key))
        .header("content-type", "text/html")
        .body(Body::from(serde_json::to_vec(&order_json("A-1", "C-1", 0)).unwrap()))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn openapi_health_and_metrics() {
    let app = sqlite_app().await;
    let (s, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/v1/orders",
        "/api/v1/events",
        "/api/v1/orders/{order_id}",
        "/api/v1/customers/{customer_id}",
        "/api/v1/rulesets",
        "/api/v1/rulesets/{version}/publish",
        "/api/v1/lists/import",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} documented");
    }
    assert!(doc["components"]["schemas"].get("OrderIn").is_some());
    let (s, h) = app.call("GET", "/healthz", None, None).await;
    assert_eq!((s, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    app.post("/api/v1/orders", &order_json("A-1", "C-1", 0)).await;
    let (s, m) = app.call("GET", "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let text = m.as_str().unwrap();
    assert!(text.contains("riskdesk_http_requests_total"), "{text}");
    assert!(text.contains("riskdesk_orders_total"));
    assert!(text.contains("riskdesk_group_commit_seconds"), "{text}");
    assert!(text.contains("riskdesk_group_commit_items"), "{text}");
    assert!(!text.contains("C-1@example.com"));
    let (s, e) = app.call("GET", "/nowhere", None, None).await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}
