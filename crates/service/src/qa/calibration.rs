//! Calibration: several reviewers score the same handlings blind; the agreement per criterion
//! (Krippendorff's alpha, interval metric over points scaled 0-1, not-applicable left out) and
//! each reviewer's spread from the others show which criteria are badly written and who scores
//! apart. A reviewer of the session sees the results only once they scored every handling.

use super::SessionRecord;
use crate::audit::entry;
use crate::{QaManager, QaViewer, Service, ServiceError, ServiceResult};
use riskdesk_domain::qa::alpha::{Metric, alpha};
use riskdesk_domain::qa::scorecard::Rating;
use riskdesk_store::changes::{Effect, QaChange};
use riskdesk_store::qa::ReviewFilter;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize)]
pub struct CriterionAgreement {
    pub criterion: String,
    pub label: String,
    /// `None` while fewer than two ratings per handling, or when everyone agreed on one value.
    pub alpha: Option<f64>,
    pub ratings: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewerSpread {
    pub reviewer: String,
    pub reviews: usize,
    pub mean_score: f64,
    /// Mean of (their score - the handling's mean score): above 0 scores more leniently.
    pub mean_deviation: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub session: SessionRecord,
    /// Reviews done of those expected (handlings × reviewers).
    pub done: usize,
    pub expected: usize,
    /// The results are withheld from a reviewer who has not scored every handling yet.
    pub hidden: bool,
    pub score_alpha: Option<f64>,
    pub criteria: Vec<CriterionAgreement>,
    pub reviewers: Vec<ReviewerSpread>,
}

impl Service {
    pub async fn create_qa_session(
        &self,
        cap: &QaManager,
        name: &str,
        handling_ids: Vec<String>,
        reviewers: Vec<String>,
    ) -> ServiceResult<SessionRecord> {
        let name = crate::cases::clean_text("name", name, 200, true)?;
        if !(1..=50).contains(&handling_ids.len()) {
            return Err(ServiceError::Invalid("handling_ids: one to 50 handlings".into()));
        }
        for (i, h) in handling_ids.iter().enumerate() {
            if self.store().handling(h).await?.is_none() {
                return Err(ServiceError::Invalid(format!("handling_ids[{i}]: no handling {h}")));
            }
        }
        if reviewers.len() < 2 || reviewers.len() > 20 {
            return Err(ServiceError::Invalid("reviewers: two to 20 reviewers".into()));
        }
        let mut ids = Vec::new();
        for (i, r) in reviewers.iter().enumerate() {
            let u = self.store().user_by_name(r.trim()).await?;
            let u = u.ok_or_else(|| ServiceError::Invalid(format!("reviewers[{i}]: no user {r}")))?;
            if !u.role.allows(riskdesk_domain::Permission::ReviewQa) {
                return Err(ServiceError::Invalid(format!("reviewers[{i}]: {r} does not review handlings")));
            }
            ids.push(format!("user:{}", u.username));
        }
        ids.sort();
        ids.dedup();
        let s = SessionRecord {
            session_id: format!("qas_{}", ulid::Ulid::new()),
            name,
            handling_ids,
            reviewers: ids,
            created_by: cap.actor().id.clone(),
            created_at: self.now(),
        };
        let audit = entry(
            &cap.actor().id,
            "qa.session",
            format!("session:{}", s.session_id),
            serde_json::json!({"handlings": s.handling_ids.len(), "reviewers": s.reviewers}),
            self.now(),
        );
        self.commit_audited(&[Effect::Qa(QaChange::Session(s.clone()))], &[audit]).await?;
        Ok(s)
    }

    pub async fn qa_sessions(&self, _: &QaViewer) -> ServiceResult<Vec<SessionRecord>> {
        Ok(self.store().qa_sessions(100).await?)
    }

    pub async fn qa_session(&self, cap: &QaViewer, id: &str) -> ServiceResult<SessionView> {
        let session = self.store().qa_session(id).await?.ok_or(ServiceError::NotFound("calibration session"))?;
        let reviews = self
            .store()
            .reviews(&ReviewFilter { session_id: Some(id.into()), limit: 5000, ..Default::default() })
            .await?;
        let me = cap.actor().id.clone();
        let expected = session.handling_ids.len() * session.reviewers.len();
        let mine = reviews.iter().filter(|r| r.reviewer == me).count();
        let hidden = session.reviewers.contains(&me) && mine < session.handling_ids.len();
        let mut view = SessionView {
            done: reviews.len(),
            expected,
            hidden,
            score_alpha: None,
            criteria: Vec::new(),
            reviewers: Vec::new(),
            session,
        };
        if hidden {
            return Ok(view);
        }
        let card = self.scorecard_version(self.current_scorecard().await?.0).await?;
        let versions: Vec<i64> = reviews.iter().map(|r| r.scorecard_version).collect();
        let card = match versions.first() {
            Some(v) if versions.iter().all(|x| x == v) => self.scorecard_version(*v).await?,
            _ => card,
        };
        let ratings: Vec<(String, String, BTreeMap<String, Rating>)> = reviews
            .iter()
            .map(|r| (r.handling_id.clone(), r.reviewer.clone(), serde_json::from_str(&r.ratings).unwrap_or_default()))
            .collect();
        for c in card.criteria() {
            let mut units: HashMap<&str, Vec<f64>> = HashMap::new();
            for (h, _, rs) in &ratings {
                if let Some(Rating::Points(p)) = rs.get(&c.code) {
                    units.entry(h.as_str()).or_default().push(*p as f64 / c.max as f64);
                }
            }
            let units: Vec<Vec<f64>> = units.into_values().collect();
            view.criteria.push(CriterionAgreement {
                criterion: c.code.clone(),
                label: c.label.clone(),
                ratings: units.iter().map(Vec::len).sum(),
                alpha: alpha(&units, Metric::Interval),
            });
        }
        let mut by_unit: HashMap<&str, Vec<f64>> = HashMap::new();
        for r in &reviews {
            by_unit.entry(r.handling_id.as_str()).or_default().push(r.score);
        }
        view.score_alpha = alpha(&by_unit.values().cloned().collect::<Vec<_>>(), Metric::Interval);
        let unit_mean: HashMap<&str, f64> =
            by_unit.iter().map(|(k, v)| (*k, v.iter().sum::<f64>() / v.len() as f64)).collect();
        for reviewer in &view.session.reviewers {
            let theirs: Vec<_> = reviews.iter().filter(|r| &r.reviewer == reviewer).collect();
            if theirs.is_empty() {
                continue;
            }
            let n = theirs.len() as f64;
            view.reviewers.push(ReviewerSpread {
                reviewer: reviewer.clone(),
                reviews: theirs.len(),
                mean_score: theirs.iter().map(|r| r.score).sum::<f64>() / n,
                mean_deviation: theirs.iter().map(|r| r.score - unit_mean[r.handling_id.as_str()]).sum::<f64>() / n,
            });
        }
        Ok(view)
    }
}
