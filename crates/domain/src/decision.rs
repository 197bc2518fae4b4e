//! The answer to an order: approve, review or decline, with a score and the reasons.

use crate::OrderId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Approve,
    Review,
    Decline,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Review => "review",
            Self::Decline => "decline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Approve, Self::Review, Self::Decline].into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule that contributed to a decision, with the values that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub rule: String,
    pub action: String,
    pub points: i32,
    pub detail: String,
}

/// A rule that could not be evaluated for one order (e.g. an optional field was missing); the
/// decision is taken without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule: String,
    pub reason: String,
}

/// A decision as stored and as answered on `POST /orders` (intake-v1 response shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub order_id: OrderId,
    pub decision: Verdict,
    pub score: u8,
    pub reasons: Vec<Reason>,
    /// The published rule set that decided; 0 before any rule set exists.
    pub ruleset_version: i64,
    pub decided_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<NotEvaluated>,
}

impl Decision {
    /// The answer before screening exists: store and approve.
    pub fn approve_unscreened(order_id: OrderId, decided_at: DateTime<Utc>) -> Self {
        Self {
            order_id,
            decision: Verdict::Approve,
            score: 0,
            reasons: Vec::new(),
            ruleset_version: 0,
            decided_at,
            not_evaluated: Vec::new(),
        }
    }
}
