//! Cases: the sensitive work that Tier-2 escalates, screening raises and people report. What a
//! case is (its kinds, priorities, teams and resolutions), its state machine with the rules for
//! closing and reopening, and its SLA clocks ([`sla`], over a [`calendar`]).

pub mod attachment;
pub mod calendar;
pub mod sla;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::fmt;

/// A kind of case. The list is data: a later area adds its kinds here (one line each) and the
/// mechanism does not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CaseKind {
    pub code: &'static str,
    pub label: &'static str,
    /// The team whose queue a new case of this kind lands in.
    pub team: &'static str,
    pub priority: Priority,
}

pub const KINDS: &[CaseKind] = &[
    CaseKind { code: "fraud_investigation", label: "Fraud investigation", team: "fraud", priority: Priority::High },
    CaseKind { code: "account_takeover", label: "Account takeover", team: "fraud", priority: Priority::Urgent },
    CaseKind { code: "tier2_escalation", label: "Tier-2 escalation", team: "risk", priority: Priority::Normal },
    CaseKind { code: "privacy_request", label: "Privacy request", team: "privacy", priority: Priority::Normal },
    CaseKind { code: "privacy_complaint", label: "Privacy complaint", team: "privacy", priority: Priority::High },
    CaseKind { code: "refund_claim", label: "Refund claim", team: "payments", priority: Priority::Normal },
    CaseKind { code: "dispute", label: "Dispute", team: "payments", priority: Priority::High },
    CaseKind { code: "public_mention", label: "Public mention", team: "risk", priority: Priority::High },
    CaseKind { code: "suspicion_report", label: "Suspicion report", team: "fraud", priority: Priority::Normal },
];

impl CaseKind {
    pub fn parse(code: &str) -> Option<&'static CaseKind> {
        KINDS.iter().find(|k| k.code == code)
    }
}

/// The starter checklist of a kind (task, mandatory), used until the knowledge base holds a
/// playbook for it.
pub fn starter_checklist(kind: &str) -> &'static [(&'static str, bool)] {
    match kind {
        "fraud_investigation" | "suspicion_report" => &[
            ("Review the linked orders and their screening reasons", true),
            ("Check linked accounts sharing devices, cards or addresses", true),
            ("Hold or cancel open orders of the customer where needed", false),
            ("Record the outcome as a label (confirmed fraud or legitimate)", true),
        ],
        "account_takeover" => &[
            ("Verify the account holder's identity through a known channel", true),
            ("Reset credentials and end active sessions", true),
            ("Review orders and address changes since the takeover", true),
            ("Tell the customer what happened and what was done", false),
        ],
        "tier2_escalation" => &[
            ("Read the Tier-2 handling and the customer's request", true),
            ("Decide and document the answer", true),
            ("Give feedback to the Tier-2 agent", false),
        ],
        "privacy_request" | "privacy_complaint" => &[
            ("Verify the requester's identity", true),
            ("Collect the data concerned", true),
            ("Answer within the statutory deadline", true),
        ],
        "refund_claim" | "dispute" => &[
            ("Check carrier tracking and proof of delivery", true),
            ("Check the customer's refund and dispute history", true),
            ("Decide: refund, partial refund or decline", true),
        ],
        "public_mention" => &[
            ("Capture the evidence (URL, time, screenshot)", true),
            ("Assess harm and reach", true),
            ("Answer from an approved template or request a takedown", false),
        ],
        _ => &[],
    }
}

/// The teams that own cases, and the teams a task can be handed to.
pub const TEAMS: &[(&str, &str)] = &[
    ("fraud", "Fraud"),
    ("risk", "Risk mitigation"),
    ("payments", "Payment operations"),
    ("privacy", "Privacy"),
    ("logistics", "Logistics"),
    ("warehouse", "Warehouse"),
    ("finance", "Finance"),
    ("payment_provider", "Payment provider contact"),
];

pub fn team_label(code: &str) -> Option<&'static str> {
    TEAMS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($v:ident = $s:literal / $label:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$v),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn label(self) -> &'static str {
                match self { $(Self::$v => $label),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s)
            }
            /// Every code, for an error message.
            pub fn codes() -> String {
                Self::ALL.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum!(
    /// Lowest first, so that `Ord` sorts by urgency ascending.
    Priority { Low = "low" / "Low", Normal = "normal" / "Normal", High = "high" / "High", Urgent = "urgent" / "Urgent" }
);

code_enum!(
    /// A case's state. `new → triage → investigating → waiting on customer / third party →
    /// pending approval → resolved → closed`, with the moves [`CaseStatus::next`] allows.
    CaseStatus {
        New = "new" / "New",
        Triage = "triage" / "Triage",
        Investigating = "investigating" / "Investigating",
        WaitingCustomer = "waiting_customer" / "Waiting on customer",
        WaitingThirdParty = "waiting_third_party" / "Waiting on third party",
        PendingApproval = "pending_approval" / "Pending approval",
        Resolved = "resolved" / "Resolved",
        Closed = "closed" / "Closed",
    }
);

code_enum!(
    /// How a case ended.
    Resolution {
        ConfirmedFraud = "confirmed_fraud" / "Confirmed fraud",
        NoFraud = "no_fraud" / "No fraud found",
        AccountSecured = "account_secured" / "Account secured",
        CustomerCompensated = "customer_compensated" / "Customer compensated",
        RequestFulfilled = "request_fulfilled" / "Request fulfilled",
        Declined = "declined" / "Declined",
        ReferredExternally = "referred_externally" / "Referred to authorities or partner",
        Duplicate = "duplicate" / "Duplicate",
        NoAction = "no_action" / "No action needed",
    }
);

/// How long after closing a case may be reopened; later, a new case links the old one.
pub const REOPEN_WINDOW_DAYS: i64 = 30;

use crate::kpis::{Better, KpiDef, Unit};

/// The cases area's KPIs (per local day of the case's creation or resolution).
pub const KPIS: &[KpiDef] = &[
    KpiDef::new(
        "case_first_response_sla_rate",
        "Case first response on time",
        "cases",
        Unit::Ratio,
        Better::Higher,
        "cases created whose first response came by its due time",
        "cases created whose first response came or is due",
    ),
    KpiDef::new(
        "case_resolution_sla_rate",
        "Case resolution on time",
        "cases",
        Unit::Ratio,
        Better::Higher,
        "cases resolved by their resolution due time (moved by pauses)",
        "cases resolved",
    ),
    KpiDef::new(
        "case_resolution_hours",
        "Case handling time",
        "cases",
        Unit::Hours,
        Better::Lower,
        "hours from opening to resolution, summed (wall-clock)",
        "cases resolved",
    ),
];

impl CaseStatus {
    /// The states a person may move a case to from this one. `pending_approval` is entered and
    /// left by proposing a decision and by its approval, rejection or withdrawal.
    pub fn next(self) -> &'static [CaseStatus] {
        use CaseStatus::*;
        match self {
            New => &[Triage, Investigating, WaitingCustomer, WaitingThirdParty, Resolved],
            Triage => &[Investigating, WaitingCustomer, WaitingThirdParty, Resolved],
            Investigating => &[WaitingCustomer, WaitingThirdParty, Resolved],
            WaitingCustomer => &[Investigating, WaitingThirdParty, Resolved],
            WaitingThirdParty => &[Investigating, WaitingCustomer, Resolved],
            PendingApproval => &[Investigating],
            Resolved => &[Closed, Investigating],
            Closed => &[Investigating],
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed)
    }

    /// Waiting on someone outside: the resolution clock stands still.
    pub fn pauses_sla(self) -> bool {
        matches!(self, Self::WaitingCustomer | Self::WaitingThirdParty)
    }

    pub fn ends(self) -> bool {
        matches!(self, Self::Resolved | Self::Closed)
    }
}

/// Why a move was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a case in {from} cannot move to {to}; allowed next: {}", allowed(*.from))]
    Illegal { from: CaseStatus, to: CaseStatus },
    #[error("{0}: resolving or closing a case needs one")]
    Missing(&'static str),
    #[error("{0} mandatory task(s) are still open; finish them before resolving")]
    TasksOpen(usize),
    #[error("the case was closed more than {REOPEN_WINDOW_DAYS} days ago; open a new case and link this one")]
    ReopenTooLate,
}

fn allowed(from: CaseStatus) -> String {
    from.next().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// What a move needs to know about the case.
#[derive(Debug, Clone, Copy)]
pub struct MoveCheck {
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub has_resolution: bool,
    pub has_summary: bool,
    pub open_mandatory_tasks: usize,
    pub closed_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// Checks a move a person asks for: it must be one of [`CaseStatus::next`]; resolving or closing
/// needs a resolution, a summary and no open mandatory task; a closed case reopens only within
/// [`REOPEN_WINDOW_DAYS`].
pub fn check_move(m: MoveCheck) -> Result<(), TransitionError> {
    if !m.from.next().contains(&m.to) {
        return Err(TransitionError::Illegal { from: m.from, to: m.to });
    }
    if m.to.ends() {
        if !m.has_resolution {
            return Err(TransitionError::Missing("resolution"));
        }
        if !m.has_summary {
            return Err(TransitionError::Missing("summary"));
        }
        if m.open_mandatory_tasks > 0 {
            return Err(TransitionError::TasksOpen(m.open_mandatory_tasks));
        }
    }
    if m.from == CaseStatus::Closed
        && let Some(at) = m.closed_at
        && m.now - at > Duration::days(REOPEN_WINDOW_DAYS)
    {
        return Err(TransitionError::ReopenTooLate);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mv(from: CaseStatus, to: CaseStatus) -> MoveCheck {
        MoveCheck {
            from,
            to,
            has_resolution: true,
            has_summary: true,
            open_mandatory_tasks: 0,
            closed_at: None,
            now: Utc::now(),
        }
    }

    #[test]
    fn the_documented_path_is_allowed() {
        use CaseStatus::*;
        for (a, b) in [
            (New, Triage),
            (Triage, Investigating),
            (Investigating, WaitingCustomer),
            (WaitingCustomer, Investigating),
            (Investigating, Resolved),
            (Resolved, Closed),
            (Closed, Investigating),
        ] {
            assert_eq!(check_move(mv(a, b)), Ok(()), "{a} -> {b}");
        }
    }

    #[test]
    fn an_illegal_move_names_the_allowed_ones() {
        let e = check_move(mv(CaseStatus::New, CaseStatus::Closed)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a case in new cannot move to closed; allowed next: triage, investigating, waiting_customer, waiting_third_party, resolved"
        );
    }

    #[test]
    fn resolving_needs_resolution_summary_and_tasks_done() {
        let mut m = mv(CaseStatus::Investigating, CaseStatus::Resolved);
        m.has_resolution = false;
        assert_eq!(check_move(m), Err(TransitionError::Missing("resolution")));
        m.has_resolution = true;
        m.has_summary = false;
        assert_eq!(check_move(m), Err(TransitionError::Missing("summary")));
        m.has_summary = true;
        m.open_mandatory_tasks = 2;
        assert_eq!(check_move(m), Err(TransitionError::TasksOpen(2)));
    }

    #[test]
    fn reopening_is_bounded() {
        let mut m = mv(CaseStatus::Closed, CaseStatus::Investigating);
        m.closed_at = Some(m.now - Duration::days(REOPEN_WINDOW_DAYS + 1));
        assert_eq!(check_move(m), Err(TransitionError::ReopenTooLate));
        m.closed_at = Some(m.now - Duration::days(2));
        assert_eq!(check_move(m), Ok(()));
    }

    #[test]
    fn kinds_and_codes_parse() {
        for k in KINDS {
            assert_eq!(CaseKind::parse(k.code), Some(k));
            assert!(team_label(k.team).is_some(), "{}", k.code);
        }
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(*s));
        }
    }

    proptest! {
        /// Whatever the path, pending approval is never entered by a person's move, a closed case
        /// is only ever reopened, and every open state can reach resolved in at most two moves.
        #[test]
        fn machine_invariants(path in proptest::collection::vec(0usize..8, 0..30)) {
            let mut at = CaseStatus::New;
            for i in path {
                let next = at.next();
                prop_assert!(!next.contains(&CaseStatus::PendingApproval));
                if at == CaseStatus::Closed {
                    prop_assert_eq!(next, &[CaseStatus::Investigating][..]);
                }
                if at.is_open() {
                    let reach = next.contains(&CaseStatus::Resolved)
                        || next.iter().any(|n| n.next().contains(&CaseStatus::Resolved));
                    prop_assert!(reach);
                }
                at = next[i % next.len()];
            }
        }
    }
}
