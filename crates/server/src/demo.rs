//! `riskdesk demo`: a deterministic six-month history of a European fashion shop — customers,
//! orders across webshop, app and two marketplaces, shipping, returns, refunds, chargebacks — with
//! the fraud patterns of fraud-screening.md planted and labelled, loaded and served.
//!
//! Everything is drawn from one seeded generator and a fixed end date, so a seed always gives the
//! same data. Ground truth goes to `demo-truth.csv` and, as the shop would learn it, into
//! `fraud_confirmed` events.

use crate::config::Config;
use crate::{app, serve};
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use riskdesk_domain::intake::{parse_event_json, parse_order_json};
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

/// Ground truth of the planted fraud: order_id, customer_id, pattern.
pub const TRUTH_FILE: &str = "demo-truth.csv";

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 5_000)]
    pub customers: usize,
    #[arg(long, default_value_t = 50_000)]
    pub orders: usize,
    /// Length of the history in days.
    #[arg(long, default_value_t = 182)]
    pub days: i64,
    /// End of the history (RFC 3339).
    #[arg(long, default_value = "2026-11-20T00:00:00Z")]
    pub until: String,
    /// Write orders.jsonl, events.jsonl and truth.csv to this directory instead of loading them.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Screen the orders of the last this many days, so the review queue holds the newest.
    #[arg(long, default_value_t = 14)]
    pub screen_days: i64,
    /// Load the data but do not start the server.
    #[arg(long)]
    pub no_serve: bool,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
}

/// Generated history: intake-v1 JSON lines sorted by time, and the planted fraud.
pub struct Dataset {
    pub orders: Vec<String>,
    pub events: Vec<String>,
    /// (order_id, customer_id, pattern)
    pub truth: Vec<(String, String, &'static str)>,
}

pub async fn run(cfg: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let until: DateTime<Utc> = DateTime::parse_from_rfc3339(&args.until).context("--until must be RFC 3339")?.into();
    eprintln!(
        "generating {} orders of {} customers over {} days (seed {})…",
        args.orders, args.customers, args.days, args.seed
    );
    let data = generate(args.seed, args.customers, args.orders, args.days, until);
    if let Some(dir) = &args.export {
        std::fs::create_dir_all(dir)?;
        write_lines(&dir.join("orders.jsonl"), &data.orders)?;
        write_lines(&dir.join("events.jsonl"), &data.events)?;
        write_truth(&dir.join("truth.csv"), &data.truth)?;
        println!(
            "wrote {} orders, {} events, {} planted fraud orders to {}",
            data.orders.len(),
            data.events.len(),
            data.truth.len(),
            dir.display()
        );
        return Ok(());
    }
    let service = app::open_service(cfg).await?;
    if service.store().counts().await?.orders > 0 {
        eprintln!("the database already holds orders; loading nothing new");
    } else {
        let cap = local::intake();
        for chunk in data.orders.chunks(5_000) {
            let orders = chunk.iter().map(|l| parse_order_json(l.as_bytes())).collect::<Result<Vec<_>, _>>()?;
            service.import_orders(&cap, orders).await?;
        }
        for chunk in data.events.chunks(5_000) {
            let events = chunk.iter().map(|l| parse_event_json(l.as_bytes())).collect::<Result<Vec<_>, _>>()?;
            service.import_events(&cap, events).await?;
        }
        service.rebuild_clusters(&cap).await?;
        let screened = service.screen_undecided(&cap, until - chrono::Duration::days(args.screen_days)).await?;
        eprintln!("screened the {screened} orders of the last {} days with the live rule set", args.screen_days);
        std::fs::create_dir_all(&cfg.data_dir)?;
        write_truth(&cfg.data_dir.join(TRUTH_FILE), &data.truth)?;
        eprintln!(
            "loaded {} orders and {} events ({} planted fraud orders)",
            data.orders.len(),
            data.events.len(),
            data.truth.len()
        );
    }
    let key = service.create_api_key("demo", &[Scope::Intake, Scope::Read]).await?;
    let listen = cfg.listen_addr()?;
    let users = demo_users(&service).await?;
    println!("riskdesk demo: http://{listen}/ (web UI) and http://{listen}/api/v1/openapi.json");
    for (name, role, password) in &users {
        println!("  sign in as {name} ({role}) with password {password}");
    }
    println!("API key (intake, read): {}", key.secret);
    println!("try: curl -H 'Authorization: Bearer {}' http://{listen}/api/v1/customers/C-00001", key.secret);
    if args.no_serve {
        return Ok(());
    }
    serve::serve(service, cfg, None).await
}

fn write_lines(path: &std::path::Path, lines: &[String]) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for l in lines {
        f.write_all(l.as_bytes())?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    Ok(())
}

fn write_truth(path: &std::path::Path, truth: &[(String, String, &'static str)]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["order_id", "customer_id", "pattern"])?;
    for (o, c, p) in truth {
        w.write_record([o.as_str(), c.as_str(), p])?;
    }
    w.flush()?;
    Ok(())
}

const FIRST: &[&str] = &[
    "Anna",
    "Lena",
    "Marie",
    "Sophie",
    "Laura",
    "Julia",
    "Lea",
    "Hannah",
    "Emma",
    "Mia",
    "Lukas",
    "Jonas",
    "Leon",
    "Finn",
    "Paul",
    "Felix",
    "Elias",
    "Noah",
    "Ben",
    "Max",
    "Clara",
    "Emilia",
    "Ida",
    "Lina",
    "Tim",
    "David",
    "Sara",
    "Nina",
    "Chloé",
    "Lucas",
    "Giulia",
    "Marco",
    "Eva",
    "Jan",
    "Sanne",
    "Daan",
    "Zoë",
    "Mehmet",
    "Ayşe",
    "Katarzyna",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Dubois",
    "Rossi",
    "de Vries",
    "Jansen",
    "Yılmaz",
    "Nowak",
];
const STREETS: &[&str] = &[
    "Hauptstraße",
    "Schulstraße",
    "Gartenstraße",
    "Bahnhofstraße",
    "Dorfstraße",
    "Bergstraße",
    "Lindenstraße",
    "Kirchweg",
    "Am Markt",
    "Rosenweg",
    "Goethestraße",
    "Schillerstraße",
    "Friedrichstraße",
    "Torstraße",
    "Kastanienallee",
    "Parkring",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("DE", "10115", "Berlin"),
    ("DE", "10437", "Berlin"),
    ("DE", "20095", "Hamburg"),
    ("DE", "80331", "München"),
    ("DE", "50667", "Köln"),
    ("DE", "60311", "Frankfurt am Main"),
    ("DE", "70173", "Stuttgart"),
    ("DE", "40213", "Düsseldorf"),
    ("DE", "04109", "Leipzig"),
    ("DE", "01067", "Dresden"),
    ("DE", "28195", "Bremen"),
    ("DE", "90402", "Nürnberg"),
    ("AT", "1010", "Wien"),
    ("AT", "8010", "Graz"),
    ("CH", "8001", "Zürich"),
    ("NL", "1012", "Amsterdam"),
    ("FR", "75001", "Paris"),
    ("IT", "20121", "Milano"),
    ("PL", "00-001", "Warszawa"),
    ("BE", "1000", "Bruxelles"),
];
const DOMAINS: &[&str] =
    &["gmail.com", "web.de", "gmx.de", "outlook.com", "t-online.de", "icloud.com", "yahoo.de", "posteo.de"];
/// (brand, category, price in cents, resale-friendly)
const CATALOG: &[(&str, &str, i64, bool)] = &[
    ("Nike", "sneakers", 12_999, true),
    ("Adidas", "sneakers", 10_999, true),
    ("New Balance", "sneakers", 14_999, true),
    ("Levi's", "jeans", 9_995, false),
    ("Mango", "dress", 4_999, false),
    ("Zara", "shirt", 2_995, false),
    ("Tommy Hilfiger", "jacket", 19_990, false),
    ("Hugo Boss", "suit", 49_900, false),
    ("Gucci", "bag", 189_000, true),
    ("Prada", "bag", 215_000, true),
    ("Moncler", "jacket", 129_000, true),
    ("H&M", "t-shirt", 999, false),
    ("Esprit", "sweater", 5_999, false),
    ("Ralph Lauren", "polo", 11_900, false),
    ("Birkenstock", "sandals", 8_999, false),
    ("Calvin Klein", "underwear", 3_999, false),
    ("Ray-Ban", "sunglasses", 15_900, true),
    ("Falke", "socks", 1_499, false),
];

struct Gen {
    rng: fastrand::Rng,
    start: DateTime<Utc>,
    until: DateTime<Utc>,
    orders: Vec<(i64, String)>,
    events: Vec<(i64, String)>,
    truth: Vec<(String, String, &'static str)>,
    order_seq: usize,
    event_seq: usize,
}

#[derive(Clone)]
struct Person {
    id: String,
    name: String,
    email: String,
    phone: String,
    created: DateTime<Utc>,
    invited_by: Option<String>,
    home: Value,
    devices: Vec<String>,
    cards: Vec<(String, String, String)>, // fingerprint, bin, issuer country
    ip: String,
    channel: &'static str,
}

fn money(cents: i64) -> Value {
    json!({"amount": format!("{}.{:02}", cents / 100, cents % 100), "currency": "EUR"})
}

impl Gen {
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.usize(..xs.len())]
    }

    fn at(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_seconds().max(1);
        from + Duration::seconds(self.rng.i64(0..span))
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.rng.u32(0..16), 16).unwrap_or('0')).collect()
    }

    fn address(&mut self, name: &str) -> Value {
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

    fn card(&mut self, issuer: &str) -> (String, String, String) {
        let bin = format!("{}{:05}", self.pick(&["4", "5"]), self.rng.u32(0..100_000));
        (format!("fp_{}", self.hex(16)), bin, issuer.to_owned())
    }

    fn person(&mut self, id: String, created: DateTime<Utc>) -> Person {
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

    fn items(&mut self, resale_only: bool, max_items: usize) -> (Vec<Value>, i64) {
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
    fn order(
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
                json!({"method": "card", "card": {"bin": card.1, "last4": format!("{:04}", self.rng.u16(0..10_000)), "fingerprint": card.0, "issuer_country": card.2}})
            }
            "sepa_debit" => json!({"method": "sepa_debit", "iban": "DE89370400440532013000"}),
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

    fn event(&mut self, kind: &str, at: DateTime<Utc>, order: Option<&str>, customer: &str, data: Value) {
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
    fn lifecycle(&mut self, order: &str, customer: &str, at: DateTime<Utc>, total: i64, return_rate: u8, worn: bool) {
        self.event("payment_authorized", at + Duration::minutes(1), Some(order), customer, json!({}));
        let shipped = at + Duration::hours(self.rng.i64(12..48));
        self.event("order_shipped", shipped, Some(order), customer, json!({}));
        let delivered = shipped + Duration::hours(self.rng.i64(24..96));
        self.event("order_delivered", delivered, Some(order), customer, json!({}));
        if self.rng.u8(0..100) < return_rate {
            let req = delivered + Duration::days(self.rng.i64(1..14));
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

    fn label(
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

fn deunicode_ascii(s: &str) -> String {
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
fn plant_fraud(g: &mut Gen, people: &mut [Person], customers: usize) -> usize {
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

/// On a database without users: an administrator and one user per daily role, each with a
/// random password printed once.
async fn demo_users(service: &riskdesk_service::Service) -> anyhow::Result<Vec<(String, &'static str, String)>> {
    use riskdesk_domain::Role;
    let Some((admin, password)) = service.ensure_first_admin().await? else { return Ok(Vec::new()) };
    let mut out = vec![(admin, "admin", password)];
    let cap = riskdesk_service::access::local::user_admin();
    for (name, display, role) in [
        ("ana", "Ana Analyst", Role::FraudAnalyst),
        ("ben", "Ben Expert", Role::RiskExpert),
        ("lea", "Lea Lead", Role::TeamLead),
        ("tia", "Tia Tier-2", Role::Tier2Agent),
        ("pia", "Pia Privacy", Role::PrivacyOfficer),
        ("aud", "Aud Auditor", Role::Auditor),
    ] {
        let mut raw = [0u8; 12];
        getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let password = hex::encode(raw);
        service.add_user(&cap, name, display, role, &password).await?;
        out.push((name.to_owned(), role.as_str(), password));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_and_every_line_is_valid_intake() {
        let until = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap().into();
        let a = generate(7, 300, 3_000, 182, until);
        let b = generate(7, 300, 3_000, 182, until);
        assert_eq!(a.orders, b.orders);
        assert_eq!(a.events, b.events);
        assert_ne!(a.orders, generate(8, 300, 3_000, 182, until).orders);
        assert_eq!(a.orders.len(), 3_000);
        for l in &a.orders {
            parse_order_json(l.as_bytes()).unwrap_or_else(|e| panic!("{e}: {l}"));
        }
        for l in &a.events {
            parse_event_json(l.as_bytes()).unwrap_or_else(|e| panic!("{e}: {l}"));
        }
        let patterns: std::collections::BTreeSet<_> = a.truth.iter().map(|t| t.2).collect();
        for p in [
            "device_ring",
            "reshipper",
            "account_takeover",
            "card_testing",
            "invitation_abuse",
            "serial_returner",
            "stolen_card",
            "identity_fraud_invoice",
        ] {
            assert!(patterns.contains(p), "{p} planted");
        }
    }
}
