//! The backtest frame index: every stored order's features as of its own time, in compact
//! columns ([`Column`]), built by one replay of the history and kept in memory. A backtest then
//! only evaluates the rule sets on these columns, on every core, instead of replaying history.
//! It gives the same numbers as a replay (a test compares them) because the columns hold exactly
//! the values a replay puts into each frame.
//!
//! The index knows what it was built from: how many orders and events were stored, the list
//! entries, and which dynamic facts (velocity windows, lists, attributes) it computed. When any
//! of that no longer matches, the next backtest builds it again, with every fact it already held
//! plus the new ones, so an analyst's session pays the replay once.

use crate::replay::Replay;
use crate::rules::{Backtest, LoadedHistory, Tally, outcomes};
use crate::screening::lists::ListIndex;
use chrono::{FixedOffset, TimeZone};
use rayon::prelude::*;
use riskdesk_rules::column::Column;
use riskdesk_rules::features::{attribute_value, fill_order};
use riskdesk_rules::needs::Need;
use riskdesk_rules::schema::{VARS, Var};
use riskdesk_rules::{RuleSet, Scratch, Value};
use riskdesk_store::HistorySize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// Shop attributes get a column each up to this many names; beyond it only the names a rule
/// asked for when the index was built (an attacker inventing names must not exhaust memory).
const MAX_ATTRIBUTE_COLUMNS: usize = 64;

/// Orders judged per task; tallies of consecutive stretches merge in time order.
const CHUNK: usize = 16_384;

const OUTCOMES: [&str; 3] = ["unlabelled", "fraud", "legit"];

pub struct Frames {
    /// What was stored when the history was loaded.
    pub size: HistorySize,
    lists: Arc<ListIndex>,
    fixed: Vec<Column>,
    needs: HashMap<Need, usize>,
    dynamic: Vec<Column>,
    attributes: HashMap<String, Column>,
    /// Some attribute names got no column (see [`MAX_ATTRIBUTE_COLUMNS`]).
    attributes_capped: bool,
    empty: Column,
    /// When each order was placed: Unix nanoseconds and its UTC offset in seconds.
    placed: Vec<(i64, i32)>,
    outcomes: Vec<u8>,
    pub load_seconds: f64,
    pub build_seconds: f64,
}

impl Frames {
    /// Replays `history` once and records every order's fixed variables, the dynamic facts in
    /// `needs` and all shop attributes.
    pub fn build(history: &LoadedHistory, size: HistorySize, needs: BTreeSet<Need>, lists: Arc<ListIndex>) -> Self {
        let started = Instant::now();
        let asked: BTreeSet<String> =
            needs.iter().filter_map(|n| if let Need::Attribute(a) = n { Some(a.clone()) } else { None }).collect();
        let replayed: Vec<Need> = needs.into_iter().filter(|n| !matches!(n, Need::Attribute(_))).collect();
        let mut replay = Replay::for_needs(replayed.clone(), lists.clone());
        let labels = outcomes(&history.events);
        let n = history.orders.len();
        let mut fixed: Vec<Column> = VARS.iter().map(|_| Column::default()).collect();
        let mut dynamic: Vec<Column> = replayed.iter().map(|_| Column::default()).collect();
        let mut attributes: HashMap<String, Column> = HashMap::new();
        let mut attributes_capped = false;
        let mut placed = Vec::with_capacity(n);
        let mut outs = Vec::with_capacity(n);
        let mut buf = vec![Value::Null; VARS.len()];
        let mut ev = history.events.iter().peekable();
        for (i, o) in history.orders.iter().enumerate() {
            let order = &o.order;
            let at = order.placed_at.timestamp_millis();
            while let Some(e) = ev.next_if(|e| e.at_ms < at) {
                replay.event(e);
            }
            let facts = replay.facts(order, &o.entities);
            fill_order(order, &facts.history, &facts.cluster, &mut buf);
            for (c, v) in fixed.iter_mut().zip(buf.iter_mut()) {
                c.push(std::mem::take(v));
            }
            for (c, v) in dynamic.iter_mut().zip(facts.dynamic) {
                c.push(v);
            }
            for (name, a) in &order.attributes {
                if !attributes.contains_key(name) {
                    if attributes.len() >= MAX_ATTRIBUTE_COLUMNS && !asked.contains(name) {
                        attributes_capped = true;
                        continue;
                    }
                    attributes.insert(name.clone(), Column::nulls(i));
                }
                if let Some(c) = attributes.get_mut(name) {
                    c.push(attribute_value(a));
                }
            }
            for c in attributes.values_mut() {
                if c.len() == i {
                    c.push(Value::Null);
                }
            }
            let p = order.placed_at;
            placed.push((p.timestamp_nanos_opt().unwrap_or(i64::MAX), p.offset().local_minus_utc()));
            outs.push(match labels.get(order.order_id.as_str()).copied() {
                Some("fraud") => 1,
                Some("legit") => 2,
                _ => 0,
            });
        }
        for c in fixed.iter_mut().chain(dynamic.iter_mut()).chain(attributes.values_mut()) {
            c.freeze();
        }
        Frames {
            size,
            lists,
            fixed,
            needs: replayed.into_iter().enumerate().map(|(i, n)| (n, i)).collect(),
            dynamic,
            attributes,
            attributes_capped,
            empty: Column::default(),
            placed,
            outcomes: outs,
            load_seconds: history.load_seconds,
            build_seconds: started.elapsed().as_secs_f64(),
        }
    }

    pub fn len(&self) -> usize {
        self.placed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.placed.is_empty()
    }

    /// The dynamic facts it holds, to carry over into the next build.
    pub fn needs(&self) -> impl Iterator<Item = Need> + '_ {
        self.needs.keys().cloned()
    }

    /// Whether it still answers for this history and these list entries, and holds `need`.
    pub fn fits(&self, size: HistorySize, lists: &Arc<ListIndex>, needs: &BTreeSet<Need>) -> bool {
        self.size == size && Arc::ptr_eq(&self.lists, lists) && needs.iter().all(|n| self.holds(n))
    }

    fn holds(&self, need: &Need) -> bool {
        match need {
            Need::Attribute(a) => self.attributes.contains_key(a) || !self.attributes_capped,
            n => self.needs.contains_key(n),
        }
    }

    /// Approximate memory held, in bytes.
    pub fn heap_bytes(&self) -> usize {
        let cols: usize =
            self.fixed.iter().chain(&self.dynamic).chain(self.attributes.values()).map(Column::heap_bytes).sum();
        cols + self.placed.capacity() * 16 + self.outcomes.capacity()
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
        let (nanos, offset) = self.placed[i];
        let tz =
            FixedOffset::east_opt(offset).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
        tz.timestamp_nanos(nanos).to_rfc3339()
    }

    /// Judges every order with the candidate (and the live set beside it) and tallies as
    /// [`crate::rules::run_backtest`] does. The caller checked [`Frames::fits`].
    pub fn backtest(
        &self,
        candidate: &(Option<i64>, Arc<RuleSet>),
        live: Option<&(i64, Arc<RuleSet>)>,
        truth: Option<&HashMap<String, String>>,
        built: bool,
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
        let load = if built { self.load_seconds + self.build_seconds } else { 0.0 };
        let mut out = total.finish(cset, load, started.elapsed().as_secs_f64());
        out.index = Some(crate::rules::IndexUse {
            built,
            orders: n as u64,
            memory_bytes: self.heap_bytes() as u64,
            build_seconds: self.build_seconds,
        });
        out
    }
}
