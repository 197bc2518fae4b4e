//! Rule evaluation alone: a 50-rule set over 1,000 prepared order frames, with the reasons of
//! every hit built (rule, points, the values that fired it). The same rules and orders
//! (bench/rules-50.json, bench/orders-1000.json) drive bench/zen-compare, which runs them in
//! GoRules ZEN for the ratio. Run: `cargo bench -p riskdesk-rules --bench eval`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use riskdesk_rules::schema::{VARS, Var};
use riskdesk_rules::{RuleSet, Scratch, Value};
use serde_json::Value as J;
use std::hint::black_box;

fn load(path: &str) -> J {
    let p = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))).unwrap()
}

/// The spec as a riskdesk rule file.
pub fn rule_file(spec: &J) -> String {
    let mut out = String::from("[scoring]\nreview_at = 50\ndecline_at = 80\n\n");
    for r in spec["rules"].as_array().unwrap() {
        let conds: Vec<String> = r["conds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let var = c["var"].as_str().unwrap();
                match c["type"].as_str().unwrap() {
                    "bool" => var.to_owned(),
                    "string" => format!("{var} == {}", c["value"]),
                    "double" => format!("{var} {} {:.1}", c["op"].as_str().unwrap(), c["value"].as_f64().unwrap()),
                    _ => format!("{var} {} {}", c["op"].as_str().unwrap(), c["value"]),
                }
            })
            .collect();
        out.push_str(&format!(
            "[[rule]]\nid = \"{}\"\nname = \"{}\"\nexpression = '{}'\naction = \"score\"\npoints = {}\n\n",
            r["id"].as_str().unwrap(),
            r["id"].as_str().unwrap(),
            conds.join(" && "),
            r["points"]
        ));
    }
    out
}

fn frames(spec: &J, orders: &J, set: &RuleSet) -> Vec<Vec<Value>> {
    orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let mut f = vec![Value::Null; set.frame_len()];
            for v in Var::ALL {
                // Every variable the catalogue has gets a plausible value; the spec's fields
                // overwrite theirs.
                f[v.slot()] = match VARS[v.slot()].ty {
                    riskdesk_rules::value::Ty::Bool => Value::Bool(false),
                    riskdesk_rules::value::Ty::Int => Value::Int(0),
                    riskdesk_rules::value::Ty::Double => Value::Double(0.0),
                    riskdesk_rules::value::Ty::List => Value::List(Vec::new()),
                    _ => Value::str(""),
                };
            }
            for fld in spec["fields"].as_array().unwrap() {
                let var = Var::by_name(fld["var"].as_str().unwrap()).unwrap();
                let x = &o[fld["field"].as_str().unwrap()];
                f[var.slot()] = match fld["type"].as_str().unwrap() {
                    "double" => Value::Double(x.as_f64().unwrap()),
                    "int" => Value::Int(x.as_i64().unwrap()),
                    "bool" => Value::Bool(x.as_bool().unwrap()),
                    _ => Value::str(x.as_str().unwrap()),
                };
            }
            f
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let spec = load("bench/rules-50.json");
    let orders = load("bench/orders-1000.json");
    let set = RuleSet::from_toml(&rule_file(&spec)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.rules.len(), 50);
    let frames = frames(&spec, &orders, &set);
    let mut hits = 0usize;
    let mut scratch = Scratch::default();
    for f in &frames {
        hits += set.evaluate(f, &mut scratch).reasons.len();
    }
    eprintln!(
        "50 rules over {} orders: {hits} hits ({:.2} per order)",
        frames.len(),
        hits as f64 / frames.len() as f64
    );

    let mut g = c.benchmark_group("rules50");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("evaluate_with_reason_text", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            for f in &frames {
                black_box(set.evaluate(black_box(f), &mut scratch));
            }
        })
    });
    g.bench_function("evaluate_recording_reasons", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            for f in &frames {
                black_box(set.evaluate_recorded(black_box(f), &mut scratch));
            }
        })
    });
    g.bench_function("hits_and_verdict", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            for f in &frames {
                set.evaluate_into(black_box(f), &mut scratch);
                black_box(set.verdict(&scratch.hits));
            }
        })
    });
    g.finish();

    // The same rules in the cel crate's own interpreter (the reference implementation of the
    // language in Rust), context built once per order, for the record of the choice.
    let mut g = c.benchmark_group("rules50_cel_interpreter");
    g.throughput(Throughput::Elements(100));
    let programs: Vec<cel::Program> = spec["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let conds: Vec<String> = r["conds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let f = c["field"].as_str().unwrap();
                    match c["type"].as_str().unwrap() {
                        "bool" => f.to_owned(),
                        "string" => format!("{f} == {}", c["value"]),
                        "double" => format!("{f} {} {:.1}", c["op"].as_str().unwrap(), c["value"].as_f64().unwrap()),
                        _ => format!("{f} {} {}", c["op"].as_str().unwrap(), c["value"]),
                    }
                })
                .collect();
            cel::Program::compile(&conds.join(" && ")).unwrap()
        })
        .collect();
    let ordered: Vec<&J> = orders.as_array().unwrap().iter().take(100).collect();
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            for o in &ordered {
                let mut ctx = cel::Context::default();
                for (k, v) in o.as_object().unwrap() {
                    match v {
                        J::Bool(x) => ctx.add_variable_from_value(k.clone(), *x),
                        J::String(s) => ctx.add_variable_from_value(k.clone(), s.clone()),
                        J::Number(n) if n.is_i64() => ctx.add_variable_from_value(k.clone(), n.as_i64().unwrap()),
                        J::Number(n) => ctx.add_variable_from_value(k.clone(), n.as_f64().unwrap()),
                        _ => {}
                    }
                }
                for p in &programs {
                    black_box(p.execute(&ctx).ok());
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
