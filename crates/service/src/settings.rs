//! Settings the review, approval and identity areas read, changeable at run time.

use riskdesk_domain::SlaPolicy;

/// Settings of the people-facing areas (review, approvals, sign-in), from the `[workspace]`
/// configuration section.
#[derive(Debug, Clone)]
pub struct Settings {
    pub sla: SlaPolicy,
    /// Cancelling an order worth this much or more (major units of its currency) needs four eyes.
    pub cancel_four_eyes_from: i64,
    pub proposal_ttl: chrono::Duration,
    pub session_idle: chrono::Duration,
    pub session_absolute: chrono::Duration,
    /// Failed sign-ins per username, and per client address, within `login_window`.
    pub login_max_per_user: i64,
    pub login_max_per_ip: i64,
    pub login_window: chrono::Duration,
    /// The zone pages show times in for people who chose none.
    pub time_zone: chrono_tz::Tz,
    pub cases: crate::cases::CaseSettings,
    pub disputes: crate::disputes::DisputesConfig,
    pub qa: crate::qa::QaConfig,
    pub kpis: crate::kpis::KpisConfig,
    pub privacy: crate::privacy::PrivacyConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sla: SlaPolicy::default(),
            cancel_four_eyes_from: 500,
            proposal_ttl: chrono::Duration::hours(72),
            session_idle: chrono::Duration::minutes(30),
            session_absolute: chrono::Duration::hours(12),
            login_max_per_user: 5,
            login_max_per_ip: 30,
            login_window: chrono::Duration::minutes(15),
            time_zone: chrono_tz::Europe::Berlin,
            cases: crate::cases::CaseSettings::default(),
            disputes: Default::default(),
            qa: Default::default(),
            kpis: Default::default(),
            privacy: Default::default(),
        }
    }
}
