//! A bulk load's customer profiles: folded in memory and written once per account at its end.
//!
//! Upserting each order's customer cost a bulk load more than any other part of its writing
//! (9 of 34 s for a million orders of 100,000 accounts): a batch of a few thousand orders touches
//! nearly every page of `customers`, so every commit re-wrote the whole table into the WAL, and
//! the checkpoint copied it back. Folding the profiles (`codec::CustomerFold`, which keeps the
//! time each value came from, so any grouping of the load's orders folds to the same row) and
//! writing each account once at the end removes that. Each batch's orders are folded in as it
//! is written; should a write that folded orders roll back, the end folds the load's stored
//! orders again instead of undoing its part (a failed write ends an import, so this is rare).
//!
//! Nothing acknowledged may be lost meanwhile: every bulk write also writes the load's own
//! marker in `settings` (in its own transaction) saying that orders after a rowid may lack their
//! profile. The end of the load writes the profiles and drops its marker in one transaction. A
//! load that died before that leaves its marker, and the next open folds the profiles of the
//! orders after the lowest marker from their stored bodies ([`recover`]) and drops all markers.
//! Recovery is idempotent, and a live load whose marker another process recovered writes it
//! again with its next batch.

use riskdesk_domain::Order;
use riskdesk_store::codec::{self, CustomerFold, CustomerRow};
use riskdesk_store::{NewOrder, StoreError, StoreResult};
use rusqlite::{Connection, params};

/// The `settings` rows of unfinished bulk loads, one per load (`{MARKER}{load}`): orders with a
/// rowid above its value may lack their customer profile.
const MARKER: &str = "bulk_load_customers_after:";

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A bulk load under way in this process.
pub(crate) struct BulkLoad {
    /// Its marker's name.
    marker: String,
    /// The highest order rowid before the load began.
    after: i64,
    /// The profiles of the load's orders, folded as each batch is written (in place, see
    /// `CustomerFold::add_order`: staging a row per order for its commit cost the one writer
    /// thread 4 % of a million-order load).
    fold: CustomerFold,
    /// The batch being written folded orders into `fold`.
    staged: bool,
    /// A batch that folded orders was rolled back: the fold may hold orders never stored, so
    /// the end folds the load's stored orders again instead, as a recovery does.
    stale: bool,
}

impl BulkLoad {
    pub(crate) fn begin(c: &Connection) -> StoreResult<Self> {
        let after = c.query_row("SELECT COALESCE(MAX(rowid), 0) FROM orders", [], |r| r.get(0)).map_err(db)?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let marker = format!("{MARKER}{}-{nanos}", std::process::id());
        Ok(Self { marker, after, fold: CustomerFold::default(), staged: false, stale: false })
    }

    /// Keeps the marker in place, in every bulk write transaction.
    pub(crate) fn mark(&self, c: &Connection) -> StoreResult<()> {
        c.prepare_cached("INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")
            .map_err(db)?
            .execute(params![self.marker, self.after.to_string()])
            .map_err(db)?;
        Ok(())
    }

    /// Folds the customers of orders the current write stores.
    pub(crate) fn stage(&mut self, orders: &[&NewOrder]) {
        for n in orders {
            self.fold.add_order(&n.order);
        }
        self.staged |= !orders.is_empty();
    }

    pub(crate) fn committed(&mut self) {
        self.staged = false;
    }

    /// Rollbacks are rare (a failed write ends the import): rather than undo the batch's part
    /// of the fold, the end reads the stored orders back.
    pub(crate) fn rolled_back(&mut self) {
        self.stale |= self.staged;
        self.staged = false;
    }

    /// Accounts folded so far.
    pub(crate) fn accounts(&self) -> usize {
        self.fold.len()
    }

    /// Writes every folded profile and drops this load's marker, in the caller's transaction
    /// (the fold stays, should that transaction fail).
    pub(crate) fn finish(&self, c: &Connection) -> StoreResult<()> {
        if self.stale {
            let (fold, done) = fold_stored(c, self.after)?;
            tracing::info!(
                orders = done.orders,
                unreadable = done.unreadable,
                "a bulk load's batch was rolled back: profiles folded from its stored orders"
            );
            upsert_customers(c, fold.rows())?;
        } else {
            upsert_customers(c, self.fold.rows())?;
        }
        c.execute("DELETE FROM settings WHERE name = ?1", [&self.marker]).map_err(db)?;
        Ok(())
    }
}

/// Writes customer rows against what is stored. A stored row holds no times per value, so a
/// value replaces a stored one when the order it came from is at least as new as the stored
/// row's latest order (the channel: older than its first).
const UPSERT_CUSTOMER: &str = "INSERT INTO customers (customer_id, email, phone, name, created_at, invited_by, \
    channel, first_order_at, last_order_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
    ON CONFLICT (customer_id) DO UPDATE SET \
    email = CASE WHEN ?10 >= customers.last_order_at THEN COALESCE(excluded.email, customers.email) ELSE COALESCE(customers.email, excluded.email) END, \
    phone = CASE WHEN ?11 >= customers.last_order_at THEN COALESCE(excluded.phone, customers.phone) ELSE COALESCE(customers.phone, excluded.phone) END, \
    name = CASE WHEN ?12 >= customers.last_order_at THEN COALESCE(excluded.name, customers.name) ELSE COALESCE(customers.name, excluded.name) END, \
    created_at = COALESCE(customers.created_at, excluded.created_at), \
    invited_by = COALESCE(customers.invited_by, excluded.invited_by), \
    channel = CASE WHEN ?13 < customers.first_order_at THEN COALESCE(excluded.channel, customers.channel) ELSE COALESCE(customers.channel, excluded.channel) END, \
    first_order_at = MIN(customers.first_order_at, excluded.first_order_at), \
    last_order_at = MAX(customers.last_order_at, excluded.last_order_at)";

/// Writes customer rows with the upsert's precedence against what is stored.
pub(crate) fn upsert_customers<'a>(c: &Connection, rows: impl IntoIterator<Item = &'a CustomerRow>) -> StoreResult<()> {
    let mut st = c.prepare_cached(UPSERT_CUSTOMER).map_err(db)?;
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
            r.last_order_at,
            r.email_at,
            r.phone_at,
            r.name_at,
            r.channel_at,
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// What [`recover`] did: orders folded, and stored bodies it could not read (skipped).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Recovered {
    pub(crate) orders: usize,
    pub(crate) unreadable: usize,
}

/// Writes the profiles interrupted bulk loads left unwritten, in the caller's transaction, and
/// drops every marker. `None` when no load was interrupted.
pub(crate) fn recover(c: &Connection) -> StoreResult<Option<Recovered>> {
    let values: Vec<String> = c
        .prepare("SELECT value FROM settings WHERE name >= ?1 AND name < ?2")
        .and_then(|mut st| st.query_map(params![MARKER, marker_end()], |r| r.get(0))?.collect())
        .map_err(db)?;
    if values.is_empty() {
        return Ok(None);
    }
    // An unreadable marker can only mean damage: then every order is folded again (idempotent).
    let after = values.iter().map(|v| v.parse::<i64>().unwrap_or(0)).min().unwrap_or(0);
    let (fold, done) = fold_stored(c, after)?;
    upsert_customers(c, fold.rows())?;
    c.execute("DELETE FROM settings WHERE name >= ?1 AND name < ?2", params![MARKER, marker_end()]).map_err(db)?;
    Ok(Some(done))
}

/// Folds the customers of the stored orders after a rowid, from their bodies; a body it cannot
/// read is skipped and logged by rowid.
fn fold_stored(c: &Connection, after: i64) -> StoreResult<(CustomerFold, Recovered)> {
    let mut fold = CustomerFold::default();
    let mut done = Recovered { orders: 0, unreadable: 0 };
    {
        let mut st = c.prepare("SELECT rowid, body FROM orders WHERE rowid > ?1 ORDER BY rowid").map_err(db)?;
        let mut rows = st.query([after]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let rowid: i64 = row.get(0).map_err(db)?;
            let order: Option<Order> = row
                .get_ref(1)
                .ok()
                .and_then(|v| v.as_bytes().ok())
                .and_then(|body| codec::order_from_stored(body).ok());
            match order {
                Some(order) => {
                    fold.add_order(&order);
                    done.orders += 1;
                }
                // The rowid only: a decoding error can quote the body's values.
                None => {
                    tracing::warn!(rowid, "a stored order body could not be read; its customer profile is not rebuilt");
                    done.unreadable += 1;
                }
            }
        }
    }
    Ok((fold, done))
}

/// The first name after every marker (`:` + 1 is `;`).
fn marker_end() -> String {
    format!("{};", &MARKER[..MARKER.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskdesk_store::conformance::{new_order, order_json};
    use rusqlite::OptionalExtension;

    fn schema() -> Connection {
        let c = Connection::open_in_memory().expect("memory");
        c.execute_batch(
            "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE orders (order_id TEXT PRIMARY KEY, body TEXT NOT NULL);
             CREATE TABLE customers (customer_id TEXT PRIMARY KEY, email TEXT, phone TEXT, name TEXT, \
               created_at TEXT, invited_by TEXT, channel TEXT, first_order_at INTEGER NOT NULL, \
               last_order_at INTEGER NOT NULL);
             INSERT INTO settings VALUES ('other', 'kept');",
        )
        .expect("schema");
        c
    }

    fn markers(c: &Connection) -> Vec<(String, String)> {
        c.prepare("SELECT name, value FROM settings WHERE name <> 'other' ORDER BY name")
            .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("markers")
    }

    fn customers(c: &Connection) -> Vec<(String, Option<String>, i64, i64)> {
        c.prepare("SELECT customer_id, email, first_order_at, last_order_at FROM customers ORDER BY 1")
            .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect())
            .expect("customers")
    }

    fn store(c: &Connection, id: &str, customer: &str, minutes: i64) {
        let order = new_order(&order_json(id, customer, minutes));
        c.execute("INSERT INTO orders VALUES (?1, ?2)", params![id, order.body]).expect("order");
    }

    #[test]
    fn each_load_keeps_its_own_marker_and_only_committed_batches_are_folded() {
        let c = schema();
        let mut one = BulkLoad::begin(&c).expect("begin");
        let two = BulkLoad { marker: format!("{MARKER}two"), ..BulkLoad::begin(&c).expect("begin") };
        one.mark(&c).expect("mark");
        two.mark(&c).expect("mark");
        assert_eq!(markers(&c).len(), 2);
        c.execute("DELETE FROM settings WHERE name <> 'other'", []).expect("recovered elsewhere");
        one.mark(&c).expect("mark again");
        assert_eq!(markers(&c), vec![(one.marker.clone(), "0".to_owned())]);

        let (c1, c2) = (new_order(&order_json("O-1", "C-1", 0)), new_order(&order_json("O-2", "C-2", 0)));
        one.stage(&[&c2]);
        one.committed();
        two.mark(&c).expect("mark");
        one.finish(&c).expect("finish");
        assert_eq!(one.accounts(), 1);
        assert_eq!(customers(&c).into_iter().map(|r| r.0).collect::<Vec<_>>(), vec!["C-2"]);
        assert_eq!(markers(&c), vec![(two.marker.clone(), "0".to_owned())], "the other load's marker stays");

        // A write that folded C-1 and was rolled back: the end folds what was stored instead.
        let c = schema();
        let mut three = BulkLoad::begin(&c).expect("begin");
        three.mark(&c).expect("mark");
        three.stage(&[&c1]);
        three.rolled_back();
        three.stage(&[]);
        three.rolled_back();
        assert!(three.stale, "the first rollback undid folded orders");
        store(&c, "O-2", "C-2", 0);
        three.stage(&[&c2]);
        three.committed();
        three.finish(&c).expect("finish");
        assert_eq!(customers(&c).into_iter().map(|r| r.0).collect::<Vec<_>>(), vec!["C-2"], "C-1 was never stored");
        assert!(markers(&c).is_empty());

        // A rollback of a write that folded nothing leaves the fold as it is.
        let c = schema();
        let mut four = BulkLoad::begin(&c).expect("begin");
        four.stage(&[&c2]);
        four.committed();
        four.stage(&[]);
        four.rolled_back();
        assert!(!four.stale);
        four.finish(&c).expect("finish");
        assert_eq!(customers(&c).len(), 1);
    }

    #[test]
    fn recovery_folds_the_orders_after_the_lowest_marker_and_skips_unreadable_bodies() {
        let c = schema();
        assert_eq!(recover(&c).expect("nothing to do"), None);
        for (i, customer) in ["C-1", "C-2", "C-2", "C-3"].iter().enumerate() {
            store(&c, &format!("O-{i}"), customer, i as i64 * 10);
        }
        c.execute("UPDATE orders SET body = '{\"order_id\": \"secret@example.com\"}' WHERE order_id = 'O-3'", [])
            .expect("damage");
        c.execute(
            "INSERT INTO settings VALUES (?1, '2'), (?2, '1')",
            params![format!("{MARKER}a"), format!("{MARKER}b")],
        )
        .expect("markers");
        assert_eq!(recover(&c).expect("recover"), Some(Recovered { orders: 2, unreadable: 1 }));
        let rows = customers(&c);
        assert_eq!(rows.len(), 1, "C-1's order is at or below the lowest marker, C-3's unreadable: {rows:?}");
        assert_eq!(rows[0].0, "C-2");
        assert_eq!(rows[0].1.as_deref(), Some("C-2@example.com"));
        assert_eq!((rows[0].2, rows[0].3 - rows[0].2), (rows[0].2, 10 * 60_000), "both of C-2's orders are folded");
        assert!(markers(&c).is_empty());
        let other: Option<String> =
            c.query_row("SELECT value FROM settings WHERE name = 'other'", [], |r| r.get(0)).optional().expect("other");
        assert_eq!(other.as_deref(), Some("kept"));
    }
}
