//! Encryption at rest, with the real binary: every area's demo data lands sealed (every sealed
//! column holds only sealed values, and no customer's e-mail, name, phone or IBAN is readable in
//! any column of any table without the key file), on SQLite and PostgreSQL; and keys rotate
//! while the server takes orders, after which the old keys can be retired.

use crate::common::*;
use riskdesk_store::seal::SEALED_V1;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin(database_url: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskdesk"));
    c.env_remove("RISKDESK_DATABASE_URL").env("RUST_LOG", "warn");
    if let Some(url) = database_url {
        c.arg("--database-url").arg(url);
    }
    c
}

fn run_ok(data: &Path, url: Option<&str>, args: &[&str]) -> String {
    let out = bin(url).args(args).arg("--data-dir").arg(data).output().unwrap();
    assert!(out.status.success(), "riskdesk {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The stale total of `riskdesk encryption status`.
fn stale(data: &Path, url: Option<&str>) -> u64 {
    let out = run_ok(data, url, &["encryption", "status"]);
    let total = out.lines().find(|l| l.starts_with("total")).unwrap_or_else(|| panic!("{out}"));
    total.split_whitespace().nth(2).unwrap().parse().unwrap()
}

fn key_ids(data: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(data.join("field.keys")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let key: [u8; 32] = hex::decode(l.split_whitespace().nth(1).unwrap()).unwrap().try_into().unwrap();
            riskdesk_store::seal::KeyId::of(&key).hex()
        })
        .collect()
}

/// Every stored value as (table, column, raw text): what someone holding the database but not
/// the key file reads. Bodies that are not sealed are unpacked (packing hides nothing).
async fn raw_values(data: &Path, url: Option<&str>) -> Vec<(String, String, String, bool)> {
    raw_values_of(&data.join("riskdesk.db"), url).await
}

async fn raw_values_of(sqlite: &Path, url: Option<&str>) -> Vec<(String, String, String, bool)> {
    use crate::privacy::{Raw, postgres_raw, reveal_bytes, sqlite_raw};
    let values = match url {
        None => sqlite_raw(sqlite),
        Some(url) => postgres_raw(url).await,
    };
    values
        .into_iter()
        .map(|(t, c, v)| match v {
            Raw::Text(s) => {
                let sealed = s.starts_with("enc1:");
                (t, c, s, sealed)
            }
            Raw::Bytes(b) if b.first() == Some(&SEALED_V1) => (t, c, String::new(), true),
            Raw::Bytes(b) => (t, c, reveal_bytes(&b), false),
        })
        .collect()
}

/// The demo's people as the service reads them (with the key): e-mails, names, phones, IBANs,
/// street addresses, IP addresses.
fn personal_values(demo_orders: &Path) -> HashSet<String> {
    let mut values = HashSet::new();
    for line in std::fs::read_to_string(demo_orders).unwrap().lines().take(400) {
        let o: Value = serde_json::from_str(line).unwrap();
        let fields = [
            &o["customer"]["email"],
            &o["customer"]["name"],
            &o["customer"]["phone"],
            &o["payment"]["iban"],
            &o["shipping_address"]["line1"],
            &o["device"]["ip"],
        ];
        for v in fields {
            if let Some(s) = v.as_str().filter(|s| s.len() >= 6) {
                values.insert(s.to_lowercase());
            }
        }
    }
    values
}

async fn demo_data_is_sealed_at_rest(url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let export = dir.path().join("export");
    let args = ["demo", "--customers", "300", "--orders", "3000", "--until", "2026-12-01T12:00:00Z"];
    run_ok(&data, url, &[&args[..], &["--export", export.to_str().unwrap()]].concat());
    run_ok(&data, url, &[&args[..], &["--no-serve"]].concat());
    let people = personal_values(&export.join("orders.jsonl"));
    assert!(people.len() > 100, "{} personal values to look for", people.len());

    let sealed_columns: HashSet<(String, String)> =
        riskdesk_store::sealed_columns().iter().map(|c| (c.table.to_owned(), c.column.to_owned())).collect();
    let values = raw_values(&data, url).await;
    let mut per_column: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for (t, c, text, sealed) in &values {
        if sealed_columns.contains(&(t.clone(), c.clone())) {
            assert!(*sealed || text.is_empty(), "{t}.{c} holds a value that is not sealed: {text:.60}");
            *per_column.entry((t.clone(), c.clone())).or_default() += 1;
        }
        let lower = text.to_lowercase();
        if let Some(p) = people.iter().find(|p| lower.contains(p.as_str())) {
            panic!("{t}.{c} shows a customer's personal value without the key: {p}");
        }
    }
    // The demo fills every area, so most sealed columns were really exercised.
    for must in [
        "orders.body",
        "events.body",
        "customers.email",
        "cases.description",
        "case_events.text",
        "dispute_events.raw",
        "handlings.transcript",
        "privacy_requests.details",
        "privacy_request_events.text",
    ] {
        let (t, c) = must.split_once('.').unwrap();
        assert!(per_column.get(&(t.to_owned(), c.to_owned())).is_some_and(|n| *n > 0), "no sealed value in {must}");
    }
    assert_eq!(stale(&data, url), 0, "every sealed value is under the primary key");

    // A rotation re-seals every value; with the first key retired, a second rotation opens them
    // all again (under the second key alone) and re-seals them under a third.
    let first = key_ids(&data);
    run_ok(&data, url, &["encryption", "rotate"]);
    assert_eq!(stale(&data, url), 0);
    run_ok(&data, url, &["encryption", "retire", &first[0]]);
    run_ok(&data, url, &["encryption", "rotate"]);
    assert_eq!(stale(&data, url), 0);
    assert_eq!(key_ids(&data).len(), 2);
}

#[test]
fn demo_data_is_sealed_at_rest_on_sqlite() {
    tokio::runtime::Runtime::new().unwrap().block_on(demo_data_is_sealed_at_rest(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_data_is_sealed_at_rest_on_postgres() {
    let Some(db) = riskdesk_store_postgres::testing::fresh_database().await else { return };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(demo_data_is_sealed_at_rest(Some(&url)))
    })
    .await
    .unwrap();
}

both_backends!(a_review_note_is_sealed_and_reads_back, |app: TestApp| async move {
    use crate::desk::{add_user, order_of, sign_in, submit, use_review_set};
    const NOTE: &str = "Called Sabine Siegelmann on her mobile";
    use_review_set(&app).await;
    add_user(&app, "ana", riskdesk_domain::Role::FraudAnalyst).await;
    let ana = sign_in(&app, "ana").await;
    submit(&app, &order_of("SEAL-1", "C-SEAL", "150.00", 1)).await;
    let r = ana
        .post(
            &app,
            "/orders/SEAL-1/review",
            &format!("action=release&reason=verified_customer&note={}", NOTE.replace(' ', "+")),
        )
        .await;
    assert!(r.status.is_redirection(), "{}", r.body);
    let actions = app.service.store().review_actions("SEAL-1").await.unwrap();
    assert_eq!(actions.iter().map(|a| a.note.as_str()).collect::<Vec<_>>(), [NOTE]);
    let (sqlite, url) = match &app._guard {
        crate::common::Guard::Dir(d) => (d.path().join("db"), None),
        crate::common::Guard::Pg(db) => (Default::default(), Some(db.url.clone())),
        crate::common::Guard::None => unreachable!(),
    };
    let values = raw_values_of(&sqlite, url.as_deref()).await;
    let notes: Vec<_> = values.iter().filter(|v| v.0 == "review_actions" && v.1 == "note").collect();
    assert!(!notes.is_empty() && notes.iter().all(|v| v.3), "{notes:?}");
    assert!(!values.iter().any(|v| v.2.contains("Siegelmann")), "the note is readable without the key");
});

/// The server, stopped however the test ends.
struct Server(std::process::Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = bin(None)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .env("RISKDESK_ENCRYPTION__RELOAD_SECONDS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server(child, base)
}

fn order(i: usize) -> Value {
    let mut o = riskdesk_store::conformance::order_json(&format!("R-{i:05}"), &format!("C-ROT-{}", i % 50), i as i64);
    o["customer"]["email"] = json!(format!("rotation.{i}@example.org"));
    o["customer"]["name"] = json!("Rita Rotation");
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_while_the_server_takes_orders() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("orders.jsonl");
    std::fs::write(&file, (0..2_000).map(|i| order(i).to_string() + "\n").collect::<String>()).unwrap();
    run_ok(&data, None, &["import", "orders", file.to_str().unwrap()]);
    let intake = run_ok(&data, None, &["apikey", "create", "--name", "shop", "--scope", "intake", "--scope", "read"]);
    let key = intake.lines().last().unwrap().rsplit(' ').next().unwrap().trim().to_owned();
    let first = key_ids(&data);
    assert_eq!(first.len(), 1);
    assert_eq!(stale(&data, None), 0);

    // A rotation written while no server runs: the old key may not go while values need it.
    run_ok(&data, None, &["encryption", "rotate", "--no-reseal"]);
    assert!(stale(&data, None) > 2_000, "orders, events and customers are still under the first key");
    let out = bin(None).args(["encryption", "retire", &first[0], "--data-dir"]).arg(&data).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not under the primary key yet"));

    // The server re-seals at start, and again after a rotation made while it runs, taking and
    // answering orders all along.
    let server = start(&data);
    let http = reqwest::Client::new();
    let get = |id: String| {
        let (http, base, key) = (http.clone(), server.1.clone(), key.clone());
        async move {
            let r = http.get(format!("{base}/api/v1/orders/{id}")).bearer_auth(&key).send().await.unwrap();
            assert_eq!(r.status(), 200, "{id}");
            r.json::<Value>().await.unwrap()
        }
    };
    run_ok(&data, None, &["encryption", "rotate", "--no-reseal"]);
    let keys = key_ids(&data);
    assert_eq!(keys.len(), 3);
    let started = Instant::now();
    let mut i = 2_000;
    loop {
        let r =
            http.post(format!("{}/api/v1/orders", server.1)).bearer_auth(&key).json(&order(i)).send().await.unwrap();
        assert!(r.status().is_success(), "order {i}: {}", r.status());
        let old = get(format!("R-{:05}", i % 2_000)).await;
        assert_eq!(old["order"]["customer"]["email"], format!("rotation.{}@example.org", i % 2_000), "{old}");
        i += 1;
        if i % 20 == 0 && stale(&data, None) == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the server never re-sealed under the new key");
    }

    // Both old keys go; what was stored before and during the rotation still reads.
    run_ok(&data, None, &["encryption", "retire", &keys[1]]);
    run_ok(&data, None, &["encryption", "retire", &keys[2]]);
    assert_eq!(key_ids(&data), vec![keys[0].clone()]);
    drop(server);
    let server = start(&data);
    for id in ["R-00000".to_owned(), format!("R-{:05}", i - 1)] {
        let r = http.get(format!("{}/api/v1/orders/{id}", server.1)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(r.status(), 200, "{id} after the old keys were retired");
    }
}
