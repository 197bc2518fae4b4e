//! A backtest's results and how they are tallied: verdicts per set, precision and recall
//! against labels, the difference to the live set, per-rule hits and examples. `run_backtest`
//! replays history through [`Replay`]; the frame index (`crate::frames`) tallies the same way.

use super::LoadedHistory;
use crate::frames;
use crate::replay::Replay;
use riskdesk_domain::Verdict;
use riskdesk_rules::RuleSet;
use riskdesk_store::ReplayEvent;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Verdicts {
    pub approve: u64,
    pub review: u64,
    pub decline: u64,
}

impl Verdicts {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Approve => self.approve += 1,
            Verdict::Review => self.review += 1,
            Verdict::Decline => self.decline += 1,
        }
    }
}

/// What a rule set did over the history.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SetStats {
    pub version: Option<i64>,
    pub verdicts: Verdicts,
    /// Orders sent to review or declined.
    pub flagged: u64,
    pub flagged_fraud: u64,
    /// flagged_fraud / flagged.
    pub precision: Option<f64>,
    /// flagged_fraud / fraud orders.
    pub recall: Option<f64>,
    /// Verdicts per outcome: `fraud` (confirmed or charged back), `legit` (confirmed), `unlabelled`.
    pub by_outcome: HashMap<&'static str, Verdicts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleStats {
    pub rule: String,
    pub hits: u64,
    pub fraud_hits: u64,
    pub precision: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Difference {
    /// Flagged by the candidate, not by the live set.
    pub newly_flagged: u64,
    pub newly_flagged_fraud: u64,
    /// Flagged by the live set, not by the candidate.
    pub no_longer_flagged: u64,
    pub no_longer_flagged_fraud: u64,
    pub verdict_changed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub order_id: String,
    pub placed_at: String,
    pub verdict: Verdict,
    pub score: u8,
    pub live_verdict: Option<Verdict>,
    pub outcome: &'static str,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    pub orders: u64,
    pub fraud_orders: u64,
    pub legit_orders: u64,
    pub candidate: SetStats,
    /// The live set replayed on the same history, when there is one.
    pub live: Option<SetStats>,
    pub difference: Option<Difference>,
    pub rules: Vec<RuleStats>,
    /// Orders the candidate would have flagged (the newest first, at most 100).
    pub flagged_examples: Vec<Example>,
    /// With ground truth (order id → pattern): how many orders of each pattern were flagged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_pattern: Vec<PatternStats>,
    /// Seconds to load and replay history (with the frame index: to build it; 0 when it was
    /// built already).
    pub load_seconds: f64,
    /// Seconds to judge the orders.
    pub replay_seconds: f64,
    /// The frame index the backtest ran on, when it ran on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexUse>,
}

/// How a backtest used the frame index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexUse {
    /// Built for this backtest: new facts were asked for, too much new history or too much of
    /// it out of time order, or the stored totals disagreed with what the index held.
    pub built: bool,
    /// List entries changed since the last backtest: the list columns were computed again.
    pub lists_refreshed: bool,
    /// Stored since the last backtest and appended to the index for this one.
    pub appended_orders: u64,
    pub appended_events: u64,
    /// Orders and events appended out of time order since the last build (their facts, or those
    /// of orders they precede, are not exactly a replay's).
    pub approximate_rows: u64,
    pub orders: u64,
    pub memory_bytes: u64,
    pub build_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatternStats {
    pub pattern: String,
    pub orders: u64,
    pub flagged: u64,
    pub declined: u64,
    /// Flagged by the live set, when one is compared.
    pub live_flagged: Option<u64>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Outcome of each labelled order from its events, with the frame index's rule.
fn outcomes(events: &[ReplayEvent]) -> HashMap<&str, &'static str> {
    let mut codes: HashMap<&str, u8> = HashMap::new();
    for e in events {
        let l = frames::label(e);
        if let (Some(o), true) = (e.order_id.as_deref(), l != 0) {
            let c = codes.entry(o).or_default();
            *c = frames::merge(*c, l);
        }
    }
    codes.into_iter().map(|(o, c)| (o, frames::OUTCOMES[usize::from(c)])).collect()
}

/// Replays `history` with the candidate (and the live set beside it) and tallies the results.
pub fn run_backtest(
    history: &LoadedHistory,
    candidate: (Option<i64>, Arc<RuleSet>),
    live: Option<(i64, Arc<RuleSet>)>,
    lists: Arc<crate::screening::lists::ListIndex>,
    truth: Option<&HashMap<String, String>>,
) -> Backtest {
    let started = Instant::now();
    let labels = outcomes(&history.events);
    let mut sets = vec![(candidate.0.unwrap_or(0), candidate.1.clone())];
    if let Some((v, s)) = &live {
        sets.push((*v, s.clone()));
    }
    let mut replay = Replay::new(sets, lists);
    let mut tally = Tally::new(&candidate, live.as_ref().map(|l| l.0));
    let mut scratch = riskdesk_rules::Scratch::default();
    let mut ev = history.events.iter().peekable();
    for o in &history.orders {
        let at = o.order.placed_at.timestamp_millis();
        while let Some(e) = ev.next_if(|e| e.at_ms < at) {
            replay.event(e);
        }
        let decisions = replay.judge(&o.order, &o.entities, &mut scratch);
        let id = o.order.order_id.as_str();
        let outcome = labels.get(id).copied().unwrap_or("unlabelled");
        let pattern = truth.and_then(|t| t.get(id)).map(String::as_str);
        let c = &decisions[0];
        let live = decisions.get(1).map(|d| d.verdict);
        tally.add(
            &candidate.1,
            id,
            || o.order.placed_at.to_rfc3339(),
            outcome,
            pattern,
            (c.verdict, c.score, &c.hits),
            live,
        );
    }
    tally.finish(&candidate.1, history.load_seconds, started.elapsed().as_secs_f64())
}

/// Running totals of a backtest. Stretches of history can be tallied apart and merged in time
/// order ([`Tally::merge`]) with the same result as one pass.
pub(crate) struct Tally {
    orders: u64,
    fraud_orders: u64,
    legit_orders: u64,
    cand: SetStats,
    live: Option<SetStats>,
    diff: Difference,
    rule_hits: Vec<(u64, u64)>,
    /// The latest flagged orders, oldest first (at most 200 kept, the newest 100 reported).
    examples: Vec<Example>,
    patterns: HashMap<String, PatternStats>,
}

impl Tally {
    pub(crate) fn new(candidate: &(Option<i64>, Arc<RuleSet>), live: Option<i64>) -> Self {
        Tally {
            orders: 0,
            fraud_orders: 0,
            legit_orders: 0,
            cand: SetStats { version: candidate.0, ..SetStats::default() },
            live: live.map(|v| SetStats { version: Some(v), ..SetStats::default() }),
            diff: Difference::default(),
            rule_hits: vec![(0, 0); candidate.1.rules.len()],
            examples: Vec::new(),
            patterns: HashMap::new(),
        }
    }

    /// Counts one order: the candidate's verdict, score and hits, and the live set's verdict.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add(
        &mut self,
        set: &RuleSet,
        order_id: &str,
        placed_at: impl FnOnce() -> String,
        outcome: &'static str,
        pattern: Option<&str>,
        (verdict, score, hits): (Verdict, u8, &[usize]),
        live: Option<Verdict>,
    ) {
        let fraud = outcome == "fraud";
        self.orders += 1;
        self.fraud_orders += u64::from(fraud);
        self.legit_orders += u64::from(outcome == "legit");
        let tally = |s: &mut SetStats, v: Verdict| {
            s.verdicts.add(v);
            s.by_outcome.entry(outcome).or_default().add(v);
            if v != Verdict::Approve {
                s.flagged += 1;
                s.flagged_fraud += u64::from(fraud);
            }
        };
        tally(&mut self.cand, verdict);
        if let Some(p) = pattern {
            let with_live = self.live.is_some();
            let ps = self.patterns.entry(p.to_owned()).or_insert_with(|| PatternStats {
                pattern: p.to_owned(),
                orders: 0,
                flagged: 0,
                declined: 0,
                live_flagged: with_live.then_some(0),
            });
            ps.orders += 1;
            ps.flagged += u64::from(verdict != Verdict::Approve);
            ps.declined += u64::from(verdict == Verdict::Decline);
            if let (Some(lf), Some(l)) = (ps.live_flagged.as_mut(), live) {
                *lf += u64::from(l != Verdict::Approve);
            }
        }
        for &i in hits {
            self.rule_hits[i].0 += 1;
            self.rule_hits[i].1 += u64::from(fraud);
        }
        if let (Some(ls), Some(lv)) = (self.live.as_mut(), live) {
            tally(ls, lv);
            let (cf, lf) = (verdict != Verdict::Approve, lv != Verdict::Approve);
            if cf && !lf {
                self.diff.newly_flagged += 1;
                self.diff.newly_flagged_fraud += u64::from(fraud);
            }
            if lf && !cf {
                self.diff.no_longer_flagged += 1;
                self.diff.no_longer_flagged_fraud += u64::from(fraud);
            }
            self.diff.verdict_changed += u64::from(verdict != lv);
        }
        if verdict != Verdict::Approve {
            self.examples.push(Example {
                order_id: order_id.to_owned(),
                placed_at: placed_at(),
                verdict,
                score,
                live_verdict: live,
                outcome,
                rules: hits.iter().map(|&i| set.rules[i].doc.id.clone()).collect(),
            });
            self.trim_examples();
        }
    }

    fn trim_examples(&mut self) {
        if self.examples.len() > 200 {
            self.examples.drain(..self.examples.len() - 100);
        }
    }

    /// Adds the totals of the stretch of history right after this one.
    pub(crate) fn merge(&mut self, later: Tally) {
        fn sets(a: &mut SetStats, b: SetStats) {
            a.verdicts.approve += b.verdicts.approve;
            a.verdicts.review += b.verdicts.review;
            a.verdicts.decline += b.verdicts.decline;
            a.flagged += b.flagged;
            a.flagged_fraud += b.flagged_fraud;
            for (k, v) in b.by_outcome {
                let e = a.by_outcome.entry(k).or_default();
                e.approve += v.approve;
                e.review += v.review;
                e.decline += v.decline;
            }
        }
        self.orders += later.orders;
        self.fraud_orders += later.fraud_orders;
        self.legit_orders += later.legit_orders;
        sets(&mut self.cand, later.cand);
        if let (Some(a), Some(b)) = (self.live.as_mut(), later.live) {
            sets(a, b);
        }
        let d = later.diff;
        self.diff.newly_flagged += d.newly_flagged;
        self.diff.newly_flagged_fraud += d.newly_flagged_fraud;
        self.diff.no_longer_flagged += d.no_longer_flagged;
        self.diff.no_longer_flagged_fraud += d.no_longer_flagged_fraud;
        self.diff.verdict_changed += d.verdict_changed;
        for (a, b) in self.rule_hits.iter_mut().zip(later.rule_hits) {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.examples.extend(later.examples);
        self.trim_examples();
        for (k, p) in later.patterns {
            match self.patterns.get_mut(&k) {
                Some(a) => {
                    a.orders += p.orders;
                    a.flagged += p.flagged;
                    a.declined += p.declined;
                    if let (Some(x), Some(y)) = (a.live_flagged.as_mut(), p.live_flagged) {
                        *x += y;
                    }
                }
                None => {
                    self.patterns.insert(k, p);
                }
            }
        }
    }

    pub(crate) fn finish(mut self, set: &RuleSet, load_seconds: f64, replay_seconds: f64) -> Backtest {
        let (fraud_orders, legit_orders) = (self.fraud_orders, self.legit_orders);
        let finish = |s: &mut SetStats| {
            s.precision = ratio(s.flagged_fraud, s.flagged);
            s.recall = ratio(s.flagged_fraud, fraud_orders);
        };
        finish(&mut self.cand);
        if let Some(ls) = self.live.as_mut() {
            finish(ls);
        }
        let mut rules: Vec<RuleStats> = set
            .rules
            .iter()
            .zip(&self.rule_hits)
            .map(|(r, &(hits, fraud_hits))| RuleStats {
                rule: r.doc.id.clone(),
                hits,
                fraud_hits,
                precision: ratio(fraud_hits, hits),
            })
            .collect();
        rules.sort_by(|a, b| b.hits.cmp(&a.hits).then(a.rule.cmp(&b.rule)));
        self.examples.reverse();
        self.examples.truncate(100);
        let mut by_pattern: Vec<PatternStats> = self.patterns.into_values().collect();
        by_pattern.sort_by(|a, b| a.pattern.cmp(&b.pattern));
        let has_live = self.live.is_some();
        Backtest {
            orders: self.orders,
            fraud_orders,
            legit_orders,
            candidate: self.cand,
            live: self.live,
            difference: has_live.then_some(self.diff),
            rules,
            flagged_examples: self.examples,
            by_pattern,
            load_seconds,
            replay_seconds,
            index: None,
        }
    }
}
