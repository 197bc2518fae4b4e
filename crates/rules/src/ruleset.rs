//! Rule sets: the document analysts write (TOML file or JSON over the API), its validation into a
//! [`RuleSet`], and the decision it takes on one feature frame.
//!
//! Scoring: the score is the sum of the points of every rule that fired, clamped to 0-100.
//! Verdict precedence: an `allow` hit approves; otherwise a `decline` hit or a score at or above
//! `decline_at` declines; otherwise a `review` hit or a score at or above `review_at` sends the order
//! to review; otherwise it is approved. Allow wins so that a known-good customer on an allow list
//! is never stopped by a broad rule (as in Stripe Radar).

use crate::compile::{self, CompileError, Slots};
use crate::eval::{Env, Fault, Node};
use crate::needs::Need;
use crate::value::Value;
use riskdesk_domain::{NotEvaluated, Reason, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Add points to the score only.
    Score,
    Review,
    Decline,
    Allow,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Score => "score",
            Action::Review => "review",
            Action::Decline => "decline",
            Action::Allow => "allow",
        }
    }
}

/// A rule as written. `E` is the expression: a plain string from JSON, or a string with its
/// position in the file from TOML, so errors can point into the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc<E = String> {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub expression: E,
    pub action: Action,
    #[serde(default)]
    pub points: i32,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    pub review_at: u8,
    pub decline_at: u8,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring { review_at: 50, decline_at: 80 }
    }
}

/// A whole rule set as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "E: Deserialize<'de>"))]
pub struct RuleSetDoc<E = String> {
    #[serde(default)]
    pub scoring: Scoring,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleDoc<E>>,
}

/// A validation problem, naming the rule and the place in its expression (1-based line and
/// column) and, for files, the place in the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleError {
    /// Empty for problems of the set as a whole.
    pub rule: String,
    pub field: String,
    pub line: u32,
    pub column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_column: Option<u32>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(l), Some(c)) = (self.file_line, self.file_column) {
            write!(f, "{l}:{c}: ")?;
        }
        if self.rule.is_empty() {
            write!(f, "{}: {}", self.field, self.message)
        } else if self.field == "expression" {
            write!(f, "rule `{}`, line {}, column {}: {}", self.rule, self.line, self.column, self.message)
        } else {
            write!(f, "rule `{}`, {}: {}", self.rule, self.field, self.message)
        }
    }
}

/// All problems of a rule set (validation reports every one, not only the first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}

pub struct CompiledRule {
    pub doc: RuleDoc,
    node: Node,
    refs: Vec<u32>,
}

/// A validated, compiled rule set: compile once, evaluate many times, from many threads.
pub struct RuleSet {
    pub scoring: Scoring,
    pub rules: Vec<CompiledRule>,
    pub slots: Slots,
    consts: Vec<Value>,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet").field("rules", &self.rules.len()).field("needs", &self.slots.needs).finish()
    }
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub rule: usize,
}

/// The result of a rule set on one order.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub score: u8,
    pub reasons: Vec<Reason>,
    pub not_evaluated: Vec<NotEvaluated>,
}

/// Reusable buffers for [`RuleSet::evaluate_into`], so the hot loop does not allocate.
#[derive(Debug, Default)]
pub struct Scratch {
    pub hits: Vec<usize>,
    pub faults: Vec<(usize, Fault)>,
    /// The values each hit read, flat: hit `k` owns `values[spans[k].0..spans[k].1]`.
    pub values: Vec<Value>,
    pub spans: Vec<(u32, u32)>,
}

pub const MAX_RULES: usize = 500;

impl RuleSet {
    /// Parses a TOML rule file; errors carry file positions.
    pub fn from_toml(src: &str) -> Result<Self, RuleErrors> {
        let doc: RuleSetDoc<toml::Spanned<String>> = toml::from_str(src).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(src, s.start));
            RuleErrors(vec![RuleError {
                rule: String::new(),
                field: "file".into(),
                line,
                column,
                file_line: Some(line),
                file_column: Some(column),
                message: e.message().to_owned(),
            }])
        })?;
        let starts: Vec<(String, usize)> =
            doc.rules.iter().map(|r| (r.id.clone(), expression_start(src, r.expression.span()))).collect();
        let plain = RuleSetDoc {
            scoring: doc.scoring,
            rules: doc
                .rules
                .into_iter()
                .map(|r| RuleDoc {
                    id: r.id,
                    name: r.name,
                    description: r.description,
                    expression: r.expression.into_inner(),
                    action: r.action,
                    points: r.points,
                    tags: r.tags,
                    enabled: r.enabled,
                })
                .collect(),
        };
        Self::compile(plain).map_err(|mut errs| {
            // Map expression positions into the file for literal strings (no escapes to shift them).
            for e in &mut errs.0 {
                if e.field != "expression" {
                    continue;
                }
                if let Some(&(_, start)) = starts.iter().find(|(id, _)| *id == e.rule) {
                    let (fl, fc) = line_col(src, start);
                    if e.line <= 1 {
                        e.file_line = Some(fl);
                        e.file_column = Some(fc + e.column - 1);
                    } else {
                        e.file_line = Some(fl + e.line - 1);
                        e.file_column = Some(e.column);
                    }
                }
            }
            errs
        })
    }

    /// Validates and compiles a rule set document.
    pub fn compile(doc: RuleSetDoc) -> Result<Self, RuleErrors> {
        let mut errors = Vec::new();
        let set_err = |field: &str, message: String| RuleError {
            rule: String::new(),
            field: field.into(),
            line: 0,
            column: 0,
            file_line: None,
            file_column: None,
            message,
        };
        let s = doc.scoring;
        if s.review_at > 100 || s.decline_at > 100 || s.review_at == 0 || s.decline_at < s.review_at {
            errors.push(set_err(
                "scoring",
                format!(
                    "thresholds must satisfy 0 < review_at ({}) <= decline_at ({}) <= 100",
                    s.review_at, s.decline_at
                ),
            ));
        }
        if doc.rules.len() > MAX_RULES {
            errors.push(set_err("rule", format!("{} rules; at most {MAX_RULES} are allowed", doc.rules.len())));
        }
        let mut slots = Slots::default();
        let mut consts = Vec::new();
        let mut rules = Vec::with_capacity(doc.rules.len());
        let mut seen = std::collections::HashSet::new();
        for r in doc.rules {
            let rid = r.id.clone();
            let field_err = |field: &str, message: String| RuleError {
                rule: rid.clone(),
                field: field.into(),
                line: 0,
                column: 0,
                file_line: None,
                file_column: None,
                message,
            };
            if r.id.is_empty()
                || r.id.len() > 64
                || !r.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                errors.push(field_err("id", "an id is 1-64 characters of a-z, 0-9 and _".into()));
            } else if !seen.insert(r.id.clone()) {
                errors.push(field_err("id", "two rules have this id".into()));
            }
            if r.name.trim().is_empty() {
                errors.push(field_err("name", "a rule needs a name".into()));
            }
            if !(-100..=100).contains(&r.points) {
                errors.push(field_err("points", format!("points must be between -100 and 100, not {}", r.points)));
            }
            if r.action == Action::Score && r.points == 0 {
                errors.push(field_err("points", "a `score` rule needs non-zero points".into()));
            }
            match compile::compile(&r.expression, &mut slots, &mut consts) {
                Ok(c) => {
                    let rule = CompiledRule { doc: r, node: c.node, refs: c.refs };
                    // A probe on an order with nothing known yet (a first order: all counts zero)
                    // catches divisions by a count that is zero there.
                    if let Some(msg) = probe(&rule, &slots, &consts) {
                        errors.push(RuleError {
                            field: "expression".into(),
                            line: 1,
                            column: 1,
                            message: msg,
                            ..field_err("expression", String::new())
                        });
                    }
                    rules.push(rule);
                }
                Err(CompileError { offset, message }) => {
                    let (line, column) = offset.map_or((1, 1), |o| line_col(&r.expression, o as usize));
                    errors.push(RuleError { line, column, message, ..field_err("expression", String::new()) });
                }
            }
        }
        if errors.is_empty() {
            Ok(RuleSet { scoring: doc.scoring, rules, slots, consts })
        } else {
            Err(RuleErrors(errors))
        }
    }

    /// The facts the feature builder must compute for this rule set.
    pub fn needs(&self) -> &[Need] {
        &self.slots.needs
    }

    /// The frame slots some enabled rule reads, ascending: all a frame must hold for
    /// [`RuleSet::evaluate_into`] to see what a full frame would show it.
    pub fn read_slots(&self) -> Vec<u32> {
        let mut s: Vec<u32> =
            self.rules.iter().filter(|r| r.doc.enabled).flat_map(|r| r.refs.iter().copied()).collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// Frame length this rule set reads.
    pub fn frame_len(&self) -> usize {
        self.slots.len()
    }

    /// Evaluates every enabled rule; hits and faults land in `scratch`.
    pub fn evaluate_into(&self, frame: &[Value], scratch: &mut Scratch) {
        scratch.hits.clear();
        scratch.faults.clear();
        let env = Env { slots: frame, consts: &self.consts };
        for (i, r) in self.rules.iter().enumerate() {
            if !r.doc.enabled {
                continue;
            }
            match (r.node)(&env) {
                Ok(crate::value::V::Bool(true)) => scratch.hits.push(i),
                Ok(crate::value::V::Bool(false)) => {}
                Ok(_) => scratch.faults.push((i, Fault::Type("the condition is not true or false"))),
                Err(f) => scratch.faults.push((i, f)),
            }
        }
    }

    /// Verdict and score from the hits, per the precedence in the module docs.
    pub fn verdict(&self, hits: &[usize]) -> (Verdict, u8) {
        let mut points = 0i32;
        let (mut allow, mut decline, mut review) = (false, false, false);
        for &i in hits {
            let d = &self.rules[i].doc;
            points += d.points;
            match d.action {
                Action::Allow => allow = true,
                Action::Decline => decline = true,
                Action::Review => review = true,
                Action::Score => {}
            }
        }
        let score = points.clamp(0, 100) as u8;
        let verdict = if allow {
            Verdict::Approve
        } else if decline || score >= self.scoring.decline_at {
            Verdict::Decline
        } else if review || score >= self.scoring.review_at {
            Verdict::Review
        } else {
            Verdict::Approve
        };
        (verdict, score)
    }

    /// Evaluates and records each hit's reason as data: the rule (and so its action and points)
    /// and a copy of the values that fired it. Text is made only when a reason is shown
    /// ([`RuleSet::render`]), so the hot path stays free of formatting.
    pub fn evaluate_recorded(&self, frame: &[Value], scratch: &mut Scratch) -> (Verdict, u8) {
        self.evaluate_into(frame, scratch);
        scratch.values.clear();
        scratch.spans.clear();
        for &i in &scratch.hits {
            let start = scratch.values.len() as u32;
            scratch.values.extend(self.rules[i].refs.iter().map(|&s| frame[s as usize].clone()));
            scratch.spans.push((start, scratch.values.len() as u32));
        }
        self.verdict(&scratch.hits)
    }

    /// The reasons of a recorded evaluation, as answered and stored.
    pub fn render(&self, scratch: &Scratch) -> Vec<Reason> {
        scratch
            .hits
            .iter()
            .zip(&scratch.spans)
            .map(|(&i, &(a, b))| {
                let r = &self.rules[i];
                let detail = r
                    .refs
                    .iter()
                    .zip(&scratch.values[a as usize..b as usize])
                    .map(|(&s, v)| format!("{} = {v}", self.slots.name(s)))
                    .collect::<Vec<_>>()
                    .join(", ");
                Reason { rule: r.doc.id.clone(), action: r.doc.action.as_str().into(), points: r.doc.points, detail }
            })
            .collect()
    }

    /// Full evaluation with reasons: every hit rule with its points and the values that fired it.
    pub fn evaluate(&self, frame: &[Value], scratch: &mut Scratch) -> Outcome {
        let (verdict, score) = self.evaluate_recorded(frame, scratch);
        let reasons = self.render(scratch);
        let not_evaluated = scratch
            .faults
            .iter()
            .map(|&(i, f)| NotEvaluated { rule: self.rules[i].doc.id.clone(), reason: self.describe_fault(f) })
            .collect();
        Outcome { verdict, score, reasons, not_evaluated }
    }

    pub fn describe_fault(&self, f: Fault) -> String {
        match f {
            Fault::Missing(s) => format!("{} is not known for this order", self.slots.name(s)),
            Fault::DivByZero => "division by zero".into(),
            Fault::Overflow => "number out of range".into(),
            Fault::Type(m) => m.into(),
        }
    }

    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.doc.id == id)
    }
}

/// Evaluates a freshly compiled rule on a frame where every count is zero and every flag false.
fn probe(rule: &CompiledRule, slots: &Slots, consts: &[Value]) -> Option<String> {
    use crate::value::Ty;
    let frame: Vec<Value> = (0..slots.len() as u32)
        .map(|s| match slots.ty(s) {
            Ty::Int => Value::Int(0),
            Ty::Double => Value::Double(0.0),
            Ty::Bool => Value::Bool(false),
            Ty::String => Value::str(""),
            Ty::List => Value::List(Vec::new()),
            Ty::Dyn | Ty::Null => Value::Int(0),
        })
        .collect();
    match (rule.node)(&Env { slots: &frame, consts }) {
        Err(Fault::DivByZero) => Some(
            "divides by zero when the counts it uses are 0 (as on a first order); guard the division, e.g. `customer.orders > 0 && …`"
                .into(),
        ),
        Err(Fault::Overflow) => Some("overflows on an order where the counts it uses are 0".into()),
        _ => None,
    }
}

/// Where the text of a string value starts, after its opening quotes (and the newline that TOML
/// trims after opening triple quotes).
fn expression_start(src: &str, span: std::ops::Range<usize>) -> usize {
    let s = &src[span.start..span.end.min(src.len())];
    let skip = if s.starts_with("'''") || s.starts_with("\"\"\"") {
        let after = &s[3..];
        3 + if after.starts_with("\r\n") {
            2
        } else if after.starts_with('\n') {
            1
        } else {
            0
        }
    } else {
        1
    };
    span.start + skip
}

/// 1-based line and column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |p| before[p + 1..].chars().count()) + 1;
    (line as u32, col as u32)
}
