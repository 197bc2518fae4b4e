//! Disputes, their provider events (raw and normalised), hand-satisfied evidence and scheme
//! volumes. Times are milliseconds; flags are 0/1 integers.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
/// The disputes area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! disputes_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        const DISPUTE_COLS: &str = "dispute_id, provider, provider_ref, payment_ref, order_id, customer_id, case_id, stage, status, \
             reason_code, reason_family, network, amount_minor, currency, due_by, fraud_report, funds_minor, opened_at, month, \
             updated_at, closed_at, warned_at, escalated_at, submitted_at, submitted_by, version";

        /// Sorts disputes without a deadline last with a plain index.
        const NO_DEADLINE: i64 = i64::MAX / 2;

        fn dispute_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<DisputeRecord> {
            let fraud_report: i64 = row.try_get("fraud_report").map_err(dberr)?;
            Ok(DisputeRecord {
                dispute_id: row.try_get("dispute_id").map_err(dberr)?,
                provider: row.try_get("provider").map_err(dberr)?,
                provider_ref: row.try_get("provider_ref").map_err(dberr)?,
                payment_ref: row.try_get("payment_ref").map_err(dberr)?,
                order_id: row.try_get("order_id").map_err(dberr)?,
                customer_id: row.try_get("customer_id").map_err(dberr)?,
                case_id: row.try_get("case_id").map_err(dberr)?,
                stage: row.try_get("stage").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                reason_code: row.try_get("reason_code").map_err(dberr)?,
                reason_family: row.try_get("reason_family").map_err(dberr)?,
                network: row.try_get("network").map_err(dberr)?,
                amount_minor: row.try_get("amount_minor").map_err(dberr)?,
                currency: row.try_get("currency").map_err(dberr)?,
                due_by: opt_time(row.try_get("due_by").map_err(dberr)?)?,
                fraud_report: fraud_report != 0,
                funds_minor: row.try_get("funds_minor").map_err(dberr)?,
                opened_at: from_millis(row.try_get("opened_at").map_err(dberr)?)?,
                month: row.try_get("month").map_err(dberr)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                closed_at: opt_time(row.try_get("closed_at").map_err(dberr)?)?,
                warned_at: opt_time(row.try_get("warned_at").map_err(dberr)?)?,
                escalated_at: opt_time(row.try_get("escalated_at").map_err(dberr)?)?,
                submitted_at: opt_time(row.try_get("submitted_at").map_err(dberr)?)?,
                submitted_by: row.try_get("submitted_by").map_err(dberr)?,
                version: row.try_get("version").map_err(dberr)?,
            })
        }

        fn dispute_open(d: &DisputeRecord) -> i64 {
            i64::from(matches!(d.status.as_str(), "needs_response" | "under_review"))
        }

        async fn write_dispute(tx: &mut Tx<'_>, d: &DisputeRecord, expected_version: i64) -> StoreResult<()> {
            let due_key = d.due_by.map_or(NO_DEADLINE, |t| t.timestamp_millis());
            let moved = if expected_version == 0 {
                sqlx::query(
                    "INSERT INTO disputes (dispute_id, provider, provider_ref, payment_ref, order_id, customer_id, case_id, stage, status, \
                     reason_code, reason_family, network, amount_minor, currency, due_by, due_key, is_open, fraud_report, funds_minor, \
                     opened_at, month, updated_at, closed_at, warned_at, escalated_at, submitted_at, submitted_by, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
                     $25, $26, $27, $28)",
                )
                .bind(&d.dispute_id)
                .bind(&d.provider)
                .bind(&d.provider_ref)
                .bind(&d.payment_ref)
                .bind(&d.order_id)
                .bind(&d.customer_id)
                .bind(&d.case_id)
                .bind(&d.stage)
                .bind(&d.status)
                .bind(&d.reason_code)
                .bind(&d.reason_family)
                .bind(&d.network)
                .bind(d.amount_minor)
                .bind(&d.currency)
                .bind(opt_ms(d.due_by))
                .bind(due_key)
                .bind(dispute_open(d))
                .bind(i64::from(d.fraud_report))
                .bind(d.funds_minor)
                .bind(d.opened_at.timestamp_millis())
                .bind(&d.month)
                .bind(d.updated_at.timestamp_millis())
                .bind(opt_ms(d.closed_at))
                .bind(opt_ms(d.warned_at))
                .bind(opt_ms(d.escalated_at))
                .bind(opt_ms(d.submitted_at))
                .bind(&d.submitted_by)
                .bind(d.version)
                .execute(&mut **tx)
                .await
                .map_err(|e| {
                    if unique_violation(&e) {
                        StoreError::Conflict(format!("the dispute {} {} exists already", d.provider, d.provider_ref))
                    } else {
                        dberr(e)
                    }
                })?
                .rows_affected()
            } else {
                sqlx::query(
                    "UPDATE disputes SET payment_ref = $1, order_id = $2, customer_id = $3, case_id = $4, stage = $5, status = $6, \
                     reason_code = $7, reason_family = $8, network = $9, amount_minor = $10, currency = $11, due_by = $12, due_key = $13, \
                     is_open = $14, fraud_report = $15, funds_minor = $16, updated_at = $17, closed_at = $18, warned_at = $19, \
                     escalated_at = $20, submitted_at = $21, submitted_by = $22, version = $23 \
                     WHERE dispute_id = $24 AND version = $25",
                )
                .bind(&d.payment_ref)
                .bind(&d.order_id)
                .bind(&d.customer_id)
                .bind(&d.case_id)
                .bind(&d.stage)
                .bind(&d.status)
                .bind(&d.reason_code)
                .bind(&d.reason_family)
                .bind(&d.network)
                .bind(d.amount_minor)
                .bind(&d.currency)
                .bind(opt_ms(d.due_by))
                .bind(due_key)
                .bind(dispute_open(d))
                .bind(i64::from(d.fraud_report))
                .bind(d.funds_minor)
                .bind(d.updated_at.timestamp_millis())
                .bind(opt_ms(d.closed_at))
                .bind(opt_ms(d.warned_at))
                .bind(opt_ms(d.escalated_at))
                .bind(opt_ms(d.submitted_at))
                .bind(&d.submitted_by)
                .bind(d.version)
                .bind(&d.dispute_id)
                .bind(expected_version)
                .execute(&mut **tx)
                .await
                .map_err(dberr)?
                .rows_affected()
            };
            if moved != 1 {
                return Err(StoreError::Conflict(format!("the dispute {} changed meanwhile; reload it", d.dispute_id)));
            }
            Ok(())
        }

        async fn apply_disputes(tx: &mut Tx<'_>, change: &DisputeChange) -> StoreResult<()> {
            match change {
                DisputeChange::Ingest { event, dispute, expected_version } => {
                    write_dispute(tx, dispute, *expected_version).await?;
                    let e = event;
                    sqlx::query(
                        "INSERT INTO dispute_events (provider, dedupe_key, dispute_id, event_type, occurred_at, received_at, normalised, raw) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&e.provider)
                    .bind(&e.dedupe_key)
                    .bind(&e.dispute_id)
                    .bind(&e.event_type)
                    .bind(e.occurred_at.timestamp_millis())
                    .bind(e.received_at.timestamp_millis())
                    .bind(riskdesk_store::seal::seal(riskdesk_store::disputes::EVENT_NORMALISED, &e.normalised))
                    .bind(riskdesk_store::seal::seal(riskdesk_store::disputes::EVENT_RAW, &e.raw))
                    .execute(&mut **tx)
                    .await
                    .map_err(|err| {
                        if unique_violation(&err) {
                            StoreError::Conflict(format!("the {} event {} was received already", e.provider, e.dedupe_key))
                        } else {
                            dberr(err)
                        }
                    })?;
                    Ok(())
                }
                DisputeChange::Update { dispute, expected_version } => write_dispute(tx, dispute, *expected_version).await,
                DisputeChange::Evidence { dispute_id, item, note, by, at } => {
                    sqlx::query("DELETE FROM dispute_evidence WHERE dispute_id = $1 AND item = $2")
                        .bind(dispute_id)
                        .bind(item)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    if let Some(n) = note {
                        sqlx::query("INSERT INTO dispute_evidence (dispute_id, item, note, by_actor, at) VALUES ($1, $2, $3, $4, $5)")
                            .bind(dispute_id)
                            .bind(item)
                            .bind(riskdesk_store::seal::seal(riskdesk_store::disputes::EVIDENCE_NOTE, n))
                            .bind(by)
                            .bind(at.timestamp_millis())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    Ok(())
                }
                DisputeChange::Volume(v) => {
                    sqlx::query(
                        "INSERT INTO scheme_volumes (month, network, settled, source, updated_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (month, network) DO UPDATE SET settled = excluded.settled, source = excluded.source, \
                         updated_at = excluded.updated_at WHERE scheme_volumes.source <> 'report' OR excluded.source = 'report'",
                    )
                    .bind(&v.month)
                    .bind(&v.network)
                    .bind(v.settled)
                    .bind(&v.source)
                    .bind(v.updated_at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    Ok(())
                }
            }
        }

        fn dispute_where(q: &mut QueryBuilder<$db>, f: &DisputeFilter) {
            q.push(" WHERE 1 = 1");
            if !f.with_fraud_reports {
                q.push(" AND fraud_report = 0");
            }
            if let Some(o) = &f.order_id {
                q.push(" AND order_id = ").push_bind(o.clone());
            }
            if let Some(c) = &f.customer_id {
                q.push(" AND customer_id = ").push_bind(c.clone());
            }
            if let Some(p) = &f.provider {
                q.push(" AND provider = ").push_bind(p.clone());
            }
            if let Some(fam) = &f.family {
                q.push(" AND reason_family = ").push_bind(fam.clone());
            }
            if let Some(st) = &f.statuses {
                let open = st.len() == 2 && st.iter().all(|s| s == "needs_response" || s == "under_review") && st[0] != st[1];
                if open {
                    // The open queue, through its index.
                    q.push(" AND is_open = 1");
                } else if st.is_empty() {
                    q.push(" AND 1 = 0");
                } else {
                    q.push(" AND status IN (");
                    let mut sep = q.separated(", ");
                    for s in st {
                        sep.push_bind(s.clone());
                    }
                    q.push(")");
                }
            }
        }

        #[async_trait::async_trait]
        impl DisputeStore for $store {
            async fn dispute_kpi_days(&self, spans: &riskdesk_store::kpis::Spans, _now_ms: i64) -> StoreResult<Vec<riskdesk_store::kpis::AreaDay>> {
                bucket_days(&self.$r, spans, &[("chargeback_ratio", 1.0), ("dispute_win_rate", 1.0)]).await
            }

            async fn dispute(&self, dispute_id: &str) -> StoreResult<Option<DisputeRecord>> {
                let sql = format!("SELECT {DISPUTE_COLS} FROM disputes WHERE dispute_id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(dispute_id).fetch_optional(&self.$r).await.map_err(dberr)?;
                row.as_ref().map(dispute_from).transpose()
            }

            async fn dispute_by_ref(&self, provider: &str, provider_ref: &str) -> StoreResult<Option<DisputeRecord>> {
                let sql = format!("SELECT {DISPUTE_COLS} FROM disputes WHERE provider = $1 AND provider_ref = $2");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(provider)
                    .bind(provider_ref)
                    .fetch_optional(&self.$w)
                    .await
                    .map_err(dberr)?;
                row.as_ref().map(dispute_from).transpose()
            }

            async fn dispute_event_seen(&self, provider: &str, dedupe_key: &str) -> StoreResult<bool> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dispute_events WHERE provider = $1 AND dedupe_key = $2")
                    .bind(provider)
                    .bind(dedupe_key)
                    .fetch_one(&self.$w)
                    .await
                    .map_err(dberr)?;
                Ok(n > 0)
            }

            async fn disputes(&self, f: &DisputeFilter) -> StoreResult<Vec<DisputeRecord>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {DISPUTE_COLS} FROM disputes"));
                dispute_where(&mut q, f);
                q.push(" ORDER BY due_key, opened_at DESC, dispute_id LIMIT ").push_bind(f.limit.clamp(1, 1000));
                q.push(" OFFSET ").push_bind(f.offset.max(0));
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(dispute_from).collect()
            }

            async fn count_disputes(&self, f: &DisputeFilter) -> StoreResult<i64> {
                let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM disputes");
                dispute_where(&mut q, f);
                q.build_query_scalar::<i64>().fetch_one(&self.$r).await.map_err(dberr)
            }

            async fn dispute_events(&self, dispute_id: &str) -> StoreResult<Vec<DisputeEventRow>> {
                let rows = sqlx::query(
                    "SELECT provider, dedupe_key, dispute_id, event_type, occurred_at, received_at, normalised, raw \
                     FROM dispute_events WHERE dispute_id = $1 ORDER BY occurred_at, received_at",
                )
                .bind(dispute_id)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(DisputeEventRow {
                            provider: r.try_get("provider").map_err(dberr)?,
                            dedupe_key: r.try_get("dedupe_key").map_err(dberr)?,
                            dispute_id: r.try_get("dispute_id").map_err(dberr)?,
                            event_type: r.try_get("event_type").map_err(dberr)?,
                            occurred_at: from_millis(r.try_get("occurred_at").map_err(dberr)?)?,
                            received_at: from_millis(r.try_get("received_at").map_err(dberr)?)?,
                            normalised: open_col(r, "normalised", riskdesk_store::disputes::EVENT_NORMALISED)?,
                            raw: open_col(r, "raw", riskdesk_store::disputes::EVENT_RAW)?,
                        })
                    })
                    .collect()
            }

            async fn dispute_evidence(&self, dispute_id: &str) -> StoreResult<Vec<EvidenceNote>> {
                let rows = sqlx::query("SELECT dispute_id, item, note, by_actor, at FROM dispute_evidence WHERE dispute_id = $1 ORDER BY at")
                    .bind(dispute_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(EvidenceNote {
                            dispute_id: r.try_get("dispute_id").map_err(dberr)?,
                            item: r.try_get("item").map_err(dberr)?,
                            note: open_col(r, "note", riskdesk_store::disputes::EVIDENCE_NOTE)?,
                            by: r.try_get("by_actor").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }

            async fn disputes_to_watch(&self, before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DisputeRecord>> {
                let sql = format!(
                    "SELECT {DISPUTE_COLS} FROM disputes WHERE is_open = 1 AND fraud_report = 0 AND \
                     ((status = 'needs_response' AND due_key < $1 AND (warned_at IS NULL OR escalated_at IS NULL)) OR case_id IS NULL) \
                     ORDER BY due_key LIMIT $2"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(before.timestamp_millis())
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter().map(dispute_from).collect()
            }

            async fn order_by_payment_ref(&self, refs: &[String]) -> StoreResult<Option<(String, String)>> {
                for r in refs {
                    let row = sqlx::query("SELECT order_id, customer_id FROM orders WHERE psp_reference = $1 LIMIT 1")
                        .bind(r)
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(dberr)?;
                    if let Some(row) = row {
                        return Ok(Some((row.try_get(0).map_err(dberr)?, row.try_get(1).map_err(dberr)?)));
                    }
                }
                Ok(None)
            }

            async fn dispute_months(&self, from: &str, to: &str) -> StoreResult<Vec<MonthCounts>> {
                // Two passes over the covering index: the sums per month and network, and the
                // distinct payments only where VAMP needs them (Visa), the costly part.
                let rows = sqlx::query(
                    "SELECT month, network, CAST(SUM(CASE WHEN fraud_report = 0 THEN 1 ELSE 0 END) AS BIGINT) AS disputes, \
                     CAST(SUM(CASE WHEN fraud_report = 0 AND stage <> 'inquiry' THEN 1 ELSE 0 END) AS BIGINT) AS chargebacks, \
                     CAST(SUM(CASE WHEN status IN ('lost', 'accepted', 'expired') THEN amount_minor ELSE 0 END) AS BIGINT) AS lost_minor \
                     FROM disputes WHERE month >= $1 AND month <= $2 GROUP BY month, network ORDER BY month, network",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                let vamp = sqlx::query(
                    "SELECT month, COUNT(DISTINCT COALESCE(payment_ref, provider_ref)) AS n FROM disputes \
                     WHERE month >= $1 AND month <= $2 AND network = 'visa' AND (fraud_report = 1 OR stage <> 'inquiry') GROUP BY month",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                let mut counted = std::collections::HashMap::new();
                for r in &vamp {
                    counted.insert(r.try_get::<String, _>("month").map_err(dberr)?, r.try_get::<i64, _>("n").map_err(dberr)?);
                }
                rows.iter()
                    .map(|r| {
                        let month: String = r.try_get("month").map_err(dberr)?;
                        let network: String = r.try_get("network").map_err(dberr)?;
                        Ok(MonthCounts {
                            vamp_counted: if network == "visa" { counted.get(&month).copied().unwrap_or(0) } else { 0 },
                            month,
                            network,
                            disputes: r.try_get("disputes").map_err(dberr)?,
                            chargebacks: r.try_get("chargebacks").map_err(dberr)?,
                            lost_minor: r.try_get("lost_minor").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn scheme_volumes(&self, from: &str, to: &str) -> StoreResult<Vec<SchemeVolume>> {
                let rows = sqlx::query(
                    "SELECT month, network, settled, source, updated_at FROM scheme_volumes WHERE month >= $1 AND month <= $2 \
                     ORDER BY month, network",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(SchemeVolume {
                            month: r.try_get("month").map_err(dberr)?,
                            network: r.try_get("network").map_err(dberr)?,
                            settled: r.try_get("settled").map_err(dberr)?,
                            source: r.try_get("source").map_err(dberr)?,
                            updated_at: from_millis(r.try_get("updated_at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }

            async fn events_of_types(&self, types: &[&str], since: DateTime<Utc>, limit: i64) -> StoreResult<Vec<riskdesk_store::StoredEvent>> {
                let mut q = QueryBuilder::<$db>::new("SELECT CAST(body AS TEXT) AS body, received_at, customer_id FROM events WHERE type IN (");
                let mut sep = q.separated(", ");
                for t in types {
                    sep.push_bind(t.to_string());
                }
                q.push(") AND occurred_at >= ").push_bind(since.timestamp_millis());
                q.push(" ORDER BY occurred_at DESC LIMIT ").push_bind(limit);
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        let body: String = r.try_get("body").map_err(dberr)?;
                        let mut e = riskdesk_store::codec::event_from_row(&body, r.try_get("received_at").map_err(dberr)?)?;
                        // The account an order-only event belongs to, learnt when its order came.
                        if e.event.customer_id.is_none() {
                            let c: Option<String> = r.try_get("customer_id").map_err(dberr)?;
                            e.event.customer_id = c.and_then(|c| riskdesk_domain::CustomerId::parse(&c, "customer_id").ok());
                        }
                        Ok(e)
                    })
                    .collect()
            }

            async fn card_orders_by_network(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<(String, i64)>> {
                let rows = sqlx::query(
                    "SELECT COALESCE(card_network, 'other') AS network, COUNT(*) AS n FROM orders \
                     WHERE placed_at >= $1 AND placed_at < $2 AND payment_method = 'card' GROUP BY COALESCE(card_network, 'other')",
                )
                .bind(from.timestamp_millis())
                .bind(to.timestamp_millis())
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter().map(|r| Ok((r.try_get("network").map_err(dberr)?, r.try_get("n").map_err(dberr)?))).collect()
            }
        }
    };
}
