//! Knowledge pages: versions, the current pointer (compare-and-set on the version), and
//! acknowledgements.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
/// The knowledge area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! knowledge_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        const PAGE_COLS: &str = "v.slug, v.kind, v.title, v.case_kind, v.version, v.body, v.author, v.created_at, v.note";

        fn page_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<KnowledgePage> {
            Ok(KnowledgePage {
                slug: row.try_get("slug").map_err(dberr)?,
                kind: row.try_get("kind").map_err(dberr)?,
                title: row.try_get("title").map_err(dberr)?,
                case_kind: row.try_get("case_kind").map_err(dberr)?,
                version: row.try_get("version").map_err(dberr)?,
                body: row.try_get("body").map_err(dberr)?,
                author: row.try_get("author").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                note: row.try_get("note").map_err(dberr)?,
            })
        }

        async fn apply_knowledge(tx: &mut Tx<'_>, change: &KnowledgeChange) -> StoreResult<()> {
            match change {
                KnowledgeChange::Save(p) => {
                    let moved = if p.version == 1 {
                        sqlx::query(
                            "INSERT INTO knowledge_pages (slug, kind, title, case_kind, version, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                        )
                        .bind(&p.slug)
                        .bind(&p.kind)
                        .bind(&p.title)
                        .bind(&p.case_kind)
                        .bind(p.version)
                        .bind(p.created_at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?
                        .rows_affected()
                    } else {
                        sqlx::query(
                            "UPDATE knowledge_pages SET kind = $1, title = $2, case_kind = $3, version = $4, updated_at = $5 \
                             WHERE slug = $6 AND version = $7",
                        )
                        .bind(&p.kind)
                        .bind(&p.title)
                        .bind(&p.case_kind)
                        .bind(p.version)
                        .bind(p.created_at.timestamp_millis())
                        .bind(&p.slug)
                        .bind(p.version - 1)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?
                        .rows_affected()
                    };
                    if moved != 1 {
                        return Err(StoreError::Conflict(format!(
                            "the page {} changed meanwhile (or exists already); reload it and edit the current version",
                            p.slug
                        )));
                    }
                    sqlx::query(
                        "INSERT INTO knowledge_versions (slug, version, kind, title, case_kind, body, author, created_at, note) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&p.slug)
                    .bind(p.version)
                    .bind(&p.kind)
                    .bind(&p.title)
                    .bind(&p.case_kind)
                    .bind(&p.body)
                    .bind(&p.author)
                    .bind(p.created_at.timestamp_millis())
                    .bind(&p.note)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    Ok(())
                }
                KnowledgeChange::Acknowledge { slug, version, username, at } => {
                    sqlx::query(
                        "INSERT INTO knowledge_acks (slug, version, username, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(slug)
                    .bind(*version)
                    .bind(username)
                    .bind(at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                    Ok(())
                }
            }
        }

        #[async_trait::async_trait]
        impl KnowledgeStore for $store {
            async fn knowledge_page(&self, slug: &str, version: Option<i64>) -> StoreResult<Option<KnowledgePage>> {
                let row = match version {
                    Some(v) => {
                        let sql = format!("SELECT {PAGE_COLS} FROM knowledge_versions v WHERE v.slug = $1 AND v.version = $2");
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(slug).bind(v).fetch_optional(&self.$r).await
                    }
                    None => {
                        let sql = format!(
                            "SELECT {PAGE_COLS} FROM knowledge_pages p JOIN knowledge_versions v ON v.slug = p.slug AND v.version = p.version \
                             WHERE p.slug = $1"
                        );
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(&self.$r).await
                    }
                }
                .map_err(dberr)?;
                row.as_ref().map(page_from).transpose()
            }

            async fn knowledge_pages(&self, kind: Option<&str>, text: Option<&str>, limit: i64) -> StoreResult<Vec<KnowledgePage>> {
                let mut q = QueryBuilder::<$db>::new(format!(
                    "SELECT {PAGE_COLS} FROM knowledge_pages p JOIN knowledge_versions v ON v.slug = p.slug AND v.version = p.version WHERE 1 = 1"
                ));
                if let Some(k) = kind {
                    q.push(" AND p.kind = ").push_bind(k.to_owned());
                }
                if let Some(t) = text {
                    let pattern = format!("%{}%", t.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                    q.push(" AND (LOWER(v.title) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                    q.push(" OR LOWER(v.body) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
                }
                q.push(" ORDER BY v.title, v.slug LIMIT ").push_bind(limit);
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(page_from).collect()
            }

            async fn knowledge_versions(&self, slug: &str) -> StoreResult<Vec<KnowledgePage>> {
                let sql = format!("SELECT {PAGE_COLS} FROM knowledge_versions v WHERE v.slug = $1 ORDER BY v.version DESC");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(page_from).collect()
            }

            async fn playbook_for(&self, case_kind: &str) -> StoreResult<Option<KnowledgePage>> {
                let sql = format!(
                    "SELECT {PAGE_COLS} FROM knowledge_pages p JOIN knowledge_versions v ON v.slug = p.slug AND v.version = p.version \
                     WHERE p.kind = 'playbook' AND p.case_kind = $1 ORDER BY p.updated_at DESC LIMIT 1"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_kind).fetch_optional(&self.$r).await.map_err(dberr)?;
                row.as_ref().map(page_from).transpose()
            }

            async fn knowledge_acks(&self, slug: &str, version: i64) -> StoreResult<Vec<Acknowledgement>> {
                let rows = sqlx::query("SELECT username, version, at FROM knowledge_acks WHERE slug = $1 AND version = $2 ORDER BY at")
                    .bind(slug)
                    .bind(version)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(Acknowledgement {
                            username: r.try_get("username").map_err(dberr)?,
                            version: r.try_get("version").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }
        }
    };
}
