//! Rule-set life cycle: validate, save as a new version, backtest, shadow, publish, roll back.
//! Versions are immutable; "live" and "shadow" are pointers moved in one transaction with a
//! record of who moved them.

mod backtest;
mod publish;
mod rollback;

pub use publish::{PublishPayload, PublishRuleSet};
pub use rollback::{RollbackPayload, RollbackRuleSet};

use crate::frames::{self, Frames, Freshness};
pub(crate) use backtest::Tally;
pub use backtest::{
    Backtest, Difference, Example, IndexUse, PatternStats, RuleStats, SetStats, Verdicts, run_backtest,
};

type FramesGuard = tokio::sync::OwnedMutexGuard<Option<Frames>>;
use crate::audit::entry;
use crate::{RulesAdmin, RulesViewer, Service, ServiceError, ServiceResult};
use riskdesk_domain::AuditEntry;
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
