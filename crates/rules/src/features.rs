//! The feature frame of one order: the fixed variables from the order itself and from facts the
//! caller looked up (history, cluster, velocity, lists). Pure: the service fills [`Facts`] from
//! storage online, the replay fills them from a time-ordered stream offline, and both share this
//! code, so a backtest sees exactly what live screening saw.

use crate::needs::Need;
use crate::ruleset::RuleSet;
use crate::schema::{VARS, Var};
use crate::value::Value;
use chrono::{DateTime, Timelike, Utc};
use riskdesk_domain::{AttributeValue, Order};

/// What the account had done before this order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub prior_orders: i64,
    pub prior_spend_minor: i64,
    pub returns: i64,
    pub refund_claims: i64,
    pub chargebacks: i64,
    pub fraud_labels: i64,
    pub legit_labels: i64,
    pub last_account_change: Option<DateTime<Utc>>,
    pub inviter_invites: i64,
    /// `None` when the account has no earlier order.
    pub new_device: Option<bool>,
    pub new_shipping_address: Option<bool>,
}

/// The linked cluster the account belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClusterFacts {
    pub size: i64,
    pub fraud_accounts: i64,
    pub chargeback_accounts: i64,
}

/// Facts from outside the order. `dynamic` is aligned with [`RuleSet::needs`]; attribute needs
/// are filled from the order itself and may be left `Null` there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub history: History,
    pub cluster: ClusterFacts,
    pub dynamic: Vec<Value>,
}

const LOCKER_WORDS: &[&str] = &[
    "packstation",
    "paketstation",
    "paketshop",
    "postfiliale",
    "paketbox",
    "parcel locker",
    "pickup point",
    "abholstation",
    "locker",
];

fn minor_to_major(minor: i64, order: &Order) -> f64 {
    minor as f64 / 10f64.powi(order.total.currency.exponent() as i32)
}

/// Fills `frame` (resized to the rule set's layout) for `order`.
pub fn build_frame(order: &Order, facts: &Facts, set: &RuleSet, frame: &mut Vec<Value>) {
    frame.clear();
    frame.resize(set.frame_len(), Value::Null);
    fill_order(order, &facts.history, &facts.cluster, &mut frame[..VARS.len()]);
    for (i, need) in set.needs().iter().enumerate() {
        let slot = VARS.len() + i;
        frame[slot] = match need {
            Need::Attribute(name) => order.attributes.get(name).map_or(Value::Null, attribute_value),
            _ => facts.dynamic.get(i).cloned().unwrap_or(Value::Null),
        };
    }
}

/// A shop attribute as rules see it.
pub fn attribute_value(a: &AttributeValue) -> Value {
    match a {
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Number(n) => Value::Double(*n),
        AttributeValue::Text(t) => Value::str(t.as_str()),
    }
}

fn lower_list<'a>(it: impl Iterator<Item = Option<&'a String>>) -> Value {
    let mut v: Vec<String> = it.flatten().map(|s| s.to_lowercase()).collect();
    v.sort();
    v.dedup();
    Value::List(v)
}

/// The fixed variables.
pub fn fill_order(order: &Order, h: &History, c: &ClusterFacts, f: &mut [Value]) {
    let set = |f: &mut [Value], v: Var, val: Value| f[v.slot()] = val;
    let placed_utc = order.placed_at.with_timezone(&Utc);
    set(f, Var::OrderId, Value::str(order.order_id.as_str()));
    set(f, Var::Channel, Value::opt_str(order.channel.as_deref()));
    set(f, Var::Amount, Value::Double(minor_to_major(order.total.minor, order)));
    set(f, Var::Currency, Value::str(order.total.currency.code()));
    set(f, Var::ItemCount, Value::Int(order.items.iter().map(|i| i64::from(i.quantity)).sum()));
    set(f, Var::Categories, lower_list(order.items.iter().map(|i| i.category.as_ref())));
    set(f, Var::Brands, lower_list(order.items.iter().map(|i| i.brand.as_ref())));
    set(f, Var::Skus, Value::List(order.items.iter().filter_map(|i| i.sku.clone()).collect()));
    set(f, Var::PaymentMethod, Value::str(order.payment.method.as_str()));
    let card = order.payment.card.as_ref();
    set(f, Var::CardBin, Value::opt_str(card.and_then(|c| c.bin.as_deref())));
    let card_country = card.and_then(|c| c.issuer_country.as_ref()).map(|c| c.as_str().to_owned());
    let billing = order.billing_address.as_ref().and_then(|a| a.country.as_ref()).map(|c| c.as_str().to_owned());
    let shipping = order.shipping_address.as_ref().and_then(|a| a.country.as_ref()).map(|c| c.as_str().to_owned());
    let ip_country = match order.attributes.get("ip_country") {
        Some(AttributeValue::Text(t)) if t.len() == 2 => Some(t.to_ascii_uppercase()),
        _ => None,
    };
    set(f, Var::CardCountry, Value::opt_str(card_country.clone()));
    set(f, Var::BillingCountry, Value::opt_str(billing.clone()));
    set(f, Var::ShippingCountry, Value::opt_str(shipping.clone()));
    set(f, Var::IpCountry, Value::opt_str(ip_country.clone()));
    let device = order.device.as_ref();
    set(f, Var::Ip, Value::opt_str(device.and_then(|d| d.ip).map(|ip| ip.to_string())));
    set(f, Var::UserAgent, Value::opt_str(device.and_then(|d| d.user_agent.as_deref())));
    set(f, Var::PromoCodes, Value::List(order.promo_codes.clone()));
    let hour = i64::from(order.placed_at.hour());
    set(f, Var::LocalHour, Value::Int(hour));
    set(f, Var::UnusualHour, Value::Bool((1..=5).contains(&hour)));
    let locker = order.shipping_address.as_ref().map(|a| {
        let text = format!("{} {}", a.line1.as_deref().unwrap_or(""), a.line2.as_deref().unwrap_or("")).to_lowercase();
        LOCKER_WORDS.iter().any(|w| text.contains(w))
    });
    set(f, Var::ShipsToLocker, locker.map_or(Value::Null, Value::Bool));

    let cust = &order.customer;
    set(f, Var::CustomerId, Value::str(cust.customer_id.as_str()));
    set(f, Var::EmailDomain, Value::opt_str(cust.email.as_ref().map(|e| e.domain().to_lowercase())));
    match cust.created_at {
        Some(created) => {
            let minutes = (placed_utc - created.with_timezone(&Utc)).num_seconds() as f64 / 60.0;
            set(f, Var::MinutesSinceSignup, Value::Double(minutes));
            set(f, Var::AccountAgeDays, Value::Double(minutes / 1440.0));
        }
        None => {
            set(f, Var::MinutesSinceSignup, Value::Null);
            set(f, Var::AccountAgeDays, Value::Null);
        }
    }
    set(f, Var::Invited, Value::Bool(cust.invited_by.is_some()));
    set(f, Var::InviterInvites, Value::Int(h.inviter_invites));
    set(f, Var::PriorOrders, Value::Int(h.prior_orders));
    set(f, Var::PriorSpend, Value::Double(minor_to_major(h.prior_spend_minor, order)));
    set(f, Var::FirstOrder, Value::Bool(h.prior_orders == 0));
    set(f, Var::Returns, Value::Int(h.returns));
    set(f, Var::RefundClaims, Value::Int(h.refund_claims));
    set(f, Var::Chargebacks, Value::Int(h.chargebacks));
    set(f, Var::FraudLabels, Value::Int(h.fraud_labels));
    set(f, Var::LegitLabels, Value::Int(h.legit_labels));
    let rate = if h.prior_orders > 0 { h.returns as f64 / h.prior_orders as f64 } else { 0.0 };
    set(f, Var::ReturnRate, Value::Double(rate));
    let claims = if h.prior_orders > 0 { h.refund_claims as f64 / h.prior_orders as f64 } else { 0.0 };
    set(f, Var::ClaimRate, Value::Double(claims));
    set(
        f,
        Var::HoursSinceAccountChange,
        h.last_account_change.map_or(Value::Null, |t| Value::Double((placed_utc - t).num_seconds() as f64 / 3600.0)),
    );
    set(f, Var::NewDevice, h.new_device.map_or(Value::Bool(false), Value::Bool));
    set(f, Var::NewShippingAddress, h.new_shipping_address.map_or(Value::Bool(false), Value::Bool));

    let differ = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => Value::Bool(a != b),
        _ => Value::Null,
    };
    set(f, Var::BillingShippingMismatch, differ(&billing, &shipping));
    set(f, Var::CardBillingMismatch, differ(&card_country, &billing));
    set(f, Var::IpBillingMismatch, differ(&ip_country, &billing));
    let mut countries: Vec<&String> = [&billing, &shipping, &card_country, &ip_country].into_iter().flatten().collect();
    countries.sort();
    countries.dedup();
    set(f, Var::CountryMismatch, Value::Bool(countries.len() > 1));
    set(f, Var::Countries, Value::Int(countries.len() as i64));
    set(f, Var::ClusterSize, Value::Int(c.size.max(1)));
    set(f, Var::ClusterFraud, Value::Int(c.fraud_accounts));
    set(f, Var::ClusterChargebacks, Value::Int(c.chargeback_accounts));
}
