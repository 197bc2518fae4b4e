//! Disputes: the providers' webhooks (signatures, replay window, deduplication, hostile bodies,
//! one lifecycle), linking to orders, the case, the evidence checklist and CE 3.0, the pack,
//! responding with four eyes, the deadline watch, report imports, scheme ratios, refund claims
//! and return abuse; on both backends.

use crate::common::*;
use crate::desk::{add_user, sign_in};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskdesk_domain::Role;
use riskdesk_domain::disputes::{adyen, stripe};
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use riskdesk_service::disputes::{AdyenConfig, DisputesConfig, StripeConfig};
use riskdesk_store::conformance::order_json;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "whsec_test";
const KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

fn configure(app: &TestApp) {
    let mut s = app.service.settings();
    s.disputes = DisputesConfig {
        stripe: StripeConfig { webhook_secret: SECRET.into(), tolerance_secs: 300 },
        adyen: AdyenConfig { hmac_key: KEY.into() },
        ..DisputesConfig::default()
    };
    app.service.set_settings(s);
}

async fn token(app: &TestApp, user: &str) -> String {
    app.service.create_token_for(&local::user_admin(), user, "test", None).await.unwrap().secret
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

async fn raw(app: &TestApp, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> (StatusCode, String) {
    let mut req = Request::builder().method("POST").uri(path).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = app.router.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let s = resp.status();
    (s, String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned())
}

// The fields a test varies, named at each call.
#[allow(clippy::too_many_arguments)]
fn stripe_body(
    evt: &str,
    kind: &str,
    dispute: &str,
    status: &str,
    reason: &str,
    amount: i64,
    pi: &str,
    created: i64,
    due: i64,
) -> Vec<u8> {
    json!({"id": evt, "object": "event", "type": kind, "created": created,
           "data": {"object": {"id": dispute, "object": "dispute", "amount": amount, "currency": "eur", "charge": format!("ch_{pi}"),
                    "payment_intent": pi, "reason": reason, "status": status, "created": created,
                    "evidence_details": {"due_by": due}, "metadata": {},
                    "payment_method_details": {"type": "card", "card": {"brand": "visa", "network_reason_code": if reason == "fraudulent" { "10.4" } else { "13.1" }}}}}})
    .to_string()
    .into_bytes()
}

async fn send_stripe(app: &TestApp, body: Vec<u8>) -> (StatusCode, String) {
    let t = app.service.now().timestamp();
    let sig = stripe::sign(&body, SECRET, t);
    raw(app, "/api/v1/webhooks/stripe", &[("stripe-signature", sig)], body).await
}

fn adyen_item(code: &str, psp: &str, order: &str, reason: &str, value: i64, date: &str, due: &str) -> Value {
    let mut it = json!({
        "additionalData": {"chargebackReasonCode": reason, "chargebackSchemeCode": "mc", "defensePeriodEndsAt": due},
        "amount": {"currency": "EUR", "value": value}, "eventCode": code, "eventDate": date,
        "merchantAccountCode": "ShopDE", "merchantReference": order, "originalReference": format!("orig-{psp}"),
        "paymentMethod": "mc", "pspReference": psp, "reason": "test", "success": "true"
    });
    it["additionalData"]["hmacSignature"] = json!(adyen::sign(&it, KEY));
    it
}

fn adyen_body(items: Vec<Value>) -> Vec<u8> {
    json!({"live": "false", "notificationItems": items.into_iter().map(|i| json!({"NotificationRequestItem": i})).collect::<Vec<_>>()})
        .to_string()
        .into_bytes()
}

async fn order_with_psp(app: &TestApp, id: &str, customer: &str, minutes: i64, psp: &str, amount: &str) {
    let mut o = order_json(id, customer, minutes);
    o["payment"]["psp_reference"] = json!(psp);
    o["total"] = json!({"amount": amount, "currency": "EUR"});
    let (s, d) = app.post("/api/v1/orders", &o).await;
    assert_eq!(s, StatusCode::OK, "{d}");
}

async fn event(app: &TestApp, id: &str, kind: &str, order: &str, minutes: i64, data: Value) {
    let at = (t0() + chrono::Duration::minutes(minutes)).to_rfc3339();
    let (s, d) = app
        .post(
            "/api/v1/events",
            &json!({"event_id": id, "type": kind, "occurred_at": at, "order_id": order, "data": data}),
        )
        .await;
    assert!(s.is_success(), "{d}");
}

async fn disputes(app: &TestApp, tok: &str, q: &str) -> Value {
    let (s, v) = call(app, tok, "GET", &format!("/api/v1/disputes{q}"), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

both_backends!(stripe_webhooks_are_verified_deduplicated_and_follow_one_lifecycle, |app: TestApp| async move {
    configure(&app);
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    let pat = token(&app, "pat").await;
    order_with_psp(&app, "S-1", "C-1", -60 * 24, "pi_S1", "249.90").await;
    let now = app.service.now().timestamp();
    let due = now + 7 * 86_400;
    let created = stripe_body(
        "evt_1",
        "charge.dispute.created",
        "dp_1",
        "needs_response",
        "fraudulent",
        24_990,
        "pi_S1",
        now,
        due,
    );
    // No signature, a wrong one, another secret's, a replay outside the window: 401, nothing stored.
    assert_eq!(raw(&app, "/api/v1/webhooks/stripe", &[], created.clone()).await.0, StatusCode::UNAUTHORIZED);
    let bad = format!("t={now},v1={}", "ab".repeat(32));
    assert_eq!(
        raw(&app, "/api/v1/webhooks/stripe", &[("stripe-signature", bad)], created.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let other = stripe::sign(&created, "whsec_other", now);
    assert_eq!(
        raw(&app, "/api/v1/webhooks/stripe", &[("stripe-signature", other)], created.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let old = stripe::sign(&created, SECRET, now - 301);
    let (s, body) = raw(&app, "/api/v1/webhooks/stripe", &[("stripe-signature", old)], created.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("bad_signature"), "{body}");
    assert_eq!(disputes(&app, &pat, "?status=").await["total"], 0);
    // Signed but hostile: not JSON, a negative amount, an unknown status. Named, nothing stored.
    for (b, field) in [
        (b"{not json".to_vec(), "body"),
        (
            stripe_body(
                "evt_h1",
                "charge.dispute.created",
                "dp_h",
                "needs_response",
                "fraudulent",
                -1,
                "pi_S1",
                now,
                due,
            ),
            "data.object.amount",
        ),
        (
            stripe_body("evt_h2", "charge.dispute.created", "dp_h", "exploded", "fraudulent", 1, "pi_S1", now, due),
            "data.object.status",
        ),
    ] {
        let (s, e) = send_stripe(&app, b).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.contains(field), "{field}: {e}");
    }
    assert_eq!(disputes(&app, &pat, "?status=").await["total"], 0);

    // Stored, linked to the order through the PaymentIntent, a case opened.
    let (s, r) = send_stripe(&app, created.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let r: Value = serde_json::from_str(&r).unwrap();
    assert_eq!((r["outcome"].as_str(), r["received"].as_bool()), (Some("stored"), Some(true)));
    let id = r["dispute_id"].as_str().unwrap().to_owned();
    // The same event again is a duplicate: nothing stored twice.
    let (_, again) = send_stripe(&app, created).await;
    assert!(again.contains("duplicate"), "{again}");
    let list = disputes(&app, &pat, "?order_id=S-1").await;
    assert_eq!(list["total"], 1, "{list}");
    let d = &list["disputes"][0];
    assert_eq!(d["dispute_id"], id.as_str());
    assert_eq!(d["provider"], "stripe");
    assert_eq!(d["order_id"], "S-1");
    assert_eq!(d["stage"], "chargeback");
    assert_eq!(d["status"], "needs_response");
    assert_eq!(d["reason_family"], "fraud");
    assert_eq!(d["amount"], json!({"amount": "249.90", "currency": "EUR"}));
    assert_eq!(
        d["due_by"].as_str().unwrap(),
        chrono::DateTime::from_timestamp(due, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    let (_, full) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{id}"), None).await;
    assert_eq!(full["events"].as_array().unwrap().len(), 1, "{full}");
    assert!(full["events"][0]["raw"].as_str().unwrap().contains("\"evt_1\""), "the raw event is kept verbatim");
    assert!(full["checklist"].as_array().unwrap().iter().any(|i| i["code"] == "ce3"), "{full}");
    assert!(full["ce3_candidates"].is_array());
    let case = full["case_id"].as_str().expect("a case opened").to_owned();
    add_user(&app, "lea", Role::TeamLead).await;
    let lea = token(&app, "lea").await;
    let (_, c) = call(&app, &lea, "GET", &format!("/api/v1/cases/{case}"), None).await;
    assert_eq!(c["kind"], "dispute", "{c}");

    // Under review, then won; a late "needs response" does not move it back.
    send_stripe(
        &app,
        stripe_body("evt_2", "charge.dispute.updated", "dp_1", "under_review", "fraudulent", 24_990, "pi_S1", now, due),
    )
    .await;
    send_stripe(
        &app,
        stripe_body("evt_3", "charge.dispute.closed", "dp_1", "won", "fraudulent", 24_990, "pi_S1", now, due),
    )
    .await;
    send_stripe(
        &app,
        stripe_body(
            "evt_0",
            "charge.dispute.updated",
            "dp_1",
            "needs_response",
            "fraudulent",
            24_990,
            "pi_S1",
            now,
            due,
        ),
    )
    .await;
    let (_, full) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{id}"), None).await;
    assert_eq!((full["stage"].as_str(), full["status"].as_str()), (Some("chargeback"), Some("won")), "{full}");
    assert_eq!(full["events"].as_array().unwrap().len(), 4);
    assert!(full["closed_at"].is_string());
    // A Stripe event of another type is acknowledged and ignored.
    let other = json!({"id": "evt_x", "type": "charge.succeeded", "created": now, "data": {"object": {}}})
        .to_string()
        .into_bytes();
    let (s, b) = send_stripe(&app, other).await;
    assert_eq!(s, StatusCode::OK);
    assert!(b.contains("ignored"), "{b}");
});

both_backends!(adyen_batches_verify_every_item_and_deduplicate, |app: TestApp| async move {
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    let pat = token(&app, "pat").await;
    let body = adyen_body(vec![adyen_item(
        "NOTIFICATION_OF_CHARGEBACK",
        "PSP1",
        "A-1",
        "4855",
        12_000,
        "2026-06-01T10:00:00+02:00",
        "2026-06-20T10:00:00+02:00",
    )]);
    // No key configured: refused.
    assert_eq!(raw(&app, "/api/v1/webhooks/adyen", &[], body.clone()).await.0, StatusCode::UNAUTHORIZED);
    configure(&app);
    order_with_psp(&app, "A-1", "C-2", -60 * 24 * 10, "orig-PSP1", "120.00").await;
    let two = adyen_body(vec![
        adyen_item(
            "NOTIFICATION_OF_CHARGEBACK",
            "PSP1",
            "A-1",
            "4855",
            12_000,
            "2026-06-01T10:00:00+02:00",
            "2026-06-20T10:00:00+02:00",
        ),
        adyen_item(
            "CHARGEBACK",
            "PSP1",
            "A-1",
            "4855",
            12_000,
            "2026-06-01T11:00:00+02:00",
            "2026-06-20T10:00:00+02:00",
        ),
    ]);
    let (s, b) = raw(&app, "/api/v1/webhooks/adyen", &[], two.clone()).await;
    assert_eq!((s, b.as_str()), (StatusCode::OK, "[accepted]"));
    // Redelivered: accepted again, nothing new.
    assert_eq!(raw(&app, "/api/v1/webhooks/adyen", &[], two).await.1, "[accepted]");
    let list = disputes(&app, &pat, "?status=").await;
    assert_eq!(list["total"], 1, "{list}");
    let d = &list["disputes"][0];
    assert_eq!(
        (d["order_id"].as_str(), d["reason_family"].as_str(), d["network"].as_str()),
        (Some("A-1"), Some("not_received"), Some("mastercard"))
    );
    assert_eq!(d["due_by"], "2026-06-20T08:00:00Z");
    assert_eq!(d["funds_minor"], -12_000, "CHARGEBACK moved the money");
    let (_, full) =
        call(&app, &pat, "GET", &format!("/api/v1/disputes/{}", d["dispute_id"].as_str().unwrap()), None).await;
    assert_eq!(full["events"].as_array().unwrap().len(), 2);
    // One tampered item refuses the whole batch: its good item is not stored either.
    let good = adyen_item(
        "NOTIFICATION_OF_CHARGEBACK",
        "PSP2",
        "A-2",
        "10.4",
        5_000,
        "2026-06-01T10:00:00+02:00",
        "2026-06-20T10:00:00+02:00",
    );
    let mut bad = adyen_item(
        "CHARGEBACK_REVERSED",
        "PSP1",
        "A-1",
        "4855",
        12_000,
        "2026-06-02T10:00:00+02:00",
        "2026-06-20T10:00:00+02:00",
    );
    bad["amount"]["value"] = json!(1);
    let (s, _) = raw(&app, "/api/v1/webhooks/adyen", &[], adyen_body(vec![good, bad])).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(disputes(&app, &pat, "?status=").await["total"], 1);
    // Hostile shapes name the field.
    let (s, b) = raw(&app, "/api/v1/webhooks/adyen", &[], b"{\"notificationItems\": 5}".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b.contains("notificationItems"), "{b}");
    // Reversed: won, money back.
    let rev = adyen_item(
        "CHARGEBACK_REVERSED",
        "PSP1",
        "A-1",
        "4855",
        12_000,
        "2026-06-05T10:00:00+02:00",
        "2026-06-20T10:00:00+02:00",
    );
    raw(&app, "/api/v1/webhooks/adyen", &[], adyen_body(vec![rev])).await;
    let d = &disputes(&app, &pat, "?order_id=A-1").await["disputes"][0];
    assert_eq!((d["status"].as_str(), d["funds_minor"].as_i64()), (Some("won"), Some(0)));
    // The chargeback again with another (unsigned) date: kept as an event, the money not counted twice.
    let mut again = adyen_item(
        "CHARGEBACK",
        "PSP1",
        "A-1",
        "4855",
        12_000,
        "2026-06-01T11:00:00+02:00",
        "2026-06-20T10:00:00+02:00",
    );
    again["eventDate"] = json!("2026-06-07T11:00:00+02:00");
    assert_eq!(raw(&app, "/api/v1/webhooks/adyen", &[], adyen_body(vec![again])).await.1, "[accepted]");
    let d = &disputes(&app, &pat, "?order_id=A-1").await["disputes"][0];
    assert_eq!(d["funds_minor"].as_i64(), Some(0), "{d}");
});

both_backends!(evidence_comes_from_the_order_and_ce3_from_earlier_orders, |app: TestApp| async move {
    configure(&app);
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    let pat = token(&app, "pat").await;
    let day = 60 * 24;
    // The same card, device and IP: 200 and 150 days before qualify; 100 days is too recent.
    for (id, days) in [("E-200", 200), ("E-150", 150), ("E-100", 100)] {
        order_with_psp(&app, id, "C-9", -days * day, &format!("pi_{id}"), "80.00").await;
    }
    // The same card under another account, 300 days before, from the same IP to the same
    // address (its device differs): two elements, one the IP, so it qualifies too.
    let mut other = order_json("E-300", "C-8", -300 * day);
    other["payment"]["card"]["fingerprint"] = json!("fp-C-9");
    assert_eq!(app.post("/api/v1/orders", &other).await.0, StatusCode::OK);
    // Another account's order on another card never counts.
    assert_eq!(app.post("/api/v1/orders", &order_json("E-250", "C-7", -250 * day)).await.0, StatusCode::OK);
    order_with_psp(&app, "E-1", "C-9", -5 * day, "pi_E1", "180.00").await;
    event(
        &app,
        "ev-s",
        "order_shipped",
        "E-1",
        -4 * day,
        json!({"carrier": "DHL", "tracking_number": "00340434161094042557"}),
    )
    .await;
    event(&app, "ev-d", "order_delivered", "E-1", -2 * day, json!({})).await;
    let now = app.service.now().timestamp();
    let (_, r) = send_stripe(
        &app,
        stripe_body(
            "evt_f",
            "charge.dispute.created",
            "dp_f",
            "needs_response",
            "fraudulent",
            18_000,
            "pi_E1",
            now,
            now + 86_400 * 9,
        ),
    )
    .await;
    let id = serde_json::from_str::<Value>(&r).unwrap()["dispute_id"].as_str().unwrap().to_owned();
    let (_, d) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{id}"), None).await;
    let cands = d["ce3_candidates"].as_array().unwrap();
    let qualifying: Vec<&str> =
        cands.iter().filter(|c| c["qualifies"] == true).map(|c| c["order_id"].as_str().unwrap()).collect();
    assert_eq!(qualifying, ["E-150", "E-200", "E-300"], "{d}");
    let elsewhere = cands.iter().find(|c| c["order_id"] == "E-300").unwrap();
    assert_eq!(elsewhere["matching"], json!(["ip", "shipping_address"]), "{elsewhere}");
    assert!(cands.iter().all(|c| c["order_id"] != "E-250"), "{d}");
    let recent = cands.iter().find(|c| c["order_id"] == "E-100").unwrap();
    assert!(recent["why"].as_str().unwrap().contains("fewer than 120"), "{recent}");
    assert_eq!(d["ce3_eligible"], true);
    let state = |code: &str| {
        d["checklist"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state("ce3"), "automatic");
    assert_eq!(state("delivery_scan"), "automatic");
    assert_eq!(state("account_history"), "automatic");
    // The IP is masked on the page and the API view; the pack for the provider has it.
    let ip = d["checklist"].as_array().unwrap().iter().find(|i| i["code"] == "purchase_ip").unwrap()["evidence"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!ip.contains("203.0.113.7"), "{ip}");

    // "Not received" on the same order's twin: the carrier's data satisfies the shipping items.
    let (_, r) = send_stripe(
        &app,
        stripe_body(
            "evt_n",
            "charge.dispute.created",
            "dp_n",
            "needs_response",
            "product_not_received",
            18_000,
            "pi_E1",
            now,
            now + 86_400 * 9,
        ),
    )
    .await;
    let nid = serde_json::from_str::<Value>(&r).unwrap()["dispute_id"].as_str().unwrap().to_owned();
    let (_, n) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{nid}"), None).await;
    let items: Vec<(&str, &str)> = n["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap(), i["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        items,
        [
            ("tracking_number", "automatic"),
            ("carrier", "automatic"),
            ("delivery_scan", "automatic"),
            ("address_match", "automatic"),
            ("customer_communication", "missing")
        ],
        "{n}"
    );
    // By hand, with a note; an unknown item or an empty note is refused, naming the field.
    let path = format!("/api/v1/disputes/{nid}/evidence");
    let (s, e) = call(&app, &pat, "POST", &path, Some(json!({"item": "ce3", "note": "x"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("item")), "{e}");
    let (s, e) = call(&app, &pat, "POST", &path, Some(json!({"item": "customer_communication", "note": "  "}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")), "{e}");
    let (s, _) = call(
        &app,
        &pat,
        "POST",
        &path,
        Some(json!({"item": "customer_communication", "note": "Mail of 2 June: the customer confirms receipt"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, pack) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{nid}/pack"), None).await;
    assert_eq!(pack["evidence"]["shipping_tracking_number"], "00340434161094042557", "{pack}");
    assert_eq!(pack["evidence"]["customer_communication"], "Mail of 2 June: the customer confirms receipt");
    assert_eq!(pack["missing"], json!([]));
    let (_, fraud_pack) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{id}/pack"), None).await;
    assert!(fraud_pack["evidence"]["customer_purchase_ip"].as_str().unwrap().contains("203.0.113.7"));
    assert!(fraud_pack["evidence"]["uncategorized_text"].as_str().unwrap().contains("E-150"));
    let resp = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/v1/disputes/{nid}/pack.pdf"))
                .header("authorization", format!("Bearer {pat}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(resp.into_body().collect().await.unwrap().to_bytes().starts_with(b"%PDF-"));
    // Reading the pack is audited.
    let f = riskdesk_store::audit::AuditFilter { action: Some("dispute.pack".into()), limit: 10, ..Default::default() };
    assert_eq!(app.service.audit_records(&local::audit_reader(), &f).await.unwrap().len(), 3);
});

both_backends!(responding_refuses_a_refunded_accept_and_needs_four_eyes_above_the_amount, |app: TestApp| async move {
    configure(&app);
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    add_user(&app, "ben", Role::RiskExpert).await;
    let (pat, ben) = (token(&app, "pat").await, token(&app, "ben").await);
    order_with_psp(&app, "R-1", "C-3", -3000, "pi_R1", "120.00").await;
    event(&app, "ev-r", "refund_issued", "R-1", -1000, json!({"amount": {"amount": "120.00", "currency": "EUR"}}))
        .await;
    order_with_psp(&app, "R-2", "C-4", -3000, "pi_R2", "90.00").await;
    order_with_psp(&app, "R-3", "C-5", -3000, "pi_R3", "900.00").await;
    let now = app.service.now().timestamp();
    let mut ids = Vec::new();
    for (evt, dp, pi, amount) in
        [("e1", "dp_r1", "pi_R1", 12_000), ("e2", "dp_r2", "pi_R2", 9_000), ("e3", "dp_r3", "pi_R3", 90_000)]
    {
        let (_, r) = send_stripe(
            &app,
            stripe_body(
                evt,
                "charge.dispute.created",
                dp,
                "needs_response",
                "credit_not_processed",
                amount,
                pi,
                now,
                now + 86_400 * 10,
            ),
        )
        .await;
        ids.push(serde_json::from_str::<Value>(&r).unwrap()["dispute_id"].as_str().unwrap().to_owned());
    }
    // Refunded already: accepting would pay twice.
    let (s, e) = call(
        &app,
        &pat,
        "POST",
        &format!("/api/v1/disputes/{}/accept", ids[0]),
        Some(json!({"reason": "customer is right"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("120.00 EUR"), "{e}");
    let (s, e) =
        call(&app, &pat, "POST", &format!("/api/v1/disputes/{}/accept", ids[1]), Some(json!({"reason": ""}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (s, a) = call(
        &app,
        &pat,
        "POST",
        &format!("/api/v1/disputes/{}/accept", ids[1]),
        Some(json!({"reason": "item never shipped"})),
    )
    .await;
    assert_eq!((s, a["status"].as_str()), (StatusCode::OK, Some("accepted")), "{a}");
    // Below the four-eye amount: submitted at once.
    let (s, r) = call(
        &app,
        &pat,
        "POST",
        &format!("/api/v1/disputes/{}/submit", ids[0]),
        Some(json!({"note": "refund of 120.00 attached"})),
    )
    .await;
    assert_eq!((s, r["outcome"].as_str()), (StatusCode::OK, Some("submitted")), "{r}");
    let (s, _) = call(&app, &pat, "POST", &format!("/api/v1/disputes/{}/submit", ids[0]), Some(json!({}))).await;
    assert_eq!(s, StatusCode::CONFLICT, "submitted once");
    // Above: a proposal; a machine key cannot propose, the maker cannot approve, a second person does.
    let key = app.service.create_api_key("psp-tool", &[Scope::Disputes]).await.unwrap().secret;
    let (s, _) =
        call(&app, &key, "POST", &format!("/api/v1/disputes/{}/submit", ids[2]), Some(json!({"note": "x"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, r) = call(
        &app,
        &pat,
        "POST",
        &format!("/api/v1/disputes/{}/submit", ids[2]),
        Some(json!({"note": "delivery proof"})),
    )
    .await;
    assert_eq!((s, r["outcome"].as_str()), (StatusCode::OK, Some("pending")), "{r}");
    let proposal = r["proposal_id"].as_str().unwrap().to_owned();
    let (_, d) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{}", ids[2]), None).await;
    assert_eq!(d["status"], "needs_response", "nothing submitted before the approval");
    let (_, p) = call(&app, &ben, "GET", &format!("/api/v1/proposals/{proposal}"), None).await;
    let summary = p["summary"].to_string();
    assert!(summary.contains("900.00 EUR") && summary.contains("delivery proof"), "{p}");
    let hash = p["payload_hash"].as_str().unwrap().to_owned();
    let (s, _) =
        call(&app, &pat, "POST", &format!("/api/v1/proposals/{proposal}/approve"), Some(json!({"payload_hash": hash})))
            .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) =
        call(&app, &ben, "POST", &format!("/api/v1/proposals/{proposal}/approve"), Some(json!({"payload_hash": hash})))
            .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, d) = call(&app, &pat, "GET", &format!("/api/v1/disputes/{}", ids[2]), None).await;
    assert_eq!((d["status"].as_str(), d["submitted_by"].as_str()), (Some("under_review"), Some("user:pat")), "{d}");
    // Roles: a Tier-2 agent sees no disputes; an auditor reads but does not respond.
    add_user(&app, "tia", Role::Tier2Agent).await;
    add_user(&app, "aud", Role::Auditor).await;
    let (tia, aud) = (token(&app, "tia").await, token(&app, "aud").await);
    assert_eq!(call(&app, &tia, "GET", "/api/v1/disputes", None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, &aud, "GET", "/api/v1/disputes", None).await.0, StatusCode::OK);
    // The pack and the raw provider events carry personal data: people who work disputes only.
    assert_eq!(
        call(&app, &aud, "GET", &format!("/api/v1/disputes/{}/pack", ids[1]), None).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, seen) = call(&app, &aud, "GET", &format!("/api/v1/disputes/{}", ids[1]), None).await;
    assert_eq!(seen["events"][0]["raw"], "", "{seen}");
    assert_eq!(
        call(&app, &key, "GET", &format!("/api/v1/disputes/{}/pack", ids[1]), None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, &aud, "POST", &format!("/api/v1/disputes/{}/accept", ids[1]), Some(json!({"reason": "x"}))).await.0,
        StatusCode::FORBIDDEN
    );
});

both_backends!(the_watch_warns_before_the_deadline_and_escalates_after, |app: TestApp| async move {
    configure(&app);
    add_user(&app, "lea", Role::TeamLead).await;
    let lea = token(&app, "lea").await;
    order_with_psp(&app, "W-1", "C-6", -3000, "pi_W1", "75.00").await;
    let now = app.service.now().timestamp();
    let (_, r) = send_stripe(
        &app,
        stripe_body(
            "ew",
            "charge.dispute.created",
            "dp_w",
            "needs_response",
            "fraudulent",
            7_500,
            "pi_W1",
            now,
            now + 10 * 3600,
        ),
    )
    .await;
    let id = serde_json::from_str::<Value>(&r).unwrap()["dispute_id"].as_str().unwrap().to_owned();
    let s = app.service.sweep_disputes().await.unwrap();
    assert_eq!((s.warned, s.escalated), (1, 0));
    assert_eq!(app.service.sweep_disputes().await.unwrap().warned, 0, "warned once");
    app.clock.advance(chrono::Duration::hours(11));
    let s = app.service.sweep_disputes().await.unwrap();
    assert_eq!((s.warned, s.escalated), (0, 1));
    let (_, d) = call(&app, &lea, "GET", &format!("/api/v1/disputes/{id}"), None).await;
    assert_eq!(d["urgency"], "overdue");
    let (_, c) = call(&app, &lea, "GET", &format!("/api/v1/cases/{}", d["case_id"].as_str().unwrap()), None).await;
    assert_eq!(c["priority"], "urgent", "{c}");
    let kinds: Vec<&str> = c["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"warning") && kinds.contains(&"escalated"), "{c}");
});

both_backends!(reports_import_whole_and_scheme_ratios_count_as_the_programmes_do, |app: TestApp| async move {
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    let pat = token(&app, "pat").await;
    let key = app.service.create_api_key("psp-report", &[Scope::Disputes]).await.unwrap().secret;
    app.clock.advance(chrono::Duration::days(14));
    let head = "dispute_ref,payment_ref,order_id,stage,status,reason_code,network,amount,currency,due_by,opened_at\n";
    // A bad third line stores nothing, and is named.
    let bad = format!(
        "{head}R1,p1,,chargeback,lost,10.4,visa,10.00,EUR,,2026-06-02T10:00:00Z\nR2,p2,,chargeback,unknown,10.4,visa,10.00,EUR,,2026-06-02T10:00:00Z\n"
    );
    let (s, e) = app.call("POST", "/api/v1/disputes/import", Some(&key), Some(bad.into_bytes())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("line 3"), "{e}");
    assert_eq!(disputes(&app, &pat, "?status=").await["total"], 0);
    // June: 12 Visa chargebacks on 11 payments (p1 twice, as a dispute and a second report row),
    // one inquiry (not counted), 10 Mastercard chargebacks; May: Mastercard sales.
    let mut csv = String::from(head);
    for i in 0..12 {
        let p = if i == 11 { "p1".to_owned() } else { format!("p{}", i + 1) };
        csv.push_str(&format!("V{i},{p},,chargeback,lost,10.4,visa,10.00,EUR,,2026-06-0{}T10:00:00Z\n", 1 + i % 9));
    }
    csv.push_str("VI,pi,,inquiry,needs_response,10.4,visa,10.00,EUR,2026-06-20T10:00:00Z,2026-06-01T09:00:00Z\n");
    for i in 0..10 {
        csv.push_str(&format!("M{i},m{i},,chargeback,lost,4837,mastercard,10.00,EUR,,2026-06-01T10:00:00Z\n"));
    }
    let (s, r) = app.call("POST", "/api/v1/disputes/import", Some(&key), Some(csv.clone().into_bytes())).await;
    assert_eq!((s, r["created"].as_i64()), (StatusCode::OK, Some(23)), "{r}");
    let (_, r) = app.call("POST", "/api/v1/disputes/import", Some(&key), Some(csv.into_bytes())).await;
    assert_eq!(
        (r["created"].as_i64(), r["unchanged"].as_i64()),
        (Some(0), Some(23)),
        "a repeated report changes nothing"
    );
    // Decided on arrival: no cases; the inquiry needs work: a case.
    let (_, open) = call(&app, &pat, "GET", "/api/v1/disputes?status=open", None).await;
    assert_eq!(open["total"], 1);
    assert!(open["disputes"][0]["case_id"].is_string());
    for (month, network, n) in [("2026-06", "visa", 1000), ("2026-05", "mastercard", 500)] {
        let (s, e) = call(
            &app,
            &key,
            "PUT",
            &format!("/api/v1/disputes/volumes/{month}/{network}"),
            Some(json!({"settled": n})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
    let (s, e) = call(&app, &key, "PUT", "/api/v1/disputes/volumes/2026-13/visa", Some(json!({"settled": 1}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("month")));
    let (_, r) = call(&app, &pat, "GET", "/api/v1/disputes/schemes?months=2", None).await;
    let june_v = r["visa_vamp"].as_array().unwrap().iter().find(|m| m["month"] == "2026-06").unwrap().clone();
    assert_eq!(
        (june_v["assessment"]["count"].as_i64(), june_v["assessment"]["denominator"].as_i64()),
        (Some(11), Some(1000)),
        "{r}"
    );
    assert!((june_v["assessment"]["ratio_pct"].as_f64().unwrap() - 1.1).abs() < 1e-9);
    assert_eq!(june_v["assessment"]["level"], "below", "below the count floor");
    assert_eq!(june_v["volume_source"], "report");
    let june_m = r["mastercard_ecp"].as_array().unwrap().iter().find(|m| m["month"] == "2026-06").unwrap().clone();
    assert_eq!(
        (june_m["assessment"]["count"].as_i64(), june_m["assessment"]["denominator"].as_i64()),
        (Some(10), Some(500))
    );
    assert!((june_m["assessment"]["ratio_pct"].as_f64().unwrap() - 2.0).abs() < 1e-9);
    assert_eq!(june_m["assessment"]["level"], "below", "fewer than 100 chargebacks");
    // The running month has a forecast.
    assert!(june_v["forecast"]["count"]["point"].as_f64().unwrap() >= 11.0, "{june_v}");
    assert!(r["alerts"].as_array().unwrap().is_empty(), "{r}");
    assert_eq!(app.service.open_scheme_cases().await.unwrap(), 0, "nothing crossed");

    // 100 more Mastercard chargebacks: 110 of 500 sales is over the programme's threshold and
    // count. An alert, and once per programme and month a case for the payments team.
    let mut more = String::from(head);
    for i in 10..110 {
        more.push_str(&format!("M{i},m{i},,chargeback,lost,4837,mastercard,10.00,EUR,,2026-06-02T10:00:00Z\n"));
    }
    let (s, r) = app.call("POST", "/api/v1/disputes/import", Some(&key), Some(more.into_bytes())).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (_, r) = call(&app, &pat, "GET", "/api/v1/disputes/schemes?months=2", None).await;
    let alerts = r["alerts"].as_array().unwrap();
    assert!(alerts.iter().any(|a| a.as_str().unwrap().starts_with("Mastercard ECP 2026-06")), "{r}");
    assert_eq!(app.service.open_scheme_cases().await.unwrap(), 1);
    assert_eq!(app.service.open_scheme_cases().await.unwrap(), 0, "one case per programme and month");
    let (_, cases) = call(&app, &pat, "GET", "/api/v1/cases?kind=dispute", None).await;
    assert!(
        cases["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["title"] == "Mastercard ECP 2026-06: chargeback ratio alert"),
        "{cases}"
    );
});

both_backends!(refund_claims_and_return_abuse_open_cases, |app: TestApp| async move {
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    let pat = token(&app, "pat").await;
    let day = 60 * 24;
    for i in 0..4 {
        let id = format!("RT-{i}");
        order_with_psp(&app, &id, "C-7", -(40 - i) * day, &format!("pi_rt{i}"), "100.00").await;
        event(&app, &format!("{id}-d"), "order_delivered", &id, -(38 - i) * day, json!({})).await;
        if i < 3 {
            event(&app, &format!("{id}-r"), "return_requested", &id, -(38 - i - 29) * day, json!({})).await;
            let condition = if i == 0 { "worn, perfume odour" } else { "as new" };
            event(
                &app,
                &format!("{id}-w"),
                "return_received",
                &id,
                -(38 - i - 31) * day,
                json!({"condition": condition}),
            )
            .await;
            event(
                &app,
                &format!("{id}-f"),
                "refund_issued",
                &id,
                -(38 - i - 32) * day,
                json!({"amount": {"amount": "100.00", "currency": "EUR"}}),
            )
            .await;
        }
    }
    event(&app, "RT-3-s", "order_shipped", "RT-3", -37 * day, json!({"carrier": "DHL", "tracking_number": "0034"}))
        .await;
    event(&app, "RT-3-c", "refund_claimed", "RT-3", -30 * day, json!({"claim": "empty_box"})).await;
    let (s, r) = call(&app, &pat, "GET", "/api/v1/return-abuse?days=90", None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let c = &r["customers"][0];
    assert_eq!(c["customer_id"], "C-7", "{r}");
    let codes: Vec<&str> = c["signals"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["serial_returner", "end_of_window", "wardrobing"], "{r}");
    assert_eq!(c["kept_minor"], 10_000);
    let (_, claims) = call(&app, &pat, "GET", "/api/v1/refund-claims?days=90", None).await;
    let claim = &claims["claims"][0];
    assert_eq!((claim["order_id"].as_str(), claim["claim"].as_str()), (Some("RT-3"), Some("empty_box")), "{claims}");
    assert!(claim["shipped"].as_str().unwrap().contains("DHL 0034"));
    assert!(claim["delivered"].is_string(), "the carrier says delivered");
    assert_eq!(call(&app, &pat, "GET", "/api/v1/return-abuse?days=0", None).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // One case for the claim and one for the customer's signals; again, none.
    assert_eq!(app.service.open_return_cases(90, true).await.unwrap(), 2);
    assert_eq!(app.service.open_return_cases(90, true).await.unwrap(), 0);
    let (_, claims) = call(&app, &pat, "GET", "/api/v1/refund-claims?days=90", None).await;
    assert!(claims["claims"][0]["case_id"].is_string());
});

both_backends!(dispute_pages_for_people, |app: TestApp| async move {
    configure(&app);
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    add_user(&app, "tia", Role::Tier2Agent).await;
    order_with_psp(&app, "P-1", "C-8", -3000, "pi_P1", "60.00").await;
    let now = app.service.now().timestamp();
    let (_, r) = send_stripe(
        &app,
        stripe_body(
            "ep",
            "charge.dispute.created",
            "dp_p",
            "needs_response",
            "product_not_received",
            6_000,
            "pi_P1",
            now,
            now + 3 * 86_400,
        ),
    )
    .await;
    let id = serde_json::from_str::<Value>(&r).unwrap()["dispute_id"].as_str().unwrap().to_owned();
    let pat = sign_in(&app, "pat").await;
    let q = pat.get(&app, "/disputes").await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.body.contains(&format!("id=\"d-{id}\"")), "the queue lists it");
    let p = pat.get(&app, &format!("/disputes/{id}")).await;
    assert!(p.body.contains("id=\"ev-customer_communication\""), "{}", p.body);
    let done =
        pat.post(&app, &format!("/disputes/{id}/evidence"), "item=customer_communication&note=phone+call+3+June").await;
    assert_eq!(done.location.as_deref(), Some(format!("/disputes/{id}?done=evidence").as_str()));
    let refused = pat.post(&app, &format!("/disputes/{id}/evidence"), "item=nope&note=x").await;
    assert!(refused.location.unwrap().contains("error="), "an error goes back to the page");
    let sub = pat.post(&app, &format!("/disputes/{id}/submit"), "note=proof").await;
    assert_eq!(sub.location.as_deref(), Some(format!("/disputes/{id}?done=submitted").as_str()));
    for path in ["/disputes/schemes", "/refund-claims", "/return-abuse"] {
        let page = pat.get(&app, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
    }
    assert!(pat.get(&app, "/disputes/schemes").await.body.contains("<svg"), "a chart");
    let tia = sign_in(&app, "tia").await;
    assert_eq!(tia.get(&app, "/disputes").await.status, StatusCode::FORBIDDEN);
    let pdf = pat.get(&app, &format!("/disputes/{id}/pack.pdf")).await;
    assert!(pdf.body.starts_with("%PDF-"));
    // The JSON half of the pack opens from the page for a signed-in person too.
    assert!(pat.get(&app, &format!("/disputes/{id}")).await.body.contains(&format!("/disputes/{id}/pack.json")));
    let fields = pat.get(&app, &format!("/disputes/{id}/pack.json")).await;
    assert_eq!(fields.status, StatusCode::OK);
    let fields: Value = serde_json::from_str(&fields.body).unwrap();
    assert!(fields.is_object(), "{fields}");
    assert_eq!(tia.get(&app, &format!("/disputes/{id}/pack.json")).await.status, StatusCode::FORBIDDEN);
});

fn chargebacks_of(order: &Value) -> Vec<String> {
    order["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "chargeback_received")
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

both_backends!(disputes_link_by_every_reference_and_count_once_as_the_orders_chargeback, |app: TestApp| async move {
    configure(&app);
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    let pat = token(&app, "pat").await;
    let now = app.service.now().timestamp();
    let due = now + 7 * 86_400;
    // By Stripe's charge: the order was sent with the charge id, the PaymentIntent is unknown.
    order_with_psp(&app, "L-1", "C-L1", -60 * 24, "ch_pi_L1", "80.00").await;
    // By `metadata.order_id`: no reference matches.
    order_with_psp(&app, "L-2", "C-L2", -60 * 24, "pi_other", "90.00").await;
    // By Adyen's merchantReference alone.
    order_with_psp(&app, "L-3", "C-L3", -60 * 24, "unrelated", "70.00").await;
    // The shop sent this order's chargeback itself before the provider's webhook.
    order_with_psp(&app, "L-4", "C-L4", -60 * 24, "pi_L4", "60.00").await;
    event(&app, "SHOP-CB-4", "chargeback_received", "L-4", -60, json!({"reason_code": "10.4"})).await;

    let (s, r) = send_stripe(
        &app,
        stripe_body(
            "evt_l1",
            "charge.dispute.created",
            "dp_l1",
            "needs_response",
            "fraudulent",
            8_000,
            "pi_L1",
            now,
            due,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let mut meta: Value = serde_json::from_slice(&stripe_body(
        "evt_l2",
        "charge.dispute.created",
        "dp_l2",
        "needs_response",
        "product_not_received",
        9_000,
        "pi_unknown",
        now,
        due,
    ))
    .unwrap();
    meta["data"]["object"]["metadata"] = json!({"order_id": "L-2"});
    assert_eq!(send_stripe(&app, meta.to_string().into_bytes()).await.0, StatusCode::OK);
    let adyen = adyen_body(vec![adyen_item(
        "NOTIFICATION_OF_CHARGEBACK",
        "PSPL3",
        "L-3",
        "4855",
        7_000,
        "2026-06-01T10:00:00+02:00",
        "2026-06-20T10:00:00+02:00",
    )]);
    assert_eq!(raw(&app, "/api/v1/webhooks/adyen", &[], adyen).await.1, "[accepted]");
    let (s, _) = send_stripe(
        &app,
        stripe_body(
            "evt_l4",
            "charge.dispute.created",
            "dp_l4",
            "needs_response",
            "fraudulent",
            6_000,
            "pi_L4",
            now,
            due,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    for order in ["L-1", "L-2", "L-3", "L-4"] {
        let list = disputes(&app, &pat, &format!("?order_id={order}")).await;
        assert_eq!(list["total"], 1, "{order} linked: {list}");
    }
    // Each provider chargeback is its order's chargeback_received, once; the shop's own is not doubled.
    for (order, expected) in [("L-1", "dispute-"), ("L-2", "dispute-"), ("L-3", "dispute-"), ("L-4", "SHOP-CB-4")] {
        let (s, o) = app.get(&format!("/api/v1/orders/{order}")).await;
        assert_eq!(s, StatusCode::OK, "{o}");
        let cbs = chargebacks_of(&o);
        assert_eq!(cbs.len(), 1, "{order}: {cbs:?}");
        assert!(cbs[0].starts_with(expected), "{order}: {cbs:?}");
    }
    // Later events of the dispute add none.
    send_stripe(
        &app,
        stripe_body(
            "evt_l1b",
            "charge.dispute.updated",
            "dp_l1",
            "under_review",
            "fraudulent",
            8_000,
            "pi_L1",
            now,
            due,
        ),
    )
    .await;
    let (_, o) = app.get("/api/v1/orders/L-1").await;
    assert_eq!(chargebacks_of(&o).len(), 1);
    let (_, c) = app.get("/api/v1/customers/C-L1").await;
    assert!(c["events"].as_array().unwrap().iter().any(|e| e["type"] == "chargeback_received"), "{c}");
});

both_backends!(provider_reports_meet_their_webhooks_on_one_dispute, |app: TestApp| async move {
    configure(&app);
    add_user(&app, "pat", Role::PaymentsSpecialist).await;
    let pat = token(&app, "pat").await;
    let key = app.service.create_api_key("psp-report", &[Scope::Disputes]).await.unwrap().secret;
    order_with_psp(&app, "AR-1", "C-AR", -60 * 24 * 10, "8815000000000001", "249.90").await;
    order_with_psp(&app, "SR-1", "C-SR", -60 * 24 * 10, "pi_SR1", "50.00").await;
    // Adyen's dispute transaction details report, as downloaded.
    let adyen = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Record Date,Record Date TimeZone,Dispute Currency,Dispute Amount,Record Type,Dispute PSP Reference,Dispute Reason,RFI Scheme Code,RFI Reason Code,CB Scheme Code,CB Reason Code,NoF Scheme Code,NoF Reason Code,Dispute End Date,Dispute End Date TimeZone\n\
        Shop,ShopDE,8815000000000001,AR-1,visa,2026-06-01 10:00:00,CEST,EUR,249.90,Chargeback,9915000000000001,Fraud,,,visa,10.4,,,2026-06-20 23:59:59,CEST\n";
    let (s, r) = app.call("POST", "/api/v1/disputes/import", Some(&key), Some(adyen.as_bytes().to_vec())).await;
    assert_eq!((s, r["created"].as_i64()), (StatusCode::OK, Some(1)), "{r}");
    // Stripe's disputes export.
    let stripe = "id,Dispute Created (UTC),Dispute Amount,Dispute Currency,Charge ID,Card Brand,Reason,Status,Due By (UTC),Payment Intent\n\
        dp_SR1,2026-06-01 09:00,50.00,eur,ch_SR1,Visa,product_not_received,needs_response,2026-06-21 23:59,pi_SR1\n";
    let (s, r) = app.call("POST", "/api/v1/disputes/import", Some(&key), Some(stripe.as_bytes().to_vec())).await;
    assert_eq!((s, r["created"].as_i64()), (StatusCode::OK, Some(1)), "{r}");
    let a = &disputes(&app, &pat, "?order_id=AR-1").await["disputes"][0];
    assert_eq!(
        (a["provider"].as_str(), a["stage"].as_str(), a["status"].as_str(), a["reason_family"].as_str()),
        (Some("adyen"), Some("chargeback"), Some("needs_response"), Some("fraud")),
        "{a}"
    );
    assert_eq!(a["due_by"], "2026-06-20T21:59:59Z");
    let s1 = &disputes(&app, &pat, "?order_id=SR-1").await["disputes"][0];
    assert_eq!((s1["provider"].as_str(), s1["reason_family"].as_str()), (Some("stripe"), Some("not_received")), "{s1}");
    // Adyen's webhook for the same dispute moves the same dispute.
    let mut rev = adyen_item(
        "CHARGEBACK_REVERSED",
        "9915000000000001",
        "AR-1",
        "10.4",
        24_990,
        "2026-06-10T10:00:00+02:00",
        "2026-06-20T23:59:59+02:00",
    );
    rev["originalReference"] = json!("8815000000000001");
    rev["additionalData"]["hmacSignature"] = json!(adyen::sign(&rev, KEY));
    assert_eq!(raw(&app, "/api/v1/webhooks/adyen", &[], adyen_body(vec![rev])).await.1, "[accepted]");
    let list = disputes(&app, &pat, "?order_id=AR-1").await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(
        (list["disputes"][0]["status"].as_str(), list["disputes"][0]["funds_minor"].as_i64()),
        (Some("won"), Some(0))
    );
});

/// The shell: the real binary imports a provider's report, lists and shows the dispute, writes
/// its pack, sets a month's volume, reads the scheme ratios and runs the watch.
#[test]
fn disputes_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| riskdesk_in(dir.path(), args);
    let report = dir.path().join("disputes.csv");
    let due = (chrono::Utc::now() + chrono::Duration::days(5)).format("%Y-%m-%d %H:%M").to_string();
    let opened = (chrono::Utc::now() - chrono::Duration::days(2)).format("%Y-%m-%d %H:%M").to_string();
    std::fs::write(
        &report,
        format!(
            "id,Dispute Created (UTC),Dispute Amount,Dispute Currency,Charge ID,Card Brand,Reason,Status,Due By (UTC),Payment Intent\n\
             dp_SH1,{opened},80.00,eur,ch_SH1,Visa,fraudulent,needs_response,{due},pi_SH1\n"
        ),
    )
    .unwrap();
    let (ok, out, e) = run(&["disputes", "import", report.to_str().unwrap()]);
    assert!(ok && out.contains("1 created"), "{out} {e}");
    let (ok, out, e) = run(&["disputes", "import", report.to_str().unwrap()]);
    assert!(ok && out.contains("1 unchanged"), "{out} {e}");
    let (ok, list, e) = run(&["disputes", "list"]);
    assert!(ok && list.starts_with("1 dispute(s)") && list.contains("needs_response"), "{list} {e}");
    let id = list.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let (ok, shown, _) = run(&["disputes", "show", &id]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert!(ok && shown["provider"] == "stripe" && shown["checklist"].is_array(), "{shown}");
    let pdf = dir.path().join("pack.pdf");
    let (ok, out, e) = run(&["disputes", "pack", &id, pdf.to_str().unwrap()]);
    assert!(ok && out.starts_with("wrote"), "{out} {e}");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    assert!(std::fs::read_to_string(dir.path().join("pack.json")).unwrap().contains("\"evidence\""));
    let (ok, out, e) = run(&["disputes", "volume", "2026-06", "visa", "120000"]);
    assert!(ok && out.contains("120000 settled"), "{out} {e}");
    let (ok, out, e) = run(&["disputes", "volume", "2026-13", "visa", "1"]);
    assert!(!ok && e.contains("month"), "{out} {e}");
    let (ok, schemes, e) = run(&["disputes", "schemes", "--months", "2"]);
    assert!(
        ok && serde_json::from_str::<serde_json::Value>(&schemes).unwrap()["visa_vamp"].is_array(),
        "{schemes} {e}"
    );
    let (ok, swept, e) = run(&["disputes", "sweep"]);
    assert!(ok && swept.contains("escalated"), "{swept} {e}");
    // A bad report is named and stores nothing.
    std::fs::write(
        &report,
        "id,Status,Dispute Created (UTC),Dispute Amount,Dispute Currency\ndp_X,exploded,2026-06-01 10:00,1.00,eur\n",
    )
    .unwrap();
    let (ok, _, e) = run(&["disputes", "import", report.to_str().unwrap()]);
    assert!(!ok && e.contains("line 2") && e.contains("Status"), "{e}");
    assert!(run(&["disputes", "list", "--status", ""]).1.starts_with("1 dispute(s)"));
}
