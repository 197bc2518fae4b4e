//! Answering a dispute: submitting the defence (at or above `disputes.submit_four_eyes_from`
//! only with a second person's approval) or accepting the loss. Accepting a dispute whose
//! order was already refunded is refused: the refund is the evidence, and accepting would pay
//! twice.

use super::evidence::EvidenceView;
use super::{lifecycle_of, money};
use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::{Actor, DisputeWorker, Service, ServiceError, ServiceResult};
use riskdesk_domain::disputes::Status;
use riskdesk_domain::{Permission, Proposal};
use riskdesk_store::StoreError;
use riskdesk_store::cases::CaseEvent;
use riskdesk_store::changes::{CaseChange, DisputeChange, Effect};
use riskdesk_store::disputes::DisputeRecord;
use serde::{Deserialize, Serialize};

/// What may be done with a dispute now, and why not.
#[derive(Debug, Clone, Serialize)]
pub struct Possible {
    pub submit: bool,
    pub accept: bool,
    /// Why accepting is refused (a refund already issued).
    pub accept_refused: Option<String>,
}

impl Possible {
    pub(crate) fn of(r: &DisputeRecord, v: &EvidenceView) -> Self {
        let open = lifecycle_of(r).status == Status::NeedsResponse;
        let refused = (v.refunded_minor > 0).then(|| {
            format!(
                "the order was refunded already ({}): submit the refund as evidence instead of accepting",
                riskdesk_domain::money::display(v.refunded_minor, &r.currency)
            )
        });
        Self { submit: open, accept: open && refused.is_none(), accept_refused: if open { refused } else { None } }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubmissionPayload {
    pub dispute_id: String,
    /// The dispute's version when proposed: approval runs only on that same state.
    pub version: i64,
    pub note: String,
}

/// What a submission became.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Submitted {
    Submitted { dispute_id: String },
    Pending { proposal_id: String },
}

pub struct DisputeSubmission;

#[async_trait::async_trait]
impl ProposalKind for DisputeSubmission {
    fn code(&self) -> &'static str {
        "dispute_submission"
    }

    fn label(&self) -> &'static str {
        "Submit dispute defence"
    }

    fn approver(&self) -> Permission {
        Permission::ApproveDisputes
    }

    fn link(&self, target: &str) -> String {
        format!("/disputes/{target}")
    }

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(s) = payload::<SubmissionPayload>(p) else { return Vec::new() };
        let Ok(r) = svc.dispute_record(&s.dispute_id).await else { return vec![("Dispute".into(), s.dispute_id)] };
        let mut out = vec![
            ("Dispute".to_owned(), format!("{} {} ({})", r.provider, r.provider_ref, r.dispute_id)),
            ("Amount".into(), riskdesk_domain::money::display(r.amount_minor, &r.currency)),
            ("Reason".into(), format!("{} ({})", r.reason_code.clone().unwrap_or_default(), r.reason_family)),
            ("Order".into(), r.order_id.clone().unwrap_or_else(|| "not linked".into())),
            (
                "Respond by".into(),
                r.due_by.map_or("no deadline".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
            ),
        ];
        let cap = crate::DisputeViewer::local(Actor::other("system:approvals"));
        if let Ok(v) = svc.dispute_evidence_view(&cap, &r).await {
            let missing: Vec<&str> =
                v.checklist.iter().filter(|i| i.state == "missing").map(|i| i.item.label).collect();
            out.push(("Evidence".into(), format!("{} of {} items satisfied", v.satisfied, v.checklist.len())));
            if !missing.is_empty() {
                out.push(("Missing".into(), missing.join("; ")));
            }
            if !v.ce3_candidates.is_empty() {
                out.push(("CE 3.0".into(), if v.ce3_eligible { "eligible".into() } else { "not eligible".into() }));
            }
        }
        out.push(("Note".into(), s.note));
        out
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let s: SubmissionPayload = payload(p)?;
        let r = svc.dispute_record(&s.dispute_id).await?;
        if r.version != s.version {
            return Err(ServiceError::Conflict(format!(
                "the dispute {} changed since it was proposed (version {} now, {} then); propose again",
                r.dispute_id, r.version, s.version
            )));
        }
        let by = format!("{}, approved by {}", p.id, p.decided_by.as_deref().unwrap_or("").trim_start_matches("user:"));
        let (effects, audit) = svc.submission_effects(&r, maker, &s.note, Some(&by))?;
        Ok(Execution { effects, audit, then: None })
    }
}

impl Service {
    fn submission_effects(
        &self,
        r: &DisputeRecord,
        maker: &Actor,
        note: &str,
        approved: Option<&str>,
    ) -> ServiceResult<(Vec<Effect>, riskdesk_domain::AuditEntry)> {
        if lifecycle_of(r).status != Status::NeedsResponse {
            return Err(ServiceError::Conflict(format!("the dispute is {}, not waiting for a response", r.status)));
        }
        let now = self.now();
        let next = DisputeRecord {
            status: Status::UnderReview.as_str().into(),
            submitted_at: Some(now),
            submitted_by: Some(maker.id.clone()),
            updated_at: now,
            version: r.version + 1,
            ..r.clone()
        };
        let mut effects =
            vec![Effect::Disputes(DisputeChange::Update { dispute: Box::new(next), expected_version: r.version })];
        if let Some(case) = &r.case_id {
            let text = match approved {
                Some(by) => format!("Defence submitted ({by}): {note}"),
                None => format!("Defence submitted: {note}"),
            };
            effects.push(Effect::Cases(CaseChange::Event(CaseEvent {
                id: 0,
                case_id: case.clone(),
                at: now,
                actor: maker.id.clone(),
                kind: "dispute".into(),
                text,
            })));
        }
        let audit = entry(
            &maker.id,
            "dispute.submit",
            format!("dispute:{}", r.dispute_id),
            serde_json::json!({"amount": money(r.amount_minor, &r.currency), "approved": approved}),
            now,
        );
        Ok((effects, audit))
    }

    /// Submits the defence, or proposes it when the amount needs a second person.
    pub async fn submit_dispute(&self, cap: &DisputeWorker, id: &str, note: &str) -> ServiceResult<Submitted> {
        let note = crate::cases::clean_text("note", note, 2000, false)?;
        let r = self.dispute_record(id).await?;
        let threshold = self.dispute_settings().submit_four_eyes_from;
        let major = riskdesk_domain::Currency::parse(&r.currency, "currency")
            .map(|c| r.amount_minor / 10_i64.pow(c.exponent()))
            .unwrap_or(r.amount_minor / 100);
        if lifecycle_of(&r).status != Status::NeedsResponse {
            return Err(ServiceError::Conflict(format!("the dispute is {}, not waiting for a response", r.status)));
        }
        if threshold > 0 && major >= threshold {
            let payload =
                to_payload(&SubmissionPayload { dispute_id: r.dispute_id.clone(), version: r.version, note })?;
            let id = self.propose(cap.actor(), &DisputeSubmission, r.dispute_id.clone(), payload).await?;
            return Ok(Submitted::Pending { proposal_id: id });
        }
        let (effects, audit) = self.submission_effects(&r, cap.actor(), &note, None)?;
        self.commit_changed(&effects, audit).await?;
        Ok(Submitted::Submitted { dispute_id: r.dispute_id })
    }

    /// Accepts the loss, with a reason. Refused when the order was refunded already.
    pub async fn accept_dispute(
        &self,
        cap: &DisputeWorker,
        id: &str,
        reason: &str,
    ) -> ServiceResult<super::DisputeOut> {
        let reason = crate::cases::clean_text("reason", reason, 2000, true)?;
        let r = self.dispute_record(id).await?;
        let view = self.dispute_evidence_view(&crate::DisputeViewer::local(cap.actor().clone()), &r).await?;
        let possible = Possible::of(&r, &view);
        if let Some(why) = possible.accept_refused {
            return Err(ServiceError::Conflict(format!("accepting is refused: {why}")));
        }
        if !possible.accept {
            return Err(ServiceError::Conflict(format!("the dispute is {}, not waiting for a response", r.status)));
        }
        let now = self.now();
        let next = DisputeRecord {
            status: Status::Accepted.as_str().into(),
            closed_at: Some(now),
            updated_at: now,
            version: r.version + 1,
            ..r.clone()
        };
        let mut effects = vec![Effect::Disputes(DisputeChange::Update {
            dispute: Box::new(next.clone()),
            expected_version: r.version,
        })];
        if let Some(case) = &r.case_id {
            effects.push(Effect::Cases(CaseChange::Event(CaseEvent {
                id: 0,
                case_id: case.clone(),
                at: now,
                actor: cap.actor().id.clone(),
                kind: "dispute".into(),
                text: format!("Dispute accepted: {reason}"),
            })));
        }
        let audit = entry(
            &cap.actor().id,
            "dispute.accept",
            format!("dispute:{id}"),
            serde_json::json!({"reason": reason}),
            now,
        );
        self.commit_changed(&effects, audit).await?;
        Ok(self.dispute_out(&next))
    }

    async fn commit_changed(&self, effects: &[Effect], audit: riskdesk_domain::AuditEntry) -> ServiceResult<()> {
        match self.commit_audited(effects, &[audit]).await {
            Err(ServiceError::Store(StoreError::Conflict(_))) => Err(ServiceError::Conflict(
                "the dispute changed meanwhile (a provider event arrived); reload it".into(),
            )),
            other => other,
        }
    }
}
