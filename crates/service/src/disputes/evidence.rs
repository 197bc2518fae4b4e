//! The evidence of a dispute: the checklist of its reason family, each item satisfied from the
//! order's data (tracking, delivery scan, addresses, IP and device, refunds, returns, earlier
//! undisputed orders, CE 3.0) or by hand with a note, and the pack sent to the provider.

use crate::audit::entry;
use crate::{DisputeViewer, DisputeWorker, Service, ServiceError, ServiceResult};
use riskdesk_domain::disputes::ce3::{self, Candidate, Transaction};
use riskdesk_domain::disputes::evidence::{self, Facts, Item};
use riskdesk_domain::disputes::{Network, ReasonFamily};
use riskdesk_domain::masking::mask_ip;
use riskdesk_domain::{CustomerId, EntityKind, EventType, OrderId};
use riskdesk_store::StoredOrder;
use riskdesk_store::changes::{DisputeChange, Effect};
use riskdesk_store::disputes::{DisputeFilter, DisputeRecord};
use serde::Serialize;
use std::collections::HashSet;

/// One checklist item and how it stands.
#[derive(Debug, Clone, Serialize)]
pub struct ItemState {
    #[serde(flatten)]
    pub item: Item,
    /// `automatic` (from riskdesk's data), `manual` (by hand) or `missing`.
    pub state: &'static str,
    pub evidence: Option<String>,
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceView {
    pub checklist: Vec<ItemState>,
    /// Visa Compelling Evidence 3.0 candidates (card-absent fraud), each with why it does or
    /// does not qualify.
    pub ce3_candidates: Vec<Candidate>,
    pub ce3_eligible: bool,
    /// Refunds already issued for the order, minor units.
    pub refunded_minor: i64,
    pub satisfied: usize,
}

fn is(e: &riskdesk_store::StoredEvent, t: EventType) -> bool {
    e.event.event_type == t
}

fn data_text(e: &riskdesk_store::StoredEvent, key: &str) -> Option<String> {
    e.event.data.get(key).and_then(|v| v.as_str()).map(str::to_owned).filter(|s| !s.is_empty())
}

fn amount_minor(e: &riskdesk_store::StoredEvent) -> i64 {
    e.event
        .data
        .get("amount")
        .and_then(|a| serde_json::from_value::<riskdesk_domain::Money>(a.clone()).ok())
        .map_or(0, |m| m.minor)
}

fn card_key(o: &riskdesk_domain::Order) -> Option<String> {
    let c = o.payment.card.as_ref()?;
    c.fingerprint.clone().or_else(|| match (&c.bin, &c.last4) {
        (Some(b), Some(l)) => Some(format!("{b}…{l}")),
        _ => None,
    })
}

fn transaction(o: &StoredOrder, disputed: bool) -> Transaction {
    let order = &o.order;
    Transaction {
        order_id: order.order_id.to_string(),
        at: order.placed_at.to_utc(),
        card: card_key(order),
        ip: order.device.as_ref().and_then(|d| d.ip).map(|ip| ip.to_string()),
        device: order.device.as_ref().and_then(|d| d.device_id.clone()),
        account: Some(order.customer.customer_id.to_string()),
        shipping: order.shipping_address.as_ref().and_then(|a| a.key()).map(|k| k.into_string()),
        disputed: disputed
            || o.events.iter().any(|e| is(e, EventType::ChargebackReceived) || is(e, EventType::FraudConfirmed)),
    }
}

/// How many of a customer's earlier orders are read for the account history and CE 3.0.
const HISTORY: u32 = 100;

/// Other accounts whose orders of the same card CE 3.0 looks at (a card on more is a hub,
/// and the nearest ones are read).
const OTHER_ACCOUNTS: usize = 10;

impl Service {
    /// What riskdesk's data says for the checklist, and the CE 3.0 candidates.
    pub(crate) async fn dispute_facts(&self, r: &DisputeRecord) -> ServiceResult<(Facts, Vec<Candidate>)> {
        let Some(order_id) = r.order_id.as_deref().and_then(|o| OrderId::parse(o, "order_id").ok()) else {
            return Ok((Facts::default(), Vec::new()));
        };
        let Some(o) = self.store().get_order(&order_id).await? else { return Ok((Facts::default(), Vec::new())) };
        let mut f = Facts { order_found: true, ..Default::default() };
        for e in &o.events {
            if is(e, EventType::OrderShipped) {
                f.tracking_number = data_text(e, "tracking_number").or(f.tracking_number);
                f.carrier = data_text(e, "carrier").or(f.carrier);
            }
            if is(e, EventType::OrderDelivered) {
                f.delivered = Some(e.event.occurred_at.format("%Y-%m-%d %H:%M").to_string());
            }
            if is(e, EventType::RefundIssued) {
                f.refunded_minor += amount_minor(e);
            }
            if is(e, EventType::ReturnReceived) {
                f.return_received = Some(match data_text(e, "condition") {
                    Some(c) => format!("Received {}: {c}", e.event.occurred_at.format("%Y-%m-%d")),
                    None => format!("Received {}", e.event.occurred_at.format("%Y-%m-%d")),
                });
            }
        }
        let order = &o.order;
        f.ip = order.device.as_ref().and_then(|d| d.ip).map(|ip| ip.to_string());
        f.device = order.device.as_ref().and_then(|d| d.device_id.clone());
        let ship = order.shipping_address.as_ref().and_then(|a| a.key());
        let bill = order.billing_address.as_ref().and_then(|a| a.key());
        // Earlier orders of the account: the history item, the address used before, CE 3.0.
        let disputed = match &r.customer_id {
            Some(c) => self.disputed_orders_of(c).await?,
            None => HashSet::new(),
        };
        let mut history = Vec::new();
        if let Ok(cid) = CustomerId::parse(order.customer.customer_id.as_str(), "customer_id")
            && let Some(c) = self.store().get_customer(&cid, HISTORY).await?
        {
            for s in c.orders.iter().filter(|s| s.order_id != order.order_id && s.placed_at < order.placed_at) {
                if let Some(earlier) = self.store().get_order(&s.order_id).await? {
                    history.push(earlier);
                }
            }
        }
        let mut address_seen = ship.is_some() && ship == bill;
        for h in &history {
            let t = transaction(h, disputed.contains(h.order.order_id.as_str()));
            if !t.disputed {
                f.earlier_undisputed_orders += 1;
                address_seen |= ship.is_some() && h.order.shipping_address.as_ref().and_then(|a| a.key()) == ship;
            }
        }
        f.address_match = ship.as_ref().map(|_| address_seen);
        let family = ReasonFamily::parse(&r.reason_family).unwrap_or(ReasonFamily::Other);
        let network = Network::parse(&r.network).unwrap_or(Network::Other);
        let candidates = if evidence::ce3_applies(family, network, r.reason_code.as_deref()) {
            let mut txs: Vec<Transaction> =
                history.iter().map(|h| transaction(h, disputed.contains(h.order.order_id.as_str()))).collect();
            txs.extend(self.same_card_elsewhere(order).await?);
            ce3::candidates(&transaction(&o, true), r.opened_at, &txs)
        } else {
            Vec::new()
        };
        f.ce3_candidates = candidates.iter().filter(|c| c.qualifies).count();
        Ok((f, candidates))
    }

    /// The orders of an account that a dispute or an issuer's fraud report names: never CE 3.0
    /// candidates.
    async fn disputed_orders_of(&self, customer: &str) -> ServiceResult<HashSet<String>> {
        Ok(self
            .store()
            .disputes(&DisputeFilter {
                customer_id: Some(customer.to_owned()),
                with_fraud_reports: true,
                limit: 1000,
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter_map(|x| x.order_id)
            .collect())
    }

    /// Earlier orders of the disputed card under other accounts: CE 3.0 asks for the card's
    /// transactions, whichever account placed them (the account then does not match).
    async fn same_card_elsewhere(&self, order: &riskdesk_domain::Order) -> ServiceResult<Vec<Transaction>> {
        let Some(fp) = order.payment.card.as_ref().and_then(|c| c.fingerprint.as_deref()) else {
            return Ok(Vec::new());
        };
        let key = self.hasher().hash(EntityKind::CardFingerprint, fp);
        let card = card_key(order);
        let mut out = Vec::new();
        let mut others = self.store().accounts_sharing(&key).await?;
        others.retain(|u| u.customer_id != order.customer.customer_id);
        others.sort_by_key(|u| std::cmp::Reverse(u.last_seen));
        for u in others.into_iter().take(OTHER_ACCOUNTS) {
            let disputed = self.disputed_orders_of(u.customer_id.as_str()).await?;
            let Some(c) = self.store().get_customer(&u.customer_id, HISTORY).await? else { continue };
            for s in c.orders.iter().filter(|s| s.placed_at < order.placed_at) {
                if let Some(h) = self.store().get_order(&s.order_id).await?
                    && card_key(&h.order) == card
                {
                    out.push(transaction(&h, disputed.contains(h.order.order_id.as_str())));
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn dispute_evidence_view(
        &self,
        _: &DisputeViewer,
        r: &DisputeRecord,
    ) -> ServiceResult<EvidenceView> {
        let (facts, candidates) = self.dispute_facts(r).await?;
        let manual = self.store().dispute_evidence(&r.dispute_id).await?;
        let family = ReasonFamily::parse(&r.reason_family).unwrap_or(ReasonFamily::Other);
        let network = Network::parse(&r.network).unwrap_or(Network::Other);
        let checklist: Vec<ItemState> = evidence::checklist(family, network, r.reason_code.as_deref())
            .into_iter()
            .map(|item| {
                let by_hand = manual.iter().find(|m| m.item == item.code);
                let auto = if item.automatic { evidence::satisfied(item.code, &facts) } else { None };
                // Personal data is shown masked; the pack carries it for the provider.
                let auto = auto.map(|t| match (&facts.ip, item.code) {
                    (Some(ip), "purchase_ip") => t.replace(ip.as_str(), &mask_ip(ip)),
                    _ => t,
                });
                match (by_hand, auto) {
                    (Some(m), _) => {
                        ItemState { item, state: "manual", evidence: Some(m.note.clone()), by: Some(m.by.clone()) }
                    }
                    (None, Some(a)) => ItemState { item, state: "automatic", evidence: Some(a), by: None },
                    (None, None) => ItemState { item, state: "missing", evidence: None, by: None },
                }
            })
            .collect();
        Ok(EvidenceView {
            satisfied: checklist.iter().filter(|i| i.state != "missing").count(),
            checklist,
            ce3_eligible: ce3::eligible(&candidates),
            ce3_candidates: candidates,
            refunded_minor: facts.refunded_minor,
        })
    }

    /// Satisfies a checklist item by hand with a note, or (no note) takes that back.
    pub async fn mark_dispute_evidence(
        &self,
        cap: &DisputeWorker,
        id: &str,
        item: &str,
        note: Option<&str>,
    ) -> ServiceResult<()> {
        let r = self.dispute_record(id).await?;
        let family = ReasonFamily::parse(&r.reason_family).unwrap_or(ReasonFamily::Other);
        let network = Network::parse(&r.network).unwrap_or(Network::Other);
        let list = evidence::checklist(family, network, r.reason_code.as_deref());
        if !list.iter().any(|i| i.code == item) {
            return Err(ServiceError::Invalid(format!(
                "item: must be one of {}",
                list.iter().map(|i| i.code).collect::<Vec<_>>().join(", ")
            )));
        }
        let note = note.map(|n| crate::cases::clean_text("note", n, 2000, true)).transpose()?;
        let now = self.now();
        let change = DisputeChange::Evidence {
            dispute_id: id.into(),
            item: item.into(),
            note: note.clone(),
            by: cap.actor().id.clone(),
            at: now,
        };
        let audit = entry(
            &cap.actor().id,
            if note.is_some() { "dispute.evidence" } else { "dispute.evidence_removed" },
            format!("dispute:{id}"),
            serde_json::json!({"item": item}),
            now,
        );
        self.commit_audited(&[Effect::Disputes(change)], &[audit]).await
    }

    /// The evidence pack: the provider's evidence fields as JSON (unmasked: it goes to the
    /// provider) and a PDF of the same; for people who work disputes. Reading it is audited.
    pub async fn dispute_pack(&self, cap: &DisputeWorker, id: &str) -> ServiceResult<Pack> {
        let r = self.dispute_record(id).await?;
        let (facts, candidates) = self.dispute_facts(&r).await?;
        let view = self.dispute_evidence_view(&DisputeViewer::local(cap.actor().clone()), &r).await?;
        let mut fields = serde_json::Map::new();
        for i in &view.checklist {
            let text = match (i.state, i.item.automatic) {
                ("manual", _) => i.evidence.clone(),
                ("automatic", _) => evidence::satisfied(i.item.code, &facts),
                _ => None,
            };
            if let Some(t) = text {
                let prev = fields.get(i.item.field).and_then(|v| v.as_str()).map(|p| format!("{p}\n"));
                fields
                    .insert(i.item.field.into(), serde_json::Value::String(format!("{}{t}", prev.unwrap_or_default())));
            }
        }
        if ce3::eligible(&candidates) {
            let lines: Vec<String> = candidates
                .iter()
                .filter(|c| c.qualifies)
                .map(|c| format!("{} ({}): {}", c.order_id, c.placed_at.format("%Y-%m-%d"), c.why))
                .collect();
            fields.insert(
                "uncategorized_text".into(),
                serde_json::Value::String(format!("Compelling Evidence 3.0:\n{}", lines.join("\n"))),
            );
        }
        let json = serde_json::json!({
            "dispute_id": r.dispute_id,
            "provider": r.provider,
            "provider_ref": r.provider_ref,
            "order_id": r.order_id,
            "reason_code": r.reason_code,
            "reason_family": r.reason_family,
            "amount": super::money(r.amount_minor, &r.currency),
            "due_by": r.due_by,
            "evidence": fields,
            "missing": view.checklist.iter().filter(|i| i.state == "missing").map(|i| i.item.code).collect::<Vec<_>>(),
        });
        let pdf = super::pdf::pack_pdf(&r, &view, &json, self.now());
        self.audit_only(entry(
            &cap.actor().id,
            "dispute.pack",
            format!("dispute:{id}"),
            serde_json::json!({"items": fields.len()}),
            self.now(),
        ))
        .await?;
        Ok(Pack { json, pdf })
    }
}

pub struct Pack {
    pub json: serde_json::Value,
    pub pdf: Vec<u8>,
}
