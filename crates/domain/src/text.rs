//! Free text from clients (names, address lines, user agents): printable Unicode is kept
//! verbatim — names contain apostrophes, ampersands and hyphens, so SQL-looking text is stored
//! as it is (storage binds every value, so it is inert). Refused are control characters and
//! invisible direction overrides, which only ever serve to deceive a reader, and markup tags
//! (`<script>`, `<img …>`), which no name or address contains; the UI escapes output anyway.
//! The length limit counts every character sent, white space around the text included.

use crate::FieldError;

/// Checks a free-text value and returns it trimmed; `None` for an empty string.
pub fn clean(
    value: &str,
    field: impl std::fmt::Display + Copy,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    checked(value, field, max_chars).map(|t| t.map(str::to_owned))
}

/// As [`clean`], keeping the string it is given when there is nothing to trim (nearly always),
/// instead of copying it.
pub fn clean_owned(
    value: String,
    field: impl std::fmt::Display + Copy,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    Ok(match checked(&value, field, max_chars)? {
        Some(t) if t.len() == value.len() => Some(value),
        t => t.map(str::to_owned),
    })
}

/// The checks of [`clean`]: the trimmed value, `None` when empty.
fn checked(value: &str, field: impl std::fmt::Display + Copy, max_chars: usize) -> Result<Option<&str>, FieldError> {
    if let Some(c) = value.chars().find(|c| is_forbidden(*c)) {
        return Err(FieldError::new(
            "invalid_characters",
            field,
            format!("{field} contains the forbidden character U+{:04X}", c as u32),
        ));
    }
    if has_markup(value) {
        return Err(FieldError::new("markup_not_allowed", field, format!("{field} must not contain markup tags")));
    }
    let trimmed = value.trim();
    // Every character sent counts, as a schema's `maxLength` counts them.
    if value.chars().count() > max_chars {
        return Err(FieldError::new("too_long", field, format!("{field} is longer than {max_chars} characters")));
    }
    Ok((!trimmed.is_empty()).then_some(trimmed))
}

/// A `<` that opens a tag, comment or declaration: `<b`, `</`, `<!`, `<?`.
fn has_markup(s: &str) -> bool {
    s.as_bytes().windows(2).any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!' | b'?')))
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
    fn keeps_sql_looking_text_verbatim_and_refuses_markup() {
        let v = clean("Robert'); DROP TABLE orders;-- O'Brien & Söhne a < b", "name", 200).unwrap();
        assert_eq!(v.as_deref(), Some("Robert'); DROP TABLE orders;-- O'Brien & Söhne a < b"));
        for bad in ["<script>alert(1)</script>", "x <img src=x onerror=alert(1)>", "</b>", "<!-- c -->", "<?php"] {
            assert_eq!(clean(bad, "customer.name", 200).unwrap_err().code, "markup_not_allowed", "{bad}");
        }
        assert!(clean("I <3 shoes", "n", 200).is_ok());
    }

    #[test]
    fn refuses_control_and_bidi_characters() {
        assert_eq!(clean("a\u{0}b", "name", 10).unwrap_err().code, "invalid_characters");
        assert_eq!(clean("a\nb", "name", 10).unwrap_err().code, "invalid_characters");
        assert_eq!(clean("abc\u{202E}fed", "name", 10).unwrap_err().code, "invalid_characters");
    }

    #[test]
    fn the_owned_form_agrees_with_the_borrowed_one() {
        for v in ["x", "  x ", "", "   ", "a\u{0}b", "<b>", "Straße 1", &"é".repeat(11)] {
            assert_eq!(clean_owned(v.to_owned(), "f", 10), clean(v, "f", 10), "{v:?}");
        }
    }

    #[test]
    fn trims_and_limits_length() {
        assert_eq!(clean("  x ", "f", 10).unwrap().as_deref(), Some("x"));
        assert_eq!(clean("   ", "f", 10).unwrap(), None);
        assert_eq!(clean(&"é".repeat(11), "f", 10).unwrap_err().code, "too_long");
    }
}
