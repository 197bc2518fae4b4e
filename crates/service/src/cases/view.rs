//! A case as its page and the API show it: the record, its SLA clocks now, its timeline, tasks,
//! the moves allowed next, and every link with where else it appears ("seen in other cases":
//! other cases, the order's decisions, the customer's fraud label).

use super::CaseRecord;
use crate::{CaseViewer, Service, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::OrderId;
use riskdesk_domain::cases::sla::SlaState;
use riskdesk_domain::cases::{CaseKind, CaseStatus, team_label};
use riskdesk_store::cases::{CaseEvent, CaseLink, CaseTask};
use serde::Serialize;

/// The clocks of a case at a moment.
#[derive(Debug, Clone, Serialize)]
pub struct SlaView {
    pub first_response_due_at: DateTime<Utc>,
    pub resolution_due_at: DateTime<Utc>,
    pub first_response: SlaState,
    pub resolution: SlaState,
    /// Working seconds left until resolution is due (negative once breached, frozen while paused).
    pub time_left_secs: i64,
}

/// Another case, briefly.
#[derive(Debug, Clone, Serialize)]
pub struct CaseBrief {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub status: CaseStatus,
    pub resolution: Option<String>,
}

/// A link and where else its subject appears.
#[derive(Debug, Clone, Serialize)]
pub struct SeenLink {
    #[serde(flatten)]
    pub link: CaseLink,
    pub other_cases: Vec<CaseBrief>,
    /// Decisions and labels: "screened review, score 85", "cancelled by anna (suspected fraud)".
    pub facts: Vec<String>,
    /// Where the web UI shows the subject.
    pub href: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub case: CaseRecord,
    pub kind_label: &'static str,
    pub team_label: &'static str,
    pub sla: SlaView,
    pub allowed_next: Vec<&'static str>,
    pub events: Vec<CaseEvent>,
    pub tasks: Vec<CaseTask>,
    pub links: Vec<SeenLink>,
    pub attachments: Vec<riskdesk_store::cases::Attachment>,
}

pub fn kind_label(code: &str) -> &'static str {
    CaseKind::parse(code).map_or("Case", |k| k.label)
}

impl Service {
    /// The clocks of a case now.
    pub fn case_sla(&self, c: &CaseRecord) -> SlaView {
        let cfg = self.settings().cases;
        let b = cfg.budget(&c.kind, c.priority);
        let cal = cfg.calendar(&c.team);
        let now = self.now();
        SlaView {
            first_response_due_at: c.sla.first_response_due_at,
            resolution_due_at: c.sla.resolution_due_at,
            first_response: c.sla.first_response_state(c.first_response_at, now),
            resolution: c.sla.resolution_state(c.status, now, &b, cal),
            time_left_secs: c.sla.time_left(now, &b, cal).num_seconds(),
        }
    }

    pub async fn case_view(&self, cap: &CaseViewer, id: &str) -> ServiceResult<CaseView> {
        let case = self.case(cap, id).await?;
        let events = self.store().case_events(id).await?;
        let tasks = self.store().case_tasks(id).await?;
        let mut links = Vec::new();
        for l in self.store().case_links(id).await? {
            links.push(self.seen(l, id).await?);
        }
        Ok(CaseView {
            kind_label: kind_label(&case.kind),
            team_label: team_label(&case.team).unwrap_or("—"),
            sla: self.case_sla(&case),
            allowed_next: case.status.next().iter().map(|s| s.as_str()).collect(),
            attachments: self.store().case_attachments(id).await?,
            case,
            events,
            tasks,
            links,
        })
    }

    async fn seen(&self, link: CaseLink, this: &str) -> ServiceResult<SeenLink> {
        // A playbook version is shared by every case of its kind: nothing to see there.
        let others = if link.kind == "sop" {
            Vec::new()
        } else {
            self.store().cases_linked(&link.kind, &link.value, 21).await?
        };
        let other_cases = others
            .into_iter()
            .filter(|c| c.id != this)
            .take(20)
            .map(|c| CaseBrief {
                id: c.id,
                title: c.title,
                kind: c.kind,
                status: c.status,
                resolution: c.resolution.map(|r| r.label().to_owned()),
            })
            .collect();
        let mut facts = Vec::new();
        let href = match link.kind.as_str() {
            "order" => {
                if let Ok(oid) = OrderId::parse(&link.value, "order") {
                    if let Some(d) = self.store().first_decision(&oid).await? {
                        facts.push(format!("screened {}, score {}", d.decision.as_str(), d.score));
                    }
                    for a in self.store().review_actions(&link.value).await? {
                        facts.push(format!("{} by {} ({})", a.action, a.actor.trim_start_matches("user:"), a.reason));
                    }
                }
                Some(format!("/orders/{}", link.value))
            }
            "sop" => Some(format!("/knowledge/{}", link.value.replace('@', "?v="))),
            "customer" => {
                if !self.store().fraud_accounts(std::slice::from_ref(&link.value)).await?.is_empty() {
                    facts.push("labelled confirmed fraud".into());
                }
                None
            }
            _ => None,
        };
        Ok(SeenLink { link, other_cases, facts, href })
    }
}
