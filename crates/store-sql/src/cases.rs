//! Cases, their timeline, links and tasks. Times are milliseconds; flags are 0/1 integers.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The cases area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! cases_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        const CASE_COLS: &str = "id, kind, title, description, priority, tier, status, team, owner, opened_by, source, \
             source_ref, open_key, created_at, updated_at, first_response_at, first_response_due_at, resolution_due_at, \
             paused_secs, paused_since, resolution, summary, resolved_at, closed_at, warned_at, escalated_at, reopened, version";
        const TASK_COLS: &str =
            "id, case_id, position, title, mandatory, team, due_at, status, created_by, created_at, done_by, done_at, answer";

        fn case_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<CaseRecord> {
            use riskdesk_domain::cases::{CaseStatus, Priority, Resolution};
            let priority: String = row.try_get("priority").map_err(dberr)?;
            let status: String = row.try_get("status").map_err(dberr)?;
            let resolution: Option<String> = row.try_get("resolution").map_err(dberr)?;
            Ok(CaseRecord {
                id: row.try_get("id").map_err(dberr)?,
                kind: row.try_get("kind").map_err(dberr)?,
                title: row.try_get("title").map_err(dberr)?,
                description: open_col(row, "description", riskdesk_store::cases::DESCRIPTION)?,
                priority: Priority::parse(&priority).ok_or_else(|| StoreError::Corrupt(format!("priority {priority}")))?,
                tier: row.try_get("tier").map_err(dberr)?,
                status: CaseStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
                team: row.try_get("team").map_err(dberr)?,
                owner: row.try_get("owner").map_err(dberr)?,
                opened_by: row.try_get("opened_by").map_err(dberr)?,
                source: row.try_get("source").map_err(dberr)?,
                source_ref: row.try_get("source_ref").map_err(dberr)?,
                open_key: row.try_get("open_key").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                first_response_at: opt_time(row.try_get("first_response_at").map_err(dberr)?)?,
                sla: riskdesk_domain::cases::sla::SlaClock {
                    first_response_due_at: from_millis(row.try_get("first_response_due_at").map_err(dberr)?)?,
                    resolution_due_at: from_millis(row.try_get("resolution_due_at").map_err(dberr)?)?,
                    paused_secs: row.try_get("paused_secs").map_err(dberr)?,
                    paused_since: opt_time(row.try_get("paused_since").map_err(dberr)?)?,
                },
                resolution: match resolution {
                    Some(r) => Some(Resolution::parse(&r).ok_or_else(|| StoreError::Corrupt(format!("resolution {r}")))?),
                    None => None,
                },
                summary: open_col_opt(row, "summary", riskdesk_store::cases::SUMMARY)?,
                resolved_at: opt_time(row.try_get("resolved_at").map_err(dberr)?)?,
                closed_at: opt_time(row.try_get("closed_at").map_err(dberr)?)?,
                warned_at: opt_time(row.try_get("warned_at").map_err(dberr)?)?,
                escalated_at: opt_time(row.try_get("escalated_at").map_err(dberr)?)?,
                reopened: row.try_get("reopened").map_err(dberr)?,
                version: row.try_get("version").map_err(dberr)?,
            })
        }

        fn task_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<CaseTask> {
            let mandatory: i64 = row.try_get("mandatory").map_err(dberr)?;
            Ok(CaseTask {
                id: row.try_get("id").map_err(dberr)?,
                case_id: row.try_get("case_id").map_err(dberr)?,
                position: row.try_get("position").map_err(dberr)?,
                title: row.try_get("title").map_err(dberr)?,
                mandatory: mandatory != 0,
                team: row.try_get("team").map_err(dberr)?,
                due_at: opt_time(row.try_get("due_at").map_err(dberr)?)?,
                status: row.try_get("status").map_err(dberr)?,
                created_by: row.try_get("created_by").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                done_by: row.try_get("done_by").map_err(dberr)?,
                done_at: opt_time(row.try_get("done_at").map_err(dberr)?)?,
                answer: open_col_opt(row, "answer", riskdesk_store::cases::TASK_ANSWER)?,
            })
        }

        fn attachment_from(r: &<$db as sqlx::Database>::Row, data: Vec<u8>) -> StoreResult<Attachment> {
            Ok(Attachment {
                id: r.try_get("id").map_err(dberr)?,
                case_id: r.try_get("case_id").map_err(dberr)?,
                name: r.try_get("name").map_err(dberr)?,
                content_type: r.try_get("content_type").map_err(dberr)?,
                size: r.try_get("size").map_err(dberr)?,
                sha256: r.try_get("sha256").map_err(dberr)?,
                added_by: r.try_get("added_by").map_err(dberr)?,
                added_at: from_millis(r.try_get("added_at").map_err(dberr)?)?,
                data,
            })
        }

        async fn insert_case(tx: &mut Tx<'_>, c: &CaseRecord) -> Result<(), sqlx::Error> {
            sqlx::query(
                "INSERT INTO cases (id, kind, title, description, priority, tier, priority_rank, status, is_open, team, owner, \
                 opened_by, source, source_ref, open_key, created_at, updated_at, first_response_at, first_response_due_at, \
                 resolution_due_at, paused_secs, paused_since, resolution, summary, resolved_at, closed_at, warned_at, \
                 escalated_at, reopened, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                 $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)",
            )
            .bind(&c.id)
            .bind(&c.kind)
            .bind(&c.title)
            .bind(riskdesk_store::seal::seal(riskdesk_store::cases::DESCRIPTION, &c.description))
            .bind(c.priority.as_str())
            .bind(c.tier)
            .bind(c.priority as i64)
            .bind(c.status.as_str())
            .bind(i64::from(c.status.is_open()))
            .bind(&c.team)
            .bind(&c.owner)
            .bind(&c.opened_by)
            .bind(&c.source)
            .bind(&c.source_ref)
            .bind(&c.open_key)
            .bind(c.created_at.timestamp_millis())
            .bind(c.updated_at.timestamp_millis())
            .bind(opt_ms(c.first_response_at))
            .bind(c.sla.first_response_due_at.timestamp_millis())
            .bind(c.sla.resolution_due_at.timestamp_millis())
            .bind(c.sla.paused_secs)
            .bind(opt_ms(c.sla.paused_since))
            .bind(c.resolution.map(|r| r.as_str()))
            .bind(riskdesk_store::seal::seal_opt(riskdesk_store::cases::SUMMARY, c.summary.as_deref()))
            .bind(opt_ms(c.resolved_at))
            .bind(opt_ms(c.closed_at))
            .bind(opt_ms(c.warned_at))
            .bind(opt_ms(c.escalated_at))
            .bind(c.reopened)
            .bind(c.version)
            .execute(&mut **tx)
            .await
            .map(|_| ())
        }

        async fn insert_task(tx: &mut Tx<'_>, t: &CaseTask) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO case_tasks (id, case_id, position, title, mandatory, team, due_at, status, created_by, \
                 created_at, done_by, done_at, answer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&t.id)
            .bind(&t.case_id)
            .bind(t.position)
            .bind(&t.title)
            .bind(i64::from(t.mandatory))
            .bind(&t.team)
            .bind(opt_ms(t.due_at))
            .bind(&t.status)
            .bind(&t.created_by)
            .bind(t.created_at.timestamp_millis())
            .bind(&t.done_by)
            .bind(opt_ms(t.done_at))
            .bind(riskdesk_store::seal::seal_opt(riskdesk_store::cases::TASK_ANSWER, t.answer.as_deref()))
            .execute(&mut **tx)
            .await
            .map_err(dberr)
            .map(|_| ())
        }

        async fn insert_case_event(tx: &mut Tx<'_>, e: &CaseEvent) -> StoreResult<()> {
            sqlx::query("INSERT INTO case_events (case_id, at, actor, kind, text) VALUES ($1, $2, $3, $4, $5)")
                .bind(&e.case_id)
                .bind(e.at.timestamp_millis())
                .bind(&e.actor)
                .bind(&e.kind)
                .bind(riskdesk_store::seal::seal(riskdesk_store::cases::EVENT_TEXT, &e.text))
                .execute(&mut **tx)
                .await
                .map_err(dberr)
                .map(|_| ())
        }

        async fn insert_case_link(tx: &mut Tx<'_>, l: &CaseLink) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO case_links (case_id, kind, value, added_by, added_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&l.case_id)
            .bind(&l.kind)
            .bind(&l.value)
            .bind(&l.added_by)
            .bind(l.added_at.timestamp_millis())
            .execute(&mut **tx)
            .await
            .map_err(dberr)
            .map(|_| ())
        }

        async fn apply_cases(tx: &mut Tx<'_>, change: &CaseChange) -> StoreResult<()> {
            match change {
                CaseChange::Update { case: c, expected_version } => {
                    let n = sqlx::query(
                        "UPDATE cases SET title = $1, description = $2, priority = $3, priority_rank = $4, status = $5, \
                         is_open = $6, team = $7, owner = $8, open_key = $9, updated_at = $10, first_response_at = $11, \
                         first_response_due_at = $12, resolution_due_at = $13, paused_secs = $14, paused_since = $15, \
                         resolution = $16, summary = $17, resolved_at = $18, closed_at = $19, warned_at = $20, \
                         escalated_at = $21, reopened = $22, version = $23, tier = $24 WHERE id = $25 AND version = $26",
                    )
                    .bind(&c.title)
                    .bind(riskdesk_store::seal::seal(riskdesk_store::cases::DESCRIPTION, &c.description))
                    .bind(c.priority.as_str())
                    .bind(c.priority as i64)
                    .bind(c.status.as_str())
                    .bind(i64::from(c.status.is_open()))
                    .bind(&c.team)
                    .bind(&c.owner)
                    .bind(&c.open_key)
                    .bind(c.updated_at.timestamp_millis())
                    .bind(opt_ms(c.first_response_at))
                    .bind(c.sla.first_response_due_at.timestamp_millis())
                    .bind(c.sla.resolution_due_at.timestamp_millis())
                    .bind(c.sla.paused_secs)
                    .bind(opt_ms(c.sla.paused_since))
                    .bind(c.resolution.map(|r| r.as_str()))
                    .bind(riskdesk_store::seal::seal_opt(riskdesk_store::cases::SUMMARY, c.summary.as_deref()))
                    .bind(opt_ms(c.resolved_at))
                    .bind(opt_ms(c.closed_at))
                    .bind(opt_ms(c.warned_at))
                    .bind(opt_ms(c.escalated_at))
                    .bind(c.reopened)
                    .bind(c.version)
                    .bind(c.tier)
                    .bind(&c.id)
                    .bind(*expected_version)
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| {
                        if unique_violation(&e) {
                            StoreError::Conflict("another open case already covers this situation".into())
                        } else {
                            dberr(e)
                        }
                    })?
                    .rows_affected();
                    if n != 1 {
                        return Err(StoreError::Conflict(format!(
                            "case {} changed meanwhile; reload it and try again",
                            c.id
                        )));
                    }
                    Ok(())
                }
                CaseChange::Event(e) => insert_case_event(tx, e).await,
                CaseChange::Link(l) => insert_case_link(tx, l).await,
                CaseChange::Unlink { case_id, kind, value } => {
                    sqlx::query("DELETE FROM case_links WHERE case_id = $1 AND kind = $2 AND value = $3")
                        .bind(case_id)
                        .bind(kind)
                        .bind(value)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    Ok(())
                }
                CaseChange::AddTask(t) => insert_task(tx, t).await,
                CaseChange::Attach(a) => {
                    sqlx::query(
                        "INSERT INTO case_attachments (id, case_id, name, content_type, size, sha256, added_by, added_at, data) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&a.id)
                    .bind(&a.case_id)
                    .bind(&a.name)
                    .bind(&a.content_type)
                    .bind(a.size)
                    .bind(&a.sha256)
                    .bind(&a.added_by)
                    .bind(a.added_at.timestamp_millis())
                    .bind(riskdesk_store::seal::ring().seal_file(riskdesk_store::cases::ATTACHMENT_DATA, &a.data))
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    Ok(())
                }
                CaseChange::UpdateTask(t) => {
                    sqlx::query(
                        "UPDATE case_tasks SET title = $1, mandatory = $2, team = $3, due_at = $4, status = $5, \
                         done_by = $6, done_at = $7, answer = $8 WHERE id = $9",
                    )
                    .bind(&t.title)
                    .bind(i64::from(t.mandatory))
                    .bind(&t.team)
                    .bind(opt_ms(t.due_at))
                    .bind(&t.status)
                    .bind(&t.done_by)
                    .bind(opt_ms(t.done_at))
                    .bind(riskdesk_store::seal::seal_opt(riskdesk_store::cases::TASK_ANSWER, t.answer.as_deref()))
                    .bind(&t.id)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    Ok(())
                }
            }
        }

        fn push_case_where(q: &mut QueryBuilder<$db>, f: &CaseFilter) {
            match &f.statuses {
                None => {
                    q.push(" WHERE is_open = 1");
                }
                Some(s) if s.is_empty() => {
                    q.push(" WHERE 1 = 1");
                }
                Some(s) => {
                    q.push(" WHERE status IN (");
                    let mut sep = q.separated(", ");
                    for st in s {
                        sep.push_bind(st.as_str());
                    }
                    q.push(")");
                }
            }
            if let Some(k) = &f.kind {
                q.push(" AND kind = ").push_bind(k.clone());
            }
            if let Some(t) = &f.team {
                q.push(" AND team = ").push_bind(t.clone());
            }
            if let Some(o) = &f.owner {
                q.push(" AND owner = ").push_bind(o.clone());
            }
            if f.unassigned {
                q.push(" AND owner IS NULL");
            }
            if let Some(o) = &f.opened_by {
                q.push(" AND opened_by = ").push_bind(o.clone());
            }
            if let Some(r) = &f.reported_by {
                q.push(" AND (opened_by = ").push_bind(r.clone());
                q.push(" OR id IN (SELECT case_id FROM case_events WHERE kind = 'report' AND actor = ").push_bind(r.clone());
                q.push("))");
            }
            if let Some((s, r)) = &f.source {
                q.push(" AND source = ").push_bind(s.clone()).push(" AND source_ref = ").push_bind(r.clone());
            }
            if let Some(p) = f.priority {
                q.push(" AND priority = ").push_bind(p.as_str());
            }
            if let Some(t) = &f.text {
                let pattern = format!("%{}%", t.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                q.push(" AND LOWER(title) LIKE ").push_bind(pattern).push(" ESCAPE '\\'");
            }
        }

        #[async_trait::async_trait]
        impl CaseStore for $store {
            async fn case_kpi_days(&self, spans: &riskdesk_store::kpis::Spans, now_ms: i64) -> StoreResult<Vec<riskdesk_store::kpis::AreaDay>> {
                // Answered cases and resolutions from the buckets; cases not answered yet count
                // (as missed) once their first response is overdue at the time of reading.
                let mut days = bucket_days(&self.$r, spans, &[
                    ("case_first_response_sla_rate", 1.0),
                    ("case_resolution_sla_rate", 1.0),
                    ("case_resolution_hours", 3_600_000.0),
                ]).await?;
                days.extend(area_days(&self.$r, spans, &[
                    ("case_first_response_sla_rate",
                     "SELECT (created_at + $1) / 86400000 AS day, CAST(0 AS DOUBLE PRECISION) AS num, CAST(COUNT(*) AS DOUBLE PRECISION) AS den \
                      FROM cases WHERE first_response_at IS NULL AND created_at >= $2 AND created_at < $3 AND first_response_due_at <= $4 GROUP BY 1"),
                ], now_ms).await?);
                Ok(days)
            }

            async fn open_case(&self, c: &NewCase, audit: &[AuditEntry], key: &[u8]) -> StoreResult<Result<(), AlreadyOpen>> {
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                match insert_case(&mut tx, &c.case).await {
                    Ok(()) => {}
                    Err(e) if unique_violation(&e) => {
                        drop(tx);
                        let row = sqlx::query(
                            "SELECT id FROM cases WHERE (source = $1 AND source_ref = $2) OR open_key = $3 LIMIT 1",
                        )
                        .bind(&c.case.source)
                        .bind(&c.case.source_ref)
                        .bind(&c.case.open_key)
                        .fetch_optional(&self.$w)
                        .await
                        .map_err(dberr)?;
                        let id: String = match row {
                            Some(r) => r.try_get("id").map_err(dberr)?,
                            None => return Err(StoreError::Conflict("the case could not be stored; try again".into())),
                        };
                        return Ok(Err(AlreadyOpen(id)));
                    }
                    Err(e) => return Err(dberr(e)),
                }
                for e in &c.events {
                    insert_case_event(&mut tx, e).await?;
                }
                for l in &c.links {
                    insert_case_link(&mut tx, l).await?;
                }
                for t in &c.tasks {
                    insert_task(&mut tx, t).await?;
                }
                append_audit(&mut tx, audit, key).await?;
                tx.commit().await.map_err(dberr)?;
                Ok(Ok(()))
            }

            async fn case(&self, id: &str) -> StoreResult<Option<CaseRecord>> {
                let sql = format!("SELECT {CASE_COLS} FROM cases WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.$r).await.map_err(dberr)?;
                row.as_ref().map(case_from).transpose()
            }

            async fn cases(&self, f: &CaseFilter) -> StoreResult<Vec<CaseRecord>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {CASE_COLS} FROM cases"));
                push_case_where(&mut q, f);
                q.push(" ORDER BY is_open DESC, CASE WHEN paused_since IS NULL THEN 0 ELSE 1 END, resolution_due_at, priority_rank DESC, id LIMIT ")
                    .push_bind(f.limit.clamp(1, 1000))
                    .push(" OFFSET ")
                    .push_bind(f.offset.max(0));
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(case_from).collect()
            }

            async fn count_cases(&self, f: &CaseFilter) -> StoreResult<i64> {
                let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM cases");
                push_case_where(&mut q, f);
                q.build_query_scalar().fetch_one(&self.$r).await.map_err(dberr)
            }

            async fn case_events(&self, case_id: &str) -> StoreResult<Vec<CaseEvent>> {
                let rows = sqlx::query("SELECT id, case_id, at, actor, kind, text FROM case_events WHERE case_id = $1 ORDER BY id")
                    .bind(case_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|row| {
                        Ok(CaseEvent {
                            id: row.try_get("id").map_err(dberr)?,
                            case_id: row.try_get("case_id").map_err(dberr)?,
                            at: from_millis(row.try_get("at").map_err(dberr)?)?,
                            actor: row.try_get("actor").map_err(dberr)?,
                            kind: row.try_get("kind").map_err(dberr)?,
                            text: open_col(row, "text", riskdesk_store::cases::EVENT_TEXT)?,
                        })
                    })
                    .collect()
            }

            async fn case_links(&self, case_id: &str) -> StoreResult<Vec<CaseLink>> {
                let rows = sqlx::query(
                    "SELECT case_id, kind, value, added_by, added_at FROM case_links WHERE case_id = $1 ORDER BY added_at, kind, value",
                )
                .bind(case_id)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|row| {
                        Ok(CaseLink {
                            case_id: row.try_get("case_id").map_err(dberr)?,
                            kind: row.try_get("kind").map_err(dberr)?,
                            value: row.try_get("value").map_err(dberr)?,
                            added_by: row.try_get("added_by").map_err(dberr)?,
                            added_at: from_millis(row.try_get("added_at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }

            async fn case_tasks(&self, case_id: &str) -> StoreResult<Vec<CaseTask>> {
                let sql = format!("SELECT {TASK_COLS} FROM case_tasks WHERE case_id = $1 ORDER BY position, created_at");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(task_from).collect()
            }

            async fn case_attachments(&self, case_id: &str) -> StoreResult<Vec<Attachment>> {
                let rows = sqlx::query(
                    "SELECT id, case_id, name, content_type, size, sha256, added_by, added_at FROM case_attachments \
                     WHERE case_id = $1 ORDER BY added_at, id",
                )
                .bind(case_id)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter().map(|r| attachment_from(r, Vec::new())).collect()
            }

            async fn case_attachment(&self, id: &str) -> StoreResult<Option<Attachment>> {
                let row = sqlx::query(
                    "SELECT id, case_id, name, content_type, size, sha256, added_by, added_at, data FROM case_attachments WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.$r)
                .await
                .map_err(dberr)?;
                match row {
                    Some(r) => {
                        let data: Vec<u8> = r.try_get("data").map_err(dberr)?;
                        let data = riskdesk_store::seal::ring().open_file(riskdesk_store::cases::ATTACHMENT_DATA, &data)?.into_owned();
                        Ok(Some(attachment_from(&r, data)?))
                    }
                    None => Ok(None),
                }
            }

            async fn case_task(&self, id: &str) -> StoreResult<Option<CaseTask>> {
                let sql = format!("SELECT {TASK_COLS} FROM case_tasks WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.$r).await.map_err(dberr)?;
                row.as_ref().map(task_from).transpose()
            }

            async fn cases_linked(&self, kind: &str, value: &str, limit: i64) -> StoreResult<Vec<CaseRecord>> {
                let cols = CASE_COLS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
                let sql = format!(
                    "SELECT {cols} FROM case_links l JOIN cases c ON c.id = l.case_id WHERE l.kind = $1 AND l.value = $2 \
                     ORDER BY c.created_at DESC LIMIT $3"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(kind)
                    .bind(value)
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter().map(case_from).collect()
            }

            async fn cases_due(&self, before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<CaseRecord>> {
                let sql = format!(
                    "SELECT {CASE_COLS} FROM cases WHERE is_open = 1 AND paused_since IS NULL AND resolution_due_at <= $1 \
                     AND (warned_at IS NULL OR escalated_at IS NULL) ORDER BY resolution_due_at LIMIT $2"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(before.timestamp_millis())
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter().map(case_from).collect()
            }

            async fn paid_not_shipped(&self, from: DateTime<Utc>, to: DateTime<Utc>, limit: i64) -> StoreResult<Vec<FlowException>> {
                let rows = sqlx::query(
                    // The probes read the covering indexes of migration `case_flow_indexes` only;
                    // the order's customer is looked up for the rows returned.
                    "SELECT x.order_id, COALESCE(x.customer_id, o.customer_id, '') AS customer_id, x.occurred_at FROM ( \
                       SELECT p.order_id, p.customer_id, p.occurred_at FROM events p \
                       WHERE p.type = 'payment_authorized' AND p.order_id IS NOT NULL AND p.occurred_at >= $1 AND p.occurred_at < $2 \
                       AND NOT EXISTS (SELECT 1 FROM events s WHERE s.order_id = p.order_id AND s.order_id IS NOT NULL \
                                       AND s.type IN ('order_shipped', 'order_cancelled', 'refund_issued')) \
                       ORDER BY p.occurred_at LIMIT $3) x LEFT JOIN orders o ON o.order_id = x.order_id ORDER BY x.occurred_at",
                )
                .bind(from.timestamp_millis())
                .bind(to.timestamp_millis())
                .bind(limit)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(FlowException {
                            order_id: r.try_get("order_id").map_err(dberr)?,
                            customer_id: r.try_get("customer_id").map_err(dberr)?,
                            at: from_millis(r.try_get("occurred_at").map_err(dberr)?)?,
                            changed_at: None,
                        })
                    })
                    .collect()
            }

            async fn shipped_after_address_change(&self, since: DateTime<Utc>, limit: i64) -> StoreResult<Vec<FlowException>> {
                let rows = sqlx::query(
                    // From the few address changes to their customers' orders and shipments; CROSS
                    // JOIN keeps SQLite's planner in that order (PostgreSQL plans it itself).
                    "SELECT s.order_id, o.customer_id, s.occurred_at AS shipped_at, MAX(a.occurred_at) AS changed_at \
                     FROM events a CROSS JOIN orders o CROSS JOIN events s \
                     WHERE a.type = 'address_changed' AND a.customer_id IS NOT NULL AND a.occurred_at >= $1 - 5184000000 \
                     AND o.customer_id = a.customer_id AND o.placed_at < a.occurred_at \
                     AND s.order_id = o.order_id AND s.order_id IS NOT NULL AND s.type = 'order_shipped' \
                     AND s.occurred_at > a.occurred_at AND s.occurred_at >= $1 \
                     GROUP BY s.order_id, o.customer_id, s.occurred_at ORDER BY s.occurred_at DESC LIMIT $2",
                )
                .bind(since.timestamp_millis())
                .bind(limit)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(FlowException {
                            order_id: r.try_get("order_id").map_err(dberr)?,
                            customer_id: r.try_get("customer_id").map_err(dberr)?,
                            at: from_millis(r.try_get("shipped_at").map_err(dberr)?)?,
                            changed_at: opt_time(r.try_get("changed_at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }

            async fn handoffs(&self, team: &str, open_only: bool, limit: i64) -> StoreResult<Vec<CaseTask>> {
                let filter = if open_only { " AND status = 'open'" } else { "" };
                let sql = format!(
                    "SELECT {TASK_COLS} FROM case_tasks WHERE team = $1{filter} \
                     ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, due_at, created_at LIMIT $2"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(team)
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter().map(task_from).collect()
            }
        }
    };
}
