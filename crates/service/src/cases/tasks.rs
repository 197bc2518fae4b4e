//! A case's tasks: its playbook checklist (mandatory tasks block resolving), tasks people add,
//! and hand-offs: a task given to another team (logistics, warehouse, finance, the payment
//! provider contact) with a due time, answered back into the case's timeline.

use super::{clean_text, event, invalid};
use crate::{CaseViewer, CaseWorker, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::cases::team_label;
use riskdesk_store::cases::CaseTask;
use riskdesk_store::changes::{CaseChange, Effect};

/// A task to add; with `team` it is a hand-off to that team.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    pub title: String,
    pub mandatory: bool,
    pub team: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
}

impl Service {
    pub async fn add_case_task(&self, cap: &CaseWorker, case_id: &str, t: NewTask) -> ServiceResult<CaseTask> {
        let actor = cap.actor();
        let title = clean_text("title", &t.title, 300, true)?;
        let team = match t.team.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(team) => {
                team_label(team).ok_or_else(|| invalid("team", "is not a team"))?;
                Some(team.to_owned())
            }
            None => None,
        };
        let now = self.now();
        if let Some(d) = t.due_at
            && d <= now
        {
            return Err(invalid("due_at", "must be in the future"));
        }
        if team.is_some() && t.due_at.is_none() {
            return Err(invalid("due_at", "a hand-off needs a due time"));
        }
        let before = self.case_record(case_id).await?;
        if !before.status.is_open() {
            return Err(ServiceError::Conflict("the case is resolved; reopen it to add tasks".into()));
        }
        let position = self.store().case_tasks(case_id).await?.iter().map(|t| t.position + 1).max().unwrap_or(0);
        let task = CaseTask {
            id: format!("tsk_{}", ulid::Ulid::new()),
            case_id: case_id.into(),
            position,
            title: title.clone(),
            mandatory: t.mandatory,
            team: team.clone(),
            due_at: t.due_at,
            status: "open".into(),
            created_by: actor.id.clone(),
            created_at: now,
            done_by: None,
            done_at: None,
            answer: None,
        };
        let text = match &team {
            Some(team) => format!(
                "Handed to {}: {title} (due {})",
                team_label(team).unwrap_or(team),
                t.due_at.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
            ),
            None => format!("Task added: {title}"),
        };
        let kind = if team.is_some() { "handoff" } else { "task" };
        let ev = event(case_id, actor, kind, text, now);
        self.save_case(
            &before,
            before.clone(),
            actor,
            vec![ev],
            vec![Effect::Cases(CaseChange::AddTask(task.clone()))],
            ("case.task.add", serde_json::json!({"task": task.id, "team": team, "mandatory": task.mandatory})),
        )
        .await?;
        Ok(task)
    }

    /// Marks a task done (or, for a hand-off, answers it with `answer`), or cancels it.
    pub async fn finish_case_task(
        &self,
        cap: &CaseWorker,
        task_id: &str,
        status: &str,
        answer: Option<&str>,
    ) -> ServiceResult<CaseTask> {
        let actor = cap.actor();
        if !matches!(status, "done" | "cancelled" | "open") {
            return Err(invalid("status", "must be done, cancelled or open"));
        }
        let answer =
            answer.map(|a| clean_text("answer", a, super::MAX_TEXT, false)).transpose()?.filter(|a| !a.is_empty());
        let mut task = self.store().case_task(task_id).await?.ok_or(ServiceError::NotFound("task"))?;
        let before = self.case_record(&task.case_id).await?;
        if task.team.is_some() && status == "done" && answer.is_none() {
            return Err(invalid("answer", "answering a hand-off needs one"));
        }
        if task.mandatory && status == "cancelled" {
            return Err(ServiceError::Conflict("a mandatory task cannot be cancelled; do it".into()));
        }
        let now = self.now();
        task.status = status.into();
        (task.done_by, task.done_at) =
            if status == "open" { (None, None) } else { (Some(actor.id.clone()), Some(now)) };
        if answer.is_some() {
            task.answer = answer.clone();
        }
        let text = match (status, &task.team, &answer) {
            ("done", Some(team), Some(a)) => {
                format!("{} answered “{}”: {a}", team_label(team).unwrap_or(team), task.title)
            }
            ("done", _, _) => format!("Done: {}", task.title),
            ("cancelled", _, _) => format!("Cancelled: {}", task.title),
            _ => format!("Reopened task: {}", task.title),
        };
        let kind = if task.team.is_some() { "handoff" } else { "task" };
        let ev = event(&task.case_id, actor, kind, text, now);
        self.save_case(
            &before,
            before.clone(),
            actor,
            vec![ev],
            vec![Effect::Cases(CaseChange::UpdateTask(task.clone()))],
            ("case.task.update", serde_json::json!({"task": task.id, "status": status})),
        )
        .await?;
        Ok(task)
    }

    /// Tasks handed to a team, open ones first by due time.
    pub async fn handoffs(&self, _cap: &CaseViewer, team: &str, open_only: bool) -> ServiceResult<Vec<CaseTask>> {
        team_label(team).ok_or_else(|| invalid("team", "is not a team"))?;
        Ok(self.store().handoffs(team, open_only, 500).await?)
    }
}
