//! The review queue: items, claims, manual reviews and their labels, the queue's figures.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The review area's SQL. `$country` extracts the shipping country from `o.body`; `$json` is a
/// parameter as a JSON column takes it. The backend provides `append_decision`, `flag_account`
/// and `insert_outbox` beside the invocation.
#[doc(hidden)]
#[macro_export]
macro_rules! review_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident, $country:literal, $json:literal) => {
            /// The cut-off of a queue row as SQL, from the SLA table.
            fn push_due(q: &mut QueryBuilder<$db>, sla: &SlaMinutes) {
                q.push("(placed_at + 60000 * CASE");
                for (channel, minutes) in &sla.per_channel {
                    q.push(" WHEN channel = ").push_bind(channel.clone()).push(" THEN ").push_bind(*minutes);
                }
                q.push(" ELSE ").push_bind(sla.default).push(" END)");
            }

            fn item_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<ReviewItem> {
                let state: String = row.try_get("state").map_err(dberr)?;
                let rules: String = row.try_get("rules").map_err(dberr)?;
                Ok(ReviewItem {
                    order_id: row.try_get("order_id").map_err(dberr)?,
                    customer_id: row.try_get("customer_id").map_err(dberr)?,
                    placed_at: from_millis(row.try_get("placed_at").map_err(dberr)?)?,
                    channel: row.try_get("channel").map_err(dberr)?,
                    country: row.try_get("country").map_err(dberr)?,
                    payment_method: row.try_get("payment_method").map_err(dberr)?,
                    total_minor: row.try_get("total_minor").map_err(dberr)?,
                    currency: row.try_get("currency").map_err(dberr)?,
                    score: row.try_get("score").map_err(dberr)?,
                    rules: rules_from_column(&rules),
                    state: QueueState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
                    claimed_by: row.try_get("claimed_by").map_err(dberr)?,
                    claimed_at: opt_time(row.try_get("claimed_at").map_err(dberr)?)?,
                    due_at: from_millis(row.try_get("due_at").map_err(dberr)?)?,
                })
            }

            const ITEM_COLS: &str = "order_id, customer_id, placed_at, channel, country, payment_method, total_minor, \
                 currency, score, rules, state, claimed_by, claimed_at, ";

        async fn apply_review(tx: &mut Tx<'_>, change: &ReviewChange) -> StoreResult<()> {
            match change {
                    ReviewChange::Claim { order_id, user, at, unless_held_by_other } => {
                        // The claim is checked where it is written: two people claiming at once
                        // cannot both hold the order.
                        let moved = sqlx::query(
                            "UPDATE review_items SET claimed_by = $1, claimed_at = $2 WHERE order_id = $3 \
                             AND ($4 IS NULL OR claimed_by IS NULL OR claimed_by = $4)",
                        )
                        .bind(user)
                        .bind(user.as_ref().map(|_| at.timestamp_millis()))
                        .bind(order_id)
                        .bind(unless_held_by_other)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?
                        .rows_affected();
                        if moved != 1 && unless_held_by_other.is_some() {
                            return Err(StoreError::Conflict("someone else claimed this order meanwhile".into()));
                        }
                    }
                    ReviewChange::Review { action: a, decision, label, outbox, state } => {
                        sqlx::query(
                            "INSERT INTO review_actions (id, order_id, action, reason, note, actor, at, proposal_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(&a.id)
                        .bind(&a.order_id)
                        .bind(&a.action)
                        .bind(&a.reason)
                        .bind(riskdesk_store::seal::seal(riskdesk_store::review::NOTE_FIELD, &a.note))
                        .bind(&a.actor)
                        .bind(a.at.timestamp_millis())
                        .bind(&a.proposal_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                        // Only an item still open or held can be decided: two analysts deciding at
                        // once, or an approval after a release, must not both take effect.
                        let moved = sqlx::query(
                            "UPDATE review_items SET state = $1 WHERE order_id = $2 AND state <> 'closed'",
                        )
                        .bind(state.as_str())
                        .bind(&a.order_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?
                        .rows_affected();
                        if moved != 1 {
                            return Err(StoreError::Conflict("the order was already decided".into()));
                        }
                        // Four eyes are not bypassed by deciding directly: while a cancellation
                        // waits for approval, the order is decided through it (approve, reject or
                        // amend) and nothing else. Checked in the decision's own transaction.
                        if a.proposal_id.is_none() {
                            // A claimed order is decided by its claimant (a team lead takes it over
                            // first): checked here, where the decision is written.
                            let held: Option<Option<String>> =
                                sqlx::query_scalar("SELECT claimed_by FROM review_items WHERE order_id = $1")
                                    .bind(&a.order_id)
                                    .fetch_optional(&mut **tx)
                                    .await
                                    .map_err(dberr)?;
                            let me = a.actor.strip_prefix("user:").unwrap_or(&a.actor);
                            if let Some(Some(other)) = held
                                && other != me
                            {
                                return Err(StoreError::Conflict(format!(
                                    "claimed by {other}: they decide this order, or a team lead takes it over"
                                )));
                            }
                            let waiting: Option<String> = sqlx::query_scalar(
                                "SELECT id FROM proposals WHERE kind = 'cancel_order' AND target = $1 \
                                 AND status = 'pending' AND expires_at > $2",
                            )
                            .bind(&a.order_id)
                            .bind(a.at.timestamp_millis())
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(dberr)?;
                            if let Some(id) = waiting {
                                return Err(StoreError::Conflict(format!(
                                    "cancellation {id} waits for approval for this order: approve, reject or amend it"
                                )));
                            }
                        }
                        if let Some(d) = decision {
                            super::append_decision(&mut **tx, d).await?;
                        }
                        if let Some(n) = label {
                            let e = &n.event;
                            sqlx::query(concat!(
                                "INSERT INTO events (event_id, type, occurred_at, order_id, customer_id, body, received_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
                            ))
                            .bind(e.event_id.as_str())
                            .bind(e.event_type.as_str())
                            .bind(e.occurred_at.timestamp_millis())
                            .bind(e.order_id.as_ref().map(|o| o.to_string()))
                            .bind(e.customer_id.as_ref().map(|c| c.to_string()))
                            .bind(riskdesk_store::codec::event_body(e))
                            .bind(n.received_at.timestamp_millis())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                            if e.event_type == riskdesk_domain::EventType::FraudConfirmed {
                                if let Some(c) = &e.customer_id {
                                    super::flag_account(&mut **tx, c.as_str(), true).await?;
                                }
                            }
                        }
                        let refs: Vec<&riskdesk_store::OutboxMessage> = outbox.iter().collect();
                        super::insert_outbox(&mut **tx, &refs).await?;
                    }
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl ReviewStore for $store {
                async fn review_queue(&self, f: &QueueFilter, sla: &SlaMinutes) -> StoreResult<(Vec<ReviewItem>, i64)> {
                    fn push_where(q: &mut QueryBuilder<$db>, f: &QueueFilter) {
                        match f.state {
                            Some(s) => {
                                q.push(" WHERE state = ").push_bind(s.as_str());
                            }
                            None => {
                                q.push(" WHERE state IN ('open', 'held')");
                            }
                        }
                        if let Some(c) = &f.channel {
                            q.push(" AND channel = ").push_bind(c.clone());
                        }
                        if let Some(c) = &f.country {
                            q.push(" AND country = ").push_bind(c.clone());
                        }
                        if let Some(m) = &f.payment_method {
                            q.push(" AND payment_method = ").push_bind(m.clone());
                        }
                        if let Some(r) = &f.rule {
                            // Whole-id match; ids are [A-Za-z0-9_-], so no LIKE wildcards can hide in them.
                            let id: String = r.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
                            q.push(" AND rules LIKE ").push_bind(format!("% {id} %"));
                        }
                        if let Some(v) = f.min_minor {
                            q.push(" AND total_minor >= ").push_bind(v);
                        }
                        if let Some(v) = f.max_minor {
                            q.push(" AND total_minor <= ").push_bind(v);
                        }
                        if let Some(u) = &f.claimed_by {
                            q.push(" AND claimed_by = ").push_bind(u.clone());
                        }
                        if let Some(r) = &f.reason {
                            q.push(" AND order_id IN (SELECT order_id FROM review_actions WHERE reason = ").push_bind(r.clone()).push(")");
                        }
                    }
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {ITEM_COLS}"));
                    push_due(&mut q, sla);
                    q.push(" AS due_at FROM review_items");
                    push_where(&mut q, f);
                    match f.sort {
                        QueueSort::CutOff => q.push(" ORDER BY due_at, score DESC, order_id"),
                        QueueSort::Risk => q.push(" ORDER BY score DESC, due_at, order_id"),
                    };
                    q.push(" LIMIT ").push_bind(f.limit.max(1)).push(" OFFSET ").push_bind(f.offset.max(0));
                    let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                    let items = rows.iter().map(item_from).collect::<StoreResult<Vec<_>>>()?;
                    let mut c = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM review_items");
                    push_where(&mut c, f);
                    let total: i64 = c.build_query_scalar().fetch_one(&self.$r).await.map_err(dberr)?;
                    Ok((items, total))
                }

                async fn review_item(&self, order_id: &str, sla: &SlaMinutes) -> StoreResult<Option<ReviewItem>> {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {ITEM_COLS}"));
                    push_due(&mut q, sla);
                    q.push(" AS due_at FROM review_items WHERE order_id = ").push_bind(order_id.to_owned());
                    let row = q.build().fetch_optional(&self.$r).await.map_err(dberr)?;
                    row.as_ref().map(item_from).transpose()
                }

                async fn review_actions(&self, order_id: &str) -> StoreResult<Vec<ReviewActionRecord>> {
                    let rows: Vec<(String, String, String, String, String, String, i64, Option<String>)> = sqlx::query_as(
                        "SELECT id, order_id, action, reason, note, actor, at, proposal_id FROM review_actions \
                         WHERE order_id = $1 ORDER BY at",
                    )
                    .bind(order_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                    rows.into_iter()
                        .map(|(id, order_id, action, reason, note, actor, at, proposal_id)| {
                            let note = riskdesk_store::seal::open(riskdesk_store::review::NOTE_FIELD, note)?;
                            Ok(ReviewActionRecord { id, order_id, action, reason, note, actor, at: from_millis(at)?, proposal_id })
                        })
                        .collect()
                }

                async fn latest_review_actions(&self, order_ids: &[String]) -> StoreResult<Vec<ReviewActionRecord>> {
                    if order_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT id, order_id, action, reason, note, actor, at, proposal_id FROM review_actions WHERE order_id IN (",
                    );
                    let mut sep = q.separated(", ");
                    for o in order_ids.iter().take(500) {
                        sep.push_bind(o.clone());
                    }
                    q.push(") ORDER BY at, id");
                    let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                    let mut latest: std::collections::HashMap<String, ReviewActionRecord> = Default::default();
                    for r in &rows {
                        let rec = ReviewActionRecord {
                            id: r.try_get("id").map_err(dberr)?,
                            order_id: r.try_get("order_id").map_err(dberr)?,
                            action: r.try_get("action").map_err(dberr)?,
                            reason: r.try_get("reason").map_err(dberr)?,
                            note: open_col(r, "note", riskdesk_store::review::NOTE_FIELD)?,
                            actor: r.try_get("actor").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                            proposal_id: r.try_get("proposal_id").map_err(dberr)?,
                        };
                        latest.insert(rec.order_id.clone(), rec);
                    }
                    Ok(latest.into_values().collect())
                }

                async fn queue_stats(&self, now: DateTime<Utc>, since: DateTime<Utc>, sla: &SlaMinutes) -> StoreResult<QueueStats> {
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT COALESCE(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0) AS open, \
                         COALESCE(SUM(CASE WHEN state = 'held' THEN 1 ELSE 0 END), 0) AS held, MIN(placed_at) AS oldest, \
                         COALESCE(SUM(CASE WHEN ",
                    );
                    push_due(&mut q, sla);
                    q.push(" < ").push_bind(now.timestamp_millis());
                    q.push(" THEN 1 ELSE 0 END), 0) AS breached FROM review_items WHERE state IN ('open', 'held')");
                    let row = q.build().fetch_one(&self.$r).await.map_err(dberr)?;
                    let decided: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM review_actions WHERE at >= $1")
                        .bind(since.timestamp_millis())
                        .fetch_one(&self.$r)
                        .await
                        .map_err(dberr)?;
                    Ok(QueueStats {
                        open: row.try_get("open").map_err(dberr)?,
                        held: row.try_get("held").map_err(dberr)?,
                        oldest_placed_at: opt_time(row.try_get("oldest").map_err(dberr)?)?,
                        breached: row.try_get("breached").map_err(dberr)?,
                        decided_since: decided,
                    })
                }

                async fn fraud_accounts(&self, customers: &[String]) -> StoreResult<Vec<String>> {
                    if customers.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT customer_id FROM account_links WHERE fraud <> 0 AND customer_id IN (",
                    );
                    let mut list = q.separated(", ");
                    for c in customers {
                        list.push_bind(c.clone());
                    }
                    q.push(")");
                    q.build_query_scalar().fetch_all(&self.$r).await.map_err(dberr)
                }

                async fn queue_facets(&self) -> StoreResult<(Vec<String>, Vec<String>, Vec<String>)> {
                    let mut out = Vec::new();
                    for col in ["channel", "country", "payment_method"] {
                        let sql = format!(
                            "SELECT DISTINCT {col} FROM review_items WHERE state IN ('open', 'held') AND {col} IS NOT NULL ORDER BY {col}"
                        );
                        let v: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&self.$r).await.map_err(dberr)?;
                        out.push(v);
                    }
                    let mut it = out.into_iter();
                    Ok((it.next().unwrap_or_default(), it.next().unwrap_or_default(), it.next().unwrap_or_default()))
                }

        }

            /// Puts an order decided `review` into the queue (or back into it, after a re-decision):
            /// score $1, rules column $2, at $3, order $4.
            pub(crate) const ENQUEUE_REVIEW_SQL: &str = concat!(
                "INSERT INTO review_items (order_id, customer_id, placed_at, channel, country, payment_method, \
                 total_minor, currency, score, rules, state, enqueued_at) \
                 SELECT o.order_id, o.customer_id, o.placed_at, o.channel, ",
                $country,
                ", o.payment_method, o.total_minor, o.currency, $1, $2, 'open', $3 FROM orders o WHERE o.order_id = $4 \
                 ON CONFLICT (order_id) DO UPDATE SET score = excluded.score, rules = excluded.rules, \
                 state = 'open', enqueued_at = excluded.enqueued_at"
            );

            /// See [`ENQUEUE_REVIEW_SQL`].
            pub(crate) async fn enqueue_review(
                conn: &mut <$db as sqlx::Database>::Connection,
                d: &riskdesk_domain::Decision,
            ) -> StoreResult<()> {
                sqlx::query(ENQUEUE_REVIEW_SQL)
                .bind(i64::from(d.score))
                .bind(rules_column(d))
                .bind(d.decided_at.timestamp_millis())
                .bind(d.order_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(dberr)?;
                Ok(())
            }
    };
}
