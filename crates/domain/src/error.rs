use std::fmt;

/// A value that failed to parse, with a stable machine-readable `code`, the dotted path of the
/// offending `field` as the client wrote it (`items[3].unit_price.amount`), and a human `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: &'static str,
    pub field: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(code: &'static str, field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { code, field: field.into(), detail: detail.into() }
    }

    pub fn missing(field: impl Into<String>) -> Self {
        let field = field.into();
        let detail = format!("{field} is required");
        Self { code: "missing_field", field, detail }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.field, self.code, self.detail)
    }
}

impl std::error::Error for FieldError {}
