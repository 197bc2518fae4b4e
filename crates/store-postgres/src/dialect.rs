//! The few statements the shared SQL (`riskdesk_store_sql`) calls by name because this backend
//! writes them its own way.

use super::*;

/// List entries in bulk (called by the shared lists SQL): ten arrays unnested, one statement.
pub(crate) async fn insert_list_entries(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    entries: &[ListEntry],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO list_entries (id, list, kind, value, match_key, reason, author, created_at, expires_at, removed_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::int8[], $9::int8[], $10::int8[])",
    )
    .bind(entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.list.as_str().to_owned()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.kind.as_str().to_owned()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| riskdesk_store::seal::seal(codec::LIST_VALUE, &e.value)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.match_key.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.reason.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.author.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| ms(e.created_at)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.expires_at.map(ms)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.removed_at.map(ms)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Rule-set versions are numbered one writer at a time across instances (called by the shared
/// screening SQL).
pub(crate) async fn lock_rulesets(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query("LOCK TABLE rulesets IN EXCLUSIVE MODE").execute(&mut **tx).await.map(|_| ())
}

/// After a large KPI count (called by the shared KPI SQL): a vacuum of the queue and the
/// aggregates, which autovacuum may not have reached (or may be off).
pub(crate) async fn compact_kpi_tables(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM (ANALYZE) kpi_dirty, kpi_facts, kpi_daily, kpi_monthly, kpi_area_q")
        .execute(pool)
        .await
        .map(|_| ())
}

/// The retention sweep's rewrite of order bodies (called by the shared privacy SQL): two arrays
/// unnested, one statement to parse and plan for any number of rows, where a VALUES list would
/// bind two parameters a row.
pub(crate) async fn set_order_bodies(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    ids: Vec<String>,
    bodies: Vec<Vec<u8>>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET body = v.body FROM UNNEST($1::text[], $2::bytea[]) AS v(id, body) WHERE orders.order_id = v.id")
        .bind(ids)
        .bind(bodies)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}
