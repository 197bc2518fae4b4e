//! riskdesk storage on PostgreSQL: the production backend, for several `riskdesk serve`
//! instances on one database.
//!
//! Batches are written with one `INSERT … SELECT FROM UNNEST(arrays)` per table, so a batch of
//! any size is a handful of statements. Idempotency rests on primary keys with
//! `ON CONFLICT DO NOTHING … RETURNING`, which stays correct when instances race on the same id.

mod dialect;
pub mod testing;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::{Decision, EntityKey, EventType, OrderId};
use riskdesk_rules::features::{ClusterFacts, History};
use riskdesk_rules::velocity::UseRow;
use riskdesk_store::codec::{self, ClusterRow};
use riskdesk_store::{
    BulkTarget, EntityUse, HUB_SCAN_ROWS, HistoryDelta, HistorySize, InsertOutcome, ListEntry, MAX_WINDOW_ROWS,
    NewEvent, NewOrder, OutboxMessage, ReplayEvent, ReplayRow, ScreeningQuery, ScreeningRows, Store, StoreError,
    StoreResult,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Keeps the profile of the latest order; the first order decides the sign-up channel.
macro_rules! upsert_customer {
    () => {
        "ON CONFLICT (customer_id) DO UPDATE SET \
    email = CASE WHEN excluded.last_order_at >= customers.last_order_at THEN COALESCE(excluded.email, customers.email) ELSE COALESCE(customers.email, excluded.email) END, \
    phone = CASE WHEN excluded.last_order_at >= customers.last_order_at THEN COALESCE(excluded.phone, customers.phone) ELSE COALESCE(customers.phone, excluded.phone) END, \
    name = CASE WHEN excluded.last_order_at >= customers.last_order_at THEN COALESCE(excluded.name, customers.name) ELSE COALESCE(customers.name, excluded.name) END, \
    created_at = COALESCE(customers.created_at, excluded.created_at), \
    invited_by = COALESCE(customers.invited_by, excluded.invited_by), \
    channel = CASE WHEN excluded.first_order_at < customers.first_order_at THEN COALESCE(excluded.channel, customers.channel) ELSE COALESCE(customers.channel, excluded.channel) END, \
    first_order_at = LEAST(customers.first_order_at, excluded.first_order_at), \
    last_order_at = GREATEST(customers.last_order_at, excluded.last_order_at)"
    };
}

/// Secondary indexes a bulk load drops and rebuilds; the same definitions as the migrations.
/// Primary keys stay: they carry idempotency.
const BULK_INDEXES: &[(&str, &str)] = &[
    ("orders_customer", "CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id, placed_at)"),
    ("orders_placed", "CREATE INDEX IF NOT EXISTS orders_placed ON orders (placed_at)"),
    ("orders_seq", "CREATE INDEX IF NOT EXISTS orders_seq ON orders (seq)"),
    ("events_seq", "CREATE INDEX IF NOT EXISTS events_seq ON events (seq)"),
    (
        "order_entities_hash",
        "CREATE INDEX IF NOT EXISTS order_entities_hash ON order_entities (hash, seen_at) INCLUDE (customer_id, kind, amount_minor, order_id)",
    ),
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
async fn ensure_indexes(pool: &PgPool) -> StoreResult<()> {
    for (_, ddl) in BULK_INDEXES {
        sqlx::query(*ddl).execute(pool).await.map_err(db)?;
    }
    Ok(())
}

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl PgStore {
    /// Connects and applies pending migrations (serialised across instances by sqlx's lock).
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(db)?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| StoreError::Migration(e.to_string()))?;
        ensure_indexes(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn insert_orders(&self, batch: &[NewOrder]) -> StoreResult<Vec<InsertOutcome>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let (
            mut ids,
            mut customers,
            mut placed,
            mut channels,
            mut totals,
            mut currencies,
            mut methods,
            mut bodies,
            mut received,
        ) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut psp_refs, mut networks): (Vec<Option<String>>, Vec<Option<&str>>) = (vec![], vec![]);
        let mut packed = Vec::with_capacity(batch.len());
        let mut countries: Vec<Option<String>> = Vec::with_capacity(batch.len());
        for n in batch {
            let o = &n.order;
            ids.push(o.order_id.to_string());
            customers.push(o.customer.customer_id.to_string());
            placed.push(o.placed_at.timestamp_millis());
            channels.push(o.channel.clone());
            totals.push(o.total.minor);
            currencies.push(o.total.currency.code().to_owned());
            methods.push(o.payment.method.as_str().to_owned());
            bodies.push(n.body.to_stored());
            packed.push(codec::pack_entities(&n.entities));
            received.push(ms(n.received_at));
            psp_refs.push(o.payment.psp_reference.clone());
            networks.push(codec::card_network(o));
            countries.push(o.shipping_address.as_ref().and_then(|a| a.country.as_ref()).map(|c| c.as_str().to_owned()));
        }
        let inserted: HashSet<String> = sqlx::query_scalar(
            "INSERT INTO orders (order_id, customer_id, placed_at, channel, total_minor, currency, payment_method, body, entities, received_at, \
             psp_reference, card_network, country) \
             SELECT u.id, u.c, u.p, u.ch, u.t, u.cur, u.m, u.b, u.e, u.r, u.psp, u.net, u.co \
             FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::text[], $7::text[], $8::bytea[], $9::bytea[], $10::int8[], \
                  $11::text[], $12::text[], $13::text[]) AS u(id, c, p, ch, t, cur, m, b, e, r, psp, net, co) \
             ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
        )
        .bind(&ids)
        .bind(&customers)
        .bind(&placed)
        .bind(&channels)
        .bind(&totals)
        .bind(&currencies)
        .bind(&methods)
        .bind(&bodies)
        .bind(&packed)
        .bind(&received)
        .bind(&psp_refs)
        .bind(&networks)
        .bind(&countries)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .into_iter()
        .collect();
        let outcomes = codec::outcomes_from_inserted(ids.iter().map(String::as_str), &inserted);
        let fresh: Vec<&NewOrder> =
            batch.iter().zip(&outcomes).filter(|(_, o)| **o == InsertOutcome::Inserted).map(|(n, _)| n).collect();
        if fresh.is_empty() {
            tx.commit().await.map_err(db)?;
            return Ok(outcomes);
        }

        // Same lock order in every transaction, so concurrent batches cannot deadlock.
        let mut rows = codec::customer_rows(&fresh);
        rows.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        let col = |f: fn(&codec::CustomerRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
        // Each contact sealed once.
        let (mut emails, mut phones, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for r in &rows {
            let (e, p, n) = r.sealed_contact();
            emails.push(e);
            phones.push(p);
            names.push(n);
        }
        sqlx::query(concat!(
            "INSERT INTO customers (customer_id, email, phone, name, created_at, invited_by, channel, first_order_at, last_order_at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[]) ",
            upsert_customer!()
        ))
        .bind(rows.iter().map(|r| r.customer_id.clone()).collect::<Vec<_>>())
        .bind(emails)
        .bind(phones)
        .bind(names)
        .bind(col(|r| r.created_at.clone()))
        .bind(col(|r| r.invited_by.clone()))
        .bind(col(|r| r.channel.clone()))
        .bind(rows.iter().map(|r| r.first_order_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.last_order_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db)?;

        let (mut hashes, mut kinds, mut seen, mut e_orders, mut e_customers, mut amounts) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for n in &fresh {
            for e in &n.entities {
                hashes.push(e.hash.to_vec());
                kinds.push(i64::from(e.kind.code()));
                seen.push(n.order.placed_at.timestamp_millis());
                e_orders.push(n.order.order_id.to_string());
                e_customers.push(n.order.customer.customer_id.to_string());
                amounts.push(n.order.total.minor);
            }
        }
        sqlx::query(
            "INSERT INTO order_entities (hash, kind, seen_at, order_id, customer_id, amount_minor) \
             SELECT * FROM UNNEST($1::bytea[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::int8[])",
        )
        .bind(&hashes)
        .bind(&kinds)
        .bind(&seen)
        .bind(&e_orders)
        .bind(&e_customers)
        .bind(&amounts)
        .execute(&mut *tx)
        .await
        .map_err(db)?;

        let decisions: Vec<&Decision> = fresh.iter().filter_map(|n| n.decision.as_ref()).collect();
        if !decisions.is_empty() {
            sqlx::query(
                "INSERT INTO decisions (order_id, seq, verdict, score, ruleset_version, reasons, decided_at) \
                 SELECT u.o, 0, u.v, u.s, u.rv, u.r::jsonb, u.d \
                 FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::int8[]) AS u(o, v, s, rv, r, d)",
            )
            .bind(decisions.iter().map(|d| d.order_id.to_string()).collect::<Vec<_>>())
            .bind(decisions.iter().map(|d| d.decision.as_str().to_owned()).collect::<Vec<_>>())
            .bind(decisions.iter().map(|d| i64::from(d.score)).collect::<Vec<_>>())
            .bind(decisions.iter().map(|d| d.ruleset_version).collect::<Vec<_>>())
            .bind(decisions.iter().map(|d| codec::reasons_json(d)).collect::<Vec<_>>())
            .bind(decisions.iter().map(|d| ms(d.decided_at)).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }

        let outbox: Vec<&OutboxMessage> = fresh.iter().flat_map(|n| n.outbox.iter()).collect();
        insert_outbox(&mut tx, &outbox).await?;
        for d in decisions.iter().filter(|d| d.decision == riskdesk_domain::Verdict::Review) {
            enqueue_review(&mut tx, d).await?;
        }

        // Screened orders join their accounts' clusters now; imported history is linked by
        // a rebuild after the load.
        for n in fresh.iter().filter(|n| n.decision.is_some()) {
            link_account(&mut tx, n.order.customer.customer_id.as_str(), &n.entities).await?;
        }

        let shadows: Vec<&Decision> = fresh.iter().filter_map(|n| n.shadow.as_ref()).collect();
        if !shadows.is_empty() {
            sqlx::query(
                "INSERT INTO shadow_decisions (order_id, ruleset_version, verdict, score, reasons, decided_at) \
                 SELECT u.o, u.rv, u.v, u.s, u.r::jsonb, u.d \
                 FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::int8[]) AS u(o, v, s, rv, r, d) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(shadows.iter().map(|d| d.order_id.to_string()).collect::<Vec<_>>())
            .bind(shadows.iter().map(|d| d.decision.as_str().to_owned()).collect::<Vec<_>>())
            .bind(shadows.iter().map(|d| i64::from(d.score)).collect::<Vec<_>>())
            .bind(shadows.iter().map(|d| d.ruleset_version).collect::<Vec<_>>())
            .bind(shadows.iter().map(|d| codec::reasons_json(d)).collect::<Vec<_>>())
            .bind(shadows.iter().map(|d| ms(d.decided_at)).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }

        // Events that arrived before their order now learn its customer.
        let fresh_ids: Vec<String> = fresh.iter().map(|n| n.order.order_id.to_string()).collect();
        sqlx::query(
            "UPDATE events e SET customer_id = o.customer_id \
             FROM orders o WHERE e.customer_id IS NULL AND e.order_id = o.order_id AND o.order_id = ANY($1)",
        )
        .bind(&fresh_ids)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(outcomes)
    }

    async fn insert_events(&self, batch: &[NewEvent]) -> StoreResult<Vec<InsertOutcome>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let order_ids: Vec<String> =
            batch.iter().filter_map(|n| n.event.order_id.as_ref().map(|o| o.to_string())).collect();
        let owners: HashMap<String, String> =
            sqlx::query_as("SELECT order_id, customer_id FROM orders WHERE order_id = ANY($1)")
                .bind(&order_ids)
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?
                .into_iter()
                .collect();
        let events = codec::fill_event_customers(batch, &owners);
        let inserted: HashSet<String> = sqlx::query_scalar(
            "INSERT INTO events (event_id, type, occurred_at, order_id, customer_id, body, received_at) \
             SELECT u.id, u.t, u.at, u.o, u.c, u.b, u.r \
             FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::int8[]) AS u(id, t, at, o, c, b, r) \
             ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        )
        .bind(events.iter().map(|e| e.event_id.to_string()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.event_type.as_str().to_owned()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.occurred_at.timestamp_millis()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.order_id.as_ref().map(|o| o.to_string())).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.customer_id.as_ref().map(|c| c.to_string())).collect::<Vec<_>>())
        .bind(events.iter().map(codec::event_body).collect::<Vec<_>>())
        .bind(batch.iter().map(|n| ms(n.received_at)).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .into_iter()
        .collect();
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
                    Some(o) => sqlx::query_scalar("SELECT customer_id FROM orders WHERE order_id = $1")
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
        let rows: Vec<codec::EntityUseRow> = sqlx::query_as(
            "SELECT customer_id, kind, MIN(seen_at), MAX(seen_at), COUNT(*) FROM order_entities \
             WHERE hash = $1 GROUP BY customer_id, kind",
        )
        .bind(key.hash.to_vec())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter().map(codec::entity_use_from_row).collect()
    }

    async fn begin_bulk_load(&self, target: BulkTarget, _expected_rows: u64) -> StoreResult<()> {
        for (name, _) in BULK_INDEXES.iter().filter(|(n, _)| target.owns_index(n)) {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}")))
                .execute(&self.pool)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    async fn end_bulk_load(&self) -> StoreResult<()> {
        ensure_indexes(&self.pool).await?;
        sqlx::query("ANALYZE").execute(&self.pool).await.map_err(db)?;
        Ok(())
    }

    async fn screening_rows(&self, q: &ScreeningQuery) -> StoreResult<ScreeningRows> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let mut history = History::default();
        let (n, spend): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), SUM(total_minor)::int8 FROM orders WHERE customer_id = $1 AND placed_at <= $2 AND order_id <> $3",
        )
        .bind(q.customer_id.as_str())
        .bind(q.at_ms)
        .bind(q.order_id.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
        history.prior_orders = n;
        history.prior_spend_minor = spend.unwrap_or(0);
        let events: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT type, COUNT(*), MAX(occurred_at) FROM events WHERE customer_id = $1 AND occurred_at < $2 GROUP BY type",
        )
        .bind(q.customer_id.as_str())
        .bind(q.events_until_ms)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        codec::history_from_events(&mut history, &events);
        if let Some(inviter) = &q.invited_by {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM customers WHERE invited_by = $1 AND customer_id <> $2 AND first_order_at <= $3",
            )
            .bind(inviter.as_str())
            .bind(q.customer_id.as_str())
            .bind(q.at_ms)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            history.inviter_invites = n + 1;
        }
        let rows: Vec<(String, i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT order_id, placed_at, total_minor, entities FROM orders WHERE customer_id = $1 AND placed_at >= $2 \
             AND placed_at <= $3 AND order_id <> $4 ORDER BY placed_at DESC LIMIT $5",
        )
        .bind(q.customer_id.as_str())
        .bind(q.customer_since_ms)
        .bind(q.at_ms)
        .bind(q.order_id.as_str())
        .bind(MAX_WINDOW_ROWS)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let customer_orders = rows
            .into_iter()
            .map(|(id, at, amount, ents)| codec::use_row(id, q.customer_id.to_string(), at, amount, &ents))
            .collect::<StoreResult<_>>()?;
        let mut entity_rows = Vec::with_capacity(q.entities.len());
        for (key, since, with_entities) in &q.entities {
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT order_id, customer_id, seen_at, amount_minor FROM order_entities WHERE hash = $1 AND seen_at >= $2 \
                 AND seen_at <= $3 AND kind = $4 AND order_id <> $5 ORDER BY seen_at DESC LIMIT $6",
            )
            .bind(key.hash.to_vec())
            .bind(*since)
            .bind(q.at_ms)
            .bind(i64::from(key.kind.code()))
            .bind(q.order_id.as_str())
            .bind(MAX_WINDOW_ROWS)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
            let mut out: Vec<UseRow> = rows
                .into_iter()
                .map(|(order_id, customer_id, at_ms, amount_minor)| UseRow {
                    order_id,
                    customer_id,
                    at_ms,
                    amount_minor,
                    entities: Vec::new(),
                })
                .collect();
            if *with_entities && !out.is_empty() {
                let ids: Vec<String> = out.iter().map(|r| r.order_id.clone()).collect();
                let blobs: Vec<(String, Vec<u8>)> =
                    sqlx::query_as("SELECT order_id, entities FROM orders WHERE order_id = ANY($1)")
                        .bind(&ids)
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(db)?;
                let by_id: HashMap<String, Vec<u8>> = blobs.into_iter().collect();
                for r in &mut out {
                    if let Some(b) = by_id.get(&r.order_id) {
                        r.entities = codec::unpack_entities(b)?;
                    }
                }
            }
            entity_rows.push(out);
        }
        let cluster = cluster_facts(&mut conn, q.customer_id.as_str(), &q.all_entities).await?;
        let return_trail = if q.return_trail {
            let rows: Vec<codec::ReplayEventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT seq, occurred_at, type, order_id, customer_id, {} FROM events \
                 WHERE customer_id = $1 AND occurred_at < $2 AND type IN {} ORDER BY occurred_at, seq",
                codec::TRAIL_BODY,
                codec::TRAIL_TYPES_SQL
            )))
            .bind(q.customer_id.as_str())
            .bind(q.events_until_ms)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
            codec::replay_events(rows)?
        } else {
            Vec::new()
        };
        Ok(ScreeningRows { history, cluster, customer_orders, entity_rows, return_trail })
    }

    async fn replay_rows(&self, cursor: Option<i64>, limit: i64) -> StoreResult<(Vec<ReplayRow>, Option<i64>)> {
        // Keyset pages in storage order; the caller sorts by time.
        let after = cursor.unwrap_or(0);
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT seq, body, entities FROM orders WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(limit.max(1))
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        let next = (rows.len() as i64 == limit.max(1)).then(|| rows.last().map(|r| r.0)).flatten();
        Ok((rows.into_iter().map(codec::replay_row).collect::<StoreResult<_>>()?, next))
    }

    async fn history_after(&self, orders_after: i64, events_after: i64, limit: i64) -> StoreResult<HistoryDelta> {
        // One snapshot for the rows and the totals (see `HistoryDelta`).
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let limit = limit.max(0);
        let mut orders: Vec<(i64, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT seq, body, entities FROM orders WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(orders_after)
                .bind(limit + 1)
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
        let events: Vec<codec::ReplayEventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT seq, occurred_at, type, order_id, customer_id, {} FROM events WHERE seq > $1 ORDER BY seq",
            codec::TRAIL_BODY
        )))
        .bind(events_after)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let (n_orders, n_events): (i64, i64) =
            sqlx::query_as("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM events)")
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let truncated = orders.len() as i64 > limit;
        orders.truncate(limit as usize);
        Ok(HistoryDelta {
            orders: orders.into_iter().map(codec::replay_row).collect::<StoreResult<_>>()?,
            truncated,
            events: codec::replay_events(events)?,
            size: HistorySize { orders: n_orders, events: n_events },
        })
    }

    async fn replay_events(&self) -> StoreResult<Vec<ReplayEvent>> {
        let rows: Vec<codec::ReplayEventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT seq, occurred_at, type, order_id, customer_id, {} FROM events ORDER BY occurred_at, event_id",
            codec::TRAIL_BODY
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        codec::replay_events(rows)
    }

    async fn open_approved_orders(&self, customers: &[String], since_ms: i64) -> StoreResult<Vec<OrderId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT o.order_id FROM orders o WHERE o.customer_id IN (SELECT UNNEST($1::text[])) AND o.placed_at >= $2 \
             AND (SELECT d.verdict FROM decisions d WHERE d.order_id = o.order_id ORDER BY d.seq DESC LIMIT 1) = 'approve' \
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.order_id = o.order_id \
                 AND e.type IN ('order_shipped', 'order_delivered', 'order_cancelled')) \
             ORDER BY o.placed_at LIMIT 1000",
        )
        .bind(customers)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        ids.iter().map(|i| OrderId::parse(i, "order_id").map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }

    async fn add_decision(&self, d: &Decision, outbox: &[OutboxMessage]) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
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
        // One row per order with its packed keys: a fifth of the rows of `order_entities`.
        let rows: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT customer_id, entities FROM orders ORDER BY placed_at, seq")
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        rows.into_iter().map(|(c, packed)| Ok((c, codec::unpack_entities(&packed)?))).collect()
    }

    async fn replace_clusters(
        &self,
        accounts: &[(String, String, bool, bool)],
        clusters: &[(String, ClusterFacts)],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_links(&mut tx).await?;
        sqlx::query("DELETE FROM account_links").execute(&mut *tx).await.map_err(db)?;
        sqlx::query("DELETE FROM clusters").execute(&mut *tx).await.map_err(db)?;
        for chunk in accounts.chunks(10_000) {
            sqlx::query(
                "INSERT INTO account_links (customer_id, cluster_id, fraud, chargeback) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[])",
            )
            .bind(chunk.iter().map(|a| a.0.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|a| a.1.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|a| i64::from(a.2)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|a| i64::from(a.3)).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        for chunk in clusters.chunks(10_000) {
            sqlx::query(
                "INSERT INTO clusters (cluster_id, size, fraud_accounts, chargeback_accounts) \
                 SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[])",
            )
            .bind(chunk.iter().map(|c| c.0.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.1.size).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.1.fraud_accounts).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.1.chargeback_accounts).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db).map(|_| ())
    }
}

/// Accounts linked to `me` through these entities (hubs excluded): the latest uses of every
/// linking entity in one round trip.
async fn neighbours(conn: &mut PgConnection, me: &str, entities: &[EntityKey]) -> StoreResult<Vec<String>> {
    let linking: Vec<&EntityKey> = entities.iter().filter(|e| riskdesk_rules::clusters::links(e.kind)).collect();
    if linking.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT k.i, u.customer_id FROM UNNEST($1::bytea[], $2::int8[]) WITH ORDINALITY AS k(hash, kind, i) \
         CROSS JOIN LATERAL (SELECT customer_id FROM order_entities e WHERE e.hash = k.hash AND e.kind = k.kind \
         ORDER BY e.seen_at DESC LIMIT $3) u",
    )
    .bind(linking.iter().map(|k| k.hash.to_vec()).collect::<Vec<_>>())
    .bind(linking.iter().map(|k| i64::from(k.kind.code())).collect::<Vec<_>>())
    .bind(HUB_SCAN_ROWS)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let uses = linking
        .iter()
        .enumerate()
        .map(|(i, key)| (key.kind, rows.iter().filter(|r| r.0 as usize == i + 1).map(|r| r.1.clone()).collect()));
    Ok(codec::linked_accounts(me, uses))
}

/// The clusters of those of these accounts that have one.
async fn clusters_of(conn: &mut PgConnection, accounts: &[String]) -> StoreResult<Vec<ClusterRow>> {
    sqlx::query_as(
        "SELECT a.customer_id, c.cluster_id, c.size, c.fraud_accounts, c.chargeback_accounts FROM account_links a \
         JOIN clusters c ON c.cluster_id = a.cluster_id WHERE a.customer_id = ANY($1)",
    )
    .bind(accounts)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)
}

async fn cluster_facts(conn: &mut PgConnection, me: &str, entities: &[EntityKey]) -> StoreResult<ClusterFacts> {
    let mut accounts = neighbours(conn, me, entities).await?;
    accounts.push(me.to_owned());
    Ok(codec::merged_facts(accounts.len(), &clusters_of(conn, &accounts).await?))
}

async fn ensure_linked(conn: &mut PgConnection, account: &str) -> StoreResult<()> {
    let n = sqlx::query(
        "INSERT INTO account_links (customer_id, cluster_id, fraud, chargeback) VALUES ($1, $1, 0, 0) ON CONFLICT DO NOTHING",
    )
    .bind(account)
    .execute(&mut *conn)
    .await
    .map_err(db)?
    .rows_affected();
    if n > 0 {
        sqlx::query(
            "INSERT INTO clusters (cluster_id, size, fraud_accounts, chargeback_accounts) VALUES ($1, 1, 0, 0) ON CONFLICT DO NOTHING",
        )
        .bind(account)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// Key of the advisory lock that serialises changes to the cluster partition.
const LINKS_LOCK: i64 = 0x7269_736b_6c69_6e6b;

/// Linking and flagging change the cluster partition, whose rows a transaction reaches in an
/// order only the data decides (each account's neighbours, then their clusters, order after
/// order): concurrent batches took the same rows in opposite orders and deadlocked. One
/// transaction-scoped advisory lock serialises those changes; it is re-entrant and released at
/// commit or rollback.
async fn lock_links(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LINKS_LOCK).execute(&mut *conn).await.map_err(db)?;
    Ok(())
}

/// As in the SQLite store: join the clusters of every account sharing a non-hub entity, the
/// smaller ones moving into the largest. Changes to the partition are serialised by
/// [`lock_links`], so two instances merging overlapping clusters wait for each other instead of
/// deadlocking.
async fn link_account(conn: &mut PgConnection, me: &str, entities: &[EntityKey]) -> StoreResult<()> {
    let mut accounts = neighbours(conn, me, entities).await?;
    if accounts.is_empty() {
        return Ok(());
    }
    lock_links(conn).await?;
    ensure_linked(conn, me).await?;
    for a in &accounts {
        ensure_linked(conn, a).await?;
    }
    accounts.push(me.to_owned());
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT cluster_id FROM account_links WHERE customer_id = ANY($1) ORDER BY cluster_id",
    )
    .bind(&accounts)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    if ids.len() < 2 {
        return Ok(());
    }
    let mut found: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT cluster_id, size, fraud_accounts, chargeback_accounts FROM clusters WHERE cluster_id = ANY($1) \
         ORDER BY cluster_id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    if found.len() < 2 {
        return Ok(());
    }
    found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let big = found[0].0.clone();
    let rest: Vec<String> = found[1..].iter().map(|r| r.0.clone()).collect();
    sqlx::query("UPDATE account_links SET cluster_id = $1 WHERE cluster_id = ANY($2)")
        .bind(&big)
        .bind(&rest)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let (size, fraud, cb) = found.iter().fold((0, 0, 0), |t, r| (t.0 + r.1, t.1 + r.2, t.2 + r.3));
    sqlx::query("UPDATE clusters SET size = $1, fraud_accounts = $2, chargeback_accounts = $3 WHERE cluster_id = $4")
        .bind(size)
        .bind(fraud)
        .bind(cb)
        .bind(&big)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("DELETE FROM clusters WHERE cluster_id = ANY($1)").bind(&rest).execute(&mut *conn).await.map_err(db)?;
    Ok(())
}

async fn flag_account(conn: &mut PgConnection, customer: &str, fraud: bool) -> StoreResult<()> {
    lock_links(conn).await?;
    // An account alone has no row yet; its flag needs one, to be counted when it links later.
    ensure_linked(conn, customer).await?;
    let sql = if fraud {
        "UPDATE account_links SET fraud = 1 WHERE customer_id = $1 AND fraud = 0 RETURNING cluster_id"
    } else {
        "UPDATE account_links SET chargeback = 1 WHERE customer_id = $1 AND chargeback = 0 RETURNING cluster_id"
    };
    let cluster: Option<String> =
        sqlx::query_scalar(sql).bind(customer).fetch_optional(&mut *conn).await.map_err(db)?;
    if let Some(c) = cluster {
        let sql = if fraud {
            "UPDATE clusters SET fraud_accounts = fraud_accounts + 1 WHERE cluster_id = $1"
        } else {
            "UPDATE clusters SET chargeback_accounts = chargeback_accounts + 1 WHERE cluster_id = $1"
        };
        sqlx::query(sql).bind(c).execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

async fn insert_outbox(conn: &mut PgConnection, msgs: &[&OutboxMessage]) -> StoreResult<()> {
    if msgs.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO webhook_outbox (id, endpoint, event_type, payload, created_at, attempts, next_attempt_at) \
         SELECT u.i, u.e, u.t, u.p, u.c, 0, u.c FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[]) AS u(i, e, t, p, c)",
    )
    .bind(msgs.iter().map(|m| m.id.clone()).collect::<Vec<_>>())
    .bind(msgs.iter().map(|m| m.endpoint.clone()).collect::<Vec<_>>())
    .bind(msgs.iter().map(|m| m.event_type.clone()).collect::<Vec<_>>())
    .bind(msgs.iter().map(|m| m.payload.clone()).collect::<Vec<_>>())
    .bind(msgs.iter().map(|m| ms(m.created_at)).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Appends a decision after the order's latest; returns its sequence number.
async fn append_decision(conn: &mut PgConnection, d: &Decision) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO decisions (order_id, seq, verdict, score, ruleset_version, reasons, decided_at) \
         SELECT $1, COALESCE(MAX(seq), -1) + 1, $2, $3, $4, $5::jsonb, $6 FROM decisions WHERE order_id = $1 RETURNING seq",
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
    PgStore, sqlx::Postgres, writer: pool, reader: pool, lock: " FOR UPDATE",
    country: "o.country", json_param: "$6::jsonb", body_bytes: "o.body", dirty_order: "seq", json_cast: "::jsonb", skip_locked: " FOR UPDATE SKIP LOCKED"
);
