//! Roles and what each may do. A role is a named set of permissions; the service turns a held
//! permission into a capability value, so a handler without it cannot call the operation.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Tier2Agent,
    FraudAnalyst,
    RiskExpert,
    PrivacyOfficer,
    QaReviewer,
    /// Payment operations: disputes, chargebacks, refund claims and returns.
    PaymentsSpecialist,
    /// An outsourced service provider's team lead: sees and answers the QA feedback on their
    /// own provider's handlings, nothing else.
    ProviderLead,
    TeamLead,
    Admin,
    /// Reads everything a reviewer of processes needs; changes nothing.
    Auditor,
}

/// One thing a user may do. Kept coarse: each maps to a group of routes and operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// The home page, the review queue and order pages (personal data masked).
    ViewOrders,
    /// Claim queue items, release and hold orders, cancel orders (above the four-eye threshold
    /// only as a proposal).
    DecideOrders,
    /// Assign queue items to other users.
    AssignQueue,
    /// Approve or reject proposals to cancel orders or block customers.
    ApproveOrderActions,
    /// Read rule sets, backtests, shadow results and lists.
    ViewRules,
    /// Edit drafts, backtest, shadow, propose publishing, roll back; manage list entries
    /// (blocking a customer id only as a proposal).
    EditRules,
    /// Approve or reject proposals to publish a rule set.
    ApproveRules,
    /// See personal data in clear, for a stated purpose that is logged.
    Unmask,
    /// Read the audit log.
    ViewAudit,
    /// Create users and change roles.
    ManageUsers,
    /// Run a guarded action without a second person, with a reason; flagged in the audit log.
    EmergencyBypass,
    /// Escalate a case and report suspicious activity; see the outcome of one's own reports.
    OpenCases,
    /// Read cases, their timeline and what they link to.
    ViewCases,
    /// Work cases: notes, links, tasks, moves, taking a case, proposing a decision.
    WorkCases,
    /// Approve or reject proposed case decisions (block an account, a goodwill refund above the
    /// threshold, disclosing data, overturning an automated decline).
    ApproveCaseDecisions,
    /// Write SOPs, playbooks and FAQ pages (every person reads them).
    EditKnowledge,
    /// Read disputes, refund claims, return-abuse signals and the scheme ratios.
    ViewDisputes,
    /// Work disputes: evidence, submitting (above the four-eye amount as a proposal), accepting.
    WorkDisputes,
    /// Approve or reject proposed dispute submissions.
    ApproveDisputes,
    /// Read QA reviews, trends and calibration results.
    ViewQa,
    /// Review sampled handlings and decide disputed reviews.
    ReviewQa,
    /// Write scorecards and run calibration sessions.
    ManageQa,
    /// Acknowledge or dispute QA feedback on one's own provider's handlings.
    RespondQaFeedback,
    /// Read KPIs, trends, rule effectiveness, trend alerts and reports (aggregates and order ids).
    ViewKpis,
    /// Act on trend alerts (open an investigation, dismiss) and send a report now.
    ManageKpis,
    /// Read data-subject requests, the breach register, records of processing and sweep runs.
    ViewPrivacy,
    /// Work data-subject requests (identity, clock, exports, erasure proposals) and breaches.
    WorkPrivacy,
    /// Approve releasing an export to the person and executing an erasure.
    ApprovePrivacy,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ViewOrders => "view_orders",
            Self::DecideOrders => "decide_orders",
            Self::AssignQueue => "assign_queue",
            Self::ApproveOrderActions => "approve_order_actions",
            Self::ViewRules => "view_rules",
            Self::EditRules => "edit_rules",
            Self::ApproveRules => "approve_rules",
            Self::Unmask => "unmask",
            Self::ViewAudit => "view_audit",
            Self::ManageUsers => "manage_users",
            Self::EmergencyBypass => "emergency_bypass",
            Self::OpenCases => "open_cases",
            Self::ViewCases => "view_cases",
            Self::WorkCases => "work_cases",
            Self::ApproveCaseDecisions => "approve_case_decisions",
            Self::EditKnowledge => "edit_knowledge",
            Self::ViewDisputes => "view_disputes",
            Self::WorkDisputes => "work_disputes",
            Self::ApproveDisputes => "approve_disputes",
            Self::ViewQa => "view_qa",
            Self::ReviewQa => "review_qa",
            Self::ManageQa => "manage_qa",
            Self::RespondQaFeedback => "respond_qa_feedback",
            Self::ViewKpis => "view_kpis",
            Self::ManageKpis => "manage_kpis",
            Self::ViewPrivacy => "view_privacy",
            Self::WorkPrivacy => "work_privacy",
            Self::ApprovePrivacy => "approve_privacy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub const ALL: [Permission; 28] = [
        Self::ViewOrders,
        Self::DecideOrders,
        Self::AssignQueue,
        Self::ApproveOrderActions,
        Self::ViewRules,
        Self::EditRules,
        Self::ApproveRules,
        Self::Unmask,
        Self::ViewAudit,
        Self::ManageUsers,
        Self::EmergencyBypass,
        Self::OpenCases,
        Self::ViewCases,
        Self::WorkCases,
        Self::ApproveCaseDecisions,
        Self::EditKnowledge,
        Self::ViewDisputes,
        Self::WorkDisputes,
        Self::ApproveDisputes,
        Self::ViewQa,
        Self::ReviewQa,
        Self::ManageQa,
        Self::RespondQaFeedback,
        Self::ViewKpis,
        Self::ManageKpis,
        Self::ViewPrivacy,
        Self::WorkPrivacy,
        Self::ApprovePrivacy,
    ];
}

impl Role {
    pub const ALL: [Role; 10] = [
        Self::Tier2Agent,
        Self::FraudAnalyst,
        Self::RiskExpert,
        Self::PrivacyOfficer,
        Self::QaReviewer,
        Self::PaymentsSpecialist,
        Self::ProviderLead,
        Self::TeamLead,
        Self::Admin,
        Self::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tier2Agent => "tier2_agent",
            Self::FraudAnalyst => "fraud_analyst",
            Self::RiskExpert => "risk_expert",
            Self::PrivacyOfficer => "privacy_officer",
            Self::QaReviewer => "qa_reviewer",
            Self::PaymentsSpecialist => "payments_specialist",
            Self::ProviderLead => "provider_lead",
            Self::TeamLead => "team_lead",
            Self::Admin => "admin",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Tier2Agent => "Tier-2 agent",
            Self::FraudAnalyst => "Fraud analyst",
            Self::RiskExpert => "Risk expert",
            Self::PrivacyOfficer => "Privacy officer",
            Self::QaReviewer => "QA reviewer",
            Self::PaymentsSpecialist => "Payments specialist",
            Self::ProviderLead => "Provider team lead",
            Self::TeamLead => "Team lead",
            Self::Admin => "Administrator",
            Self::Auditor => "Auditor",
        }
    }

    /// The policy table. Tier-2 agents and QA reviewers see orders masked, escalate and report,
    /// and decide nothing; analysts decide, propose and work cases; experts and team leads also
    /// approve; privacy officers work cases and read the log; auditors read; only administrators
    /// manage users and may bypass four eyes.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Self::Tier2Agent => matches!(p, ViewOrders | OpenCases),
            Self::QaReviewer => matches!(p, ViewOrders | OpenCases | ViewQa | ReviewQa),
            Self::ProviderLead => matches!(p, RespondQaFeedback),
            Self::FraudAnalyst => {
                matches!(
                    p,
                    ViewOrders
                        | DecideOrders
                        | ViewRules
                        | EditRules
                        | Unmask
                        | OpenCases
                        | ViewCases
                        | WorkCases
                        | ViewDisputes
                        | WorkDisputes
                        | ViewKpis
                )
            }
            Self::RiskExpert => matches!(
                p,
                ViewOrders
                    | DecideOrders
                    | ApproveOrderActions
                    | ViewRules
                    | EditRules
                    | ApproveRules
                    | Unmask
                    | OpenCases
                    | ViewCases
                    | WorkCases
                    | ApproveCaseDecisions
                    | ViewDisputes
                    | WorkDisputes
                    | ApproveDisputes
                    | ViewQa
                    | ReviewQa
                    | ViewKpis
                    | ManageKpis
            ),
            Self::PaymentsSpecialist => {
                matches!(p, ViewOrders | OpenCases | ViewCases | WorkCases | ViewDisputes | WorkDisputes | ViewKpis)
            }
            Self::TeamLead => matches!(
                p,
                ViewOrders
                    | DecideOrders
                    | AssignQueue
                    | ApproveOrderActions
                    | ViewRules
                    | EditRules
                    | ApproveRules
                    | Unmask
                    | OpenCases
                    | ViewCases
                    | WorkCases
                    | ApproveCaseDecisions
                    | EditKnowledge
                    | ViewDisputes
                    | WorkDisputes
                    | ApproveDisputes
                    | ViewQa
                    | ReviewQa
                    | ManageQa
                    | ViewKpis
                    | ManageKpis
            ),
            Self::PrivacyOfficer => matches!(
                p,
                ViewOrders
                    | Unmask
                    | ViewAudit
                    | OpenCases
                    | ViewCases
                    | WorkCases
                    | ViewPrivacy
                    | WorkPrivacy
                    | ApprovePrivacy
            ),
            Self::Auditor => {
                matches!(
                    p,
                    ViewOrders | ViewRules | ViewAudit | ViewCases | ViewDisputes | ViewQa | ViewKpis | ViewPrivacy
                )
            }
            Self::Admin => true,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_codes_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_admin_manages_users_and_bypasses() {
        for r in Role::ALL {
            assert_eq!(r.allows(Permission::ManageUsers), r == Role::Admin, "{r}");
            assert_eq!(r.allows(Permission::EmergencyBypass), r == Role::Admin, "{r}");
        }
    }

    #[test]
    fn auditor_changes_nothing() {
        for p in [Permission::DecideOrders, Permission::EditRules, Permission::Unmask, Permission::ApproveRules] {
            assert!(!Role::Auditor.allows(p), "{p:?}");
        }
    }
}
