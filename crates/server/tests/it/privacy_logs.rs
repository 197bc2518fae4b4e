//! Logs and metrics carry no personal data: the real server, logging at debug level, takes
//! orders, events, a refused order and a privacy request full of canary values, is searched by
//! e-mail and IBAN, and serves its metrics; no canary appears in any of that output.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CANARIES: [&str; 7] = [
    "lena.logcanary@example.org",
    "Lena Logvogel",
    "+4915712344321",
    "Kanarienstraße 9",
    "203.0.113.99",
    "DE02120300000000202051",
    "call me on my private number",
];

/// The server, stopped however the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskdesk"));
    c.env_remove("RISKDESK_DATABASE_URL");
    c
}

/// The secret `riskdesk ARGS` prints once: the last word of its last line.
fn secret(data: &Path, args: &[&str]) -> String {
    let out = bin().args(args).arg("--data-dir").arg(data).env("RUST_LOG", "debug").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_owned();
    text.rsplit(' ').next().unwrap_or_default().trim().to_owned()
}

fn order(id: &str) -> Value {
    json!({
        "order_id": id, "placed_at": "2026-11-21T10:15:00+01:00", "channel": "webshop",
        "customer": {"customer_id": "C-LENA", "email": CANARIES[0], "name": CANARIES[1], "phone": CANARIES[2],
                     "created_at": "2025-01-02T08:00:00Z"},
        "billing_address": {"name": CANARIES[1], "line1": CANARIES[3], "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "shipping_address": {"name": CANARIES[1], "line1": CANARIES[3], "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "device": {"device_id": "dev-lena", "ip": CANARIES[4]},
        "payment": {"method": "sepa_debit", "iban": CANARIES[5]},
        "total": {"amount": "129.90", "currency": "EUR"},
        "items": [{"sku": "SKU-1", "name": "Coat", "quantity": 1, "unit_price": {"amount": "129.90", "currency": "EUR"}}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_metrics_carry_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = secret(&data, &["apikey", "create", "--name", "shop", "--scope", "intake", "--scope", "privacy"]);
    secret(&data, &["user", "add", "ana", "--role", "fraud_analyst"]);
    let analyst = secret(&data, &["user", "token", "create", "ana"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let child = bin()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .unwrap();
    let server = Killed(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).bearer_auth(&key).json(&body).send();
    for i in 0..5 {
        let r = post("/api/v1/orders", order(&format!("L-{i}"))).await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    // Refused input: the error names the field, and neither answer nor log echoes the value.
    let mut bad = order("L-bad");
    bad["customer"]["email"] = json!(format!("{} {}", CANARIES[0], CANARIES[6]));
    bad["total"]["amount"] = json!(CANARIES[2]);
    let r = post("/api/v1/orders", bad).await.unwrap();
    assert_eq!(r.status(), 422);
    let event = json!({"event_id": "E-L1", "type": "email_changed", "occurred_at": "2026-11-21T11:00:00+01:00",
                       "customer_id": "C-LENA", "data": {"old_email": CANARIES[0], "new_email": "x@example.org", "note": CANARIES[6]}});
    post("/api/v1/events", event).await.unwrap();
    let r = post(
        "/api/v1/privacy/requests",
        json!({"right": "access", "customer_id": "C-LENA", "received_at": "2026-11-21T12:00:00+01:00", "channel": "email",
               "details": format!("{} — {}", CANARIES[1], CANARIES[6])}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    for q in [CANARIES[0], CANARIES[5], CANARIES[4]] {
        let r =
            client.get(format!("{base}/api/v1/search")).query(&[("q", q)]).bearer_auth(&analyst).send().await.unwrap();
        let (status, body) = (r.status(), r.text().await.unwrap());
        assert!(status.is_success() && body.contains("C-LENA"), "search by {q}: {status} {body}");
    }
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http"), "metrics served: {metrics:.200}");
    drop(server);

    let logs = std::fs::read_to_string(&out_path).unwrap() + &std::fs::read_to_string(&err_path).unwrap();
    assert!(logs.lines().count() > 10, "debug logging produced output: {logs}");
    assert!(logs.contains("/api/v1/orders"), "requests are logged by route");
    for (what, text) in [("logs", &logs), ("metrics", &metrics)] {
        for c in CANARIES {
            assert!(!text.to_lowercase().contains(&c.to_lowercase()), "{what} carry {c:?}");
        }
    }
}
