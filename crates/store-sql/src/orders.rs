//! Stored orders and accounts, read for pages and the API.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
#[doc(hidden)]
#[macro_export]
macro_rules! orders_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl riskdesk_store::orders::OrderStore for $store {
            async fn get_order(&self, id: &riskdesk_domain::OrderId) -> StoreResult<Option<riskdesk_store::StoredOrder>> {
                use riskdesk_store::codec;
                let mut conn = self.$r.acquire().await.map_err(dberr)?;
                let Some((body, received_at)): Option<(Vec<u8>, i64)> =
                    sqlx::query_as("SELECT body, received_at FROM orders WHERE order_id = $1")
                        .bind(id.as_str())
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(dberr)?
                else {
                    return Ok(None);
                };
                let decisions: Vec<codec::DecisionRow> = sqlx::query_as(
                    "SELECT order_id, verdict, score, ruleset_version, CAST(reasons AS TEXT) AS reasons, decided_at FROM decisions \
                     WHERE order_id = $1 ORDER BY seq",
                )
                .bind(id.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(dberr)?;
                let events: Vec<(String, i64, Option<String>)> = sqlx::query_as(
                    "SELECT body, received_at, customer_id FROM events WHERE order_id = $1 ORDER BY occurred_at, event_id",
                )
                .bind(id.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(dberr)?;
                Ok(Some(riskdesk_store::StoredOrder {
                    order: codec::order_from_stored(&body)?,
                    received_at: from_millis(received_at)?,
                    decisions: decisions.into_iter().map(codec::decision_from_row).collect::<StoreResult<_>>()?,
                    events: events
                        .iter()
                        .map(|(b, r, c)| codec::event_of_account(b, *r, c.as_deref()))
                        .collect::<StoreResult<_>>()?,
                }))
            }

            async fn first_decision(&self, id: &riskdesk_domain::OrderId) -> StoreResult<Option<riskdesk_domain::Decision>> {
                let row: Option<riskdesk_store::codec::DecisionRow> = sqlx::query_as(
                    "SELECT order_id, verdict, score, ruleset_version, CAST(reasons AS TEXT) AS reasons, decided_at FROM decisions \
                     WHERE order_id = $1 AND seq = 0",
                )
                .bind(id.as_str())
                .fetch_optional(&self.$r)
                .await
                .map_err(dberr)?;
                row.map(riskdesk_store::codec::decision_from_row).transpose()
            }

            async fn get_customer(
                &self,
                id: &riskdesk_domain::CustomerId,
                order_limit: u32,
            ) -> StoreResult<Option<riskdesk_store::StoredCustomer>> {
                use riskdesk_store::codec;
                let mut conn = self.$r.acquire().await.map_err(dberr)?;
                let Some(profile): Option<codec::ProfileRow> = sqlx::query_as(
                    "SELECT customer_id, email, phone, name, created_at, invited_by, channel, first_order_at, last_order_at \
                     FROM customers WHERE customer_id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(dberr)?
                else {
                    return Ok(None);
                };
                let order_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE customer_id = $1")
                    .bind(id.as_str())
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(dberr)?;
                let orders: Vec<(Vec<u8>, Option<String>)> = sqlx::query_as(
                    "SELECT o.body, d.verdict FROM orders o LEFT JOIN decisions d ON d.order_id = o.order_id AND d.seq = 0 \
                     WHERE o.customer_id = $1 ORDER BY o.placed_at DESC, o.order_id DESC LIMIT $2",
                )
                .bind(id.as_str())
                .bind(i64::from(order_limit))
                .fetch_all(&mut *conn)
                .await
                .map_err(dberr)?;
                let events: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT body, received_at FROM events WHERE customer_id = $1 ORDER BY occurred_at DESC, event_id LIMIT 1000",
                )
                .bind(id.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(dberr)?;
                let (orders, addresses) = codec::orders_and_addresses(orders)?;
                Ok(Some(riskdesk_store::StoredCustomer {
                    profile: codec::profile_from_row(profile)?,
                    order_count,
                    orders,
                    addresses,
                    events: events
                        .iter()
                        .map(|(b, r)| codec::event_of_account(b, *r, Some(id.as_str())))
                        .collect::<StoreResult<_>>()?,
                }))
            }

            async fn entities_of(&self, customer: &riskdesk_domain::CustomerId) -> StoreResult<Vec<riskdesk_domain::EntityKey>> {
                let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT entities FROM orders WHERE customer_id = $1")
                    .bind(customer.as_str())
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                riskdesk_store::codec::distinct_entities(&rows)
            }
        }
    };
}
