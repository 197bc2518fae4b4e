//! A bulk load's customer profiles: folded in memory and written once per account at its end.
//!
//! Upserting each order's customer cost a bulk load more than any other part of its writing
//! (9 of 34 s for a million orders of 100,000 accounts): a batch of a few thousand orders touches
//! nearly every page of `customers`, so every commit re-wrote the whole table into the WAL, and
//! the checkpoint copied it back. Folding the profiles (with the precedence of the upsert,
//! `codec::CustomerFold`) and writing each account once at the end removes that.
//!
//! Nothing acknowledged may be lost meanwhile: every bulk write also writes a marker in
//! `settings` (in its own transaction) saying that orders after a rowid may lack their profile.
//! The end of the load writes the profiles and drops the marker in one transaction. A load that
//! died before that leaves the marker, and the next open folds the profiles of the orders after
//! it from their stored bodies ([`recover`]). Recovery is idempotent, and a live load that finds
//! its marker gone (another process recovered it) writes it again with its next batch.

use riskdesk_domain::Order;
use riskdesk_store::codec::{self, CustomerFold, CustomerRow};
use riskdesk_store::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

/// The `settings` row of an unfinished bulk load: orders with a rowid above its value may lack
/// their customer profile.
const MARKER: &str = "bulk_load_customers_after";

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A bulk load under way in this process.
pub(crate) struct BulkLoad {
    /// The highest order rowid before the load began.
    after: i64,
    /// The profiles of committed batches.
    fold: CustomerFold,
    /// The profiles of the batch being written, folded in when it commits.
    staged: Vec<CustomerRow>,
}

impl BulkLoad {
    pub(crate) fn begin(c: &Connection) -> StoreResult<Self> {
        let after = c.query_row("SELECT COALESCE(MAX(rowid), 0) FROM orders", [], |r| r.get(0)).map_err(db)?;
        Ok(Self { after, fold: CustomerFold::default(), staged: Vec::new() })
    }

    /// Keeps the marker in place, in every bulk write transaction; the lower rowid wins when
    /// another process's load marked one too.
    pub(crate) fn mark(&self, c: &Connection) -> StoreResult<()> {
        c.prepare_cached(
            "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE \
             SET value = CAST(MIN(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
        )
        .map_err(db)?
        .execute(params![MARKER, self.after.to_string()])
        .map_err(db)?;
        Ok(())
    }

    pub(crate) fn stage(&mut self, rows: Vec<CustomerRow>) {
        self.staged.extend(rows);
    }

    pub(crate) fn committed(&mut self) {
        for row in self.staged.drain(..) {
            self.fold.add(row);
        }
    }

    pub(crate) fn rolled_back(&mut self) {
        self.staged.clear();
    }

    /// Writes every folded profile and drops the marker, in the caller's transaction.
    pub(crate) fn finish(self, c: &Connection) -> StoreResult<usize> {
        let n = self.fold.len();
        upsert_customers(c, self.fold.into_rows())?;
        c.execute("DELETE FROM settings WHERE name = ?1", [MARKER]).map_err(db)?;
        Ok(n)
    }
}

/// Writes customer rows with the upsert's precedence against what is stored.
pub(crate) fn upsert_customers(c: &Connection, rows: Vec<CustomerRow>) -> StoreResult<()> {
    let mut st = c
        .prepare_cached(&format!(
            "INSERT INTO customers (customer_id, email, phone, name, created_at, invited_by, channel, first_order_at, \
             last_order_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?){}",
            crate::UPSERT_CUSTOMER
        ))
        .map_err(db)?;
    for r in rows {
        st.execute(params![
            r.customer_id,
            r.email,
            r.phone,
            r.name,
            r.created_at,
            r.invited_by,
            r.channel,
            r.first_order_at,
            r.last_order_at
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// Writes the profiles an interrupted bulk load left unwritten, in the caller's transaction.
/// Returns how many orders it read, or `None` when no load was interrupted.
pub(crate) fn recover(c: &Connection) -> StoreResult<Option<usize>> {
    let after: Option<String> =
        c.query_row("SELECT value FROM settings WHERE name = ?1", [MARKER], |r| r.get(0)).optional().map_err(db)?;
    let Some(after) = after else { return Ok(None) };
    let after: i64 = after.parse().map_err(|_| StoreError::Database(format!("{MARKER} is not a rowid: {after:?}")))?;
    let mut fold = CustomerFold::default();
    let mut orders = 0;
    {
        let mut st = c.prepare("SELECT body FROM orders WHERE rowid > ?1 ORDER BY rowid").map_err(db)?;
        let mut rows = st.query([after]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let order: Order = codec::order_from_body(
                row.get_ref(0)
                    .map_err(db)?
                    .as_str()
                    .map_err(|e| StoreError::Database(format!("an order body is not text: {e}")))?,
            )?;
            fold.add_order(&order);
            orders += 1;
        }
    }
    upsert_customers(c, fold.into_rows())?;
    c.execute("DELETE FROM settings WHERE name = ?1", [MARKER]).map_err(db)?;
    Ok(Some(orders))
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskdesk_store::conformance::{new_order, order_json};

    fn schema() -> Connection {
        let c = Connection::open_in_memory().expect("memory");
        c.execute_batch(
            "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE orders (order_id TEXT PRIMARY KEY, body TEXT NOT NULL);
             CREATE TABLE customers (customer_id TEXT PRIMARY KEY, email TEXT, phone TEXT, name TEXT, \
               created_at TEXT, invited_by TEXT, channel TEXT, first_order_at INTEGER NOT NULL, \
               last_order_at INTEGER NOT NULL);",
        )
        .expect("schema");
        c
    }

    fn marker(c: &Connection) -> Option<String> {
        c.query_row("SELECT value FROM settings WHERE name = ?1", [MARKER], |r| r.get(0)).optional().expect("marker")
    }

    #[test]
    fn the_lower_marker_wins_and_only_committed_batches_are_folded() {
        let c = schema();
        let mut load = BulkLoad { after: 7, fold: CustomerFold::default(), staged: Vec::new() };
        c.execute("INSERT INTO settings VALUES (?1, '5')", [MARKER]).expect("other load");
        load.mark(&c).expect("mark");
        assert_eq!(marker(&c).as_deref(), Some("5"), "another load's lower rowid is kept");
        c.execute("DELETE FROM settings", []).expect("recovered elsewhere");
        load.mark(&c).expect("mark again");
        assert_eq!(marker(&c).as_deref(), Some("7"));

        let row = |id: &str| codec::customer_rows(&[&new_order(&order_json("O-1", id, 0))]).remove(0);
        load.stage(vec![row("C-1")]);
        load.rolled_back();
        load.stage(vec![row("C-2")]);
        load.committed();
        assert_eq!(load.finish(&c).expect("finish"), 1);
        let ids: Vec<String> = c
            .prepare("SELECT customer_id FROM customers")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .expect("customers");
        assert_eq!(ids, vec!["C-2"]);
        assert_eq!(marker(&c), None);
    }

    #[test]
    fn recovery_folds_the_orders_after_the_marker() {
        let c = schema();
        assert_eq!(recover(&c).expect("nothing to do"), None);
        for (i, customer) in ["C-1", "C-2", "C-2"].iter().enumerate() {
            let order = new_order(&order_json(&format!("O-{i}"), customer, i as i64 * 10));
            c.execute("INSERT INTO orders VALUES (?1, ?2)", params![order.order.order_id.as_str(), order.body])
                .expect("order");
        }
        c.execute("INSERT INTO settings VALUES (?1, '1')", [MARKER]).expect("marker");
        assert_eq!(recover(&c).expect("recover"), Some(2));
        let rows: Vec<(String, i64, i64)> = c
            .prepare("SELECT customer_id, first_order_at, last_order_at FROM customers")
            .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
            .expect("customers");
        assert_eq!(rows.len(), 1, "C-1's order is at or below the marker");
        assert_eq!(rows[0].0, "C-2");
        assert_eq!(rows[0].2 - rows[0].1, 10 * 60_000, "both of C-2's orders are folded");
        assert_eq!(marker(&c), None);
    }
}
