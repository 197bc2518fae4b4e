//! Quality assurance of Tier-2 handlings: handlings in (API, CSV and JSONL imports, idempotent
//! on `handling_id`) and sampled as they arrive, the reviewer's inbox and scoring against the
//! scorecard in force when the handling was sampled ([`review`]), the provider's feedback loop
//! ([`feedback`]), calibration ([`calibration`]) and trends ([`trends`]).

pub mod calibration;
pub mod feedback;
pub mod review;
pub mod trends;

use crate::audit::entry;
use crate::{HandlingIntake, QaManager, QaViewer, Service, ServiceError, ServiceResult, UserAdmin};
use chrono::{DateTime, Utc};
use riskdesk_domain::qa::sampling::{self, Policy};
use riskdesk_domain::qa::scorecard::Scorecard;
use riskdesk_domain::qa::{Handling, HandlingIn, HandlingName, week_of};
use riskdesk_store::changes::{Effect, QaChange};
pub use riskdesk_store::qa::{HandlingRecord, Member, ReviewRecord, ScorecardRecord, SessionRecord};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// `[qa]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QaConfig {
    pub sampling: Policy,
    /// Days a provider has to acknowledge or dispute feedback.
    pub feedback_days: i64,
    /// A reviewer's inbox leaves out their own team's handlings.
    pub exclude_own_team: bool,
    /// Providers handlings may name; empty accepts any (and the name is created).
    pub providers: Vec<String>,
}

impl Default for QaConfig {
    fn default() -> Self {
        Self { sampling: Policy::default(), feedback_days: 5, exclude_own_team: true, providers: Vec::new() }
    }
}

impl QaConfig {
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=100.0).contains(&self.sampling.random_pct) {
            return Err("qa.sampling.random_pct must be between 0 and 100".into());
        }
        if !(1..=60).contains(&self.feedback_days) {
            return Err("qa.feedback_days must be between 1 and 60".into());
        }
        Ok(())
    }
}

/// What became of one handling.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub handling_id: String,
    /// False when the id was stored before (nothing changed).
    pub created: bool,
    pub sampled: bool,
    pub picks: Vec<sampling::Pick>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub duplicates: usize,
    pub sampled: usize,
}

fn invalid(field: &str, msg: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("{field}: {msg}"))
}

impl Service {
    pub(crate) fn qa_settings(&self) -> QaConfig {
        self.settings().qa.clone()
    }

    /// The scorecard in force (version 1, the starter, is stored on first use).
    pub(crate) async fn current_scorecard(&self) -> ServiceResult<(i64, Scorecard)> {
        if let Some(s) = self.store().scorecards().await?.into_iter().next() {
            let card =
                serde_json::from_str(&s.body).map_err(|e| ServiceError::Invalid(format!("stored scorecard: {e}")))?;
            return Ok((s.version, card));
        }
        let card = riskdesk_domain::qa::scorecard::starter();
        let rec = ScorecardRecord {
            version: 1,
            name: card.name.clone(),
            body: serde_json::to_string(&card).unwrap_or_default(),
            author: "system".into(),
            created_at: self.now(),
        };
        match self.commit_audited(&[Effect::Qa(QaChange::Scorecard(rec))], &[]).await {
            Ok(()) | Err(ServiceError::Store(riskdesk_store::StoreError::Conflict(_))) => {}
            Err(e) => return Err(e),
        }
        Box::pin(self.current_scorecard()).await
    }

    pub(crate) async fn scorecard_version(&self, version: i64) -> ServiceResult<Scorecard> {
        let s = self.store().scorecard(version).await?.ok_or(ServiceError::NotFound("scorecard"))?;
        serde_json::from_str(&s.body).map_err(|e| ServiceError::Invalid(format!("stored scorecard: {e}")))
    }

    fn check_handling(&self, h: HandlingIn, now: DateTime<Utc>) -> ServiceResult<Handling> {
        let h = h.check(now).map_err(|e| invalid(&e.field, e.detail))?;
        let known = &self.qa_settings().providers;
        if !known.is_empty() && !known.contains(&h.provider) {
            return Err(invalid("provider", format!("must be one of {}", known.join(", "))));
        }
        Ok(h)
    }

    /// Stores the handlings not stored yet, each sampled as it arrives; one transaction.
    async fn store_handlings(&self, actor: &str, hs: Vec<Handling>) -> ServiceResult<(Vec<Received>, ImportReport)> {
        let now = self.now();
        let ids: Vec<String> = hs.iter().map(|h| h.handling_id.clone()).collect();
        let stored: HashSet<String> = self.store().handlings_stored(&ids).await?.into_iter().collect();
        let customers: Vec<String> =
            hs.iter().filter_map(|h| h.customer_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let fraud: HashSet<String> = if customers.is_empty() {
            HashSet::new()
        } else {
            self.store().fraud_accounts(&customers).await?.into_iter().collect()
        };
        let (version, _) = self.current_scorecard().await?;
        let policy = self.qa_settings().sampling;
        let mut seen = HashSet::new();
        let mut rows = Vec::new();
        let mut out = Vec::with_capacity(hs.len());
        let mut report = ImportReport::default();
        for h in hs {
            if stored.contains(&h.handling_id) || !seen.insert(h.handling_id.clone()) {
                report.duplicates += 1;
                out.push(Received { handling_id: h.handling_id, created: false, sampled: false, picks: Vec::new() });
                continue;
            }
            let picks = sampling::picks(&h, h.customer_id.as_ref().is_some_and(|c| fraud.contains(c)), &policy);
            let sampled = !picks.is_empty();
            report.created += 1;
            report.sampled += usize::from(sampled);
            out.push(Received { handling_id: h.handling_id.clone(), created: true, sampled, picks: picks.clone() });
            rows.push(HandlingRecord {
                week: week_of(h.closed_at),
                received_at: now,
                scorecard_version: sampled.then_some(version),
                review_status: sampled.then(|| "open".to_owned()),
                picks,
                handling: h,
            });
        }
        if !rows.is_empty() {
            let audit =
                entry(actor, "qa.handlings", "handlings".into(), serde_json::json!({"stored": rows.len()}), now);
            self.commit_audited(&[Effect::Qa(QaChange::Handlings(rows))], &[audit]).await?;
        }
        Ok((out, report))
    }

    /// One handling; the same `handling_id` again changes nothing.
    pub async fn submit_handling(&self, cap: &HandlingIntake, h: HandlingIn) -> ServiceResult<Received> {
        let h = self.check_handling(h, self.now())?;
        let (mut out, _) = self.store_handlings(&cap.actor().id, vec![h]).await?;
        out.pop().ok_or_else(|| ServiceError::Invalid("handling: nothing stored".into()))
    }

    /// A CSV (header row) or JSONL file of handlings. Every line is checked first: one bad line
    /// stores nothing and is named with its number.
    pub async fn import_handlings(&self, cap: &HandlingIntake, text: &str, jsonl: bool) -> ServiceResult<ImportReport> {
        let now = self.now();
        let parsed = if jsonl { parse_jsonl(text)? } else { parse_csv(text)? };
        let mut hs = Vec::with_capacity(parsed.len());
        for (line, h) in parsed {
            hs.push(self.check_handling(h, now).map_err(|e| ServiceError::Invalid(format!("line {line}: {e}")))?);
        }
        let mut total = ImportReport::default();
        for chunk in hs.chunks(5_000) {
            let (_, r) = self.store_handlings(&cap.actor().id, chunk.to_vec()).await?;
            total.created += r.created;
            total.duplicates += r.duplicates;
            total.sampled += r.sampled;
        }
        Ok(total)
    }

    /// Scorecard versions, newest (in force) first.
    pub async fn scorecards(&self, _: &QaViewer) -> ServiceResult<Vec<ScorecardRecord>> {
        self.current_scorecard().await?;
        Ok(self.store().scorecards().await?)
    }

    /// Saves a new scorecard version; reviews keep the version they were scored with.
    pub async fn save_scorecard(&self, cap: &QaManager, card: Scorecard, base_version: i64) -> ServiceResult<i64> {
        card.check().map_err(ServiceError::Invalid)?;
        let (current, _) = self.current_scorecard().await?;
        if base_version != current {
            return Err(ServiceError::Conflict(format!(
                "version {current} is in force, not {base_version}: reload and edit the newest"
            )));
        }
        let now = self.now();
        let rec = ScorecardRecord {
            version: current + 1,
            name: card.name.clone(),
            body: serde_json::to_string(&card).unwrap_or_default(),
            author: cap.actor().id.clone(),
            created_at: now,
        };
        let audit = entry(
            &cap.actor().id,
            "qa.scorecard",
            format!("scorecard:{}", current + 1),
            serde_json::json!({"name": card.name}),
            now,
        );
        self.commit_audited(&[Effect::Qa(QaChange::Scorecard(rec))], &[audit]).await?;
        Ok(current + 1)
    }

    /// Sets the provider and team a person belongs to (a provider lead's provider; a
    /// reviewer's own team).
    pub async fn set_qa_member(
        &self,
        cap: &UserAdmin,
        username: &str,
        provider: Option<String>,
        team: Option<String>,
    ) -> ServiceResult<()> {
        if self.store().user_by_name(username).await?.is_none() {
            return Err(ServiceError::NotFound("user"));
        }
        let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let m = Member { username: username.into(), provider: clean(provider), team: clean(team) };
        let audit = entry(
            &cap.actor().id,
            "qa.member",
            format!("user:{username}"),
            serde_json::json!({"provider": m.provider, "team": m.team}),
            self.now(),
        );
        self.commit_audited(&[Effect::Qa(QaChange::Member(m))], &[audit]).await
    }
}

fn parse_jsonl(text: &str) -> ServiceResult<Vec<(usize, HandlingIn)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let h: HandlingIn =
            serde_json::from_str(line).map_err(|e| ServiceError::Invalid(format!("line {}: {e}", i + 1)))?;
        out.push((i + 1, h));
    }
    Ok(out)
}

/// CSV columns: `handling_id, agent, provider, team, channel, closed_at, case_ref, customer_id,
/// order_ids` (separated by `;`), `actions` (`kind` or `kind:amount:currency`, separated by
/// `;`), `identity_checked` (true/false), `csat`, `transcript`.
fn parse_csv(text: &str) -> ServiceResult<Vec<(usize, HandlingIn)>> {
    let mut r = csv::ReaderBuilder::new().trim(csv::Trim::Headers).from_reader(text.as_bytes());
    let headers = r.headers().map_err(|e| ServiceError::Invalid(format!("line 1: {e}")))?.clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    for need in ["handling_id", "agent", "provider", "closed_at"] {
        if col(need).is_none() {
            return Err(ServiceError::Invalid(format!("line 1: the column {need} is missing")));
        }
    }
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| ServiceError::Invalid(format!("line {line}: {e}")))?;
        let get = |n: &str| col(n).and_then(|c| rec.get(c)).map(str::to_owned).filter(|s| !s.trim().is_empty());
        let mut actions = Vec::new();
        for a in get("actions").unwrap_or_default().split(';').map(str::trim).filter(|a| !a.is_empty()) {
            let mut p = a.split(':');
            let kind = p.next().unwrap_or_default().to_owned();
            let amount = match (p.next(), p.next()) {
                (Some(amount), Some(currency)) => {
                    Some(riskdesk_domain::qa::MoneyWire { amount: amount.to_owned(), currency: currency.to_owned() })
                }
                _ => None,
            };
            actions.push(riskdesk_domain::qa::ActionIn { kind, amount });
        }
        let csat = match get("csat") {
            None => None,
            Some(c) => Some(
                c.trim()
                    .parse::<i64>()
                    .map_err(|_| ServiceError::Invalid(format!("line {line}: csat: must be 1 to 5")))?,
            ),
        };
        let identity_checked = match get("identity_checked").as_deref().map(str::trim) {
            None | Some("false") | Some("0") | Some("no") => false,
            Some("true") | Some("1") | Some("yes") => true,
            Some(_) => {
                return Err(ServiceError::Invalid(format!("line {line}: identity_checked: must be true or false")));
            }
        };
        out.push((
            line,
            HandlingIn {
                handling_id: get("handling_id"),
                agent: get("agent"),
                provider: get("provider"),
                team: get("team"),
                channel: get("channel"),
                closed_at: get("closed_at"),
                case_ref: get("case_ref"),
                customer_id: get("customer_id"),
                order_ids: get("order_ids")
                    .map(|o| {
                        o.split(';').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).map(HandlingName).collect()
                    })
                    .unwrap_or_default(),
                actions,
                identity_checked,
                csat,
                transcript: get("transcript").unwrap_or_default(),
            },
        ));
    }
    Ok(out)
}
