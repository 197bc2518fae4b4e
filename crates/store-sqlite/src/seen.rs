//! Entity keys the index may hold: a Bloom filter over the entity keys of stored orders, kept
//! by the writer.
//!
//! Why: linking an account into its cluster looks up each linking entity of its order in the
//! index, and screening looks up each entity's recent uses. Most keys of a new account (its
//! e-mail, phone, card, device) were never stored before, and each such look-up is still a
//! B-tree descent that finds nothing: about a sixth of the writer's time per stored order
//! (BENCHMARKS.md, "Skipping look-ups of keys never stored"). A key the filter has never seen is
//! not in the index, and when the tail holds none of its uses either (checked separately), its
//! look-up is skipped. A false positive (about one key in a hundred) costs the look-up it would
//! have cost anyway. Every row of `order_entities` is a use by a stored order, whose keys are
//! also in its own row (`orders.entities`), so there are no false negatives as long as the
//! filter covers the keys of every stored order, which is what the rest of this module keeps
//! true (the index itself has no rowid to follow: see migration 0011):
//!
//! - It is built on a thread of its own from one snapshot: the keys of every order up to the
//!   highest rowid of `orders` (`upto`). Until the writer installs it, every look-up goes to
//!   the index.
//! - The writer installs it at the start of a write transaction and reads the orders above
//!   `upto`; again whenever another connection has committed since its last look (`PRAGMA
//!   data_version`: another process's intake or bulk load). Orders are appended with a rowid
//!   above the highest; only a deletion could let a later one take a lower rowid, so
//!   `entity_deletions` (kept by a trigger) counts deletions from `orders`, and any change drops
//!   the filter and builds it again. A deletion of entity rows alone leaves keys in the filter:
//!   a false positive at worst.
//! - This process's own intake adds the keys of each order it stores, before they are merged;
//!   a rolled-back transaction sets `upto` back (its keys stay: a false positive at worst).
//! - A bulk load writes orders around the filter: the filter is dropped for its duration and
//!   built again after it. It is dropped and built again, larger, when it holds twice the keys
//!   it was sized for, before its false-positive rate climbs.
//!
//! Readers (the API's look-ups on connections of their own) do not use it: they read a snapshot
//! the writer's filter may be ahead of or behind.

use crate::tail::{IndexKey, index_key};
use fastbloom::BloomFilter;
use riskdesk_store::codec;
use riskdesk_store::{StoreError, StoreResult};
use rusqlite::Connection;
use std::sync::Arc;

/// About one key in a hundred never stored is looked up anyway: 9.6 bits per row.
const FALSE_POSITIVES: f64 = 0.01;
/// Keys a new filter is sized for at least (1.2 MiB).
const MIN_CAPACITY: usize = 1 << 20;
/// Room per stored order when sizing a filter: orders carry up to nine keys, seven on average
/// in the demo history, and the filter should take as many again before it is rebuilt.
const KEYS_PER_ORDER: usize = 8;

/// Opens a read connection to the same file, for the builder thread.
pub(crate) type Opener = Arc<dyn Fn() -> StoreResult<Connection> + Send + Sync>;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

struct Filter {
    bloom: BloomFilter,
    /// Every order up to this rowid of `orders` has its keys in `bloom`.
    upto: i64,
    /// `entity_deletions.n` when the filter was built.
    deletions: i64,
    /// Keys added, and the keys it was sized for.
    items: usize,
    capacity: usize,
}

impl Filter {
    fn add(&mut self, key: &IndexKey) {
        self.bloom.insert(key);
        self.items += 1;
    }

    fn full(&self) -> bool {
        self.items > 2 * self.capacity
    }

    /// Adds the keys of the orders above `upto`. False when the filter must start over (a
    /// deletion happened).
    fn catch_up(&mut self, c: &Connection) -> StoreResult<bool> {
        let deletions: i64 =
            c.prepare_cached("SELECT n FROM entity_deletions").map_err(db)?.query_row([], |r| r.get(0)).map_err(db)?;
        if deletions != self.deletions {
            return Ok(false);
        }
        let mut st =
            c.prepare_cached("SELECT rowid, entities FROM orders WHERE rowid > ? ORDER BY rowid").map_err(db)?;
        let mut rows = st.query([self.upto]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            self.add_packed(r, 1)?;
            self.upto = r.get(0).map_err(db)?;
        }
        Ok(!self.full())
    }

    /// Adds the keys an order row holds packed at column `at` (`codec::pack_entities`).
    fn add_packed(&mut self, r: &rusqlite::Row<'_>, at: usize) -> StoreResult<()> {
        let blob = r.get_ref(at).map_err(db)?.as_blob().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for k in codec::unpack_entities(blob)? {
            self.add(&index_key(&k));
        }
        Ok(())
    }
}

/// Builds a filter of every stored order's keys in one snapshot (on the builder's own connection).
fn build(c: &Connection) -> StoreResult<Filter> {
    let tx = c.unchecked_transaction().map_err(db)?;
    let deletions: i64 = c.query_row("SELECT n FROM entity_deletions", [], |r| r.get(0)).map_err(db)?;
    let upto: i64 = c.query_row("SELECT COALESCE(MAX(rowid), 0) FROM orders", [], |r| r.get(0)).map_err(db)?;
    // Rowids are appended, so the highest is about the number of orders.
    let capacity = usize::try_from(upto).unwrap_or(0).saturating_mul(KEYS_PER_ORDER).max(MIN_CAPACITY);
    let mut f = Filter {
        bloom: BloomFilter::with_false_pos(FALSE_POSITIVES).expected_items(capacity),
        upto,
        deletions,
        items: 0,
        capacity,
    };
    {
        let mut st = c.prepare("SELECT entities FROM orders WHERE rowid <= ?").map_err(db)?;
        let mut rows = st.query([upto]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            f.add_packed(r, 0)?;
        }
    }
    tx.finish().map_err(db)?;
    Ok(f)
}

/// A finished build, with the generation it was started in.
type Build = (u64, StoreResult<Filter>);

/// The writer's filter, and the builder thread's hand-over.
pub(crate) struct Seen {
    filter: Option<Filter>,
    upto_at_start: i64,
    open: Option<Opener>,
    built: Arc<parking_lot::Mutex<Option<Build>>>,
    /// Bumped when a build under way would be stale when it arrives (a bulk load began).
    generation: u64,
    building: bool,
    /// A build or a catch-up failed: look-ups go to the index for the rest of the process.
    failed: bool,
}

impl Seen {
    /// Without `open`, no filter is ever built and every look-up goes to the index.
    pub(crate) fn new(open: Option<Opener>) -> Self {
        Self {
            filter: None,
            upto_at_start: 0,
            open,
            built: Arc::default(),
            generation: 0,
            building: false,
            failed: false,
        }
    }

    /// Whether the index may hold uses of this key (always, while there is no filter).
    pub(crate) fn may_hold(&self, key: &IndexKey) -> bool {
        self.filter.as_ref().is_none_or(|f| f.bloom.contains(key))
    }

    /// A filter is installed.
    pub(crate) fn ready(&self) -> bool {
        self.filter.is_some()
    }

    /// At the start of a write transaction, before it writes anything: installs a finished
    /// build and catches up with what other connections added (`changed`: one of them committed
    /// since the last look). During a bulk load there is no filter.
    pub(crate) fn begin_write(&mut self, c: &Connection, changed: bool, bulk: bool) {
        if bulk {
            if self.filter.take().is_some() || self.building {
                self.generation += 1;
                self.building = false;
            }
            return;
        }
        let mut fresh = false;
        if self.filter.is_none() {
            let done = self.built.lock().take();
            // A stale build (started before a bulk load) is dropped; the current one still comes.
            if let Some((generation, result)) = done
                && generation == self.generation
            {
                self.building = false;
                match result {
                    Ok(f) => {
                        self.filter = Some(f);
                        fresh = true;
                    }
                    Err(e) => self.fail(&e),
                }
            }
        }
        if let Some(f) = &mut self.filter
            && (changed || fresh)
        {
            match f.catch_up(c) {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!("entity filter starts over");
                    self.filter = None;
                }
                Err(e) => self.fail(&e),
            }
        }
        self.upto_at_start = self.filter.as_ref().map_or(0, |f| f.upto);
    }

    /// Intake wants a filter: starts building one unless there is one, or one is under way.
    pub(crate) fn want(&mut self) {
        if self.filter.is_some() || self.building || self.failed {
            return;
        }
        let Some(open) = self.open.clone() else { return };
        let (slot, generation) = (self.built.clone(), self.generation);
        let spawned = std::thread::Builder::new().name("rd-entity-filter".into()).spawn(move || {
            let start = std::time::Instant::now();
            let result = open().and_then(|c| build(&c));
            if let Ok(f) = &result {
                tracing::info!(keys = f.items, seconds = start.elapsed().as_secs_f64(), "entity filter built");
            }
            let mut slot = slot.lock();
            // Never over a newer build's result.
            if slot.as_ref().is_none_or(|(g, _)| *g <= generation) {
                *slot = Some((generation, result));
            }
        });
        match spawned {
            Ok(_) => self.building = true,
            Err(e) => self.fail(&StoreError::Database(e.to_string())),
        }
    }

    /// This transaction stored the order `rowid` with these keys.
    pub(crate) fn stored(&mut self, keys: impl IntoIterator<Item = IndexKey>, rowid: i64) {
        let Some(f) = &mut self.filter else { return };
        for key in keys {
            f.add(&key);
        }
        f.upto = f.upto.max(rowid);
        if f.full() {
            self.filter = None;
        }
    }

    /// The transaction rolled back: its orders are gone and their rowids will be handed out again.
    pub(crate) fn rolled_back(&mut self) {
        if let Some(f) = &mut self.filter {
            f.upto = self.upto_at_start;
        }
    }

    fn fail(&mut self, e: &StoreError) {
        tracing::warn!(error = %e, "entity filter disabled: every look-up goes to the index");
        self.filter = None;
        self.failed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    fn file() -> (tempfile::TempDir, Opener) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("f.db");
        let c = Connection::open(&path).expect("open");
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE orders (order_id TEXT, entities BLOB NOT NULL);
             CREATE TABLE entity_deletions (n INTEGER NOT NULL);
             INSERT INTO entity_deletions VALUES (0);
             CREATE TRIGGER d AFTER DELETE ON orders BEGIN UPDATE entity_deletions SET n = n + 1; END;",
        )
        .expect("schema");
        let open: Opener = Arc::new(move || Connection::open(&path).map_err(db));
        (dir, open)
    }

    fn key(n: u8) -> IndexKey {
        ([n; 16], 3)
    }

    /// Stores an order holding these keys; its rowid.
    fn insert(c: &Connection, keys: &[IndexKey]) -> i64 {
        let packed: Vec<u8> = keys.iter().flat_map(|(hash, kind)| std::iter::once(*kind).chain(*hash)).collect();
        c.execute("INSERT INTO orders VALUES ('O', ?)", params![packed]).expect("row");
        c.last_insert_rowid()
    }

    /// Starts a build and installs it: what the writer's first writes do.
    fn installed(open: &Opener, c: &Connection) -> Seen {
        let mut seen = Seen::new(Some(open.clone()));
        seen.want();
        for _ in 0..500 {
            seen.begin_write(c, false, false);
            if seen.ready() {
                return seen;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the filter was never built");
    }

    /// A file holding an order with `key(1)` and one with no keys, and the writer's filter of
    /// them, installed.
    fn one_row_installed() -> (tempfile::TempDir, Opener, Connection, Seen) {
        let (dir, open) = file();
        let c = open().expect("conn");
        insert(&c, &[key(1)]);
        insert(&c, &[]);
        let seen = installed(&open, &c);
        (dir, open, c, seen)
    }

    #[test]
    fn keys_stored_before_and_after_the_build_are_found_and_others_skipped() {
        let (_dir, open, c, mut seen) = one_row_installed();
        assert!(seen.may_hold(&key(1)));
        assert!(!seen.may_hold(&key(2)), "a key never stored");
        // Another connection appends: found once the writer sees it committed.
        let other = open().expect("other");
        insert(&other, &[key(2), key(4)]);
        seen.begin_write(&c, true, false);
        assert!(seen.may_hold(&key(2)) && seen.may_hold(&key(4)));
        // This writer's own order.
        let rowid = insert(&c, &[key(3)]);
        seen.stored([key(3)], rowid);
        assert!(seen.may_hold(&key(3)));
        let misses = (10..=250).filter(|n| seen.may_hold(&key(*n))).count();
        assert!(misses < 10, "{misses} false positives among 241 keys");
    }

    #[test]
    fn a_corrupt_packed_row_disables_the_filter_instead_of_missing_keys() {
        let (_dir, open, c, mut seen) = one_row_installed();
        let other = open().expect("other");
        other.execute("INSERT INTO orders VALUES ('O', x'0102')", []).expect("damaged row");
        seen.begin_write(&c, true, false);
        assert!(!seen.ready() && seen.may_hold(&key(9)), "every look-up goes to the index");
    }

    #[test]
    fn a_rolled_back_write_hands_its_rowids_back_and_orders_taking_them_are_found() {
        let (_dir, open, c, mut seen) = one_row_installed();
        seen.begin_write(&c, false, false);
        c.execute_batch("BEGIN").expect("begin");
        let rowid = insert(&c, &[key(5)]);
        seen.stored([key(5)], rowid);
        c.execute_batch("ROLLBACK").expect("rollback");
        seen.rolled_back();
        // Another process takes the same rowid for another key.
        let other = open().expect("other");
        assert_eq!(insert(&other, &[key(6)]), rowid);
        seen.begin_write(&c, true, false);
        assert!(seen.may_hold(&key(6)));
    }

    #[test]
    fn a_deletion_or_a_bulk_load_drops_the_filter_and_every_look_up_goes_to_the_index() {
        let (_dir, open, c, mut seen) = one_row_installed();
        // The highest order goes, so the next one takes its rowid again.
        c.execute("DELETE FROM orders WHERE rowid = 2", []).expect("delete");
        assert_eq!(insert(&c, &[key(7)]), 2);
        seen.begin_write(&c, true, false);
        assert!(!seen.ready());
        assert!(seen.may_hold(&key(7)) && seen.may_hold(&key(8)));
        let mut seen = installed(&open, &c);
        assert!(seen.may_hold(&key(7)) && !seen.may_hold(&key(8)));
        seen.begin_write(&c, false, true);
        assert!(!seen.ready() && seen.may_hold(&key(8)), "no filter during a bulk load");
    }

    #[test]
    fn without_an_opener_nothing_is_built() {
        let (_dir, open) = file();
        let c = open().expect("conn");
        let mut seen = Seen::new(None);
        seen.want();
        seen.begin_write(&c, true, false);
        assert!(!seen.ready() && seen.may_hold(&key(1)));
    }
}
