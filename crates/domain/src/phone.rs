//! Phone numbers in E.164 (`+4915112345678`). Separators are dropped and an international
//! `00` prefix becomes `+`; a number without a country prefix is refused rather than guessed,
//! because a wrong guess would link strangers.

use crate::FieldError;
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Phone(String);

serialize_as_str!(Phone, as_str);

impl Phone {
    pub fn parse(value: &str, field: impl std::fmt::Display + Copy) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "invalid_phone",
                field,
                format!("{field} must be an international number such as +4915112345678"),
            )
        };
        let v = value.trim();
        if v.len() > 40 {
            return Err(invalid());
        }
        let rest = if let Some(r) = v.strip_prefix('+') {
            r
        } else if let Some(r) = v.strip_prefix("00") {
            r
        } else {
            return Err(invalid());
        };
        // `+` and the digits.
        let mut e164 = String::with_capacity(16);
        e164.push('+');
        for c in rest.chars() {
            match c {
                '0'..='9' => e164.push(c),
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                _ => return Err(invalid()),
            }
        }
        if !(8..=16).contains(&e164.len()) || e164[1..].starts_with('0') {
            return Err(invalid());
        }
        Ok(Self(e164))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = FieldError;
    fn try_from(v: String) -> Result<Self, FieldError> {
        Self::parse(&v, "phone")
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_e164() {
        for s in ["+4915112345678", "+49 151 1234 5678", "0049-151-12345678", "+49 (151) 123/45678"] {
            assert_eq!(Phone::parse(s, "p").unwrap().as_str(), "+4915112345678", "{s}");
        }
    }

    #[test]
    fn rejects_local_and_garbage() {
        for s in ["015112345678", "+49abc", "+0123456789", "+123", "", "+49151123456789012"] {
            assert_eq!(Phone::parse(s, "customer.phone").unwrap_err().code, "invalid_phone", "{s}");
        }
    }
}
