//! Knowledge pages: versions saved by compare-and-set, rendering that runs nothing, search,
//! acknowledgements, and playbooks that give new cases their checklist and SOP version.

use crate::common::*;
use crate::desk::{add_user, sign_in};
use axum::http::StatusCode;
use riskdesk_domain::Role;
use riskdesk_service::access::local;
use serde_json::{Value, json};

async fn token(app: &TestApp, user: &str) -> String {
    app.service.create_token_for(&local::user_admin(), user, "test", None).await.unwrap().secret
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

const PLAYBOOK: &str = "# Account takeover\n\n<script>alert('x')</script>\n[call](javascript:alert(1))\n\n- [ ] Verify the holder through a known channel (mandatory)\n- [ ] Reset credentials and end sessions (mandatory)\n- [ ] Tell the customer what happened\n";

both_backends!(pages_are_versioned_rendered_inert_and_acknowledged, |app: TestApp| async move {
    for (n, r) in [("lea", Role::TeamLead), ("ana", Role::FraudAnalyst), ("tia", Role::Tier2Agent)] {
        add_user(&app, n, r).await;
    }
    let (lea, ana, tia) = (token(&app, "lea").await, token(&app, "ana").await, token(&app, "tia").await);
    let page = |v: i64| json!({"kind": "playbook", "title": "ATO playbook", "case_kind": "account_takeover", "body": PLAYBOOK, "base_version": v});
    // Only editors write; bad input names the field.
    let (s, _) = call(&app, &ana, "PUT", "/api/v1/knowledge/ato-playbook", Some(page(0))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({"kind": "memo", "title": "x", "body": "y", "base_version": 0}), "kind"),
        (
            json!({"kind": "playbook", "title": "x", "body": "no tasks", "case_kind": "account_takeover", "base_version": 0}),
            "body",
        ),
        (json!({"kind": "playbook", "title": "x", "body": "- [ ] a", "base_version": 0}), "case_kind"),
        (json!({"kind": "sop", "title": "", "body": "y", "base_version": 0}), "title"),
    ] {
        let (s, e) = call(&app, &lea, "PUT", "/api/v1/knowledge/ato-playbook", Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body}: {e}");
    }
    let (s, e) = call(&app, &lea, "PUT", "/api/v1/knowledge/Bad%20Slug", Some(page(0))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("slug")), "{e}");
    let (s, v1) = call(&app, &lea, "PUT", "/api/v1/knowledge/ato-playbook", Some(page(0))).await;
    assert_eq!((s, v1["version"].as_i64()), (StatusCode::CREATED, Some(1)), "{v1}");
    // Creating it again, or saving from a stale version, is refused: nothing is overwritten.
    assert_eq!(call(&app, &lea, "PUT", "/api/v1/knowledge/ato-playbook", Some(page(0))).await.0, StatusCode::CONFLICT);

    // A case of the kind gets the playbook's checklist and links the version in force.
    let (_, c) =
        call(&app, &ana, "POST", "/api/v1/cases", Some(json!({"kind": "account_takeover", "title": "ATO"}))).await;
    let (_, full) = call(&app, &ana, "GET", &format!("/api/v1/cases/{}", c["case_id"].as_str().unwrap()), None).await;
    let tasks: Vec<(&str, bool)> = full["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["title"].as_str().unwrap(), t["mandatory"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        tasks,
        [
            ("Verify the holder through a known channel", true),
            ("Reset credentials and end sessions", true),
            ("Tell the customer what happened", false)
        ]
    );
    assert!(
        full["links"].as_array().unwrap().iter().any(|l| l["kind"] == "sop" && l["value"] == "ato-playbook@1"),
        "{full}"
    );

    let (s, v2) = call(&app, &lea, "PUT", "/api/v1/knowledge/ato-playbook", Some(json!({"kind": "playbook", "title": "ATO playbook", "case_kind": "account_takeover", "body": format!("{PLAYBOOK}- [ ] Check address changes (mandatory)\n"), "note": "address step", "base_version": 1}))).await;
    assert_eq!((s, v2["version"].as_i64()), (StatusCode::CREATED, Some(2)), "{v2}");
    let (s, e) = call(&app, &lea, "PUT", "/api/v1/knowledge/ato-playbook", Some(page(1))).await;
    assert_eq!(s, StatusCode::CONFLICT, "a stale edit: {e}");

    // Reading: rendered inert; an earlier version on request; search finds it.
    let (s, p) = call(&app, &tia, "GET", "/api/v1/knowledge/ato-playbook", None).await;
    assert_eq!(s, StatusCode::OK);
    let html = p["html"].as_str().unwrap();
    assert!(!html.contains("<script") && !html.contains("javascript:"), "{html}");
    assert_eq!(p["page"]["version"], 2);
    let (_, old) = call(&app, &tia, "GET", "/api/v1/knowledge/ato-playbook?v=1", None).await;
    assert_eq!((old["page"]["version"].as_i64(), old["current"].as_bool()), (Some(1), Some(false)));
    let (_, found) = call(&app, &tia, "GET", "/api/v1/knowledge?q=CREDENTIALS", None).await;
    assert_eq!(found["pages"].as_array().unwrap().len(), 1);
    let (_, none) = call(&app, &tia, "GET", "/api/v1/knowledge?q=%25", None).await;
    assert!(none["pages"].as_array().unwrap().is_empty());

    // Acknowledging: only the version in force; the page shows who has not read it.
    assert_eq!(
        call(&app, &tia, "POST", "/api/v1/knowledge/ato-playbook/ack", Some(json!({"version": 1}))).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        call(&app, &tia, "POST", "/api/v1/knowledge/ato-playbook/ack", Some(json!({"version": 2}))).await.0,
        StatusCode::OK
    );
    let (_, p) = call(&app, &lea, "GET", "/api/v1/knowledge/ato-playbook", None).await;
    assert_eq!(p["acknowledged"][0]["username"], "tia");
    let pending: Vec<&str> = p["not_acknowledged"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert!(pending.contains(&"ana") && pending.contains(&"lea") && !pending.contains(&"tia"), "{pending:?}");

    // The page in the browser: the body is sanitised HTML; tia's acknowledgement shows.
    let b = sign_in(&app, "tia").await;
    let page = b.get(&app, "/knowledge/ato-playbook").await;
    assert!(page.body.contains("<h1>Account takeover</h1>") && !page.body.contains("<script>alert"), "{}", page.body);
    assert!(page.body.contains("id=\"acked\""), "{}", page.body);
    assert_eq!(b.get(&app, "/knowledge/nothing-here").await.status, StatusCode::NOT_FOUND);
    let lea_b = sign_in(&app, "lea").await;
    let saved = lea_b
        .post(&app, "/knowledge/new", "slug=refund-faq&kind=faq&title=Refunds&body=Refunds+take+5+days.&base_version=0")
        .await;
    assert_eq!(saved.location.as_deref(), Some("/knowledge/refund-faq"), "{}", saved.body);
});
