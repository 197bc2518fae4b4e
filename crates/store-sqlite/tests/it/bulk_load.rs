//! A bulk load writes each customer profile once, at its end (src/bulk.rs): the profiles come
//! out as per-order upserts would have written them, and a load that dies before its end loses
//! none of them.

use riskdesk_domain::CustomerId;
use riskdesk_store::conformance::{new_order, order_json};
use riskdesk_store::orders::OrderStore;
use riskdesk_store::{BulkTarget, NewOrder, Store};
use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, SqliteOptions::default()).await.expect("open")
}

/// An order of `customer` whose profile and channel say which order they came from.
fn order(id: &str, customer: &str, minutes: i64, tag: &str) -> NewOrder {
    let mut v = order_json(id, customer, minutes);
    v["customer"]["email"] = format!("{customer}-{tag}@example.com").into();
    v["customer"]["name"] = format!("Name {tag}").into();
    v["channel"] = if minutes % 2 == 0 { "app" } else { "webshop" }.into();
    if tag == "late" {
        v["customer"]["phone"] = "+4915112345678".into();
    }
    new_order(&v)
}

/// Two accounts, their orders out of time order and spread over batches, one duplicate.
fn batches() -> Vec<Vec<NewOrder>> {
    vec![
        vec![order("O-1", "C-1", 30, "mid"), order("O-2", "C-2", 5, "early")],
        vec![order("O-3", "C-1", 61, "late"), order("O-4", "C-1", 3, "early")],
        vec![order("O-5", "C-2", 50, "late"), order("O-1", "C-1", 30, "mid")],
    ]
}

/// The profile columns as stored, for comparing two stores.
async fn profile(store: &SqliteStore, id: &str) -> String {
    let c = store
        .get_customer(&CustomerId::parse(id, "customer_id").expect("id"), 10)
        .await
        .expect("read")
        .expect("customer");
    let p = &c.profile;
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {} {} {}",
        p.email,
        p.phone,
        p.name,
        p.created_at,
        p.invited_by,
        p.channel,
        p.first_order_at,
        p.last_order_at,
        c.order_count
    )
}

/// (customer rows, whether the marker of an unfinished load is there)
fn stored(path: &Path) -> (i64, bool) {
    let c = rusqlite::Connection::open(path).expect("inspect");
    c.query_row(
        "SELECT (SELECT COUNT(*) FROM customers), \
                EXISTS (SELECT 1 FROM settings WHERE name LIKE 'bulk_load_customers_after:%')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("counts")
}

#[tokio::test]
async fn profiles_written_at_the_end_match_per_order_upserts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (plain, bulk) = (open(&dir.path().join("plain.db")).await, open(&dir.path().join("bulk.db")).await);
    // An account stored before the load: the load's profile merges with it.
    let before = order("O-0", "C-1", 1, "before");
    plain.insert_orders(std::slice::from_ref(&before)).await.expect("insert");
    bulk.insert_orders(std::slice::from_ref(&before)).await.expect("insert");

    bulk.begin_bulk_load(BulkTarget::Orders, 1_000).await.expect("begin");
    for b in batches() {
        plain.insert_orders(&b).await.expect("insert");
        bulk.insert_orders(&b).await.expect("insert");
    }
    assert_eq!(stored(&dir.path().join("bulk.db")), (1, true), "only the account from before, and the marker");
    bulk.end_bulk_load().await.expect("end");
    assert_eq!(stored(&dir.path().join("bulk.db")), (2, false));
    // The load's end refreshed the planner's statistics, in its own transaction.
    let analysed: Vec<String> = rusqlite::Connection::open(dir.path().join("bulk.db"))
        .expect("inspect")
        .prepare("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("statistics");
    for table in ["customers", "order_entities", "orders"] {
        assert!(analysed.iter().any(|t| t == table), "{table} analysed: {analysed:?}");
    }
    for id in ["C-1", "C-2"] {
        let expected = profile(&plain, id).await;
        assert!(expected.contains("late"), "{expected}");
        assert_eq!(profile(&bulk, id).await, expected, "{id}");
    }
}

#[tokio::test]
async fn a_load_that_died_has_its_profiles_written_by_the_next_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("riskdesk.db");
    let plain_path = dir.path().join("plain.db");
    let plain = open(&plain_path).await;
    let mut batches = batches().into_iter();
    let (first, second, third) = (batches.next().expect("1"), batches.next().expect("2"), batches.next().expect("3"));

    let import = open(&path).await;
    import.begin_bulk_load(BulkTarget::Orders, 0).await.expect("begin");
    import.insert_orders(&first).await.expect("insert");
    plain.insert_orders(&first).await.expect("insert");
    // Another process opens the file meanwhile: it writes what the live load has so far.
    let other = open(&path).await;
    assert_eq!(stored(&path), (2, false));
    other.close().await;
    // The live load goes on, marks again, and dies before its end.
    import.insert_orders(&second).await.expect("insert");
    import.insert_orders(&third).await.expect("insert");
    plain.insert_orders(&second).await.expect("insert");
    plain.insert_orders(&third).await.expect("insert");
    assert!(stored(&path).1, "the live load marked again");
    import.close().await;
    drop(import);

    let reopened = open(&path).await;
    assert_eq!(stored(&path), (2, false));
    for id in ["C-1", "C-2"] {
        assert_eq!(profile(&reopened, id).await, profile(&plain, id).await, "{id}");
    }
}

/// An order of `customer` at `minutes` with the given phone (none: no phone at all).
fn with_phone(id: &str, customer: &str, minutes: i64, phone: Option<&str>) -> NewOrder {
    let mut v = order_json(id, customer, minutes);
    match phone {
        Some(p) => v["customer"]["phone"] = p.into(),
        None => {
            v["customer"].as_object_mut().expect("customer").remove("phone");
        }
    }
    new_order(&v)
}

async fn phone(store: &SqliteStore, id: &str) -> Option<String> {
    let c = store.get_customer(&CustomerId::parse(id, "customer_id").expect("id"), 1).await.expect("read");
    c.expect("customer").profile.phone
}

/// The profile keeps the latest phone given, whatever the batches and whether the load ended or
/// died and was recovered, even where the latest order has none and orders came out of time order.
#[tokio::test]
async fn the_latest_value_wins_however_the_load_was_cut() {
    let dir = tempfile::tempdir().expect("temp dir");
    let batches = || {
        vec![
            vec![with_phone("O-1", "C-1", 100, None)],
            vec![
                with_phone("O-2", "C-1", 50, Some("+4915100000001")),
                with_phone("O-3", "C-1", 70, Some("+4915100000002")),
            ],
        ]
    };
    let latest = Some("+4915100000002".to_owned());

    // ended normally
    let ended = open(&dir.path().join("ended.db")).await;
    ended.begin_bulk_load(BulkTarget::Orders, 0).await.expect("begin");
    for b in batches() {
        ended.insert_orders(&b).await.expect("insert");
    }
    ended.end_bulk_load().await.expect("end");
    assert_eq!(phone(&ended, "C-1").await, latest);

    // died after its last batch, recovered by the next open
    let path = dir.path().join("died.db");
    let died = open(&path).await;
    died.begin_bulk_load(BulkTarget::Orders, 0).await.expect("begin");
    for b in batches() {
        died.insert_orders(&b).await.expect("insert");
    }
    died.close().await;
    drop(died);
    assert_eq!(phone(&open(&path).await, "C-1").await, latest);

    // recovered by another process after its first batch, then ended
    let path = dir.path().join("both.db");
    let both = open(&path).await;
    both.begin_bulk_load(BulkTarget::Orders, 0).await.expect("begin");
    let mut it = batches().into_iter();
    both.insert_orders(&it.next().expect("first")).await.expect("insert");
    open(&path).await.close().await;
    both.insert_orders(&it.next().expect("second")).await.expect("insert");
    both.end_bulk_load().await.expect("end");
    assert_eq!(phone(&both, "C-1").await, latest);
    assert_eq!(stored(&path), (1, false));
}

/// A value the load brings from before the stored profile's latest order does not replace the
/// stored one, even when the load's latest order has none.
#[tokio::test]
async fn an_older_value_from_the_load_does_not_replace_a_newer_stored_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (plain, bulk) = (open(&dir.path().join("plain.db")).await, open(&dir.path().join("bulk.db")).await);
    let stored_first = with_phone("O-0", "C-1", 100, Some("+4915100000009"));
    let load = [with_phone("O-1", "C-1", 50, Some("+4915100000001")), with_phone("O-2", "C-1", 150, None)];
    for s in [&plain, &bulk] {
        s.insert_orders(std::slice::from_ref(&stored_first)).await.expect("insert");
    }
    plain.insert_orders(&load).await.expect("insert");
    bulk.begin_bulk_load(BulkTarget::Orders, 0).await.expect("begin");
    bulk.insert_orders(&load).await.expect("insert");
    bulk.end_bulk_load().await.expect("end");
    assert_eq!(phone(&plain, "C-1").await.as_deref(), Some("+4915100000009"));
    assert_eq!(phone(&bulk, "C-1").await.as_deref(), Some("+4915100000009"));
    assert_eq!(profile(&bulk, "C-1").await, profile(&plain, "C-1").await);
}
