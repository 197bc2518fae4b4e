//! Rule-set life cycle: validate, save as a new version, backtest, shadow, publish, roll back.
//! Versions are immutable; "live" and "shadow" are pointers moved in one transaction with a
//! record of who moved them.

mod publish;
mod rollback;

pub use publish::{PublishPayload, PublishRuleSet};
pub use rollback::{RollbackPayload, RollbackRuleSet};

use crate::frames::{self, Frames, Freshness};

type FramesGuard = tokio::sync::OwnedMutexGuard<Option<Frames>>;
use crate::audit::entry;
use crate::replay::Replay;
use crate::{RulesAdmin, RulesViewer, Service, ServiceError, ServiceResult};
use riskdesk_domain::AuditEntry;
use riskdesk_domain::Verdict;
use riskdesk_rules::RuleSet;
use riskdesk_rules::needs::Need;
use riskdesk_store::changes::{Effect, ScreeningChange};
use riskdesk_store::{ControlChange, ReplayEvent, ReplayOrder};
pub use riskdesk_store::{RuleSetChange, RuleSetRecord, ScreeningControl};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// A validated rule set, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct Validated {
    pub rules: usize,
    pub enabled: usize,
    /// Facts the set reads besides the fixed variables (velocity windows, lists, attributes).
    pub needs: Vec<String>,
}

pub fn validate(source: &str) -> ServiceResult<(RuleSet, Validated)> {
    let set = RuleSet::from_toml(source).map_err(ServiceError::Rules)?;
    let v = Validated {
        rules: set.rules.len(),
        enabled: set.rules.iter().filter(|r| r.doc.enabled).count(),
        needs: set.needs().iter().map(|n| n.to_string()).collect(),
    };
    Ok((set, v))
}

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

/// History loaded for replay: orders by time (`placed_at`, then id), events by time.
pub struct LoadedHistory {
    pub orders: Vec<ReplayOrder>,
    pub events: Vec<ReplayEvent>,
    /// The highest storage positions read (0 when none), to read what comes after.
    pub orders_pos: i64,
    pub events_pos: i64,
    pub load_seconds: f64,
}

/// Parses stored rows on the blocking pool, on every core.
fn parse_rows(
    rows: Vec<riskdesk_store::ReplayRow>,
) -> tokio::task::JoinHandle<Result<Vec<ReplayOrder>, riskdesk_store::StoreError>> {
    tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        rows.into_par_iter()
            .map(|r| {
                Ok(ReplayOrder {
                    order: riskdesk_store::codec::order_from_body(&r.body)?,
                    entities: riskdesk_store::codec::unpack_entities(&r.entities)?,
                })
            })
            .collect()
    })
}

fn by_time(orders: &mut [ReplayOrder]) {
    use rayon::prelude::*;
    orders.par_sort_unstable_by(|a, b| {
        (a.order.placed_at, a.order.order_id.as_str()).cmp(&(b.order.placed_at, b.order.order_id.as_str()))
    });
}

fn load_failed(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("loading history failed: {e}"))
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

/// Which rule set to backtest.
pub enum Candidate {
    Source(String),
    Version(i64),
}

impl Service {
    pub fn validate_rules(&self, source: &str) -> ServiceResult<Validated> {
        validate(source).map(|(_, v)| v)
    }

    /// Validates and saves a new version (not yet live).
    pub async fn save_ruleset(&self, cap: &RulesAdmin, source: &str, note: &str) -> ServiceResult<(i64, Validated)> {
        let (_, v) = validate(source)?;
        let now = self.now();
        let version = self.store().rulesets().await?.iter().map(|r| r.version).max().unwrap_or(0) + 1;
        let effect = Effect::Screening(ScreeningChange::SaveRuleSet {
            version,
            source: source.to_owned(),
            author: cap.actor().id.clone(),
            note: note.to_owned(),
            at: now,
        });
        let audit = entry(
            &cap.actor().id,
            "ruleset.save",
            format!("ruleset:{version}"),
            serde_json::json!({"rules": v.rules}),
            now,
        );
        self.commit_audited(&[effect], &[audit]).await?;
        Ok((version, v))
    }

    pub async fn rulesets(
        &self,
        _cap: &RulesViewer,
    ) -> ServiceResult<(Vec<RuleSetRecord>, ScreeningControl, Vec<RuleSetChange>)> {
        let s = self.store();
        Ok((s.rulesets().await?, s.screening_control().await?, s.ruleset_changes().await?))
    }

    /// Which versions are live and shadowing.
    pub async fn screening_control(&self, _cap: &RulesViewer) -> ServiceResult<ScreeningControl> {
        Ok(self.store().screening_control().await?)
    }

    /// A shadowed version's decisions on live traffic, newest first, each beside the live one.
    pub async fn shadow_results(
        &self,
        _cap: &RulesViewer,
        version: i64,
        limit: i64,
    ) -> ServiceResult<Vec<(riskdesk_domain::Decision, Option<riskdesk_domain::Decision>)>> {
        Ok(self.store().shadow_decisions(version, limit).await?)
    }

    pub async fn ruleset(&self, _cap: &RulesViewer, version: i64) -> ServiceResult<RuleSetRecord> {
        self.store().ruleset(version).await?.ok_or(ServiceError::NotFound("rule set version"))
    }

    async fn checked_version(&self, version: i64) -> ServiceResult<RuleSetRecord> {
        let rec = self.store().ruleset(version).await?.ok_or(ServiceError::NotFound("rule set version"))?;
        validate(&rec.source)?;
        Ok(rec)
    }

    /// Makes a saved version live on every instance (each picks it up within a poll interval).
    /// Only the local operator publishes directly (flagged in the audit log); everyone else
    /// proposes, and a second person approves ([`Service::propose_publish`]).
    pub async fn publish_ruleset(&self, cap: &RulesAdmin, version: i64) -> ServiceResult<()> {
        if !cap.is_local() {
            return Err(ServiceError::Forbidden("publishing a rule set needs four eyes: propose it".into()));
        }
        self.checked_version(version).await?;
        if self.store().screening_control().await?.live_version == Some(version) {
            return Err(ServiceError::Conflict(format!("version {version} is already live")));
        }
        let now = self.now();
        let mut audit =
            entry(&cap.actor().id, "ruleset.publish", format!("ruleset:{version}"), serde_json::json!({}), now);
        audit.flagged = true;
        audit.purpose = Some("published by the local operator, outside four eyes".into());
        self.control(ControlChange::Publish(version), &cap.actor().id, audit).await
    }

    async fn control(&self, change: ControlChange, actor: &str, audit: AuditEntry) -> ServiceResult<()> {
        let effect = Effect::Screening(ScreeningChange::Control { change, actor: actor.to_owned(), at: audit.at });
        self.commit_audited(&[effect], &[audit]).await?;
        self.screener().refresh().await
    }

    /// Runs a version beside the live set on incoming orders, without affecting decisions.
    pub async fn shadow_ruleset(&self, cap: &RulesAdmin, version: Option<i64>) -> ServiceResult<()> {
        let change = match version {
            Some(v) => {
                self.checked_version(v).await?;
                ControlChange::Shadow(v)
            }
            None => ControlChange::ShadowStop,
        };
        let subject = change.version().map_or("ruleset:shadow".to_owned(), |v| format!("ruleset:{v}"));
        let audit =
            entry(&cap.actor().id, &format!("ruleset.{}", change.action()), subject, serde_json::json!({}), self.now());
        self.control(change, &cap.actor().id, audit).await
    }

    /// Loads every stored order and event for replay.
    pub async fn load_history(&self, _cap: &RulesViewer) -> ServiceResult<LoadedHistory> {
        let started = Instant::now();
        // Parsing is the expensive part of loading: each page is parsed on the other cores
        // while the next one is read.
        let mut parsing = Vec::new();
        let mut cursor = None;
        let mut orders_pos = 0;
        loop {
            let (page, next) = self.store().replay_rows(cursor, 50_000).await?;
            orders_pos = page.iter().map(|r| r.pos).fold(orders_pos, i64::max);
            parsing.push(parse_rows(page));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut orders = Vec::new();
        for p in parsing {
            orders.extend(p.await.map_err(load_failed)??);
        }
        let orders = tokio::task::spawn_blocking(move || {
            let mut orders = orders;
            by_time(&mut orders);
            orders
        })
        .await
        .map_err(load_failed)?;
        let events = self.store().replay_events().await?;
        let events_pos = events.iter().map(|e| e.pos).max().unwrap_or(0);
        Ok(LoadedHistory { orders, events, orders_pos, events_pos, load_seconds: started.elapsed().as_secs_f64() })
    }

    /// Loads what was stored after the given positions, with the totals stored (one snapshot);
    /// `None` when more than `limit` orders were.
    pub async fn load_history_after(
        &self,
        _cap: &RulesViewer,
        orders_after: i64,
        events_after: i64,
        limit: i64,
    ) -> ServiceResult<Option<(LoadedHistory, riskdesk_store::HistorySize)>> {
        let started = Instant::now();
        let delta = self.store().history_after(orders_after, events_after, limit).await?;
        if delta.truncated {
            return Ok(None);
        }
        let orders_pos = delta.orders.iter().map(|r| r.pos).fold(orders_after, i64::max);
        let events_pos = delta.events.iter().map(|e| e.pos).fold(events_after, i64::max);
        let mut orders = parse_rows(delta.orders).await.map_err(load_failed)??;
        by_time(&mut orders);
        let mut events = delta.events;
        events.sort_by_key(|e| e.at_ms);
        let history =
            LoadedHistory { orders, events, orders_pos, events_pos, load_seconds: started.elapsed().as_secs_f64() };
        Ok(Some((history, delta.size)))
    }

    /// Backtests a rule set on all stored history, beside the live set.
    pub async fn backtest(&self, cap: &RulesViewer, candidate: Candidate) -> ServiceResult<Backtest> {
        self.backtest_with_truth(cap, candidate, None).await
    }

    /// As [`Service::backtest`], with ground truth (order id → pattern) to break results down.
    pub async fn backtest_with_truth(
        &self,
        cap: &RulesViewer,
        candidate: Candidate,
        truth: Option<HashMap<String, String>>,
    ) -> ServiceResult<Backtest> {
        let (version, source) = match candidate {
            Candidate::Source(s) => (None, s),
            Candidate::Version(v) => (Some(v), self.ruleset(cap, v).await?.source),
        };
        let (set, _) = validate(&source)?;
        let live = self.screener().live().map(|c| (c.version, c.set));
        let lists = self.screener().lists();
        let candidate = (version, Arc::new(set));
        let (frames, fresh) = self.frames_for(&candidate.1, live.as_ref().map(|l| &*l.1), lists).await?;
        tokio::task::spawn_blocking(move || {
            let Some(f) = frames.as_ref() else { unreachable!("frames_for leaves an index") };
            f.backtest(&candidate, live.as_ref(), truth.as_ref(), fresh)
        })
        .await
        .map_err(|e| ServiceError::Invalid(format!("backtest failed: {e}")))
    }

    /// The frame index, brought up to date first: what was stored since is appended, or the
    /// index is built again (see `frames`). Backtests take turns on it; the update runs in its
    /// own task, so a client that gives up (or times out) does not waste it.
    async fn frames_for(
        &self,
        candidate: &RuleSet,
        live: Option<&RuleSet>,
        lists: Arc<crate::screening::lists::ListIndex>,
    ) -> ServiceResult<(FramesGuard, Freshness)> {
        let mut needs: BTreeSet<Need> =
            candidate.needs().iter().chain(live.iter().flat_map(|l| l.needs())).cloned().collect();
        let service = self.clone();
        let failed =
            |e: tokio::task::JoinError| ServiceError::Invalid(format!("building the backtest index failed: {e}"));
        tokio::spawn(async move {
            let read = crate::access::local::rules_viewer();
            let mut slot = service.frames.clone().lock_owned().await;
            let mut fresh = Freshness::default();
            let started = Instant::now();
            if slot.as_ref().is_some_and(|f| f.fits(&needs) && !f.lists_are(&lists)) {
                let mut f = slot.take().unwrap_or_else(|| unreachable!("checked above"));
                let lists = lists.clone();
                let f = tokio::task::spawn_blocking(move || {
                    f.refresh_lists(lists);
                    f
                })
                .await
                .map_err(failed)?;
                *slot = Some(f);
                fresh.lists_refreshed = true;
            }
            if let Some(f) = slot.as_ref().filter(|f| f.fits(&needs)) {
                let (orders_pos, events_pos) = (f.orders_pos, f.events_pos);
                if let Some((delta, size)) =
                    service.load_history_after(&read, orders_pos, events_pos, frames::APPEND_LIMIT).await?
                {
                    let (orders, events) = (delta.orders.len(), delta.events.len());
                    let mut f = slot.take().unwrap_or_else(|| unreachable!("checked above"));
                    let f = tokio::task::spawn_blocking(move || {
                        f.append(&delta);
                        f
                    })
                    .await
                    .map_err(failed)?;
                    let whole = f.holds_all(size) && !f.too_approximate();
                    *slot = Some(f);
                    if whole {
                        fresh.appended_orders = orders;
                        fresh.appended_events = events;
                        fresh.update_seconds = started.elapsed().as_secs_f64();
                        return Ok((slot, fresh));
                    }
                }
            }
            if let Some(old) = slot.take() {
                needs.extend(old.needs());
            }
            let history = service.load_history(&read).await?;
            let window = service.screener().return_window();
            let frames = tokio::task::spawn_blocking(move || Frames::build(&history, needs, lists, window))
                .await
                .map_err(failed)?;
            tracing::info!(
                orders = frames.len(),
                megabytes = frames.heap_bytes() / 1_000_000,
                load_seconds = frames.load_seconds,
                build_seconds = frames.build_seconds,
                "backtest index built"
            );
            *slot = Some(frames);
            Ok((slot, Freshness { built: true, ..Freshness::default() }))
        })
        .await
        .map_err(failed)?
    }
}
