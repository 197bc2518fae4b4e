//! Free text from clients (names, address lines, user agents): any printable Unicode is kept
//! verbatim — names contain apostrophes and ampersands, and SQL or HTML in them is harmless
//! because storage binds parameters and the UI escapes output. What is refused are control
//! characters and invisible direction overrides, which only ever serve to deceive a reader.

use crate::FieldError;

/// Checks a free-text value and returns it trimmed; `None` for an empty string.
pub fn clean(value: &str, field: &str, max_chars: usize) -> Result<Option<String>, FieldError> {
    if let Some(c) = value.chars().find(|c| is_forbidden(*c)) {
        return Err(FieldError::new(
            "invalid_characters",
            field,
            format!("{field} contains the forbidden character U+{:04X}", c as u32),
        ));
    }
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new("too_long", field, format!("{field} is longer than {max_chars} characters")));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// Like [`clean`], but an empty value is an error.
pub fn required(value: &str, field: &str, max_chars: usize) -> Result<String, FieldError> {
    clean(value, field, max_chars)?.ok_or_else(|| FieldError::new("empty", field, format!("{field} must not be empty")))
}

fn is_forbidden(c: char) -> bool {
    c.is_control()
        // bidirectional overrides and isolates (the "Trojan Source" characters)
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || c == '\u{FEFF}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sql_and_html_verbatim() {
        let v = clean("Robert'); DROP TABLE orders;-- <b>x</b>", "name", 200).unwrap();
        assert_eq!(v.as_deref(), Some("Robert'); DROP TABLE orders;-- <b>x</b>"));
    }

    #[test]
    fn refuses_control_and_bidi_characters() {
        assert_eq!(clean("a\u{0}b", "name", 10).unwrap_err().code, "invalid_characters");
        assert_eq!(clean("a\nb", "name", 10).unwrap_err().code, "invalid_characters");
        assert_eq!(clean("abc\u{202E}fed", "name", 10).unwrap_err().code, "invalid_characters");
    }

    #[test]
    fn trims_and_limits_length() {
        assert_eq!(clean("  x ", "f", 10).unwrap().as_deref(), Some("x"));
        assert_eq!(clean("   ", "f", 10).unwrap(), None);
        assert_eq!(clean(&"é".repeat(11), "f", 10).unwrap_err().code, "too_long");
        assert_eq!(required(" ", "f", 10).unwrap_err().code, "empty");
    }
}
