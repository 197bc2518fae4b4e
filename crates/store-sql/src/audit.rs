//! The audit chain: appending sealed entries, searching and reading it back in order.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The audit area's SQL. `$lock` is appended to the read of the chain's head.
#[doc(hidden)]
#[macro_export]
macro_rules! audit_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident, $lock:literal) => {
        const AUDIT_COLS: &str =
            "seq, at, actor, action, subject, purpose, request_id, detail, flagged, prev_hash, hash";
        fn audit_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<AuditRecord> {
            let flagged: i64 = row.try_get("flagged").map_err(dberr)?;
            Ok(AuditRecord {
                seq: row.try_get("seq").map_err(dberr)?,
                entry: AuditEntry {
                    at: from_millis(row.try_get("at").map_err(dberr)?)?,
                    actor: row.try_get("actor").map_err(dberr)?,
                    action: row.try_get("action").map_err(dberr)?,
                    subject: row.try_get("subject").map_err(dberr)?,
                    purpose: row.try_get("purpose").map_err(dberr)?,
                    request_id: row.try_get("request_id").map_err(dberr)?,
                    detail: row.try_get("detail").map_err(dberr)?,
                    flagged: flagged != 0,
                },
                prev_hash: row.try_get("prev_hash").map_err(dberr)?,
                hash: row.try_get("hash").map_err(dberr)?,
            })
        }

        /// Seals and appends audit entries after the current head, and moves the head.
        async fn append_audit(tx: &mut Tx<'_>, audit: &[AuditEntry], key: &[u8]) -> StoreResult<()> {
            if audit.is_empty() {
                return Ok(());
            }
            let row = sqlx::query(concat!("SELECT seq, hash FROM audit_head WHERE id = 1", $lock))
                .fetch_one(&mut **tx)
                .await
                .map_err(dberr)?;
            let mut seq: i64 = row.try_get("seq").map_err(dberr)?;
            let mut prev: Vec<u8> = row.try_get("hash").map_err(dberr)?;
            for e in audit {
                seq += 1;
                let hash = chain_hash(key, seq, &prev, e).to_vec();
                sqlx::query(
                    "INSERT INTO audit_log (seq, at, actor, action, subject, purpose, request_id, detail, flagged, \
                         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(seq)
                .bind(e.at.timestamp_millis())
                .bind(&e.actor)
                .bind(&e.action)
                .bind(&e.subject)
                .bind(&e.purpose)
                .bind(&e.request_id)
                .bind(&e.detail)
                .bind(i64::from(e.flagged))
                .bind(&prev)
                .bind(&hash)
                .execute(&mut **tx)
                .await
                .map_err(dberr)?;
                prev = hash;
            }
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(&prev)
                .execute(&mut **tx)
                .await
                .map_err(dberr)?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl AuditStore for $store {
            async fn audit_records(&self, f: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {AUDIT_COLS} FROM audit_log WHERE 1 = 1"));
                if let Some(a) = &f.actor {
                    q.push(" AND actor = ").push_bind(a.clone());
                }
                if let Some(a) = &f.action {
                    q.push(" AND action = ").push_bind(a.clone());
                }
                if let Some(s) = &f.subject {
                    // Prefix match without LIKE wildcards in the user's text.
                    q.push(" AND substr(subject, 1, CAST(")
                        .push_bind(s.chars().count() as i64)
                        .push(" AS INTEGER)) = ")
                        .push_bind(s.clone());
                }
                if !f.subjects.is_empty() {
                    q.push(" AND subject IN (");
                    let mut sep = q.separated(", ");
                    for s in &f.subjects {
                        sep.push_bind(s.clone());
                    }
                    q.push(")");
                }
                if let Some(t) = f.from {
                    q.push(" AND at >= ").push_bind(t.timestamp_millis());
                }
                if let Some(t) = f.to {
                    q.push(" AND at < ").push_bind(t.timestamp_millis());
                }
                if let Some(s) = f.before_seq {
                    q.push(" AND seq < ").push_bind(s);
                }
                q.push(" ORDER BY seq DESC LIMIT ").push_bind(f.limit.max(1));
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(audit_from).collect()
            }

            async fn audit_chain(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
                let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.$w)
                    .await
                    .map_err(dberr)?;
                rows.iter().map(audit_from).collect()
            }

            async fn audit_head(&self) -> StoreResult<(i64, Vec<u8>)> {
                sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.$w).await.map_err(dberr)
            }
        }
    };
}
