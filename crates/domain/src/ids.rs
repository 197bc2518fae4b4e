//! Identifiers. Shops choose their own order, customer and event ids, so these are validated
//! strings with a conservative character set; riskdesk's own ids are prefixed, time-ordered
//! ULIDs (`key_01J…`) so that a stray id in a log says what it is.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest external id accepted; marketplace order ids are well below this.
pub const MAX_ID_LEN: usize = 128;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '#' | '/' | '@' | '+' | '=')
}

/// Validates an external id: 1..=128 characters of `A-Z a-z 0-9 - _ . : # / @ + =`.
pub fn parse_external_id(value: &str, field: impl std::fmt::Display + Copy) -> Result<String, FieldError> {
    check_external_id(value, field).map(|()| value.to_owned())
}

/// The checks of [`parse_external_id`].
pub fn check_external_id(value: &str, field: impl std::fmt::Display + Copy) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new("empty", field, format!("{field} is empty")));
    }
    if value.len() > MAX_ID_LEN {
        return Err(FieldError::new("too_long", field, format!("{field} is longer than {MAX_ID_LEN} characters")));
    }
    if !value.chars().all(is_id_char) {
        return Err(FieldError::new(
            "invalid_id",
            field,
            format!("{field} may contain only letters, digits and - _ . : # / @ + ="),
        ));
    }
    Ok(())
}

macro_rules! external_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        serialize_as_str!($name, as_str);

        impl $name {
            pub fn parse(value: &str, field: impl std::fmt::Display + Copy) -> Result<Self, FieldError> {
                parse_external_id(value, field).map(Self)
            }
            /// As `parse`, keeping the string it is given.
            pub fn parse_owned(value: String, field: impl std::fmt::Display + Copy) -> Result<Self, FieldError> {
                check_external_id(&value, field).map(|()| Self(value))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(value: String) -> Result<Self, FieldError> {
                parse_external_id(&value, stringify!($name)).map(|_| Self(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

external_id!(
    /// The shop's order id, unique per installation; idempotency key of `POST /orders`.
    OrderId
);
external_id!(
    /// The shop's customer account id.
    CustomerId
);
external_id!(
    /// The sender's event id; idempotency key of `POST /events`.
    EventId
);

/// riskdesk's own id for an API key: `key_` and a ULID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApiKeyId(String);

impl ApiKeyId {
    pub const PREFIX: &'static str = "key_";

    /// Builds the id from a ULID's text, which the caller generates from its clock and randomness.
    pub fn from_ulid(ulid: &str) -> Self {
        Self(format!("{}{}", Self::PREFIX, ulid))
    }

    pub fn parse(value: &str) -> Option<Self> {
        let rest = value.strip_prefix(Self::PREFIX)?;
        (rest.len() == 26 && rest.chars().all(|c| c.is_ascii_alphanumeric())).then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_shop_ids() {
        for id in ["A-1001", "302-1234567-1234567", "#1001", "marketplace:zalando/991", "C_77"] {
            assert!(OrderId::parse(id, "order_id").is_ok(), "{id}");
        }
    }

    #[test]
    fn rejects_markup_sql_and_whitespace() {
        for id in ["<script>", "1'; DROP TABLE orders;--", "a b", "", "ä"] {
            let e = OrderId::parse(id, "order_id").unwrap_err();
            assert_eq!(e.field, "order_id");
        }
        assert_eq!(OrderId::parse(&"x".repeat(129), "order_id").unwrap_err().code, "too_long");
    }

    proptest! {
        #[test]
        fn valid_ids_round_trip(s in "[A-Za-z0-9_.:#/@+=-]{1,128}") {
            let id = CustomerId::parse(&s, "customer_id").unwrap();
            let json = serde_json::to_string(&id).unwrap();
            let back: CustomerId = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, id);
        }
    }
}
