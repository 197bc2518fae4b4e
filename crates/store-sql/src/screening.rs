//! Rule-set versions and the screening control row, changed with an audit entry.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The screening area's SQL for changes made with an audit entry.
#[doc(hidden)]
#[macro_export]
macro_rules! screening_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl riskdesk_store::screening::ScreeningStore for $store {
            async fn create_ruleset(&self, source: &str, author: &str, note: &str, at: DateTime<Utc>) -> StoreResult<i64> {
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                // Version numbers are taken one writer at a time (a backend's own way).
                lock_rulesets(&mut tx).await.map_err(dberr)?;
                let v: i64 = sqlx::query_scalar(
                    "INSERT INTO rulesets (version, source, author, note, created_at) \
                     VALUES ((SELECT COALESCE(MAX(version), 0) + 1 FROM rulesets), $1, $2, $3, $4) RETURNING version",
                )
                .bind(source)
                .bind(author)
                .bind(note)
                .bind(at.timestamp_millis())
                .fetch_one(&mut *tx)
                .await
                .map_err(dberr)?;
                tx.commit().await.map_err(dberr)?;
                Ok(v)
            }

            async fn ruleset(&self, version: i64) -> StoreResult<Option<riskdesk_store::RuleSetRecord>> {
                let row: Option<riskdesk_store::codec::RuleSetRow> =
                    sqlx::query_as("SELECT version, source, author, note, created_at FROM rulesets WHERE version = $1")
                        .bind(version)
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(dberr)?;
                row.map(riskdesk_store::codec::ruleset_from_row).transpose()
            }

            async fn rulesets(&self) -> StoreResult<Vec<riskdesk_store::RuleSetRecord>> {
                let rows: Vec<riskdesk_store::codec::RuleSetRow> =
                    sqlx::query_as("SELECT version, source, author, note, created_at FROM rulesets ORDER BY version")
                        .fetch_all(&self.$r)
                        .await
                        .map_err(dberr)?;
                rows.into_iter().map(riskdesk_store::codec::ruleset_from_row).collect()
            }

            async fn screening_control(&self) -> StoreResult<riskdesk_store::ScreeningControl> {
                let r = sqlx::query("SELECT live_version, shadow_version, lists_seq FROM screening_control WHERE id = 1")
                    .fetch_one(&self.$r)
                    .await
                    .map_err(dberr)?;
                Ok(riskdesk_store::ScreeningControl {
                    live_version: r.try_get("live_version").map_err(dberr)?,
                    shadow_version: r.try_get("shadow_version").map_err(dberr)?,
                    lists_seq: r.try_get("lists_seq").map_err(dberr)?,
                })
            }

            async fn change_control(&self, change: riskdesk_store::ControlChange, actor: &str, at: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(dberr)?;
                let sql = match change {
                    riskdesk_store::ControlChange::Publish(_) | riskdesk_store::ControlChange::Rollback(_) => {
                        "UPDATE screening_control SET live_version = $1 WHERE id = 1"
                    }
                    riskdesk_store::ControlChange::Shadow(_) | riskdesk_store::ControlChange::ShadowStop => {
                        "UPDATE screening_control SET shadow_version = $1 WHERE id = 1"
                    }
                };
                sqlx::query(sql).bind(change.version()).execute(&mut *tx).await.map_err(dberr)?;
                sqlx::query("INSERT INTO ruleset_changes (action, version, actor, at) VALUES ($1, $2, $3, $4)")
                    .bind(change.action())
                    .bind(change.version())
                    .bind(actor)
                    .bind(at.timestamp_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(dberr)?;
                tx.commit().await.map_err(dberr)
            }

            async fn ruleset_changes(&self) -> StoreResult<Vec<riskdesk_store::RuleSetChange>> {
                let rows: Vec<riskdesk_store::codec::ChangeRow> =
                    sqlx::query_as("SELECT seq, action, version, actor, at FROM ruleset_changes ORDER BY seq")
                        .fetch_all(&self.$r)
                        .await
                        .map_err(dberr)?;
                rows.into_iter().map(riskdesk_store::codec::change_from_row).collect()
            }

            async fn shadow_decisions(
                &self,
                version: i64,
                limit: i64,
            ) -> StoreResult<Vec<(riskdesk_domain::Decision, Option<riskdesk_domain::Decision>)>> {
                let rows: Vec<riskdesk_store::codec::ShadowRow> = sqlx::query_as(
                    "SELECT s.order_id, s.verdict, s.score, s.ruleset_version, CAST(s.reasons AS TEXT), s.decided_at, \
                     d.verdict, d.score, d.ruleset_version, CAST(d.reasons AS TEXT), d.decided_at FROM shadow_decisions s \
                     LEFT JOIN decisions d ON d.order_id = s.order_id AND d.seq = 0 \
                     WHERE s.ruleset_version = $1 ORDER BY s.decided_at DESC LIMIT $2",
                )
                .bind(version)
                .bind(limit)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                riskdesk_store::codec::shadow_pairs(rows)
            }

            async fn cluster_of(
                &self,
                customer: &riskdesk_domain::CustomerId,
            ) -> StoreResult<Option<(String, riskdesk_rules::features::ClusterFacts)>> {
                let row = sqlx::query(
                    "SELECT c.cluster_id, c.size, c.fraud_accounts, c.chargeback_accounts FROM account_links a \
                     JOIN clusters c ON c.cluster_id = a.cluster_id WHERE a.customer_id = $1",
                )
                .bind(customer.as_str())
                .fetch_optional(&self.$r)
                .await
                .map_err(dberr)?;
                row.map(|r| {
                    Ok((
                        r.try_get("cluster_id").map_err(dberr)?,
                        riskdesk_rules::features::ClusterFacts {
                            size: r.try_get("size").map_err(dberr)?,
                            fraud_accounts: r.try_get("fraud_accounts").map_err(dberr)?,
                            chargeback_accounts: r.try_get("chargeback_accounts").map_err(dberr)?,
                        },
                    ))
                })
                .transpose()
            }

            async fn cluster_members(&self, cluster_id: &str, limit: i64) -> StoreResult<Vec<String>> {
                sqlx::query_scalar("SELECT customer_id FROM account_links WHERE cluster_id = $1 ORDER BY customer_id LIMIT $2")
                    .bind(cluster_id)
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)
            }
        }

        async fn apply_screening(tx: &mut Tx<'_>, change: &ScreeningChange) -> StoreResult<()> {
            match change {
                ScreeningChange::SaveRuleSet { version, source, author, note, at } => {
                    sqlx::query(
                        "INSERT INTO rulesets (version, source, author, note, created_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(version)
                    .bind(source)
                    .bind(author)
                    .bind(note)
                    .bind(at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                }
                ScreeningChange::Control { change, actor, at } => {
                    let sql = match change {
                        riskdesk_store::ControlChange::Publish(_) | riskdesk_store::ControlChange::Rollback(_) => {
                            "UPDATE screening_control SET live_version = $1 WHERE id = 1"
                        }
                        _ => "UPDATE screening_control SET shadow_version = $1 WHERE id = 1",
                    };
                    sqlx::query(sql).bind(change.version()).execute(&mut **tx).await.map_err(dberr)?;
                    sqlx::query("INSERT INTO ruleset_changes (action, version, actor, at) VALUES ($1, $2, $3, $4)")
                        .bind(change.action())
                        .bind(change.version())
                        .bind(actor)
                        .bind(at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
            }
            Ok(())
        }
    };
}
