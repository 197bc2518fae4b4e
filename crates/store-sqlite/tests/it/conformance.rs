//! The storage conformance suite on SQLite, each case in a fresh database file: once with the
//! default entity-index tail (small cases never fill it, so every lookup reads the tail), and
//! once merging the tail into the index on every write.

use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};

async fn open(tail_uses: usize) -> Option<(SqliteStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = SqliteOptions { entity_tail_uses: tail_uses, ..SqliteOptions::default() };
    let store = SqliteStore::open(&dir.path().join("riskdesk.db"), opts).await.expect("open");
    Some((store, dir))
}

mod tail_held {
    riskdesk_store::conformance_tests!(super::open(riskdesk_store_sqlite::DEFAULT_ENTITY_TAIL_USES));
}

mod merged_on_every_write {
    riskdesk_store::conformance_tests!(super::open(1));
}
