//! riskdesk storage on SQLite: the embedded default.
//!
//! WAL journal with `synchronous = NORMAL`: a committed transaction is in the WAL file before
//! the call returns, so it survives the process being killed (kill -9); only an operating-system
//! crash or power loss can take the last commits, which `synchronous_full` closes at a cost.
//! Writes go through a pool of exactly one connection (SQLite has one writer at a time, and
//! queueing in the pool beats retrying on SQLITE_BUSY); reads use their own pool.

mod bulk;
mod dialect;
mod hot;
mod seen;
mod tail;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::{Decision, EntityKey, EventType, OrderId};
use riskdesk_rules::features::ClusterFacts;
use riskdesk_store::codec::{self};
use riskdesk_store::{
    BulkTarget, EntityUse, HistoryDelta, HistorySize, InsertOutcome, ListEntry, NewEvent, NewOrder, OutboxMessage,
    ReplayEvent, ReplayRow, ScreeningQuery, ScreeningRows, Store, StoreError, StoreResult, ToScreen,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The sqlx connections' page cache: up to 1 GiB, grown on use.
const WRITER_CACHE: &str = "-1048576";

/// Rows per multi-row INSERT: fixed, so the statement text repeats and stays prepared.
const CHUNK: usize = 500;

#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    /// `synchronous = FULL`: also survive power loss, at the price of an fsync per commit.
    pub synchronous_full: bool,
    pub read_connections: u32,
    /// Entity uses held in memory before they are merged into the entity index (see `tail`).
    pub entity_tail_uses: usize,
}

/// About 40,000 orders' uses, a few tens of MiB: merged in key order, tens of them share each
/// index page they touch in an index of a few million entries.
pub const DEFAULT_ENTITY_TAIL_USES: usize = 262_144;

impl Default for SqliteOptions {
    fn default() -> Self {
        Self { synchronous_full: false, read_connections: 4, entity_tail_uses: DEFAULT_ENTITY_TAIL_USES }
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Order intake and screening reads (see `hot`).
    hot: Arc<hot::Hot>,
    /// The checkpoint task runs while any clone of the store lives.
    _alive: Arc<()>,
    /// The write turn held by the group commit's thread between writes (see `on_hot_writer_here`).
    turn: Arc<std::sync::Mutex<Option<HeldTurn>>>,
}

/// The sqlx writer connection, held since then.
type HeldTurn = (sqlx::pool::PoolConnection<Sqlite>, std::time::Instant);

/// How long the group commit's thread keeps the write turn while writes keep coming.
const TURN_HOLD: Duration = Duration::from_millis(20);

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn joined(e: tokio::task::JoinError) -> StoreError {
    StoreError::Database(format!("storage task failed: {e}"))
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path, opts: SqliteOptions) -> StoreResult<Self> {
        let base = SqliteConnectOptions::from_str("sqlite://")
            .map_err(db)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if opts.synchronous_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
            .busy_timeout(Duration::from_secs(10))
            // Group commit sends batches of every size from 1 to 256, each size its own statement
            // text; a cache that holds them all avoids re-preparing on every batch.
            .statement_cache_capacity(4096)
            .pragma("cache_size", WRITER_CACHE) // up to 1 GiB page cache per connection, grown on use
            // A commit checkpoints only past this bound; the background task does the copying.
            .pragma("wal_autocheckpoint", WAL_BOUND_PAGES.to_string())
            .pragma("journal_size_limit", "67108864")
            .pragma("threads", "2") // lets index builds sort on a second core
            .page_size(4096)
            .pragma("temp_store", "memory")
            .pragma("mmap_size", "268435456");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            // Every group commit takes this connection first (see `on_hot_writer`); testing it
            // on each take would cost two hand-offs to its worker thread on the one serial path
            // of intake. A file connection does not go stale.
            .test_before_acquire(false)
            .connect_with(base.clone())
            .await
            .map_err(db)?;
        sqlx::migrate!("./migrations").run(&writer).await.map_err(|e| StoreError::Migration(e.to_string()))?;
        ensure_indexes(&mut *writer.acquire().await.map_err(db)?).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.read_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone().read_only(true))
            .await
            .map_err(db)?;
        let checkpointer = SqlitePoolOptions::new().max_connections(1).connect_with(base).await.map_err(db)?;
        let alive = Arc::new(());
        tokio::spawn(checkpoint_loop(checkpointer, path.to_owned(), Arc::downgrade(&alive)));
        let hot = Arc::new(hot::Hot::new(path, opts.synchronous_full, opts.entity_tail_uses));
        let store = Self { writer, reader, hot, _alive: alive, turn: Arc::default() };
        // The entity uses a previous run left unmerged, before anything reads the index, and
        // the customer profiles a bulk load that died left unwritten.
        store.on_hot_writer(|hot| hot.recover()).await?;
        Ok(store)
    }

    /// Entity uses held in memory, not yet merged into the entity index.
    pub fn entity_tail_len(&self) -> usize {
        self.hot.tail_len()
    }

    /// The writer has its filter of the keys the entity index holds, so it skips look-ups of
    /// keys never stored (built in the background after the first write of an order).
    pub fn entity_filter_ready(&self) -> bool {
        self.hot.entity_filter_ready()
    }

    /// Runs a write on the hot writer connection on this thread (a thread of the group commit's
    /// own, in the runtime's context). The sqlx writer connection (the turn, see
    /// [`SqliteStore::on_hot_writer`]) is kept between writes while more are waiting. It goes
    /// back when either order queue runs dry (`idle`), and at the first write after it was held
    /// for [`TURN_HOLD`] (given back, then queued for again), so that other writes get theirs.
    fn on_hot_writer_here<T>(&self, write: impl FnOnce(&hot::Hot) -> StoreResult<T>) -> StoreResult<T> {
        let mut turn = self.turn.lock().unwrap_or_else(|p| p.into_inner());
        if turn.as_ref().is_some_and(|(_, since)| since.elapsed() > TURN_HOLD) {
            *turn = None;
        }
        if turn.is_none() {
            let rt = tokio::runtime::Handle::current();
            *turn = Some((rt.block_on(self.writer.acquire()).map_err(db)?, std::time::Instant::now()));
        }
        write(&self.hot)
    }

    /// Runs a write on the hot writer connection in a blocking task. Holding the sqlx writer
    /// meanwhile keeps every write to the file in one queue (see `hot`); it moves into the task
    /// so that it is held until the commit even if this future is dropped.
    async fn on_hot_writer<T: Send + 'static>(
        &self,
        write: impl FnOnce(&hot::Hot) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let turn = self.writer.acquire().await.map_err(db)?;
        let hot = self.hot.clone();
        tokio::task::spawn_blocking(move || {
            let out = write(&hot);
            drop(turn);
            out
        })
        .await
        .map_err(joined)?
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

impl riskdesk_store::BlockingWriter for SqliteStore {
    fn insert_orders(&self, batch: &[NewOrder]) -> StoreResult<Vec<InsertOutcome>> {
        self.on_hot_writer_here(|hot| hot.insert_orders(batch))
    }

    fn screen_orders(&self, batch: Vec<ToScreen>) -> StoreResult<Vec<riskdesk_store::Screened>> {
        self.on_hot_writer_here(|hot| hot.screen_orders(batch))
    }

    fn idle(&self) {
        *self.turn.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn blocking_writer(&self) -> Option<Arc<dyn riskdesk_store::BlockingWriter>> {
        Some(Arc::new(self.clone()))
    }

    async fn insert_orders(&self, batch: &[NewOrder]) -> StoreResult<Vec<InsertOutcome>> {
        let batch = batch.to_vec();
        self.on_hot_writer(move |hot| hot.insert_orders(&batch)).await
    }

    async fn insert_events(&self, batch: &[NewEvent]) -> StoreResult<Vec<InsertOutcome>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let order_ids: Vec<&str> = batch.iter().filter_map(|n| n.event.order_id.as_ref().map(|o| o.as_str())).collect();
        let owners: HashMap<String, String> = sqlx::query_as(
            "SELECT order_id, customer_id FROM orders WHERE order_id IN (SELECT value FROM json_each(?))",
        )
        .bind(serde_json::to_string(&order_ids).unwrap_or_default())
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .into_iter()
        .collect();
        let events = codec::fill_event_customers(batch, &owners);
        let mut inserted = HashSet::new();
        for chunk in batch.iter().zip(&events).collect::<Vec<_>>().chunks(CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (event_id, type, occurred_at, order_id, customer_id, body, received_at) ",
            );
            q.push_values(chunk, |mut b, (n, e)| {
                b.push_bind(e.event_id.to_string())
                    .push_bind(e.event_type.as_str())
                    .push_bind(e.occurred_at.timestamp_millis())
                    .push_bind(e.order_id.as_ref().map(|o| o.to_string()))
                    .push_bind(e.customer_id.as_ref().map(|c| c.to_string()))
                    .push_bind(codec::event_body(e))
                    .push_bind(ms(n.received_at));
            });
            q.push(" ON CONFLICT (event_id) DO NOTHING RETURNING event_id");
            let ids: Vec<String> = q.build_query_scalar().fetch_all(&mut *tx).await.map_err(db)?;
            inserted.extend(ids);
        }
        let labelled: Vec<&NewEvent> = batch
            .iter()
            .filter(|n| inserted.contains(n.event.event_id.as_str()))
            .filter(|n| matches!(n.event.event_type, EventType::FraudConfirmed | EventType::ChargebackReceived))
            .collect();
        for n in labelled {
            let fraud = n.event.event_type == EventType::FraudConfirmed;
            let customer: Option<String> = match &n.event.customer_id {
                Some(c) => Some(c.to_string()),
                None => match &n.event.order_id {
                    Some(o) => sqlx::query_scalar("SELECT customer_id FROM orders WHERE order_id = ?")
                        .bind(o.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?,
                    None => None,
                },
            };
            if let Some(c) = customer {
                flag_account(&mut tx, &c, fraud).await?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(codec::outcomes_from_inserted(batch.iter().map(|n| n.event.event_id.as_str()), &inserted))
    }

    async fn accounts_sharing(&self, key: &EntityKey) -> StoreResult<Vec<EntityUse>> {
        // The tail first, then the index without the tail's orders (see `tail`). The hash is
        // shared between kinds that match each other (shipping and billing address).
        let tail = self.hot.tail_copy(&tail::all_kinds(key.hash));
        // Per order and kind: a merge slice may end between an order's shipping and billing
        // entry of the same address, leaving one in the index and the other in the tail.
        let held: Vec<(&str, u8)> =
            tail.iter().flat_map(|(k, uses)| uses.iter().map(move |u| (u.order_id.as_str(), k.kind.code()))).collect();
        let mut rows: Vec<codec::EntityUseRow> = sqlx::query_as(
            "SELECT customer_id, kind, MIN(seen_at), MAX(seen_at), COUNT(*) FROM order_entities \
             WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM json_each(?) h \
             WHERE h.value ->> 0 = order_entities.order_id AND h.value ->> 1 = order_entities.kind) \
             GROUP BY customer_id, kind",
        )
        .bind(key.hash.to_vec())
        .bind(serde_json::to_string(&held).unwrap_or_default())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        // Merged by (account, kind) through a map: a hub has thousands of accounts in each part.
        let mut at: std::collections::HashMap<(String, i64), usize> =
            rows.iter().enumerate().map(|(i, r)| ((r.0.clone(), r.1), i)).collect();
        for (k, uses) in &tail {
            for u in uses {
                let kind = i64::from(k.kind.code());
                match at.get(&(u.customer_id.clone(), kind)) {
                    Some(&i) => {
                        let r = &mut rows[i];
                        r.2 = r.2.min(u.seen_at);
                        r.3 = r.3.max(u.seen_at);
                        r.4 += 1;
                    }
                    None => {
                        at.insert((u.customer_id.clone(), kind), rows.len());
                        rows.push((u.customer_id.clone(), kind, u.seen_at, u.seen_at, 1));
                    }
                }
            }
        }
        rows.into_iter().map(codec::entity_use_from_row).collect()
    }

    async fn begin_bulk_load(&self, target: BulkTarget, expected_rows: u64) -> StoreResult<()> {
        // The entity index's tail is merged first; the load then holds its entity uses in
        // memory and appends them in key order at its end (see `bulk`).
        let orders = if target == BulkTarget::Orders { expected_rows } else { 0 };
        self.on_hot_writer(move |hot| hot.begin_bulk(orders)).await?;
        for (name, _) in BULK_INDEXES.iter().filter(|(n, _)| target.owns_index(n)) {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}")))
                .execute(&self.writer)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    async fn end_bulk_load(&self) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        // The index builds sort with a 64 MiB budget and spill to temporary files: SQLite's
        // sorter then cuts the rows into runs that its second thread sorts while the first
        // reads on, and merges them. With the connection's 1 GiB cache and in-memory temporary
        // storage it sorts one huge run on one thread: 2 × slower measured for what was then
        // the entity index (8.9 s against 4.5 s, 8 M rows).
        sqlx::query("PRAGMA cache_size = -65536; PRAGMA temp_store = FILE").execute(&mut *conn).await.map_err(db)?;
        let built = ensure_indexes(&mut conn).await;
        // The tail merges again from here, whatever became of the build: should it have failed,
        // opening the store builds the missing indexes.
        // Ending the load writes its customer profiles: off the async workers.
        // The writer connection goes along, so that no other write starts meanwhile even
        // should this future be dropped.
        let hot = self.hot.clone();
        let (mut conn, ended) = tokio::task::spawn_blocking(move || {
            let ended = hot.end_bulk();
            (conn, ended)
        })
        .await
        .map_err(joined)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA cache_size = {WRITER_CACHE}; PRAGMA temp_store = MEMORY")))
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        built?;
        ended
    }

    async fn checkpoint(&self) -> StoreResult<()> {
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.writer).await.map_err(db)?;
        if busy != 0 {
            // A reader held an older snapshot: what it pins stays in the WAL, which is safe.
            tracing::debug!("checkpoint could not empty the WAL: a reader is active");
        }
        Ok(())
    }

    async fn screening_rows(&self, q: &ScreeningQuery) -> StoreResult<ScreeningRows> {
        // Run in place: the reads take a fraction of a millisecond, less than a hand-off to
        // another thread and back.
        self.hot.screening_rows(q)
    }

    fn screens_in_writer(&self) -> bool {
        true
    }

    async fn screen_orders(&self, batch: Vec<ToScreen>) -> StoreResult<Vec<riskdesk_store::Screened>> {
        self.on_hot_writer(move |hot| hot.screen_orders(batch)).await
    }

    async fn replay_rows(&self, cursor: Option<i64>, limit: i64) -> StoreResult<(Vec<ReplayRow>, Option<i64>)> {
        // Table order (rowid) is a sequential read; the caller sorts by time. On a hot
        // connection: sqlx would hand every row over from its worker thread.
        let hot = self.hot.clone();
        let limit = limit.max(1);
        let rows = tokio::task::spawn_blocking(move || hot.replay_rows(cursor.unwrap_or(0), limit))
            .await
            .map_err(joined)??;
        let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.0)).flatten();
        Ok((rows.into_iter().map(|(pos, body, entities)| ReplayRow { pos, body, entities }).collect(), next))
    }

    async fn history_after(&self, orders_after: i64, events_after: i64, limit: i64) -> StoreResult<HistoryDelta> {
        let hot = self.hot.clone();
        let limit = limit.max(0);
        let (orders, events, (n_orders, n_events)) =
            tokio::task::spawn_blocking(move || hot.history_after(orders_after, events_after, limit))
                .await
                .map_err(joined)??;
        let truncated = orders.len() as i64 > limit;
        Ok(HistoryDelta {
            orders: orders
                .into_iter()
                .take(limit as usize)
                .map(|(pos, body, entities)| ReplayRow { pos, body, entities })
                .collect(),
            truncated,
            events: codec::replay_events(events)?,
            size: HistorySize { orders: n_orders, events: n_events },
        })
    }

    async fn replay_events(&self) -> StoreResult<Vec<ReplayEvent>> {
        let rows: Vec<codec::ReplayEventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT rowid, occurred_at, type, order_id, customer_id, {} FROM events ORDER BY occurred_at, event_id",
            codec::TRAIL_BODY
        )))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        codec::replay_events(rows)
    }

    async fn open_approved_orders(&self, customers: &[String], since_ms: i64) -> StoreResult<Vec<OrderId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT o.order_id FROM orders o WHERE o.customer_id IN (SELECT value FROM json_each(?)) AND o.placed_at >= ? \
             AND (SELECT d.verdict FROM decisions d WHERE d.order_id = o.order_id ORDER BY d.seq DESC LIMIT 1) = 'approve' \
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.order_id = o.order_id \
                 AND e.type IN ('order_shipped', 'order_delivered', 'order_cancelled')) \
             ORDER BY o.placed_at LIMIT 1000",
        )
        .bind(serde_json::to_string(customers).unwrap_or_default())
        .bind(since_ms)
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        ids.iter().map(|i| OrderId::parse(i, "order_id").map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }

    async fn add_decision(&self, d: &Decision, outbox: &[OutboxMessage]) -> StoreResult<i64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let seq = append_decision(&mut tx, d).await?;
        if d.decision == riskdesk_domain::Verdict::Review {
            enqueue_review(&mut tx, d).await?;
        }
        let refs: Vec<&OutboxMessage> = outbox.iter().collect();
        insert_outbox(&mut tx, &refs).await?;
        tx.commit().await.map_err(db)?;
        Ok(seq)
    }

    async fn orders_for_linking(&self) -> StoreResult<Vec<(String, Vec<EntityKey>)>> {
        let hot = self.hot.clone();
        tokio::task::spawn_blocking(move || hot.orders_for_linking()).await.map_err(joined)?
    }

    async fn replace_clusters(
        &self,
        accounts: &[(String, String, bool, bool)],
        clusters: &[(String, ClusterFacts)],
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM account_links").execute(&mut *tx).await.map_err(db)?;
        sqlx::query("DELETE FROM clusters").execute(&mut *tx).await.map_err(db)?;
        for chunk in accounts.chunks(CHUNK) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT INTO account_links (customer_id, cluster_id, fraud, chargeback) ");
            q.push_values(chunk, |mut b, (c, id, f, cb)| {
                b.push_bind(c.clone()).push_bind(id.clone()).push_bind(i64::from(*f)).push_bind(i64::from(*cb));
            });
            q.build().execute(&mut *tx).await.map_err(db)?;
        }
        for chunk in clusters.chunks(CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO clusters (cluster_id, size, fraud_accounts, chargeback_accounts) ",
            );
            q.push_values(chunk, |mut b, (id, f)| {
                b.push_bind(id.clone()).push_bind(f.size).push_bind(f.fraud_accounts).push_bind(f.chargeback_accounts);
            });
            q.build().execute(&mut *tx).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db).map(|_| ())
    }
}

/// The WAL size (in 4 KiB pages, 256 MiB) past which a commit runs a checkpoint itself.
///
/// A background task copies the WAL back every 25 ms without ever blocking the writer, and the
/// writer starts the WAL over once everything was copied. Under sustained load that moment
/// rarely comes: a commit lands during nearly every background pass. Then a commit past this
/// bound copies the few frames left and syncs, which lets the next one start the WAL over: the
/// only checkpoint a request waits for. At SQLite's default of 1,000 pages that happened every
/// ~50 ms at 3,000 decisions/s (p90 ≈ 9 ms); at this bound, every few seconds (BENCHMARKS.md).
/// A long reader (a backtest) can hold the WAL from starting over; it grows meanwhile.
pub(crate) const WAL_BOUND_PAGES: u32 = 65_536;

/// Copies committed WAL frames into the database file from its own connection (PASSIVE never
/// blocks the writer) and syncs the file, so the checkpoint a commit runs past
/// [`WAL_BOUND_PAGES`] has little left to copy and flush.
async fn checkpoint_loop(pool: SqlitePool, path: std::path::PathBuf, alive: Weak<()>) {
    let file = std::fs::File::open(&path).ok().map(Arc::new);
    let mut synced_upto = -1;
    let mut tick = tokio::time::interval(Duration::from_millis(25));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if alive.upgrade().is_none() {
            break;
        }
        let copied = match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await
        {
            Ok((_, _, copied)) => copied,
            Err(e) => {
                tracing::warn!(error = %e, "background checkpoint failed");
                continue;
            }
        };
        // A passive checkpoint that stops short of the WAL's end leaves the pages it copied
        // unsynced; the next checkpoint to reach the end (in a commit, past the WAL bound) would
        // flush all of them while the writer waits. Flushing here keeps that wait short.
        if copied != synced_upto
            && let Some(f) = file.clone()
        {
            match tokio::task::spawn_blocking(move || f.sync_data()).await.map_err(std::io::Error::other) {
                Ok(Ok(())) => synced_upto = copied,
                Ok(Err(e)) | Err(e) => tracing::warn!(error = %e, "syncing the database file failed"),
            }
        }
    }
    pool.close().await;
}

/// Secondary indexes a bulk load drops and rebuilds; the same definitions as the migrations.
/// Primary keys stay: they carry idempotency. `orders_placed` stays too: history arrives in time
/// order, so its inserts append and cost about what rebuilding it would (0.5-0.6 s per million).
const BULK_INDEXES: &[(&str, &str)] = &[
    ("orders_customer", "CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id, placed_at)"),
    (
        "events_order",
        "CREATE INDEX IF NOT EXISTS events_order ON events (order_id, occurred_at) WHERE order_id IS NOT NULL",
    ),
    (
        "events_customer",
        "CREATE INDEX IF NOT EXISTS events_customer ON events (customer_id, occurred_at) WHERE customer_id IS NOT NULL",
    ),
    ("events_type", "CREATE INDEX IF NOT EXISTS events_type ON events (type, occurred_at)"),
    ("events_type_order", "CREATE INDEX IF NOT EXISTS events_type_order ON events (type, occurred_at, order_id)"),
    (
        "events_order_type",
        "CREATE INDEX IF NOT EXISTS events_order_type ON events (order_id, type) WHERE order_id IS NOT NULL",
    ),
];

/// Creates whatever secondary index is missing (all exist after migrations; a bulk load that
/// died half-way leaves some dropped).
async fn ensure_indexes(conn: &mut SqliteConnection) -> StoreResult<()> {
    for (name, ddl) in BULK_INDEXES {
        let start = std::time::Instant::now();
        sqlx::query(*ddl).execute(&mut *conn).await.map_err(db)?;
        tracing::debug!(index = name, seconds = start.elapsed().as_secs_f64(), "index ensured");
    }
    Ok(())
}

/// Entity uses per statement when many are written at once (six parameters each). 256
/// inserted a million orders' uses in 3.91-3.93 s against 4.00-4.15 s at 64 (fewer statement
/// steps, resets and statement journals); 1,024 gained nothing more (4.10-4.13 s).
pub(crate) const ENTITY_ROWS_PER_INSERT: usize = 256;

/// `INSERT INTO order_entities` of `rows` uses (hash, kind, time, order, account, amount each),
/// skipping any the keyed index (migration 0011) holds already: the tail's merge writes one at a
/// time, a bulk load [`ENTITY_ROWS_PER_INSERT`]. The full-size text is built once.
pub(crate) fn insert_entities_sql(rows: usize) -> std::borrow::Cow<'static, str> {
    fn build(rows: usize) -> String {
        let mut sql = String::from(
            "INSERT INTO order_entities (hash, kind, seen_at, order_id, customer_id, amount_minor) VALUES ",
        );
        for i in 0..rows {
            sql.push_str(if i == 0 { "(?, ?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?, ?)" });
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        sql
    }
    static FULL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| build(ENTITY_ROWS_PER_INSERT));
    if rows == ENTITY_ROWS_PER_INSERT { std::borrow::Cow::Borrowed(FULL.as_str()) } else { build(rows).into() }
}

/// Gives an account (the one parameter) its own cluster row unless it has one: on ingest in
/// `hot::ensure_linked`, and before a flag in [`flag_account`].
pub(crate) const OWN_LINK_SQL: &str = "INSERT INTO account_links (customer_id, cluster_id, fraud, chargeback) VALUES (?1, ?1, 0, 0) ON CONFLICT DO NOTHING";
/// The cluster of one that goes with a new [`OWN_LINK_SQL`] row.
pub(crate) const OWN_CLUSTER_SQL: &str = "INSERT INTO clusters (cluster_id, size, fraud_accounts, chargeback_accounts) VALUES (?1, 1, 0, 0) ON CONFLICT DO NOTHING";

/// Marks an account's confirmed fraud or chargeback once, and counts it in its cluster.
async fn flag_account(conn: &mut SqliteConnection, customer: &str, fraud: bool) -> StoreResult<()> {
    // An account alone has no row yet; its flag needs one, to be counted when it links later.
    let fresh = sqlx::query(OWN_LINK_SQL).bind(customer).execute(&mut *conn).await.map_err(db)?.rows_affected();
    if fresh > 0 {
        sqlx::query(OWN_CLUSTER_SQL).bind(customer).execute(&mut *conn).await.map_err(db)?;
    }
    let sql = if fraud {
        "UPDATE account_links SET fraud = 1 WHERE customer_id = ? AND fraud = 0 RETURNING cluster_id"
    } else {
        "UPDATE account_links SET chargeback = 1 WHERE customer_id = ? AND chargeback = 0 RETURNING cluster_id"
    };
    let cluster: Option<String> =
        sqlx::query_scalar(sql).bind(customer).fetch_optional(&mut *conn).await.map_err(db)?;
    if let Some(c) = cluster {
        let sql = if fraud {
            "UPDATE clusters SET fraud_accounts = fraud_accounts + 1 WHERE cluster_id = ?"
        } else {
            "UPDATE clusters SET chargeback_accounts = chargeback_accounts + 1 WHERE cluster_id = ?"
        };
        sqlx::query(sql).bind(c).execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

async fn insert_outbox(conn: &mut SqliteConnection, msgs: &[&OutboxMessage]) -> StoreResult<()> {
    for chunk in msgs.chunks(CHUNK / 2) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO webhook_outbox (id, endpoint, event_type, payload, created_at, attempts, next_attempt_at) ",
        );
        q.push_values(chunk, |mut b, m| {
            b.push_bind(m.id.clone())
                .push_bind(m.endpoint.clone())
                .push_bind(m.event_type.clone())
                .push_bind(m.payload.clone())
                .push_bind(ms(m.created_at))
                .push_bind(0i64)
                .push_bind(ms(m.created_at));
        });
        q.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

/// Appends a decision after the order's latest; returns its sequence number.
async fn append_decision(conn: &mut SqliteConnection, d: &Decision) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO decisions (order_id, seq, verdict, score, ruleset_version, reasons, decided_at) \
         SELECT $1, COALESCE(MAX(seq), -1) + 1, $2, $3, $4, $5, $6 FROM decisions WHERE order_id = $1 RETURNING seq",
    )
    .bind(d.order_id.as_str())
    .bind(d.decision.as_str())
    .bind(i64::from(d.score))
    .bind(d.ruleset_version)
    .bind(codec::reasons_json(d))
    .bind(ms(d.decided_at))
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

use dialect::*;

riskdesk_store_sql::impl_sql_stores!(
    SqliteStore, Sqlite, writer: writer, reader: reader, lock: "",
    country: "COALESCE(o.country, CASE WHEN typeof(o.body) = 'text' THEN json_extract(o.body, '$.shipping_address.country') END)",
    json_param: "$6", body_bytes: "o.body", dirty_order: "rowid", json_cast: "", skip_locked: ""
);
