//! Throughput of GoRules ZEN (`zen-engine`) on the 50-rule set that riskdesk
//! benchmarks (`../rules-50.json`, `../orders-1000.json`).

use std::future::Future;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde::Deserialize;
use serde_json::{Value, json};
use zen_engine::loader::MemoryLoader;
use zen_engine::model::DecisionContent;
use zen_engine::{Decision, DecisionEngine, EvaluationError, Variable};

// Relative to this crate's directory, read at run time (whatever the cwd).
const RULES: &str = "../rules-50.json";
const ORDERS: &str = "../orders-1000.json";
const EXPECTED_HITS: usize = 13_554;
const ROUNDS: usize = 10;
const ROUND_TIME: Duration = Duration::from_secs(2);
const KEY: &str = "rules-50";

#[derive(Deserialize)]
struct RuleSet {
    fields: Vec<Field>,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Field {
    field: String,
}

#[derive(Deserialize)]
struct Rule {
    id: String,
    points: i64,
    conds: Vec<Cond>,
}

#[derive(Deserialize)]
struct Cond {
    field: String,
    op: String,
    value: Value,
    #[serde(rename = "type")]
    ty: String,
}

/// One cond as a ZEN unary test, which is evaluated with `$` bound to the
/// column's input field: `> 500`, `<= 1`, `true`, `"invoice"`.
///
/// Numbers are written exactly as they appear in the rules file. ZEN holds
/// every number (input and literal) as a `rust_decimal::Decimal`, so there is
/// no int-vs-double distinction to reproduce: `amount >= 500` and
/// `orders <= 1` compare the same way riskdesk does.
fn unary_cell(c: &Cond) -> Result<String> {
    Ok(match (c.ty.as_str(), c.op.as_str(), &c.value) {
        ("double" | "int", ">" | ">=" | "<" | "<=", Value::Number(n)) => format!("{} {n}", c.op),
        // A bare literal in a unary test means `$ == literal`.
        ("double" | "int", "==", Value::Number(n)) => n.to_string(),
        ("bool", "==", Value::Bool(b)) => b.to_string(),
        ("string", "==", Value::String(_)) => c.value.to_string(), // JSON quoting = ZEN string literal
        _ => bail!("unsupported condition {} {} {} ({})", c.field, c.op, c.value, c.ty),
    })
}

/// Builds the JDM graph `input -> decision table -> output`.
///
/// The table mirrors the riskdesk rule set one row per rule: every rule is an
/// AND of conds over flat input fields, which is exactly a table row (a row
/// matches when all its non-empty input cells pass; empty cells always pass).
/// There is one input column per field, so a row fills only the columns its
/// conds use. Hit policy `collect` returns every matching row, like riskdesk
/// fires every matching rule, and each row outputs its `rule` id and `points`.
fn build_graph(set: &RuleSet) -> Result<Value> {
    let col_id = |field: &str| format!("in_{field}");
    let inputs: Vec<Value> =
        set.fields.iter().map(|f| json!({ "id": col_id(&f.field), "name": f.field, "field": f.field })).collect();

    let mut rows = Vec::with_capacity(set.rules.len());
    for rule in &set.rules {
        let mut row = serde_json::Map::new();
        row.insert("_id".into(), json!(rule.id));
        for f in &set.fields {
            row.insert(col_id(&f.field), json!(""));
        }
        for c in &rule.conds {
            let cell =
                row.get_mut(&col_id(&c.field)).with_context(|| format!("{}: unknown field {}", rule.id, c.field))?;
            ensure!(cell == "", "{}: two conds on {} (would need one combined cell)", rule.id, c.field);
            *cell = json!(unary_cell(c)?);
        }
        // Output cells are ZEN (standard) expressions: a string literal and a number.
        row.insert("out_rule".into(), json!(json!(rule.id).to_string()));
        row.insert("out_points".into(), json!(rule.points.to_string()));
        rows.push(Value::Object(row));
    }

    Ok(json!({
        "nodes": [
            { "id": "input", "name": "request", "type": "inputNode" },
            {
                "id": "table", "name": "rules", "type": "decisionTableNode",
                "content": {
                    "hitPolicy": "collect",
                    "inputs": inputs,
                    "outputs": [
                        { "id": "out_rule", "name": "rule", "field": "rule" },
                        { "id": "out_points", "name": "points", "field": "points" }
                    ],
                    "rules": rows
                }
            },
            { "id": "output", "name": "response", "type": "outputNode" }
        ],
        "edges": [
            { "id": "e1", "sourceId": "input", "targetId": "table" },
            { "id": "e2", "sourceId": "table", "targetId": "output" }
        ]
    }))
}

/// Number of collected rows (= rule hits) in one evaluation result.
fn hits(result: &Variable) -> Result<usize> {
    match result {
        Variable::Array(rows) => Ok(rows.borrow().len()),
        Variable::Null => Ok(0),
        other => bail!("unexpected result shape: {other}"),
    }
}

/// Runs `ROUNDS` rounds, each evaluating the 1000 orders in full passes until
/// `ROUND_TIME` has elapsed, and prints orders/s per round and the median.
async fn measure<F, Fut>(label: &str, orders: &[Variable], eval: F) -> Result<f64>
where
    F: Fn(Variable) -> Fut,
    Fut: Future<Output = Result<Variable>>,
{
    println!("\n{label}");
    let mut rates = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        let (start, mut done, mut total_hits) = (Instant::now(), 0usize, 0usize);
        while start.elapsed() < ROUND_TIME {
            for order in orders {
                // `Variable` clones are reference-counted (shallow), not copies.
                total_hits += hits(&black_box(eval(order.clone()).await?))?;
            }
            done += orders.len();
        }
        let elapsed = start.elapsed().as_secs_f64();
        ensure!(total_hits == done / orders.len() * EXPECTED_HITS, "hit count drifted during timing");
        let rate = done as f64 / elapsed;
        println!("  round {round:2}: {rate:>10.0} orders/s  ({done} orders in {elapsed:.2} s)");
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = (rates[(ROUNDS - 1) / 2] + rates[ROUNDS / 2]) / 2.0;
    println!("  median  : {median:>10.0} orders/s");
    Ok(median)
}

async fn run() -> Result<()> {
    let read = |rel: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let set: RuleSet = serde_json::from_str(&read(RULES)?)?;
    let orders: Vec<Value> = serde_json::from_str(&read(ORDERS)?)?;
    let content: Arc<DecisionContent> = Arc::new(serde_json::from_value(build_graph(&set)?)?);

    // Prepared context: JSON -> Variable conversion happens once, untimed.
    let orders: Vec<Variable> = orders.into_iter().map(Variable::from).collect();

    let loader = Arc::new(MemoryLoader::default());
    loader.add(KEY, content.as_ref().clone());
    let engine = DecisionEngine::default().with_loader(loader);
    let decision: Decision = engine.create_decision(content.clone())?;
    let mut compiled = decision.clone();
    compiled.compile();

    // ZEN's error type holds `Rc`s (not Send/Sync), so it is stringified for anyhow.
    let zen_err = |e: Box<EvaluationError>| anyhow!("zen evaluation failed: {e}");
    let by_key = |ctx| async { Ok(engine.evaluate(KEY, ctx).await.map_err(zen_err)?.result) };
    let reused = |ctx| async { Ok(decision.evaluate(ctx).await.map_err(zen_err)?.result) };
    let precompiled = |ctx| async { Ok(compiled.evaluate(ctx).await.map_err(zen_err)?.result) };

    // 1. Correctness: every variant must collect the same rows as riskdesk.
    let mut total = 0;
    for order in &orders {
        let counts = [
            hits(&by_key(order.clone()).await?)?,
            hits(&reused(order.clone()).await?)?,
            hits(&precompiled(order.clone()).await?)?,
        ];
        ensure!(counts[0] == counts[1] && counts[1] == counts[2], "variants disagree: {counts:?}");
        total += counts[0];
    }
    let per_order = total as f64 / orders.len() as f64;
    println!(
        "{} rules, {} orders: {total} hits ({per_order:.2}/order), expected {EXPECTED_HITS}: {}",
        set.rules.len(),
        orders.len(),
        if total == EXPECTED_HITS { "OK" } else { "MISMATCH" }
    );
    ensure!(total == EXPECTED_HITS, "hit count mismatch");

    // 2. Single-thread throughput (current-thread runtime, see main).
    measure("engine.evaluate(key): decision looked up in a MemoryLoader per call", &orders, by_key).await?;
    let median = measure("decision created once and reused", &orders, reused).await?;
    let median_compiled =
        measure("decision created once, compile()d (opcode cache + table index), reused", &orders, precompiled).await?;

    // 3. Summary.
    println!(
        "\nzen-engine {}: median {median:.0} orders/s ({} rules, collect), hits per order {per_order:.2} \
         [precompiled: {median_compiled:.0} orders/s]",
        zen_engine::ENGINE_VERSION,
        set.rules.len()
    );
    Ok(())
}

fn main() -> Result<()> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run())
}
