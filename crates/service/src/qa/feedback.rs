//! The provider's side of QA: a provider team lead sees the reviews of their own provider's
//! handlings only, and acknowledges each or disputes it with a reason within the feedback SLA.
//! Another provider's review answers "not found", as if it did not exist.

use super::{HandlingRecord, ReviewRecord};
use crate::audit::entry;
use crate::{FeedbackResponder, Service, ServiceError, ServiceResult};
use riskdesk_store::changes::{Effect, QaChange};
use riskdesk_store::qa::ReviewFilter;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct FeedbackItem {
    #[serde(flatten)]
    pub review: ReviewRecord,
    /// Past its answer date and still unanswered.
    pub overdue: bool,
}

impl Service {
    async fn my_provider(&self, cap: &FeedbackResponder) -> ServiceResult<String> {
        let user = cap
            .actor()
            .username
            .clone()
            .ok_or_else(|| ServiceError::Forbidden("feedback is answered by a person".into()))?;
        self.store().member(&user).await?.and_then(|m| m.provider).ok_or_else(|| {
            ServiceError::Forbidden("you are not the team lead of any provider (an administrator sets it)".into())
        })
    }

    /// The reviews of my provider's handlings, newest first.
    pub async fn feedback_inbox(&self, cap: &FeedbackResponder) -> ServiceResult<(String, Vec<FeedbackItem>)> {
        let provider = self.my_provider(cap).await?;
        let now = self.now();
        let reviews = self
            .store()
            .reviews(&ReviewFilter { provider: Some(provider.clone()), limit: 500, ..Default::default() })
            .await?;
        let items = reviews
            .into_iter()
            .filter(|r| r.session_id.is_none())
            .map(|r| FeedbackItem {
                overdue: r.feedback_status == "sent" && r.feedback_due.is_some_and(|d| d < now),
                review: r,
            })
            .collect();
        Ok((provider, items))
    }

    /// One review of my provider with its handling.
    pub async fn feedback_item(
        &self,
        cap: &FeedbackResponder,
        review_id: &str,
    ) -> ServiceResult<(ReviewRecord, HandlingRecord)> {
        let provider = self.my_provider(cap).await?;
        let r = self.store().review(review_id).await?.filter(|r| r.provider == provider && r.session_id.is_none());
        let r = r.ok_or(ServiceError::NotFound("review"))?;
        let h = self.store().handling(&r.handling_id).await?.ok_or(ServiceError::NotFound("handling"))?;
        Ok((r, h))
    }

    /// Acknowledges the feedback, or disputes it with a reason (it goes to a second reviewer).
    pub async fn answer_feedback(
        &self,
        cap: &FeedbackResponder,
        review_id: &str,
        dispute: Option<&str>,
    ) -> ServiceResult<ReviewRecord> {
        let (r, _) = self.feedback_item(cap, review_id).await?;
        if r.feedback_status != "sent" {
            return Err(ServiceError::Conflict(format!("the feedback was answered already ({})", r.feedback_status)));
        }
        if let Some(due) = r.feedback_due
            && due < self.now()
        {
            return Err(ServiceError::Conflict(format!(
                "the answer was due by {}; the review stands (ask the reviewer to reopen it)",
                due.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        if let Some(due) = r.feedback_due
            && due < self.now()
        {
            return Err(ServiceError::Conflict(format!(
                "the answer was due by {}; the review stands (ask the reviewer to reopen it)",
                due.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        let reason = match dispute {
            Some(d) => Some(crate::cases::clean_text("reason", d, 2000, true)?),
            None => None,
        };
        let now = self.now();
        let next = ReviewRecord {
            feedback_status: if reason.is_some() { "disputed".into() } else { "acknowledged".into() },
            answered_by: Some(cap.actor().id.clone()),
            answered_at: Some(now),
            dispute_reason: reason,
            version: r.version + 1,
            ..r.clone()
        };
        let audit = entry(
            &cap.actor().id,
            if next.dispute_reason.is_some() { "qa.feedback.disputed" } else { "qa.feedback.acknowledged" },
            format!("review:{review_id}"),
            serde_json::json!({}),
            now,
        );
        self.commit_audited(
            &[Effect::Qa(QaChange::UpdateReview { review: Box::new(next.clone()), expected_version: r.version })],
            &[audit],
        )
        .await?;
        Ok(next)
    }
}
