//! Stripe's dispute webhooks: the `Stripe-Signature` header (`t=…,v1=…`, HMAC-SHA256 of
//! `"{t}.{body}"` under the endpoint's secret, within a tolerance against replays) and the
//! `charge.dispute.*` event objects.

use super::{DisputeEvent, Network, Observed, Provider, Stage, Status, WebhookError};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Stripe's own default tolerance.
pub const TOLERANCE_SECS: i64 = 300;

/// The event types taken; others are acknowledged and ignored.
pub const EVENT_TYPES: &[&str] = &[
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
];

/// Checks the header against the exact body bytes. Several `v1` values (a secret being rolled)
/// pass if any matches; the comparison is constant-time.
pub fn verify(
    header: &str,
    body: &[u8],
    secret: &str,
    now: DateTime<Utc>,
    tolerance_secs: i64,
) -> Result<(), WebhookError> {
    let sig = |m: &str| WebhookError::Signature(m.into());
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v.to_owned()),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| sig("the Stripe-Signature header has no timestamp"))?;
    if v1.is_empty() {
        return Err(sig("the Stripe-Signature header has no v1 signature"));
    }
    if (now.timestamp() - t).abs() > tolerance_secs {
        return Err(sig("the timestamp is outside the tolerance (a replay, or a clock far off)"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| sig("no secret configured"))?;
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let ok = v1.iter().any(|s| decode_hex(s).is_some_and(|bytes| mac.clone().verify_slice(&bytes).is_ok()));
    if ok { Ok(()) } else { Err(sig("no v1 signature matches")) }
}

/// The header Stripe would send for this body (tests and the demo's sender).
pub fn sign(body: &[u8], secret: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// A dispute's status as Stripe names it: inquiries (`warning_*`) and chargebacks.
pub fn lifecycle(status: &str) -> Option<(Stage, Status)> {
    Some(match status {
        "warning_needs_response" => (Stage::Inquiry, Status::NeedsResponse),
        "warning_under_review" => (Stage::Inquiry, Status::UnderReview),
        // An inquiry closed without a chargeback: nothing was lost.
        "warning_closed" => (Stage::Inquiry, Status::Won),
        "needs_response" => (Stage::Chargeback, Status::NeedsResponse),
        "under_review" => (Stage::Chargeback, Status::UnderReview),
        "won" | "prevented" => (Stage::Chargeback, Status::Won),
        "lost" => (Stage::Chargeback, Status::Lost),
        "charge_refunded" => (Stage::Chargeback, Status::Accepted),
        _ => return None,
    })
}

/// Parses an event. `Ok(None)`: a valid event of a type not taken (acknowledged, not stored).
pub fn parse(body: &[u8]) -> Result<Option<DisputeEvent>, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::payload("body", format!("is not JSON: {e}")))?;
    let s = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).map(str::to_owned);
    let id = s(&v, "id")
        .filter(|i| !i.is_empty() && i.len() <= 255)
        .ok_or_else(|| WebhookError::payload("id", "is required"))?;
    let kind = s(&v, "type").ok_or_else(|| WebhookError::payload("type", "is required"))?;
    if !EVENT_TYPES.contains(&kind.as_str()) {
        return Ok(None);
    }
    let d = v
        .pointer("/data/object")
        .filter(|o| o.is_object())
        .ok_or_else(|| WebhookError::payload("data.object", "is required"))?;
    if d.get("object").and_then(Value::as_str) != Some("dispute") {
        return Err(WebhookError::payload("data.object.object", "must be dispute"));
    }
    let dispute = s(d, "id")
        .filter(|i| !i.is_empty() && i.len() <= 255)
        .ok_or_else(|| WebhookError::payload("data.object.id", "is required"))?;
    let status_raw = s(d, "status").ok_or_else(|| WebhookError::payload("data.object.status", "is required"))?;
    let (stage, status) = lifecycle(&status_raw)
        .ok_or_else(|| WebhookError::payload("data.object.status", format!("unknown status {status_raw}")))?;
    let amount = d
        .get("amount")
        .map(|a| {
            a.as_i64()
                .filter(|a| *a >= 0)
                .ok_or_else(|| WebhookError::payload("data.object.amount", "must be a non-negative integer"))
        })
        .transpose()?;
    let currency = s(d, "currency").map(|c| c.to_ascii_uppercase());
    let created = v.get("created").and_then(Value::as_i64).or_else(|| d.get("created").and_then(Value::as_i64));
    let occurred_at = created
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .ok_or_else(|| WebhookError::payload("created", "must be a Unix timestamp"))?;
    let due_by =
        d.pointer("/evidence_details/due_by").and_then(Value::as_i64).and_then(|t| DateTime::from_timestamp(t, 0));
    let card = d.pointer("/payment_method_details/card");
    let network_code = card.and_then(|c| s(c, "network_reason_code"));
    let reason = network_code.or_else(|| s(d, "reason"));
    let network = card.and_then(|c| s(c, "brand")).map_or(Network::Other, |b| Network::from_brand(&b));
    let funds = match kind.as_str() {
        "charge.dispute.funds_withdrawn" => amount.map(|a| -a),
        "charge.dispute.funds_reinstated" => amount,
        _ => None,
    };
    let mut refs = Vec::new();
    for f in ["charge", "payment_intent"] {
        // Expanded objects carry their id.
        if let Some(r) = d.get(f).and_then(|x| x.as_str().map(str::to_owned).or_else(|| s(x, "id"))) {
            refs.push(r);
        }
    }
    Ok(Some(DisputeEvent {
        provider: Provider::Stripe,
        dedupe_key: id,
        provider_ref: dispute,
        event_type: kind,
        observed: Observed { stage: Some(stage), status: Some(status) },
        fraud_report: false,
        reason_code: reason,
        network,
        amount_minor: amount,
        currency,
        due_by,
        occurred_at,
        funds,
        order_hint: d.pointer("/metadata/order_id").and_then(Value::as_str).map(str::to_owned),
        payment_refs: refs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    fn body() -> Vec<u8> {
        serde_json::json!({
            "id": "evt_1", "object": "event", "type": "charge.dispute.created", "created": 1_764_000_000,
            "data": {"object": {
                "id": "dp_1", "object": "dispute", "amount": 24990, "currency": "eur",
                "charge": "ch_1", "payment_intent": "pi_1", "reason": "fraudulent", "status": "needs_response",
                "created": 1_764_000_000, "evidence_details": {"due_by": 1_765_000_000, "has_evidence": false},
                "metadata": {"order_id": "A-1"},
                "payment_method_details": {"type": "card", "card": {"brand": "visa", "network_reason_code": "10.4"}}
            }}
        })
        .to_string()
        .into_bytes()
    }

    fn at(t: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(t, 0).unwrap()
    }

    #[test]
    fn a_signed_body_verifies_within_the_window() {
        let b = body();
        let h = sign(&b, SECRET, 1_764_000_000);
        assert_eq!(verify(&h, &b, SECRET, at(1_764_000_100), TOLERANCE_SECS), Ok(()));
        // A rolled secret: two v1 values, one matches.
        let h2 = format!("{},v1={}", h, "00".repeat(32));
        assert_eq!(verify(&h2, &b, SECRET, at(1_764_000_000), TOLERANCE_SECS), Ok(()));
    }

    #[test]
    fn refusals() {
        let b = body();
        let h = sign(&b, SECRET, 1_764_000_000);
        // Replayed after the window, or from the future.
        assert!(verify(&h, &b, SECRET, at(1_764_000_301), TOLERANCE_SECS).is_err());
        assert!(verify(&h, &b, SECRET, at(1_763_999_000), TOLERANCE_SECS).is_err());
        // Another secret, a changed body, a missing part, garbage.
        assert!(verify(&h, &b, "whsec_other", at(1_764_000_000), TOLERANCE_SECS).is_err());
        let mut changed = b.clone();
        changed[10] ^= 1;
        assert!(verify(&h, &changed, SECRET, at(1_764_000_000), TOLERANCE_SECS).is_err());
        assert!(verify("t=1764000000", &b, SECRET, at(1_764_000_000), TOLERANCE_SECS).is_err());
        assert!(verify("v1=abc", &b, SECRET, at(1_764_000_000), TOLERANCE_SECS).is_err());
        assert!(verify("t=x,v1=zz", &b, SECRET, at(1_764_000_000), TOLERANCE_SECS).is_err());
        // The older v0 scheme is not accepted.
        let v0 = h.replace("v1=", "v0=");
        assert!(verify(&v0, &b, SECRET, at(1_764_000_000), TOLERANCE_SECS).is_err());
    }

    #[test]
    fn parses_a_dispute_event() {
        let e = parse(&body()).unwrap().unwrap();
        assert_eq!(e.dedupe_key, "evt_1");
        assert_eq!(e.provider_ref, "dp_1");
        assert_eq!(e.observed, Observed { stage: Some(Stage::Chargeback), status: Some(Status::NeedsResponse) });
        assert_eq!(e.reason_code.as_deref(), Some("10.4"));
        assert_eq!(e.network, Network::Visa);
        assert_eq!(e.amount_minor, Some(24990));
        assert_eq!(e.currency.as_deref(), Some("EUR"));
        assert_eq!(e.due_by, Some(at(1_765_000_000)));
        assert_eq!(e.order_hint.as_deref(), Some("A-1"));
        assert_eq!(e.payment_refs, vec!["ch_1".to_owned(), "pi_1".to_owned()]);
    }

    #[test]
    fn other_types_are_ignored_and_hostile_bodies_refused() {
        let other = br#"{"id":"evt_2","type":"charge.succeeded","created":1,"data":{"object":{}}}"#;
        assert_eq!(parse(other), Ok(None));
        assert!(matches!(parse(b"not json"), Err(WebhookError::Payload { .. })));
        let no_obj = br#"{"id":"evt_3","type":"charge.dispute.created","created":1}"#;
        assert!(matches!(parse(no_obj), Err(WebhookError::Payload { field, .. }) if field == "data.object"));
        let neg = br#"{"id":"evt_4","type":"charge.dispute.created","created":1,"data":{"object":{"id":"dp","object":"dispute","status":"won","amount":-5}}}"#;
        assert!(matches!(parse(neg), Err(WebhookError::Payload { field, .. }) if field == "data.object.amount"));
        let status = br#"{"id":"evt_5","type":"charge.dispute.created","created":1,"data":{"object":{"id":"dp","object":"dispute","status":"exploded"}}}"#;
        assert!(matches!(parse(status), Err(WebhookError::Payload { field, .. }) if field == "data.object.status"));
    }
}
