//! Disputes: provider webhooks and report imports into one lifecycle, the dispute case, the
//! evidence checklist and pack, responding (submitting above the four-eye amount by proposal,
//! accepting unless refunded), the deadline watch, the card-scheme ratios, and refund-claim and
//! return-abuse signals.

pub mod evidence;
mod intake;
pub(crate) mod pdf;
mod report;
pub mod respond;
pub mod returns;
pub mod schemes;
mod watch;

pub use intake::{ImportReport, Received};
pub use watch::Swept;

use crate::{DisputeViewer, Service, ServiceError, ServiceResult};
use riskdesk_domain::disputes::{self as d, Lifecycle, Stage, Status, Urgency};
use riskdesk_store::disputes::{DisputeEventRow, DisputeFilter, DisputeRecord};
use serde::{Deserialize, Serialize};

/// `[disputes]` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DisputesConfig {
    pub stripe: StripeConfig,
    pub adyen: AdyenConfig,
    /// Warn this many hours before a provider's deadline.
    pub warn_hours: i64,
    /// Submitting a defence of this much or more (major units) needs a second person.
    pub submit_four_eyes_from: i64,
    pub returns: d::returns::Thresholds,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StripeConfig {
    /// The endpoint's signing secret, `whsec_…`; empty refuses every Stripe webhook.
    pub webhook_secret: String,
    pub tolerance_secs: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AdyenConfig {
    /// The webhook's HMAC key in hex; empty refuses every Adyen notification.
    pub hmac_key: String,
}

impl Default for DisputesConfig {
    fn default() -> Self {
        Self {
            stripe: StripeConfig { webhook_secret: String::new(), tolerance_secs: d::stripe::TOLERANCE_SECS },
            adyen: AdyenConfig::default(),
            warn_hours: d::WARN_BEFORE_HOURS,
            submit_four_eyes_from: 250,
            returns: Default::default(),
        }
    }
}

impl DisputesConfig {
    pub fn check(&self) -> Result<(), String> {
        if !(0..=3600).contains(&self.stripe.tolerance_secs) {
            return Err("disputes.stripe.tolerance_secs must be between 0 and 3600".into());
        }
        let k = self.adyen.hmac_key.trim();
        if !k.is_empty() && (!k.len().is_multiple_of(2) || !k.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err("disputes.adyen.hmac_key must be hex".into());
        }
        if self.warn_hours < 0 || self.submit_four_eyes_from < 0 {
            return Err("disputes.warn_hours and disputes.submit_four_eyes_from must not be negative".into());
        }
        Ok(())
    }
}

/// A dispute as the API and the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct DisputeOut {
    pub dispute_id: String,
    pub provider: String,
    pub provider_ref: String,
    pub payment_ref: Option<String>,
    pub order_id: Option<String>,
    pub customer_id: Option<String>,
    pub case_id: Option<String>,
    pub stage: String,
    pub status: String,
    pub reason_code: Option<String>,
    pub reason_family: String,
    pub network: String,
    pub amount: serde_json::Value,
    pub due_by: Option<chrono::DateTime<chrono::Utc>>,
    pub urgency: Urgency,
    pub funds_minor: i64,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub submitted_by: Option<String>,
    pub version: i64,
}

pub(crate) fn lifecycle_of(r: &DisputeRecord) -> Lifecycle {
    Lifecycle {
        stage: Stage::parse(&r.stage).unwrap_or(Stage::Chargeback),
        status: Status::parse(&r.status).unwrap_or(Status::NeedsResponse),
    }
}

/// `249.90 EUR` as `{"amount": "249.90", "currency": "EUR"}`, the intake's money shape.
pub(crate) fn money(minor: i64, currency: &str) -> serde_json::Value {
    let amount = match riskdesk_domain::Currency::parse(currency, "currency") {
        Ok(c) => riskdesk_domain::Money::new(minor, c).amount_string(),
        Err(_) => minor.to_string(),
    };
    serde_json::json!({"amount": amount, "currency": currency})
}

impl Service {
    pub(crate) fn dispute_settings(&self) -> DisputesConfig {
        self.settings().disputes.clone()
    }

    pub(crate) fn dispute_out(&self, r: &DisputeRecord) -> DisputeOut {
        let warn = self.dispute_settings().warn_hours;
        DisputeOut {
            dispute_id: r.dispute_id.clone(),
            provider: r.provider.clone(),
            provider_ref: r.provider_ref.clone(),
            payment_ref: r.payment_ref.clone(),
            order_id: r.order_id.clone(),
            customer_id: r.customer_id.clone(),
            case_id: r.case_id.clone(),
            stage: r.stage.clone(),
            status: r.status.clone(),
            reason_code: r.reason_code.clone(),
            reason_family: r.reason_family.clone(),
            network: r.network.clone(),
            amount: money(r.amount_minor, &r.currency),
            due_by: r.due_by,
            urgency: d::urgency(lifecycle_of(r), r.due_by, self.now(), warn),
            funds_minor: r.funds_minor,
            opened_at: r.opened_at,
            closed_at: r.closed_at,
            submitted_at: r.submitted_at,
            submitted_by: r.submitted_by.clone(),
            version: r.version,
        }
    }

    /// Disputes by deadline. `open` keeps those needing work or waiting for the issuer.
    pub async fn disputes(&self, _: &DisputeViewer, q: &DisputeQuery) -> ServiceResult<(Vec<DisputeOut>, i64)> {
        let statuses = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some("open") => Some(vec!["needs_response".to_owned(), "under_review".to_owned()]),
            Some(s) => {
                let mut v = Vec::new();
                for one in s.split(',') {
                    let st = Status::parse(one.trim()).ok_or_else(|| {
                        ServiceError::Invalid(format!("status: must be open or one of {}", Status::codes()))
                    })?;
                    v.push(st.as_str().to_owned());
                }
                Some(v)
            }
        };
        if let Some(f) = q.family.as_deref().filter(|f| !f.is_empty())
            && d::ReasonFamily::parse(f).is_none()
        {
            return Err(ServiceError::Invalid(format!("family: must be one of {}", d::ReasonFamily::codes())));
        }
        if let Some(p) = q.provider.as_deref().filter(|p| !p.is_empty())
            && d::Provider::parse(p).is_none()
        {
            return Err(ServiceError::Invalid(format!("provider: must be one of {}", d::Provider::codes())));
        }
        let limit = q.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(ServiceError::Invalid("limit: must be between 1 and 500".into()));
        }
        let f = DisputeFilter {
            order_id: q.order_id.clone().filter(|o| !o.is_empty()),
            customer_id: q.customer_id.clone().filter(|c| !c.is_empty()),
            statuses,
            provider: q.provider.clone().filter(|p| !p.is_empty()),
            family: q.family.clone().filter(|f| !f.is_empty()),
            with_fraud_reports: false,
            limit,
            offset: q.offset.unwrap_or(0).max(0),
        };
        let rows = self.store().disputes(&f).await?;
        let total = self.store().count_disputes(&f).await?;
        Ok((rows.iter().map(|r| self.dispute_out(r)).collect(), total))
    }

    pub(crate) async fn dispute_record(&self, id: &str) -> ServiceResult<DisputeRecord> {
        self.store().dispute(id).await?.ok_or(ServiceError::NotFound("dispute"))
    }

    /// One dispute with its checklist, CE 3.0 candidates and provider events. The events as
    /// received carry personal data: `raw` is given to people who work disputes only.
    pub async fn dispute(&self, cap: &DisputeViewer, id: &str, raw: bool) -> ServiceResult<DisputeDetail> {
        let r = self.dispute_record(id).await?;
        let evidence = self.dispute_evidence_view(cap, &r).await?;
        let mut events = self.store().dispute_events(id).await?;
        if !raw {
            for e in &mut events {
                e.raw.clear();
            }
        }
        let respond = respond::Possible::of(&r, &evidence);
        Ok(DisputeDetail { dispute: self.dispute_out(&r), evidence, events, respond })
    }
}

/// The list's query, as the API and the page take it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DisputeQuery {
    pub order_id: Option<String>,
    pub customer_id: Option<String>,
    /// `open`, or statuses separated by commas.
    pub status: Option<String>,
    pub provider: Option<String>,
    pub family: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisputeDetail {
    #[serde(flatten)]
    pub dispute: DisputeOut,
    #[serde(flatten)]
    pub evidence: evidence::EvidenceView,
    pub events: Vec<DisputeEventRow>,
    /// What may be done now.
    pub respond: respond::Possible,
}
