//! People on the API: personal access tokens (created signed in or by the CLI, shown once,
//! expiring, revocable, audited) that act as their person with the same rights and four-eye
//! rules as the web UI; and the route-by-role matrix over the API's people routes.

use crate::common::*;
use crate::desk::{PASSWORD, add_user, enc, order_of, sign_in, submit, use_review_set};
use axum::http::StatusCode;
use riskdesk_domain::{Permission, Role};
use riskdesk_service::access::local;
use riskdesk_service::audit::AuditFilter;
use serde_json::{Value, json};

async fn token(app: &TestApp, user: &str) -> String {
    app.service.create_token_for(&local::user_admin(), user, "test", None).await.unwrap().secret
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

both_backends!(a_token_acts_as_its_person_until_revoked_or_expired, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    // Signed in, ana creates a token on the tokens page: the form redirects (a reload does not
    // make a second token) to the view that shows the secret, once, to her only.
    let b = sign_in(&app, "ana").await;
    let created = b.post(&app, "/tokens", "name=helpdesk&expires_in=30d").await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let shown_at = created.location.unwrap();
    assert!(shown_at.starts_with("/tokens?done=created&name=helpdesk&id="), "{shown_at}");
    add_user(&app, "max", Role::FraudAnalyst).await;
    let other = sign_in(&app, "max").await.get(&app, &shown_at).await;
    assert!(!other.body.contains("id=\"new-token\""), "someone else's link shows nothing");
    let page = b.get(&app, &shown_at).await;
    let secret = page.body.split("id=\"new-token\" readonly value=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(secret.starts_with("rdp_"), "{secret}");
    assert!(page.body.contains("Copy it now"), "{}", page.body);
    let again = b.get(&app, &shown_at).await;
    assert!(!again.body.contains(secret), "a reload does not show the secret again");
    assert!(again.body.contains("was created and shown once"), "{}", again.body);
    assert!(!b.get(&app, "/tokens").await.body.contains(secret), "the secret is not shown again");

    let (s, me) = call(&app, secret, "GET", "/api/v1/me", None).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["username"], "ana");
    assert_eq!(me["user"]["role"], "fraud_analyst");
    assert!(me["permissions"].as_array().unwrap().contains(&json!("decide_orders")));

    // The role's rights, no more: an analyst may not read the audit log or manage users.
    let (s, e) = call(&app, secret, "GET", "/api/v1/audit", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("read the audit log"), "{e}");
    assert_eq!(call(&app, secret, "GET", "/api/v1/users", None).await.0, StatusCode::FORBIDDEN);
    // A token is no machine key: it cannot send orders.
    let (s, _) = call(&app, secret, "POST", "/api/v1/orders", Some(order_of("T-1", "C-1", "10.00", 1))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A token cannot make another token.
    let (s, e) = call(&app, secret, "POST", "/api/v1/me/tokens", Some(json!({"name": "next"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");

    // A role change applies at once.
    app.service.set_role(&local::user_admin(), "ana", Role::Auditor).await.unwrap();
    assert_eq!(call(&app, secret, "GET", "/api/v1/audit", None).await.0, StatusCode::OK);

    // Revoking ends it, and both are audited.
    let (s, list) = call(&app, secret, "GET", "/api/v1/me/tokens", None).await;
    assert_eq!(s, StatusCode::OK);
    let id = list["tokens"][0]["id"].as_str().unwrap().to_owned();
    assert!(list["tokens"][0].get("secret_hash").is_none(), "{list}");
    let (s, _) = call(&app, secret, "DELETE", &format!("/api/v1/me/tokens/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = call(&app, secret, "GET", "/api/v1/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{e}");
    let actions: Vec<String> = app
        .service
        .audit_records(&local::audit_reader(), &AuditFilter { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .filter(|a| a.starts_with("token."))
        .collect();
    assert_eq!(actions, ["token.revoke", "token.create"]);

    // Expiry, from the service's clock.
    let short = app
        .service
        .create_token_for(&local::user_admin(), "ana", "short", Some(chrono::Duration::hours(1)))
        .await
        .unwrap()
        .secret;
    assert_eq!(call(&app, &short, "GET", "/api/v1/me", None).await.0, StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(61));
    let (s, _) = call(&app, &short, "GET", "/api/v1/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "an expired token no longer works, even from the cache");

    // A disabled account's tokens stop at once.
    let other = token(&app, "ana").await;
    assert_eq!(call(&app, &other, "GET", "/api/v1/me", None).await.0, StatusCode::OK);
    app.service.disable_user(&local::user_admin(), "ana").await.unwrap();
    assert_eq!(call(&app, &other, "GET", "/api/v1/me", None).await.0, StatusCode::UNAUTHORIZED);

    // An unknown token is not "revoked".
    assert!(app.service.revoke_token_as(&local::user_admin(), "tok_unknown").await.is_err());
    // Bad input names the field.
    assert!(riskdesk_service::identity::parse_lifetime("3 weeks").is_err());
    assert!(riskdesk_service::identity::parse_lifetime("999d").is_err());
    let _ = PASSWORD;
});

both_backends!(review_and_four_eyes_over_the_api, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ben", Role::RiskExpert).await;
    add_user(&app, "lea", Role::TeamLead).await;
    let ben = token(&app, "ben").await;
    let lea = token(&app, "lea").await;
    submit(&app, &order_of("R-1", "C-1", "150.00", 1)).await;
    submit(&app, &order_of("R-2", "C-2", "900.00", 2)).await;

    let (s, q) = call(&app, &ben, "GET", "/api/v1/queue?sort=risk", None).await;
    assert_eq!(s, StatusCode::OK, "{q}");
    assert_eq!(q["total"], 2);
    let (s, v) = call(&app, &ben, "GET", "/api/v1/orders/R-1/review", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let text = v.to_string();
    assert!(!text.contains("C-1@example.com") && !text.contains("Anna Beispiel"), "the view is masked: {v}");
    assert_eq!(v["party"]["email"], "C***@example.com");

    // Claim, then release with a reason: done.
    let (s, c) = call(&app, &ben, "POST", "/api/v1/orders/R-1/claim", None).await;
    assert_eq!((s, c["claimed_by"].as_str()), (StatusCode::OK, Some("ben")), "{c}");
    let review = json!({"action": "release", "reason_code": "verified_customer", "note": "called the customer"});
    let (s, r) = call(&app, &ben, "POST", "/api/v1/orders/R-1/review", Some(review)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "done");

    // Bad input names the field and stores nothing.
    let (s, e) = call(&app, &ben, "POST", "/api/v1/orders/R-2/review", Some(json!({"action": "release"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "reason_code");
    assert_eq!(e["errors"][0]["field"], "reason_code");
    let (s, e) =
        call(&app, &ben, "POST", "/api/v1/orders/R-2/review", Some(json!({"action": "burn", "reason_code": "x"})))
            .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("action")), "{e}");

    // A cancellation above the threshold is a proposal: 202 with its id.
    let cancel = json!({"action": "cancel", "reason_code": "stolen_card", "note": "card reported"});
    let (s, r) = call(&app, &ben, "POST", "/api/v1/orders/R-2/review", Some(cancel)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let id = r["proposal_id"].as_str().unwrap().to_owned();
    let (s, p) = call(&app, &ben, "GET", &format!("/api/v1/proposals/{id}"), None).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["may_decide"], false, "the maker is not offered the approval");
    assert!(p["summary"].to_string().contains("900.00"), "the approver sees the amount: {p}");
    let hash = p["payload_hash"].as_str().unwrap().to_owned();
    // The maker's token cannot approve.
    let (s, e) =
        call(&app, &ben, "POST", &format!("/api/v1/proposals/{id}/approve"), Some(json!({"payload_hash": hash}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    // A second person approves what they saw.
    let (s, e) =
        call(&app, &lea, "POST", &format!("/api/v1/proposals/{id}/approve"), Some(json!({"payload_hash": "0"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a stale hash is refused: {e}");
    let (s, r) =
        call(&app, &lea, "POST", &format!("/api/v1/proposals/{id}/approve"), Some(json!({"payload_hash": hash}))).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (_, v) = call(&app, &lea, "GET", "/api/v1/orders/R-2/review", None).await;
    assert_eq!(v["item"]["state"], "closed", "{v}");

    // Machine keys name no person: no proposals, no approvals.
    let (s, _) = app.call("GET", "/api/v1/proposals", Some(&app.rules_key), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

/// Every people route of the API, and which permission it needs (None: any person).
fn api_routes(
    order: &str,
    proposal: &str,
    amendable: &str,
    case: &str,
) -> Vec<(&'static str, String, Option<Value>, Option<Permission>)> {
    use Permission::*;
    let o = enc(order);
    vec![
        ("GET", "/api/v1/me".into(), None, None),
        ("GET", "/api/v1/me/tokens".into(), None, None),
        ("GET", "/api/v1/queue".into(), None, Some(ViewOrders)),
        ("GET", "/api/v1/queue/stats".into(), None, Some(ViewOrders)),
        ("GET", format!("/api/v1/orders/{o}/review"), None, Some(ViewOrders)),
        ("GET", "/api/v1/proposals".into(), None, Some(ViewOrders)),
        ("POST", format!("/api/v1/orders/{o}/claim"), None, Some(DecideOrders)),
        ("POST", format!("/api/v1/orders/{o}/unclaim"), None, Some(DecideOrders)),
        (
            "POST",
            format!("/api/v1/orders/{o}/review"),
            Some(json!({"action": "hold", "reason_code": "awaiting_customer", "note": "x"})),
            Some(DecideOrders),
        ),
        ("POST", format!("/api/v1/orders/{o}/assign"), Some(json!({"username": "ana"})), Some(AssignQueue)),
        ("POST", format!("/api/v1/orders/{o}/takeover"), None, Some(AssignQueue)),
        ("POST", format!("/api/v1/orders/{o}/unmask"), Some(json!({"purpose": "checking the matrix"})), Some(Unmask)),
        ("GET", "/api/v1/rulesets".into(), None, Some(ViewRules)),
        ("GET", "/api/v1/rulesets/1".into(), None, Some(ViewRules)),
        ("GET", "/api/v1/lists".into(), None, Some(ViewRules)),
        (
            "POST",
            "/api/v1/lists".into(),
            Some(json!({"list": "block", "kind": "email_domain", "value": "spam.example", "reason": "matrix"})),
            Some(EditRules),
        ),
        ("GET", "/api/v1/audit".into(), None, Some(ViewAudit)),
        ("GET", "/api/v1/audit/export".into(), None, Some(ViewAudit)),
        ("GET", "/api/v1/audit/verify".into(), None, Some(ViewAudit)),
        ("GET", "/api/v1/users".into(), None, Some(ManageUsers)),
        ("POST", "/api/v1/users/ana/role".into(), Some(json!({"role": "fraud_analyst"})), Some(ManageUsers)),
        (
            "POST",
            format!("/api/v1/proposals/{amendable}/amend"),
            Some(json!({"reason_code": "stolen_card", "note": "matrix amended"})),
            Some(DecideOrders),
        ),
        ("POST", format!("/api/v1/proposals/{proposal}/reject"), Some(json!({})), Some(ApproveOrderActions)),
        ("POST", "/api/v1/cases".into(), Some(json!({"kind": "dispute", "title": "matrix"})), Some(OpenCases)),
        ("GET", "/api/v1/cases".into(), None, Some(ViewCases)),
        ("GET", format!("/api/v1/cases/{case}"), None, Some(ViewCases)),
        ("GET", format!("/api/v1/cases/{case}/tasks"), None, Some(ViewCases)),
        ("POST", format!("/api/v1/cases/{case}/notes"), Some(json!({"text": "matrix"})), Some(WorkCases)),
        (
            "POST",
            format!("/api/v1/cases/{case}/links"),
            Some(json!({"kind": "order", "value": "O-1"})),
            Some(WorkCases),
        ),
        ("POST", format!("/api/v1/cases/{case}/transition"), Some(json!({"to": "triage"})), Some(WorkCases)),
        ("POST", format!("/api/v1/cases/{case}/assign"), Some(json!({"username": "ana"})), Some(AssignQueue)),
        (
            "POST",
            "/api/v1/reports".into(),
            Some(json!({"subject_kind": "order", "subject_id": order, "reason": "matrix"})),
            Some(OpenCases),
        ),
        ("GET", "/api/v1/reports/mine".into(), None, Some(OpenCases)),
        ("GET", "/api/v1/handoffs?team=warehouse".into(), None, Some(ViewCases)),
        ("GET", "/api/v1/kpis".into(), None, Some(ViewKpis)),
        ("GET", "/api/v1/kpis/rules".into(), None, Some(ViewKpis)),
        ("GET", "/api/v1/kpis/alerts".into(), None, Some(ViewKpis)),
        ("POST", "/api/v1/kpis/alerts/scan".into(), None, Some(ManageKpis)),
        ("GET", "/api/v1/privacy/requests".into(), None, Some(ViewPrivacy)),
        ("GET", "/api/v1/privacy/dashboard".into(), None, Some(ViewPrivacy)),
        ("GET", "/api/v1/privacy/records".into(), None, Some(ViewPrivacy)),
        ("GET", "/api/v1/privacy/breaches".into(), None, Some(ViewPrivacy)),
        ("POST", "/api/v1/privacy/breaches".into(), Some(json!({"title": "matrix"})), Some(WorkPrivacy)),
        ("POST", "/api/v1/privacy/sweeps".into(), None, Some(WorkPrivacy)),
        ("GET", "/api/v1/disputes".into(), None, Some(ViewDisputes)),
        ("GET", "/api/v1/disputes/schemes".into(), None, Some(ViewDisputes)),
        ("GET", "/api/v1/refund-claims".into(), None, Some(ViewDisputes)),
        ("GET", "/api/v1/return-abuse".into(), None, Some(ViewDisputes)),
        ("PUT", "/api/v1/disputes/volumes/2026-05/visa".into(), Some(json!({"settled": 10})), Some(WorkDisputes)),
        ("GET", "/api/v1/search?q=C-1".into(), None, Some(ViewOrders)),
        ("GET", "/api/v1/qa/inbox".into(), None, Some(ReviewQa)),
        ("GET", "/api/v1/qa/disputes".into(), None, Some(ReviewQa)),
        ("GET", "/api/v1/qa/dashboard".into(), None, Some(ViewQa)),
        ("GET", "/api/v1/qa/scorecards".into(), None, Some(ViewQa)),
        ("GET", "/api/v1/qa/sessions".into(), None, Some(ViewQa)),
    ]
}

both_backends!(api_route_by_role_matrix, |app: TestApp| async move {
    use_review_set(&app).await;
    for r in Role::ALL {
        add_user(&app, r.as_str(), r).await;
    }
    add_user(&app, "ana", Role::FraudAnalyst).await;
    let maker = token(&app, "ana").await;
    for r in Role::ALL {
        let t = token(&app, r.as_str()).await;
        let order = format!("M-{}", r.as_str());
        submit(&app, &order_of(&order, &format!("C-{}", r.as_str()), "150.00", 1)).await;
        let cancel = json!({"action": "cancel", "reason_code": "stolen_card", "note": "matrix"});
        let big = format!("B-{}", r.as_str());
        submit(&app, &order_of(&big, &format!("D-{}", r.as_str()), "900.00", 2)).await;
        let (_, p) =
            call(&app, &maker, "POST", &format!("/api/v1/orders/{}/review", enc(&big)), Some(cancel.clone())).await;
        let proposal = p["proposal_id"].as_str().unwrap().to_owned();
        let big2 = format!("E-{}", r.as_str());
        submit(&app, &order_of(&big2, &format!("F-{}", r.as_str()), "900.00", 3)).await;
        let (_, p) = call(&app, &maker, "POST", &format!("/api/v1/orders/{}/review", enc(&big2)), Some(cancel)).await;
        let amendable = p["proposal_id"].as_str().unwrap().to_owned();
        let (_, c) =
            call(&app, &maker, "POST", "/api/v1/cases", Some(json!({"kind": "dispute", "title": "matrix case"}))).await;
        let case = c["case_id"].as_str().unwrap().to_owned();
        for (method, path, body, need) in api_routes(&order, &proposal, &amendable, &case) {
            let allowed = need.is_none_or(|p| r.allows(p));
            let (s, v) = call(&app, &t, method, &path, body).await;
            if allowed {
                assert!(s.is_success(), "{} may {method} {path}, got {s}: {v}", r.as_str());
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{} may not {method} {path}: {v}", r.as_str());
                assert_eq!(v["code"], "forbidden");
            }
        }
    }
});

both_backends!(a_claim_locks_the_order, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "ben", Role::RiskExpert).await;
    add_user(&app, "lea", Role::TeamLead).await;
    let (ana, ben, lea) = (token(&app, "ana").await, token(&app, "ben").await, token(&app, "lea").await);
    submit(&app, &order_of("L-1", "C-1", "150.00", 1)).await;
    assert_eq!(call(&app, &ben, "POST", "/api/v1/orders/L-1/claim", None).await.0, StatusCode::OK);
    // Others neither decide nor release a claimed order.
    let release = json!({"action": "release", "reason_code": "verified_customer", "note": ""});
    let (s, e) = call(&app, &ana, "POST", "/api/v1/orders/L-1/review", Some(release.clone())).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("claimed by ben"), "{e}");
    assert_eq!(call(&app, &ana, "POST", "/api/v1/orders/L-1/unclaim", None).await.0, StatusCode::CONFLICT);
    assert_eq!(call(&app, &ana, "POST", "/api/v1/orders/L-1/claim", None).await.0, StatusCode::CONFLICT);
    // An analyst may not take over; a team lead does, audited with whom it was taken from.
    assert_eq!(call(&app, &ana, "POST", "/api/v1/orders/L-1/takeover", None).await.0, StatusCode::FORBIDDEN);
    let (s, t) = call(&app, &lea, "POST", "/api/v1/orders/L-1/takeover", None).await;
    assert_eq!((s, t["claimed_by"].as_str()), (StatusCode::OK, Some("lea")), "{t}");
    let f = AuditFilter { action: Some("queue.takeover".into()), limit: 10, ..Default::default() };
    let rec = app.service.audit_records(&local::audit_reader(), &f).await.unwrap();
    assert_eq!(rec.len(), 1);
    assert_eq!((rec[0].entry.actor.as_str(), rec[0].entry.subject.as_str()), ("user:lea", "order:L-1"));
    assert!(rec[0].entry.detail.contains("ben"), "{}", rec[0].entry.detail);
    // Now only lea decides.
    assert_eq!(
        call(&app, &ben, "POST", "/api/v1/orders/L-1/review", Some(release.clone())).await.0,
        StatusCode::CONFLICT
    );
    let (s, r) = call(&app, &lea, "POST", "/api/v1/orders/L-1/review", Some(release)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
});

both_backends!(refused_attempts_are_audited_and_the_chain_verifies_from_the_page, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "aud", Role::Auditor).await;
    add_user(&app, "lea", Role::TeamLead).await;
    let (ana, lea) = (token(&app, "ana").await, token(&app, "lea").await);
    // A page and an API call beyond the role.
    let b = sign_in(&app, "ana").await;
    assert_eq!(b.get(&app, "/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, &ana, "GET", "/api/v1/audit", None).await.0, StatusCode::FORBIDDEN);
    // A maker approving their own proposal.
    let (_, c) =
        call(&app, &lea, "POST", "/api/v1/cases", Some(json!({"kind": "refund_claim", "title": "Goodwill"}))).await;
    let case = c["case_id"].as_str().unwrap();
    let (s, p) = call(
        &app,
        &lea,
        "POST",
        &format!("/api/v1/cases/{case}/decisions"),
        Some(json!({"decision": "goodwill_refund", "reason": "late", "amount_minor": 50000})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{p}");
    let id = p["proposal_id"].as_str().unwrap().to_owned();
    let hash = app.service.proposal(&id).await.unwrap().payload_hash;
    let (s, _) =
        call(&app, &lea, "POST", &format!("/api/v1/proposals/{id}/approve"), Some(json!({"payload_hash": hash}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let f = AuditFilter { limit: 100, ..Default::default() };
    let records = app.service.audit_records(&local::audit_reader(), &f).await.unwrap();
    let refused: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r.entry.action == "access.refused")
        .map(|r| (r.entry.actor.as_str(), r.entry.subject.as_str()))
        .collect();
    assert!(refused.contains(&("user:ana", "route:GET /users")), "{refused:?}");
    assert!(refused.contains(&("user:ana", "route:GET /api/v1/audit")), "{refused:?}");
    assert!(
        records.iter().any(|r| r.entry.action == "proposal.approve.refused" && r.entry.actor == "user:lea"),
        "the self-approval is on the record"
    );
    // The auditor verifies the chain on a page.
    let aud = sign_in(&app, "aud").await;
    let page = aud.get(&app, "/audit/verify").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"chain-ok\"") && page.body.contains("id=\"anchor\""), "{}", page.body);
});

// Times read in the viewer's zone: the installation's by default, each person's own once chosen
// (page or API), with UTC on hover; an unknown zone is refused naming the field.
both_backends!(times_in_the_viewers_time_zone, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    // Placed 2026-06-01 12:00 UTC: 14:00 in Berlin (summer time), 08:00 in New York.
    submit(&app, &order_of("TZ-1", "C-TZ", "120.00", 0)).await;
    let ana = sign_in(&app, "ana").await;
    let page = ana.get(&app, "/orders/TZ-1").await.body;
    assert!(page.contains("2026-06-01 14:00"), "the default zone: {page}");
    let p = ana.post(&app, "/me/time-zone", "time_zone=America%2FNew_York").await;
    assert_eq!(p.location.as_deref(), Some("/tokens?done=zone"));
    let tokens = ana.get(&app, "/tokens?done=zone").await.body;
    assert!(tokens.contains("America/New_York"));
    // The zone form is part of the page, not of its <title>.
    let title = tokens.split("<title>").nth(1).unwrap().split("</title>").next().unwrap();
    assert!(!title.contains('<'), "{title}");
    assert!(tokens.split("</title>").nth(1).unwrap().contains("id=\"zone-form\""));
    let page = ana.get(&app, "/orders/TZ-1").await.body;
    assert!(page.contains("2026-06-01 08:00") && !page.contains("2026-06-01 14:00"), "{page}");
    assert!(page.contains("title=\"2026-06-01 12:00 UTC\""), "UTC on hover: {page}");
    let p = ana.post(&app, "/me/time-zone", "time_zone=Mars%2FOlympus").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    // The same through the API, as the person's token.
    let t = token(&app, "ana").await;
    let put = |z: Value| {
        let t = t.clone();
        let app = &app;
        async move {
            app.call(
                "PUT",
                "/api/v1/me/time-zone",
                Some(&t),
                Some(serde_json::to_vec(&json!({"time_zone": z})).unwrap()),
            )
            .await
        }
    };
    let (s, v) = put(json!("Asia/Tokyo")).await;
    assert_eq!((s, v["time_zone"].as_str()), (StatusCode::OK, Some("Asia/Tokyo")), "{v}");
    let (_, me) = app.call("GET", "/api/v1/me", Some(&t), None).await;
    assert_eq!(me["time_zone"], "Asia/Tokyo", "{me}");
    let (s, e) = put(json!("Nope/Nope")).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("time_zone")), "{e}");
    let (s, _) = put(Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    let (_, me) = app.call("GET", "/api/v1/me", Some(&t), None).await;
    assert_eq!(me["time_zone"], "Europe/Berlin", "back to the default: {me}");
});
