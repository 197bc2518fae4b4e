//! Privacy operations at volume, on a loaded data directory or database (bench/privacy.sh
//! loads 1,000,000 orders): for several people, the access package job and the erasure job
//! (after identity, proposal and a second person's approval, which are not timed), then one
//! retention sweep over everything past its retention. Prints each run and the medians.
//!
//!   cargo run --release -p riskdesk-server --example privacy_bench -- DATA_DIR [postgres://…] CUSTOMER…

use riskdesk_domain::Role;
use riskdesk_server::app;
use riskdesk_server::config::{Config, Overrides};
use riskdesk_service::audit::Actor;
use riskdesk_service::privacy::RequestIn;
use riskdesk_service::{PrivacyIntake, PrivacyViewer, PrivacyWorker, Service};
use std::time::Instant;

/// The server's allocator, so the jobs run as they do in `riskdesk serve`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn request(svc: &Service, right: &str, customer: &str) -> anyhow::Result<String> {
    let pia = Actor::user("pia", Role::PrivacyOfficer);
    let input = RequestIn {
        right: right.into(),
        customer_id: customer.into(),
        received_at: svc.now().to_rfc3339(),
        channel: "email".into(),
        details: String::new(),
    };
    let r = svc.submit_privacy_request(&PrivacyIntake::local(pia.clone()), input).await?;
    svc.verify_privacy_identity(
        &PrivacyWorker::local(pia),
        &r.request_id,
        "identity checked by staff for the benchmark",
    )
    .await?;
    Ok(r.request_id)
}

/// Runs the queued jobs; answers seconds and the rows the request's newest job did.
async fn run(svc: &Service, request: Option<&str>) -> anyhow::Result<(f64, i64)> {
    let t = Instant::now();
    svc.run_privacy_jobs().await?;
    let secs = t.elapsed().as_secs_f64();
    let viewer = PrivacyViewer::local(Actor::cli());
    let rows = match request {
        Some(id) => svc.privacy_request_detail(&viewer, id).await?.jobs.last().map_or(0, |j| j.done_rows),
        None => svc.privacy_dashboard(&viewer).await?.sweeps.first().map_or(0, |j| j.done_rows),
    };
    Ok((secs, rows))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(!args.is_empty(), "usage: privacy_bench DATA_DIR [postgres://…] CUSTOMER…");
    let data_dir = args.remove(0).into();
    let database_url = args.first().filter(|a| a.starts_with("postgres")).cloned();
    if database_url.is_some() {
        args.remove(0);
    }
    let cfg = Config::load(None, &Overrides { data_dir: Some(data_dir), database_url, ..Default::default() })?;
    let svc = app::open_service(&cfg).await?;
    let admin = riskdesk_service::access::local::user_admin();
    if svc.store().user_by_name("olaf").await?.is_none() {
        svc.add_user(&admin, "olaf", "Olaf", Role::PrivacyOfficer, "olaf-bench-password").await?;
    }
    let token = svc.login("olaf", "olaf-bench-password", "").await?.expect("olaf signs in");
    let approver = svc.session(&token.0).await?.expect("session").approver().expect("olaf approves");
    let work = PrivacyWorker::local(Actor::user("pia", Role::PrivacyOfficer));

    let (mut exports, mut erasures) = (Vec::new(), Vec::new());
    for customer in &args {
        let access = request(&svc, "access", customer).await?;
        svc.start_privacy_export(&work, &access).await?;
        let (secs, rows) = run(&svc, Some(&access)).await?;
        println!("export  {customer:<10} {rows:>5} records  {:>7.1} ms", secs * 1000.0);
        exports.push(secs);

        let erasure = request(&svc, "erasure", customer).await?;
        svc.propose_privacy_erasure(&work, &erasure, "no open claims (benchmark)").await?;
        for p in svc.proposals(true).await? {
            svc.approve_proposal(&approver, &p.id, &p.payload_hash, None).await?;
        }
        let (secs, rows) = run(&svc, Some(&erasure)).await?;
        println!("erasure {customer:<10} {rows:>5} records  {:>7.1} ms", secs * 1000.0);
        erasures.push(secs);
    }
    if !exports.is_empty() {
        println!(
            "median of {}: export {:.1} ms, erasure {:.1} ms",
            exports.len(),
            median(exports) * 1000.0,
            median(erasures) * 1000.0
        );
    }
    svc.start_sweep(&work).await?;
    let (secs, rows) = run(&svc, None).await?;
    println!("sweep: {rows} records anonymised in {secs:.2} s: {:.0} records/s", rows as f64 / secs);
    Ok(())
}
