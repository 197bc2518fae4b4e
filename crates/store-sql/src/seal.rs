//! The re-sealing job's SQL: a page of a column's rows in key order, opened and sealed again
//! under the primary key on every core, written back in one statement, each row only if it still
//! holds the value read (a concurrent change wins). Table, key and column names come from the
//! areas' `SEALED` lists (constants), never from input.
#[doc(hidden)]
#[macro_export]
macro_rules! seal_sql {
    ($store:ty, $db:ty, $w:ident) => {
        /// A stored value as the pass reads it: text, or bytes (bodies, files).
        enum Stored {
            Text(String),
            Bytes(Vec<u8>),
        }

        #[async_trait::async_trait]
        impl riskdesk_store::seal::SealStore for $store {
            async fn reseal(
                &self,
                c: &riskdesk_store::seal::SealedColumn,
                after: &str,
                limit: i64,
                write: bool,
            ) -> StoreResult<riskdesk_store::seal::ResealPage> {
                use rayon::prelude::*;
                use riskdesk_store::seal::{Form, ResealPage, bytes_key, file_key, ring, text_key};
                let ring = ring();
                let primary = ring.primary();
                let (table, col) = (c.table, c.column);
                let cols: Vec<&str> = c.key.iter().map(|k| k.column).collect();
                let list = cols.join(", ");
                // Row values page in key order on both backends, through the primary key's index.
                let mut q =
                    QueryBuilder::<$db>::new(format!("SELECT {list}, {col} AS v FROM {table} WHERE {col} IS NOT NULL"));
                if !after.is_empty() {
                    let parts: Vec<&str> = after.split(riskdesk_store::seal::KEY_SEPARATOR).collect();
                    if parts.len() != c.key.len() {
                        return Err(StoreError::Corrupt(format!("cursor of {table}: {} key parts", parts.len())));
                    }
                    q.push(format!(" AND ({list}) > ("));
                    let mut sep = q.separated(", ");
                    for (k, v) in c.key.iter().zip(parts) {
                        if k.integer {
                            sep.push_bind(
                                v.parse::<i64>().map_err(|_| StoreError::Corrupt(format!("cursor of {table}")))?,
                            );
                        } else {
                            sep.push_bind(v.to_owned());
                        }
                    }
                    q.push(")");
                }
                q.push(format!(" ORDER BY {list} LIMIT ")).push_bind(limit.max(1));
                let rows = q.build().fetch_all(&self.$w).await.map_err(dberr)?;
                let key_of = |r: &<$db as sqlx::Database>::Row| -> StoreResult<Vec<KeyValue>> {
                    c.key
                        .iter()
                        .map(|k| {
                            Ok(if k.integer {
                                KeyValue::Int(r.try_get(k.column).map_err(dberr)?)
                            } else {
                                KeyValue::Text(r.try_get(k.column).map_err(dberr)?)
                            })
                        })
                        .collect()
                };
                let mut page = ResealPage { read: rows.len() as u64, ..Default::default() };
                if rows.len() as i64 == limit.max(1)
                    && let Some(last) = rows.last()
                {
                    let parts: Vec<String> = key_of(last)?.iter().map(KeyValue::text).collect();
                    page.next = Some(parts.join(&riskdesk_store::seal::KEY_SEPARATOR.to_string()));
                }
                let mut stale: Vec<(Vec<KeyValue>, Stored)> = Vec::new();
                for r in &rows {
                    let v = match c.form {
                        Form::Text => Stored::Text(r.try_get("v").map_err(dberr)?),
                        Form::Bytes | Form::File => Stored::Bytes(r.try_get("v").map_err(dberr)?),
                    };
                    let under = match (&v, c.form) {
                        (Stored::Text(t), _) => text_key(t),
                        (Stored::Bytes(b), Form::File) => file_key(b),
                        (Stored::Bytes(b), _) => bytes_key(b),
                    };
                    if primary.is_none() || under != primary {
                        stale.push((key_of(r)?, v));
                    }
                }
                page.stale = stale.len() as u64;
                if !write || primary.is_none() || stale.is_empty() {
                    return Ok(page);
                }
                let fresh: Vec<Stored> = stale
                    .par_iter()
                    .map(|(_, v)| {
                        Ok(match (v, c.form) {
                            (Stored::Text(t), _) => Stored::Text(ring.seal_text(c.field, &ring.open_text(c.field, t)?)),
                            (Stored::Bytes(b), Form::File) => {
                                Stored::Bytes(ring.seal_file(c.field, &ring.open_file(c.field, b)?))
                            }
                            (Stored::Bytes(b), _) => {
                                Stored::Bytes(ring.seal_bytes(c.field, ring.open_bytes(c.field, b)?.into_owned()))
                            }
                        })
                    })
                    .collect::<StoreResult<_>>()?;
                // One statement a page: the values list joined on the whole primary key, and on
                // the value read, so that a row changed meanwhile keeps its change.
                let n = c.key.len();
                let mut q = QueryBuilder::<$db>::new(format!("UPDATE {table} SET {col} = v.column{} FROM (", n + 2));
                q.push_values(stale.iter().zip(&fresh), |mut b, ((k, old), new)| {
                    for part in k {
                        match part {
                            KeyValue::Int(i) => b.push_bind(*i),
                            KeyValue::Text(t) => b.push_bind(t.clone()),
                        };
                    }
                    match (old, new) {
                        (Stored::Text(o), Stored::Text(n)) => {
                            b.push_bind(o.clone()).push_bind(n.clone());
                        }
                        (Stored::Bytes(o), Stored::Bytes(n)) => {
                            b.push_bind(o.clone()).push_bind(n.clone());
                        }
                        _ => unreachable!("a column keeps one form"),
                    }
                });
                q.push(format!(") AS v WHERE {table}.{col} = v.column{}", n + 1));
                for (i, k) in c.key.iter().enumerate() {
                    q.push(format!(" AND {table}.{} = v.column{}", k.column, i + 1));
                }
                let done = q.build().execute(&self.$w).await.map_err(dberr)?;
                page.resealed = done.rows_affected();
                Ok(page)
            }
        }

        /// A part of a row's primary key.
        enum KeyValue {
            Int(i64),
            Text(String),
        }

        impl KeyValue {
            fn text(&self) -> String {
                match self {
                    KeyValue::Int(i) => i.to_string(),
                    KeyValue::Text(t) => t.clone(),
                }
            }
        }
    };
}
