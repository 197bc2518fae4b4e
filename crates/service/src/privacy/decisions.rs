//! What a privacy officer decides with a second person: releasing an access package to the
//! person, and executing an erasure (or a restriction). Also: starting an export, the access
//! package as JSON, rectification applied everywhere with its Art. 19 records, reading what the
//! vault keeps for a legal-hold purpose, and registering a misdirected package as a breach.

use super::jobs::new_job;
use super::requests::event;
use super::{invalid, right_of, status_of};
use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::cases::clean_text;
use crate::{Actor, PrivacyIntake, PrivacyWorker, Service, ServiceError, ServiceResult};
use riskdesk_domain::privacy::Right;
use riskdesk_domain::privacy::retention::{RECORD_KINDS, kind_label, outcome};
use riskdesk_domain::{Permission, Proposal};
use riskdesk_store::changes::{Effect, PrivacyChange};
use riskdesk_store::privacy::{Notification, Section};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ErasurePayload {
    pub request_id: String,
    /// The request's version when proposed: approval runs only on that same state.
    pub version: i64,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReleasePayload {
    pub request_id: String,
    pub job_id: String,
    pub note: String,
}

/// Executing an erasure or a restriction: the job is queued in the approval's transaction.
pub struct PrivacyErasure;

#[async_trait::async_trait]
impl ProposalKind for PrivacyErasure {
    fn code(&self) -> &'static str {
        "privacy_erasure"
    }

    fn label(&self) -> &'static str {
        "Execute erasure"
    }

    fn approver(&self) -> Permission {
        Permission::ApprovePrivacy
    }

    fn link(&self, target: &str) -> String {
        format!("/privacy/requests/{target}")
    }

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(x) = payload::<ErasurePayload>(p) else { return Vec::new() };
        let Ok(r) = svc.request_record(&x.request_id).await else { return vec![("Request".into(), x.request_id)] };
        let mut out = vec![
            ("Request".to_owned(), format!("{} ({})", r.request_id, right_of(&r).label())),
            ("Customer".into(), r.customer_id.clone()),
            ("Identity".into(), format!("{} ({})", r.identity, r.identity_method.clone().unwrap_or_default())),
        ];
        if !r.flags.is_empty() {
            out.push(("Open claims".into(), r.flags.join(", ")));
        }
        if let Ok(plan) = svc.erasure_plan(&r.request_id).await {
            out.push((
                "Plan".into(),
                plan.iter().map(|(k, o, n)| format!("{k}: {n} {o}")).collect::<Vec<_>>().join("; "),
            ));
        }
        out.push(("Note".into(), x.note));
        out
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let x: ErasurePayload = payload(p)?;
        let r = svc.request_record(&x.request_id).await?;
        if r.version != x.version {
            return Err(ServiceError::Conflict(format!(
                "the request {} changed since it was proposed; propose again",
                r.request_id
            )));
        }
        if !status_of(&r).is_open() {
            return Err(ServiceError::Conflict("the request is closed".into()));
        }
        let now = svc.now();
        let job = new_job("erasure", Some(&r.request_id), maker, now);
        let by = p.decided_by.as_deref().unwrap_or("").trim_start_matches("user:").to_owned();
        let restrict = r.right == Right::Restriction.as_str();
        Ok(Execution {
            effects: vec![
                Effect::Privacy(PrivacyChange::Job { job: Box::new(job.clone()), expected_updated: None }),
                Effect::Privacy(event(
                    &r.request_id,
                    maker,
                    if restrict { "restriction" } else { "erasure" },
                    format!(
                        "{} approved by {by} ({}); running as {}.",
                        if restrict { "Restriction" } else { "Erasure" },
                        p.id,
                        job.job_id
                    ),
                    now,
                )),
            ],
            audit: entry(
                &maker.id,
                if restrict { "privacy.restriction.execute" } else { "privacy.erasure.execute" },
                format!("privacy_request:{}", r.request_id),
                json!({"proposal": p.id, "job": job.job_id, "approved_by": by}),
                now,
            ),
            then: None,
        })
    }
}

/// Releasing the access package to the person: the request is answered.
pub struct PrivacyRelease;

#[async_trait::async_trait]
impl ProposalKind for PrivacyRelease {
    fn code(&self) -> &'static str {
        "privacy_release"
    }

    fn label(&self) -> &'static str {
        "Release access package"
    }

    fn approver(&self) -> Permission {
        Permission::ApprovePrivacy
    }

    fn link(&self, target: &str) -> String {
        format!("/privacy/requests/{target}")
    }

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(x) = payload::<ReleasePayload>(p) else { return Vec::new() };
        let Ok(r) = svc.request_record(&x.request_id).await else { return vec![("Request".into(), x.request_id)] };
        let records = svc.store().privacy_job(&x.job_id).await.ok().flatten().map_or(0, |j| j.done_rows);
        vec![
            ("Request".into(), format!("{} ({})", r.request_id, right_of(&r).label())),
            ("Customer".into(), r.customer_id.clone()),
            ("Identity".into(), format!("{} ({})", r.identity, r.identity_method.clone().unwrap_or_default())),
            ("Package".into(), format!("{} ({records} records)", x.job_id)),
            ("Note".into(), x.note),
        ]
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let x: ReleasePayload = payload(p)?;
        let r = svc.request_record(&x.request_id).await?;
        let now = svc.now();
        let mut next = r.clone();
        if status_of(&r).may_become(riskdesk_domain::privacy::Status::Completed) {
            next.status = "completed".into();
            next.closed_at = Some(now);
        }
        next.answer = Some(format!("Access package {} released to the person. {}", x.job_id, x.note));
        next.updated_at = now;
        next.version = r.version + 1;
        let by = p.decided_by.as_deref().unwrap_or("").trim_start_matches("user:").to_owned();
        Ok(Execution {
            effects: vec![
                Effect::Privacy(PrivacyChange::Request { request: Box::new(next), expected_version: r.version }),
                Effect::Privacy(event(
                    &r.request_id,
                    maker,
                    "released",
                    format!("Access package {} released to the person; approved by {by}.", x.job_id),
                    now,
                )),
            ],
            audit: entry(
                &maker.id,
                "privacy.export.release",
                format!("privacy_request:{}", r.request_id),
                json!({"proposal": p.id, "job": x.job_id, "approved_by": by}),
                now,
            ),
            then: None,
        })
    }
}

/// What an erasure proposal or an approval reads: per kind of record, the outcome and how many.
pub type Plan = Vec<(String, String, usize)>;

impl Service {
    /// Starts building the access package (a background job); answers the job id.
    pub async fn start_privacy_export(&self, cap: &PrivacyWorker, id: &str) -> ServiceResult<String> {
        let r = self.request_record(id).await?;
        if r.identity != "verified" {
            return Err(ServiceError::Conflict("verify the person's identity before building their package".into()));
        }
        if let Some(j) = self
            .store()
            .privacy_jobs_of(&r.request_id)
            .await?
            .into_iter()
            .find(|j| j.kind == "export" && matches!(j.status.as_str(), "queued" | "running"))
        {
            return Ok(j.job_id);
        }
        let now = self.now();
        let job = new_job("export", Some(&r.request_id), cap.actor(), now);
        let audit = entry(
            &cap.actor().id,
            "privacy.export.start",
            format!("privacy_request:{}", r.request_id),
            json!({"job": job.job_id}),
            now,
        );
        self.commit_audited(
            &[
                Effect::Privacy(PrivacyChange::Job { job: Box::new(job.clone()), expected_updated: None }),
                Effect::Privacy(event(
                    &r.request_id,
                    cap.actor(),
                    "export",
                    format!("Building the access package ({}).", job.job_id),
                    now,
                )),
            ],
            &[audit],
        )
        .await?;
        Ok(job.job_id)
    }

    /// The access package: everything riskdesk holds about the person, with what Art. 15 asks
    /// besides (purposes, recipients, retention, source, automated decisions), from the newest
    /// finished export. The read is audited.
    pub async fn privacy_export(&self, cap: &PrivacyIntake, id: &str) -> ServiceResult<Value> {
        let r = self.request_record(id).await?;
        let jobs = self.store().privacy_jobs_of(&r.request_id).await?;
        let Some(job) = jobs.iter().rev().find(|j| j.kind == "export" && j.status == "done") else {
            return Err(match jobs.iter().find(|j| j.kind == "export") {
                Some(j) => ServiceError::Conflict(format!(
                    "the access package is being built ({}, {} records so far)",
                    j.job_id, j.done_rows
                )),
                None => ServiceError::Conflict("no access package was built for this request yet".into()),
            });
        };
        let mut sections = serde_json::Map::new();
        for s in Section::ALL {
            sections.insert(s.as_str().into(), Value::Array(Vec::new()));
        }
        for (section, body) in self.store().export_parts(&job.job_id).await? {
            let Some(s) = Section::at(section) else { continue };
            let rows: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
            if let Some(Value::Array(a)) = sections.get_mut(s.as_str()) {
                a.extend(rows);
            }
        }
        let labels: Vec<Value> = sections["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| matches!(e["type"].as_str(), Some("fraud_confirmed" | "legit_confirmed")))
            .cloned()
            .collect();
        sections.insert("labels".into(), Value::Array(labels));
        let cfg = self.privacy_settings();
        let now = self.now();
        let audit = entry(
            &cap.actor().id,
            "personal_data.export",
            format!("customer:{}", r.customer_id),
            json!({"request": r.request_id, "job": job.job_id}),
            now,
        );
        self.audit_only(audit).await?;
        Ok(json!({
            "request_id": r.request_id,
            "customer_id": r.customer_id,
            "generated_at": job.finished_at,
            "controller": cfg.controller,
            "purposes": [
                "Preventing payment fraud and abuse (Art. 6(1)(f), Recital 47)",
                "Answering chargebacks and refund claims (Art. 6(1)(b), (c), (f))",
                "Customer service and the quality of its handling (Art. 6(1)(b), (f))",
                "Meeting commercial and tax retention duties (Art. 6(1)(c))"
            ],
            "recipients": cfg.recipients,
            "retention": RECORD_KINDS.iter().map(|(k, label, _)| {
                let c = cfg.class_of(k);
                json!({"records": label, "kind": k, "class": c.code, "years": c.years, "basis": c.basis})
            }).collect::<Vec<_>>(),
            "source": "The shop's systems (orders and events sent to riskdesk), the payment providers (disputes), the helpdesk (handlings and escalations)",
            "automated_decisions": "Orders are screened by rules that may hold or decline an order; every hold and decline can be reviewed by a person on request (Art. 22(3)). The reasons of each decision are listed with the order.",
            "access_log_note": "Dates and purposes of each consultation of your data; the staff who consulted it are not named (CJEU C-579/21).",
            "data": sections,
        }))
    }

    /// Per kind of record: what erasure would do now, and to how many.
    pub async fn erasure_plan(&self, request_id: &str) -> ServiceResult<Plan> {
        let r = self.request_record(request_id).await?;
        let cfg = self.privacy_settings();
        let scratch = self.person_scratch(&r.customer_id).await?;
        let held: std::collections::HashMap<&str, &str> =
            scratch.held_orders.iter().map(|(o, w)| (o.as_str(), w.as_str())).collect();
        let who =
            riskdesk_store::privacy::Person { customer_id: r.customer_id.clone(), match_keys: scratch.keys.clone() };
        let today = self.privacy_today();
        let zone = self.privacy_zone();
        let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
        for s in Section::ALL.into_iter().filter(|s| !matches!(s, Section::AccessLog | Section::Vault)) {
            let mut after = String::new();
            loop {
                let rows = self.store().person_rows(s, &who, &after, 500).await?;
                let Some(last) = rows.last() else { break };
                after = last.key.clone();
                for row in rows {
                    let kind = match s {
                        Section::Events => match row.data["type"].as_str() {
                            Some("refund_issued" | "chargeback_received") => "refund",
                            Some("fraud_confirmed" | "legit_confirmed") => "label",
                            _ => "event",
                        },
                        Section::Customer => "customer",
                        Section::Orders => "order",
                        Section::Cases => "case",
                        Section::ListEntries => "list_entry",
                        Section::Disputes => "dispute",
                        _ => "handling",
                    };
                    let arose = chrono::DateTime::from_timestamp_millis(row.arose_at)
                        .map_or(today, |t| riskdesk_domain::privacy::clock::local_date(t, zone));
                    let open = row.open.clone().or_else(|| {
                        (s == Section::Orders).then(|| held.get(row.key.as_str()).map(|w| (*w).to_owned())).flatten()
                    });
                    let o = if r.right == "restriction" {
                        "restricted".to_owned()
                    } else {
                        outcome(&cfg.class_of(kind), arose, open.as_deref(), today).code().to_owned()
                    };
                    *counts.entry((kind_label(kind).to_owned(), o)).or_default() += 1;
                }
            }
        }
        Ok(counts.into_iter().map(|((k, o), n)| (k, o, n)).collect())
    }

    /// Proposes executing the erasure (or restriction) of an erasure or restriction request.
    pub async fn propose_privacy_erasure(&self, cap: &PrivacyWorker, id: &str, note: &str) -> ServiceResult<String> {
        let note = clean_text("note", note, 2000, false)?;
        let r = self.request_record(id).await?;
        if !matches!(right_of(&r), Right::Erasure | Right::Restriction) {
            return Err(ServiceError::Conflict(format!("a {} request is not answered by erasure", r.right)));
        }
        if !status_of(&r).is_open() {
            return Err(ServiceError::Conflict("the request is closed".into()));
        }
        if r.identity != "verified" {
            return Err(ServiceError::Conflict("verify the person's identity before erasing anything".into()));
        }
        let body = to_payload(&ErasurePayload { request_id: r.request_id.clone(), version: r.version, note })?;
        self.propose(cap.actor(), &PrivacyErasure, r.request_id.clone(), body).await
    }

    /// Proposes releasing the finished access package to the person.
    pub async fn propose_privacy_release(&self, cap: &PrivacyWorker, id: &str, note: &str) -> ServiceResult<String> {
        let note = clean_text("note", note, 2000, false)?;
        let r = self.request_record(id).await?;
        let Some(job) = self
            .store()
            .privacy_jobs_of(&r.request_id)
            .await?
            .into_iter()
            .rev()
            .find(|j| j.kind == "export" && j.status == "done")
        else {
            return Err(ServiceError::Conflict("build the access package first".into()));
        };
        let body = to_payload(&ReleasePayload { request_id: r.request_id.clone(), job_id: job.job_id, note })?;
        self.propose(cap.actor(), &PrivacyRelease, r.request_id.clone(), body).await
    }

    /// Rectification applied everywhere: the customer's profile and every order that carries the
    /// old value; each recipient's notification recorded (Art. 19).
    pub async fn rectify_privacy(
        &self,
        cap: &PrivacyWorker,
        id: &str,
        field: &str,
        value: &str,
    ) -> ServiceResult<usize> {
        let r = self.request_record(id).await?;
        if right_of(&r) != Right::Rectification {
            return Err(ServiceError::Conflict(format!("a {} request does not rectify", r.right)));
        }
        if r.identity != "verified" {
            return Err(ServiceError::Conflict("verify the person's identity before changing their data".into()));
        }
        let value = clean_text("value", value, 300, true)?;
        let value = match field {
            "email" => riskdesk_domain::Email::parse(&value, "value")
                .map_err(|e| invalid("value", e.detail))?
                .as_str()
                .to_owned(),
            "phone" => riskdesk_domain::Phone::try_from(value.clone())
                .map_err(|e| invalid("value", e.detail))?
                .as_str()
                .to_owned(),
            "name" => value,
            _ => return Err(invalid("field", "must be email, phone or name")),
        };
        let who = riskdesk_store::privacy::Person { customer_id: r.customer_id.clone(), match_keys: Vec::new() };
        let mut effects = Vec::new();
        let mut old: Option<String> = None;
        for row in self.store().person_rows(Section::Customer, &who, "", 1).await? {
            let mut d = row.data.clone();
            old = d[field].as_str().map(str::to_owned);
            d[field] = Value::String(value.clone());
            effects.push(Effect::Privacy(PrivacyChange::Rewrite { section: Section::Customer, key: row.key, data: d }));
        }
        let mut changed = effects.len();
        let mut after = String::new();
        loop {
            let rows = self.store().person_rows(Section::Orders, &who, &after, 500).await?;
            let Some(last) = rows.last() else { break };
            after = last.key.clone();
            for row in rows {
                let mut d = row.data.clone();
                let mut touched = false;
                let cust = &mut d["order"]["customer"];
                if cust.get(field).is_some() && cust[field].as_str() != Some(value.as_str()) {
                    cust[field] = Value::String(value.clone());
                    touched = true;
                }
                if field == "name"
                    && let Some(o) = &old
                {
                    for a in ["billing_address", "shipping_address"] {
                        if d["order"][a]["name"].as_str() == Some(o.as_str()) {
                            d["order"][a]["name"] = Value::String(value.clone());
                            touched = true;
                        }
                    }
                }
                if touched {
                    changed += 1;
                    effects.push(Effect::Privacy(PrivacyChange::Rewrite {
                        section: Section::Orders,
                        key: row.key,
                        data: d,
                    }));
                }
            }
        }
        let now = self.now();
        for rcp in &self.privacy_settings().recipients {
            effects.push(Effect::Privacy(PrivacyChange::Notification(Notification {
                request_id: r.request_id.clone(),
                recipient: rcp.clone(),
                action: "rectification".into(),
                at: now,
                actor: cap.actor().id.clone(),
                note: format!("Told to correct the {field} of customer {} (Art. 19).", r.customer_id),
            })));
        }
        effects.push(Effect::Privacy(event(
            &r.request_id,
            cap.actor(),
            "rectified",
            format!("The {field} was corrected in {changed} record(s); recipients told (Art. 19)."),
            now,
        )));
        let audit = entry(
            &cap.actor().id,
            "privacy.rectify",
            format!("customer:{}", r.customer_id),
            json!({"request": r.request_id, "field": field, "records": changed}),
            now,
        );
        self.commit_audited(&effects, &[audit]).await?;
        Ok(changed)
    }

    /// The values the vault keeps for a record, for a legal-hold purpose; the read is audited.
    pub async fn read_vault(&self, cap: &PrivacyWorker, vault_id: &str, purpose: &str) -> ServiceResult<Value> {
        let purpose = clean_text("purpose", purpose, 500, true)?;
        if purpose.chars().count() < 10 {
            return Err(invalid("purpose", "name the legal hold or claim this is needed for (10 characters or more)"));
        }
        let v = self.store().vault_fields(vault_id).await?.ok_or(ServiceError::NotFound("restricted record"))?;
        let mut e = entry(
            &cap.actor().id,
            "personal_data.restricted_read",
            format!("customer:{}", v.customer_id),
            json!({"vault": v.vault_id, "record": format!("{}:{}", v.record_kind, v.record_id)}),
            self.now(),
        );
        e.purpose = Some(purpose);
        self.audit_only(e).await?;
        Ok(json!({"vault_id": v.vault_id, "record_kind": v.record_kind, "record_id": v.record_id, "until": v.until,
                  "reason": v.reason, "kept": serde_json::from_str::<Value>(&v.fields).unwrap_or(Value::Null)}))
    }
}
