//! Block and allow list entries changed with an audited change.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The lists area's SQL for changes made with an audit entry.
#[doc(hidden)]
#[macro_export]
macro_rules! lists_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl riskdesk_store::lists::ListStore for $store {
            async fn add_list_entries(&self, entries: &[riskdesk_store::ListEntry]) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                // Each backend's bulk insert (an import may carry thousands).
                insert_list_entries(&mut tx, entries).await.map_err(dberr)?;
                sqlx::query("UPDATE screening_control SET lists_seq = lists_seq + 1 WHERE id = 1")
                    .execute(&mut *tx)
                    .await
                    .map_err(dberr)?;
                tx.commit().await.map_err(dberr)
            }

            async fn remove_list_entry(&self, id: &str, actor: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                let n = sqlx::query(
                    "UPDATE list_entries SET removed_at = $1, removed_by = $2 WHERE id = $3 AND removed_at IS NULL",
                )
                .bind(at.timestamp_millis())
                .bind(actor)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(dberr)?
                .rows_affected();
                if n > 0 {
                    sqlx::query("UPDATE screening_control SET lists_seq = lists_seq + 1 WHERE id = 1")
                        .execute(&mut *tx)
                        .await
                        .map_err(dberr)?;
                }
                tx.commit().await.map_err(dberr)?;
                Ok(n > 0)
            }

            async fn list_entries(&self) -> StoreResult<Vec<riskdesk_store::ListEntry>> {
                let rows: Vec<riskdesk_store::codec::ListEntryRow> = sqlx::query_as(
                    "SELECT id, list, kind, value, match_key, reason, author, created_at, expires_at, removed_at \
                     FROM list_entries WHERE removed_at IS NULL ORDER BY created_at, id",
                )
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.into_iter().map(riskdesk_store::codec::list_entry_from_row).collect()
            }
        }

        async fn apply_lists(tx: &mut Tx<'_>, change: &ListChange) -> StoreResult<()> {
            match change {
                ListChange::Add(entries) => {
                    for e in entries {
                        sqlx::query(
                            "INSERT INTO list_entries (id, list, kind, value, match_key, reason, author, created_at, \
                                 expires_at, removed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        )
                        .bind(&e.id)
                        .bind(e.list.as_str())
                        .bind(e.kind.as_str())
                        .bind(riskdesk_store::seal::seal(riskdesk_store::codec::LIST_VALUE, &e.value))
                        .bind(&e.match_key)
                        .bind(&e.reason)
                        .bind(&e.author)
                        .bind(e.created_at.timestamp_millis())
                        .bind(opt_ms(e.expires_at))
                        .bind(opt_ms(e.removed_at))
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    }
                    sqlx::query("UPDATE screening_control SET lists_seq = lists_seq + 1 WHERE id = 1")
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                ListChange::Remove { id, actor, at } => {
                    sqlx::query(
                        "UPDATE list_entries SET removed_at = $1, removed_by = $2 WHERE id = $3 AND removed_at IS NULL",
                    )
                    .bind(at.timestamp_millis())
                    .bind(actor)
                    .bind(id)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    sqlx::query("UPDATE screening_control SET lists_seq = lists_seq + 1 WHERE id = 1")
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
            }
            Ok(())
        }
    };
}
