//! Values a rule sees. The frame holds owned [`Value`]s, one per feature slot; evaluation returns
//! [`V`], which borrows from the frame or the rule set's constants, so comparing a string costs no
//! allocation.

use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// The static type of an expression, checked when a rule set is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Int,
    Double,
    String,
    /// A list of strings (categories, brands, promo codes).
    List,
    /// Known only at run time: shop attributes, whose type the shop decides.
    Dyn,
    Null,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Double => "double",
            Ty::String => "string",
            Ty::List => "list(string)",
            Ty::Dyn => "dyn",
            Ty::Null => "null",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Double | Ty::Dyn)
    }

    /// Whether a value of type `other` may stand where `self` is expected.
    pub fn accepts(self, other: Ty) -> bool {
        self == other || self == Ty::Dyn || other == Ty::Dyn
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One slot of the feature frame. `Null` means "not known for this order" (an optional field the
/// shop did not send); a rule that needs it is recorded as not evaluated.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(untagged)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    /// Shared, so recording the values a rule read copies a pointer, not the text.
    Str(Arc<str>),
    List(Vec<String>),
}

impl Value {
    pub fn str(s: impl Into<Arc<str>>) -> Self {
        Value::Str(s.into())
    }

    pub fn opt_str(s: Option<impl Into<Arc<str>>>) -> Self {
        s.map_or(Value::Null, |s| Value::Str(s.into()))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_v(&self) -> V<'_> {
        match self {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Int(i) => V::Int(*i),
            Value::Double(d) => V::Double(*d),
            Value::Str(s) => V::Str(s),
            Value::List(l) => V::List(l),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_v().fmt(f)
    }
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum V<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(&'a str),
    /// A string made during evaluation (`lowerAscii()`, `+`).
    Owned(String),
    List(&'a [String]),
}

impl V<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            V::Owned(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            V::Int(i) => Some(i as f64),
            V::Double(d) => Some(d),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            V::Null => "null",
            V::Bool(_) => "bool",
            V::Int(_) => "int",
            V::Double(_) => "double",
            V::Str(_) | V::Owned(_) => "string",
            V::List(_) => "list",
        }
    }
}

impl fmt::Display for V<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V::Null => f.write_str("null"),
            V::Bool(b) => write!(f, "{b}"),
            V::Int(i) => write!(f, "{i}"),
            V::Double(d) => {
                if d.fract() == 0.0 && d.abs() < 1e15 {
                    write!(f, "{d:.0}")
                } else {
                    write!(f, "{}", (d * 100.0).round() / 100.0)
                }
            }
            V::Str(s) => write!(f, "{s:?}"),
            V::Owned(s) => write!(f, "{s:?}"),
            V::List(l) => write!(f, "{l:?}"),
        }
    }
}
