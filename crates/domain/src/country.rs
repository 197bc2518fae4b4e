use crate::FieldError;
use serde::Deserialize;
use std::fmt;

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct CountryCode([u8; 2]);

serialize_as_str!(CountryCode, as_str);

impl CountryCode {
    pub fn parse(value: &str, field: impl std::fmt::Display + Copy) -> Result<Self, FieldError> {
        let err =
            || FieldError::new("unknown_country", field, format!("{field} is not an ISO 3166-1 alpha-2 country code"));
        let b = value.as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_uppercase) {
            return Err(err());
        }
        isocountry::CountryCode::for_alpha2(value).map_err(|_| err())?;
        Ok(Self([b[0], b[1]]))
    }

    pub fn as_str(&self) -> &str {
        // Always two ASCII upper-case letters, checked in `parse`.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl TryFrom<String> for CountryCode {
    type Error = FieldError;
    fn try_from(v: String) -> Result<Self, FieldError> {
        Self::parse(&v, "country")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_codes_only() {
        for ok in ["DE", "AT", "CH", "FR", "US", "GB"] {
            assert_eq!(CountryCode::parse(ok, "c").unwrap().as_str(), ok);
        }
        for bad in ["de", "XX", "DEU", "D", "", "ZZ", "UK"] {
            assert_eq!(
                CountryCode::parse(bad, "shipping_address.country").unwrap_err().code,
                "unknown_country",
                "{bad}"
            );
        }
    }
}
