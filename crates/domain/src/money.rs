//! Money as exact integers of minor units with an ISO 4217 currency; never a float.

use crate::FieldError;
use crate::error::Sub;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Currency(iso_currency::Currency);

serialize_as_str!(Currency, code);

impl Currency {
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);

    pub fn parse(code: &str, field: impl fmt::Display + Copy) -> Result<Self, FieldError> {
        let upper = code.trim();
        iso_currency::Currency::from_code(upper)
            .filter(|c| c.exponent().is_some() && upper.len() == 3 && upper.chars().all(|c| c.is_ascii_uppercase()))
            .map(Self)
            .ok_or_else(|| {
                FieldError::new("unknown_currency", field, format!("{field} is not an ISO 4217 currency code"))
            })
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Every code [`Currency::parse`] accepts, in order.
    pub fn codes() -> &'static [&'static str] {
        static CODES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        CODES.get_or_init(|| {
            let letters = b'A'..=b'Z';
            let mut out = Vec::new();
            for a in letters.clone() {
                for b in letters.clone() {
                    for c in letters.clone() {
                        let code = String::from_utf8(vec![a, b, c]).unwrap_or_default();
                        if let Ok(cur) = Self::parse(&code, "currency") {
                            out.push(cur.code());
                        }
                    }
                }
            }
            out
        })
    }

    /// Digits after the decimal point (EUR 2, JPY 0, BHD 3).
    pub fn exponent(&self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }
}

impl TryFrom<String> for Currency {
    type Error = FieldError;
    fn try_from(v: String) -> Result<Self, FieldError> {
        Self::parse(&v, "currency")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Largest amount accepted, in major units: far above any order, far below i64 overflow in sums.
pub const MAX_MAJOR: i64 = 1_000_000_000;

/// A non-negative amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// Amount in minor units (cents for EUR).
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses the wire form: `amount` a decimal string such as `"249.90"`.
    /// `field` is the path of the money object; errors name `field.amount` or `field.currency`.
    pub fn parse(amount: &str, currency: &str, field: impl fmt::Display + Copy) -> Result<Self, FieldError> {
        let currency = Currency::parse(currency, Sub(field, "currency"))?;
        let minor = parse_amount(amount, currency, Sub(field, "amount"))?;
        Ok(Self { minor, currency })
    }

    /// The amount as a decimal (`249.90`).
    pub fn amount(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.exponent())
    }

    /// The amount as the wire's decimal string, always with the currency's number of decimals.
    pub fn amount_string(&self) -> String {
        self.write_amount(&mut [0; AMOUNT_MAX]).to_owned()
    }

    /// Writes [`Money::amount_string`] into `buf`, from the integer and without `fmt`:
    /// formatting a `Decimal` cost a whole order's serialising as much again as everything else
    /// in it, and `write!` with a `String` per amount still a tenth.
    fn write_amount<'b>(&self, buf: &'b mut [u8; AMOUNT_MAX]) -> &'b str {
        let exp = self.currency.exponent() as usize;
        let mut n = self.minor.unsigned_abs();
        let (mut at, mut written) = (buf.len(), 0);
        loop {
            if written == exp && exp > 0 {
                at -= 1;
                buf[at] = b'.';
            }
            at -= 1;
            buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            written += 1;
            if n == 0 && written > exp {
                break;
            }
        }
        if self.minor < 0 {
            at -= 1;
            buf[at] = b'-';
        }
        // Digits, a point and a sign: ASCII.
        std::str::from_utf8(&buf[at..]).unwrap_or_default()
    }
}

/// Room for any amount: a sign, 19 digits of an `i64`, a point, and the zeros of ISO 4217's
/// largest exponent (4) in front of a small one.
const AMOUNT_MAX: usize = 32;

fn parse_amount(s: &str, currency: Currency, field: impl fmt::Display + Copy) -> Result<i64, FieldError> {
    let bad = |detail: &str| FieldError::new("invalid_amount", field, format!("{field} {detail}"));
    if s.starts_with('-') {
        return Err(FieldError::new("negative_amount", field, format!("{field} must not be negative")));
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("must be a decimal string such as \"249.90\""));
    }
    if s.contains('.') && frac.is_empty() {
        return Err(bad("must have digits after the decimal point"));
    }
    let exp = currency.exponent();
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > exp as usize {
        return Err(FieldError::new(
            "too_many_decimals",
            field,
            format!("{field} has more than {exp} decimals for {currency}"),
        ));
    }
    let d = Decimal::from_str(s).map_err(|_| bad("is not a number"))?;
    if d > Decimal::from(MAX_MAJOR) {
        return Err(FieldError::new("amount_too_large", field, format!("{field} exceeds {MAX_MAJOR}")));
    }
    let scaled = d * Decimal::from(10i64.pow(exp));
    i64::try_from(scaled.trunc()).map_err(|_| bad("is out of range"))
}

/// Wire form `{"amount": "249.90", "currency": "EUR"}`.
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", self.write_amount(&mut [0; AMOUNT_MAX]))?;
        st.serialize_field("currency", self.currency.code())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            amount: String,
            currency: String,
        }
        let w = Wire::deserialize(d)?;
        Money::parse(&w.amount, &w.currency, "money").map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

/// An amount in minor units as people read it, `249.90 EUR` (the currency's own decimals); an
/// unknown currency shows the minor units as they are.
pub fn display(minor: i64, currency: &str) -> String {
    match Currency::parse(currency, "currency") {
        Ok(c) => format!("{} {currency}", Money::new(minor, c).amount_string()),
        Err(_) => format!("{minor} {currency}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The integer formatting writes what formatting the `Decimal` wrote.
        #[test]
        fn amount_string_matches_decimal_formatting(minor in any::<i64>(), code in prop::sample::select(vec!["EUR", "JPY", "BHD", "CLF"])) {
            let m = Money::new(minor, Currency::parse(code, "c").unwrap());
            let exp = m.currency.exponent() as usize;
            prop_assert_eq!(m.amount_string(), format!("{:.*}", exp, m.amount()));
        }
    }

    #[test]
    fn parses_exact_decimals() {
        let m = Money::parse("249.90", "EUR", "total").unwrap();
        assert_eq!(m.minor, 24990);
        assert_eq!(m.amount_string(), "249.90");
        assert_eq!(Money::parse("5", "EUR", "total").unwrap().minor, 500);
        assert_eq!(Money::parse("1200", "JPY", "total").unwrap().minor, 1200);
        assert_eq!(Money::parse("1.234", "BHD", "total").unwrap().minor, 1234);
        assert_eq!(Money::parse("1.50", "JPY", "t").unwrap_err().code, "too_many_decimals");
        assert_eq!(Money::parse("1.500", "EUR", "t").unwrap().minor, 150);
    }

    #[test]
    fn rejects_bad_amounts_naming_the_field() {
        let cases = [
            ("-1.00", "negative_amount"),
            ("abc", "invalid_amount"),
            ("1e5", "invalid_amount"),
            ("", "invalid_amount"),
            ("1.", "invalid_amount"),
            (".5", "invalid_amount"),
            ("1,00", "invalid_amount"),
            (" 1", "invalid_amount"),
            ("NaN", "invalid_amount"),
            ("0.001", "too_many_decimals"),
            ("99999999999999999999", "amount_too_large"),
        ];
        for (amount, code) in cases {
            let e = Money::parse(amount, "EUR", "items[0].unit_price").unwrap_err();
            assert_eq!(e.code, code, "{amount}");
            assert_eq!(e.field, "items[0].unit_price.amount");
        }
        let e = Money::parse("1.00", "EUX", "total").unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("unknown_currency", "total.currency"));
        assert_eq!(Money::parse("1.00", "eur", "total").unwrap_err().code, "unknown_currency");
    }

    proptest! {
        #[test]
        fn round_trips_through_the_wire(minor in 0i64..100_000_000_000) {
            let m = Money::new(minor, Currency::EUR);
            let json = serde_json::to_string(&m).unwrap();
            let back: Money = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, m);
        }
    }
}
