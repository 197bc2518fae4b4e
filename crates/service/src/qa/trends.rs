//! QA trends: the score per agent, team or provider by week, the knock-out rate, random and
//! targeted picks apart, and the criteria that fail most, over the last weeks; the same rows
//! export as CSV for the provider review meeting.

use crate::{QaViewer, Service, ServiceError, ServiceResult};
use chrono::Duration;
use riskdesk_domain::qa::week_of;
use riskdesk_store::qa::{CriterionRow, TrendRow};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CriterionFailures {
    #[serde(flatten)]
    pub row: CriterionRow,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeySummary {
    pub key: String,
    pub reviews: i64,
    pub avg_score: f64,
    pub knockout_rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub from: String,
    pub to: String,
    /// `agent`, `team` or `provider`.
    pub by: String,
    pub reviews: i64,
    pub avg_score: Option<f64>,
    /// Share of reviews with a failed knock-out, percent.
    pub knockout_rate: Option<f64>,
    /// Random picks' average apart from the targeted ones'.
    pub random_avg: Option<f64>,
    pub targeted_avg: Option<f64>,
    /// One row per week and key.
    pub rows: Vec<TrendRow>,
    /// Over the whole span, lowest score first.
    pub keys: Vec<KeySummary>,
    pub criteria: Vec<CriterionFailures>,
    /// The most failed criteria week by week: (week, failures of each of `criteria`' first five).
    pub criteria_weekly: Vec<(String, Vec<i64>)>,
}

impl Service {
    pub async fn qa_dashboard(
        &self,
        _: &QaViewer,
        weeks: i64,
        by: &str,
        provider: Option<&str>,
    ) -> ServiceResult<Dashboard> {
        if !(1..=104).contains(&weeks) {
            return Err(ServiceError::Invalid("weeks: must be between 1 and 104".into()));
        }
        if !matches!(by, "agent" | "team" | "provider") {
            return Err(ServiceError::Invalid("by: must be agent, team or provider".into()));
        }
        let now = self.now();
        let (from, to) = (week_of(now - Duration::weeks(weeks - 1)), week_of(now));
        let provider = provider.filter(|p| !p.is_empty());
        let rows = self.store().qa_trends(by, &from, &to, provider).await?;
        let criteria = self.store().qa_criteria(&from, &to, provider).await?;
        let weekly = self.store().qa_criteria_weekly(&from, &to, provider).await?;
        let top: Vec<&str> = criteria.iter().take(5).map(|c| c.criterion.as_str()).collect();
        let mut weeks: Vec<String> = weekly.iter().map(|w| w.week.clone()).collect();
        weeks.dedup();
        let criteria_weekly = weeks
            .into_iter()
            .map(|wk| {
                let counts = top
                    .iter()
                    .map(|c| weekly.iter().find(|w| w.week == wk && w.criterion == *c).map_or(0, |w| w.failed))
                    .collect();
                (wk, counts)
            })
            .collect();
        let card = self.scorecard_version(self.current_scorecard().await?.0).await?;
        let label = |c: &str| card.criteria().find(|x| x.code == c).map_or_else(|| c.to_owned(), |x| x.label.clone());
        let n: i64 = rows.iter().map(|r| r.reviews).sum();
        let sum: f64 = rows.iter().map(|r| r.avg_score * r.reviews as f64).sum();
        let ko: i64 = rows.iter().map(|r| r.knockouts).sum();
        let rn: i64 = rows.iter().map(|r| r.random_reviews).sum();
        let rsum: f64 = rows.iter().map(|r| r.random_avg.unwrap_or(0.0) * r.random_reviews as f64).sum();
        let mut keys: std::collections::BTreeMap<String, (i64, f64, i64)> = Default::default();
        for r in &rows {
            let e = keys.entry(r.key.clone()).or_default();
            e.0 += r.reviews;
            e.1 += r.avg_score * r.reviews as f64;
            e.2 += r.knockouts;
        }
        let mut keys: Vec<KeySummary> = keys
            .into_iter()
            .map(|(key, (n, s, k))| KeySummary {
                key,
                reviews: n,
                avg_score: s / n as f64,
                knockout_rate: k as f64 * 100.0 / n as f64,
            })
            .collect();
        keys.sort_by(|a, b| a.avg_score.total_cmp(&b.avg_score));
        Ok(Dashboard {
            from,
            to,
            by: by.into(),
            reviews: n,
            avg_score: (n > 0).then(|| sum / n as f64),
            knockout_rate: (n > 0).then(|| ko as f64 * 100.0 / n as f64),
            random_avg: (rn > 0).then(|| rsum / rn as f64),
            targeted_avg: (n > rn).then(|| (sum - rsum) / (n - rn) as f64),
            rows,
            keys,
            criteria: criteria.into_iter().map(|row| CriterionFailures { label: label(&row.criterion), row }).collect(),
            criteria_weekly,
        })
    }
}
