//! Working a case: notes, taking and assigning it, its priority, its links.

use super::{CaseRecord, MAX_TEXT, clean_text, event, invalid, link, link_value};
use crate::{CaseViewer, CaseWorker, QueueAssigner, Service, ServiceError, ServiceResult};
use riskdesk_domain::Permission;
use riskdesk_domain::cases::Priority;
use riskdesk_store::changes::{CaseChange, Effect};

impl Service {
    /// Adds a note to the timeline.
    pub async fn add_case_note(&self, cap: &CaseWorker, id: &str, text: &str) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        let text = clean_text("text", text, MAX_TEXT, true)?;
        let before = self.case_record(id).await?;
        let ev = event(id, actor, "note", text, self.now());
        self.save_case(&before, before.clone(), actor, vec![ev], Vec::new(), ("case.note", serde_json::json!({}))).await
    }

    /// Takes a case (the caller becomes its owner), or gives it back (`take` false, owner only).
    pub async fn take_case(&self, cap: &CaseWorker, id: &str, take: bool) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        let name = actor.username.clone().ok_or_else(|| ServiceError::Forbidden("only a person owns a case".into()))?;
        let before = self.case_record(id).await?;
        let mut c = before.clone();
        let text = if take {
            if before.owner.as_deref() == Some(&name) {
                return Ok(before);
            }
            c.owner = Some(name.clone());
            match &before.owner {
                Some(prev) => format!("Taken over from {prev} by {name}"),
                None => format!("Taken by {name}"),
            }
        } else {
            if before.owner.as_deref() != Some(&name) {
                return Err(ServiceError::Conflict("only the case's owner gives it back".into()));
            }
            c.owner = None;
            format!("Given back by {name}")
        };
        let ev = event(id, actor, "assigned", text, self.now());
        self.save_case(
            &before,
            c,
            actor,
            vec![ev],
            Vec::new(),
            ("case.assign", serde_json::json!({"owner": if take { Some(&name) } else { None }})),
        )
        .await
    }

    /// Assigns a case to someone who works cases (team leads), or to nobody.
    pub async fn assign_case(
        &self,
        cap: &QueueAssigner,
        id: &str,
        username: Option<&str>,
    ) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        let owner = match username.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => {
                let user = self.store().user_by_name(u).await?.ok_or_else(|| invalid("username", "no such user"))?;
                if user.disabled_at.is_some() || !user.role.allows(Permission::WorkCases) {
                    return Err(invalid("username", format!("{u} does not work cases")));
                }
                Some(user.username)
            }
            None => None,
        };
        let before = self.case_record(id).await?;
        let mut c = before.clone();
        c.owner = owner.clone();
        let text = match &owner {
            Some(o) => format!("Assigned to {o}"),
            None => "Unassigned".to_owned(),
        };
        let ev = event(id, actor, "assigned", text, self.now());
        self.save_case(&before, c, actor, vec![ev], Vec::new(), ("case.assign", serde_json::json!({"owner": owner})))
            .await
    }

    /// Changes the priority (the SLA budget follows: due times are computed anew from opening).
    pub async fn set_case_priority(&self, cap: &CaseWorker, id: &str, priority: &str) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        let p = Priority::parse(priority.trim())
            .ok_or_else(|| invalid("priority", format!("must be one of {}", Priority::codes())))?;
        let before = self.case_record(id).await?;
        if p == before.priority {
            return Ok(before);
        }
        let cfg = self.case_settings();
        let budget = cfg.budget(&before.kind, p);
        let cal = cfg.calendar(&before.team);
        let mut c = before.clone();
        c.priority = p;
        c.sla.rebudget(before.created_at, &budget, cal);
        c.warned_at = None;
        let ev =
            event(id, actor, "priority", format!("Priority {} → {}", before.priority.label(), p.label()), self.now());
        self.save_case(
            &before,
            c,
            actor,
            vec![ev],
            Vec::new(),
            ("case.priority", serde_json::json!({"priority": p.as_str()})),
        )
        .await
    }

    /// Moves a case to another support tier (1 first line, 2 Tier-2, 3 risk experts).
    pub async fn set_case_tier(&self, cap: &CaseWorker, id: &str, tier: i64) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        if !(1..=3).contains(&tier) {
            return Err(invalid("tier", "must be 1, 2 or 3"));
        }
        let before = self.case_record(id).await?;
        if before.tier == tier {
            return Ok(before);
        }
        let mut c = before.clone();
        c.tier = tier;
        let ev = event(id, actor, "tier", format!("Tier {} → {tier}", before.tier), self.now());
        self.save_case(&before, c, actor, vec![ev], Vec::new(), ("case.tier", serde_json::json!({"tier": tier}))).await
    }

    /// Links an order, customer or entity to the case.
    pub async fn link_case(&self, cap: &CaseWorker, id: &str, kind: &str, value: &str) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        let value = link_value(kind.trim(), value)?;
        let kind = kind.trim();
        let before = self.case_record(id).await?;
        let now = self.now();
        let ev = event(id, actor, "link", format!("Linked {kind} {value}"), now);
        let l = Effect::Cases(CaseChange::Link(link(id, kind, &value, actor, now)));
        self.save_case(
            &before,
            before.clone(),
            actor,
            vec![ev],
            vec![l],
            ("case.link", serde_json::json!({"kind": kind, "value": value})),
        )
        .await
    }

    pub async fn unlink_case(&self, cap: &CaseWorker, id: &str, kind: &str, value: &str) -> ServiceResult<CaseRecord> {
        let actor = cap.actor();
        let before = self.case_record(id).await?;
        let links = self.store().case_links(id).await?;
        if !links.iter().any(|l| l.kind == kind && l.value == value) {
            return Err(ServiceError::NotFound("link"));
        }
        let ev = event(id, actor, "link", format!("Unlinked {kind} {value}"), self.now());
        let l = Effect::Cases(CaseChange::Unlink { case_id: id.into(), kind: kind.into(), value: value.into() });
        self.save_case(
            &before,
            before.clone(),
            actor,
            vec![ev],
            vec![l],
            ("case.unlink", serde_json::json!({"kind": kind, "value": value})),
        )
        .await
    }

    /// People a case can be assigned to.
    pub async fn case_workers(&self, _cap: &CaseViewer) -> ServiceResult<Vec<String>> {
        Ok(self
            .store()
            .users()
            .await?
            .into_iter()
            .filter(|u| u.role.allows(Permission::WorkCases) && u.disabled_at.is_none())
            .map(|u| u.username)
            .collect())
    }
}
