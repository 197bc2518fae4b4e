//! riskdesk's screening rules: a safe expression language (CEL), compiled once into closures over
//! a per-order feature frame, and the decision a rule set takes. Pure: no I/O, no clock; the
//! service and the replay feed it facts.

pub mod clusters;
pub mod column;
pub mod compile;
pub mod eval;
pub mod features;
pub mod metrics;
pub mod needs;
pub mod ruleset;
pub mod schema;
pub mod value;
pub mod velocity;

pub use ruleset::{Action, Outcome, RuleDoc, RuleError, RuleErrors, RuleSet, RuleSetDoc, Scoring, Scratch};
pub use value::Value;
