//! The reviewer's side: the inbox of sampled handlings (their own team's left out when so
//! configured), a handling with its reviews, scoring it against the scorecard version in force
//! when it was sampled (a failed knock-out that names a case kind opens that case), and deciding
//! a disputed review as a second reviewer.

use super::{HandlingRecord, ReviewRecord};
use crate::audit::entry;
use crate::cases::OpenCase;
use crate::{Actor, QaReviewer, QaViewer, Service, ServiceError, ServiceResult};
use riskdesk_domain::qa::scorecard::{Rating, Scorecard};
use riskdesk_store::changes::{Effect, QaChange};
use riskdesk_store::qa::{InboxFilter, ReviewFilter};
use serde::Serialize;
use std::collections::BTreeMap;

/// A handling with what QA did with it.
#[derive(Debug, Clone, Serialize)]
pub struct HandlingView {
    #[serde(flatten)]
    pub record: HandlingRecord,
    /// The scorecard to score it with (the version in force when it was sampled).
    pub scorecard_version: i64,
    pub scorecard: Scorecard,
    /// Reviews outside calibration, newest first.
    pub reviews: Vec<ReviewRecord>,
}

impl Service {
    /// Sampled handlings waiting for review, oldest first, and how many.
    pub async fn qa_inbox(
        &self,
        cap: &QaReviewer,
        provider: Option<String>,
        agent: Option<String>,
        limit: i64,
    ) -> ServiceResult<(Vec<HandlingRecord>, i64)> {
        let not_team = if self.qa_settings().exclude_own_team {
            match &cap.actor().username {
                Some(u) => self.store().member(u).await?.and_then(|m| m.team),
                None => None,
            }
        } else {
            None
        };
        let f = InboxFilter {
            provider: provider.filter(|p| !p.is_empty()),
            agent: agent.filter(|a| !a.is_empty()),
            not_team,
            limit: limit.clamp(1, 500),
        };
        Ok(self.store().qa_inbox(&f).await?)
    }

    /// A handling with its reviews. The transcript is personal data: the read is audited.
    pub async fn qa_handling(&self, cap: &QaViewer, id: &str) -> ServiceResult<HandlingView> {
        let record = self.store().handling(id).await?.ok_or(ServiceError::NotFound("handling"))?;
        let (current, _) = self.current_scorecard().await?;
        let version = record.scorecard_version.unwrap_or(current);
        let scorecard = self.scorecard_version(version).await?;
        let reviews = self
            .store()
            .reviews(&ReviewFilter { handling_id: Some(id.into()), limit: 100, ..Default::default() })
            .await?
            .into_iter()
            .filter(|r| r.session_id.is_none())
            .collect();
        self.audit_only(entry(
            &cap.actor().id,
            "qa.handling.read",
            format!("handling:{id}"),
            serde_json::json!({}),
            self.now(),
        ))
        .await?;
        Ok(HandlingView { record, scorecard_version: version, scorecard, reviews })
    }

    /// Scores a handling. Outside calibration the handling must be waiting in the inbox; its
    /// scorecard is the version in force when it was sampled.
    pub async fn score_handling(
        &self,
        cap: &QaReviewer,
        id: &str,
        ratings: BTreeMap<String, Rating>,
        comment: &str,
        session_id: Option<&str>,
    ) -> ServiceResult<ReviewRecord> {
        let h = self.store().handling(id).await?.ok_or(ServiceError::NotFound("handling"))?;
        let me = cap.actor().id.clone();
        let version = match session_id {
            None => {
                if h.review_status.as_deref() != Some("open") {
                    return Err(ServiceError::Conflict(match h.review_status.as_deref() {
                        Some("reviewed") => "the handling is reviewed already".into(),
                        _ => "the handling was not sampled for review".into(),
                    }));
                }
                h.scorecard_version.unwrap_or(self.current_scorecard().await?.0)
            }
            Some(s) => {
                let session = self.store().qa_session(s).await?.ok_or(ServiceError::NotFound("calibration session"))?;
                if !session.handling_ids.iter().any(|x| x == id) {
                    return Err(ServiceError::Invalid("handling_id: is not in this calibration session".into()));
                }
                if !session.reviewers.contains(&me) {
                    return Err(ServiceError::Forbidden("you are not a reviewer of this calibration session".into()));
                }
                let mine = self
                    .store()
                    .reviews(&ReviewFilter { session_id: Some(s.into()), limit: 5000, ..Default::default() })
                    .await?;
                if mine.iter().any(|r| r.reviewer == me && r.handling_id == id) {
                    return Err(ServiceError::Conflict("you scored this handling in this session already".into()));
                }
                self.current_scorecard().await?.0
            }
        };
        let card = self.scorecard_version(version).await?;
        let scored = card.score(&ratings).map_err(ServiceError::Invalid)?;
        let comment = crate::cases::clean_text("comment", comment, 5000, false)?;
        let now = self.now();
        let random = h.picks.len() == 1 && h.picks[0].code == "random";
        let review = ReviewRecord {
            review_id: format!("qar_{}", ulid::Ulid::new()),
            handling_id: id.into(),
            reviewer: me.clone(),
            scorecard_version: version,
            ratings: serde_json::to_string(&ratings).unwrap_or_default(),
            score: scored.score,
            knocked_out: scored.knocked_out.clone(),
            failed: scored.failed.clone(),
            comment,
            session_id: session_id.map(str::to_owned),
            agent: h.handling.agent.clone(),
            provider: h.handling.provider.clone(),
            team: h.handling.team.clone(),
            week: h.week.clone(),
            random,
            created_at: now,
            feedback_status: if session_id.is_some() { "calibration".into() } else { "sent".into() },
            feedback_due: session_id.is_none().then(|| now + chrono::Duration::days(self.qa_settings().feedback_days)),
            answered_by: None,
            answered_at: None,
            dispute_reason: None,
            second_reviewer: None,
            second_score: None,
            second_ratings: None,
            decided_at: None,
            version: 1,
        };
        let audit = entry(
            &me,
            "qa.review",
            format!("handling:{id}"),
            serde_json::json!({"score": review.score, "knocked_out": review.knocked_out, "session": session_id}),
            now,
        );
        self.commit_audited(&[Effect::Qa(QaChange::Review(Box::new(review.clone())))], &[audit]).await?;
        if session_id.is_none() {
            self.open_knockout_cases(&h, &card, &review).await;
        }
        Ok(review)
    }

    /// A failed knock-out that names a case kind opens that case (disclosure without an
    /// identity check: a `privacy_complaint`, a possible breach whose clock has started).
    async fn open_knockout_cases(&self, h: &HandlingRecord, card: &Scorecard, r: &ReviewRecord) {
        for c in card.criteria().filter(|c| r.knocked_out.contains(&c.code)) {
            let Some(kind) = &c.opens_case else { continue };
            let input = OpenCase {
                kind: kind.clone(),
                title: format!(
                    "QA knock-out: {} (handling {}, {})",
                    c.label, h.handling.handling_id, h.handling.provider
                ),
                description: format!(
                    "Review {} of agent {} at {} failed “{}”. {}",
                    r.review_id, h.handling.agent, h.handling.provider, c.label, r.comment
                ),
                customer_id: h
                    .handling
                    .customer_id
                    .clone()
                    .filter(|c| riskdesk_domain::CustomerId::parse(c, "c").is_ok()),
                order_ids: h
                    .handling
                    .order_ids
                    .iter()
                    .filter(|o| riskdesk_domain::OrderId::parse(o, "o").is_ok())
                    .cloned()
                    .collect(),
                ..Default::default()
            };
            let key = format!("qa:{}:{}", h.handling.handling_id, c.code);
            if let Err(e) = self.open_case_as(&Actor::other("system:qa"), input, Some(key), Vec::new()).await {
                tracing::warn!(review_id = %r.review_id, error = %e, "opening the knock-out case failed");
            }
        }
    }

    /// A second reviewer decides a disputed review: upheld as scored, or revised with new
    /// ratings on the same scorecard version.
    pub async fn decide_qa_dispute(
        &self,
        cap: &QaReviewer,
        review_id: &str,
        revised: Option<BTreeMap<String, Rating>>,
        note: &str,
    ) -> ServiceResult<ReviewRecord> {
        let r = self.store().review(review_id).await?.ok_or(ServiceError::NotFound("review"))?;
        if r.feedback_status != "disputed" {
            return Err(ServiceError::Conflict(format!("the review is {}, not disputed", r.feedback_status)));
        }
        let me = cap.actor().id.clone();
        if r.reviewer == me {
            return Err(ServiceError::Forbidden(
                "a disputed review goes to a second reviewer, not the one who scored it".into(),
            ));
        }
        let note = crate::cases::clean_text("note", note, 2000, false)?;
        let now = self.now();
        let mut next = ReviewRecord {
            second_reviewer: Some(me.clone()),
            decided_at: Some(now),
            version: r.version + 1,
            ..r.clone()
        };
        match revised {
            None => {
                next.feedback_status = "upheld".into();
                next.second_score = Some(r.score);
            }
            Some(ratings) => {
                let card = self.scorecard_version(r.scorecard_version).await?;
                let s = card.score(&ratings).map_err(ServiceError::Invalid)?;
                next.feedback_status = "revised".into();
                next.second_score = Some(s.score);
                next.second_ratings = Some(serde_json::to_string(&ratings).unwrap_or_default());
                next.knocked_out = s.knocked_out;
                next.failed = s.failed;
            }
        }
        let audit = entry(
            &me,
            "qa.dispute.decided",
            format!("review:{review_id}"),
            serde_json::json!({"outcome": next.feedback_status, "second_score": next.second_score, "note": note}),
            now,
        );
        self.commit_audited(
            &[Effect::Qa(QaChange::UpdateReview { review: Box::new(next.clone()), expected_version: r.version })],
            &[audit],
        )
        .await?;
        Ok(next)
    }

    /// Reviews waiting for a second reviewer.
    pub async fn disputed_reviews(&self, _: &QaReviewer) -> ServiceResult<Vec<ReviewRecord>> {
        Ok(self
            .store()
            .reviews(&ReviewFilter { statuses: Some(vec!["disputed".into()]), limit: 500, ..Default::default() })
            .await?)
    }
}
