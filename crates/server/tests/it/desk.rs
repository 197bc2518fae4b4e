//! The analyst workspace over HTTP against the real router and store: sign-in, sessions and
//! CSRF; the route-by-role matrix; four eyes through the UI and the API; masking and audited
//! unmasking; hostile data shown inert; the audit chain.

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskdesk_domain::Role;
use riskdesk_service::access::local;
use riskdesk_service::audit::AuditFilter;
use riskdesk_store::conformance::order_json;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Every order of 100 EUR or more goes to review; blocked ones are declined.
const REVIEW_SET: &str = r#"
[scoring]
review_at = 40
decline_at = 80

[[rule]]
id = "review_all"
name = "Review <b>everything</b>"
description = "<script>alert('rule')</script> sends every order of 100 or more to review"
expression = 'order.amount >= 100.0'
action = "review"

[[rule]]
id = "blocked"
name = "Blocked"
expression = 'lists.blocked()'
action = "decline"

[[rule]]
id = "watched_ip"
name = "Watched IP"
expression = 'order.ip == "203.0.113.7"'
action = "score"
points = 1
"#;

pub(crate) const PASSWORD: &str = "correct-horse-battery";

/// A browser: a session cookie and the page's CSRF token.
pub(crate) struct Browser {
    cookie: String,
    csrf: String,
}

pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) body: String,
    pub(crate) location: Option<String>,
    set_cookie: Vec<String>,
}

async fn send(app: &TestApp, method: &str, path: &str, cookie: Option<&str>, form: Option<String>) -> Page {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if form.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    req = req.header("host", "localhost");
    let resp =
        app.router.clone().oneshot(req.body(form.map(Body::from).unwrap_or_else(Body::empty)).unwrap()).await.unwrap();
    let status = resp.status();
    let location = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let set_cookie = resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let body = String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned();
    Page { status, body, location, set_cookie }
}

pub(crate) fn enc(s: &str) -> String {
    riskdesk_server::http::session::urlencode(s).replace('/', "%2F")
}

pub(crate) async fn add_user(app: &TestApp, name: &str, role: Role) {
    app.service.add_user(&local::user_admin(), name, name, role, PASSWORD).await.unwrap();
}

pub(crate) async fn sign_in(app: &TestApp, name: &str) -> Browser {
    let p = send(app, "POST", "/login", None, Some(format!("username={name}&password={PASSWORD}&next=/"))).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{name} signs in: {}", p.body);
    let cookie = p.set_cookie.iter().find(|c| c.starts_with("riskdesk_session=")).expect("a session cookie").clone();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let home = send(app, "GET", "/", Some(&cookie), None).await;
    let csrf = home.body.split("data-csrf=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned();
    Browser { cookie, csrf }
}

impl Browser {
    pub(crate) async fn get(&self, app: &TestApp, path: &str) -> Page {
        send(app, "GET", path, Some(&self.cookie), None).await
    }

    pub(crate) async fn post(&self, app: &TestApp, path: &str, form: &str) -> Page {
        let body = if form.is_empty() { format!("csrf={}", self.csrf) } else { format!("csrf={}&{form}", self.csrf) };
        send(app, "POST", path, Some(&self.cookie), Some(body)).await
    }
}

pub(crate) async fn use_review_set(app: &TestApp) {
    let cap = riskdesk_service::access::local::rules("test");
    let (v, _) = app.service.save_ruleset(&cap, REVIEW_SET, "test").await.unwrap();
    app.service.publish_ruleset(&cap, v).await.unwrap();
}

pub(crate) fn order_of(id: &str, customer: &str, amount: &str, minutes: i64) -> Value {
    let mut o = order_json(id, customer, minutes);
    o["total"] = json!({"amount": amount, "currency": "EUR"});
    o
}

pub(crate) async fn submit(app: &TestApp, o: &Value) -> Value {
    let (s, d) = app.post("/api/v1/orders", o).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d
}

both_backends!(sign_in_sessions_and_csrf, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    // Pages need a session.
    let p = send(&app, "GET", "/queue", None, None).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/login?next=/queue"));
    // A wrong password and an unknown user read the same.
    let wrong = send(&app, "POST", "/login", None, Some("username=ana&password=nope-nope-nope".into())).await;
    let unknown = send(&app, "POST", "/login", None, Some(format!("username=zed&password={PASSWORD}"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let msg = |p: &Page| p.body.split("id=\"error\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();
    assert_eq!(msg(&wrong), msg(&unknown));
    // The cookie is HttpOnly and SameSite=Strict, and each sign-in gets a new token.
    let a = sign_in(&app, "ana").await;
    let b = sign_in(&app, "ana").await;
    assert_ne!(a.cookie, b.cookie);
    let raw = send(&app, "POST", "/login", None, Some(format!("username=ana&password={PASSWORD}"))).await;
    let c = raw.set_cookie.iter().find(|c| c.starts_with("riskdesk_session=")).unwrap();
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/"), "{c}");
    // Open redirects are refused.
    let evil =
        send(&app, "POST", "/login", None, Some(format!("username=ana&password={PASSWORD}&next=//evil.example"))).await;
    assert_eq!(evil.location.as_deref(), Some("/"));
    let tab =
        send(&app, "POST", "/login", None, Some(format!("username=ana&password={PASSWORD}&next=/%09/evil.example")))
            .await;
    assert_eq!(tab.location.as_deref(), Some("/"), "a tab would make browsers go to //evil.example");
    // A sign-in form posted from another site is refused (login CSRF), same-site is fine.
    let form = format!("username=ana&password={PASSWORD}");
    for (origin, want) in [
        ("http://evil.example", StatusCode::FORBIDDEN),
        ("null", StatusCode::FORBIDDEN),
        ("http://localhost", StatusCode::SEE_OTHER),
    ] {
        let req = Request::post("/login")
            .header("host", "localhost")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.clone()))
            .unwrap();
        let resp = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), want, "origin {origin}");
    }
    // A form without the CSRF token is refused.
    let p = send(&app, "POST", "/logout", Some(&a.cookie), Some(String::new())).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = send(&app, "POST", "/logout", Some(&a.cookie), Some("csrf=forged".into())).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Sign-out ends the session on the server, not only in the browser.
    let p = a.post(&app, "/logout", "").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(a.get(&app, "/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get(&app, "/").await.status, StatusCode::OK);
    // An administrator disables an account: its sessions end at once; no one disables themself.
    add_user(&app, "root", Role::Admin).await;
    add_user(&app, "max", Role::QaReviewer).await;
    let root = sign_in(&app, "root").await;
    let max = sign_in(&app, "max").await;
    assert_eq!(max.get(&app, "/").await.status, StatusCode::OK);
    assert_eq!(root.post(&app, "/users/root/disable", "").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(max.post(&app, "/users/root/disable", "").await.status, StatusCode::FORBIDDEN);
    let p = root.post(&app, "/users/max/disable", "").await;
    assert_eq!(p.location.as_deref(), Some("/users?done=disabled&name=max"));
    assert!(root.get(&app, "/users?done=disabled&name=max").await.body.contains("max is disabled"));
    assert_eq!(max.get(&app, "/").await.status, StatusCode::SEE_OTHER);
    // Repeated failures throttle the account, with the same answer for a right password.
    for _ in 0..5 {
        send(&app, "POST", "/login", None, Some("username=ana&password=wrong-wrong-wrong".into())).await;
    }
    let p = send(&app, "POST", "/login", None, Some(format!("username=ana&password={PASSWORD}"))).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    // Sign-ins and failures are in the audit log, without the typed password.
    let log = app.service.store().audit_records(&AuditFilter { limit: 1000, ..Default::default() }).await.unwrap();
    assert!(log.iter().any(|r| r.entry.action == "session.login_failed" && r.entry.subject == "user:ana"));
    assert!(log.iter().all(|r| !r.entry.detail.contains("wrong-wrong") && !r.entry.subject.contains("nope")));
});

/// Every route, and which permission it needs (None: any signed-in user).
fn routes(
    order: &str,
    proposal: &str,
    amendable: &str,
) -> Vec<(&'static str, String, String, Option<riskdesk_domain::Permission>)> {
    use riskdesk_domain::Permission::*;
    let o = enc(order);
    vec![
        // Everyone has a home: people without orders are sent on to their first area.
        ("GET", "/".into(), String::new(), None),
        ("GET", "/queue".into(), String::new(), Some(ViewOrders)),
        ("GET", format!("/orders/{o}"), String::new(), Some(ViewOrders)),
        ("GET", "/proposals".into(), String::new(), Some(ViewOrders)),
        ("POST", format!("/orders/{o}/claim"), String::new(), Some(DecideOrders)),
        ("POST", format!("/orders/{o}/unclaim"), String::new(), Some(DecideOrders)),
        (
            "POST",
            format!("/orders/{o}/review"),
            "action=hold&reason=awaiting_customer&note=x".into(),
            Some(DecideOrders),
        ),
        ("POST", format!("/orders/{o}/assign"), "user=ana".into(), Some(AssignQueue)),
        ("POST", format!("/orders/{o}/unmask"), "purpose=checking+the+matrix".into(), Some(Unmask)),
        ("GET", "/rules".into(), String::new(), Some(ViewRules)),
        ("GET", "/rules/1".into(), String::new(), Some(ViewRules)),
        ("POST", "/rules/validate".into(), format!("source={}", enc(REVIEW_SET)), Some(EditRules)),
        ("POST", "/rules/1/shadow".into(), String::new(), Some(EditRules)),
        ("POST", "/rules/shadow/stop".into(), String::new(), Some(EditRules)),
        ("GET", "/lists".into(), String::new(), Some(ViewRules)),
        (
            "POST",
            "/lists/add".into(),
            "list=block&kind=email_domain&value=spam.example&reason=matrix".into(),
            Some(EditRules),
        ),
        ("GET", "/kpis".into(), String::new(), Some(ViewKpis)),
        ("GET", "/kpis/rules".into(), String::new(), Some(ViewKpis)),
        ("GET", "/kpis/alerts".into(), String::new(), Some(ViewKpis)),
        ("GET", "/kpis/reports".into(), String::new(), Some(ViewKpis)),
        ("GET", "/kpis/table.csv".into(), String::new(), Some(ViewKpis)),
        ("POST", "/kpis/alerts".into(), String::new(), Some(ManageKpis)),
        ("GET", "/privacy".into(), String::new(), Some(ViewPrivacy)),
        ("GET", "/privacy/breaches".into(), String::new(), Some(ViewPrivacy)),
        ("GET", "/privacy/records".into(), String::new(), Some(ViewPrivacy)),
        ("POST", "/privacy/breaches".into(), "title=matrix+breach".into(), Some(WorkPrivacy)),
        ("POST", "/privacy/sweeps".into(), String::new(), Some(WorkPrivacy)),
        ("GET", "/audit".into(), String::new(), Some(ViewAudit)),
        ("GET", "/audit.csv".into(), String::new(), Some(ViewAudit)),
        ("GET", "/users".into(), String::new(), Some(ManageUsers)),
        ("POST", "/users/ana/role".into(), "role=fraud_analyst".into(), Some(ManageUsers)),
        ("POST", "/users/ana/password".into(), format!("password={PASSWORD}"), Some(ManageUsers)),
        (
            "POST",
            format!("/proposals/{amendable}/amend"),
            "reason=stolen_card&note=matrix+amended".into(),
            Some(DecideOrders),
        ),
        ("POST", format!("/proposals/{proposal}/reject"), String::new(), Some(ApproveOrderActions)),
    ]
}

both_backends!(route_by_role_matrix, |app: TestApp| async move {
    use_review_set(&app).await;
    for r in Role::ALL {
        add_user(&app, r.as_str(), r).await;
    }
    add_user(&app, "ana", Role::FraudAnalyst).await;
    for r in Role::ALL {
        let b = sign_in(&app, r.as_str()).await;
        // Fresh objects per role, so that an earlier role's action never changes the answer.
        let order = format!("M-{}", r.as_str());
        submit(&app, &order_of(&order, &format!("C-{}", r.as_str()), "150.00", 1)).await;
        let maker = sign_in(&app, "ana").await;
        let big = format!("B-{}", r.as_str());
        submit(&app, &order_of(&big, &format!("D-{}", r.as_str()), "900.00", 2)).await;
        let p = maker
            .post(&app, &format!("/orders/{}/review", enc(&big)), "action=cancel&reason=stolen_card&note=matrix")
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let proposal = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == big).unwrap().id;
        let big2 = format!("E-{}", r.as_str());
        submit(&app, &order_of(&big2, &format!("F-{}", r.as_str()), "900.00", 3)).await;
        maker
            .post(&app, &format!("/orders/{}/review", enc(&big2)), "action=cancel&reason=stolen_card&note=matrix")
            .await;
        let amendable = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == big2).unwrap().id;
        for (method, path, form, need) in routes(&order, &proposal, &amendable) {
            let allowed = need.is_none_or(|p| r.allows(p));
            let page = if method == "GET" { b.get(&app, &path).await } else { b.post(&app, &path, &form).await };
            if allowed {
                assert!(
                    page.status.is_success() || page.status.is_redirection(),
                    "{} may {method} {path}, got {}: {}",
                    r.as_str(),
                    page.status,
                    page.body.chars().take(300).collect::<String>()
                );
            } else {
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{} may not {method} {path}", r.as_str());
            }
        }
    }
});

both_backends!(four_eyes_cancel_through_the_ui, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "ben", Role::RiskExpert).await;
    add_user(&app, "lea", Role::TeamLead).await;
    add_user(&app, "root", Role::Admin).await;
    use riskdesk_service::webhooks::{Endpoint, Policy, Webhooks};
    let shop = Endpoint {
        name: "shop".into(),
        url: "http://127.0.0.1:9/hooks".into(),
        secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMy".into(),
    };
    app.service.set_webhooks(Webhooks { endpoints: vec![shop], policy: Policy::default() }).unwrap();
    let d = submit(&app, &order_of("BIG-1", "C-1", "1200.00", 1)).await;
    assert_eq!(d["decision"], "review");
    submit(&app, &order_of("SMALL-1", "C-2", "120.00", 2)).await;
    let ana = sign_in(&app, "ana").await;
    let ben = sign_in(&app, "ben").await;

    // Below the threshold a cancel runs at once; above it, it becomes a proposal.
    // POST/redirect/GET: the decision redirects to the order, which says what happened.
    let p = ana.post(&app, "/orders/SMALL-1/review", "action=release&reason=verified_customer&note=called").await;
    assert_eq!(p.location.as_deref(), Some("/orders/SMALL-1?done=released"), "{}", p.body);
    assert!(ana.get(&app, p.location.as_deref().unwrap()).await.body.contains("Order released"));
    let p = ana.post(&app, "/orders/BIG-1/review", "action=cancel&reason=stolen_card&note=issuer+confirmed").await;
    assert_eq!(p.location.as_deref(), Some("/orders/BIG-1?done=proposed"), "{}", p.body);
    assert!(ana.get(&app, p.location.as_deref().unwrap()).await.body.contains("Cancellation proposed"));
    let (_, order) = app.get("/api/v1/orders/BIG-1").await;
    assert_eq!(order["decisions"].as_array().unwrap().len(), 1, "nothing ran yet");
    // A second proposal for the same order is refused.
    let p = ana.post(&app, "/orders/BIG-1/review", "action=cancel&reason=stolen_card&note=again").await;
    assert_eq!(p.status, StatusCode::CONFLICT);

    let prop = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == "BIG-1").unwrap();
    // The maker is not offered Approve, and the server refuses it anyway.
    let page = ana.get(&app, "/proposals").await;
    assert!(!page.body.contains("class=\"approve\""), "no Approve for the maker");
    let p = ana
        .post(&app, &format!("/proposals/{}/approve", prop.id), &format!("payload_hash={}", prop.payload_hash))
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "an analyst may not approve at all");
    // An approval of a payload other than the stored one (what the approver saw) is refused.
    let p = ben.post(&app, &format!("/proposals/{}/approve", prop.id), "payload_hash=0000").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("changed after you opened it"), "{}", p.body);
    let page = ben.get(&app, "/proposals").await;
    assert!(page.body.contains("class=\"approve\""), "the expert is offered Approve");
    let p = ben
        .post(&app, &format!("/proposals/{}/approve", prop.id), &format!("payload_hash={}", prop.payload_hash))
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);

    // Exactly the approved payload ran: the order is declined, labelled fraud, the shop told.
    let (_, order) = app.get("/api/v1/orders/BIG-1").await;
    let decisions = order["decisions"].as_array().unwrap();
    assert_eq!(decisions.last().unwrap()["decision"], "decline");
    assert_eq!(decisions.last().unwrap()["reasons"][0]["detail"], "stolen_card");
    assert!(order["events"].as_array().unwrap().iter().any(|e| e["type"] == "fraud_confirmed"));
    let log = app.service.store().audit_records(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    let actions: Vec<(&str, &str)> = log.iter().map(|r| (r.entry.action.as_str(), r.entry.actor.as_str())).collect();
    assert!(actions.contains(&("proposal.approve", "user:ben")), "{actions:?}");
    assert!(actions.contains(&("order.cancel", "user:ana")), "{actions:?}");
    assert!(actions.contains(&("proposal.create", "user:ana")), "{actions:?}");
    // The shop is told of both outcomes by webhook (delivered from the outbox).
    let due =
        app.service.store().claim_outbox(chrono::Utc::now() + chrono::Duration::days(365), 1_000, 100).await.unwrap();
    let reviewed: Vec<String> = due
        .iter()
        .filter(|m| m.event_type == "order.reviewed")
        .map(|m| serde_json::from_str::<Value>(&m.payload).unwrap()["data"]["order_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reviewed.len(), 2, "{reviewed:?}");
    assert!(reviewed.contains(&"SMALL-1".to_owned()) && reviewed.contains(&"BIG-1".to_owned()));
    // Approving again is refused: it ran once.
    let p = ben
        .post(&app, &format!("/proposals/{}/approve", prop.id), &format!("payload_hash={}", prop.payload_hash))
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    // Any change voids an approval in flight, and whoever changed it is a maker too.
    submit(&app, &order_of("BIG-3", "C-4", "700.00", 4)).await;
    ana.post(&app, "/orders/BIG-3/review", "action=cancel&reason=stolen_card&note=first").await;
    let seen = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == "BIG-3").unwrap();
    let p = ben.post(&app, &format!("/proposals/{}/amend", seen.id), "reason=account_takeover&note=it+is+an+ATO").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let now = app.service.proposal(&seen.id).await.unwrap();
    assert_ne!(now.payload_hash, seen.payload_hash);
    assert_eq!(now.makers, ["user:ana", "user:ben"]);
    let p =
        ben.post(&app, &format!("/proposals/{}/approve", seen.id), &format!("payload_hash={}", now.payload_hash)).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "the amender is a maker");
    assert!(p.body.contains("you made or changed"), "{}", p.body);
    let lea = sign_in(&app, "lea").await;
    let p = lea
        .post(&app, &format!("/proposals/{}/approve", seen.id), &format!("payload_hash={}", seen.payload_hash))
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "approving what was shown before the change is void");
    let p =
        lea.post(&app, &format!("/proposals/{}/approve", seen.id), &format!("payload_hash={}", now.payload_hash)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let (_, order) = app.get("/api/v1/orders/BIG-3").await;
    assert_eq!(
        order["decisions"].as_array().unwrap().last().unwrap()["reasons"][0]["detail"],
        "account_takeover",
        "the amended payload ran"
    );

    // The emergency bypass: administrators only, with a reason, flagged.
    submit(&app, &order_of("BIG-2", "C-3", "800.00", 3)).await;
    ana.post(&app, "/orders/BIG-2/review", "action=cancel&reason=account_takeover&note=").await;
    let prop = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == "BIG-2").unwrap();
    let lea = sign_in(&app, "lea").await;
    assert_eq!(
        lea.post(&app, &format!("/proposals/{}/bypass", prop.id), "note=urgent").await.status,
        StatusCode::FORBIDDEN
    );
    let root = sign_in(&app, "root").await;
    assert_eq!(root.post(&app, &format!("/proposals/{}/bypass", prop.id), "note=").await.status, StatusCode::FORBIDDEN);
    let p = root.post(&app, &format!("/proposals/{}/bypass", prop.id), "note=fraud+ring+shipping+tonight").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let log = app
        .service
        .store()
        .audit_records(&AuditFilter { action: Some("proposal.bypass".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].entry.flagged);
    assert_eq!(log[0].entry.purpose.as_deref(), Some("fraud ring shipping tonight"));

    // Blocking a customer: proposed by the analyst (UI and API), never direct.
    let p = ana.post(&app, "/lists/add", "list=block&kind=customer&value=C-9&reason=mule").await;
    let to = p.location.clone().unwrap_or_default();
    assert!(to.starts_with("/lists?done=proposed&id=prp_"), "{to}");
    assert!(ana.get(&app, &to).await.body.contains("needs four eyes"));
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/lists",
            Some(&app.rules_key),
            Some(
                serde_json::to_vec(&json!([{"list": "block", "kind": "customer", "value": "C-8", "reason": "x"}]))
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    app.approve_pending().await;
    let blocked = app.service.store().list_entries().await.unwrap();
    assert!(blocked.iter().any(|e| e.value == "C-9" && e.list.as_str() == "block"));
});

both_backends!(personal_data_masked_unless_unmasked_with_purpose, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "tia", Role::Tier2Agent).await;
    add_user(&app, "pia", Role::PrivacyOfficer).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    let mut o = order_of("PII-1", "C-77", "150.00", 1);
    o["customer"]["email"] = json!("anna.schmidt@example.com");
    o["customer"]["phone"] = json!("+4915112345678");
    o["customer"]["name"] = json!("Anna Schmidt");
    submit(&app, &o).await;
    let tia = sign_in(&app, "tia").await;
    let page = tia.get(&app, "/orders/PII-1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("a***@example.com"), "masked e-mail shown");
    for secret in ["anna.schmidt", "4915112345678", "Schmidt", "Torstr", "203.0.113.7"] {
        assert!(!page.body.contains(secret), "{secret} must not reach a tier-2 agent");
    }
    assert!(!page.body.contains("id=\"unmask\""), "no unmask button without the right");
    assert!(page.body.contains("order.ip = 203.0.*.*"), "a rule's IP value is masked too");
    assert_eq!(tia.post(&app, "/orders/PII-1/unmask", "purpose=just+curious").await.status, StatusCode::FORBIDDEN);

    let ana = sign_in(&app, "ana").await;
    let p = ana.post(&app, "/orders/PII-1/unmask", "purpose=").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "a purpose is required");
    let p = ana.post(&app, "/orders/PII-1/unmask", "purpose=call+the+customer+to+verify").await;
    assert!(p.body.contains("anna.schmidt@example.com") && p.body.contains("+4915112345678"));
    // The read is in the audit log with its purpose, and the privacy officer finds it.
    let pia = sign_in(&app, "pia").await;
    let audit = pia.get(&app, "/audit?action=personal_data.unmask").await;
    assert!(audit.body.contains("call the customer to verify") && audit.body.contains("user:ana"), "{}", audit.body);
    // List values of personal kinds are masked on the lists page, for every role.
    ana.post(&app, "/lists/add", "list=block&kind=email&value=anna.schmidt%40example.com&reason=mule").await;
    add_user(&app, "aud", Role::Auditor).await;
    let lists = sign_in(&app, "aud").await.get(&app, "/lists").await;
    assert!(lists.body.contains("a***@example.com") && !lists.body.contains("anna.schmidt"), "{}", lists.body);
    let csv = pia.get(&app, "/audit.csv?subject=order:PII-1").await;
    assert!(csv.body.contains("personal_data.unmask"));
    assert!(!csv.body.contains("anna.schmidt"), "the audit log holds no personal data in clear");
});

both_backends!(hostile_data_is_shown_inert, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "lea", Role::TeamLead).await;
    let cap = riskdesk_service::access::local::rules("<img src=x onerror=alert(1)>");
    let (v, _) = app.service.save_ruleset(&cap, REVIEW_SET, "<script>alert('note')</script>").await.unwrap();
    app.service.publish_ruleset(&cap, v).await.unwrap();
    // Intake refuses markup where it has no business (names); what it accepts is stored
    // verbatim and must be shown as text.
    let mut o = order_of("X-0", "C-0", "150.00", 1);
    o["customer"]["name"] = json!("<script>alert('name')</script>");
    let (s, e) = app.post("/api/v1/orders", &o).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("customer.name")), "{e}");
    let mut o = order_of("X-1", "C-1", "150.00", 1);
    let hostile = [
        ("/shipping_address/line1", "\" onmouseover=\"alert(1)"),
        ("/shipping_address/city", "< script >alert(1)< /script >"),
        ("/device/user_agent", "' onfocus='alert(2)' autofocus='"),
        ("/attributes/gift_note", "javascript:alert(3)"),
        ("/items/0/brand", "{{7*7}} &lt;script&gt;"),
    ];
    for (ptr, value) in hostile {
        let mut at = &mut o;
        for seg in ptr.trim_start_matches('/').split('/') {
            at = match seg.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[seg],
            };
        }
        *at = json!(value);
    }
    submit(&app, &o).await;
    let ana = sign_in(&app, "ana").await;
    // Notes with tags are refused like intake text; quotes and ampersands are kept.
    let p = ana
        .post(
            &app,
            "/orders/X-1/review",
            "action=hold&reason=awaiting_customer&note=%3Cscript%3Ealert(4)%3C%2Fscript%3E",
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = ana
        .post(&app, "/orders/X-1/review", "action=hold&reason=awaiting_customer&note=%22%3E+%26+it%27s+%22fine%22")
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = ana.post(&app, "/orders/X-1/unmask", "purpose=check+the+%22address%22+line").await;
    assert_eq!(p.status, StatusCode::OK);
    let lea = sign_in(&app, "lea").await;
    let mut pages = vec![p.body];
    for path in ["/orders/X-1", "/queue", "/rules", "/rules/2", "/lists"] {
        let page = lea.get(&app, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        pages.push(page.body);
    }
    for body in &pages {
        for raw in [
            "<script>alert",
            "<img src=x",
            "\" onmouseover=\"alert",
            "' onfocus='alert",
            "< script >",
            "<b>everything",
            "&lt;script&gt;alert('note')",
            "\"> & it's",
        ] {
            assert!(!body.contains(raw), "{raw} rendered unescaped");
        }
    }
    // Shown as text: escaped once, pre-escaped text escaped again, templates not evaluated.
    let named = |b: &str| {
        b.replace("&#60;", "&lt;")
            .replace("&#62;", "&gt;")
            .replace("&#34;", "&quot;")
            .replace("&#39;", "&apos;")
            .replace("&#38;", "&amp;")
    };
    let order_page = named(&pages[0]);
    assert!(order_page.contains("&quot; onmouseover=&quot;alert(1)"), "address");
    assert!(order_page.contains("&lt; script &gt;alert(1)"), "city");
    assert!(order_page.contains("{{7*7}} &amp;lt;script&amp;gt;"), "brand");
    let source = named(&pages[4]);
    assert!(
        source.contains("&lt;b&gt;everything&lt;/b&gt;") && source.contains("&lt;script&gt;alert("),
        "rule source as text"
    );
    assert!(named(&pages[3]).contains("&lt;img src=x onerror=alert(1)&gt;"), "author as text");
    let page = named(&lea.get(&app, "/orders/X-1").await.body);
    assert!(page.contains("&quot;&gt; &amp; it&apos;s &quot;fine&quot;"), "note as text");
});

both_backends!(audit_chain_verifies_and_names_the_request, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    let ana = sign_in(&app, "ana").await;
    ana.post(&app, "/lists/add", "list=block&kind=email_domain&value=spam.example&reason=campaign").await;
    let report = app.service.verify_audit(&local::audit_reader()).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.records >= 3, "user.create, session.login, list.add: {}", report.records);
    let log = app
        .service
        .store()
        .audit_records(&AuditFilter { action: Some("list.add".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(log[0].entry.actor, "user:ana");
    assert!(
        log[0].entry.request_id.as_deref().is_some_and(|r| r.len() == 26),
        "the request's ULID: {:?}",
        log[0].entry.request_id
    );
    // A client's request id is kept only when it is plain; anything else is replaced.
    for (sent, kept) in [("lb-42_abc", true), ("=HYPERLINK(\"http://x\")", false), ("a b", false)] {
        let req = Request::post("/login")
            .header("host", "localhost")
            .header("x-request-id", sent)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("username=nobody&password=wrong-wrong-wrong"))
            .unwrap();
        app.router.clone().oneshot(req).await.unwrap();
        let last = app.service.store().audit_records(&AuditFilter { limit: 1, ..Default::default() }).await.unwrap();
        let got = last[0].entry.request_id.clone().unwrap_or_default();
        assert_eq!(got == sent, kept, "{sent} → {got}");
        assert!(got.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{got}");
    }
});

/// The same chain on PostgreSQL: an edited, a deleted and an inserted row are found.
#[tokio::test]
async fn audit_verify_detects_tampering_on_postgres() {
    let Some(db) = riskdesk_store_postgres::testing::fresh_database().await else { return };
    let store = riskdesk_store_postgres::PgStore::connect(&db.url, 4).await.unwrap();
    let app = app_on(std::sync::Arc::new(store), Guard::None).await;
    for (n, r) in
        [("ana", Role::FraudAnalyst), ("ben", Role::RiskExpert), ("cat", Role::Auditor), ("dan", Role::TeamLead)]
    {
        add_user(&app, n, r).await;
    }
    let verify = || async { app.service.verify_audit(&local::audit_reader()).await.unwrap().problems };
    let first = verify().await;
    assert!(first.is_empty(), "{first:?}");
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let exec = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(sql).execute(&pool).await.unwrap() }
    };
    exec("CREATE TABLE original AS SELECT * FROM audit_log WHERE seq = 2").await;
    exec("UPDATE audit_log SET detail = '{\"role\":\"admin\"}' WHERE seq = 2").await;
    let p = verify().await;
    assert!(p.iter().any(|x| matches!(x, riskdesk_domain::ChainProblem::BadHash { seq: 2 })), "{p:?}");
    exec("UPDATE audit_log a SET detail = o.detail FROM original o WHERE a.seq = 2").await;
    assert!(verify().await.is_empty());
    exec("CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = 3").await;
    exec("DELETE FROM audit_log WHERE seq = 3").await;
    let p = verify().await;
    assert!(p.iter().any(|x| matches!(x, riskdesk_domain::ChainProblem::Gap { after: 2, next: 4 })), "{p:?}");
    exec("INSERT INTO audit_log SELECT * FROM saved").await;
    assert!(verify().await.is_empty());
    exec(
        "INSERT INTO audit_log (seq, at, actor, action, subject, purpose, request_id, detail, flagged, prev_hash, hash) \
         SELECT seq + 1, at, 'user:mallory', 'user.create', 'user:mallory', NULL, NULL, '{}', 0, hash, sha256(hash) \
         FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)",
    )
    .await;
    exec("UPDATE audit_head SET (seq, hash) = (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1)").await;
    let p = verify().await;
    assert!(p.iter().any(|x| matches!(x, riskdesk_domain::ChainProblem::BadHash { .. })), "{p:?}");
    pool.close().await;
    drop(app);
    drop(db);
}

both_backends!(rules_pages_validate_backtest_publish_with_four_eyes_and_roll_back, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "ben", Role::RiskExpert).await;
    for i in 0..3 {
        submit(&app, &order_of(&format!("H-{i}"), &format!("C-{i}"), "150.00", i)).await;
    }
    let ana = sign_in(&app, "ana").await;
    // Validation as you type: the fragment names rule, line and column.
    let bad = "[[rule]]\nid = \"x\"\nname = \"x\"\nexpression = 'order.amont > 1.0'\naction = \"review\"\n";
    let p = ana.post(&app, "/rules/validate", &format!("source={}", enc(bad))).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("role=\"alert\"") && p.body.contains("x") && p.body.contains("line 1"), "{}", p.body);
    let p = ana.post(&app, "/rules/validate", &format!("source={}", enc(REVIEW_SET))).await;
    assert!(p.body.contains("Valid: 3 rules"), "{}", p.body);
    // Saving a set that does not compile is refused on the editor, the draft and note as typed.
    let p = ana.post(&app, "/rules/save", &format!("source={}&note=typo+fix", enc(bad))).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(
        p.body.contains("id=\"form-error\"") && p.body.contains("expression = &#39;order.amont &#62; 1.0"),
        "{}",
        p.body
    );
    assert!(p.body.contains("value=\"typo fix\""), "{}", p.body);
    // Save, backtest, propose.
    let p = ana.post(&app, "/rules/save", &format!("source={}&note=review+all", enc(REVIEW_SET))).await;
    assert_eq!((p.status, p.location.as_deref()), (StatusCode::SEE_OTHER, Some("/rules/2")));
    let p = ana.post(&app, "/rules/2/backtest", "").await;
    assert!(p.body.contains("Backtest: 3 orders") && p.body.contains("review_all"), "{}", p.body);
    // POST/redirect/GET: the proposal is named on the page the browser is sent to.
    let p = ana.post(&app, "/rules/2/propose", "").await;
    let to = p.location.clone().unwrap_or_default();
    assert!(p.status == StatusCode::SEE_OTHER && to.starts_with("/rules/2?done=proposed&id=prp_"), "{to}");
    assert!(ana.get(&app, &to).await.body.contains("Publishing proposed (prp_"));
    let (_, d) = app.post("/api/v1/orders", &order_of("N-1", "C-9", "150.00", 9)).await;
    assert_eq!(d["ruleset_version"], 1, "not live before the approval");
    let prop = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == "2").unwrap();
    let ben = sign_in(&app, "ben").await;
    // The approver sees what changes: the rules against the live set and the backtest beside it.
    let approvals = ben.get(&app, "/proposals").await.body;
    for seen in ["Backtest", "4 orders replayed", "This version flags", "The live version flags", "newly flagged"] {
        assert!(approvals.contains(seen), "{seen}: {approvals}");
    }
    let p = ben
        .post(&app, &format!("/proposals/{}/approve", prop.id), &format!("payload_hash={}", prop.payload_hash))
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = ana.get(&app, "/rules").await;
    assert!(page.body.contains("id=\"live-version\">v2"), "live after approval");
    let (_, d) = app.post("/api/v1/orders", &order_of("N-2", "C-10", "150.00", 10)).await;
    assert_eq!((d["ruleset_version"].as_i64(), d["decision"].as_str()), (Some(2), Some("review")));
    // Rolling back is a proposal with a reason too; it runs when a second person approves.
    let p = ana.post(&app, "/rules/rollback", "").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let p = ana.post(&app, "/rules/rollback", "reason=too+many+reviews").await;
    assert_eq!((p.status, p.location.as_deref()), (StatusCode::SEE_OTHER, Some("/proposals")));
    assert!(ana.get(&app, "/rules").await.body.contains("id=\"live-version\">v2"), "not before the approval");
    let prop = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.kind == "rollback_ruleset").unwrap();
    let approvals = ben.get(&app, "/proposals").await.body;
    assert!(approvals.contains("too many reviews") && approvals.contains("This version flags"), "{approvals}");
    let own = ana
        .post(&app, &format!("/proposals/{}/approve", prop.id), &format!("payload_hash={}", prop.payload_hash))
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "the maker cannot approve it");
    let p = ben
        .post(&app, &format!("/proposals/{}/approve", prop.id), &format!("payload_hash={}", prop.payload_hash))
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(ana.get(&app, "/rules").await.body.contains("id=\"live-version\">v1"));
    let log = app
        .service
        .store()
        .audit_records(&AuditFilter { subject: Some("ruleset:".into()), limit: 50, ..Default::default() })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["ruleset.save", "ruleset.publish", "ruleset.rollback"], "{actions:?}");
});

both_backends!(an_order_is_decided_once_even_when_two_decide_at_once, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "ben", Role::RiskExpert).await;
    add_user(&app, "lea", Role::TeamLead).await;
    let (ana, ben) = (sign_in(&app, "ana").await, sign_in(&app, "ben").await);
    for i in 0..5 {
        let id = format!("RACE-{i}");
        submit(&app, &order_of(&id, &format!("C-{i}"), "150.00", i)).await;
        let path = format!("/orders/{id}/review");
        let (a, b) = tokio::join!(
            ana.post(&app, &path, "action=release&reason=verified_customer&note=a"),
            ben.post(&app, &path, "action=cancel&reason=stolen_card&note=b"),
        );
        let statuses = [a.status, b.status];
        assert!(statuses.contains(&StatusCode::SEE_OTHER) && statuses.contains(&StatusCode::CONFLICT), "{statuses:?}");
        let (_, order) = app.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(order["decisions"].as_array().unwrap().len(), 2, "one screening decision, one manual: {order}");
    }
    // While a cancellation waits for approval, nobody decides the order around it: a direct
    // release is refused naming the proposal, which stays pending for the second person.
    submit(&app, &order_of("LATE-1", "C-9", "900.00", 9)).await;
    ana.post(&app, "/orders/LATE-1/review", "action=cancel&reason=stolen_card&note=").await;
    let p = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == "LATE-1").unwrap();
    for form in ["action=release&reason=verified_customer&note=called", "action=hold&reason=awaiting_customer&note=x"] {
        let r = ben.post(&app, "/orders/LATE-1/review", form).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains(&p.id), "the refusal names the proposal: {}", r.body);
        // The refusal is shown on the order's form, with what was chosen and typed kept.
        assert!(r.body.contains("id=\"form-error\"") && r.body.contains("id=\"review-form\""), "{}", r.body);
    }
    let r = ben
        .post(&app, "/orders/LATE-1/review", "action=release&reason=verified_customer&note=called+the+customer")
        .await;
    assert!(r.body.contains("id=\"act-release\" required checked"), "{}", r.body);
    assert!(r.body.contains("value=\"verified_customer\" data-action=\"release\" selected"), "{}", r.body);
    assert!(r.body.contains(">called the customer</textarea>"), "{}", r.body);
    // A missing reason is refused on the form too (422), the note kept.
    let r = ben.post(&app, "/orders/LATE-1/review", "action=hold&reason=&note=keep+me").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Choose a reason") && r.body.contains(">keep me</textarea>"), "{}", r.body);
    let (s, e) = app.get("/api/v1/orders/LATE-1").await;
    assert_eq!((s, e["decisions"].as_array().unwrap().len()), (StatusCode::OK, 1), "nothing was decided: {e}");
    assert_eq!(app.service.proposal(&p.id).await.unwrap().status.as_str(), "pending");
    let lea = sign_in(&app, "lea").await;
    let r = lea.post(&app, &format!("/proposals/{}/approve", p.id), &format!("payload_hash={}", p.payload_hash)).await;
    assert!(r.status.is_redirection(), "{}", r.body);
    assert_eq!(app.service.proposal(&p.id).await.unwrap().status.as_str(), "executed");
    let (_, order) = app.get("/api/v1/orders/LATE-1").await;
    assert_eq!(order["decisions"].as_array().unwrap().len(), 2, "{order}");
});

// After people decide, the order's "why" still shows the screening's rule hits, and every
// proposal about it stays in its history, whatever became of it.
both_backends!(the_screening_why_and_every_proposal_stay_visible, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    submit(&app, &order_of("WHY-1", "C-1", "900.00", 1)).await;
    let ana = sign_in(&app, "ana").await;
    // A cancellation proposed, then withdrawn by its maker; then the order released.
    ana.post(&app, "/orders/WHY-1/review", "action=cancel&reason=stolen_card&note=first+thought").await;
    let prop = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == "WHY-1").unwrap();
    let w = ana.post(&app, &format!("/proposals/{}/withdraw", prop.id), "").await;
    assert!(w.status.is_redirection(), "{}", w.body);
    let r = ana.post(&app, "/orders/WHY-1/review", "action=release&reason=verified_customer&note=called").await;
    assert_eq!(r.location.as_deref(), Some("/orders/WHY-1?done=released"), "{}", r.body);
    let page = ana.get(&app, "/orders/WHY-1").await;
    let why = page.body.split("id=\"hits\"").nth(1).unwrap_or_default().split("</table>").next().unwrap_or_default();
    assert!(why.contains("review_all"), "the screening's hits stay: {why}");
    assert!(!why.contains("manual_review"), "{why}");
    assert!(
        page.body.contains("cancel order proposed by ana: withdrawn"),
        "the withdrawn proposal stays in the history"
    );
});

// Amending a cancellation starts from its reason and note.
both_backends!(an_amendment_starts_from_the_proposal, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "lea", Role::TeamLead).await;
    submit(&app, &order_of("AM-1", "C-1", "900.00", 1)).await;
    let ana = sign_in(&app, "ana").await;
    ana.post(&app, "/orders/AM-1/review", "action=cancel&reason=stolen_card&note=issuer+called").await;
    let page = sign_in(&app, "lea").await.get(&app, "/proposals").await;
    let amend =
        page.body.split("/amend\"").nth(1).unwrap_or_default().split("</form>").next().unwrap_or_default().to_owned();
    assert!(amend.contains("value=\"issuer called\""), "{amend}");
    assert!(amend.contains("value=\"stolen_card\" selected"), "{amend}");
    // Amended, then approved by a second person: the review history keeps the screening, the
    // proposal, the amendment with what it replaced, and the outcome, in order.
    let prop = app.service.proposals(true).await.unwrap().into_iter().find(|x| x.target == "AM-1").unwrap();
    let lea = sign_in(&app, "lea").await;
    let r = lea
        .post(&app, &format!("/proposals/{}/amend", prop.id), "reason=account_takeover&note=owner+confirmed+ato")
        .await;
    assert!(r.status.is_redirection(), "{}", r.body);
    add_user(&app, "ben", Role::RiskExpert).await;
    let prop = app.service.proposal(&prop.id).await.unwrap();
    let ben = sign_in(&app, "ben").await;
    let r = ben
        .post(&app, &format!("/proposals/{}/approve", prop.id), &format!("payload_hash={}", prop.payload_hash))
        .await;
    assert!(r.status.is_redirection(), "{}", r.body);
    let page = ana.get(&app, "/orders/AM-1").await.body;
    let history: Vec<&str> = page
        .split("id=\"review-history\">")
        .nth(1)
        .unwrap_or_default()
        .split("</ul>")
        .next()
        .unwrap_or_default()
        .split("<li")
        .skip(1)
        .collect();
    let line = |i: usize| history.get(i).copied().unwrap_or_default();
    assert!(line(0).contains("screened: review"), "{history:?}");
    assert!(line(1).contains("proposed by ana: stolen card"), "{history:?}");
    assert!(line(2).contains("amended by lea (was: stolen card)"), "{history:?}");
    assert!(history.iter().any(|l| l.contains("through proposal") && l.contains("account takeover")), "{history:?}");
    assert!(history.iter().any(|l| l.contains("executed by ben")), "{history:?}");
});

// Search by ids and by entities through their keyed hashes, audited without the text.
both_backends!(search_finds_orders_and_accounts_on_keyed_hashes, |app: TestApp| async move {
    add_user(&app, "tia", Role::Tier2Agent).await;
    add_user(&app, "pro", Role::ProviderLead).await;
    submit(&app, &order_of("S-1", "C-1", "50.00", 1)).await;
    submit(&app, &order_of("S-2", "C-2", "60.00", 2)).await;
    let tia = app.service.create_token_for(&local::user_admin(), "tia", "t", None).await.unwrap().secret;
    let get = |q: &str| {
        let (app, tia, q) = (&app, tia.clone(), q.to_owned());
        async move { app.call("GET", &format!("/api/v1/search?q={}", enc(&q)), Some(&tia), None).await }
    };
    let (s, r) = get(" C-1@Example.com ").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["accounts"][0]["customer_id"].as_str(), r["accounts"][0]["matched_on"].as_str()),
        (Some("C-1"), Some("email")),
        "{r}"
    );
    let (_, r) = get("203.0.113.7").await;
    assert_eq!(r["accounts"].as_array().unwrap().len(), 2, "both accounts used the IP: {r}");
    let (_, r) = get("S-2").await;
    assert_eq!(r["orders"], serde_json::json!(["S-2"]));
    let (_, r) = get("fp-C-2").await;
    assert_eq!(r["accounts"][0]["matched_on"], "card", "{r}");
    let (_, r) = get("nobody@example.com").await;
    assert!(r["accounts"].as_array().unwrap().is_empty());
    assert_eq!(get("").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // Audited as reads, with the hashes looked up and not the text.
    let f = AuditFilter { action: Some("search".into()), limit: 50, ..Default::default() };
    let rec = app.service.audit_records(&local::audit_reader(), &f).await.unwrap();
    assert_eq!(rec.len(), 5);
    assert!(
        rec.iter().all(|r| !r.entry.detail.contains("example.com") && !r.entry.detail.contains("203.0.113")),
        "{:?}",
        rec[0].entry.detail
    );
    // One hit opens straight away; a provider's lead does not search orders.
    let page = sign_in(&app, "tia").await.get(&app, "/search?q=C-1%40example.com").await;
    assert_eq!(page.location.as_deref(), Some("/customers/C-1"));
    assert_eq!(sign_in(&app, "pro").await.get(&app, "/search?q=S-1").await.status, StatusCode::FORBIDDEN);
});

// The held view shows each hold's reason and note and filters by reason; the decided view shows
// who decided what and when, and offers no claim.
both_backends!(held_and_decided_views_say_why, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    submit(&app, &order_of("HV-1", "C-1", "150.00", 1)).await;
    submit(&app, &order_of("HV-2", "C-2", "150.00", 2)).await;
    submit(&app, &order_of("HV-3", "C-3", "150.00", 3)).await;
    let ana = sign_in(&app, "ana").await;
    ana.post(&app, "/orders/HV-1/review", "action=hold&reason=awaiting_customer&note=sent+ID+request").await;
    ana.post(&app, "/orders/HV-2/review", "action=release&reason=verified_customer&note=called+back").await;
    let held = ana.get(&app, "/queue?state=held").await;
    assert!(held.body.contains("awaiting customer — “sent ID request”"), "{}", held.body);
    let filtered = ana.get(&app, "/queue?state=held&reason=verified_customer").await;
    assert!(!filtered.body.contains("HV-1"), "filtered by reason");
    let decided = ana.get(&app, "/queue?state=closed").await;
    let at = decided.body.find("HV-2").expect("the decided order is listed");
    let row = decided.body[at..].split("</tr>").next().unwrap_or_default().to_owned();
    assert!(row.contains("release by ana"), "{row}");
    assert!(!row.contains("/claim"), "no claim on a decided order: {row}");
    let (_, api) = app
        .call(
            "GET",
            "/api/v1/queue?state=held",
            Some(&app.service.create_token_for(&local::user_admin(), "ana", "t", None).await.unwrap().secret),
            None,
        )
        .await;
    assert_eq!(api["items"][0]["last_action"]["note"], "sent ID request", "{api}");
});

// An entity shared by more accounts than linking follows is one counted node, never expanded;
// the heading counts what the picture draws, and each account drawn links to its page.
both_backends!(hubs_are_counted_not_drawn, |app: TestApp| async move {
    add_user(&app, "ana", Role::FraudAnalyst).await;
    // Every test order comes from one IP: twelve accounts make it a hub.
    let own_address = |o: &mut Value, n: &str| o["shipping_address"]["line1"] = json!(format!("Weg {n}"));
    for i in 0..12 {
        let mut o = order_of(&format!("IP-{i}"), &format!("C-IP{i}"), "20.00", i);
        own_address(&mut o, &i.to_string());
        submit(&app, &o).await;
    }
    for (id, c) in [("DV-1", "C-DV1"), ("DV-2", "C-DV2")] {
        let mut o = order_of(id, c, "30.00", 20);
        own_address(&mut o, id);
        o["device"]["device_id"] = json!("dev-ring");
        submit(&app, &o).await;
    }
    let at = (t0() + chrono::Duration::minutes(25)).to_rfc3339();
    let (s, _) = app
        .post(
            "/api/v1/events",
            &json!({"event_id": "FR-1", "type": "fraud_confirmed", "occurred_at": at, "order_id": "DV-1", "customer_id": "C-DV1"}),
        )
        .await;
    assert!(s.is_success());
    let mut o = order_of("HUB-1", "C-HUB", "900.00", 30);
    own_address(&mut o, "HUB");
    o["device"]["device_id"] = json!("dev-ring");
    submit(&app, &o).await;
    let page = sign_in(&app, "ana").await.get(&app, "/orders/HUB-1").await.body;
    let heading =
        page.split("id=\"graph-heading\">").nth(1).unwrap_or_default().split("</h2>").next().unwrap_or_default();
    assert!(heading.contains("Linked accounts: 2 drawn") && heading.contains("1 with confirmed fraud"), "{heading}");
    assert_eq!(page.matches("class=\"node-link\"").count(), 2, "{page}");
    assert!(page.contains("href=\"/customers/C-DV1\"") && page.contains("href=\"/customers/C-DV2\""));
    assert!(page.contains("hub: 14 accounts") && page.contains("ip with 14 other accounts"), "{page}");
    assert!(!page.contains("/customers/C-IP0"), "a hub's accounts are not drawn");

    // The customer page: events and labels, list entries matching the account, linked accounts.
    let k = app.rules_key.clone();
    let entry = json!({"list": "block", "kind": "device", "value": "dev-ring", "reason": "ring of accounts"});
    let (s, e) = app.call("POST", "/api/v1/lists", Some(&k), Some(serde_json::to_vec(&entry).unwrap())).await;
    assert!(s.is_success(), "{e}");
    let page = sign_in(&app, "ana").await.get(&app, "/customers/C-DV1").await.body;
    let section = |id: &str| {
        page.split(&format!("id=\"{id}\""))
            .nth(1)
            .unwrap_or_default()
            .split("</section>")
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let events = section("customer-events");
    assert!(events.contains("1 confirmed fraud") && events.contains("fraud confirmed"), "{events}");
    let linked = section("customer-linked");
    assert!(linked.contains("href=\"/customers/C-DV2\"") && linked.contains("href=\"/customers/C-HUB\""), "{linked}");
    assert!(linked.contains("ip with 14 other accounts"), "{linked}");
    let lists = section("customer-lists");
    assert!(lists.contains("block") && lists.contains("ring of accounts"), "{lists}");
    // The API answers the same view.
    let t = app.service.create_token_for(&local::user_admin(), "ana", "test", None).await.unwrap().secret;
    let (s, v) = app.call("GET", "/api/v1/customers/C-DV1/overview", Some(&t), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["labels"][0], 1, "{v}");
    assert!(v["linked"].as_array().unwrap().iter().any(|n| n["customer_id"] == "C-DV2"), "{v}");
    assert_eq!(v["list_entries"].as_array().unwrap().len(), 1, "{v}");

    // The audit view by customer: every record about the account, its orders and cases,
    // whatever the subject recorded; the export carries the chain's fields.
    let ana = sign_in(&app, "ana").await;
    let p = ana.post(&app, "/orders/DV-1/unmask", "purpose=call+the+customer").await;
    assert!(p.status.is_success(), "{}", p.body);
    ana.post(&app, "/orders/HUB-1/unmask", "purpose=another+customer").await;
    add_user(&app, "aud", Role::Auditor).await;
    let aud = sign_in(&app, "aud").await;
    let page = aud.get(&app, "/audit?customer=C-DV1").await.body;
    assert!(page.contains("order:DV-1") && !page.contains("order:HUB-1"), "{page}");
    let t = app.service.create_token_for(&local::user_admin(), "aud", "test", None).await.unwrap().secret;
    let (s, a) = app.call("GET", "/api/v1/audit?customer=C-DV1", Some(&t), None).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let subjects: Vec<&str> = a["records"].as_array().unwrap().iter().map(|r| r["subject"].as_str().unwrap()).collect();
    assert!(
        !subjects.is_empty() && subjects.iter().all(|s| *s == "order:DV-1" || *s == "customer:C-DV1"),
        "{subjects:?}"
    );
    let csv = aud.get(&app, "/audit.csv?customer=C-DV1").await.body;
    assert!(csv.starts_with("seq,at,actor,action,subject,purpose,request_id,flagged,detail,prev_hash,hash"), "{csv}");
});

// A Tier-2 agent's home offers what they do (report, escalate, their cases), not what they
// cannot (claiming, approvals, decision keys).
both_backends!(a_tier2_home_offers_only_what_they_may_do, |app: TestApp| async move {
    add_user(&app, "tia", Role::Tier2Agent).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    let home = sign_in(&app, "tia").await.get(&app, "/").await.body;
    assert!(home.contains("href=\"/cases/new\"") && home.contains("href=\"/reports\""), "{home}");
    for absent in ["claimed by you", "approvals waiting", "<kbd>r</kbd>"] {
        assert!(!home.contains(absent), "{absent}: {home}");
    }
    let home = sign_in(&app, "ana").await.get(&app, "/").await.body;
    assert!(home.contains("claimed by you") && !home.contains("href=\"/cases/new\""), "{home}");
});
