//! Privacy operations (GDPR): the rights a person exercises (Arts. 15-21), a request's state
//! machine, the statutory clock ([`clock`]), retention classes ([`retention`]), what erasure does
//! to a record ([`scrub`]), and the breach register's 72-hour clock ([`breach`]).

pub mod breach;
pub mod clock;
pub mod retention;
pub mod scrub;

use serde::Serialize;

/// A data subject's right, as requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    Access,
    Rectification,
    Erasure,
    Restriction,
    Portability,
    Objection,
}

impl Right {
    pub const ALL: [Right; 6] =
        [Self::Access, Self::Rectification, Self::Erasure, Self::Restriction, Self::Portability, Self::Objection];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Rectification => "rectification",
            Self::Erasure => "erasure",
            Self::Restriction => "restriction",
            Self::Portability => "portability",
            Self::Objection => "objection",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Access => "Access (Art. 15)",
            Self::Rectification => "Rectification (Art. 16)",
            Self::Erasure => "Erasure (Art. 17)",
            Self::Restriction => "Restriction (Art. 18)",
            Self::Portability => "Portability (Art. 20)",
            Self::Objection => "Objection (Art. 21)",
        }
    }

    /// Whether answering it hands the person a copy of their data (a four-eye release).
    pub fn gives_copy(self) -> bool {
        matches!(self, Self::Access | Self::Portability)
    }
}

/// How a request reached the controller.
pub const CHANNELS: &[&str] = &["api", "email", "phone", "letter", "web_form", "helpdesk"];

/// Where a request stands. Open: `received`, `awaiting_identity` (the clock is paused),
/// `in_progress`, `extended`. Final: `completed`, `partly_withheld` (answered, some data withheld
/// with the reasons given), `refused` (with the reason and the right to complain), `withdrawn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    AwaitingIdentity,
    InProgress,
    Extended,
    Completed,
    PartlyWithheld,
    Refused,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Self::Received,
        Self::AwaitingIdentity,
        Self::InProgress,
        Self::Extended,
        Self::Completed,
        Self::PartlyWithheld,
        Self::Refused,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::AwaitingIdentity => "awaiting_identity",
            Self::InProgress => "in_progress",
            Self::Extended => "extended",
            Self::Completed => "completed",
            Self::PartlyWithheld => "partly_withheld",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "Received",
            Self::AwaitingIdentity => "Waiting for identity",
            Self::InProgress => "In progress",
            Self::Extended => "Extended",
            Self::Completed => "Completed",
            Self::PartlyWithheld => "Partly withheld",
            Self::Refused => "Refused",
            Self::Withdrawn => "Withdrawn",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Self::Received | Self::AwaitingIdentity | Self::InProgress | Self::Extended)
    }

    /// The state machine: which moves are allowed from here.
    pub fn may_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Received, AwaitingIdentity | InProgress | Extended | Refused | Withdrawn)
                | (AwaitingIdentity, InProgress | Refused | Withdrawn)
                | (InProgress, Extended | Completed | PartlyWithheld | Refused | Withdrawn | AwaitingIdentity)
                | (Extended, Completed | PartlyWithheld | Refused | Withdrawn | AwaitingIdentity)
        )
    }
}

/// How far the person's identity is established (Art. 12(6)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// Nothing checked yet.
    Unverified,
    /// A code was sent to the e-mail on file.
    CodeSent,
    /// Verified by the code, or by staff with evidence.
    Verified,
}

impl Identity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::CodeSent => "code_sent",
            Self::Verified => "verified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Unverified, Self::CodeSent, Self::Verified].into_iter().find(|x| x.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Right::ALL {
            assert_eq!(Right::parse(r.as_str()), Some(r));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Right::parse("forget_me"), None);
    }

    #[test]
    fn final_states_stay_final() {
        for s in Status::ALL.into_iter().filter(|s| !s.is_open()) {
            for n in Status::ALL {
                assert!(!s.may_become(n), "{s:?} -> {n:?}");
            }
        }
        assert!(Status::Received.may_become(Status::AwaitingIdentity));
        assert!(!Status::AwaitingIdentity.may_become(Status::Completed), "identity first");
    }
}
