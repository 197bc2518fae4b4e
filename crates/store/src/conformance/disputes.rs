//! Disputes: an event stored once per provider key (a repeat stores nothing, not even the
//! dispute's change), compare-and-set updates, the queue by deadline (none last), the scheme
//! months counting a payment once, volumes replaced, and orders found by payment reference.

use super::*;
use crate::Store;
use crate::changes::{DisputeChange, Effect};
use crate::disputes::{DisputeEventRow, DisputeFilter, DisputeRecord, SchemeVolume};
use crate::{StoreError, StoreResult};

fn dispute(id: &str, provider_ref: &str, due_hours: Option<i64>) -> DisputeRecord {
    DisputeRecord {
        dispute_id: id.into(),
        provider: "stripe".into(),
        provider_ref: provider_ref.into(),
        payment_ref: Some(format!("pay-{provider_ref}")),
        order_id: None,
        customer_id: None,
        case_id: None,
        stage: "chargeback".into(),
        status: "needs_response".into(),
        reason_code: Some("10.4".into()),
        reason_family: "fraud".into(),
        network: "visa".into(),
        amount_minor: 24_990,
        currency: "EUR".into(),
        due_by: due_hours.map(|h| t0() + Duration::hours(h)),
        fraud_report: false,
        funds_minor: 0,
        opened_at: t0(),
        month: "2026-06".into(),
        updated_at: t0(),
        closed_at: None,
        warned_at: None,
        escalated_at: None,
        submitted_at: None,
        submitted_by: None,
        version: 1,
    }
}

fn event(dispute_id: &str, key: &str) -> DisputeEventRow {
    DisputeEventRow {
        provider: "stripe".into(),
        dedupe_key: key.into(),
        dispute_id: dispute_id.into(),
        event_type: "charge.dispute.created".into(),
        occurred_at: t0(),
        received_at: t0(),
        normalised: "{}".into(),
        raw: "{\"id\": \"evt\", \"ünïcode\": \"<b>'\"}".into(),
    }
}

async fn ingest(s: &dyn Store, d: &DisputeRecord, key: &str, expected: i64) -> StoreResult<()> {
    let e = Effect::Disputes(DisputeChange::Ingest {
        event: Box::new(event(&d.dispute_id, key)),
        dispute: Box::new(d.clone()),
        expected_version: expected,
    });
    s.commit(&[e], &[], &[0u8; 32]).await
}

pub async fn disputes_store_events_once_and_sort_by_deadline(s: &dyn Store) {
    let a = dispute("dsp_a", "dp_a", Some(48));
    ingest(s, &a, "evt_1", 0).await.expect("first event");
    assert!(s.dispute_event_seen("stripe", "evt_1").await.unwrap());
    // The same key again: a conflict, and the dispute's change in that commit is not kept.
    let changed = DisputeRecord { status: "won".into(), version: 2, ..a.clone() };
    assert!(matches!(ingest(s, &changed, "evt_1", 1).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.dispute("dsp_a").await.unwrap().unwrap().status, "needs_response");
    // A second dispute with the same provider reference: a conflict too.
    assert!(matches!(ingest(s, &dispute("dsp_x", "dp_a", None), "evt_x", 0).await, Err(StoreError::Conflict(_))));
    // Compare-and-set: a stale version is refused.
    let up = |d: &DisputeRecord, v: i64| {
        Effect::Disputes(DisputeChange::Update { dispute: Box::new(d.clone()), expected_version: v })
    };
    let b2 = DisputeRecord { status: "under_review".into(), version: 2, ..a.clone() };
    s.commit(&[up(&b2, 1)], &[], &[0u8; 32]).await.unwrap();
    assert!(matches!(s.commit(&[up(&b2, 1)], &[], &[0u8; 32]).await, Err(StoreError::Conflict(_))));
    // The queue: by deadline, none last; open ones through their index; fraud reports apart.
    ingest(s, &dispute("dsp_b", "dp_b", Some(2)), "evt_2", 0).await.unwrap();
    ingest(s, &dispute("dsp_c", "dp_c", None), "evt_3", 0).await.unwrap();
    ingest(s, &DisputeRecord { fraud_report: true, ..dispute("dsp_f", "dp_f", None) }, "evt_4", 0).await.unwrap();
    let all = DisputeFilter { limit: 10, ..Default::default() };
    let ids: Vec<String> = s.disputes(&all).await.unwrap().into_iter().map(|d| d.dispute_id).collect();
    assert_eq!(ids, ["dsp_b", "dsp_a", "dsp_c"]);
    let open = DisputeFilter {
        statuses: Some(vec!["needs_response".into(), "under_review".into()]),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(s.count_disputes(&open).await.unwrap(), 3);
    let needs = DisputeFilter { statuses: Some(vec!["needs_response".into()]), limit: 10, ..Default::default() };
    assert_eq!(s.count_disputes(&needs).await.unwrap(), 2);
    assert_eq!(
        s.count_disputes(&DisputeFilter { with_fraud_reports: true, limit: 10, ..Default::default() }).await.unwrap(),
        4
    );
    // The watch's selection: needing a response, due before the time, not yet flagged.
    let due: Vec<String> =
        s.disputes_to_watch(t0() + Duration::hours(3), 10).await.unwrap().into_iter().map(|d| d.dispute_id).collect();
    assert!(due.contains(&"dsp_b".to_owned()) && !due.contains(&"dsp_f".to_owned()), "{due:?}");
    // The months: a payment counted once by VAMP, with its fraud report.
    ingest(s, &DisputeRecord { payment_ref: Some("pay-dp_b".into()), ..dispute("dsp_d", "dp_d", None) }, "evt_5", 0)
        .await
        .unwrap();
    let m = s.dispute_months("2026-06", "2026-06").await.unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].disputes, m[0].chargebacks, m[0].vamp_counted), (4, 4, 4), "{m:?}");
    // Volumes: set, then replaced.
    for n in [10, 12] {
        let v = SchemeVolume {
            month: "2026-06".into(),
            network: "visa".into(),
            settled: n,
            source: "report".into(),
            updated_at: t0(),
        };
        s.commit(&[Effect::Disputes(DisputeChange::Volume(v))], &[], &[0u8; 32]).await.unwrap();
    }
    assert_eq!(s.scheme_volumes("2026-01", "2026-12").await.unwrap()[0].settled, 12);
    // Evidence by hand, taken back.
    let ev = |note: Option<&str>| {
        Effect::Disputes(DisputeChange::Evidence {
            dispute_id: "dsp_a".into(),
            item: "receipt".into(),
            note: note.map(str::to_owned),
            by: "user:pat".into(),
            at: t0(),
        })
    };
    s.commit(&[ev(Some("first")), ev(Some("second"))], &[], &[0u8; 32]).await.unwrap();
    assert_eq!(s.dispute_evidence("dsp_a").await.unwrap()[0].note, "second");
    s.commit(&[ev(None)], &[], &[0u8; 32]).await.unwrap();
    assert!(s.dispute_evidence("dsp_a").await.unwrap().is_empty());
    assert_eq!(s.dispute_events("dsp_a").await.unwrap()[0].raw, "{\"id\": \"evt\", \"ünïcode\": \"<b>'\"}");
    // Orders by payment reference, and card orders counted per network.
    let mut o = order_json("O-psp", "C-psp", 0);
    o["payment"]["psp_reference"] = serde_json::json!("pi_777");
    s.insert_orders(&[new_order(&o)]).await.unwrap();
    assert_eq!(
        s.order_by_payment_ref(&["nope".into(), "pi_777".into()]).await.unwrap(),
        Some(("O-psp".into(), "C-psp".into()))
    );
    let by = s.card_orders_by_network(t0() - Duration::days(1), t0() + Duration::days(1)).await.unwrap();
    assert_eq!(by, [("visa".to_owned(), 1)]);
}
