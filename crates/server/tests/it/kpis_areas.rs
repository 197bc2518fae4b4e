//! The areas' KPIs (cases, disputes, CSAT) are summed from quarter-hour buckets that triggers
//! keep; this recomputes each from the raw rows, per local day across a change of summer time,
//! and compares it with the API after inserts, updates and deletes of every kind and after a
//! rebuild, on both backends.

use crate::common::*;
use chrono::{NaiveDate, TimeZone};
use riskdesk_domain::Clock;
use riskdesk_service::Scope;
use serde_json::Value;
use std::collections::BTreeMap;

const ZONE: chrono_tz::Tz = chrono_tz::Europe::Berlin;
const FROM: &str = "2026-03-20";
const TO: &str = "2026-06-03";

/// Raw SQL on the app's own database (the same text runs on both dialects).
enum Db {
    Lite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Db {
    async fn of(app: &TestApp) -> Db {
        match &app._guard {
            Guard::Dir(d) => Db::Lite(
                sqlx::SqlitePool::connect(&format!("sqlite://{}", d.path().join("db").display())).await.unwrap(),
            ),
            Guard::Pg(db) => Db::Pg(sqlx::PgPool::connect(&db.url).await.unwrap()),
            Guard::None => unreachable!(),
        }
    }

    async fn exec(&self, sql: &str) {
        match self {
            Db::Lite(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()),
            Db::Pg(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Rows of nullable integers.
    async fn ints(&self, sql: &str) -> Vec<Vec<Option<i64>>> {
        use sqlx::Row;
        macro_rules! read {
            ($p:expr) => {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all($p)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| (0..r.len()).map(|i| r.try_get::<Option<i64>, _>(i).unwrap()).collect())
                    .collect()
            };
        }
        match self {
            Db::Lite(p) => read!(p),
            Db::Pg(p) => read!(p),
        }
    }
}

/// A small deterministic generator.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: i64) -> i64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as i64
    }
}

fn ms(date: &str) -> i64 {
    let d: NaiveDate = date.parse().unwrap();
    ZONE.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).single().unwrap().timestamp_millis()
}

fn local_day(ms: i64) -> String {
    ZONE.timestamp_millis_opt(ms).unwrap().date_naive().to_string()
}

async fn seed(db: &Db) {
    let mut g = Lcg(7);
    let (lo, span) = (ms("2026-03-15"), ms("2026-06-06") - ms("2026-03-15"));
    let mut cases = Vec::new();
    for i in 0..400 {
        let created = lo + g.next(span);
        let due = created + 4 * 3_600_000;
        let answered = if g.next(5) == 0 { "NULL".to_owned() } else { (created + g.next(10 * 3_600_000)).to_string() };
        let resolved = if g.next(5) < 3 { (created + g.next(100 * 3_600_000)).to_string() } else { "NULL".into() };
        cases.push(format!(
            "('kc{i}', 'fraud_investigation', 't', '', 'normal', 3, 1, 'investigating', 1, 'fraud', NULL, 'user:lea', NULL, NULL, NULL, \
             {created}, {created}, {answered}, {due}, {}, 0, NULL, NULL, NULL, {resolved}, NULL, NULL, NULL, 0, 1)",
            created + 48 * 3_600_000
        ));
    }
    db.exec(&format!(
        "INSERT INTO cases (id, kind, title, description, priority, tier, priority_rank, status, is_open, team, owner, opened_by, source, \
         source_ref, open_key, created_at, updated_at, first_response_at, first_response_due_at, resolution_due_at, paused_secs, \
         paused_since, resolution, summary, resolved_at, closed_at, warned_at, escalated_at, reopened, version) VALUES {}",
        cases.join(", ")
    ))
    .await;
    let mut disputes = Vec::new();
    for i in 0..200 {
        let opened = lo + g.next(span);
        let stage = ["inquiry", "chargeback", "chargeback", "pre_arbitration"][g.next(4) as usize];
        let status = ["needs_response", "under_review", "won", "lost", "accepted", "expired"][g.next(6) as usize];
        let closed = if matches!(status, "won" | "lost" | "accepted" | "expired") {
            (opened + g.next(40 * 86_400_000)).to_string()
        } else {
            "NULL".into()
        };
        disputes.push(format!(
            "('kd{i}', 'stripe', 'dp_{i}', NULL, NULL, NULL, NULL, '{stage}', '{status}', NULL, 'fraud', 'visa', 1000, 'EUR', NULL, 0, 0, 0, 0, \
             {opened}, '2026-04', {opened}, {closed}, NULL, NULL, NULL, NULL, 1)"
        ));
    }
    db.exec(&format!(
        "INSERT INTO disputes (dispute_id, provider, provider_ref, payment_ref, order_id, customer_id, case_id, stage, status, reason_code, \
         reason_family, network, amount_minor, currency, due_by, due_key, is_open, fraud_report, funds_minor, opened_at, month, updated_at, \
         closed_at, warned_at, escalated_at, submitted_at, submitted_by, version) VALUES {}",
        disputes.join(", ")
    ))
    .await;
    let mut handlings = Vec::new();
    for i in 0..300 {
        let closed = lo + g.next(span);
        let csat = if g.next(3) == 0 { "NULL".to_owned() } else { (1 + g.next(5)).to_string() };
        handlings.push(format!(
            "('kh{i}', 'a{}', 'bpo', 't1', 'phone', {closed}, '2026-W14', NULL, NULL, '[]', '[]', 1, {csat}, '', {closed}, '[]', NULL, NULL)",
            i % 7
        ));
    }
    db.exec(&format!(
        "INSERT INTO handlings (handling_id, agent, provider, team, channel, closed_at, week, case_ref, customer_id, order_ids, actions, \
         identity_checked, csat, transcript, received_at, picks, scorecard_version, review_status) VALUES {}",
        handlings.join(", ")
    ))
    .await;
}

/// Each KPI per local day, (numerator, denominator), from the rows.
async fn expected(db: &Db, now: i64) -> BTreeMap<&'static str, BTreeMap<String, (f64, f64)>> {
    let (a, b) = (ms(FROM), ms(&(TO.parse::<NaiveDate>().unwrap() + chrono::Duration::days(1)).to_string()));
    let mut out: BTreeMap<&'static str, BTreeMap<String, (f64, f64)>> = BTreeMap::new();
    let mut add = |code: &'static str, at: i64, n: f64, d: f64| {
        if at >= a && at < b {
            let e = out.entry(code).or_default().entry(local_day(at)).or_default();
            e.0 += n;
            e.1 += d;
        }
    };
    for r in db
        .ints("SELECT created_at, first_response_at, first_response_due_at, resolved_at, resolution_due_at FROM cases")
        .await
    {
        let (created, answered, due, resolved, rdue) = (r[0].unwrap(), r[1], r[2].unwrap(), r[3], r[4].unwrap());
        match answered {
            Some(t) => add("case_first_response_sla_rate", created, f64::from(u8::from(t <= due)), 1.0),
            None if due <= now => add("case_first_response_sla_rate", created, 0.0, 1.0),
            None => {}
        }
        if let Some(t) = resolved {
            add("case_resolution_sla_rate", t, f64::from(u8::from(t <= rdue)), 1.0);
            add("case_resolution_hours", t, (t - created) as f64 / 3_600_000.0, 1.0);
        }
    }
    for r in db
        .ints(
            "SELECT opened_at, closed_at, CAST(CASE WHEN stage = 'inquiry' THEN 0 ELSE 1 END AS BIGINT), \
             CAST(CASE status WHEN 'won' THEN 1 WHEN 'lost' THEN 0 WHEN 'accepted' THEN 0 WHEN 'expired' THEN 0 ELSE -1 END AS BIGINT) FROM disputes",
        )
        .await
    {
        if r[2] == Some(1) {
            add("chargeback_ratio", r[0].unwrap(), 1.0, 0.0);
        }
        if let (Some(closed), Some(won)) = (r[1], r[3])
            && won >= 0
        {
            add("dispute_win_rate", closed, won as f64, 1.0);
        }
    }
    for r in db.ints("SELECT closed_at, csat FROM handlings").await {
        if let Some(c) = r[1] {
            add("csat", r[0].unwrap(), c as f64, 1.0);
        }
    }
    out
}

async fn compare(app: &TestApp, key: &str, db: &Db, when: &str) {
    let want = expected(db, app.clock.now().timestamp_millis()).await;
    let (s, got) =
        app.call("GET", &format!("/api/v1/kpis/areas?from={FROM}&to={TO}&period=day"), Some(key), None).await;
    assert_eq!(s, axum::http::StatusCode::OK, "{got}");
    let kpis = got["kpis"].as_array().unwrap();
    for (code, days) in &want {
        let k = kpis.iter().find(|k| k["kpi"]["code"] == *code).unwrap_or_else(|| panic!("{code} missing"));
        let close = |v: &Value, x: f64, what: &str| {
            assert!((v.as_f64().unwrap() - x).abs() < 0.006, "{when}: {code} {what}: API {v}, rows {x}");
        };
        let (n, d) = days.values().fold((0.0, 0.0), |(n, d), (a, b)| (n + a, d + b));
        close(&k["total"]["numerator"], n, "total numerator");
        if *code != "chargeback_ratio" {
            close(&k["total"]["denominator"], d, "total denominator");
        }
        let points = k["points"].as_array().unwrap();
        assert_eq!(points.len(), 76, "{when}: a point per local day");
        for p in points {
            let (n, d) = days.get(p["from"].as_str().unwrap()).copied().unwrap_or_default();
            close(&p["numerator"], n, &format!("{} numerator", p["from"]));
            if *code != "chargeback_ratio" {
                close(&p["denominator"], d, &format!("{} denominator", p["from"]));
            }
        }
    }
    assert_eq!(want.len(), 6, "{when}: every bucketed KPI has rows in the range");
}

both_backends!(area_kpis_equal_their_recount_from_the_rows, |app: TestApp| async move {
    let key = app.service.create_api_key("finance", &[Scope::Kpis]).await.unwrap().secret;
    let db = Db::of(&app).await;
    seed(&db).await;
    compare(&app, &key, &db, "after inserts").await;

    // Answers, reopenings, paused SLAs, disputes decided and reversed, rows erased.
    for sql in [
        "UPDATE cases SET first_response_at = created_at + 3600000 WHERE first_response_at IS NULL AND id LIKE 'kc1%'",
        "UPDATE cases SET resolved_at = NULL WHERE id LIKE 'kc2%'",
        "UPDATE cases SET resolution_due_at = resolution_due_at + 86400000, first_response_due_at = first_response_due_at + 7200000 WHERE id LIKE 'kc3%'",
        "UPDATE cases SET title = 'renamed' WHERE id LIKE 'kc4%'",
        "DELETE FROM cases WHERE id LIKE 'kc5%'",
        "UPDATE disputes SET status = 'won', closed_at = opened_at + 86400000 WHERE status IN ('needs_response', 'under_review')",
        "UPDATE disputes SET stage = 'inquiry' WHERE dispute_id LIKE 'kd1%'",
        "UPDATE disputes SET status = 'under_review', closed_at = NULL WHERE dispute_id LIKE 'kd2%'",
        "DELETE FROM disputes WHERE dispute_id LIKE 'kd3%'",
        "UPDATE handlings SET csat = NULL WHERE handling_id LIKE 'kh1%'",
        "UPDATE handlings SET csat = 5, closed_at = closed_at + 86400000 WHERE handling_id LIKE 'kh2%'",
        "DELETE FROM handlings WHERE handling_id LIKE 'kh3%'",
    ] {
        db.exec(sql).await;
    }
    compare(&app, &key, &db, "after updates and deletes").await;

    // Time passes: unanswered cases fall due at the time of reading.
    app.clock.advance(chrono::Duration::days(10));
    compare(&app, &key, &db, "ten days later").await;

    // A rebuild recounts the buckets from the rows to the same figures.
    db.exec("UPDATE kpi_area_q SET num = num + 1000").await;
    app.service.rebuild_kpis().await.unwrap();
    compare(&app, &key, &db, "after a rebuild").await;
});
