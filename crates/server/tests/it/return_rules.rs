//! The return-abuse rule variables (`customer.late_returns`, `customer.wear_notes`,
//! `customer.refund_and_chargeback`, `customer.refunded`, `customer.kept_value`,
//! `customer.claim_rate`): live screening and the backtest count them alike, on both backends.

use crate::common::*;
use axum::http::StatusCode;
use chrono::Duration;
use riskdesk_store::conformance::{order_json, t0};
use serde_json::{Value, json};

const SET: &str = r#"
[scoring]
review_at = 40
decline_at = 100

[[rule]]
id = "late"
name = "Returns at the end of the window"
expression = 'customer.late_returns >= 1'
action = "score"
points = 10

[[rule]]
id = "worn"
name = "Worn items returned"
expression = 'customer.wear_notes >= 1'
action = "score"
points = 10

[[rule]]
id = "double"
name = "Refund and chargeback on one order"
expression = 'customer.refund_and_chargeback >= 1'
action = "score"
points = 10

[[rule]]
id = "kept_nothing"
name = "Refunded everything"
expression = 'customer.refunded >= 249.0 && customer.kept_value < 1.0'
action = "score"
points = 10

[[rule]]
id = "claims"
name = "A claim per order"
expression = 'customer.claim_rate >= 1.0'
action = "score"
points = 10
"#;

fn event(id: &str, kind: &str, order: &str, customer: &str, hours: i64, data: Value) -> Value {
    json!({"event_id": id, "type": kind, "occurred_at": (t0() + Duration::hours(hours)).to_rfc3339(),
           "order_id": order, "customer_id": customer, "data": data})
}

fn rules_of(d: &Value) -> Vec<String> {
    let mut r: Vec<String> =
        d["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap().to_owned()).collect();
    r.sort();
    r
}

both_backends!(return_trail_rules_live_and_backtested, |app: TestApp| async move {
    let money = json!({"amount": "249.90", "currency": "EUR"});
    // C-R: delivered on day 2, return asked for on day 31 (29 days later, in the last 3 of 30),
    // returned worn, a claim, refunded in full, then charged back as well.
    assert_eq!(app.post("/api/v1/orders", &order_json("R-1", "C-R", 0)).await.0, StatusCode::OK);
    // C-N: delivered, returned early and unworn, refunded; nothing else.
    assert_eq!(app.post("/api/v1/orders", &order_json("N-1", "C-N", 1)).await.0, StatusCode::OK);
    let events = [
        event("E-1", "order_delivered", "R-1", "C-R", 48, json!({})),
        event("E-2", "return_requested", "R-1", "C-R", 48 + 29 * 24 + 1, json!({})),
        event("E-3", "return_received", "R-1", "C-R", 33 * 24, json!({"condition": "worn, tags removed"})),
        event("E-4", "refund_claimed", "R-1", "C-R", 34 * 24, json!({"claim": "not_received"})),
        event("E-5", "refund_issued", "R-1", "C-R", 35 * 24, json!({"amount": money})),
        event("E-6", "chargeback_received", "R-1", "C-R", 40 * 24, json!({"reason_code": "13.1", "amount": money})),
        event("F-1", "order_delivered", "N-1", "C-N", 48, json!({})),
        event("F-2", "return_requested", "N-1", "C-N", 5 * 24, json!({})),
        event("F-3", "return_received", "N-1", "C-N", 8 * 24, json!({"condition": "not worn, tags attached"})),
        event("F-4", "refund_issued", "N-1", "C-N", 9 * 24, json!({"amount": {"amount": "100.00", "currency": "EUR"}})),
    ];
    for e in &events {
        let (s, b) = app.post("/api/v1/events", e).await;
        assert!(s.is_success(), "{s} {b}");
    }
    let k = app.rules_key.clone();
    let (s, saved) = app
        .call(
            "POST",
            "/api/v1/rulesets",
            Some(&k),
            Some(serde_json::to_vec(&json!({"source": SET, "note": "returns"})).unwrap()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{saved}");
    let v = saved["version"].as_i64().unwrap();
    app.publish_with_four_eyes(v).await;

    let (_, d) = app.post("/api/v1/orders", &order_json("R-2", "C-R", 45 * 24 * 60)).await;
    assert_eq!(d["ruleset_version"], v, "{d}");
    assert_eq!(rules_of(&d), ["claims", "double", "kept_nothing", "late", "worn"], "{d}");
    assert_eq!(d["decision"], "review", "{d}");
    let detail =
        |rule: &str| d["reasons"].as_array().unwrap().iter().find(|r| r["rule"] == rule).unwrap()["detail"].clone();
    assert_eq!(detail("late"), "customer.late_returns = 1", "{d}");
    let (_, n) = app.post("/api/v1/orders", &order_json("N-2", "C-N", 45 * 24 * 60 + 1)).await;
    assert_eq!(rules_of(&n), Vec::<String>::new(), "an early, unworn return refunded in part: {n}");

    // The backtest replays the same history and counts the same: each rule fires on R-2 alone.
    let (s, bt) = app.call("POST", &format!("/api/v1/rulesets/{v}/backtest"), Some(&k), None).await;
    assert_eq!(s, StatusCode::OK, "{bt}");
    for rule in ["late", "worn", "double", "kept_nothing", "claims"] {
        let stats = bt["rules"].as_array().unwrap().iter().find(|r| r["rule"] == rule).unwrap();
        assert_eq!(stats["hits"], 1, "{rule}: {bt}");
    }
    let flagged: Vec<&str> =
        bt["flagged_examples"].as_array().unwrap().iter().map(|e| e["order_id"].as_str().unwrap()).collect();
    assert_eq!(flagged, ["R-2"], "{bt}");
});

#[tokio::test]
async fn return_trail_variables_are_in_the_catalogue() {
    let app = sqlite_app().await;
    let (s, schema) = app.get("/api/v1/rules/schema").await;
    assert_eq!(s, StatusCode::OK, "{schema}");
    let names: Vec<&str> =
        schema["variables"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    for n in [
        "customer.late_returns",
        "customer.wear_notes",
        "customer.refund_and_chargeback",
        "customer.refunded",
        "customer.kept_value",
        "customer.claim_rate",
    ] {
        assert!(names.contains(&n), "{n} missing: {names:?}");
    }
    // A misspelt trail variable gets the right suggestion.
    let bad = "[[rule]]\nid = \"x\"\nname = \"x\"\nexpression = 'customer.late_retruns > 1'\naction = \"review\"\n";
    let k = app.rules_key.clone();
    let (s, body) = app
        .call("POST", "/api/v1/rulesets/validate", Some(&k), Some(serde_json::to_vec(&json!({"source": bad})).unwrap()))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("customer.late_returns"), "{body}");
}
