//! Privacy operations: requests on the statutory clock (duplicates, hostile input named), the
//! access package holding the person's records and nobody else's, and an erasure with four eyes
//! after which no personal value of the person is readable anywhere in the database (every table
//! and column scanned, packed order bodies unpacked) except what a retention class keeps in the
//! restricted vault, while screening still links the person's keyed hashes; both backends.

use crate::common::*;
use crate::desk::add_user;
use axum::http::StatusCode;
use riskdesk_domain::Role;
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use riskdesk_store::conformance::order_json;
use serde_json::{Value, json};

const CANARIES: [&str; 6] = [
    "zoe.canary@example.org",
    "Zoë Kanarienvogel",
    "+4915799887766",
    "Vogelweg 77",
    "198.51.100.77",
    "DE89370400440532013000",
];

async fn token(app: &TestApp, user: &str) -> String {
    app.service.create_token_for(&local::user_admin(), user, "test", None).await.unwrap().secret
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

fn canary_order(id: &str, minutes: i64) -> Value {
    let mut o = order_json(id, "C-ZOE", minutes);
    o["customer"] = json!({"customer_id": "C-ZOE", "email": CANARIES[0], "name": CANARIES[1], "phone": CANARIES[2], "created_at": "2025-01-02T08:00:00Z"});
    o["billing_address"] =
        json!({"name": CANARIES[1], "line1": CANARIES[3], "postal_code": "10115", "city": "Berlin", "country": "DE"});
    o["shipping_address"] = o["billing_address"].clone();
    o["device"] = json!({"device_id": "dev-zoe-1", "ip": CANARIES[4]});
    o["payment"] = json!({"method": "sepa_debit", "iban": CANARIES[5]});
    o
}

async fn received(app: &TestApp, days_ago: i64) -> String {
    (app.service.now() - chrono::Duration::days(days_ago)).to_rfc3339()
}

/// Every text of a SQLite database, as (table, text); packed bodies unpacked.
/// A stored value as the database holds it, before any key is applied.
pub(crate) enum Raw {
    Text(String),
    Bytes(Vec<u8>),
}

/// Every text and blob of a SQLite database, as (table, column, value).
pub(crate) fn sqlite_raw(db: &std::path::Path) -> Vec<(String, String, Raw)> {
    let mut out = Vec::new();
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in tables {
        let mut st = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let names: Vec<String> = st.column_names().iter().map(|n| n.to_string()).collect();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for (i, col) in names.iter().enumerate() {
                let v = match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) => Raw::Text(String::from_utf8_lossy(b).into_owned()),
                    rusqlite::types::ValueRef::Blob(b) => Raw::Bytes(b.to_vec()),
                    _ => continue,
                };
                out.push((t.clone(), col.clone(), v));
            }
        }
    }
    out
}

/// Every non-null value of a PostgreSQL database, as (table, column, value): bytea as bytes,
/// everything else as text.
pub(crate) async fn postgres_raw(url: &str) -> Vec<(String, String, Raw)> {
    use sqlx::Row;
    let mut out = Vec::new();
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    for (t, c, ty) in columns {
        let bytes = ty == "bytea";
        let q = if bytes {
            format!("SELECT \"{c}\" FROM \"{t}\" WHERE \"{c}\" IS NOT NULL")
        } else {
            format!("SELECT CAST(\"{c}\" AS TEXT) FROM \"{t}\" WHERE \"{c}\" IS NOT NULL")
        };
        for r in sqlx::query(sqlx::AssertSqlSafe(q)).fetch_all(&pool).await.unwrap() {
            let v = if bytes { Raw::Bytes(r.get(0)) } else { Raw::Text(r.get(0)) };
            out.push((t.clone(), c.clone(), v));
        }
    }
    out
}

/// Every text of a SQLite database, as (table, text); sealed values opened, bodies unpacked.
pub(crate) fn sqlite_texts(db: &std::path::Path) -> Vec<(String, String)> {
    sqlite_raw(db).into_iter().map(|(t, c, v)| (t.clone(), reveal(&t, &c, v))).collect()
}

/// A stored value as a reader with the keys sees it: sealed values opened, bodies unpacked (the
/// scans look for personal values that are still there, sealed or not).
fn reveal(table: &str, column: &str, v: Raw) -> String {
    match v {
        Raw::Text(text) => riskdesk_store::seal::ring()
            .open_text(&format!("{table}.{column}"), &text)
            .map(|t| t.into_owned())
            .unwrap_or(text),
        Raw::Bytes(b) => reveal_bytes(&b),
    }
}

/// A stored blob opened and unpacked where it is a body.
pub(crate) fn reveal_bytes(b: &[u8]) -> String {
    riskdesk_store::body::unpack(b).map(|s| s.into_owned()).unwrap_or_else(|_| String::from_utf8_lossy(b).into_owned())
}

/// Every text in the database, as (table, text); sealed values opened, packed bodies unpacked.
async fn every_value(app: &TestApp) -> Vec<(String, String)> {
    match &app._guard {
        Guard::Dir(dir) => sqlite_texts(&dir.path().join("db")),
        Guard::Pg(db) => {
            postgres_raw(&db.url).await.into_iter().map(|(t, c, v)| (t.clone(), reveal(&t, &c, v))).collect()
        }
        Guard::None => panic!("no database to scan"),
    }
}

fn holds(text: &str, v: &str) -> bool {
    text.to_lowercase().contains(&v.to_lowercase())
}

both_backends!(requests_on_the_statutory_clock, |app: TestApp| async move {
    let key = app.service.create_api_key("portal", &[Scope::Privacy]).await.unwrap().secret;
    app.post("/api/v1/orders", &canary_order("Z-1", 1)).await;
    // Received 31 January in Berlin: due the last day of February.
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-02-10T10:00:00Z").unwrap().to_utc());
    let body = json!({"right": "access", "customer_id": "C-ZOE", "received_at": "2026-01-31T09:00:00+01:00", "channel": "email"});
    let (s, r) = call(&app, &key, "POST", "/api/v1/privacy/requests", Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!((r["status"].as_str(), r["due_on"].as_str()), (Some("received"), Some("2026-02-28")), "{r}");
    let id = r["request_id"].as_str().unwrap().to_owned();
    assert!(r["case_id"].as_str().is_some_and(|c| !c.is_empty()));
    let case = app.service.store().case(r["case_id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(case.kind, "privacy_request");
    // The same request again joins the open one.
    let (s, d) = call(&app, &key, "POST", "/api/v1/privacy/requests", Some(body)).await;
    assert_eq!(
        (s, d["request_id"].as_str(), d["duplicate"].as_bool()),
        (StatusCode::OK, Some(id.as_str()), Some(true))
    );
    let (s, g) = call(&app, &key, "GET", &format!("/api/v1/privacy/requests/{id}"), None).await;
    assert_eq!(
        (s, g["due_on"].as_str(), g["duplicates"].as_i64()),
        (StatusCode::OK, Some("2026-02-28"), Some(1)),
        "{g}"
    );
    // 15 March → 15 April.
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-03-20T10:00:00Z").unwrap().to_utc());
    let (_, r) = call(&app, &key, "POST", "/api/v1/privacy/requests",
        Some(json!({"right": "erasure", "customer_id": "C-ZOE", "received_at": "2026-03-15T12:00:00+01:00", "channel": "api"}))).await;
    assert_eq!(r["due_on"], "2026-04-15", "{r}");
    // Hostile input names the field and stores nothing.
    for (b, field) in [
        (
            json!({"right": "forget", "customer_id": "C-1", "received_at": "2026-03-01T00:00:00Z", "channel": "api"}),
            "right",
        ),
        (
            json!({"right": "access", "customer_id": "", "received_at": "2026-03-01T00:00:00Z", "channel": "api"}),
            "customer_id",
        ),
        (json!({"right": "access", "customer_id": "C-1", "received_at": "yesterday", "channel": "api"}), "received_at"),
        (
            json!({"right": "access", "customer_id": "C-1", "received_at": "2027-03-01T00:00:00Z", "channel": "api"}),
            "received_at",
        ),
        (
            json!({"right": "access", "customer_id": "C-1", "received_at": "2026-03-01T00:00:00Z", "channel": "pigeon"}),
            "channel",
        ),
    ] {
        let (s, e) = call(&app, &key, "POST", "/api/v1/privacy/requests", Some(b)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
    let (_, all) = call(&app, &key, "GET", "/api/v1/privacy/requests?all=true&customer_id=C-1", None).await;
    assert_eq!(all["requests"].as_array().unwrap().len(), 0);
    // Extension within the first month, with a reason; the clock pauses for identity.
    add_user(&app, "pia", Role::PrivacyOfficer).await;
    let pia = token(&app, "pia").await;
    let erasure = r["request_id"].as_str().unwrap();
    let (s, e) = call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/requests/{erasure}/extend"),
        Some(json!({"months": 2, "reason": "many systems to search"})),
    )
    .await;
    assert_eq!(
        (s, e["due_on"].as_str(), e["status"].as_str()),
        (StatusCode::OK, Some("2026-06-15"), Some("extended")),
        "{e}"
    );
    let (s, _) = call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/requests/{erasure}/extend"),
        Some(json!({"months": 1, "reason": "still more systems"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A machine key cannot work requests; an auditor reads but does not act.
    let (s, _) = call(
        &app,
        &key,
        "POST",
        &format!("/api/v1/privacy/requests/{erasure}/refuse"),
        Some(json!({"text": "no reason at all here"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

both_backends!(access_package_and_erasure_with_four_eyes, |app: TestApp| async move {
    add_user(&app, "pia", Role::PrivacyOfficer).await;
    add_user(&app, "olaf", Role::PrivacyOfficer).await;
    let (pia, olaf) = (token(&app, "pia").await, token(&app, "olaf").await);
    for (i, id) in ["Z-1", "Z-2", "Z-3"].iter().enumerate() {
        let (s, d) = app.post("/api/v1/orders", &canary_order(id, i as i64 + 1)).await;
        assert_eq!(s, StatusCode::OK, "{d}");
    }
    // Someone else, sharing nothing.
    app.post("/api/v1/orders", &order_json("O-9", "C-OTHER", 5)).await;
    let (s, e) = app
        .post(
            "/api/v1/events",
            &json!({"event_id": "E-Z1", "type": "email_changed", "occurred_at": app.service.now().to_rfc3339(),
        "customer_id": "C-ZOE", "data": {"old_email": CANARIES[0], "new_email": "zoe.new@example.org"}}),
        )
        .await;
    assert!(s.is_success(), "{e}");
    // A closed case whose note names her, and a handling transcript.
    let (_, r) = app.post("/api/v1/orders", &canary_order("Z-4", 9)).await;
    let _ = r;
    let cap = riskdesk_service::CaseOpener::local(riskdesk_service::Actor::cli());
    let opened = app
        .service
        .open_case(
            &cap,
            riskdesk_service::cases::OpenCase {
                kind: "tier2_escalation".into(),
                title: format!("Caller {} disputes a parcel", CANARIES[1]),
                description: format!("Reach her at {}", CANARIES[2]),
                customer_id: Some("C-ZOE".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let _ = opened;

    // Access: the package holds her records and nobody else's.
    let (_, r) = call(&app, &pia, "POST", "/api/v1/privacy/requests",
        Some(json!({"right": "access", "customer_id": "C-ZOE", "received_at": received(&app, 1).await, "channel": "email"}))).await;
    let access = r["request_id"].as_str().unwrap().to_owned();
    let (s, _) = call(&app, &pia, "POST", &format!("/api/v1/privacy/requests/{access}/export"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "identity first");
    let (s, v) = call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/requests/{access}/identity"),
        Some(json!({"method": "staff", "evidence": "call-back to the number on file"})),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("in_progress")), "{v}");
    let (s, _) = call(&app, &pia, "POST", &format!("/api/v1/privacy/requests/{access}/export"), None).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    app.service.run_privacy_jobs().await.unwrap();
    let (s, pkg) = call(&app, &pia, "GET", &format!("/api/v1/privacy/requests/{access}/export"), None).await;
    assert_eq!(s, StatusCode::OK, "{pkg}");
    let orders: Vec<&str> =
        pkg["data"]["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap()).collect();
    assert_eq!(orders, ["Z-1", "Z-2", "Z-3", "Z-4"]);
    let text = pkg.to_string();
    assert!(text.contains(CANARIES[0]) && text.contains("E-Z1") && text.contains("disputes a parcel"), "{text}");
    assert!(!text.contains("C-OTHER") && !text.contains("O-9"), "nobody else's data");
    assert!(pkg["data"]["customer"][0]["email"] == CANARIES[0]);
    // The same package as a readable report for the person.
    let b = crate::desk::sign_in(&app, "pia").await;
    let page = b.get(&app, &format!("/privacy/requests/{access}/report")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Your orders") && page.body.contains("Z-3") && page.body.contains(CANARIES[0]),
        "{}",
        page.body
    );
    assert!(!page.body.contains("C-OTHER"), "nobody else's data in the report");
    // Releasing it is a four-eye decision.
    let (s, p) = call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/requests/{access}/release"),
        Some(json!({"text": "checked"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let proposal = p["proposal_id"].as_str().unwrap().to_owned();
    let (_, pp) = call(&app, &olaf, "GET", &format!("/api/v1/proposals/{proposal}"), None).await;
    let hash = pp["payload_hash"].as_str().unwrap().to_owned();
    let (s, _) =
        call(&app, &pia, "POST", &format!("/api/v1/proposals/{proposal}/approve"), Some(json!({"payload_hash": hash})))
            .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "not the maker");
    let (s, e) = call(
        &app,
        &olaf,
        "POST",
        &format!("/api/v1/proposals/{proposal}/approve"),
        Some(json!({"payload_hash": hash})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, g) = call(&app, &pia, "GET", &format!("/api/v1/privacy/requests/{access}"), None).await;
    assert_eq!(g["status"], "completed", "{g}");

    // Erasure, with four eyes.
    let (_, r) = call(&app, &pia, "POST", "/api/v1/privacy/requests",
        Some(json!({"right": "erasure", "customer_id": "C-ZOE", "received_at": received(&app, 1).await, "channel": "email"}))).await;
    let erasure = r["request_id"].as_str().unwrap().to_owned();
    call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/requests/{erasure}/identity"),
        Some(json!({"method": "staff", "evidence": "order details confirmed by phone"})),
    )
    .await;
    let (s, plan) = call(&app, &pia, "GET", &format!("/api/v1/privacy/requests/{erasure}/plan"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(plan.to_string().contains("restricted") && plan.to_string().contains("erased"), "{plan}");
    let (s, p) = call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/requests/{erasure}/erasure"),
        Some(json!({"text": "no open claims"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    app.service.run_privacy_jobs().await.unwrap();
    assert!(every_value(&app).await.iter().any(|(_, v)| holds(v, CANARIES[0])), "nothing erased before the approval");
    let proposal = p["proposal_id"].as_str().unwrap().to_owned();
    let (_, pp) = call(&app, &olaf, "GET", &format!("/api/v1/proposals/{proposal}"), None).await;
    let (s, e) = call(
        &app,
        &olaf,
        "POST",
        &format!("/api/v1/proposals/{proposal}/approve"),
        Some(json!({"payload_hash": pp["payload_hash"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    app.service.run_privacy_jobs().await.unwrap();
    let (_, g) = call(&app, &pia, "GET", &format!("/api/v1/privacy/requests/{erasure}"), None).await;
    assert_eq!(g["status"], "partly_withheld", "orders are commercial letters: {g}");
    let outcomes = g["outcomes"].as_array().unwrap();
    assert!(
        outcomes.iter().any(|o| o["record_kind"] == "order"
            && o["outcome"] == "restricted"
            && o["until"].as_str().is_some_and(|u| u.ends_with("-12-31"))),
        "{g}"
    );
    assert!(outcomes.iter().any(|o| o["record_kind"] == "customer" && o["outcome"] == "erased"), "{g}");
    assert!(!g["notifications"].as_array().unwrap().is_empty(), "Art. 19 records");

    // No value of hers is readable anywhere but in the restricted vault, and in the case that
    // is still open (kept as evidence while it is, Art. 17(3)(e)).
    let held: Vec<&str> =
        outcomes.iter().filter(|o| o["outcome"] == "held").map(|o| o["record_id"].as_str().unwrap()).collect();
    assert!(held.is_empty() || outcomes.iter().any(|o| o["record_kind"] == "case" && o["outcome"] == "held"), "{g}");
    for (table, text) in every_value(&app).await {
        for c in CANARIES {
            if holds(&text, c) {
                let in_held_case = matches!(table.as_str(), "cases" | "case_events") && !held.is_empty();
                assert!(
                    table == "privacy_vault" || in_held_case,
                    "{c} left in {table}: {}",
                    text.chars().take(300).collect::<String>()
                );
            }
        }
    }
    // The other customer is untouched.
    let other =
        app.service.store().get_order(&riskdesk_domain::OrderId::parse("O-9", "o").unwrap()).await.unwrap().unwrap();
    assert_eq!(other.order.customer.email.as_ref().map(|e| e.as_str()), Some("C-OTHER@example.com"));
    // Screening still links her keyed hashes: a new account on her device is linked to her.
    let mut o = order_json("N-1", "C-NEW", 20);
    o["device"] = json!({"device_id": "dev-zoe-1", "ip": "192.0.2.1"});
    app.post("/api/v1/orders", &o).await;
    let links = app
        .service
        .linked_accounts(&local::read(), &riskdesk_domain::CustomerId::parse("C-NEW", "c").unwrap())
        .await
        .unwrap();
    assert!(
        links.iter().any(|(_, uses)| uses.iter().any(|u| u.customer_id.as_str() == "C-ZOE")),
        "linked through the pseudonymised device"
    );
    // The restricted values are read only for a legal-hold purpose, audited.
    let vault = outcomes.iter().find(|o| o["outcome"] == "restricted").unwrap();
    let vid = format!("{erasure}:{}:{}", vault["record_kind"].as_str().unwrap(), vault["record_id"].as_str().unwrap());
    let (s, _) =
        call(&app, &pia, "POST", &format!("/api/v1/privacy/vault/{vid}/read"), Some(json!({"purpose": "x"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/vault/{vid}/read"),
        Some(json!({"purpose": "tax audit 2026, legal hold"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["kept"].to_string().contains("Kanarienvogel") || v["kept"].to_string().contains(CANARIES[0]), "{v}");
    // A sweep runs, honours the vault's dates, and is recorded.
    let (s, j) = call(&app, &pia, "POST", "/api/v1/privacy/sweeps", None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{j}");
    app.service.run_privacy_jobs().await.unwrap();
    let (_, d) = call(&app, &pia, "GET", "/api/v1/privacy/dashboard", None).await;
    assert_eq!(d["sweeps"][0]["status"], "done", "{d}");
});

both_backends!(breach_register_and_records, |app: TestApp| async move {
    add_user(&app, "pia", Role::PrivacyOfficer).await;
    add_user(&app, "aud", Role::Auditor).await;
    let (pia, aud) = (token(&app, "pia").await, token(&app, "aud").await);
    let (s, b) = call(
        &app,
        &pia,
        "POST",
        "/api/v1/privacy/breaches",
        Some(json!({"title": "Export mailed to a wrong address", "people_affected": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["authority_clock"]["state"], "running");
    let id = b["breach_id"].as_str().unwrap();
    let (s, _) =
        call(&app, &pia, "POST", &format!("/api/v1/privacy/breaches/{id}/phases"), Some(json!({"phase": "closed"})))
            .await;
    assert_eq!(s, StatusCode::CONFLICT, "assess first");
    let (s, v) = call(
        &app,
        &pia,
        "POST",
        &format!("/api/v1/privacy/breaches/{id}/phases"),
        Some(json!({"phase": "assessed", "risk": "unlikely", "text": "encrypted attachment"})),
    )
    .await;
    assert_eq!((s, v["authority_clock"]["state"].as_str()), (StatusCode::OK, Some("not_required")), "{v}");
    let (s, _) = call(&app, &aud, "POST", "/api/v1/privacy/breaches", Some(json!({"title": "x"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "auditors read only");
    let (s, r) = call(&app, &aud, "GET", "/api/v1/privacy/records", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        r["retention"].as_array().unwrap().iter().any(|x| x["kind"] == "order" && x["class"] == "commercial_letter"),
        "{r}"
    );
    let (s, _) = call(&app, &pia, "POST", "/api/v1/privacy/breaches", Some(json!({"title": ""}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
});
