//! The few statements the shared SQL (`riskdesk_store_sql`) calls by name because this backend
//! writes them its own way.

use super::*;

/// List entries in bulk (called by the shared lists SQL): a VALUES list per chunk.
pub(crate) async fn insert_list_entries(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    entries: &[ListEntry],
) -> Result<(), sqlx::Error> {
    for chunk in entries.chunks(CHUNK / 2) {
        let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO list_entries ({}) ", codec::LIST_ENTRY_COLUMNS));
        q.push_values(chunk, |mut b, e| {
            b.push_bind(e.id.clone())
                .push_bind(e.list.as_str())
                .push_bind(e.kind.as_str())
                .push_bind(riskdesk_store::seal::seal(codec::LIST_VALUE, &e.value))
                .push_bind(e.match_key.clone())
                .push_bind(e.reason.clone())
                .push_bind(e.author.clone())
                .push_bind(ms(e.created_at))
                .push_bind(e.expires_at.map(ms))
                .push_bind(e.removed_at.map(ms));
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rule-set versions are numbered one writer at a time (called by the shared screening SQL): the
/// one writer connection already is.
pub(crate) async fn lock_rulesets(_tx: &mut sqlx::Transaction<'_, Sqlite>) -> Result<(), sqlx::Error> {
    Ok(())
}

/// After a large KPI count (called by the shared KPI SQL): SQLite reuses the pages of deleted
/// rows itself; fresh statistics for the planner are all it needs.
pub(crate) async fn compact_kpi_tables(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("ANALYZE kpi_dirty").execute(pool).await.map(|_| ())
}

/// The retention sweep's rewrite of order bodies (called by the shared privacy SQL): a VALUES
/// list per 5,000 rows.
pub(crate) async fn set_order_bodies(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    ids: Vec<String>,
    bodies: Vec<Vec<u8>>,
) -> Result<(), sqlx::Error> {
    let rows: Vec<(String, Vec<u8>)> = ids.into_iter().zip(bodies).collect();
    for chunk in rows.chunks(5000) {
        let mut q = sqlx::QueryBuilder::<Sqlite>::new("UPDATE orders SET body = v.column2 FROM (");
        q.push_values(chunk, |mut b, (id, body)| {
            b.push_bind(id.clone());
            b.push_bind(body.clone());
        });
        q.push(") AS v WHERE orders.order_id = v.column1");
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
