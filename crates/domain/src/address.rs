//! Postal addresses and their match key. Reshippers and fraud rings are found by many accounts
//! shipping to one place, and people write one place in many ways ("Torstr. 1",
//! "TORSTRASSE 1", "Tor-Straße 1"), so linking uses a normalised key, never the raw text.

use crate::error::Sub;
use crate::{CountryCode, FieldError};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<CountryCode>,
}

/// The normalised key of a place: `country|postal code|street and number|extra line`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressKey(String);

impl AddressKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Street-type words and their abbreviations, after transliteration and lower-casing.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("str", "strasse"),
    ("strase", "strasse"),
    ("st", "street"),
    ("pl", "platz"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("rd", "road"),
    ("blvd", "boulevard"),
    ("bd", "boulevard"),
    ("ln", "lane"),
    ("sq", "square"),
    ("g", "gasse"),
];

/// Street-type words that German writes joined to the name ("Torstraße") and people
/// sometimes write apart ("Tor Straße", "Tor-Straße").
const JOINED_SUFFIXES: &[&str] = &["strasse", "platz", "weg", "allee", "gasse", "ring", "damm", "ufer", "chaussee"];

impl Address {
    /// The match key, or `None` when there is no street line to match on.
    pub fn key(&self) -> Option<AddressKey> {
        let street = normalise_street(self.line1.as_deref()?);
        if street.is_empty() {
            return None;
        }
        let extra = self.line2.as_deref().map(normalise_street).unwrap_or_default();
        let place = match self.postal_code.as_deref() {
            Some(p) if !p.trim().is_empty() => {
                let mut folded = fold(p);
                folded.retain(|c| c != ' ');
                folded
            }
            _ => self.city.as_deref().map(fold).unwrap_or_default(),
        };
        let country = self.country.as_ref().map(CountryCode::as_str).unwrap_or_default();
        // `join` sizes the key once, where `format!` went through `fmt`.
        Some(AddressKey([country, &place, &street, &extra].join("|")))
    }
}

/// Transliterates to ASCII, lower-cases, turns punctuation into spaces, collapses whitespace,
/// and folds German umlaut spellings (`ü`, `ue`) to one form. One pass into one string: every
/// order folds two addresses, and the step-by-step version allocated a dozen times for each.
fn fold(s: &str) -> String {
    // Transliteration leaves ASCII below DEL as it is (DEL it drops), and its output is ASCII.
    let ascii: Cow<'_, str> =
        if s.bytes().all(|b| b < 0x7F) { Cow::Borrowed(s) } else { Cow::Owned(deunicode::deunicode(s)) };
    let mut out = String::with_capacity(ascii.len());
    let mut gap = false;
    for b in ascii.bytes() {
        if b.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(char::from(b.to_ascii_lowercase()));
        } else {
            gap = true;
        }
    }
    for (from, to) in [("ae", "a"), ("oe", "o"), ("ue", "u")] {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

fn normalise_street(line: &str) -> String {
    let folded = fold(line);
    let mut out = String::with_capacity(folded.len() + 8);
    // Where the last word written starts in `out`, once there is one.
    let mut last: Option<usize> = None;
    for raw in folded.split(' ').filter(|w| !w.is_empty()) {
        let word: Cow<'_, str> = if let Some((_, full)) = ABBREVIATIONS.iter().find(|(a, _)| *a == raw) {
            Cow::Borrowed(full)
        } else if raw.len() > 3 && raw.ends_with("str") && raw.bytes().all(|c| c.is_ascii_alphabetic()) {
            // "torstr" is "torstrasse"
            Cow::Owned(format!("{raw}asse"))
        } else if let Some(stem) = raw.strip_suffix("strase") {
            Cow::Owned(format!("{stem}strasse"))
        } else {
            Cow::Borrowed(raw)
        };
        let prev = last.map(|i| &out[i..]);
        let prev_alpha = prev.is_some_and(|p| p.bytes().all(|c| c.is_ascii_alphabetic()));
        let prev_number = prev.is_some_and(|p| p.bytes().all(|c| c.is_ascii_digit()));
        let joins = (prev_alpha && JOINED_SUFFIXES.contains(&&*word))
            // house number "1 a" / "1-a" is "1a"
            || (prev_number && word.len() == 1 && word.bytes().all(|c| c.is_ascii_alphabetic()));
        if !joins {
            if last.is_some() {
                out.push(' ');
            }
            last = Some(out.len());
        }
        out.push_str(&word);
    }
    out
}

/// Parses the optional wire address object fields into an [`Address`], naming `field.x` on error.
/// Takes the fields as borrowed or owned strings; owned ones are kept rather than copied.
pub fn parse_address<S: AsRef<str> + Into<String>>(
    name: Option<S>,
    line1: Option<S>,
    line2: Option<S>,
    postal_code: Option<S>,
    city: Option<S>,
    country: Option<S>,
    field: impl fmt::Display + Copy,
) -> Result<Address, FieldError> {
    use crate::text::clean_owned;
    let opt = |v: Option<S>, sub: &'static str, max: usize| -> Result<Option<String>, FieldError> {
        v.map(|v| clean_owned(v.into(), Sub(field, sub), max)).transpose().map(Option::flatten)
    };
    Ok(Address {
        name: opt(name, "name", 200)?,
        line1: opt(line1, "line1", 200)?,
        line2: opt(line2, "line2", 200)?,
        postal_code: opt(postal_code, "postal_code", 20)?,
        city: opt(city, "city", 100)?,
        country: country.map(|c| CountryCode::parse(c.as_ref(), Sub(field, "country"))).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The step-by-step folding the one-pass version replaced: the oracle it must agree with.
    fn fold_reference(s: &str) -> String {
        let ascii = deunicode::deunicode(s).to_lowercase();
        let spaced: String = ascii.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' }).collect();
        let words: Vec<&str> = spaced.split_whitespace().collect();
        words.join(" ").replace("ae", "a").replace("oe", "o").replace("ue", "u")
    }

    fn normalise_street_reference(line: &str) -> String {
        let folded = fold_reference(line);
        let mut out: Vec<String> = Vec::new();
        for raw in folded.split(' ').filter(|w| !w.is_empty()) {
            let mut word = raw.to_owned();
            if let Some((_, full)) = ABBREVIATIONS.iter().find(|(a, _)| *a == word) {
                word = (*full).to_owned();
            } else if word.len() > 3 && word.ends_with("str") && word.chars().all(|c| c.is_ascii_alphabetic()) {
                word.push_str("asse");
            } else if let Some(stem) = word.strip_suffix("strase") {
                word = format!("{stem}strasse");
            }
            let prev_alpha = out.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic()));
            let prev_number = out.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
            let joins = (prev_alpha && JOINED_SUFFIXES.contains(&word.as_str()))
                || (prev_number && word.len() == 1 && word.chars().all(|c| c.is_ascii_alphabetic()));
            match out.last_mut() {
                Some(prev) if joins => prev.push_str(&word),
                _ => out.push(word),
            }
        }
        out.join(" ")
    }

    /// Words and separators that exercise every rule: abbreviations, joined suffixes, house
    /// numbers with letters, umlaut spellings, transliteration.
    fn street_line() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "Tor",
            "Straße",
            "Str",
            "str.",
            "strase",
            "Torstr",
            "Muellerstrase",
            "St",
            "pl",
            "Platz",
            "weg",
            "Allee",
            "1",
            "12",
            "a",
            "B",
            "ae",
            "Oe",
            "uE",
            "Königs",
            "Düsseldorf",
            "ß",
            "Ærø",
            "Œuvre",
            "東京",
            "Ave",
            "g",
            "blvd",
            "10",
            "-",
            "RING",
            "ufer",
            "Chaussee",
            "x1",
            "aue",
            "oae",
            "\u{7f}",
            "a\u{7f}b",
        ]);
        let seps = prop::sample::select(vec![" ", "  ", "-", ".", ". ", ",", "/", "", "\t", "'"]);
        prop::collection::vec((words, seps), 0..8)
            .prop_map(|parts| parts.into_iter().map(|(w, s)| format!("{w}{s}")).collect::<String>())
    }

    proptest! {
        #[test]
        fn one_pass_folding_agrees_with_the_step_by_step_one(line in street_line(), any_text in "(?s).{0,30}") {
            prop_assert_eq!(fold(&line), fold_reference(&line));
            prop_assert_eq!(normalise_street(&line), normalise_street_reference(&line));
            prop_assert_eq!(fold(&any_text), fold_reference(&any_text));
            prop_assert_eq!(normalise_street(&any_text), normalise_street_reference(&any_text));
        }
    }

    fn addr(line1: &str, postal: &str, city: &str) -> Address {
        parse_address(None, Some(line1), None, Some(postal), Some(city), Some("DE"), "a").unwrap()
    }

    #[test]
    fn one_place_written_many_ways_has_one_key() {
        let canonical = addr("Torstraße 1", "10115", "Berlin").key().unwrap();
        for line in ["Torstr. 1", "TORSTRASSE 1", "Tor-Straße 1", "torstr 1", "  Tor Strasse  1 ", "Torstr.1"] {
            assert_eq!(addr(line, "10115", "Berlin").key().unwrap(), canonical, "{line}");
        }
        assert_eq!(addr("Müllerstraße 5a", "13353", "Berlin").key(), addr("Muellerstr. 5 a", "13353", "BERLIN").key());
        assert_eq!(
            addr("Königsallee 1", "40212", "Düsseldorf").key(),
            addr("Koenigsallee 1", "40212", "Duesseldorf").key()
        );
        assert_eq!(
            addr("10 Downing St.", "SW1A 2AA", "London").key(),
            addr("10 downing street", "sw1a2aa", "London").key()
        );
    }

    #[test]
    fn different_places_differ() {
        assert_ne!(addr("Torstraße 1", "10115", "Berlin").key(), addr("Torstraße 2", "10115", "Berlin").key());
        assert_ne!(addr("Torstraße 1", "10115", "Berlin").key(), addr("Torstraße 1", "10117", "Berlin").key());
        let mut with_flat = addr("Torstraße 1", "10115", "Berlin");
        with_flat.line2 = Some("Apt 7".into());
        assert_ne!(with_flat.key(), addr("Torstraße 1", "10115", "Berlin").key());
    }

    #[test]
    fn no_street_no_key() {
        assert_eq!(Address::default().key(), None);
        assert_eq!(addr("...", "1", "x").key(), None);
    }

    proptest! {
        #[test]
        fn key_ignores_case_and_spacing(street in "[A-Za-zäöüß]{3,12}", no in 1u32..300) {
            let a = addr(&format!("{street}straße {no}"), "10115", "Berlin").key();
            let b = addr(&format!("  {}STR. {no} ", street.to_uppercase()), "10115", "berlin").key();
            prop_assert_eq!(a, b);
        }
    }
}
