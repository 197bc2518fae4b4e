//! Which handlings are reviewed, and why: a random share of every agent's week (the same under
//! the same seed: a hash, not a generator's state) plus risk picks (refunds or goodwill above an
//! amount, personal data disclosed, escalations reversed, customers later confirmed as fraud, low
//! CSAT). Each pick keeps its reasons, so random and targeted scores are never averaged together.

use super::Handling;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `[qa.sampling]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Percent of every agent's handlings picked at random.
    pub random_pct: f64,
    /// Refunds and goodwill of this much or more (minor units) are picked.
    pub refund_from_minor: i64,
    /// CSAT at or below this is picked.
    pub low_csat: i64,
    /// The random pick's seed: the same seed picks the same handlings.
    pub seed: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self { random_pct: 5.0, refund_from_minor: 5_000, low_csat: 2, seed: 1 }
    }
}

/// Why a handling was picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    /// `random`, `refund`, `data_disclosed`, `disclosed_unverified`, `escalation_reversed`,
    /// `confirmed_fraud`, `low_csat`.
    pub code: String,
    pub why: String,
}

/// The random draw of a handling: a number in [0, 1) from the seed and its id.
pub fn draw(seed: u64, handling_id: &str) -> f64 {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(handling_id.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Why a handling is picked (empty: it is not). `fraud` tells whether its customer was later
/// confirmed as fraud.
pub fn picks(h: &Handling, fraud: bool, p: &Policy) -> Vec<Pick> {
    let mut out = Vec::new();
    let mut add = |code: &str, why: String| out.push(Pick { code: code.into(), why });
    let refunded = h.refunded_minor();
    if refunded >= p.refund_from_minor && refunded > 0 {
        add("refund", format!("refund or goodwill of {refunded} (minor units), at or above {}", p.refund_from_minor));
    }
    if h.did("data_disclosed") {
        if h.identity_checked {
            add("data_disclosed", "personal data disclosed".into());
        } else {
            add("disclosed_unverified", "personal data disclosed without an identity check".into());
        }
    }
    if h.did("escalation_reversed") {
        add("escalation_reversed", "an escalation was reversed".into());
    }
    if fraud {
        add("confirmed_fraud", "the customer was later confirmed as fraud".into());
    }
    if let Some(c) = h.csat
        && c <= p.low_csat
    {
        add("low_csat", format!("CSAT {c}"));
    }
    if draw(p.seed, &h.handling_id) * 100.0 < p.random_pct {
        add("random", format!("random {} % of the agent's handlings", p.random_pct));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::{Action, HandlingIn};

    fn handling(id: &str) -> Handling {
        HandlingIn {
            handling_id: Some(id.into()),
            agent: Some("a1".into()),
            provider: Some("bpo".into()),
            closed_at: Some("2026-12-01T10:00:00Z".into()),
            ..Default::default()
        }
        .check(chrono::Utc::now())
        .unwrap()
    }

    #[test]
    fn the_random_share_is_deterministic_and_close_to_its_rate() {
        let p = Policy { random_pct: 10.0, ..Default::default() };
        let ids: Vec<String> = (0..20_000).map(|i| format!("H-{i}")).collect();
        let picked = |p: &Policy| ids.iter().filter(|id| !picks(&handling(id), false, p).is_empty()).count();
        let n = picked(&p);
        assert!((1_800..=2_200).contains(&n), "{n}");
        assert_eq!(picked(&p), n, "the same seed picks the same");
        assert_ne!(picked(&Policy { seed: 2, ..p.clone() }), 0);
        let first: Vec<&String> = ids.iter().filter(|id| !picks(&handling(id), false, &p).is_empty()).take(5).collect();
        let other: Vec<&String> = ids
            .iter()
            .filter(|id| !picks(&handling(id), false, &Policy { seed: 2, ..p.clone() }).is_empty())
            .take(5)
            .collect();
        assert_ne!(first, other, "another seed picks others");
    }

    #[test]
    fn risk_picks_are_exact() {
        let p = Policy { random_pct: 0.0, ..Default::default() };
        let mut h = handling("H-1");
        assert!(picks(&h, false, &p).is_empty());
        h.actions.push(Action {
            kind: "refund_issued".into(),
            amount_minor: Some(4_999),
            currency: Some("EUR".into()),
        });
        assert!(picks(&h, false, &p).is_empty(), "below the amount");
        h.actions.push(Action { kind: "goodwill".into(), amount_minor: Some(1), currency: Some("EUR".into()) });
        assert_eq!(picks(&h, false, &p)[0].code, "refund", "at the amount, refund and goodwill together");
        let mut d = handling("H-2");
        d.actions.push(Action { kind: "data_disclosed".into(), amount_minor: None, currency: None });
        assert_eq!(picks(&d, false, &p)[0].code, "disclosed_unverified");
        d.identity_checked = true;
        assert_eq!(picks(&d, false, &p)[0].code, "data_disclosed");
        let mut c = handling("H-3");
        c.csat = Some(3);
        assert!(picks(&c, false, &p).is_empty());
        c.csat = Some(2);
        assert_eq!(picks(&c, false, &p)[0].code, "low_csat");
        let codes: Vec<String> = picks(&handling("H-4"), true, &p).into_iter().map(|x| x.code).collect();
        assert_eq!(codes, ["confirmed_fraud"]);
    }
}
