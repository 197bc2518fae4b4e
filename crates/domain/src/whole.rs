//! Integers as JSON Schema counts them: a number with a zero fraction (`368.0`) is an integer
//! too, so integer fields of request bodies take one (`#[serde(deserialize_with = …)]`).

use serde::de::{Deserializer, Error, Visitor};
use std::fmt;

/// A float with no fraction strictly between -2^63 and 2^63, as that integer. (A JSON integer
/// beyond `i64` arrives as a float and may round to -2^63 exactly: that bound is left out.)
pub fn whole_f64(v: f64) -> Option<i64> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    (v.fract() == 0.0 && v > -TWO_63 && v < TWO_63).then_some(v as i64)
}

struct Whole;

impl Visitor<'_> for Whole {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<i64, E> {
        whole_f64(v).ok_or_else(|| E::custom(format!("invalid type: floating point `{v}`, expected an integer")))
    }
}

/// An integer, also written as a whole-number float (`368.0`).
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(Whole)
}

struct MaybeWhole;

impl<'de> Visitor<'de> for MaybeWhole {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or null")
    }

    fn visit_none<E: Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
        int(d).map(Some)
    }
}

/// An optional integer (absent or `null`: none), also written as a whole-number float.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(MaybeWhole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct T {
        #[serde(deserialize_with = "int")]
        a: i64,
        #[serde(default, deserialize_with = "opt_int")]
        b: Option<i64>,
    }

    #[test]
    fn whole_floats_are_integers() {
        let t: T = serde_json::from_str(r#"{"a": 368.0, "b": -2.0}"#).unwrap();
        assert_eq!((t.a, t.b), (368, Some(-2)));
        let t: T = serde_json::from_str(r#"{"a": 3, "b": null}"#).unwrap();
        assert_eq!((t.a, t.b), (3, None));
        let t: T = serde_json::from_str(r#"{"a": 3}"#).unwrap();
        assert_eq!(t.b, None);
        assert!(serde_json::from_str::<T>(r#"{"a": 1.5}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": 1e300}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": "1"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": 18446744073709551615}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": -9223372036854775809}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": 9223372036854775808}"#).is_err());
    }
}
