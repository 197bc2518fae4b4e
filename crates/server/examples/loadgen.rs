//! Open-loop load generator for `POST /api/v1/orders`: sends distinct orders at a fixed rate
//! and measures each latency from the moment the request was due (so a stalled server cannot
//! hide its queue: no coordinated omission). Prints the median and tail latencies.
//!
//! cargo run --release -p riskdesk-server --example loadgen -- URL KEY RATE SECONDS [RUN]

use std::time::{Duration, Instant};

fn order(run: &str, i: u64) -> String {
    let c = i % 5000;
    format!(
        r#"{{"order_id":"{run}-{i}","placed_at":"2026-11-21T10:15:00+01:00","channel":"webshop",
"customer":{{"customer_id":"C-{run}-{c}","email":"c{c}.{run}@example.com","phone":"+4915112345678","name":"Anna Beispiel","created_at":"2025-01-02T08:00:00Z"}},
"total":{{"amount":"249.90","currency":"EUR"}},
"items":[{{"sku":"SKU-1","brand":"Acme","category":"sneakers","quantity":1,"unit_price":{{"amount":"249.90","currency":"EUR"}}}}],
"payment":{{"method":"card","card":{{"bin":"411111","last4":"1111","fingerprint":"fp_{run}_{c}","issuer_country":"DE"}}}},
"billing_address":{{"name":"Anna Beispiel","line1":"Torstr. {c}","postal_code":"10115","city":"Berlin","country":"DE"}},
"shipping_address":{{"name":"Anna Beispiel","line1":"Torstr. {c}","postal_code":"10115","city":"Berlin","country":"DE"}},
"device":{{"device_id":"dev-{run}-{c}","ip":"203.0.113.7","user_agent":"Mozilla/5.0"}},
"promo_codes":["WELCOME10"],"attributes":{{"checkout_seconds":41}}}}"#
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: loadgen URL KEY RATE SECONDS [RUN]");
        std::process::exit(2);
    }
    let (url, key) = (args[1].clone(), args[2].clone());
    let rate: f64 = args[3].parse().expect("RATE");
    let secs: f64 = args[4].parse().expect("SECONDS");
    let run = args.get(5).cloned().unwrap_or_else(|| "lg".into());
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("client");
    let total = (rate * secs) as u64;
    let start = Instant::now() + Duration::from_millis(100);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Duration, bool)>();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, url, key, tx) = (client.clone(), url.clone(), key.clone(), tx.clone());
        let body = order(&run, i);
        tokio::spawn(async move {
            let ok = client
                .post(&url)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            let _ = tx.send((due.elapsed(), ok));
        });
    }
    drop(tx);
    let mut lat = Vec::with_capacity(total as usize);
    let mut errors = 0;
    while let Some((d, ok)) = rx.recv().await {
        lat.push(d);
        errors += usize::from(!ok);
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "RESULT offered_rps={rate:.0} sent={} errors={errors} achieved_rps={:.0} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2}",
        lat.len(),
        lat.len() as f64 / elapsed,
        p(0.5),
        p(0.9),
        p(0.99),
        p(0.999),
        p(1.0)
    );
}
