//! Order bodies are stored packed (riskdesk-store's `body` module); rows stored before packing
//! hold JSON text and no `country`. Every read takes both, and the review queue finds the
//! shipping country of either.

use riskdesk_domain::{CustomerId, OrderId, Verdict};
use riskdesk_store::Store;
use riskdesk_store::conformance::{new_order, order_json};
use riskdesk_store::orders::OrderStore;
use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};

#[tokio::test]
async fn packed_and_plain_json_bodies_read_the_same() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("riskdesk.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).await.expect("open");
    let mut plain = order_json("O-plain", "C-1", 5);
    plain["shipping_address"]["country"] = "AT".into();
    let (packed, plain) = (new_order(&order_json("O-packed", "C-1", 10)), new_order(&plain));
    let expected = [packed.order.clone(), plain.order.clone()];
    store.insert_orders(&[packed, plain]).await.expect("stored");

    // O-plain as a build before packing wrote it.
    let raw = rusqlite::Connection::open(&path).expect("raw");
    let body = riskdesk_store::codec::order_body(&expected[1]);
    raw.execute("UPDATE orders SET body = ?1, country = NULL WHERE order_id = 'O-plain'", [&body]).expect("legacy row");
    let kinds: Vec<(String, String, Option<String>)> = raw
        .prepare("SELECT order_id, typeof(body), country FROM orders ORDER BY order_id")
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .expect("kinds");
    assert_eq!(
        kinds,
        vec![("O-packed".into(), "blob".into(), Some("DE".into())), ("O-plain".into(), "text".into(), None)]
    );
    let packed_len: i64 =
        raw.query_row("SELECT length(body) FROM orders WHERE order_id = 'O-packed'", [], |r| r.get(0)).expect("len");
    assert!((packed_len as usize) * 3 < body.len(), "packed {packed_len} bytes against {} of JSON", body.len());

    for o in &expected {
        let got = store.get_order(&o.order_id).await.expect("read").expect("found");
        assert_eq!(&got.order, o);
    }
    let customer = store.get_customer(&CustomerId::parse("C-1", "customer_id").expect("id"), 10).await.expect("read");
    assert_eq!(customer.expect("found").orders.len(), 2);
    let (rows, _) = store.replay_rows(None, 10).await.expect("replay");
    let bodies: Vec<String> = rows.iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies, expected.iter().map(riskdesk_store::codec::order_body).collect::<Vec<_>>());

    // A re-decision to review queues either order with its shipping country.
    for o in &expected {
        let mut d = riskdesk_domain::Decision::approve_unscreened(o.order_id.clone(), chrono::Utc::now());
        d.decision = Verdict::Review;
        store.add_decision(&d, &[]).await.expect("decided");
    }
    let countries: Vec<(String, Option<String>)> = raw
        .prepare("SELECT order_id, country FROM review_items ORDER BY order_id")
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("queue");
    assert_eq!(countries, vec![("O-packed".into(), Some("DE".into())), ("O-plain".into(), Some("AT".into()))]);

    // A damaged packed body is an error naming the body, not a panic or a wrong order.
    raw.execute("UPDATE orders SET body = x'01ffffff' WHERE order_id = 'O-packed'", []).expect("damage");
    let err = store.get_order(&OrderId::parse("O-packed", "order_id").expect("id")).await.expect_err("corrupt");
    assert!(err.to_string().contains("order body"), "{err}");
}
