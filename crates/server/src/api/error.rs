//! One error shape for the whole API: `{"code", "detail", "field"}` with a stable code.
//! Server faults are opaque to the caller and logged with their cause.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use riskdesk_domain::FieldError;
use riskdesk_service::ServiceError;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub field: Option<String>,
    /// Every problem, when there are several (rule-set validation, list imports).
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
        Self { status, code: e.code, detail: e.detail, field: (!e.field.is_empty()).then_some(e.field), errors: None }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid API key is required (Authorization: Bearer …)")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "this API key's scopes do not allow this operation")
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
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            ServiceError::NotFound(what) => Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found")),
            ServiceError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Invalid(m) => Self::new(unprocessable, "invalid", m),
            ServiceError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::Store(riskdesk_store::StoreError::Conflict(m)) => {
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
