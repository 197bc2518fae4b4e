//! Records of processing (Art. 30) for riskdesk's own processing, with the retention classes
//! it enforces; the privacy dashboard; and retention sweeps: a batched, resumable job that
//! deletes what the vault kept past its date and anonymises orders past their retention, leaving
//! alone everything of a person with an open case or dispute (a legal hold).

use super::jobs::new_job;
use crate::audit::entry;
use crate::{Actor, PrivacyViewer, PrivacyWorker, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use riskdesk_domain::privacy::retention::{RECORD_KINDS, Treatment};
use riskdesk_domain::privacy::scrub::{Known, scrub};
use riskdesk_store::changes::{Effect, PrivacyChange};
use riskdesk_store::privacy::JobRecord;
use serde::Serialize;
use serde_json::{Value, json};

/// Transactions a sweep batch is written in: one in five rows a pass, so that on a page kept a
/// quarter free (the `orders` fillfactor of 75) each pass's new versions fit beside the old.
const SWEEP_PASSES: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub open: usize,
    pub overdue: usize,
    pub due_within_7: usize,
    pub paused: usize,
    /// Open requests by right.
    pub by_right: Vec<(String, usize)>,
    /// Requests by days left, nearest first.
    pub requests: Vec<super::RequestView>,
    pub open_breaches: Vec<super::breaches::BreachView>,
    pub sweeps: Vec<JobRecord>,
    /// Jobs running or waiting.
    pub jobs: Vec<JobRecord>,
}

impl Service {
    pub async fn privacy_dashboard(&self, cap: &PrivacyViewer) -> ServiceResult<Dashboard> {
        let requests = self.privacy_requests(cap, false, None).await?;
        let mut by_right: std::collections::BTreeMap<String, usize> = Default::default();
        for r in &requests {
            *by_right.entry(r.record.right.clone()).or_default() += 1;
        }
        Ok(Dashboard {
            open: requests.len(),
            overdue: requests.iter().filter(|r| r.overdue()).count(),
            due_within_7: requests.iter().filter(|r| r.days_left.is_some_and(|d| (0..=7).contains(&d))).count(),
            paused: requests.iter().filter(|r| r.paused).count(),
            by_right: by_right.into_iter().collect(),
            open_breaches: self.breaches(cap, true).await?,
            sweeps: self.store().sweep_runs(10).await?,
            jobs: self.store().privacy_jobs_open().await?,
            requests,
        })
    }

    /// The records of processing (Art. 30(1)) of riskdesk itself, with the erasure limits it enforces.
    pub fn records_of_processing(&self, cap: &PrivacyViewer) -> Value {
        let _ = cap;
        let cfg = self.privacy_settings();
        let retention: Vec<Value> = RECORD_KINDS
            .iter()
            .map(|(k, label, _)| {
                let c = cfg.class_of(k);
                let limit = match c.treatment() {
                    Treatment::Keep(y) => format!(
                        "{y} years from the end of the year the record arose; then anonymised by the retention sweep"
                    ),
                    Treatment::WhileOpen => {
                        "while a case or dispute about it is open; erased on request once it closes".into()
                    }
                    Treatment::Pseudonymise => {
                        "the value is erased on request; the keyed hash stays for fraud prevention".into()
                    }
                    Treatment::Erase => "erased on request; no retention duty".into(),
                };
                json!({"records": label, "kind": k, "class": c.code, "limit": limit, "basis": c.basis})
            })
            .collect();
        json!({
            "controller": cfg.controller,
            "activities": [
                {"name": "Order screening and fraud prevention", "purpose": "Prevent payment fraud, account takeover and abuse",
                 "basis": "Art. 6(1)(f) GDPR, Recital 47", "people": ["customers", "people named in orders"],
                 "data": ["contact data", "addresses", "order contents", "payment instrument fingerprints", "device and IP", "decisions and their reasons"],
                 "recipients": cfg.recipients},
                {"name": "Sensitive cases and investigations", "purpose": "Decide escalated fraud, account-takeover and privacy cases",
                 "basis": "Art. 6(1)(c) and (f) GDPR", "people": ["customers", "staff"], "data": ["case notes", "attachments", "linked orders"], "recipients": []},
                {"name": "Disputes, chargebacks and refund claims", "purpose": "Defend and settle payment disputes",
                 "basis": "Art. 6(1)(b), (c), (f) GDPR", "people": ["customers"], "data": ["dispute records", "provider notifications", "evidence"], "recipients": ["payment provider"]},
                {"name": "Quality assurance of Tier-2 handlings", "purpose": "Review and improve customer service",
                 "basis": "Art. 6(1)(f) GDPR", "people": ["customers", "agents"], "data": ["handling transcripts", "scores"], "recipients": ["service provider team leads"]},
                {"name": "Data-subject requests and breaches", "purpose": "Answer requests under Arts. 15-22 and keep the breach register",
                 "basis": "Art. 6(1)(c) GDPR", "people": ["customers"], "data": ["requests", "identity evidence", "outcomes"], "recipients": []}
            ],
            "third_country_transfers": "none by riskdesk itself",
            "security": ["access by role with four eyes on releases and erasures", "purpose-bound, hash-chained access log", "masked personal data by default",
                         "keyed hashes for linking", "restricted vault for data kept under a retention duty"],
            "retention": retention,
        })
    }

    /// Starts a retention sweep now (one at a time); answers its job id.
    pub async fn start_sweep(&self, cap: &PrivacyWorker) -> ServiceResult<String> {
        self.start_sweep_as(cap.actor()).await
    }

    pub(crate) async fn start_sweep_as(&self, actor: &Actor) -> ServiceResult<String> {
        if let Some(j) = self.store().privacy_jobs_open().await?.into_iter().find(|j| j.kind == "sweep") {
            return Ok(j.job_id);
        }
        let now = self.now();
        let job = new_job("sweep", None, actor, now);
        let audit = entry(&actor.id, "privacy.sweep.start", format!("job:{}", job.job_id), json!({}), now);
        self.commit_audited(
            &[Effect::Privacy(PrivacyChange::Job { job: Box::new(job.clone()), expected_updated: None })],
            &[audit],
        )
        .await?;
        Ok(job.job_id)
    }

    /// Starts the sweep when the last one is older than `sweep_every_hours`.
    pub(crate) async fn sweep_if_due(&self) -> ServiceResult<()> {
        let every = Duration::hours(i64::try_from(self.privacy_settings().sweep_every_hours).unwrap_or(24).max(1));
        let last = self.store().sweep_runs(1).await?;
        if last.first().is_none_or(|j| j.created_at + every <= self.now()) {
            self.start_sweep_as(&Actor::other("system:privacy")).await?;
        }
        Ok(())
    }

    /// The first day no longer kept for orders: 1 January of (this year - years).
    fn order_cutoff(&self) -> Option<i64> {
        let c = self.privacy_settings().class_of("order");
        let Treatment::Keep(years) = c.treatment() else { return None };
        let today = self.privacy_today();
        let first = NaiveDate::from_ymd_opt(today.year() - years as i32, 1, 1)?;
        let start = self.privacy_zone().from_local_datetime(&first.and_hms_opt(0, 0, 0)?).earliest()?;
        Some(start.timestamp_millis())
    }

    /// A sweep: section 0 deletes vault rows past their date, section 1 anonymises orders past
    /// their retention; each batch commits with the cursor. `done_rows` counts what was changed.
    pub(crate) async fn run_sweep_job(&self, mut job: JobRecord) -> ServiceResult<()> {
        let batch = self.privacy_settings().sweep_batch;
        let today = self.privacy_today().to_string();
        if job.section == 0 {
            loop {
                let rows = self.store().vault_expired(&today, &job.cursor, batch).await?;
                let Some(last) = rows.last().map(|v| v.vault_id.clone()) else { break };
                let customers: Vec<String> = rows.iter().map(|v| v.customer_id.clone()).collect();
                let held = self.store().held_customers(&customers).await?;
                let drop: Vec<String> =
                    rows.iter().filter(|v| !held.contains(&v.customer_id)).map(|v| v.vault_id.clone()).collect();
                job.done_rows += drop.len() as i64;
                let prev = job.updated_at;
                job.cursor = last;
                job.updated_at = self.later_than(prev);
                self.save_job(&job, Some(prev), vec![Effect::Privacy(PrivacyChange::DropVault(drop))]).await?;
            }
            let prev = job.updated_at;
            job.section = 1;
            job.cursor = String::new();
            job.updated_at = self.later_than(prev);
            self.save_job(&job, Some(prev), Vec::new()).await?;
        }
        if job.section == 1
            && let Some(before) = self.order_cutoff()
        {
            // Pipelined: the next batch is read and scrubbed while this one is written, so the
            // database's write and the read and scrubbing overlap. Writes stay in order (each
            // compares the job's last update), and each commits its cursor, so a job killed
            // anywhere resumes after the last batch written.
            let mut next = self.sweep_batch(before, &job.cursor, batch).await?;
            while let Some((last, bodies)) = next {
                job.done_rows += bodies.len() as i64;
                let prev = job.updated_at;
                job.cursor = last;
                job.updated_at = self.later_than(prev);
                let write = self.write_swept(&job, prev, bodies);
                let (written, read) = tokio::join!(write, self.sweep_batch(before, &job.cursor, batch));
                written?;
                next = read?;
            }
        }
        let prev = job.updated_at;
        let now = self.later_than(prev);
        job.status = "done".into();
        job.section = 2;
        job.finished_at = Some(now);
        job.updated_at = now;
        let audit = entry(
            &job.actor,
            "privacy.sweep.done",
            format!("job:{}", job.job_id),
            json!({"changed": job.done_rows}),
            now,
        );
        let effects =
            vec![Effect::Privacy(PrivacyChange::Job { job: Box::new(job.clone()), expected_updated: Some(prev) })];
        self.store().commit(&effects, &[audit], self.audit_key()).await.map_err(ServiceError::from)
    }

    /// Writes a batch's bodies in [`SWEEP_PASSES`] transactions, the last with the job's cursor.
    /// The batch's orders lie side by side on the table's pages (they were stored in the order
    /// the sweep reads them); every pass takes one of every few, so that the new versions of a
    /// pass fit on their pages beside the old ones, and the next pass finds the versions the last
    /// one replaced committed and prunable (on PostgreSQL, updates that touch no index). A
    /// rewrite that an interrupted batch repeats writes the same bodies again.
    async fn write_swept(
        &self,
        job: &JobRecord,
        prev: DateTime<Utc>,
        bodies: Vec<(String, Vec<u8>)>,
    ) -> ServiceResult<()> {
        let mut passes: Vec<Vec<(String, Vec<u8>)>> = vec![Vec::new(); SWEEP_PASSES];
        for (i, b) in bodies.into_iter().enumerate() {
            passes[i % SWEEP_PASSES].push(b);
        }
        let last = passes.pop().unwrap_or_default();
        for pass in passes.into_iter().filter(|p| !p.is_empty()) {
            self.store().commit(&[Effect::Privacy(PrivacyChange::OrderBodies(pass))], &[], self.audit_key()).await?;
        }
        self.save_job(job, Some(prev), vec![Effect::Privacy(PrivacyChange::OrderBodies(last))]).await
    }

    /// One batch of the order section after `cursor` (`placed_at|order_id`): the cursor of its
    /// last order and the bodies the scrub changed, as stored, leaving out customers under a legal hold;
    /// `None` when no order is left.
    async fn sweep_batch(
        &self,
        before: i64,
        cursor: &str,
        batch: i64,
    ) -> ServiceResult<Option<(String, Vec<(String, Vec<u8>)>)>> {
        let (at, id) = cursor.split_once('|').map_or((i64::MIN, ""), |(a, b)| (a.parse().unwrap_or(i64::MIN), b));
        let rows = self.store().sweep_orders(before, (at, id), batch).await?;
        let Some(last) = rows.last().map(|o| format!("{}|{}", o.placed_at, o.order_id)) else { return Ok(None) };
        let customers: Vec<String> =
            rows.iter().map(|o| o.customer_id.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let held = self.store().held_customers(&customers).await?;
        // Parsing and scrubbing is the work: on every core, off the async workers.
        let bodies = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            let none = Known::default();
            rows.par_iter()
                .filter(|o| !held.contains(&o.customer_id))
                .filter_map(|o| {
                    let mut doc = serde_json::from_str::<Value>(&o.body).ok()?;
                    let changed = !scrub(&mut doc, &none).is_empty();
                    // Packed and sealed here too, so the writer only writes.
                    let json = changed.then(|| serde_json::to_string(&doc).ok()).flatten()?;
                    Some((o.order_id.clone(), riskdesk_store::body::store_json(&json)))
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| ServiceError::Conflict(format!("a sweep batch failed: {e}")))?;
        Ok(Some((last, bodies)))
    }
}
