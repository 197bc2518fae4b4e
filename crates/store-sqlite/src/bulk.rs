//! A bulk load's customer profiles and entity uses: held in memory and written once at its end.
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
//! The entity uses go the same way ([`HeldUses`]). Written as each batch came, a use per row of
//! a heap table with a covering index rebuilt at the end, they were written twice and sorted
//! by SQLite once; held compactly (a use is its key and its order's number), sorted on both
//! cores and appended to the keyed index in key order at the end, they are written once. A
//! million orders' 6.7 million uses take about 220 MB meanwhile (24 bytes a use, 32 an order,
//! and the ids).
//!
//! Nothing acknowledged may be lost meanwhile: every bulk write also writes the load's own
//! marker in `settings` (in its own transaction) saying that orders after a rowid may lack their
//! profile and their entity uses. The end of the load writes both, committing the uses in parts,
//! and drops its marker with the last part (readers meanwhile see some of the uses). A load that
//! died before that leaves its marker, and the next open folds the profiles of the orders after
//! the lowest marker from their stored bodies, indexes their uses from their rows ([`recover`]),
//! and drops all markers. Recovery is idempotent (a use already
//! indexed is skipped), and a live load whose marker another process recovered writes it again
//! with its next batch.

use crate::ENTITY_ROWS_PER_INSERT;
use rayon::iter::{IntoParallelIterator, ParallelIterator};
use riskdesk_domain::{EntityKey, Order};
use riskdesk_store::codec::{self, CustomerFold, CustomerRow};
use riskdesk_store::{NewOrder, StoreError, StoreResult};
use rusqlite::{Connection, params};
use std::cmp::Ordering;

/// The `settings` rows of unfinished bulk loads, one per load (`{MARKER}{load}`): orders with a
/// rowid above its value may lack their customer profile and their entity uses.
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
    /// The entity uses of the load's orders.
    uses: HeldUses,
}

impl BulkLoad {
    /// Starts a load of about `expected_orders` orders (0 when unknown).
    pub(crate) fn begin(c: &Connection, expected_orders: u64) -> StoreResult<Self> {
        let after = c.query_row("SELECT COALESCE(MAX(rowid), 0) FROM orders", [], |r| r.get(0)).map_err(db)?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let marker = format!("{MARKER}{}-{nanos}", std::process::id());
        Ok(Self {
            marker,
            after,
            fold: CustomerFold::default(),
            staged: false,
            stale: false,
            uses: HeldUses::with_capacity(expected_orders),
        })
    }

    /// Keeps the marker in place, in every bulk write transaction.
    pub(crate) fn mark(&self, c: &Connection) -> StoreResult<()> {
        c.prepare_cached("INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")
            .map_err(db)?
            .execute(params![self.marker, self.after.to_string()])
            .map_err(db)?;
        Ok(())
    }

    /// Folds the customers of orders the current write stores, and holds their entity uses.
    pub(crate) fn stage(&mut self, orders: &[&NewOrder]) {
        for n in orders {
            self.fold.add_order(&n.order);
            let o = &n.order;
            self.uses.add(
                o.order_id.as_str(),
                o.customer.customer_id.as_str(),
                o.placed_at.timestamp_millis(),
                o.total.minor,
                &n.entities,
            );
        }
        self.staged |= !orders.is_empty();
    }

    pub(crate) fn committed(&mut self) {
        self.staged = false;
        self.uses.committed();
    }

    /// Rollbacks are rare (a failed write ends the import): rather than undo the batch's part
    /// of the fold, the end reads the stored orders back. Its entity uses are simply dropped.
    pub(crate) fn rolled_back(&mut self) {
        self.stale |= self.staged;
        self.staged = false;
        self.uses.rolled_back();
    }

    /// Entity uses held so far.
    pub(crate) fn uses(&self) -> usize {
        self.uses.len()
    }

    /// Accounts folded so far.
    pub(crate) fn accounts(&self) -> usize {
        self.fold.len()
    }

    /// Writes every folded profile and held entity use and drops this load's marker, in the
    /// caller's transaction (both stay held, should that transaction fail). The transaction
    /// is committed in parts as the uses are written (see [`HeldUses::insert_sorted`]).
    pub(crate) fn finish(&mut self, c: &Connection) -> StoreResult<()> {
        if self.stale {
            // The held uses are exact (a rolled-back write's are cut off): only the fold is redone.
            let (fold, done) = fold_stored(c, self.after, None)?;
            tracing::info!(
                orders = done.orders,
                unreadable = done.unreadable,
                "a bulk load's batch was rolled back: profiles folded from its stored orders"
            );
            upsert_customers(c, fold.rows())?;
        } else {
            upsert_customers(c, self.fold.rows())?;
        }
        self.uses.write(c)?;
        c.execute("DELETE FROM settings WHERE name = ?1", [&self.marker]).map_err(db)?;
        // Refresh the planner's statistics of the tables a load writes, from a sample of each
        // index: a full analysis took 1.2-1.4 s after a million orders, `PRAGMA optimize` with
        // the same sample 1.1 s. Here, in the same transaction and on this connection's small
        // cache, it took 0.15-0.24 s; on a pool connection after the commit 0.80-0.85 s, most of
        // it faulting in that connection's fresh page cache.
        let start = std::time::Instant::now();
        c.execute_batch(
            "PRAGMA analysis_limit = 1000; ANALYZE orders; ANALYZE order_entities; ANALYZE customers; ANALYZE events",
        )
        .map_err(db)?;
        tracing::debug!(seconds = start.elapsed().as_secs_f64(), "planner statistics refreshed");
        Ok(())
    }
}

/// One held entity use (24 bytes); the rest of it is its order's, in [`HeldUses::ids`].
struct HeldUse {
    hash: [u8; 16],
    order: u32,
    kind: u8,
}

/// One order of the load: its time and amount, and where its ids are in [`HeldUses::text`]
/// (its order id, then its account id).
struct OrderIds {
    start: usize,
    order_len: u32,
    customer_len: u32,
    seen_at: i64,
    amount_minor: i64,
}

/// Entity uses held until they are written in key order ([`HeldUses::write`]).
pub(crate) struct HeldUses {
    uses: Vec<HeldUse>,
    ids: Vec<OrderIds>,
    text: String,
    /// Lengths of the three at the last commit: a rolled-back write's part is cut off.
    committed: (usize, usize, usize),
    /// [`USES_PER_COMMIT`], but in tests.
    uses_per_commit: usize,
}

impl Default for HeldUses {
    fn default() -> Self {
        Self {
            uses: Vec::new(),
            ids: Vec::new(),
            text: String::new(),
            committed: (0, 0, 0),
            uses_per_commit: USES_PER_COMMIT,
        }
    }
}

/// Most entity uses an order has (its eight kinds); orders average under seven.
const USES_PER_ORDER: usize = 8;

impl HeldUses {
    /// Room for `orders` orders' uses (at most 16 M orders' worth: more grows on demand).
    /// Growing by doubling instead copied each buffer and faulted in twice its final size,
    /// a quarter of the writer's time in a million-order load. Room not used is never touched,
    /// so an estimate on the high side costs address space only.
    fn with_capacity(orders: u64) -> Self {
        let orders = usize::try_from(orders.min(16 << 20)).unwrap_or(0);
        Self {
            uses: Vec::with_capacity(orders * USES_PER_ORDER),
            ids: Vec::with_capacity(orders),
            text: String::with_capacity(orders * 24),
            ..Self::default()
        }
    }

    fn add(&mut self, order_id: &str, customer_id: &str, seen_at: i64, amount_minor: i64, keys: &[EntityKey]) {
        let (Ok(order), Ok(order_len), Ok(customer_len)) =
            (u32::try_from(self.ids.len()), u32::try_from(order_id.len()), u32::try_from(customer_id.len()))
        else {
            unreachable!("ids are at most 128 bytes, and a load holds fewer than 4 billion orders")
        };
        self.ids.push(OrderIds { start: self.text.len(), order_len, customer_len, seen_at, amount_minor });
        self.text.push_str(order_id);
        self.text.push_str(customer_id);
        self.uses.extend(keys.iter().map(|k| HeldUse { hash: k.hash, order, kind: k.kind.code() }));
    }

    fn len(&self) -> usize {
        self.uses.len()
    }

    fn committed(&mut self) {
        self.committed = (self.uses.len(), self.ids.len(), self.text.len());
    }

    fn rolled_back(&mut self) {
        let (uses, ids, text) = self.committed;
        self.uses.truncate(uses);
        self.ids.truncate(ids);
        self.text.truncate(text);
    }

    fn order_id(&self, u: &HeldUse) -> &str {
        let ids = &self.ids[u.order as usize];
        &self.text[ids.start..ids.start + ids.order_len as usize]
    }

    fn customer_id(&self, u: &HeldUse) -> &str {
        let ids = &self.ids[u.order as usize];
        let from = ids.start + ids.order_len as usize;
        &self.text[from..from + ids.customer_len as usize]
    }

    /// The index's key order: hash, time, account, kind, amount, order (migration 0011). Keys
    /// are random 128-bit hashes, so the order's fields are read only for uses of one key.
    fn key_order(&self, a: &HeldUse, b: &HeldUse) -> Ordering {
        a.hash.cmp(&b.hash).then_with(|| {
            let (x, y) = (&self.ids[a.order as usize], &self.ids[b.order as usize]);
            x.seen_at
                .cmp(&y.seen_at)
                .then_with(|| self.customer_id(a).cmp(self.customer_id(b)))
                .then(a.kind.cmp(&b.kind))
                .then(x.amount_minor.cmp(&y.amount_minor))
                .then_with(|| self.order_id(a).cmp(self.order_id(b)))
        })
    }

    /// Sorts the uses into the index's key order and inserts them (skipping any indexed
    /// already), in the caller's transaction. In key order, each insert appends to the B-tree's
    /// last leaf instead of landing on a random one.
    fn write(&mut self, c: &Connection) -> StoreResult<()> {
        let start = std::time::Instant::now();
        let mut uses = std::mem::take(&mut self.uses);
        sort_by_hash(&mut uses);
        let sorted = start.elapsed().as_secs_f64();
        let written = self.insert_sorted(c, &uses);
        self.uses = uses;
        written?;
        tracing::debug!(
            uses = self.uses.len(),
            sort_seconds = sorted,
            seconds = start.elapsed().as_secs_f64(),
            "bulk load's entity uses written"
        );
        Ok(())
    }

    /// Inserts uses sorted by hash, in key order. Their ids are scattered over the load's
    /// orders, so reading them in key order missed the CPU cache twice a use: a quarter of the
    /// writer's time. A second thread copies each run's ids out next to each other, putting
    /// uses of one hash into key order as it reads them, while the writer inserts the run
    /// before.
    ///
    /// The caller's transaction is committed every [`USES_PER_COMMIT`] uses and begun again.
    /// In one transaction, the whole index (450 MB a million orders) was copied from the WAL
    /// into the database file after the commit, by the writer, while the second core idled:
    /// 1.0-2.1 s. Committed in parts, the background checkpoint copies each part on the other
    /// core while the writer inserts the next. What is committed early is safe: the load's
    /// marker goes only with the last part, so a load that dies before it is recovered whole
    /// (see [`recover`]), and writing the uses again skips those stored.
    fn insert_sorted(&self, c: &Connection, uses: &[HeldUse]) -> StoreResult<()> {
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Gathered<'_>>(2);
            s.spawn(move || {
                for run in runs(uses) {
                    if tx.send(self.gather(run)).is_err() {
                        return; // the writer failed and stopped listening
                    }
                }
            });
            let mut uncommitted = 0;
            for run in rx {
                // Before a run, not after: the last one is the caller's to commit. Only inside
                // a transaction, which is begun again for the caller.
                if uncommitted >= self.uses_per_commit && !c.is_autocommit() {
                    c.execute_batch("COMMIT; BEGIN IMMEDIATE").map_err(db)?;
                    uncommitted = 0;
                }
                run.insert(c)?;
                uncommitted += run.rows.len();
            }
            Ok(())
        })
    }

    /// A run of uses sorted by hash, with each hash's uses in key order and their orders'
    /// fields laid out side by side.
    fn gather<'a>(&self, uses: &'a [HeldUse]) -> Gathered<'a> {
        let mut run = Gathered { ids: String::with_capacity(uses.len() * 32), rows: Vec::with_capacity(uses.len()) };
        let mut ties: Vec<&HeldUse> = Vec::new();
        for same in uses.chunk_by(|a, b| a.hash == b.hash) {
            ties.clear();
            ties.extend(same);
            if ties.len() > 1 {
                ties.sort_unstable_by(|a, b| self.key_order(a, b));
            }
            for u in ties.drain(..) {
                let order = &self.ids[u.order as usize];
                run.ids.push_str(self.order_id(u));
                let order_end = run.ids.len();
                run.ids.push_str(self.customer_id(u));
                run.rows.push(GatheredUse {
                    of: u,
                    seen_at: order.seen_at,
                    amount_minor: order.amount_minor,
                    order_end,
                    end: run.ids.len(),
                });
            }
        }
        run
    }
}

/// Cuts uses sorted by hash into runs of about [`GATHER_USES`], each ending where a hash does
/// (so that each hash's uses are put in order whole).
fn runs(mut rest: &[HeldUse]) -> impl Iterator<Item = &[HeldUse]> {
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(GATHER_USES);
        while end < rest.len() && rest[end].hash == rest[end - 1].hash {
            end += 1;
        }
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

/// Sorts uses by hash. Hashes are uniform, so their first byte cuts them into 256 buckets of
/// even size: one pass moves each use into its bucket, in place (no second buffer of the
/// load's size to fault in), and each bucket, small enough for the CPU cache, is then sorted
/// on its own, the buckets on both cores. Comparing whole keys here instead (ties look up
/// their orders' fields, scattered in memory) took 1.0-1.2 s of both cores for a million
/// orders' uses; ties are put in order where those fields are read anyway ([`HeldUses::gather`]).
fn sort_by_hash(uses: &mut [HeldUse]) {
    let mut counts = [0usize; 256];
    for u in uses.iter() {
        counts[usize::from(u.hash[0])] += 1;
    }
    // Each bucket's next unplaced slot, and its end.
    let (mut next, mut end) = ([0usize; 256], [0usize; 256]);
    let mut at = 0;
    for b in 0..256 {
        next[b] = at;
        at += counts[b];
        end[b] = at;
    }
    for b in 0..256 {
        while next[b] < end[b] {
            let home = usize::from(uses[next[b]].hash[0]);
            if home == b {
                next[b] += 1;
            } else {
                uses.swap(next[b], next[home]);
                next[home] += 1;
            }
        }
    }
    let mut buckets = Vec::with_capacity(256);
    let mut rest = uses;
    for count in counts {
        let (bucket, tail) = rest.split_at_mut(count);
        buckets.push(bucket);
        rest = tail;
    }
    // As big-endian numbers, hashes compare in the blobs' byte order in two instructions.
    buckets.into_par_iter().for_each(|b| b.sort_unstable_by_key(|u| u128::from_be_bytes(u.hash)));
}

/// Uses per run handed from the gathering thread to the writer.
const GATHER_USES: usize = 32 * 1024;

/// Uses written between commits at the end of a load (about 35 MB of index pages).
const USES_PER_COMMIT: usize = 512 * 1024;

/// A run of uses in key order with their orders' fields side by side.
struct Gathered<'a> {
    ids: String,
    rows: Vec<GatheredUse<'a>>,
}

/// A use and its order's fields: its order id ends in [`Gathered::ids`] at `order_end`, its
/// account id at `end`.
struct GatheredUse<'a> {
    of: &'a HeldUse,
    seen_at: i64,
    amount_minor: i64,
    order_end: usize,
    end: usize,
}

impl Gathered<'_> {
    fn insert(&self, c: &Connection) -> StoreResult<()> {
        // Many rows per statement: binding, stepping and resetting one statement per use cost
        // more than the insert.
        let mut from = 0;
        for rows in self.rows.chunks(ENTITY_ROWS_PER_INSERT) {
            let mut st = c.prepare_cached(&crate::insert_entities_sql(rows.len())).map_err(db)?;
            let mut i = 0;
            let mut bind = |v: &dyn rusqlite::ToSql| {
                i += 1;
                st.raw_bind_parameter(i, v)
            };
            for o in rows {
                bind(&&o.of.hash[..]).map_err(db)?;
                bind(&i64::from(o.of.kind)).map_err(db)?;
                bind(&o.seen_at).map_err(db)?;
                bind(&&self.ids[from..o.order_end]).map_err(db)?;
                bind(&&self.ids[o.order_end..o.end]).map_err(db)?;
                bind(&o.amount_minor).map_err(db)?;
                from = o.end;
            }
            st.raw_execute().map_err(db)?;
        }
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
        let (email, phone, name) = r.sealed_contact();
        st.execute(params![
            r.customer_id,
            email,
            phone,
            name,
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

/// Writes the profiles and entity uses interrupted bulk loads left unwritten, in the caller's
/// transaction, and drops every marker. `None` when no load was interrupted.
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
    let mut uses = HeldUses::default();
    let (fold, done) = fold_stored(c, after, Some(&mut uses))?;
    upsert_customers(c, fold.rows())?;
    uses.write(c)?;
    c.execute("DELETE FROM settings WHERE name >= ?1 AND name < ?2", params![MARKER, marker_end()]).map_err(db)?;
    Ok(Some(done))
}

/// Folds the customers of the stored orders after a rowid, from their bodies, and collects
/// their entity uses into `uses`, from their rows; an order it cannot read is skipped and
/// logged by rowid.
fn fold_stored(c: &Connection, after: i64, mut uses: Option<&mut HeldUses>) -> StoreResult<(CustomerFold, Recovered)> {
    let mut fold = CustomerFold::default();
    let mut done = Recovered { orders: 0, unreadable: 0 };
    {
        let mut st = c
            .prepare(
                "SELECT rowid, body, order_id, customer_id, placed_at, total_minor, entities FROM orders \
                 WHERE rowid > ?1 ORDER BY rowid",
            )
            .map_err(db)?;
        let mut rows = st.query([after]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let rowid: i64 = row.get(0).map_err(db)?;
            if let Some(uses) = uses.as_deref_mut() {
                hold_stored_uses(uses, row, rowid)?;
            }
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

/// Holds the entity uses of one stored order row (`rowid, body, order_id, customer_id,
/// placed_at, total_minor, entities`); packed keys it cannot read are skipped and logged.
fn hold_stored_uses(uses: &mut HeldUses, row: &rusqlite::Row<'_>, rowid: i64) -> StoreResult<()> {
    let keys =
        row.get_ref(6).ok().and_then(|v| v.as_blob().ok()).and_then(|packed| codec::unpack_entities(packed).ok());
    match keys {
        Some(keys) => uses.add(
            &row.get::<_, String>(2).map_err(db)?,
            &row.get::<_, String>(3).map_err(db)?,
            row.get(4).map_err(db)?,
            row.get(5).map_err(db)?,
            &keys,
        ),
        None => tracing::warn!(rowid, "a stored order's entity keys could not be read; its uses are not indexed"),
    }
    Ok(())
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
             CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, placed_at INTEGER NOT NULL, \
               total_minor INTEGER NOT NULL, body TEXT NOT NULL, entities BLOB NOT NULL);
             CREATE TABLE order_entities (hash BLOB NOT NULL, kind INTEGER NOT NULL, seen_at INTEGER NOT NULL, \
               order_id TEXT NOT NULL, customer_id TEXT NOT NULL, amount_minor INTEGER NOT NULL, \
               PRIMARY KEY (hash, seen_at, customer_id, kind, amount_minor, order_id)) WITHOUT ROWID;
             CREATE TABLE customers (customer_id TEXT PRIMARY KEY, email TEXT, phone TEXT, name TEXT, \
               created_at TEXT, invited_by TEXT, channel TEXT, first_order_at INTEGER NOT NULL, \
               last_order_at INTEGER NOT NULL);
             CREATE TABLE events (order_id TEXT, customer_id TEXT, type TEXT NOT NULL, occurred_at INTEGER NOT NULL);
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

    fn store(c: &Connection, id: &str, customer: &str, minutes: i64) -> NewOrder {
        let n = new_order(&order_json(id, customer, minutes));
        c.execute(
            "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                customer,
                n.order.placed_at.timestamp_millis(),
                n.order.total.minor,
                n.body.to_json().expect("json").as_ref(),
                codec::pack_entities(&n.entities)
            ],
        )
        .expect("order");
        n
    }

    /// The indexed uses, in key order: (order, account, kind, hash's first byte).
    fn uses(c: &Connection) -> Vec<(String, String, i64, u8)> {
        c.prepare("SELECT order_id, customer_id, kind, hash FROM order_entities")
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Vec<u8>>(3)?[0])))?.collect()
            })
            .expect("uses")
    }

    /// The uses the index should hold for these orders, in its key order.
    fn expected_uses(orders: &[&NewOrder]) -> Vec<(String, String, i64, u8)> {
        let mut all: Vec<_> = orders
            .iter()
            .flat_map(|n| {
                n.entities.iter().map(|e| {
                    (
                        e.hash,
                        n.order.placed_at.timestamp_millis(),
                        n.order.customer.customer_id.to_string(),
                        e.kind.code(),
                        n.order.order_id.to_string(),
                    )
                })
            })
            .collect();
        all.sort();
        all.into_iter().map(|(hash, _, customer, kind, order)| (order, customer, i64::from(kind), hash[0])).collect()
    }

    #[test]
    fn each_load_keeps_its_own_marker_and_only_committed_batches_are_folded() {
        let c = schema();
        let mut one = BulkLoad::begin(&c, 0).expect("begin");
        let two = BulkLoad { marker: format!("{MARKER}two"), ..BulkLoad::begin(&c, 0).expect("begin") };
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
        assert_eq!(one.uses(), c2.entities.len());
        one.finish(&c).expect("finish");
        assert_eq!(one.accounts(), 1);
        assert_eq!(uses(&c), expected_uses(&[&c2]), "the held uses are indexed in key order");
        assert_eq!(customers(&c).into_iter().map(|r| r.0).collect::<Vec<_>>(), vec!["C-2"]);
        assert_eq!(markers(&c), vec![(two.marker.clone(), "0".to_owned())], "the other load's marker stays");

        // A write that folded C-1 and was rolled back: the end folds what was stored instead.
        let c = schema();
        let mut three = BulkLoad::begin(&c, 0).expect("begin");
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
        assert_eq!(uses(&c), expected_uses(&[&c2]), "C-1's uses went with its rolled-back write");
        assert!(markers(&c).is_empty());

        // A rollback of a write that folded nothing leaves the fold as it is.
        let c = schema();
        let mut four = BulkLoad::begin(&c, 0).expect("begin");
        four.stage(&[&c2]);
        four.committed();
        four.stage(&[]);
        four.rolled_back();
        assert!(!four.stale);
        four.finish(&c).expect("finish");
        assert_eq!(customers(&c).len(), 1);
    }

    #[test]
    fn the_uses_of_many_orders_are_written_in_key_order_across_runs_and_statements() {
        let c = schema();
        let mut load = BulkLoad::begin(&c, 0).expect("begin");
        let orders: Vec<NewOrder> =
            (0..7_000).map(|i| store(&c, &format!("O-{i:05}"), &format!("C-{}", i % 40), i)).collect();
        let refs: Vec<&NewOrder> = orders.iter().collect();
        load.stage(&refs);
        load.committed();
        // One use indexed already (a recovery by another process) is skipped, not an error.
        let first = &orders[7];
        c.execute(
            "INSERT INTO order_entities VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                &first.entities[0].hash[..],
                i64::from(first.entities[0].kind.code()),
                first.order.placed_at.timestamp_millis(),
                first.order.order_id.as_str(),
                first.order.customer.customer_id.as_str(),
                first.order.total.minor
            ],
        )
        .expect("one use");
        assert!(load.uses() > GATHER_USES, "more than one run: {}", load.uses());
        load.finish(&c).expect("finish");
        assert_eq!(uses(&c), expected_uses(&refs));
    }

    #[test]
    fn a_load_ends_in_parts_and_an_end_rolled_back_after_some_is_written_again_whole() {
        let c = schema();
        let mut load = BulkLoad::begin(&c, 0).expect("begin");
        load.mark(&c).expect("mark");
        load.uses.uses_per_commit = 1_000;
        let orders: Vec<NewOrder> =
            (0..15_000).map(|i| store(&c, &format!("O-{i:05}"), &format!("C-{}", i % 40), i)).collect();
        let refs: Vec<&NewOrder> = orders.iter().collect();
        load.stage(&refs);
        load.committed();
        assert!(load.uses() > 2 * GATHER_USES, "several runs, each past a commit: {}", load.uses());
        // The end fails at its last step: what it committed in parts stays, the marker too.
        c.execute_batch("BEGIN IMMEDIATE").expect("begin");
        load.finish(&c).expect("finish");
        c.execute_batch("ROLLBACK").expect("rollback");
        let kept = uses(&c).len();
        assert!(kept > 0 && kept < load.uses(), "parts committed: {kept} of {}", load.uses());
        assert_eq!(markers(&c).len(), 1, "the marker goes with the last part only");
        // Ending again writes the rest, skipping what is stored, and drops the marker.
        c.execute_batch("BEGIN IMMEDIATE").expect("begin");
        load.finish(&c).expect("finish again");
        c.execute_batch("COMMIT").expect("commit");
        assert_eq!(uses(&c), expected_uses(&refs));
        assert!(markers(&c).is_empty());
    }

    #[test]
    fn held_uses_reach_the_writer_in_full_key_order_with_ties_across_run_boundaries() {
        use riskdesk_domain::EntityKind;
        let mut held = HeldUses::with_capacity(10);
        let key = |n: u32, kind| {
            let mut hash = [0u8; 16];
            // Spread over all first bytes, like real hashes, with few distinct values: ties.
            hash[0] = (n.wrapping_mul(2_654_435_761) >> 24) as u8;
            hash[12..].copy_from_slice(&n.to_be_bytes());
            EntityKey { kind, hash }
        };
        for i in 0..60_000u32 {
            let keys = [key(i % 5_000, EntityKind::Email), key(i % 7, EntityKind::Device), key(i, EntityKind::Ip)];
            let seen_at = i64::from(i.wrapping_mul(7_919) % 1_000);
            held.add(&format!("O-{i}"), &format!("C-{}", i % 300), seen_at, i64::from(i % 11), &keys);
        }
        let mut uses = std::mem::take(&mut held.uses);
        let total = uses.len();
        sort_by_hash(&mut uses);
        let mut rows = Vec::new();
        let mut runs_seen = 0;
        for run in runs(&uses) {
            runs_seen += 1;
            let gathered = held.gather(run);
            let mut from = 0;
            for o in &gathered.rows {
                let customer = gathered.ids[o.order_end..o.end].to_owned();
                let order = gathered.ids[from..o.order_end].to_owned();
                rows.push((o.of.hash, o.seen_at, customer, o.of.kind, o.amount_minor, order));
                from = o.end;
            }
        }
        assert!(runs_seen > 1, "several runs");
        assert_eq!(rows.len(), total);
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "strictly in the index's key order");
        let distinct: std::collections::BTreeSet<_> = rows.iter().map(|r| r.5.clone()).collect();
        assert_eq!(distinct.len(), 60_000, "every order's uses, none lost or doubled");
    }

    #[test]
    fn recovery_folds_the_orders_after_the_lowest_marker_and_skips_unreadable_bodies() {
        let c = schema();
        assert_eq!(recover(&c).expect("nothing to do"), None);
        let stored: Vec<NewOrder> = ["C-1", "C-2", "C-2", "C-3"]
            .iter()
            .enumerate()
            .map(|(i, customer)| store(&c, &format!("O-{i}"), customer, i as i64 * 10))
            .collect();
        c.execute("UPDATE orders SET body = '{\"order_id\": \"secret@example.com\"}' WHERE order_id = 'O-3'", [])
            .expect("damage");
        c.execute("UPDATE orders SET entities = x'0102' WHERE order_id = 'O-2'", []).expect("damage");
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
        assert_eq!(
            uses(&c),
            expected_uses(&[&stored[1], &stored[3]]),
            "the uses of the orders after the lowest marker, but O-2's unreadable keys"
        );
        let other: Option<String> =
            c.query_row("SELECT value FROM settings WHERE name = 'other'", [], |r| r.get(0)).optional().expect("other");
        assert_eq!(other.as_deref(), Some("kept"));
    }
}
