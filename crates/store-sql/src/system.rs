//! The installation: totals and settings initialised once.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
#[doc(hidden)]
#[macro_export]
macro_rules! system_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl riskdesk_store::system::SystemStore for $store {
            async fn counts(&self) -> StoreResult<riskdesk_store::Counts> {
                let r = sqlx::query(
                    "SELECT (SELECT COUNT(*) FROM customers) AS customers, (SELECT COUNT(*) FROM orders) AS orders, \
                     (SELECT COUNT(*) FROM events) AS events",
                )
                .fetch_one(&self.$r)
                .await
                .map_err(dberr)?;
                Ok(riskdesk_store::Counts {
                    customers: r.try_get("customers").map_err(dberr)?,
                    orders: r.try_get("orders").map_err(dberr)?,
                    events: r.try_get("events").map_err(dberr)?,
                })
            }

            async fn setting_or_init(&self, name: &str, value: &str) -> StoreResult<String> {
                sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(value)
                    .execute(&self.$w)
                    .await
                    .map_err(dberr)?;
                sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.$w)
                    .await
                    .map_err(dberr)
            }
        }
    };
}
