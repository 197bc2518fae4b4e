//! Quality assurance of Tier-2 handlings: what a handling is (checked at intake), which ones are
//! sampled and why ([`sampling`]), scorecards with weights, not-applicable criteria and
//! knock-outs ([`scorecard`]), and the agreement between reviewers ([`alpha`]).

pub mod alpha;
pub mod sampling;
pub mod scorecard;

use crate::error::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The actions a handling may record; others are refused (the list is data).
pub const ACTIONS: &[&str] = &[
    "refund_issued",
    "goodwill",
    "data_disclosed",
    "address_changed",
    "email_changed",
    "escalated",
    "escalation_reversed",
    "order_cancelled",
    "password_reset",
    "other",
];

/// Longest transcript taken, in characters.
pub const MAX_TRANSCRIPT: usize = 200_000;

use crate::kpis::{Better, KpiDef, Unit};

/// The QA area's KPIs (per local day of the review, or of the handling for satisfaction).
pub const KPIS: &[KpiDef] = &[
    KpiDef::new(
        "qa_score",
        "QA score",
        "qa",
        Unit::Points,
        Better::Higher,
        "review scores summed (a second reviewer's revision replaces the first; calibration left out)",
        "reviews",
    ),
    KpiDef::new(
        "qa_knockout_rate",
        "QA knock-out rate",
        "qa",
        Unit::Ratio,
        Better::Lower,
        "reviews with a knock-out criterion failed",
        "reviews",
    ),
    KpiDef::new(
        "csat",
        "Customer satisfaction",
        "qa",
        Unit::Points,
        Better::Higher,
        "satisfaction ratings summed",
        "handlings rated",
    ),
];

/// One action of a handling, with its amount in minor units where it moved money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A Tier-2 handling as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handling {
    pub handling_id: String,
    pub agent: String,
    pub provider: String,
    pub team: String,
    pub channel: String,
    pub closed_at: DateTime<Utc>,
    pub case_ref: Option<String>,
    pub customer_id: Option<String>,
    pub order_ids: Vec<String>,
    pub actions: Vec<Action>,
    pub identity_checked: bool,
    /// 1 (worst) to 5.
    pub csat: Option<i64>,
    pub transcript: String,
}

/// A Tier-2 handling as sent. Names (`handling_id`, `agent`, `provider`, the optional `team`,
/// `channel`, `case_ref`, `customer_id`, each of `order_ids`) are trimmed: 1 to 100 characters
/// without control characters (an optional one empty or white space: none).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HandlingIn {
    #[cfg_attr(
        feature = "openapi",
        schema(
            required,
            nullable = false,
            pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub handling_id: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(
            required,
            nullable = false,
            pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub agent: Option<String>,
    /// One the installation knows (`qa.providers`), when it names any.
    #[cfg_attr(
        feature = "openapi",
        schema(
            required,
            nullable = false,
            pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
        )
    )]
    pub provider: Option<String>,
    /// Default `tier2`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?$"
        )
    )]
    pub team: Option<String>,
    /// Default `email`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?$"
        )
    )]
    pub channel: Option<String>,
    /// RFC 3339 with an offset, at most an hour ahead of now.
    #[cfg_attr(feature = "openapi", schema(required, nullable = false, format = DateTime))]
    pub closed_at: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?$"
        )
    )]
    pub case_ref: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?$"
        )
    )]
    pub customer_id: Option<String>,
    /// At most 50.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50, inline))]
    pub order_ids: Vec<HandlingName>,
    /// At most 50.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub actions: Vec<ActionIn>,
    #[serde(default)]
    pub identity_checked: bool,
    /// The customer's satisfaction, 1 to 5.
    #[serde(default, deserialize_with = "crate::whole::opt_int")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub csat: Option<i64>,
    /// At most 200,000 characters; no control characters but line breaks and tabs.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200_000, pattern = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$")
    )]
    pub transcript: String,
}

/// One of a handling's `order_ids`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
#[cfg_attr(
    feature = "openapi",
    schema(
        pattern = "^[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*[^\\s\\x00-\\x1f\\x7f-\\x9f]([^\\x00-\\x1f\\x7f-\\x9f]{0,98}[^\\s\\x00-\\x1f\\x7f-\\x9f])?[\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )
)]
pub struct HandlingName(pub String);

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(refund_issued|goodwill|data_disclosed|address_changed|email_changed|escalated|escalation_reversed|order_cancelled|password_reset|other)$"
        )
    )]
    pub kind: String,
    pub amount: Option<MoneyWire>,
}

/// Money on the wire: `{"amount": "25.00", "currency": "EUR"}`: a decimal string of at most
/// 1,000,000,000 with no more decimals (trailing zeros aside) than the currency has.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoneyWire {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]+(\\.[0-9]+)?$"))]
    pub amount: String,
    /// An ISO 4217 code.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::currency))]
    pub currency: String,
}

fn name(v: Option<String>, field: &str, required: bool) -> Result<Option<String>, FieldError> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    match v {
        None if required => Err(FieldError::missing(field)),
        None => Ok(None),
        Some(s) if s.chars().count() > 100 || s.chars().any(char::is_control) => {
            Err(FieldError::new("invalid", field, format!("{field} must be at most 100 printable characters")))
        }
        Some(s) => Ok(Some(s)),
    }
}

impl HandlingIn {
    /// Checks every field; the first bad one is named.
    pub fn check(self, now: DateTime<Utc>) -> Result<Handling, FieldError> {
        let handling_id = name(self.handling_id, "handling_id", true)?.unwrap_or_default();
        let agent = name(self.agent, "agent", true)?.unwrap_or_default();
        let provider = name(self.provider, "provider", true)?.unwrap_or_default();
        let team = name(self.team, "team", false)?.unwrap_or_else(|| "tier2".into());
        let channel = name(self.channel, "channel", false)?.unwrap_or_else(|| "email".into());
        let closed = self.closed_at.ok_or_else(|| FieldError::missing("closed_at"))?;
        let closed_at = DateTime::parse_from_rfc3339(closed.trim())
            .map_err(|_| {
                FieldError::new("invalid_time", "closed_at", "closed_at must be an RFC 3339 time with an offset")
            })?
            .to_utc();
        if closed_at > now + chrono::Duration::hours(1) {
            return Err(FieldError::new("invalid_time", "closed_at", "closed_at is in the future"));
        }
        let case_ref = name(self.case_ref, "case_ref", false)?;
        let customer_id = name(self.customer_id, "customer_id", false)?;
        if self.order_ids.len() > 50 {
            return Err(FieldError::new("too_many", "order_ids", "at most 50 orders"));
        }
        let mut order_ids = Vec::with_capacity(self.order_ids.len());
        for (i, o) in self.order_ids.into_iter().enumerate() {
            order_ids.push(name(Some(o.0), &format!("order_ids[{i}]"), true)?.unwrap_or_default());
        }
        if self.actions.len() > 50 {
            return Err(FieldError::new("too_many", "actions", "at most 50 actions"));
        }
        let mut actions = Vec::with_capacity(self.actions.len());
        for (i, a) in self.actions.into_iter().enumerate() {
            if !ACTIONS.contains(&a.kind.as_str()) {
                return Err(FieldError::new(
                    "invalid_enum",
                    format!("actions[{i}].kind"),
                    format!("actions[{i}].kind must be one of {}", ACTIONS.join(", ")),
                ));
            }
            let (amount_minor, currency) = match a.amount {
                None => (None, None),
                Some(m) => {
                    let field = format!("actions[{i}].amount");
                    let money = crate::Money::parse(&m.amount, &m.currency, field.as_str())?;
                    (Some(money.minor), Some(money.currency.code().to_owned()))
                }
            };
            actions.push(Action { kind: a.kind, amount_minor, currency });
        }
        if let Some(c) = self.csat
            && !(1..=5).contains(&c)
        {
            return Err(FieldError::new("out_of_range", "csat", "csat must be 1 to 5"));
        }
        if self.transcript.chars().count() > MAX_TRANSCRIPT {
            return Err(FieldError::new(
                "too_long",
                "transcript",
                format!("transcript must be at most {MAX_TRANSCRIPT} characters"),
            ));
        }
        if self.transcript.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(FieldError::new("invalid", "transcript", "transcript has control characters"));
        }
        Ok(Handling {
            handling_id,
            agent,
            provider,
            team,
            channel,
            closed_at,
            case_ref,
            customer_id,
            order_ids,
            actions,
            identity_checked: self.identity_checked,
            csat: self.csat,
            transcript: self.transcript,
        })
    }
}

impl Handling {
    /// The largest money amount of refund or goodwill actions.
    pub fn refunded_minor(&self) -> i64 {
        self.actions
            .iter()
            .filter(|a| matches!(a.kind.as_str(), "refund_issued" | "goodwill"))
            .filter_map(|a| a.amount_minor)
            .sum()
    }

    pub fn did(&self, kind: &str) -> bool {
        self.actions.iter().any(|a| a.kind == kind)
    }
}

/// ISO week of a time, `2026-W49`: the sampling period.
pub fn week_of(t: DateTime<Utc>) -> String {
    use chrono::Datelike;
    let w = t.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}
