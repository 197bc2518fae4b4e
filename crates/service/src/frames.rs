//! The backtest frame index: every stored order's features as of its own time, in compact
//! columns ([`Column`]), built by one replay of the history and kept in memory. A backtest then
//! only evaluates the rule sets on these columns, on every core, instead of replaying history.
//! For history in time order it gives the same numbers as a replay (a test compares them),
//! because the columns hold exactly the values a replay puts into each frame.
//!
//! The index keeps the replay's state after its last order, so orders and events stored since
//! (read by storage position) are appended: replayed on that state, exactly as a full replay
//! would, when they come later in time than what the index holds. Something earlier in time
//! (an order placed before the newest one held, an event dated before it) is replayed on the
//! state as it stands, which a full replay would not do; such rows are counted and reported, and
//! past one in a hundred rows the index is built again. When list entries change, only the list columns are computed again, from each
//! order's list probe kept beside the columns. The index is built again when a set reads a fact
//! it did not compute (it then computes its old facts plus the new ones), when more than
//! [`APPEND_LIMIT`] orders arrived, or when the stored totals disagree with what it holds.

use crate::replay::Replay;
use crate::rules::{Backtest, LoadedHistory, Tally};
use crate::screening::lists::{ListIndex, Probe};
use chrono::FixedOffset;
use rayon::prelude::*;
use riskdesk_domain::{EntityKey, EventType};
use riskdesk_rules::column::Column;
use riskdesk_rules::features::{attribute_value, fill_order};
use riskdesk_rules::needs::Need;
use riskdesk_rules::schema::{VARS, Var};
use riskdesk_rules::{RuleSet, Scratch, Value};
use riskdesk_store::{HistorySize, ReplayEvent};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// Shop attributes get a column each up to this many names; beyond it only the names a rule
/// asked for when the index was built (an attacker inventing names must not exhaust memory).
const MAX_ATTRIBUTE_COLUMNS: usize = 32;

/// Orders judged per task; tallies of consecutive stretches merge in time order.
const CHUNK: usize = 16_384;

/// More new orders than this and the index is built again rather than appended to.
pub const APPEND_LIMIT: i64 = 200_000;

/// One in this many rows out of time order and the index is built again.
const APPROXIMATE_SHARE: usize = 100;

pub(crate) const OUTCOMES: [&str; 3] = ["unlabelled", "fraud", "legit"];
const FRAUD: u8 = 1;
const LEGIT: u8 = 2;

/// The outcome an event gives its order, if any ([`merge`]: fraud wins over legit).
pub(crate) fn label(e: &ReplayEvent) -> u8 {
    match e.event_type {
        EventType::FraudConfirmed | EventType::ChargebackReceived => FRAUD,
        EventType::LegitConfirmed => LEGIT,
        _ => 0,
    }
}

pub(crate) fn merge(a: u8, b: u8) -> u8 {
    if a == FRAUD || b == FRAUD { FRAUD } else { a.max(b) }
}

/// How a backtest came by its index.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Freshness {
    pub built: bool,
    pub lists_refreshed: bool,
    pub appended_orders: usize,
    pub appended_events: usize,
    /// Seconds spent bringing an existing index up to date (reading and appending, lists).
    pub update_seconds: f64,
}

pub struct Frames {
    /// The replay's state after the last order, to append more.
    replay: Replay,
    replayed: Vec<Need>,
    asked: BTreeSet<String>,
    lists: Arc<ListIndex>,
    fixed: Vec<Column>,
    needs: HashMap<Need, usize>,
    dynamic: Vec<Column>,
    attributes: HashMap<String, Column>,
    /// Some attribute names got no column (see [`MAX_ATTRIBUTE_COLUMNS`]).
    attributes_capped: bool,
    empty: Column,
    /// When each order was placed, with its offset (examples show it as sent).
    placed: Vec<chrono::DateTime<FixedOffset>>,
    /// The latest (time, order id) held, to tell what arrives out of time order.
    newest: Option<(i64, String)>,
    approximate: usize,
    /// Events later than every order held: applied before the first order after them.
    held: Vec<ReplayEvent>,
    /// Events of earlier deltas that named an order not stored then, by that order's id.
    orphans: HashMap<String, Vec<ReplayEvent>>,
    outcomes: Vec<u8>,
    /// What lists match each order by besides the columns: the entities lists know, flat (order
    /// `i` owns `probe_entities[probe_at[i]..probe_at[i + 1]]`), and the e-mail domain.
    probe_entities: Vec<EntityKey>,
    probe_at: Vec<u32>,
    probe_domain: Column,
    /// Labels of orders the index does not hold (yet).
    pending: HashMap<String, u8>,
    /// Highest storage positions held, and how many events.
    pub orders_pos: i64,
    pub events_pos: i64,
    events: i64,
    pub load_seconds: f64,
    pub build_seconds: f64,
}

impl Frames {
    /// Replays `history` once and records every order's fixed variables, the dynamic facts in
    /// `needs` and all shop attributes.
    pub fn build(
        history: &LoadedHistory,
        needs: BTreeSet<Need>,
        lists: Arc<ListIndex>,
        return_window: riskdesk_domain::disputes::returns::Thresholds,
    ) -> Self {
        let started = Instant::now();
        let asked: BTreeSet<String> =
            needs.iter().filter_map(|n| if let Need::Attribute(a) = n { Some(a.clone()) } else { None }).collect();
        let replayed: Vec<Need> = needs.into_iter().filter(|n| !matches!(n, Need::Attribute(_))).collect();
        let mut f = Frames {
            replay: Replay::for_needs(replayed.clone(), lists.clone()).with_return_window(return_window),
            fixed: VARS.iter().map(|_| Column::default()).collect(),
            dynamic: replayed.iter().map(|_| Column::default()).collect(),
            needs: replayed.iter().cloned().enumerate().map(|(i, n)| (n, i)).collect(),
            replayed,
            asked,
            lists,
            attributes: HashMap::new(),
            attributes_capped: false,
            empty: Column::default(),
            placed: Vec::new(),
            newest: None,
            approximate: 0,
            held: Vec::new(),
            orphans: HashMap::new(),
            outcomes: Vec::new(),
            probe_entities: Vec::new(),
            probe_at: vec![0],
            probe_domain: Column::default(),
            pending: HashMap::new(),
            orders_pos: 0,
            events_pos: 0,
            events: 0,
            load_seconds: history.load_seconds,
            build_seconds: 0.0,
        };
        f.append(history);
        f.build_seconds = started.elapsed().as_secs_f64();
        f
    }

    /// Adds orders and events stored after what the index holds (`history` by time).
    pub fn append(&mut self, history: &LoadedHistory) {
        // Labels first: they may name orders of this batch, or older ones.
        for e in &history.events {
            let l = label(e);
            let Some(id) = e.order_id.as_deref().filter(|_| l != 0) else { continue };
            match self.row_of(id) {
                Some(row) => self.outcomes[row] = merge(self.outcomes[row], l),
                None => {
                    let p = self.pending.entry(id.to_owned()).or_default();
                    *p = merge(*p, l);
                }
            }
        }
        // Events not yet applied: those held back from earlier appends (later than every order
        // then), the new ones, and those of earlier deltas that named an order not stored then,
        // whose account the store has since filled in (it updates them in place).
        let mut events: Vec<ReplayEvent> = std::mem::take(&mut self.held);
        for o in &history.orders {
            if let Some(waiting) = self.orphans.remove(o.order.order_id.as_str()) {
                let customer = o.order.customer.customer_id.to_string();
                events.extend(waiting.into_iter().map(|mut e| {
                    e.customer_id = Some(customer.clone());
                    e
                }));
            }
        }
        let ids: std::collections::HashSet<&str> = history.orders.iter().map(|o| o.order.order_id.as_str()).collect();
        for e in &history.events {
            match (&e.customer_id, &e.order_id) {
                (None, Some(id)) if self.row_of(id).is_none() && !ids.contains(id.as_str()) => {
                    self.orphans.entry(id.clone()).or_default().push(e.clone());
                }
                _ => events.push(e.clone()),
            }
        }
        events.sort_by_key(|e| e.at_ms);
        let newest = self.newest.clone();
        let mut buf = vec![Value::Null; VARS.len()];
        let mut ev = events.into_iter().peekable();
        for o in &history.orders {
            let order = &o.order;
            let i = self.placed.len();
            let at = order.placed_at.timestamp_millis();
            while let Some(e) = ev.next_if(|e| e.at_ms < at) {
                // An event before an order the index held already changes that order's facts
                // in a full replay; here it counts from now on.
                self.approximate += usize::from(newest.as_ref().is_some_and(|(n, _)| e.at_ms < *n));
                self.replay.event(&e);
            }
            let key = (at, order.order_id.to_string());
            self.approximate += usize::from(newest.as_ref().is_some_and(|n| key <= *n));
            let facts = self.replay.facts(order, &o.entities);
            fill_order(order, &facts.history, &facts.cluster, &mut buf);
            for (c, v) in self.fixed.iter_mut().zip(buf.iter_mut()) {
                c.push(std::mem::take(v));
            }
            debug_assert_eq!(self.row_of(order.order_id.as_str()), Some(i), "order ids are unique");
            for (c, v) in self.dynamic.iter_mut().zip(facts.dynamic) {
                c.push(v);
            }
            for (name, a) in &order.attributes {
                if !self.attributes.contains_key(name) {
                    if self.attributes.len() >= MAX_ATTRIBUTE_COLUMNS && !self.asked.contains(name) {
                        self.attributes_capped = true;
                        continue;
                    }
                    self.attributes.insert(name.clone(), Column::nulls(i));
                }
                if let Some(c) = self.attributes.get_mut(name) {
                    c.push(attribute_value(a));
                }
            }
            for c in self.attributes.values_mut() {
                if c.len() == i {
                    c.push(Value::Null);
                }
            }
            self.placed.push(order.placed_at);
            self.outcomes.push(self.pending.remove(order.order_id.as_str()).unwrap_or(0));
            self.probe_entities.extend(o.entities.iter().filter(|e| Probe::kind_of(e.kind).is_some()));
            self.probe_at.push(self.probe_entities.len() as u32);
            let domain = order.customer.email.as_ref().map(|e| Probe::domain(e.domain()));
            self.probe_domain.push(Value::opt_str(domain));
            if self.newest.as_ref().is_none_or(|n| key > *n) {
                self.newest = Some(key);
            }
        }
        // Events at or after the newest order wait for the orders after them, as in a replay.
        self.held = ev.collect();
        self.orders_pos = self.orders_pos.max(history.orders_pos);
        self.events_pos = self.events_pos.max(history.events_pos);
        self.events += history.events.len() as i64;
    }

    /// The row of an order id. Ids are unique (the stores' primary key) and each order is
    /// appended once, so an id's dictionary index in the id column is its row.
    fn row_of(&self, id: &str) -> Option<usize> {
        self.fixed[Var::OrderId.slot()].id_of(id).map(|r| r as usize)
    }

    /// Orders and events appended out of time order since the last build: their facts (or the
    /// facts of orders they precede) are not a replay's. Past [`APPROXIMATE_SHARE`] of the
    /// index, the next backtest builds it again.
    pub fn approximate(&self) -> usize {
        self.approximate
    }

    /// Whether so much arrived out of order that the index should be built again.
    pub fn too_approximate(&self) -> bool {
        self.approximate * APPROXIMATE_SHARE > self.len().max(1)
    }

    /// Whether it holds exactly the stored history of these totals.
    pub fn holds_all(&self, size: HistorySize) -> bool {
        size.orders == self.len() as i64 && size.events == self.events
    }

    pub fn len(&self) -> usize {
        self.placed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.placed.is_empty()
    }

    /// The facts it holds, to carry over into the next build.
    pub fn needs(&self) -> impl Iterator<Item = Need> + '_ {
        self.replayed.iter().cloned().chain(self.asked.iter().cloned().map(Need::Attribute))
    }

    /// Whether it holds every fact in `needs`.
    pub fn fits(&self, needs: &BTreeSet<Need>) -> bool {
        needs.iter().all(|n| self.holds(n))
    }

    /// Whether its list columns were computed with these entries.
    pub fn lists_are(&self, lists: &Arc<ListIndex>) -> bool {
        Arc::ptr_eq(&self.lists, lists)
    }

    /// Computes the list columns again with other entries (valid as of each order's time, as
    /// the replay does), and appends with them from now on.
    pub fn refresh_lists(&mut self, lists: Arc<ListIndex>) {
        let specs: Vec<(usize, riskdesk_rules::needs::ListSpec)> = self
            .replayed
            .iter()
            .enumerate()
            .filter_map(|(i, n)| if let Need::List(spec) = n { Some((i, *spec)) } else { None })
            .collect();
        let n = self.len();
        let chunks: Vec<Vec<Vec<bool>>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| {
                let mut out = vec![Vec::with_capacity(CHUNK); specs.len()];
                for i in k * CHUNK..((k + 1) * CHUNK).min(n) {
                    let probe = self.probe(i);
                    let at = self.placed[i].timestamp_millis();
                    for (col, (_, spec)) in out.iter_mut().zip(&specs) {
                        col.push(lists.matches(*spec, &probe, at));
                    }
                }
                out
            })
            .collect();
        for (j, (slot, _)) in specs.iter().enumerate() {
            let mut c = Column::default();
            for chunk in &chunks {
                for &b in &chunk[j] {
                    c.push(Value::Bool(b));
                }
            }
            self.dynamic[*slot] = c;
        }
        self.replay.set_lists(lists.clone());
        self.lists = lists;
    }

    fn probe(&self, i: usize) -> Probe {
        let (a, b) = (self.probe_at[i] as usize, self.probe_at[i + 1] as usize);
        let text = |v: Var| self.fixed[v.slot()].str_at(i);
        Probe::from_parts(
            &self.probe_entities[a..b],
            self.probe_domain.str_at(i).map(str::to_owned),
            text(Var::CardBin).map(str::to_owned),
            text(Var::CustomerId).unwrap_or_default(),
            text(Var::Ip).and_then(|ip| ip.parse().ok()),
        )
    }

    fn holds(&self, need: &Need) -> bool {
        match need {
            // Asked-for attributes always get a column; others only below the cap.
            Need::Attribute(a) => self.attributes.contains_key(a) || self.asked.contains(a) || !self.attributes_capped,
            n => self.needs.contains_key(n),
        }
    }

    /// Approximate memory held, in bytes.
    pub fn heap_bytes(&self) -> usize {
        let cols: usize =
            self.fixed.iter().chain(&self.dynamic).chain(self.attributes.values()).map(Column::heap_bytes).sum();
        cols + self.placed.capacity() * std::mem::size_of::<chrono::DateTime<FixedOffset>>()
            + self.outcomes.capacity()
            + self.probe_entities.capacity() * std::mem::size_of::<EntityKey>()
            + self.probe_at.capacity() * 4
            + self.probe_domain.heap_bytes()
    }

    /// The column behind each slot `set` reads.
    fn reads<'a>(&'a self, set: &RuleSet) -> Vec<(usize, &'a Column)> {
        set.read_slots()
            .into_iter()
            .map(|slot| {
                let s = slot as usize;
                let col = match s.checked_sub(VARS.len()).map(|d| &set.needs()[d]) {
                    None => &self.fixed[s],
                    Some(Need::Attribute(a)) => self.attributes.get(a).unwrap_or(&self.empty),
                    Some(n) => self.needs.get(n).map_or(&self.empty, |&i| &self.dynamic[i]),
                };
                (s, col)
            })
            .collect()
    }

    fn placed_at(&self, i: usize) -> String {
        self.placed[i].to_rfc3339()
    }

    /// Judges every order with the candidate (and the live set beside it) and tallies as
    /// [`crate::rules::run_backtest`] does. The caller checked [`Frames::fits`].
    pub fn backtest(
        &self,
        candidate: &(Option<i64>, Arc<RuleSet>),
        live: Option<&(i64, Arc<RuleSet>)>,
        truth: Option<&HashMap<String, String>>,
        freshness: Freshness,
    ) -> Backtest {
        let started = Instant::now();
        let cset = &*candidate.1;
        let creads = self.reads(cset);
        let lreads = live.map(|(_, l)| self.reads(l));
        let ids = &self.fixed[Var::OrderId.slot()];
        let n = self.len();
        let tallies: Vec<Tally> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| {
                let mut tally = Tally::new(candidate, live.map(|l| l.0));
                let mut cframe = vec![Value::Null; cset.frame_len()];
                let mut lframe = live.map_or_else(Vec::new, |(_, l)| vec![Value::Null; l.frame_len()]);
                let (mut cs, mut ls) = (Scratch::default(), Scratch::default());
                for i in k * CHUNK..((k + 1) * CHUNK).min(n) {
                    for (s, c) in &creads {
                        cframe[*s] = c.get(i);
                    }
                    cset.evaluate_into(&cframe, &mut cs);
                    let (verdict, score) = cset.verdict(&cs.hits);
                    let lv = live.zip(lreads.as_ref()).map(|((_, l), reads)| {
                        for (s, c) in reads {
                            lframe[*s] = c.get(i);
                        }
                        l.evaluate_into(&lframe, &mut ls);
                        l.verdict(&ls.hits).0
                    });
                    let id = ids.str_at(i).unwrap_or_default();
                    let outcome = OUTCOMES[usize::from(self.outcomes[i])];
                    let pattern = truth.and_then(|t| t.get(id)).map(String::as_str);
                    tally.add(cset, id, || self.placed_at(i), outcome, pattern, (verdict, score, &cs.hits), lv);
                }
                tally
            })
            .collect();
        let mut total = Tally::new(candidate, live.map(|l| l.0));
        for t in tallies {
            total.merge(t);
        }
        let load = if freshness.built { self.load_seconds + self.build_seconds } else { freshness.update_seconds };
        let mut out = total.finish(cset, load, started.elapsed().as_secs_f64());
        out.index = Some(crate::rules::IndexUse {
            built: freshness.built,
            lists_refreshed: freshness.lists_refreshed,
            appended_orders: freshness.appended_orders as u64,
            appended_events: freshness.appended_events as u64,
            approximate_rows: self.approximate as u64,
            orders: n as u64,
            memory_bytes: self.heap_bytes() as u64,
            build_seconds: self.build_seconds,
        });
        out
    }
}
