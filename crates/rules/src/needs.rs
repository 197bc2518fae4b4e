//! Facts a rule set needs beyond the fixed variables: velocity aggregates, list look-ups and shop
//! attributes. The compiler collects them from the rules' constant arguments, so the feature
//! builder computes each one once per order, before any rule runs.

use riskdesk_domain::EntityKind;
use serde::Serialize;
use std::fmt;

/// What a velocity aggregate is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Subject {
    Customer,
    Entity(EntityKind),
}

impl Subject {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(Subject::Customer),
            "card" => Some(Subject::Entity(EntityKind::CardFingerprint)),
            other => EntityKind::parse(other).map(Subject::Entity),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Subject::Customer => "customer",
            Subject::Entity(k) => k.as_str(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Agg {
    Count,
    Sum,
    Distinct(Subject),
}

/// `velocity.count("device", "1h")` and its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct VelocitySpec {
    pub subject: Subject,
    pub agg: Agg,
    pub window_ms: i64,
}

impl fmt::Display for VelocitySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = format_window(self.window_ms);
        match self.agg {
            Agg::Count => write!(f, "velocity.count(\"{}\", \"{w}\")", self.subject.name()),
            Agg::Sum => write!(f, "velocity.sum(\"{}\", \"{w}\")", self.subject.name()),
            Agg::Distinct(of) => {
                write!(f, "velocity.distinct(\"{}\", \"{}\", \"{w}\")", self.subject.name(), of.name())
            }
        }
    }
}

pub const MIN_WINDOW_MS: i64 = 60_000;
pub const MAX_WINDOW_MS: i64 = 90 * 86_400_000;

/// Parses a window such as `30m`, `1h`, `24h`, `7d`, `90d` (CEL duration strings `3600s` too).
pub fn parse_window(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().map_err(|_| format!("window {s:?} must be a number and a unit, like \"1h\" or \"7d\""))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("window {s:?} has an unknown unit; use s, m, h or d")),
    };
    let ms = n.checked_mul(unit_ms).ok_or_else(|| format!("window {s:?} is too long"))?;
    if !(MIN_WINDOW_MS..=MAX_WINDOW_MS).contains(&ms) {
        return Err(format!("window {s:?} must be between 1 minute and 90 days"));
    }
    Ok(ms)
}

pub fn format_window(ms: i64) -> String {
    for (unit, len) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)] {
        if ms % len == 0 {
            return format!("{}{unit}", ms / len);
        }
    }
    format!("{}s", ms / 1000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListType {
    Block,
    Allow,
}

impl ListType {
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Block => "block",
            ListType::Allow => "allow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "block" => Some(ListType::Block),
            "allow" => Some(ListType::Allow),
            _ => None,
        }
    }
}

/// What a list entry matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Email,
    EmailDomain,
    Phone,
    Device,
    Card,
    Bin,
    Iban,
    /// An address or a CIDR range.
    Ip,
    /// A normalised postal address; matches shipping and billing.
    Address,
    Customer,
}

impl ListKind {
    pub const ALL: [ListKind; 10] = [
        Self::Email,
        Self::EmailDomain,
        Self::Phone,
        Self::Device,
        Self::Card,
        Self::Bin,
        Self::Iban,
        Self::Ip,
        Self::Address,
        Self::Customer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::EmailDomain => "email_domain",
            Self::Phone => "phone",
            Self::Device => "device",
            Self::Card => "card",
            Self::Bin => "bin",
            Self::Iban => "iban",
            Self::Ip => "ip",
            Self::Address => "address",
            Self::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `lists.blocked("email")`; `kind: None` is "any of the order's values".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ListSpec {
    pub list: ListType,
    pub kind: Option<ListKind>,
}

impl fmt::Display for ListSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let func = match self.list {
            ListType::Block => "blocked",
            ListType::Allow => "allowed",
        };
        match self.kind {
            Some(k) => write!(f, "lists.{func}(\"{}\")", k.as_str()),
            None => write!(f, "lists.{func}()"),
        }
    }
}

/// A customer variable counted from the account's return trail (deliveries, returns, warehouse
/// notes, refunds, chargebacks per order). These read event bodies, so they are read only for
/// rule sets that use them; to an analyst they are `customer.*` fields like the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ReturnFact {
    LateReturns,
    WearNotes,
    RefundAndChargeback,
    Refunded,
    KeptValue,
}

impl ReturnFact {
    pub const ALL: [ReturnFact; 5] =
        [Self::LateReturns, Self::WearNotes, Self::RefundAndChargeback, Self::Refunded, Self::KeptValue];

    pub fn name(self) -> &'static str {
        match self {
            Self::LateReturns => "customer.late_returns",
            Self::WearNotes => "customer.wear_notes",
            Self::RefundAndChargeback => "customer.refund_and_chargeback",
            Self::Refunded => "customer.refunded",
            Self::KeptValue => "customer.kept_value",
        }
    }

    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn is_money(self) -> bool {
        matches!(self, Self::Refunded | Self::KeptValue)
    }

    pub fn doc(self) -> &'static str {
        match self {
            Self::LateReturns => {
                "Returns asked for in the last days of the return window after delivery ([disputes.returns] window_days, late_days)."
            }
            Self::WearNotes => "Returns the warehouse noted as worn, used, stained, smelling or with tags removed.",
            Self::RefundAndChargeback => "Earlier orders with both a refund and a chargeback (double dipping).",
            Self::Refunded => "Refunds issued to the account, major units.",
            Self::KeptValue => "What the account kept: `customer.spend` less `customer.refunded`, never below 0.",
        }
    }
}

/// One dynamic slot of the frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Need {
    Velocity(VelocitySpec),
    List(ListSpec),
    Attribute(String),
    Returns(ReturnFact),
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::Velocity(v) => v.fmt(f),
            Need::List(l) => l.fmt(f),
            Need::Attribute(a) => write!(f, "attributes.{a}"),
            Need::Returns(r) => f.write_str(r.name()),
        }
    }
}

/// How far back "new device" and "new address" look at the account's orders.
pub const NOVELTY_WINDOW_MS: i64 = 90 * 86_400_000;

/// What must be read for an order so that every velocity need of some rule sets can be
/// answered: the account's orders over the longest customer window (at least the novelty
/// window), and per entity kind the longest window and whether rows need their orders' entities
/// (for a distinct count of another entity). Online screening and the replay both follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPlan {
    pub customer_window_ms: i64,
    pub entities: Vec<(EntityKind, i64, bool)>,
}

impl ReadPlan {
    pub fn of<'a>(needs: impl IntoIterator<Item = &'a Need>) -> Self {
        let mut plan = ReadPlan { customer_window_ms: NOVELTY_WINDOW_MS, entities: Vec::new() };
        for need in needs {
            let Need::Velocity(v) = need else { continue };
            let with_entities = matches!(v.agg, Agg::Distinct(Subject::Entity(_)));
            match v.subject {
                Subject::Customer => plan.customer_window_ms = plan.customer_window_ms.max(v.window_ms),
                Subject::Entity(kind) => match plan.entities.iter_mut().find(|x| x.0 == kind) {
                    Some(x) => {
                        x.1 = x.1.max(v.window_ms);
                        x.2 |= with_entities;
                    }
                    None => plan.entities.push((kind, v.window_ms, with_entities)),
                },
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(parse_window("1h"), Ok(3_600_000));
        assert_eq!(parse_window("90d"), Ok(MAX_WINDOW_MS));
        assert_eq!(parse_window("3600s"), Ok(3_600_000));
        assert!(parse_window("91d").is_err());
        assert!(parse_window("30s").is_err());
        assert!(parse_window("1w").is_err());
        assert!(parse_window("h").is_err());
        assert_eq!(format_window(86_400_000 * 7), "7d");
        assert_eq!(format_window(90 * 60_000), "90m");
    }
}
