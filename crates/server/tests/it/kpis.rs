//! KPIs, on both backends: every order KPI recomputed here from the raw rows (orders, decisions,
//! review actions, events) by the written definitions and compared with the API and the
//! dashboard, again after new orders and a late label; the orders behind a number; rule
//! effectiveness; bad input and rights; trend alerts that open an investigation; the area KPIs;
//! a report sent to a real SMTP server and its numbers.

use crate::common::*;
use crate::desk::{add_user, enc, sign_in, submit, use_review_set};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::Role;
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use riskdesk_store::conformance::order_json;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const CHANNELS: [&str; 3] = ["webshop", "app", "zalando"];
const METHODS: [&str; 3] = ["card", "paypal", "invoice"];

fn order(i: usize) -> Value {
    // Placed from 36 hours before t0 on, an hour apart: two local days in Berlin.
    let mut o = order_json(&format!("K-{i}"), &format!("KC-{i}"), -(36 - i as i64) * 60);
    let amount = if i.is_multiple_of(4) { "80.00" } else { "150.00" };
    o["channel"] = json!(CHANNELS[i % 3]);
    o["total"] = json!({"amount": amount, "currency": "EUR"});
    let brand = ["Acme", "Bolt"][(i / 2) % 2];
    o["items"] =
        json!([{"sku": "S", "brand": brand, "quantity": 1, "unit_price": {"amount": amount, "currency": "EUR"}}]);
    o["payment"]["method"] = json!(METHODS[(i / 3) % 3]);
    o["shipping_address"]["country"] = json!(["DE", "AT"][i % 2]);
    o
}

async fn event(app: &TestApp, id: &str, kind: &str, order: &str, data: Value) {
    let e = json!({"event_id": id, "type": kind, "occurred_at": t0().to_rfc3339(), "order_id": order, "data": data});
    let (s, r) = app.post("/api/v1/events", &e).await;
    assert!(s.is_success(), "{r}");
}

/// One order's KPI counters, computed straight from its stored rows by the definitions in
/// docs/kpis.md (independently of the code under test).
#[derive(Default, Clone, Copy, Debug, PartialEq)]
struct Expect {
    orders: f64,
    value: f64,
    fraud: f64,
    fraud_value: f64,
    declined: f64,
    reviewed: f64,
    held: f64,
    released: f64,
    decided: f64,
    decision_min: f64,
    sla_met: f64,
    chargebacks: f64,
    screened: f64,
}

impl Expect {
    fn add(&mut self, o: &Expect) {
        self.orders += o.orders;
        self.value += o.value;
        self.fraud += o.fraud;
        self.fraud_value += o.fraud_value;
        self.declined += o.declined;
        self.reviewed += o.reviewed;
        self.held += o.held;
        self.released += o.released;
        self.decided += o.decided;
        self.decision_min += o.decision_min;
        self.sla_met += o.sla_met;
        self.chargebacks += o.chargebacks;
        self.screened += o.screened;
    }

    fn fractions(&self) -> BTreeMap<&'static str, (f64, f64)> {
        BTreeMap::from([
            ("fraud_rate_orders", (self.fraud, self.orders)),
            ("fraud_rate_value", (self.fraud_value, self.value)),
            ("decline_rate", (self.declined, self.screened)),
            ("review_rate", (self.reviewed, self.screened)),
            ("hold_release_rate", (self.released, self.held)),
            ("review_sla_rate", (self.sla_met, self.decided)),
            ("time_to_decision", (self.decision_min, self.decided)),
            ("fraud_chargeback_rate", (self.chargebacks, self.orders)),
        ])
    }
}

async fn expect_of(app: &TestApp, id: &str) -> (Expect, BTreeMap<&'static str, String>) {
    let s = app.service.store().get_order(&riskdesk_domain::OrderId::parse(id, "id").unwrap()).await.unwrap().unwrap();
    let actions = app.service.store().review_actions(id).await.unwrap();
    let first = &s.decisions[0];
    let last = s.decisions.last().unwrap();
    let fraud_cb = s.events.iter().any(|e| {
        e.event.event_type.as_str() == "chargeback_received"
            && e.event.data.get("reason_code").and_then(|c| c.as_str()).is_some_and(|c| c.starts_with("10."))
    });
    let fraud = fraud_cb || s.events.iter().any(|e| e.event.event_type.as_str() == "fraud_confirmed");
    let reviewed = first.decision.as_str() == "review";
    let held = reviewed || actions.iter().any(|a| a.action == "hold");
    let minor = s.order.total.minor as f64;
    let eur = s.order.total.currency.code() == "EUR";
    let mut e = Expect {
        orders: 1.0,
        value: if eur { minor / 100.0 } else { 0.0 },
        fraud: f64::from(u8::from(fraud)),
        fraud_value: if fraud && eur { minor / 100.0 } else { 0.0 },
        declined: f64::from(u8::from(last.decision.as_str() == "decline")),
        reviewed: f64::from(u8::from(reviewed)),
        held: f64::from(u8::from(held)),
        released: f64::from(u8::from(held && last.decision.as_str() == "approve")),
        chargebacks: f64::from(u8::from(fraud_cb)),
        screened: f64::from(u8::from(first.ruleset_version > 0)),
        ..Expect::default()
    };
    let decided_at: Option<DateTime<Utc>> =
        actions.iter().filter(|a| a.action == "release" || a.action == "cancel").map(|a| a.at).max();
    if let (true, Some(at)) = (held, decided_at) {
        e.decided = 1.0;
        e.decision_min = (at - first.decided_at).num_milliseconds().max(0) as f64 / 60_000.0;
        let cutoff = if s.order.channel.as_deref() == Some("zalando") { 1440 } else { 240 };
        e.sla_met = f64::from(u8::from(at <= s.order.placed_at.with_timezone(&Utc) + Duration::minutes(cutoff)));
    }
    let mut rules = first.reasons.iter().map(|r| r.rule.clone()).filter(|r| r != "manual_review").collect::<Vec<_>>();
    rules.sort();
    let seg = BTreeMap::from([
        ("channel", s.order.channel.clone().unwrap_or_default()),
        (
            "country",
            s.order
                .shipping_address
                .as_ref()
                .and_then(|a| a.country.as_ref())
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
        ),
        ("payment_method", s.order.payment.method.as_str().to_owned()),
        ("brand", s.order.items[0].brand.clone().unwrap_or_default()),
        ("rule", rules.join(" ")),
    ]);
    let mut seg = seg;
    let combined = riskdesk_domain::kpis::segment_key(&seg["brand"], &seg["payment_method"], &seg["country"]);
    seg.insert("segment", combined);
    (e, seg)
}

/// Recomputes every KPI for every segment of `by` and compares with the API's answer.
async fn compare(app: &TestApp, key: &str, ids: &[String], by: &str) {
    compare_over(app, key, ids, by, ("2026-05-30", "2026-06-02")).await
}

/// As [`compare`] over a range that holds every order of `ids`.
async fn compare_over(app: &TestApp, key: &str, ids: &[String], by: &str, (from, to): (&str, &str)) {
    let mut want: BTreeMap<String, Expect> = BTreeMap::new();
    let mut total = Expect::default();
    for id in ids {
        let (e, seg) = expect_of(app, id).await;
        total.add(&e);
        let segments: Vec<String> = if by == "rule" {
            seg["rule"].split_whitespace().map(str::to_owned).collect()
        } else {
            vec![seg[by].clone()]
        };
        for s in segments {
            want.entry(s).or_default().add(&e);
        }
    }
    let (s, got) = app.call("GET", &format!("/api/v1/kpis?from={from}&to={to}&by={by}"), Some(key), None).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["by"], by);
    assert_eq!((got["from"].as_str(), got["to"].as_str()), (Some(from), Some(to)));
    let rows = got["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len(), "segments of {by}: {got}");
    let check = |label: &str, e: &Expect, kpis: &Value| {
        for (k, (n, d)) in e.fractions() {
            let g = &kpis[k];
            let (gn, gd) = (g["numerator"].as_f64().unwrap(), g["denominator"].as_f64().unwrap());
            assert!((gn - n).abs() < 0.011 && (gd - d).abs() < 0.011, "{label} {k}: got {gn}/{gd}, recomputed {n}/{d}");
            match g["value"].as_f64() {
                Some(v) => assert!((v - gn / gd).abs() < 1e-9, "{label} {k}: value is numerator / denominator"),
                None => assert_eq!(d, 0.0, "{label} {k}: a value when there is a denominator"),
            }
        }
    };
    for r in rows {
        let seg = r["segment"].as_str().unwrap();
        check(&format!("{by}={seg}"), want.get(seg).unwrap_or_else(|| panic!("unexpected segment {seg}")), &r["kpis"]);
    }
    check("total", &total, &got["total"]["kpis"]);
}

async fn review(app: &TestApp, who: &crate::desk::Browser, id: &str, form: &str, at: DateTime<Utc>) {
    app.clock.set(at);
    let p = who.post(app, &format!("/orders/{}/claim", enc(id)), "").await;
    assert!(p.status.is_redirection() || p.status.is_success(), "claim {id}: {}", p.body);
    let p = who.post(app, &format!("/orders/{}/review", enc(id)), form).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "review {id}: {}", p.body);
}

both_backends!(kpis_match_a_recount_from_the_raw_rows, |app: TestApp| async move {
    use_review_set(&app).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    add_user(&app, "tia", Role::Tier2Agent).await;
    add_user(&app, "lea", Role::TeamLead).await;
    let key = app.service.create_api_key("finance", &[Scope::Kpis]).await.unwrap().secret;
    let mut ids: Vec<String> = Vec::new();
    for i in 0..36 {
        submit(&app, &order(i)).await;
        ids.push(format!("K-{i}"));
    }
    let mut gbp = order(40);
    gbp["order_id"] = json!("K-GBP");
    gbp["total"] = json!({"amount": "150.00", "currency": "GBP"});
    gbp["items"][0]["unit_price"] = json!({"amount": "150.00", "currency": "GBP"});
    submit(&app, &gbp).await;
    ids.push("K-GBP".into());
    // People decide the reviewed ones: some within the cut-off, some after it.
    let ana = sign_in(&app, "ana").await;
    for i in (0..36).filter(|i| i % 4 != 0) {
        let placed = t0() - Duration::minutes((36 - i as i64) * 60);
        let at = placed + if i % 2 == 0 { Duration::minutes(50) } else { Duration::hours(9) };
        let id = format!("K-{i}");
        match i % 5 {
            0 => review(&app, &ana, &id, "action=release&reason=verified_customer&note=ok", at).await,
            1 => review(&app, &ana, &id, "action=cancel&reason=stolen_card&note=card+reported", at).await,
            2 => {
                review(&app, &ana, &id, "action=hold&reason=awaiting_customer&note=asked", at).await;
                review(&app, &ana, &id, "action=release&reason=false_positive&note=answered", at + Duration::hours(1))
                    .await;
            }
            3 => {}
            _ => review(&app, &ana, &id, "action=cancel&reason=customer_request&note=asked+to", at).await,
        }
    }
    app.clock.set(t0());
    // Labels from elsewhere: a late fraud label on an approved order, a legitimate one, a fraud
    // chargeback and one of another family.
    event(&app, "KE-1", "fraud_confirmed", "K-4", json!({})).await;
    event(&app, "KE-2", "legit_confirmed", "K-8", json!({})).await;
    event(&app, "KE-3", "chargeback_received", "K-12", json!({"reason_code": "10.4"})).await;
    event(&app, "KE-4", "chargeback_received", "K-16", json!({"reason_code": "13.1"})).await;
    for by in ["channel", "country", "payment_method", "brand", "rule"] {
        compare(&app, &key, &ids, by).await;
    }
    // Longer ranges read whole months from the monthly rows and the days around them.
    for range in [("2026-04-15", "2026-06-30"), ("2026-05-01", "2026-06-05"), ("2026-05-18", "2026-06-03")] {
        for by in ["channel", "segment"] {
            compare_over(&app, &key, &ids, by, range).await;
        }
    }
    let (_, all) = app.call("GET", "/api/v1/kpis?from=2026-05-30&to=2026-06-02", Some(&key), None).await;
    assert_eq!(all["excluded_currencies"], json!(["GBP"]), "GBP has no rate: left out of the money KPIs");
    assert_eq!(all["rows"][0]["segment"], "all");
    assert_eq!(all["pending_orders"], 0);

    // The dashboard shows the same numbers.
    let lea = sign_in(&app, "lea").await;
    let page = lea.get(&app, "/kpis?from=2026-05-30&to=2026-06-02&by=channel").await;
    assert_eq!(page.status, StatusCode::OK);
    let fr = all["total"]["kpis"]["fraud_rate_orders"]["value"].as_f64().unwrap() * 100.0;
    let shown = if fr >= 10.0 { format!("{fr:.1} %") } else { format!("{fr:.2} %") };
    let tile = page.body.split("data-kpi=\"fraud_rate_orders\"").nth(1).unwrap();
    assert!(tile.split("</a>").next().unwrap().contains(&shown), "the tile shows {shown}");
    assert!(page.body.contains("<svg class=\"chart\""), "a chart");
    assert!(page.body.contains("/kpis/orders?"), "numbers link to their orders");
    let csv = lea.get(&app, "/kpis/table.csv?from=2026-05-30&to=2026-06-02&by=channel").await;
    assert!(csv.body.starts_with("from,to,channel,kpi,numerator,denominator,value"), "{}", csv.body);
    assert_eq!(csv.body.lines().count(), 1 + 8 * 4, "total and three channels, eight KPIs each");

    // The orders behind a number: the fraud orders of the webshop.
    let (s, b) = app
        .call(
            "GET",
            "/api/v1/kpis/orders?from=2026-05-30&to=2026-06-02&by=channel&segment=webshop&kpi=fraud_rate_orders",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut got: Vec<String> =
        b["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_owned()).collect();
    got.sort();
    let mut want = Vec::new();
    for id in &ids {
        let (e, seg) = expect_of(&app, id).await;
        if e.fraud > 0.0 && seg["channel"] == "webshop" {
            want.push(id.clone());
        }
    }
    want.sort();
    assert_eq!(got, want);
    assert_eq!(b["total"].as_i64(), Some(want.len() as i64));

    // Rule effectiveness: the review rule hit every order of 100 or more.
    let (_, r) = app.call("GET", "/api/v1/kpis/rules?from=2026-05-30&to=2026-06-02", Some(&key), None).await;
    let review_all = r["rules"].as_array().unwrap().iter().find(|x| x["rule"] == "review_all").unwrap();
    assert_eq!(review_all["hits"], 28, "{r}");
    assert!(review_all["precision"].as_f64().unwrap() > 0.0);

    // New orders, a late label and a late decision: still exact.
    for i in 36..40 {
        submit(&app, &order(i)).await;
        ids.push(format!("K-{i}"));
    }
    event(&app, "KE-5", "fraud_confirmed", "K-3", json!({})).await;
    review(&app, &ana, "K-3", "action=cancel&reason=account_takeover&note=late", t0() + Duration::hours(2)).await;
    for by in ["channel", "rule"] {
        compare(&app, &key, &ids, by).await;
    }

    // Imports count too: orders through the bulk path (then screened), a late label by import.
    app.clock.set(t0() + Duration::hours(10));
    let cap = riskdesk_service::access::local::intake();
    let more =
        (40..46).map(|i| riskdesk_domain::intake::parse_order_json(order(i).to_string().as_bytes()).unwrap()).collect();
    app.service.import_orders(&cap, more).await.unwrap();
    app.service.screen_undecided(&cap, t0() - Duration::days(3)).await.unwrap();
    let at = (t0() + Duration::hours(9)).to_rfc3339();
    let label =
        json!({"event_id": "KE-9", "type": "fraud_confirmed", "occurred_at": at, "order_id": "K-41", "data": {}});
    let label = riskdesk_domain::intake::parse_event_json(label.to_string().as_bytes()).unwrap();
    app.service.import_events(&cap, vec![label]).await.unwrap();
    ids.extend((40..46).map(|i| format!("K-{i}")));
    for by in ["channel", "rule"] {
        compare(&app, &key, &ids, by).await;
    }

    // Bad input names the field; rights hold.
    for (q, field) in [
        ("from=2026-13-01", "from"),
        ("by=colour", "by"),
        ("from=2026-06-02&to=2026-06-01", "to"),
        ("period=year", "period"),
    ] {
        let (s, e) = app.call("GET", &format!("/api/v1/kpis?{q}"), Some(&key), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {e}");
        assert_eq!(e["field"], field, "{q}: {e}");
    }
    let (s, _) = app.call("GET", "/api/v1/kpis", Some(&app.intake_key), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an intake key reads no KPIs");
    let tia = sign_in(&app, "tia").await;
    assert_eq!(tia.get(&app, "/kpis").await.status, StatusCode::FORBIDDEN);
    let (s, _) = app.call("POST", "/api/v1/kpis/alerts/scan", Some(&key), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a machine key acts on no alert");
});

/// A week of orders of one segment, `fraud` of them labelled.
async fn week_of(app: &TestApp, week: i64, n: usize, fraud: usize) {
    for i in 0..n {
        let id = format!("W{week}-{i}");
        // Weeks before t0 (a Monday, 2026-06-01): week 1 is 25-31 May.
        let minutes = -(week * 7 * 24 * 60) + (i as i64) * 90 + 600;
        let mut o = order_json(&id, &format!("WC-{week}-{i}"), minutes);
        o["total"] = json!({"amount": "60.00", "currency": "EUR"});
        o["items"] =
            json!([{"sku": "S", "brand": "Acme", "quantity": 1, "unit_price": {"amount": "60.00", "currency": "EUR"}}]);
        submit(app, &o).await;
        if i < fraud {
            event(app, &format!("WE-{week}-{i}"), "fraud_confirmed", &id, json!({})).await;
        }
    }
}

both_backends!(a_fraud_spike_raises_one_alert_and_opens_an_investigation, |app: TestApp| async move {
    add_user(&app, "lea", Role::TeamLead).await;
    add_user(&app, "ana", Role::FraudAnalyst).await;
    let lea = app.service.create_token_for(&local::user_admin(), "lea", "test", None).await.unwrap().secret;
    for week in 2..=6 {
        week_of(&app, week, 35, if week == 4 { 1 } else { 0 }).await;
    }
    week_of(&app, 1, 35, 7).await;
    let (s, r) = app.call("POST", "/api/v1/kpis/alerts/scan", Some(&lea), None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let alerts = r["new_alerts"].as_array().unwrap().clone();
    let seg = alerts
        .iter()
        .find(|a| a["kpi"] == "fraud_rate_orders" && a["dim"] == "segment")
        .unwrap_or_else(|| panic!("the segment's fraud rate alerts: {r}"));
    assert_eq!(seg["segment"], "Acme / card / DE");
    assert_eq!(seg["period"], "2026-W22");
    assert_eq!((seg["numerator"].as_f64(), seg["denominator"].as_f64()), (Some(7.0), Some(35.0)));
    // Every alert is about this data's segments (screening also reviewed more once fraud appeared).
    for a in &alerts {
        let s = a["segment"].as_str().unwrap();
        assert!(["all", "webshop", "DE", "card", "Acme", "Acme / card / DE"].contains(&s), "{a}");
    }
    // Deduplicated: a rerun adds nothing.
    let (_, again) = app.call("POST", "/api/v1/kpis/alerts/scan", Some(&lea), None).await;
    assert_eq!(again["new_alerts"], json!([]));
    // An investigation with the fraud orders behind the alert.
    let id = seg["alert_id"].as_str().unwrap();
    let (s, a) = app.call("POST", &format!("/api/v1/kpis/alerts/{id}/investigate"), Some(&lea), None).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["status"], "investigating");
    let case_id = a["case_id"].as_str().unwrap().to_owned();
    let case = app.service.store().case(&case_id).await.unwrap().unwrap();
    assert_eq!(case.kind, "fraud_investigation");
    let links = app.service.store().case_links(&case_id).await.unwrap();
    let mut linked: Vec<String> = links.iter().filter(|l| l.kind == "order").map(|l| l.value.clone()).collect();
    linked.sort();
    assert_eq!(linked, (0..7).map(|i| format!("W1-{i}")).collect::<Vec<_>>());
    let (_, again) = app.call("POST", &format!("/api/v1/kpis/alerts/{id}/investigate"), Some(&lea), None).await;
    assert_eq!(again["case_id"], case_id.as_str(), "the same case");
    // Dismissing needs a note; an analyst cannot.
    let other = alerts.iter().find(|a| a["alert_id"] != id).unwrap()["alert_id"].as_str().unwrap().to_owned();
    let (s, e) = app
        .call("POST", &format!("/api/v1/kpis/alerts/{other}/dismiss"), Some(&lea), Some(b"{\"note\": \" \"}".to_vec()))
        .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")), "{e}");
    let ana = app.service.create_token_for(&local::user_admin(), "ana", "test", None).await.unwrap().secret;
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/kpis/alerts/{other}/dismiss"),
            Some(&ana),
            Some(b"{\"note\": \"promo\"}".to_vec()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, d) = app
        .call(
            "POST",
            &format!("/api/v1/kpis/alerts/{other}/dismiss"),
            Some(&lea),
            Some(b"{\"note\": \"promo week\"}".to_vec()),
        )
        .await;
    assert_eq!((s, d["status"].as_str()), (StatusCode::OK, Some("dismissed")), "{d}");
    // Audited.
    let log = app.service.store().audit_chain(0, 10_000).await.unwrap();
    assert!(log.iter().any(|r| r.entry.action == "kpi_alert.investigating" && r.entry.actor == "user:lea"));
    // The alerts page shows both states.
    let b = sign_in(&app, "lea").await;
    let p = b.get(&app, "/kpis/alerts").await;
    assert!(p.body.contains(&format!("/cases/{case_id}")) && p.body.contains("promo week"), "{}", p.body);
});

/// A real SMTP server (mailin's protocol machine over a TCP listener) keeping what it receives.
pub(crate) mod smtp {
    use mailin::{Handler, Response, SessionBuilder};
    use std::io::{BufRead, BufReader, Write};
    use std::net::{IpAddr, TcpListener};
    use std::sync::{Arc, Mutex};

    /// A received mail: its recipients and its text.
    pub type Mail = (Vec<String>, String);

    #[derive(Clone, Default)]
    pub struct Inbox(pub Arc<Mutex<Vec<Mail>>>);

    struct Collect {
        inbox: Inbox,
        to: Vec<String>,
        data: Vec<u8>,
    }

    impl Handler for Collect {
        fn rcpt(&mut self, to: &str) -> Response {
            self.to.push(to.to_owned());
            mailin::response::OK
        }
        fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
            self.data.extend_from_slice(buf);
            Ok(())
        }
        fn data_end(&mut self) -> Response {
            let mail = String::from_utf8_lossy(&self.data).into_owned();
            self.inbox.0.lock().unwrap().push((std::mem::take(&mut self.to), mail));
            self.data.clear();
            mailin::response::OK
        }
    }

    /// Serves on a free port; returns it and the inbox.
    pub fn start() -> (u16, Inbox) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Inbox::default();
        let keep = inbox.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let inbox = keep.clone();
                std::thread::spawn(move || {
                    let ip: IpAddr = "127.0.0.1".parse().unwrap();
                    let mut session = SessionBuilder::new("test.local")
                        .build(ip, Collect { inbox, to: Vec::new(), data: Vec::new() });
                    let mut out = stream.try_clone().unwrap();
                    let _ = session.greeting().write_to(&mut out);
                    let mut reader = BufReader::new(stream);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        if reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        let r = session.process(&line);
                        if r.action == mailin::Action::Close {
                            let _ = r.write_to(&mut out);
                            break;
                        }
                        if r.action != mailin::Action::NoReply {
                            let _ = r.write_to(&mut out);
                        }
                        let _ = out.flush();
                    }
                });
            }
        });
        (port, inbox)
    }
}

both_backends!(reports_reach_their_recipients_with_the_dashboards_numbers, |app: TestApp| async move {
    add_user(&app, "lea", Role::TeamLead).await;
    let lea = app.service.create_token_for(&local::user_admin(), "lea", "test", None).await.unwrap().secret;
    week_of(&app, 1, 12, 2).await;
    let (port, inbox) = smtp::start();
    let mut settings = app.service.settings();
    settings.kpis.reports.smtp_url = format!("smtp://127.0.0.1:{port}");
    settings.kpis.reports.weekly = vec!["finance@example.com".into(), "risk@example.com".into()];
    app.service.set_settings(settings);
    let (s, run) = app.call("POST", "/api/v1/kpis/reports/weekly/send", Some(&lea), None).await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!((run["status"].as_str(), run["period"].as_str()), (Some("sent"), Some("2026-W22")));
    let mails = inbox.0.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let (to, mail) = &mails[0];
    assert_eq!(to.len(), 2, "{to:?}");
    assert!(mail.contains("Subject: riskdesk weekly report 2026-W22"), "{mail}");
    assert!(mail.contains("riskdesk-weekly-2026-W22.pdf") && mail.contains("riskdesk-weekly-2026-W22.csv"));
    // The CSV holds the numbers the API gives for that week.
    let key = app.service.create_api_key("finance", &[Scope::Kpis]).await.unwrap().secret;
    let (_, t) = app.call("GET", "/api/v1/kpis?from=2026-05-25&to=2026-05-31", Some(&key), None).await;
    let (_, csv) = app.call("GET", "/api/v1/kpis/reports/weekly?format=csv", Some(&key), None).await;
    let csv = csv.as_str().unwrap().to_owned();
    let f = &t["total"]["kpis"]["fraud_rate_orders"];
    assert_eq!((f["numerator"].as_f64(), f["denominator"].as_f64()), (Some(2.0), Some(12.0)));
    assert!(csv.contains("total,all,fraud_rate_orders,2,12,0.166667"), "{csv}");
    let (s, _) = app.call("GET", "/api/v1/kpis/reports/weekly?format=pdf", Some(&key), None).await;
    assert_eq!(s, StatusCode::OK);
    // The schedule sends each period once, from the configured hour.
    app.clock.set(t0() - Duration::hours(6)); // 08:00 in Berlin on Monday
    let runs = app.service.send_due_reports().await.unwrap();
    assert_eq!(runs.len(), 1);
    assert!(app.service.send_due_reports().await.unwrap().is_empty(), "sent once");
    assert_eq!(inbox.0.lock().unwrap().len(), 2);
    // A server that does not answer is a failed run, recorded.
    let mut settings = app.service.settings();
    settings.kpis.reports.smtp_url = "smtp://127.0.0.1:1".into();
    app.service.set_settings(settings);
    let (s, e) = app.call("POST", "/api/v1/kpis/reports/weekly/send", Some(&lea), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (_, runs) = app.call("GET", "/api/v1/kpis/reports", Some(&lea), None).await;
    assert!(runs["runs"].as_array().unwrap().iter().any(|r| r["status"] == "failed"), "{runs}");
});

both_backends!(the_areas_kpis_count_cases_disputes_and_qa, |app: TestApp| async move {
    let key = app.service.create_api_key("finance", &[Scope::Kpis]).await.unwrap().secret;
    let cases = app.service.create_api_key("helpdesk", &[Scope::Cases, Scope::Qa]).await.unwrap().secret;
    let (s, c) = app
        .call(
            "POST",
            "/api/v1/cases",
            Some(&cases),
            Some(serde_json::to_vec(&json!({"kind": "fraud_investigation", "title": "t"})).unwrap()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let h = json!({"handling_id": "KH-1", "agent": "a1", "provider": "bpo", "team": "t1", "channel": "phone",
                   "closed_at": "2026-06-01T09:00:00+02:00", "actions": [], "identity_checked": true, "csat": 2, "transcript": "hi"});
    let (s, r) = app.call("POST", "/api/v1/handlings", Some(&cases), Some(serde_json::to_vec(&h).unwrap())).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    submit(&app, &order_json("KA-1", "KA", -60)).await;
    let (s, a) = app.call("GET", "/api/v1/kpis/areas?from=2026-05-25&to=2026-06-01&period=day", Some(&key), None).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let k = |code: &str| a["kpis"].as_array().unwrap().iter().find(|x| x["kpi"]["code"] == code).unwrap().clone();
    assert_eq!(k("csat")["total"]["numerator"], 2.0);
    assert_eq!(k("csat")["total"]["denominator"], 1.0);
    assert_eq!(k("chargeback_ratio")["total"]["denominator"], 1.0, "one order placed");
    assert_eq!(k("case_first_response_sla_rate")["total"]["denominator"], 0.0, "no response yet and not due");
    assert_eq!(k("csat")["points"].as_array().unwrap().len(), 8, "a point per day");
    let (_, cat) = app.call("GET", "/api/v1/kpis/catalogue", Some(&key), None).await;
    let codes: Vec<&str> = cat["kpis"].as_array().unwrap().iter().map(|k| k["code"].as_str().unwrap()).collect();
    for c in [
        "fraud_rate_orders",
        "fraud_rate_value",
        "decline_rate",
        "review_rate",
        "hold_release_rate",
        "case_resolution_sla_rate",
        "dispute_win_rate",
        "qa_score",
    ] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
});
