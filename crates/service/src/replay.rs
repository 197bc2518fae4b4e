//! Replay: screening history again, in time order, entirely in memory. Backtests, `riskdesk
//! score` and `riskdesk eval` run on it. For each order it rebuilds the facts live screening
//! would have had at that moment (the account's history from earlier orders and events,
//! windowed rows per entity, the inviter's invitees, list entries valid then) and hands them to
//! the same feature and velocity code, so a backtest judges a rule set as live screening would.

use crate::screening::lists::{ListIndex, Probe};
use crate::screening::returns;
use crate::screening::{current, decision_of};
use chrono::{DateTime, Utc};
use riskdesk_domain::disputes::returns::{ReturnTrail, Thresholds};
use riskdesk_domain::{Decision, EntityKey, EntityKind, EventType, Order};
use riskdesk_rules::Value;
use riskdesk_rules::clusters::Clusters;
use riskdesk_rules::features::build_frame;
use riskdesk_rules::features::{Facts, History};
use riskdesk_rules::needs::{Need, ReadPlan, Subject};
use riskdesk_rules::velocity::{self, UseRow};
use riskdesk_rules::{RuleSet, Scratch};
use riskdesk_store::ReplayEvent;
use riskdesk_store::codec::add_event_to_history;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

#[derive(Default)]
struct Account {
    history: History,
    /// Earlier orders within the novelty window (or the longest customer velocity window).
    orders: VecDeque<Arc<UseRow>>,
    /// Kept only when some rule reads the return trail.
    trail: ReturnTrail,
}

/// A set's judgement of one order, without reason text.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub verdict: riskdesk_domain::Verdict,
    pub score: u8,
    /// Indices of the rules that fired, into the set's rules.
    pub hits: Vec<usize>,
}

pub struct Replay {
    sets: Vec<(i64, Arc<RuleSet>)>,
    /// The dynamic facts to build for each order: one list per set, or one for a feature index.
    groups: Vec<Vec<Need>>,
    lists: Arc<ListIndex>,
    accounts: HashMap<String, Account>,
    /// Windowed uses per entity of the kinds some rule counts over.
    /// Rows are shared between an order's entities and its account: one allocation per order
    /// (atomically counted, so a replay's state can live in the shared backtest index).
    uses: HashMap<EntityKey, VecDeque<Arc<UseRow>>>,
    kinds: Vec<(EntityKind, i64, bool)>,
    customer_window: i64,
    invitees: HashMap<String, HashSet<String>>,
    clusters: Clusters,
    /// Whether some rule reads the return trail, and the return window it counts with.
    tracks_returns: bool,
    return_window: Thresholds,
}

impl Replay {
    /// `sets` are judged side by side on the same history (version numbers label the results).
    pub fn new(sets: Vec<(i64, Arc<RuleSet>)>, lists: Arc<ListIndex>) -> Self {
        let groups = sets.iter().map(|(_, s)| s.needs().to_vec()).collect();
        Self::with(sets, groups, lists)
    }

    /// A replay that builds facts for `needs` instead of judging sets ([`Replay::facts`]).
    pub fn for_needs(needs: Vec<Need>, lists: Arc<ListIndex>) -> Self {
        Self::with(Vec::new(), vec![needs], lists)
    }

    fn with(sets: Vec<(i64, Arc<RuleSet>)>, groups: Vec<Vec<Need>>, lists: Arc<ListIndex>) -> Self {
        let plan = ReadPlan::of(groups.iter().flatten());
        let (kinds, customer_window) = (plan.entities, plan.customer_window_ms);
        let tracks_returns = returns::wanted(groups.iter().flatten());
        Self {
            sets,
            groups,
            lists,
            accounts: HashMap::new(),
            uses: HashMap::new(),
            kinds,
            customer_window,
            invitees: HashMap::new(),
            clusters: Clusters::default(),
            tracks_returns,
            return_window: Thresholds::default(),
        }
    }

    /// Counts `customer.late_returns` with this return window (live screening's, from
    /// [`crate::screening::Screener::return_window`]).
    pub fn with_return_window(mut self, t: Thresholds) -> Self {
        self.return_window = t;
        self
    }

    /// Matches lists with other entries from now on.
    pub fn set_lists(&mut self, lists: Arc<ListIndex>) {
        self.lists = lists;
    }

    /// Applies an event; call for every event that occurred before the next order.
    pub fn event(&mut self, e: &ReplayEvent) {
        if let Some(c) = &e.customer_id {
            let acc = self.accounts.entry(c.clone()).or_default();
            add_event_to_history(&mut acc.history, e.event_type, 1, e.at_ms);
            if self.tracks_returns {
                returns::add(&mut acc.trail, e, &self.return_window);
            }
            let fraud = e.event_type == EventType::FraudConfirmed;
            let chargeback = e.event_type == EventType::ChargebackReceived;
            if fraud || chargeback {
                self.clusters.flag(c, fraud, chargeback);
            }
        }
    }

    /// Screens one order with every set, then records it into the history.
    pub fn order(&mut self, order: &Order, entities: &[EntityKey]) -> Vec<Decision> {
        let decided_at = DateTime::<Utc>::from(order.placed_at);
        let mut out = Vec::with_capacity(self.sets.len());
        let sets = std::mem::take(&mut self.sets);
        self.step(order, entities, |i, facts| {
            if let Some((version, set)) = sets.get(i) {
                out.push(decision_of(order, set, *version, facts, decided_at));
            }
        });
        self.sets = sets;
        out
    }

    /// The facts of the needs given to [`Replay::for_needs`] for one order (as of its time),
    /// then records the order into the history.
    pub fn facts(&mut self, order: &Order, entities: &[EntityKey]) -> Facts {
        let mut out = Facts::default();
        self.step(order, entities, |_, facts| out = facts.clone());
        out
    }

    /// Screens one order with every set without building decisions: verdict, score and the
    /// indices of the rules that fired (backtests need no reason text).
    pub fn judge(&mut self, order: &Order, entities: &[EntityKey], scratch: &mut Scratch) -> Vec<Judged> {
        let mut out = Vec::with_capacity(self.sets.len());
        let mut frame = Vec::new();
        let sets = std::mem::take(&mut self.sets);
        self.step(order, entities, |i, facts| {
            let Some((_, set)) = sets.get(i) else { return };
            build_frame(order, facts, set, &mut frame);
            let (verdict, score) = set.evaluate_recorded(&frame, scratch);
            out.push(Judged { verdict, score, hits: scratch.hits.clone() });
        });
        self.sets = sets;
        out
    }

    /// Builds each group's facts for the order (as of its time), hands them to `judge` with the
    /// group's index, then adds the order to the history.
    fn step(&mut self, order: &Order, entities: &[EntityKey], mut judge: impl FnMut(usize, &Facts)) {
        let at = order.placed_at.timestamp_millis();
        let cust = order.customer.customer_id.as_str();
        let cur = current(order, entities);
        if !self.accounts.contains_key(cust) {
            self.accounts.insert(cust.to_owned(), Account::default());
        }
        let acc = self.accounts.get_mut(cust).unwrap_or_else(|| unreachable!("inserted above"));
        while acc.orders.front().is_some_and(|r| r.at_ms < at - self.customer_window) {
            acc.orders.pop_front();
        }
        let customer_rows = &acc.orders;
        let mut history = acc.history.clone();
        if let Some(inviter) = &order.customer.invited_by {
            let others = self.invitees.get(inviter.as_str()).map_or(0, |s| s.len() - usize::from(s.contains(cust)));
            history.inviter_invites = others as i64 + 1;
        }
        history.new_device = velocity::is_new(EntityKind::Device, &cur, customer_rows.iter().map(|r| &**r));
        history.new_shipping_address =
            velocity::is_new(EntityKind::ShippingAddress, &cur, customer_rows.iter().map(|r| &**r));
        for (kind, window, _) in &self.kinds {
            if let Some(key) = entities.iter().find(|e| e.kind == *kind)
                && let Some(q) = self.uses.get_mut(key)
            {
                while q.front().is_some_and(|r| r.at_ms < at - window) {
                    q.pop_front();
                }
            }
        }
        let cluster = self.clusters.facts(cust, entities);
        let wants_lists = self.groups.iter().flatten().any(|n| matches!(n, Need::List(_)));
        let probe = wants_lists.then(|| Probe::of(order, entities));
        let empty = VecDeque::new();
        for (i, needs) in self.groups.iter().enumerate() {
            let dynamic = needs
                .iter()
                .map(|need| match need {
                    Need::Velocity(v) => match v.subject {
                        Subject::Customer => velocity::aggregate(v, &cur, customer_rows.iter().map(|r| &**r)),
                        Subject::Entity(k) => {
                            let rows = entities
                                .iter()
                                .find(|e| e.kind == k)
                                .and_then(|key| self.uses.get(key))
                                .unwrap_or(&empty);
                            velocity::aggregate(v, &cur, rows.iter().map(|r| &**r))
                        }
                    },
                    Need::List(spec) => Value::Bool(probe.as_ref().is_some_and(|p| self.lists.matches(*spec, p, at))),
                    Need::Attribute(_) => Value::Null,
                    Need::Returns(f) => returns::value(*f, &acc.trail, &history, order),
                })
                .collect();
            let facts = Facts { history: history.clone(), cluster, dynamic };
            judge(i, &facts);
        }
        // Record the order for the ones after it.
        let row = Arc::new(UseRow {
            order_id: order.order_id.to_string(),
            customer_id: cust.to_owned(),
            at_ms: at,
            amount_minor: order.total.minor,
            entities: entities.to_vec(),
        });
        for (kind, _, _) in &self.kinds {
            if let Some(key) = entities.iter().find(|e| e.kind == *kind) {
                self.uses.entry(*key).or_default().push_back(row.clone());
            }
        }
        let Some(acc) = self.accounts.get_mut(cust) else { unreachable!("inserted above") };
        acc.history.prior_orders += 1;
        acc.history.prior_spend_minor += order.total.minor;
        acc.orders.push_back(row);
        self.clusters.add(cust, entities);
        if let Some(inviter) = &order.customer.invited_by {
            self.invitees.entry(inviter.to_string()).or_default().insert(cust.to_owned());
        }
    }
}
