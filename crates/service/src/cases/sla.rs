//! The SLA watch: warns before a case's resolution is due and escalates on breach (the timeline
//! says so and the case goes to a team lead), from the Clock, so tests are exact. Run by the
//! server every minute, and by tests directly.

use super::event;
use crate::{Actor, Service, ServiceResult};
use chrono::Duration;
use riskdesk_domain::Role;
use riskdesk_domain::cases::sla::SlaState;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SlaSweep {
    pub warned: usize,
    pub escalated: usize,
}

/// How far ahead a pass looks for cases that may be in their warning share.
const LOOKAHEAD_DAYS: i64 = 14;

impl Service {
    pub async fn sweep_case_slas(&self) -> ServiceResult<SlaSweep> {
        let now = self.now();
        let actor = Actor::other("system:sla");
        let cfg = self.settings().cases;
        let lead = self
            .store()
            .users()
            .await?
            .into_iter()
            .filter(|u| u.role == Role::TeamLead && u.disabled_at.is_none())
            .map(|u| u.username)
            .min();
        let mut out = SlaSweep::default();
        for before in self.store().cases_due(now + Duration::days(LOOKAHEAD_DAYS), 500).await? {
            let b = cfg.budget(&before.kind, before.priority);
            let state = before.sla.resolution_state(before.status, now, &b, cfg.calendar(&before.team));
            let mut c = before.clone();
            let text = match state {
                SlaState::Breached if before.escalated_at.is_none() => {
                    c.escalated_at = Some(now);
                    c.warned_at = c.warned_at.or(Some(now));
                    out.escalated += 1;
                    match &lead {
                        Some(l) if before.owner.as_deref() != Some(l) => {
                            c.owner = Some(l.clone());
                            format!("Resolution SLA breached; escalated to team lead {l}")
                        }
                        _ => "Resolution SLA breached; escalated".to_owned(),
                    }
                }
                SlaState::Warning if before.warned_at.is_none() => {
                    c.warned_at = Some(now);
                    out.warned += 1;
                    format!(
                        "Resolution due {}; less than a fifth of the budget left",
                        before.sla.resolution_due_at.format("%Y-%m-%d %H:%M UTC")
                    )
                }
                _ => continue,
            };
            let action = if c.escalated_at != before.escalated_at { "case.sla.breach" } else { "case.sla.warning" };
            let ev = event(&before.id, &actor, "sla", text, now);
            // A case changed meanwhile is looked at again on the next pass.
            if let Err(e) =
                self.save_case(&before, c, &actor, vec![ev], Vec::new(), (action, serde_json::json!({}))).await
            {
                tracing::warn!(case = %before.id, error = %e, "SLA sweep skipped a case");
            }
        }
        Ok(out)
    }
}

impl Service {
    /// Runs the SLA watch every minute in the background.
    pub fn spawn_case_watch(&self) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = svc.sweep_case_slas().await {
                    tracing::warn!(error = %e, "the SLA watch failed; it runs again in a minute");
                }
            }
        });
    }
}
