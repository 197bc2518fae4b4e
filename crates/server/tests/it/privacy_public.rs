//! The public request page and its API twin, without sign-in: an unknown address gets the same
//! answer and stores nothing; a customer's address enters a `web_form` request and mails a code
//! to the address on file (a real SMTP server); the code, and only the code, verifies the person;
//! malformed input names the field. Both backends.

use crate::common::*;
use crate::kpis::smtp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskdesk_store::conformance::order_json;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn public(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    app.call("POST", path, None, Some(serde_json::to_vec(&body).unwrap())).await
}

async fn form(app: &TestApp, path: &str, body: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    (status, String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned())
}

async fn request_count(app: &TestApp) -> usize {
    let viewer = riskdesk_service::PrivacyViewer::local(riskdesk_service::audit::Actor::cli());
    app.service.privacy_requests(&viewer, true, None).await.unwrap().len()
}

/// The request number and code of the newest mail (quoted-printable soft breaks joined).
fn mailed(inbox: &smtp::Inbox) -> (Vec<String>, String, String) {
    let (to, mail) = inbox.0.lock().unwrap().last().cloned().expect("a mail was sent");
    let text = mail.replace("=\r\n", "");
    let id: String = text[text.find("dsr_").expect("request number")..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let at = text.find("code is ").expect("code") + 8;
    (to, id, text[at..at + 6].to_owned())
}

both_backends!(the_public_page_enters_requests_verified_by_a_mailed_code, |app: TestApp| async move {
    let mut o = order_json("P-1", "C-PAT", 1);
    o["customer"]["email"] = json!("Pat.Public@Example.org");
    assert_eq!(app.post("/api/v1/orders", &o).await.0, StatusCode::OK);
    let (port, inbox) = smtp::start();
    let mut settings = app.service.settings();
    settings.kpis.reports.smtp_url = format!("smtp://127.0.0.1:{port}");
    app.service.set_settings(settings);

    // Documented beside the staff operations.
    let (_, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    for p in ["/api/v1/public/privacy/requests", "/api/v1/public/privacy/confirm", "/api/v1/privacy/requests"] {
        assert!(doc["paths"].get(p).is_some(), "{p} documented");
    }
    // The page is public.
    let (s, page) = app.call("GET", "/public/privacy", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("id=\"public-request\""));

    // An unknown address: the same answer, nothing stored, nothing sent.
    let (s, unknown) =
        public(&app, "/api/v1/public/privacy/requests", json!({"right": "access", "email": "nobody@example.org"}))
            .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{unknown}");
    assert_eq!(request_count(&app).await, 0);
    assert!(inbox.0.lock().unwrap().is_empty());

    // Malformed input names the field and stores nothing.
    for (body, field) in [
        (json!({"right": "forget", "email": "pat.public@example.org"}), "right"),
        (json!({"right": "access", "email": "not an address"}), "email"),
        (json!({"right": "access", "email": "pat.public@example.org", "details": "x".repeat(5000)}), "details"),
        (json!({"right": "access", "email": "pat.public@example.org", "customer_id": "C-OTHER"}), "customer_id"),
    ] {
        let (s, e) = public(&app, "/api/v1/public/privacy/requests", body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
    assert_eq!(request_count(&app).await, 0);

    // The customer's address (in other letter case): the same answer, a request, a code by mail.
    let (s, known) =
        public(&app, "/api/v1/public/privacy/requests", json!({"right": "erasure", "email": "pat.public@example.org"}))
            .await;
    assert_eq!((s, &known), (StatusCode::ACCEPTED, &unknown), "the answer tells nothing");
    let (to, id, code) = mailed(&inbox);
    assert_eq!(
        to,
        vec!["Pat.Public@example.org".to_owned()],
        "the code goes to the address on file (domain folded at intake)"
    );
    let pia = riskdesk_service::PrivacyViewer::local(riskdesk_service::audit::Actor::cli());
    let r = app.service.privacy_request(&pia, &id).await.unwrap();
    assert_eq!(
        (r.record.customer_id.as_str(), r.record.channel.as_str(), r.record.identity.as_str(), r.paused),
        ("C-PAT", "web_form", "code_sent", true)
    );

    // A wrong code (and an unknown request) are refused alike; the right one verifies.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let (s, e) = public(&app, "/api/v1/public/privacy/confirm", json!({"request_id": id, "code": wrong})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s2, e2) =
        public(&app, "/api/v1/public/privacy/confirm", json!({"request_id": "dsr_NOPE", "code": code})).await;
    assert_eq!((s2, e2), (s, e), "an unknown request answers as a wrong code");
    let (s, v) = public(&app, "/api/v1/public/privacy/confirm", json!({"request_id": id, "code": code})).await;
    assert_eq!((s, v["verified"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let r = app.service.privacy_request(&pia, &id).await.unwrap();
    assert_eq!((r.record.identity.as_str(), r.paused), ("verified", false));
    // A used code does not verify again.
    let (s, _) = public(&app, "/api/v1/public/privacy/confirm", json!({"request_id": id, "code": code})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // The same through the page's forms: a second right, its code, confirmed.
    let (s, html) = form(&app, "/public/privacy", "right=access&email=pat.public%40example.org&details=").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"public-received\""), "{html}");
    let (_, id2, code2) = mailed(&inbox);
    assert_ne!(id2, id);
    let (s, html) = form(&app, "/public/privacy/confirm", &format!("request_id={id2}&code=999999x")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"error\"") && html.contains(&id2), "the number is kept: {html}");
    let (s, html) = form(&app, "/public/privacy/confirm", &format!("request_id={id2}&code={code2}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"public-verified\""), "{html}");
    let (s, html) = form(&app, "/public/privacy", "right=access&email=broken&details=").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("email") && html.contains("value=\"broken\""), "the input is kept: {html}");
    assert_eq!(request_count(&app).await, 2);
});
