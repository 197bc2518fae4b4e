//! Screening: from an order to a decision with the live rule set (and, beside it, the shadow
//! set), using facts read from storage. The rule sets and lists in use are cached per instance
//! and reloaded when the control row in the database changes, so a publish reaches every instance
//! sharing the database within one poll interval.

pub mod lists;
pub mod returns;

use crate::{ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use lists::{ListIndex, Probe};
use riskdesk_domain::disputes::returns::Thresholds;
use riskdesk_domain::{Decision, EntityKey, EntityKind, Order};
use riskdesk_rules::features::{Facts, build_frame};
use riskdesk_rules::needs::{Need, ReadPlan, Subject};
use riskdesk_rules::velocity::{self, Current, UseRow};
use riskdesk_rules::{RuleSet, Scratch, Value};
use riskdesk_store::{ControlChange, ScreeningControl, ScreeningQuery, ScreeningRows, Store};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The rule file a fresh installation publishes as version 1.
pub const STARTER_PACK: &str = include_str!("../../../../rules/starter-fashion.toml");

/// How often each instance checks for a published rule set or changed lists.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct Compiled {
    pub version: i64,
    pub set: Arc<RuleSet>,
}

#[derive(Default)]
struct Active {
    live: Option<Compiled>,
    shadow: Option<Compiled>,
    lists: Arc<ListIndex>,
}

pub struct Screener {
    store: Arc<dyn Store>,
    active: RwLock<Arc<Active>>,
    seen: Mutex<Option<ScreeningControl>>,
    refresh_lock: tokio::sync::Mutex<()>,
    /// Record only: orders are stored and approved unscreened, nothing is re-screened.
    record_only: std::sync::atomic::AtomicBool,
    /// The return window the return-trail variables count with (`[disputes.returns]`).
    returns: RwLock<Thresholds>,
}

/// A decision, and what the shadow set would have decided.
pub struct Decided {
    pub decision: Decision,
    pub shadow: Option<Decision>,
}

impl Screener {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            active: RwLock::new(Arc::new(Active::default())),
            seen: Mutex::new(None),
            refresh_lock: tokio::sync::Mutex::new(()),
            record_only: std::sync::atomic::AtomicBool::new(false),
            returns: RwLock::new(Thresholds::default()),
        }
    }

    /// The return window `customer.late_returns` counts with: the one the return-abuse list uses.
    pub fn set_return_window(&self, t: Thresholds) {
        *self.returns.write().unwrap_or_else(|p| p.into_inner()) = t;
    }

    pub fn return_window(&self) -> Thresholds {
        *self.returns.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Record only (configuration `screening.record_only`): every order is stored and answered
    /// `approve` with score 0, no reasons and rule-set version 0, as with no live rule set, and
    /// events re-screen nothing. For taking in a shop's live traffic before its rules are
    /// trusted, or failing open on purpose; rule sets, backtests and the workspace work as usual.
    pub fn set_record_only(&self, on: bool) {
        self.record_only.store(on, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(record_only = on, "screening mode");
    }

    pub fn record_only(&self) -> bool {
        self.record_only.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn current(&self) -> Arc<Active> {
        self.active.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn live(&self) -> Option<Compiled> {
        self.current().live.clone()
    }

    pub fn shadow(&self) -> Option<Compiled> {
        self.current().shadow.clone()
    }

    pub fn lists(&self) -> Arc<ListIndex> {
        self.current().lists.clone()
    }

    /// Reloads whatever changed since the last look. Cheap when nothing did: one row is read.
    pub async fn refresh(&self) -> ServiceResult<()> {
        let _guard = self.refresh_lock.lock().await;
        let control = self.store.screening_control().await?;
        let before = *self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if before == Some(control) {
            return Ok(());
        }
        let cur = self.current();
        let load = |v: Option<i64>, have: &Option<Compiled>| {
            let store = self.store.clone();
            let have = have.clone();
            async move {
                match v {
                    None => Ok::<_, ServiceError>(None),
                    Some(v) if have.as_ref().is_some_and(|c| c.version == v) => Ok(have),
                    Some(v) => {
                        let rec = store.ruleset(v).await?.ok_or(ServiceError::NotFound("rule set version"))?;
                        // A stored version was validated when saved; failing here means the
                        // catalogue changed under it, which must not stop screening.
                        let set = RuleSet::from_toml(&rec.source).map_err(|e| ServiceError::Invalid(e.to_string()))?;
                        Ok(Some(Compiled { version: v, set: Arc::new(set) }))
                    }
                }
            }
        };
        let live = load(control.live_version, &cur.live).await?;
        let shadow = load(control.shadow_version, &cur.shadow).await?;
        let lists = if before.map(|b| b.lists_seq) == Some(control.lists_seq) {
            cur.lists.clone()
        } else {
            Arc::new(ListIndex::build(&self.store.list_entries().await?))
        };
        if live.as_ref().map(|c| c.version) != cur.live.as_ref().map(|c| c.version) {
            tracing::info!(version = live.as_ref().map(|c| c.version), "live rule set changed");
        }
        *self.active.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Active { live, shadow, lists });
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(control);
        Ok(())
    }

    /// Polls for changes until the process ends.
    pub fn spawn_poller(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(s) = me.upgrade() else { break };
                if let Err(e) = s.refresh().await {
                    tracing::warn!(error = %e, "reloading screening configuration failed");
                }
            }
        });
    }

    /// Installs the starter pack as version 1 on a database that has no rule set yet. Safe when
    /// several instances start at once: only the one whose token is stored installs.
    pub async fn install_starter_pack(&self, now: DateTime<Utc>) -> ServiceResult<bool> {
        let token = ulid::Ulid::new().to_string();
        if self.store.setting_or_init("starter_pack_installer", &token).await? != token {
            return Ok(false);
        }
        let v = self.store.create_ruleset(STARTER_PACK, "riskdesk", "starter pack for fashion e-commerce", now).await?;
        self.store.change_control(ControlChange::Publish(v), "riskdesk", now).await?;
        self.refresh().await?;
        Ok(true)
    }

    /// Screens one order: live decision, and the shadow set's when one runs.
    pub async fn decide(&self, order: &Order, entities: &[EntityKey], now: DateTime<Utc>) -> ServiceResult<Decided> {
        self.decide_knowing(order, entities, now, order.placed_at.timestamp_millis()).await
    }

    /// As [`Screener::decide`], counting the account's events up to `events_until_ms` (now, for a
    /// re-decision after something happened).
    pub async fn decide_knowing(
        &self,
        order: &Order,
        entities: &[EntityKey],
        now: DateTime<Utc>,
        events_until_ms: i64,
    ) -> ServiceResult<Decided> {
        let Some(plan) = self.plan(order, entities, events_until_ms) else {
            return Ok(Decided { decision: Decision::approve_unscreened(order.order_id.clone(), now), shadow: None });
        };
        let rows = self.store.screening_rows(&plan.query).await?;
        Ok(plan.decide(order, entities, &rows, now))
    }

    /// What screening an order takes with the rule sets active now: the reads to make, and
    /// the sets to judge their rows with. `None` when no rule set is live, or when recording only.
    pub fn plan(&self, order: &Order, entities: &[EntityKey], events_until_ms: i64) -> Option<Plan> {
        if self.record_only() {
            return None;
        }
        let active = self.current();
        let live = active.live.clone()?;
        let sets: Vec<&RuleSet> = std::iter::once(&*live.set).chain(active.shadow.as_ref().map(|s| &*s.set)).collect();
        let mut query = query_for(order, entities, &sets);
        query.events_until_ms = events_until_ms;
        // The order's list keys are made only when some rule reads a list.
        let reads_lists = sets.iter().any(|s| s.needs().iter().any(|n| matches!(n, Need::List(_))));
        let probe = reads_lists.then(|| Probe::of(order, entities));
        Some(Plan { active, live, query, probe, returns: self.return_window() })
    }
}

/// The screening of one order, planned: owned, so that it can be carried to wherever the rows
/// are read (into the write transaction on SQLite).
pub struct Plan {
    active: Arc<Active>,
    live: Compiled,
    pub query: ScreeningQuery,
    probe: Option<Probe>,
    returns: Thresholds,
}

impl Plan {
    /// The live set's decision and the shadow set's, from the rows read for [`Plan::query`].
    pub fn decide(&self, order: &Order, entities: &[EntityKey], rows: &ScreeningRows, now: DateTime<Utc>) -> Decided {
        let decide = |c: &Compiled| {
            let facts = facts_for(order, entities, &c.set, &self.query, rows, &self.returns, |spec| {
                self.probe.as_ref().is_some_and(|p| self.active.lists.matches(spec, p, now.timestamp_millis()))
            });
            decision_of(order, &c.set, c.version, &facts, now)
        };
        let decision = decide(&self.live);
        let shadow = self.active.shadow.as_ref().map(decide);
        Decided { decision, shadow }
    }
}

/// The decision of `set` for an order whose facts are known.
pub fn decision_of(order: &Order, set: &RuleSet, version: i64, facts: &Facts, now: DateTime<Utc>) -> Decision {
    let mut frame = Vec::with_capacity(set.frame_len());
    build_frame(order, facts, set, &mut frame);
    let out = set.evaluate(&frame, &mut Scratch::default());
    Decision {
        order_id: order.order_id.clone(),
        decision: out.verdict,
        score: out.score,
        reasons: out.reasons,
        ruleset_version: version,
        decided_at: now,
        not_evaluated: out.not_evaluated,
    }
}

/// What to read for an order, given the rule sets that will judge it.
pub fn query_for(order: &Order, entities: &[EntityKey], sets: &[&RuleSet]) -> ScreeningQuery {
    let at = order.placed_at.timestamp_millis();
    let plan = ReadPlan::of(sets.iter().flat_map(|s| s.needs()));
    let wanted = plan
        .entities
        .iter()
        .filter_map(|&(kind, window, with)| entities.iter().find(|e| e.kind == kind).map(|k| (*k, at - window, with)))
        .collect();
    ScreeningQuery {
        order_id: order.order_id.clone(),
        customer_id: order.customer.customer_id.clone(),
        invited_by: order.customer.invited_by.clone(),
        at_ms: at,
        events_until_ms: at,
        customer_since_ms: at - plan.customer_window_ms,
        entities: wanted,
        all_entities: entities.to_vec(),
        return_trail: returns::wanted(sets.iter().flat_map(|s| s.needs())),
    }
}

/// Facts for one rule set from the rows read for `q`.
pub fn facts_for(
    order: &Order,
    entities: &[EntityKey],
    set: &RuleSet,
    q: &ScreeningQuery,
    rows: &ScreeningRows,
    return_window: &Thresholds,
    mut listed: impl FnMut(riskdesk_rules::needs::ListSpec) -> bool,
) -> Facts {
    let cur = current(order, entities);
    let mut history = rows.history.clone();
    history.new_device = velocity::is_new(EntityKind::Device, &cur, &rows.customer_orders);
    history.new_shipping_address = velocity::is_new(EntityKind::ShippingAddress, &cur, &rows.customer_orders);
    let empty: Vec<UseRow> = Vec::new();
    let trail = returns::wanted(set.needs().iter()).then(|| returns::fold(&rows.return_trail, return_window));
    let dynamic = set
        .needs()
        .iter()
        .map(|need| match need {
            Need::Velocity(v) => {
                let rows_of = match v.subject {
                    Subject::Customer => &rows.customer_orders,
                    Subject::Entity(kind) => q
                        .entities
                        .iter()
                        .position(|w| w.0.kind == kind)
                        .and_then(|i| rows.entity_rows.get(i))
                        .unwrap_or(&empty),
                };
                velocity::aggregate(v, &cur, rows_of)
            }
            Need::List(spec) => Value::Bool(listed(*spec)),
            Need::Attribute(_) => Value::Null,
            Need::Returns(f) => trail.as_ref().map_or(Value::Null, |t| returns::value(*f, t, &history, order)),
        })
        .collect();
    Facts { history, cluster: rows.cluster, dynamic }
}

pub fn current<'a>(order: &'a Order, entities: &'a [EntityKey]) -> Current<'a> {
    Current {
        order_id: order.order_id.as_str(),
        customer_id: order.customer.customer_id.as_str(),
        at_ms: order.placed_at.timestamp_millis(),
        amount_minor: order.total.minor,
        minor_per_major: 10f64.powi(order.total.currency.exponent() as i32),
        entities,
    }
}
