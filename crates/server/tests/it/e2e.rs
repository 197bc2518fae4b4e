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

/// Every account's profile row as stored, and whether an unfinished bulk load's marker is there.
/// The key ring of a data directory's key file (each directory has keys of its own).
pub(crate) fn ring_of(data_dir: &Path) -> riskdesk_store::seal::Ring {
    let path = data_dir.join(riskdesk_server::encryption::KEY_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    riskdesk_server::encryption::KeyFile::parse(&text, &path).unwrap().ring(true)
}

/// Every account's profile, its e-mail, phone and name opened with the directory's keys.
fn customers(data_dir: &Path) -> (Vec<String>, bool) {
    use riskdesk_store::codec::{CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_PHONE};
    let ring = ring_of(data_dir);
    let open =
        |field: &str, v: Option<String>| v.map(|v| ring.open_text(field, &v).unwrap().into_owned()).unwrap_or_default();
    let c = rusqlite::Connection::open(data_dir.join("riskdesk.db")).unwrap();
    let rows = c
        .prepare(
            "SELECT customer_id, email, phone, name, COALESCE(channel, '') || '|' || first_order_at || '|' || last_order_at \
             FROM customers ORDER BY customer_id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?))
        })
        .unwrap()
        .map(|r| {
            let (id, email, phone, name, rest) = r.unwrap();
            format!("{id}|{}|{}|{}|{rest}", open(CUSTOMER_EMAIL, email), open(CUSTOMER_PHONE, phone), open(CUSTOMER_NAME, name))
        })
        .collect::<Vec<String>>();
    let marked = c
        .query_row("SELECT EXISTS (SELECT 1 FROM settings WHERE name LIKE 'bulk_load_customers_after:%')", [], |r| {
            r.get(0)
        })
        .unwrap();
    (rows, marked)
}

/// Every linked account with its cluster, and every cluster's counts.
fn links(data_dir: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(data_dir.join("riskdesk.db")).unwrap();
    c.prepare(
        "SELECT 'a|' || customer_id || '|' || cluster_id || '|' || fraud || '|' || chargeback FROM account_links \
         UNION ALL SELECT 'c|' || cluster_id || '|' || size || '|' || fraud_accounts || '|' || chargeback_accounts \
         FROM clusters ORDER BY 1",
    )
    .unwrap()
    .query_map([], |r| r.get(0))
    .unwrap()
    .collect::<Result<Vec<String>, _>>()
    .unwrap()
}

fn stored_orders(data_dir: &Path) -> i64 {
    let Ok(c) =
        rusqlite::Connection::open_with_flags(data_dir.join("riskdesk.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    c.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0)).unwrap_or(0)
}

/// Entity uses in the index, and entity keys the stored orders hold (17 bytes each).
fn entity_uses(data: &Path) -> (i64, i64) {
    let c = rusqlite::Connection::open(data.join("riskdesk.db")).unwrap();
    c.query_row(
        "SELECT (SELECT COUNT(*) FROM order_entities), (SELECT COALESCE(SUM(length(entities)), 0) / 17 FROM orders)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// A bulk import keeps customer profiles and entity uses in memory until its end: killed
/// half-way, the next start writes them from the stored orders, and finishing the file gives
/// the profiles, entity index and clusters a load that was never interrupted gives.
#[test]
fn a_bulk_import_killed_half_way_loses_no_customer_profile_or_entity_use() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    run_ok(&["demo", "--customers", "2000", "--orders", "60000", "--export", export.to_str().unwrap()], dir.path());
    let file = export.join("orders.jsonl");
    let file = file.to_str().unwrap();

    let clean = dir.path().join("clean");
    run_ok(&["import", "orders", file, "--bulk", "on", "--no-progress"], &clean);
    let (expected, marked) = customers(&clean);
    assert!(expected.len() >= 2000, "{} accounts", expected.len());
    assert!(!marked);
    let linked = links(&clean);
    assert!(linked.len() > 100, "the demo's rings link accounts: {}", linked.len());
    let (indexed, held) = entity_uses(&clean);
    assert!(indexed > 6 * 60000 && indexed == held, "{indexed} uses indexed of {held}");

    let data = dir.path().join("killed");
    let mut child = bin()
        .args(["import", "orders", file, "--bulk", "on", "--batch-size", "500", "--no-progress", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_orders(&data) < 5000 {
        assert!(Instant::now() < deadline, "the import stored nothing");
        assert!(child.try_wait().unwrap().is_none(), "the import ended before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let _ = child.wait();
    let stored = stored_orders(&data);
    assert!(stored < 60000, "the kill came too late to test anything ({stored} orders stored)");
    let (rows, marked) = customers(&data);
    assert!(marked, "the killed load left its marker");
    let (indexed, held) = entity_uses(&data);
    assert!(indexed < held, "the killed load's uses were still held in memory: {indexed} of {held}");

    // Any command that opens the store writes the missing profiles.
    run_ok(&["apikey", "list"], &data);
    let (rows_after, marked) = customers(&data);
    assert!(!marked);
    assert!(rows_after.len() > rows.len(), "{} profiles before, {} after", rows.len(), rows_after.len());
    let c = rusqlite::Connection::open(data.join("riskdesk.db")).unwrap();
    let orphans: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM customers)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "every stored order's account has its profile");
    let (indexed, held) = entity_uses(&data);
    assert_eq!(indexed, held, "every stored order's entity uses are indexed");

    let out = run_ok(&["import", "orders", file, "--bulk", "on", "--no-progress"], &data);
    assert!(out.contains(&format!("duplicates skipped {stored}")), "{out}");
    assert_eq!(customers(&data), (expected, false));
    assert_eq!(links(&data), linked, "the accounts are linked as by a load never interrupted");
    assert_eq!(entity_uses(&data), entity_uses(&clean));
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

fn run_err(args: &[&str], data_dir: &Path) -> String {
    let out = bin().args(args).arg("--data-dir").arg(data_dir).output().expect("run riskdesk");
    assert!(!out.status.success(), "riskdesk {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn rules_and_lists_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A demo history with ground truth, loaded without serving.
    run_ok(&["demo", "--customers", "300", "--orders", "3000", "--no-serve"], &data);

    // Validation names file position, rule, line and column, and fails.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rule]]\nid = \"r\"\nname = \"r\"\nexpression = 'order.amount > 10.0 && velocity.count(\"device\", \"2w\") > 1'\naction = \"review\"\n").unwrap();
    let err = run_err(&["rules", "validate", bad.to_str().unwrap()], &data);
    assert!(err.contains("bad.toml:4:63: rule `r`, line 1, column 49: window \"2w\" has an unknown unit"), "{err}");

    // The starter pack validates; a stricter copy is backtested beside it and published.
    let pack =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/starter-fashion.toml")).unwrap();
    let strict = dir.path().join("strict.toml");
    std::fs::write(&strict, pack.replace("review_at = 50", "review_at = 30")).unwrap();
    let out = run_ok(&["rules", "validate", strict.to_str().unwrap()], &data);
    assert!(out.contains("valid,"), "{out}");
    let out = run_ok(&["rules", "backtest", strict.to_str().unwrap()], &data);
    assert!(out.contains("| planted pattern |") && out.contains("| card_testing |"), "{out}");
    assert!(out.contains("newly flagged"), "{out}");
    let out = run_ok(&["rules", "publish", strict.to_str().unwrap(), "--note", "stricter"], &data);
    assert!(out.contains("published version 2"), "{out}");
    let out = run_ok(&["rules", "list"], &data);
    assert!(out.contains("   2  live"), "{out}");
    let out = run_ok(&["rules", "rollback"], &data);
    assert!(out.contains("version 1 is live"), "{out}");

    // Lists: a bad import names its lines and stores nothing.
    let csv = dir.path().join("lists.csv");
    std::fs::write(&csv, "list,kind,value,reason\nblock,email,ok@example.com,ring\nblock,bin,12,short\n").unwrap();
    let err = run_err(&["lists", "import", csv.to_str().unwrap()], &data);
    assert!(err.contains("line 3: value: a BIN is 6 to 8 digits"), "{err}");
    assert!(run_ok(&["lists", "show"], &data).trim().is_empty());
    std::fs::write(&csv, "list,kind,value,reason\nblock,email,ok@example.com,ring\n").unwrap();
    assert!(run_ok(&["lists", "import", csv.to_str().unwrap()], &data).contains("imported 1 entries"));

    // Offline scoring of a file with a rule file: no database involved.
    let orders = dir.path().join("o.jsonl");
    let line = |id: &str, min: u32| {
        json!({"order_id": id, "placed_at": format!("2026-01-01T10:{min:02}:00Z"), "customer": {"customer_id": id},
               "total": {"amount": "10.00", "currency": "EUR"}, "payment": {"method": "card"},
               "device": {"device_id": "shared"}})
        .to_string()
    };
    std::fs::write(&orders, [line("A", 1), line("B", 2), line("C", 3), "{broken".into()].join("\n")).unwrap();
    let rules = dir.path().join("v.toml");
    std::fs::write(&rules, "[[rule]]\nid = \"burst\"\nname = \"b\"\nexpression = 'velocity.count(\"device\", \"1h\") >= 3'\naction = \"review\"\n").unwrap();
    let out = bin()
        .args(["score", orders.to_str().unwrap(), "--rules", rules.to_str().unwrap()])
        .arg("--data-dir")
        .arg(dir.path().join("none"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decisions: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let verdicts: Vec<&str> = decisions.iter().map(|d| d["decision"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["approve", "approve", "review"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 lines rejected"));
    assert!(!dir.path().join("none").exists(), "scoring with --rules touches no database");
}

fn verify(data: &Path) -> (bool, String) {
    let out = bin().args(["audit", "verify", "--data-dir"]).arg(data).output().expect("run riskdesk");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `riskdesk audit verify` finds an edited, a deleted and an inserted row; the tests tamper
/// with the SQLite file directly, as someone with access to the database could.
#[test]
fn audit_verify_detects_edited_deleted_and_inserted_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (name, role) in [("ana", "fraud_analyst"), ("ben", "risk_expert"), ("cat", "auditor"), ("dan", "team_lead")] {
        let out = run_ok(&["user", "add", name, "--role", role], &data);
        assert!(out.contains("password (shown once)"), "{out}");
    }
    let bad_role = bin().args(["user", "add", "eve", "--role", "root", "--data-dir"]).arg(&data).output().unwrap();
    assert!(!bad_role.status.success());
    let (ok, out) = verify(&data);
    assert!(ok && out.contains("audit log intact: 4 records"), "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = data.join("riskdesk.db");
    let exec = |sql: &str| {
        let url = format!("sqlite://{}", db.display());
        rt.block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
            pool.close().await;
        });
    };

    // Edited: the subject of record 2 changed.
    exec("UPDATE audit_log SET subject = 'user:mallory' WHERE seq = 2");
    let (ok, out) = verify(&data);
    assert!(!ok && out.contains("\"problem\":\"bad_hash\",\"seq\":2"), "{out}");
    exec("UPDATE audit_log SET subject = 'user:ben' WHERE seq = 2");
    assert!(verify(&data).0, "restoring the row restores the chain");

    // Deleted: record 3 is gone.
    exec("CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = 3");
    exec("DELETE FROM audit_log WHERE seq = 3");
    let (ok, out) = verify(&data);
    assert!(!ok && out.contains("\"problem\":\"gap\",\"after\":2,\"next\":4"), "{out}");
    assert!(out.contains("\"problem\":\"broken_link\",\"seq\":4"), "{out}");
    exec("INSERT INTO audit_log SELECT * FROM saved");
    assert!(verify(&data).0);

    // An anchor taken now detects a later truncation that moves the head back consistently.
    let (ok, out) = verify(&data);
    assert!(ok, "{out}");
    let anchor = out.lines().find_map(|l| l.strip_prefix("anchor: ")).unwrap().to_owned();
    assert!(anchor.starts_with("4:"), "{anchor}");

    // Deleted at the end: the head still names record 4.
    exec("DELETE FROM saved");
    exec("INSERT INTO saved SELECT * FROM audit_log WHERE seq = 4");
    exec("DELETE FROM audit_log WHERE seq = 4");
    let (ok, out) = verify(&data);
    assert!(!ok && out.contains("\"problem\":\"head\""), "{out}");
    // ... and with the head moved back to record 3, only the anchor tells.
    exec("UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)");
    assert!(verify(&data).0, "a consistent truncation passes without an anchor");
    let anchored = bin().args(["audit", "verify", "--anchor", &anchor, "--data-dir"]).arg(&data).output().unwrap();
    assert!(!anchored.status.success(), "{}", String::from_utf8_lossy(&anchored.stdout));
    exec("INSERT INTO audit_log SELECT * FROM saved");
    exec("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)");
    assert!(verify(&data).0);
    let anchored = bin().args(["audit", "verify", "--anchor", &anchor, "--data-dir"]).arg(&data).output().unwrap();
    assert!(anchored.status.success());

    // Inserted: a forged record appended, head moved along; without the key its hash is wrong.
    exec(
        "INSERT INTO audit_log (seq, at, actor, action, subject, purpose, request_id, detail, flagged, prev_hash, hash) \
         SELECT 5, at, 'user:mallory', 'user.create', 'user:mallory', NULL, NULL, '{}', 0, hash, randomblob(32) \
         FROM audit_log WHERE seq = 4",
    );
    exec("UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_log WHERE seq = 5)");
    let (ok, out) = verify(&data);
    assert!(!ok && out.contains("\"problem\":\"bad_hash\",\"seq\":5"), "{out}");
    // Inserted in the middle, renumbering what follows: the links break.
    exec("DELETE FROM audit_log WHERE seq = 5");
    exec("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)");
    assert!(verify(&data).0);
    exec("UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3");
    exec("UPDATE audit_log SET seq = seq - 9 WHERE seq >= 13");
    exec(
        "INSERT INTO audit_log (seq, at, actor, action, subject, purpose, request_id, detail, flagged, prev_hash, hash) \
         SELECT 3, at, 'user:mallory', 'personal_data.unmask', 'order:o1', 'x', NULL, '{}', 0, hash, randomblob(32) \
         FROM audit_log WHERE seq = 2",
    );
    exec("UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_log WHERE seq = 5)");
    let (ok, out) = verify(&data);
    assert!(
        !ok && out.contains("\"problem\":\"bad_hash\",\"seq\":3")
            && out.contains("\"problem\":\"broken_link\",\"seq\":4"),
        "{out}"
    );
}

#[test]
fn an_out_of_range_entity_tail_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .env("RISKDESK_SQLITE__ENTITY_TAIL_USES", "5")
        .args(["apikey", "list", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run riskdesk");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sqlite.entity_tail_uses must be between 1000 and 100000000"), "{err}");
    assert!(!dir.path().join("riskdesk.db").exists(), "nothing opened before the configuration is valid");
}
