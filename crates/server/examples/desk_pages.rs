//! Server time of the analyst's two heaviest pages on SQLite: the review queue with 10,000
//! orders in review, and the order page of an account in a 500-account linked cluster. Pages
//! are rendered by the real router (session, CSRF, templates), in process, so the figures are
//! server time without the network.
//!
//!   cargo run --release -p riskdesk-server --example desk_pages [-- postgres://…]
//!
//! Without an argument it uses a fresh SQLite file; with a PostgreSQL URL, that (empty) database.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use riskdesk_domain::Role;
use riskdesk_domain::{Decision, FixedClock, Reason, Verdict};
use riskdesk_server::config::{Config, Overrides};
use riskdesk_service::Service;
use riskdesk_store::Store;
use riskdesk_store::conformance::{order_json, t0};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

const IN_REVIEW: usize = 10_000;
const CLUSTER: usize = 500;
const RUNS: usize = 40;

fn decision(order_id: &str, verdict: Verdict, score: u8, rules: &[&str]) -> Decision {
    Decision {
        order_id: riskdesk_domain::OrderId::parse(order_id, "order_id").unwrap(),
        decision: verdict,
        score,
        reasons: rules
            .iter()
            .map(|r| Reason { rule: (*r).into(), action: "score".into(), points: 20, detail: format!("{r} = 3") })
            .collect(),
        ruleset_version: 1,
        decided_at: t0(),
        not_evaluated: Vec::new(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = match std::env::args().nth(1) {
        Some(url) => Arc::new(riskdesk_store_postgres::PgStore::connect(&url, 8).await?),
        None => Arc::new(riskdesk_store_sqlite::SqliteStore::open(&dir.path().join("db"), Default::default()).await?),
    };
    let backend = store.backend();
    let service = Service::new(store, &[7u8; 32], Arc::new(FixedClock::new(t0() + chrono::Duration::hours(6)))).await?;
    let intake = riskdesk_service::access::local::intake();
    let mut rng = fastrand::Rng::with_seed(11);
    let channels = ["webshop", "app", "amazon", "zalando"];
    let countries = ["DE", "AT", "NL", "FR", "IT"];
    let rules = ["device_burst", "new_account_high_value", "country_mismatch", "cluster_with_fraud", "card_testing"];

    // 10,000 orders in review from 10,000 accounts, over the last six hours.
    let t = Instant::now();
    for chunk in (0..IN_REVIEW).collect::<Vec<_>>().chunks(1_000) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let id = format!("Q-{i:05}");
                let mut o = order_json(&id, &format!("QC-{i:05}"), rng.i64(0..360));
                o["channel"] = json!(channels[rng.usize(..channels.len())]);
                o["shipping_address"]["country"] = json!(countries[rng.usize(..countries.len())]);
                o["total"] =
                    json!({"amount": format!("{}.{:02}", rng.u32(20..3000), rng.u32(0..100)), "currency": "EUR"});
                let hit: Vec<&str> = rules.iter().copied().filter(|_| rng.bool()).collect();
                let order = riskdesk_domain::intake::parse_order_json(&serde_json::to_vec(&o).unwrap()).unwrap();
                service.prepare(order, Some(decision(&id, Verdict::Review, rng.u8(40..100), &hit)))
            })
            .collect();
        service.import_prepared(&intake, &batch).await?;
    }
    eprintln!("{IN_REVIEW} orders in review stored in {:.1} s", t.elapsed().as_secs_f64());

    // 500 accounts chained by shared cards (each card used by two accounts, never a hub), two
    // orders each; the first account also shares a device with 30 of them, and its second order
    // waits in review.
    let t = Instant::now();
    let mut batch = Vec::new();
    for i in 0..CLUSTER {
        for k in 0..2 {
            let id = format!("K-{i:03}-{k}");
            let mut o = order_json(&id, &format!("KC-{i:03}"), 400 + i as i64 * 2 + k);
            o["payment"]["card"]["fingerprint"] = json!(format!("card-{}", i + k as usize));
            o["device"]["device_id"] = json!(if i <= 30 { "dev-shared".to_owned() } else { format!("dev-{i}") });
            let order = riskdesk_domain::intake::parse_order_json(&serde_json::to_vec(&o).unwrap()).unwrap();
            let verdict = if i == 0 && k == 1 { Verdict::Review } else { Verdict::Approve };
            batch.push(
                service.prepare(order, Some(decision(&id, verdict, 70, &["cluster_with_fraud", "device_burst"]))),
            );
        }
    }
    service.import_prepared(&intake, &batch).await?;
    service.rebuild_clusters(&intake).await?;
    let cluster = service.cluster(&riskdesk_service::access::local::read(), &"KC-000".parse_id()?, 1).await?;
    let size = cluster.map_or(0, |c| c.facts.size);
    eprintln!("cluster of {size} accounts stored in {:.1} s", t.elapsed().as_secs_f64());
    assert!(size >= CLUSTER as i64, "the cluster holds all {CLUSTER} accounts ({size})");

    let cfg = Config::load(None, &Overrides::default())?;
    service.set_settings(cfg.workspace.to_service());
    service
        .add_user(&riskdesk_service::access::local::user_admin(), "ana", "Ana", Role::FraudAnalyst, "bench-password-1")
        .await?;
    let token = service.login("ana", "bench-password-1", "bench").await?.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let cookie = format!("riskdesk_session={}", token.0);
    let router = riskdesk_server::http::router(service.clone(), &cfg);

    println!("backend: {backend}; {RUNS} requests each, after 3 warm-up requests; server time in ms");
    println!("| page | bytes | median | p95 | max |");
    println!("|---|---:|---:|---:|---:|");
    for path in [
        "/queue",
        "/queue?sort=risk",
        "/queue?channel=app&country=DE&min=100&rule=device_burst",
        "/queue?page=150",
        "/orders/K-000-1",
        "/",
    ] {
        let mut times = Vec::with_capacity(RUNS);
        let mut bytes = 0;
        for run in 0..RUNS + 3 {
            let req = Request::get(path).header("cookie", &cookie).header("host", "localhost").body(Body::empty())?;
            let t = Instant::now();
            let resp = router.clone().oneshot(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            let took = t.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            bytes = body.len();
            if run >= 3 {
                times.push(took);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!("| `{path}` | {bytes} | {:.1} | {:.1} | {:.1} |", p(0.5), p(0.95), times[times.len() - 1]);
    }
    Ok(())
}

trait ParseId {
    fn parse_id(&self) -> anyhow::Result<riskdesk_domain::CustomerId>;
}

impl ParseId for str {
    fn parse_id(&self) -> anyhow::Result<riskdesk_domain::CustomerId> {
        riskdesk_domain::CustomerId::parse(self, "customer_id").map_err(|e| anyhow::anyhow!("{e}"))
    }
}
