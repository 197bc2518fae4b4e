//! Privacy operations (GDPR): data-subject requests on the statutory clock, each with its
//! `privacy_request` case; identity verification; the access package and erasure run as
//! resumable background jobs ([`jobs`]); releasing a package and executing an erasure are four-eye
//! decisions ([`decisions`]); rectification and restriction with Art. 19 records; the breach
//! register ([`breaches`]); records of processing, the dashboard and retention sweeps ([`records`]).

pub mod breaches;
pub mod decisions;
pub mod jobs;
pub mod public;
pub mod records;
pub mod requests;

use crate::Service;
use riskdesk_domain::privacy::clock::RequestClock;
use riskdesk_domain::privacy::retention::{Class, RECORD_KINDS, default_classes};
use riskdesk_domain::privacy::{Right, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use requests::{RequestIn, RequestView, Submitted};
pub use riskdesk_store::privacy::{
    BreachEvent, BreachRecord, JobRecord, Notification, OutcomeRow, RequestEvent, RequestRecord, Section, VaultRow,
};

pub(crate) use crate::cases::invalid;

/// `[privacy]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// The controller's zone: the day of receipt and the due day are local days here.
    pub time_zone: String,
    /// Move a due day on a Saturday or Sunday to the Monday after (Reg. 1182/71 Art. 3(4)).
    pub roll_weekends: bool,
    /// Warn when this many days are left (each once).
    pub warn_days: Vec<i64>,
    /// Retention classes; each kind of record names one in `kinds`.
    pub classes: Vec<Class>,
    pub kinds: BTreeMap<String, String>,
    /// Who is told of a rectification, erasure or restriction (Art. 19): the payment provider,
    /// the helpdesk, the shop system.
    pub recipients: Vec<String>,
    /// The controller named in the records of processing and the access package.
    pub controller: String,
    /// Retention sweeps: hours between runs, and records per batch.
    pub sweep_every_hours: u64,
    pub sweep_batch: i64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            time_zone: "Europe/Berlin".into(),
            roll_weekends: false,
            warn_days: vec![7, 3, 1],
            classes: default_classes(),
            kinds: RECORD_KINDS.iter().map(|(k, _, c)| ((*k).to_owned(), (*c).to_owned())).collect(),
            recipients: vec!["payment provider".into(), "helpdesk".into(), "shop system".into()],
            controller: "the shop operating this riskdesk".into(),
            sweep_every_hours: 24,
            sweep_batch: 10_000,
        }
    }
}

impl PrivacyConfig {
    pub fn zone(&self) -> Result<chrono_tz::Tz, String> {
        self.time_zone.parse().map_err(|_| format!("privacy.time_zone: {} is not a known time zone", self.time_zone))
    }

    /// The configuration makes sense: a known zone, every kind's class defined.
    pub fn check(&self) -> Result<(), String> {
        self.zone()?;
        for (kind, class) in &self.kinds {
            if !self.classes.iter().any(|c| &c.code == class) {
                return Err(format!("privacy.kinds.{kind}: no retention class {class} is defined"));
            }
        }
        for (kind, _, _) in RECORD_KINDS {
            if !self.kinds.contains_key(*kind) {
                return Err(format!("privacy.kinds: {kind} has no retention class"));
            }
        }
        if self.sweep_batch < 1 {
            return Err("privacy.sweep_batch: must be at least 1".into());
        }
        Ok(())
    }

    /// The class of a kind of record (the `none` class when unknown).
    pub fn class_of(&self, kind: &str) -> Class {
        let code = self.kinds.get(kind).map_or("none", String::as_str);
        self.classes.iter().find(|c| c.code == code).cloned().unwrap_or_else(|| Class {
            code: "none".into(),
            label: "No retention duty".into(),
            years: None,
            basis: "Art. 17(1) GDPR: erased".into(),
        })
    }
}

/// A request's clock as the domain reads it.
pub(crate) fn clock_of(r: &RequestRecord) -> RequestClock {
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    RequestClock {
        received_on: d(&r.received_on).unwrap_or_default(),
        months: u32::try_from(r.months).unwrap_or(1),
        paused_days: r.paused_days,
        paused_since: r.paused_since.as_deref().and_then(d),
    }
}

pub(crate) fn right_of(r: &RequestRecord) -> Right {
    Right::parse(&r.right).unwrap_or(Right::Access)
}

pub(crate) fn status_of(r: &RequestRecord) -> Status {
    Status::parse(&r.status).unwrap_or(Status::Received)
}

impl Service {
    pub(crate) fn privacy_settings(&self) -> PrivacyConfig {
        self.settings().privacy
    }

    pub(crate) fn privacy_zone(&self) -> chrono_tz::Tz {
        self.privacy_settings().zone().unwrap_or(chrono_tz::Europe::Berlin)
    }

    /// Today in the controller's zone.
    pub(crate) fn privacy_today(&self) -> chrono::NaiveDate {
        riskdesk_domain::privacy::clock::local_date(self.now(), self.privacy_zone())
    }

    /// A form's local time (`YYYY-MM-DDTHH:MM`, in the controller's zone) as RFC 3339.
    pub fn privacy_local_time(&self, s: &str) -> Option<String> {
        let t = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").ok()?;
        t.and_local_timezone(self.privacy_zone()).earliest().map(|t| t.to_rfc3339())
    }

    /// The configuration as it is in force (for the records of processing).
    pub fn privacy_config(&self) -> PrivacyConfig {
        self.privacy_settings()
    }

    /// Runs the background work of privacy operations: jobs (resumed after a restart), deadline
    /// warnings, and the retention sweep on its schedule.
    pub fn spawn_privacy_worker(&self) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
            let mut rounds: u64 = 0;
            loop {
                tick.tick().await;
                if let Err(e) = svc.run_privacy_jobs().await {
                    tracing::warn!(error = %e, "a privacy job failed; it is retried");
                }
                if rounds.is_multiple_of(300) {
                    if let Err(e) = svc.warn_privacy_deadlines().await {
                        tracing::warn!(error = %e, "privacy deadline warnings failed");
                    }
                    if let Err(e) = svc.sweep_if_due().await {
                        tracing::warn!(error = %e, "starting the retention sweep failed");
                    }
                }
                rounds += 1;
            }
        });
    }
}
