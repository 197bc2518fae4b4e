//! The seeded generator: people, orders, events and money drawn from it.

use super::names::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

pub(super) struct Gen {
    pub(super) rng: fastrand::Rng,
    pub(super) start: DateTime<Utc>,
    pub(super) until: DateTime<Utc>,
    pub(super) orders: Vec<(i64, String)>,
    pub(super) events: Vec<(i64, String)>,
    pub(super) truth: Vec<(String, String, &'static str)>,
    pub(super) order_seq: usize,
    pub(super) event_seq: usize,
}

#[derive(Clone)]
pub(super) struct Person {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) phone: String,
    pub(super) created: DateTime<Utc>,
    pub(super) invited_by: Option<String>,
    pub(super) home: Value,
    pub(super) devices: Vec<String>,
    pub(super) cards: Vec<(String, String, String)>, // fingerprint, bin, issuer country
    pub(super) ip: String,
    pub(super) channel: &'static str,
}

pub(super) fn money(cents: i64) -> Value {
    json!({"amount": format!("{}.{:02}", cents / 100, cents % 100), "currency": "EUR"})
}

impl Gen {
    pub(super) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.usize(..xs.len())]
    }

    pub(super) fn at(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_seconds().max(1);
        from + Duration::seconds(self.rng.i64(0..span))
    }

    pub(super) fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.rng.u32(0..16), 16).unwrap_or('0')).collect()
    }

    pub(super) fn address(&mut self, name: &str) -> Value {
        let (country, postal, city) = *self.pick(CITIES);
        let street = *self.pick(STREETS);
        // Vary the delivery district so that unrelated customers rarely share an address, as in
        // a real city; households and drops are planted on purpose.
        let postal = if postal.len() >= 4 && postal.bytes().all(|b| b.is_ascii_digit()) {
            format!("{}{:02}", &postal[..postal.len() - 2], self.rng.u32(0..100))
        } else {
            postal.to_owned()
        };
        json!({"name": name, "line1": format!("{street} {}", self.rng.u32(1..200)), "postal_code": postal, "city": city, "country": country})
    }

    pub(super) fn card(&mut self, issuer: &str) -> (String, String, String) {
        let bin = format!("{}{:05}", self.pick(&["4", "5"]), self.rng.u32(0..100_000));
        (format!("fp_{}", self.hex(16)), bin, issuer.to_owned())
    }

    pub(super) fn person(&mut self, id: String, created: DateTime<Utc>) -> Person {
        let first = *self.pick(FIRST);
        let last = *self.pick(LAST);
        let name = format!("{first} {last}");
        let local =
            format!("{}.{}{}", first.to_lowercase(), last.to_lowercase().replace(' ', ""), self.rng.u32(1..999));
        let local: String = deunicode_ascii(&local);
        let email = format!("{local}@{}", self.pick(DOMAINS));
        let home = self.address(&name);
        let issuer = home["country"].as_str().unwrap_or("DE").to_owned();
        let ndev = 1 + usize::from(self.rng.u8(0..10) < 3);
        let devices = (0..ndev).map(|_| format!("dev-{}", self.hex(12))).collect();
        let cards = (0..1 + usize::from(self.rng.u8(0..10) < 2)).map(|_| self.card(&issuer)).collect();
        let ip = format!(
            "{}.{}.{}.{}",
            self.pick(&[84, 87, 91, 93, 178, 188, 217]),
            self.rng.u8(0..255),
            self.rng.u8(0..255),
            self.rng.u8(1..255)
        );
        let channel = *self.pick(&["webshop", "webshop", "webshop", "app", "app", "amazon", "zalando"]);
        Person {
            id,
            name,
            email,
            phone: format!("+49{}{:08}", self.pick(&["151", "160", "170", "176"]), self.rng.u32(0..100_000_000)),
            created,
            invited_by: None,
            home,
            devices,
            cards,
            ip,
            channel,
        }
    }

    pub(super) fn items(&mut self, resale_only: bool, max_items: usize) -> (Vec<Value>, i64) {
        let n = 1 + self.rng.usize(..max_items);
        let mut total = 0;
        let items = (0..n)
            .map(|_| {
                let (brand, cat, price, _) = loop {
                    let c = *self.pick(CATALOG);
                    if !resale_only || c.3 {
                        break c;
                    }
                };
                let qty = 1 + i64::from(self.rng.u8(0..10) == 0);
                total += price * qty;
                json!({"sku": format!("{}-{}", &brand[..3.min(brand.len())].to_uppercase(), price), "brand": brand,
                       "category": cat, "quantity": qty, "unit_price": money(price)})
            })
            .collect();
        (items, total)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn order(
        &mut self,
        p: &Person,
        at: DateTime<Utc>,
        device: &str,
        ip: &str,
        card: &(String, String, String),
        method: &str,
        shipping: Value,
        items: (Vec<Value>, i64),
        promo: Option<&str>,
        channel: &str,
    ) -> String {
        self.order_seq += 1;
        // Shop order numbers rise with time: a date prefix, then a running number.
        let id = format!("O-{}-{:07}", at.format("%y%m%d"), self.order_seq);
        let (items, total) = items;
        let payment = match method {
            "card" => {
                let digits: String = id.chars().filter(char::is_ascii_digit).collect();
                json!({"method": "card", "card": {"bin": card.1, "last4": format!("{:04}", self.rng.u16(0..10_000)), "fingerprint": card.0, "issuer_country": card.2},
                       "psp_reference": format!("pi_3{digits}")})
            }
            // Each account its own IBAN (one shared by thousands of accounts would be a hub).
            "sepa_debit" => json!({"method": "sepa_debit", "iban": demo_iban(&p.id)}),
            "paypal" => json!({"method": "paypal", "wallet_id": format!("pp-{}", &p.id)}),
            m => json!({"method": m}),
        };
        let placed = at.with_timezone(
            &chrono::FixedOffset::east_opt(3600)
                .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!())),
        );
        let body = json!({
            "order_id": id, "placed_at": placed.to_rfc3339(), "channel": channel,
            "customer": {"customer_id": p.id, "email": p.email, "phone": p.phone, "name": p.name,
                         "created_at": p.created.to_rfc3339(), "invited_by": p.invited_by},
            "total": money(total), "items": items, "payment": payment,
            "billing_address": p.home, "shipping_address": shipping,
            "device": {"device_id": device, "ip": ip, "user_agent": if channel == "app" { "ShopApp/5.2 (iOS 18)" } else { "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" }},
            "promo_codes": promo.map(|c| vec![c]).unwrap_or_default(),
            "attributes": {"checkout_seconds": 20 + self.rng.u32(0..400)}
        });
        self.orders.push((at.timestamp_millis(), body.to_string()));
        id
    }

    pub(super) fn event(&mut self, kind: &str, at: DateTime<Utc>, order: Option<&str>, customer: &str, data: Value) {
        if at > self.until {
            return;
        }
        self.event_seq += 1;
        let mut e = json!({"event_id": format!("E-{:08}", self.event_seq), "type": kind, "occurred_at": at.to_rfc3339(),
                           "customer_id": customer, "data": data});
        if let Some(o) = order {
            e["order_id"] = json!(o);
        }
        self.events.push((at.timestamp_millis(), e.to_string()));
    }

    /// Authorisation, shipping, delivery and maybe a return for an ordinary order.
    pub(super) fn lifecycle(
        &mut self,
        order: &str,
        customer: &str,
        at: DateTime<Utc>,
        total: i64,
        return_rate: u8,
        worn: bool,
    ) {
        self.event("payment_authorized", at + Duration::minutes(1), Some(order), customer, json!({}));
        let shipped = at + Duration::hours(self.rng.i64(12..48));
        // The carrier and its tracking number follow from the order: no draw from the generator.
        let digits: String = order.chars().filter(char::is_ascii_digit).collect();
        let carrier = if digits.ends_with(['0', '1', '2']) { "Hermes" } else { "DHL" };
        self.event(
            "order_shipped",
            shipped,
            Some(order),
            customer,
            json!({"carrier": carrier, "tracking_number": format!("00340434{digits}")}),
        );
        let delivered = shipped + Duration::hours(self.rng.i64(24..96));
        self.event("order_delivered", delivered, Some(order), customer, json!({}));
        if self.rng.u8(0..100) < return_rate {
            // Wardrobers wear it and send it back in the last days of the 30-day window.
            let req = delivered + Duration::days(if worn { self.rng.i64(28..30) } else { self.rng.i64(1..14) });
            self.event("return_requested", req, Some(order), customer, json!({}));
            let condition = if worn {
                *self.pick(&["worn, tags removed", "perfume odour, worn", "used, deodorant marks"])
            } else {
                "as new"
            };
            self.event(
                "return_received",
                req + Duration::days(3),
                Some(order),
                customer,
                json!({"condition": condition}),
            );
            self.event(
                "refund_issued",
                req + Duration::days(4),
                Some(order),
                customer,
                json!({"amount": money(total)}),
            );
        }
    }

    pub(super) fn label(
        &mut self,
        order: &str,
        customer: &str,
        at: DateTime<Utc>,
        pattern: &'static str,
        chargeback: bool,
        total: i64,
    ) {
        self.truth.push((order.to_owned(), customer.to_owned(), pattern));
        if chargeback {
            let cb = at + Duration::days(self.rng.i64(10..40));
            let psp = format!("psp_{}", self.hex(10));
            self.event(
                "chargeback_received",
                cb,
                Some(order),
                customer,
                json!({"reason_code": "10.4", "amount": money(total), "psp_reference": psp}),
            );
        }
        let found = at + Duration::days(self.rng.i64(20..50));
        self.event("fraud_confirmed", found, Some(order), customer, json!({"pattern": pattern}));
    }
}

pub(super) fn deunicode_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ä' => "ae".into(),
            'ö' => "oe".into(),
            'ü' => "ue".into(),
            'ß' => "ss".into(),
            'é' => "e".into(),
            'ı' => "i".into(),
            'ş' => "s".into(),
            c if c.is_ascii_alphanumeric() || c == '.' => c.to_string(),
            _ => String::new(),
        })
        .collect()
}

/// A valid German IBAN for an account: bank code 37040044, the account number from its id,
/// ISO 7064 check digits. Derived, not drawn, so the generator's sequence stays as it was.
pub(super) fn demo_iban(customer: &str) -> String {
    let digits: String = customer.chars().filter(char::is_ascii_digit).collect();
    let account = format!("{:0>10}", &digits[digits.len().saturating_sub(10)..]);
    let bban = format!("37040044{account}");
    // "DE" is 13 14; the check digits are 98 - (bban + "131400") mod 97.
    let mut rem: u64 = 0;
    for c in format!("{bban}131400").chars() {
        rem = (rem * 10 + u64::from(c.to_digit(10).unwrap_or(0))) % 97;
    }
    format!("DE{:02}{bban}", 98 - rem)
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_ibans_are_valid_and_apart() {
        let a = super::demo_iban("C-00042");
        let b = super::demo_iban("C-00043");
        assert_ne!(a, b);
        for i in [a, b] {
            assert!(riskdesk_domain::Iban::parse(&i, "iban").is_ok(), "{i}");
        }
    }
}
