//! The history: six months of orders and events, and the planted, labelled fraud.

use super::Dataset;
use super::generator::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

pub fn generate(seed: u64, customers: usize, orders: usize, days: i64, until: DateTime<Utc>) -> Dataset {
    let start = until - Duration::days(days);
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
        start,
        until,
        orders: vec![],
        events: vec![],
        truth: vec![],
        order_seq: 0,
        event_seq: 0,
    };

    // Ordinary customers; a third of them were invited by an earlier customer (invitation-only club).
    let mut people: Vec<Person> = Vec::with_capacity(customers);
    for i in 0..customers {
        let created = g.at(start - Duration::days(700), until - Duration::days(3));
        let mut p = g.person(format!("C-{:05}", i + 1), created);
        if i > 10 && g.rng.u8(0..3) == 0 {
            p.invited_by = Some(people[g.rng.usize(..i)].id.clone());
        }
        people.push(p);
    }
    // Serial returners, drawn from the ordinary customers: they order often and send most back worn.
    let returners: Vec<usize> = (0..(customers / 500).max(1)).map(|_| g.rng.usize(..customers)).collect();

    let planted = plant_fraud(&mut g, &mut people, customers);
    let legit_orders = orders.saturating_sub(planted);
    // Skewed activity: a few customers order a lot.
    let weights: Vec<f64> =
        (0..customers).map(|i| if returners.contains(&i) { 8.0 } else { 0.3 + g.rng.f64().powi(3) * 6.0 }).collect();
    let sum: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(customers);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / sum;
        cumulative.push(acc);
    }
    for _ in 0..legit_orders {
        let x = g.rng.f64();
        let i = cumulative.partition_point(|c| *c < x).min(customers - 1);
        let p = people[i].clone();
        let from = if p.created > start { p.created } else { start };
        let at = g.at(from, until);
        let device = g.pick(&p.devices).clone();
        let card = g.pick(&p.cards).clone();
        let method = *g.pick(&["card", "card", "card", "paypal", "paypal", "invoice", "bnpl", "sepa_debit"]);
        let shipping = if g.rng.u8(0..20) == 0 { g.address(&p.name) } else { p.home.clone() };
        let items = g.items(false, 4);
        let total = items.1;
        let channel = if g.rng.u8(0..4) == 0 { *g.pick(&["webshop", "app", "amazon", "zalando"]) } else { p.channel };
        let ip = p.ip.clone();
        let id = g.order(&p, at, &device, &ip, &card, method, shipping, items, None, channel);
        let serial = returners.contains(&i);
        g.lifecycle(&id, &p.id, at, total, if serial { 85 } else { 25 }, serial);
        if serial {
            g.truth.push((id.clone(), p.id.clone(), "serial_returner"));
            if g.rng.u8(0..5) == 0 {
                let claim_at = at + Duration::days(6);
                g.event("refund_claimed", claim_at, Some(&id), &p.id, json!({"claim": "empty_box"}));
            }
        } else if g.rng.u16(0..1000) < 3 {
            // friendly fraud: a legitimate order disputed later
            let cb = at + Duration::days(30);
            g.event(
                "chargeback_received",
                cb,
                Some(&id),
                &p.id,
                json!({"reason_code": "13.1", "amount": money(total)}),
            );
        }
    }

    g.orders.sort();
    g.events.sort();
    Dataset {
        orders: g.orders.into_iter().map(|(_, s)| s).collect(),
        events: g.events.into_iter().map(|(_, s)| s).collect(),
        truth: g.truth,
    }
}

/// Plants the fraud patterns of fraud-screening.md; returns how many orders it placed.
pub(super) fn plant_fraud(g: &mut Gen, people: &mut [Person], customers: usize) -> usize {
    let before = g.order_seq;
    let (start, until) = (g.start, g.until);
    let window_end = until - Duration::days(10);
    let mut next_id = customers;
    let mut new_person = |g: &mut Gen, created: DateTime<Utc>| {
        next_id += 1;
        g.person(format!("C-{next_id:05}"), created)
    };

    // 1. Device ring: a dozen fresh accounts on two devices, resale-friendly goods, own cards.
    let ring_devices = [format!("dev-{}", g.hex(12)), format!("dev-{}", g.hex(12))];
    let ring_start = g.at(start + Duration::days(30), window_end - Duration::days(20));
    for _ in 0..12 {
        let created = g.at(ring_start, ring_start + Duration::days(14));
        let p = new_person(g, created);
        for _ in 0..2 + g.rng.usize(..2) {
            let at = created + Duration::minutes(g.rng.i64(5..60 * 24 * 5));
            let dev = g.pick(&ring_devices).clone();
            let card = p.cards[0].clone();
            let items = g.items(true, 2);
            let total = items.1;
            let ship = g.address(&p.name);
            let id = g.order(&p, at, &dev, "185.220.101.7", &card, "card", ship, items, None, "webshop");
            g.event("payment_authorized", at + Duration::minutes(1), Some(&id), &p.id, json!({}));
            g.label(&id, &p.id, at, "device_ring", true, total);
        }
    }

    // 2. Reshipping address: unrelated accounts, one drop address written many ways.
    let drop_lines = ["Hafenstraße 12", "Hafenstr. 12", "HAFENSTRASSE 12", "Hafen-Straße 12", "hafenstr 12"];
    for _ in 0..20 {
        let created = g.at(start, window_end);
        let p = new_person(g, created);
        let at = created + Duration::hours(g.rng.i64(1..72));
        let line = *g.pick(&drop_lines);
        let ship = json!({"name": p.name, "line1": line, "postal_code": "20457", "city": "Hamburg", "country": "DE"});
        let dev = p.devices[0].clone();
        let ip = p.ip.clone();
        let card = p.cards[0].clone();
        let items = g.items(true, 3);
        let total = items.1;
        let id = g.order(&p, at, &dev, &ip, &card, "card", ship, items, None, "webshop");
        g.event("payment_authorized", at + Duration::minutes(1), Some(&id), &p.id, json!({}));
        g.label(&id, &p.id, at, "reshipper", true, total);
    }

    // 3. Account takeovers: established customers; new device and country, credentials changed,
    //    then a high-value order to a new address.
    for _ in 0..15 {
        let victim = people[g.rng.usize(..customers)].clone();
        let at = g.at(start + Duration::days(20), window_end);
        let dev = format!("dev-{}", g.hex(12));
        g.event("login", at - Duration::minutes(40), None, &victim.id, json!({"device_id": dev, "ip_country": "RU"}));
        g.event("password_changed", at - Duration::minutes(35), None, &victim.id, json!({}));
        g.event("email_changed", at - Duration::minutes(30), None, &victim.id, json!({}));
        g.event("address_changed", at - Duration::minutes(20), None, &victim.id, json!({}));
        let mut thief = victim.clone();
        thief.email = format!("{}@protonmail.com", g.hex(10));
        let ship = json!({"name": victim.name, "line1": format!("Packstation {}", g.rng.u32(100..300)), "postal_code": "12043", "city": "Berlin", "country": "DE"});
        let card = victim.cards[0].clone();
        let items = g.items(true, 3);
        let total = items.1;
        let id = g.order(&thief, at, &dev, "95.173.136.70", &card, "card", ship, items, None, "webshop");
        g.event("payment_authorized", at + Duration::minutes(1), Some(&id), &victim.id, json!({}));
        g.label(&id, &victim.id, at, "account_takeover", true, total);
    }

    // 4. Card testing: one account and device, forty cards, tiny amounts, most declined.
    let t = g.at(start, window_end);
    let tester = new_person(g, t);
    let burst = tester.created + Duration::hours(2);
    for k in 0..40 {
        let at = burst + Duration::seconds(k * 75);
        let issuer = *g.pick(&["US", "BR", "GB", "TR"]);
        let card = g.card(issuer);
        let items = (
            vec![
                json!({"sku": "GC-5", "brand": "Shop", "category": "gift_card", "quantity": 1, "unit_price": money(100 + 100 * g.rng.i64(0..5))}),
            ],
            0,
        );
        let total =
            items.0[0]["unit_price"]["amount"].as_str().and_then(|a| a.replace('.', "").parse().ok()).unwrap_or(100);
        let dev = tester.devices[0].clone();
        let id = g.order(
            &tester,
            at,
            &dev,
            "45.155.205.10",
            &card,
            "card",
            tester.home.clone(),
            (items.0, total),
            None,
            "app",
        );
        let kind = if g.rng.u8(0..10) < 8 { "payment_declined" } else { "payment_authorized" };
        g.event(kind, at + Duration::seconds(5), Some(&id), &tester.id, json!({}));
        g.label(&id, &tester.id, at, "card_testing", false, total);
    }

    // 5. Invitation abuse: one account invites fifteen of its own, each harvesting the welcome voucher.
    let t = g.at(start + Duration::days(10), window_end - Duration::days(5));
    let inviter = new_person(g, t);
    let abuse_dev = format!("dev-{}", g.hex(12));
    for _ in 0..15 {
        let t = inviter.created + Duration::minutes(g.rng.i64(30..60 * 48));
        let mut p = new_person(g, t);
        p.invited_by = Some(inviter.id.clone());
        let at = p.created + Duration::minutes(g.rng.i64(2..30));
        let card = p.cards[0].clone();
        let items = g.items(false, 2);
        let total = items.1;
        let home = inviter.home.clone();
        let id = g.order(&p, at, &abuse_dev, "88.130.44.21", &card, "card", home, items, Some("WELCOME20"), "app");
        g.lifecycle(&id, &p.id, at, total, 10, false);
        g.label(&id, &p.id, at, "invitation_abuse", false, total);
    }

    // 6. Stolen cards: new accounts, foreign card and IP, high value, parcel lockers.
    for _ in 0..40 {
        let t = g.at(start, window_end);
        let p = new_person(g, t);
        let at = p.created + Duration::minutes(g.rng.i64(3..90));
        let issuer = *g.pick(&["US", "GB", "BR", "NG", "IN"]);
        let card = g.card(issuer);
        let ship = json!({"name": p.name, "line1": format!("Packstation {}", g.rng.u32(100..400)), "postal_code": format!("{}", 10_000 + g.rng.u32(0..80_000)), "city": "Berlin", "country": "DE"});
        let ip =
            format!("{}.{}.{}.{}", g.pick(&[41, 102, 197, 103]), g.rng.u8(0..255), g.rng.u8(0..255), g.rng.u8(1..255));
        let dev = p.devices[0].clone();
        let items = g.items(true, 3);
        let total = items.1;
        let id = g.order(&p, at, &dev, &ip, &card, "card", ship, items, None, "webshop");
        g.event("payment_authorized", at + Duration::minutes(1), Some(&id), &p.id, json!({}));
        g.label(&id, &p.id, at, "stolen_card", true, total);
    }

    // 7. Identity fraud on invoice / buy-now-pay-later: real-looking people, one device, lockers.
    let id_dev = format!("dev-{}", g.hex(12));
    for _ in 0..15 {
        let t = g.at(start, window_end);
        let p = new_person(g, t);
        let at = p.created + Duration::minutes(g.rng.i64(1..20));
        let ship = json!({"name": p.name, "line1": format!("Packstation {}", g.rng.u32(100..140)), "postal_code": "10247", "city": "Berlin", "country": "DE"});
        let card = p.cards[0].clone();
        let items = g.items(true, 3);
        let total = items.1;
        let method = *g.pick(&["invoice", "bnpl"]);
        let id = g.order(&p, at, &id_dev, "91.64.12.9", &card, method, ship, items, None, "webshop");
        g.label(&id, &p.id, at, "identity_fraud_invoice", false, total);
    }
    g.order_seq - before
}
