//! Schemas for the API document that derive cannot write: the code lists a value is checked
//! against, and the shapes of values the intake parses (for `schema_with`).

use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

fn string(nullable: bool) -> ObjectBuilder {
    if nullable {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(Type::String)
    }
}

/// `^(AED|AFN|…)$`: the ISO 4217 codes of currencies with a minor unit.
pub fn currency_pattern() -> String {
    format!("^({})$", crate::money::Currency::codes().join("|"))
}

/// The ISO 3166-1 alpha-2 codes, as an alternation.
fn countries() -> String {
    let mut codes = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let code = String::from_utf8(vec![a, b]).unwrap_or_default();
            if crate::CountryCode::parse(&code, "country").is_ok() {
                codes.push(code);
            }
        }
    }
    codes.join("|")
}

/// An ISO 4217 currency code.
pub fn currency() -> Object {
    string(false).pattern(Some(currency_pattern())).description(Some("An ISO 4217 currency code.")).build()
}

/// An ISO 4217 currency code or null.
pub fn currency_or_null() -> Object {
    string(true).pattern(Some(currency_pattern())).description(Some("An ISO 4217 currency code; null: EUR.")).build()
}

/// An ISO 3166-1 alpha-2 country code, or null.
pub fn country_or_null() -> Object {
    string(true)
        .pattern(Some(format!("^({})$", countries())))
        .description(Some("An ISO 3166-1 alpha-2 country code (upper case)."))
        .build()
}

/// An ISO 3166-1 alpha-2 country code, empty, or null.
pub fn country_or_blank() -> Object {
    string(true)
        .pattern(Some(format!("^(|{})$", countries())))
        .description(Some("An ISO 3166-1 alpha-2 country code (upper case); empty or null: none."))
        .build()
}
