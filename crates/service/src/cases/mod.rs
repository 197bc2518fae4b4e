//! Cases: opened by hand, by the helpdesk over the API, by suspicion reports and by screening;
//! worked through their checklist, notes, links and hand-offs; moved through the domain's state
//! machine with SLA clocks; decided under four eyes where the decision is important ([`decision`]).
//! Every change is one transaction with its timeline entry and its audit record.

pub mod attachments;
mod auto;
pub mod decision;
pub mod exceptions;
pub mod reports;
pub mod settings;
pub mod sla;
pub mod tasks;
pub mod view;

use crate::audit::entry;
use crate::{Actor, CaseOpener, CaseViewer, CaseWorker, QueueAssigner, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::cases::sla::SlaClock;
use riskdesk_domain::cases::{CaseKind, CaseStatus, MoveCheck, Priority, Resolution, TransitionError, check_move};
use riskdesk_domain::{CustomerId, OrderId, Permission};
use riskdesk_store::cases::{AlreadyOpen, CaseEvent, CaseLink, CaseTask, NewCase};
pub use riskdesk_store::cases::{CaseFilter, CaseRecord};
use riskdesk_store::changes::{CaseChange, Effect};
pub use settings::{CaseSettings, CasesConfig};

/// Longest title, description and note, in characters.
pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 20_000;

/// A case to open.
#[derive(Debug, Clone, Default)]
pub struct OpenCase {
    pub kind: String,
    pub title: String,
    pub description: String,
    pub priority: Option<String>,
    pub customer_id: Option<String>,
    pub order_ids: Vec<String>,
    pub source: Option<String>,
    pub source_ref: Option<String>,
}

/// A case opened now, or the one that already covered it.
#[derive(Debug, Clone)]
pub enum Opened {
    Created(CaseRecord),
    Existing(CaseRecord),
}

impl Opened {
    pub fn case(&self) -> &CaseRecord {
        match self {
            Self::Created(c) | Self::Existing(c) => c,
        }
    }
}

/// A move asked for by a person.
#[derive(Debug, Clone, Default)]
pub struct Move {
    pub to: String,
    pub resolution: Option<String>,
    pub summary: Option<String>,
    pub note: Option<String>,
}

pub(crate) fn invalid(field: &str, msg: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("{field}: {msg}"))
}

/// Text checked for length and stripped of control characters (newlines and tabs stay).
pub(crate) fn clean_text(field: &str, s: &str, max: usize, required: bool) -> ServiceResult<String> {
    let t: String = s.trim().chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect();
    if required && t.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if t.chars().count() > max {
        return Err(invalid(field, format!("is longer than {max} characters")));
    }
    Ok(t)
}

fn event(case_id: &str, actor: &Actor, kind: &str, text: impl Into<String>, at: DateTime<Utc>) -> CaseEvent {
    CaseEvent { id: 0, case_id: case_id.to_owned(), at, actor: actor.id.clone(), kind: kind.into(), text: text.into() }
}

fn link(case_id: &str, kind: &str, value: &str, actor: &Actor, at: DateTime<Utc>) -> CaseLink {
    CaseLink {
        case_id: case_id.into(),
        kind: kind.into(),
        value: value.into(),
        added_by: actor.id.clone(),
        added_at: at,
    }
}

/// A link value checked for its kind: an order id, a customer id, or an entity `kind:hash`.
pub(crate) fn link_value(kind: &str, value: &str) -> ServiceResult<String> {
    let v = value.trim();
    match kind {
        "order" => OrderId::parse(v, "value").map(|o| o.to_string()).map_err(|e| invalid("value", e.detail)),
        "customer" => CustomerId::parse(v, "value").map(|c| c.to_string()).map_err(|e| invalid("value", e.detail)),
        "entity" => {
            let ok = v.split_once(':').is_some_and(|(k, h)| {
                !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    && (8..=64).contains(&h.len())
                    && h.chars().all(|c| c.is_ascii_hexdigit())
            });
            if ok {
                Ok(v.to_ascii_lowercase())
            } else {
                Err(invalid("value", "an entity is `kind:hexhash` (e.g. device:3fa2…)"))
            }
        }
        _ => Err(invalid("kind", "must be order, customer or entity")),
    }
}

impl Service {
    fn case_settings(&self) -> settings::CaseSettings {
        self.settings().cases
    }

    /// Opens a case, or answers the one that already covers it: the same `source` and
    /// `source_ref` (a helpdesk ticket), or the same open situation (`open_key`).
    pub async fn open_case(&self, cap: &CaseOpener, input: OpenCase) -> ServiceResult<Opened> {
        self.open_case_as(cap.actor(), input, None, Vec::new()).await
    }

    /// Opens a case for `actor`, with an open key for deduplication and extra links.
    pub(crate) async fn open_case_as(
        &self,
        actor: &Actor,
        input: OpenCase,
        open_key: Option<String>,
        extra_links: Vec<(String, String)>,
    ) -> ServiceResult<Opened> {
        let kind = CaseKind::parse(input.kind.trim()).ok_or_else(|| {
            invalid(
                "kind",
                format!(
                    "must be one of {}",
                    riskdesk_domain::cases::KINDS.iter().map(|k| k.code).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let title = clean_text("title", &input.title, MAX_TITLE, true)?;
        let description = clean_text("description", &input.description, MAX_TEXT, false)?;
        let priority = match input.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Priority::parse(p)
                .ok_or_else(|| invalid("priority", format!("must be one of {}", Priority::codes())))?,
            None => kind.priority,
        };
        let source =
            input.source.as_deref().map(|s| clean_text("source", s, 64, false)).transpose()?.filter(|s| !s.is_empty());
        let source_ref = input
            .source_ref
            .as_deref()
            .map(|s| clean_text("source_ref", s, 200, false))
            .transpose()?
            .filter(|s| !s.is_empty());
        if source_ref.is_some() && source.is_none() {
            return Err(invalid("source", "is required with source_ref"));
        }
        if let (Some(s), Some(r)) = (&source, &source_ref)
            && let Some(existing) =
                self.store().cases(&CaseFilter { statuses: Some(vec![]), limit: 1, ..by_source(s, r) }).await?.pop()
        {
            return Ok(Opened::Existing(existing));
        }
        let mut links: Vec<(String, String)> = Vec::new();
        if let Some(c) = input.customer_id.as_deref().filter(|c| !c.trim().is_empty()) {
            links.push((
                "customer".into(),
                link_value("customer", c).map_err(|_| invalid("customer_id", "is not a valid customer id"))?,
            ));
        }
        if input.order_ids.len() > 100 {
            return Err(invalid("order_ids", "at most 100 orders"));
        }
        for (i, o) in input.order_ids.iter().enumerate() {
            links.push((
                "order".into(),
                link_value("order", o).map_err(|_| invalid(&format!("order_ids[{i}]"), "is not a valid order id"))?,
            ));
        }
        links.extend(extra_links);
        let now = self.now();
        let cfg = self.case_settings();
        let budget = cfg.budget(kind.code, priority);
        let id = format!("cas_{}", ulid::Ulid::new());
        let case = CaseRecord {
            id: id.clone(),
            kind: kind.code.into(),
            title,
            description,
            priority,
            status: CaseStatus::New,
            team: kind.team.into(),
            owner: None,
            opened_by: actor.id.clone(),
            source,
            source_ref,
            open_key,
            created_at: now,
            updated_at: now,
            first_response_at: None,
            sla: SlaClock::start(now, &budget, cfg.calendar(kind.team)),
            resolution: None,
            summary: None,
            resolved_at: None,
            closed_at: None,
            warned_at: None,
            escalated_at: None,
            reopened: 0,
            version: 1,
        };
        let mut events =
            vec![event(&id, actor, "opened", format!("Opened as {} ({})", kind.label, priority.label()), now)];
        let links: Vec<CaseLink> = {
            let mut seen = std::collections::HashSet::new();
            links.into_iter().filter(|l| seen.insert(l.clone())).map(|(k, v)| link(&id, &k, &v, actor, now)).collect()
        };
        for l in &links {
            events.push(event(&id, actor, "link", format!("Linked {} {}", l.kind, l.value), now));
        }
        // The playbook in force for the kind gives the checklist (and the case links its
        // version); without one, the kind's starter checklist.
        let playbook = self.store().playbook_for(kind.code).await?;
        let items: Vec<(String, bool)> = match &playbook {
            Some(p) => {
                riskdesk_domain::knowledge::checklist(&p.body).into_iter().map(|i| (i.title, i.mandatory)).collect()
            }
            None => riskdesk_domain::cases::starter_checklist(kind.code)
                .iter()
                .map(|(t, m)| ((*t).to_owned(), *m))
                .collect(),
        };
        let mut links = links;
        if let Some(p) = &playbook {
            let sop = format!("{}@{}", p.slug, p.version);
            events.push(event(&id, actor, "playbook", format!("Playbook “{}”, version {}", p.title, p.version), now));
            links.push(link(&id, "sop", &sop, actor, now));
        }
        let tasks = items
            .into_iter()
            .enumerate()
            .map(|(i, (title, mandatory))| CaseTask {
                id: format!("tsk_{}", ulid::Ulid::new()),
                case_id: id.clone(),
                position: i as i64,
                title,
                mandatory,
                team: None,
                due_at: None,
                status: "open".into(),
                created_by: playbook
                    .as_ref()
                    .map_or_else(|| "playbook".to_owned(), |p| format!("playbook:{}@{}", p.slug, p.version)),
                created_at: now,
                done_by: None,
                done_at: None,
                answer: None,
            })
            .collect();
        let audit = entry(
            &actor.id,
            "case.open",
            format!("case:{id}"),
            serde_json::json!({"kind": case.kind, "priority": priority.as_str(), "source": case.source, "source_ref": case.source_ref, "links": links.len()}),
            now,
        );
        let new = NewCase { case: case.clone(), events, links, tasks };
        match self.store().open_case(&new, &[audit], self.audit_key()).await? {
            Ok(()) => Ok(Opened::Created(case)),
            Err(AlreadyOpen(existing)) => Ok(Opened::Existing(self.case_record(&existing).await?)),
        }
    }

    pub(crate) async fn case_record(&self, id: &str) -> ServiceResult<CaseRecord> {
        self.store().case(id).await?.ok_or(ServiceError::NotFound("case"))
    }

    /// One case as stored.
    pub async fn case(&self, _cap: &CaseViewer, id: &str) -> ServiceResult<CaseRecord> {
        self.case_record(id).await
    }

    /// Cases, open ones by time left, and how many match.
    pub async fn cases(&self, _cap: &CaseViewer, f: &CaseFilter) -> ServiceResult<(Vec<CaseRecord>, i64)> {
        Ok((self.store().cases(f).await?, self.store().count_cases(f).await?))
    }

    /// Stores a changed case with its timeline entries and audit record, if nobody changed it
    /// meanwhile. The first move, note or assignment by a person answers the case.
    pub(crate) async fn save_case(
        &self,
        before: &CaseRecord,
        mut case: CaseRecord,
        actor: &Actor,
        events: Vec<CaseEvent>,
        mut more: Vec<Effect>,
        (action, detail): (&str, serde_json::Value),
    ) -> ServiceResult<CaseRecord> {
        let now = self.now();
        if case.first_response_at.is_none() && actor.id.starts_with("user:") && actor.id != case.opened_by {
            case.first_response_at = Some(now);
        }
        case.updated_at = now;
        case.version = before.version + 1;
        let mut effects =
            vec![Effect::Cases(CaseChange::Update { case: Box::new(case.clone()), expected_version: before.version })];
        effects.extend(events.into_iter().map(|e| Effect::Cases(CaseChange::Event(e))));
        effects.append(&mut more);
        let audit = entry(&actor.id, action, format!("case:{}", case.id), detail, now);
        self.commit_audited(&effects, &[audit]).await?;
        Ok(case)
    }

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

fn by_source(source: &str, source_ref: &str) -> CaseFilter {
    CaseFilter { source: Some((source.to_owned(), source_ref.to_owned())), ..Default::default() }
}

pub(crate) fn allowed(s: CaseStatus) -> String {
    s.next().iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
}
