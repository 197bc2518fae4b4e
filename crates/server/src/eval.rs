//! `riskdesk eval`: detection quality on real labelled data. Maps the public e-commerce fraud
//! data set (sign-up and purchase times, value, device, source, browser, sex, age, IP, label)
//! onto intake-v1 orders, screens every order in time order with a rule set (velocity and links
//! see only the past), and reports ROC-AUC and AUPRC of the score on the first 70 % of the
//! timeline (where the rules were tuned) and on the last 30 % (held out).

use anyhow::Context;
use chrono::NaiveDateTime;
use riskdesk_domain::intake::parse_order_json;
use riskdesk_rules::metrics::{average_precision, roc_auc};
use riskdesk_service::replay::Replay;
use riskdesk_service::rules::validate;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The rule set written for this data set, shipped with riskdesk.
pub const EVAL_RULES: &str = include_str!("../../../rules/eval-ecommerce-fraud.toml");

struct Row {
    order: riskdesk_domain::Order,
    fraud: bool,
}

fn parse_time(s: &str) -> anyhow::Result<String> {
    let t = NaiveDateTime::parse_from_str(s.trim(), "%m/%d/%Y %H:%M").with_context(|| format!("bad time {s:?}"))?;
    Ok(t.and_utc().to_rfc3339())
}

/// Country ranges: (lower, upper, country), sorted.
fn load_countries(path: &Path) -> anyhow::Result<Vec<(f64, f64, String)>> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        if let (Some(lo), Some(hi), Some(c)) = (rec.get(0), rec.get(1), rec.get(2))
            && let (Ok(lo), Ok(hi)) = (lo.parse::<f64>(), hi.parse::<f64>())
        {
            out.push((lo, hi, c.to_owned()));
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out)
}

fn country_of(ranges: &[(f64, f64, String)], ip: f64) -> Option<&str> {
    let i = ranges.partition_point(|r| r.0 <= ip);
    let r = ranges.get(i.checked_sub(1)?)?;
    (ip <= r.1).then_some(r.2.as_str())
}

fn load(dir: &Path) -> anyhow::Result<(Vec<Row>, usize)> {
    let countries = load_countries(&dir.join("ip_to_country_partial.csv"))?;
    let path = dir.join("fraud_data_30k.csv");
    let mut rdr = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let (mut rows, mut skipped) = (Vec::new(), 0usize);
    for rec in rdr.records() {
        let Ok(rec) = rec else {
            skipped += 1;
            continue;
        };
        let f: Vec<&str> = rec.iter().map(str::trim).collect();
        if f.len() < 11 || f.iter().any(|x| x.is_empty()) {
            skipped += 1; // the file's last line is cut off
            continue;
        }
        let ip_num: f64 = f[9].parse().unwrap_or(0.0);
        let ip = std::net::Ipv4Addr::from(ip_num as u32).to_string();
        let mut attributes =
            json!({"source": f[5], "browser": f[6], "sex": f[7], "age": f[8].parse::<f64>().unwrap_or(0.0)});
        if let Some(c) = country_of(&countries, ip_num) {
            attributes["country"] = json!(c);
        }
        let o = json!({
            "order_id": format!("F-{}", f[0]),
            "placed_at": parse_time(f[2])?,
            "channel": "webshop",
            "customer": {"customer_id": format!("U-{}", f[0]), "created_at": parse_time(f[1])?},
            "total": {"amount": f[3], "currency": "USD"},
            "payment": {"method": "other"},
            "device": {"device_id": f[4], "ip": ip},
            "attributes": attributes,
        });
        let order = parse_order_json(o.to_string().as_bytes()).map_err(|e| anyhow::anyhow!("row {}: {e}", f[0]))?;
        rows.push(Row { order, fraud: f[10] == "1" });
    }
    rows.sort_by(|a, b| a.order.placed_at.cmp(&b.order.placed_at).then(a.order.order_id.cmp(&b.order.order_id)));
    Ok((rows, skipped))
}

pub fn run(data: &Path, rules: Option<&Path>) -> anyhow::Result<()> {
    let source = match rules {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => EVAL_RULES.to_owned(),
    };
    let (set, _) = validate(&source).map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = std::time::Instant::now();
    let (rows, skipped) = load(data)?;
    let hasher = crate::app::ephemeral_hasher()?;
    let mut replay = Replay::new(vec![(0, Arc::new(set))], Default::default());
    let mut scored = Vec::with_capacity(rows.len());
    let mut hits: HashMap<String, (u64, u64)> = HashMap::new();
    for r in &rows {
        let entities: Vec<_> = r.order.entities().iter().map(|e| hasher.key_of(e)).collect();
        let d = replay.order(&r.order, &entities).remove(0);
        for reason in &d.reasons {
            let h = hits.entry(reason.rule.clone()).or_default();
            h.0 += 1;
            h.1 += u64::from(r.fraud);
        }
        scored.push((f64::from(d.score), r.fraud));
    }
    let cut = rows.len() * 7 / 10;
    let (tune, test) = scored.split_at(cut);
    println!(
        "{} orders ({} skipped), {} fraud ({:.1} %), screened in time order in {:.2} s",
        rows.len(),
        skipped,
        scored.iter().filter(|s| s.1).count(),
        100.0 * scored.iter().filter(|s| s.1).count() as f64 / rows.len().max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    println!(
        "split at {} (first 70 % of the purchase timeline: tuning; last 30 %: held out)\n",
        rows[cut].order.placed_at
    );
    println!("| part | orders | fraud | ROC-AUC | AUPRC |\n|---|---:|---:|---:|---:|");
    for (name, part) in [("first 70 % (tuning)", tune), ("last 30 % (held out)", test), ("all", &scored[..])] {
        let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.3}"));
        println!(
            "| {name} | {} | {} | {} | {} |",
            part.len(),
            part.iter().filter(|s| s.1).count(),
            f(roc_auc(part)),
            f(average_precision(part))
        );
    }
    let mut hits: Vec<_> = hits.into_iter().collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.1.0));
    println!("\n| rule | hits | on fraud |\n|---|---:|---:|");
    for (rule, (n, f)) in hits {
        println!("| {rule} | {n} | {f} |");
    }
    Ok(())
}
