//! Personal data by need. Pages get the masked party of an order; the clear values come only
//! from [`Service::unmask_order`], which needs the [`Unmasker`] capability and a purpose, and
//! writes the read to the audit log before returning anything.

use crate::Unmasker;
use crate::audit::entry;
use crate::{Service, ServiceError, ServiceResult};
use riskdesk_domain::{Address, Order, OrderId};
use riskdesk_domain::{mask_email, mask_iban, mask_ip, mask_name, mask_phone, mask_text};
use serde::Serialize;

/// The personal data of an order: who ordered, where to, from which address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub shipping: Option<String>,
    pub billing: Option<String>,
    pub ip: Option<String>,
    pub iban: Option<String>,
}

/// The same, masked: safe to show to every role that may see the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaskedParty(pub Party);

fn address_line(a: &Address, mask: bool) -> String {
    let street = [a.line1.as_deref(), a.line2.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let name = a.name.as_deref().map(|n| if mask { mask_name(n) } else { n.to_owned() });
    let street = if mask { mask_text(&street) } else { street };
    // Postal code, city and country stay visible: analysts judge places, not people, by them.
    let place = [a.postal_code.as_deref(), a.city.as_deref(), a.country.as_ref().map(|c| c.as_str())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [name, Some(street), Some(place)].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
}

pub fn party(order: &Order) -> Party {
    Party {
        email: order.customer.email.as_ref().map(|e| e.as_str().to_owned()),
        phone: order.customer.phone.as_ref().map(|p| p.as_str().to_owned()),
        name: order.customer.name.clone(),
        shipping: order.shipping_address.as_ref().map(|a| address_line(a, false)),
        billing: order.billing_address.as_ref().map(|a| address_line(a, false)),
        ip: order.device.as_ref().and_then(|d| d.ip).map(|ip| ip.to_string()),
        iban: order.payment.iban.as_ref().map(|i| i.as_str().to_owned()),
    }
}

pub fn masked_party(order: &Order) -> MaskedParty {
    MaskedParty(Party {
        email: order.customer.email.as_ref().map(|e| mask_email(e.as_str())),
        phone: order.customer.phone.as_ref().map(|p| mask_phone(p.as_str())),
        name: order.customer.name.as_deref().map(mask_name),
        shipping: order.shipping_address.as_ref().map(|a| address_line(a, true)),
        billing: order.billing_address.as_ref().map(|a| address_line(a, true)),
        ip: order.device.as_ref().and_then(|d| d.ip).map(|ip| mask_ip(&ip.to_string())),
        iban: order.payment.iban.as_ref().map(|i| mask_iban(i.as_str())),
    })
}

/// A rule hit's "name = value, …" detail with the values of personal variables masked (the IP).
pub fn mask_detail(detail: &str) -> String {
    detail
        .split(", ")
        .map(|part| match part.split_once(" = ") {
            Some((name, value)) if name == "order.ip" => format!("{name} = {}", mask_ip(value.trim_matches('"'))),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Takes the personal data out of a stored order for a page: contact details, addresses, IP
/// and IBAN go (the masked party shows them), and rule values naming personal variables are
/// masked in every decision.
pub fn scrub(stored: &mut riskdesk_store::StoredOrder) {
    let o = &mut stored.order;
    o.customer.email = None;
    o.customer.phone = None;
    o.customer.name = None;
    o.billing_address = None;
    o.shipping_address = None;
    o.payment.iban = None;
    if let Some(d) = o.device.as_mut() {
        d.ip = None;
    }
    for d in &mut stored.decisions {
        for r in &mut d.reasons {
            r.detail = mask_detail(&r.detail);
        }
    }
}

/// A list entry's value as pages show it: personal kinds (e-mail, phone, IBAN, IP, address)
/// masked; device and card fingerprints, BINs, domains and customer ids as they are.
pub fn mask_list_value(kind: riskdesk_rules::needs::ListKind, value: &str) -> String {
    use riskdesk_rules::needs::ListKind as K;
    match kind {
        K::Email => mask_email(value),
        K::Phone => mask_phone(value),
        K::Iban => mask_iban(value),
        K::Ip => mask_ip(value),
        K::Address => mask_text(value),
        _ => value.to_owned(),
    }
}

impl Service {
    /// Records that a machine client read a record with personal data in clear.
    pub async fn record_api_read(&self, cap: &crate::ReadAccess, subject: String) -> ServiceResult<()> {
        let mut e = entry(&cap.actor().id, "personal_data.read", subject, serde_json::json!({}), self.now());
        e.purpose = Some("API read by a machine client".into());
        self.audit_only(e).await
    }

    /// The clear personal data of an order, for a stated purpose; the read is audited first.
    pub async fn unmask_order(&self, cap: &Unmasker, id: &OrderId, purpose: &str) -> ServiceResult<Party> {
        let purpose = riskdesk_domain::text::clean(purpose, "purpose", 500)
            .map_err(|e| ServiceError::Invalid(format!("purpose: {}", e.detail)))?
            .filter(|p| p.chars().count() >= 5)
            .ok_or_else(|| ServiceError::Invalid("purpose: say why you need the data (5 characters or more)".into()))?;
        let stored = self.store().get_order(id).await?.ok_or(ServiceError::NotFound("order"))?;
        let mut e = entry(
            &cap.actor().id,
            "personal_data.unmask",
            format!("order:{id}"),
            serde_json::json!({"customer": stored.order.customer.customer_id.as_str(),
                               "fields": ["email", "phone", "name", "addresses", "ip", "iban"]}),
            self.now(),
        );
        e.purpose = Some(purpose);
        self.audit_only(e).await?;
        Ok(party(&stored.order))
    }
}
