//! What the migrations leave behind that the hot paths rely on: the statements they run use the
//! indexes meant for them (a partial index is used only when the query implies its condition).

use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};

fn plan(c: &rusqlite::Connection, sql: &str) -> String {
    let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("plan");
    let rows = st.query_map([], |r| r.get::<_, String>(3)).expect("rows");
    rows.collect::<Result<Vec<_>, _>>().expect("detail").join("; ")
}

#[tokio::test]
async fn late_events_are_found_through_events_orphans_which_holds_only_events_waiting_for_an_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("riskdesk.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).await.expect("open");
    drop(store);
    let c = rusqlite::Connection::open(&path).expect("inspect");
    let p = plan(
        &c,
        "UPDATE events SET customer_id = 'C', body = json_set(body, '$.customer_id', 'C') \
         WHERE customer_id IS NULL AND order_id = 'O'",
    );
    assert!(p.contains("USING INDEX events_orphans"), "{p}");
    let sql: String =
        c.query_row("SELECT sql FROM sqlite_master WHERE name = 'events_orphans'", [], |r| r.get(0)).expect("index");
    assert!(sql.contains("customer_id IS NULL AND order_id IS NOT NULL"), "{sql}");
}

/// Migration 0011 turns the entity table and its covering index into one keyed table: a file
/// written before keeps every use, look-ups use the key, and deleting an order (not an entity
/// use) is what the writer's filter of stored keys counts.
#[test]
fn the_keyed_entity_table_keeps_what_an_older_file_held() {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = rusqlite::Connection::open(dir.path().join("old.db")).expect("open");
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> =
        std::fs::read_dir(&migrations).expect("migrations").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let (before, keyed): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|p| p.file_name().is_some_and(|n| n.to_string_lossy().as_ref() < "0011"));
    for f in &before {
        c.execute_batch(&std::fs::read_to_string(f).expect("read")).expect("older migration");
    }
    c.execute_batch(
        "INSERT INTO orders (order_id, customer_id, placed_at, total_minor, currency, payment_method, body, entities, received_at) \
           VALUES ('O-1', 'C-1', 5, 100, 'EUR', 'card', '{}', x'', 6), ('O-2', 'C-2', 7, 100, 'EUR', 'card', '{}', x'', 8);
         INSERT INTO order_entities VALUES (x'02', 3, 7, 'O-2', 'C-2', 100), (x'01', 3, 5, 'O-1', 'C-1', 100), \
           (x'01', 4, 5, 'O-1', 'C-1', 100);",
    )
    .expect("older rows");
    c.execute_batch(&std::fs::read_to_string(&keyed[0]).expect("read")).expect("migration 0011");

    let rows: Vec<(Vec<u8>, i64, String)> = c
        .prepare("SELECT hash, kind, order_id FROM order_entities")
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .expect("rows");
    assert_eq!(
        rows,
        vec![(vec![1], 3, "O-1".to_owned()), (vec![1], 4, "O-1".to_owned()), (vec![2], 3, "O-2".to_owned())],
        "every use, in key order"
    );
    let sql: String =
        c.query_row("SELECT sql FROM sqlite_master WHERE name = 'order_entities'", [], |r| r.get(0)).expect("table");
    assert!(sql.contains("WITHOUT ROWID"), "{sql}");
    let old_index: i64 = c
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'order_entities_hash'", [], |r| r.get(0))
        .expect("index");
    assert_eq!(old_index, 0, "the covering index went with the old table");
    let p = plan(&c, "SELECT order_id, customer_id, seen_at FROM order_entities WHERE hash = x'01' AND seen_at >= 0");
    assert!(p.contains("PRIMARY KEY"), "{p}");
    assert!(
        c.execute("INSERT INTO order_entities VALUES (x'01', 3, 5, 'O-1', 'C-1', 100)", []).is_err(),
        "a use is stored once"
    );

    let deletions = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT n FROM entity_deletions", [], |r| r.get(0)).expect("deletions")
    };
    c.execute("DELETE FROM order_entities WHERE order_id = 'O-2'", []).expect("delete a use");
    assert_eq!(deletions(&c), 0);
    c.execute("DELETE FROM orders WHERE order_id = 'O-2'", []).expect("delete an order");
    assert_eq!(deletions(&c), 1);
}
