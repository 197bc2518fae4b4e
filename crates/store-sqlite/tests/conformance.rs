//! The storage conformance suite on SQLite, each case in a fresh database file.

use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};

async fn fresh() -> Option<(SqliteStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("riskdesk.db"), SqliteOptions::default()).await.expect("open");
    Some((store, dir))
}

riskdesk_store::conformance_tests!(fresh());
