//! Four eyes on case decisions, as one proposal kind: blocking an account, a goodwill refund at
//! or above the configured amount, disclosing data to a third party, and overturning an
//! automated decline (the human review GDPR Art. 22 requires). Everyone who added evidence to
//! the case (notes, links, tasks, reports) is a maker with the proposer, so none of them can
//! approve. Proposing moves the case to `pending_approval`; approval records the decision in
//! the case and runs what it does (a block enters the block list), and the case goes back to
//! `investigating` to be closed by its owner.

use super::{clean_text, event, invalid};
use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::lists::NewListEntry;
use crate::{Actor, CaseWorker, Service, ServiceError, ServiceResult};
use riskdesk_domain::cases::CaseStatus;
use riskdesk_domain::{CustomerId, OrderId, Permission, Proposal};
use riskdesk_store::changes::{CaseChange, Effect, ListChange};
use serde::{Deserialize, Serialize};

/// The decisions that need a second person.
pub const DECISIONS: &[(&str, &str)] = &[
    ("block_account", "Block the account"),
    ("goodwill_refund", "Goodwill refund"),
    ("disclose_data", "Disclose data to a third party"),
    ("overturn_decline", "Overturn an automated decline"),
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct CaseDecisionPayload {
    pub case_id: String,
    /// One of [`DECISIONS`].
    pub decision: String,
    /// Why: shown to the approver and kept in the case.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// A goodwill refund's amount in minor units, and its currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Who receives disclosed data, and on which legal basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
}

pub fn decision_label(code: &str) -> &'static str {
    DECISIONS.iter().find(|(c, _)| *c == code).map_or("Case decision", |(_, l)| *l)
}

/// What a proposed decision became.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Proposed {
    /// Waiting for a second person.
    Pending { proposal_id: String },
    /// Below the four-eye amount: recorded at once.
    Recorded,
}

pub struct CaseDecision;

#[async_trait::async_trait]
impl ProposalKind for CaseDecision {
    fn code(&self) -> &'static str {
        "case_decision"
    }

    fn label(&self) -> &'static str {
        "Case decision"
    }

    fn approver(&self) -> Permission {
        Permission::ApproveCaseDecisions
    }

    fn link(&self, target: &str) -> String {
        format!("/cases/{target}")
    }

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(d) = payload::<CaseDecisionPayload>(p) else { return Vec::new() };
        let mut out = vec![("Decision".to_owned(), decision_label(&d.decision).to_owned())];
        if let Ok(Some(c)) = svc.store().case(&d.case_id).await {
            out.push(("Case".into(), format!("{} ({})", c.title, super::view::kind_label(&c.kind))));
        }
        for (k, v) in [
            ("Customer", d.customer_id.clone()),
            ("Order", d.order_id.clone()),
            (
                "Amount",
                d.amount_minor.map(|a| riskdesk_domain::money::display(a, d.currency.as_deref().unwrap_or("EUR"))),
            ),
            ("Recipient", d.recipient.clone()),
            ("Legal basis", d.legal_basis.clone()),
        ] {
            if let Some(v) = v {
                out.push((k.into(), v));
            }
        }
        out.push(("Reason".into(), d.reason));
        out
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let d: CaseDecisionPayload = payload(p)?;
        let by = match &p.decided_by {
            Some(a) => format!("{}, approved by {}", p.id, a.trim_start_matches("user:")),
            None => p.id.clone(),
        };
        let (mut effects, action) = svc.decision_effects(&d, maker, Some(&by)).await?;
        // Back to work: the owner closes the case with its resolution.
        let before = svc.case_record(&d.case_id).await?;
        if before.status == CaseStatus::PendingApproval {
            let mut c = before.clone();
            c.status = CaseStatus::Investigating;
            c.version = before.version + 1;
            c.updated_at = svc.now();
            effects
                .insert(0, Effect::Cases(CaseChange::Update { case: Box::new(c), expected_version: before.version }));
        }
        let audit = entry(
            &maker.id,
            action,
            format!("case:{}", d.case_id),
            serde_json::json!({"decision": d.decision, "proposal": p.id}),
            svc.now(),
        );
        Ok(Execution {
            effects,
            audit,
            then: (d.decision == "block_account").then(|| -> crate::approvals::Then {
                Box::new(|svc: Service| {
                    Box::pin(async move {
                        if let Err(e) = svc.screener().refresh().await {
                            tracing::warn!(error = %e, "refreshing the screener after a block failed");
                        }
                    })
                })
            }),
        })
    }
}

impl Service {
    /// Checks a decision's fields for its kind; the payload stored is the cleaned one.
    fn checked_decision(&self, mut d: CaseDecisionPayload) -> ServiceResult<CaseDecisionPayload> {
        if !DECISIONS.iter().any(|(c, _)| *c == d.decision) {
            return Err(invalid(
                "decision",
                format!("must be one of {}", DECISIONS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")),
            ));
        }
        d.reason = clean_text("reason", &d.reason, 2000, true)?;
        let need = |v: &Option<String>, f: &str| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| invalid(f, "this decision needs it"))
        };
        match d.decision.as_str() {
            "block_account" => {
                let c = need(&d.customer_id, "customer_id")?;
                d.customer_id = Some(
                    CustomerId::parse(&c, "customer_id").map_err(|e| invalid("customer_id", e.detail))?.to_string(),
                );
            }
            "goodwill_refund" => {
                let a = d.amount_minor.ok_or_else(|| invalid("amount_minor", "this decision needs it"))?;
                if a <= 0 {
                    return Err(invalid("amount_minor", "must be positive"));
                }
                let cur = d.currency.clone().unwrap_or_else(|| "EUR".into());
                riskdesk_domain::Currency::parse(cur.trim(), "currency").map_err(|e| invalid("currency", e.detail))?;
                d.currency = Some(cur.trim().to_owned());
            }
            "disclose_data" => {
                d.recipient = Some(clean_text("recipient", &need(&d.recipient, "recipient")?, 300, true)?);
                d.legal_basis = Some(clean_text("legal_basis", &need(&d.legal_basis, "legal_basis")?, 300, true)?);
            }
            "overturn_decline" => {
                let o = need(&d.order_id, "order_id")?;
                d.order_id =
                    Some(OrderId::parse(&o, "order_id").map_err(|e| invalid("order_id", e.detail))?.to_string());
            }
            _ => {}
        }
        Ok(d)
    }

    /// What an approved (or unguarded) decision does, and its audit action.
    async fn decision_effects(
        &self,
        d: &CaseDecisionPayload,
        maker: &Actor,
        proposal: Option<&str>,
    ) -> ServiceResult<(Vec<Effect>, &'static str)> {
        let now = self.now();
        let by = proposal.map_or(String::new(), |p| format!(" (proposal {p})"));
        let mut effects = Vec::new();
        let (text, action) = match d.decision.as_str() {
            "block_account" => {
                let customer = d.customer_id.clone().unwrap_or_default();
                let e = NewListEntry {
                    list: "block".into(),
                    kind: "customer".into(),
                    value: customer.clone(),
                    reason: d.reason.clone(),
                    expires_at: None,
                };
                let entry = self.entry_from(&e, &maker.id, now).map_err(|(f, m)| invalid(&f, m))?;
                effects.push(Effect::Lists(ListChange::Add(vec![entry])));
                (format!("Account {customer} blocked{by}"), "case.decision.block_account")
            }
            "goodwill_refund" => (
                format!(
                    "Goodwill refund of {} granted{by}",
                    riskdesk_domain::money::display(
                        d.amount_minor.unwrap_or(0),
                        d.currency.as_deref().unwrap_or("EUR")
                    )
                ),
                "case.decision.goodwill_refund",
            ),
            "disclose_data" => (
                format!(
                    "Disclosure to {} approved, legal basis: {}{by}",
                    d.recipient.clone().unwrap_or_default(),
                    d.legal_basis.clone().unwrap_or_default()
                ),
                "case.decision.disclose_data",
            ),
            _ => (
                format!(
                    "Automated decline of order {} overturned after human review{by}",
                    d.order_id.clone().unwrap_or_default()
                ),
                "case.decision.overturn_decline",
            ),
        };
        effects.push(Effect::Cases(CaseChange::Event(event(&d.case_id, maker, "decision", text, now))));
        Ok((effects, action))
    }

    /// Proposes a decision on a case (or records it at once where no second person is needed:
    /// a goodwill refund below the configured amount). Only a person proposes.
    pub async fn propose_case_decision(&self, cap: &CaseWorker, d: CaseDecisionPayload) -> ServiceResult<Proposed> {
        let actor = cap.actor();
        if actor.username.is_none() {
            return Err(ServiceError::Forbidden("case decisions are proposed by a person, not with an API key".into()));
        }
        let before = self.case_record(&d.case_id).await?;
        if !before.status.is_open() {
            return Err(ServiceError::Conflict("the case is resolved; reopen it to decide".into()));
        }
        let d = self.checked_decision(CaseDecisionPayload { case_id: before.id.clone(), ..d })?;
        let threshold = self.settings().cases.goodwill_four_eyes_from;
        if d.decision == "goodwill_refund" && d.amount_minor.unwrap_or(0) < threshold * 100 {
            let (effects, action) = self.decision_effects(&d, actor, None).await?;
            let mut c = before.clone();
            c.version = before.version;
            self.save_case(
                &before,
                c,
                actor,
                Vec::new(),
                effects,
                (action, serde_json::json!({"amount_minor": d.amount_minor})),
            )
            .await?;
            return Ok(Proposed::Recorded);
        }
        // Everyone who added evidence is a maker too.
        let evidence = ["opened", "note", "link", "task", "handoff", "report"];
        let mut co: Vec<String> = self
            .store()
            .case_events(&before.id)
            .await?
            .into_iter()
            .filter(|e| e.actor.starts_with("user:") && evidence.contains(&e.kind.as_str()))
            .map(|e| e.actor)
            .collect();
        co.sort();
        co.dedup();
        let id = self.propose_with(actor, &CaseDecision, before.id.clone(), to_payload(&d)?, &co).await?;
        let mut c = before.clone();
        let now = self.now();
        let cfg = self.settings().cases;
        c.sla.on_status(
            c.created_at,
            CaseStatus::PendingApproval,
            now,
            &cfg.budget(&c.kind, c.priority),
            cfg.calendar(&c.team),
        );
        c.status = CaseStatus::PendingApproval;
        let ev = event(
            &before.id,
            actor,
            "proposal",
            format!("Proposed: {} — {} (proposal {id})", decision_label(&d.decision), d.reason),
            now,
        );
        self.save_case(
            &before,
            c,
            actor,
            vec![ev],
            Vec::new(),
            ("case.propose", serde_json::json!({"proposal": id, "decision": d.decision})),
        )
        .await?;
        Ok(Proposed::Pending { proposal_id: id })
    }
}
