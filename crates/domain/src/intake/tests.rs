use super::*;
use serde_json::json;

pub(crate) fn example() -> Value {
    json!({
      "order_id": "A-1001",
      "placed_at": "2026-11-21T10:15:00+01:00",
      "channel": "webshop",
      "customer": {"customer_id": "C-77", "email": "anna@example.com", "phone": "+4915112345678",
                   "name": "Anna Beispiel", "created_at": "2025-01-02T08:00:00Z", "invited_by": "C-12"},
      "total": {"amount": "249.90", "currency": "EUR"},
      "items": [{"sku": "SKU-1", "brand": "Acme", "category": "sneakers", "quantity": 1,
                 "unit_price": {"amount": "249.90", "currency": "EUR"}}],
      "payment": {"method": "card", "card": {"bin": "411111", "last4": "1111", "fingerprint": "fp_abc", "issuer_country": "DE"},
                  "iban": null, "wallet_id": null},
      "billing_address":  {"name": "Anna Beispiel", "line1": "Torstr. 1", "line2": null, "postal_code": "10115", "city": "Berlin", "country": "DE"},
      "shipping_address": {"name": "Anna Beispiel", "line1": "Torstr. 1", "line2": null, "postal_code": "10115", "city": "Berlin", "country": "DE"},
      "device": {"device_id": "dev-9f8", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 …"},
      "promo_codes": ["WELCOME10"],
      "attributes": {"checkout_seconds": 41, "loyalty_tier": "gold", "third_party_device_score": 0.82}
    })
}

fn parse(v: &Value) -> Result<Order, FieldError> {
    parse_order_json(&serde_json::to_vec(v).unwrap())
}

fn err_of(mutate: impl FnOnce(&mut Value)) -> FieldError {
    let mut v = example();
    mutate(&mut v);
    parse(&v).unwrap_err()
}

#[test]
fn the_documented_example_parses_and_round_trips() {
    let o = parse(&example()).unwrap();
    assert_eq!(o.order_id.as_str(), "A-1001");
    assert_eq!(o.total.minor, 24990);
    assert_eq!(o.placed_at.offset().local_minus_utc(), 3600);
    assert_eq!(o.entities().len(), 7);
    let back: Order = serde_json::from_value(serde_json::to_value(&o).unwrap()).unwrap();
    assert_eq!(back, o);
    // the serialised order is itself valid intake
    assert_eq!(parse(&serde_json::to_value(&o).unwrap()).unwrap(), o);
}

#[test]
fn only_the_required_fields_are_required() {
    let min = json!({"order_id": "A", "placed_at": "2026-01-01T00:00:00Z", "customer": {"customer_id": "C"},
                     "total": {"amount": "1.00", "currency": "EUR"}, "payment": {"method": "invoice"}});
    let o = parse(&min).unwrap();
    assert!(o.entities().is_empty());
    for (path, field) in [
        ("order_id", "order_id"),
        ("placed_at", "placed_at"),
        ("total", "total"),
        ("customer", "customer.customer_id"),
        ("payment", "payment.method"),
    ] {
        let mut v = min.clone();
        v.as_object_mut().unwrap().remove(path);
        let e = parse(&v).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("missing_field", field));
    }
}

#[test]
fn wrong_types_name_their_field() {
    let e = err_of(|v| v["customer"]["email"] = json!(5));
    assert_eq!((e.code, e.field.as_str()), ("invalid_type", "customer.email"));
    let e = err_of(|v| v["items"][0]["quantity"] = json!("one"));
    assert_eq!((e.code, e.field.as_str()), ("invalid_type", "items[0].quantity"));
    let e = err_of(|v| v["total"]["amount"] = json!(249.9));
    assert_eq!((e.code, e.field.as_str()), ("invalid_amount", "total.amount"));
    let e = err_of(|v| v["items"] = json!({}));
    assert_eq!((e.code, e.field.as_str()), ("invalid_type", "items"));
}

#[test]
fn bad_values_name_their_field() {
    type Case = (Box<dyn FnOnce(&mut Value)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (Box::new(|v| v["total"]["amount"] = json!("-5.00")), "negative_amount", "total.amount"),
        (Box::new(|v| v["total"]["amount"] = json!("abc")), "invalid_amount", "total.amount"),
        (Box::new(|v| v["total"]["currency"] = json!("XXY")), "unknown_currency", "total.currency"),
        (Box::new(|v| v["shipping_address"]["country"] = json!("XX")), "unknown_country", "shipping_address.country"),
        (
            Box::new(|v| v["payment"]["card"]["issuer_country"] = json!("de")),
            "unknown_country",
            "payment.card.issuer_country",
        ),
        (Box::new(|v| v["payment"]["method"] = json!("bitcoin")), "invalid_enum", "payment.method"),
        (Box::new(|v| v["placed_at"] = json!("2026-11-21 10:15")), "invalid_timestamp", "placed_at"),
        (Box::new(|v| v["customer"]["email"] = json!("not-an-email")), "invalid_email", "customer.email"),
        (Box::new(|v| v["customer"]["name"] = json!("A\u{0007}B")), "invalid_characters", "customer.name"),
        (Box::new(|v| v["order_id"] = json!("<script>alert(1)</script>")), "invalid_id", "order_id"),
        (Box::new(|v| v["order_id"] = json!("1'; DROP TABLE orders;--")), "invalid_id", "order_id"),
        (Box::new(|v| v["device"]["ip"] = json!("999.1.1.1")), "invalid_ip", "device.ip"),
        (Box::new(|v| v["payment"]["card"]["bin"] = json!("41x111")), "invalid_digits", "payment.card.bin"),
        (
            Box::new(|v| v["items"][0]["unit_price"]["currency"] = json!("USD")),
            "currency_mismatch",
            "items[0].unit_price.currency",
        ),
        (Box::new(|v| v["items"][0]["quantity"] = json!(0)), "invalid_quantity", "items[0].quantity"),
        (Box::new(|v| v["attributes"]["nested"] = json!({"a": 1})), "invalid_attribute", "attributes.nested"),
        (Box::new(|v| v["attributes"]["bad name"] = json!(1)), "invalid_attribute_name", "attributes"),
    ];
    for (mutate, code, field) in cases {
        let e = err_of(mutate);
        assert_eq!((e.code, e.field.as_str()), (code, field));
    }
}

#[test]
fn ten_thousand_items_are_refused() {
    let e = err_of(|v| v["items"] = Value::Array(vec![json!({"quantity": 1}); 10_000]));
    assert_eq!((e.code, e.field.as_str()), ("too_many_items", "items"));
}

#[test]
fn malformed_bodies() {
    for body in [&b"{"[..], b"", b"[]", b"null", b"{\"order_id\": \"A\"} trailing", b"{\"order_id\": \"\xff\xfe\"}"] {
        let e = parse_order_json(body).unwrap_err();
        assert!(matches!(e.code, "malformed_json" | "invalid_type"), "{e:?}");
        assert_eq!(e.field, "");
    }
    // a lone surrogate escape is not valid UTF-8 text
    assert_eq!(parse_order_json(br#"{"order_id": "\ud800"}"#).unwrap_err().code, "malformed_json");
    let e = parse_order_json(br#"{"order_id": "A", "order_id": "B"}"#).unwrap_err();
    assert_eq!(e.code, "duplicate_field");
}

#[test]
fn sql_looking_text_is_kept_and_markup_refused() {
    let mut v = example();
    v["customer"]["name"] = json!("Robert'); DROP TABLE customers;--");
    let o = parse(&v).unwrap();
    assert_eq!(o.customer.name.as_deref(), Some("Robert'); DROP TABLE customers;--"));
    let e = err_of(|v| v["shipping_address"]["line1"] = json!("<img src=x onerror=alert(1)> 1"));
    assert_eq!((e.code, e.field.as_str()), ("markup_not_allowed", "shipping_address.line1"));
    let e = err_of(|v| v["items"][0]["brand"] = json!("<script>alert(1)</script>"));
    assert_eq!((e.code, e.field.as_str()), ("markup_not_allowed", "items[0].brand"));
    let e = err_of(|v| v["attributes"]["note"] = json!("<b>hi</b>"));
    assert_eq!((e.code, e.field.as_str()), ("markup_not_allowed", "attributes.note"));
}

#[test]
fn events_parse_and_check_their_data() {
    let ok = br#"{"event_id": "E-1", "type": "chargeback_received", "occurred_at": "2026-12-02T08:00:00Z",
        "order_id": "A-1001", "customer_id": "C-77", "data": {"reason_code": "10.4", "amount": {"amount": "249.9", "currency": "EUR"}}}"#;
    let e = parse_event_json(ok).unwrap();
    assert_eq!(e.event_type, EventType::ChargebackReceived);
    assert_eq!(e.data["amount"]["amount"], "249.90");

    let bad = |s: &str| parse_event_json(s.as_bytes()).unwrap_err();
    let e = bad(r#"{"event_id": "E", "type": "teleported", "occurred_at": "2026-12-02T08:00:00Z", "order_id": "A"}"#);
    assert_eq!((e.code, e.field.as_str()), ("invalid_enum", "type"));
    let e = bad(r#"{"event_id": "E", "type": "login", "occurred_at": "2026-12-02T08:00:00Z"}"#);
    assert_eq!((e.code, e.field.as_str()), ("missing_field", "order_id"));
    let e = bad(
        r#"{"event_id": "E", "type": "refund_claimed", "occurred_at": "2026-12-02T08:00:00Z", "order_id": "A", "data": {"claim": "bored"}}"#,
    );
    assert_eq!((e.code, e.field.as_str()), ("invalid_enum", "data.claim"));
    let e = bad(
        r#"{"event_id": "E", "type": "refund_issued", "occurred_at": "2026-12-02T08:00:00Z", "order_id": "A", "data": {"amount": {"amount": "-1", "currency": "EUR"}}}"#,
    );
    assert_eq!((e.code, e.field.as_str()), ("negative_amount", "data.amount.amount"));
    let e = bad(
        r#"{"event_id": "E", "type": "login", "occurred_at": "2026-12-02T08:00:00Z", "order_id": "A", "data": {"note": "a\u0000b"}}"#,
    );
    assert_eq!((e.code, e.field.as_str()), ("invalid_characters", "data.note"));
    let e = bad(r#"{"type": "login", "occurred_at": "2026-12-02T08:00:00Z", "order_id": "A"}"#);
    assert_eq!((e.code, e.field.as_str()), ("missing_field", "event_id"));
}

#[test]
fn wire_text_is_borrowed_from_the_body_unless_it_has_escapes() {
    let body = br#"{"order_id":"A-1","placed_at":"2026-11-21T10:15:00+01:00",
        "customer":{"customer_id":"C-1","name":"Anna \"A\" B"},"promo_codes":["X1"]}"#;
    let o: OrderIn<'_> = decode(body).unwrap();
    assert!(o.order_id.as_ref().unwrap().is_borrowed());
    assert!(o.placed_at.as_ref().unwrap().is_borrowed());
    assert!(o.promo_codes.as_ref().unwrap()[0].is_borrowed());
    let c = o.customer.as_ref().unwrap();
    assert!(c.customer_id.as_ref().unwrap().is_borrowed());
    let name = c.name.as_ref().unwrap();
    assert!(!name.is_borrowed(), "unescaped, so copied");
    assert_eq!(&**name, "Anna \"A\" B");
    assert!(c.email.is_none(), "absent fields are None");
}
