//! The demo's cases, opened in the recent past so that the queue shows every situation: cases
//! running comfortably, near their SLA, breached and escalated, waiting on the customer, pending
//! a second person's approval, closed with an outcome the reporter sees; Tier-2 escalations from
//! the helpdesk, suspicion reports (one joined by a second reporter), and hand-offs to the
//! warehouse and logistics, one of them overdue.

use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::cases::sla::{SlaClock, SlaState};
use riskdesk_domain::cases::{CaseKind, CaseStatus, Priority};
use riskdesk_domain::{FixedClock, Role};
use riskdesk_service::audit::Actor;
use riskdesk_service::cases::decision::CaseDecisionPayload;
use riskdesk_service::cases::reports::Report;
use riskdesk_service::cases::tasks::NewTask;
use riskdesk_service::cases::{CaseFilter, Move, OpenCase};
use riskdesk_service::review::QueueFilter;
use riskdesk_service::{CaseOpener, CaseViewer, CaseWorker, OrderViewer, Service};
use std::sync::Arc;

fn person(name: &str, role: Role) -> Actor {
    Actor::user(name, role)
}

/// When a case of this kind and priority must have opened to be in `want` now (searching back
/// in half hours, as business calendars make it a search rather than a subtraction).
fn opened_for(svc: &Service, kind: &str, p: Priority, want: SlaState, now: DateTime<Utc>) -> DateTime<Utc> {
    let cfg = svc.settings().cases;
    let b = cfg.budget(kind, p);
    let team = CaseKind::parse(kind).map_or("fraud", |k| k.team);
    let cal = cfg.calendar(team);
    let mut t = now - Duration::minutes(20);
    for _ in 0..4000 {
        let c = SlaClock::start(t, &b, cal);
        if c.resolution_state(CaseStatus::Investigating, now, &b, cal) == want {
            return t;
        }
        t -= Duration::minutes(30);
    }
    t
}

/// The service as of `t`.
fn at(svc: &Service, t: DateTime<Utc>) -> Service {
    svc.with_clock(Arc::new(FixedClock::new(t)))
}

pub(super) async fn seed(svc: &Service) -> anyhow::Result<usize> {
    let viewer = CaseViewer::local(person("lea", Role::TeamLead));
    if svc.cases(&viewer, &CaseFilter { statuses: Some(vec![]), limit: 1, ..Default::default() }).await?.1 > 0 {
        return Ok(0);
    }
    let now = svc.now();
    let (tia, ana, ben, pia) = (
        person("tia", Role::Tier2Agent),
        person("ana", Role::FraudAnalyst),
        person("ben", Role::RiskExpert),
        person("pia", Role::PrivacyOfficer),
    );
    let orders =
        svc.review_queue(&OrderViewer::local(ana.clone()), &QueueFilter { limit: 40, ..Default::default() }).await?.0;
    let pick = |i: usize| orders.get(i % orders.len().max(1)).map(|o| (o.order_id.clone(), o.customer_id.clone()));
    let mut n = 0;

    // Tier-2 escalations from the helpdesk, at every point of their clock.
    let escalations = [
        (
            "Customer says she never placed order; asks for refund",
            "tier2_escalation",
            Priority::High,
            SlaState::Warning,
            "ZD-48213",
        ),
        (
            "Caller asked to change delivery address of a paid order, failed the security questions",
            "account_takeover",
            Priority::Urgent,
            SlaState::Running,
            "ZD-48230",
        ),
        (
            "Customer threatens a chargeback over a late refund",
            "refund_claim",
            Priority::Normal,
            SlaState::Breached,
            "ZD-48102",
        ),
        (
            "Customer asks which data we hold and who we shared it with",
            "privacy_request",
            Priority::Normal,
            SlaState::Running,
            "ZD-48244",
        ),
        (
            "Complaint posted on a review site naming our support agent",
            "public_mention",
            Priority::High,
            SlaState::Breached,
            "ZD-48190",
        ),
    ];
    for (i, (title, kind, prio, want, ticket)) in escalations.into_iter().enumerate() {
        let opened = opened_for(svc, kind, prio, want, now);
        let (order, customer) = pick(i).unzip();
        let s = at(svc, opened);
        let c = s
            .open_case(
                &CaseOpener::local(tia.clone()),
                OpenCase {
                    kind: kind.into(),
                    title: title.into(),
                    description: format!("Escalated from the helpdesk ticket {ticket}. Customer contacted us by phone; notes in the ticket."),
                    priority: Some(prio.as_str().into()),
                    tier: Some(3),
                    customer_id: customer,
                    order_ids: order.into_iter().collect(),
                    source: Some("helpdesk".into()),
                    source_ref: Some(ticket.into()),
                },
            )
            .await?;
        n += 1;
        let id = c.case().id.clone();
        let worker = if kind.starts_with("privacy") { pia.clone() } else { ana.clone() };
        let w = at(svc, opened + Duration::minutes(25));
        if want != SlaState::Breached {
            w.take_case(&CaseWorker::local(worker.clone()), &id, true).await?;
            w.move_case(
                &CaseWorker::local(worker.clone()),
                &id,
                Move { to: "investigating".into(), ..Default::default() },
            )
            .await?;
            w.add_case_note(
                &CaseWorker::local(worker.clone()),
                &id,
                "Called the customer back; the order was placed from a new device two days after a password reset.",
            )
            .await?;
        }
    }

    // Suspicion reports: two reporters on one order join one case.
    if let Some((order, _)) = pick(7) {
        let t = now - Duration::hours(3);
        at(svc, t)
            .report_suspicion(
                &CaseOpener::local(tia.clone()),
                Report {
                    subject_kind: "order".into(),
                    subject_id: order.clone(),
                    reason: "Suspected fraud — caller knew the order number but not the billing address".into(),
                },
            )
            .await?;
        at(svc, t + Duration::minutes(40))
            .report_suspicion(
                &CaseOpener::local(ana.clone()),
                Report {
                    subject_kind: "order".into(),
                    subject_id: order,
                    reason: "Same device as two accounts closed for fraud last month".into(),
                },
            )
            .await?;
        n += 1;
    }
    // An earlier report of Tia's, closed: she sees the outcome.
    if let Some((order, customer)) = pick(9) {
        let t = now - Duration::days(4);
        let o = at(svc, t)
            .report_suspicion(
                &CaseOpener::local(tia.clone()),
                Report {
                    subject_kind: "order".into(),
                    subject_id: order,
                    reason: "Other suspicious activity — five gift cards to a parcel locker".into(),
                },
            )
            .await?;
        let id = o.case().id.clone();
        let w = at(svc, t + Duration::hours(2));
        let cap = CaseWorker::local(ana.clone());
        w.take_case(&cap, &id, true).await?;
        w.link_case(&cap, &id, "customer", &customer).await?;
        for task in w.case_view(&viewer, &id).await?.tasks {
            w.finish_case_task(&cap, &task.id, "done", None).await?;
        }
        w.move_case(
            &cap,
            &id,
            Move {
                to: "resolved".into(),
                resolution: Some("confirmed_fraud".into()),
                summary: Some("Card testing with gift cards; account blocked, orders cancelled.".into()),
                note: None,
            },
        )
        .await?;
        at(svc, t + Duration::days(1)).move_case(&cap, &id, Move { to: "closed".into(), ..Default::default() }).await?;
        n += 1;
    }

    // A fraud investigation with hand-offs (one overdue) and a block waiting for a second person.
    if let Some((order, customer)) = pick(3) {
        let t = opened_for(svc, "fraud_investigation", Priority::High, SlaState::Running, now) - Duration::hours(4);
        let s = at(svc, t);
        let o = s
            .open_case(
                &CaseOpener::local(ana.clone()),
                OpenCase {
                    kind: "fraud_investigation".into(),
                    title: format!("Reshipping ring around customer {customer}"),
                    description: "Three accounts share a device and ship to the same parcel locker.".into(),
                    priority: Some("high".into()),
                    customer_id: Some(customer.clone()),
                    order_ids: vec![order],
                    ..Default::default()
                },
            )
            .await?;
        let id = o.case().id.clone();
        let cap = CaseWorker::local(ana.clone());
        let w = at(svc, t + Duration::minutes(10));
        w.take_case(&cap, &id, true).await?;
        w.move_case(&cap, &id, Move { to: "investigating".into(), ..Default::default() }).await?;
        w.add_case_task(
            &cap,
            &id,
            NewTask {
                title: "Weigh the parcel of the held order before it leaves".into(),
                team: Some("warehouse".into()),
                due_at: Some(now + Duration::hours(20)),
                ..Default::default()
            },
        )
        .await?;
        w.add_case_task(
            &cap,
            &id,
            NewTask {
                title: "Proof of delivery for the last three parcels".into(),
                team: Some("logistics".into()),
                due_at: Some(t + Duration::hours(2)),
                ..Default::default()
            },
        )
        .await?;
        w.add_case_note(&cap, &id, "Device fingerprint seen on two accounts labelled fraud in October.").await?;
        w.propose_case_decision(
            &cap,
            CaseDecisionPayload {
                decision: "block_account".into(),
                case_id: id.clone(),
                reason: "Part of a reshipping ring; same device as two fraud accounts.".into(),
                customer_id: Some(customer),
                ..Default::default()
            },
        )
        .await?;
        n += 1;
    }
    // A case waiting on the customer (its clock stands still).
    if let Some((order, customer)) = pick(5) {
        let t = now - Duration::hours(30);
        let o = at(svc, t)
            .open_case(
                &CaseOpener::local(ben.clone()),
                OpenCase {
                    kind: "refund_claim".into(),
                    title: "Empty box claimed for a 640 EUR order".into(),
                    customer_id: Some(customer),
                    order_ids: vec![order],
                    ..Default::default()
                },
            )
            .await?;
        let cap = CaseWorker::local(ben.clone());
        let w = at(svc, t + Duration::hours(1));
        w.take_case(&cap, &o.case().id, true).await?;
        w.move_case(
            &cap,
            &o.case().id,
            Move {
                to: "waiting_customer".into(),
                note: Some("Asked the customer for photos of the parcel and the packaging.".into()),
                ..Default::default()
            },
        )
        .await?;
        n += 1;
    }
    // Screening's own cases for the riskiest customers in review.
    for o in orders.iter().filter(|o| o.score >= svc.settings().cases.auto_open_score).take(3) {
        let d = riskdesk_domain::Decision {
            order_id: riskdesk_domain::OrderId::parse(&o.order_id, "order_id")?,
            decision: riskdesk_domain::Verdict::Review,
            score: o.score.clamp(0, 100) as u8,
            reasons: Vec::new(),
            ruleset_version: 0,
            decided_at: o.placed_at,
            not_evaluated: Vec::new(),
        };
        at(svc, now - Duration::minutes(50)).auto_case_for_demo(&o.customer_id, &d).await?;
        n += 1;
    }
    let swept = svc.sweep_case_slas().await?;
    eprintln!("opened {n} demo cases ({} warned, {} escalated by the SLA watch)", swept.warned, swept.escalated);
    Ok(n)
}
