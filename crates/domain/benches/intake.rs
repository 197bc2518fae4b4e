//! Per-order CPU of intake: parsing and validating an intake-v1 order, extracting and hashing its
//! entities, and serialising it for storage. `cargo bench -p riskdesk-domain --bench intake`.

use criterion::{Criterion, criterion_group, criterion_main};
use riskdesk_domain::EntityHasher;
use riskdesk_domain::intake::parse_order_json;
use std::hint::black_box;

const ORDER: &str = r#"{"order_id":"A-1001","placed_at":"2026-11-21T10:15:00+01:00","channel":"webshop",
"customer":{"customer_id":"C-77","email":"anna@example.com","phone":"+4915112345678","name":"Anna Beispiel","created_at":"2025-01-02T08:00:00Z","invited_by":"C-12"},
"total":{"amount":"249.90","currency":"EUR"},
"items":[{"sku":"SKU-1","brand":"Acme","category":"sneakers","quantity":1,"unit_price":{"amount":"249.90","currency":"EUR"}}],
"payment":{"method":"card","card":{"bin":"411111","last4":"1111","fingerprint":"fp_abc","issuer_country":"DE"},"iban":null,"wallet_id":null},
"billing_address":{"name":"Anna Beispiel","line1":"Torstr. 1","line2":null,"postal_code":"10115","city":"Berlin","country":"DE"},
"shipping_address":{"name":"Anna Beispiel","line1":"Torstr. 1","line2":null,"postal_code":"10115","city":"Berlin","country":"DE"},
"device":{"device_id":"dev-9f8","ip":"203.0.113.7","user_agent":"Mozilla/5.0"},
"promo_codes":["WELCOME10"],"attributes":{"checkout_seconds":41,"loyalty_tier":"gold","third_party_device_score":0.82}}"#;

fn intake(c: &mut Criterion) {
    let hasher = EntityHasher::new(&[7u8; 32]);
    let order = parse_order_json(ORDER.as_bytes()).expect("valid example");
    c.bench_function("parse_order_json", |b| b.iter(|| parse_order_json(black_box(ORDER.as_bytes()))));
    c.bench_function("entities_and_hashes", |b| {
        b.iter(|| black_box(&order).entities().iter().map(|e| hasher.key_of(e)).collect::<Vec<_>>())
    });
    c.bench_function("serialise_body", |b| b.iter(|| serde_json::to_string(black_box(&order))));
}

criterion_group!(benches, intake);
criterion_main!(benches);
