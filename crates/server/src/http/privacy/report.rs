//! The access package as a readable report (Art. 15(3)): the same content as the JSON package,
//! laid out for a person to read or print: what Art. 15(1) asks (purposes, recipients, retention,
//! source, automated decisions) and then each section's records as field lists.

use crate::http::error::PageResult;
use crate::http::extract::Page;
use crate::http::state::St;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use riskdesk_service::{PrivacyIntake, PrivacyWorker};
use serde_json::Value;

/// Section keys of the package and their headings, in the report's order.
const SECTIONS: &[(&str, &str)] = &[
    ("customer", "Your account"),
    ("orders", "Your orders, the decisions on them and their reasons"),
    ("events", "Events about your account and orders"),
    ("labels", "Fraud and legitimate labels"),
    ("cases", "Cases about you and their notes"),
    ("list_entries", "Block and allow list entries"),
    ("disputes", "Disputes and chargebacks"),
    ("handlings", "Customer service contacts"),
    ("access_log", "When your data was consulted, and why"),
    ("restricted", "Data kept for a legal duty, restricted"),
];

/// One record as `field: value` lines (nested fields by dotted path; long lists shortened).
fn lines(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

fn walk(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                walk(&p, x, out);
            }
        }
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            if !a.is_empty() {
                let items: Vec<String> = a.iter().map(scalar).collect();
                out.push((path.to_owned(), items.join(", ")));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(&format!("{path}[{}]", i + 1), x, out);
            }
        }
        Value::Null => {}
        x => out.push((path.to_owned(), scalar(x))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        x => x.to_string(),
    }
}

struct Section {
    title: &'static str,
    records: Vec<Vec<(String, String)>>,
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy/report.html")]
struct ReportPage {
    /// Request, customer, when compiled, controller, source, automated decisions, the access
    /// log's note: the package's top-level texts by name.
    head: std::collections::BTreeMap<&'static str, String>,
    purposes: Vec<String>,
    recipients: Vec<String>,
    retention: Vec<(String, String)>,
    sections: Vec<Section>,
}

pub(super) async fn report(State(st): St, Page { cap, .. }: Page<PrivacyWorker>, Path(id): Path<String>) -> PageResult<impl IntoResponse> {
    let intake = PrivacyIntake::local(cap.actor().clone());
    let p = st.service.privacy_export(&intake, &id).await.map_err(super::web::not_found)?;
    let texts = |k: &str| -> Vec<String> { p[k].as_array().into_iter().flatten().map(scalar).collect() };
    let head = ["request_id", "customer_id", "generated_at", "controller", "source", "automated_decisions", "access_log_note"]
        .into_iter()
        .map(|k| (k, p.get(k).map(scalar).unwrap_or_default()))
        .collect();
    let retention = p["retention"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (scalar(&r["records"]), scalar(&r["basis"])))
        .collect();
    let sections = SECTIONS
        .iter()
        .map(|(key, title)| Section { title, records: p["data"][key].as_array().into_iter().flatten().map(lines).collect() })
        .collect();
    Ok(ReportPage { head, purposes: texts("purposes"), recipients: texts("recipients"), retention, sections })
}
