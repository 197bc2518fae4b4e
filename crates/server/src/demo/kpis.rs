//! The demo's KPIs: the history is counted, and last week gains what a governance manager
//! should see on Monday morning: a burst of luxury jackets paid by card and shipped to the
//! Netherlands by new accounts, a third of them confirmed fraud a few days later, so the trend
//! scan raises alerts for that brand, method and country. Reports can be downloaded (no SMTP
//! server is configured in the demo).

use chrono::{Datelike, Duration, Utc};
use riskdesk_domain::intake::{parse_event_json, parse_order_json};
use riskdesk_service::Service;
use riskdesk_service::access::local;
use serde_json::json;

pub async fn seed(service: &Service) -> anyhow::Result<()> {
    let cap = local::intake();
    let today = service.kpi_today();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7);
    let mut orders = Vec::new();
    let mut events = Vec::new();
    for i in 0..36u32 {
        let day = monday + Duration::days(i64::from(i % 7));
        let placed = day.and_hms_opt(9 + (i % 12), (i * 7) % 60, 0).expect("a time").and_utc();
        let id = format!("D-NL-{i:03}");
        let customer = format!("C-NL-{i:03}");
        let o = json!({
            "order_id": id, "placed_at": placed.to_rfc3339(), "channel": if i % 3 == 0 { "app" } else { "webshop" },
            "customer": {"customer_id": customer, "email": format!("jacket.deal{i}@mailbox.example"), "name": format!("J. de Vries {i}"),
                         "created_at": (placed - Duration::minutes(20)).to_rfc3339()},
            "total": {"amount": "1290.00", "currency": "EUR"},
            "items": [{"sku": "MON-129000", "brand": "Moncler", "category": "jacket", "quantity": 1,
                       "unit_price": {"amount": "1290.00", "currency": "EUR"}}],
            "payment": {"method": "card", "card": {"bin": "535522", "last4": format!("{:04}", 1000 + i * 37), "fingerprint": format!("fp-nl-{i}"), "issuer_country": "US"}},
            "billing_address": {"name": format!("J. de Vries {i}"), "line1": format!("Damrak {}", 10 + i), "postal_code": "1012", "city": "Amsterdam", "country": "NL"},
            "shipping_address": {"name": format!("J. de Vries {i}"), "line1": "Industrieweg 4", "postal_code": "3044", "city": "Rotterdam", "country": "NL"},
            "device": {"device_id": format!("dev-nl-{}", i % 5), "ip": format!("198.51.100.{}", 20 + i % 9)}
        });
        orders.push(parse_order_json(o.to_string().as_bytes())?);
        if i % 3 == 1 {
            let found = (placed + Duration::days(2)).min(Utc::now());
            let e = json!({"event_id": format!("E-NL-{i:03}"), "type": "fraud_confirmed", "occurred_at": found.to_rfc3339(),
                           "order_id": id, "customer_id": customer, "data": {"pattern": "reshipper_burst", "source": "issuer"}});
            events.push(parse_event_json(e.to_string().as_bytes())?);
        }
    }
    let first = riskdesk_domain::OrderId::parse("D-NL-000", "order_id")?;
    if service.store().get_order(&first).await?.is_some() {
        return Ok(());
    }
    service.import_orders(&cap, orders).await?;
    service.import_events(&cap, events).await?;
    let since = monday.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - Duration::days(1);
    service.screen_undecided(&cap, since).await?;
    let counted = service.refresh_kpis(usize::MAX).await?;
    let alerts = service.scan_kpi_alerts().await?;
    eprintln!("counted the KPIs of {counted} orders; {} trend alerts", alerts.len());
    Ok(())
}
