//! The demo's QA: four weeks of Tier-2 handlings from two outsourced providers and the in-house
//! team (refunds, disclosures with and without an identity check, address changes, reversed
//! escalations, low CSAT), sampled as they arrived; the older ones reviewed, some with a
//! knock-out, their feedback acknowledged, one disputed and waiting for a second reviewer, some
//! near their answer date; and a calibration session half done.

use chrono::{Duration, Utc};
use riskdesk_domain::qa::HandlingIn;
use riskdesk_domain::qa::scorecard::{Na, Rating};
use riskdesk_domain::{FixedClock, Role};
use riskdesk_service::audit::Actor;
use riskdesk_service::{FeedbackResponder, HandlingIntake, QaManager, QaReviewer, QaViewer, Service, UserAdmin};
use std::collections::BTreeMap;
use std::sync::Arc;

const PROVIDERS: &[(&str, &str, &[&str])] = &[
    ("ServiceCo Lisbon", "lisbon-2", &["joana.s", "rui.m", "ines.c", "tiago.f"]),
    ("CallPoint Berlin", "berlin-1", &["jonas.k", "lena.w", "mehmet.y", "sara.b"]),
    ("In-house", "hamburg-t2", &["nina.h", "paul.r", "eva.l"]),
];

const SAY: &[&str] = &[
    "Customer asked where the parcel is. Checked tracking, parcel in transit, gave the expected date.",
    "Caller wanted the delivery address changed on an order already paid. Asked the security questions first.",
    "Customer says the box was empty. Offered a refund after the photo was sent.",
    "Caller asked which address and phone number are stored on the account.",
    "Customer angry about a cancelled order; explained that the order could not be shipped.",
    "Customer asked for goodwill for a late delivery; granted a voucher.",
];

fn ratings(knockout: bool, rng: &mut fastrand::Rng) -> BTreeMap<String, Rating> {
    let mut r = BTreeMap::new();
    for (code, max) in [
        ("identity_before_disclosure", 1),
        ("refund_within_policy", 1),
        ("verified_account_change", 1),
        ("no_tipping_off", 1),
    ] {
        r.insert(code.to_owned(), Rating::Points(max));
    }
    if knockout {
        r.insert("identity_before_disclosure".into(), Rating::Points(0));
    }
    r.insert("sop_followed".into(), Rating::Points(rng.i64(2..=4)));
    r.insert("escalated_right".into(), if rng.bool() { Rating::Points(1) } else { Rating::NotApplicable(Na::Na) });
    r.insert("documented".into(), Rating::Points(rng.i64(1..=4)));
    r.insert("tone".into(), Rating::Points(rng.i64(2..=4)));
    r
}

pub(super) async fn seed(svc: &Service) -> anyhow::Result<usize> {
    let viewer = QaViewer::local(Actor::user("lea", Role::TeamLead));
    if svc.qa_dashboard(&viewer, 8, "provider", None).await?.reviews > 0 {
        return Ok(0);
    }
    let admin = UserAdmin::local(Actor::cli());
    svc.set_qa_member(&admin, "pro", Some("ServiceCo Lisbon".into()), None).await?;
    let now = Utc::now();
    let at = |t: chrono::DateTime<Utc>| svc.with_clock(Arc::new(FixedClock::new(t)));
    let mut rng = fastrand::Rng::with_seed(11);
    let intake = HandlingIntake::local(Actor::other("apikey:helpdesk"));
    let mut ids = Vec::new();
    for i in 0..600 {
        let (provider, team, agents) = PROVIDERS[i % PROVIDERS.len()];
        let agent = agents[rng.usize(..agents.len())];
        let closed = now - Duration::minutes(rng.i64(30..28 * 24 * 60));
        let kind = rng.usize(..SAY.len());
        let mut actions = Vec::new();
        let mut identity = true;
        match kind {
            2 => actions.push(serde_json::json!({"kind": "refund_issued", "amount": {"amount": format!("{}.00", rng.i64(20..180)), "currency": "EUR"}})),
            3 => {
                actions.push(serde_json::json!({"kind": "data_disclosed"}));
                identity = rng.u8(..10) > 1;
            }
            1 => actions.push(serde_json::json!({"kind": "address_changed"})),
            5 => actions.push(serde_json::json!({"kind": "goodwill", "amount": {"amount": "15.00", "currency": "EUR"}})),
            4 if rng.u8(..4) == 0 => actions.push(serde_json::json!({"kind": "escalation_reversed"})),
            _ => {}
        }
        let channel = ["phone", "email", "chat"][i % 3];
        let csat = if rng.u8(..6) == 0 { 1 } else { rng.i64(3..=5) };
        let h: HandlingIn = serde_json::from_value(serde_json::json!({
            "handling_id": format!("HD-{:05}", 10_000 + i), "agent": agent, "provider": provider, "team": team,
            "channel": channel, "closed_at": closed.to_rfc3339(),
            "case_ref": format!("T-{}", 40_000 + i), "customer_id": format!("C-{:05}", 1 + rng.usize(..600)),
            "actions": actions, "identity_checked": identity, "csat": csat,
            "transcript": format!("Agent {agent}: {}\nCustomer: Thanks.", SAY[kind]),
        }))?;
        let r = at(closed + Duration::minutes(5)).submit_handling(&intake, h).await?;
        if r.sampled {
            ids.push((r.handling_id, closed));
        }
    }
    // Older sampled ones reviewed; the newest wait in the inbox.
    ids.sort_by_key(|(_, t)| *t);
    let reviewers = [("qia", Role::QaReviewer), ("lea", Role::TeamLead)];
    let lead = FeedbackResponder::local(Actor::user("pro", Role::ProviderLead));
    let mut reviewed = 0;
    let mut disputed = false;
    for (i, (id, closed)) in ids.iter().enumerate() {
        if *closed > now - Duration::days(4) {
            break;
        }
        let (who, role) = reviewers[i % 2];
        let cap = QaReviewer::local(Actor::user(who, role));
        let h = svc.store().handling(id).await?;
        let knockout = h.as_ref().is_some_and(|h| h.handling.did("data_disclosed") && !h.handling.identity_checked);
        let when = *closed + Duration::days(1);
        let text = if knockout {
            "Disclosed the stored address before the security questions."
        } else {
            "Solid handling; note what was checked."
        };
        let review = at(when).score_handling(&cap, id, ratings(knockout, &mut rng), text, None).await?;
        reviewed += 1;
        if h.is_some_and(|h| h.handling.provider == "ServiceCo Lisbon") && *closed < now - Duration::days(8) {
            let answer = if knockout && !disputed {
                disputed = true;
                Some("The caller had passed the security questions earlier in the same call.")
            } else {
                None
            };
            at(when + Duration::days(1)).answer_feedback(&lead, &review.review_id, answer).await?;
        }
    }
    // Calibration: three handlings, two of three reviewers done.
    let sample: Vec<String> = ids.iter().rev().take(3).map(|(id, _)| id.clone()).collect();
    if sample.len() == 3 {
        let manager = QaManager::local(Actor::user("lea", Role::TeamLead));
        let s = svc
            .create_qa_session(
                &manager,
                "Disclosures, week of the demo",
                sample.clone(),
                vec!["qia".into(), "ben".into(), "lea".into()],
            )
            .await?;
        for (who, role) in [("qia", Role::QaReviewer), ("ben", Role::RiskExpert)] {
            let cap = QaReviewer::local(Actor::user(who, role));
            for id in &sample {
                svc.score_handling(&cap, id, ratings(false, &mut rng), "", Some(&s.session_id)).await?;
            }
        }
    }
    Ok(reviewed)
}
