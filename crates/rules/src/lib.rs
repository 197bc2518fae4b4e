pub mod compile;
pub mod eval;
pub mod features;
pub mod needs;
pub mod ruleset;
pub mod schema;
pub mod value;
pub use ruleset::{Action, Outcome, RuleDoc, RuleError, RuleErrors, RuleSet, RuleSetDoc, Scoring, Scratch};
pub use value::Value;
