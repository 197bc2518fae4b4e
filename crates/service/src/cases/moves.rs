//! Moving a case through the domain's state machine: resolving needs a resolution, a summary
//! and no open mandatory task; waiting states pause the resolution clock; reopening restarts it.

use super::{MAX_TEXT, Move, allowed, clean_text, event, invalid};
use crate::{CaseWorker, Service, ServiceError, ServiceResult};
use riskdesk_domain::cases::sla::SlaClock;
use riskdesk_domain::cases::{CaseStatus, MoveCheck, Resolution, TransitionError, check_move};
use riskdesk_store::cases::CaseRecord;

impl Service {
    /// Moves a case: the domain checks the move; resolving needs a resolution and a summary and
    /// no open mandatory task; waiting states pause the resolution clock; reopening restarts it.
    pub async fn move_case(&self, cap: &CaseWorker, id: &str, m: Move) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        let before = self.case_record(id).await?;
        let to = CaseStatus::parse(m.to.trim())
            .ok_or_else(|| invalid("to", format!("must be one of {}", CaseStatus::codes())))?;
        if to == CaseStatus::PendingApproval {
            return Err(ServiceError::Conflict(format!(
                "a case enters pending_approval by proposing a decision; allowed next: {}",
                allowed(before.status)
            )));
        }
        let resolution = match m.resolution.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(
                Resolution::parse(r)
                    .ok_or_else(|| invalid("resolution", format!("must be one of {}", Resolution::codes())))?,
            ),
            None => None,
        };
        let summary = m
            .summary
            .as_deref()
            .map(|s| clean_text("summary", s, MAX_TEXT, false))
            .transpose()?
            .filter(|s| !s.is_empty());
        let note =
            m.note.as_deref().map(|s| clean_text("note", s, MAX_TEXT, false)).transpose()?.filter(|s| !s.is_empty());
        let now = self.now();
        let open_tasks = if to.ends() {
            self.store().case_tasks(id).await?.iter().filter(|t| t.mandatory && t.status == "open").count()
        } else {
            0
        };
        let check = MoveCheck {
            from: before.status,
            to,
            has_resolution: resolution.is_some() || before.resolution.is_some(),
            has_summary: summary.is_some() || before.summary.is_some(),
            open_mandatory_tasks: open_tasks,
            closed_at: before.closed_at,
            now,
        };
        check_move(check).map_err(|e| match e {
            TransitionError::Illegal { .. } | TransitionError::ReopenTooLate | TransitionError::TasksOpen(_) => {
                ServiceError::Conflict(e.to_string())
            }
            TransitionError::Missing(_) => ServiceError::Invalid(e.to_string()),
        })?;
        let cfg = self.case_settings();
        let budget = cfg.budget(&before.kind, before.priority);
        let cal = cfg.calendar(&before.team);
        let mut c = before.clone();
        c.sla.on_status(c.created_at, to, now, &budget, cal);
        c.status = to;
        let mut events = vec![event(id, actor, "status", format!("{} → {}", before.status.label(), to.label()), now)];
        match to {
            CaseStatus::Resolved | CaseStatus::Closed => {
                if resolution.is_some() {
                    c.resolution = resolution;
                }
                if summary.is_some() {
                    c.summary = summary.clone();
                }
                if to == CaseStatus::Resolved || c.resolved_at.is_none() {
                    c.resolved_at = Some(now);
                }
                if to == CaseStatus::Closed {
                    c.closed_at = Some(now);
                }
                c.open_key = None;
                let stated = resolution.is_some() || summary.is_some() || to == CaseStatus::Resolved;
                if let Some(r) = c.resolution.filter(|_| stated) {
                    events.push(event(
                        id,
                        actor,
                        "resolution",
                        format!("{}: {}", r.label(), c.summary.clone().unwrap_or_default()),
                        now,
                    ));
                }
            }
            _ if before.status.ends() => {
                // Reopened: the resolution clock starts again from now.
                c.reopened += 1;
                c.resolution = None;
                c.summary = None;
                c.resolved_at = None;
                c.closed_at = None;
                c.warned_at = None;
                c.escalated_at = None;
                let restart = SlaClock::start(now, &budget, cal);
                c.sla.resolution_due_at = restart.resolution_due_at;
                c.sla.paused_secs = 0;
                c.sla.paused_since = None;
                events.push(event(id, actor, "status", "Reopened", now));
            }
            _ => {}
        }
        if let Some(n) = note {
            events.push(event(id, actor, "note", n, now));
        }
        self.save_case(&before, c, actor, events, Vec::new(), ("case.transition", serde_json::json!({"from": before.status.as_str(), "to": to.as_str(), "resolution": resolution.map(|r| r.as_str())})))
        .await
    }
}
