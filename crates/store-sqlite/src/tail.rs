//! The entity index's tail: the entity uses of orders stored since they were last merged, held
//! in memory and merged into `order_entities` in key order, one slice per write transaction.
//!
//! Why: each order adds about six entries with random 128-bit keys to the entity index, and
//! written as they come each lands on its own 4 KiB leaf page; that page write, its WAL frame and
//! its checkpoint copy were half the cost of a stored order (BENCHMARKS.md, "What bounds
//! store-only intake"). Merged in key order from a tail of many thousand uses, tens of entries
//! share each leaf they touch.
//!
//! A merge pass walks the tail in key order, a slice per write transaction (at least twice what
//! the transaction added, so merging outpaces intake), and takes each slice's uses out of memory
//! once it committed. Uses added during a pass wait for the next one (a generation number tells
//! them apart). A pass is never done in one go on intake, so no request waits for a whole one;
//! only loading a backlog back (on open, or another process's) and the flush before a bulk load
//! take time in proportion to what they move.
//!
//! Durability: an order's entity keys are in its own row (`orders.entities`), and
//! `entity_backlog` lists the orders whose keys may not be merged yet, both in the order's own
//! transaction. When a pass ends, its orders leave the backlog, again a slice per write. A process
//! that opens the file loads the backlog back into its tail (and picks up another process's
//! backlog the same way when the file changed under it). The index is keyed by the whole use
//! (migration 0011), and a merge skips entries already in it, so one cut short by a crash, or
//! run by two processes, leaves each entry once; the check is the key's own uniqueness probe,
//! which every insert makes anyway.
//!
//! Visibility: a lookup reads the tail and the index and counts what it finds in both once. A
//! reader copies what the tail holds for its keys before its snapshot begins, and the writer takes
//! merged uses out of the tail only after their commit, so each use is in one or the other. That
//! holds within a process; another process's unmerged uses become visible here at this process's
//! next write (which loads them), or when that process has merged them.

use crate::seen::{Opener, Seen};
use riskdesk_domain::{EntityKey, EntityKind};
use riskdesk_store::{StoreError, StoreResult, codec};
use rusqlite::{Connection, params};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

/// One stored order, as its entity uses in the tail see it.
#[derive(Debug)]
pub(crate) struct OrderUse {
    pub rowid: i64,
    pub order_id: String,
    pub customer_id: String,
    pub seen_at: i64,
    pub amount_minor: i64,
    /// The merge pass that takes it: the first to start after it arrived.
    generation: u64,
}

impl OrderUse {
    pub(crate) fn new(rowid: i64, order_id: String, customer_id: String, seen_at: i64, amount_minor: i64) -> Self {
        Self { rowid, order_id, customer_id, seen_at, amount_minor, generation: 0 }
    }
}

/// The tail's uses of one entity, oldest first.
pub(crate) type UseList = Vec<Arc<OrderUse>>;

/// Where lookups find the uses of an entity that may not be in the index yet: the live tail on
/// the writer, a copy of its part for a reader.
pub(crate) trait TailUses {
    fn uses_of(&self, key: &EntityKey) -> Option<&UseList>;

    /// False only when the index surely holds no use of this key (see `crate::seen`).
    fn may_be_indexed(&self, _key: &EntityKey) -> bool {
        true
    }
}

/// A reader's copy.
pub(crate) type Uses = HashMap<EntityKey, UseList>;

impl TailUses for Uses {
    fn uses_of(&self, key: &EntityKey) -> Option<&UseList> {
        self.get(key)
    }
}

/// The index's order: hash first.
pub(crate) type IndexKey = ([u8; 16], u8);

pub(crate) fn index_key(k: &EntityKey) -> IndexKey {
    (k.hash, k.kind.code())
}

/// Entries merged (and backlog rows cleared) per transaction at least.
const MIN_SLICE: usize = 64;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

pub(crate) struct Tail {
    uses: BTreeMap<IndexKey, UseList>,
    len: usize,
    /// Orders held, in the order they came, with their generation: a pass's orders are a prefix.
    held: VecDeque<(u64, i64)>,
    /// The same orders by rowid: an order is never held twice (a backlog read again after a
    /// failed write finds orders already held).
    held_rowids: HashSet<i64>,
    /// The generation new uses get.
    generation: u64,
    /// The highest backlog rowid this process has seen, and that at the start of the open
    /// transaction (a rolled-back insert's rowid is handed out again).
    backlog_max: i64,
    backlog_max_at_start: i64,
    /// `PRAGMA data_version` at the last look: it changes when another connection commits.
    data_version: Option<i64>,
    /// Uses added in the open transaction, taken out again if it fails.
    staged: Vec<(IndexKey, i64)>,
    staged_orders: usize,
    pass: Option<Pass>,
    /// Orders of finished passes still listed in the backlog, and how many of them the open
    /// transaction cleared.
    to_clear: VecDeque<i64>,
    cleared: usize,
    /// Uses held before a pass starts.
    threshold: usize,
    /// Which keys the index may hold (see `crate::seen`).
    pub(crate) seen: Seen,
}

/// A merge pass in progress.
struct Pass {
    generation: u64,
    /// The last key merged (by committed transactions, and by the open one).
    cursor: Option<IndexKey>,
    cursor_at_start: Option<IndexKey>,
    /// Keys the open transaction merged, whose uses leave the tail when it commits.
    merged: Vec<IndexKey>,
    done: bool,
}

impl TailUses for Tail {
    fn uses_of(&self, key: &EntityKey) -> Option<&UseList> {
        self.uses.get(&index_key(key))
    }

    fn may_be_indexed(&self, key: &EntityKey) -> bool {
        self.seen.may_hold(&index_key(key))
    }
}

impl Tail {
    /// `open` lets the writer build its filter of indexed keys (see `crate::seen`).
    pub(crate) fn new(threshold: usize, open: Option<Opener>) -> Self {
        Self {
            uses: BTreeMap::new(),
            len: 0,
            held: VecDeque::new(),
            held_rowids: HashSet::new(),
            generation: 0,
            backlog_max: 0,
            backlog_max_at_start: 0,
            data_version: None,
            staged: Vec::new(),
            staged_orders: 0,
            pass: None,
            to_clear: VecDeque::new(),
            cleared: 0,
            threshold: threshold.max(1),
            seen: Seen::new(open),
        }
    }

    /// Uses held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Nothing held, merging or waiting to leave the backlog.
    pub(crate) fn settled(&self) -> bool {
        self.len == 0 && self.pass.is_none() && self.to_clear.is_empty()
    }

    /// A copy of what the tail holds for these keys, for a reader to take before its snapshot.
    pub(crate) fn copy_for<'a>(&self, keys: impl IntoIterator<Item = &'a EntityKey>) -> Uses {
        keys.into_iter().filter_map(|k| self.uses_of(k).map(|v| (*k, v.clone()))).collect()
    }

    /// Adds a stored order's uses (inside the writer's open transaction) and lists the order in
    /// the backlog.
    pub(crate) fn stage(&mut self, c: &Connection, order: OrderUse, keys: &[EntityKey]) -> StoreResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        c.prepare_cached("INSERT INTO entity_backlog (order_rowid) VALUES (?) ON CONFLICT DO NOTHING")
            .map_err(db)?
            .execute([order.rowid])
            .map_err(db)?;
        self.hold(order, keys, true);
        Ok(())
    }

    fn hold(&mut self, mut order: OrderUse, keys: &[EntityKey], staged: bool) {
        self.backlog_max = self.backlog_max.max(order.rowid);
        if !self.held_rowids.insert(order.rowid) {
            return;
        }
        order.generation = self.generation;
        self.held.push_back((order.generation, order.rowid));
        if staged {
            self.staged_orders += 1;
        }
        let order = Arc::new(order);
        let mut seen = HashSet::with_capacity(keys.len());
        for k in keys.iter().map(index_key).filter(|k| seen.insert(*k)) {
            self.uses.entry(k).or_default().push(order.clone());
            self.len += 1;
            if staged {
                self.staged.push((k, order.rowid));
            }
        }
    }

    /// Loads the backlog rows above the highest this process has seen: all of them on open,
    /// afterwards only when another connection has committed since the last look (another
    /// process's intake). Runs inside the writer's transaction, so nothing commits in between,
    /// except between the parts of a bulk load's end (`bulk::HeldUses::insert_sorted`): what
    /// another process commits then is loaded at the next look, and merging skips what is
    /// indexed already.
    /// True when another connection committed since the last look.
    pub(crate) fn catch_up(&mut self, c: &Connection) -> StoreResult<bool> {
        let version: i64 =
            c.prepare_cached("PRAGMA data_version").map_err(db)?.query_row([], |r| r.get(0)).map_err(db)?;
        if self.data_version == Some(version) {
            return Ok(false);
        }
        self.data_version = Some(version);
        let mut st = c
            .prepare_cached(
                "SELECT o.rowid, o.order_id, o.customer_id, o.placed_at, o.total_minor, o.entities \
                 FROM entity_backlog b JOIN orders o ON o.rowid = b.order_rowid WHERE b.order_rowid > ? \
                 ORDER BY b.order_rowid",
            )
            .map_err(db)?;
        let mut rows = st.query([self.backlog_max]).map_err(db)?;
        let mut found = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            let rowid: i64 = r.get(0).map_err(db)?;
            let keys = r
                .get_ref(5)
                .map_err(db)?
                .as_blob()
                .map_err(|e| StoreError::Corrupt(e.to_string()))
                .and_then(codec::unpack_entities);
            let keys = match keys {
                Ok(keys) => keys,
                Err(e) => {
                    // One damaged row must not stop every write: its uses cannot be indexed
                    // (its keys are unreadable), the rest can. It stays in the backlog, so every
                    // process that loads the backlog reports it again.
                    tracing::error!(order_rowid = rowid, error = %e, "a backlogged order's entity keys are unreadable; skipped");
                    self.backlog_max = self.backlog_max.max(rowid);
                    continue;
                }
            };
            let order = OrderUse::new(
                rowid,
                r.get(1).map_err(db)?,
                r.get(2).map_err(db)?,
                r.get(3).map_err(db)?,
                r.get(4).map_err(db)?,
            );
            found.push((order, keys));
        }
        for (order, keys) in found {
            self.hold(order, &keys, false);
        }
        Ok(true)
    }

    /// Before anything else in a write transaction: what to go back to if it fails.
    pub(crate) fn begin_write(&mut self) {
        self.backlog_max_at_start = self.backlog_max;
    }

    /// At the start of a write transaction, after [`Tail::catch_up`]: begins a pass once the
    /// tail holds enough uses (on a flush, whatever it holds).
    pub(crate) fn begin_turn(&mut self, turn: Turn) {
        let due = match turn {
            Turn::Intake => self.len >= self.threshold,
            Turn::Flush => self.len > 0,
            Turn::Bulk => false,
        };
        if self.pass.is_none() && due {
            self.pass = Some(Pass {
                generation: self.generation,
                cursor: None,
                cursor_at_start: None,
                merged: Vec::new(),
                done: false,
            });
            self.generation += 1;
        }
        if let Some(p) = &mut self.pass {
            p.cursor_at_start = p.cursor;
        }
    }

    /// Merges the next slice of a pass in progress (on a flush, the rest of it), and clears a
    /// slice of finished passes' orders from the backlog.
    pub(crate) fn merge_step(&mut self, c: &Connection, turn: Turn) -> StoreResult<()> {
        if turn == Turn::Bulk {
            return Ok(());
        }
        let budget = if turn == Turn::Flush { usize::MAX } else { MIN_SLICE.max(2 * self.staged.len()) };
        if let Some(p) = &mut self.pass {
            // Another process may have loaded the same backlog and merged part of it, or a
            // crash cut a merge short: what is in the index already is skipped.
            let mut st = c.prepare_cached(&crate::insert_entities_sql(1)).map_err(db)?;
            let from = p.cursor.map_or(Bound::Unbounded, Bound::Excluded);
            let mut written = 0;
            let mut range = self.uses.range((from, Bound::Unbounded));
            loop {
                if written >= budget {
                    break;
                }
                let Some((key, list)) = range.next() else {
                    p.done = true;
                    break;
                };
                for u in list.iter().filter(|u| u.generation <= p.generation) {
                    st.execute(params![
                        &key.0[..],
                        i64::from(key.1),
                        u.seen_at,
                        u.order_id,
                        u.customer_id,
                        u.amount_minor
                    ])
                    .map_err(db)?;
                    written += 1;
                }
                p.cursor = Some(*key);
                p.merged.push(*key);
            }
        }
        let budget = if turn == Turn::Flush { usize::MAX } else { MIN_SLICE.max(2 * self.staged_orders) };
        let mut del = c.prepare_cached("DELETE FROM entity_backlog WHERE order_rowid = ?").map_err(db)?;
        for rowid in self.to_clear.iter().skip(self.cleared).take(budget) {
            del.execute([rowid]).map_err(db)?;
            self.cleared += 1;
        }
        Ok(())
    }

    /// After the transaction committed: its uses are visible, the slice it merged leaves the
    /// tail, and a finished pass hands its orders over to be cleared from the backlog.
    pub(crate) fn committed(&mut self) {
        self.staged.clear();
        self.staged_orders = 0;
        self.to_clear.drain(..self.cleared);
        self.cleared = 0;
        let Some(p) = &mut self.pass else { return };
        for key in p.merged.drain(..) {
            if let Some(list) = self.uses.get_mut(&key) {
                let before = list.len();
                list.retain(|u| u.generation > p.generation);
                self.len -= before - list.len();
                if list.is_empty() {
                    self.uses.remove(&key);
                }
            }
        }
        if p.done {
            let generation = p.generation;
            while self.held.front().is_some_and(|(g, _)| *g <= generation) {
                if let Some((_, rowid)) = self.held.pop_front() {
                    self.held_rowids.remove(&rowid);
                    self.to_clear.push_back(rowid);
                }
            }
            self.pass = None;
        }
    }

    /// After the transaction rolled back: its uses go, and the pass resumes where it stood.
    pub(crate) fn rolled_back(&mut self) {
        for (k, rowid) in std::mem::take(&mut self.staged) {
            if let Some(list) = self.uses.get_mut(&k) {
                let before = list.len();
                list.retain(|u| u.rowid != rowid);
                self.len -= before - list.len();
                if list.is_empty() {
                    self.uses.remove(&k);
                }
            }
        }
        for _ in 0..std::mem::take(&mut self.staged_orders) {
            if let Some((_, rowid)) = self.held.pop_back() {
                self.held_rowids.remove(&rowid);
            }
        }
        self.cleared = 0;
        if let Some(p) = &mut self.pass {
            p.cursor = p.cursor_at_start;
            p.merged.clear();
            p.done = false;
        }
        self.seen.rolled_back();
        // Whatever the failed transaction read may be stale: look again next time.
        self.backlog_max = self.backlog_max_at_start;
        self.data_version = None;
    }
}

/// What a write transaction does with the tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    /// Intake: merges a slice when a pass is due or running.
    Intake,
    /// Merges everything the tail holds (before a bulk load drops the index).
    Flush,
    /// A bulk load writes index rows itself while the index is dropped: no merging.
    Bulk,
}

/// Every kind an entity hash may be stored under (shipping and billing addresses share theirs).
pub(crate) fn all_kinds(hash: [u8; 16]) -> Vec<EntityKey> {
    EntityKind::ALL.map(|kind| EntityKey { kind, hash }).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskdesk_domain::EntityKind;

    fn key(kind: EntityKind, n: u8) -> EntityKey {
        EntityKey { kind, hash: [n; 16] }
    }

    /// A file with two orders in the backlog, as another process (or a previous run) left it.
    fn file_with_backlog() -> Connection {
        let c = Connection::open_in_memory().expect("open");
        c.execute_batch(
            "CREATE TABLE orders (order_id TEXT, customer_id TEXT, placed_at INTEGER, total_minor INTEGER, entities BLOB);
             CREATE TABLE entity_backlog (order_rowid INTEGER PRIMARY KEY);",
        )
        .expect("schema");
        for (i, keys) in [vec![key(EntityKind::Device, 1), key(EntityKind::Ip, 2)], vec![key(EntityKind::Device, 1)]]
            .into_iter()
            .enumerate()
        {
            c.execute(
                "INSERT INTO orders VALUES (?, ?, ?, 100, ?)",
                params![format!("O-{i}"), format!("C-{i}"), i as i64, codec::pack_entities(&keys)],
            )
            .expect("order");
            c.execute("INSERT INTO entity_backlog VALUES (last_insert_rowid())", []).expect("backlog");
        }
        c
    }

    /// That backlog, loaded by a first write into a tail of `threshold`.
    fn loaded(threshold: usize) -> (Connection, Tail) {
        let c = file_with_backlog();
        let mut tail = Tail::new(threshold, None);
        tail.begin_write();
        tail.catch_up(&c).expect("load");
        tail.committed();
        (c, tail)
    }

    #[test]
    fn a_backlog_read_again_after_a_failed_write_holds_each_order_once() {
        let (c, mut tail) = loaded(1_000);
        assert_eq!(tail.len(), 3);
        // The next write fails before it begins its turn: the backlog is looked at again.
        tail.begin_write();
        tail.rolled_back();
        tail.begin_write();
        tail.catch_up(&c).expect("load again");
        assert_eq!(tail.len(), 3, "no order held twice");
        assert_eq!(tail.uses_of(&key(EntityKind::Device, 1)).map(Vec::len), Some(2));
    }

    #[test]
    fn a_backlogged_order_with_unreadable_keys_is_skipped_and_the_rest_loaded() {
        let c = file_with_backlog();
        c.execute("UPDATE orders SET entities = x'0102' WHERE order_id = 'O-0'", []).expect("damage");
        let mut tail = Tail::new(1_000, None);
        tail.begin_write();
        assert!(tail.catch_up(&c).expect("load despite the damaged row"));
        tail.committed();
        assert_eq!(tail.len(), 1, "the other order's use");
        assert_eq!(tail.uses_of(&key(EntityKind::Device, 1)).map(Vec::len), Some(1));
        // The damaged row is not read again by this process.
        c.execute(
            "INSERT INTO orders VALUES ('O-2', 'C-2', 2, 100, ?)",
            [codec::pack_entities(&[key(EntityKind::Ip, 9)])],
        )
        .expect("order");
        c.execute("INSERT INTO entity_backlog VALUES (last_insert_rowid())", []).expect("backlog");
        tail.data_version = None;
        tail.begin_write();
        tail.catch_up(&c).expect("load");
        tail.committed();
        assert_eq!(tail.len(), 2);
    }

    #[test]
    fn a_rolled_back_write_takes_its_staged_uses_and_its_slice_back() {
        let (c, mut tail) = loaded(1);
        c.execute_batch(
            "CREATE TABLE order_entities (hash, kind, seen_at, order_id, customer_id, amount_minor, \
             PRIMARY KEY (hash, seen_at, customer_id, kind, amount_minor, order_id)) WITHOUT ROWID",
        )
        .expect("index table");
        tail.begin_write();
        tail.begin_turn(Turn::Intake);
        c.execute("INSERT INTO orders VALUES ('O-9', 'C-9', 9, 100, x'')", []).expect("order");
        tail.stage(&c, OrderUse::new(3, "O-9".into(), "C-9".into(), 9, 100), &[key(EntityKind::Email, 3)])
            .expect("stage");
        tail.merge_step(&c, Turn::Intake).expect("merge");
        assert_eq!(tail.len(), 4);
        tail.rolled_back();
        assert_eq!(tail.len(), 3, "the staged use is gone");
        assert!(tail.uses_of(&key(EntityKind::Email, 3)).is_none());
        // The pass starts over where it stood: everything is merged by the next write.
        tail.begin_write();
        tail.begin_turn(Turn::Intake);
        tail.merge_step(&c, Turn::Intake).expect("merge again");
        tail.committed();
        assert_eq!(tail.len(), 0);
    }
}
