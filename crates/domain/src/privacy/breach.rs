//! The breach register (Arts. 33 and 34): every personal-data breach is documented, notified or
//! not; the supervisory authority is told within 72 hours of becoming aware (later only with the
//! reasons), possibly in phases; the people affected are told when the risk to them is high.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The authority's deadline: 72 hours after the controller became aware.
pub fn authority_due(aware_at: DateTime<Utc>) -> DateTime<Utc> {
    aware_at + Duration::hours(72)
}

/// How a breach is assessed: the risk to the people decides whom to tell (Art. 33(1), 34(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Unlikely to result in a risk: documented, not notified (the reason is recorded).
    Unlikely,
    /// A risk: the authority is notified.
    Risk,
    /// A high risk: the authority and the people affected are told.
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unlikely => "unlikely",
            Self::Risk => "risk",
            Self::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Unlikely, Self::Risk, Self::High].into_iter().find(|r| r.as_str() == s)
    }

    pub fn authority_must_know(self) -> bool {
        self != Self::Unlikely
    }

    pub fn people_must_know(self) -> bool {
        self == Self::High
    }
}

/// One step of a breach's handling, recorded in its timeline.
pub const PHASES: &[(&str, &str)] = &[
    ("assessed", "Risk assessed"),
    ("contained", "Contained"),
    ("authority_notified", "Supervisory authority notified (Art. 33)"),
    ("authority_update", "Further information to the authority (Art. 33(4))"),
    ("people_notified", "People affected told (Art. 34)"),
    ("decided_not_to_notify", "Decided not to notify, with the reason"),
    ("closed", "Closed"),
];

pub fn phase_label(code: &str) -> Option<&'static str> {
    PHASES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Where the 72 hours stand at `now`: hours left (negative when late), or met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AuthorityClock {
    NotRequired,
    Running { hours_left: i64 },
    Late { hours_over: i64 },
    Met { late: bool },
}

pub fn authority_clock(
    aware_at: DateTime<Utc>,
    risk: Option<Risk>,
    notified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AuthorityClock {
    let due = authority_due(aware_at);
    match (risk, notified_at) {
        (_, Some(at)) => AuthorityClock::Met { late: at > due },
        (Some(r), None) if !r.authority_must_know() => AuthorityClock::NotRequired,
        _ if now <= due => AuthorityClock::Running { hours_left: (due - now).num_hours() },
        _ => AuthorityClock::Late { hours_over: (now - due).num_hours() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn seventy_two_hours_from_awareness() {
        let aware = Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap();
        assert_eq!(authority_due(aware), Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap());
        let now = aware + Duration::hours(10);
        assert_eq!(authority_clock(aware, None, None, now), AuthorityClock::Running { hours_left: 62 });
        assert_eq!(
            authority_clock(aware, Some(Risk::Risk), None, aware + Duration::hours(80)),
            AuthorityClock::Late { hours_over: 8 }
        );
        assert_eq!(authority_clock(aware, Some(Risk::Unlikely), None, now), AuthorityClock::NotRequired);
        assert_eq!(
            authority_clock(aware, Some(Risk::High), Some(aware + Duration::hours(73)), now),
            AuthorityClock::Met { late: true }
        );
    }
}
