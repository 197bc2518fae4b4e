//! The breach register (Arts. 33, 34): every breach documented with when it became known, the
//! 72-hour clock to the supervisory authority, phased notifications, the people affected and the
//! decision on telling them. A package sent to the wrong person is registered in one click.

use super::invalid;
use crate::audit::entry;
use crate::cases::clean_text;
use crate::{PrivacyViewer, PrivacyWorker, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::privacy::breach::{AuthorityClock, Risk, authority_clock, authority_due, phase_label};
use riskdesk_store::changes::{Effect, PrivacyChange};
use riskdesk_store::privacy::{BreachEvent, BreachRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachIn {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// When the controller became aware (RFC 3339; default now).
    #[serde(default)]
    pub aware_at: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<String>,
    #[serde(default, deserialize_with = "riskdesk_domain::whole::int")]
    pub people_affected: i64,
    /// Categories of data concerned, e.g. `contact, order history`.
    #[serde(default)]
    pub categories: String,
}

/// A step of a breach's handling: a phase with its text, and optionally the risk assessed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseIn {
    /// `assessed`, `contained`, `authority_notified`, `authority_update`, `people_notified`,
    /// `decided_not_to_notify`, `closed`.
    pub phase: String,
    #[serde(default)]
    pub text: String,
    /// With `assessed`: `unlikely`, `risk` or `high`.
    #[serde(default)]
    pub risk: Option<String>,
    #[serde(default)]
    pub people_affected: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreachView {
    #[serde(flatten)]
    pub record: BreachRecord,
    pub authority_due: DateTime<Utc>,
    pub authority_clock: AuthorityClock,
    pub events: Vec<BreachEvent>,
}

fn time(field: &str, s: &Option<String>, default: DateTime<Utc>) -> ServiceResult<DateTime<Utc>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid(field, "must be a time as RFC 3339")),
    }
}

impl Service {
    fn breach_view(&self, record: BreachRecord, events: Vec<BreachEvent>) -> BreachView {
        let risk = record.risk.as_deref().and_then(Risk::parse);
        BreachView {
            authority_due: authority_due(record.aware_at),
            authority_clock: authority_clock(record.aware_at, risk, record.authority_notified_at, self.now()),
            record,
            events,
        }
    }

    pub async fn register_breach(
        &self,
        cap: &PrivacyWorker,
        input: BreachIn,
        request_id: Option<String>,
    ) -> ServiceResult<BreachView> {
        let title = clean_text("title", &input.title, 200, true)?;
        let description = clean_text("description", &input.description, 4000, false)?;
        let categories = clean_text("categories", &input.categories, 500, false)?;
        let now = self.now();
        let aware_at = time("aware_at", &input.aware_at, now)?;
        if aware_at > now + chrono::Duration::minutes(5) {
            return Err(invalid("aware_at", "must not be in the future"));
        }
        let occurred_at = match &input.occurred_at {
            Some(_) => Some(time("occurred_at", &input.occurred_at, now)?),
            None => None,
        };
        if input.people_affected < 0 {
            return Err(invalid("people_affected", "must not be negative"));
        }
        let b = BreachRecord {
            breach_id: format!("brc_{}", ulid::Ulid::new()),
            title,
            description,
            occurred_at,
            aware_at,
            risk: None,
            people_affected: input.people_affected,
            categories,
            authority_notified_at: None,
            people_notified_at: None,
            people_decision: None,
            request_id,
            status: "open".into(),
            created_by: cap.actor().id.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let ev = BreachEvent {
            id: 0,
            breach_id: b.breach_id.clone(),
            at: now,
            actor: cap.actor().id.clone(),
            phase: "registered".into(),
            text: format!(
                "Registered; the authority is due by {} (72 hours after becoming aware).",
                authority_due(aware_at).format("%Y-%m-%d %H:%M UTC")
            ),
        };
        let audit = entry(
            &cap.actor().id,
            "privacy.breach.register",
            format!("breach:{}", b.breach_id),
            json!({"aware_at": aware_at, "request": b.request_id}),
            now,
        );
        self.commit_audited(
            &[
                Effect::Privacy(PrivacyChange::Breach { breach: Box::new(b.clone()), expected_version: 0 }),
                Effect::Privacy(PrivacyChange::BreachEvent(ev.clone())),
            ],
            &[audit],
        )
        .await?;
        Ok(self.breach_view(b, vec![ev]))
    }

    /// The package of a request went to the wrong person: a breach, registered at once.
    pub async fn report_misdelivery(
        &self,
        cap: &PrivacyWorker,
        request_id: &str,
        note: &str,
    ) -> ServiceResult<BreachView> {
        let r = self.request_record(request_id).await?;
        let note = clean_text("note", note, 2000, false)?;
        self.register_breach(
            cap,
            BreachIn {
                title: format!("Access package of request {} sent to the wrong person", r.request_id),
                description: format!("The access package of customer {} reached someone else. {note}", r.customer_id),
                aware_at: None,
                occurred_at: None,
                people_affected: 1,
                categories: "everything in the access package: contact data, orders, payment details, cases".into(),
            },
            Some(r.request_id.clone()),
        )
        .await
    }

    /// Records a phase: the assessment, containment, notifications, the decision, closing.
    pub async fn breach_phase(&self, cap: &PrivacyWorker, id: &str, input: PhaseIn) -> ServiceResult<BreachView> {
        let label =
            phase_label(input.phase.trim()).ok_or_else(|| invalid("phase", "is not a phase of the register"))?;
        let text = clean_text("text", &input.text, 4000, false)?;
        let cur = self.store().breach(id.trim()).await?.ok_or(ServiceError::NotFound("breach"))?;
        if cur.status == "closed" {
            return Err(ServiceError::Conflict("the breach is closed".into()));
        }
        let now = self.now();
        let mut b = cur.clone();
        match input.phase.trim() {
            "assessed" => {
                let risk = input
                    .risk
                    .as_deref()
                    .and_then(Risk::parse)
                    .ok_or_else(|| invalid("risk", "must be unlikely, risk or high"))?;
                b.risk = Some(risk.as_str().into());
            }
            "authority_notified" => b.authority_notified_at = Some(now),
            "people_notified" => {
                b.people_notified_at = Some(now);
                b.people_decision = Some(format!("told: {text}"));
            }
            "decided_not_to_notify" => {
                if text.chars().count() < 10 {
                    return Err(invalid("text", "record why the people are not told (Art. 34(3))"));
                }
                b.people_decision = Some(format!("not told: {text}"));
            }
            "closed" => {
                if b.risk.is_none() {
                    return Err(ServiceError::Conflict("assess the risk before closing".into()));
                }
                b.status = "closed".into();
            }
            _ => {}
        }
        if let Some(n) = input.people_affected {
            if n < 0 {
                return Err(invalid("people_affected", "must not be negative"));
            }
            b.people_affected = n;
        }
        b.updated_at = now;
        b.version = cur.version + 1;
        let late = input.phase == "authority_notified" && now > authority_due(cur.aware_at);
        let text = if late && text.is_empty() {
            return Err(invalid("text", "notified after 72 hours: give the reasons for the delay (Art. 33(1))"));
        } else {
            format!("{label}{}{text}", if text.is_empty() { "" } else { ": " })
        };
        let ev = BreachEvent {
            id: 0,
            breach_id: b.breach_id.clone(),
            at: now,
            actor: cap.actor().id.clone(),
            phase: input.phase.trim().into(),
            text,
        };
        let audit = entry(
            &cap.actor().id,
            "privacy.breach.phase",
            format!("breach:{}", b.breach_id),
            json!({"phase": ev.phase, "risk": b.risk}),
            now,
        );
        self.commit_audited(
            &[
                Effect::Privacy(PrivacyChange::Breach { breach: Box::new(b.clone()), expected_version: cur.version }),
                Effect::Privacy(PrivacyChange::BreachEvent(ev)),
            ],
            &[audit],
        )
        .await?;
        let events = self.store().breach_events(&b.breach_id).await?;
        Ok(self.breach_view(b, events))
    }

    pub async fn breach(&self, cap: &PrivacyViewer, id: &str) -> ServiceResult<BreachView> {
        let _ = cap;
        let b = self.store().breach(id.trim()).await?.ok_or(ServiceError::NotFound("breach"))?;
        let events = self.store().breach_events(&b.breach_id).await?;
        Ok(self.breach_view(b, events))
    }

    pub async fn breaches(&self, cap: &PrivacyViewer, open_only: bool) -> ServiceResult<Vec<BreachView>> {
        let _ = cap;
        Ok(self.store().breaches(open_only, 500).await?.into_iter().map(|b| self.breach_view(b, Vec::new())).collect())
    }
}
