//! Quality assurance: handlings (inserted many rows to a statement: imports run to millions),
//! scorecards, reviews and their failed criteria, sessions, members. Times are milliseconds.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
/// The QA area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! qa_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        const HANDLING_COLS: &str = "handling_id, agent, provider, team, channel, closed_at, week, case_ref, customer_id, order_ids, \
             actions, identity_checked, csat, transcript, received_at, picks, scorecard_version, review_status";
        const REVIEW_COLS: &str = "review_id, handling_id, reviewer, scorecard_version, ratings, score, knocked_out, failed, comment, \
             session_id, agent, provider, team, week, random, created_at, feedback_status, feedback_due, answered_by, answered_at, \
             dispute_reason, second_reviewer, second_score, second_ratings, decided_at, version";
        /// Rows per INSERT statement: 18 columns stay below both backends' parameter limits.
        const HANDLING_CHUNK: usize = 500;

        use riskdesk_store::qa::{json_list, to_json};

        fn handling_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<riskdesk_store::qa::HandlingRecord> {
            let checked: i64 = row.try_get("identity_checked").map_err(dberr)?;
            let order_ids: String = row.try_get("order_ids").map_err(dberr)?;
            let actions: String = row.try_get("actions").map_err(dberr)?;
            let picks: String = row.try_get("picks").map_err(dberr)?;
            Ok(riskdesk_store::qa::HandlingRecord {
                handling: riskdesk_domain::qa::Handling {
                    handling_id: row.try_get("handling_id").map_err(dberr)?,
                    agent: row.try_get("agent").map_err(dberr)?,
                    provider: row.try_get("provider").map_err(dberr)?,
                    team: row.try_get("team").map_err(dberr)?,
                    channel: row.try_get("channel").map_err(dberr)?,
                    closed_at: from_millis(row.try_get("closed_at").map_err(dberr)?)?,
                    case_ref: row.try_get("case_ref").map_err(dberr)?,
                    customer_id: row.try_get("customer_id").map_err(dberr)?,
                    order_ids: json_list(&order_ids)?,
                    actions: json_list(&actions)?,
                    identity_checked: checked != 0,
                    csat: row.try_get("csat").map_err(dberr)?,
                    transcript: open_col(row, "transcript", riskdesk_store::qa::TRANSCRIPT)?,
                },
                week: row.try_get("week").map_err(dberr)?,
                received_at: from_millis(row.try_get("received_at").map_err(dberr)?)?,
                picks: json_list(&picks)?,
                scorecard_version: row.try_get("scorecard_version").map_err(dberr)?,
                review_status: row.try_get("review_status").map_err(dberr)?,
            })
        }

        fn review_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<riskdesk_store::qa::ReviewRecord> {
            let ko: String = row.try_get("knocked_out").map_err(dberr)?;
            let failed: String = row.try_get("failed").map_err(dberr)?;
            let random: i64 = row.try_get("random").map_err(dberr)?;
            Ok(riskdesk_store::qa::ReviewRecord {
                review_id: row.try_get("review_id").map_err(dberr)?,
                handling_id: row.try_get("handling_id").map_err(dberr)?,
                reviewer: row.try_get("reviewer").map_err(dberr)?,
                scorecard_version: row.try_get("scorecard_version").map_err(dberr)?,
                ratings: row.try_get("ratings").map_err(dberr)?,
                score: row.try_get("score").map_err(dberr)?,
                knocked_out: json_list(&ko)?,
                failed: json_list(&failed)?,
                comment: open_col(row, "comment", riskdesk_store::qa::COMMENT)?,
                session_id: row.try_get("session_id").map_err(dberr)?,
                agent: row.try_get("agent").map_err(dberr)?,
                provider: row.try_get("provider").map_err(dberr)?,
                team: row.try_get("team").map_err(dberr)?,
                week: row.try_get("week").map_err(dberr)?,
                random: random != 0,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                feedback_status: row.try_get("feedback_status").map_err(dberr)?,
                feedback_due: opt_time(row.try_get("feedback_due").map_err(dberr)?)?,
                answered_by: row.try_get("answered_by").map_err(dberr)?,
                answered_at: opt_time(row.try_get("answered_at").map_err(dberr)?)?,
                dispute_reason: row.try_get("dispute_reason").map_err(dberr)?,
                second_reviewer: row.try_get("second_reviewer").map_err(dberr)?,
                second_score: row.try_get("second_score").map_err(dberr)?,
                second_ratings: row.try_get("second_ratings").map_err(dberr)?,
                decided_at: opt_time(row.try_get("decided_at").map_err(dberr)?)?,
                version: row.try_get("version").map_err(dberr)?,
            })
        }

        fn session_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<riskdesk_store::qa::SessionRecord> {
            let h: String = row.try_get("handling_ids").map_err(dberr)?;
            let r: String = row.try_get("reviewers").map_err(dberr)?;
            Ok(riskdesk_store::qa::SessionRecord {
                session_id: row.try_get("session_id").map_err(dberr)?,
                name: row.try_get("name").map_err(dberr)?,
                handling_ids: json_list(&h)?,
                reviewers: json_list(&r)?,
                created_by: row.try_get("created_by").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
            })
        }

        async fn write_review(tx: &mut Tx<'_>, r: &riskdesk_store::qa::ReviewRecord, expected: Option<i64>) -> StoreResult<()> {
            let moved = match expected {
                None => sqlx::query(
                    "INSERT INTO qa_reviews (review_id, handling_id, reviewer, scorecard_version, ratings, score, knocked_out, failed, comment, \
                     session_id, agent, provider, team, week, random, created_at, feedback_status, feedback_due, answered_by, answered_at, \
                     dispute_reason, second_reviewer, second_score, decided_at, version, second_ratings) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
                )
                .bind(&r.review_id)
                .bind(&r.handling_id)
                .bind(&r.reviewer)
                .bind(r.scorecard_version)
                .bind(&r.ratings)
                .bind(r.score)
                .bind(to_json(&r.knocked_out))
                .bind(to_json(&r.failed))
                .bind(riskdesk_store::seal::seal(riskdesk_store::qa::COMMENT, &r.comment))
                .bind(&r.session_id)
                .bind(&r.agent)
                .bind(&r.provider)
                .bind(&r.team)
                .bind(&r.week)
                .bind(i64::from(r.random))
                .bind(r.created_at.timestamp_millis())
                .bind(&r.feedback_status)
                .bind(opt_ms(r.feedback_due))
                .bind(&r.answered_by)
                .bind(opt_ms(r.answered_at))
                .bind(&r.dispute_reason)
                .bind(&r.second_reviewer)
                .bind(r.second_score)
                .bind(opt_ms(r.decided_at))
                .bind(r.version)
                .bind(&r.second_ratings)
                .execute(&mut **tx)
                .await
                .map_err(dberr)?
                .rows_affected(),
                Some(v) => sqlx::query(
                    "UPDATE qa_reviews SET feedback_status = $1, feedback_due = $2, answered_by = $3, answered_at = $4, dispute_reason = $5, \
                     second_reviewer = $6, second_score = $7, decided_at = $8, version = $9, second_ratings = $12, knocked_out = $13, failed = $14 \
                     WHERE review_id = $10 AND version = $11",
                )
                .bind(&r.feedback_status)
                .bind(opt_ms(r.feedback_due))
                .bind(&r.answered_by)
                .bind(opt_ms(r.answered_at))
                .bind(&r.dispute_reason)
                .bind(&r.second_reviewer)
                .bind(r.second_score)
                .bind(opt_ms(r.decided_at))
                .bind(r.version)
                .bind(&r.review_id)
                .bind(v)
                .bind(&r.second_ratings)
                .bind(to_json(&r.knocked_out))
                .bind(to_json(&r.failed))
                .execute(&mut **tx)
                .await
                .map_err(dberr)?
                .rows_affected(),
            };
            if moved != 1 {
                return Err(StoreError::Conflict(format!("the review {} changed meanwhile; reload it", r.review_id)));
            }
            Ok(())
        }

        async fn apply_qa(tx: &mut Tx<'_>, change: &riskdesk_store::qa::QaChange) -> StoreResult<()> {
            use riskdesk_store::qa::QaChange;
            match change {
                QaChange::Handlings(rows) => {
                    for chunk in rows.chunks(HANDLING_CHUNK) {
                        let mut q = QueryBuilder::<$db>::new(format!("INSERT INTO handlings ({HANDLING_COLS}) "));
                        q.push_values(chunk, |mut b, h| {
                            let x = &h.handling;
                            b.push_bind(x.handling_id.clone())
                                .push_bind(x.agent.clone())
                                .push_bind(x.provider.clone())
                                .push_bind(x.team.clone())
                                .push_bind(x.channel.clone())
                                .push_bind(x.closed_at.timestamp_millis())
                                .push_bind(h.week.clone())
                                .push_bind(x.case_ref.clone())
                                .push_bind(x.customer_id.clone())
                                .push_bind(to_json(&x.order_ids))
                                .push_bind(to_json(&x.actions))
                                .push_bind(i64::from(x.identity_checked))
                                .push_bind(x.csat)
                                .push_bind(riskdesk_store::seal::seal(riskdesk_store::qa::TRANSCRIPT, &x.transcript))
                                .push_bind(h.received_at.timestamp_millis())
                                .push_bind(to_json(&h.picks))
                                .push_bind(h.scorecard_version)
                                .push_bind(h.review_status.clone());
                        });
                        q.push(" ON CONFLICT (handling_id) DO NOTHING");
                        q.build().execute(&mut **tx).await.map_err(dberr)?;
                    }
                    Ok(())
                }
                QaChange::Scorecard(s) => {
                    sqlx::query("INSERT INTO qa_scorecards (version, name, body, author, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(s.version)
                        .bind(&s.name)
                        .bind(&s.body)
                        .bind(&s.author)
                        .bind(s.created_at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(|e| {
                            if unique_violation(&e) {
                                StoreError::Conflict(format!("scorecard version {} exists already; reload and edit the newest", s.version))
                            } else {
                                dberr(e)
                            }
                        })?;
                    Ok(())
                }
                QaChange::Review(r) => {
                    write_review(tx, r, None).await?;
                    if r.session_id.is_some() {
                        // Calibration stays out of the trends.
                        return Ok(());
                    }
                    for c in &r.failed {
                        sqlx::query("INSERT INTO qa_review_failures (review_id, criterion, knockout, week, provider) VALUES ($1, $2, $3, $4, $5)")
                            .bind(&r.review_id)
                            .bind(c)
                            .bind(i64::from(r.knocked_out.contains(c)))
                            .bind(&r.week)
                            .bind(&r.provider)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    // Only the first of two reviewers racing for one handling gets it.
                    let n = sqlx::query("UPDATE handlings SET review_status = 'reviewed' WHERE handling_id = $1 AND review_status = 'open'")
                        .bind(&r.handling_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?
                        .rows_affected();
                    if n != 1 {
                        return Err(StoreError::Conflict(format!("the handling {} was reviewed meanwhile", r.handling_id)));
                    }
                    Ok(())
                }
                QaChange::UpdateReview { review, expected_version } => {
                    write_review(tx, review, Some(*expected_version)).await?;
                    if review.second_ratings.is_some() && review.session_id.is_none() {
                        // A revision replaces the failures the trends count.
                        sqlx::query("DELETE FROM qa_review_failures WHERE review_id = $1").bind(&review.review_id).execute(&mut **tx).await.map_err(dberr)?;
                        for c in &review.failed {
                            sqlx::query("INSERT INTO qa_review_failures (review_id, criterion, knockout, week, provider) VALUES ($1, $2, $3, $4, $5)")
                                .bind(&review.review_id)
                                .bind(c)
                                .bind(i64::from(review.knocked_out.contains(c)))
                                .bind(&review.week)
                                .bind(&review.provider)
                                .execute(&mut **tx)
                                .await
                                .map_err(dberr)?;
                        }
                    }
                    Ok(())
                }
                QaChange::Session(s) => {
                    sqlx::query(
                        "INSERT INTO qa_sessions (session_id, name, handling_ids, reviewers, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&s.session_id)
                    .bind(&s.name)
                    .bind(to_json(&s.handling_ids))
                    .bind(to_json(&s.reviewers))
                    .bind(&s.created_by)
                    .bind(s.created_at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    Ok(())
                }
                QaChange::Member(m) => {
                    sqlx::query(
                        "INSERT INTO qa_members (username, provider, team) VALUES ($1, $2, $3) \
                         ON CONFLICT (username) DO UPDATE SET provider = excluded.provider, team = excluded.team",
                    )
                    .bind(&m.username)
                    .bind(&m.provider)
                    .bind(&m.team)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    Ok(())
                }
            }
        }

        #[async_trait::async_trait]
        impl riskdesk_store::qa::QaStore for $store {
            async fn qa_kpi_days(&self, spans: &riskdesk_store::kpis::Spans, now_ms: i64) -> StoreResult<Vec<riskdesk_store::kpis::AreaDay>> {
                // Scores are read live (a review count a year stays small); CSAT, one per handling,
                // comes from the buckets.
                let mut days = area_days(&self.$r, spans, &[
                    ("qa_score",
                     "SELECT (created_at + $1) / 86400000 AS day, CAST(SUM(COALESCE(second_score, score)) AS DOUBLE PRECISION) AS num, \
                      CAST(COUNT(*) AS DOUBLE PRECISION) AS den \
                      FROM qa_reviews WHERE created_at >= $2 AND created_at < $3 AND session_id IS NULL AND $4 = $4 GROUP BY 1"),
                    ("qa_knockout_rate",
                     "SELECT (created_at + $1) / 86400000 AS day, \
                      CAST(SUM(CASE WHEN knocked_out <> '[]' THEN 1 ELSE 0 END) AS DOUBLE PRECISION) AS num, \
                      CAST(COUNT(*) AS DOUBLE PRECISION) AS den \
                      FROM qa_reviews WHERE created_at >= $2 AND created_at < $3 AND session_id IS NULL AND $4 = $4 GROUP BY 1"),
                ], now_ms).await?;
                days.extend(bucket_days(&self.$r, spans, &[("csat", 1.0)]).await?);
                Ok(days)
            }

            async fn handling(&self, id: &str) -> StoreResult<Option<riskdesk_store::qa::HandlingRecord>> {
                let sql = format!("SELECT {HANDLING_COLS} FROM handlings WHERE handling_id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.$r).await.map_err(dberr)?;
                row.as_ref().map(handling_from).transpose()
            }

            async fn handlings_stored(&self, ids: &[String]) -> StoreResult<Vec<String>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(900) {
                    let mut q = QueryBuilder::<$db>::new("SELECT handling_id FROM handlings WHERE handling_id IN (");
                    let mut sep = q.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.clone());
                    }
                    q.push(")");
                    let rows = q.build().fetch_all(&self.$w).await.map_err(dberr)?;
                    for r in rows {
                        out.push(r.try_get::<String, _>(0).map_err(dberr)?);
                    }
                }
                Ok(out)
            }

            async fn qa_inbox(&self, f: &riskdesk_store::qa::InboxFilter) -> StoreResult<(Vec<riskdesk_store::qa::HandlingRecord>, i64)> {
                let filter = |q: &mut QueryBuilder<$db>| {
                    q.push(" WHERE review_status = 'open'");
                    if let Some(p) = &f.provider {
                        q.push(" AND provider = ").push_bind(p.clone());
                    }
                    if let Some(a) = &f.agent {
                        q.push(" AND agent = ").push_bind(a.clone());
                    }
                    if let Some(t) = &f.not_team {
                        q.push(" AND team <> ").push_bind(t.clone());
                    }
                };
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {HANDLING_COLS} FROM handlings"));
                filter(&mut q);
                q.push(" ORDER BY closed_at, handling_id LIMIT ").push_bind(f.limit.clamp(1, 500));
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                let mut c = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM handlings");
                filter(&mut c);
                let n = c.build_query_scalar::<i64>().fetch_one(&self.$r).await.map_err(dberr)?;
                Ok((rows.iter().map(handling_from).collect::<StoreResult<_>>()?, n))
            }

            async fn review(&self, id: &str) -> StoreResult<Option<riskdesk_store::qa::ReviewRecord>> {
                let sql = format!("SELECT {REVIEW_COLS} FROM qa_reviews WHERE review_id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.$r).await.map_err(dberr)?;
                row.as_ref().map(review_from).transpose()
            }

            async fn reviews(&self, f: &riskdesk_store::qa::ReviewFilter) -> StoreResult<Vec<riskdesk_store::qa::ReviewRecord>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {REVIEW_COLS} FROM qa_reviews WHERE 1 = 1"));
                if let Some(h) = &f.handling_id {
                    q.push(" AND handling_id = ").push_bind(h.clone());
                }
                if let Some(p) = &f.provider {
                    q.push(" AND provider = ").push_bind(p.clone());
                }
                if let Some(s) = &f.session_id {
                    q.push(" AND session_id = ").push_bind(s.clone());
                }
                if let Some(st) = &f.statuses {
                    if st.is_empty() {
                        q.push(" AND 1 = 0");
                    } else {
                        q.push(" AND feedback_status IN (");
                        let mut sep = q.separated(", ");
                        for s in st {
                            sep.push_bind(s.clone());
                        }
                        q.push(")");
                    }
                }
                q.push(" ORDER BY created_at DESC, review_id LIMIT ").push_bind(f.limit.clamp(1, 5000));
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(review_from).collect()
            }

            async fn scorecards(&self) -> StoreResult<Vec<riskdesk_store::qa::ScorecardRecord>> {
                let rows = sqlx::query("SELECT version, name, body, author, created_at FROM qa_scorecards ORDER BY version DESC")
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(riskdesk_store::qa::ScorecardRecord {
                            version: r.try_get("version").map_err(dberr)?,
                            name: r.try_get("name").map_err(dberr)?,
                            body: r.try_get("body").map_err(dberr)?,
                            author: r.try_get("author").map_err(dberr)?,
                            created_at: from_millis(r.try_get("created_at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }

            async fn scorecard(&self, version: i64) -> StoreResult<Option<riskdesk_store::qa::ScorecardRecord>> {
                Ok(self.scorecards().await?.into_iter().find(|s| s.version == version))
            }

            async fn qa_session(&self, id: &str) -> StoreResult<Option<riskdesk_store::qa::SessionRecord>> {
                let row = sqlx::query("SELECT session_id, name, handling_ids, reviewers, created_by, created_at FROM qa_sessions WHERE session_id = $1")
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?;
                row.as_ref().map(session_from).transpose()
            }

            async fn qa_sessions(&self, limit: i64) -> StoreResult<Vec<riskdesk_store::qa::SessionRecord>> {
                let rows = sqlx::query(
                    "SELECT session_id, name, handling_ids, reviewers, created_by, created_at FROM qa_sessions ORDER BY created_at DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter().map(session_from).collect()
            }

            async fn member(&self, username: &str) -> StoreResult<Option<riskdesk_store::qa::Member>> {
                let row = sqlx::query("SELECT username, provider, team FROM qa_members WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?;
                row.map(|r| {
                    Ok(riskdesk_store::qa::Member {
                        username: r.try_get("username").map_err(dberr)?,
                        provider: r.try_get("provider").map_err(dberr)?,
                        team: r.try_get("team").map_err(dberr)?,
                    })
                })
                .transpose()
            }

            async fn qa_trends(&self, by: &str, from: &str, to: &str, provider: Option<&str>) -> StoreResult<Vec<riskdesk_store::qa::TrendRow>> {
                let col = match by {
                    "agent" => "agent",
                    "team" => "team",
                    _ => "provider",
                };
                let mut q = QueryBuilder::<$db>::new(format!(
                    "SELECT week, {col} AS k, COUNT(*) AS n, AVG(COALESCE(second_score, score)) AS avg_score, \
                     CAST(SUM(CASE WHEN knocked_out <> '[]' THEN 1 ELSE 0 END) AS BIGINT) AS ko, \
                     CAST(SUM(random) AS BIGINT) AS rn, AVG(CASE WHEN random = 1 THEN COALESCE(second_score, score) END) AS ravg \
                     FROM qa_reviews WHERE session_id IS NULL AND week >= "
                ));
                q.push_bind(from.to_owned()).push(" AND week <= ").push_bind(to.to_owned());
                if let Some(p) = provider {
                    q.push(" AND provider = ").push_bind(p.to_owned());
                }
                q.push(format!(" GROUP BY week, {col} ORDER BY week, {col}"));
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(riskdesk_store::qa::TrendRow {
                            week: r.try_get("week").map_err(dberr)?,
                            key: r.try_get("k").map_err(dberr)?,
                            reviews: r.try_get("n").map_err(dberr)?,
                            avg_score: r.try_get("avg_score").map_err(dberr)?,
                            knockouts: r.try_get("ko").map_err(dberr)?,
                            random_reviews: r.try_get("rn").map_err(dberr)?,
                            random_avg: r.try_get("ravg").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn qa_criteria(&self, from: &str, to: &str, provider: Option<&str>) -> StoreResult<Vec<riskdesk_store::qa::CriterionRow>> {
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT criterion, COUNT(*) AS n, CAST(SUM(knockout) AS BIGINT) AS ko FROM qa_review_failures WHERE week >= ",
                );
                q.push_bind(from.to_owned()).push(" AND week <= ").push_bind(to.to_owned());
                if let Some(p) = provider {
                    q.push(" AND provider = ").push_bind(p.to_owned());
                }
                q.push(" GROUP BY criterion ORDER BY COUNT(*) DESC, criterion");
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(riskdesk_store::qa::CriterionRow {
                            criterion: r.try_get("criterion").map_err(dberr)?,
                            failed: r.try_get("n").map_err(dberr)?,
                            knockouts: r.try_get("ko").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn qa_criteria_weekly(&self, from: &str, to: &str, provider: Option<&str>) -> StoreResult<Vec<riskdesk_store::qa::CriterionWeek>> {
                let mut q = QueryBuilder::<$db>::new("SELECT week, criterion, COUNT(*) AS n FROM qa_review_failures WHERE week >= ");
                q.push_bind(from.to_owned()).push(" AND week <= ").push_bind(to.to_owned());
                if let Some(p) = provider {
                    q.push(" AND provider = ").push_bind(p.to_owned());
                }
                q.push(" GROUP BY week, criterion ORDER BY week, criterion");
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(riskdesk_store::qa::CriterionWeek {
                            week: r.try_get("week").map_err(dberr)?,
                            criterion: r.try_get("criterion").map_err(dberr)?,
                            failed: r.try_get("n").map_err(dberr)?,
                        })
                    })
                    .collect()
            }
        }
    };
}
