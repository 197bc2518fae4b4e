//! Every KPI table as CSV, for the API and the pages alike.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use riskdesk_domain::kpis::ORDER_KPIS;
use riskdesk_service::kpis::areas::AreaSeries;
use riskdesk_service::kpis::{KpiTable, OrdersBehind, RuleRow};

/// A cell a spreadsheet will not run: a leading `=`, `+`, `-` or `@` would start a formula, and
/// segments (channels, brands) come from the shops.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.6}")).unwrap_or_default()
}

fn respond(name: &str, w: csv::Writer<Vec<u8>>) -> Response {
    let body = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"riskdesk-{name}.csv\"")),
        ],
        body,
    )
        .into_response()
}

pub fn table(t: &KpiTable) -> Response {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["from".to_owned(), "to".into(), t.by.into(), "kpi".into(), "numerator".into(), "denominator".into(), "value".into()];
    head.truncate(7);
    let _ = w.write_record(&head);
    let rows = std::iter::once(&t.total).chain(t.rows.iter());
    for r in rows {
        for d in ORDER_KPIS {
            let f = r.kpis[d.code];
            let _ = w.write_record([
                t.from.to_string(),
                t.to.to_string(),
                cell(&r.segment),
                d.code.to_owned(),
                f.numerator.to_string(),
                f.denominator.to_string(),
                num(f.value),
            ]);
        }
    }
    respond(&format!("kpis-{}", t.by), w)
}

pub fn rules(rows: &[RuleRow]) -> Response {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["rule", "hits", "fraud_hits", "labelled_hits", "precision", "value_saved", "good_held", "declined"]);
    for r in rows {
        let _ = w.write_record([
            cell(&r.rule),
            r.hits.to_string(),
            r.fraud_hits.to_string(),
            r.labelled_hits.to_string(),
            num(r.precision),
            format!("{:.2}", r.value_saved),
            r.good_held.to_string(),
            r.declined.to_string(),
        ]);
    }
    respond("rules", w)
}

pub fn orders(o: &OrdersBehind) -> Response {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "order_id", "placed_at", "channel", "country", "payment_method", "brand", "currency", "total_minor", "rules", "fraud",
        "declined", "reviewed", "held", "released",
    ]);
    for f in &o.orders {
        let c = f.counters;
        let _ = w.write_record([
            cell(&f.order_id),
            f.placed_at.to_rfc3339(),
            cell(&f.channel),
            cell(&f.country),
            cell(&f.payment_method),
            cell(&f.brand),
            f.currency.clone(),
            c.value_minor.to_string(),
            f.rules.join(" "),
            f.fraud.to_string(),
            c.declined.to_string(),
            c.reviewed.to_string(),
            c.held.to_string(),
            c.released.to_string(),
        ]);
    }
    respond("kpi-orders", w)
}

pub fn areas(list: &[AreaSeries]) -> Response {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["area", "kpi", "period", "numerator", "denominator", "value"]);
    for s in list {
        for p in &s.points {
            let _ = w.write_record([
                s.kpi.area.to_owned(),
                s.kpi.code.to_owned(),
                p.period.clone(),
                p.value.numerator.to_string(),
                p.value.denominator.to_string(),
                num(p.value.value),
            ]);
        }
        let _ = w.write_record([
            s.kpi.area.to_owned(),
            s.kpi.code.to_owned(),
            "total".into(),
            s.total.numerator.to_string(),
            s.total.denominator.to_string(),
            num(s.total.value),
        ]);
    }
    respond("area-kpis", w)
}
