//! The demo's disputes. The months behind come in as a provider's report of decided
//! chargebacks (the history's own chargebacks), so the scheme-ratio chart has a past; the open
//! ones arrive as signed Stripe and Adyen webhooks timed against today, so the queue shows a
//! dispute overdue, one inside the warning window, a Visa 10.4 with Compelling Evidence 3.0
//! candidates, a "not received" with the carrier's proof, a refunded order whose acceptance is
//! refused, an inquiry, one above the four-eye amount, one under review and an issuer's fraud
//! report. Refund claims and return-abuse signals open their cases.

use super::Dataset;
use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::disputes::{adyen, stripe};
use riskdesk_domain::{FixedClock, Role};
use riskdesk_service::audit::Actor;
use riskdesk_service::disputes::{DisputeQuery, DisputesConfig};
use riskdesk_service::{DisputeImporter, DisputeViewer, Service};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The demo's provider secrets (a real deployment sets its own in `[disputes]`).
pub const STRIPE_SECRET: &str = "whsec_riskdesk_demo";
pub const ADYEN_KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

struct Order {
    id: String,
    placed: DateTime<Utc>,
    minor: i64,
    amount: String,
    currency: String,
    psp: Option<String>,
    bin: String,
    fingerprint: String,
}

fn orders(data: &Dataset) -> Vec<Order> {
    data.orders
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|o| o["payment"]["method"] == "card")
        .filter_map(|o| {
            let amount = o["total"]["amount"].as_str()?.to_owned();
            let currency = o["total"]["currency"].as_str()?.to_owned();
            let minor = riskdesk_domain::Money::parse(&amount, &currency, "total").ok()?.minor;
            Some(Order {
                id: o["order_id"].as_str()?.to_owned(),
                placed: DateTime::parse_from_rfc3339(o["placed_at"].as_str()?).ok()?.to_utc(),
                minor,
                amount,
                currency,
                psp: o["payment"]["psp_reference"].as_str().map(str::to_owned),
                bin: o["payment"]["card"]["bin"].as_str().unwrap_or("4").to_owned(),
                fingerprint: o["payment"]["card"]["fingerprint"].as_str().unwrap_or("").to_owned(),
            })
        })
        .collect()
}

fn brand(bin: &str) -> &'static str {
    riskdesk_domain::disputes::Network::from_bin(bin).as_str()
}

fn at(svc: &Service, t: DateTime<Utc>) -> Service {
    svc.with_clock(Arc::new(FixedClock::new(t)))
}

/// What a Stripe dispute event says: (event id, type, status, reason, network reason code).
type StripeSays<'a> = (&'a str, &'a str, &'a str, &'a str, Option<&'a str>);

/// A Stripe dispute event, signed, delivered at `t`.
async fn stripe_event(
    svc: &Service,
    t: DateTime<Utc>,
    o: &Order,
    says: StripeSays<'_>,
    due: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (id, kind, status, reason, network_code) = says;
    let body = json!({
        "id": id, "object": "event", "type": kind, "created": t.timestamp(), "livemode": false,
        "data": {"object": {
            "id": format!("dp_{}", o.id.replace('-', "")), "object": "dispute", "amount": o.minor, "currency": o.currency.to_lowercase(),
            "charge": format!("ch_{}", o.id.replace('-', "")), "payment_intent": o.psp, "reason": reason, "status": status,
            "created": t.timestamp(), "evidence_details": {"due_by": due.timestamp(), "has_evidence": false, "past_due": false, "submission_count": 0},
            "is_charge_refundable": false, "metadata": {},
            "payment_method_details": {"type": "card", "card": {"brand": brand(&o.bin), "network_reason_code": network_code}}
        }}
    })
    .to_string();
    let sig = stripe::sign(body.as_bytes(), STRIPE_SECRET, t.timestamp());
    at(svc, t).stripe_webhook(Some(&sig), body.as_bytes()).await?;
    Ok(())
}

/// An Adyen notification with one dispute item, signed, delivered at `t`.
async fn adyen_event(
    svc: &Service,
    t: DateTime<Utc>,
    code: &str,
    o: &Order,
    reason: &str,
    due: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let mut additional = json!({"chargebackReasonCode": reason, "chargebackSchemeCode": brand(&o.bin)});
    if let Some(d) = due {
        additional["defensePeriodEndsAt"] = json!(d.to_rfc3339());
    }
    let mut item = json!({
        "additionalData": additional, "amount": {"currency": o.currency, "value": o.minor},
        "eventCode": code, "eventDate": t.to_rfc3339(), "merchantAccountCode": "RiskdeskFashionDE",
        "merchantReference": o.id, "originalReference": o.psp.clone().unwrap_or_default(), "paymentMethod": brand(&o.bin),
        "pspReference": format!("99{}", o.id.chars().filter(char::is_ascii_digit).collect::<String>()), "reason": reason, "success": "true"
    });
    item["additionalData"]["hmacSignature"] = json!(adyen::sign(&item, ADYEN_KEY));
    let body = json!({"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}).to_string();
    at(svc, t).adyen_webhook(body.as_bytes()).await?;
    Ok(())
}

/// Takes the demo's secrets when the configuration set none.
pub(super) fn configure(svc: &Service) {
    let mut s = svc.settings();
    if s.disputes.stripe.webhook_secret.is_empty() && s.disputes.adyen.hmac_key.is_empty() {
        s.disputes = DisputesConfig {
            stripe: riskdesk_service::disputes::StripeConfig {
                webhook_secret: STRIPE_SECRET.into(),
                tolerance_secs: 300,
            },
            adyen: riskdesk_service::disputes::AdyenConfig { hmac_key: ADYEN_KEY.into() },
            ..s.disputes
        };
        svc.set_settings(s);
    }
}

pub(super) async fn seed(svc: &Service, data: &Dataset) -> anyhow::Result<usize> {
    let viewer = DisputeViewer::local(Actor::user("lea", Role::TeamLead));
    if svc.disputes(&viewer, &DisputeQuery { limit: Some(1), ..Default::default() }).await?.1 > 0 {
        return Ok(0);
    }
    let now = svc.now();
    svc.recount_scheme_volumes(now, 8).await?;
    let all = orders(data);
    let by_id: HashMap<&str, &Order> = all.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut refunded = HashSet::new();
    let mut chargebacks = Vec::new();
    for e in data.events.iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
        let order = e["order_id"].as_str().unwrap_or_default().to_owned();
        match e["type"].as_str() {
            Some("refund_issued") => {
                refunded.insert(order);
            }
            Some("chargeback_received") => {
                if let Some(t) = e["occurred_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
                    chargebacks.push((
                        order,
                        t.to_utc(),
                        e["data"]["reason_code"].as_str().unwrap_or("10.4").to_owned(),
                    ));
                }
            }
            _ => {}
        }
    }
    // The months behind: the history's card chargebacks, decided, as the provider reported them.
    let mut report = String::from(
        "dispute_ref,payment_ref,order_id,stage,status,reason_code,network,amount,currency,due_by,opened_at\n",
    );
    for (i, (order, t, reason)) in chargebacks.iter().enumerate() {
        let Some(o) = by_id.get(order.as_str()) else { continue };
        if *t > now - Duration::days(25) {
            continue;
        }
        used.insert(order.clone());
        let status = ["lost", "won", "lost", "accepted", "won"][i % 5];
        report.push_str(&format!(
            "RPT-{},{},{},chargeback,{status},{reason},{},{},{},{},{}\n",
            o.id,
            o.psp.clone().unwrap_or_default(),
            o.id,
            brand(&o.bin),
            o.amount,
            o.currency,
            (*t + Duration::days(30)).to_rfc3339(),
            t.to_rfc3339()
        ));
    }
    let worker = DisputeImporter::local(Actor::other("system:demo-report"));
    svc.import_disputes_csv(&worker, &report).await?;

    // The open ones, on recent card orders not disputed yet.
    // Placed before the earliest of the open disputes below was opened (15 days ago).
    let mut recent: Vec<&Order> =
        all.iter().filter(|o| !used.contains(&o.id) && o.placed < now - Duration::days(16)).collect();
    recent.sort_by_key(|o| std::cmp::Reverse(o.placed));
    let mut pick = |want: &dyn Fn(&Order) -> bool| -> Option<&Order> {
        let o = recent.iter().copied().find(|o| want(o) && !used.contains(&o.id))?;
        used.insert(o.id.clone());
        Some(o)
    };
    let h = Duration::hours;
    let mut n = 0;
    // A Visa fraud chargeback on an account with older orders of the same card: CE 3.0.
    let old: HashMap<&str, usize> =
        all.iter().filter(|o| o.placed < now - Duration::days(121)).fold(HashMap::new(), |mut m, o| {
            *m.entry(o.fingerprint.as_str()).or_default() += 1;
            m
        });
    if let Some(o) = pick(&|o: &Order| {
        brand(&o.bin) == "visa" && old.get(o.fingerprint.as_str()).is_some_and(|n| *n >= 2) && !refunded.contains(&o.id)
    }) {
        stripe_event(
            svc,
            now - Duration::days(2),
            o,
            ("evt_demo_ce3", "charge.dispute.created", "needs_response", "fraudulent", Some("10.4")),
            now + Duration::days(9),
        )
        .await?;
        n += 1;
    }
    // Inside the warning window, and one overdue.
    if let Some(o) = pick(&|o: &Order| brand(&o.bin) == "visa" && !refunded.contains(&o.id)) {
        stripe_event(
            svc,
            now - Duration::days(15),
            o,
            ("evt_demo_soon", "charge.dispute.created", "needs_response", "fraudulent", Some("10.4")),
            now + h(30),
        )
        .await?;
        n += 1;
    }
    if let Some(o) = pick(&|o: &Order| brand(&o.bin) == "mastercard" && !refunded.contains(&o.id)) {
        adyen_event(svc, now - Duration::days(14), "NOTIFICATION_OF_CHARGEBACK", o, "4837", Some(now - h(5))).await?;
        n += 1;
    }
    // "Not received" on delivered orders: the carrier's proof satisfies the checklist.
    if let Some(o) = pick(&|o: &Order| brand(&o.bin) == "visa" && !refunded.contains(&o.id)) {
        stripe_event(
            svc,
            now - Duration::days(3),
            o,
            ("evt_demo_nr", "charge.dispute.created", "needs_response", "product_not_received", Some("13.1")),
            now + Duration::days(6),
        )
        .await?;
        n += 1;
    }
    if let Some(o) = pick(&|o: &Order| brand(&o.bin) == "mastercard" && !refunded.contains(&o.id)) {
        adyen_event(
            svc,
            now - Duration::days(4),
            "NOTIFICATION_OF_CHARGEBACK",
            o,
            "4855",
            Some(now + Duration::days(12)),
        )
        .await?;
        n += 1;
    }
    // Credit not processed on a refunded order: accepting it is refused.
    if let Some(o) = pick(&|o: &Order| refunded.contains(&o.id)) {
        stripe_event(
            svc,
            now - Duration::days(1),
            o,
            ("evt_demo_refunded", "charge.dispute.created", "needs_response", "credit_not_processed", Some("13.6")),
            now + Duration::days(15),
        )
        .await?;
        n += 1;
    }
    // An inquiry, a defence above the four-eye amount, one with the issuer.
    if let Some(o) = pick(&|o: &Order| !refunded.contains(&o.id)) {
        adyen_event(svc, now - Duration::days(2), "REQUEST_FOR_INFORMATION", o, "10.4", Some(now + Duration::days(4)))
            .await?;
        n += 1;
    }
    if let Some(o) = pick(&|o: &Order| o.minor >= 30_000 && brand(&o.bin) == "visa" && !refunded.contains(&o.id)) {
        stripe_event(
            svc,
            now - Duration::days(5),
            o,
            ("evt_demo_big", "charge.dispute.created", "needs_response", "product_unacceptable", Some("13.3")),
            now + Duration::days(8),
        )
        .await?;
        n += 1;
    }
    if let Some(o) = pick(&|o: &Order| brand(&o.bin) == "visa" && !refunded.contains(&o.id)) {
        stripe_event(
            svc,
            now - Duration::days(12),
            o,
            ("evt_demo_rev1", "charge.dispute.created", "needs_response", "fraudulent", Some("10.4")),
            now + Duration::days(2),
        )
        .await?;
        stripe_event(
            svc,
            now - Duration::days(6),
            o,
            ("evt_demo_rev2", "charge.dispute.updated", "under_review", "fraudulent", Some("10.4")),
            now + Duration::days(2),
        )
        .await?;
        n += 1;
    }
    if let Some(o) = pick(&|o: &Order| brand(&o.bin) == "visa") {
        adyen_event(svc, now - Duration::days(3), "NOTIFICATION_OF_FRAUD", o, "10.4", None).await?;
    }
    // Warn and escalate as the watch would, and open the claims' and returns' cases.
    svc.sweep_disputes().await?;
    svc.open_return_cases(400, true).await?;
    Ok(n)
}
