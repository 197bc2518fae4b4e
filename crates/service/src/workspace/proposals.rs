//! Four eyes over the store: proposals are created with their exact payload, approved by a
//! second person with the right role, and the approved payload runs in the transaction that
//! marks the proposal executed, with both audit records. The policy itself (who may approve,
//! expiry, voiding) is the domain's [`Proposal`].

use super::audit::entry;
use super::review::{CancelPayload, clean_input};
use super::{Actor, Approver};
use crate::lists::NewListEntry;
use crate::{RulesAdmin, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::workspace::{Proposal, ProposalKind, ProposalStatus, Refusal};
use riskdesk_domain::{CustomerId, Event, OrderId};
use riskdesk_store::ControlChange;
use riskdesk_store::workspace::{Effect, ProposalConflict};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlockCustomerPayload {
    pub customer_id: String,
    pub reason: String,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublishPayload {
    pub version: i64,
}

fn refused(r: Refusal) -> ServiceError {
    ServiceError::Forbidden(r.to_string())
}

impl Service {
    /// Stores a proposal; refuses a second pending one for the same thing.
    /// Only a signed-in person proposes: an API key names no person, so its holder could
    /// approve their own proposal as a user.
    pub(crate) async fn propose(
        &self,
        maker: &Actor,
        kind: ProposalKind,
        target: String,
        payload: String,
    ) -> ServiceResult<String> {
        if !maker.id.starts_with("user:") {
            return Err(ServiceError::Forbidden(
                "four-eye proposals are made by a signed-in person in the web UI, not with an API key".into(),
            ));
        }
        let now = self.now();
        let p = Proposal::new(
            format!("prp_{}", ulid::Ulid::new()),
            kind,
            target.clone(),
            payload,
            &maker.id,
            now,
            self.workspace_config().proposal_ttl,
        );
        let audit = entry(
            &maker.id,
            "proposal.create",
            format!("proposal:{}", p.id),
            serde_json::json!({"kind": kind.as_str(), "target": target, "payload_hash": p.payload_hash}),
            now,
        );
        match self.store().create_proposal(&p, &[audit], self.audit_key()).await? {
            Ok(()) => Ok(p.id),
            Err(_) => Err(ServiceError::Conflict(format!(
                "a {} proposal for {target} is already waiting for approval",
                kind.label().to_lowercase()
            ))),
        }
    }

    /// Proposes putting a customer id on the block list.
    pub async fn propose_block_customer(
        &self,
        cap: &RulesAdmin,
        payload: BlockCustomerPayload,
    ) -> ServiceResult<String> {
        let id = CustomerId::parse(payload.customer_id.trim(), "customer_id")
            .map_err(|e| ServiceError::Invalid(e.detail))?;
        // Checked now so that a proposal never holds an entry that could not be stored.
        self.block_entry(&payload, &Actor::other(&cap.actor))?;
        let payload = BlockCustomerPayload { customer_id: id.to_string(), ..payload };
        let text = serde_json::to_string(&payload).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        self.propose(&Actor::other(&cap.actor), ProposalKind::BlockCustomer, id.to_string(), text).await
    }

    /// Proposes publishing a saved rule-set version.
    pub async fn propose_publish(&self, cap: &RulesAdmin, version: i64) -> ServiceResult<String> {
        self.publishable(version).await?;
        let text =
            serde_json::to_string(&PublishPayload { version }).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        self.propose(&Actor::other(&cap.actor), ProposalKind::PublishRuleSet, version.to_string(), text).await
    }

    async fn publishable(&self, version: i64) -> ServiceResult<()> {
        let rec = self.store().ruleset(version).await?.ok_or(ServiceError::NotFound("rule set version"))?;
        crate::rules::validate(&rec.source)?;
        if self.store().screening_control().await?.live_version == Some(version) {
            return Err(ServiceError::Conflict(format!("version {version} is already live")));
        }
        Ok(())
    }

    fn block_entry(&self, p: &BlockCustomerPayload, maker: &Actor) -> ServiceResult<riskdesk_store::ListEntry> {
        let e = NewListEntry {
            list: "block".into(),
            kind: "customer".into(),
            value: p.customer_id.clone(),
            reason: p.reason.clone(),
            expires_at: p.expires_at,
        };
        self.entry_from(&e, &maker.id, self.now())
            .map_err(|(field, msg)| ServiceError::Invalid(format!("{field}: {msg}")))
    }

    pub async fn proposal(&self, id: &str) -> ServiceResult<Proposal> {
        self.store().proposal(id).await?.ok_or(ServiceError::NotFound("proposal"))
    }

    /// Proposals, newest first; `pending_only` leaves out those past their expiry too (expiry is
    /// derived from the time, so reading writes nothing).
    pub async fn proposals(&self, pending_only: bool) -> ServiceResult<Vec<Proposal>> {
        let now = self.now();
        let mut all = self.store().proposals(pending_only, 200).await?;
        if pending_only {
            all.retain(|p| p.status_at(now) == ProposalStatus::Pending);
        }
        Ok(all)
    }

    /// Approves the payload the approver saw (`seen_hash`) and runs it, in one transaction.
    pub async fn approve_proposal(
        &self,
        cap: &Approver,
        id: &str,
        seen_hash: &str,
        note: Option<String>,
    ) -> ServiceResult<()> {
        let actor = cap.actor();
        let role = actor.role.ok_or_else(|| refused(Refusal::NotAllowed))?;
        let mut p = self.proposal(id).await?;
        let before = p.revision;
        p.approve(&actor.id, role, seen_hash, note.clone(), self.now()).map_err(refused)?;
        self.run_proposal(p, before, actor, "proposal.approve", false).await
    }

    /// Runs a proposal without a second person: administrators only, with a reason; flagged.
    pub async fn bypass_proposal(&self, cap: &Approver, id: &str, reason: &str) -> ServiceResult<()> {
        let actor = cap.actor();
        let role = actor.role.ok_or_else(|| refused(Refusal::NotAllowed))?;
        let mut p = self.proposal(id).await?;
        let before = p.revision;
        p.bypass(&actor.id, role, reason, self.now()).map_err(refused)?;
        self.run_proposal(p, before, actor, "proposal.bypass", true).await
    }

    pub async fn reject_proposal(&self, cap: &Approver, id: &str, note: Option<String>) -> ServiceResult<()> {
        let actor = cap.actor();
        let role = actor.role.ok_or_else(|| refused(Refusal::NotAllowed))?;
        let mut p = self.proposal(id).await?;
        let before = p.revision;
        p.reject(&actor.id, role, note, self.now()).map_err(refused)?;
        let audit = entry(&actor.id, "proposal.reject", format!("proposal:{id}"), serde_json::json!({}), self.now());
        self.save_proposal(&p, before, &[], &[audit]).await
    }

    /// Changes a pending cancellation's reason or note. The amender becomes one of its makers,
    /// and an approval of the earlier payload in flight is void (its hash no longer matches).
    pub async fn amend_cancel(
        &self,
        cap: &super::OrderDecider,
        id: &str,
        input: super::review::ReviewInput,
    ) -> ServiceResult<()> {
        let mut p = self.proposal(id).await?;
        if p.kind != ProposalKind::CancelOrder {
            return Err(ServiceError::Invalid("only cancellations can be amended".into()));
        }
        let old: CancelPayload = serde_json::from_str(&p.payload).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let review = clean_input(input)?;
        if review.action != riskdesk_domain::workspace::ReviewAction::Cancel {
            return Err(ServiceError::Invalid("action: an amended cancellation stays a cancellation".into()));
        }
        let payload = serde_json::to_string(&CancelPayload { order_id: old.order_id, review })
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let before = p.revision;
        let actor = cap.actor();
        p.amend(&actor.id, payload, self.now()).map_err(refused)?;
        let audit = entry(
            &actor.id,
            "proposal.amend",
            format!("proposal:{id}"),
            serde_json::json!({"payload_hash": p.payload_hash}),
            self.now(),
        );
        self.save_proposal(&p, before, &[], &[audit]).await
    }

    /// A maker takes their proposal back.
    pub async fn withdraw_proposal(&self, actor: &Actor, id: &str) -> ServiceResult<()> {
        let mut p = self.proposal(id).await?;
        let before = p.revision;
        p.withdraw(&actor.id, self.now()).map_err(refused)?;
        let audit = entry(&actor.id, "proposal.withdraw", format!("proposal:{id}"), serde_json::json!({}), self.now());
        self.save_proposal(&p, before, &[], &[audit]).await
    }

    async fn save_proposal(
        &self,
        p: &Proposal,
        before: i64,
        effects: &[Effect],
        audit: &[riskdesk_domain::workspace::AuditEntry],
    ) -> ServiceResult<()> {
        match self.store().update_proposal(p, before, effects, audit, self.audit_key()).await? {
            Ok(()) => Ok(()),
            Err(ProposalConflict::Changed | ProposalConflict::AlreadyPending) => Err(refused(Refusal::Changed)),
        }
    }

    /// Builds the effects of the stored payload and commits them with the proposal's new state.
    async fn run_proposal(
        &self,
        p: Proposal,
        before: i64,
        actor: &Actor,
        action: &str,
        flagged: bool,
    ) -> ServiceResult<()> {
        let maker = Actor::other(p.makers.first().map_or("unknown", String::as_str));
        let now = self.now();
        let mut label: Option<Event> = None;
        let (effects, done) = match p.kind {
            ProposalKind::CancelOrder => {
                let c: CancelPayload =
                    serde_json::from_str(&p.payload).map_err(|e| ServiceError::Invalid(e.to_string()))?;
                let order = OrderId::parse(&c.order_id, "order_id").map_err(|e| ServiceError::Invalid(e.detail))?;
                let input = clean_input(c.review)?;
                let (effects, l) = self.review_effects(&maker, &order, &input, Some(p.id.clone())).await?;
                label = l;
                (
                    effects,
                    entry(
                        &maker.id,
                        "order.cancel",
                        format!("order:{order}"),
                        serde_json::json!({"reason": input.reason.as_str(), "proposal": p.id}),
                        now,
                    ),
                )
            }
            ProposalKind::BlockCustomer => {
                let b: BlockCustomerPayload =
                    serde_json::from_str(&p.payload).map_err(|e| ServiceError::Invalid(e.to_string()))?;
                let e = self.block_entry(&b, &maker)?;
                let id = e.id.clone();
                (
                    vec![Effect::AddListEntries(vec![e])],
                    entry(
                        &maker.id,
                        "list.add",
                        format!("customer:{}", b.customer_id),
                        serde_json::json!({"entry": id, "list": "block", "proposal": p.id}),
                        now,
                    ),
                )
            }
            ProposalKind::PublishRuleSet => {
                let x: PublishPayload =
                    serde_json::from_str(&p.payload).map_err(|e| ServiceError::Invalid(e.to_string()))?;
                self.publishable(x.version).await?;
                (
                    vec![Effect::Control {
                        change: ControlChange::Publish(x.version),
                        actor: maker.id.clone(),
                        at: now,
                    }],
                    entry(
                        &maker.id,
                        "ruleset.publish",
                        format!("ruleset:{}", x.version),
                        serde_json::json!({"proposal": p.id}),
                        now,
                    ),
                )
            }
        };
        let mut decided = entry(
            &actor.id,
            action,
            format!("proposal:{}", p.id),
            serde_json::json!({"kind": p.kind.as_str(), "target": p.target, "payload_hash": p.payload_hash}),
            now,
        );
        decided.flagged = flagged;
        if flagged {
            decided.purpose = p.decision_note.clone();
        }
        self.save_proposal(&p, before, &effects, &[decided, done]).await?;
        debug_assert!(matches!(p.status, ProposalStatus::Executed | ProposalStatus::Bypassed));
        match p.kind {
            ProposalKind::CancelOrder => self.after_label(label).await,
            _ => self.screener().refresh().await?,
        }
        Ok(())
    }
}
