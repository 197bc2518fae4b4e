//! One mapping from the service's errors to HTTP, rendered two ways: JSON for the API
//! (`{"code", "detail", "field", "errors"}` with a stable code) and an HTML page for the web UI.
//! Validation failures carry every problem as `{field, message}`. Server faults are opaque to
//! the caller and logged with their cause.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use riskdesk_domain::FieldError;
use riskdesk_service::ServiceError;
use serde::Serialize;

/// One problem with one field of the input.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// An error as both surfaces report it.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub field: Option<String>,
    /// Every problem, when there are several (rule-set validation, list imports, forms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), field: None, errors: None }
    }

    /// A body that failed to parse: 400 when it is not JSON at all, 422 when a field is wrong.
    pub fn from_field(e: FieldError) -> Self {
        let status =
            if e.code == "malformed_json" { StatusCode::BAD_REQUEST } else { StatusCode::UNPROCESSABLE_ENTITY };
        let field = (!e.field.is_empty()).then_some(e.field);
        let errors = field.as_ref().map(|f| problems(f, &e.detail));
        Self { status, code: e.code, detail: e.detail, field, errors }
    }

    /// 422 naming the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            detail: format!("{field}: {message}"),
            field: Some(field.to_owned()),
            errors: Some(problems(field, &message)),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid API key is required (Authorization: Bearer …)")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "this API key's scopes do not allow this operation")
    }

    /// 403 naming the right the caller lacks.
    pub fn lacks(right: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", format!("this caller may not {right}"))
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the request id identifies it in the logs",
        )
    }

    /// The same error naming the body field `to` where it named `from` (the service's name for
    /// a value the body carries under another name).
    pub fn renaming(mut self, from: &str, to: &str) -> Self {
        if self.field.as_deref() == Some(from) {
            self.field = Some(to.to_owned());
            if let Some(rest) = self.detail.strip_prefix(from) {
                self.detail = format!("{to}{rest}");
            }
            if let Some(serde_json::Value::Array(errors)) = self.errors.as_mut() {
                for e in errors.iter_mut().filter(|e| e["field"] == from) {
                    e["field"] = serde_json::Value::String(to.to_owned());
                }
            }
        }
        self
    }

    /// The problems as a list, for a form to show beside its fields.
    pub fn problems(&self) -> Vec<Problem> {
        self.errors.as_ref().and_then(|v| serde_json::from_value::<Vec<Problem>>(v.clone()).ok()).unwrap_or_else(|| {
            vec![Problem { field: self.field.clone().unwrap_or_default(), message: self.detail.clone() }]
        })
    }
}

fn problems(field: &str, message: &str) -> serde_json::Value {
    serde_json::json!([{"field": field, "message": message}])
}

/// `field: message` as the service words a validation failure; the field when it names one.
fn split_field(m: &str) -> Option<(&str, &str)> {
    let (f, rest) = m.split_once(": ")?;
    let ok = !f.is_empty() && f.len() <= 40 && f.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c));
    ok.then_some((f, rest))
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            ServiceError::NotFound(what) => Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found")),
            ServiceError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Invalid(m) => match split_field(&m) {
                Some((f, rest)) => {
                    let mut err = Self::invalid(f, rest);
                    err.detail = m.clone();
                    err
                }
                None => Self::new(unprocessable, "invalid", m),
            },
            ServiceError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::Unauthenticated(m) => Self::new(StatusCode::UNAUTHORIZED, "bad_signature", m),
            ServiceError::Store(riskdesk_service::StoreError::Conflict(m)) => {
                Self::new(StatusCode::CONFLICT, "conflict", m)
            }
            ServiceError::Rules(errs) => {
                let first = errs.0.first();
                let field = first
                    .map(|e| if e.rule.is_empty() { e.field.clone() } else { format!("rule.{}.{}", e.rule, e.field) });
                Self {
                    status: unprocessable,
                    code: "invalid_rules",
                    detail: errs.to_string(),
                    field,
                    errors: serde_json::to_value(&errs.0).ok(),
                }
            }
            ServiceError::ListLines(lines) => {
                let detail = lines
                    .iter()
                    .take(20)
                    .map(|l| format!("line {}: {}: {}", l.line, l.field, l.message))
                    .collect::<Vec<_>>()
                    .join("\n");
                Self {
                    status: unprocessable,
                    code: "invalid_list_entries",
                    field: lines.first().map(|l| l.field.clone()),
                    detail,
                    errors: serde_json::to_value(&lines).ok(),
                }
            }
            e => {
                tracing::error!(error = %e, "request failed");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut resp = (status, Json(self)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// The same error as a page of the web UI.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl PageError {
    pub fn forbidden() -> Self {
        Self(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Your role does not allow this."))
    }
    pub fn bad(msg: impl Into<String>) -> Self {
        Self(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", msg))
    }
    pub fn not_found() -> Self {
        Self(ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found."))
    }
    pub fn status(&self) -> StatusCode {
        self.0.status
    }
    pub fn detail(&self) -> &str {
        &self.0.detail
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        Self(ApiError::from(e))
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        use askama::Template;
        let e = self.0;
        let message = if e.status == StatusCode::INTERNAL_SERVER_ERROR {
            "Internal error; the request id identifies it in the logs."
        } else {
            &e.detail
        };
        let body = ErrorPage { status: e.status.as_u16(), message }.render().unwrap_or_default();
        (e.status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
pub type PageResult<T> = Result<T, PageError>;
