//! The four-eye kind "roll back the rule set": returning to the previously live version changes
//! every later decision as much as publishing does, so a person proposes it with a reason and a
//! second person approves it; it runs only if the live version is still the one it rolls back.

use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::cases::clean_text;
use crate::{Actor, RulesAdmin, Service, ServiceError, ServiceResult};
use riskdesk_domain::{Permission, Proposal};
use riskdesk_store::ControlChange;
use riskdesk_store::changes::{Effect, ScreeningChange};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RollbackPayload {
    /// The live version it rolls back.
    pub from_version: i64,
    /// The version that goes live again.
    pub to_version: i64,
    pub reason: String,
}

pub struct RollbackRuleSet;

#[async_trait::async_trait]
impl ProposalKind for RollbackRuleSet {
    fn code(&self) -> &'static str {
        "rollback_ruleset"
    }

    fn label(&self) -> &'static str {
        "Roll back rule set"
    }

    fn approver(&self) -> Permission {
        Permission::ApproveRules
    }

    fn link(&self, target: &str) -> String {
        format!("/rules/{target}")
    }

    async fn describe(&self, _svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(x) = payload::<RollbackPayload>(p) else { return Vec::new() };
        vec![
            ("From live version".into(), x.from_version.to_string()),
            ("Back to version".into(), x.to_version.to_string()),
            ("Reason".into(), x.reason),
        ]
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let x: RollbackPayload = payload(p)?;
        let live = svc.store().screening_control().await?.live_version;
        if live != Some(x.from_version) {
            return Err(ServiceError::Conflict(format!(
                "the live version is no longer {} (it is {}); propose the rollback again",
                x.from_version,
                live.map_or_else(|| "none".into(), |v| v.to_string())
            )));
        }
        let now = svc.now();
        let audit = entry(
            &maker.id,
            "ruleset.rollback",
            format!("ruleset:{}", x.to_version),
            serde_json::json!({"proposal": p.id, "from": x.from_version, "reason": x.reason}),
            now,
        );
        Ok(Execution {
            effects: vec![Effect::Screening(ScreeningChange::Control {
                change: ControlChange::Rollback(x.to_version),
                actor: maker.id.clone(),
                at: now,
            })],
            audit,
            then: Some(Box::new(|svc: Service| {
                Box::pin(async move {
                    if let Err(e) = svc.screener().refresh().await {
                        tracing::warn!(error = %e, "refreshing the screener after a rollback failed");
                    }
                })
            })),
        })
    }
}

impl Service {
    /// Proposes returning to the previously live version, with a reason; answers the proposal
    /// and the version it would make live.
    pub async fn propose_rollback(&self, cap: &RulesAdmin, reason: &str) -> ServiceResult<(String, i64)> {
        let reason = clean_text("reason", reason, 1000, true)?;
        let (from_version, to_version) = self.rollback_target().await?;
        let payload = RollbackPayload { from_version, to_version, reason };
        let id = self.propose(cap.actor(), &RollbackRuleSet, to_version.to_string(), to_payload(&payload)?).await?;
        Ok((id, to_version))
    }
}
