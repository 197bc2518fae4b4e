//! The hot paths — storing screened orders, the reads behind a decision, and reading history
//! for a replay — on rusqlite connections with prepared statements, run back to back on one
//! thread (the reads of a decision in place: they take less than a hand-off would).
//!
//! Why not sqlx here: sqlx runs every SQLite statement on its connection's worker thread and
//! hands the rows back through a channel. For indexed look-ups of a few rows that hand-off costs
//! several times the look-up itself, and a decision needs about fourteen statements (history,
//! windows per entity, the account's orders, linked accounts, clusters) and its write about five
//! more per order (linking the account into its cluster). Everything else stays on sqlx.
//!
//! Row limits are written into the statement text, not bound: SQLite plans with the value of a
//! bound LIMIT and therefore re-prepares such a statement every time it is bound again, which
//! cost more than the query.
//!
//! Screened orders are read, judged and stored inside one write transaction on the writer's
//! connection (`screen_orders`): its page cache survives its own commits, and each order of a
//! group commit sees the ones before it.
//!
//! Writes stay serialised through one queue: the intake transaction first takes the sqlx writer
//! connection (the pool holds exactly one) and keeps it at least until it commits (the group
//! commit's own thread keeps it across batches while more are waiting, see
//! `SqliteStore::on_hot_writer_here`), so this second connection never competes with it for
//! SQLite's write lock.

use crate::bulk::{self, BulkLoad};
use crate::seen::Opener;
use crate::tail::{OrderUse, Tail, TailUses, Turn, UseList, Uses, index_key};
use riskdesk_domain::{Decision, EntityKey, Verdict};
use riskdesk_rules::features::{ClusterFacts, History};
use riskdesk_rules::velocity::UseRow;
use riskdesk_store::codec::{self, ClusterRow};
use riskdesk_store::{
    HUB_SCAN_ROWS, InsertOutcome, MAX_WINDOW_ROWS, NewOrder, OrderBody, OutboxMessage, ScreeningQuery, ScreeningRows,
    StoreError, StoreResult, ToScreen,
};
use riskdesk_store::{Screened, run_judge};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Idle read connections kept open; more are opened under load and closed after.
const KEEP_READERS: usize = 8;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

pub(crate) struct Hot {
    path: PathBuf,
    synchronous_full: bool,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Option<Connection>>,
    /// Locked after `writer` for the whole write transaction; readers copy from it briefly. A
    /// fair lock, released fairly after each write: the group commit's thread comes back for it
    /// at once while batches keep coming, and a reader waits for one transaction at most.
    tail: parking_lot::Mutex<Tail>,
    /// A bulk load runs (its index is dropped): entity rows are written directly, and customer
    /// profiles are folded in memory until its end (see `crate::bulk`). Locked inside `tail`.
    bulk: parking_lot::Mutex<Option<BulkLoad>>,
}

impl Hot {
    pub(crate) fn new(path: &Path, synchronous_full: bool, tail_uses: usize) -> Self {
        let filter_path = path.to_owned();
        let open_filter: Opener = Arc::new(move || open(&filter_path, synchronous_full, true));
        Self {
            path: path.to_owned(),
            synchronous_full,
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
            tail: parking_lot::Mutex::new(Tail::new(tail_uses, Some(open_filter))),
            bulk: parking_lot::Mutex::new(None),
        }
    }

    fn tail(&self) -> parking_lot::MutexGuard<'_, Tail> {
        self.tail.lock()
    }

    /// What the entity index's tail holds for these keys, copied before a reader's snapshot
    /// begins (see `crate::tail`).
    pub(crate) fn tail_copy<'a>(&self, keys: impl IntoIterator<Item = &'a EntityKey>) -> Uses {
        self.tail().copy_for(keys)
    }

    /// Uses the entity index's tail holds.
    pub(crate) fn tail_len(&self) -> usize {
        self.tail().len()
    }

    /// On open: loads the backlog of a previous run into the tail, and writes the customer
    /// profiles an interrupted bulk load left unwritten (see `crate::bulk`).
    pub(crate) fn recover(&self) -> StoreResult<()> {
        let started = std::time::Instant::now();
        if let Some(done) = self.write(Turn::Intake, |c, _, _| bulk::recover(c))? {
            tracing::warn!(
                orders = done.orders,
                unreadable = done.unreadable,
                seconds = started.elapsed().as_secs_f64(),
                "an interrupted bulk load's customer profiles and entity uses were written from its orders"
            );
        }
        Ok(())
    }

    /// Merges the whole tail into the index and starts a bulk load (see
    /// `SqliteStore::begin_bulk_load`), sized for `expected_orders`.
    pub(crate) fn begin_bulk(&self, expected_orders: u64) -> StoreResult<()> {
        // A pass under way merges only what it started with, and its orders leave the
        // backlog in the transaction after: flush until both are empty. Bounded, in case
        // intake in this process keeps adding.
        for _ in 0..8 {
            if self.tail().settled() {
                break;
            }
            self.write(Turn::Flush, |_, _, _| Ok(()))?;
        }
        if self.bulk.lock().is_none() {
            let load = self.write(Turn::Flush, |c, _, _| BulkLoad::begin(c, expected_orders))?;
            *self.bulk.lock() = Some(load);
        }
        Ok(())
    }

    /// Ends a bulk load: writes the customer profiles and entity uses it held.
    pub(crate) fn end_bulk(&self) -> StoreResult<()> {
        let load = self.bulk.lock().take();
        if let Some(mut load) = load {
            if let Err(e) = self.write(Turn::Flush, |c, _, _| load.finish(c)) {
                // Still a bulk load: ending it again retries, and its marker stays for the
                // next open should nobody.
                *self.bulk.lock() = Some(load);
                return Err(e);
            }
            tracing::debug!(
                accounts = load.accounts(),
                uses = load.uses(),
                "bulk load's profiles and entity uses written"
            );
        }
        Ok(())
    }

    /// The writer has its filter of indexed keys (see `crate::seen`).
    pub(crate) fn entity_filter_ready(&self) -> bool {
        self.tail().seen.ready()
    }

    fn open(&self, read_only: bool) -> StoreResult<Connection> {
        open(&self.path, self.synchronous_full, read_only)
    }

    /// Runs `f` on an idle read connection, in one read transaction (one snapshot).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let taken = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open(true)?,
        };
        let out = (|| {
            let tx = conn.unchecked_transaction().map_err(db)?;
            let out = f(&conn)?;
            tx.finish().map_err(db)?;
            Ok(out)
        })();
        let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP_READERS {
            idle.push(conn);
        }
        out
    }

    /// Runs `f` in a write transaction on the hot writer connection, with the entity index's
    /// tail caught up first and a slice of it merged after (see `crate::tail`). The caller holds
    /// the sqlx writer connection meanwhile. A bulk load's end commits its entity uses in parts
    /// inside `f` (see `crate::bulk`); the rest of the transaction is one.
    fn write<T>(
        &self,
        turn: Turn,
        f: impl FnOnce(&Connection, &mut Tail, Option<&mut BulkLoad>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut slot = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(self.open(false)?);
        }
        let Some(conn) = slot.as_mut() else { unreachable!("opened above") };
        let mut tail = self.tail();
        let mut bulk = self.bulk.lock();
        let turn = if bulk.is_some() { Turn::Bulk } else { turn };
        tail.begin_write();
        // A panic inside rolls the transaction back (dropping it) like an error, and the tail
        // forgets what the transaction staged, so the writer goes on with the next batch.
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db)?;
            let changed = tail.catch_up(&tx)?;
            tail.seen.begin_write(&tx, changed, bulk.is_some());
            tail.begin_turn(turn);
            if let Some(load) = bulk.as_ref() {
                load.mark(&tx)?;
            }
            let out = f(&tx, &mut tail, bulk.as_mut())?;
            tail.merge_step(&tx, turn)?;
            tx.commit().map_err(db)?;
            Ok(out)
        }))
        .unwrap_or_else(|_| Err(StoreError::Database("the write failed unexpectedly and was rolled back".into())));
        match (&out, bulk.as_mut()) {
            (Ok(_), load) => {
                tail.committed();
                load.map(BulkLoad::committed);
            }
            (Err(_), load) => {
                tail.rolled_back();
                load.map(BulkLoad::rolled_back);
            }
        }
        drop(bulk);
        parking_lot::MutexGuard::unlock_fair(tail);
        out
    }

    /// Orders (at most `limit` + 1, to tell a longer tail) and events after the given rowids, and
    /// the totals, in one snapshot.
    #[allow(clippy::type_complexity)]
    pub(crate) fn history_after(
        &self,
        orders_after: i64,
        events_after: i64,
        limit: i64,
    ) -> StoreResult<(Vec<(i64, String, Vec<u8>)>, Vec<codec::ReplayEventRow>, (i64, i64))> {
        self.read(|c| {
            let orders = c
                .prepare_cached("SELECT rowid, body, entities FROM orders WHERE rowid > ? ORDER BY rowid LIMIT ?")
                .map_err(db)?
                .query_map([orders_after, limit + 1], |r| Ok((r.get(0)?, body_text(r.get_ref(1)?), r.get(2)?)))
                .map_err(db)?
                .map(|r| r.map_err(db).and_then(|(rowid, body, entities)| Ok((rowid, body?, entities))))
                .collect::<StoreResult<_>>()?;
            let events = c
                .prepare_cached(&format!(
                    "SELECT rowid, occurred_at, type, order_id, customer_id, {} FROM events WHERE rowid > ? ORDER BY rowid",
                    codec::TRAIL_BODY
                ))
                .map_err(db)?
                .query_map([events_after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            let size = c
                .query_row("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM events)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(db)?;
            Ok((orders, events, size))
        })
    }

    /// Every order's account and entity keys, oldest first, ties in rowid order. The table is
    /// read in rowid order and sorted here: ordering by time in SQL would visit the rows through
    /// the time index, one random page read per order.
    pub(crate) fn orders_for_linking(&self) -> StoreResult<Vec<(String, Vec<EntityKey>)>> {
        let mut rows: Vec<(i64, String, Vec<EntityKey>)> = self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT placed_at, customer_id, entities FROM orders ORDER BY rowid").map_err(db)?;
            let mut q = st.query([]).map_err(db)?;
            let mut out = Vec::new();
            while let Some(r) = q.next().map_err(db)? {
                let packed = r.get_ref(2).map_err(db)?.as_blob().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                out.push((r.get(0).map_err(db)?, r.get(1).map_err(db)?, codec::unpack_entities(packed)?));
            }
            Ok(out)
        })?;
        rows.sort_by_key(|r| r.0);
        Ok(rows.into_iter().map(|(_, c, e)| (c, e)).collect())
    }

    /// A page of stored orders in table order, for replay: (rowid, body, packed entities).
    pub(crate) fn replay_rows(&self, after: i64, limit: i64) -> StoreResult<Vec<(i64, String, Vec<u8>)>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT rowid, body, entities FROM orders WHERE rowid > ? ORDER BY rowid LIMIT {limit}"
            ))
            .map_err(db)?
            .query_map([after], |r| Ok((r.get(0)?, body_text(r.get_ref(1)?), r.get(2)?)))
            .map_err(db)?
            .map(|r| r.map_err(db).and_then(|(rowid, body, entities)| Ok((rowid, body?, entities))))
            .collect()
        })
    }

    pub(crate) fn screening_rows(&self, q: &ScreeningQuery) -> StoreResult<ScreeningRows> {
        let uses = self.tail_copy(q.entities.iter().map(|e| &e.0).chain(&q.all_entities));
        self.read(|c| screening_rows(c, q, &uses))
    }

    pub(crate) fn insert_orders(&self, batch: &[NewOrder]) -> StoreResult<Vec<InsertOutcome>> {
        self.write(Turn::Intake, |c, tail, bulk| insert_orders(c, batch, tail, bulk))
    }

    /// Screens and stores a batch in one write transaction, order after order: each reads what
    /// the ones before it wrote. The reads run on the writer's own connection, whose page cache
    /// survives its own commits (a reader's is dropped whenever anyone else committed).
    pub(crate) fn screen_orders(&self, batch: Vec<ToScreen>) -> StoreResult<Vec<Screened>> {
        self.write(Turn::Intake, |c, tail, mut bulk| {
            let mut out = Vec::with_capacity(batch.len());
            for ToScreen { query, mut order, judge } in batch {
                let rows = screening_rows(c, &query, &*tail)?;
                if let Err(e) = run_judge(judge, &rows, &mut order) {
                    out.push(Err(e));
                    continue;
                }
                let outcome = insert_rows(c, std::slice::from_ref(&order), tail, bulk.as_deref_mut())?.pop();
                out.push(Ok((outcome.unwrap_or(InsertOutcome::Duplicate), order)));
            }
            let fresh: Vec<&NewOrder> = out
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .filter(|(o, _)| *o == InsertOutcome::Inserted)
                .map(|(_, n)| n)
                .collect();
            events_learn_customers(c, &fresh)?;
            Ok(out)
        })
    }
}

/// The JSON of a stored order body, packed or not (`riskdesk_store::body`).
fn body_text(v: rusqlite::types::ValueRef<'_>) -> StoreResult<String> {
    let bytes = v.as_bytes().map_err(|e| StoreError::Corrupt(format!("order body: {e}")))?;
    Ok(riskdesk_store::body::unpack(bytes)?.into_owned())
}

/// Opens a connection to the file as every rusqlite connection here is set up.
fn open(path: &Path, synchronous_full: bool, read_only: bool) -> StoreResult<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(db)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(db)?;
    // As the sqlx connections (see `SqliteStore::open`), but with a small page cache: in WAL
    // mode a connection drops its whole cache whenever another one committed since its last
    // transaction, which is before nearly every screening here, and dropping a large cache
    // (a walk over its hash table) costs more than re-reading the few pages a decision
    // touches; the writer's commits walk it too. No mmap: a file growing under load made
    // every connection re-map it. Commits checkpoint only past `crate::WAL_BOUND_PAGES`:
    // the background task copies the WAL back (see `checkpoint_loop`).
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {}; PRAGMA cache_size = -4096; PRAGMA temp_store = memory; \
         PRAGMA mmap_size = 0; PRAGMA wal_autocheckpoint = {};",
        if synchronous_full { "FULL" } else { "NORMAL" },
        crate::WAL_BOUND_PAGES,
    ))
    .map_err(db)?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

fn insert_orders(
    c: &Connection,
    batch: &[NewOrder],
    tail: &mut Tail,
    bulk: Option<&mut BulkLoad>,
) -> StoreResult<Vec<InsertOutcome>> {
    let outcomes = insert_rows(c, batch, tail, bulk)?;
    let fresh: Vec<&NewOrder> =
        batch.iter().zip(&outcomes).filter(|(_, o)| **o == InsertOutcome::Inserted).map(|(n, _)| n).collect();
    events_learn_customers(c, &fresh)?;
    Ok(outcomes)
}

/// Everything of [`insert_orders`] but the late events' update. Entity uses go to the tail, or
/// straight into the index's table during a bulk load, which also keeps the customer profiles
/// to write at its end.
fn insert_rows(
    c: &Connection,
    batch: &[NewOrder],
    tail: &mut Tail,
    bulk: Option<&mut BulkLoad>,
) -> StoreResult<Vec<InsertOutcome>> {
    // A repeated id within the batch inserts nothing the second time: a duplicate, as one stored before.
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut rowids = Vec::with_capacity(batch.len());
    {
        let mut st = c
            .prepare_cached(
                "INSERT INTO orders (order_id, customer_id, placed_at, channel, total_minor, currency, payment_method, \
                 body, entities, received_at, country, psp_reference, card_network) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (order_id) DO NOTHING",
            )
            .map_err(db)?;
        for n in batch {
            let o = &n.order;
            // Packed (and sealed) where the order was prepared; here otherwise.
            let stored_here;
            let body: &dyn rusqlite::ToSql = match &n.body {
                OrderBody::Packed(p) => p,
                OrderBody::Json(_) => {
                    stored_here = n.body.to_stored();
                    &stored_here
                }
            };
            let country = o.shipping_address.as_ref().and_then(|a| a.country.as_ref()).map(|c| c.as_str());
            let changed = st
                .execute(params![
                    o.order_id.as_str(),
                    o.customer.customer_id.as_str(),
                    o.placed_at.timestamp_millis(),
                    o.channel,
                    o.total.minor,
                    o.total.currency.code(),
                    o.payment.method.as_str(),
                    body,
                    codec::pack_entities(&n.entities),
                    n.received_at.timestamp_millis(),
                    country,
                    o.payment.psp_reference,
                    riskdesk_store::codec::card_network(o),
                ])
                .map_err(db)?;
            if changed > 0 {
                outcomes.push(InsertOutcome::Inserted);
                rowids.push(c.last_insert_rowid());
            } else {
                outcomes.push(InsertOutcome::Duplicate);
            }
        }
    }
    let fresh: Vec<&NewOrder> =
        batch.iter().zip(&outcomes).filter(|(_, o)| **o == InsertOutcome::Inserted).map(|(n, _)| n).collect();

    if let Some(load) = bulk {
        // A bulk load's profiles and entity uses are written at its end.
        load.stage(&fresh);
    } else {
        bulk::upsert_customers(c, &codec::customer_rows(&fresh))?;
        tail.seen.want();
        for (n, rowid) in fresh.iter().zip(&rowids) {
            tail.seen.stored(n.entities.iter().map(index_key), *rowid);
            let o = &n.order;
            let order = OrderUse::new(
                *rowid,
                o.order_id.to_string(),
                o.customer.customer_id.to_string(),
                o.placed_at.timestamp_millis(),
                o.total.minor,
            );
            tail.stage(c, order, &n.entities)?;
        }
    }

    let decisions: Vec<&Decision> = fresh.iter().filter_map(|n| n.decision.as_ref()).collect();
    insert_decisions(
        c,
        "INSERT INTO decisions (order_id, seq, verdict, score, ruleset_version, reasons, decided_at) \
         VALUES (?, 0, ?, ?, ?, ?, ?)",
        &decisions,
    )?;

    let outbox: Vec<&OutboxMessage> = fresh.iter().flat_map(|n| n.outbox.iter()).collect();
    if !outbox.is_empty() {
        let mut st = c
            .prepare_cached(
                "INSERT INTO webhook_outbox (id, endpoint, event_type, payload, created_at, attempts, next_attempt_at) \
                 VALUES (?, ?, ?, ?, ?, 0, ?)",
            )
            .map_err(db)?;
        for m in outbox {
            let at = m.created_at.timestamp_millis();
            st.execute(params![m.id, m.endpoint, m.event_type, m.payload, at, at]).map_err(db)?;
        }
    }

    for d in decisions.iter().filter(|d| d.decision == Verdict::Review) {
        c.prepare_cached(crate::ENQUEUE_REVIEW_SQL)
            .map_err(db)?
            .execute(params![
                i64::from(d.score),
                riskdesk_store::review::rules_column(d),
                d.decided_at.timestamp_millis(),
                d.order_id.as_str(),
            ])
            .map_err(db)?;
    }

    // Screened orders join their accounts' clusters now; imported history is linked by a
    // rebuild after the load.
    for n in fresh.iter().filter(|n| n.decision.is_some()) {
        link_account(c, n.order.customer.customer_id.as_str(), &n.entities, &*tail)?;
    }

    let shadows: Vec<&Decision> = fresh.iter().filter_map(|n| n.shadow.as_ref()).collect();
    insert_decisions(
        c,
        "INSERT INTO shadow_decisions (order_id, verdict, score, ruleset_version, reasons, decided_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        &shadows,
    )?;

    Ok(outcomes)
}

/// Writes decisions with `sql`, whose parameters are: order, verdict, score, rule-set version,
/// reasons, decided at.
fn insert_decisions(c: &Connection, sql: &str, decisions: &[&Decision]) -> StoreResult<()> {
    if decisions.is_empty() {
        return Ok(());
    }
    let mut st = c.prepare_cached(sql).map_err(db)?;
    for d in decisions {
        st.execute(params![
            d.order_id.as_str(),
            d.decision.as_str(),
            i64::from(d.score),
            d.ruleset_version,
            codec::reasons_json(d),
            d.decided_at.timestamp_millis(),
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// Events that arrived before their order now learn its customer: one look-up per order in
/// `events_orphans`, which lists only events that name an order but no customer (nearly always
/// none).
fn events_learn_customers(c: &Connection, fresh: &[&NewOrder]) -> StoreResult<()> {
    // Events nearly never wait for their order: one look at the (nearly always empty) index of
    // those that do spares a look-up per order, which was a sixth of a bulk load's writer time.
    let waiting: bool = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM events INDEXED BY events_orphans WHERE customer_id IS NULL AND order_id IS NOT NULL)",
        )
        .map_err(db)?
        .query_row([], |r| r.get(0))
        .map_err(db)?;
    if !waiting {
        return Ok(());
    }
    let mut st = c
        .prepare_cached(
            "UPDATE events SET customer_id = ?2 \
             WHERE customer_id IS NULL AND order_id = ?1",
        )
        .map_err(db)?;
    for n in fresh {
        st.execute(params![n.order.order_id.as_str(), n.order.customer.customer_id.as_str()]).map_err(db)?;
    }
    Ok(())
}

/// The reads behind a decision; `uses` holds the entity index's tail for the query's keys.
fn screening_rows(c: &Connection, q: &ScreeningQuery, uses: &dyn TailUses) -> StoreResult<ScreeningRows> {
    let mut history = History::default();
    let (n, spend, events, invites): (i64, Option<i64>, String, i64) = c
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM orders WHERE customer_id = ?1 AND placed_at <= ?2 AND order_id <> ?3), \
             (SELECT SUM(total_minor) FROM orders WHERE customer_id = ?1 AND placed_at <= ?2 AND order_id <> ?3), \
             (SELECT json_group_array(json_array(type, n, m)) FROM (SELECT type, COUNT(*) AS n, MAX(occurred_at) AS m \
                 FROM events WHERE customer_id = ?1 AND occurred_at < ?4 GROUP BY type)), \
             (SELECT COUNT(*) FROM customers WHERE ?5 IS NOT NULL AND invited_by = ?5 AND customer_id <> ?1 \
                 AND first_order_at <= ?2)",
        )
        .map_err(db)?
        .query_row(
            params![
                q.customer_id.as_str(),
                q.at_ms,
                q.order_id.as_str(),
                q.events_until_ms,
                q.invited_by.as_ref().map(|i| i.as_str()),
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .map_err(db)?;
    history.prior_orders = n;
    history.prior_spend_minor = spend.unwrap_or(0);
    let events: Vec<(String, i64, i64)> =
        serde_json::from_str(&events).map_err(|e| StoreError::Corrupt(format!("event counts: {e}")))?;
    codec::history_from_events(&mut history, &events);
    if q.invited_by.is_some() {
        history.inviter_invites = invites + 1;
    }

    let mut customer_orders = Vec::new();
    {
        let mut st = c
            .prepare_cached(&format!(
                "SELECT order_id, placed_at, total_minor, entities FROM orders WHERE customer_id = ? AND placed_at >= ? \
                 AND placed_at <= ? AND order_id <> ? ORDER BY placed_at DESC LIMIT {MAX_WINDOW_ROWS}"
            ))
            .map_err(db)?;
        let mut rows =
            st.query(params![q.customer_id.as_str(), q.customer_since_ms, q.at_ms, q.order_id.as_str()]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            let blob: &[u8] = r.get_ref(3).map_err(db)?.as_blob().map_err(|e| StoreError::Corrupt(e.to_string()))?;
            customer_orders.push(codec::use_row(
                r.get(0).map_err(db)?,
                q.customer_id.to_string(),
                r.get(1).map_err(db)?,
                r.get(2).map_err(db)?,
                blob,
            )?);
        }
    }

    let mut entity_rows = Vec::with_capacity(q.entities.len());
    for (key, since, with_entities) in &q.entities {
        // A key never stored has no uses in the index: only the tail's are read.
        let mut out: Vec<UseRow> = if !uses.may_be_indexed(key) {
            Vec::new()
        } else {
            c.prepare_cached(&format!(
                "SELECT order_id, customer_id, seen_at, amount_minor FROM order_entities WHERE hash = ? AND seen_at >= ? \
                 AND seen_at <= ? AND kind = ? AND order_id <> ? ORDER BY seen_at DESC LIMIT {MAX_WINDOW_ROWS}"
            ))
            .map_err(db)?
            .query_map(
                params![&key.hash[..], since, q.at_ms, i64::from(key.kind.code()), q.order_id.as_str()],
                |r| {
                    Ok(UseRow {
                        order_id: r.get(0)?,
                        customer_id: r.get(1)?,
                        at_ms: r.get(2)?,
                        amount_minor: r.get(3)?,
                        entities: Vec::new(),
                    })
                },
            )
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?
        };
        add_tail_uses(&mut out, uses.uses_of(key), MAX_WINDOW_ROWS, |u| {
            u.seen_at >= *since && u.seen_at <= q.at_ms && u.order_id != q.order_id.as_str()
        });
        if *with_entities && !out.is_empty() {
            let mut st = c.prepare_cached("SELECT entities FROM orders WHERE order_id = ?").map_err(db)?;
            for r in &mut out {
                let blob: Option<Vec<u8>> =
                    st.query_row([r.order_id.as_str()], |row| row.get(0)).optional().map_err(db)?;
                if let Some(b) = blob {
                    r.entities = codec::unpack_entities(&b)?;
                }
            }
        }
        entity_rows.push(out);
    }
    let cluster = cluster_facts(c, q.customer_id.as_str(), &q.all_entities, uses)?;
    let return_trail = if q.return_trail {
        let rows = c
            .prepare_cached(&format!(
                "SELECT rowid, occurred_at, type, order_id, customer_id, {} FROM events \
                 WHERE customer_id = ? AND occurred_at < ? AND type IN {} ORDER BY occurred_at, rowid",
                codec::TRAIL_BODY,
                codec::TRAIL_TYPES_SQL
            ))
            .map_err(db)?
            .query_map(params![q.customer_id.as_str(), q.events_until_ms], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        codec::replay_events(rows)?
    } else {
        Vec::new()
    };
    Ok(ScreeningRows { history, cluster, customer_orders, entity_rows, return_trail })
}

/// Accounts linked to `me` through these entities (hubs excluded): the latest uses of each
/// linking entity, in the index and its tail.
fn neighbours(c: &Connection, me: &str, entities: &[EntityKey], tail: &dyn TailUses) -> StoreResult<Vec<String>> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT order_id, customer_id, seen_at FROM order_entities WHERE hash = ? AND kind = ? \
             ORDER BY seen_at DESC LIMIT {HUB_SCAN_ROWS}"
        ))
        .map_err(db)?;
    let mut uses = Vec::new();
    for key in entities.iter().filter(|e| riskdesk_rules::clusters::links(e.kind)) {
        let mut rows: Vec<UseRow> = if tail.may_be_indexed(key) {
            st.query_map(params![&key.hash[..], i64::from(key.kind.code())], |r| {
                Ok(UseRow {
                    order_id: r.get(0)?,
                    customer_id: r.get(1)?,
                    at_ms: r.get(2)?,
                    amount_minor: 0,
                    entities: Vec::new(),
                })
            })
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?
        } else {
            Vec::new()
        };
        add_tail_uses(&mut rows, tail.uses_of(key), HUB_SCAN_ROWS, |_| true);
        uses.push((key.kind, rows.into_iter().map(|r| r.customer_id).collect()));
    }
    Ok(codec::linked_accounts(me, uses))
}

/// Adds to `rows` (the index's newest uses of one entity, at most `limit`) the tail's uses that
/// `keep` lets through, each order once, and keeps the newest `limit` of both.
fn add_tail_uses(rows: &mut Vec<UseRow>, tail: Option<&UseList>, limit: i64, keep: impl Fn(&OrderUse) -> bool) {
    let Some(tail) = tail else { return };
    let listed: HashSet<String> = rows.iter().map(|r| r.order_id.clone()).collect();
    rows.extend(tail.iter().filter(|u| keep(u) && !listed.contains(&u.order_id)).map(|u| UseRow {
        order_id: u.order_id.clone(),
        customer_id: u.customer_id.clone(),
        at_ms: u.seen_at,
        amount_minor: u.amount_minor,
        entities: Vec::new(),
    }));
    rows.sort_by_key(|r| std::cmp::Reverse(r.at_ms));
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
}

/// The clusters of those of these accounts that have one.
fn clusters_of(c: &Connection, accounts: &[String]) -> StoreResult<Vec<ClusterRow>> {
    let mut st = c
        .prepare_cached(
            "SELECT c.cluster_id, c.size, c.fraud_accounts, c.chargeback_accounts FROM account_links a \
             JOIN clusters c ON c.cluster_id = a.cluster_id WHERE a.customer_id = ?",
        )
        .map_err(db)?;
    let mut out = Vec::with_capacity(accounts.len());
    for a in accounts {
        if let Some((id, size, fraud, cb)) =
            st.query_row([a.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional().map_err(db)?
        {
            out.push((a.clone(), id, size, fraud, cb));
        }
    }
    Ok(out)
}

fn cluster_facts(c: &Connection, me: &str, entities: &[EntityKey], tail: &dyn TailUses) -> StoreResult<ClusterFacts> {
    let mut accounts = neighbours(c, me, entities, tail)?;
    accounts.push(me.to_owned());
    Ok(codec::merged_facts(accounts.len(), &clusters_of(c, &accounts)?))
}

/// Gives an account its own cluster unless it has one; true when it was new.
fn ensure_linked(c: &Connection, account: &str) -> StoreResult<bool> {
    let n = c.prepare_cached(crate::OWN_LINK_SQL).map_err(db)?.execute([account]).map_err(db)?;
    if n > 0 {
        c.prepare_cached(crate::OWN_CLUSTER_SQL).map_err(db)?.execute([account]).map_err(db)?;
    }
    Ok(n > 0)
}

/// Puts an account into a cluster with every account it now shares a non-hub entity with,
/// merging the smaller clusters into the largest. An account that shares nothing gets no row:
/// it is a cluster of one (see `riskdesk_store::codec::merged_facts`).
fn link_account(c: &Connection, me: &str, entities: &[EntityKey], tail: &dyn TailUses) -> StoreResult<()> {
    let mut accounts = neighbours(c, me, entities, tail)?;
    if accounts.is_empty() {
        return Ok(());
    }
    // Accounts alone until now get their own cluster first, then merge.
    ensure_linked(c, me)?;
    for a in &accounts {
        ensure_linked(c, a)?;
    }
    accounts.push(me.to_owned());
    let mut found: Vec<(String, i64, i64, i64)> =
        clusters_of(c, &accounts)?.into_iter().map(|r| (r.1, r.2, r.3, r.4)).collect();
    found.sort();
    found.dedup();
    if found.len() < 2 {
        return Ok(());
    }
    found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let (big, rest) = found.split_first().map(|(b, r)| (b.clone(), r.to_vec())).unwrap_or_default();
    let mut relink = c.prepare_cached("UPDATE account_links SET cluster_id = ? WHERE cluster_id = ?").map_err(db)?;
    let mut drop = c.prepare_cached("DELETE FROM clusters WHERE cluster_id = ?").map_err(db)?;
    for r in &rest {
        relink.execute([big.0.as_str(), r.0.as_str()]).map_err(db)?;
        drop.execute([r.0.as_str()]).map_err(db)?;
    }
    let (size, fraud, cb) = found.iter().fold((0, 0, 0), |t, r| (t.0 + r.1, t.1 + r.2, t.2 + r.3));
    c.prepare_cached("UPDATE clusters SET size = ?, fraud_accounts = ?, chargeback_accounts = ? WHERE cluster_id = ?")
        .map_err(db)?
        .execute(params![size, fraud, cb, big.0])
        .map_err(db)?;
    Ok(())
}
