//! Retention classes: how long each kind of record must or may be kept, and so what erasure does
//! to it. German commercial and tax law (§ 257 HGB, § 147 AO) keeps accounting vouchers (refund
//! and chargeback records) 8 years and commercial letters (order confirmations, the customer's
//! messages about an order) 6 years, counted from the end of the calendar year the record arose
//! in. Fraud evidence is kept while a case or dispute about it is open (Art. 17(3)(e) GDPR).
//! Classes and the kind-to-class map are configuration; these are the defaults.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Class {
    pub code: String,
    pub label: String,
    /// Years kept after the end of the record's year; none: not kept for a period.
    pub years: Option<u32>,
    /// The legal basis, quoted in an erasure's reply.
    pub basis: String,
}

/// What a class does when the person asks for erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Kept, restricted, until the end of its period.
    Keep(u32),
    /// Kept while a case or dispute about it is open, then erased.
    WhileOpen,
    /// The values go; their keyed hashes stay (screening still links the person).
    Pseudonymise,
    Erase,
}

impl Class {
    pub fn treatment(&self) -> Treatment {
        match (self.years, self.code.as_str()) {
            (Some(y), _) => Treatment::Keep(y),
            (None, "fraud_evidence") => Treatment::WhileOpen,
            (None, "pseudonymise") => Treatment::Pseudonymise,
            _ => Treatment::Erase,
        }
    }
}

pub fn default_classes() -> Vec<Class> {
    let c = |code: &str, label: &str, years, basis: &str| Class {
        code: code.into(),
        label: label.into(),
        years,
        basis: basis.into(),
    };
    vec![
        c(
            "accounting",
            "Accounting voucher",
            Some(8),
            "§ 147 AO, § 257 HGB: accounting vouchers, 8 years from the end of the year",
        ),
        c(
            "commercial_letter",
            "Commercial letter",
            Some(6),
            "§ 257 HGB: commercial letters, 6 years from the end of the year",
        ),
        c(
            "fraud_evidence",
            "Fraud evidence",
            None,
            "Art. 17(3)(e) GDPR: needed for legal claims while a case or dispute about it is open",
        ),
        c(
            "pseudonymise",
            "Screening key",
            None,
            "Recital 47, Art. 6(1)(f) GDPR: fraud prevention keeps the keyed hash, never the value",
        ),
        c("none", "No retention duty", None, "Art. 17(1) GDPR: erased"),
    ]
}

/// Every kind of record riskdesk holds about a person, and its default class.
pub const RECORD_KINDS: &[(&str, &str, &str)] = &[
    ("customer", "Customer profile (name, e-mail, phone)", "none"),
    ("order", "Order (items, prices, addresses, device)", "commercial_letter"),
    ("refund", "Refund and chargeback events", "accounting"),
    ("event", "Account and order events (logins, changes, shipping)", "none"),
    ("label", "Fraud and legitimate labels", "fraud_evidence"),
    ("list_entry", "Block and allow list entries", "pseudonymise"),
    ("case", "Cases, their notes and attachments", "fraud_evidence"),
    ("dispute", "Disputes and the providers' notifications", "accounting"),
    ("handling", "Tier-2 handlings and their transcripts", "none"),
    ("review_note", "Review notes on orders", "none"),
];

pub fn kind_label(kind: &str) -> &'static str {
    RECORD_KINDS.iter().find(|(k, _, _)| *k == kind).map_or("Record", |(_, l, _)| *l)
}

/// The last day a record from `arose_on` is kept: 31 December of its year plus `years`.
pub fn kept_until(arose_on: NaiveDate, years: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(arose_on.year() + years as i32, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// What erasure did or does to one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Its personal values are gone.
    Erased,
    /// Its values are gone; a keyed hash remains for screening.
    Pseudonymised { reason: String },
    /// Kept for a retention duty, hidden from everyone without a legal-hold purpose, deleted after.
    Restricted { until: NaiveDate, reason: String },
    /// Kept as it is while a case or dispute needs it; erased when that ends.
    Held { reason: String },
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Erased => "erased",
            Self::Pseudonymised { .. } => "pseudonymised",
            Self::Restricted { .. } => "restricted",
            Self::Held { .. } => "held",
        }
    }

    /// The line of the reply: "restricted until 2032-12-31 because …".
    pub fn sentence(&self) -> String {
        match self {
            Self::Erased => "erased".into(),
            Self::Pseudonymised { reason } => format!("pseudonymised because {reason}"),
            Self::Restricted { until, reason } => format!("restricted until {until} because {reason}"),
            Self::Held { reason } => format!("kept while {reason}"),
        }
    }
}

/// What erasure does to a record of a class that arose on `arose_on`, on `today`; `open` names
/// the open case or dispute that needs it, if any.
pub fn outcome(class: &Class, arose_on: NaiveDate, open: Option<&str>, today: NaiveDate) -> Outcome {
    match class.treatment() {
        Treatment::Keep(years) => {
            let until = kept_until(arose_on, years);
            if until >= today { Outcome::Restricted { until, reason: class.basis.clone() } } else { Outcome::Erased }
        }
        Treatment::WhileOpen => match open {
            Some(what) => Outcome::Held { reason: format!("{what} is open ({})", class.basis) },
            None => Outcome::Erased,
        },
        Treatment::Pseudonymise => Outcome::Pseudonymised { reason: class.basis.clone() },
        Treatment::Erase => Outcome::Erased,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn class(code: &str) -> Class {
        default_classes().into_iter().find(|c| c.code == code).unwrap()
    }

    #[test]
    fn periods_run_from_the_end_of_the_year() {
        assert_eq!(kept_until(d("2026-01-03"), 6), d("2032-12-31"));
        assert_eq!(kept_until(d("2026-12-31"), 8), d("2034-12-31"));
    }

    #[test]
    fn outcomes() {
        let today = d("2026-12-06");
        assert_eq!(
            outcome(&class("commercial_letter"), d("2026-03-01"), None, today),
            Outcome::Restricted { until: d("2032-12-31"), reason: class("commercial_letter").basis }
        );
        // A letter of 2019 is past its six years: erased.
        assert_eq!(outcome(&class("commercial_letter"), d("2019-05-01"), None, today), Outcome::Erased);
        assert_eq!(outcome(&class("accounting"), d("2019-05-01"), None, today).code(), "restricted");
        assert_eq!(outcome(&class("fraud_evidence"), d("2026-03-01"), None, today), Outcome::Erased);
        assert_eq!(outcome(&class("fraud_evidence"), d("2026-03-01"), Some("case cas_1"), today).code(), "held");
        assert_eq!(outcome(&class("pseudonymise"), d("2026-03-01"), None, today).code(), "pseudonymised");
        assert_eq!(outcome(&class("none"), d("2026-03-01"), Some("case cas_1"), today), Outcome::Erased);
        assert!(
            outcome(&class("accounting"), d("2026-03-01"), None, today)
                .sentence()
                .starts_with("restricted until 2034-12-31 because § 147 AO")
        );
    }

    #[test]
    fn every_kind_has_a_default_class() {
        let classes = default_classes();
        for (kind, _, c) in RECORD_KINDS {
            assert!(classes.iter().any(|x| x.code == *c), "{kind}");
        }
    }
}
