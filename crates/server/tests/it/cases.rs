//! Cases over the API and the pages, on both backends: opening (deduplicated per helpdesk
//! ticket), the state machine's refusals, checklists and hand-offs, SLA pauses, reports that
//! join one case, four eyes on case decisions, the SLA watch, and screening's own cases.

use crate::common::*;
use crate::desk::{add_user, enc, order_of, sign_in, submit, use_review_set};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::Role;
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use riskdesk_service::audit::AuditFilter;
use serde_json::{Value, json};

async fn token(app: &TestApp, user: &str) -> String {
    app.service.create_token_for(&local::user_admin(), user, "test", None).await.unwrap().secret
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// People of every role the cases need, and their tokens.
struct Team {
    tia: String,
    ana: String,
    ben: String,
    lea: String,
    helpdesk: String,
}

async fn team(app: &TestApp) -> Team {
    for (n, r) in
        [("tia", Role::Tier2Agent), ("ana", Role::FraudAnalyst), ("ben", Role::RiskExpert), ("lea", Role::TeamLead)]
    {
        add_user(app, n, r).await;
    }
    Team {
        tia: token(app, "tia").await,
        ana: token(app, "ana").await,
        ben: token(app, "ben").await,
        lea: token(app, "lea").await,
        helpdesk: app.service.create_api_key("helpdesk", &[Scope::Cases]).await.unwrap().secret,
    }
}

fn escalation(ticket: &str) -> Value {
    json!({"kind": "tier2_escalation", "title": "Customer disputes an order <b>she</b> never placed",
           "description": "Called twice.", "priority": "high", "customer_id": "C-1", "order_ids": ["O-1"],
           "source": "helpdesk", "source_ref": ticket})
}

both_backends!(open_deduplicates_per_ticket_and_refuses_bad_input, |app: TestApp| async move {
    let t = team(&app).await;
    // t0 is Monday 2026-06-01 12:00 UTC, 14:00 in Berlin: high priority is 4 h to first
    // response and 20 working hours to resolution (Mon 4 h, Tue 10 h, Wed 6 h).
    let (s, c) = call(&app, &t.helpdesk, "POST", "/api/v1/cases", Some(escalation("ZD-1"))).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["status"], "new");
    assert_eq!(c["kind"], "tier2_escalation");
    assert_eq!(c["priority"], "high");
    assert_eq!(time(&c["sla"]["first_response_due_at"]), utc("2026-06-01T16:00:00Z"));
    assert_eq!(time(&c["sla"]["resolution_due_at"]), utc("2026-06-03T12:00:00Z"));
    let id = c["case_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cas_"));
    // The same ticket again: the same case, nothing created twice.
    let (s, again) = call(&app, &t.helpdesk, "POST", "/api/v1/cases", Some(escalation("ZD-1"))).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["case_id"], id.as_str());
    let (_, list) = call(&app, &t.ana, "GET", "/api/v1/cases?status=all", None).await;
    assert_eq!(list["total"], 1);

    // Bad input names the field and stores nothing.
    for (body, field) in [
        (json!({"kind": "bogus", "title": "x"}), "kind"),
        (json!({"kind": "dispute", "title": "   "}), "title"),
        (json!({"kind": "dispute"}), "title"),
        (json!({"kind": "dispute", "title": "x", "priority": "asap"}), "priority"),
        (json!({"kind": "dispute", "title": "x", "customer_id": "C 1\u{0}"}), "customer_id"),
        (json!({"kind": "dispute", "title": "x", "order_ids": ["ok", ""]}), "order_ids[1]"),
        (json!({"kind": "dispute", "title": "x", "source_ref": "T-9"}), "source"),
        (json!({"kind": "dispute", "title": "x".repeat(201)}), "title"),
        (json!({"kind": "dispute", "title": "x", "surprise": 1}), "surprise"),
    ] {
        let (s, e) = call(&app, &t.helpdesk, "POST", "/api/v1/cases", Some(body.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert!(e["field"].as_str().unwrap_or_default().contains(field), "{body}: {e}");
    }
    let (_, list) = call(&app, &t.ana, "GET", "/api/v1/cases?status=all", None).await;
    assert_eq!(list["total"], 1, "nothing of the refused cases was stored");

    // A Tier-2 agent escalates but does not read cases; a key without the scope opens nothing.
    let (s, _) = call(&app, &t.tia, "POST", "/api/v1/cases", Some(escalation("ZD-2"))).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, e) = call(&app, &t.tia, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("view cases"), "{e}");
    let (s, _) = app
        .call("POST", "/api/v1/cases", Some(&app.intake_key), Some(serde_json::to_vec(&escalation("ZD-3")).unwrap()))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, mine) = call(&app, &t.tia, "GET", "/api/v1/reports/mine", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(mine["reports"].as_array().unwrap().len(), 1);
    // Every opening is audited.
    let audit = app
        .service
        .audit_records(&local::audit_reader(), &AuditFilter { limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(audit.iter().filter(|r| r.entry.action == "case.open").count(), 2);
});

both_backends!(the_state_machine_checklist_handoffs_and_pauses, |app: TestApp| async move {
    let t = team(&app).await;
    let (_, c) = call(&app, &t.helpdesk, "POST", "/api/v1/cases", Some(escalation("ZD-7"))).await;
    let id = c["case_id"].as_str().unwrap().to_owned();
    let path = |p: &str| format!("/api/v1/cases/{id}{p}");

    // An illegal move names the allowed ones.
    let (s, e) = call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "closed"}))).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("allowed next: triage, investigating, waiting_customer"), "{e}");
    let (s, e) = call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "flying"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("to")), "{e}");
    // Resolving needs a resolution, a summary, and the mandatory checklist done.
    let (s, e) = call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "resolved"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("resolution")), "{e}");
    let (s, e) =
        call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "resolved", "resolution": "no_fraud"})))
            .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("summary")), "{e}");
    let done = json!({"to": "resolved", "resolution": "no_fraud", "summary": "Customer's partner ordered."});
    let (s, e) = call(&app, &t.ana, "POST", &path("/transition"), Some(done.clone())).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("mandatory"), "{e}");

    // Work: take it, note (hostile text stays inert data), pause while waiting on the customer.
    let (s, taken) = call(&app, &t.ana, "POST", &path("/take"), None).await;
    assert_eq!((s, taken["owner"].as_str()), (StatusCode::OK, Some("ana")), "{taken}");
    assert!(taken["first_response_at"].is_string(), "taking it answers the case");
    let (s, _) =
        call(&app, &t.ana, "POST", &path("/notes"), Some(json!({"text": "<script>alert(1)</script> checked"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, notes) = call(&app, &t.ben, "GET", &path("/notes"), None).await;
    assert_eq!(notes["notes"][0]["text"], "<script>alert(1)</script> checked");
    let (_, before) = call(&app, &t.ana, "GET", &path(""), None).await;
    let due = time(&before["sla"]["resolution_due_at"]);
    call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "waiting_customer"}))).await;
    app.clock.advance(Duration::hours(2)); // Monday 14:00 → 16:00 Berlin: 2 working hours
    let (_, paused) = call(&app, &t.ana, "GET", &path(""), None).await;
    assert_eq!(paused["sla"]["resolution"], "paused");
    let (s, back) = call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "investigating"}))).await;
    assert_eq!(s, StatusCode::OK, "{back}");
    assert_eq!(time(&back["sla"]["resolution_due_at"]), due + Duration::hours(2), "the pause moved the due time");

    // A hand-off to the warehouse, answered back into the timeline.
    let due_at = (app.service.now() + Duration::hours(5)).to_rfc3339();
    let (s, e) =
        call(&app, &t.ana, "POST", &path("/tasks"), Some(json!({"title": "Weigh parcel", "team": "warehouse"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("due_at")), "{e}");
    let (s, e) =
        call(&app, &t.ana, "POST", &path("/tasks"), Some(json!({"title": "x", "team": "kitchen", "due_at": due_at})))
            .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("team")), "{e}");
    let (s, h) = call(
        &app,
        &t.ana,
        "POST",
        &path("/tasks"),
        Some(json!({"title": "Weigh parcel", "team": "warehouse", "due_at": due_at})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    let (_, inbox) = call(&app, &t.ben, "GET", "/api/v1/handoffs?team=warehouse", None).await;
    assert_eq!(inbox["handoffs"].as_array().unwrap().len(), 1);
    let hid = h["id"].as_str().unwrap();
    let (s, e) =
        call(&app, &t.helpdesk, "POST", &path(&format!("/tasks/{hid}")), Some(json!({"status": "done"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("answer")), "{e}");
    let (s, _) = call(
        &app,
        &t.helpdesk,
        "POST",
        &path(&format!("/tasks/{hid}")),
        Some(json!({"status": "done", "answer": "1.9 kg, matches"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // The checklist: mandatory tasks cannot be cancelled, only done.
    let (_, tasks) = call(&app, &t.ana, "GET", &path("/tasks"), None).await;
    for task in tasks["tasks"].as_array().unwrap().iter().filter(|t| t["status"] == "open") {
        let tp = path(&format!("/tasks/{}", task["id"].as_str().unwrap()));
        if task["mandatory"] == true {
            let (s, _) = call(&app, &t.ana, "POST", &tp, Some(json!({"status": "cancelled"}))).await;
            assert_eq!(s, StatusCode::CONFLICT);
        }
        let (s, _) = call(&app, &t.ana, "POST", &tp, Some(json!({"status": "done"}))).await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, resolved) = call(&app, &t.ana, "POST", &path("/transition"), Some(done)).await;
    assert_eq!(s, StatusCode::OK, "{resolved}");
    assert_eq!((resolved["status"].as_str(), resolved["resolution"].as_str()), (Some("resolved"), Some("no_fraud")));
    assert_eq!(resolved["sla"]["resolution"], "stopped");
    let (s, closed) = call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "closed"}))).await;
    assert_eq!((s, closed["status"].as_str()), (StatusCode::OK, Some("closed")), "{closed}");
    // Reopened within the window: the clock starts again.
    let (s, re) = call(&app, &t.ana, "POST", &path("/transition"), Some(json!({"to": "investigating"}))).await;
    assert_eq!(
        (s, re["status"].as_str(), re["resolution"].as_str()),
        (StatusCode::OK, Some("investigating"), None),
        "{re}"
    );
    let (_, full) = call(&app, &t.ana, "GET", &path(""), None).await;
    let texts: Vec<&str> = full["timeline"].as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| t.contains("Warehouse answered") && t.contains("1.9 kg")), "{texts:?}");
    assert!(texts.contains(&"Reopened"), "{texts:?}");
    // Links: the customer and the order, each "seen" nowhere else yet.
    assert_eq!(full["links"].as_array().unwrap().len(), 2);
    let (s, e) =
        call(&app, &t.ana, "POST", &path("/links"), Some(json!({"kind": "entity", "value": "device:zz"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("value")), "{e}");
});

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

both_backends!(case_decisions_take_a_second_person_who_added_no_evidence, |app: TestApp| async move {
    let t = team(&app).await;
    let (_, c) = call(
        &app,
        &t.ana,
        "POST",
        "/api/v1/cases",
        Some(json!({"kind": "account_takeover", "title": "ATO", "customer_id": "C-9"})),
    )
    .await;
    let id = c["case_id"].as_str().unwrap().to_owned();
    let p = |s: &str| format!("/api/v1/cases/{id}{s}");
    // Ben adds evidence: he becomes a maker of what is proposed on this case.
    call(&app, &t.ben, "POST", &p("/notes"), Some(json!({"text": "Login from a new country an hour before"}))).await;
    let (s, e) =
        call(&app, &t.ana, "POST", &p("/decisions"), Some(json!({"decision": "block_account", "reason": "ATO"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("customer_id")), "{e}");
    let (s, e) = call(
        &app,
        &t.helpdesk,
        "POST",
        &p("/decisions"),
        Some(json!({"decision": "block_account", "reason": "ATO", "customer_id": "C-9"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a key names no person: {e}");
    let (s, d) = call(
        &app,
        &t.ana,
        "POST",
        &p("/decisions"),
        Some(json!({"decision": "block_account", "reason": "Account taken over", "customer_id": "C-9"})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{d}");
    let proposal = d["proposal_id"].as_str().unwrap().to_owned();
    let (_, case) = call(&app, &t.ana, "GET", &p(""), None).await;
    assert_eq!(case["status"], "pending_approval");
    let (_, pr) = call(&app, &t.lea, "GET", &format!("/api/v1/proposals/{proposal}"), None).await;
    assert_eq!(pr["kind"], "case_decision");
    assert!(pr["makers"].as_array().unwrap().contains(&json!("user:ben")), "{pr}");
    let hash = pr["payload_hash"].as_str().unwrap().to_owned();
    for who in [&t.ana, &t.ben] {
        let (s, e) = call(
            &app,
            who,
            "POST",
            &format!("/api/v1/proposals/{proposal}/approve"),
            Some(json!({"payload_hash": hash})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "a maker cannot approve: {e}");
    }
    let (s, e) = call(
        &app,
        &t.lea,
        "POST",
        &format!("/api/v1/proposals/{proposal}/approve"),
        Some(json!({"payload_hash": hash})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, case) = call(&app, &t.ana, "GET", &p(""), None).await;
    assert_eq!(case["status"], "investigating");
    assert!(
        case["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "decision" && e["text"].as_str().unwrap().contains("C-9 blocked")),
        "{case}"
    );
    let (_, lists) = call(&app, &t.ana, "GET", "/api/v1/lists", None).await;
    assert!(lists.to_string().contains("C-9"), "the block is on the block list: {lists}");
    // A small goodwill refund is recorded at once; a large one waits for a second person.
    let (s, r) = call(
        &app,
        &t.ana,
        "POST",
        &p("/decisions"),
        Some(json!({"decision": "goodwill_refund", "reason": "Late parcel", "amount_minor": 2500, "currency": "EUR"})),
    )
    .await;
    assert_eq!((s, r["status"].as_str()), (StatusCode::OK, Some("recorded")), "{r}");
    let (s, r) = call(
        &app,
        &t.ana,
        "POST",
        &p("/decisions"),
        Some(json!({"decision": "goodwill_refund", "reason": "Goodwill", "amount_minor": 25000})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
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

both_backends!(the_case_pages_work_the_case, |app: TestApp| async move {
    team(&app).await;
    let tia = sign_in(&app, "tia").await;
    let ana = sign_in(&app, "ana").await;
    // Tia reports from the order page's button and lands on her reports.
    submit(&app, &order_of("W-1", "C-70", "120.00", 1)).await;
    let order = tia.get(&app, &format!("/orders/{}", enc("W-1"))).await;
    assert!(order.body.contains("action=\"/reports\""), "the order page has the report button");
    let r = tia
        .post(&app, "/reports", "subject_kind=order&subject_id=W-1&reason=Suspected+fraud&detail=%3Cb%3Ebold%3C%2Fb%3E")
        .await;
    assert_eq!(r.location.as_deref(), Some("/reports"), "{}", r.body);
    let mine = tia.get(&app, "/reports").await;
    assert!(mine.body.contains("Suspicious order W-1"), "{}", mine.body);
    assert_eq!(tia.get(&app, "/cases").await.status, StatusCode::FORBIDDEN);
    // Ana finds it in the fraud team's queue, takes it, adds a note; hostile text is inert.
    let q = ana.get(&app, "/cases?view=team&team=fraud").await;
    let id = q.body.split("id=\"c-").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let page = ana.get(&app, &format!("/cases/{id}")).await;
    assert!(page.body.contains("&#60;b&#62;bold&#60;/b&#62;"), "escaped: {}", page.body);
    assert!(!page.body.contains("<b>bold</b>"));
    assert_eq!(
        ana.post(&app, &format!("/cases/{id}/take"), "").await.location.as_deref(),
        Some(&*format!("/cases/{id}"))
    );
    ana.post(&app, &format!("/cases/{id}/notes"), "text=Called+the+bank").await;
    let bad = ana.post(&app, &format!("/cases/{id}/transition"), "to=closed").await;
    assert_eq!(bad.status, StatusCode::CONFLICT);
    assert!(bad.body.contains("allowed next"), "{}", bad.body);
    let page = ana.get(&app, &format!("/cases/{id}")).await;
    assert!(page.body.contains("Called the bank") && page.body.contains("id=\"case-owner\">ana<"), "{}", page.body);
    assert!(ana.get(&app, "/cases?view=mine").await.body.contains(&id));
    assert_eq!(ana.get(&app, "/cases/cas_nope").await.status, StatusCode::NOT_FOUND);
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
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_riskdesk"))
            .env_remove("RISKDESK_DATABASE_URL")
            .env("RUST_LOG", "error")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
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
