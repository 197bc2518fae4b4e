//! Background jobs of privacy operations, resumable: a job reads a person's records section by
//! section in key order, and each batch commits its changes together with the job's cursor, so
//! a job stopped anywhere (even by kill -9) goes on from its last batch. An export stores the
//! batches as parts; an erasure scrubs each record by its retention class, keeps what a class
//! keeps in the restricted vault, and records each record's outcome for the reply.

use super::requests::event;
use super::{PrivacyConfig, status_of};
use crate::audit::entry;
use crate::{Actor, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::privacy::Status;
use riskdesk_domain::privacy::clock::local_date;
use riskdesk_domain::privacy::retention::{Outcome, outcome};
use riskdesk_domain::privacy::scrub::{ERASED, Known, redact, scrub};
use riskdesk_store::StoreError;
use riskdesk_store::changes::{Effect, PrivacyChange};
use riskdesk_store::privacy::{JobRecord, OutcomeRow, Person, PersonRow, RequestRecord, Section, VaultRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Records per batch: one transaction each.
const BATCH: i64 = 200;

/// What an erasure needs through a restart and must not keep after: the person's known values,
/// their list match keys, the orders an open case or dispute needs. Whether it restricts
/// (Art. 18) rather than erases.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Scratch {
    pub known: Vec<String>,
    pub keys: Vec<String>,
    pub held_orders: Vec<(String, String)>,
    pub restrict: bool,
}

pub(crate) fn new_job(kind: &str, request_id: Option<&str>, actor: &Actor, now: DateTime<Utc>) -> JobRecord {
    JobRecord {
        job_id: format!("job_{}", ulid::Ulid::new()),
        request_id: request_id.map(str::to_owned),
        kind: kind.into(),
        status: "queued".into(),
        section: 0,
        cursor: String::new(),
        done_rows: 0,
        actor: actor.id.clone(),
        error: None,
        attempts: 0,
        scratch: None,
        created_at: now,
        updated_at: now,
        finished_at: None,
    }
}

/// The kind of record a row of a section is, for its retention class.
fn record_kind(s: Section, row: &PersonRow) -> &'static str {
    match s {
        Section::Customer => "customer",
        Section::Orders => "order",
        Section::Events => match row.data["type"].as_str() {
            Some("refund_issued" | "chargeback_received") => "refund",
            Some("fraud_confirmed" | "legit_confirmed") => "label",
            _ => "event",
        },
        Section::Cases => "case",
        Section::ListEntries => "list_entry",
        Section::Disputes => "dispute",
        Section::Handlings => "handling",
        Section::AccessLog | Section::Vault => "",
    }
}

impl Service {
    /// Runs every job that is not finished, one after the other (after a restart, those that
    /// were running go on from their cursor).
    pub async fn run_privacy_jobs(&self) -> ServiceResult<usize> {
        let jobs = self.store().privacy_jobs_open().await?;
        let n = jobs.len();
        for j in jobs {
            if let Err(e) = self.run_job(j.clone()).await {
                tracing::warn!(job = %j.job_id, kind = %j.kind, error = %e, "privacy job stopped; it goes on from its cursor");
                if let Ok(Some(cur)) = self.store().privacy_job(&j.job_id).await
                    && cur.attempts >= 5
                {
                    let failed = JobRecord {
                        status: "failed".into(),
                        error: Some(e.to_string()),
                        updated_at: self.now(),
                        ..cur.clone()
                    };
                    let _ = self.save_job(&failed, Some(cur.updated_at), Vec::new()).await;
                }
            }
        }
        Ok(n)
    }

    pub(crate) async fn save_job(
        &self,
        j: &JobRecord,
        expected: Option<DateTime<Utc>>,
        mut effects: Vec<Effect>,
    ) -> ServiceResult<()> {
        effects.push(Effect::Privacy(PrivacyChange::Job { job: Box::new(j.clone()), expected_updated: expected }));
        self.store().commit(&effects, &[], self.audit_key()).await?;
        Ok(())
    }

    /// Runs one job to its end.
    pub async fn run_job(&self, mut job: JobRecord) -> ServiceResult<()> {
        let prev = job.updated_at;
        job.status = "running".into();
        job.attempts += 1;
        job.updated_at = self.later_than(prev);
        self.save_job(&job, Some(prev), Vec::new()).await?;
        match job.kind.as_str() {
            "export" | "erasure" => self.run_person_job(job).await,
            "sweep" => self.run_sweep_job(job).await,
            other => Err(ServiceError::Invalid(format!("kind: {other} is not a privacy job"))),
        }
    }

    /// A time after `t` (the job row's guard must move even within one millisecond).
    pub(crate) fn later_than(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let now = self.now();
        if now.timestamp_millis() > t.timestamp_millis() { now } else { t + chrono::Duration::milliseconds(1) }
    }

    async fn run_person_job(&self, mut job: JobRecord) -> ServiceResult<()> {
        let request_id =
            job.request_id.clone().ok_or_else(|| ServiceError::Invalid("the job names no request".into()))?;
        let request = self.request_record(&request_id).await?;
        let erasure = job.kind == "erasure";
        let cfg = self.privacy_settings();
        // The person's values and keys, read before anything is changed and kept with the job.
        let scratch: Scratch = match &job.scratch {
            Some(s) => serde_json::from_str(s).map_err(|e| ServiceError::Invalid(format!("scratch: {e}")))?,
            None => {
                let s = self.person_scratch(&request.customer_id).await?;
                let s = Scratch { restrict: request.right == "restriction", ..s };
                let prev = job.updated_at;
                job.scratch = Some(serde_json::to_string(&s).unwrap_or_default());
                job.updated_at = self.later_than(prev);
                self.save_job(&job, Some(prev), Vec::new()).await?;
                s
            }
        };
        let known = Known::new(&scratch.known);
        let held: std::collections::HashMap<&str, &str> =
            scratch.held_orders.iter().map(|(o, w)| (o.as_str(), w.as_str())).collect();
        let who = Person { customer_id: request.customer_id.clone(), match_keys: scratch.keys.clone() };
        let actor = Actor::other(&job.actor);
        let today = self.privacy_today();
        let zone = self.privacy_zone();
        while let Some(section) = Section::at(job.section) {
            // An erasure leaves the access log and the vault as they are.
            if erasure && matches!(section, Section::AccessLog | Section::Vault) {
                job = self.advance(job, None, Vec::new()).await?;
                continue;
            }
            let rows = self.store().person_rows(section, &who, &job.cursor, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.key.clone()) else {
                job = self.advance(job, None, Vec::new()).await?;
                continue;
            };
            let n = rows.len() as i64;
            let mut effects = Vec::new();
            if erasure {
                for row in rows {
                    let kind = record_kind(section, &row);
                    let arose =
                        DateTime::<Utc>::from_timestamp_millis(row.arose_at).map_or(today, |t| local_date(t, zone));
                    let open = row.open.clone().or_else(|| {
                        (section == Section::Orders)
                            .then(|| held.get(row.key.as_str()).map(|w| (*w).to_owned()))
                            .flatten()
                    });
                    let out = if scratch.restrict {
                        Outcome::Restricted {
                            until: chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(chrono::NaiveDate::MAX),
                            reason: format!(
                                "the person asked for restriction (Art. 18 GDPR, request {request_id}) until it is lifted"
                            ),
                        }
                    } else {
                        outcome(&cfg.class_of(kind), arose, open.as_deref(), today)
                    };
                    effects.extend(erase_row(&cfg, &request, section, kind, row, &known, &out, self.now()));
                }
            } else {
                let body = serde_json::to_string(&rows.iter().map(|r| &r.data).collect::<Vec<_>>()).unwrap_or_default();
                effects.push(Effect::Privacy(PrivacyChange::ExportPart {
                    job_id: job.job_id.clone(),
                    section: job.section,
                    seq: job.done_rows,
                    body,
                }));
            }
            job.done_rows += n;
            job = self.advance(job, Some(last), effects).await?;
        }
        self.finish_person_job(job, &request, &actor).await
    }

    /// Commits a batch's changes with the cursor moved past it (`None`: on to the next section).
    async fn advance(
        &self,
        mut job: JobRecord,
        last: Option<String>,
        effects: Vec<Effect>,
    ) -> ServiceResult<JobRecord> {
        let prev = job.updated_at;
        match last {
            Some(k) => job.cursor = k,
            None => {
                job.section += 1;
                job.cursor = String::new();
            }
        }
        job.updated_at = self.later_than(prev);
        self.save_job(&job, Some(prev), effects).await?;
        Ok(job)
    }

    async fn finish_person_job(&self, mut job: JobRecord, request: &RequestRecord, actor: &Actor) -> ServiceResult<()> {
        let prev = job.updated_at;
        let now = self.later_than(prev);
        job.status = "done".into();
        job.scratch = None;
        job.finished_at = Some(now);
        job.updated_at = now;
        let mut effects = Vec::new();
        let mut audit = Vec::new();
        if job.kind == "export" {
            effects.push(Effect::Privacy(event(
                &request.request_id,
                actor,
                "export",
                format!(
                    "The access package is ready ({} records); releasing it to the person needs a second person.",
                    job.done_rows
                ),
                now,
            )));
        } else {
            let outcomes = self.store().privacy_outcomes(&request.request_id).await?;
            let count = |o: &str| outcomes.iter().filter(|x| x.outcome == o).count();
            let kept = count("restricted") + count("held");
            let summary = format!(
                "{} erased, {} pseudonymised, {} restricted, {} kept while a case or dispute is open",
                count("erased"),
                count("pseudonymised"),
                count("restricted"),
                count("held")
            );
            let cur = self.request_record(&request.request_id).await?;
            let mut next = cur.clone();
            let restrict = request.right == "restriction";
            let status = if kept > 0 && !restrict { Status::PartlyWithheld } else { Status::Completed };
            if status_of(&cur).may_become(status) {
                next.status = status.as_str().into();
                next.closed_at = Some(now);
            }
            next.answer = Some(if restrict {
                format!("Processing restricted: {summary}.")
            } else {
                format!("Erasure carried out: {summary}.")
            });
            next.updated_at = now;
            next.version = cur.version + 1;
            effects.push(Effect::Privacy(PrivacyChange::Request {
                request: Box::new(next),
                expected_version: cur.version,
            }));
            // Packages built earlier hold the erased values: they go too.
            effects.push(Effect::Privacy(PrivacyChange::DropExports(request.customer_id.clone())));
            effects.push(Effect::Privacy(event(
                &request.request_id,
                actor,
                if restrict { "restriction" } else { "erasure" },
                format!("Done: {summary}."),
                now,
            )));
            for r in &self.privacy_settings().recipients {
                effects.push(Effect::Privacy(PrivacyChange::Notification(riskdesk_store::privacy::Notification {
                    request_id: request.request_id.clone(),
                    recipient: r.clone(),
                    action: if restrict { "restriction".into() } else { "erasure".into() },
                    at: now,
                    actor: actor.id.clone(),
                    note: format!(
                        "Told to {} the data of customer {} (Art. 19).",
                        if restrict { "restrict" } else { "erase" },
                        request.customer_id
                    ),
                })));
            }
            audit.push(entry(
                &actor.id,
                if restrict { "privacy.restriction.done" } else { "privacy.erasure.done" },
                format!("privacy_request:{}", request.request_id),
                json!({"job": job.job_id, "records": job.done_rows, "summary": summary}),
                now,
            ));
        }
        effects.push(Effect::Privacy(PrivacyChange::Job { job: Box::new(job), expected_updated: Some(prev) }));
        match self.store().commit(&effects, &audit, self.audit_key()).await {
            Err(StoreError::Conflict(m)) => Err(ServiceError::Conflict(m)),
            other => Ok(other?),
        }
    }

    /// Reads what identifies the person before anything changes: their values (customer row,
    /// orders, events), the match keys of list entries about them, the orders an open case or
    /// dispute needs.
    pub(crate) async fn person_scratch(&self, customer_id: &str) -> ServiceResult<Scratch> {
        let who = Person { customer_id: customer_id.to_owned(), match_keys: Vec::new() };
        let mut known = Known::default();
        let mut keys: HashSet<String> = HashSet::new();
        let mut docs = Vec::new();
        for s in [Section::Customer, Section::Orders, Section::Events] {
            let mut after = String::new();
            loop {
                let rows = self.store().person_rows(s, &who, &after, 500).await?;
                let Some(last) = rows.last() else { break };
                after = last.key.clone();
                for r in rows {
                    if s == Section::Orders
                        && let Ok(o) = serde_json::from_value::<riskdesk_domain::Order>(r.data["order"].clone())
                    {
                        keys.extend(self.list_keys(&o));
                    }
                    docs.push(r.data);
                }
            }
        }
        for d in &docs {
            known.add_from(d);
        }
        let mut held_orders = Vec::new();
        for s in [Section::Cases, Section::Disputes] {
            let mut after = String::new();
            loop {
                let rows = self.store().person_rows(s, &who, &after, 500).await?;
                let Some(last) = rows.last() else { break };
                after = last.key.clone();
                for r in rows {
                    let Some(what) = r.open else { continue };
                    if let Some(o) = r.data["order_id"].as_str() {
                        held_orders.push((o.to_owned(), what.clone()));
                    }
                    if s == Section::Cases {
                        for (o, w) in
                            self.case_order_links(r.data["case_id"].as_str().unwrap_or_default(), &what).await?
                        {
                            held_orders.push((o, w));
                        }
                    }
                }
            }
        }
        Ok(Scratch { known: known.values().to_vec(), keys: keys.into_iter().collect(), held_orders, restrict: false })
    }

    async fn case_order_links(&self, case_id: &str, what: &str) -> ServiceResult<Vec<(String, String)>> {
        Ok(self
            .store()
            .case_links(case_id)
            .await?
            .into_iter()
            .filter(|l| l.kind == "order")
            .map(|l| (l.value, what.to_owned()))
            .collect())
    }

    /// The match keys list entries of the order's entities carry (hex keyed hashes; IPs as text).
    fn list_keys(&self, o: &riskdesk_domain::Order) -> Vec<String> {
        let mut out: Vec<String> = o.entities().iter().map(|e| hex::encode(self.hasher().key_of(e).hash)).collect();
        if let Some(ip) = o.device.as_ref().and_then(|d| d.ip) {
            out.push(ip.to_string());
            out.push(format!("{}/{}", ip.to_canonical(), if ip.is_ipv4() { 32 } else { 128 }));
        }
        out
    }
}

/// The changes that erase one record: its scrubbed data written back, what a class keeps in
/// the vault, and its outcome line.
#[allow(clippy::too_many_arguments)]
fn erase_row(
    cfg: &PrivacyConfig,
    request: &RequestRecord,
    section: Section,
    kind: &str,
    mut row: PersonRow,
    known: &Known,
    out: &Outcome,
    now: DateTime<Utc>,
) -> Vec<Effect> {
    let mut effects = Vec::new();
    let line = |o: &Outcome| {
        Effect::Privacy(PrivacyChange::Outcome(OutcomeRow {
            request_id: request.request_id.clone(),
            record_kind: kind.into(),
            record_id: row.key.clone(),
            outcome: o.code().into(),
            until: match o {
                Outcome::Restricted { until, .. } => Some(until.to_string()),
                _ => None,
            },
            reason: match o {
                Outcome::Erased => String::new(),
                Outcome::Pseudonymised { reason } | Outcome::Restricted { reason, .. } | Outcome::Held { reason } => {
                    reason.clone()
                }
            },
            at: now,
        }))
    };
    if let Outcome::Held { .. } = out {
        effects.push(line(out));
        return effects;
    }
    let taken = scrub_section(section, &mut row.data, known);
    if taken.is_empty() && !matches!(section, Section::Cases | Section::ListEntries) {
        // Nothing personal in it (already erased, or never held any): only the line.
        effects.push(line(out));
        return effects;
    }
    if let Outcome::Restricted { until, reason } = out {
        effects.push(Effect::Privacy(PrivacyChange::Vault(VaultRow {
            vault_id: format!("{}:{kind}:{}", request.request_id, row.key),
            customer_id: request.customer_id.clone(),
            record_kind: kind.into(),
            record_id: row.key.clone(),
            fields: serde_json::to_string(&taken).unwrap_or_default(),
            class: cfg.kinds.get(kind).cloned().unwrap_or_default(),
            reason: reason.clone(),
            until: until.to_string(),
            request_id: Some(request.request_id.clone()),
            created_at: now,
        })));
    }
    effects.push(Effect::Privacy(PrivacyChange::Rewrite { section, key: row.key.clone(), data: row.data.clone() }));
    effects.push(line(out));
    effects
}

/// Takes the personal values out of a section's record data, in the fields its rewrite writes.
fn scrub_section(section: Section, d: &mut Value, known: &Known) -> Vec<(String, Value)> {
    let mut taken = Vec::new();
    let text = |v: &mut Value, path: &str, taken: &mut Vec<(String, Value)>| {
        if let Some(s) = v.as_str()
            && let Some(r) = redact(s, known)
        {
            taken.push((path.to_owned(), std::mem::replace(v, Value::String(r))));
        }
    };
    match section {
        Section::Customer => {
            for k in ["email", "phone", "name"] {
                if !d[k].is_null() {
                    taken.push((k.to_owned(), std::mem::replace(&mut d[k], Value::Null)));
                }
            }
        }
        Section::Orders => {
            taken.extend(scrub(&mut d["order"], known).into_iter().map(|(p, v)| (format!("order.{p}"), v)));
            for (i, x) in d["decisions"].as_array_mut().into_iter().flatten().enumerate() {
                taken.extend(
                    scrub(&mut x["reasons"], known).into_iter().map(|(p, v)| (format!("decisions[{i}].{p}"), v)),
                );
            }
            for (i, x) in d["review_actions"].as_array_mut().into_iter().flatten().enumerate() {
                text(&mut x["note"], &format!("review_actions[{i}].note"), &mut taken);
            }
        }
        Section::Events => {
            taken.extend(scrub(&mut d["event"], known).into_iter().map(|(p, v)| (format!("event.{p}"), v)))
        }
        Section::Cases => {
            for k in ["title", "description", "summary"] {
                text(&mut d[k], k, &mut taken);
            }
            for (i, x) in d["timeline"].as_array_mut().into_iter().flatten().enumerate() {
                text(&mut x["text"], &format!("timeline[{i}].text"), &mut taken);
            }
            // Files cannot be searched for values: an erased case loses them.
            for (i, x) in d["attachments"].as_array_mut().into_iter().flatten().enumerate() {
                taken.push((format!("attachments[{i}]"), x["name"].clone()));
                x["erase"] = Value::Bool(true);
            }
        }
        Section::ListEntries => {
            // Kinds matched by keyed hash keep matching; the value shown goes.
            if d["kind"].as_str() != Some("customer") && d["value"].as_str() != Some(ERASED) {
                taken.push(("value".into(), std::mem::replace(&mut d["value"], Value::String(ERASED.into()))));
            }
            text(&mut d["reason"], "reason", &mut taken);
        }
        Section::Disputes => {
            for (i, x) in d["notifications"].as_array_mut().into_iter().flatten().enumerate() {
                for k in ["normalised", "raw"] {
                    if let Some(s) = x[k].as_str() {
                        let mut doc: Value = serde_json::from_str(s).unwrap_or(Value::String(s.to_owned()));
                        let t = scrub(&mut doc, known);
                        if !t.is_empty() {
                            taken.extend(t.into_iter().map(|(p, v)| (format!("notifications[{i}].{k}.{p}"), v)));
                            x[k] = Value::String(match doc {
                                Value::String(s) => s,
                                other => other.to_string(),
                            });
                        }
                    }
                }
            }
            for (i, x) in d["evidence"].as_array_mut().into_iter().flatten().enumerate() {
                text(&mut x["note"], &format!("evidence[{i}].note"), &mut taken);
            }
        }
        Section::Handlings => {
            // A conversation is about the person throughout: it goes whole.
            if d["transcript"].as_str().is_some_and(|t| t != ERASED && !t.is_empty()) {
                taken
                    .push(("transcript".into(), std::mem::replace(&mut d["transcript"], Value::String(ERASED.into()))));
            }
        }
        Section::AccessLog | Section::Vault => {}
    }
    taken
}
