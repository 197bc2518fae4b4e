//! Disputes: chargebacks and their inquiries from payment providers, as one lifecycle whatever
//! the provider. A dispute has a stage (how far the scheme process went) apart from its status
//! (where the current stage stands); its reason code maps to a family that decides the evidence
//! asked for. The providers' wire formats and signatures are in [`stripe`] and [`adyen`]; the
//! evidence checklist in [`evidence`]; Visa's Compelling Evidence 3.0 in [`ce3`]; the scheme
//! monitoring programmes in [`schemes`]; return-abuse signals in [`returns`].

pub mod adyen;
pub mod ce3;
pub mod evidence;
pub mod returns;
pub mod schemes;
pub mod stripe;

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

code_enum!(
    /// Where a dispute came from.
    Provider { Stripe = "stripe" / "Stripe", Adyen = "adyen" / "Adyen", Import = "import" / "Imported report" }
);

code_enum!(
    /// How far the scheme process went; a later stage never goes back (`Ord` is the order).
    Stage {
        Inquiry = "inquiry" / "Inquiry",
        Chargeback = "chargeback" / "Chargeback",
        PreArbitration = "pre_arbitration" / "Pre-arbitration",
        Arbitration = "arbitration" / "Arbitration",
    }
);

code_enum!(
    /// Where the current stage stands.
    Status {
        NeedsResponse = "needs_response" / "Needs response",
        UnderReview = "under_review" / "Under review",
        Won = "won" / "Won",
        Lost = "lost" / "Lost",
        Accepted = "accepted" / "Accepted",
        Expired = "expired" / "Expired",
    }
);

impl Status {
    /// The stage is decided: only a later stage reopens the dispute.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Won | Self::Lost | Self::Accepted | Self::Expired)
    }

    /// Final and the money stays with the cardholder.
    pub fn is_loss(self) -> bool {
        matches!(self, Self::Lost | Self::Accepted | Self::Expired)
    }
}

code_enum!(
    /// What the cardholder claims; decides the evidence asked for.
    ReasonFamily {
        Fraud = "fraud" / "Fraud (not authorised)",
        NotReceived = "not_received" / "Not received",
        NotAsDescribed = "not_as_described" / "Not as described",
        CreditNotProcessed = "credit_not_processed" / "Credit not processed",
        Duplicate = "duplicate" / "Duplicate",
        Other = "other" / "Other",
    }
);

code_enum!(
    /// The card scheme of a disputed payment.
    Network { Visa = "visa" / "Visa", Mastercard = "mastercard" / "Mastercard", Amex = "amex" / "American Express", Other = "other" / "Other" }
);

impl Network {
    /// From a provider's brand name (`visa`, `mc`, `mastercard`, `amex`, …).
    pub fn from_brand(brand: &str) -> Self {
        match brand.trim().to_ascii_lowercase().as_str() {
            "visa" | "visa_debit" | "visadebit" | "vpay" | "electron" => Self::Visa,
            "mc" | "mastercard" | "maestro" | "mc_debit" | "mcdebit" => Self::Mastercard,
            "amex" | "american_express" | "american express" => Self::Amex,
            _ => Self::Other,
        }
    }

    /// From a card's BIN (the first digits).
    pub fn from_bin(bin: &str) -> Self {
        let n = |len: usize| bin.get(..len).and_then(|s| s.parse::<u32>().ok());
        match (n(1), n(2), n(4)) {
            (Some(4), _, _) => Self::Visa,
            (_, Some(51..=55), _) | (_, _, Some(2221..=2720)) => Self::Mastercard,
            (_, Some(34 | 37), _) => Self::Amex,
            _ => Self::Other,
        }
    }
}

/// The family of a scheme reason code (Visa `10.4`, Mastercard `4837`, Amex `F29`) or of a
/// provider's reason name (Stripe `fraudulent`, `product_not_received`, …).
pub fn reason_family(code: &str) -> ReasonFamily {
    use ReasonFamily::*;
    let c = code.trim().to_ascii_lowercase();
    match c.as_str() {
        // Visa: 10.x fraud, 13.1 not received, 13.3/13.4/13.5 not as described, 13.6/13.7
        // credit not processed, 12.6.x duplicate or paid by other means.
        s if s.starts_with("10.") => Fraud,
        "13.1" | "13.2" => NotReceived,
        "13.3" | "13.4" | "13.5" => NotAsDescribed,
        "13.6" | "13.7" => CreditNotProcessed,
        s if s.starts_with("12.6") => Duplicate,
        // Mastercard.
        "4837" | "4840" | "4849" | "4863" | "4870" | "4871" => Fraud,
        "4855" => NotReceived,
        "4853" | "4854" | "4859" => NotAsDescribed,
        "4860" => CreditNotProcessed,
        "4834" => Duplicate,
        // American Express.
        "f24" | "f29" | "fr2" | "fr4" | "fr6" | "4540" | "4763" => Fraud,
        "c08" | "4554" => NotReceived,
        "c31" | "c32" | "4553" => NotAsDescribed,
        "c02" | "c05" | "4513" => CreditNotProcessed,
        "p08" | "4512" => Duplicate,
        // Stripe's reason names.
        "fraudulent" | "unrecognized" => Fraud,
        "product_not_received" => NotReceived,
        "product_unacceptable" => NotAsDescribed,
        "credit_not_processed" | "subscription_canceled" => CreditNotProcessed,
        "duplicate" => Duplicate,
        _ => Other,
    }
}

/// Where a dispute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub stage: Stage,
    pub status: Status,
}

/// What one provider event says of a dispute's lifecycle: a stage, and a status if it sets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub stage: Option<Stage>,
    pub status: Option<Status>,
}

/// The lifecycle after an event. Providers deliver out of order and twice, so an event never
/// moves a dispute back: an earlier stage than the current one changes nothing, and a decided
/// stage stays decided unless a later stage opens.
pub fn advance(current: Option<Lifecycle>, seen: Observed) -> Option<Lifecycle> {
    let Some(cur) = current else {
        return Some(Lifecycle {
            stage: seen.stage.unwrap_or(Stage::Chargeback),
            status: seen.status.unwrap_or(Status::NeedsResponse),
        });
    };
    let stage = seen.stage.unwrap_or(cur.stage);
    if stage < cur.stage {
        return Some(cur);
    }
    if stage > cur.stage {
        return Some(Lifecycle { stage, status: seen.status.unwrap_or(Status::NeedsResponse) });
    }
    match seen.status {
        // A closed defence window expires an undefended dispute only: one answered is under
        // review, and its outcome is the issuer's (Adyen sends DISPUTE_DEFENSE_PERIOD_ENDED to both).
        Some(Status::Expired) if cur.status != Status::NeedsResponse => Some(cur),
        Some(s) if !cur.status.is_final() => Some(Lifecycle { stage, status: s }),
        _ => Some(cur),
    }
}

/// One provider event, normalised. The raw event is kept beside it verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisputeEvent {
    pub provider: Provider,
    /// What the event is deduplicated on: Stripe's event id; Adyen's
    /// `eventCode:pspReference:eventDate`; an import's row key.
    pub dedupe_key: String,
    /// The provider's id of the dispute (Stripe `dp_…`, Adyen's pspReference).
    pub provider_ref: String,
    /// The provider's event name (`charge.dispute.created`, `CHARGEBACK`).
    pub event_type: String,
    pub observed: Observed,
    /// The issuer's fraud report (Visa TC40, Adyen NOTIFICATION_OF_FRAUD), not a dispute.
    pub fraud_report: bool,
    pub reason_code: Option<String>,
    pub network: Network,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// The provider's deadline for the response.
    pub due_by: Option<DateTime<Utc>>,
    pub occurred_at: DateTime<Utc>,
    /// Money moved: negative when withdrawn, positive when reinstated.
    pub funds: Option<i64>,
    /// How to find the order: an order id (Adyen's merchantReference, Stripe's
    /// `metadata.order_id`) and the provider's payment references (Stripe's charge and
    /// PaymentIntent, Adyen's originalReference).
    pub order_hint: Option<String>,
    pub payment_refs: Vec<String>,
}

impl Serialize for Observed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Observed", 2)?;
        st.serialize_field("stage", &self.stage)?;
        st.serialize_field("status", &self.status)?;
        st.end()
    }
}

/// Why a provider's request is refused before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// No signature, a wrong one, or one outside the replay window: 401.
    Signature(String),
    /// Not the provider's format: 400, naming the field.
    Payload { field: String, detail: String },
}

impl WebhookError {
    pub(crate) fn payload(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Payload { field: field.into(), detail: detail.into() }
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signature(s) => write!(f, "signature: {s}"),
            Self::Payload { field, detail } => write!(f, "{field}: {detail}"),
        }
    }
}

/// The default warning before a provider deadline.
pub const WARN_BEFORE_HOURS: i64 = 72;

use crate::kpis::{Better, KpiDef, Unit};

/// The disputes area's KPIs (per local day of opening or closing).
pub const KPIS: &[KpiDef] = &[
    KpiDef::new(
        "chargeback_ratio",
        "Chargeback ratio",
        "disputes",
        Unit::Ratio,
        Better::Lower,
        "disputes opened past the inquiry stage",
        "orders placed the same days",
    ),
    KpiDef::new(
        "dispute_win_rate",
        "Dispute win rate",
        "disputes",
        Unit::Ratio,
        Better::Higher,
        "disputes closed as won",
        "disputes closed (won, lost, accepted or expired)",
    ),
];

/// How urgent a dispute is against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Nothing to do: decided, or waiting for the issuer.
    Waiting,
    OnTrack,
    /// Inside the warning window.
    DueSoon,
    Overdue,
}

pub fn urgency(l: Lifecycle, due_by: Option<DateTime<Utc>>, now: DateTime<Utc>, warn_hours: i64) -> Urgency {
    if l.status != Status::NeedsResponse {
        return Urgency::Waiting;
    }
    match due_by {
        None => Urgency::OnTrack,
        Some(d) if d <= now => Urgency::Overdue,
        Some(d) if d - now <= chrono::Duration::hours(warn_hours) => Urgency::DueSoon,
        Some(_) => Urgency::OnTrack,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stage() -> impl Strategy<Value = Option<Stage>> {
        prop::option::of(prop::sample::select(Stage::ALL.to_vec()))
    }
    fn status() -> impl Strategy<Value = Option<Status>> {
        prop::option::of(prop::sample::select(Status::ALL.to_vec()))
    }

    proptest! {
        /// Whatever order events arrive in, the stage never goes back, and a decided stage
        /// changes only when a later stage opens.
        #[test]
        fn never_moves_back(events in prop::collection::vec((stage(), status()), 1..20)) {
            let mut cur = None;
            for (stage, status) in events {
                let next = advance(cur, Observed { stage, status }).unwrap();
                if let Some(c) = cur {
                    prop_assert!(next.stage >= c.stage);
                    if c.status.is_final() && next.stage == c.stage {
                        prop_assert_eq!(next.status, c.status);
                    }
                }
                cur = Some(next);
            }
        }

        /// The same event twice is the same as once.
        #[test]
        fn idempotent(first in prop::collection::vec((stage(), status()), 1..10), again in (stage(), status())) {
            let mut cur = None;
            for (stage, status) in first {
                cur = advance(cur, Observed { stage, status });
            }
            let seen = Observed { stage: again.0, status: again.1 };
            let once = advance(cur, seen);
            prop_assert_eq!(advance(once, seen), once);
        }
    }

    #[test]
    fn a_later_stage_reopens_a_decided_dispute() {
        let won = Lifecycle { stage: Stage::Chargeback, status: Status::Won };
        let pre = advance(Some(won), Observed { stage: Some(Stage::PreArbitration), status: None }).unwrap();
        assert_eq!(pre, Lifecycle { stage: Stage::PreArbitration, status: Status::NeedsResponse });
        // A late chargeback event after pre-arbitration changes nothing.
        let late = advance(Some(pre), Observed { stage: Some(Stage::Chargeback), status: Some(Status::Lost) });
        assert_eq!(late, Some(pre));
    }

    #[test]
    fn a_closed_defence_window_expires_only_an_undefended_dispute() {
        let ended = Observed { stage: None, status: Some(Status::Expired) };
        let open = Lifecycle { stage: Stage::Chargeback, status: Status::NeedsResponse };
        assert_eq!(advance(Some(open), ended).unwrap().status, Status::Expired);
        let defended = Lifecycle { stage: Stage::Chargeback, status: Status::UnderReview };
        assert_eq!(advance(Some(defended), ended), Some(defended));
        // The issuer's answer still decides the defended one.
        let won = advance(Some(defended), Observed { stage: None, status: Some(Status::Won) }).unwrap();
        assert_eq!(won.status, Status::Won);
    }

    #[test]
    fn reason_codes_map_to_families() {
        assert_eq!(reason_family("10.4"), ReasonFamily::Fraud);
        assert_eq!(reason_family("13.1"), ReasonFamily::NotReceived);
        assert_eq!(reason_family("4855"), ReasonFamily::NotReceived);
        assert_eq!(reason_family("4837"), ReasonFamily::Fraud);
        assert_eq!(reason_family("13.6"), ReasonFamily::CreditNotProcessed);
        assert_eq!(reason_family("12.6.1"), ReasonFamily::Duplicate);
        assert_eq!(reason_family("product_unacceptable"), ReasonFamily::NotAsDescribed);
        assert_eq!(reason_family("F29"), ReasonFamily::Fraud);
        assert_eq!(reason_family("general"), ReasonFamily::Other);
    }

    #[test]
    fn networks_from_bins_and_brands() {
        assert_eq!(Network::from_bin("411111"), Network::Visa);
        assert_eq!(Network::from_bin("510510"), Network::Mastercard);
        assert_eq!(Network::from_bin("222100"), Network::Mastercard);
        assert_eq!(Network::from_bin("371449"), Network::Amex);
        assert_eq!(Network::from_bin("601100"), Network::Other);
        assert_eq!(Network::from_brand("mc"), Network::Mastercard);
    }

    #[test]
    fn urgency_against_the_deadline() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().to_utc();
        let open = Lifecycle { stage: Stage::Chargeback, status: Status::NeedsResponse };
        let h = |n| Some(now + chrono::Duration::hours(n));
        assert_eq!(urgency(open, h(100), now, 72), Urgency::OnTrack);
        assert_eq!(urgency(open, h(10), now, 72), Urgency::DueSoon);
        assert_eq!(urgency(open, h(-1), now, 72), Urgency::Overdue);
        let review = Lifecycle { status: Status::UnderReview, ..open };
        assert_eq!(urgency(review, h(-1), now, 72), Urgency::Waiting);
    }
}
