//! Four eyes as one mechanism. An action that needs approval is stored as a proposal holding
//! the exact payload that will run. A different person with the approving permission approves
//! the payload they saw (its hash); any amendment changes the hash and so voids an approval in
//! flight; everyone who contributed is a maker and cannot approve; proposals expire. Only the
//! stored payload runs, so the checker approves exactly what will happen.
//!
//! The mechanism knows no kinds: a proposal names its kind by a code and carries the permission
//! its approver needs, fixed when it is made (a later change of policy does not change who may
//! approve what is already waiting). Each kind is defined in its own area of the service.

use crate::identity::{Permission, Role};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Pending,
    /// Approved by a second person; its payload ran in the same transaction.
    Executed,
    Rejected,
    Withdrawn,
    Expired,
    /// Run without a second person by an administrator's emergency bypass.
    Bypassed,
}

impl ProposalStatus {
    pub const ALL: [ProposalStatus; 6] =
        [Self::Pending, Self::Executed, Self::Rejected, Self::Withdrawn, Self::Expired, Self::Bypassed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Executed => "executed",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
            Self::Bypassed => "bypassed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub id: String,
    /// The kind's code (`cancel_order`, `publish_ruleset`, …), defined by its area.
    pub kind: String,
    /// The permission an approver's role must carry.
    pub approver: Permission,
    /// What the action is about: an order id, a customer id, a rule-set version.
    pub target: String,
    /// The exact action, as JSON text.
    pub payload: String,
    /// Hex SHA-256 of `payload`: what an approver approves.
    pub payload_hash: String,
    /// Usernames of everyone who created or amended it.
    pub makers: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: ProposalStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// Bumped by every change; stored with a compare-and-set so concurrent changes cannot both win.
    pub revision: i64,
}

/// Why a proposal change or approval is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotPending(ProposalStatus),
    Expired,
    /// The approver made or amended the proposal.
    OwnProposal,
    /// The approver's role does not carry the approving permission.
    NotAllowed,
    /// The payload changed since the approver saw it: the approval is void.
    Changed,
    /// A bypass needs a reason.
    NoReason,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPending(s) => write!(f, "the proposal is {}, not pending", s.as_str()),
            Self::Expired => f.write_str("the proposal has expired"),
            Self::OwnProposal => f.write_str("you made or changed this proposal, so someone else must approve it"),
            Self::NotAllowed => f.write_str("your role may not approve this kind of proposal"),
            Self::Changed => f.write_str("the proposal changed after you opened it; review it again"),
            Self::NoReason => f.write_str("an emergency bypass needs a reason"),
        }
    }
}

pub fn payload_hash(payload: &str) -> String {
    let digest = Sha256::digest(payload.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Proposal {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        kind: &str,
        approver: Permission,
        target: String,
        payload: String,
        maker: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Self {
        Self {
            id,
            kind: kind.to_owned(),
            approver,
            target,
            payload_hash: payload_hash(&payload),
            payload,
            makers: vec![maker.to_owned()],
            created_at: now,
            expires_at: now + ttl,
            status: ProposalStatus::Pending,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            revision: 0,
        }
    }

    /// The status as of `now`: a pending proposal past its expiry is expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> ProposalStatus {
        if self.status == ProposalStatus::Pending && now >= self.expires_at {
            ProposalStatus::Expired
        } else {
            self.status
        }
    }

    fn open(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        match self.status_at(now) {
            ProposalStatus::Pending => Ok(()),
            ProposalStatus::Expired => Err(Refusal::Expired),
            s => Err(Refusal::NotPending(s)),
        }
    }

    /// Replaces the payload; the amender becomes a maker and any approval in flight is void.
    pub fn amend(&mut self, by: &str, payload: String, now: DateTime<Utc>) -> Result<(), Refusal> {
        self.open(now)?;
        self.payload_hash = payload_hash(&payload);
        self.payload = payload;
        if !self.makers.iter().any(|m| m == by) {
            self.makers.push(by.to_owned());
        }
        self.revision += 1;
        Ok(())
    }

    /// Whether `user` with `role` may approve or reject now (what the UI offers).
    pub fn may_decide(&self, user: &str, role: Role, now: DateTime<Utc>) -> Result<(), Refusal> {
        self.open(now)?;
        // The maker check first: it is the one that must never be missed or misreported.
        if self.makers.iter().any(|m| m == user) {
            return Err(Refusal::OwnProposal);
        }
        if !role.allows(self.approver) {
            return Err(Refusal::NotAllowed);
        }
        Ok(())
    }

    /// Approves the payload the approver saw (`seen_hash`); on success the caller runs exactly
    /// `self.payload`.
    pub fn approve(
        &mut self,
        user: &str,
        role: Role,
        seen_hash: &str,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        self.may_decide(user, role, now)?;
        if seen_hash != self.payload_hash {
            return Err(Refusal::Changed);
        }
        self.close(ProposalStatus::Executed, user, note, now);
        Ok(())
    }

    pub fn reject(&mut self, user: &str, role: Role, note: Option<String>, now: DateTime<Utc>) -> Result<(), Refusal> {
        self.may_decide(user, role, now)?;
        self.close(ProposalStatus::Rejected, user, note, now);
        Ok(())
    }

    /// A maker takes the proposal back.
    pub fn withdraw(&mut self, user: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
        self.open(now)?;
        if !self.makers.iter().any(|m| m == user) {
            return Err(Refusal::NotAllowed);
        }
        self.close(ProposalStatus::Withdrawn, user, None, now);
        Ok(())
    }

    /// The administrator's emergency bypass: runs the payload without a second person.
    pub fn bypass(&mut self, user: &str, role: Role, reason: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
        self.open(now)?;
        if !role.allows(Permission::EmergencyBypass) {
            return Err(Refusal::NotAllowed);
        }
        if reason.trim().is_empty() {
            return Err(Refusal::NoReason);
        }
        self.close(ProposalStatus::Bypassed, user, Some(reason.trim().to_owned()), now);
        Ok(())
    }

    fn close(&mut self, status: ProposalStatus, user: &str, note: Option<String>, now: DateTime<Utc>) {
        self.status = status;
        self.decided_by = Some(user.to_owned());
        self.decided_at = Some(now);
        self.decision_note = note;
        self.revision += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + m * 60, 0).unwrap()
    }

    fn cancel() -> Proposal {
        Proposal::new(
            "prp_1".into(),
            "cancel_order",
            Permission::ApproveOrderActions,
            "o1".into(),
            r#"{"order":"o1"}"#.into(),
            "ana",
            t(0),
            chrono::Duration::hours(24),
        )
    }

    #[test]
    fn maker_cannot_approve_and_checker_needs_the_role() {
        let mut p = cancel();
        let h = p.payload_hash.clone();
        assert_eq!(p.approve("ana", Role::RiskExpert, &h, None, t(1)), Err(Refusal::OwnProposal));
        assert_eq!(p.approve("ben", Role::FraudAnalyst, &h, None, t(1)), Err(Refusal::NotAllowed));
        assert_eq!(p.approve("ben", Role::RiskExpert, &h, None, t(1)), Ok(()));
        assert_eq!(p.status, ProposalStatus::Executed);
        assert_eq!(
            p.approve("cat", Role::RiskExpert, &h, None, t(2)),
            Err(Refusal::NotPending(ProposalStatus::Executed))
        );
    }

    #[test]
    fn an_amendment_voids_the_approval_and_makes_the_amender_a_maker() {
        let mut p = cancel();
        let seen = p.payload_hash.clone();
        p.amend("ben", r#"{"order":"o1","note":"x"}"#.into(), t(1)).unwrap();
        assert_eq!(p.approve("cat", Role::TeamLead, &seen, None, t(2)), Err(Refusal::Changed));
        let now = p.payload_hash.clone();
        assert_eq!(p.approve("ben", Role::TeamLead, &now, None, t(2)), Err(Refusal::OwnProposal));
        assert_eq!(p.approve("cat", Role::TeamLead, &now, None, t(2)), Ok(()));
    }

    #[test]
    fn proposals_expire() {
        let mut p = cancel();
        let h = p.payload_hash.clone();
        assert_eq!(p.status_at(t(24 * 60)), ProposalStatus::Expired);
        assert_eq!(p.approve("ben", Role::RiskExpert, &h, None, t(24 * 60)), Err(Refusal::Expired));
    }

    #[test]
    fn only_admin_bypasses_and_only_with_a_reason() {
        let mut p = cancel();
        assert_eq!(p.bypass("ana", Role::TeamLead, "urgent", t(1)), Err(Refusal::NotAllowed));
        assert_eq!(p.bypass("root", Role::Admin, "  ", t(1)), Err(Refusal::NoReason));
        assert_eq!(p.bypass("root", Role::Admin, "fraud in progress", t(1)), Ok(()));
        assert_eq!(p.status, ProposalStatus::Bypassed);
    }

    #[test]
    fn rules_need_the_rules_approver() {
        let p = Proposal::new(
            "p".into(),
            "publish_ruleset",
            Permission::ApproveRules,
            "4".into(),
            "{}".into(),
            "ana",
            t(0),
            chrono::Duration::hours(1),
        );
        assert_eq!(p.may_decide("ben", Role::PrivacyOfficer, t(1)), Err(Refusal::NotAllowed));
        assert_eq!(p.may_decide("ben", Role::RiskExpert, t(1)), Ok(()));
        assert_eq!(p.may_decide("ben", Role::Auditor, t(1)), Err(Refusal::NotAllowed));
    }
}
