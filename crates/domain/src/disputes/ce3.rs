//! Visa Compelling Evidence 3.0 for card-absent fraud (reason 10.4): earlier transactions of the
//! same card, settled 120 to 365 days before the dispute, not disputed, sharing at least two data
//! elements with the disputed one (IP address, device, account login, shipping address), one of
//! them IP or device. Two such transactions make the dispute's defence.

use chrono::{DateTime, Utc};
use serde::Serialize;

pub const MIN_DAYS: i64 = 120;
pub const MAX_DAYS: i64 = 365;
/// Qualifying transactions the programme asks for.
pub const NEEDED: usize = 2;

/// What CE 3.0 compares of a transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    pub order_id: String,
    pub at: DateTime<Utc>,
    /// The card's fingerprint (or BIN and last four when no fingerprint is sent).
    pub card: Option<String>,
    pub ip: Option<String>,
    pub device: Option<String>,
    pub account: Option<String>,
    /// A normalised shipping address key.
    pub shipping: Option<String>,
    /// Disputed itself (or reported as fraud): never a candidate.
    pub disputed: bool,
}

/// An earlier transaction of the same card, and whether and why it qualifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub order_id: String,
    pub placed_at: DateTime<Utc>,
    pub days_before: i64,
    /// `ip`, `device`, `account`, `shipping_address`.
    pub matching: Vec<&'static str>,
    pub qualifies: bool,
    pub why: String,
}

/// Same-card transactions before the dispute, each judged; qualifying ones first.
pub fn candidates(disputed: &Transaction, dispute_at: DateTime<Utc>, history: &[Transaction]) -> Vec<Candidate> {
    let Some(card) = disputed.card.as_deref() else { return Vec::new() };
    let mut out: Vec<Candidate> = history
        .iter()
        .filter(|t| t.order_id != disputed.order_id && t.card.as_deref() == Some(card) && t.at < dispute_at)
        .map(|t| judge(disputed, dispute_at, t))
        .collect();
    out.sort_by(|a, b| b.qualifies.cmp(&a.qualifies).then(a.days_before.cmp(&b.days_before)));
    out
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if !x.is_empty() && x == y)
}

fn judge(d: &Transaction, dispute_at: DateTime<Utc>, t: &Transaction) -> Candidate {
    let days = (dispute_at - t.at).num_days();
    let mut matching = Vec::new();
    for (name, a, b) in [
        ("ip", &d.ip, &t.ip),
        ("device", &d.device, &t.device),
        ("account", &d.account, &t.account),
        ("shipping_address", &d.shipping, &t.shipping),
    ] {
        if same(a, b) {
            matching.push(name);
        }
    }
    let ip_or_device = matching.iter().any(|m| *m == "ip" || *m == "device");
    let (qualifies, why) = if t.disputed {
        (false, "disputed or reported itself".to_owned())
    } else if days < MIN_DAYS {
        (false, format!("{days} days before the dispute: fewer than {MIN_DAYS}"))
    } else if days > MAX_DAYS {
        (false, format!("{days} days before the dispute: more than {MAX_DAYS}"))
    } else if matching.len() < 2 {
        (false, format!("{} matching element(s); two are needed", matching.len()))
    } else if !ip_or_device {
        (false, "no IP address or device among the matching elements".to_owned())
    } else {
        (true, format!("same card, {days} days before the dispute, undisputed; matching {}", matching.join(" and ")))
    };
    Candidate { order_id: t.order_id.clone(), placed_at: t.at, days_before: days, matching, qualifies, why }
}

/// The dispute can be answered with CE 3.0.
pub fn eligible(c: &[Candidate]) -> bool {
    c.iter().filter(|c| c.qualifies).count() >= NEEDED
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().to_utc()
    }

    fn tx(id: &str, days: i64) -> Transaction {
        Transaction {
            order_id: id.into(),
            at: at() - Duration::days(days),
            card: Some("fp_1".into()),
            ip: Some("203.0.113.7".into()),
            device: Some("dev-1".into()),
            account: Some("C-1".into()),
            shipping: Some("10115|torstr 1".into()),
            disputed: false,
        }
    }

    fn judged(t: Transaction) -> Candidate {
        let d = tx("D", 3);
        candidates(&d, at(), &[t]).pop().unwrap()
    }

    #[test]
    fn the_window_is_120_to_365_days() {
        assert!(!judged(tx("a", 119)).qualifies);
        assert!(judged(tx("b", 120)).qualifies);
        assert!(judged(tx("c", 365)).qualifies);
        assert!(!judged(tx("d", 366)).qualifies);
    }

    #[test]
    fn two_elements_one_of_them_ip_or_device() {
        let one = Transaction { device: None, account: None, shipping: None, ..tx("a", 200) };
        let c = judged(one);
        assert_eq!(c.matching, ["ip"]);
        assert!(!c.qualifies);
        let no_ip_device = Transaction { ip: Some("198.51.100.1".into()), device: None, ..tx("b", 200) };
        let c = judged(no_ip_device);
        assert_eq!(c.matching, ["account", "shipping_address"]);
        assert!(!c.qualifies, "{}", c.why);
        let ok = Transaction { account: None, shipping: None, ..tx("c", 200) };
        assert!(judged(ok).qualifies);
    }

    #[test]
    fn a_disputed_earlier_order_or_another_card_does_not_count() {
        assert!(!judged(Transaction { disputed: true, ..tx("a", 200) }).qualifies);
        let d = tx("D", 3);
        let other_card = Transaction { card: Some("fp_2".into()), ..tx("b", 200) };
        assert!(candidates(&d, at(), &[other_card]).is_empty());
    }

    #[test]
    fn two_qualifying_make_it_eligible() {
        let d = tx("D", 3);
        let c = candidates(&d, at(), &[tx("a", 150), tx("b", 119), tx("c", 300)]);
        assert!(eligible(&c));
        assert_eq!(c[0].order_id, "a");
        assert!(!eligible(&candidates(&d, at(), &[tx("a", 150), tx("b", 119)])));
    }
}
