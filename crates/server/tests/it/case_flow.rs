//! Cases beyond one case's life: reports that join one case, the SLA watch, screening's own
//! cases, the order-flow monitor, attachments, and the shell.

use crate::cases::{call, team, time};
use crate::common::*;
use crate::desk::{add_user, enc, order_of, sign_in, submit, use_review_set};
use axum::http::StatusCode;
use chrono::Duration;
use riskdesk_domain::Role;
use riskdesk_service::access::local;
use riskdesk_service::audit::AuditFilter;
use serde_json::json;

async fn token(app: &TestApp, user: &str) -> String {
    crate::cases::token(app, user).await
}

both_backends!(reports_join_one_case_and_reporters_see_the_outcome, |app: TestApp| async move {
    let t = team(&app).await;
    let report = json!({"subject_kind": "order", "subject_id": "O-77", "reason": "Caller knew the order number only"});
    let (s, first) = call(&app, &t.tia, "POST", "/api/v1/reports", Some(report.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let (s, second) = call(
        &app,
        &t.ana,
        "POST",
        "/api/v1/reports",
        Some(json!({"subject_kind": "order", "subject_id": "O-77", "reason": "Same device as a fraud account"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{second}");
    assert_eq!((second["case_id"].clone(), second["joined"].clone()), (first["case_id"].clone(), json!(true)));
    let (s, e) = call(
        &app,
        &t.tia,
        "POST",
        "/api/v1/reports",
        Some(json!({"subject_kind": "planet", "subject_id": "x", "reason": "r"})),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("subject_kind")), "{e}");
    let (s, e) = call(
        &app,
        &t.tia,
        "POST",
        "/api/v1/reports",
        Some(json!({"subject_kind": "order", "subject_id": "O-1", "reason": ""})),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{e}");

    let id = first["case_id"].as_str().unwrap();
    // Another case linking the same order shows up as "seen in other cases".
    let (_, other) = call(
        &app,
        &t.ana,
        "POST",
        "/api/v1/cases",
        Some(json!({"kind": "fraud_investigation", "title": "Ring", "order_ids": ["O-77"]})),
    )
    .await;
    let (_, full) = call(&app, &t.ana, "GET", &format!("/api/v1/cases/{id}"), None).await;
    let seen = &full["links"][0]["other_cases"];
    assert_eq!(seen[0]["id"], other["case_id"], "{full}");
    // Resolve it; the reporter sees the outcome and nothing more.
    let (_, tasks) = call(&app, &t.ana, "GET", &format!("/api/v1/cases/{id}/tasks"), None).await;
    for task in tasks["tasks"].as_array().unwrap() {
        call(
            &app,
            &t.ana,
            "POST",
            &format!("/api/v1/cases/{id}/tasks/{}", task["id"].as_str().unwrap()),
            Some(json!({"status": "done"})),
        )
        .await;
    }
    let (s, _) = call(
        &app,
        &t.ana,
        "POST",
        &format!("/api/v1/cases/{id}/transition"),
        Some(json!({"to": "resolved", "resolution": "confirmed_fraud", "summary": "Ring of three accounts; blocked."})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, mine) = call(&app, &t.tia, "GET", "/api/v1/reports/mine", None).await;
    let r = &mine["reports"][0];
    assert_eq!((r["case_id"].as_str(), r["resolution"].as_str()), (Some(id), Some("Confirmed fraud")), "{mine}");
    assert!(r.get("summary").is_none(), "the reporter does not read the case's summary");
    // A new report about the same order after resolution opens a new case.
    let (s, third) = call(&app, &t.tia, "POST", "/api/v1/reports", Some(report)).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_ne!(third["case_id"], first["case_id"]);
});

both_backends!(the_sla_watch_warns_then_escalates_to_a_team_lead, |app: TestApp| async move {
    let t = team(&app).await;
    let (_, c) = call(
        &app,
        &t.ana,
        "POST",
        "/api/v1/cases",
        Some(json!({"kind": "account_takeover", "title": "Urgent ATO", "priority": "urgent"})),
    )
    .await;
    let id = c["case_id"].as_str().unwrap().to_owned();
    assert_eq!(time(&c["sla"]["resolution_due_at"]), t0() + Duration::hours(24), "urgent runs around the clock");
    assert_eq!(app.service.sweep_case_slas().await.unwrap().warned, 0);
    app.clock.advance(Duration::hours(20));
    let s = app.service.sweep_case_slas().await.unwrap();
    assert_eq!((s.warned, s.escalated), (1, 0));
    app.clock.advance(Duration::hours(5));
    let s = app.service.sweep_case_slas().await.unwrap();
    assert_eq!((s.warned, s.escalated), (0, 1));
    assert_eq!(app.service.sweep_case_slas().await.unwrap().escalated, 0, "escalated once");
    let (_, case) = call(&app, &t.ana, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(case["owner"], "lea");
    assert_eq!(case["sla"]["resolution"], "breached");
    assert!(case["sla"]["time_left_secs"].as_i64().unwrap() < 0);
    // The queue sorts by time left: the breached case before a fresh one.
    call(&app, &t.ana, "POST", "/api/v1/cases", Some(json!({"kind": "dispute", "title": "Fresh"}))).await;
    let (_, list) = call(&app, &t.lea, "GET", "/api/v1/cases", None).await;
    assert_eq!(list["cases"][0]["case_id"], id.as_str());
    let (_, mine) = call(&app, &t.lea, "GET", "/api/v1/cases?owner=me", None).await;
    assert_eq!(mine["total"], 1);
});

both_backends!(screening_opens_one_case_per_customer, |app: TestApp| async move {
    use_review_set(&app).await;
    let mut s = app.service.settings();
    s.cases = riskdesk_service::cases::CasesConfig { auto_open_score: 1, ..Default::default() }.resolve().unwrap();
    app.service.set_settings(s);
    add_user(&app, "ana", Role::FraudAnalyst).await;
    let ana = token(&app, "ana").await;
    submit(&app, &order_of("S-1", "C-50", "300.00", 1)).await;
    submit(&app, &order_of("S-2", "C-50", "320.00", 2)).await;
    // Opening runs after the answer; wait for it (bounded) rather than assume its timing.
    let mut list = json!({});
    for _ in 0..100 {
        list = call(&app, &ana, "GET", "/api/v1/cases?kind=fraud_investigation", None).await.1;
        if let Some(id) = list["cases"][0]["case_id"].as_str() {
            let (_, full) = call(&app, &ana, "GET", &format!("/api/v1/cases/{id}"), None).await;
            if full["links"].as_array().unwrap().len() == 3 {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected one case with the customer and both orders: {list}");
});

both_backends!(the_order_flow_monitor_finds_exceptions_and_opens_their_cases, |app: TestApp| async move {
    let t = team(&app).await;
    use_review_set(&app).await;
    let at = |h: i64| (t0() + Duration::hours(h)).to_rfc3339();
    let event = |id: &str, ty: &str, order: &str, customer: &str, h: i64| json!({"event_id": id, "type": ty, "occurred_at": at(h), "order_id": order, "customer_id": customer, "data": {}});
    // Paid five days ago and never shipped; paid and shipped; shipped after an address change.
    submit(&app, &order_of("X-1", "C-1", "50.00", -24 * 60 * 6)).await;
    submit(&app, &order_of("X-2", "C-2", "50.00", -24 * 60 * 6)).await;
    submit(&app, &order_of("X-3", "C-3", "50.00", -24 * 60 * 3)).await;
    for e in [
        event("e1", "payment_authorized", "X-1", "C-1", -24 * 5),
        event("e2", "payment_authorized", "X-2", "C-2", -24 * 5),
        event("e3", "order_shipped", "X-2", "C-2", -24 * 4),
        event("e5", "order_shipped", "X-3", "C-3", -12),
    ] {
        let (s, v) = app.post("/api/v1/events", &e).await;
        assert!(s.is_success(), "{v}");
    }
    let change = json!({"event_id": "e4", "type": "address_changed", "occurred_at": at(-24 * 2), "customer_id": "C-3", "data": {}});
    assert!(app.post("/api/v1/events", &change).await.0.is_success());
    // An order in review whose cut-off passes.
    submit(&app, &order_of("X-4", "C-4", "150.00", 1)).await;
    app.clock.advance(Duration::days(3));

    let (s, v) = call(&app, &t.ana, "GET", "/api/v1/exceptions?paid_days=3", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let found: Vec<(String, String)> = v["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["order_id"].as_str().unwrap().to_owned()))
        .collect();
    for want in [("held_past_cutoff", "X-4"), ("paid_not_shipped", "X-1"), ("shipped_after_address_change", "X-3")] {
        assert!(found.contains(&(want.0.into(), want.1.into())), "{want:?} in {found:?}");
    }
    assert!(!found.iter().any(|(_, o)| o == "X-2"), "a shipped order is no exception: {found:?}");
    let (s, e) = call(&app, &t.ana, "GET", "/api/v1/exceptions?paid_days=0", None).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("paid_days")), "{e}");

    // One case per order and exception, with its hand-off.
    let body = json!({"kind": "paid_not_shipped", "order_id": "X-1", "customer_id": "C-1", "team": "warehouse"});
    let (s, c) = call(&app, &t.ana, "POST", "/api/v1/exceptions/cases", Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, again) = call(&app, &t.ana, "POST", "/api/v1/exceptions/cases", Some(body)).await;
    assert_eq!((s, again["case_id"].clone()), (StatusCode::OK, c["case_id"].clone()));
    let (_, inbox) = call(&app, &t.ana, "GET", "/api/v1/handoffs?team=warehouse", None).await;
    assert_eq!(inbox["handoffs"].as_array().unwrap().len(), 1);
    let page = sign_in(&app, "ana").await.get(&app, "/exceptions?paid_days=3").await;
    assert!(page.body.contains("X-1") && page.body.contains("Shipped after an address change"), "{}", page.body);
});

both_backends!(attachments_are_type_checked_size_limited_and_served_inert, |app: TestApp| async move {
    let t = team(&app).await;
    let (_, c) =
        call(&app, &t.ana, "POST", "/api/v1/cases", Some(json!({"kind": "refund_claim", "title": "Empty box"}))).await;
    let id = c["case_id"].as_str().unwrap().to_owned();
    let up = |name: &str, bytes: Vec<u8>| {
        let path = format!("/api/v1/cases/{id}/attachments?name={}", enc(name));
        let tok = t.ana.clone();
        let app = &app;
        async move { app.call("POST", &path, Some(&tok), Some(bytes)).await }
    };
    let (s, a) = up("parcel photo.png", b"\x89PNG\r\n\x1a\nrest-of-png".to_vec()).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["content_type"], "image/png");
    // A disguised executable, a wrong extension, an empty and an oversized file are refused.
    for (name, bytes, field) in [
        ("invoice.pdf", b"MZ\x90\x00".to_vec(), "file"),
        ("script.html", b"<script>alert(1)</script>".to_vec(), "name"),
        ("empty.txt", Vec::new(), "file"),
    ] {
        let (s, e) = up(name, bytes).await;
        assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{name}: {e}");
    }
    let (s, _) = up("big.txt", vec![b'a'; 5 * 1024 * 1024 + 1]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // A hostile name is reduced to a plain file name; the download is an inert attachment.
    let (s, txt) = up("../../<img src=x onerror=alert(1)>.txt", b"customer wrote: refund me".to_vec()).await;
    assert_eq!(s, StatusCode::CREATED, "{txt}");
    assert_eq!(txt["name"], "<img src=x onerror=alert(1)>.txt");
    let req = axum::http::Request::builder()
        .uri(format!("/api/v1/cases/{id}/attachments/{}", txt["id"].as_str().unwrap()))
        .header("authorization", format!("Bearer {}", t.ben))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    // The case lists them; the page shows the name escaped.
    let (_, full) = call(&app, &t.ben, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(full["timeline"].as_array().unwrap().iter().filter(|e| e["kind"] == "attachment").count(), 2);
    let page = sign_in(&app, "ana").await.get(&app, &format!("/cases/{id}")).await;
    assert!(
        page.body.contains("&#60;img src=x onerror=alert(1)&#62;.txt") && !page.body.contains("<img src=x"),
        "{}",
        page.body
    );
    let audit = app
        .service
        .audit_records(
            &local::audit_reader(),
            &AuditFilter { action: Some("case.attachment.read".into()), limit: 10, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "the download is audited");
});

/// The shell: the real binary opens a case (once per ticket), lists it, saves a playbook.
#[test]
fn cases_and_knowledge_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| riskdesk_in(dir.path(), args);
    let open = [
        "cases",
        "open",
        "--kind",
        "dispute",
        "--title",
        "Chargeback on A-1",
        "--source",
        "psp",
        "--source-ref",
        "CB-1",
    ];
    let (ok, first, e) = run(&open);
    assert!(ok && first.starts_with("opened cas_"), "{first} {e}");
    let (_, again, _) = run(&open);
    assert_eq!(again.trim().trim_start_matches("already open: "), first.split_whitespace().nth(1).unwrap());
    let (ok, list, _) = run(&["cases", "list"]);
    assert!(ok && list.contains("Chargeback on A-1"), "{list}");
    let (ok, _, e) = run(&["cases", "open", "--kind", "nope", "--title", "x"]);
    assert!(!ok && e.contains("kind: must be one of"), "{e}");
    let md = dir.path().join("pb.md");
    std::fs::write(&md, "- [ ] Collect the evidence (mandatory)\n").unwrap();
    let (ok, saved, e) = run(&[
        "knowledge",
        "save",
        "dispute-playbook",
        md.to_str().unwrap(),
        "--kind",
        "playbook",
        "--title",
        "Disputes",
        "--case-kind",
        "dispute",
    ]);
    assert!(ok && saved.contains("version 1"), "{saved} {e}");
    let (ok, saved, _) = run(&[
        "knowledge",
        "save",
        "dispute-playbook",
        md.to_str().unwrap(),
        "--kind",
        "playbook",
        "--title",
        "Disputes",
        "--case-kind",
        "dispute",
    ]);
    assert!(ok && saved.contains("version 2"), "{saved}");
    let (ok, swept, _) = run(&["cases", "sweep"]);
    assert!(ok && swept.contains("escalated 0"), "{swept}");
}

both_backends!(the_customer_page_reports_and_shows_cases, |app: TestApp| async move {
    let t = team(&app).await;
    submit(&app, &order_of("CU-1", "C-80", "120.00", 1)).await;
    let tia = sign_in(&app, "tia").await;
    let page = tia.get(&app, "/customers/C-80").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("CU-1") && page.body.contains("subject_kind\" value=\"customer\""), "{}", page.body);
    assert!(!page.body.contains("C-80@example.com"), "the e-mail is masked");
    assert!(!page.body.contains("id=\"customer-cases\""), "a Tier-2 agent does not read cases");
    let r = tia.post(&app, "/reports", "subject_kind=customer&subject_id=C-80&reason=Possible+account+takeover").await;
    assert_eq!(r.location.as_deref(), Some("/reports"));
    let (s, v) = call(&app, &t.ana, "GET", "/api/v1/customers/C-80/overview", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["cases"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["orders"][0]["order_id"], "CU-1");
    assert!(!v.to_string().contains("C-80@example.com"));
    let (s, _) = call(&app, &t.ana, "GET", "/api/v1/customers/C-404/overview", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.call("GET", "/api/v1/customers/C-80/overview", Some(&app.read_key), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "machine keys read /customers/{{id}} itself");
});
