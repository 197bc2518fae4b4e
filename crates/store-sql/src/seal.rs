//! The re-sealing job's SQL: a column's rows in key order, each written again under the primary
//! key only if it still holds the value read. Table, key and column names come from the areas'
//! `SEALED` lists (constants), never from input.
#[doc(hidden)]
#[macro_export]
macro_rules! seal_sql {
    ($store:ty, $db:ty, $w:ident) => {
        #[async_trait::async_trait]
        impl riskdesk_store::seal::SealStore for $store {
            async fn reseal(
                &self,
                c: &riskdesk_store::seal::SealedColumn,
                after: &str,
                limit: i64,
                write: bool,
            ) -> StoreResult<riskdesk_store::seal::ResealPage> {
                use riskdesk_store::seal::{Form, ResealPage, bytes_key, ring, text_key};
                let ring = ring();
                let primary = ring.primary();
                let (table, key, col) = (c.table, c.key, c.column);
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {key} AS k, {col} AS v FROM {table} WHERE {key} > $1 AND {col} IS NOT NULL ORDER BY {key} LIMIT $2"
                )))
                .bind(after)
                .bind(limit.max(1))
                .fetch_all(&self.$w)
                .await
                .map_err(dberr)?;
                let mut page = ResealPage { read: rows.len() as u64, ..Default::default() };
                if rows.len() as i64 == limit.max(1) {
                    page.next = rows.last().map(|r| r.try_get::<String, _>("k")).transpose().map_err(dberr)?;
                }
                let update = format!("UPDATE {table} SET {col} = $1 WHERE {key} = $2 AND {col} = $3");
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                for r in &rows {
                    let k: String = r.try_get("k").map_err(dberr)?;
                    match c.form {
                        Form::Text => {
                            let v: String = r.try_get("v").map_err(dberr)?;
                            if primary.is_some() && text_key(&v) == primary {
                                continue;
                            }
                            page.stale += 1;
                            if !write || primary.is_none() {
                                continue;
                            }
                            let fresh = ring.seal_text(c.field, &ring.open_text(c.field, &v)?);
                            let done = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                                .bind(fresh)
                                .bind(&k)
                                .bind(&v)
                                .execute(&mut *tx)
                                .await
                                .map_err(dberr)?;
                            page.resealed += done.rows_affected();
                        }
                        Form::Bytes => {
                            let v: Vec<u8> = r.try_get("v").map_err(dberr)?;
                            if primary.is_some() && bytes_key(&v) == primary {
                                continue;
                            }
                            page.stale += 1;
                            if !write || primary.is_none() {
                                continue;
                            }
                            let fresh = ring.seal_bytes(c.field, ring.open_bytes(c.field, &v)?.into_owned());
                            let done = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                                .bind(fresh)
                                .bind(&k)
                                .bind(&v)
                                .execute(&mut *tx)
                                .await
                                .map_err(dberr)?;
                            page.resealed += done.rows_affected();
                        }
                    }
                }
                tx.commit().await.map_err(dberr)?;
                Ok(page)
            }
        }
    };
}
