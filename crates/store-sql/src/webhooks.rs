//! The webhook outbox: claiming due messages with a lease, recording deliveries and failures.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
/// The webhooks area's SQL. `$skip` ends the claim's inner select (PostgreSQL skips rows
/// another instance is claiming; SQLite has one writer).
#[doc(hidden)]
#[macro_export]
macro_rules! webhooks_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident, $skip:literal) => {
        use riskdesk_store::{OutboxCounts, PendingMessage};

        #[async_trait::async_trait]
        impl riskdesk_store::webhooks::OutboxStore for $store {
            async fn claim_outbox(&self, now: DateTime<Utc>, lease_ms: i64, limit: i64) -> StoreResult<Vec<PendingMessage>> {
                let now = now.timestamp_millis();
                let rows = sqlx::query(concat!(
                    "UPDATE webhook_outbox SET locked_until = $1 WHERE id IN (SELECT id FROM webhook_outbox \
                     WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                     AND (locked_until IS NULL OR locked_until < $3) ORDER BY next_attempt_at LIMIT $4",
                    $skip,
                    ") RETURNING id, endpoint, event_type, payload, created_at, attempts"
                ))
                .bind(now + lease_ms)
                .bind(now)
                .bind(now)
                .bind(limit)
                .fetch_all(&self.$w)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(PendingMessage {
                            id: r.try_get("id").map_err(dberr)?,
                            endpoint: r.try_get("endpoint").map_err(dberr)?,
                            event_type: r.try_get("event_type").map_err(dberr)?,
                            payload: r.try_get("payload").map_err(dberr)?,
                            created_at: from_millis(r.try_get("created_at").map_err(dberr)?)?,
                            attempts: r.try_get("attempts").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn outbox_delivered(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE webhook_outbox SET delivered_at = $1, attempts = attempts + 1, locked_until = NULL WHERE id = $2")
                    .bind(at.timestamp_millis())
                    .bind(id)
                    .execute(&self.$w)
                    .await
                    .map_err(dberr)?;
                Ok(())
            }

            async fn outbox_failed(
                &self,
                id: &str,
                attempts: i64,
                retry_at: Option<DateTime<Utc>>,
                error: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE webhook_outbox SET attempts = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                     failed_at = $3, last_error = $4, locked_until = NULL WHERE id = $5",
                )
                .bind(attempts)
                .bind(opt_ms(retry_at))
                .bind(retry_at.is_none().then(|| at.timestamp_millis()))
                .bind(error)
                .bind(id)
                .execute(&self.$w)
                .await
                .map_err(dberr)?;
                Ok(())
            }

            async fn outbox_counts(&self) -> StoreResult<OutboxCounts> {
                let r = sqlx::query(
                    "SELECT CAST(COALESCE(SUM(CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
                     CAST(COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS delivered, \
                     CAST(COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed FROM webhook_outbox",
                )
                .fetch_one(&self.$r)
                .await
                .map_err(dberr)?;
                Ok(OutboxCounts {
                    pending: r.try_get("pending").map_err(dberr)?,
                    delivered: r.try_get("delivered").map_err(dberr)?,
                    failed: r.try_get("failed").map_err(dberr)?,
                })
            }
        }
    };
}
