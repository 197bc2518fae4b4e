//! Screening through the API on both backends: rule-set life cycle (validate, save, backtest,
//! shadow, publish, roll back), lists, velocity (out of order, after a restart), reasons and
//! rules that cannot be evaluated.

use crate::common::*;
use axum::http::StatusCode;
use riskdesk_store::conformance::order_json;
use serde_json::{Value, json};

const SMALL_SET: &str = r#"
[scoring]
review_at = 40
decline_at = 80

[[rule]]
id = "device_burst"
name = "Device burst"
expression = 'velocity.count("device", "1h") >= 3'
action = "score"
points = 45

[[rule]]
id = "big"
name = "Big order"
expression = 'order.amount > 1000.0'
action = "review"

[[rule]]
id = "blocked"
name = "Blocked"
expression = 'lists.blocked()'
action = "decline"

[[rule]]
id = "tier"
name = "Shop tier attribute"
expression = 'attributes.loyalty_tier == "gold"'
action = "score"
points = 5
"#;

fn with_device(mut o: Value, device: &str) -> Value {
    o["device"]["device_id"] = json!(device);
    o
}

async fn call_as(app: &TestApp, key: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(method, path, Some(key), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

async fn publish(app: &TestApp, source: &str) -> i64 {
    let k = app.rules_key.clone();
    let (s, saved) =
        call_as(app, &k, "POST", "/api/v1/rulesets", Some(json!({"source": source, "note": "test"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{saved}");
    let v = saved["version"].as_i64().unwrap();
    app.publish_with_four_eyes(v).await;
    v
}

both_backends!(invalid_rules_are_rejected_with_rule_line_and_column, |app: TestApp| async move {
    let k = app.rules_key.clone();
    let bad = "[[rule]]\nid = \"x\"\nname = \"x\"\nexpression = '''\norder.amount > 1.0 &&\n  customer.ordrs > 2'''\naction = \"review\"\n";
    let (s, body) = call_as(&app, &k, "POST", "/api/v1/rulesets/validate", Some(json!({"source": bad}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid_rules");
    assert_eq!(body["field"], "rule.x.expression");
    let e = &body["errors"][0];
    assert_eq!((e["rule"].as_str(), e["line"].as_i64(), e["column"].as_i64()), (Some("x"), Some(2), Some(3)), "{body}");
    assert!(e["message"].as_str().unwrap().contains("did you mean `customer.orders`"), "{body}");
    // Nothing was saved.
    let (_, list) = app.get("/api/v1/rulesets").await;
    assert_eq!(list["versions"].as_array().unwrap().len(), 1);
    // Saving an invalid set is refused the same way; a reader may not save at all.
    let (s, _) = call_as(&app, &k, "POST", "/api/v1/rulesets", Some(json!({"source": bad}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let rk = app.read_key.clone();
    let (s, _) = call_as(&app, &rk, "POST", "/api/v1/rulesets", Some(json!({"source": SMALL_SET}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call_as(&app, &rk, "POST", "/api/v1/rulesets/1/publish", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

both_backends!(publish_rollback_and_shadow, |app: TestApp| async move {
    let k = app.rules_key.clone();
    // Some history for the backtest.
    for i in 0..4 {
        let o = with_device(order_json(&format!("H-{i}"), &format!("C-{i}"), i), "dev-shared");
        assert_eq!(app.post("/api/v1/orders", &o).await.0, StatusCode::OK);
    }
    let (s, saved) = call_as(&app, &k, "POST", "/api/v1/rulesets", Some(json!({"source": SMALL_SET}))).await;
    assert_eq!(s, StatusCode::CREATED, "{saved}");
    let v2 = saved["version"].as_i64().unwrap();
    assert_eq!(v2, 2);
    let (s, bt) = call_as(&app, &k, "POST", "/api/v1/rulesets/2/backtest", None).await;
    assert_eq!(s, StatusCode::OK, "{bt}");
    assert_eq!(bt["orders"], 4);
    // the third and fourth order on the shared device reach the burst rule: 45 points, review
    assert_eq!(bt["candidate"]["verdicts"]["review"], 2, "{bt}");
    assert_eq!(bt["live"]["version"], 1);
    let device_rule = bt["rules"].as_array().unwrap().iter().find(|r| r["rule"] == "device_burst").unwrap().clone();
    assert_eq!(device_rule["hits"], 2);

    // Shadow: decisions keep coming from version 1, version 2's are stored beside them.
    let (s, _) = call_as(&app, &k, "POST", "/api/v1/rulesets/2/shadow", None).await;
    assert_eq!(s, StatusCode::OK);
    let o = with_device(order_json("S-1", "C-9", 10), "dev-shared");
    let (_, d) = app.post("/api/v1/orders", &o).await;
    assert_eq!(d["ruleset_version"], 1);
    let (s, sh) = call_as(&app, &k, "GET", "/api/v1/rulesets/2/shadow", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(sh["orders"], 1, "{sh}");
    assert_eq!(sh["decisions"][0]["shadow"]["decision"], "review", "{sh}");
    assert_eq!(sh["decisions"][0]["live"]["ruleset_version"], 1);

    // Publishing needs four eyes of two signed-in people: an API key may not even propose.
    let (s, p) = call_as(&app, &k, "POST", "/api/v1/rulesets/2/publish", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (_, d) = app.post("/api/v1/orders", &order_json("W-1", "C-12", 10)).await;
    assert_eq!(d["ruleset_version"], 1, "nothing changed");
    app.publish_with_four_eyes(2).await;
    let (_, d) = app.post("/api/v1/orders", &with_device(order_json("P-1", "C-10", 11), "dev-shared")).await;
    assert_eq!(d["ruleset_version"], 2);
    assert_eq!(d["decision"], "review");
    let r = &d["reasons"][0];
    assert_eq!(r["rule"], "device_burst");
    assert_eq!(r["points"], 45);
    assert_eq!(r["detail"], "velocity.count(\"device\", \"1h\") = 6");

    // Rolling back needs four eyes too: a key cannot, a person proposes with a reason.
    let (s, rb) = call_as(&app, &k, "POST", "/api/v1/rulesets/rollback", Some(json!({"reason": "x"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{rb}");
    app.rollback_with_four_eyes().await;
    let (_, d) = app.post("/api/v1/orders", &order_json("R-1", "C-11", 12)).await;
    assert_eq!(d["ruleset_version"], 1);
    let maker = app
        .service
        .create_token_for(&riskdesk_service::access::local::user_admin(), "maker", "t", None)
        .await
        .unwrap()
        .secret;
    let (s, _) = call_as(&app, &maker, "POST", "/api/v1/rulesets/rollback", Some(json!({"reason": "again"}))).await;
    assert_eq!(s, StatusCode::CONFLICT, "nothing before version 1");
    let (_, list) = app.get("/api/v1/rulesets").await;
    let actions: Vec<&str> =
        list["changes"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["publish", "shadow", "publish", "rollback"]);
    assert_eq!(list["changes"][2]["actor"], "user:maker", "the proposal's maker publishes, once approved");
    assert_eq!(list["changes"][3]["actor"], "user:maker", "the rollback's maker, once approved");
});

both_backends!(lists_block_and_import_reports_bad_lines, |app: TestApp| async move {
    let k = app.rules_key.clone();
    publish(&app, SMALL_SET).await;
    let entry =
        json!({"list": "block", "kind": "email", "value": "Mallory.Evil+shop@GMAIL.com", "reason": "chargeback ring"});
    let (s, added) = call_as(&app, &k, "POST", "/api/v1/lists", Some(entry)).await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    let id = added["entries"][0]["id"].as_str().unwrap().to_owned();
    assert!(added["entries"][0]["author"].as_str().unwrap().starts_with("apikey:"));
    let mut o = order_json("L-1", "C-1", 0);
    o["customer"]["email"] = json!("malloryevil@gmail.com");
    let (_, d) = app.post("/api/v1/orders", &o).await;
    assert_eq!(d["decision"], "decline", "{d}");
    assert_eq!(d["reasons"][0]["rule"], "blocked");

    // CIDR ranges match addresses inside them.
    let csv = "list,kind,value,reason,expires_at\nblock,ip,198.51.100.0/24,bad range,\nblock,bin,522222,test bin,2099-01-01T00:00:00Z\n";
    let (s, imp) = app.call("POST", "/api/v1/lists/import", Some(&k), Some(csv.as_bytes().to_vec())).await;
    assert_eq!((s, imp["imported"].as_i64()), (StatusCode::CREATED, Some(2)), "{imp}");
    let mut o = order_json("L-2", "C-2", 1);
    o["device"]["ip"] = json!("198.51.100.77");
    let (_, d) = app.post("/api/v1/orders", &o).await;
    assert_eq!(d["decision"], "decline", "{d}");

    // A file with bad lines imports nothing and names each line.
    let bad = "list,kind,value,reason\nblock,email,ok@example.com,fine\nblock,shoe,x,r\nmaybe,email,a@b.de,r\nblock,iban,DE00 0000,r\nblock,ip,not-an-ip,r\n";
    let (s, err) = app.call("POST", "/api/v1/lists/import", Some(&k), Some(bad.as_bytes().to_vec())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let lines: Vec<(i64, &str)> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(3, "kind"), (4, "list"), (5, "value"), (6, "value")]);
    let (_, all) = app.get("/api/v1/lists").await;
    assert_eq!(all["entries"].as_array().unwrap().len(), 3, "nothing of the bad file was stored");

    // Removing the entry lets the customer through again.
    let (s, _) = app.call("DELETE", &format!("/api/v1/lists/{id}"), Some(&k), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let mut o = order_json("L-3", "C-3", 2);
    o["customer"]["email"] = json!("malloryevil@gmail.com");
    let (_, d) = app.post("/api/v1/orders", &o).await;
    assert_eq!(d["decision"], "approve", "{d}");
    let (s, _) = app.call("DELETE", &format!("/api/v1/lists/{id}"), Some(&k), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, e) = call_as(
        &app,
        &k,
        "POST",
        "/api/v1/lists",
        Some(json!({"list": "block", "kind": "email", "value": "x", "reason": ""})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
});

both_backends!(velocity_counts_by_event_time_and_missing_fields_are_not_evaluated, |app: TestApp| async move {
    publish(&app, SMALL_SET).await;
    // A later order arrives first: it must not count for the earlier ones.
    let (_, d) = app.post("/api/v1/orders", &with_device(order_json("V-late", "C-1", 50), "dev-v")).await;
    assert_eq!(d["decision"], "approve");
    let (_, d) = app.post("/api/v1/orders", &with_device(order_json("V-1", "C-2", 0), "dev-v")).await;
    assert_eq!(d["decision"], "approve", "{d}");
    let (_, d) = app.post("/api/v1/orders", &with_device(order_json("V-2", "C-3", 1), "dev-v")).await;
    assert_eq!(d["decision"], "approve", "{d}: V-late is in V-2's future");
    // The third order of the device within the hour, at minute 2: V-1, V-2 and itself.
    let (_, d) = app.post("/api/v1/orders", &with_device(order_json("V-3", "C-4", 2), "dev-v")).await;
    assert_eq!(d["decision"], "review", "{d}");
    assert_eq!(d["reasons"][0]["detail"], "velocity.count(\"device\", \"1h\") = 3");
    // The shop did not send loyalty_tier: the rule is recorded as not evaluated.
    let ne = d["not_evaluated"].as_array().unwrap();
    assert_eq!(ne.len(), 1, "{d}");
    assert_eq!(ne[0]["rule"], "tier");
    assert_eq!(ne[0]["reason"], "attributes.loyalty_tier is not known for this order");
    let (_, stored) = app.get("/api/v1/orders/V-3").await;
    assert_eq!(stored["decisions"][0]["not_evaluated"][0]["rule"], "tier", "{stored}");
    // Out of window: two hours later the device counts only itself.
    let (_, d) = app.post("/api/v1/orders", &with_device(order_json("V-4", "C-5", 180), "dev-v")).await;
    assert_eq!(d["decision"], "approve", "{d}");
});

/// A publish through one instance reaches another instance on the same database without a
/// restart; velocity counted by one instance is seen by the other.
async fn two_instances(a: TestApp, b: TestApp) {
    publish(&a, SMALL_SET).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut n = 0;
    loop {
        n += 1;
        let (_, d) = b.post("/api/v1/orders", &order_json(&format!("B-{n}"), &format!("CB-{n}"), n)).await;
        if d["ruleset_version"] == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "instance B never picked up version 2: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Orders on A and B share velocity: the third on one device within the hour is flagged.
    a.post("/api/v1/orders", &with_device(order_json("X-1", "CX-1", 1000), "dev-x")).await;
    b.post("/api/v1/orders", &with_device(order_json("X-2", "CX-2", 1001), "dev-x")).await;
    let (_, d) = a.post("/api/v1/orders", &with_device(order_json("X-3", "CX-3", 1002), "dev-x")).await;
    assert_eq!(d["decision"], "review", "{d}");
}

#[tokio::test]
async fn publish_reaches_other_instances_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let open = || async {
        let s = riskdesk_store_sqlite::SqliteStore::open(&path, riskdesk_store_sqlite::SqliteOptions::default())
            .await
            .unwrap();
        std::sync::Arc::new(s) as std::sync::Arc<dyn riskdesk_store::Store>
    };
    let a = app_on(open().await, Guard::None).await;
    let b = app_on(open().await, Guard::None).await;
    two_instances(a, b).await;
    drop(dir);
}

#[tokio::test]
async fn publish_reaches_other_instances_postgres() {
    let Some(db) = riskdesk_store_postgres::testing::fresh_database().await else { return };
    let open = || async {
        std::sync::Arc::new(riskdesk_store_postgres::PgStore::connect(&db.url, 4).await.unwrap())
            as std::sync::Arc<dyn riskdesk_store::Store>
    };
    let a = app_on(open().await, Guard::None).await;
    let b = app_on(open().await, Guard::None).await;
    two_instances(a, b).await;
}

const CLUSTER_SET: &str = r#"
[[rule]]
id = "linked_fraud"
name = "Linked to fraud"
expression = 'cluster.fraud_accounts >= 1'
action = "review"
points = 40

[[rule]]
id = "big_cluster"
name = "Big cluster"
expression = 'cluster.size >= 4'
action = "score"
points = 5
"#;

fn shaped(id: &str, customer: &str, minute: i64, device: &str, card: &str, ip: &str) -> Value {
    let mut o = order_json(id, customer, minute);
    o["device"]["device_id"] = json!(device);
    o["device"]["ip"] = json!(ip);
    o["payment"]["card"]["fingerprint"] = json!(card);
    o["shipping_address"]["line1"] = json!(format!("Weg {minute}"));
    o
}

both_backends!(linked_clusters_are_kept_on_ingest, |app: TestApp| async move {
    publish(&app, CLUSTER_SET).await;
    app.post("/api/v1/orders", &shaped("K-1", "CA", 0, "dev-1", "card-a", "192.0.2.1")).await;
    app.post("/api/v1/orders", &shaped("K-2", "CB", 1, "dev-1", "card-b", "192.0.2.2")).await;
    app.post("/api/v1/orders", &shaped("K-3", "CC", 2, "dev-3", "card-b", "192.0.2.3")).await;
    app.post("/api/v1/orders", &shaped("K-4", "CD", 3, "dev-4", "card-d", "192.0.2.4")).await;
    let (s, c) = app.get("/api/v1/customers/CA/cluster").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!((c["size"].as_i64(), c["fraud_accounts"].as_i64()), (Some(3), Some(0)), "{c}");
    assert_eq!(c["members"], json!(["CA", "CB", "CC"]));
    let (_, d) = app.get("/api/v1/customers/CD/cluster").await;
    assert_eq!(d["size"], 1);
    // The path from CA to CC: through the device to CB, through the card to CC.
    let (_, p) = app.get("/api/v1/customers/CA/path/CC").await;
    assert_eq!(p["hops"], json!([{"customer": "CB", "via": "device"}, {"customer": "CC", "via": "card"}]), "{p}");
    let (_, p) = app.get("/api/v1/customers/CA/path/CD").await;
    assert_eq!(p["linked"], false);

    // Confirmed fraud on CC counts in the cluster; a new account on CC's card joins it and is
    // reviewed before its order is even stored.
    let ev = json!({"event_id": "E-F1", "type": "fraud_confirmed", "occurred_at": "2026-06-01T13:00:00Z", "order_id": "K-3"});
    assert_eq!(app.post("/api/v1/events", &ev).await.0, StatusCode::ACCEPTED);
    let (_, c) = app.get("/api/v1/customers/CB/cluster").await;
    assert_eq!(c["fraud_accounts"], 1, "{c}");
    let (_, d) = app.post("/api/v1/orders", &shaped("K-5", "CE", 70, "dev-5", "card-b", "192.0.2.5")).await;
    assert_eq!(d["decision"], "review", "{d}");
    let rules: Vec<&str> = d["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["linked_fraud", "big_cluster"], "{d}");
    assert_eq!(d["reasons"][1]["detail"], "cluster.size = 4");
    // Merging two clusters: CD joins through a shared device with CE.
    app.post("/api/v1/orders", &shaped("K-6", "CD", 80, "dev-5", "card-d", "192.0.2.6")).await;
    let (_, c) = app.get("/api/v1/customers/CD/cluster").await;
    assert_eq!((c["size"].as_i64(), c["fraud_accounts"].as_i64()), (Some(5), Some(1)), "{c}");

    // An IP shared by many accounts is a hub and links nobody.
    for i in 0..12 {
        app.post(
            "/api/v1/orders",
            &shaped(&format!("H-{i}"), &format!("CH{i}"), 100 + i, &format!("dh{i}"), &format!("ch{i}"), "198.18.0.1"),
        )
        .await;
    }
    let (_, c) = app.get("/api/v1/customers/CH11/cluster").await;
    assert_eq!(c["size"], 1, "{c}");
});

// An account that shares nothing stores no cluster row, yet reads as a cluster of one. Confirmed
// fraud on it is kept, counted when another account links to it, and survives a rebuild.
both_backends!(lone_accounts_store_no_cluster_rows_until_flagged_or_linked, |app: TestApp| async move {
    let app = app;
    publish(&app, CLUSTER_SET).await;
    app.post("/api/v1/orders", &shaped("L-1", "CL", 0, "dev-l", "card-l", "192.0.2.30")).await;
    let cl = riskdesk_domain::CustomerId::parse("CL", "customer_id").unwrap();
    assert!(app.service.store().cluster_of(&cl).await.unwrap().is_none(), "an account alone has no row");
    let (s, c) = app.get("/api/v1/customers/CL/cluster").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!((c["size"].as_i64(), c["fraud_accounts"].as_i64()), (Some(1), Some(0)), "{c}");
    assert_eq!(c["members"], json!(["CL"]));
    assert_eq!(app.get("/api/v1/customers/NOBODY/cluster").await.0, StatusCode::NOT_FOUND);

    let ev = json!({"event_id": "E-L1", "type": "fraud_confirmed", "occurred_at": "2026-06-01T12:00:00Z", "order_id": "L-1"});
    assert_eq!(app.post("/api/v1/events", &ev).await.0, StatusCode::ACCEPTED);
    let (_, c) = app.get("/api/v1/customers/CL/cluster").await;
    assert_eq!((c["size"].as_i64(), c["fraud_accounts"].as_i64()), (Some(1), Some(1)), "{c}");

    // A new account on CL's card is linked to the fraud before its order is stored.
    let (_, d) = app.post("/api/v1/orders", &shaped("L-2", "CM", 60, "dev-m", "card-l", "192.0.2.31")).await;
    assert_eq!(d["decision"], "review", "{d}");
    assert_eq!(d["reasons"][0]["rule"], "linked_fraud", "{d}");
    let (_, c) = app.get("/api/v1/customers/CM/cluster").await;
    assert_eq!((c["size"].as_i64(), c["fraud_accounts"].as_i64()), (Some(2), Some(1)), "{c}");
    assert_eq!(c["members"], json!(["CL", "CM"]));

    // A third account alone; the rebuild stores the same: the pair, and no row for the loner.
    app.post("/api/v1/orders", &shaped("L-3", "CN", 70, "dev-n", "card-n", "192.0.2.32")).await;
    assert_eq!(app.service.rebuild_clusters(&riskdesk_service::access::local::intake()).await.unwrap(), 3);
    let (_, c) = app.get("/api/v1/customers/CL/cluster").await;
    assert_eq!((c["size"].as_i64(), c["fraud_accounts"].as_i64()), (Some(2), Some(1)), "{c}");
    let cn = riskdesk_domain::CustomerId::parse("CN", "customer_id").unwrap();
    assert!(app.service.store().cluster_of(&cn).await.unwrap().is_none(), "the rebuild stores no loner");
    assert_eq!(app.get("/api/v1/customers/CN/cluster").await.1["size"], 1);
});

both_backends!(rebuild_matches_online_linking, |app: TestApp| async move {
    for (i, (dev, card)) in [("d1", "c1"), ("d1", "c2"), ("d3", "c2"), ("d4", "c4")].iter().enumerate() {
        let i = i as i64;
        app.post(
            "/api/v1/orders",
            &shaped(&format!("R-{i}"), &format!("CR{i}"), i, dev, card, &format!("192.0.2.{i}")),
        )
        .await;
    }
    let before = app.get("/api/v1/customers/CR0/cluster").await.1;
    let n = app.service.rebuild_clusters(&riskdesk_service::access::local::intake()).await.unwrap();
    assert_eq!(n, 4);
    let (_, after) = app.get("/api/v1/customers/CR0/cluster").await;
    assert_eq!(before["size"], after["size"]);
    assert_eq!(after["size"], 3);
    assert_eq!(after["members"], json!(["CR0", "CR1", "CR2"]));
});

const ATO_SET: &str = r#"
[[rule]]
id = "changed_then_open"
name = "Account changed"
expression = 'has(customer.hours_since_account_change) && customer.hours_since_account_change < 48.0'
action = "review"

[[rule]]
id = "linked_fraud"
name = "Linked to fraud"
expression = 'cluster.fraud_accounts >= 1'
action = "review"
"#;

both_backends!(events_rescreen_open_approved_orders, |app: TestApp| async move {
    publish(&app, ATO_SET).await;
    let (_, d) = app.post("/api/v1/orders", &shaped("Q-1", "CQ", -60, "dq", "cq", "192.0.2.50")).await;
    assert_eq!(d["decision"], "approve");
    let (_, d) = app.post("/api/v1/orders", &shaped("Q-2", "CQ2", -59, "dq2", "cq2", "192.0.2.51")).await;
    assert_eq!(d["decision"], "approve");
    // Q-2 ships: it is out of reach of re-screening.
    let shipped =
        json!({"event_id": "E-S", "type": "order_shipped", "occurred_at": "2026-06-01T11:30:00Z", "order_id": "Q-2"});
    app.post("/api/v1/events", &shipped).await;
    // The address of CQ changes after the order was approved: Q-1 is decided again.
    let ev = json!({"event_id": "E-A", "type": "address_changed", "occurred_at": "2026-06-01T11:40:00Z", "customer_id": "CQ"});
    assert_eq!(app.post("/api/v1/events", &ev).await.0, StatusCode::ACCEPTED);
    let (_, o) = app.get("/api/v1/orders/Q-1").await;
    let ds = o["decisions"].as_array().unwrap();
    assert_eq!(ds.len(), 2, "{o}");
    assert_eq!(ds[1]["decision"], "review");
    assert_eq!(ds[1]["reasons"][0]["rule"], "changed_then_open");
    // The first answer stays what POST /orders replays.
    let (_, again) = app.post("/api/v1/orders", &shaped("Q-1", "CQ", -60, "dq", "cq", "192.0.2.50")).await;
    assert_eq!(again["decision"], "approve");
    // Reviewed orders are not re-decided again by the next event.
    let ev =
        json!({"event_id": "E-B", "type": "email_changed", "occurred_at": "2026-06-01T11:41:00Z", "customer_id": "CQ"});
    app.post("/api/v1/events", &ev).await;
    assert_eq!(app.get("/api/v1/orders/Q-1").await.1["decisions"].as_array().unwrap().len(), 2);

    // Confirmed fraud in a cluster re-decides the cluster's open orders.
    app.post("/api/v1/orders", &shaped("Q-3", "CR1", -50, "d-ring", "c-r1", "192.0.2.60")).await;
    app.post("/api/v1/orders", &shaped("Q-4", "CR2", -49, "d-ring", "c-r2", "192.0.2.61")).await;
    let ev =
        json!({"event_id": "E-F", "type": "fraud_confirmed", "occurred_at": "2026-06-01T11:45:00Z", "order_id": "Q-4"});
    app.post("/api/v1/events", &ev).await;
    let (_, o) = app.get("/api/v1/orders/Q-3").await;
    assert_eq!(o["decisions"][1]["decision"], "review", "{o}");
    assert_eq!(o["decisions"][1]["reasons"][0]["detail"], "cluster.fraud_accounts = 1");
    let (_, o) = app.get("/api/v1/orders/Q-2").await;
    assert_eq!(o["decisions"].as_array().unwrap().len(), 1, "shipped orders stay as they are");
});

/// Velocity and clusters live in the database: a restarted instance counts what the previous one
/// stored.
#[tokio::test]
async fn velocity_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let open = || async {
        let s = riskdesk_store_sqlite::SqliteStore::open(&path, riskdesk_store_sqlite::SqliteOptions::default())
            .await
            .unwrap();
        std::sync::Arc::new(s) as std::sync::Arc<dyn riskdesk_store::Store>
    };
    {
        let a = app_on(open().await, Guard::None).await;
        publish(&a, SMALL_SET).await;
        a.post("/api/v1/orders", &with_device(order_json("Z-1", "CZ1", 0), "dev-z")).await;
        a.post("/api/v1/orders", &with_device(order_json("Z-2", "CZ2", 1), "dev-z")).await;
    }
    let b = app_on(open().await, Guard::None).await;
    let (_, d) = b.post("/api/v1/orders", &with_device(order_json("Z-3", "CZ3", 2), "dev-z")).await;
    assert_eq!(d["ruleset_version"], 2, "{d}");
    assert_eq!(d["reasons"][0]["detail"], "velocity.count(\"device\", \"1h\") = 3", "{d}");
    drop(dir);
}

// Record only: with a live set that would review and score these orders, they are stored and
// approved unscreened, their accounts still join clusters, events re-screen nothing, and /healthz
// says so. Turning screening back on judges the next order with everything recorded meanwhile.
both_backends!(record_only_stores_and_approves_without_screening, |app: TestApp| async move {
    let app = app;
    publish(&app, SMALL_SET).await;
    app.service.screener().set_record_only(true);
    let (s, h) = app.call("GET", "/healthz", None, None).await;
    assert_eq!((s, h["screening"].as_str()), (StatusCode::OK, Some("record_only")), "{h}");

    let mut big = with_device(order_json("R-1", "CR", -30), "burst");
    big["total"]["amount"] = json!("5000.00");
    big["items"][0]["unit_price"]["amount"] = json!("5000.00");
    let (s, d) = app.post("/api/v1/orders", &big).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!((d["decision"].as_str(), d["score"].as_i64()), (Some("approve"), Some(0)), "{d}");
    assert_eq!(d["reasons"], json!([]));
    assert_eq!(d["ruleset_version"], 0);
    for (i, minute) in [(2, -20), (3, -19), (4, -18)] {
        let (_, d) =
            app.post("/api/v1/orders", &with_device(order_json(&format!("R-{i}"), "CR2", minute), "burst")).await;
        assert_eq!(d["decision"], "approve", "{d}");
    }
    let (s, stored) = app.get("/api/v1/orders/R-1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stored["decisions"].as_array().unwrap().len(), 1, "{stored}");
    // Recorded orders link accounts as screened ones do: CR and CR2 share the device.
    let cr = riskdesk_domain::CustomerId::parse("CR", "customer_id").unwrap();
    let (_, facts) = app.service.store().cluster_of(&cr).await.unwrap().expect("CR is in a cluster");
    assert_eq!(facts.size, 2);

    let ev = json!({"event_id": "E-R", "type": "address_changed", "occurred_at": "2026-06-01T11:40:00Z", "customer_id": "CR"});
    assert_eq!(app.post("/api/v1/events", &ev).await.0, StatusCode::ACCEPTED);
    assert_eq!(app.get("/api/v1/orders/R-1").await.1["decisions"].as_array().unwrap().len(), 1);

    // Back on: the next order on the device is judged with the four recorded before it.
    app.service.screener().set_record_only(false);
    assert_eq!(app.call("GET", "/healthz", None, None).await.1["screening"], "on");
    let (_, d) = app.post("/api/v1/orders", &with_device(order_json("R-5", "CR3", -10), "burst")).await;
    assert_eq!(d["reasons"][0]["rule"], "device_burst", "{d}");
});
