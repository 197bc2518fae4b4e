//! One frame slot over many orders, stored compactly: a backtest keeps every stored order's
//! features in columns and evaluates rule sets on them without rebuilding history. A column
//! takes the representation of the first value it is given (a byte per flag, eight bytes per
//! number, a dictionary index per string or list) and falls back to plain [`Value`]s only when
//! the values of one slot differ in type, as shop attributes may.

use crate::value::Value;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

const NULL_BOOL: u8 = 2;
const NULL_INT: i64 = i64::MIN;
/// A NaN no arithmetic produces; a value with these bits is stored as a plain value.
const NULL_DOUBLE: u64 = 0x7ff8_0000_dead_beef;
const NULL_ID: u32 = u32::MAX;

/// Distinct values and their indices.
#[derive(Debug, Default)]
struct Dict<T: Hash + Eq + Clone> {
    values: Vec<T>,
    ids: HashMap<T, u32>,
}

impl<T: Hash + Eq + Clone> Dict<T> {
    fn id(&mut self, v: T) -> u32 {
        if let Some(&id) = self.ids.get(&v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v, id);
        id
    }
}

#[derive(Debug)]
enum Data {
    /// Only nulls so far: how many.
    Nulls(usize),
    Bool(Vec<u8>),
    Int(Vec<i64>),
    Double(Vec<f64>),
    Str(Vec<u32>, Dict<Arc<str>>),
    List(Vec<u32>, Dict<Vec<String>>),
    Mixed(Vec<Value>),
}

#[derive(Debug)]
pub struct Column {
    data: Data,
}

impl Default for Column {
    fn default() -> Self {
        Column { data: Data::Nulls(0) }
    }
}

impl Column {
    /// A column that starts with `n` nulls (for a slot first seen part-way through).
    pub fn nulls(n: usize) -> Self {
        Column { data: Data::Nulls(n) }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Data::Nulls(n) => *n,
            Data::Bool(c) => c.len(),
            Data::Int(c) => c.len(),
            Data::Double(c) => c.len(),
            Data::Str(c, _) | Data::List(c, _) => c.len(),
            Data::Mixed(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, v: Value) {
        if let Data::Nulls(n) = self.data {
            if v.is_null() {
                self.data = Data::Nulls(n + 1);
                return;
            }
            self.data = match &v {
                Value::Bool(_) => Data::Bool(vec![NULL_BOOL; n]),
                Value::Int(_) => Data::Int(vec![NULL_INT; n]),
                Value::Double(_) => Data::Double(vec![f64::from_bits(NULL_DOUBLE); n]),
                Value::Str(_) => Data::Str(vec![NULL_ID; n], Dict::default()),
                Value::List(_) => Data::List(vec![NULL_ID; n], Dict::default()),
                Value::Null => unreachable!("handled above"),
            };
        }
        let v = match (&mut self.data, v) {
            (Data::Bool(c), Value::Bool(b)) => return c.push(u8::from(b)),
            (Data::Bool(c), Value::Null) => return c.push(NULL_BOOL),
            (Data::Int(c), Value::Int(i)) if i != NULL_INT => return c.push(i),
            (Data::Int(c), Value::Null) => return c.push(NULL_INT),
            (Data::Double(c), Value::Double(d)) if d.to_bits() != NULL_DOUBLE => return c.push(d),
            (Data::Double(c), Value::Null) => return c.push(f64::from_bits(NULL_DOUBLE)),
            (Data::Str(c, d), Value::Str(s)) => return c.push(d.id(s)),
            (Data::List(c, d), Value::List(l)) => return c.push(d.id(l)),
            (Data::Str(c, _) | Data::List(c, _), Value::Null) => return c.push(NULL_ID),
            (Data::Mixed(c), v) => return c.push(v),
            (_, v) => v,
        };
        let all: Vec<Value> = (0..self.len()).map(|i| self.get(i)).collect();
        self.data = Data::Mixed(all);
        self.push(v);
    }

    /// The value of row `i`; strings are shared with the dictionary, lists are copied.
    pub fn get(&self, i: usize) -> Value {
        match &self.data {
            Data::Nulls(_) => Value::Null,
            Data::Bool(c) => match c[i] {
                NULL_BOOL => Value::Null,
                b => Value::Bool(b == 1),
            },
            Data::Int(c) => match c[i] {
                NULL_INT => Value::Null,
                v => Value::Int(v),
            },
            Data::Double(c) => match c[i] {
                d if d.to_bits() == NULL_DOUBLE => Value::Null,
                d => Value::Double(d),
            },
            Data::Str(c, d) => match c[i] {
                NULL_ID => Value::Null,
                id => Value::Str(d.values[id as usize].clone()),
            },
            Data::List(c, d) => match c[i] {
                NULL_ID => Value::Null,
                id => Value::List(d.values[id as usize].clone()),
            },
            Data::Mixed(c) => c[i].clone(),
        }
    }

    /// The text of row `i` of a string column, without touching its reference count.
    pub fn str_at(&self, i: usize) -> Option<&str> {
        match &self.data {
            Data::Str(c, d) if c[i] != NULL_ID => Some(&d.values[c[i] as usize]),
            Data::Mixed(c) => match &c[i] {
                Value::Str(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The dictionary index of a string in a string column (the row, in a column of distinct
    /// values such as order ids).
    pub fn id_of(&self, s: &str) -> Option<u32> {
        match &self.data {
            Data::Str(_, d) => d.ids.get(s).copied(),
            _ => None,
        }
    }

    /// Approximate heap bytes, for reporting.
    pub fn heap_bytes(&self) -> usize {
        match &self.data {
            Data::Nulls(_) => 0,
            Data::Bool(c) => c.capacity(),
            Data::Int(c) => c.capacity() * 8,
            Data::Double(c) => c.capacity() * 8,
            Data::Str(c, d) => c.capacity() * 4 + d.values.iter().map(|s| s.len() + 32).sum::<usize>(),
            Data::List(c, d) => {
                c.capacity() * 4
                    + d.values.iter().map(|l| 24 + l.iter().map(|s| s.len() + 24).sum::<usize>()).sum::<usize>()
            }
            Data::Mixed(c) => c.capacity() * std::mem::size_of::<Value>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![Just(i64::MIN), -3i64..3, any::<i64>()].prop_map(Value::Int),
            prop_oneof![Just(f64::from_bits(NULL_DOUBLE)), -2.0f64..2.0, Just(0.5)].prop_map(Value::Double),
            "[ab]{0,2}".prop_map(Value::str),
            proptest::collection::vec("[xy]{1}", 0..3).prop_map(Value::List),
        ]
    }

    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits(),
            _ => a == b,
        }
    }

    proptest! {
        /// Whatever goes in comes out, in order, including nulls, sentinel-looking values and
        /// slots whose type changes part-way.
        #[test]
        fn round_trips(values in proptest::collection::vec(value(), 0..40), typed in any::<bool>()) {
            // `typed` keeps one type (plus nulls), the compact case; otherwise types mix.
            let values: Vec<Value> = if typed {
                values.into_iter().filter(|v| v.is_null() || matches!(v, Value::Int(_))).collect()
            } else {
                values
            };
            let mut c = Column::default();
            for v in &values {
                c.push(v.clone());
            }
            prop_assert_eq!(c.len(), values.len());
            for (i, v) in values.iter().enumerate() {
                prop_assert!(same(&c.get(i), v), "row {}: {:?} != {:?}", i, c.get(i), v);
            }
        }
    }

    #[test]
    fn one_type_stays_compact() {
        let mut c = Column::nulls(2);
        for i in 0..5 {
            c.push(Value::str(if i % 2 == 0 { "DE" } else { "FR" }));
        }
        c.push(Value::Null);
        assert!(matches!(&c.data, Data::Str(ids, d) if ids.len() == 8 && d.values.len() == 2));
        assert_eq!(c.get(0), Value::Null);
        assert_eq!(c.get(2), Value::str("DE"));
        assert_eq!(c.get(3), Value::str("FR"));
        assert_eq!(c.get(7), Value::Null);
    }
}
