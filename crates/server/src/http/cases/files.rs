//! Attachments over both surfaces: the API takes the raw file (`?name=`), the page a multipart
//! form; downloads are served as attachments that the browser neither renders nor sniffs.

use crate::http::error::{ApiError, ApiResult, PageError, PageResult};
use crate::http::extract::{ApiQuery, Api, Page, Signed};
use crate::http::openapi::{ErrorOut, FileBody};
use crate::http::session::{csrf_ok, urlencode};
use crate::http::state::{AppState, St};
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use riskdesk_domain::cases::attachment::MAX_BYTES;
use riskdesk_service::cases::attachments::Attachment;
use riskdesk_service::{CaseViewer, CaseWorker};
use serde::Deserialize;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(paths(attach, download))]
pub struct Doc;

pub fn api() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cases/{id}/attachments", post(attach))
        .route("/cases/{id}/attachments/{att}", get(download))
}

pub fn web() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cases/{id}/attachments", post(upload))
        .route("/cases/{id}/attachments/{att}", get(page_download))
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("file: is larger than {} MiB", MAX_BYTES / 1024 / 1024))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NameQuery {
    /// The file's name (a path is reduced to its last part): 1 to 200 characters, not starting
    /// with a dot, ending in `.pdf`, `.png`, `.jpg`, `.jpeg`, `.txt`, `.log`, `.csv` or `.eml`
    /// (any letter case), the type the content is.
    #[param(min_length = 1)]
    name: String,
}

/// Attach a file (the request body, 1 byte to 5 MiB): PDF, PNG, JPEG or UTF-8 text without NUL,
/// its type read from its content, which must be the type its name says (422 naming `file`
/// otherwise).
#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", tag = "cases", params(("id" = String, Path), NameQuery),
    request_body(content = FileBody, content_type = "application/octet-stream"),
    responses((status = 201, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 413, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn attach(State(st): St, Api(cap, _): Api<CaseWorker>, Path(id): Path<String>, ApiQuery(q): ApiQuery<NameQuery>, body: Body) -> ApiResult<Response> {
    let bytes = axum::body::to_bytes(body, MAX_BYTES).await.map_err(|_| too_large())?;
    let a = st.service.attach_to_case(&cap, &id, &q.name, bytes.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// Download an attachment (the read is audited).
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{att}", tag = "cases", params(("id" = String, Path), ("att" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = FileBody), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn download(State(st): St, Api(cap, _): Api<CaseViewer>, Path((id, att)): Path<(String, String)>) -> ApiResult<Response> {
    Ok(file(st.service.case_attachment(&cap, &id, &att).await?))
}

/// The file as a download: never rendered inline, never sniffed, sandboxed if opened.
fn file(a: Attachment) -> Response {
    let ascii: String = a.name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", urlencode(&a.name));
    let ct = if a.content_type.starts_with("text/") || a.content_type == "message/rfc822" {
        format!("{}; charset=utf-8", a.content_type)
    } else {
        a.content_type.clone()
    };
    let mut r = a.data.into_response();
    let h = r.headers_mut();
    for (k, v) in [
        (header::CONTENT_TYPE, ct),
        (header::CONTENT_DISPOSITION, disposition),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        (header::CONTENT_SECURITY_POLICY, "sandbox".into()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    r
}

async fn page_download(State(st): St, Page { cap, .. }: Page<CaseViewer>, Path((id, att)): Path<(String, String)>) -> PageResult<Response> {
    Ok(file(st.service.case_attachment(&cap, &id, &att).await?))
}

/// The upload form: a multipart body with `csrf` first, then `file`.
async fn upload(State(st): St, Signed(who): Signed, headers: HeaderMap, Path(id): Path<String>, mut form: Multipart) -> PageResult<Response> {
    let mut csrf = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = form.next_field().await.map_err(|_| PageError::bad("file: the upload was cut short"))? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let mut data = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| PageError::bad("file: the upload was cut short"))? {
                    if data.len() + chunk.len() > MAX_BYTES {
                        return Err(PageError(too_large()));
                    }
                    data.extend_from_slice(&chunk);
                }
                file = Some((name, data));
            }
            _ => {}
        }
    }
    if !csrf_ok(&who, &headers, csrf.as_deref()) {
        return Err(PageError(ApiError::new(StatusCode::FORBIDDEN, "csrf", "The form expired or did not come from this site; reload the page.")));
    }
    let cap = who.grant::<CaseWorker>().ok_or_else(PageError::forbidden)?;
    let (name, data) = file.ok_or_else(|| PageError::bad("file: choose a file"))?;
    st.service.attach_to_case(&cap, &id, &name, data).await?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}
