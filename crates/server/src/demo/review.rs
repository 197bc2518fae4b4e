//! The review queue's demo data: this morning's and last night's suspicious orders, placed through
//! live screening relative to the real clock, so the queue holds orders due later today and
//! tomorrow beside the history's late ones and the SLA colours mean something.

use super::generator::Gen;
use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::intake::parse_order_json;
use riskdesk_service::Service;
use riskdesk_service::access::local;

/// (channel, minutes before now): webshop and app orders are due within their 4-hour cut-off,
/// marketplace orders within the one-day handling time, so several fall due tomorrow.
const FRESH: [(&str, i64); 8] = [
    ("webshop", 25),
    ("app", 70),
    ("webshop", 150),
    ("amazon", 200),
    ("zalando", 420),
    ("amazon", 760),
    ("zalando", 1_020),
    ("amazon", 1_300),
];

/// New accounts ordering resale-friendly goods of 250 EUR or more on a card issued abroad,
/// minutes after signing up: the starter rules score them for review, not decline.
pub async fn seed(service: &Service, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(4_711),
        start: now - Duration::days(2),
        until: now,
        orders: vec![],
        events: vec![],
        truth: vec![],
        // Far above the history's running numbers, so ids never meet.
        order_seq: 9_000_000,
        event_seq: 0,
    };
    let mut placed = 0;
    for (n, (channel, ago)) in FRESH.iter().enumerate() {
        let at = now - Duration::minutes(*ago);
        let mut p = g.person(format!("C-N{:04}", n + 1), at - Duration::minutes(12));
        let issuer = if p.home["country"].as_str() == Some("FR") { "ES" } else { "FR" };
        let card = g.card(issuer);
        let items = loop {
            let items = g.items(true, 2);
            if items.1 >= 25_000 {
                break items;
            }
        };
        p.channel = channel;
        let (device, ip, home) = (p.devices[0].clone(), p.ip.clone(), p.home.clone());
        g.order(&p, at, &device, &ip, &card, "card", home, items, None, channel);
    }
    for (_, line) in std::mem::take(&mut g.orders) {
        let order = parse_order_json(line.as_bytes())?;
        service.submit_order(&local::intake(), order).await?;
        placed += 1;
    }
    Ok(placed)
}
