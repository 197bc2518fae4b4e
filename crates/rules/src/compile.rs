//! CEL to closures. The parser is the `cel` crate's (the standard grammar, with node offsets);
//! this module type-checks the tree against the catalogue in [`crate::schema`] and turns it into
//! nested closures over the feature frame. Velocity, list and attribute look-ups become frame
//! slots, so evaluation never touches storage.

use crate::eval::{ArithOp, Env, Fault, Node, arith, compare, equals, truthy};
use crate::needs::{Agg, ListKind, ListSpec, ListType, Need, ReturnFact, Subject, VelocitySpec, parse_window};
use crate::schema::{LIST_KINDS, VARS, VELOCITY_ENTITIES, Var};
use crate::value::{Ty, V, Value};
use cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue, SourceInfo, operators as op};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// Nodes one rule may have: CEL has no loops, so this bounds its running time.
pub const MAX_NODES: u32 = 300;
/// Nesting depth the parser accepts.
pub const MAX_DEPTH: u16 = 40;

/// The frame layout of one rule set: the fixed variables, then one slot per distinct need.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    pub needs: Vec<Need>,
    index: HashMap<Need, u32>,
}

impl Slots {
    pub fn len(&self) -> usize {
        VARS.len() + self.needs.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn need(&mut self, n: Need) -> u32 {
        if let Some(&s) = self.index.get(&n) {
            return s;
        }
        let s = (VARS.len() + self.needs.len()) as u32;
        self.needs.push(n.clone());
        self.index.insert(n, s);
        s
    }

    pub fn name(&self, slot: u32) -> String {
        let s = slot as usize;
        if s < VARS.len() { VARS[s].name.to_owned() } else { self.needs[s - VARS.len()].to_string() }
    }

    pub fn ty(&self, slot: u32) -> Ty {
        let s = slot as usize;
        if s < VARS.len() {
            VARS[s].ty
        } else {
            match &self.needs[s - VARS.len()] {
                Need::Velocity(v) => match v.agg {
                    Agg::Sum => Ty::Double,
                    _ => Ty::Int,
                },
                Need::List(_) => Ty::Bool,
                Need::Attribute(_) => Ty::Dyn,
                Need::Returns(r) if r.is_money() => Ty::Double,
                Need::Returns(_) => Ty::Int,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    /// Byte offset in the expression, when known.
    pub offset: Option<u32>,
    pub message: String,
}

fn err<T>(e: &IdedExpr, cx: &Cx<'_>, message: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError { offset: start_offset(e, cx.info), message: message.into() })
}

/// Where an expression starts in the source: the leftmost offset in its tree (the parser places
/// a field selection at its dot and an operator at its symbol).
fn start_offset(e: &IdedExpr, info: &SourceInfo) -> Option<u32> {
    let own = info.offset_for(e.id).map(|(s, _)| s);
    let children: Vec<&IdedExpr> = match &e.expr {
        Expr::Select(s) => vec![&s.operand],
        Expr::Call(c) => c.target.as_deref().into_iter().chain(c.args.iter()).collect(),
        _ => Vec::new(),
    };
    children.into_iter().filter_map(|c| start_offset(c, info)).chain(own).min()
}

/// A compiled boolean expression and what it read.
pub struct Compiled {
    pub node: Node,
    /// Slots the expression reads, in order of appearance: the values shown when it fires.
    pub refs: Vec<u32>,
    pub nodes: u32,
}

struct Cx<'c> {
    slots: &'c mut Slots,
    consts: &'c mut Vec<Value>,
    info: &'c SourceInfo,
    refs: Vec<u32>,
    /// The slot read most recently, even when `refs` already held it: the fast comparison
    /// paths take their field from here.
    last: Option<u32>,
    nodes: u32,
}

/// Parses and compiles one condition.
pub fn compile(source: &str, slots: &mut Slots, consts: &mut Vec<Value>) -> Result<Compiled, CompileError> {
    let (expr, info) =
        cel::parser::Parser::new().max_recursion_depth(MAX_DEPTH).parse_with_source_info(source).map_err(|e| {
            let first = e.errors.first();
            let offset = first.and_then(|pe| line_col_to_offset(source, pe.pos.0, pe.pos.1));
            let message = first.map_or_else(|| "syntax error".to_owned(), |pe| tidy_parse_message(&pe.msg));
            CompileError { offset, message: format!("syntax error: {message}") }
        })?;
    let mut cx = Cx { slots, consts, info: &info, refs: Vec::new(), last: None, nodes: 0 };
    let (node, ty) = cx.expr(&expr)?;
    if !matches!(ty, Ty::Bool | Ty::Dyn) {
        return err(&expr, &cx, format!("a rule condition must be true or false, but this is {ty}"));
    }
    if cx.nodes > MAX_NODES {
        return err(&expr, &cx, format!("the condition has {} parts; at most {MAX_NODES} are allowed", cx.nodes));
    }
    Ok(Compiled { node, refs: cx.refs, nodes: cx.nodes })
}

fn tidy_parse_message(msg: &str) -> String {
    msg.replace("<EOF>", "end of input")
}

/// The parser reports 1-based lines and 0-based columns (ANTLR).
fn line_col_to_offset(src: &str, line: isize, col: isize) -> Option<u32> {
    if line < 1 || col < 0 {
        return None;
    }
    let mut offset = 0usize;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i as isize + 1 == line {
            return Some((offset + (col as usize).min(l.len())) as u32);
        }
        offset += l.len();
    }
    Some(src.len() as u32)
}

fn literal_str(e: &IdedExpr) -> Option<&str> {
    match &e.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(s.inner()),
        Expr::Call(c) if c.func_name == "duration" && c.target.is_none() && c.args.len() == 1 => {
            literal_str(&c.args[0])
        }
        _ => None,
    }
}

/// `a.b.c` as a dotted path, if the expression is only identifiers and field selections.
fn path_of(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(n) => Some(n.clone()),
        Expr::Select(s) if !s.test => path_of(&s.operand).map(|p| format!("{p}.{}", s.field)),
        _ => None,
    }
}

impl Cx<'_> {
    fn expr(&mut self, e: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        self.nodes += 1;
        match &e.expr {
            Expr::Literal(l) => self.literal(e, l),
            Expr::Ident(_) => self.path(e),
            Expr::Select(s) if s.test => {
                let (slot, _) = self.resolve(&s.operand, Some(&s.field), e)?;
                self.note(slot);
                Ok((Box::new(move |env: &Env<'_>| Ok(V::Bool(!env.slots[slot as usize].is_null()))), Ty::Bool))
            }
            Expr::Select(_) => self.path(e),
            Expr::Call(c) => self.call(e, c),
            Expr::List(_) => err(e, self, "a list literal can only stand on the right of `in`"),
            Expr::Comprehension(_) => {
                err(e, self, "list macros (all, exists, map, filter) are not available; test membership with `in`")
            }
            Expr::Map(_) | Expr::Struct(_) => err(e, self, "maps and messages are not available in rules"),
            Expr::Unspecified => err(e, self, "incomplete expression"),
        }
    }

    fn note(&mut self, slot: u32) {
        self.last = Some(slot);
        if !self.refs.contains(&slot) {
            self.refs.push(slot);
        }
    }

    fn literal(&mut self, e: &IdedExpr, l: &LiteralValue) -> Result<(Node, Ty), CompileError> {
        Ok(match l {
            LiteralValue::Boolean(b) => {
                let b = *b.inner();
                (Box::new(move |_: &Env<'_>| Ok(V::Bool(b))), Ty::Bool)
            }
            LiteralValue::Int(i) => {
                let i = *i.inner();
                (Box::new(move |_: &Env<'_>| Ok(V::Int(i))), Ty::Int)
            }
            LiteralValue::UInt(u) => {
                let Ok(i) = i64::try_from(*u.inner()) else { return err(e, self, "number too large") };
                (Box::new(move |_: &Env<'_>| Ok(V::Int(i))), Ty::Int)
            }
            LiteralValue::Double(d) => {
                let d = *d.inner();
                (Box::new(move |_: &Env<'_>| Ok(V::Double(d))), Ty::Double)
            }
            LiteralValue::String(s) => {
                let k = self.consts.len();
                self.consts.push(Value::str(s.inner()));
                (Box::new(move |env: &Env<'_>| Ok(env.consts[k].as_v())), Ty::String)
            }
            LiteralValue::Null => (Box::new(|_: &Env<'_>| Ok(V::Null)), Ty::Null),
            LiteralValue::Bytes(_) => return err(e, self, "byte strings are not available in rules"),
        })
    }

    /// Resolves `operand.field` (or `operand` alone) to a frame slot.
    fn resolve(&mut self, operand: &IdedExpr, field: Option<&str>, at: &IdedExpr) -> Result<(u32, Ty), CompileError> {
        let Some(mut path) = path_of(operand) else {
            return err(at, self, "only fields of order, customer, signals, cluster and attributes can be tested");
        };
        if let Some(f) = field {
            path = format!("{path}.{f}");
        }
        if let Some(name) = path.strip_prefix("attributes.") {
            if name.contains('.') {
                return err(at, self, format!("attributes are flat; `{path}` has too many parts"));
            }
            let slot = self.slots.need(Need::Attribute(name.to_owned()));
            return Ok((slot, Ty::Dyn));
        }
        if let Some(r) = ReturnFact::by_name(&path) {
            let slot = self.slots.need(Need::Returns(r));
            return Ok((slot, self.slots.ty(slot)));
        }
        match Var::by_name(&path) {
            Some(v) => Ok((v.slot() as u32, v.def().ty)),
            None => {
                let roots = ["order", "customer", "signals", "cluster", "attributes"];
                if roots.contains(&path.as_str()) {
                    return err(
                        at,
                        self,
                        format!("`{path}` is a group of fields; name one, such as {}", example(&path)),
                    );
                }
                let hint = suggest(&path).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                err(at, self, format!("unknown field `{path}`{hint}"))
            }
        }
    }

    fn path(&mut self, e: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        let (slot, ty) = self.resolve(e, None, e)?;
        self.note(slot);
        let s = slot as usize;
        Ok((read_slot(s), ty))
    }

    fn call(&mut self, e: &IdedExpr, c: &CallExpr) -> Result<(Node, Ty), CompileError> {
        let name = c.func_name.as_str();
        if let Some(t) = &c.target
            && let Expr::Ident(ns) = &t.expr
            && (ns == "velocity" || ns == "lists")
        {
            return self.namespaced(e, ns, name, &c.args);
        }
        match (name, c.target.as_deref(), c.args.as_slice()) {
            (op::LOGICAL_AND | op::LOGICAL_OR, None, [a, b]) => {
                let (a, ta) = self.expr(a)?;
                let (b, tb) = self.expr(b)?;
                self.want_bool(e, ta)?;
                self.want_bool(e, tb)?;
                // CEL semantics: an error on one side is absorbed when the other side decides.
                let decisive = name == op::LOGICAL_OR;
                Ok((
                    Box::new(move |env: &Env<'_>| {
                        let left = a(env).and_then(|v| truthy(&v));
                        if left == Ok(decisive) {
                            return Ok(V::Bool(decisive));
                        }
                        let right = b(env).and_then(|v| truthy(&v));
                        match (left, right) {
                            (_, Ok(r)) if r == decisive => Ok(V::Bool(decisive)),
                            (Ok(_), Ok(r)) => Ok(V::Bool(r)),
                            (Err(f), _) | (_, Err(f)) => Err(f),
                        }
                    }),
                    Ty::Bool,
                ))
            }
            (op::LOGICAL_NOT, None, [a]) => {
                let (a, ta) = self.expr(a)?;
                self.want_bool(e, ta)?;
                Ok((Box::new(move |env: &Env<'_>| Ok(V::Bool(!truthy(&a(env)?)?))), Ty::Bool))
            }
            (op::NEGATE, None, [a]) => {
                let (a, ta) = self.expr(a)?;
                self.want_num(e, ta)?;
                Ok((Box::new(move |env: &Env<'_>| arith(ArithOp::Sub, V::Int(0), a(env)?)), ta))
            }
            (op::CONDITIONAL, None, [c0, a, b]) => {
                let (c0, tc) = self.expr(c0)?;
                self.want_bool(e, tc)?;
                let (a, ta) = self.expr(a)?;
                let (b, tb) = self.expr(b)?;
                let ty = if ta == tb || tb == Ty::Null {
                    ta
                } else if ta == Ty::Null || ta == Ty::Dyn || tb == Ty::Dyn {
                    if ta == Ty::Null { tb } else { Ty::Dyn }
                } else if ta.is_numeric() && tb.is_numeric() {
                    Ty::Double
                } else {
                    return err(e, self, format!("both branches of `? :` must have one type, not {ta} and {tb}"));
                };
                Ok((Box::new(move |env: &Env<'_>| if truthy(&c0(env)?)? { a(env) } else { b(env) }), ty))
            }
            (op::EQUALS | op::NOT_EQUALS, None, [a, b]) => self.equality(e, name == op::NOT_EQUALS, a, b),
            (op::LESS | op::LESS_EQUALS | op::GREATER | op::GREATER_EQUALS, None, [a, b]) => {
                self.ordering(e, name, a, b)
            }
            (op::ADD | op::SUBSTRACT | op::MULTIPLY | op::DIVIDE | op::MODULO, None, [a, b]) => {
                self.arithmetic(e, name, a, b)
            }
            (op::IN, None, [a, b]) => self.membership(e, a, b),
            (op::INDEX, None, [a, b]) => self.index(e, a, b),
            ("size", None, [a]) | ("size", Some(a), []) => {
                let (a, ta) = self.expr(a)?;
                if !matches!(ta, Ty::String | Ty::List | Ty::Dyn) {
                    return err(e, self, format!("size() needs a string or a list, not {ta}"));
                }
                Ok((
                    Box::new(move |env: &Env<'_>| match a(env)? {
                        V::List(l) => Ok(V::Int(l.len() as i64)),
                        v => v
                            .as_str()
                            .map(|s| V::Int(s.chars().count() as i64))
                            .ok_or(Fault::Type("size() of a non-string")),
                    }),
                    Ty::Int,
                ))
            }
            ("startsWith" | "endsWith" | "contains", Some(t), [arg]) => {
                let (t, tt) = self.expr(t)?;
                let (a, ta) = self.expr(arg)?;
                self.want(e, Ty::String, tt, name)?;
                self.want(e, Ty::String, ta, name)?;
                let f: fn(&str, &str) -> bool = match name {
                    "startsWith" => |s, p| s.starts_with(p),
                    "endsWith" => |s, p| s.ends_with(p),
                    _ => |s, p| s.contains(p),
                };
                Ok((
                    Box::new(move |env: &Env<'_>| {
                        let (s, p) = (t(env)?, a(env)?);
                        match (s.as_str(), p.as_str()) {
                            (Some(s), Some(p)) => Ok(V::Bool(f(s, p))),
                            _ => Err(Fault::Type("string function on a non-string")),
                        }
                    }),
                    Ty::Bool,
                ))
            }
            ("matches", Some(t), [pat]) | ("matches", None, [t, pat]) => {
                let Some(p) = literal_str(pat) else {
                    return err(pat, self, "the pattern of matches() must be a string literal");
                };
                let re = match regex::RegexBuilder::new(p).size_limit(1 << 20).build() {
                    Ok(r) => Arc::new(r),
                    Err(x) => return err(pat, self, format!("invalid regular expression: {x}")),
                };
                let (t, tt) = self.expr(t)?;
                self.want(e, Ty::String, tt, "matches")?;
                Ok((
                    Box::new(move |env: &Env<'_>| {
                        let s = t(env)?;
                        s.as_str().map(|s| V::Bool(re.is_match(s))).ok_or(Fault::Type("matches() on a non-string"))
                    }),
                    Ty::Bool,
                ))
            }
            ("lowerAscii" | "upperAscii", Some(t), []) => {
                let (t, tt) = self.expr(t)?;
                self.want(e, Ty::String, tt, name)?;
                let lower = name == "lowerAscii";
                Ok((
                    Box::new(move |env: &Env<'_>| {
                        let s = t(env)?;
                        let s = s.as_str().ok_or(Fault::Type("case conversion of a non-string"))?;
                        Ok(V::Owned(if lower { s.to_ascii_lowercase() } else { s.to_ascii_uppercase() }))
                    }),
                    Ty::String,
                ))
            }
            ("int" | "double" | "string", None, [a]) => self.conversion(e, name, a),
            ("velocity" | "lists", _, _) => err(
                e,
                self,
                format!(
                    "`{name}` is a group of functions, such as {name}.{}",
                    if name == "lists" { "blocked(\"email\")" } else { "count(\"device\", \"1h\")" }
                ),
            ),
            _ => {
                let what = if c.target.is_some() { format!("method `{name}`") } else { format!("function `{name}`") };
                err(e, self, format!("unknown {what} with {} argument(s)", c.args.len()))
            }
        }
    }

    fn want_bool(&self, e: &IdedExpr, t: Ty) -> Result<(), CompileError> {
        self.want(e, Ty::Bool, t, "a logical operator")
    }

    fn want_num(&self, e: &IdedExpr, t: Ty) -> Result<(), CompileError> {
        if t.is_numeric() { Ok(()) } else { err(e, self, format!("a number is needed here, not {t}")) }
    }

    fn want(&self, e: &IdedExpr, want: Ty, got: Ty, what: &str) -> Result<(), CompileError> {
        if want.accepts(got) { Ok(()) } else { err(e, self, format!("{what} needs {want}, not {got}")) }
    }

    fn comparable(&self, e: &IdedExpr, ta: Ty, tb: Ty, what: &str) -> Result<(), CompileError> {
        let ok = ta.accepts(tb) || (ta.is_numeric() && tb.is_numeric());
        if ok { Ok(()) } else { err(e, self, format!("cannot {what} {ta} with {tb}")) }
    }

    fn equality(&mut self, e: &IdedExpr, negate: bool, a: &IdedExpr, b: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        // `x == null` tests presence, so it must not fail when x is missing.
        if matches!(b.expr, Expr::Literal(LiteralValue::Null)) || matches!(a.expr, Expr::Literal(LiteralValue::Null)) {
            let other = if matches!(b.expr, Expr::Literal(LiteralValue::Null)) { a } else { b };
            let (slot, _) = self.resolve(other, None, e)?;
            self.note(slot);
            let s = slot as usize;
            return Ok((Box::new(move |env: &Env<'_>| Ok(V::Bool(env.slots[s].is_null() != negate))), Ty::Bool));
        }
        let (na, ta) = self.expr(a)?;
        let (nb, tb) = self.expr(b)?;
        self.comparable(e, ta, tb, "compare")?;
        // The common shape `field == "literal"` reads the slot and the constant without dispatch.
        if let (Some(slot), Some(k)) = (self.last, self.consts.len().checked_sub(1))
            && matches!(a.expr, Expr::Select(_) | Expr::Ident(_))
            && matches!(b.expr, Expr::Literal(LiteralValue::String(_)))
            && ta == Ty::String
        {
            let s = slot as usize;
            return Ok((
                Box::new(move |env: &Env<'_>| match (&env.slots[s], &env.consts[k]) {
                    (Value::Str(x), Value::Str(y)) => Ok(V::Bool((x == y) != negate)),
                    (Value::Null, _) => Err(Fault::Missing(s as u32)),
                    _ => Err(Fault::Type("not a string")),
                }),
                Ty::Bool,
            ));
        }
        Ok((Box::new(move |env: &Env<'_>| Ok(V::Bool(equals(&na(env)?, &nb(env)?)? != negate))), Ty::Bool))
    }

    fn ordering(&mut self, e: &IdedExpr, name: &str, a: &IdedExpr, b: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        let test: fn(Ordering) -> bool = match name {
            op::LESS => |o| o == Ordering::Less,
            op::LESS_EQUALS => |o| o != Ordering::Greater,
            op::GREATER => |o| o == Ordering::Greater,
            _ => |o| o != Ordering::Less,
        };
        let (na, ta) = self.expr(a)?;
        let (nb, tb) = self.expr(b)?;
        let orderable = (ta.is_numeric() && tb.is_numeric()) || (ta.accepts(tb) && matches!(ta, Ty::String | Ty::Dyn));
        if !orderable {
            return err(e, self, format!("cannot order {ta} and {tb}"));
        }
        // The common shape `numeric field <op> number literal`: no dispatch, no conversions.
        let literal = match b.expr {
            Expr::Literal(LiteralValue::Int(ref i)) => Some(*i.inner() as f64),
            Expr::Literal(LiteralValue::Double(ref d)) => Some(*d.inner()),
            _ => None,
        };
        if let (Some(lit), Some(slot)) = (literal, self.last)
            && matches!(a.expr, Expr::Select(_) | Expr::Ident(_))
            && matches!(ta, Ty::Int | Ty::Double)
        {
            let s = slot as usize;
            return Ok((
                Box::new(move |env: &Env<'_>| {
                    let x = match env.slots[s] {
                        Value::Int(i) => i as f64,
                        Value::Double(d) => d,
                        Value::Null => return Err(Fault::Missing(s as u32)),
                        _ => return Err(Fault::Type("not a number")),
                    };
                    Ok(V::Bool(x.partial_cmp(&lit).is_some_and(test)))
                }),
                Ty::Bool,
            ));
        }
        Ok((Box::new(move |env: &Env<'_>| Ok(V::Bool(test(compare(&na(env)?, &nb(env)?)?)))), Ty::Bool))
    }

    fn arithmetic(&mut self, e: &IdedExpr, name: &str, a: &IdedExpr, b: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        let o = match name {
            op::ADD => ArithOp::Add,
            op::SUBSTRACT => ArithOp::Sub,
            op::MULTIPLY => ArithOp::Mul,
            op::DIVIDE => ArithOp::Div,
            _ => ArithOp::Rem,
        };
        if matches!(o, ArithOp::Div | ArithOp::Rem) {
            let zero = match &b.expr {
                Expr::Literal(LiteralValue::Int(i)) => *i.inner() == 0,
                Expr::Literal(LiteralValue::UInt(u)) => *u.inner() == 0,
                Expr::Literal(LiteralValue::Double(d)) => *d.inner() == 0.0,
                _ => false,
            };
            if zero {
                return err(b, self, "division by zero");
            }
        }
        let (na, ta) = self.expr(a)?;
        let (nb, tb) = self.expr(b)?;
        let ty = if o == ArithOp::Add && ta == Ty::String && tb == Ty::String {
            Ty::String
        } else if ta.is_numeric() && tb.is_numeric() {
            match (ta, tb) {
                (Ty::Int, Ty::Int) => Ty::Int,
                (Ty::Dyn, _) | (_, Ty::Dyn) => Ty::Dyn,
                _ => Ty::Double,
            }
        } else {
            return err(e, self, format!("cannot calculate with {ta} and {tb}"));
        };
        Ok((Box::new(move |env: &Env<'_>| arith(o, na(env)?, nb(env)?)), ty))
    }

    fn membership(&mut self, e: &IdedExpr, a: &IdedExpr, b: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        let (na, ta) = self.expr(a)?;
        self.want(e, Ty::String, ta, "`in`")?;
        if let Expr::List(l) = &b.expr {
            let mut set = Vec::with_capacity(l.elements.len());
            for el in &l.elements {
                self.nodes += 1;
                match literal_str(el) {
                    Some(s) => set.push(s.to_owned()),
                    None => return err(el, self, "a list after `in` must hold string literals"),
                }
            }
            set.sort();
            set.dedup();
            return Ok((
                Box::new(move |env: &Env<'_>| {
                    let v = na(env)?;
                    let s = v.as_str().ok_or(Fault::Type("`in` needs a string"))?;
                    Ok(V::Bool(set.binary_search_by(|x| x.as_str().cmp(s)).is_ok()))
                }),
                Ty::Bool,
            ));
        }
        let (nb, tb) = self.expr(b)?;
        self.want(e, Ty::List, tb, "`in`")?;
        Ok((
            Box::new(move |env: &Env<'_>| {
                let v = na(env)?;
                let s = v.as_str().ok_or(Fault::Type("`in` needs a string"))?;
                match nb(env)? {
                    V::List(l) => Ok(V::Bool(l.iter().any(|x| x == s))),
                    _ => Err(Fault::Type("`in` needs a list")),
                }
            }),
            Ty::Bool,
        ))
    }

    fn index(&mut self, e: &IdedExpr, a: &IdedExpr, b: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        if path_of(a).as_deref() == Some("attributes") {
            let Some(name) = literal_str(b) else {
                return err(b, self, "an attribute name must be a string literal");
            };
            let slot = self.slots.need(Need::Attribute(name.to_owned()));
            self.note(slot);
            let s = slot as usize;
            return Ok((read_slot(s), Ty::Dyn));
        }
        let (na, ta) = self.expr(a)?;
        let (nb, tb) = self.expr(b)?;
        self.want(e, Ty::List, ta, "indexing")?;
        self.want(e, Ty::Int, tb, "a list index")?;
        Ok((
            Box::new(move |env: &Env<'_>| {
                let (V::List(l), V::Int(i)) = (na(env)?, nb(env)?) else { return Err(Fault::Type("bad index")) };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| l.get(i))
                    .map(|s| V::Str(s))
                    .ok_or(Fault::Type("index out of range"))
            }),
            Ty::String,
        ))
    }

    fn conversion(&mut self, e: &IdedExpr, name: &str, a: &IdedExpr) -> Result<(Node, Ty), CompileError> {
        let (na, _) = self.expr(a)?;
        let _ = e;
        Ok(match name {
            "int" => (
                Box::new(move |env: &Env<'_>| match na(env)? {
                    V::Int(i) => Ok(V::Int(i)),
                    V::Double(d) if d.is_finite() && d.abs() < 9.2e18 => Ok(V::Int(d.trunc() as i64)),
                    V::Bool(b) => Ok(V::Int(i64::from(b))),
                    v => v
                        .as_str()
                        .and_then(|s| s.trim().parse().ok())
                        .map(V::Int)
                        .ok_or(Fault::Type("not convertible to int")),
                }),
                Ty::Int,
            ),
            "double" => (
                Box::new(move |env: &Env<'_>| match na(env)? {
                    V::Int(i) => Ok(V::Double(i as f64)),
                    V::Double(d) => Ok(V::Double(d)),
                    v => v
                        .as_str()
                        .and_then(|s| s.trim().parse().ok())
                        .map(V::Double)
                        .ok_or(Fault::Type("not convertible to double")),
                }),
                Ty::Double,
            ),
            _ => (
                Box::new(move |env: &Env<'_>| {
                    let v = na(env)?;
                    Ok(match v {
                        V::Str(s) => V::Str(s),
                        V::Owned(s) => V::Owned(s),
                        V::Double(d) => V::Owned(d.to_string()),
                        other => V::Owned(other.to_string()),
                    })
                }),
                Ty::String,
            ),
        })
    }

    fn namespaced(
        &mut self,
        e: &IdedExpr,
        ns: &str,
        name: &str,
        args: &[IdedExpr],
    ) -> Result<(Node, Ty), CompileError> {
        let mut lits = Vec::with_capacity(args.len());
        for a in args {
            self.nodes += 1;
            match literal_str(a) {
                Some(s) => lits.push(s),
                None => return err(a, self, format!("the arguments of {ns}.{name}() must be string literals")),
            }
        }
        let need = if ns == "velocity" {
            let subject = |cx: &Cx<'_>, i: usize| {
                Subject::parse(lits[i]).ok_or_else(|| CompileError {
                    offset: cx.info.offset_for(args[i].id).map(|(s, _)| s),
                    message: format!("unknown entity {:?}; use one of {}", lits[i], VELOCITY_ENTITIES.join(", ")),
                })
            };
            let window = |cx: &Cx<'_>, i: usize| {
                parse_window(lits[i])
                    .map_err(|m| CompileError { offset: cx.info.offset_for(args[i].id).map(|(s, _)| s), message: m })
            };
            let (agg, subject, window_ms) = match (name, lits.len()) {
                ("count", 2) => (Agg::Count, subject(self, 0)?, window(self, 1)?),
                ("sum", 2) => (Agg::Sum, subject(self, 0)?, window(self, 1)?),
                ("distinct", 3) => {
                    let of = subject(self, 1)?;
                    let s = subject(self, 0)?;
                    if of == s {
                        return err(&args[1], self, "distinct values of an entity grouped by itself are always 1");
                    }
                    (Agg::Distinct(of), s, window(self, 2)?)
                }
                ("count" | "sum", _) => {
                    return err(
                        e,
                        self,
                        format!("velocity.{name} takes (entity, window), e.g. velocity.{name}(\"device\", \"1h\")"),
                    );
                }
                ("distinct", _) => {
                    return err(
                        e,
                        self,
                        "velocity.distinct takes (entity, of, window), e.g. velocity.distinct(\"customer\", \"card\", \"24h\")",
                    );
                }
                _ => return err(e, self, format!("unknown function velocity.{name}; use count, sum or distinct")),
            };
            Need::Velocity(VelocitySpec { subject, agg, window_ms })
        } else {
            let list = match name {
                "blocked" => ListType::Block,
                "allowed" => ListType::Allow,
                _ => return err(e, self, format!("unknown function lists.{name}; use blocked or allowed")),
            };
            let kind = match lits.as_slice() {
                [] => None,
                [k] => Some(ListKind::parse(k).ok_or_else(|| CompileError {
                    offset: self.info.offset_for(args[0].id).map(|(s, _)| s),
                    message: format!("unknown list kind {k:?}; use one of {}", LIST_KINDS.join(", ")),
                })?),
                _ => return err(e, self, format!("lists.{name} takes at most one argument")),
            };
            Need::List(ListSpec { list, kind })
        };
        let slot = self.slots.need(need);
        let ty = self.slots.ty(slot);
        self.note(slot);
        let s = slot as usize;
        Ok((read_slot(s), ty))
    }
}

/// Reads a frame slot; an absent value makes the rule "not evaluated" for this order.
fn read_slot(s: usize) -> Node {
    Box::new(move |env: &Env<'_>| match &env.slots[s] {
        Value::Null => Err(Fault::Missing(s as u32)),
        v => Ok(v.as_v()),
    })
}

fn example(root: &str) -> &'static str {
    match root {
        "order" => "order.amount",
        "customer" => "customer.account_age_days",
        "signals" => "signals.country_mismatch",
        "cluster" => "cluster.size",
        _ => "attributes.checkout_seconds",
    }
}

/// The catalogue name closest to a misspelt one, if it is close.
fn suggest(path: &str) -> Option<&'static str> {
    VARS.iter()
        .map(|v| v.name)
        .chain(ReturnFact::ALL.iter().map(|r| r.name()))
        .map(|n| (edit_distance(path, n), n))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
