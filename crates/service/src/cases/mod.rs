//! Cases: opened by hand, by the helpdesk over the API, by suspicion reports and by screening;
//! worked through their checklist, notes, links and hand-offs; moved through the domain's state
//! machine with SLA clocks; decided under four eyes where the decision is important ([`decision`]).
//! Every change is one transaction with its timeline entry and its audit record.

pub mod attachments;
mod auto;
pub mod decision;
pub mod exceptions;
mod moves;
pub mod reports;
pub mod settings;
pub mod sla;
pub mod tasks;
pub mod view;
mod work;

use crate::audit::entry;
use crate::{Actor, CaseOpener, CaseViewer, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::cases::sla::SlaClock;
use riskdesk_domain::cases::{CaseKind, CaseStatus, Priority};
use riskdesk_domain::{CustomerId, OrderId};
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
    /// The support tier: 1, 2 or 3 (default 3, the risk experts).
    pub tier: Option<i64>,
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

/// Text checked for length (as sent, every character counted) and trimmed and stripped of
/// control characters (newlines and tabs stay).
pub(crate) fn clean_text(field: &str, s: &str, max: usize, required: bool) -> ServiceResult<String> {
    let t: String = s.trim().chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect();
    if required && t.is_empty() {
        return Err(invalid(field, "is blank"));
    }
    if s.chars().count() > max {
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
        let tier = input.tier.unwrap_or(3);
        if !(1..=3).contains(&tier) {
            return Err(invalid("tier", "must be 1, 2 or 3"));
        }
        let source =
            input.source.as_deref().map(|s| clean_text("source", s, 64, false)).transpose()?.filter(|s| !s.is_empty());
        let source_ref = input
            .source_ref
            .as_deref()
            .map(|s| clean_text("source_ref", s, 200, false))
            .transpose()?
            .filter(|s| !s.is_empty());
        if source_ref.is_some() && source.is_none() {
            return Err(invalid("source", "a source_ref needs its source"));
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
            tier,
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
}

fn by_source(source: &str, source_ref: &str) -> CaseFilter {
    CaseFilter { source: Some((source.to_owned(), source_ref.to_owned())), ..Default::default() }
}

pub(crate) fn allowed(s: CaseStatus) -> String {
    s.next().iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
}
