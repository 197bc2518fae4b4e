//! KPIs: the changed-order queue, each order's history and facts, the daily aggregates (deltas
//! added in place with an upsert), alerts and report runs. Times are milliseconds; days are
//! local day numbers.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
/// The KPI area's SQL. `$body` reads an order's stored body as bytes; `$order` is the column
/// that orders the changed-order queue by arrival.
#[doc(hidden)]
#[macro_export]
macro_rules! kpis_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident, $lock:literal, $body:literal, $order:literal) => {
        use riskdesk_domain::kpis::{Counters, DecisionFact, Dim, OrderFacts, OrderHistory, Signal};
        use riskdesk_store::kpis::*;

        /// Ids per `IN (…)` list.
        const KPI_CHUNK: usize = 500;
        const COUNTER_COLS: &str = "orders, value_minor, fraud_orders, fraud_value_minor, declined, reviewed, held, released, decided, \
             decision_ms, sla_met, fraud_chargebacks, good_held, stopped_fraud_minor, labelled, screened";
        const FACT_COLS: &str = "order_id, day, placed_at, channel, country, payment_method, brand, currency, rules, fraud";
        const ALERT_COLS: &str = "alert_id, kpi, dim, segment, period, from_day, to_day, rate, baseline, lim, z, numerator, denominator, \
             status, case_id, created_at, decided_by, decided_at, note";

        fn counters_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<Counters> {
            let mut v = [0i64; 16];
            for (i, name) in Counters::NAMES.iter().enumerate() {
                v[i] = row.try_get(*name).map_err(dberr)?;
            }
            Ok(Counters::from_values(v))
        }

        fn fact_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<OrderFacts> {
            let rules: String = row.try_get("rules").map_err(dberr)?;
            let day: i64 = row.try_get("day").map_err(dberr)?;
            let fraud: i64 = row.try_get("fraud").map_err(dberr)?;
            Ok(OrderFacts {
                order_id: row.try_get("order_id").map_err(dberr)?,
                day: day as i32,
                placed_at: from_millis(row.try_get("placed_at").map_err(dberr)?)?,
                channel: row.try_get("channel").map_err(dberr)?,
                country: row.try_get("country").map_err(dberr)?,
                payment_method: row.try_get("payment_method").map_err(dberr)?,
                brand: row.try_get("brand").map_err(dberr)?,
                currency: row.try_get("currency").map_err(dberr)?,
                rules: rules.split_whitespace().map(str::to_owned).collect(),
                fraud: fraud != 0,
                counters: counters_from(row)?,
            })
        }

        fn alert_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<AlertRecord> {
            let from_day: i64 = row.try_get("from_day").map_err(dberr)?;
            let to_day: i64 = row.try_get("to_day").map_err(dberr)?;
            Ok(AlertRecord {
                alert_id: row.try_get("alert_id").map_err(dberr)?,
                kpi: row.try_get("kpi").map_err(dberr)?,
                dim: row.try_get("dim").map_err(dberr)?,
                segment: row.try_get("segment").map_err(dberr)?,
                period: row.try_get("period").map_err(dberr)?,
                from_day: from_day as i32,
                to_day: to_day as i32,
                rate: row.try_get("rate").map_err(dberr)?,
                baseline: row.try_get("baseline").map_err(dberr)?,
                limit: row.try_get("lim").map_err(dberr)?,
                z: row.try_get("z").map_err(dberr)?,
                numerator: row.try_get("numerator").map_err(dberr)?,
                denominator: row.try_get("denominator").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                case_id: row.try_get("case_id").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                decided_by: row.try_get("decided_by").map_err(dberr)?,
                decided_at: opt_time(row.try_get("decided_at").map_err(dberr)?)?,
                note: row.try_get("note").map_err(dberr)?,
            })
        }

        fn run_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<ReportRun> {
            Ok(ReportRun {
                schedule: row.try_get("schedule").map_err(dberr)?,
                period: row.try_get("period").map_err(dberr)?,
                started_at: from_millis(row.try_get("started_at").map_err(dberr)?)?,
                status: row.try_get("status").map_err(dberr)?,
                recipients: row.try_get("recipients").map_err(dberr)?,
                detail: row.try_get("detail").map_err(dberr)?,
            })
        }

        fn push_ids(q: &mut QueryBuilder<$db>, ids: &[String]) {
            q.push("(");
            let mut sep = q.separated(", ");
            for id in ids {
                sep.push_bind(id.clone());
            }
            q.push(")");
        }

        /// Whether a label event labels its order as fraud, legitimate, or by a fraud chargeback.
        fn event_signal(kind: &str, body: &str) -> Option<Signal> {
            match kind {
                "fraud_confirmed" => Some(Signal::FraudConfirmed),
                "legit_confirmed" => Some(Signal::LegitConfirmed),
                "chargeback_received" => {
                    let v: serde_json::Value = serde_json::from_str(body).ok()?;
                    let code = v.pointer("/data/reason_code")?.as_str()?;
                    (riskdesk_domain::disputes::reason_family(code) == riskdesk_domain::disputes::ReasonFamily::Fraud)
                        .then_some(Signal::FraudChargeback)
                }
                _ => None,
            }
        }

        /// Adds aggregate deltas to `table` (`kpi_daily` or `kpi_monthly`) in place.
        async fn add_rows(tx: &mut Tx<'_>, table: &str, rows: &[riskdesk_domain::kpis::Delta]) -> StoreResult<()> {
            // 20 columns a row: 1,000 rows stay under SQLite's and PostgreSQL's parameter limits.
            for chunk in rows.chunks(1000) {
                let mut q = QueryBuilder::<$db>::new(format!("INSERT INTO {table} (dim, day, segment, currency, {COUNTER_COLS}) "));
                q.push_values(chunk, |mut b, d| {
                    b.push_bind(d.dim.as_str()).push_bind(i64::from(d.day)).push_bind(d.segment.clone()).push_bind(d.currency.clone());
                    for v in d.counters.values() {
                        b.push_bind(v);
                    }
                });
                q.push(" ON CONFLICT (dim, day, segment, currency) DO UPDATE SET ");
                for (i, n) in Counters::NAMES.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.push(format!("{n} = {table}.{n} + excluded.{n}"));
                }
                q.build().execute(&mut **tx).await.map_err(dberr)?;
            }
            Ok(())
        }

        async fn apply_kpis(tx: &mut Tx<'_>, c: &KpiChange) -> StoreResult<()> {
            match c {
                KpiChange::Alert { alert_id, expected_status, status, case_id, note, actor, at } => {
                    let moved = sqlx::query(
                        "UPDATE kpi_alerts SET status = $1, case_id = COALESCE($2, case_id), note = COALESCE($3, note), \
                         decided_by = $4, decided_at = $5 WHERE alert_id = $6 AND status = $7",
                    )
                    .bind(status)
                    .bind(case_id)
                    .bind(note)
                    .bind(actor)
                    .bind(at.timestamp_millis())
                    .bind(alert_id)
                    .bind(expected_status)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    if moved.rows_affected() == 0 {
                        return Err(StoreError::Conflict(format!("alert {alert_id} changed meanwhile")));
                    }
                    Ok(())
                }
            }
        }

        #[async_trait::async_trait]
        impl KpiStore for $store {
            async fn kpi_dirty(&self, limit: i64) -> StoreResult<Vec<(String, i64)>> {
                let rows = sqlx::query(concat!("SELECT order_id, bump FROM kpi_dirty ORDER BY ", $order, " LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| Ok((r.try_get("order_id").map_err(dberr)?, r.try_get("bump").map_err(dberr)?)))
                    .collect()
            }

            async fn kpi_compact(&self) -> StoreResult<()> {
                compact_kpi_tables(&self.$w).await.map_err(dberr)
            }

            async fn kpi_pending(&self) -> StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM kpi_dirty").fetch_one(&self.$r).await.map_err(dberr)
            }

            async fn kpi_histories(&self, ids: &[String]) -> StoreResult<Vec<OrderHistory>> {
                let mut out: Vec<OrderHistory> = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(KPI_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(concat!("SELECT o.order_id, ", $body, " AS body, o.total_minor, o.currency FROM orders o WHERE o.order_id IN "));
                    push_ids(&mut q, chunk);
                    let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
                    let first = out.len();
                    for r in &rows {
                        let body: Vec<u8> = r.try_get("body").map_err(dberr)?;
                        let o = riskdesk_store::codec::order_from_stored(&body)?;
                        let id: String = r.try_get("order_id").map_err(dberr)?;
                        at.insert(id.clone(), out.len());
                        out.push(OrderHistory {
                            order_id: id,
                            placed_at: o.placed_at.with_timezone(&Utc),
                            channel: o.channel.clone(),
                            country: o
                                .shipping_address
                                .as_ref()
                                .or(o.billing_address.as_ref())
                                .and_then(|a| a.country.as_ref())
                                .map(|c| c.as_str().to_owned()),
                            payment_method: o.payment.method.as_str().to_owned(),
                            brand: riskdesk_domain::kpis::main_brand(&o.items),
                            currency: r.try_get("currency").map_err(dberr)?,
                            total_minor: r.try_get("total_minor").map_err(dberr)?,
                            decisions: Vec::new(),
                            actions: Vec::new(),
                            signals: Vec::new(),
                        });
                    }
                    if out.len() == first {
                        continue;
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT order_id, seq, verdict, ruleset_version, CAST(reasons AS TEXT) AS reasons, decided_at FROM decisions WHERE order_id IN ",
                    );
                    push_ids(&mut q, chunk);
                    for r in q.build().fetch_all(&self.$r).await.map_err(dberr)? {
                        let id: String = r.try_get("order_id").map_err(dberr)?;
                        let Some(&i) = at.get(&id) else { continue };
                        let reasons: String = r.try_get("reasons").map_err(dberr)?;
                        let v: serde_json::Value = serde_json::from_str(&reasons).unwrap_or_default();
                        let list = v.as_array().or_else(|| v.get("hits").and_then(|h| h.as_array()));
                        let rules = list
                            .map(|l| l.iter().filter_map(|x| x.get("rule").and_then(|r| r.as_str()).map(str::to_owned)).collect())
                            .unwrap_or_default();
                        out[i].decisions.push(DecisionFact {
                            seq: r.try_get("seq").map_err(dberr)?,
                            ruleset_version: r.try_get("ruleset_version").map_err(dberr)?,
                            verdict: r.try_get("verdict").map_err(dberr)?,
                            rules,
                            decided_at: from_millis(r.try_get("decided_at").map_err(dberr)?)?,
                        });
                    }
                    let mut q = QueryBuilder::<$db>::new("SELECT order_id, action, at FROM review_actions WHERE order_id IN ");
                    push_ids(&mut q, chunk);
                    for r in q.build().fetch_all(&self.$r).await.map_err(dberr)? {
                        let id: String = r.try_get("order_id").map_err(dberr)?;
                        let Some(&i) = at.get(&id) else { continue };
                        out[i].actions.push((r.try_get("action").map_err(dberr)?, from_millis(r.try_get("at").map_err(dberr)?)?));
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT order_id, type, CAST(body AS TEXT) AS body FROM events WHERE type IN ('fraud_confirmed', 'legit_confirmed', 'chargeback_received') AND order_id IN ",
                    );
                    push_ids(&mut q, chunk);
                    for r in q.build().fetch_all(&self.$r).await.map_err(dberr)? {
                        let id: String = r.try_get("order_id").map_err(dberr)?;
                        let Some(&i) = at.get(&id) else { continue };
                        let kind: String = r.try_get("type").map_err(dberr)?;
                        let body: String = r.try_get("body").map_err(dberr)?;
                        if let Some(s) = event_signal(&kind, &riskdesk_store::codec::event_json(&body)?) {
                            out[i].signals.push(s);
                        }
                    }
                    let mut q = QueryBuilder::<$db>::new("SELECT order_id FROM disputes WHERE reason_family = 'fraud' AND order_id IN ");
                    push_ids(&mut q, chunk);
                    for r in q.build().fetch_all(&self.$r).await.map_err(dberr)? {
                        let id: String = r.try_get("order_id").map_err(dberr)?;
                        if let Some(&i) = at.get(&id) {
                            out[i].signals.push(Signal::FraudChargeback);
                        }
                    }
                }
                Ok(out)
            }

            async fn kpi_facts(&self, ids: &[String]) -> StoreResult<Vec<OrderFacts>> {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(KPI_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {FACT_COLS}, {COUNTER_COLS} FROM kpi_facts WHERE order_id IN "));
                    push_ids(&mut q, chunk);
                    for r in q.build().fetch_all(&self.$r).await.map_err(dberr)? {
                        out.push(fact_from(&r)?);
                    }
                }
                Ok(out)
            }

            async fn kpi_apply(&self, facts: &[OrderFacts], marks: &[(String, i64)]) -> StoreResult<usize> {
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                // One refresher at a time (several instances): the old facts read below must be
                // the ones the deltas replace.
                sqlx::query(concat!("SELECT id FROM kpi_lock WHERE id = 1", $lock)).execute(&mut *tx).await.map_err(dberr)?;
                let mut current: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
                let ids: Vec<String> = marks.iter().map(|(id, _)| id.clone()).collect();
                for chunk in ids.chunks(KPI_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new("SELECT order_id, bump FROM kpi_dirty WHERE order_id IN ");
                    push_ids(&mut q, chunk);
                    for r in q.build().fetch_all(&mut *tx).await.map_err(dberr)? {
                        current.insert(r.try_get("order_id").map_err(dberr)?, r.try_get("bump").map_err(dberr)?);
                    }
                }
                let kept: Vec<(String, i64)> =
                    marks.iter().filter(|(id, bump)| current.get(id) == Some(bump)).cloned().collect();
                let kept_ids: std::collections::HashSet<&str> = kept.iter().map(|(id, _)| id.as_str()).collect();
                let new: Vec<OrderFacts> = facts.iter().filter(|f| kept_ids.contains(f.order_id.as_str())).cloned().collect();
                let mut old = Vec::new();
                let kept_list: Vec<String> = kept.iter().map(|(id, _)| id.clone()).collect();
                for chunk in kept_list.chunks(KPI_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {FACT_COLS}, {COUNTER_COLS} FROM kpi_facts WHERE order_id IN "));
                    push_ids(&mut q, chunk);
                    for r in q.build().fetch_all(&mut *tx).await.map_err(dberr)? {
                        old.push(fact_from(&r)?);
                    }
                }
                let deltas = riskdesk_domain::kpis::deltas(&old, &new);
                // 25 columns a row: 1,000 rows stay under SQLite's and PostgreSQL's parameter limits.
                for chunk in new.chunks(1000) {
                    let mut q = QueryBuilder::<$db>::new(format!("INSERT INTO kpi_facts ({FACT_COLS}, {COUNTER_COLS}) "));
                    q.push_values(chunk, |mut b, f| {
                        b.push_bind(f.order_id.clone())
                            .push_bind(i64::from(f.day))
                            .push_bind(f.placed_at.timestamp_millis())
                            .push_bind(f.channel.clone())
                            .push_bind(f.country.clone())
                            .push_bind(f.payment_method.clone())
                            .push_bind(f.brand.clone())
                            .push_bind(f.currency.clone())
                            .push_bind(if f.rules.is_empty() { String::new() } else { format!(" {} ", f.rules.join(" ")) })
                            .push_bind(i64::from(f.fraud));
                        for v in f.counters.values() {
                            b.push_bind(v);
                        }
                    });
                    q.push(" ON CONFLICT (order_id) DO UPDATE SET day = excluded.day, rules = excluded.rules, fraud = excluded.fraud");
                    for n in Counters::NAMES {
                        q.push(format!(", {n} = excluded.{n}"));
                    }
                    q.build().execute(&mut *tx).await.map_err(dberr)?;
                }
                let present: std::collections::HashSet<&str> = new.iter().map(|f| f.order_id.as_str()).collect();
                let gone: Vec<String> = kept_list.iter().filter(|id| !present.contains(id.as_str())).cloned().collect();
                for chunk in gone.chunks(KPI_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new("DELETE FROM kpi_facts WHERE order_id IN ");
                    push_ids(&mut q, chunk);
                    q.build().execute(&mut *tx).await.map_err(dberr)?;
                }
                let months = riskdesk_domain::kpis::by_month(&deltas);
                for (table, rows) in [("kpi_daily", &deltas), ("kpi_monthly", &months)] {
                    add_rows(&mut tx, table, rows).await?;
                }
                for chunk in kept.chunks(KPI_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new("DELETE FROM kpi_dirty WHERE (order_id, bump) IN (");
                    for (i, (id, bump)) in chunk.iter().enumerate() {
                        if i > 0 {
                            q.push(", ");
                        }
                        q.push("(").push_bind(id.clone()).push(", ").push_bind(*bump).push(")");
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await.map_err(dberr)?;
                }
                tx.commit().await.map_err(dberr)?;
                Ok(kept.len())
            }

            async fn kpi_daily(&self, dim: Dim, from: i32, to: i32, segment: Option<&str>) -> StoreResult<Vec<DailyRow>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT day, segment, currency, {COUNTER_COLS} FROM kpi_daily WHERE dim = "));
                q.push_bind(dim.as_str()).push(" AND day >= ").push_bind(i64::from(from)).push(" AND day < ").push_bind(i64::from(to));
                if let Some(s) = segment {
                    q.push(" AND segment = ").push_bind(s.to_owned());
                }
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        let day: i64 = r.try_get("day").map_err(dberr)?;
                        Ok(DailyRow {
                            day: day as i32,
                            segment: r.try_get("segment").map_err(dberr)?,
                            currency: r.try_get("currency").map_err(dberr)?,
                            counters: counters_from(r)?,
                        })
                    })
                    .collect()
            }

            async fn kpi_totals(&self, dim: Dim, from: i32, to: i32, segment: Option<&str>) -> StoreResult<Vec<DailyRow>> {
                // Whole months from the monthly rows, the days around them from the daily ones.
                let (lo, hi) = riskdesk_domain::kpis::month_split(from, to);
                let sums: Vec<String> = Counters::NAMES.iter().map(|n| format!("CAST(SUM({n}) AS BIGINT) AS {n}")).collect();
                let mut q = QueryBuilder::<$db>::new(format!("SELECT segment, currency, {} FROM (", sums.join(", ")));
                let parts = [("kpi_monthly", lo, hi), ("kpi_daily", from, lo), ("kpi_daily", hi, to)];
                let mut first = true;
                for (table, a, b) in parts.into_iter().filter(|(_, a, b)| a < b) {
                    if !first {
                        q.push(" UNION ALL ");
                    }
                    first = false;
                    q.push(format!("SELECT segment, currency, {COUNTER_COLS} FROM {table} WHERE dim = "));
                    q.push_bind(dim.as_str()).push(" AND day >= ").push_bind(i64::from(a)).push(" AND day < ").push_bind(i64::from(b));
                    if let Some(s) = segment {
                        q.push(" AND segment = ").push_bind(s.to_owned());
                    }
                }
                if first {
                    return Ok(Vec::new());
                }
                q.push(") AS r");
                q.push(" GROUP BY segment, currency");
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(DailyRow {
                            day: from,
                            segment: r.try_get("segment").map_err(dberr)?,
                            currency: r.try_get("currency").map_err(dberr)?,
                            counters: counters_from(r)?,
                        })
                    })
                    .collect()
            }

            async fn kpi_orders(&self, f: &FactFilter) -> StoreResult<Vec<OrderFacts>> {
                fn filter(q: &mut QueryBuilder<$db>, f: &FactFilter) {
                    q.push(" WHERE day >= ").push_bind(i64::from(f.from_day)).push(" AND day < ").push_bind(i64::from(f.to_day));
                    if let Some((dim, seg)) = &f.segment {
                        match dim {
                            Dim::All => {}
                            Dim::Channel => {
                                q.push(" AND channel = ").push_bind(seg.clone());
                            }
                            Dim::Country => {
                                q.push(" AND country = ").push_bind(seg.clone());
                            }
                            Dim::PaymentMethod => {
                                q.push(" AND payment_method = ").push_bind(seg.clone());
                            }
                            Dim::Brand => {
                                q.push(" AND brand = ").push_bind(seg.clone());
                            }
                            Dim::Rule => {
                                q.push(" AND rules LIKE ").push_bind(format!("% {seg} %"));
                            }
                            Dim::Segment => {
                                let mut parts = seg.splitn(3, " / ");
                                let (b, m, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                                q.push(" AND brand = ").push_bind(b.to_owned());
                                q.push(" AND payment_method = ").push_bind(m.to_owned());
                                q.push(" AND country = ").push_bind(c.to_owned());
                            }
                        }
                    }
                    if let Some(c) = f.counter {
                        // A counter name from the domain's list, never the caller's text.
                        if Counters::NAMES.contains(&c) {
                            q.push(format!(" AND {c} <> 0"));
                        }
                    }
                }
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {FACT_COLS}, {COUNTER_COLS} FROM kpi_facts"));
                filter(&mut q, f);
                q.push(" ORDER BY day DESC, placed_at DESC, order_id LIMIT ").push_bind(f.limit).push(" OFFSET ").push_bind(f.offset);
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(|r| fact_from(r)).collect()
            }

            async fn kpi_reset(&self) -> StoreResult<i64> {
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                for stmt in ["DELETE FROM kpi_facts", "DELETE FROM kpi_daily", "DELETE FROM kpi_monthly"].iter().chain(AREA_REBUILD) {
                    sqlx::query(*stmt).execute(&mut *tx).await.map_err(dberr)?;
                }
                let n = sqlx::query(
                    "INSERT INTO kpi_dirty (order_id, bump) SELECT order_id, 1 FROM orders WHERE true ORDER BY placed_at \
                     ON CONFLICT (order_id) DO UPDATE SET bump = kpi_dirty.bump + 1",
                )
                .execute(&mut *tx)
                .await
                .map_err(dberr)?
                .rows_affected();
                tx.commit().await.map_err(dberr)?;
                Ok(n as i64)
            }

            async fn kpi_alert_insert(&self, a: &AlertRecord) -> StoreResult<bool> {
                let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO kpi_alerts ({ALERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
                     ON CONFLICT (kpi, dim, segment, period) DO NOTHING"
                )))
                .bind(&a.alert_id)
                .bind(&a.kpi)
                .bind(&a.dim)
                .bind(&a.segment)
                .bind(&a.period)
                .bind(i64::from(a.from_day))
                .bind(i64::from(a.to_day))
                .bind(a.rate)
                .bind(a.baseline)
                .bind(a.limit)
                .bind(a.z)
                .bind(a.numerator)
                .bind(a.denominator)
                .bind(&a.status)
                .bind(&a.case_id)
                .bind(a.created_at.timestamp_millis())
                .bind(&a.decided_by)
                .bind(opt_ms(a.decided_at))
                .bind(&a.note)
                .execute(&self.$w)
                .await
                .map_err(dberr)?;
                Ok(r.rows_affected() == 1)
            }

            async fn kpi_alert(&self, id: &str) -> StoreResult<Option<AlertRecord>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLS} FROM kpi_alerts WHERE alert_id = $1")))
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?;
                row.as_ref().map(|r| alert_from(r)).transpose()
            }

            async fn kpi_alerts(&self, status: Option<&str>, limit: i64) -> StoreResult<Vec<AlertRecord>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {ALERT_COLS} FROM kpi_alerts"));
                if let Some(s) = status {
                    q.push(" WHERE status = ").push_bind(s.to_owned());
                }
                q.push(" ORDER BY from_day DESC, z DESC, alert_id LIMIT ").push_bind(limit);
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(|r| alert_from(r)).collect()
            }

            async fn kpi_report_claim(&self, run: &ReportRun) -> StoreResult<bool> {
                let r = sqlx::query(
                    "INSERT INTO kpi_report_runs (schedule, period, started_at, status, recipients, detail) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (schedule, period) DO NOTHING",
                )
                .bind(&run.schedule)
                .bind(&run.period)
                .bind(run.started_at.timestamp_millis())
                .bind(&run.status)
                .bind(&run.recipients)
                .bind(&run.detail)
                .execute(&self.$w)
                .await
                .map_err(dberr)?;
                Ok(r.rows_affected() == 1)
            }

            async fn kpi_report_finish(&self, schedule: &str, period: &str, status: &str, detail: &str) -> StoreResult<()> {
                sqlx::query("UPDATE kpi_report_runs SET status = $1, detail = $2 WHERE schedule = $3 AND period = $4")
                    .bind(status)
                    .bind(detail)
                    .bind(schedule)
                    .bind(period)
                    .execute(&self.$w)
                    .await
                    .map_err(dberr)?;
                Ok(())
            }

            async fn kpi_report_runs(&self, limit: i64) -> StoreResult<Vec<ReportRun>> {
                let rows = sqlx::query(
                    "SELECT schedule, period, started_at, status, recipients, detail FROM kpi_report_runs ORDER BY started_at DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter().map(|r| run_from(r)).collect()
            }
        }
    };
}
