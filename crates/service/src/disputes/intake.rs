//! Provider events in: Stripe and Adyen webhooks (verified before anything is read further)
//! and CSV reports, each event stored once with its raw form, the dispute moved along its
//! lifecycle and linked to its order, and its case opened or told.

use super::lifecycle_of;
use crate::audit::entry;
use crate::cases::OpenCase;
use crate::{Actor, DisputeImporter, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::disputes::{self as d, DisputeEvent, Observed, Provider, Stage, Status, WebhookError};
use riskdesk_domain::{Currency, CustomerId, Event, EventId, EventType, Money, OrderId};
use riskdesk_store::StoreError;
use riskdesk_store::cases::{CaseChange, CaseEvent};
use riskdesk_store::changes::{DisputeChange, Effect};
use riskdesk_store::disputes::{DisputeEventRow, DisputeRecord};
use serde::Serialize;

/// What became of one provider event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Received {
    Stored {
        dispute_id: String,
        created: bool,
    },
    /// The same event again: nothing changed.
    Duplicate,
    /// Not a dispute event: acknowledged, not stored.
    Ignored,
}

fn refused(e: WebhookError) -> ServiceError {
    match e {
        WebhookError::Signature(m) => ServiceError::Unauthenticated(m),
        WebhookError::Payload { field, detail } => ServiceError::Invalid(format!("{field}: {detail}")),
    }
}

/// `YYYY-MM` of a time, UTC.
pub(crate) fn month_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

impl Service {
    /// A Stripe webhook: the signature is checked against the exact body before it is parsed.
    pub async fn stripe_webhook(&self, signature: Option<&str>, body: &[u8]) -> ServiceResult<Received> {
        let cfg = self.dispute_settings().stripe;
        if cfg.webhook_secret.is_empty() {
            return Err(ServiceError::Unauthenticated("no Stripe webhook secret is configured".into()));
        }
        let header =
            signature.ok_or_else(|| ServiceError::Unauthenticated("the Stripe-Signature header is missing".into()))?;
        d::stripe::verify(header, body, &cfg.webhook_secret, self.now(), cfg.tolerance_secs).map_err(refused)?;
        let Some(e) = d::stripe::parse(body).map_err(refused)? else { return Ok(Received::Ignored) };
        let raw = String::from_utf8_lossy(body).into_owned();
        self.ingest_dispute_event(e, raw).await
    }

    /// An Adyen notification: every item verified first (one bad item refuses all), then each
    /// stored in its own transaction; Adyen retries the whole batch until it reads
    /// `[accepted]`, and the stored items are then duplicates.
    pub async fn adyen_webhook(&self, body: &[u8]) -> ServiceResult<Vec<Received>> {
        let key = self.dispute_settings().adyen.hmac_key;
        if key.trim().is_empty() {
            return Err(ServiceError::Unauthenticated("no Adyen HMAC key is configured".into()));
        }
        let items = d::adyen::verified_items(body, &key).map_err(refused)?;
        let mut parsed = Vec::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            parsed.push((d::adyen::parse_item(i, it).map_err(refused)?, it.to_string()));
        }
        let mut out = Vec::with_capacity(parsed.len());
        for (e, raw) in parsed {
            out.push(match e {
                Some(e) => self.ingest_dispute_event(e, raw).await?,
                None => Received::Ignored,
            });
        }
        Ok(out)
    }

    /// Stores one normalised event: once per key, with the dispute moved on, in one
    /// transaction with its audit record; then the case is opened or told.
    pub(crate) async fn ingest_dispute_event(&self, e: DisputeEvent, raw: String) -> ServiceResult<Received> {
        let provider = e.provider.as_str();
        for attempt in 0..3 {
            if self.store().dispute_event_seen(provider, &e.dedupe_key).await? {
                return Ok(Received::Duplicate);
            }
            let existing = self.store().dispute_by_ref(provider, &e.provider_ref).await?;
            // Money moves once per kind of event: a redelivery whose unsigned date differs (a new
            // deduplication key) is kept as an event but does not count the money again.
            let mut e = e.clone();
            if e.funds.is_some()
                && let Some(x) = &existing
                && self.store().dispute_events(&x.dispute_id).await?.iter().any(|ev| ev.event_type == e.event_type)
            {
                e.funds = None;
            }
            let (next, created) = self.dispute_after(existing.as_ref(), &e).await?;
            let now = self.now();
            let row = DisputeEventRow {
                provider: provider.to_owned(),
                dedupe_key: e.dedupe_key.clone(),
                dispute_id: next.dispute_id.clone(),
                event_type: e.event_type.clone(),
                occurred_at: e.occurred_at,
                received_at: now,
                normalised: serde_json::to_string(&e).unwrap_or_default(),
                raw: raw.clone(),
            };
            let mut effects = vec![Effect::Disputes(DisputeChange::Ingest {
                event: Box::new(row),
                dispute: Box::new(next.clone()),
                expected_version: existing.as_ref().map_or(0, |x| x.version),
            })];
            if let (Some(case), Some(before)) = (&next.case_id, &existing)
                && (before.stage != next.stage || before.status != next.status)
            {
                effects.push(Effect::Cases(CaseChange::Event(CaseEvent {
                    id: 0,
                    case_id: case.clone(),
                    at: now,
                    actor: format!("webhook:{provider}"),
                    kind: "dispute".into(),
                    text: format!(
                        "{}: {} → {} ({})",
                        e.event_type,
                        Stage::parse(&next.stage).map_or("", |s| s.label()),
                        Status::parse(&next.status).map_or("", |s| s.label()),
                        next.dispute_id
                    ),
                })));
            }
            let audit = entry(
                &format!("webhook:{provider}"),
                "dispute.event",
                format!("dispute:{}", next.dispute_id),
                serde_json::json!({"event": e.event_type, "key": e.dedupe_key, "stage": next.stage, "status": next.status}),
                now,
            );
            match self.commit_audited(&effects, &[audit]).await {
                Ok(()) => {
                    let was_chargeback = existing.as_ref().is_some_and(|x| x.stage != Stage::Inquiry.as_str());
                    if !was_chargeback
                        && next.stage != Stage::Inquiry.as_str()
                        && !next.fraud_report
                        && let Err(err) = self.chargeback_event_of(&next).await
                    {
                        tracing::warn!(dispute_id = %next.dispute_id, error = %err, "recording the chargeback on its order failed");
                    }
                    // A dispute first seen decided (a past month's report) needs no work.
                    let decided_on_arrival = created && d::Status::parse(&next.status).is_some_and(Status::is_final);
                    if !next.fraud_report
                        && next.case_id.is_none()
                        && !decided_on_arrival
                        && let Err(err) = self.open_dispute_case(&next).await
                    {
                        // The deadline watch opens it on its next round.
                        tracing::warn!(dispute_id = %next.dispute_id, error = %err, "opening the dispute case failed");
                    }
                    return Ok(Received::Stored { dispute_id: next.dispute_id, created });
                }
                // A concurrent delivery of the same event, or of another event of the same
                // dispute: read again.
                Err(ServiceError::Store(StoreError::Conflict(_))) if attempt < 2 => continue,
                Err(err) => return Err(err),
            }
        }
        Err(ServiceError::Conflict("the dispute kept changing; the provider will deliver again".into()))
    }

    /// A chargeback from the provider is its order's `chargeback_received`, as if the shop had sent
    /// it: the account's history, its cluster, re-screening and the return trail
    /// (`customer.refund_and_chargeback`) count it. Once per order: a chargeback the shop sent
    /// itself is not counted again, and the event id (`dispute-<id>`) makes a repeat a duplicate.
    async fn chargeback_event_of(&self, dispute: &DisputeRecord) -> ServiceResult<()> {
        let Some(order_id) = dispute.order_id.as_deref().and_then(|o| OrderId::parse(o, "order_id").ok()) else {
            return Ok(());
        };
        let Some(order) = self.store().get_order(&order_id).await? else { return Ok(()) };
        if order.events.iter().any(|e| e.event.event_type == EventType::ChargebackReceived) {
            return Ok(());
        }
        let mut data = serde_json::Map::new();
        if let Some(code) = &dispute.reason_code {
            data.insert("reason_code".into(), code.clone().into());
        }
        if let Ok(currency) = Currency::parse(&dispute.currency, "currency")
            && let Ok(amount) = serde_json::to_value(Money::new(dispute.amount_minor, currency))
        {
            data.insert("amount".into(), amount);
        }
        data.insert("psp_reference".into(), dispute.provider_ref.clone().into());
        data.insert("dispute_id".into(), dispute.dispute_id.clone().into());
        let event = Event {
            event_id: EventId::parse(&format!("dispute-{}", dispute.dispute_id), "event_id")
                .map_err(|e| ServiceError::Invalid(e.to_string()))?,
            event_type: EventType::ChargebackReceived,
            occurred_at: dispute.opened_at.fixed_offset(),
            order_id: Some(order_id),
            customer_id: Some(order.order.customer.customer_id.clone()),
            data,
        };
        self.record_event(event).await.map(drop)
    }

    /// The dispute as the event leaves it.
    async fn dispute_after(
        &self,
        cur: Option<&DisputeRecord>,
        e: &DisputeEvent,
    ) -> ServiceResult<(DisputeRecord, bool)> {
        let now = self.now();
        let (order_id, customer_id) = match cur.and_then(|c| c.order_id.clone().map(|o| (o, c.customer_id.clone()))) {
            Some((o, c)) => (Some(o), c),
            None => match self.link_order(e).await? {
                Some((o, c)) => (Some(o), Some(c)),
                None => (None, None),
            },
        };
        let observed = if e.fraud_report { Observed { stage: None, status: None } } else { e.observed };
        let life = d::advance(cur.map(lifecycle_of), observed).expect("advance answers a lifecycle");
        let reason_code = e.reason_code.clone().or_else(|| cur.and_then(|c| c.reason_code.clone()));
        let family = reason_code.as_deref().map_or(d::ReasonFamily::Other, d::reason_family);
        let network = if e.network != d::Network::Other {
            e.network.as_str().to_owned()
        } else {
            cur.map_or_else(|| d::Network::Other.as_str().to_owned(), |c| c.network.clone())
        };
        let payment_ref = e.payment_refs.first().cloned().or_else(|| cur.and_then(|c| c.payment_ref.clone()));
        let closed_at =
            if life.status.is_final() { cur.and_then(|c| c.closed_at).or(Some(e.occurred_at)) } else { None };
        Ok(match cur {
            Some(c) => (
                DisputeRecord {
                    payment_ref,
                    order_id,
                    customer_id,
                    stage: life.stage.as_str().into(),
                    status: life.status.as_str().into(),
                    reason_code,
                    reason_family: family.as_str().into(),
                    network,
                    amount_minor: e.amount_minor.unwrap_or(c.amount_minor),
                    currency: e.currency.clone().unwrap_or_else(|| c.currency.clone()),
                    due_by: e.due_by.or(c.due_by),
                    fraud_report: c.fraud_report && e.fraud_report,
                    funds_minor: c.funds_minor + e.funds.unwrap_or(0),
                    updated_at: now,
                    closed_at,
                    // A new stage has a new deadline to warn about.
                    warned_at: if life.stage.as_str() != c.stage { None } else { c.warned_at },
                    escalated_at: if life.stage.as_str() != c.stage { None } else { c.escalated_at },
                    version: c.version + 1,
                    ..c.clone()
                },
                false,
            ),
            None => (
                DisputeRecord {
                    dispute_id: format!("dsp_{}", ulid::Ulid::new()),
                    provider: e.provider.as_str().into(),
                    provider_ref: e.provider_ref.clone(),
                    payment_ref,
                    order_id,
                    customer_id,
                    case_id: None,
                    stage: life.stage.as_str().into(),
                    status: life.status.as_str().into(),
                    reason_code,
                    reason_family: family.as_str().into(),
                    network,
                    amount_minor: e.amount_minor.unwrap_or(0),
                    currency: e.currency.clone().unwrap_or_else(|| "EUR".into()),
                    due_by: e.due_by,
                    fraud_report: e.fraud_report,
                    funds_minor: e.funds.unwrap_or(0),
                    opened_at: e.occurred_at,
                    month: month_of(e.occurred_at),
                    updated_at: now,
                    closed_at,
                    warned_at: None,
                    escalated_at: None,
                    submitted_at: None,
                    submitted_by: None,
                    version: 1,
                },
                true,
            ),
        })
    }

    /// The order a dispute is about: an order id the provider carries (Adyen's
    /// merchantReference, Stripe's `metadata.order_id`) if it is stored, else the payment
    /// reference the order was sent with.
    async fn link_order(&self, e: &DisputeEvent) -> ServiceResult<Option<(String, String)>> {
        if let Some(hint) = &e.order_hint
            && let Ok(id) = OrderId::parse(hint, "order_id")
            && let Some(o) = self.store().get_order(&id).await?
        {
            return Ok(Some((id.to_string(), o.order.customer.customer_id.to_string())));
        }
        Ok(self.store().order_by_payment_ref(&e.payment_refs).await?)
    }

    /// Opens the dispute's case (one per dispute) and records it on the dispute.
    pub(crate) async fn open_dispute_case(&self, r: &DisputeRecord) -> ServiceResult<()> {
        let actor = Actor::other(&format!("webhook:{}", r.provider));
        let family = d::ReasonFamily::parse(&r.reason_family).unwrap_or(d::ReasonFamily::Other);
        let amount = riskdesk_domain::money::display(r.amount_minor, &r.currency);
        let due = r.due_by.map_or_else(String::new, |t| format!(", respond by {}", t.format("%Y-%m-%d %H:%M UTC")));
        let input = OpenCase {
            kind: "dispute".into(),
            title: format!(
                "{} {} ({}): {amount}",
                Stage::parse(&r.stage).map_or("Dispute", |s| s.label()),
                r.reason_code.as_deref().unwrap_or(""),
                family.label()
            ),
            description: format!(
                "{} dispute {} on {}{due}. Dispute page: /disputes/{}",
                Provider::parse(&r.provider).map_or("", |p| p.label()),
                r.provider_ref,
                r.order_id.as_deref().map_or("an order not found in riskdesk".to_owned(), |o| format!("order {o}")),
                r.dispute_id
            ),
            customer_id: r.customer_id.clone().filter(|c| CustomerId::parse(c, "c").is_ok()),
            order_ids: r.order_id.iter().cloned().collect(),
            ..Default::default()
        };
        let opened = self.open_case_as(&actor, input, Some(format!("dispute:{}", r.dispute_id)), Vec::new()).await?;
        let case_id = opened.case().id.clone();
        for _ in 0..3 {
            let cur = self.dispute_record(&r.dispute_id).await?;
            if cur.case_id.is_some() {
                return Ok(());
            }
            let next = DisputeRecord {
                case_id: Some(case_id.clone()),
                version: cur.version + 1,
                updated_at: self.now(),
                ..cur.clone()
            };
            let audit = entry(
                &actor.id,
                "dispute.case",
                format!("dispute:{}", r.dispute_id),
                serde_json::json!({"case": case_id}),
                self.now(),
            );
            match self
                .commit_audited(
                    &[Effect::Disputes(DisputeChange::Update {
                        dispute: Box::new(next),
                        expected_version: cur.version,
                    })],
                    &[audit],
                )
                .await
            {
                Err(ServiceError::Store(StoreError::Conflict(_))) => continue,
                other => return other,
            }
        }
        Ok(())
    }

    /// Imports a provider's dispute report (CSV with a header). Every line is checked first;
    /// one bad line stores nothing and is named with its number.
    pub async fn import_disputes_csv(&self, cap: &DisputeImporter, csv_text: &str) -> ServiceResult<ImportReport> {
        let events = super::report::parse(csv_text, self.now())?;
        let mut report = ImportReport::default();
        for (e, raw) in events {
            match self.ingest_dispute_event(e, raw).await? {
                Received::Stored { created: true, .. } => report.created += 1,
                Received::Stored { .. } => report.updated += 1,
                Received::Duplicate | Received::Ignored => report.unchanged += 1,
            }
        }
        self.audit_only(entry(
            &cap.actor().id,
            "dispute.import",
            "disputes".into(),
            serde_json::json!({"created": report.created, "updated": report.updated, "unchanged": report.unchanged}),
            self.now(),
        ))
        .await?;
        Ok(report)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}
