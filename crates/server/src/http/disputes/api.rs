//! Disputes over the API: the queue and one dispute (with checklist and CE 3.0 candidates),
//! evidence by hand, the pack (JSON and PDF), submitting and accepting, report imports,
//! settled volumes, scheme ratios, refund claims and return-abuse signals.

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Api, Body};
use crate::http::openapi::ErrorOut;
use crate::http::state::{AppState, St};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use riskdesk_service::disputes::DisputeQuery;
use riskdesk_service::{DisputeImporter, DisputeViewer, DisputeWorker};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, one, evidence, pack, pack_pdf, submit, accept, import, schemes, volume, claims, returns),
    components(schemas(EvidenceIn, SubmitIn, AcceptIn, VolumeIn))
)]
pub struct Doc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/disputes", get(list))
        .route("/disputes/import", post(import))
        .route("/disputes/schemes", get(schemes))
        .route("/disputes/volumes/{month}/{network}", put(volume))
        .route("/disputes/{id}", get(one))
        .route("/disputes/{id}/evidence", post(evidence))
        .route("/disputes/{id}/pack", get(pack))
        .route("/disputes/{id}/pack.pdf", get(pack_pdf))
        .route("/disputes/{id}/submit", post(submit))
        .route("/disputes/{id}/accept", post(accept))
        .route("/refund-claims", get(claims))
        .route("/return-abuse", get(returns))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// One order's disputes; empty means any.
    order_id: Option<String>,
    /// One customer's disputes; empty means any.
    customer_id: Option<String>,
    /// `open` (needing a response or under review), or statuses separated by commas:
    /// `needs_response`, `under_review`, `won`, `lost`, `accepted`, `expired`; empty means any.
    #[param(pattern = "^(open|((needs_response|under_review|won|lost|accepted|expired)(,(needs_response|under_review|won|lost|accepted|expired))*))?$")]
    status: Option<String>,
    /// `stripe` | `adyen` | `import`; empty means any.
    #[param(pattern = "^(|stripe|adyen|import)$")]
    provider: Option<String>,
    /// `fraud` | `not_received` | `not_as_described` | `credit_not_processed` | `duplicate` |
    /// `other`; empty means any.
    #[param(pattern = "^(|fraud|not_received|not_as_described|credit_not_processed|duplicate|other)$")]
    family: Option<String>,
    /// 1-500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Disputes to skip (below 0: none).
    offset: Option<i64>,
}

/// Disputes by the provider's deadline (`due_by`), soonest first; each with `dispute_id`,
/// `provider`, `order_id`, `stage`, `status`, `reason_family`, `amount`, `due_by`, `urgency`.
#[utoipa::path(get, path = "/api/v1/disputes", tag = "disputes", params(ListQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn list(State(st): St, Api(cap, _): Api<DisputeViewer>, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<Response> {
    let q = DisputeQuery {
        order_id: q.order_id,
        customer_id: q.customer_id,
        status: q.status,
        provider: q.provider,
        family: q.family,
        limit: q.limit,
        offset: q.offset,
    };
    let (disputes, total) = st.service.disputes(&cap, &q).await?;
    Ok(Json(json!({"disputes": disputes, "total": total})).into_response())
}

/// One dispute: its lifecycle, `checklist` (each item `automatic`, `manual` or `missing`),
/// `ce3_candidates` (with why each does or does not qualify), `refunded_minor`, the provider
/// events (raw and normalised) and what may be done now.
#[utoipa::path(get, path = "/api/v1/disputes/{dispute_id}", tag = "disputes", params(("dispute_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn one(State(st): St, Api(cap, caller): Api<DisputeViewer>, Path(id): Path<String>) -> ApiResult<Response> {
    let raw = caller.grant::<DisputeWorker>().is_some();
    Ok(Json(st.service.dispute(&cap, &id, raw).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceIn {
    /// The code of an item of this dispute's checklist (another answers 422).
    item: String,
    /// What satisfies it (some text besides white space, at most 2,000 characters); `null`
    /// takes a hand-satisfied item back.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
    note: Option<String>,
}

/// Satisfy a checklist item by hand (or take that back).
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/evidence", tag = "disputes", params(("dispute_id" = String, Path)), request_body = EvidenceIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn evidence(State(st): St, Api(cap, _): Api<DisputeWorker>, Path(id): Path<String>, Body(b): Body<EvidenceIn>) -> ApiResult<Response> {
    st.service.mark_dispute_evidence(&cap, &id, &b.item, b.note.as_deref()).await?;
    Ok(Json(json!({"dispute_id": id, "item": b.item, "satisfied": b.note.is_some()})).into_response())
}

/// The evidence pack: the provider's evidence fields as JSON (personal data in clear, for the
/// provider; the read is audited).
#[utoipa::path(get, path = "/api/v1/disputes/{dispute_id}/pack", tag = "disputes", params(("dispute_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn pack(State(st): St, Api(cap, _): Api<DisputeWorker>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(st.service.dispute_pack(&cap, &id).await?.json).into_response())
}

/// The evidence pack as a PDF.
#[utoipa::path(get, path = "/api/v1/disputes/{dispute_id}/pack.pdf", tag = "disputes", params(("dispute_id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = crate::http::openapi::FileBody), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut),
              (status = 404, body = ErrorOut)),
    security(("api_key" = [])))]
async fn pack_pdf(State(st): St, Api(cap, _): Api<DisputeWorker>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(pdf_response(&id, st.service.dispute_pack(&cap, &id).await?.pdf))
}

pub(super) fn pdf_response(id: &str, pdf: Vec<u8>) -> Response {
    let name = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"evidence-{name}.pdf\"")),
        ],
        pdf,
    )
        .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitIn {
    /// What the defence says, for the record (at most 2,000 characters).
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: String,
}

/// Submit the defence. At or above `disputes.submit_four_eyes_from` it becomes a proposal for a
/// second person (`{"outcome": "pending", "proposal_id"}`); a machine key cannot propose.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/submit", tag = "disputes", params(("dispute_id" = String, Path)), request_body = SubmitIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn submit(State(st): St, Api(cap, _): Api<DisputeWorker>, Path(id): Path<String>, Body(b): Body<SubmitIn>) -> ApiResult<Response> {
    Ok(Json(st.service.submit_dispute(&cap, &id, &b.note).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptIn {
    /// Why the loss is accepted: some text besides white space, at most 2,000 characters.
    #[schema(pattern = "[^\\s\\x00-\\x1f\\x7f-\\x9f]", max_length = 2000)]
    reason: String,
}

/// Accept the loss. Refused (409) when the order was refunded already: the refund is the
/// evidence.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/accept", tag = "disputes", params(("dispute_id" = String, Path)), request_body = AcceptIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 404, body = ErrorOut),
              (status = 409, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn accept(State(st): St, Api(cap, _): Api<DisputeWorker>, Path(id): Path<String>, Body(b): Body<AcceptIn>) -> ApiResult<Response> {
    Ok(Json(st.service.accept_dispute(&cap, &id, &b.reason).await?).into_response())
}

/// Import a provider's dispute report: CSV with a header of `dispute_ref`, `payment_ref`,
/// `order_id`, `stage`, `status`, `reason_code`, `network`, `amount`, `currency`, `due_by`,
/// `opened_at`. One bad line stores nothing and is named.
#[utoipa::path(post, path = "/api/v1/disputes/import", tag = "disputes", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 413, body = ErrorOut),
              (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn import(State(st): St, Api(cap, _): Api<DisputeImporter>, body: Bytes) -> ApiResult<Response> {
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("body", "the report must be UTF-8 text"))?;
    Ok(Json(st.service.import_disputes_csv(&cap, text).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthsQuery {
    /// Months back, 1-36 (default 13).
    #[param(minimum = 1, maximum = 36)]
    months: Option<u32>,
}

/// Visa VAMP and Mastercard ECP per month as the programmes count them, the running month's
/// forecast with its 90 % interval, and alerts.
#[utoipa::path(get, path = "/api/v1/disputes/schemes", tag = "disputes", params(MonthsQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn schemes(State(st): St, Api(cap, _): Api<DisputeViewer>, ApiQuery(q): ApiQuery<MonthsQuery>) -> ApiResult<Response> {
    Ok(Json(st.service.scheme_ratios(&cap, q.months.unwrap_or(13)).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeIn {
    /// Settled transactions of the month, from the provider's settlement report.
    #[serde(deserialize_with = "crate::http::wire::int")]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    settled: i64,
}

/// A month and a card network.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct VolumeParams {
    /// `YYYY-MM`, from 2000 on.
    #[param(pattern = "^[2-9][0-9]{3}-(0[1-9]|1[0-2])$")]
    month: String,
    /// `visa`, `mastercard` or `amex`.
    #[param(pattern = "^(visa|mastercard|amex)$")]
    network: String,
}

/// Set a month's settled volume of a network from the provider's report (it replaces the
/// count from riskdesk's orders).
#[utoipa::path(put, path = "/api/v1/disputes/volumes/{month}/{network}", tag = "disputes",
    params(VolumeParams), request_body = VolumeIn,
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn volume(State(st): St, Api(cap, _): Api<DisputeImporter>, Path((month, network)): Path<(String, String)>, Body(b): Body<VolumeIn>) -> ApiResult<Response> {
    st.service.set_scheme_volume(&cap, &month, &network, b.settled).await?;
    Ok(Json(json!({"month": month, "network": network, "settled": b.settled, "source": "report"})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Days back, 1-730.
    #[param(minimum = 1, maximum = 730)]
    days: Option<i64>,
}

/// Refund claims with the carrier's scans and the warehouse's receipt side by side.
#[utoipa::path(get, path = "/api/v1/refund-claims", tag = "disputes", params(DaysQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn claims(State(st): St, Api(cap, _): Api<DisputeViewer>, ApiQuery(q): ApiQuery<DaysQuery>) -> ApiResult<Response> {
    Ok(Json(json!({"claims": st.service.refund_claims(&cap, q.days.unwrap_or(90)).await?})).into_response())
}

/// Customers with return-abuse signals (serial returning, end-of-window returns, worn items,
/// repeated claims, a refund and a chargeback on one order).
#[utoipa::path(get, path = "/api/v1/return-abuse", tag = "disputes", params(DaysQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorOut), (status = 403, body = ErrorOut), (status = 422, body = ErrorOut)),
    security(("api_key" = [])))]
async fn returns(State(st): St, Api(cap, _): Api<DisputeViewer>, ApiQuery(q): ApiQuery<DaysQuery>) -> ApiResult<Response> {
    Ok(Json(json!({"customers": st.service.return_abuse(&cap, q.days.unwrap_or(180)).await?})).into_response())
}
