//! Cases: deduplicated opening, compare-and-set updates, the queue's order and filters, links
//! across cases, tasks and hand-offs, and the SLA watch's selection.

use super::*;
use crate::Store;
use crate::cases::{AlreadyOpen, CaseEvent, CaseFilter, CaseLink, CaseRecord, CaseTask, NewCase};
use crate::changes::{CaseChange, Effect};
use riskdesk_domain::cases::sla::SlaClock;
use riskdesk_domain::cases::{CaseStatus, Priority, Resolution};

fn case(id: &str, due_minutes: i64) -> CaseRecord {
    CaseRecord {
        id: id.into(),
        kind: "fraud_investigation".into(),
        title: format!("Case {id} — <b>Ünïcode</b> 'quoted'"),
        description: String::new(),
        priority: Priority::High,
        tier: 3,
        status: CaseStatus::New,
        team: "fraud".into(),
        owner: None,
        opened_by: "user:tia".into(),
        source: None,
        source_ref: None,
        open_key: None,
        created_at: t0(),
        updated_at: t0(),
        first_response_at: None,
        sla: SlaClock {
            first_response_due_at: t0() + Duration::minutes(60),
            resolution_due_at: t0() + Duration::minutes(due_minutes),
            paused_secs: 0,
            paused_since: None,
        },
        resolution: None,
        summary: None,
        resolved_at: None,
        closed_at: None,
        warned_at: None,
        escalated_at: None,
        reopened: 0,
        version: 1,
    }
}

fn new(c: CaseRecord, links: &[(&str, &str)]) -> NewCase {
    let id = c.id.clone();
    NewCase {
        events: vec![CaseEvent {
            id: 0,
            case_id: id.clone(),
            at: t0(),
            actor: "user:tia".into(),
            kind: "opened".into(),
            text: "Opened".into(),
        }],
        links: links
            .iter()
            .map(|(k, v)| CaseLink {
                case_id: id.clone(),
                kind: (*k).into(),
                value: (*v).into(),
                added_by: "user:tia".into(),
                added_at: t0(),
            })
            .collect(),
        tasks: vec![CaseTask {
            id: format!("tsk_{id}"),
            case_id: id.clone(),
            position: 0,
            title: "Check the orders".into(),
            mandatory: true,
            team: None,
            due_at: None,
            status: "open".into(),
            created_by: "playbook".into(),
            created_at: t0(),
            done_by: None,
            done_at: None,
            answer: None,
        }],
        case: c,
    }
}

pub async fn cases_open_once_update_by_version_and_sort_by_time_left(store: &dyn Store) {
    // A ticket opens one case; the same ticket again is the same case.
    let mut a = case("cas_a", 300);
    a.source = Some("helpdesk".into());
    a.source_ref = Some("T-1".into());
    assert_eq!(
        store.open_case(&new(a.clone(), &[("customer", "c1"), ("order", "o1")]), &[], AUDIT_KEY).await.unwrap(),
        Ok(())
    );
    let mut again = case("cas_a2", 300);
    again.source = a.source.clone();
    again.source_ref = a.source_ref.clone();
    assert_eq!(store.open_case(&new(again, &[]), &[], AUDIT_KEY).await.unwrap(), Err(AlreadyOpen("cas_a".into())));
    assert!(store.case("cas_a2").await.unwrap().is_none(), "nothing of the duplicate was stored");
    // One open case per open key.
    let mut b = case("cas_b", 100);
    b.open_key = Some("report:order:o1".into());
    assert_eq!(store.open_case(&new(b.clone(), &[("order", "o1")]), &[], AUDIT_KEY).await.unwrap(), Ok(()));
    let mut b2 = case("cas_b2", 100);
    b2.open_key = b.open_key.clone();
    assert_eq!(store.open_case(&new(b2, &[]), &[], AUDIT_KEY).await.unwrap(), Err(AlreadyOpen("cas_b".into())));
    let mut c = case("cas_c", 200);
    c.sla.paused_since = Some(t0());
    store.open_case(&new(c, &[]), &[], AUDIT_KEY).await.unwrap().unwrap();

    let got = store.case("cas_a").await.unwrap().unwrap();
    assert_eq!(got, a, "a case reads back as stored, hostile text verbatim");
    assert_eq!(store.case_links("cas_a").await.unwrap().len(), 2);
    assert_eq!(store.case_events("cas_a").await.unwrap()[0].kind, "opened");

    // Open cases by time left, paused ones after running ones.
    let all = CaseFilter { limit: 50, ..Default::default() };
    let ids: Vec<String> = store.cases(&all).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["cas_b", "cas_a", "cas_c"]);
    assert_eq!(store.count_cases(&all).await.unwrap(), 3);
    let text = CaseFilter { text: Some("case cas_b".into()), limit: 50, ..Default::default() };
    assert_eq!(store.cases(&text).await.unwrap().len(), 1);
    let pct = CaseFilter { text: Some("%".into()), limit: 50, ..Default::default() };
    assert!(store.cases(&pct).await.unwrap().is_empty(), "a % is a character, not a wildcard");

    // Compare-and-set: a stale version changes nothing.
    let mut upd = got.clone();
    upd.status = CaseStatus::Resolved;
    upd.resolution = Some(Resolution::NoFraud);
    upd.summary = Some("fine".into());
    upd.owner = Some("ben".into());
    upd.version = 2;
    let change =
        |c: &CaseRecord, v: i64| Effect::Cases(CaseChange::Update { case: Box::new(c.clone()), expected_version: v });
    let note = Effect::Cases(CaseChange::Event(CaseEvent {
        id: 0,
        case_id: "cas_a".into(),
        at: t0(),
        actor: "user:ben".into(),
        kind: "note".into(),
        text: "n".into(),
    }));
    store.commit(&[change(&upd, 1), note.clone()], &[], AUDIT_KEY).await.unwrap();
    let err = store.commit(&[note, change(&upd, 1)], &[], AUDIT_KEY).await.unwrap_err();
    assert!(matches!(err, crate::StoreError::Conflict(_)), "{err}");
    assert_eq!(store.case_events("cas_a").await.unwrap().len(), 2, "the failed commit left no note");
    assert_eq!(store.case("cas_a").await.unwrap().unwrap(), upd);
    let closed = CaseFilter { statuses: Some(vec![CaseStatus::Resolved]), limit: 50, ..Default::default() };
    assert_eq!(store.cases(&closed).await.unwrap().len(), 1);
    let mine = CaseFilter { statuses: Some(vec![]), owner: Some("ben".into()), limit: 50, ..Default::default() };
    assert_eq!(store.count_cases(&mine).await.unwrap(), 1);

    // Seen in other cases: o1 is linked to two cases.
    let linked: Vec<String> = store.cases_linked("order", "o1", 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(linked.len(), 2);
    // Reported by: the reporter's event finds the case.
    let ev = CaseEvent {
        id: 0,
        case_id: "cas_c".into(),
        at: t0(),
        actor: "user:zoe".into(),
        kind: "report".into(),
        text: "r".into(),
    };
    store.commit(&[Effect::Cases(CaseChange::Event(ev))], &[], AUDIT_KEY).await.unwrap();
    let zoe =
        CaseFilter { statuses: Some(vec![]), reported_by: Some("user:zoe".into()), limit: 50, ..Default::default() };
    assert_eq!(store.cases(&zoe).await.unwrap()[0].id, "cas_c");

    // Tasks and hand-offs.
    let mut t = store.case_tasks("cas_b").await.unwrap().remove(0);
    let mut h = t.clone();
    h.id = "tsk_handoff".into();
    h.team = Some("warehouse".into());
    h.due_at = Some(t0() + Duration::hours(4));
    store.commit(&[Effect::Cases(CaseChange::AddTask(h))], &[], AUDIT_KEY).await.unwrap();
    assert_eq!(store.handoffs("warehouse", true, 10).await.unwrap().len(), 1);
    t.status = "done".into();
    t.done_by = Some("user:ben".into());
    t.done_at = Some(t0());
    store.commit(&[Effect::Cases(CaseChange::UpdateTask(t.clone()))], &[], AUDIT_KEY).await.unwrap();
    assert_eq!(store.case_task(&t.id).await.unwrap().unwrap(), t);

    // The SLA watch sees open, running cases due before the horizon, not yet escalated.
    let due: Vec<String> =
        store.cases_due(t0() + Duration::minutes(150), 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(due, ["cas_b"]);
    store
        .commit(
            &[Effect::Cases(CaseChange::Unlink { case_id: "cas_b".into(), kind: "order".into(), value: "o1".into() })],
            &[],
            AUDIT_KEY,
        )
        .await
        .unwrap();
    assert!(store.case_links("cas_b").await.unwrap().is_empty());
}
