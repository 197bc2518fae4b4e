//! An erasure killed mid-way (kill -9 of the real binary running `riskdesk privacy jobs`) goes on
//! from its last committed batch: afterwards every record has exactly one outcome and no
//! personal value of the person is left outside the restricted vault.

use riskdesk_domain::Role;
use riskdesk_server::app;
use riskdesk_server::config::{Config, Overrides};
use riskdesk_service::audit::Actor;
use riskdesk_service::privacy::RequestIn;
use riskdesk_service::{PrivacyIntake, PrivacyWorker};
use riskdesk_store::conformance::order_json;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ORDERS: usize = 8_000;
const EMAIL: &str = "kill.canary@example.org";
const NAME: &str = "Kira Kanarienvogel";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riskdesk"));
    c.env_remove("RISKDESK_DATABASE_URL").env("RUST_LOG", "warn");
    c
}

fn job_state(db: &Path) -> Option<(String, i64)> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    c.query_row("SELECT status, done_rows FROM privacy_jobs WHERE kind = 'erasure'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .ok()
}

/// Tables holding `v` (packed bodies unpacked), the vault aside.
fn holders(db: &Path, v: &str) -> Vec<String> {
    let v = v.to_lowercase();
    crate::privacy::sqlite_texts(db)
        .into_iter()
        .filter(|(t, text)| t != "privacy_vault" && text.to_lowercase().contains(&v))
        .map(|(t, _)| t)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_killed_mid_way_goes_on_from_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join(app::DB_FILE);
    // The person's orders and some of another customer, imported by the binary.
    let file = dir.path().join("orders.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for i in 0..ORDERS {
        let mut o = order_json(&format!("K-{i:05}"), "C-KIRA", i as i64);
        o["customer"]["email"] = EMAIL.into();
        o["customer"]["name"] = NAME.into();
        writeln!(f, "{o}").unwrap();
    }
    for i in 0..200 {
        writeln!(f, "{}", order_json(&format!("O-{i:05}"), "C-OTHER", i as i64)).unwrap();
    }
    drop(f);
    let out = bin().args(["import", "orders"]).arg(&file).arg("--data-dir").arg(&data).output().unwrap();
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));

    // Request, identity, proposal and a second person's approval, on the same data directory.
    let cfg = Config::load(None, &Overrides { data_dir: Some(data.clone()), ..Default::default() }).unwrap();
    let svc = app::open_service(&cfg).await.unwrap();
    let admin = riskdesk_service::access::local::user_admin();
    svc.add_user(&admin, "olaf", "Olaf", Role::PrivacyOfficer, "olaf-password-1").await.unwrap();
    let pia = Actor::user("pia", Role::PrivacyOfficer);
    let r = svc
        .submit_privacy_request(
            &PrivacyIntake::local(pia.clone()),
            RequestIn {
                right: "erasure".into(),
                customer_id: "C-KIRA".into(),
                received_at: svc.now().to_rfc3339(),
                channel: "email".into(),
                details: String::new(),
            },
        )
        .await
        .unwrap();
    let work = PrivacyWorker::local(pia);
    svc.verify_privacy_identity(&work, &r.request_id, "replied from the address on file").await.unwrap();
    svc.propose_privacy_erasure(&work, &r.request_id, "no open claims").await.unwrap();
    let token = svc.login("olaf", "olaf-password-1", "").await.unwrap().unwrap();
    let approver = svc.session(&token.0).await.unwrap().unwrap().approver().unwrap();
    for p in svc.proposals(true).await.unwrap() {
        svc.approve_proposal(&approver, &p.id, &p.payload_hash, None).await.unwrap();
    }
    drop(svc);
    assert_eq!(job_state(&db).map(|s| s.0), Some("queued".into()));

    // Run the job with the binary and kill it once some batches are committed.
    let mut child = bin()
        .args(["privacy", "jobs", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while job_state(&db).is_none_or(|(_, done)| done == 0) {
        assert!(start.elapsed() < Duration::from_secs(120), "the job never committed a batch");
        assert!(child.try_wait().unwrap().is_none(), "the job ended before it could be killed");
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    let (status, done) = job_state(&db).unwrap();
    assert_eq!(status, "running", "the kill came after the job's end");
    assert!(done > 0 && done < ORDERS as i64, "killed mid-way: {done} rows done");
    assert!(!holders(&db, EMAIL).is_empty(), "the killed job had not yet reached every record");

    // The next run goes on from the cursor.
    let out = bin().args(["privacy", "jobs", "--data-dir"]).arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, _) = job_state(&db).unwrap();
    assert_eq!(status, "done");
    let c = rusqlite::Connection::open(&db).unwrap();
    let orders: i64 = c
        .query_row(
            "SELECT count(*) FROM privacy_outcomes WHERE request_id = ?1 AND record_kind = 'order'",
            [&r.request_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orders, ORDERS as i64, "every order has exactly one outcome");
    let left: Vec<String> = holders(&db, EMAIL).into_iter().chain(holders(&db, NAME)).collect();
    assert!(left.is_empty(), "personal values left outside the vault in {left:?}");
    let other: i64 = c.query_row("SELECT count(*) FROM orders WHERE order_id LIKE 'O-%'", [], |r| r.get(0)).unwrap();
    assert_eq!(other, 200, "nobody else's orders were touched");
}
