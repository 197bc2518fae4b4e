//! The SQL of the people-facing areas (identity, audit, approvals, review, cases, and the audited
//! changes of lists and screening), written once for both backends. The statements are the same
//! on SQLite and PostgreSQL but for a few fragments each backend passes in, so each area's SQL
//! is a macro that a backend crate expands with its own sqlx types (`impl_sql_stores!`).
//!
//! Why macros and not functions generic over `sqlx::Database`: the generic bounds (encode,
//! decode and type for every column type, executor for every connection kind) grow with every
//! query, and the two backends differ in only three literals; a macro states those three once.
//!
//! Adding an area: a file with its `<area>_sql!` macro, one `mod` line below, one line in
//! `impl_sql_stores!` and one arm in `apply`.

mod approvals;
mod audit;
mod cases;
mod disputes;
mod identity;
mod knowledge;
mod kpi_areas;
mod kpis;
mod lists;
mod orders;
mod privacy;
mod qa;
mod review;
mod screening;
mod seal;
mod system;
mod webhooks;

/// Implements every area's storage trait for a backend. `$lock` is appended to the read of the
/// audit head (`FOR UPDATE` on PostgreSQL; SQLite has one writer), `$country` extracts the
/// shipping country from `o.body`, `$json` is a parameter as a JSON column takes it, `$body` reads
/// `o.body` as bytes, `$dirty_order` orders the KPI queue by arrival, `$jcast` casts a text parameter to a JSON column.
#[macro_export]
macro_rules! impl_sql_stores {
    (
        $store:ty, $db:ty, writer: $w:ident, reader: $r:ident, lock: $lock:literal, country: $country:literal,
        json_param: $json:literal, body_bytes: $body:literal,
        dirty_order: $dirty_order:literal, json_cast: $jcast:literal, skip_locked: $skip:literal
    ) => {
        mod sql_stores {
            #![allow(clippy::all)]
            use super::*;
            use chrono::{DateTime, Utc};
            use riskdesk_domain::{AuditEntry, AuditRecord, Proposal, ProposalStatus, Role, chain_hash};
            use riskdesk_store::approvals::*;
            use riskdesk_store::audit::*;
            use riskdesk_store::cases::*;
            use riskdesk_store::changes::*;
            use riskdesk_store::disputes::*;
            use riskdesk_store::identity::*;
            use riskdesk_store::knowledge::*;
            use riskdesk_store::review::*;
            use riskdesk_store::{StoreError, StoreResult, from_millis};
            use sqlx::{QueryBuilder, Row};

            type Tx<'a> = sqlx::Transaction<'a, $db>;

            fn dberr(e: sqlx::Error) -> StoreError {
                StoreError::Database(e.to_string())
            }

            fn opt_ms(t: Option<DateTime<Utc>>) -> Option<i64> {
                t.map(|t| t.timestamp_millis())
            }

            fn opt_time(v: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
                v.map(from_millis).transpose()
            }

            /// A sealed text column, opened (`riskdesk_store::seal`; plain values pass as they are).
            fn open_col(r: &<$db as sqlx::Database>::Row, col: &str, field: &str) -> StoreResult<String> {
                riskdesk_store::seal::open(field, r.try_get::<String, _>(col).map_err(dberr)?)
            }

            fn open_col_opt(r: &<$db as sqlx::Database>::Row, col: &str, field: &str) -> StoreResult<Option<String>> {
                riskdesk_store::seal::open_opt(field, r.try_get::<Option<String>, _>(col).map_err(dberr)?)
            }

            fn unique_violation(e: &sqlx::Error) -> bool {
                matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
            }

            $crate::identity_sql!($store, $db, $w, $r);
            $crate::audit_sql!($store, $db, $w, $r, $lock);
            $crate::approvals_sql!($store, $db, $w, $r);
            $crate::cases_sql!($store, $db, $w, $r);
            $crate::knowledge_sql!($store, $db, $w, $r);
            $crate::disputes_sql!($store, $db, $w, $r);
            $crate::qa_sql!($store, $db, $w, $r);
            $crate::kpi_areas_sql!($db);
            $crate::kpis_sql!($store, $db, $w, $r, $lock, $body, $dirty_order);
            $crate::privacy_sql!($store, $db, $w, $r, $body, $jcast);
            $crate::review_sql!($store, $db, $w, $r, $country, $json);
            $crate::lists_sql!($store, $db, $w, $r);
            $crate::screening_sql!($store, $db, $w, $r);
            $crate::seal_sql!($store, $db, $w);
            $crate::webhooks_sql!($store, $db, $w, $r, $skip);
            $crate::system_sql!($store, $db, $w, $r);
            $crate::orders_sql!($store, $db, $w, $r);

            /// Applies one change in the transaction, in the file of the area it belongs to.
            async fn apply(tx: &mut Tx<'_>, effect: &Effect) -> StoreResult<()> {
                match effect {
                    Effect::Identity(c) => apply_identity(tx, c).await,
                    Effect::Review(c) => apply_review(tx, c).await,
                    Effect::Lists(c) => apply_lists(tx, c).await,
                    Effect::Screening(c) => apply_screening(tx, c).await,
                    Effect::Cases(c) => apply_cases(tx, c).await,
                    Effect::Knowledge(c) => apply_knowledge(tx, c).await,
                    Effect::Disputes(c) => apply_disputes(tx, c).await,
                    Effect::Qa(c) => apply_qa(tx, c).await,
                    Effect::Kpis(c) => apply_kpis(tx, c).await,
                    Effect::Privacy(c) => apply_privacy(tx, c).await,
                }
            }

            #[async_trait::async_trait]
            impl ChangeStore for $store {
                async fn commit(&self, effects: &[Effect], audit: &[AuditEntry], key: &[u8]) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    for e in effects {
                        apply(&mut tx, e).await?;
                    }
                    append_audit(&mut tx, audit, key).await?;
                    tx.commit().await.map_err(dberr)
                }
            }
        }
        #[allow(unused_imports)]
        pub(crate) use sql_stores::{ENQUEUE_REVIEW_SQL, enqueue_review};
    };
}
