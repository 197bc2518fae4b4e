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

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(x) = payload::<RollbackPayload>(p) else { return Vec::new() };
        let mut out = vec![
            ("From live version".into(), x.from_version.to_string()),
            ("Back to version".into(), x.to_version.to_string()),
            ("Reason".into(), x.reason),
        ];
        // What coming back changes: the rules against the live set, and the backtest.
        if let (Ok(Some(live)), Ok(Some(back))) =
            (svc.store().ruleset(x.from_version).await, svc.store().ruleset(x.to_version).await)
        {
            out.extend(super::publish::rules_diff(&live.source, &back.source));
        }
        let viewer = crate::RulesViewer::local(Actor::other("system:approvals"));
        match svc.backtest(&viewer, super::Candidate::Version(x.to_version)).await {
            Ok(b) => out.extend(super::publish::backtest_summary(&b)),
            Err(e) => out.push(("Backtest".into(), format!("could not run: {e}"))),
        }
        out
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
    /// The live version and the one that was live before it.
    pub(crate) async fn rollback_target(&self) -> ServiceResult<(i64, i64)> {
        let mut stack: Vec<i64> = Vec::new();
        for c in self.store().ruleset_changes().await? {
            match (c.action.as_str(), c.version) {
                ("publish", Some(v)) => stack.push(v),
                ("rollback", Some(_)) => {
                    stack.pop();
                }
                _ => {}
            }
        }
        let (Some(&target), Some(&live)) = (stack.len().checked_sub(2).and_then(|i| stack.get(i)), stack.last()) else {
            return Err(ServiceError::Conflict("there is no earlier published version to roll back to".into()));
        };
        self.checked_version(target).await?;
        Ok((live, target))
    }

    /// Returns to the version that was live before the current one. Only the local operator
    /// does so directly (flagged in the audit log); everyone else proposes it with a reason
    /// ([`Service::propose_rollback`]) and a second person approves.
    pub async fn rollback_ruleset(&self, cap: &RulesAdmin) -> ServiceResult<i64> {
        if !cap.is_local() {
            return Err(ServiceError::Forbidden(
                "rolling back the rule set needs four eyes: propose it with a reason".into(),
            ));
        }
        let (_, target) = self.rollback_target().await?;
        let mut audit =
            entry(&cap.actor().id, "ruleset.rollback", format!("ruleset:{target}"), serde_json::json!({}), self.now());
        audit.flagged = true;
        audit.purpose = Some("rolled back by the local operator, outside four eyes".into());
        self.control(ControlChange::Rollback(target), &cap.actor().id, audit).await?;
        Ok(target)
    }

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
