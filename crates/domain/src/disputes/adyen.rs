//! Adyen's standard notifications (`notificationItems[].NotificationRequestItem`) for disputes,
//! each item signed in `additionalData.hmacSignature`: HMAC-SHA256 under the hex key over
//! `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`,
//! Base64.

use super::{DisputeEvent, Network, Observed, Provider, Stage, Status, WebhookError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// What each dispute event code says of the lifecycle, and whether it is the issuer's fraud
/// report rather than a dispute. Codes not listed are acknowledged and ignored.
pub fn lifecycle(code: &str) -> Option<(Observed, bool)> {
    use Stage::*;
    use Status::*;
    let o = |stage, status| Observed { stage, status };
    Some(match code {
        "REQUEST_FOR_INFORMATION" => (o(Some(Inquiry), Some(NeedsResponse)), false),
        "NOTIFICATION_OF_CHARGEBACK" | "CHARGEBACK" => (o(Some(Chargeback), Some(NeedsResponse)), false),
        "NOTIFICATION_OF_FRAUD" => (o(None, None), true),
        "CHARGEBACK_REVERSED" => (o(Some(Chargeback), Some(Won)), false),
        "INFORMATION_SUPPLIED" => (o(None, Some(UnderReview)), false),
        "SECOND_CHARGEBACK" => (o(Some(PreArbitration), Some(Lost)), false),
        "PREARBITRATION_OPEN" => (o(Some(PreArbitration), Some(NeedsResponse)), false),
        "PREARBITRATION_WON" => (o(Some(PreArbitration), Some(Won)), false),
        "PREARBITRATION_LOST" => (o(Some(PreArbitration), Some(Lost)), false),
        // The defence window closed: undefended, it expires; a defended one stays under review
        // (`advance` keeps it), and a final status does not change.
        "DISPUTE_DEFENSE_PERIOD_ENDED" => (o(None, Some(Expired)), false),
        // The issuer did not answer in time: the merchant keeps the money.
        "ISSUER_RESPONSE_TIMEFRAME_EXPIRED" => (o(None, Some(Won)), false),
        "ISSUER_COMMENTS" => (o(None, None), false),
        _ => return None,
    })
}

fn text(item: &Value, f: &str) -> String {
    match item.get(f) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The string Adyen signs for one item.
pub fn signing_string(item: &Value) -> String {
    let value = item.pointer("/amount/value").map(|v| v.to_string()).unwrap_or_default();
    let currency = item.pointer("/amount/currency").and_then(Value::as_str).unwrap_or_default();
    [
        text(item, "pspReference"),
        text(item, "originalReference"),
        text(item, "merchantAccountCode"),
        text(item, "merchantReference"),
        value,
        currency.to_owned(),
        text(item, "eventCode"),
        text(item, "success"),
    ]
    .join(":")
}

fn mac(hex_key: &str) -> Result<Hmac<Sha256>, WebhookError> {
    let key = hex_key.trim();
    if key.is_empty() || !key.len().is_multiple_of(2) {
        return Err(WebhookError::Signature("no valid HMAC key configured".into()));
    }
    let bytes: Option<Vec<u8>> =
        (0..key.len()).step_by(2).map(|i| u8::from_str_radix(&key[i..i + 2], 16).ok()).collect();
    let bytes = bytes.ok_or_else(|| WebhookError::Signature("the configured HMAC key is not hex".into()))?;
    Hmac::<Sha256>::new_from_slice(&bytes).map_err(|_| WebhookError::Signature("no valid HMAC key configured".into()))
}

/// The signature of an item (tests and the demo's sender).
pub fn sign(item: &Value, hex_key: &str) -> String {
    let mut m = mac(hex_key).expect("a hex key");
    m.update(signing_string(item).as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

/// The items of a notification, each checked against its signature; one bad item refuses the
/// whole request, so nothing of it is stored.
pub fn verified_items(body: &[u8], hex_key: &str) -> Result<Vec<Value>, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::payload("body", format!("is not JSON: {e}")))?;
    let items = v
        .get("notificationItems")
        .and_then(Value::as_array)
        .ok_or_else(|| WebhookError::payload("notificationItems", "is required (an array)"))?;
    if items.len() > 100 {
        return Err(WebhookError::payload("notificationItems", "at most 100 items"));
    }
    let base = mac(hex_key)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let item = it.get("NotificationRequestItem").filter(|x| x.is_object()).ok_or_else(|| {
            WebhookError::payload(format!("notificationItems[{i}].NotificationRequestItem"), "is required")
        })?;
        let sig = item
            .pointer("/additionalData/hmacSignature")
            .and_then(Value::as_str)
            .ok_or_else(|| WebhookError::Signature(format!("notificationItems[{i}] has no hmacSignature")))?;
        let given = STANDARD
            .decode(sig)
            .map_err(|_| WebhookError::Signature(format!("notificationItems[{i}]: the signature is not Base64")))?;
        let mut m = base.clone();
        m.update(signing_string(item).as_bytes());
        m.verify_slice(&given)
            .map_err(|_| WebhookError::Signature(format!("notificationItems[{i}]: the signature does not match")))?;
        out.push(item.clone());
    }
    Ok(out)
}

/// Adyen's dates carry an offset (`2026-12-01T10:00:00+01:00`).
fn date(item: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    item.pointer(pointer).and_then(Value::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.to_utc())
}

/// Normalises one verified item. `Ok(None)`: an event code that is not about disputes.
pub fn parse_item(i: usize, item: &Value) -> Result<Option<DisputeEvent>, WebhookError> {
    let field = |f: &str| format!("notificationItems[{i}].NotificationRequestItem.{f}");
    let code = item
        .get("eventCode")
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError::payload(field("eventCode"), "is required"))?;
    let Some((observed, fraud_report)) = lifecycle(code) else { return Ok(None) };
    let psp = item
        .get("pspReference")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty() && p.len() <= 255)
        .ok_or_else(|| WebhookError::payload(field("pspReference"), "is required"))?;
    let event_date = item
        .get("eventDate")
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError::payload(field("eventDate"), "is required"))?;
    let occurred_at = date(item, "/eventDate")
        .ok_or_else(|| WebhookError::payload(field("eventDate"), "must be an ISO 8601 date-time"))?;
    let amount = match item.pointer("/amount/value") {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .filter(|a| *a >= 0)
                .ok_or_else(|| WebhookError::payload(field("amount.value"), "must be a non-negative integer"))?,
        ),
    };
    let currency = item.pointer("/amount/currency").and_then(Value::as_str).map(str::to_owned);
    let original = item.get("originalReference").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    // Only these two book money on Adyen; the later stages' outcomes are bookings of their own
    // that arrive as CHARGEBACK or CHARGEBACK_REVERSED.
    let funds = match code {
        "CHARGEBACK" => amount.map(|a| -a),
        "CHARGEBACK_REVERSED" => amount,
        _ => None,
    };
    let network = item
        .pointer("/additionalData/chargebackSchemeCode")
        .or_else(|| item.get("paymentMethod"))
        .and_then(Value::as_str)
        .map_or(Network::Other, Network::from_brand);
    Ok(Some(DisputeEvent {
        provider: Provider::Adyen,
        dedupe_key: format!("{code}:{psp}:{event_date}"),
        // All events of one dispute share its pspReference; originalReference is the payment.
        provider_ref: psp.to_owned(),
        event_type: code.to_owned(),
        observed,
        fraud_report,
        reason_code: item.pointer("/additionalData/chargebackReasonCode").and_then(Value::as_str).map(str::to_owned),
        network,
        amount_minor: amount,
        currency,
        due_by: date(item, "/additionalData/defensePeriodEndsAt"),
        occurred_at,
        funds,
        order_hint: item.get("merchantReference").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned),
        payment_refs: original.into_iter().chain(std::iter::once(psp.to_owned())).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A key as Adyen's Customer Area shows one: 64 hex digits.
    const KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

    fn item(code: &str) -> Value {
        json!({
            "additionalData": {"chargebackReasonCode": "10.4", "chargebackSchemeCode": "visa",
                               "defensePeriodEndsAt": "2026-12-20T10:00:00+01:00"},
            "amount": {"currency": "EUR", "value": 24990},
            "eventCode": code, "eventDate": "2026-12-01T10:00:00+01:00",
            "merchantAccountCode": "ShopDE", "merchantReference": "A-1001",
            "originalReference": "9913140798220028", "paymentMethod": "visa",
            "pspReference": "9915555555555555", "reason": "Fraud", "success": "true"
        })
    }

    fn signed(mut it: Value) -> Value {
        let s = sign(&it, KEY);
        it["additionalData"]["hmacSignature"] = json!(s);
        it
    }

    fn body(items: Vec<Value>) -> Vec<u8> {
        json!({"live": "false", "notificationItems": items.into_iter().map(|i| json!({"NotificationRequestItem": i})).collect::<Vec<_>>()})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn the_signing_string_is_adyens() {
        assert_eq!(
            signing_string(&item("CHARGEBACK")),
            "9915555555555555:9913140798220028:ShopDE:A-1001:24990:EUR:CHARGEBACK:true"
        );
        // Absent fields are empty, in place.
        let mut no_orig = item("CHARGEBACK");
        no_orig.as_object_mut().unwrap().remove("originalReference");
        assert_eq!(signing_string(&no_orig), "9915555555555555::ShopDE:A-1001:24990:EUR:CHARGEBACK:true");
    }

    #[test]
    fn verifies_and_normalises() {
        let items = verified_items(&body(vec![signed(item("NOTIFICATION_OF_CHARGEBACK"))]), KEY).unwrap();
        let e = parse_item(0, &items[0]).unwrap().unwrap();
        assert_eq!(e.dedupe_key, "NOTIFICATION_OF_CHARGEBACK:9915555555555555:2026-12-01T10:00:00+01:00");
        assert_eq!(e.provider_ref, "9915555555555555");
        assert_eq!(e.observed, Observed { stage: Some(Stage::Chargeback), status: Some(Status::NeedsResponse) });
        assert_eq!(e.order_hint.as_deref(), Some("A-1001"));
        assert_eq!(e.due_by.unwrap().to_rfc3339(), "2026-12-20T09:00:00+00:00");
        assert_eq!(e.network, Network::Visa);
        assert_eq!(e.funds, None);
        let cb = parse_item(0, &item("CHARGEBACK")).unwrap().unwrap();
        assert_eq!(cb.funds, Some(-24990));
        let fraud = parse_item(0, &item("NOTIFICATION_OF_FRAUD")).unwrap().unwrap();
        assert!(fraud.fraud_report);
        assert_eq!(parse_item(0, &item("AUTHORISATION")).unwrap(), None);
    }

    #[test]
    fn one_bad_item_refuses_all() {
        let good = signed(item("CHARGEBACK"));
        let mut tampered = signed(item("CHARGEBACK_REVERSED"));
        tampered["amount"]["value"] = json!(1);
        assert!(matches!(verified_items(&body(vec![good.clone(), tampered]), KEY), Err(WebhookError::Signature(_))));
        let unsigned = item("CHARGEBACK");
        assert!(matches!(verified_items(&body(vec![good.clone(), unsigned]), KEY), Err(WebhookError::Signature(_))));
        // Another key.
        let other = "00".repeat(32);
        assert!(matches!(verified_items(&body(vec![good.clone()]), &other), Err(WebhookError::Signature(_))));
        // Not the format.
        assert!(matches!(verified_items(b"[]", KEY), Err(WebhookError::Payload { .. })));
        assert!(matches!(verified_items(b"{\"notificationItems\":[1]}", KEY), Err(WebhookError::Payload { .. })));
        let mut garbage = good;
        garbage["additionalData"]["hmacSignature"] = json!("%%%");
        assert!(matches!(verified_items(&body(vec![garbage]), KEY), Err(WebhookError::Signature(_))));
    }

    #[test]
    fn hostile_fields_name_the_field() {
        let mut neg = item("CHARGEBACK");
        neg["amount"]["value"] = json!(-1);
        assert!(
            matches!(parse_item(0, &neg), Err(WebhookError::Payload { field, .. }) if field.ends_with("amount.value"))
        );
        let mut date = item("CHARGEBACK");
        date["eventDate"] = json!("yesterday");
        assert!(
            matches!(parse_item(0, &date), Err(WebhookError::Payload { field, .. }) if field.ends_with("eventDate"))
        );
        let mut psp = item("CHARGEBACK");
        psp["pspReference"] = json!("");
        assert!(
            matches!(parse_item(0, &psp), Err(WebhookError::Payload { field, .. }) if field.ends_with("pspReference"))
        );
    }
}
