//! The deadline watch: every minute, disputes needing a response are warned about inside the
//! warning window and escalated when the provider's deadline passed (their case goes urgent,
//! with a timeline entry); a dispute whose case did not open gets it; and the settled volumes
//! of this month and the last are counted from the orders (a provider's report wins).

use super::intake::month_of;
use crate::audit::entry;
use crate::{Service, ServiceResult};
use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use riskdesk_domain::cases::Priority;
use riskdesk_store::StoreError;
use riskdesk_store::cases::CaseEvent;
use riskdesk_store::changes::{CaseChange, DisputeChange, Effect};
use riskdesk_store::disputes::{DisputeRecord, SchemeVolume};

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    pub warned: usize,
    pub escalated: usize,
    pub cases_opened: usize,
}

pub(crate) fn month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).single().expect("the first of a month")
}

impl Service {
    /// Runs the dispute watch every minute in the background.
    pub fn spawn_dispute_watch(&self) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = svc.sweep_disputes().await {
                    tracing::warn!(error = %e, "the dispute watch failed; it runs again in a minute");
                }
            }
        });
    }

    pub async fn sweep_disputes(&self) -> ServiceResult<Swept> {
        let now = self.now();
        let warn = Duration::hours(self.dispute_settings().warn_hours);
        let mut done = Swept::default();
        for r in self.store().disputes_to_watch(now + warn, 500).await? {
            if r.case_id.is_none() {
                self.open_dispute_case(&r).await?;
                done.cases_opened += 1;
            }
            let Some(due) = r.due_by else { continue };
            if r.status != "needs_response" {
                continue;
            }
            let overdue = due <= now;
            if overdue && r.escalated_at.is_none() {
                if self.flag_deadline(&r, true).await? {
                    done.escalated += 1;
                }
            } else if !overdue && r.warned_at.is_none() && self.flag_deadline(&r, false).await? {
                done.warned += 1;
            }
        }
        self.refresh_volumes(now).await?;
        // New refund claims open their case within the minute; return abuse, counted over
        // months of events, every half hour.
        let half_hour = now.minute().is_multiple_of(30);
        done.cases_opened += self.open_return_cases(3, half_hour).await?;
        // A scheme ratio over (or forecast over) its threshold is the payments team's case.
        if half_hour {
            done.cases_opened += self.open_scheme_cases().await?;
        }
        Ok(done)
    }

    /// Records the warning or the escalation on the dispute and its case (the case goes
    /// urgent when the deadline passed). `false` when the dispute moved meanwhile.
    async fn flag_deadline(&self, r: &DisputeRecord, overdue: bool) -> ServiceResult<bool> {
        let Some(cur) = self.store().dispute(&r.dispute_id).await? else { return Ok(false) };
        let now = self.now();
        let due = cur.due_by.map_or(String::new(), |d| d.format("%Y-%m-%d %H:%M UTC").to_string());
        let mut next = DisputeRecord { updated_at: now, version: cur.version + 1, ..cur.clone() };
        if overdue {
            next.escalated_at = Some(now);
            next.warned_at = next.warned_at.or(Some(now));
        } else {
            next.warned_at = Some(now);
        }
        let mut effects =
            vec![Effect::Disputes(DisputeChange::Update { dispute: Box::new(next), expected_version: cur.version })];
        if let Some(case_id) = &cur.case_id
            && let Some(case) = self.store().case(case_id).await?
        {
            let text = if overdue {
                format!("The provider's deadline {due} passed without a response: escalated")
            } else {
                format!("The provider's deadline is {due}: respond before it")
            };
            effects.push(Effect::Cases(CaseChange::Event(CaseEvent {
                id: 0,
                case_id: case_id.clone(),
                at: now,
                actor: "system:dispute-watch".into(),
                kind: if overdue { "escalated".into() } else { "warning".into() },
                text,
            })));
            if overdue && case.priority != Priority::Urgent && case.status.is_open() {
                let mut c = case.clone();
                c.priority = Priority::Urgent;
                c.version = case.version + 1;
                c.updated_at = now;
                effects.push(Effect::Cases(CaseChange::Update { case: Box::new(c), expected_version: case.version }));
            }
        }
        let audit = entry(
            "system:dispute-watch",
            if overdue { "dispute.escalated" } else { "dispute.warned" },
            format!("dispute:{}", cur.dispute_id),
            serde_json::json!({"due_by": cur.due_by}),
            now,
        );
        match self.commit_audited(&effects, &[audit]).await {
            Ok(()) => Ok(true),
            Err(crate::ServiceError::Store(StoreError::Conflict(_))) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Counts this month's and last month's card orders per network into the volumes, unless
    /// a provider's report set them.
    async fn refresh_volumes(&self, now: DateTime<Utc>) -> ServiceResult<()> {
        self.recount_scheme_volumes(now, 2).await
    }

    /// Counts the card orders per network of the last `months` months (this one included) into
    /// the settled volumes, where no provider's report set them.
    pub async fn recount_scheme_volumes(&self, now: DateTime<Utc>, months: u32) -> ServiceResult<()> {
        let mut starts = vec![month_start(now)];
        for _ in 1..months.max(1) {
            let prev = month_start(*starts.last().expect("a month") - Duration::days(1));
            starts.push(prev);
        }
        starts.reverse();
        let first = starts[0];
        let stored = self.store().scheme_volumes(&month_of(first), &month_of(now)).await?;
        let mut effects = Vec::new();
        let spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
            starts.iter().map(|s| (*s, month_start(*s + Duration::days(32)))).collect();
        for (from, to) in spans {
            let month = month_of(from);
            for (network, n) in self.store().card_orders_by_network(from, to).await? {
                let prev = stored.iter().find(|v| v.month == month && v.network == network);
                if prev.is_some_and(|v| v.source == "report" || v.settled == n) {
                    continue;
                }
                effects.push(Effect::Disputes(DisputeChange::Volume(SchemeVolume {
                    month: month.clone(),
                    network,
                    settled: n,
                    source: "orders".into(),
                    updated_at: now,
                })));
            }
        }
        if !effects.is_empty() {
            // Derived figures, no one's decision: committed without an audit entry of their own.
            self.commit_audited(&effects, &[]).await?;
        }
        Ok(())
    }
}
