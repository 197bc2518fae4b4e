//! The conformance suite: one story of expectations that every backend must meet, one file per
//! area. Backends run it with [`conformance_tests!`](crate::conformance_tests), each case on a
//! fresh database.

mod approvals;
mod audit;
mod cases;
mod disputes;
mod identity;
mod intake;
mod review;

pub use approvals::*;
pub use audit::*;
pub use cases::*;
pub use disputes::*;
pub use identity::*;
pub use intake::*;
pub use review::*;

use crate::NewOrder;
use chrono::{DateTime, Duration, TimeZone, Utc};
use riskdesk_domain::intake::parse_order_json;
use riskdesk_domain::{Decision, EntityHasher, Order};
use serde_json::{Value, json};

/// Generates one `#[tokio::test]` per conformance case. `$fresh` is an async expression that
/// yields `Option<(store, guard)>`: `None` skips (e.g. no PostgreSQL configured), and the guard
/// is kept alive until the case ends (it may drop the database).
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        // One line per area: the cases of `conformance/<area>.rs`.
        $crate::conformance_tests!(@cases $fresh;
            orders_round_trip, duplicate_orders_change_nothing, duplicates_within_one_batch,
            events_round_trip, events_before_their_order_learn_its_customer, accounts_sharing_entities,
            customer_profile_keeps_latest_snapshot, api_keys_lifecycle, large_batch_counts, settings_keep_the_first_value,
            bulk_load_rebuilds_what_it_drops, hostile_text_is_stored_verbatim, customer_view_lists_orders_newest_first,
            concurrent_writes_all_land, screened_orders_count_the_ones_before_them, history_after_positions,
            orders_for_linking_oldest_first,
            audit_chain_appends_atomically,
            proposals_one_pending_and_compare_and_set,
            review_queue_fills_filters_and_closes_once,
            sessions_and_login_failures, tokens_resolve_with_their_user,
            cases_open_once_update_by_version_and_sort_by_time_left,
            disputes_store_events_once_and_sort_by_deadline,
        );
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                $crate::seal::install($crate::conformance::test_ring());
                let Some((store, _guard)) = $fresh.await else {
                    eprintln!("skipped: backend not configured");
                    return;
                };
                $crate::conformance::$case(&store).await;
            }
        )*
    };
}

/// The key ring tests seal under: one fixed key, the same in every test of a process (the ring
/// is the process's), so that personal fields are sealed throughout the suites.
pub fn test_ring() -> crate::seal::Ring {
    const KEY: [u8; 32] = [0x5e; 32];
    crate::seal::Ring::new(&[], Some(&KEY))
}

pub fn hasher() -> EntityHasher {
    EntityHasher::new(&[7u8; 32])
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).single().unwrap_or_default()
}

/// An intake-v1 order body for tests; `n` varies the ids and the time.
pub fn order_json(order_id: &str, customer_id: &str, minutes_after_t0: i64) -> Value {
    let placed = (t0() + Duration::minutes(minutes_after_t0)).to_rfc3339();
    json!({
        "order_id": order_id, "placed_at": placed, "channel": "webshop",
        "customer": {"customer_id": customer_id, "email": format!("{customer_id}@example.com"),
                     "name": "Anna Beispiel", "created_at": "2025-01-02T08:00:00Z"},
        "total": {"amount": "249.90", "currency": "EUR"},
        "items": [{"sku": "SKU-1", "brand": "Acme", "category": "sneakers", "quantity": 1,
                   "unit_price": {"amount": "249.90", "currency": "EUR"}}],
        "payment": {"method": "card", "card": {"bin": "411111", "last4": "1111", "fingerprint": format!("fp-{customer_id}"), "issuer_country": "DE"}},
        "shipping_address": {"line1": "Torstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "device": {"device_id": format!("dev-{customer_id}"), "ip": "203.0.113.7"}
    })
}

pub fn parse(v: &Value) -> Order {
    parse_order_json(&serde_json::to_vec(v).unwrap_or_default()).unwrap_or_else(|e| panic!("test order invalid: {e}"))
}

pub fn new_order(v: &Value) -> NewOrder {
    let order = parse(v);
    let h = hasher();
    let entities = order.entities().iter().map(|e| h.key_of(e)).collect();
    let decided_at = order.placed_at.with_timezone(&Utc) + Duration::milliseconds(12);
    NewOrder {
        decision: Some(Decision::approve_unscreened(order.order_id.clone(), decided_at)),
        shadow: None,
        outbox: Vec::new(),
        entities,
        received_at: decided_at,
        body: crate::OrderBody::json(&order),
        order,
    }
}

// Shared by the people-facing areas.
use crate::identity::UserRecord;
use crate::review::SlaMinutes;
use riskdesk_domain::{AuditEntry, Role};

const AUDIT_KEY: &[u8] = b"conformance audit key";

pub(crate) fn audit(actor: &str, action: &str, subject: &str, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.into(),
        action: action.into(),
        subject: subject.into(),
        purpose: None,
        request_id: Some("req".into()),
        detail: "{}".into(),
        flagged: false,
    }
}

pub(crate) fn user(name: &str, role: Role) -> UserRecord {
    UserRecord {
        id: format!("usr_{name}"),
        username: name.into(),
        display_name: name.into(),
        role,
        password_hash: "$argon2id$stub".into(),
        created_at: t0(),
        disabled_at: None,
        time_zone: None,
    }
}

pub(crate) fn sla() -> SlaMinutes {
    SlaMinutes { per_channel: vec![("webshop".into(), 60), ("app".into(), 240)], default: 120 }
}

pub(crate) fn review_order(
    id: &str,
    customer: &str,
    minutes: i64,
    channel: &str,
    rules: &[&str],
    score: u8,
) -> NewOrder {
    let mut v = order_json(id, customer, minutes);
    v["channel"] = json!(channel);
    let mut n = new_order(&v);
    let d = n.decision.as_mut().unwrap_or_else(|| unreachable!());
    d.decision = riskdesk_domain::Verdict::Review;
    d.score = score;
    d.reasons = rules
        .iter()
        .map(|r| riskdesk_domain::Reason {
            rule: (*r).into(),
            action: "score".into(),
            points: 10,
            detail: String::new(),
        })
        .collect();
    n
}
