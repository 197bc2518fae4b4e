//! The backtest frame index on both backends: a backtest on the index gives exactly what a full
//! replay of the history gives (velocity, lists valid then, attributes, clusters, labels,
//! planted-fraud patterns), and the index is built again only when history, lists or the facts
//! asked for change.

use crate::common::*;
use chrono::Duration;
use riskdesk_domain::intake::{parse_event_json, parse_order_json};
use riskdesk_rules::RuleSet;
use riskdesk_service::Service;
use riskdesk_service::access::local;
use riskdesk_service::lists::NewListEntry;
use riskdesk_service::rules::{Backtest, Candidate, run_backtest};
use std::collections::HashMap;
use std::sync::Arc;

const STARTER: &str = include_str!("../../../../rules/starter-fashion.toml");

/// The starter pack with other thresholds, plus rules on facts the live set does not read.
fn candidate() -> String {
    STARTER.replace("review_at = 50", "review_at = 45").replace("decline_at = 85", "decline_at = 90")
        + r#"
[[rule]]
id = "x_sum_card"
name = "Card spend in 3 days"
expression = 'velocity.sum("card", "3d") >= 400.0'
action = "score"
points = 15

[[rule]]
id = "x_domain_blocked"
name = "Blocked domain"
expression = 'lists.blocked("email_domain")'
action = "decline"

[[rule]]
id = "x_same_field_twice"
name = "Mid-sized, not a first order"
expression = 'order.amount > 80.0 && !customer.first_order && order.amount < 120.0 && order.currency == "EUR"'
action = "score"
points = 20

[[rule]]
id = "x_attribute"
name = "An attribute no order has"
expression = 'has(attributes.never_sent) && attributes.never_sent == "x"'
action = "review"
"#
}

fn comparable(b: &Backtest) -> serde_json::Value {
    let mut v = serde_json::to_value(b).unwrap();
    for k in ["load_seconds", "replay_seconds", "index"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

async fn load_demo(service: &Service) -> HashMap<String, String> {
    let data = riskdesk_server::demo::generate(11, 300, 3_000, 60, t0() + Duration::days(30));
    let orders: Vec<_> = data.orders.iter().map(|l| parse_order_json(l.as_bytes()).unwrap()).collect();
    let events: Vec<_> = data.events.iter().map(|l| parse_event_json(l.as_bytes()).unwrap()).collect();
    for chunk in orders.chunks(1_000) {
        service.import_orders(&local::intake(), chunk.to_vec()).await.unwrap();
    }
    service.import_events(&local::intake(), events).await.unwrap();
    data.truth.into_iter().map(|(o, _, p)| (o, p.to_owned())).collect()
}

async fn replayed(service: &Service, source: &str, truth: &HashMap<String, String>) -> Backtest {
    let history = service.load_history(&local::rules_viewer()).await.unwrap();
    let set = Arc::new(RuleSet::from_toml(source).unwrap());
    let live = service.screener().live().map(|c| (c.version, c.set));
    run_backtest(&history, (None, set), live, service.screener().lists(), Some(truth))
}

async fn indexed(service: &Service, source: &str, truth: &HashMap<String, String>) -> Backtest {
    service
        .backtest_with_truth(&local::rules_viewer(), Candidate::Source(source.to_owned()), Some(truth.clone()))
        .await
        .unwrap()
}

both_backends!(index_matches_replay_and_follows_changes, |app: TestApp| async move {
    // The whole app is moved in (not just the service), so its database outlives the test.
    let app = app;
    let s = &app.service;
    let truth = load_demo(s).await;
    let first_order = riskdesk_server::demo::generate(11, 300, 3_000, 60, t0() + Duration::days(30)).orders[0].clone();
    let first = parse_order_json(first_order.as_bytes()).unwrap();
    let domain = first.customer.email.as_ref().unwrap().domain().to_ascii_lowercase();
    let entry = |kind: &str, value: &str| NewListEntry {
        list: "block".into(),
        kind: kind.into(),
        value: value.into(),
        reason: "test".into(),
        expires_at: Some(t0() + Duration::days(20)),
    };
    s.add_list_entries(&local::rules("t"), &[entry("email_domain", &domain), entry("customer", "C-00007")])
        .await
        .unwrap();
    s.screener().refresh().await.unwrap();
    let source = candidate();

    // Built on first use; the same numbers as a replay, to the last count.
    let a = indexed(s, &source, &truth).await;
    let r = replayed(s, &source, &truth).await;
    assert_eq!(comparable(&a), comparable(&r));
    assert!(a.index.as_ref().unwrap().built);
    assert_eq!(a.orders, 3_000);
    assert!(a.candidate.flagged > 0 && a.live.as_ref().unwrap().flagged > 0, "{:?}", a.candidate);
    assert!(a.rules.iter().any(|x| x.rule == "x_domain_blocked" && x.hits > 0), "{:?}", a.rules);
    assert!(a.rules.iter().any(|x| x.rule == "x_sum_card" && x.hits > 0), "{:?}", a.rules);
    assert!(a.by_pattern.iter().any(|p| p.flagged > 0), "{:?}", a.by_pattern);

    // Unchanged history: reused.
    let b = indexed(s, &source, &truth).await;
    assert!(!b.index.as_ref().unwrap().built);
    assert_eq!(comparable(&a), comparable(&b));

    // A fact the index does not hold: built again (keeping the old facts).
    let wider = format!(
        "{source}\n[[rule]]\nid = \"x_new\"\nname = \"n\"\nexpression = 'velocity.count(\"ip\", \"2d\") >= 2'\naction = \"score\"\npoints = 5\n"
    );
    let c = indexed(s, &wider, &truth).await;
    assert!(c.index.as_ref().unwrap().built);
    assert_eq!(comparable(&c), comparable(&replayed(s, &wider, &truth).await));
    assert!(!indexed(s, &source, &truth).await.index.unwrap().built, "old facts are kept");

    // New lists: only the list columns are computed again, and the new entries count.
    s.add_list_entries(
        &local::rules("t"),
        &[
            entry("customer", "C-00008"),
            entry("device", first.device.as_ref().and_then(|d| d.device_id.as_deref()).unwrap()),
            entry("ip", "128.0.0.0/1"),
        ],
    )
    .await
    .unwrap();
    s.screener().refresh().await.unwrap();
    let d = indexed(s, &source, &truth).await;
    let ix = d.index.as_ref().unwrap();
    assert!(!ix.built && ix.lists_refreshed, "{ix:?}");
    let hits = |b: &Backtest| b.rules.iter().find(|x| x.rule == "blocklisted").map_or(0, |x| x.hits);
    assert!(hits(&d) > hits(&c), "the new entries hit: {} then {}", hits(&c), hits(&d));
    assert_eq!(comparable(&d), comparable(&replayed(s, &source, &truth).await));

    // New history later than all held (an order, and a label for an old order): appended, and
    // the numbers are still a full replay's.
    let mut next = first.clone();
    next.order_id = riskdesk_domain::OrderId::parse("NEXT-1", "order_id").unwrap();
    next.placed_at = (t0() + Duration::days(400)).into();
    s.import_orders(&local::intake(), vec![next]).await.unwrap();
    let at = (t0() + Duration::days(399)).to_rfc3339();
    let label = |id: &str, order: &str| {
        let e = serde_json::json!({
            "event_id": id, "type": "fraud_confirmed", "occurred_at": at, "order_id": order,
            "customer_id": first.customer.customer_id.as_str()
        });
        parse_event_json(e.to_string().as_bytes()).unwrap()
    };
    s.import_events(&local::intake(), vec![label("NEXT-E1", first.order_id.as_str())]).await.unwrap();
    let e = indexed(s, &source, &truth).await;
    let ix = e.index.as_ref().unwrap();
    assert!(!ix.built && ix.appended_orders == 1 && ix.appended_events == 1, "{ix:?}");
    assert_eq!(e.orders, 3_001);
    assert_eq!(comparable(&e), comparable(&replayed(s, &source, &truth).await));

    // An event stored before its order, without the account (the store fills it in when the
    // order arrives): once the order is stored, it counts for the account's later orders.
    let cb = serde_json::json!({
        "event_id": "ORPH-E1", "type": "chargeback_received", "order_id": "ORPH-1",
        "occurred_at": (t0() + Duration::days(402)).to_rfc3339(),
        "data": {"reason_code": "10.4", "amount": {"amount": "10.00", "currency": "EUR"}}
    });
    s.import_events(&local::intake(), vec![parse_event_json(cb.to_string().as_bytes()).unwrap()]).await.unwrap();
    let g = indexed(s, &source, &truth).await;
    assert!(!g.index.as_ref().unwrap().built);
    let at = |id: &str, days: i64| {
        let mut o = first.clone();
        // A new account, so the chargeback is its only one.
        o.customer.customer_id = riskdesk_domain::CustomerId::parse("C-ORPH", "customer_id").unwrap();
        o.order_id = riskdesk_domain::OrderId::parse(id, "order_id").unwrap();
        o.placed_at = (t0() + Duration::days(days)).into();
        o
    };
    s.import_orders(&local::intake(), vec![at("ORPH-1", 401), at("ORPH-2", 403)]).await.unwrap();
    let g = indexed(s, &source, &truth).await;
    let ix = g.index.as_ref().unwrap();
    assert!(!ix.built && ix.appended_orders == 2 && ix.approximate_rows == 0, "{ix:?}");
    assert_eq!(comparable(&g), comparable(&replayed(s, &source, &truth).await));

    // An event dated after every order held waits for the orders after it: an order placed
    // between the newest held one and the event does not see it.
    let held = |id: &str, days: i64| {
        let mut o = at(id, days);
        o.customer.customer_id = riskdesk_domain::CustomerId::parse("C-HELD", "customer_id").unwrap();
        o
    };
    s.import_orders(&local::intake(), vec![held("HELD-1", 404)]).await.unwrap();
    let fraud = serde_json::json!({
        "event_id": "HELD-E1", "type": "fraud_confirmed", "order_id": "HELD-1", "customer_id": "C-HELD",
        "occurred_at": (t0() + Duration::days(410)).to_rfc3339()
    });
    s.import_events(&local::intake(), vec![parse_event_json(fraud.to_string().as_bytes()).unwrap()]).await.unwrap();
    assert!(!indexed(s, &source, &truth).await.index.unwrap().built);
    s.import_orders(&local::intake(), vec![held("HELD-2", 405), held("HELD-3", 411)]).await.unwrap();
    let h = indexed(s, &source, &truth).await;
    let ix = h.index.as_ref().unwrap();
    assert!(!ix.built && ix.approximate_rows == 0, "{ix:?}");
    assert_eq!(comparable(&h), comparable(&replayed(s, &source, &truth).await));

    // A label that arrives before its order, then the order placed among the held ones:
    // appended with the facts of its arrival; counts and labels stay exact.
    s.import_events(&local::intake(), vec![label("LATE-E1", "LATE-1")]).await.unwrap();
    let mut late = first.clone();
    late.order_id = riskdesk_domain::OrderId::parse("LATE-1", "order_id").unwrap();
    late.placed_at = (t0() + Duration::days(10)).into();
    s.import_orders(&local::intake(), vec![late]).await.unwrap();
    let f = indexed(s, &source, &truth).await;
    let ix = f.index.as_ref().unwrap();
    assert!(!ix.built && ix.appended_orders == 1 && ix.approximate_rows >= 1, "{ix:?}");
    let r = replayed(s, &source, &truth).await;
    assert_eq!((f.orders, f.fraud_orders, f.legit_orders), (r.orders, r.fraud_orders, r.legit_orders));
    assert_eq!(f.orders, 3_007);
});
