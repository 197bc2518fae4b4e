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
    /// `field` is a path as a string or as lazy [`Sub`]/[`At`] values, written out here.
    pub fn new(code: &'static str, field: impl fmt::Display, detail: impl Into<String>) -> Self {
        Self { code, field: field.to_string(), detail: detail.into() }
    }

    pub fn missing(field: impl fmt::Display) -> Self {
        let field = field.to_string();
        let detail = format!("{field} is missing");
        Self { code: "missing_field", field, detail }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.field, self.code, self.detail)
    }
}

impl std::error::Error for FieldError {}

/// `parent.name`: a field path written out only when an error names it. Parsing a valid order
/// passes dozens of paths (`items[3].unit_price.amount`) to checks that nearly always succeed;
/// formatting each up front cost about as much as the checks. Parsers take any
/// `impl Display + Copy` as their field, so a plain `&str` works as well.
#[derive(Debug, Clone, Copy)]
pub struct Sub<P, N>(pub P, pub N);

impl<P: fmt::Display, N: fmt::Display> fmt::Display for Sub<P, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// `parent[index]`, written out only when an error names it (see [`Sub`]).
#[derive(Debug, Clone, Copy)]
pub struct At<P>(pub P, pub usize);

impl<P: fmt::Display> fmt::Display for At<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}
