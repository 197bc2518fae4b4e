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
