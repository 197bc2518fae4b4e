//! Run-time pieces shared by compiled rules: the environment a rule reads and the faults that make
//! a rule "not evaluated" for one order without failing the decision.

use crate::value::{V, Value};
use std::cmp::Ordering;

/// What a compiled expression reads: the order's feature frame and the rule set's constants.
pub struct Env<'a> {
    pub slots: &'a [Value],
    pub consts: &'a [Value],
}

/// Why an expression could not be evaluated for one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The slot has no value for this order (an optional field the shop did not send).
    Missing(u32),
    DivByZero,
    Overflow,
    /// A shop attribute of an unexpected type.
    Type(&'static str),
}

pub type Res<'a> = Result<V<'a>, Fault>;

/// A compiled expression.
pub type Node = Box<dyn for<'a> Fn(&Env<'a>) -> Res<'a> + Send + Sync>;

pub fn truthy(v: &V<'_>) -> Result<bool, Fault> {
    match v {
        V::Bool(b) => Ok(*b),
        _ => Err(Fault::Type("a condition must be true or false")),
    }
}

/// Equality across numeric types (CEL's heterogeneous numeric equality), strict otherwise.
pub fn equals(a: &V<'_>, b: &V<'_>) -> Result<bool, Fault> {
    Ok(match (a, b) {
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Null, V::Null) => true,
        (V::Null, _) | (_, V::Null) => false,
        _ => {
            if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
                x == y
            } else if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                x == y
            } else if let (V::List(x), V::List(y)) = (a, b) {
                x == y
            } else {
                return Err(Fault::Type("values of different types cannot be compared"));
            }
        }
    })
}

pub fn compare(a: &V<'_>, b: &V<'_>) -> Result<Ordering, Fault> {
    match (a, b) {
        (V::Int(x), V::Int(y)) => Ok(x.cmp(y)),
        _ => {
            if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
                x.partial_cmp(&y).ok_or(Fault::Type("not a number"))
            } else if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                Ok(x.cmp(y))
            } else {
                Err(Fault::Type("values of these types cannot be ordered"))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

pub fn arith<'a>(op: ArithOp, a: V<'a>, b: V<'a>) -> Res<'a> {
    match (&a, &b) {
        (V::Int(x), V::Int(y)) => {
            let (x, y) = (*x, *y);
            let r = match op {
                ArithOp::Add => x.checked_add(y),
                ArithOp::Sub => x.checked_sub(y),
                ArithOp::Mul => x.checked_mul(y),
                ArithOp::Div | ArithOp::Rem if y == 0 => return Err(Fault::DivByZero),
                ArithOp::Div => x.checked_div(y),
                ArithOp::Rem => x.checked_rem(y),
            };
            r.map(V::Int).ok_or(Fault::Overflow)
        }
        _ => {
            if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
                let r = match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div | ArithOp::Rem if y == 0.0 => return Err(Fault::DivByZero),
                    ArithOp::Div => x / y,
                    ArithOp::Rem => x % y,
                };
                if r.is_finite() { Ok(V::Double(r)) } else { Err(Fault::Overflow) }
            } else if op == ArithOp::Add
                && let (Some(x), Some(y)) = (a.as_str(), b.as_str())
            {
                Ok(V::Owned(format!("{x}{y}")))
            } else {
                Err(Fault::Type("arithmetic needs numbers"))
            }
        }
    }
}
