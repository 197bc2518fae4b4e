//! The entity index's tail (src/tail.rs): what a process held in memory and never merged is
//! loaded back by the next one, a merge cut short is repeated without duplicates, and lookups
//! count each use once whether it sits in the tail, the index, or (mid-merge) both.

use riskdesk_domain::EntityKind;
use riskdesk_store::Store;
use riskdesk_store::conformance::{hasher, new_order, order_json};
use riskdesk_store::screening::ScreeningStore;
use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};
use std::collections::HashSet;
use std::path::Path;

async fn open(path: &Path, tail_uses: usize) -> SqliteStore {
    let opts = SqliteOptions { entity_tail_uses: tail_uses, ..SqliteOptions::default() };
    SqliteStore::open(path, opts).await.expect("open")
}

/// (rows in the entity index's table, orders in the backlog)
fn table_counts(path: &Path) -> (i64, i64) {
    let c = rusqlite::Connection::open(path).expect("inspect");
    c.query_row("SELECT (SELECT COUNT(*) FROM order_entities), (SELECT COUNT(*) FROM entity_backlog)", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .expect("counts")
}

/// Every order of this test ships from the same IP: one use per order.
async fn ip_uses(store: &SqliteStore) -> Vec<(String, i64)> {
    let key = hasher().hash(EntityKind::Ip, "203.0.113.7");
    let mut out: Vec<(String, i64)> = store
        .accounts_sharing(&key)
        .await
        .expect("lookup")
        .into_iter()
        .map(|u| (u.customer_id.to_string(), u.orders))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn unmerged_uses_survive_restarts_and_merge_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("riskdesk.db");
    let orders: Vec<_> = (0..40).map(|i| new_order(&order_json(&format!("O-{i}"), &format!("C-{i}"), i))).collect();
    let uses: usize = orders.iter().map(|o| o.entities.iter().collect::<HashSet<_>>().len()).sum();

    // A large tail: nothing is merged, every use waits in memory and the backlog.
    let store = open(&path, 1_000_000).await;
    for chunk in orders.chunks(7) {
        store.insert_orders(chunk).await.expect("insert");
    }
    assert_eq!(store.entity_tail_len(), uses);
    assert_eq!(table_counts(&path), (0, 40));
    let expected: Vec<(String, i64)> = (0..40).map(|i| (format!("C-{i}"), 1)).collect::<Vec<_>>();
    let sorted = |mut v: Vec<(String, i64)>| {
        v.sort();
        v
    };
    let expected = sorted(expected);
    assert_eq!(ip_uses(&store).await, expected);
    drop(store); // as if killed: nothing was merged

    // The next process loads the backlog, starts merging at once (tail of 1), one slice per write.
    let store = open(&path, 1).await;
    let (rows, backlog) = table_counts(&path);
    assert!(rows > 0 && (rows as usize) < uses, "one slice merged: {rows} of {uses}");
    assert_eq!(store.entity_tail_len() + rows as usize, uses, "the rest of the backlog is back in memory");
    assert_eq!(backlog, 40, "the backlog is cleared only when the merge ends");
    assert_eq!(ip_uses(&store).await, expected, "half merged: each use counted once");
    drop(store); // cut short mid-merge

    // The merge is repeated from the start; the slices already in the index are skipped. Each
    // write merges a slice and clears the orders of a finished pass from the backlog; with a
    // tail of 1, at most the last two orders are listed once the reloaded backlog is through.
    let store = open(&path, 1).await;
    let mut extra = 0;
    loop {
        let o = new_order(&order_json(&format!("X-{extra}"), &format!("X-{extra}"), 100 + extra));
        store.insert_orders(std::slice::from_ref(&o)).await.expect("insert");
        extra += 1;
        if table_counts(&path).1 <= 2 {
            break;
        }
        assert!(extra < 50, "the merge must outpace intake");
    }
    let more: usize = (0..extra)
        .map(|i| {
            new_order(&order_json(&format!("X-{i}"), &format!("X-{i}"), 100 + i))
                .entities
                .iter()
                .collect::<HashSet<_>>()
                .len()
        })
        .sum();
    let waiting = store.entity_tail_len();
    assert!(waiting < 10, "at most the latest order's uses wait: {waiting}");
    assert_eq!(table_counts(&path).0 as usize + waiting, uses + more, "every use once, in the index or the tail");
    let mut all = expected.clone();
    all.extend((0..extra).map(|i| (format!("X-{i}"), 1)));
    assert_eq!(ip_uses(&store).await, sorted(all));
}

/// Two processes on one file (`riskdesk import` beside `serve`): the second loads the first's
/// unmerged uses and merges them; the first, merging its own later, finds them in the index and
/// adds each once. The first merges what it staged itself without probing the index only while no
/// other connection has committed since.
#[tokio::test]
async fn uses_merged_by_another_process_are_not_merged_twice() {
    use riskdesk_store::BulkTarget;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("riskdesk.db");
    let distinct = |o: &riskdesk_store::NewOrder| o.entities.iter().collect::<HashSet<_>>().len();
    let first: Vec<_> = (0..20).map(|i| new_order(&order_json(&format!("A-{i}"), &format!("A-{i}"), i))).collect();
    let second: Vec<_> = (0..5).map(|i| new_order(&order_json(&format!("B-{i}"), &format!("B-{i}"), 50 + i))).collect();
    let third: Vec<_> = (0..5).map(|i| new_order(&order_json(&format!("C-{i}"), &format!("C-{i}"), 80 + i))).collect();
    let all = first.iter().chain(&second).chain(&third).map(distinct).sum::<usize>();

    let serve = open(&path, 1_000_000).await;
    serve.insert_orders(&first).await.expect("insert");
    assert_eq!(table_counts(&path), (0, 20), "held in the first process only");

    // The second process loads the backlog and merges all of it with its own orders.
    let import = open(&path, 1_000_000).await;
    import.insert_orders(&second).await.expect("insert");
    import.begin_bulk_load(BulkTarget::Events, 0).await.expect("flush");
    import.end_bulk_load().await.expect("end");
    assert_eq!(table_counts(&path).0 as usize, first.iter().chain(&second).map(distinct).sum::<usize>());

    // The first process still holds its uses, stages more, and merges everything.
    serve.insert_orders(&third).await.expect("insert");
    serve.begin_bulk_load(BulkTarget::Events, 0).await.expect("flush");
    serve.end_bulk_load().await.expect("end");
    assert_eq!(table_counts(&path).0 as usize, all, "each use once in the index");
    assert_eq!(serve.entity_tail_len(), 0);
    let mut expected: Vec<(String, i64)> =
        first.iter().chain(&second).chain(&third).map(|o| (o.order.customer.customer_id.to_string(), 1)).collect();
    expected.sort();
    assert_eq!(ip_uses(&serve).await, expected);
    assert_eq!(ip_uses(&import).await, expected);
}

/// The members of `customer`'s cluster, sorted (empty when it is alone).
async fn cluster(store: &SqliteStore, customer: &str) -> Vec<String> {
    let id = riskdesk_domain::CustomerId::parse(customer, "customer_id").expect("id");
    let Some((cluster, _)) = store.cluster_of(&id).await.expect("cluster") else { return Vec::new() };
    let mut members = store.cluster_members(&cluster, 100).await.expect("members");
    members.sort();
    members
}

/// The writer skips index look-ups of keys its filter has never seen (src/seen.rs). Keys that
/// reach the index around this process still link accounts: another process's bulk load (rows
/// written straight into the index), and its intake merged and cleared from the backlog before
/// this process wrote again.
#[tokio::test]
async fn keys_another_process_indexed_link_accounts_once_the_filter_is_built() {
    use riskdesk_store::BulkTarget;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("riskdesk.db");
    // Orders that share nothing linking (each its own address and IP) but the device given.
    let with_device = |order: &str, customer: &str, n: i64, device: &str| {
        let mut v = order_json(order, customer, n);
        v["device"]["device_id"] = serde_json::json!(device);
        v["shipping_address"]["line1"] = serde_json::json!(format!("Weg {n}"));
        v["device"]["ip"] = serde_json::json!(format!("10.0.{}.{}", n / 256, n % 256));
        new_order(&v)
    };

    let serve = open(&path, 1).await;
    let mut n = 0;
    while !serve.entity_filter_ready() {
        assert!(n < 500, "the filter was never built");
        let (id, device) = (format!("S-{n}"), format!("dev-S-{n}"));
        serve.insert_orders(&[with_device(&id, &id, n, &device)]).await.expect("insert");
        n += 1;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // Another process imports in bulk: its rows go straight into the index's table.
    let import = open(&path, 1).await;
    import.begin_bulk_load(BulkTarget::Orders, 0).await.expect("bulk");
    import.insert_orders(&[with_device("B-1", "B-1", 1000, "dev-bulk")]).await.expect("insert");
    import.end_bulk_load().await.expect("end");
    // Its intake, merged into the index and cleared from the backlog (a flush).
    import.insert_orders(&[with_device("B-2", "B-2", 1001, "dev-intake")]).await.expect("insert");
    import.begin_bulk_load(BulkTarget::Events, 0).await.expect("flush");
    import.end_bulk_load().await.expect("end");
    assert_eq!(table_counts(&path).1, 0, "nothing left for the backlog to tell");

    serve
        .insert_orders(&[with_device("A-1", "A-1", 2000, "dev-bulk"), with_device("A-2", "A-2", 2001, "dev-intake")])
        .await
        .expect("insert");
    assert!(serve.entity_filter_ready(), "the filter stayed in use");
    assert_eq!(cluster(&serve, "A-1").await, ["A-1", "B-1"]);
    assert_eq!(cluster(&serve, "A-2").await, ["A-2", "B-2"]);
    // A key this process never saw and nobody stored links nothing.
    serve.insert_orders(&[with_device("A-3", "A-3", 2002, "dev-new")]).await.expect("insert");
    assert!(cluster(&serve, "A-3").await.is_empty());
}

/// An order in the backlog whose packed keys were damaged on disk: the next process still opens
/// the file and takes orders; only that order's uses are missing from look-ups.
#[tokio::test]
async fn a_damaged_backlogged_order_does_not_stop_intake() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("riskdesk.db");
    let orders: Vec<_> = (0..3).map(|i| new_order(&order_json(&format!("O-{i}"), &format!("C-{i}"), i))).collect();
    let store = open(&path, 1_000_000).await;
    store.insert_orders(&orders).await.expect("insert");
    drop(store);
    rusqlite::Connection::open(&path)
        .expect("inspect")
        .execute("UPDATE orders SET entities = x'0102' WHERE order_id = 'O-1'", [])
        .expect("damage");

    let store = open(&path, 1_000_000).await;
    store.insert_orders(&[new_order(&order_json("O-3", "C-3", 3))]).await.expect("intake goes on");
    let expected: Vec<(String, i64)> = ["C-0", "C-2", "C-3"].iter().map(|c| (c.to_string(), 1)).collect();
    assert_eq!(ip_uses(&store).await, expected);
}
