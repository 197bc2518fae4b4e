//! Linked-cluster lookup latency: one account's cluster (id, size, fraud and chargeback counts)
//! among 1,000,000 accounts, through the store API as screening calls it.
//!
//!   cargo run --release -p riskdesk-server --example cluster_lookup [-- postgres://…]
//!
//! Without an argument it uses a fresh SQLite file; with a PostgreSQL URL, that (empty) database.
//! The partition is synthetic: 1,000,000 accounts, 70 % alone, the rest in clusters of 2 to 500.

use riskdesk_domain::CustomerId;
use riskdesk_rules::features::ClusterFacts;
use riskdesk_store::Store;
use std::sync::Arc;
use std::time::Instant;

const ACCOUNTS: usize = 1_000_000;
const LOOKUPS: usize = 100_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = match std::env::args().nth(1) {
        Some(url) => Arc::new(riskdesk_store_postgres::PgStore::connect(&url, 4).await?),
        None => Arc::new(riskdesk_store_sqlite::SqliteStore::open(&dir.path().join("db"), Default::default()).await?),
    };
    let mut rng = fastrand::Rng::with_seed(5);
    let mut accounts = Vec::with_capacity(ACCOUNTS);
    let mut clusters = Vec::new();
    let mut i = 0;
    while i < ACCOUNTS {
        let size = if rng.u8(0..10) < 7 { 1 } else { rng.usize(2..=500.min(ACCOUNTS - i).max(2)) }.min(ACCOUNTS - i);
        let id = format!("C-{i:07}");
        for k in 0..size {
            accounts.push((format!("C-{:07}", i + k), id.clone(), false, rng.u8(0..100) == 0));
        }
        clusters.push((id, ClusterFacts { size: size as i64, fraud_accounts: 0, chargeback_accounts: 0 }));
        i += size;
    }
    let t = Instant::now();
    store.replace_clusters(&accounts, &clusters).await?;
    eprintln!(
        "{} accounts in {} clusters stored in {:.1} s ({})",
        accounts.len(),
        clusters.len(),
        t.elapsed().as_secs_f64(),
        store.backend()
    );

    let ids: Vec<CustomerId> = (0..LOOKUPS)
        .map(|_| CustomerId::parse(&format!("C-{:07}", rng.usize(0..ACCOUNTS)), "id").expect("valid id"))
        .collect();
    for id in ids.iter().take(2_000) {
        store.cluster_of(id).await?; // warm the cache and the statement cache
    }
    let mut lat = Vec::with_capacity(LOOKUPS);
    let all = Instant::now();
    for id in &ids {
        let t = Instant::now();
        let c = store.cluster_of(id).await?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(c.is_some());
    }
    let total = all.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{}: {LOOKUPS} lookups, {:.0}/s; p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        store.backend(),
        LOOKUPS as f64 / total,
        q(0.5),
        q(0.9),
        q(0.99),
        q(0.999),
        lat[lat.len() - 1]
    );
    Ok(())
}
