//! `riskdesk demo`: a deterministic six-month history of a European fashion shop — customers,
//! orders across webshop, app and two marketplaces, shipping, returns, refunds, chargebacks — with
//! the fraud patterns of fraud-screening.md planted and labelled, loaded and served.
//!
//! Everything is drawn from one seeded generator and a fixed end date, so a seed always gives the
//! same data. Ground truth goes to `demo-truth.csv` and, as the shop would learn it, into
//! `fraud_confirmed` events.

use crate::config::Config;
use crate::{app, serve};
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use riskdesk_domain::intake::{parse_event_json, parse_order_json};
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use std::io::Write;
use std::path::PathBuf;

mod cases;
mod disputes;
mod generator;
mod history;
mod knowledge;
mod kpis;
mod names;
mod people;
mod privacy;
mod qa;
mod review;

pub use history::generate;
use people::demo_users;

/// Ground truth of the planted fraud: order_id, customer_id, pattern.
pub const TRUTH_FILE: &str = "demo-truth.csv";

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 5_000)]
    pub customers: usize,
    #[arg(long, default_value_t = 50_000)]
    pub orders: usize,
    /// Length of the history in days.
    #[arg(long, default_value_t = 182)]
    pub days: i64,
    /// End of the history (RFC 3339); by default the current hour, so the queue holds orders
    /// due today. The same seed and end give the same data.
    #[arg(long)]
    pub until: Option<String>,
    /// Write orders.jsonl, events.jsonl and truth.csv to this directory instead of loading them.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Screen the orders of the last this many days, so the review queue holds the newest.
    #[arg(long, default_value_t = 14)]
    pub screen_days: i64,
    /// Load the data but do not start the server.
    #[arg(long)]
    pub no_serve: bool,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
}

/// Generated history: intake-v1 JSON lines sorted by time, and the planted fraud.
pub struct Dataset {
    pub orders: Vec<String>,
    pub events: Vec<String>,
    /// (order_id, customer_id, pattern)
    pub truth: Vec<(String, String, &'static str)>,
}

pub async fn run(cfg: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let until: DateTime<Utc> = match &args.until {
        Some(u) => DateTime::parse_from_rfc3339(u).context("--until must be RFC 3339")?.into(),
        None => {
            use chrono::{DurationRound, TimeDelta};
            Utc::now().duration_trunc(TimeDelta::hours(1)).context("the current hour")?
        }
    };
    eprintln!(
        "generating {} orders of {} customers over {} days (seed {})…",
        args.orders, args.customers, args.days, args.seed
    );
    let data = generate(args.seed, args.customers, args.orders, args.days, until);
    if let Some(dir) = &args.export {
        std::fs::create_dir_all(dir)?;
        write_lines(&dir.join("orders.jsonl"), &data.orders)?;
        write_lines(&dir.join("events.jsonl"), &data.events)?;
        write_truth(&dir.join("truth.csv"), &data.truth)?;
        println!(
            "wrote {} orders, {} events, {} planted fraud orders to {}",
            data.orders.len(),
            data.events.len(),
            data.truth.len(),
            dir.display()
        );
        return Ok(());
    }
    let service = app::open_service(cfg).await?;
    if service.store().counts().await?.orders > 0 {
        eprintln!("the database already holds orders; loading nothing new");
    } else {
        let cap = local::intake();
        for chunk in data.orders.chunks(5_000) {
            let orders = chunk.iter().map(|l| parse_order_json(l.as_bytes())).collect::<Result<Vec<_>, _>>()?;
            service.import_orders(&cap, orders).await?;
        }
        for chunk in data.events.chunks(5_000) {
            let events = chunk.iter().map(|l| parse_event_json(l.as_bytes())).collect::<Result<Vec<_>, _>>()?;
            service.import_events(&cap, events).await?;
        }
        service.rebuild_clusters(&cap).await?;
        let screened = service.screen_undecided(&cap, until - chrono::Duration::days(args.screen_days)).await?;
        eprintln!("screened the {screened} orders of the last {} days with the live rule set", args.screen_days);
        let fresh = review::seed(&service, Utc::now()).await?;
        eprintln!("placed {fresh} suspicious orders of the last hours through live screening");
        std::fs::create_dir_all(&cfg.data_dir)?;
        write_truth(&cfg.data_dir.join(TRUTH_FILE), &data.truth)?;
        eprintln!(
            "loaded {} orders and {} events ({} planted fraud orders)",
            data.orders.len(),
            data.events.len(),
            data.truth.len()
        );
    }
    let key = service.create_api_key("demo", &[Scope::Intake, Scope::Read]).await?;
    let listen = cfg.listen_addr()?;
    let users = demo_users(&service).await?;
    knowledge::seed(&service).await?;
    cases::seed(&service).await?;
    disputes::configure(&service);
    disputes::seed(&service, &data).await?;
    qa::seed(&service).await?;
    kpis::seed(&service).await?;
    privacy::seed(&service).await?;
    println!("riskdesk demo: http://{listen}/ (web UI) and http://{listen}/api/v1/openapi.json");
    for (name, role, password) in &users {
        println!("  sign in as {name} ({role}) with password {password}");
    }
    println!("API key (intake, read): {}", key.secret);
    if service.settings().disputes.stripe.webhook_secret == disputes::STRIPE_SECRET {
        println!("dispute webhooks: Stripe secret {}, Adyen HMAC key {}", disputes::STRIPE_SECRET, disputes::ADYEN_KEY);
    }
    println!("try: curl -H 'Authorization: Bearer {}' http://{listen}/api/v1/customers/C-00001", key.secret);
    if args.no_serve {
        return Ok(());
    }
    serve::serve(service, cfg, None).await
}

fn write_lines(path: &std::path::Path, lines: &[String]) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for l in lines {
        f.write_all(l.as_bytes())?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    Ok(())
}

fn write_truth(path: &std::path::Path, truth: &[(String, String, &'static str)]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["order_id", "customer_id", "pattern"])?;
    for (o, c, p) in truth {
        w.write_record([o.as_str(), c.as_str(), p])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_and_every_line_is_valid_intake() {
        let until = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap().into();
        let a = generate(7, 300, 3_000, 182, until);
        let b = generate(7, 300, 3_000, 182, until);
        assert_eq!(a.orders, b.orders);
        assert_eq!(a.events, b.events);
        assert_ne!(a.orders, generate(8, 300, 3_000, 182, until).orders);
        assert_eq!(a.orders.len(), 3_000);
        for l in &a.orders {
            parse_order_json(l.as_bytes()).unwrap_or_else(|e| panic!("{e}: {l}"));
        }
        for l in &a.events {
            parse_event_json(l.as_bytes()).unwrap_or_else(|e| panic!("{e}: {l}"));
        }
        let patterns: std::collections::BTreeSet<_> = a.truth.iter().map(|t| t.2).collect();
        for p in [
            "device_ring",
            "reshipper",
            "account_takeover",
            "card_testing",
            "invitation_abuse",
            "serial_returner",
            "stolen_card",
            "identity_fraud_invoice",
        ] {
            assert!(patterns.contains(p), "{p} planted");
        }
    }
}
