//! Cases over the API and the pages, on both backends: opening (deduplicated per helpdesk
//! ticket), the state machine's refusals, checklists and hand-offs, SLA pauses, reports that
//! join one case, four eyes on case decisions, the SLA watch, and screening's own cases.

use crate::common::*;
use crate::desk::{add_user, enc, order_of, sign_in, submit};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::Role;
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use riskdesk_service::audit::AuditFilter;
use serde_json::{Value, json};

pub(crate) async fn token(app: &TestApp, user: &str) -> String {
    app.service.create_token_for(&local::user_admin(), user, "test", None).await.unwrap().secret
}

pub(crate) async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

pub(crate) fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// People of every role the cases need, and their tokens.
pub(crate) struct Team {
    pub(crate) tia: String,
    pub(crate) ana: String,
    pub(crate) ben: String,
    pub(crate) lea: String,
    pub(crate) helpdesk: String,
}

pub(crate) async fn team(app: &TestApp) -> Team {
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
    assert_eq!(c["tier"], 3);
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
        (json!({"kind": "dispute", "title": "x", "tier": 7}), "tier"),
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
    let (s, tiered) = call(&app, &t.ana, "POST", &path("/priority"), Some(json!({"tier": 2}))).await;
    assert_eq!((s, tiered["tier"].as_i64()), (StatusCode::OK, Some(2)), "{tiered}");
    let (s, e) = call(&app, &t.ana, "POST", &path("/priority"), Some(json!({"tier": 4}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("tier")), "{e}");
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
    // An unknown address is a page for people and JSON for the API.
    let req = axum::http::Request::builder()
        .uri("/no-such-page")
        .header("accept", "text/html,application/xhtml+xml")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("<html") && body.contains("Not found"), "{body}");
    let (s, e) = app.get("/api/v1/no-such-thing").await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
});
