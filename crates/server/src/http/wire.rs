//! Small helpers for the API's wire types, so that a body the document calls valid is read as
//! such and one it calls invalid is refused:
//! - JSON Schema counts a number with a zero fraction (`368.0`) as an integer: integer fields
//!   take one ([`int`], [`opt_int`], with `#[serde(deserialize_with = …)]`);
//! - a field documented as a string (not null) that may be left out refuses `null`
//!   ([`present`], [`present_int`]);
//! - an enumerated text given empty is refused naming its field ([`no_blank`]), where a form's
//!   empty select means "none" but a JSON body would leave the field out.
//!
//! The document states the text rules with these patterns (attributes take literals only, so
//! they are written out where used):
//! - text trimmed and required, control characters dropped (`clean_text`):
//!   `[^\s\x00-\x1f\x7f-\x9f]`, some character neither white space nor a control character;
//! - text trimmed and required, nothing dropped: `[\S\x1c-\x1f]` (Rust's white space, which
//!   leaves out the separators U+001C-U+001F that Python's `\s` has);
//! - text without control characters or markup tags (`riskdesk_domain::text::clean`):
//!   `^([^<C]|<+[^<A-Za-z/!?C])*<*$` with `C` the control, bidirectional and BOM characters,
//!   and its required form, which also needs a character besides white space;
//! - a shop's order or customer id: `^[A-Za-z0-9_.:#/@+=-]{1,128}$`;
//! - a day: `YYYY-MM-DD` of a date that exists.

use super::error::ApiError;
pub use riskdesk_domain::whole::{int, opt_int};
use serde::de::{Deserializer, Error};

/// A field that may be left out but not given as `null` (with `#[serde(default)]`).
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    Option::<String>::deserialize(d)?
        .map(Some)
        .ok_or_else(|| D::Error::custom("null is no value here: leave the field out"))
}

/// As [`present`], for an integer (also written as a whole-number float).
pub fn present_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    opt_int(d)?.map(Some).ok_or_else(|| D::Error::custom("null is no value here: leave the field out"))
}

/// Refuses an enumerated field given as empty text: in a JSON body, "none" leaves it out.
pub fn no_blank(field: &str, v: &Option<String>) -> Result<(), ApiError> {
    match v {
        Some(s) if s.trim().is_empty() => Err(ApiError::invalid(field, "is empty: leave the field out for none")),
        _ => Ok(()),
    }
}
