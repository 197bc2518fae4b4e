//! End-to-end tests of the real `riskdesk` binary: import with a summary and a report of
//! rejected lines, and durability of acknowledged orders across kill -9.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskdesk"));
    c.env_remove("RISKDESK_DATABASE_URL").env("RUST_LOG", "warn");
    c
}

fn run_ok(args: &[&str], data_dir: &Path) -> String {
    let out = bin().args(args).arg("--data-dir").arg(data_dir).output().expect("run riskdesk");
    assert!(out.status.success(), "riskdesk {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn import_reports_imported_duplicates_and_rejected_lines() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    run_ok(&["demo", "--customers", "200", "--orders", "2000", "--export", export.to_str().unwrap()], dir.path());
    let orders = std::fs::read_to_string(export.join("orders.jsonl")).unwrap();
    let mut lines: Vec<String> = orders.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2000);
    // three bad lines and one duplicate, at known line numbers
    lines.insert(10, "{not json".into());
    lines.insert(20, r#"{"order_id": "BAD-1", "placed_at": "2026-01-01T00:00:00Z", "customer": {"customer_id": "C"}, "total": {"amount": "-3", "currency": "EUR"}, "payment": {"method": "card"}}"#.into());
    lines.insert(30, "\u{FFFD}garbage".into());
    let dup = lines[40].clone();
    lines.push(dup);
    let file = dir.path().join("orders.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    let data = dir.path().join("data");
    let out = run_ok(&["import", "orders", file.to_str().unwrap(), "--batch-size", "300", "--no-progress"], &data);
    assert!(out.contains("imported 2000, duplicates skipped 1, rejected 3 of 2004 lines"), "{out}");
    let report = std::fs::read_to_string(dir.path().join("orders.jsonl.rejected.csv")).unwrap();
    let rows: Vec<&str> = report.lines().collect();
    assert_eq!(rows[0], "line,code,field,detail");
    assert!(rows[1].starts_with("11,malformed_json,"), "{report}");
    assert!(rows[2].starts_with("21,negative_amount,total.amount,"), "{report}");
    assert!(rows[3].starts_with("31,malformed_json,"), "{report}");

    // importing again: everything is a duplicate
    let out = run_ok(&["import", "orders", file.to_str().unwrap(), "--no-progress"], &data);
    assert!(out.contains("imported 0, duplicates skipped 2001, rejected 3"), "{out}");

    let out = run_ok(&["import", "events", export.join("events.jsonl").to_str().unwrap(), "--no-progress"], &data);
    assert!(out.contains("rejected 0"), "{out}");

    // CSV with the documented columns
    let csv = dir.path().join("orders.csv");
    std::fs::write(
        &csv,
        "order_id,placed_at,customer_id,email,total_amount,currency,payment_method,device_id\n\
        CSV-1,2026-01-01T10:00:00+01:00,C-CSV,a@example.com,12.50,EUR,card,dev-1\n\
        CSV-2,2026-01-01T10:00:00+01:00,C-CSV,a@example.com,12.50,EURO,card,dev-1\n",
    )
    .unwrap();
    let out = run_ok(&["import", "orders", csv.to_str().unwrap(), "--no-progress"], &data);
    assert!(out.contains("imported 1, duplicates skipped 0, rejected 1 of 2 lines"), "{out}");
    let report = std::fs::read_to_string(dir.path().join("orders.csv.rejected.csv")).unwrap();
    assert!(report.contains("3,unknown_currency,total.currency"), "{report}");
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(data_dir: &Path, port: u16) -> Server {
    let mut child = bin()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start riskdesk serve");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(true) = reqwest::blocking_get(&format!("{base}/healthz")) {
            return Server { child, base };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not come up");
}

mod reqwest {
    pub use ::reqwest::*;
    /// A tiny blocking probe without pulling in reqwest's blocking feature.
    pub fn blocking_get(url: &str) -> std::result::Result<bool, ()> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|_| ())?;
        rt.block_on(async { Ok(::reqwest::get(url).await.map(|r| r.status().is_success()).unwrap_or(false)) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let secret = run_ok(&["apikey", "create", "--name", "shop", "--scope", "intake", "--scope", "read"], dir.path());
    let secret = secret.trim().to_owned();
    let port = free_port();
    let data = dir.path().to_owned();
    let mut server = tokio::task::spawn_blocking(move || start(&data, port)).await.unwrap();
    let client = reqwest::Client::new();

    // Post orders concurrently and record every acknowledged id, then kill -9 mid-stream.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (client, base, secret, acked) = (client.clone(), server.base.clone(), secret.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let id = format!("K-{w}-{i}");
                let body = json!({"order_id": id, "placed_at": "2026-11-21T10:15:00+01:00", "customer": {"customer_id": format!("C-{w}")},
                                  "total": {"amount": "10.00", "currency": "EUR"}, "payment": {"method": "card"}});
                match client.post(format!("{base}/api/v1/orders")).bearer_auth(&secret).json(&body).send().await {
                    Ok(r) if r.status().is_success() => acked.lock().unwrap().push(id),
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(status.success());
    for t in tasks {
        let _ = t.await;
    }
    let _ = server.child.wait();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "only {} orders acknowledged before the kill", acked.len());

    let data = dir.path().to_owned();
    let server = tokio::task::spawn_blocking(move || start(&data, port)).await.unwrap();
    for id in &acked {
        let r = client.get(format!("{}/api/v1/orders/{id}", server.base)).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged order {id} lost after kill -9");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["decisions"][0]["decision"], "approve");
    }
}
