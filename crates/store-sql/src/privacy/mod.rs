//! Privacy operations: requests, jobs, outcomes, the vault, breaches, notifications (the store's
//! reads, here); a person's records read section by section (`person.rs`); the changes written
//! in a transaction (`changes.rs`). `$body` reads `o.body` as bytes (packed or JSON); `$jcast` is
//! what makes a text parameter a JSON column. The three macros expand into one module, so each
//! sees the others' items.

mod changes;
mod person;

/// The privacy area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! privacy_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident, $body:literal, $jcast:literal) => {
        use riskdesk_store::privacy::*;
        use serde_json::{Value, json};

        const REQUEST_COLS: &str = "request_id, case_id, customer_id, right_code, channel, status, received_at, received_on, months, \
             paused_days, paused_since, extension_reason, identity, identity_method, identity_evidence, code_hash, code_expires_at, \
             details, answer, flags, duplicates, created_by, created_at, updated_at, closed_at, warned_days, version";
        const JOB_COLS: &str = "job_id, request_id, kind, status, section, cursor, done_rows, actor, error, attempts, scratch, \
             created_at, updated_at, finished_at";
        const BREACH_COLS: &str = "breach_id, title, description, occurred_at, aware_at, risk, people_affected, categories, \
             authority_notified_at, people_notified_at, people_decision, request_id, status, created_by, created_at, updated_at, version";
        const VAULT_COLS: &str = "vault_id, customer_id, record_kind, record_id, fields, class, reason, until, request_id, created_at";

        fn request_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<RequestRecord> {
            let flags: String = row.try_get("flags").map_err(dberr)?;
            Ok(RequestRecord {
                request_id: row.try_get("request_id").map_err(dberr)?,
                case_id: row.try_get("case_id").map_err(dberr)?,
                customer_id: row.try_get("customer_id").map_err(dberr)?,
                right: row.try_get("right_code").map_err(dberr)?,
                channel: row.try_get("channel").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                received_at: from_millis(row.try_get("received_at").map_err(dberr)?)?,
                received_on: row.try_get("received_on").map_err(dberr)?,
                months: row.try_get("months").map_err(dberr)?,
                paused_days: row.try_get("paused_days").map_err(dberr)?,
                paused_since: row.try_get("paused_since").map_err(dberr)?,
                extension_reason: row.try_get("extension_reason").map_err(dberr)?,
                identity: row.try_get("identity").map_err(dberr)?,
                identity_method: row.try_get("identity_method").map_err(dberr)?,
                identity_evidence: open_col_opt(row, "identity_evidence", riskdesk_store::privacy::IDENTITY_EVIDENCE)?,
                code_hash: row.try_get("code_hash").map_err(dberr)?,
                code_expires_at: opt_time(row.try_get("code_expires_at").map_err(dberr)?)?,
                details: open_col(row, "details", riskdesk_store::privacy::DETAILS)?,
                answer: open_col_opt(row, "answer", riskdesk_store::privacy::ANSWER)?,
                flags: riskdesk_store::qa::json_list(&flags)?,
                duplicates: row.try_get("duplicates").map_err(dberr)?,
                created_by: row.try_get("created_by").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                closed_at: opt_time(row.try_get("closed_at").map_err(dberr)?)?,
                warned_days: row.try_get("warned_days").map_err(dberr)?,
                version: row.try_get("version").map_err(dberr)?,
            })
        }

        fn job_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<JobRecord> {
            Ok(JobRecord {
                job_id: row.try_get("job_id").map_err(dberr)?,
                request_id: row.try_get("request_id").map_err(dberr)?,
                kind: row.try_get("kind").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                section: row.try_get("section").map_err(dberr)?,
                cursor: row.try_get("cursor").map_err(dberr)?,
                done_rows: row.try_get("done_rows").map_err(dberr)?,
                actor: row.try_get("actor").map_err(dberr)?,
                error: row.try_get("error").map_err(dberr)?,
                attempts: row.try_get("attempts").map_err(dberr)?,
                scratch: row.try_get("scratch").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                finished_at: opt_time(row.try_get("finished_at").map_err(dberr)?)?,
            })
        }

        fn breach_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<BreachRecord> {
            Ok(BreachRecord {
                breach_id: row.try_get("breach_id").map_err(dberr)?,
                title: row.try_get("title").map_err(dberr)?,
                description: row.try_get("description").map_err(dberr)?,
                occurred_at: opt_time(row.try_get("occurred_at").map_err(dberr)?)?,
                aware_at: from_millis(row.try_get("aware_at").map_err(dberr)?)?,
                risk: row.try_get("risk").map_err(dberr)?,
                people_affected: row.try_get("people_affected").map_err(dberr)?,
                categories: row.try_get("categories").map_err(dberr)?,
                authority_notified_at: opt_time(row.try_get("authority_notified_at").map_err(dberr)?)?,
                people_notified_at: opt_time(row.try_get("people_notified_at").map_err(dberr)?)?,
                people_decision: row.try_get("people_decision").map_err(dberr)?,
                request_id: row.try_get("request_id").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                created_by: row.try_get("created_by").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                version: row.try_get("version").map_err(dberr)?,
            })
        }

        fn vault_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<VaultRow> {
            Ok(VaultRow {
                vault_id: row.try_get("vault_id").map_err(dberr)?,
                customer_id: row.try_get("customer_id").map_err(dberr)?,
                record_kind: row.try_get("record_kind").map_err(dberr)?,
                record_id: row.try_get("record_id").map_err(dberr)?,
                fields: open_col(row, "fields", riskdesk_store::privacy::VAULT_FIELDS)?,
                class: row.try_get("class").map_err(dberr)?,
                reason: row.try_get("reason").map_err(dberr)?,
                until: row.try_get("until").map_err(dberr)?,
                request_id: row.try_get("request_id").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
            })
        }

        $crate::privacy_person_sql!($db, $body);
        $crate::privacy_changes_sql!($db, $jcast);

        #[async_trait::async_trait]
        impl PrivacyStore for $store {
            async fn privacy_request(&self, id: &str) -> StoreResult<Option<RequestRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {REQUEST_COLS} FROM privacy_requests WHERE request_id = $1")))
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?
                    .map(|r| request_from(&r))
                    .transpose()
            }

            async fn privacy_requests(&self, f: &RequestFilter) -> StoreResult<Vec<RequestRecord>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {REQUEST_COLS} FROM privacy_requests WHERE 1 = 1"));
                match &f.statuses {
                    None => {
                        q.push(" AND is_open = 1");
                    }
                    Some(s) if !s.is_empty() => {
                        q.push(" AND status IN (");
                        let mut sep = q.separated(", ");
                        for x in s {
                            sep.push_bind(x.clone());
                        }
                        q.push(")");
                    }
                    Some(_) => {}
                }
                if let Some(c) = &f.customer_id {
                    q.push(" AND customer_id = ").push_bind(c.clone());
                }
                if let Some(r) = &f.right {
                    q.push(" AND right_code = ").push_bind(r.clone());
                }
                q.push(" ORDER BY received_at LIMIT ").push_bind(f.limit.clamp(1, 2000));
                q.build().fetch_all(&self.$r).await.map_err(dberr)?.iter().map(request_from).collect()
            }

            async fn privacy_request_events(&self, id: &str) -> StoreResult<Vec<RequestEvent>> {
                let rows = sqlx::query("SELECT id, request_id, at, actor, kind, text FROM privacy_request_events WHERE request_id = $1 ORDER BY id")
                    .bind(id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(RequestEvent {
                            id: r.try_get("id").map_err(dberr)?,
                            request_id: r.try_get("request_id").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                            actor: r.try_get("actor").map_err(dberr)?,
                            kind: r.try_get("kind").map_err(dberr)?,
                            text: open_col(r, "text", riskdesk_store::privacy::EVENT_TEXT)?,
                        })
                    })
                    .collect()
            }

            async fn person_rows(&self, s: Section, who: &Person, after: &str, limit: i64) -> StoreResult<Vec<PersonRow>> {
                section_rows(&self.$w, s, who, after, limit.clamp(1, 10_000)).await
            }

            async fn privacy_job(&self, id: &str) -> StoreResult<Option<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE job_id = $1")))
                    .bind(id)
                    .fetch_optional(&self.$w)
                    .await
                    .map_err(dberr)?
                    .map(|r| job_from(&r))
                    .transpose()
            }

            async fn privacy_jobs_open(&self) -> StoreResult<Vec<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE status IN ('queued', 'running') ORDER BY created_at LIMIT 100")))
                    .fetch_all(&self.$w)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(job_from)
                    .collect()
            }

            async fn privacy_jobs_of(&self, request_id: &str) -> StoreResult<Vec<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE request_id = $1 ORDER BY created_at")))
                    .bind(request_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(job_from)
                    .collect()
            }

            async fn export_parts(&self, job_id: &str) -> StoreResult<Vec<(i64, String)>> {
                let rows: Vec<(i64, String)> =
                    sqlx::query_as("SELECT section, body FROM privacy_export_parts WHERE job_id = $1 ORDER BY section, seq")
                        .bind(job_id)
                        .fetch_all(&self.$r)
                        .await
                        .map_err(dberr)?;
                rows.into_iter().map(|(s, b)| Ok((s, riskdesk_store::seal::open(riskdesk_store::privacy::EXPORT_BODY, b)?))).collect()
            }

            async fn privacy_outcomes(&self, request_id: &str) -> StoreResult<Vec<OutcomeRow>> {
                let rows = sqlx::query(
                    "SELECT request_id, record_kind, record_id, outcome, until, reason, at FROM privacy_outcomes WHERE request_id = $1 \
                     ORDER BY record_kind, record_id",
                )
                .bind(request_id)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(OutcomeRow {
                            request_id: r.try_get("request_id").map_err(dberr)?,
                            record_kind: r.try_get("record_kind").map_err(dberr)?,
                            record_id: r.try_get("record_id").map_err(dberr)?,
                            outcome: r.try_get("outcome").map_err(dberr)?,
                            until: r.try_get("until").map_err(dberr)?,
                            reason: r.try_get("reason").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }

            async fn vault_rows(&self, customer_id: &str) -> StoreResult<Vec<VaultRow>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {VAULT_COLS} FROM privacy_vault WHERE customer_id = $1 ORDER BY record_kind, record_id")))
                    .bind(customer_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(vault_from)
                    .collect()
            }

            async fn vault_fields(&self, vault_id: &str) -> StoreResult<Option<VaultRow>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {VAULT_COLS} FROM privacy_vault WHERE vault_id = $1")))
                    .bind(vault_id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?
                    .map(|r| vault_from(&r))
                    .transpose()
            }

            async fn vault_expired(&self, today: &str, after: &str, limit: i64) -> StoreResult<Vec<VaultRow>> {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {VAULT_COLS} FROM privacy_vault WHERE until < $1 AND vault_id > $2 ORDER BY vault_id LIMIT $3"
                )))
                .bind(today)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.$w)
                .await
                .map_err(dberr)?
                .iter()
                .map(vault_from)
                .collect()
            }

            async fn breach(&self, id: &str) -> StoreResult<Option<BreachRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BREACH_COLS} FROM privacy_breaches WHERE breach_id = $1")))
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?
                    .map(|r| breach_from(&r))
                    .transpose()
            }

            async fn breaches(&self, open_only: bool, limit: i64) -> StoreResult<Vec<BreachRecord>> {
                let filter = if open_only { "WHERE status = 'open'" } else { "" };
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BREACH_COLS} FROM privacy_breaches {filter} ORDER BY aware_at DESC LIMIT $1")))
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(breach_from)
                    .collect()
            }

            async fn breach_events(&self, id: &str) -> StoreResult<Vec<BreachEvent>> {
                let rows = sqlx::query("SELECT id, breach_id, at, actor, phase, text FROM privacy_breach_events WHERE breach_id = $1 ORDER BY id")
                    .bind(id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(BreachEvent {
                            id: r.try_get("id").map_err(dberr)?,
                            breach_id: r.try_get("breach_id").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                            actor: r.try_get("actor").map_err(dberr)?,
                            phase: r.try_get("phase").map_err(dberr)?,
                            text: open_col(r, "text", riskdesk_store::privacy::BREACH_EVENT_TEXT)?,
                        })
                    })
                    .collect()
            }

            async fn privacy_notifications(&self, request_id: &str) -> StoreResult<Vec<Notification>> {
                let rows = sqlx::query("SELECT request_id, recipient, action, at, actor, note FROM privacy_notifications WHERE request_id = $1 ORDER BY at")
                    .bind(request_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(Notification {
                            request_id: r.try_get("request_id").map_err(dberr)?,
                            recipient: r.try_get("recipient").map_err(dberr)?,
                            action: r.try_get("action").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                            actor: r.try_get("actor").map_err(dberr)?,
                            note: r.try_get("note").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn sweep_runs(&self, limit: i64) -> StoreResult<Vec<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE kind = 'sweep' ORDER BY created_at DESC LIMIT $1")))
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(job_from)
                    .collect()
            }

            // The cursor's lower bound is written out as a range (`placed_at >= $2`): with only
            // the OR, PostgreSQL scanned from the oldest order at every batch. On the readers, so
            // that a sweep reads its next batch while the writer stores the last.
            async fn sweep_orders(&self, before_ms: i64, after: (i64, &str), limit: i64) -> StoreResult<Vec<SweepOrder>> {
                let rows = sqlx::query(concat!(
                    "SELECT o.order_id, o.customer_id, o.placed_at, ",
                    $body,
                    " AS body FROM orders o WHERE o.placed_at >= $2 AND o.placed_at < $1 AND (o.placed_at > $2 OR o.order_id > $3) \
                     ORDER BY o.placed_at, o.order_id LIMIT $4"
                ))
                .bind(before_ms)
                .bind(after.0)
                .bind(after.1)
                .bind(limit)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                let raw = rows
                    .iter()
                    .map(|r| {
                        let body: Vec<u8> = r.try_get("body").map_err(dberr)?;
                        Ok((r.try_get("order_id").map_err(dberr)?, r.try_get("customer_id").map_err(dberr)?, r.try_get("placed_at").map_err(dberr)?, body))
                    })
                    .collect::<StoreResult<Vec<(String, String, i64, Vec<u8>)>>>()?;
                // Unpacking is the read's work: on every core.
                use rayon::prelude::*;
                raw.into_par_iter()
                    .map(|(order_id, customer_id, placed_at, body)| {
                        Ok(SweepOrder { order_id, customer_id, placed_at, body: riskdesk_store::body::unpack(&body)?.into_owned() })
                    })
                    .collect()
            }

            async fn held_customers(&self, customers: &[String]) -> StoreResult<Vec<String>> {
                if customers.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new("SELECT DISTINCT customer_id FROM disputes WHERE is_open = 1 AND customer_id IN (");
                let mut sep = q.separated(", ");
                for c in customers {
                    sep.push_bind(c.clone());
                }
                q.push(") UNION SELECT DISTINCT l.value FROM case_links l JOIN cases c ON c.id = l.case_id \
                         WHERE c.is_open = 1 AND c.kind NOT IN ('privacy_request', 'privacy_complaint') AND l.kind = 'customer' AND l.value IN (");
                let mut sep = q.separated(", ");
                for c in customers {
                    sep.push_bind(c.clone());
                }
                q.push(")");
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(|r| r.try_get::<String, _>(0).map_err(dberr)).collect()
            }
        }
    };
}
