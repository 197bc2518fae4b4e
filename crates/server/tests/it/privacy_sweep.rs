//! The retention sweep on both backends: orders past their class's period lose their personal
//! values (stored packed again on SQLite), a customer with an open fraud case is held, recent
//! orders are untouched, and the run is counted and audited.

use crate::common::*;
use axum::http::StatusCode;
use riskdesk_service::audit::Actor;
use riskdesk_service::{PrivacyViewer, PrivacyWorker};
use riskdesk_store::conformance::order_json;
use serde_json::json;

fn order(id: &str, customer: &str, placed_at: Option<&str>) -> serde_json::Value {
    let mut o = order_json(id, customer, 1);
    if let Some(at) = placed_at {
        o["placed_at"] = json!(at);
    }
    o["customer"]["email"] = json!(format!("{}@sweep.example.org", id.to_lowercase()));
    o["customer"]["name"] = json!("Sven Sweeper");
    o["shipping_address"] =
        json!({"name": "Sven Sweeper", "line1": "Altweg 1", "postal_code": "10115", "city": "Berlin", "country": "DE"});
    o
}

both_backends!(a_sweep_anonymises_expired_orders_and_honours_holds, |app: TestApp| async move {
    // Commercial letters are kept six years from the end of their year: 2017 is past.
    for (id, customer, at) in [
        ("OLD-1", "C-OLD", Some("2017-03-01T10:00:00Z")),
        ("OLD-2", "C-OLD", Some("2017-09-01T10:00:00Z")),
        ("OLD-H", "C-HELD", Some("2017-05-01T10:00:00Z")),
        ("NEW-1", "C-NEW", None),
    ] {
        let (s, r) = app.post("/api/v1/orders", &order(id, customer, at)).await;
        assert_eq!(s, StatusCode::OK, "{id}: {r}");
    }
    let cap = riskdesk_service::CaseOpener::local(Actor::cli());
    let open = riskdesk_service::cases::OpenCase {
        kind: "fraud_investigation".into(),
        title: "Suspected reshipper".into(),
        customer_id: Some("C-HELD".into()),
        ..Default::default()
    };
    app.service.open_case(&cap, open).await.unwrap();

    let job = app.service.start_sweep(&PrivacyWorker::local(Actor::cli())).await.unwrap();
    app.service.run_privacy_jobs().await.unwrap();
    let d = app.service.privacy_dashboard(&PrivacyViewer::local(Actor::cli())).await.unwrap();
    let run = d.sweeps.iter().find(|j| j.job_id == job).unwrap();
    assert_eq!((run.status.as_str(), run.done_rows), ("done", 2), "two expired orders of a customer not held");

    for (id, kept) in [("OLD-1", false), ("OLD-2", false), ("OLD-H", true), ("NEW-1", true)] {
        let (s, o) = app.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{id} is still readable: {o}");
        let text = o.to_string();
        assert_eq!(text.contains("Sven Sweeper"), kept, "{id}: {text}");
        assert_eq!(text.contains("sweep.example.org"), kept, "{id}: {text}");
        assert_eq!(o["order"]["order_id"], id, "the order itself stays: {o}");
    }
    // A second run finds nothing left to change.
    app.service.start_sweep(&PrivacyWorker::local(Actor::cli())).await.unwrap();
    app.service.run_privacy_jobs().await.unwrap();
    let d = app.service.privacy_dashboard(&PrivacyViewer::local(Actor::cli())).await.unwrap();
    assert_eq!(d.sweeps[0].done_rows, 0);
    let f = riskdesk_store::audit::AuditFilter {
        action: Some("privacy.sweep.done".into()),
        limit: 10,
        ..Default::default()
    };
    let runs = app.service.audit_records(&riskdesk_service::access::local::audit_reader(), &f).await.unwrap();
    assert_eq!(runs.len(), 2, "each run is audited");
});
