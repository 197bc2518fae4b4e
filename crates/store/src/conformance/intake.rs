//! Intake and screening storage: orders, events, customers, entity links, keys, bulk loads.

use super::*;
use crate::{ApiKeyRecord, BulkTarget, InsertOutcome, NewEvent, ScreeningQuery, Store, ToScreen};
use chrono::Duration;
use riskdesk_domain::intake::parse_event_json;
use riskdesk_domain::{ApiKeyId, CustomerId, Decision, EntityKind, OrderId};

fn oid(s: &str) -> OrderId {
    OrderId::parse(s, "order_id").unwrap_or_else(|e| panic!("{e}"))
}

fn cid(s: &str) -> CustomerId {
    CustomerId::parse(s, "customer_id").unwrap_or_else(|e| panic!("{e}"))
}

pub async fn orders_round_trip(store: &dyn Store) {
    let n = new_order(&order_json("A-1", "C-1", 0));
    assert_eq!(store.insert_orders(std::slice::from_ref(&n)).await.unwrap(), vec![InsertOutcome::Inserted]);
    let got = store.get_order(&oid("A-1")).await.unwrap().expect("stored order");
    assert_eq!(got.order, n.order);
    assert_eq!(got.received_at, n.received_at);
    assert_eq!(got.decisions, vec![n.decision.clone().unwrap()]);
    assert_eq!(store.first_decision(&oid("A-1")).await.unwrap(), n.decision);
    assert!(store.get_order(&oid("A-2")).await.unwrap().is_none());
    assert!(store.first_decision(&oid("A-2")).await.unwrap().is_none());
    let c = store.get_customer(&cid("C-1"), 10).await.unwrap().expect("customer");
    assert_eq!(c.order_count, 1);
    assert_eq!(c.profile.email.as_deref(), Some("C-1@example.com"));
    assert_eq!(c.profile.channel.as_deref(), Some("webshop"));
    let mut entities = store.entities_of(&cid("C-1")).await.unwrap();
    let mut expected = n.entities.clone();
    entities.sort();
    expected.sort();
    assert_eq!(entities, expected);
}

pub async fn duplicate_orders_change_nothing(store: &dyn Store) {
    let first = new_order(&order_json("A-1", "C-1", 0));
    store.insert_orders(std::slice::from_ref(&first)).await.unwrap();
    let mut again = new_order(&order_json("A-1", "C-2", 60));
    assert_ne!(again.body, first.body);
    again.decision = Some(Decision::approve_unscreened(oid("A-1"), t0() + Duration::days(3)));
    assert_eq!(store.insert_orders(&[again]).await.unwrap(), vec![InsertOutcome::Duplicate]);
    let got = store.get_order(&oid("A-1")).await.unwrap().unwrap();
    assert_eq!(got.order, first.order);
    assert_eq!(got.decisions.len(), 1);
    assert!(store.get_customer(&cid("C-2"), 10).await.unwrap().is_none(), "a duplicate must not create its customer");
    assert_eq!(store.counts().await.unwrap().orders, 1);
}

pub async fn duplicates_within_one_batch(store: &dyn Store) {
    let a = new_order(&order_json("A-1", "C-1", 0));
    let b = new_order(&order_json("A-2", "C-1", 1));
    let out = store.insert_orders(&[a.clone(), b, a]).await.unwrap();
    assert_eq!(out, vec![InsertOutcome::Inserted, InsertOutcome::Inserted, InsertOutcome::Duplicate]);
    assert_eq!(store.counts().await.unwrap().orders, 2);
}

fn event(json: &str) -> NewEvent {
    NewEvent {
        event: parse_event_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}")),
        received_at: t0() + Duration::days(10),
    }
}

pub async fn events_round_trip(store: &dyn Store) {
    store.insert_orders(&[new_order(&order_json("A-1", "C-1", 0))]).await.unwrap();
    let shipped = event(
        r#"{"event_id": "E-2", "type": "order_shipped", "occurred_at": "2026-06-02T08:00:00Z", "order_id": "A-1"}"#,
    );
    let cb = event(
        r#"{"event_id": "E-1", "type": "chargeback_received", "occurred_at": "2026-06-20T08:00:00+02:00", "order_id": "A-1",
            "data": {"reason_code": "10.4", "amount": {"amount": "249.90", "currency": "EUR"}, "psp_reference": "psp-1"}}"#,
    );
    let login =
        event(r#"{"event_id": "E-3", "type": "login", "occurred_at": "2026-06-01T08:00:00Z", "customer_id": "C-1"}"#);
    let early = event(
        r#"{"event_id": "E-4", "type": "payment_authorized", "occurred_at": "2026-06-01T08:00:00Z", "order_id": "A-unknown"}"#,
    );
    let out = store.insert_events(&[cb.clone(), shipped.clone(), login, early, cb.clone()]).await.unwrap();
    assert_eq!(out.last(), Some(&InsertOutcome::Duplicate));
    assert_eq!(out.iter().filter(|o| **o == InsertOutcome::Inserted).count(), 4);
    assert_eq!(store.insert_events(&[shipped]).await.unwrap(), vec![InsertOutcome::Duplicate]);

    let got = store.get_order(&oid("A-1")).await.unwrap().unwrap();
    let ids: Vec<_> = got.events.iter().map(|e| e.event.event_id.to_string()).collect();
    assert_eq!(ids, vec!["E-2", "E-1"], "events of an order by time of occurrence");
    let stored_cb = &got.events[1].event;
    assert_eq!(stored_cb.data, cb.event.data);
    assert_eq!(stored_cb.occurred_at, cb.event.occurred_at);
    assert_eq!(stored_cb.customer_id.as_ref(), Some(&cid("C-1")), "customer taken from the order");

    let c = store.get_customer(&cid("C-1"), 10).await.unwrap().unwrap();
    assert_eq!(c.events.len(), 3);
    assert_eq!(store.counts().await.unwrap().events, 4);
}

pub async fn accounts_sharing_entities(store: &dyn Store) {
    let mut a = order_json("A-1", "C-1", 0);
    a["device"]["device_id"] = json!("dev-shared");
    let mut b = order_json("A-2", "C-2", 30);
    b["device"]["device_id"] = json!("dev-shared");
    // the same place, written another way and used as billing address by C-2
    b["billing_address"] = json!({"line1": "Torstraße 1", "postal_code": "10115", "city": "BERLIN", "country": "DE"});
    b["shipping_address"] = json!({"line1": "Elsewhere 5", "postal_code": "80331", "city": "München", "country": "DE"});
    let mut c = order_json("A-3", "C-1", 90);
    c["device"]["device_id"] = json!("dev-shared");
    store.insert_orders(&[new_order(&a), new_order(&b), new_order(&c)]).await.unwrap();

    let h = hasher();
    let mut uses = store.accounts_sharing(&h.hash(EntityKind::Device, "dev-shared")).await.unwrap();
    uses.sort_by(|x, y| x.customer_id.cmp(&y.customer_id));
    assert_eq!(uses.len(), 2);
    assert_eq!((uses[0].customer_id.as_str(), uses[0].orders), ("C-1", 2));
    assert_eq!(uses[0].first_seen, t0());
    assert_eq!(uses[0].last_seen, t0() + Duration::minutes(90));
    assert_eq!((uses[1].customer_id.as_str(), uses[1].orders), ("C-2", 1));

    let addr_key = parse(&a).shipping_address.and_then(|x| x.key()).unwrap();
    let mut by_addr = store.accounts_sharing(&h.hash(EntityKind::ShippingAddress, addr_key.as_str())).await.unwrap();
    by_addr.sort_by(|x, y| x.customer_id.cmp(&y.customer_id));
    let who: Vec<_> = by_addr.iter().map(|u| (u.customer_id.as_str(), u.kind)).collect();
    assert_eq!(who, vec![("C-1", EntityKind::ShippingAddress), ("C-2", EntityKind::BillingAddress)]);
    assert!(store.accounts_sharing(&h.hash(EntityKind::Device, "nobody")).await.unwrap().is_empty());
}

pub async fn customer_profile_keeps_latest_snapshot(store: &dyn Store) {
    let mut newer = order_json("A-2", "C-1", 120);
    newer["customer"]["email"] = json!("new@example.com");
    newer["customer"]["phone"] = json!("+4915112345678");
    let mut older = order_json("A-1", "C-1", 0);
    older["customer"]["email"] = json!("old@example.com");
    older["channel"] = json!("app");
    store.insert_orders(&[new_order(&newer)]).await.unwrap();
    store.insert_orders(&[new_order(&older)]).await.unwrap();
    let c = store.get_customer(&cid("C-1"), 10).await.unwrap().unwrap();
    assert_eq!(c.profile.email.as_deref(), Some("new@example.com"), "an older order arriving late does not overwrite");
    assert_eq!(c.profile.phone.as_deref(), Some("+4915112345678"));
    assert_eq!(c.profile.first_order_at, t0());
    assert_eq!(c.profile.last_order_at, t0() + Duration::minutes(120));
    assert_eq!(c.order_count, 2);

    // the same precedence inside one batch, oldest first or last
    let mut n2 = order_json("B-2", "C-2", 120);
    n2["customer"]["email"] = json!("new2@example.com");
    let mut o2 = order_json("B-1", "C-2", 0);
    o2["customer"]["email"] = json!("old2@example.com");
    o2["channel"] = json!("app");
    store.insert_orders(&[new_order(&n2), new_order(&o2)]).await.unwrap();
    let c = store.get_customer(&cid("C-2"), 10).await.unwrap().unwrap();
    assert_eq!(c.profile.email.as_deref(), Some("new2@example.com"));
    assert_eq!(c.profile.channel.as_deref(), Some("app"), "the first order decides the channel");
    assert_eq!((c.profile.first_order_at, c.order_count), (t0(), 2));
}

pub async fn api_keys_lifecycle(store: &dyn Store) {
    let rec = ApiKeyRecord {
        id: ApiKeyId::from_ulid("01JD0000000000000000000000"),
        name: "shop".into(),
        scopes: vec!["intake".into(), "read".into()],
        secret_hash: vec![1, 2, 3, 4],
        created_at: t0(),
        revoked_at: None,
    };
    store.insert_api_key(&rec).await.unwrap();
    assert_eq!(store.find_api_key(&[1, 2, 3, 4]).await.unwrap(), Some(rec.clone()));
    assert_eq!(store.find_api_key(&[9]).await.unwrap(), None);
    assert_eq!(store.list_api_keys().await.unwrap(), vec![rec.clone()]);
    assert!(store.revoke_api_key(&rec.id, t0() + Duration::hours(1)).await.unwrap());
    assert!(!store.revoke_api_key(&rec.id, t0() + Duration::hours(2)).await.unwrap(), "revoking twice");
    let found = store.find_api_key(&[1, 2, 3, 4]).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(t0() + Duration::hours(1)));
}

pub async fn large_batch_counts(store: &dyn Store) {
    let batch: Vec<NewOrder> =
        (0..1500).map(|i| new_order(&order_json(&format!("A-{i}"), &format!("C-{}", i % 300), i))).collect();
    let out = store.insert_orders(&batch).await.unwrap();
    assert!(out.iter().all(|o| *o == InsertOutcome::Inserted));
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.orders, counts.customers), (1500, 300));
    let again = store.insert_orders(&batch[1400..]).await.unwrap();
    assert!(again.iter().all(|o| *o == InsertOutcome::Duplicate));
    let c = store.get_customer(&cid("C-7"), 3).await.unwrap().unwrap();
    assert_eq!((c.order_count, c.orders.len()), (5, 3));
}

/// Storage positions: replay pages and deltas carry them, a delta holds exactly what was stored
/// after the positions given (duplicates add nothing), and its totals count everything.
pub async fn history_after_positions(store: &dyn Store) {
    let batch: Vec<NewOrder> = (0..5).map(|i| new_order(&order_json(&format!("P-{i}"), "C-P", i))).collect();
    store.insert_orders(&batch).await.unwrap();
    let e1 = event(
        r#"{"event_id": "PE-1", "type": "fraud_confirmed", "occurred_at": "2026-06-02T08:00:00Z", "order_id": "P-1"}"#,
    );
    store.insert_events(std::slice::from_ref(&e1)).await.unwrap();
    let (page, _) = store.replay_rows(None, 100).await.unwrap();
    assert_eq!(page.len(), 5);
    assert!(page.windows(2).all(|w| w[0].pos < w[1].pos), "pages come in storage order");
    let (orders_pos, events_pos) = (page[4].pos, store.replay_events().await.unwrap()[0].pos);

    let all = store.history_after(0, 0, 100).await.unwrap();
    assert_eq!((all.orders.len(), all.events.len(), all.truncated), (5, 1, false));
    assert_eq!((all.size.orders, all.size.events), (5, 1));
    let none = store.history_after(orders_pos, events_pos, 100).await.unwrap();
    assert!(none.orders.is_empty() && none.events.is_empty());

    let more: Vec<NewOrder> = (5..8).map(|i| new_order(&order_json(&format!("P-{i}"), "C-P", i))).collect();
    store.insert_orders(&more).await.unwrap();
    store.insert_orders(&batch[..2]).await.unwrap(); // duplicates: nothing new
    let e2 = event(
        r#"{"event_id": "PE-2", "type": "legit_confirmed", "occurred_at": "2026-06-03T08:00:00Z", "order_id": "P-6"}"#,
    );
    store.insert_events(&[e1, e2]).await.unwrap();
    let d = store.history_after(orders_pos, events_pos, 100).await.unwrap();
    let ids: Vec<String> =
        d.orders.iter().map(|r| crate::codec::order_from_body(&r.body).unwrap().order_id.to_string()).collect();
    assert_eq!(ids, ["P-5", "P-6", "P-7"]);
    assert!(d.orders.iter().all(|r| r.pos > orders_pos));
    assert_eq!(d.events.len(), 1);
    assert_eq!(d.events[0].order_id.as_deref(), Some("P-6"));
    assert!(d.events[0].pos > events_pos);
    assert_eq!((d.size.orders, d.size.events), (8, 2));
    let capped = store.history_after(orders_pos, events_pos, 2).await.unwrap();
    assert_eq!((capped.orders.len(), capped.truncated), (2, true));
}

/// The input of a cluster rebuild: every order once, with its account and all its entity keys,
/// oldest first whatever order they were stored in, ties in storage order.
pub async fn orders_for_linking_oldest_first(store: &dyn Store) {
    assert!(store.orders_for_linking().await.unwrap().is_empty());
    let late = new_order(&order_json("L-2", "C-B", 30));
    let early = new_order(&order_json("L-1", "C-A", 10));
    let tie_a = new_order(&order_json("L-3", "C-C", 20));
    let tie_b = new_order(&order_json("L-4", "C-A", 20));
    store.insert_orders(&[late.clone(), early.clone()]).await.unwrap();
    store.insert_orders(&[tie_a.clone(), tie_b.clone()]).await.unwrap();
    let got = store.orders_for_linking().await.unwrap();
    let want: Vec<(String, Vec<riskdesk_domain::EntityKey>)> = [&early, &tie_a, &tie_b, &late]
        .iter()
        .map(|n| (n.order.customer.customer_id.to_string(), n.entities.clone()))
        .collect();
    assert_eq!(got, want);
    assert!(got.iter().all(|(_, keys)| keys.iter().any(|k| k.kind == EntityKind::Email)));
}

/// Screening in the write path: each order of a batch is judged on rows that include the
/// orders before it, those of the same batch too; a stored order id is a duplicate and its first
/// answer stays; an order whose judge fails is not stored and fails alone.
pub async fn screened_orders_count_the_ones_before_them(store: &dyn Store) {
    let shared = |id: &str, customer: &str, minutes: i64| {
        let mut v = order_json(id, customer, minutes);
        v["device"]["device_id"] = json!("dev-shared");
        new_order(&v)
    };
    let first = shared("S-1", "C-1", 0);
    store.insert_orders(std::slice::from_ref(&first)).await.unwrap_or_else(|e| panic!("{e}"));
    let to_screen = |n: NewOrder| {
        let at = n.order.placed_at.timestamp_millis();
        let device =
            n.entities.iter().find(|e| e.kind == EntityKind::Device).copied().unwrap_or_else(|| panic!("device"));
        let query = ScreeningQuery {
            order_id: n.order.order_id.clone(),
            customer_id: n.order.customer.customer_id.clone(),
            invited_by: None,
            at_ms: at,
            events_until_ms: at,
            customer_since_ms: at - 86_400_000,
            entities: vec![(device, at - 3_600_000, false)],
            all_entities: n.entities.clone(),
            return_trail: false,
        };
        let judge: crate::Judge = Box::new(|rows, n: &mut NewOrder| {
            // The score carries what the judge saw: uses of the device in the hour before.
            let seen = rows.entity_rows.first().map_or(0, Vec::len);
            if let Some(d) = n.decision.as_mut() {
                d.score = u8::try_from(seen).unwrap_or(u8::MAX);
            }
        });
        ToScreen { query, order: n, judge }
    };
    let mut failing = to_screen(shared("S-X", "C-9", 1));
    let fails: crate::Judge = Box::new(|_: &crate::ScreeningRows, _: &mut NewOrder| panic!("a judge that fails"));
    failing.judge = fails;
    let batch = vec![
        to_screen(shared("S-1", "C-1", 0)),
        to_screen(shared("S-2", "C-2", 1)),
        failing,
        to_screen(shared("S-3", "C-3", 2)),
    ];
    let out = store.screen_orders(batch).await.unwrap_or_else(|e| panic!("screen_orders: {e}"));
    let outcomes: Vec<Option<&InsertOutcome>> = out.iter().map(|r| r.as_ref().ok().map(|(o, _)| o)).collect();
    assert_eq!(
        outcomes,
        vec![Some(&InsertOutcome::Duplicate), Some(&InsertOutcome::Inserted), None, Some(&InsertOutcome::Inserted)],
        "a failing judge fails its own order only"
    );
    assert!(store.get_order(&oid("S-X")).await.unwrap_or_else(|e| panic!("{e}")).is_none(), "nothing of it is stored");
    let score = |id: &'static str| async move {
        store.first_decision(&oid(id)).await.unwrap_or_else(|e| panic!("{e}")).map(|d| d.score)
    };
    assert_eq!(score("S-1").await, Some(0), "the first answer of a stored order stays");
    assert_eq!(score("S-2").await, Some(1), "S-2 sees S-1");
    assert_eq!(score("S-3").await, Some(2), "S-3 sees S-1 and S-2 of its own batch");
    assert_eq!(store.counts().await.unwrap_or_else(|e| panic!("{e}")).orders, 3);
}

/// Order intake, event intake and other writes at once: all of them land. A backend with more
/// than one writing connection must queue them, never fail one on a busy database.
pub async fn concurrent_writes_all_land(store: &dyn Store) {
    use futures::future::join_all;
    let orders = (0..24).map(|b| {
        let batch: Vec<NewOrder> = (0..5)
            .map(|i| {
                let n = b * 5 + i;
                new_order(&order_json(&format!("A-{n}"), &format!("C-{}", n % 40), n))
            })
            .collect();
        async move { store.insert_orders(&batch).await }
    });
    let events = (0..24).map(|n| {
        let e = event(&format!(
            r#"{{"event_id": "E-{n}", "type": "login", "occurred_at": "2026-06-01T08:00:00Z", "customer_id": "C-{}"}}"#,
            n % 40
        ));
        async move { store.insert_events(&[e]).await }
    });
    let settings = (0..8).map(|n| async move { store.setting_or_init(&format!("s-{n}"), "v").await });
    let (o, e, s) = futures::join!(join_all(orders), join_all(events), join_all(settings));
    for r in &o {
        let outcomes = r.as_ref().unwrap_or_else(|err| panic!("order batch failed: {err}"));
        assert!(outcomes.iter().all(|x| *x == InsertOutcome::Inserted));
    }
    for r in &e {
        let outcomes = r.as_ref().unwrap_or_else(|err| panic!("event failed: {err}"));
        assert_eq!(outcomes, &vec![InsertOutcome::Inserted]);
    }
    assert!(s.iter().all(|r| r.as_ref().is_ok_and(|v| v == "v")));
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.orders, counts.customers, counts.events), (120, 40, 24));
    assert!(store.cluster_of(&cid("C-7")).await.unwrap().is_some(), "screened orders link their accounts");
}

pub async fn hostile_text_is_stored_verbatim(store: &dyn Store) {
    let mut v = order_json("A-1", "C-1", 0);
    let evil = "Robert'); DROP TABLE orders;-- ' OR 1=1 -- \" \\ a < b > c \u{1F4A3} %s $1 ?";
    v["customer"]["name"] = json!(evil);
    v["shipping_address"]["line1"] = json!(evil);
    store.insert_orders(&[new_order(&v)]).await.unwrap();
    let got = store.get_order(&oid("A-1")).await.unwrap().unwrap();
    assert_eq!(got.order.customer.name.as_deref(), Some(evil));
    assert_eq!(got.order.shipping_address.unwrap().line1.as_deref(), Some(evil));
    store.insert_orders(&[new_order(&order_json("A-2", "C-2", 1))]).await.unwrap();
    assert_eq!(store.counts().await.unwrap().orders, 2);
}

pub async fn customer_view_lists_orders_newest_first(store: &dyn Store) {
    let batch: Vec<NewOrder> =
        [("A-1", 0), ("A-3", 200), ("A-2", 100)].iter().map(|(id, m)| new_order(&order_json(id, "C-1", *m))).collect();
    store.insert_orders(&batch).await.unwrap();
    let c = store.get_customer(&cid("C-1"), 10).await.unwrap().unwrap();
    let ids: Vec<_> = c.orders.iter().map(|o| o.order_id.to_string()).collect();
    assert_eq!(ids, vec!["A-3", "A-2", "A-1"]);
    assert_eq!(c.orders[0].total_minor, 24990);
    assert_eq!(c.orders[0].decision.as_deref(), Some("approve"));
    // one place, written the same way in all three orders
    assert_eq!(c.addresses.len(), 1);
    assert_eq!(c.addresses[0].city.as_deref(), Some("Berlin"));
}

pub async fn settings_keep_the_first_value(store: &dyn Store) {
    assert_eq!(store.setting_or_init("k", "one").await.unwrap(), "one");
    assert_eq!(store.setting_or_init("k", "two").await.unwrap(), "one");
}

pub async fn bulk_load_rebuilds_what_it_drops(store: &dyn Store) {
    store.insert_orders(&[new_order(&order_json("A-0", "C-0", 0))]).await.unwrap();
    store.begin_bulk_load(BulkTarget::Orders, 100).await.unwrap();
    let batch: Vec<NewOrder> = (1..200).map(|i| new_order(&order_json(&format!("A-{i}"), "C-1", i))).collect();
    store.insert_orders(&batch).await.unwrap();
    store.insert_orders(&batch[..5]).await.unwrap();
    store.end_bulk_load().await.unwrap();
    assert_eq!(store.counts().await.unwrap().orders, 200);
    let uses = store.accounts_sharing(&hasher().hash(EntityKind::Device, "dev-C-1")).await.unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].orders, 199);
    assert_eq!(store.get_customer(&cid("C-1"), 5).await.unwrap().unwrap().orders.len(), 5);
    // ending twice, or without a beginning, is harmless
    store.end_bulk_load().await.unwrap();

    store.begin_bulk_load(BulkTarget::Events, 0).await.unwrap();
    let shipped = event(
        r#"{"event_id": "E-1", "type": "order_shipped", "occurred_at": "2026-06-02T08:00:00Z", "order_id": "A-1"}"#,
    );
    store.insert_events(&[shipped]).await.unwrap();
    store.end_bulk_load().await.unwrap();
    assert_eq!(store.get_order(&oid("A-1")).await.unwrap().unwrap().events.len(), 1);
}

pub async fn events_before_their_order_learn_its_customer(store: &dyn Store) {
    let early = event(
        r#"{"event_id": "E-1", "type": "payment_authorized", "occurred_at": "2026-06-01T12:01:00Z", "order_id": "A-1"}"#,
    );
    store.insert_events(&[early]).await.unwrap();
    store.insert_orders(&[new_order(&order_json("A-1", "C-1", 0))]).await.unwrap();
    let got = store.get_order(&oid("A-1")).await.unwrap().unwrap();
    assert_eq!(got.events[0].event.customer_id.as_ref(), Some(&cid("C-1")), "the stored event names the customer");
    let c = store.get_customer(&cid("C-1"), 10).await.unwrap().unwrap();
    assert_eq!(c.events.len(), 1);
    assert_eq!(c.events[0].event.customer_id.as_ref(), Some(&cid("C-1")));
}
