//! Rule-set versions and the screening control row, changed with an audit entry.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The screening area's SQL for changes made with an audit entry.
#[doc(hidden)]
#[macro_export]
macro_rules! screening_sql {
    ($db:ty) => {
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
