//! Suspicion reports: anyone signed in (a Tier-2 agent too) flags an order, customer or entity
//! with a reason. Reports about the same subject join its one open report case; the reporter
//! follows the outcome (status and resolution, nothing of the case's restricted content).

use super::{OpenCase, Opened, clean_text, event, invalid, link_value};
use crate::{CaseOpener, Service, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_store::cases::CaseFilter;
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `order`, `customer` or `entity`.
    pub subject_kind: String,
    pub subject_id: String,
    pub reason: String,
}

/// What a reporter sees of a case they reported or escalated.
#[derive(Debug, Clone, Serialize)]
pub struct ReportOutcome {
    pub case_id: String,
    pub title: String,
    pub kind: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub resolution: Option<&'static str>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Service {
    pub async fn report_suspicion(&self, cap: &CaseOpener, r: Report) -> ServiceResult<Opened> {
        let actor = cap.actor();
        let kind = r.subject_kind.trim().to_owned();
        let value = link_value(&kind, &r.subject_id).map_err(|e| match kind.as_str() {
            "order" | "customer" | "entity" => invalid("subject_id", e.to_string().trim_start_matches("value: ")),
            _ => invalid("subject_kind", "must be order, customer or entity"),
        })?;
        let reason = clean_text("reason", &r.reason, 2000, true)?;
        let key = format!("report:{kind}:{value}");
        let text = format!("Reported by {}: {reason}", actor.username.as_deref().unwrap_or(&actor.id));
        let opened = self
            .open_case_as(
                actor,
                OpenCase {
                    kind: "suspicion_report".into(),
                    title: format!("Suspicious {kind} {value}"),
                    description: reason.clone(),
                    ..Default::default()
                },
                Some(key),
                vec![(kind.clone(), value.clone())],
            )
            .await?;
        // The report joins the case's timeline whether it opened the case or joined it.
        let before = self.case_record(&opened.case().id).await?;
        let ev = event(&before.id, actor, "report", text, self.now());
        let c = self
            .save_case(
                &before,
                before.clone(),
                actor,
                vec![ev],
                Vec::new(),
                ("case.report", serde_json::json!({"subject_kind": kind})),
            )
            .await?;
        Ok(match opened {
            Opened::Created(_) => Opened::Created(c),
            Opened::Existing(_) => Opened::Existing(c),
        })
    }

    /// The cases this person opened or reported into, newest first, as their outcome.
    pub async fn my_reports(&self, cap: &CaseOpener) -> ServiceResult<Vec<ReportOutcome>> {
        let f = CaseFilter {
            statuses: Some(vec![]),
            reported_by: Some(cap.actor().id.clone()),
            limit: 200,
            ..Default::default()
        };
        let mut cases = self.store().cases(&f).await?;
        cases.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        Ok(cases
            .into_iter()
            .map(|c| ReportOutcome {
                case_id: c.id,
                title: c.title,
                kind: c.kind,
                status: c.status.as_str(),
                status_label: c.status.label(),
                resolution: c.resolution.map(|r| r.label()),
                opened_at: c.created_at,
                closed_at: c.closed_at.or(c.resolved_at),
            })
            .collect())
    }
}
