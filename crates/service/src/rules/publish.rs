//! The four-eye kind "publish a rule set": a saved, valid version goes live when a second
//! person approves it, having seen its difference to the live set.

use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::{Actor, RulesAdmin, Service, ServiceError, ServiceResult};
use riskdesk_domain::{Permission, Proposal};
use riskdesk_store::ControlChange;
use riskdesk_store::changes::{Effect, ScreeningChange};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublishPayload {
    pub version: i64,
}

pub struct PublishRuleSet;

#[async_trait::async_trait]
impl ProposalKind for PublishRuleSet {
    fn code(&self) -> &'static str {
        "publish_ruleset"
    }

    fn label(&self) -> &'static str {
        "Publish rule set"
    }

    fn approver(&self) -> Permission {
        Permission::ApproveRules
    }

    fn link(&self, target: &str) -> String {
        format!("/rules/{target}")
    }

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(x) = payload::<PublishPayload>(p) else { return Vec::new() };
        let mut out = vec![("Version".into(), x.version.to_string())];
        if let Ok(Some(r)) = svc.store().ruleset(x.version).await {
            out.push(("Saved by".into(), format!("{} — {}", r.author, r.note)));
        }
        if let Ok(c) = svc.store().screening_control().await {
            out.push(("Live now".into(), c.live_version.map_or_else(|| "none".into(), |v| v.to_string())));
        }
        out
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let x: PublishPayload = payload(p)?;
        svc.publishable(x.version).await?;
        let now = svc.now();
        let audit = entry(
            &maker.id,
            "ruleset.publish",
            format!("ruleset:{}", x.version),
            serde_json::json!({"proposal": p.id}),
            now,
        );
        Ok(Execution {
            effects: vec![Effect::Screening(ScreeningChange::Control {
                change: ControlChange::Publish(x.version),
                actor: maker.id.clone(),
                at: now,
            })],
            audit,
            then: Some(Box::new(|svc: Service| {
                Box::pin(async move {
                    if let Err(e) = svc.screener().refresh().await {
                        tracing::warn!(error = %e, "refreshing the screener after publishing failed");
                    }
                })
            })),
        })
    }
}

impl Service {
    /// Proposes publishing a saved rule-set version.
    pub async fn propose_publish(&self, cap: &RulesAdmin, version: i64) -> ServiceResult<String> {
        self.publishable(version).await?;
        self.propose(cap.actor(), &PublishRuleSet, version.to_string(), to_payload(&PublishPayload { version })?).await
    }

    pub(crate) async fn publishable(&self, version: i64) -> ServiceResult<()> {
        let rec = self.store().ruleset(version).await?.ok_or(ServiceError::NotFound("rule set version"))?;
        super::validate(&rec.source)?;
        if self.store().screening_control().await?.live_version == Some(version) {
            return Err(ServiceError::Conflict(format!("version {version} is already live")));
        }
        Ok(())
    }
}
