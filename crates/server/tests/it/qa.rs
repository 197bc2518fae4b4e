//! QA of Tier-2 handlings: intake (idempotent, hostile input named), sampling at arrival,
//! scoring with a knock-out that opens a case, the provider's feedback loop with its scoping, a
//! second reviewer, scorecard versions, calibration, the dashboard and the pages; both backends.

use crate::common::*;
use crate::desk::{add_user, sign_in};
use axum::http::StatusCode;
use riskdesk_domain::Role;
use riskdesk_service::Scope;
use riskdesk_service::access::local;
use serde_json::{Value, json};

async fn token(app: &TestApp, user: &str) -> String {
    app.service.create_token_for(&local::user_admin(), user, "test", None).await.unwrap().secret
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

fn handling(id: &str, provider: &str, actions: Value, identity_checked: bool) -> Value {
    json!({"handling_id": id, "agent": "agent-7", "provider": provider, "team": "berlin-1", "channel": "phone",
           "closed_at": "2026-06-01T09:00:00+02:00", "case_ref": "T-77", "customer_id": "C-1", "order_ids": ["O-1"],
           "actions": actions, "identity_checked": identity_checked, "csat": 4,
           "transcript": "Caller asked for the delivery address on file. <script>alert(1)</script>"})
}

/// Every criterion passing, one replaced.
fn ratings(over: &[(&str, Value)]) -> Value {
    let mut r = json!({"identity_before_disclosure": 1, "refund_within_policy": 1, "verified_account_change": 1, "no_tipping_off": 1,
                       "sop_followed": 4, "escalated_right": 1, "documented": 4, "tone": 4});
    for (k, v) in over {
        r[*k] = v.clone();
    }
    r
}

async fn people(app: &TestApp) -> (String, String, String, String, String, String) {
    for (n, r) in [
        ("rev", Role::QaReviewer),
        ("rev2", Role::QaReviewer),
        ("lead", Role::ProviderLead),
        ("leadb", Role::ProviderLead),
        ("lea", Role::TeamLead),
    ] {
        add_user(app, n, r).await;
    }
    add_user(app, "root", Role::Admin).await;
    let root = token(app, "root").await;
    for (n, p) in [("lead", "bpo-a"), ("leadb", "bpo-b")] {
        let (s, e) = call(app, &root, "PUT", &format!("/api/v1/qa/members/{n}"), Some(json!({"provider": p}))).await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
    call(app, &root, "PUT", "/api/v1/qa/members/rev", Some(json!({"team": "lisbon-2"}))).await;
    let key = app.service.create_api_key("helpdesk", &[Scope::Qa]).await.unwrap().secret;
    (
        key,
        token(app, "rev").await,
        token(app, "rev2").await,
        token(app, "lead").await,
        token(app, "leadb").await,
        token(app, "lea").await,
    )
}

both_backends!(handlings_are_taken_once_sampled_and_checked, |app: TestApp| async move {
    let (key, rev, ..) = people(&app).await;
    let h = handling("H-1", "bpo-a", json!([{"kind": "data_disclosed"}]), false);
    let (s, r) = call(&app, &key, "POST", "/api/v1/handlings", Some(h.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!((r["created"].as_bool(), r["sampled"].as_bool()), (Some(true), Some(true)));
    assert_eq!(r["picks"][0]["code"], "disclosed_unverified");
    let (s, r) = call(&app, &key, "POST", "/api/v1/handlings", Some(h)).await;
    assert_eq!((s, r["created"].as_bool()), (StatusCode::OK, Some(false)), "the same id is taken once");
    // Bad input names the field; nothing stored.
    for (over, field) in [
        (json!({"closed_at": "yesterday"}), "closed_at"),
        (json!({"closed_at": "2030-01-01T00:00:00Z"}), "closed_at"),
        (
            json!({"actions": [{"kind": "refund_issued", "amount": {"amount": "-5.00", "currency": "EUR"}}]}),
            "actions[0].amount.amount",
        ),
        (json!({"actions": [{"kind": "teleport"}]}), "actions[0].kind"),
        (json!({"transcript": "x".repeat(200_001)}), "transcript"),
        (json!({"csat": 9}), "csat"),
        (json!({"agent": ""}), "agent"),
    ] {
        let mut b = handling("H-bad", "bpo-a", json!([]), true);
        for (k, v) in over.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (s, e) = call(&app, &key, "POST", "/api/v1/handlings", Some(b)).await;
        assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{e}");
    }
    let (s, _) = call(&app, &rev, "GET", "/api/v1/handlings/H-bad", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An unknown provider is accepted and named (the default); a person cannot send handlings.
    assert_eq!(
        call(&app, &key, "POST", "/api/v1/handlings", Some(handling("H-2", "new-bpo", json!([]), true))).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        call(&app, &rev, "POST", "/api/v1/handlings", Some(handling("H-3", "bpo-a", json!([]), true))).await.0,
        StatusCode::FORBIDDEN
    );
    // Imports: a bad line stores nothing; then CSV and JSONL.
    let head = "handling_id,agent,provider,team,channel,closed_at,case_ref,customer_id,order_ids,actions,identity_checked,csat,transcript\n";
    let bad = format!(
        "{head}I-1,a1,bpo-a,t1,email,2026-06-01T08:00:00Z,,,,refund_issued:80.00:EUR,true,5,ok\nI-2,a1,bpo-a,t1,email,not-a-time,,,,,true,5,ok\n"
    );
    let (s, e) = app.call("POST", "/api/v1/handlings/import", Some(&key), Some(bad.into_bytes())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("line 3"), "{e}");
    assert_eq!(call(&app, &rev, "GET", "/api/v1/handlings/I-1", None).await.0, StatusCode::NOT_FOUND);
    let good = format!(
        "{head}I-1,a1,bpo-a,t1,email,2026-06-01T08:00:00Z,,,O-1;O-2,refund_issued:80.00:EUR,true,5,\"ok, done\"\nI-2,a2,bpo-b,t2,chat,2026-06-01T08:30:00Z,,,,,false,1,\n"
    );
    let (s, r) = app.call("POST", "/api/v1/handlings/import", Some(&key), Some(good.into_bytes())).await;
    assert_eq!((s, r["created"].as_i64(), r["sampled"].as_i64()), (StatusCode::OK, Some(2), Some(2)), "{r}");
    let jsonl =
        format!("{}\n{}\n", handling("J-1", "bpo-a", json!([]), true), handling("I-1", "bpo-a", json!([]), true));
    let (_, r) = app.call("POST", "/api/v1/handlings/import?format=jsonl", Some(&key), Some(jsonl.into_bytes())).await;
    assert_eq!((r["created"].as_i64(), r["duplicates"].as_i64()), (Some(1), Some(1)), "{r}");
    let (_, one) = call(&app, &rev, "GET", "/api/v1/handlings/I-1", None).await;
    assert_eq!(one["picks"][0]["code"], "refund", "{one}");
    assert_eq!(one["order_ids"], json!(["O-1", "O-2"]));
    // The reviewer's inbox leaves out their own team (lisbon-2 has none here) and lists the picks.
    let (_, inbox) = call(&app, &rev, "GET", "/api/v1/qa/inbox", None).await;
    assert!(inbox["total"].as_i64().unwrap() >= 3, "{inbox}");
});

both_backends!(a_knockout_opens_a_case_and_the_provider_answers_its_own_feedback, |app: TestApp| async move {
    let (key, rev, rev2, lead, leadb, lea) = people(&app).await;
    call(
        &app,
        &key,
        "POST",
        "/api/v1/handlings",
        Some(handling("H-1", "bpo-a", json!([{"kind": "data_disclosed"}]), false)),
    )
    .await;
    // Incomplete or out-of-scale ratings are named.
    let (s, e) = call(&app, &rev, "POST", "/api/v1/handlings/H-1/reviews", Some(json!({"ratings": {"tone": 4}}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = call(
        &app,
        &rev,
        "POST",
        "/api/v1/handlings/H-1/reviews",
        Some(json!({"ratings": ratings(&[("tone", json!(9))])})),
    )
    .await;
    assert!(e["detail"].as_str().unwrap().contains("tone"), "{s} {e}");
    let body = json!({"ratings": ratings(&[("identity_before_disclosure", json!(0)), ("escalated_right", json!("na"))]), "comment": "Gave the address before any check."});
    let (s, r) = call(&app, &rev, "POST", "/api/v1/handlings/H-1/reviews", Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!((r["score"].as_f64(), r["knocked_out"][0].as_str()), (Some(0.0), Some("identity_before_disclosure")));
    let review = r["review_id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&app, &rev, "POST", "/api/v1/handlings/H-1/reviews", Some(body)).await.0,
        StatusCode::CONFLICT,
        "reviewed once"
    );
    // The knock-out opened a privacy complaint: a possible breach.
    let (_, cases) = call(&app, &lea, "GET", "/api/v1/cases?kind=privacy_complaint&status=open", None).await;
    assert!(cases.to_string().contains("QA knock-out"), "{cases}");
    // Provider a's lead sees it; provider b's lead does not, not even by id.
    let (_, fb) = call(&app, &lead, "GET", "/api/v1/qa/feedback", None).await;
    assert_eq!((fb["provider"].as_str(), fb["reviews"].as_array().unwrap().len()), (Some("bpo-a"), 1), "{fb}");
    let (_, fbb) = call(&app, &leadb, "GET", "/api/v1/qa/feedback", None).await;
    assert_eq!(fbb["reviews"].as_array().unwrap().len(), 0);
    assert_eq!(
        call(&app, &leadb, "GET", &format!("/api/v1/qa/feedback/{review}"), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, &leadb, "POST", &format!("/api/v1/qa/feedback/{review}"), Some(json!({"action": "acknowledge"})))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // A provider lead reads no handling, inbox or dashboard.
    assert_eq!(call(&app, &lead, "GET", "/api/v1/handlings/H-1", None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, &lead, "GET", "/api/v1/qa/dashboard", None).await.0, StatusCode::FORBIDDEN);
    // The dashboard counts it, with the failed criterion.
    let (_, dash) = call(&app, &lea, "GET", "/api/v1/qa/dashboard?weeks=4&by=agent", None).await;
    assert_eq!(dash["reviews"], 1, "{dash}");
    assert_eq!(dash["knockout_rate"], 100.0);
    assert_eq!(dash["criteria"][0]["criterion"], "identity_before_disclosure");
    assert_eq!(dash["criteria_weekly"][0][1][0], 1, "the criterion's failures by week: {dash}");
    // A machine key sends handlings; it reads none.
    assert_eq!(call(&app, &key, "GET", "/api/v1/handlings/H-1", None).await.0, StatusCode::FORBIDDEN);
    // Disputing needs a reason; then a second reviewer decides, not the first.
    let path = format!("/api/v1/qa/feedback/{review}");
    let (s, e) = call(&app, &lead, "POST", &path, Some(json!({"action": "dispute", "reason": ""}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (s, d) = call(
        &app,
        &lead,
        "POST",
        &path,
        Some(
            json!({"action": "dispute", "reason": "The caller had passed the security questions in an earlier call."}),
        ),
    )
    .await;
    assert_eq!((s, d["feedback_status"].as_str()), (StatusCode::OK, Some("disputed")), "{d}");
    assert_eq!(call(&app, &lead, "POST", &path, Some(json!({"action": "acknowledge"}))).await.0, StatusCode::CONFLICT);
    let decision = format!("/api/v1/qa/reviews/{review}/decision");
    assert_eq!(call(&app, &rev, "POST", &decision, Some(json!({"outcome": "uphold"}))).await.0, StatusCode::FORBIDDEN);
    let (s, d) = call(&app, &rev2, "POST", &decision, Some(json!({"outcome": "revise", "ratings": ratings(&[("escalated_right", json!("na"))]), "note": "earlier verification on record"}))).await;
    assert_eq!(
        (s, d["feedback_status"].as_str(), d["second_score"].as_f64()),
        (StatusCode::OK, Some("revised"), Some(100.0)),
        "{d}"
    );
    // The revision replaces the score, knock-out and failures the trends count.
    let (_, dash) = call(&app, &lea, "GET", "/api/v1/qa/dashboard?weeks=4&by=agent", None).await;
    assert_eq!((dash["avg_score"].as_f64(), dash["knockout_rate"].as_f64()), (Some(100.0), Some(0.0)), "{dash}");
    assert!(dash["criteria"].as_array().unwrap().is_empty(), "{dash}");
    let csv = app.call("GET", "/api/v1/qa/dashboard.csv?weeks=4&by=agent", Some(&lea), None).await.1;
    assert!(csv.as_str().unwrap().contains("agent-7"), "{csv}");
});

both_backends!(scorecards_are_versioned_and_calibration_is_blind, |app: TestApp| async move {
    let (key, rev, rev2, _, _, lea) = people(&app).await;
    for id in ["C-1", "C-2"] {
        call(
            &app,
            &key,
            "POST",
            "/api/v1/handlings",
            Some(handling(id, "bpo-a", json!([{"kind": "data_disclosed"}]), true)),
        )
        .await;
    }
    // A new version: handlings sampled before keep version 1.
    let (_, cards) = call(&app, &lea, "GET", "/api/v1/qa/scorecards", None).await;
    let mut card: Value = serde_json::from_str(cards["scorecards"][0]["body"].as_str().unwrap()).unwrap();
    card["sections"][1]["criteria"]
        .as_array_mut()
        .unwrap()
        .push(json!({"code": "empathy", "label": "Empathy", "weight": 1.0, "max": 4}));
    assert_eq!(
        call(&app, &rev, "POST", "/api/v1/qa/scorecards", Some(json!({"scorecard": card, "base_version": 1}))).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) =
        call(&app, &lea, "POST", "/api/v1/qa/scorecards", Some(json!({"scorecard": card, "base_version": 1}))).await;
    assert_eq!((s, v["version"].as_i64()), (StatusCode::CREATED, Some(2)), "{v}");
    assert_eq!(
        call(&app, &lea, "POST", "/api/v1/qa/scorecards", Some(json!({"scorecard": card, "base_version": 1}))).await.0,
        StatusCode::CONFLICT
    );
    let (s, r) =
        call(&app, &rev, "POST", "/api/v1/handlings/C-1/reviews", Some(json!({"ratings": ratings(&[])}))).await;
    assert_eq!((s, r["scorecard_version"].as_i64()), (StatusCode::CREATED, Some(1)), "{r}");
    // Calibration: both score both, blind until done.
    let (s, sess) = call(
        &app,
        &lea,
        "POST",
        "/api/v1/qa/sessions",
        Some(json!({"name": "June", "handling_ids": ["C-1", "C-2"], "reviewers": ["rev", "rev2"]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{sess}");
    let id = sess["session_id"].as_str().unwrap().to_owned();
    let (s, e) = call(
        &app,
        &lea,
        "POST",
        "/api/v1/qa/sessions",
        Some(json!({"name": "x", "handling_ids": ["nope"], "reviewers": ["rev", "rev2"]})),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("handling_ids[0]")));
    let full =
        |tone: i64| json!({"ratings": ratings(&[("tone", json!(tone)), ("empathy", json!(3))]), "session_id": id});
    call(&app, &rev, "POST", "/api/v1/handlings/C-1/reviews", Some(full(4))).await;
    call(&app, &rev, "POST", "/api/v1/handlings/C-2/reviews", Some(full(1))).await;
    let (_, hidden) = call(&app, &rev2, "GET", &format!("/api/v1/qa/sessions/{id}"), None).await;
    assert_eq!(hidden["hidden"], true, "{hidden}");
    assert!(hidden["criteria"].as_array().unwrap().is_empty());
    call(&app, &rev2, "POST", "/api/v1/handlings/C-1/reviews", Some(full(4))).await;
    call(&app, &rev2, "POST", "/api/v1/handlings/C-2/reviews", Some(full(2))).await;
    let (_, v) = call(&app, &rev2, "GET", &format!("/api/v1/qa/sessions/{id}"), None).await;
    assert_eq!(
        (v["hidden"].as_bool(), v["done"].as_i64(), v["expected"].as_i64()),
        (Some(false), Some(4), Some(4)),
        "{v}"
    );
    let tone = v["criteria"].as_array().unwrap().iter().find(|c| c["criterion"] == "tone").unwrap();
    assert!(tone["alpha"].as_f64().unwrap() > 0.5, "{tone}");
    let spread = v["reviewers"].as_array().unwrap();
    assert_eq!(spread.len(), 2);
    assert!(spread.iter().any(|r| r["mean_deviation"].as_f64().unwrap() < 0.0));
    // Calibration reviews stay out of the trends and the provider's feedback.
    let (_, dash) = call(&app, &lea, "GET", "/api/v1/qa/dashboard?weeks=4", None).await;
    assert_eq!(dash["reviews"], 1, "{dash}");
    assert!(dash["criteria"].as_array().unwrap().is_empty(), "calibration failures stay out: {dash}");
});

both_backends!(feedback_is_answered_within_its_time, |app: TestApp| async move {
    let (key, rev, _, lead, ..) = people(&app).await;
    call(
        &app,
        &key,
        "POST",
        "/api/v1/handlings",
        Some(handling("L-1", "bpo-a", json!([{"kind": "data_disclosed"}]), true)),
    )
    .await;
    let (_, r) =
        call(&app, &rev, "POST", "/api/v1/handlings/L-1/reviews", Some(json!({"ratings": ratings(&[])}))).await;
    let id = r["review_id"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::days(6));
    let (s, e) = call(
        &app,
        &lead,
        "POST",
        &format!("/api/v1/qa/feedback/{id}"),
        Some(json!({"action": "dispute", "reason": "late"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("was due by"), "{e}");
});

both_backends!(qa_pages_for_reviewers_and_providers, |app: TestApp| async move {
    let (key, ..) = people(&app).await;
    add_user(&app, "tia", Role::Tier2Agent).await;
    call(
        &app,
        &key,
        "POST",
        "/api/v1/handlings",
        Some(handling("P-1", "bpo-a", json!([{"kind": "data_disclosed"}]), false)),
    )
    .await;
    let rev = sign_in(&app, "rev").await;
    let inbox = rev.get(&app, "/qa").await;
    assert!(inbox.body.contains("id=\"h-P-1\""), "{}", inbox.body);
    let page = rev.get(&app, "/qa/handlings/P-1").await;
    assert!(
        page.body.contains("&#60;script&#62;") && !page.body.contains("<script>alert"),
        "the transcript is inert: {}",
        page.body
    );
    let form = "r_identity_before_disclosure=0&r_refund_within_policy=1&r_verified_account_change=1&r_no_tipping_off=1&r_sop_followed=4&r_escalated_right=na&r_documented=3&r_tone=4&comment=no+check&session_id=";
    let done = rev.post(&app, "/qa/handlings/P-1/score", form).await;
    assert_eq!(done.location.as_deref(), Some("/qa/handlings/P-1?done=scored"));
    let again = rev.post(&app, "/qa/handlings/P-1/score", form).await;
    assert!(again.location.unwrap().contains("error="), "an error goes back to the form");
    for path in ["/qa/dashboard", "/qa/sessions", "/qa/scorecards"] {
        assert_eq!(rev.get(&app, path).await.status, StatusCode::OK, "{path}");
    }
    let lead = sign_in(&app, "lead").await;
    let fb = lead.get(&app, "/qa/feedback").await;
    assert!(fb.body.contains("P-1"), "{}", fb.body);
    assert_eq!(lead.get(&app, "/qa").await.status, StatusCode::FORBIDDEN);
    let tia = sign_in(&app, "tia").await;
    assert_eq!(tia.get(&app, "/qa").await.status, StatusCode::FORBIDDEN);
});
