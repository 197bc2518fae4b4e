//! riskdesk's use cases over the storage traits. Handlers at the edge (HTTP, CLI) call these;
//! nothing here knows HTTP or SQL.

pub mod access;
pub mod approvals;
pub mod audit;
pub mod batcher;
pub mod cases;
pub mod disputes;
pub mod encryption;
pub mod frames;
pub mod identity;
pub mod keys;
pub mod knowledge;
pub mod kpis;
pub mod links;
pub mod lists;
pub mod masking;
pub mod privacy;
pub mod qa;
pub mod replay;
pub mod rescreen;
pub mod review;
pub mod rules;
pub mod screening;
pub mod settings;
pub mod webhooks;

use chrono::{DateTime, Utc};
use riskdesk_domain::{Clock, CustomerId, Decision, EntityHasher, EntityKey, Event, Order, OrderId};
use riskdesk_store::{EntityUse, NewEvent, NewOrder, OrderBody, ScreeningRows, Store, ToScreen};
/// Storage types that reach the edges through the service.
pub use riskdesk_store::{InsertOutcome, StoreError, StoredCustomer, StoredOrder};
use std::sync::Arc;

pub use access::{
    Analyst, Approver, AuditReader, Caller, Capability, CaseOpener, CaseViewer, CaseWorker, DisputeImporter,
    DisputeViewer, DisputeWorker, FeedbackResponder, HandlingIntake, Intake, KnowledgeEditor, KpiManager, KpiViewer,
    OrderDecider, OrderViewer, Principal, PrivacyIntake, PrivacyViewer, PrivacyWorker, QaManager, QaReviewer, QaViewer,
    QueueAssigner, ReadAccess, RulesAdmin, RulesViewer, Scope, Someone, Unmasker, UserAdmin, Via,
};
pub use audit::{Actor, REQUEST_ID};
pub use identity::{LoginError, SessionToken};
pub use settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the entity key does not match the one this database was created with")]
    EntityKeyMismatch,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is well-formed but cannot be done (e.g. nothing to roll back to).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this (a four-eye refusal, a role without the right).
    #[error("{0}")]
    Forbidden(String),
    /// A provider's signature is missing or wrong (nothing was read further).
    #[error("{0}")]
    Unauthenticated(String),
    /// A rule set that does not validate: every problem, each naming rule, line and column.
    #[error("the rule set is invalid:\n{0}")]
    Rules(riskdesk_rules::RuleErrors),
    /// Bad lines of a list import, each with its line number.
    #[error("{} list entries are invalid", .0.len())]
    ListLines(Vec<lists::LineError>),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// The system clock, the only place that reads the wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    hasher: EntityHasher,
    clock: Arc<dyn Clock>,
    api_keys: Arc<access::KeyCache>,
    orders: batcher::Batcher<NewOrder>,
    /// Orders screened inside the write transaction, where the store does that best.
    screened: batcher::Batcher<ToScreen, riskdesk_store::Screened>,
    events: batcher::Batcher<NewEvent>,
    screener: Arc<screening::Screener>,
    webhooks: Arc<std::sync::RwLock<webhooks::SharedWebhooks>>,
    /// Seals the audit chain; derived from the entity key, so it lives outside the database too.
    audit_key: Arc<[u8; 32]>,
    settings: Arc<std::sync::RwLock<settings::Settings>>,
    /// Every stored order's features for backtests, built on first use; backtests take turns.
    frames: Arc<tokio::sync::Mutex<Option<frames::Frames>>>,
}

/// What became of a submitted order: its answer, and whether this call stored it.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub decision: Decision,
    pub outcome: InsertOutcome,
}

impl Service {
    /// Builds the service and checks that `entity_key` is the key the database was started
    /// with: with another key every link to earlier orders would silently break.
    pub async fn new(store: Arc<dyn Store>, entity_key: &[u8], clock: Arc<dyn Clock>) -> ServiceResult<Self> {
        let hasher = EntityHasher::new(entity_key);
        let fingerprint = hex::encode(hasher.hash(riskdesk_domain::EntityKind::Device, "riskdesk key check").hash);
        if store.setting_or_init("entity_key_fingerprint", &fingerprint).await? != fingerprint {
            return Err(ServiceError::EntityKeyMismatch);
        }
        let (s1, s2, s3) = (store.clone(), store.clone(), store.clone());
        let (orders, screened) = match store.blocking_writer() {
            Some(w) => {
                let (w2, idle1, idle2) = (w.clone(), w.clone(), w.clone());
                let cannot_start =
                    |e: std::io::Error| StoreError::Database(format!("cannot start the order writer: {e}"));
                let orders = batcher::Batcher::spawn_thread(
                    "orders",
                    Arc::new(move |batch: Vec<NewOrder>| w.insert_orders(&batch)),
                    Arc::new(move || idle1.idle()),
                )
                .map_err(cannot_start)?;
                let screened = batcher::Batcher::spawn_thread(
                    "screened_orders",
                    Arc::new(move |batch: Vec<ToScreen>| w2.screen_orders(batch)),
                    Arc::new(move || idle2.idle()),
                )
                .map_err(cannot_start)?;
                (orders, screened)
            }
            None => (
                batcher::Batcher::spawn(
                    "orders",
                    Arc::new(move |batch: Vec<NewOrder>| {
                        let store = s1.clone();
                        Box::pin(async move { store.insert_orders(&batch).await })
                    }),
                ),
                batcher::Batcher::spawn(
                    "screened_orders",
                    Arc::new(move |batch: Vec<ToScreen>| {
                        let store = s3.clone();
                        Box::pin(async move { store.screen_orders(batch).await })
                    }),
                ),
            ),
        };
        let events = batcher::Batcher::spawn(
            "events",
            Arc::new(move |batch: Vec<NewEvent>| {
                let store = s2.clone();
                Box::pin(async move { store.insert_events(&batch).await })
            }),
        );
        let screener = Arc::new(screening::Screener::new(store.clone()));
        screener.refresh().await?;
        if screener.live().is_none() && store.rulesets().await?.is_empty() {
            screener.install_starter_pack(clock.now()).await?;
        }
        screener.spawn_poller();
        Ok(Self {
            store,
            hasher,
            clock,
            api_keys: Arc::new(access::KeyCache::default()),
            orders,
            screened,
            events,
            screener,
            webhooks: Arc::default(),
            audit_key: Arc::new(audit_key(entity_key)),
            settings: Arc::default(),
            frames: Arc::default(),
        })
    }

    pub(crate) fn audit_key(&self) -> &[u8] {
        &self.audit_key[..]
    }

    pub fn settings(&self) -> settings::Settings {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_settings(&self, cfg: settings::Settings) {
        self.screener.set_return_window(cfg.disputes.returns);
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = cfg;
    }

    pub fn screener(&self) -> &Arc<screening::Screener> {
        &self.screener
    }

    /// Sets the webhook endpoints (validated) that decisions are announced to.
    pub fn set_webhooks(&self, hooks: webhooks::Webhooks) -> ServiceResult<()> {
        for e in &hooks.endpoints {
            e.validate().map_err(ServiceError::Invalid)?;
        }
        *self.webhooks.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(hooks);
        Ok(())
    }

    pub fn webhooks(&self) -> webhooks::SharedWebhooks {
        self.webhooks.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether the database answers, and which backend it is.
    pub async fn health(&self) -> ServiceResult<&'static str> {
        self.store.ping().await?;
        Ok(self.store.backend())
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The same service reading another clock (the demo's history, replays).
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self.clone() }
    }

    pub fn hasher(&self) -> &EntityHasher {
        &self.hasher
    }

    /// Hashes the order's entities and attaches its answer.
    pub fn prepare(&self, order: Order, decision: Option<Decision>) -> NewOrder {
        let entities: Vec<EntityKey> = order.entities().iter().map(|e| self.hasher.key_of(e)).collect();
        let body = OrderBody::packed(&order);
        NewOrder { order, body, entities, received_at: self.clock.now(), decision, shadow: None, outbox: Vec::new() }
    }

    /// Screens and stores one order with its decision (and the shadow set's), in one
    /// transaction. A repeated order id stores nothing and returns the first answer again.
    #[tracing::instrument(skip_all, fields(order_id = %order.order_id))]
    pub async fn submit_order(&self, _cap: &Intake, order: Order) -> ServiceResult<Submitted> {
        let id = order.order_id.clone();
        let customer = order.customer.customer_id.clone();
        let mut new = self.prepare(order, None);
        let hooks = self.webhooks();
        let plan = if self.store.screens_in_writer() {
            self.screener.plan(&new.order, &new.entities, new.order.placed_at.timestamp_millis())
        } else {
            None
        };
        let (outcome, decision) = match plan {
            // Judged inside the write transaction (see `Store::screen_orders`).
            Some(plan) => {
                let query = plan.query.clone();
                let judge = Box::new(move |rows: &ScreeningRows, new: &mut NewOrder| {
                    let decided = plan.decide(&new.order, &new.entities, rows, new.received_at);
                    attach_decision(new, decided, &hooks);
                });
                let (outcome, judged) = self.screened.submit(ToScreen { query, order: new, judge }).await??;
                (outcome, judged.decision)
            }
            None => {
                let decided = self.screener.decide(&new.order, &new.entities, new.received_at).await?;
                attach_decision(&mut new, decided, &hooks);
                let decision = new.decision.clone();
                (self.orders.submit(new).await?, decision)
            }
        };
        let decision = decision.ok_or_else(|| StoreError::Screening(format!("order {id} was not judged")))?;
        let decision = match outcome {
            InsertOutcome::Inserted => decision,
            // Imported history has no decision: then answer as if decided now, storing nothing.
            InsertOutcome::Duplicate => self.store.first_decision(&id).await?.unwrap_or(decision),
        };
        if outcome == InsertOutcome::Inserted {
            self.open_case_after_screening(&customer, &decision);
        }
        Ok(Submitted { decision, outcome })
    }

    /// Stores a batch of historical orders without screening them (import, demo).
    pub async fn import_orders(&self, _cap: &Intake, orders: Vec<Order>) -> ServiceResult<Vec<InsertOutcome>> {
        let batch: Vec<NewOrder> = orders.into_iter().map(|o| self.prepare(o, None)).collect();
        Ok(self.store.insert_orders(&batch).await?)
    }

    /// Stores prepared orders as they are (import pipelines hash in parallel, then write).
    pub async fn import_prepared(&self, _cap: &Intake, batch: &[NewOrder]) -> ServiceResult<Vec<InsertOutcome>> {
        Ok(self.store.insert_orders(batch).await?)
    }

    /// As [`Service::import_prepared`], on the calling thread where the store writes on a thread
    /// of its own (SQLite's [`riskdesk_store::BlockingWriter`]): the batch is written where it
    /// lies instead of copied for another thread (a million imported orders spent about 4 % of
    /// all CPU on that copy and on freeing it). Call from a blocking thread (`spawn_blocking`),
    /// never from a runtime worker.
    pub fn import_prepared_blocking(&self, cap: &Intake, batch: &[NewOrder]) -> ServiceResult<Vec<InsertOutcome>> {
        match self.store.blocking_writer() {
            Some(writer) => {
                let out = writer.insert_orders(batch);
                // The next batch may be a while: let other writers have their turn meanwhile.
                writer.idle();
                Ok(out?)
            }
            None => tokio::runtime::Handle::current().block_on(self.import_prepared(cap, batch)),
        }
    }

    #[tracing::instrument(skip_all, fields(event_id = %event.event_id, event_type = %event.event_type))]
    pub async fn submit_event(&self, _cap: &Intake, event: Event) -> ServiceResult<InsertOutcome> {
        self.record_event(event).await
    }

    /// Stores an event and re-screens what it changes; also for events riskdesk derives itself
    /// (a provider's chargeback on its order).
    pub(crate) async fn record_event(&self, event: Event) -> ServiceResult<InsertOutcome> {
        let outcome = self.events.submit(NewEvent { event: event.clone(), received_at: self.clock.now() }).await?;
        if outcome == InsertOutcome::Inserted {
            self.rescreen_after(&event).await?;
        }
        Ok(outcome)
    }

    pub async fn import_events(&self, _cap: &Intake, events: Vec<Event>) -> ServiceResult<Vec<InsertOutcome>> {
        let now = self.clock.now();
        let batch: Vec<NewEvent> = events.into_iter().map(|event| NewEvent { event, received_at: now }).collect();
        Ok(self.store.insert_events(&batch).await?)
    }

    pub async fn order(&self, _cap: &ReadAccess, id: &OrderId) -> ServiceResult<Option<StoredOrder>> {
        Ok(self.store.get_order(id).await?)
    }

    pub async fn customer(&self, _cap: &ReadAccess, id: &CustomerId) -> ServiceResult<Option<StoredCustomer>> {
        Ok(self.store.get_customer(id, 200).await?)
    }

    /// Other accounts that share any entity with this one, per entity.
    pub async fn linked_accounts(
        &self,
        _cap: &ReadAccess,
        id: &CustomerId,
    ) -> ServiceResult<Vec<(EntityKey, Vec<EntityUse>)>> {
        let mut out = Vec::new();
        for key in self.store.entities_of(id).await? {
            let uses: Vec<EntityUse> =
                self.store.accounts_sharing(&key).await?.into_iter().filter(|u| &u.customer_id != id).collect();
            if !uses.is_empty() {
                out.push((key, uses));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;

/// Gives a screened order its decision, the shadow set's, and the webhook messages announcing it.
fn attach_decision(new: &mut NewOrder, decided: screening::Decided, hooks: &webhooks::Webhooks) {
    new.outbox = webhooks::messages_for(&hooks.endpoints, "order.decided", &decided.decision, new.received_at);
    new.decision = Some(decided.decision);
    new.shadow = decided.shadow;
}

/// The audit-chain key: an HMAC of a fixed label under the entity key, so that one secret
/// outside the database serves both and neither can be derived from the other's use.
fn audit_key(entity_key: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(entity_key).expect("HMAC takes keys of any length");
    mac.update(b"riskdesk audit chain v1");
    mac.finalize().into_bytes().into()
}
