//! The vocabulary of a manual review: actions, reason codes, what label each outcome gives,
//! and the shipping cut-off (an SLA per sales channel) that orders the queue.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// Let the order ship.
    Release,
    /// Keep it from shipping while something is checked; it stays in the queue.
    Hold,
    /// Stop it for good.
    Cancel,
}

impl ReviewAction {
    pub const ALL: [ReviewAction; 3] = [Self::Release, Self::Hold, Self::Cancel];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Hold => "hold",
            Self::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Why an analyst decided as they did. Each code belongs to one action and says which label
/// (if any) the outcome writes for screening and KPIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewReason {
    VerifiedCustomer,
    KnownGoodCustomer,
    FalsePositive,
    AwaitingCustomer,
    AwaitingPaymentProvider,
    NeedsExpert,
    ConfirmedFraud,
    StolenCard,
    AccountTakeover,
    ResellerAbuse,
    CustomerRequest,
}

/// The label an outcome writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    ConfirmedFraud,
    Legitimate,
}

impl ReviewReason {
    pub const ALL: [ReviewReason; 11] = [
        Self::VerifiedCustomer,
        Self::KnownGoodCustomer,
        Self::FalsePositive,
        Self::AwaitingCustomer,
        Self::AwaitingPaymentProvider,
        Self::NeedsExpert,
        Self::ConfirmedFraud,
        Self::StolenCard,
        Self::AccountTakeover,
        Self::ResellerAbuse,
        Self::CustomerRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifiedCustomer => "verified_customer",
            Self::KnownGoodCustomer => "known_good_customer",
            Self::FalsePositive => "false_positive",
            Self::AwaitingCustomer => "awaiting_customer",
            Self::AwaitingPaymentProvider => "awaiting_payment_provider",
            Self::NeedsExpert => "needs_expert",
            Self::ConfirmedFraud => "confirmed_fraud",
            Self::StolenCard => "stolen_card",
            Self::AccountTakeover => "account_takeover",
            Self::ResellerAbuse => "reseller_abuse",
            Self::CustomerRequest => "customer_request",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::VerifiedCustomer => "Customer verified",
            Self::KnownGoodCustomer => "Known good customer",
            Self::FalsePositive => "Rule false positive",
            Self::AwaitingCustomer => "Waiting for the customer",
            Self::AwaitingPaymentProvider => "Waiting for the payment provider",
            Self::NeedsExpert => "Needs a risk expert",
            Self::ConfirmedFraud => "Confirmed fraud",
            Self::StolenCard => "Stolen card",
            Self::AccountTakeover => "Account takeover",
            Self::ResellerAbuse => "Reseller / policy abuse",
            Self::CustomerRequest => "Customer asked to cancel",
        }
    }

    pub fn action(self) -> ReviewAction {
        match self {
            Self::VerifiedCustomer | Self::KnownGoodCustomer | Self::FalsePositive => ReviewAction::Release,
            Self::AwaitingCustomer | Self::AwaitingPaymentProvider | Self::NeedsExpert => ReviewAction::Hold,
            _ => ReviewAction::Cancel,
        }
    }

    /// Released orders are legitimate; cancellations for fraud are fraud; a hold and a
    /// cancellation the customer asked for say nothing about fraud.
    pub fn outcome(self) -> Option<Outcome> {
        match self.action() {
            ReviewAction::Release => Some(Outcome::Legitimate),
            ReviewAction::Hold => None,
            ReviewAction::Cancel if self == Self::CustomerRequest => None,
            ReviewAction::Cancel => Some(Outcome::ConfirmedFraud),
        }
    }

    pub fn for_action(action: ReviewAction) -> impl Iterator<Item = ReviewReason> {
        Self::ALL.into_iter().filter(move |r| r.action() == action)
    }
}

/// Time from placing an order to its shipping cut-off, per channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub default_minutes: i64,
    pub per_channel: BTreeMap<String, i64>,
}

impl Default for SlaPolicy {
    /// The own shop ships the same day; marketplaces count a one-day handling time.
    fn default() -> Self {
        let per_channel = [("webshop", 240), ("app", 240), ("amazon", 1440), ("zalando", 1440)]
            .into_iter()
            .map(|(c, m)| (c.to_owned(), m))
            .collect();
        Self { default_minutes: 240, per_channel }
    }
}

impl SlaPolicy {
    pub fn minutes(&self, channel: Option<&str>) -> i64 {
        channel.and_then(|c| self.per_channel.get(c).copied()).unwrap_or(self.default_minutes)
    }

    pub fn due_at(&self, placed_at: DateTime<Utc>, channel: Option<&str>) -> DateTime<Utc> {
        placed_at + Duration::minutes(self.minutes(channel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_reasons_and_codes_round_trip() {
        for a in ReviewAction::ALL {
            assert!(ReviewReason::for_action(a).count() >= 3);
        }
        for r in ReviewReason::ALL {
            assert_eq!(ReviewReason::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn outcomes() {
        assert_eq!(ReviewReason::FalsePositive.outcome(), Some(Outcome::Legitimate));
        assert_eq!(ReviewReason::StolenCard.outcome(), Some(Outcome::ConfirmedFraud));
        assert_eq!(ReviewReason::CustomerRequest.outcome(), None);
        assert_eq!(ReviewReason::NeedsExpert.outcome(), None);
    }

    #[test]
    fn sla_per_channel() {
        let p = SlaPolicy::default();
        let t = DateTime::from_timestamp(0, 0).unwrap();
        assert_eq!(p.due_at(t, Some("amazon")), t + Duration::hours(24));
        assert_eq!(p.due_at(t, None), t + Duration::hours(4));
    }
}
