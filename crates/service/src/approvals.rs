//! Four eyes as one mechanism over the store: a proposal is created with its exact payload,
//! approved by a second person whose role carries the kind's approving permission, and the
//! approved payload runs in the transaction that marks the proposal executed, with both audit
//! records. The rules of the mechanism (payload-bound approval, every contributor a maker,
//! expiry, one pending proposal per kind and subject, the audited bypass) are here and in the
//! domain's [`Proposal`]; what a kind is, who approves it, how it is shown and what runs on
//! approval is the kind's own, defined in its area through [`ProposalKind`].

use crate::audit::entry;
use crate::{Actor, Approver};
use crate::{Service, ServiceError, ServiceResult};
use futures::future::BoxFuture;
use riskdesk_domain::{AuditEntry, Permission, Proposal, ProposalStatus, Refusal};
use riskdesk_store::approvals::ProposalConflict;
use riskdesk_store::changes::Effect;
use std::sync::{Arc, LazyLock};

/// Every kind of proposal, one line per kind, defined in its own area.
static KINDS: LazyLock<Vec<Arc<dyn ProposalKind>>> = LazyLock::new(|| {
    vec![
        Arc::new(crate::review::CancelOrder),
        Arc::new(crate::lists::BlockCustomer),
        Arc::new(crate::rules::PublishRuleSet),
        Arc::new(crate::rules::RollbackRuleSet),
        Arc::new(crate::cases::decision::CaseDecision),
        Arc::new(crate::disputes::respond::DisputeSubmission),
        Arc::new(crate::privacy::decisions::PrivacyErasure),
        Arc::new(crate::privacy::decisions::PrivacyRelease),
    ]
});

/// What runs once a proposal is approved: its changes (committed with the proposal's new state),
/// the audit entry of the action itself (made by the maker), and what follows the commit.
pub struct Execution {
    pub effects: Vec<Effect>,
    pub audit: AuditEntry,
    pub then: Option<Then>,
}

/// Work after the commit (telling the screener, re-screening a cluster); it cannot fail the
/// approval, which is already committed, so it logs its own errors.
pub type Then = Box<dyn FnOnce(Service) -> BoxFuture<'static, ()> + Send>;

/// A kind of proposal, as its area defines it.
#[async_trait::async_trait]
pub trait ProposalKind: Send + Sync {
    /// The stored code, `cancel_order`.
    fn code(&self) -> &'static str;
    /// What people read, "Cancel order".
    fn label(&self) -> &'static str;
    /// The permission an approver's role must carry.
    fn approver(&self) -> Permission;
    /// Where the web UI shows the proposal's subject.
    fn link(&self, target: &str) -> String;
    /// What an approver must see to know what they approve: label and value pairs, read from
    /// the payload and the current state (an order's amount and hits, a rule set's diff).
    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let _ = svc;
        vec![("Payload".into(), p.payload.clone())]
    }
    /// Builds what the approved payload does, as the maker's action.
    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution>;
}

/// The kind with this code.
pub fn kind(code: &str) -> Option<Arc<dyn ProposalKind>> {
    KINDS.iter().find(|k| k.code() == code).cloned()
}

/// Every kind.
pub fn kinds() -> Vec<Arc<dyn ProposalKind>> {
    KINDS.clone()
}

fn kind_of(p: &Proposal) -> ServiceResult<Arc<dyn ProposalKind>> {
    kind(&p.kind).ok_or_else(|| ServiceError::Invalid(format!("kind: {} is not a known kind of proposal", p.kind)))
}

pub(crate) fn refused(r: Refusal) -> ServiceError {
    ServiceError::Forbidden(r.to_string())
}

/// A proposal with what the web UI and the API show beside it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shown {
    #[serde(flatten)]
    pub proposal: Proposal,
    pub label: &'static str,
    pub link: String,
    /// What the approver approves, as label and value pairs.
    pub summary: Vec<(String, String)>,
}

impl Service {
    /// Stores a proposal of `kind`; refuses a second pending one for the same thing.
    /// Only a person proposes: an API key names no person, so its holder could approve their
    /// own proposal as a user.
    pub(crate) async fn propose(
        &self,
        maker: &Actor,
        kind: &dyn ProposalKind,
        target: String,
        payload: String,
    ) -> ServiceResult<String> {
        self.propose_with(maker, kind, target, payload, &[]).await
    }

    /// As [`Service::propose`], with everyone else who contributed to the decision as makers
    /// too (none of them may approve it).
    pub(crate) async fn propose_with(
        &self,
        maker: &Actor,
        kind: &dyn ProposalKind,
        target: String,
        payload: String,
        co_makers: &[String],
    ) -> ServiceResult<String> {
        if !maker.id.starts_with("user:") {
            return Err(ServiceError::Forbidden(
                "four-eye proposals are made by a person (signed in, or with a personal access token), \
                 not with an API key"
                    .into(),
            ));
        }
        let now = self.now();
        let p = Proposal::new(
            format!("prp_{}", ulid::Ulid::new()),
            kind.code(),
            kind.approver(),
            target.clone(),
            payload,
            &maker.id,
            now,
            self.settings().proposal_ttl,
        );
        let mut p = p;
        for m in co_makers {
            if !p.makers.contains(m) {
                p.makers.push(m.clone());
            }
        }
        let audit = entry(
            &maker.id,
            "proposal.create",
            format!("proposal:{}", p.id),
            serde_json::json!({"kind": kind.code(), "target": target, "payload_hash": p.payload_hash, "makers": p.makers}),
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

    /// A proposal with its kind's label, link and summary.
    pub async fn shown(&self, p: Proposal) -> Shown {
        match kind(&p.kind) {
            Some(k) => {
                Shown { label: k.label(), link: k.link(&p.target), summary: k.describe(self, &p).await, proposal: p }
            }
            None => Shown { label: "Unknown kind", link: "/proposals".into(), summary: Vec::new(), proposal: p },
        }
    }

    pub async fn proposal(&self, id: &str) -> ServiceResult<Proposal> {
        self.store().proposal(id).await?.ok_or(ServiceError::NotFound("proposal"))
    }

    /// The pending proposal of a kind for a subject, if any.
    pub(crate) async fn pending_for(&self, kind: &dyn ProposalKind, target: &str) -> ServiceResult<Option<Proposal>> {
        let now = self.now();
        Ok(self
            .store()
            .pending_proposal(kind.code(), target)
            .await?
            .filter(|p| p.status_at(now) == ProposalStatus::Pending))
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
        if let Err(r) = p.approve(&actor.id, role, seen_hash, note.clone(), self.now()) {
            // A refused approval (a maker's own, a changed payload) is on the record too.
            let e = entry(
                &actor.id,
                "proposal.approve.refused",
                format!("proposal:{id}"),
                serde_json::json!({"why": r.to_string()}),
                self.now(),
            );
            self.audit_only(e).await?;
            return Err(refused(r));
        }
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

    /// Replaces a pending proposal's payload (its kind decides what may change): the amender
    /// becomes one of its makers, and an approval of the earlier payload in flight is void.
    pub(crate) async fn amend_payload(&self, actor: &Actor, mut p: Proposal, payload: String) -> ServiceResult<()> {
        let before = p.revision;
        // What the amendment replaced stays on the record: the earlier payload's hash and its
        // reason code (a note may hold personal data, so it is not copied into the log).
        let previous = serde_json::from_str::<serde_json::Value>(&p.payload).ok();
        let previous_reason = previous.as_ref().and_then(|v| v.pointer("/review/reason")).cloned();
        let previous_hash = p.payload_hash.clone();
        p.amend(&actor.id, payload, self.now()).map_err(refused)?;
        let audit = entry(
            &actor.id,
            "proposal.amend",
            format!("proposal:{}", p.id),
            serde_json::json!({"payload_hash": p.payload_hash, "previous_hash": previous_hash, "previous_reason": previous_reason}),
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
        audit: &[AuditEntry],
    ) -> ServiceResult<()> {
        match self.store().update_proposal(p, before, effects, audit, self.audit_key()).await? {
            Ok(()) => Ok(()),
            Err(ProposalConflict::Changed | ProposalConflict::AlreadyPending) => Err(refused(Refusal::Changed)),
        }
    }

    /// Builds the kind's execution of the stored payload and commits it with the proposal's new
    /// state, then runs what follows the commit.
    async fn run_proposal(
        &self,
        p: Proposal,
        before: i64,
        actor: &Actor,
        action: &str,
        flagged: bool,
    ) -> ServiceResult<()> {
        let kind = kind_of(&p)?;
        let maker = Actor::other(p.makers.first().map_or("unknown", String::as_str));
        let run = kind.execute(self, &p, &maker).await?;
        let mut decided = entry(
            &actor.id,
            action,
            format!("proposal:{}", p.id),
            serde_json::json!({"kind": p.kind, "target": p.target, "payload_hash": p.payload_hash}),
            self.now(),
        );
        decided.flagged = flagged;
        if flagged {
            decided.purpose = p.decision_note.clone();
        }
        self.save_proposal(&p, before, &run.effects, &[decided, run.audit]).await?;
        debug_assert!(matches!(p.status, ProposalStatus::Executed | ProposalStatus::Bypassed));
        if let Some(then) = run.then {
            then(self.clone()).await;
        }
        Ok(())
    }
}

/// Parses a stored payload.
pub(crate) fn payload<T: serde::de::DeserializeOwned>(p: &Proposal) -> ServiceResult<T> {
    serde_json::from_str(&p.payload).map_err(|e| ServiceError::Invalid(e.to_string()))
}

/// Serialises a payload to store.
pub(crate) fn to_payload<T: serde::Serialize>(x: &T) -> ServiceResult<String> {
    serde_json::to_string(x).map_err(|e| ServiceError::Invalid(e.to_string()))
}
