//! The evidence a dispute asks for, derived from its reason family (and, for card-absent fraud
//! on Visa, Compelling Evidence 3.0). Each item is satisfied from what riskdesk holds about the
//! order, or by hand with a note; the pack sends the satisfied ones in the provider's evidence
//! fields.

use super::{Network, ReasonFamily};
use serde::Serialize;

/// One item of a checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Item {
    pub code: &'static str,
    pub label: &'static str,
    /// Stripe's evidence field the item fills.
    pub field: &'static str,
    /// Whether riskdesk's data can satisfy it (otherwise only by hand).
    pub automatic: bool,
}

const fn item(code: &'static str, label: &'static str, field: &'static str, automatic: bool) -> Item {
    Item { code, label, field, automatic }
}

pub const TRACKING: Item = item("tracking_number", "Shipping tracking number", "shipping_tracking_number", true);
pub const CARRIER: Item = item("carrier", "Carrier", "shipping_carrier", true);
pub const DELIVERY_SCAN: Item = item("delivery_scan", "Carrier's delivery scan", "shipping_documentation", true);
pub const ADDRESS_MATCH: Item =
    item("address_match", "Shipping address matches billing or earlier orders", "shipping_address", true);
pub const PURCHASE_IP: Item = item("purchase_ip", "Purchase IP address and device", "customer_purchase_ip", true);
pub const ACCOUNT_HISTORY: Item =
    item("account_history", "Account history: earlier undisputed orders", "access_activity_log", true);
pub const CE3: Item =
    item("ce3", "Compelling Evidence 3.0: two earlier undisputed transactions", "uncategorized_text", true);
pub const COMMUNICATION: Item =
    item("customer_communication", "Customer communication", "customer_communication", false);
pub const DESCRIPTION: Item = item("product_description", "Product description as sold", "product_description", false);
pub const RETURN_POLICY: Item =
    item("refund_policy", "Return and refund policy shown at checkout", "refund_policy", false);
pub const RETURN_STATUS: Item =
    item("return_status", "Return status (received, condition)", "refund_refusal_explanation", true);
pub const REFUND_STATUS: Item =
    item("refund_status", "Refunds issued for the order", "refund_refusal_explanation", true);
pub const DUPLICATE: Item =
    item("duplicate_charge", "The other charge is a separate order", "duplicate_charge_explanation", false);
pub const RECEIPT: Item = item("receipt", "Order receipt", "receipt", true);

/// The checklist for a family; Visa fraud (10.4) adds Compelling Evidence 3.0.
pub fn checklist(family: ReasonFamily, network: Network, reason_code: Option<&str>) -> Vec<Item> {
    use ReasonFamily::*;
    let mut items = match family {
        NotReceived => vec![TRACKING, CARRIER, DELIVERY_SCAN, ADDRESS_MATCH, COMMUNICATION],
        Fraud => vec![PURCHASE_IP, ACCOUNT_HISTORY, DELIVERY_SCAN, ADDRESS_MATCH, RECEIPT],
        NotAsDescribed => vec![DESCRIPTION, RETURN_POLICY, RETURN_STATUS, COMMUNICATION],
        CreditNotProcessed => vec![REFUND_STATUS, RETURN_STATUS, RETURN_POLICY, COMMUNICATION],
        Duplicate => vec![DUPLICATE, REFUND_STATUS, RECEIPT],
        Other => vec![RECEIPT, COMMUNICATION],
    };
    if ce3_applies(family, network, reason_code) {
        items.push(CE3);
    }
    items
}

/// Compelling Evidence 3.0 is Visa's answer to card-absent fraud, reason 10.4 only (not the
/// card-present 10.1-10.3 nor the monitoring programme's 10.5).
pub fn ce3_applies(family: ReasonFamily, network: Network, reason_code: Option<&str>) -> bool {
    family == ReasonFamily::Fraud
        && reason_code.map(str::trim) == Some("10.4")
        && matches!(network, Network::Visa | Network::Other)
}

/// What riskdesk knows about the disputed order, for the automatic items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub order_found: bool,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    /// The delivery event's date, as text.
    pub delivered: Option<String>,
    /// Shipping and billing address the same, or the shipping address used before.
    pub address_match: Option<bool>,
    pub ip: Option<String>,
    pub device: Option<String>,
    pub earlier_undisputed_orders: usize,
    pub refunded_minor: i64,
    /// The warehouse's receipt of a return, with its condition note.
    pub return_received: Option<String>,
    /// Qualifying CE 3.0 transactions.
    pub ce3_candidates: usize,
}

/// An automatic item's evidence from the facts, or `None` when the data does not satisfy it.
pub fn satisfied(code: &str, f: &Facts) -> Option<String> {
    match code {
        "tracking_number" => f.tracking_number.clone(),
        "carrier" => f.carrier.clone(),
        "delivery_scan" => f.delivered.as_ref().map(|d| format!("Delivered {d}")),
        "address_match" => (f.address_match == Some(true)).then(|| "The shipping address matches".to_owned()),
        "purchase_ip" => match (&f.ip, &f.device) {
            (Some(ip), Some(dev)) => Some(format!("IP {ip}, device {dev}")),
            (Some(ip), None) => Some(format!("IP {ip}")),
            _ => None,
        },
        "account_history" => (f.earlier_undisputed_orders > 0)
            .then(|| format!("{} earlier undisputed orders of the account", f.earlier_undisputed_orders)),
        "ce3" => (f.ce3_candidates >= 2).then(|| format!("{} qualifying earlier transactions", f.ce3_candidates)),
        "refund_status" => (f.refunded_minor > 0).then(|| format!("Refunded {} (minor units)", f.refunded_minor)),
        "return_status" => f.return_received.clone(),
        "receipt" => f.order_found.then(|| "The order as placed".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_received_asks_for_shipping_proof() {
        let codes: Vec<_> =
            checklist(ReasonFamily::NotReceived, Network::Mastercard, Some("4855")).iter().map(|i| i.code).collect();
        assert_eq!(codes, ["tracking_number", "carrier", "delivery_scan", "address_match", "customer_communication"]);
    }

    #[test]
    fn visa_fraud_adds_ce3() {
        assert!(checklist(ReasonFamily::Fraud, Network::Visa, Some("10.4")).contains(&CE3));
        assert!(!checklist(ReasonFamily::Fraud, Network::Mastercard, Some("4837")).contains(&CE3));
    }

    #[test]
    fn facts_satisfy_automatic_items() {
        let f = Facts {
            tracking_number: Some("00340434161094042557".into()),
            address_match: Some(false),
            ce3_candidates: 1,
            ..Default::default()
        };
        assert_eq!(satisfied("tracking_number", &f).as_deref(), Some("00340434161094042557"));
        assert_eq!(satisfied("address_match", &f), None);
        assert_eq!(satisfied("ce3", &f), None);
        assert_eq!(satisfied("customer_communication", &f), None);
    }
}
