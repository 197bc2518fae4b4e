//! The storage conformance suite on PostgreSQL, each case in a fresh database. Runs when
//! `RISKDESK_TEST_POSTGRES_URL` is set (CI sets it) and skips otherwise.

use riskdesk_store_postgres::PgStore;
use riskdesk_store_postgres::testing::{TestDatabase, fresh_database};

async fn fresh() -> Option<(PgStore, TestDatabase)> {
    let tdb = fresh_database().await?;
    let store = PgStore::connect(&tdb.url, 4).await.expect("connect");
    Some((store, tdb))
}

riskdesk_store::conformance_tests!(fresh());
