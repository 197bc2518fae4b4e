//! `riskdesk rules …`, `riskdesk lists …`, `riskdesk backtest` and `riskdesk score`: the rule and
//! list life cycle from a terminal, on the configured database. Changes are recorded under the
//! operating-system user's name.

use crate::app;
use crate::config::Config;
use anyhow::Context;
use clap::{Args, Subcommand};
use riskdesk_domain::Verdict;
use riskdesk_domain::intake::parse_order_json;
use riskdesk_rules::schema::{FUNCTIONS, catalogue};
use riskdesk_service::access::local;
use riskdesk_service::lists::NewListEntry;
use riskdesk_service::replay::Replay;
use riskdesk_service::rules::{Backtest, Candidate, SetStats, validate};
use riskdesk_service::{Service, ServiceError};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum RulesCmd {
    /// Check a rule file: every syntax, type and argument error with rule, line and column.
    Validate { file: PathBuf },
    /// Replay stored history with a rule file (or a saved version) beside the live set.
    Backtest(BacktestArgs),
    /// Save a rule file as a new version and make it live on every instance.
    Publish {
        file: PathBuf,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Make the previously live version live again.
    Rollback,
    /// Run a rule file beside the live set on incoming orders, without affecting decisions.
    Shadow {
        file: Option<PathBuf>,
        /// Stop shadowing.
        #[arg(long, conflicts_with = "file")]
        stop: bool,
    },
    /// Versions, which one is live or shadowing, and the history of changes.
    List,
    /// Print a version's rule file (default: the live one).
    Show { version: Option<i64> },
    /// Print the variables and functions rules can use.
    Schema,
}

#[derive(Args)]
pub struct BacktestArgs {
    /// Rule file to test (default: the live version).
    file: Option<PathBuf>,
    /// A saved version instead of a file.
    #[arg(long, conflicts_with = "file")]
    version: Option<i64>,
    /// Ground truth CSV (order_id,customer_id,pattern) for a per-pattern table [default:
    /// demo-truth.csv in the data directory when it exists].
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Print the full result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum ListsCmd {
    /// Add one entry.
    Add {
        /// block or allow
        #[arg(long)]
        list: String,
        /// email, email_domain, phone, device, card, bin, iban, ip, address, customer
        #[arg(long)]
        kind: String,
        #[arg(long)]
        value: String,
        #[arg(long)]
        reason: String,
        /// RFC 3339 time after which the entry no longer matches.
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Import a CSV file with the header list,kind,value,reason[,expires_at]; all or nothing.
    Import { file: PathBuf },
    /// Remove an entry by id.
    Remove { id: String },
    /// Print the active entries.
    Show,
}

fn actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()))
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

/// Prints every validation error on stderr and fails.
fn explain(file: &Path, e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Rules(errs) => {
            for x in &errs.0 {
                eprintln!("{}:{x}", file.display());
            }
            anyhow::anyhow!("{} has {} error(s)", file.display(), errs.0.len())
        }
        ServiceError::ListLines(lines) => {
            for l in &lines {
                eprintln!("{}: line {}: {}: {}", file.display(), l.line, l.field, l.message);
            }
            anyhow::anyhow!("{} has {} bad line(s); nothing was imported", file.display(), lines.len())
        }
        other => other.into(),
    }
}

pub async fn rules(cfg: &Config, cmd: RulesCmd) -> anyhow::Result<()> {
    if let RulesCmd::Validate { file } = &cmd {
        let v = validate(&read(file)?).map_err(|e| explain(file, e))?.1;
        println!("{}: valid, {} rules ({} enabled)", file.display(), v.rules, v.enabled);
        for n in v.needs {
            println!("  reads {n}");
        }
        return Ok(());
    }
    if let RulesCmd::Schema = cmd {
        for v in catalogue() {
            println!("{:<40} {:<13} {}", v.name, v.ty.name(), v.doc);
        }
        println!();
        for f in FUNCTIONS {
            println!("{:<52} {}", f.signature, f.doc);
        }
        return Ok(());
    }
    let service = app::open_service(cfg).await?;
    let cap = local::rules(&actor());
    match cmd {
        RulesCmd::Validate { .. } | RulesCmd::Schema => unreachable!("handled above"),
        RulesCmd::Backtest(args) => backtest(cfg, &service, args).await?,
        RulesCmd::Publish { file, note } => {
            let (version, v) = service.save_ruleset(&cap, &read(&file)?, &note).await.map_err(|e| explain(&file, e))?;
            service.publish_ruleset(&cap, version).await?;
            println!("published version {version} ({} rules); every instance uses it within a second", v.rules);
        }
        RulesCmd::Rollback => {
            let v = service.rollback_ruleset(&cap).await?;
            println!("rolled back: version {v} is live");
        }
        RulesCmd::Shadow { file, stop } => {
            if stop || file.is_none() {
                service.shadow_ruleset(&cap, None).await?;
                println!("shadowing stopped");
            } else if let Some(file) = file {
                let (version, _) =
                    service.save_ruleset(&cap, &read(&file)?, "shadow").await.map_err(|e| explain(&file, e))?;
                service.shadow_ruleset(&cap, Some(version)).await?;
                println!("version {version} now shadows the live set");
            }
        }
        RulesCmd::List => {
            let (versions, control, changes) = service.rulesets(&local::rules_viewer()).await?;
            for r in versions {
                let mark = if control.live_version == Some(r.version) {
                    "live"
                } else if control.shadow_version == Some(r.version) {
                    "shadow"
                } else {
                    ""
                };
                println!("{:>4}  {:<6} {}  {:<20} {}", r.version, mark, r.created_at.to_rfc3339(), r.author, r.note);
            }
            for c in changes {
                println!(
                    "change {:>3}: {} {} by {} at {}",
                    c.seq,
                    c.action,
                    c.version.map_or(String::new(), |v| v.to_string()),
                    c.actor,
                    c.at.to_rfc3339()
                );
            }
        }
        RulesCmd::Show { version } => {
            let v = match version {
                Some(v) => v,
                None => service.rulesets(&local::rules_viewer()).await?.1.live_version.context("no live rule set")?,
            };
            print!("{}", service.ruleset(&local::rules_viewer(), v).await?.source);
        }
    }
    Ok(())
}

fn load_truth(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = HashMap::new();
    for rec in rdr.records() {
        let rec = rec?;
        if let (Some(order), Some(pattern)) = (rec.get(0), rec.get(2)) {
            out.insert(order.to_owned(), pattern.to_owned());
        }
    }
    Ok(out)
}

pub async fn backtest(cfg: &Config, service: &Service, args: BacktestArgs) -> anyhow::Result<()> {
    let candidate = match (&args.file, args.version) {
        (Some(f), _) => Candidate::Source(read(f)?),
        (None, Some(v)) => Candidate::Version(v),
        (None, None) => Candidate::Version(service.screener().live().context("no live rule set")?.version),
    };
    let default_truth = cfg.data_dir.join(crate::demo::TRUTH_FILE);
    let truth_path = args.truth.or_else(|| default_truth.exists().then_some(default_truth));
    let truth = truth_path.as_deref().map(load_truth).transpose()?;
    let result = service
        .backtest_with_truth(&local::rules_viewer(), candidate, truth)
        .await
        .map_err(|e| explain(args.file.as_deref().unwrap_or(Path::new("rules")), e))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render(&result));
    }
    Ok(())
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1} %", v * 100.0))
}

fn column(s: &SetStats) -> [String; 7] {
    [
        s.verdicts.approve.to_string(),
        s.verdicts.review.to_string(),
        s.verdicts.decline.to_string(),
        s.flagged.to_string(),
        s.flagged_fraud.to_string(),
        pct(s.precision),
        pct(s.recall),
    ]
}

/// The backtest as a Markdown table (pasted as is into READMEs and tickets).
pub fn render(b: &Backtest) -> String {
    let mut out = String::new();
    let name = |s: &SetStats| s.version.map_or("candidate".into(), |v| format!("version {v}"));
    out.push_str(&format!(
        "{} orders judged ({} fraud: confirmed or charged back; {} confirmed legitimate) in {:.2} s (+{:.2} s loading and replaying history)\n\n",
        b.orders, b.fraud_orders, b.legit_orders, b.replay_seconds, b.load_seconds
    ));
    let cand = column(&b.candidate);
    let live = b.live.as_ref().map(column);
    out.push_str(&format!(
        "| | {} |{}\n|---|---:|{}\n",
        name(&b.candidate),
        b.live.as_ref().map_or(String::new(), |l| format!(" live ({}) |", name(l))),
        if live.is_some() { "---:|" } else { "" }
    ));
    for (i, label) in
        ["approve", "review", "decline", "flagged", "flagged fraud", "precision", "recall"].iter().enumerate()
    {
        out.push_str(&format!(
            "| {label} | {} |{}\n",
            cand[i],
            live.as_ref().map_or(String::new(), |l| format!(" {} |", l[i]))
        ));
    }
    if let Some(d) = &b.difference {
        out.push_str(&format!(
            "\nnewly flagged {} ({} fraud); no longer flagged {} ({} fraud); verdict changed on {}\n",
            d.newly_flagged, d.newly_flagged_fraud, d.no_longer_flagged, d.no_longer_flagged_fraud, d.verdict_changed
        ));
    }
    if !b.by_pattern.is_empty() {
        out.push_str("\n| planted pattern | orders | flagged | declined | caught |\n|---|---:|---:|---:|---:|\n");
        let (mut n, mut f) = (0, 0);
        for p in &b.by_pattern {
            n += p.orders;
            f += p.flagged;
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                p.pattern,
                p.orders,
                p.flagged,
                p.declined,
                pct(Some(p.flagged as f64 / p.orders.max(1) as f64))
            ));
        }
        out.push_str(&format!("| all | {n} | {f} | | {} |\n", pct(Some(f as f64 / n.max(1) as f64))));
    }
    out.push_str("\n| rule | hits | on fraud | precision |\n|---|---:|---:|---:|\n");
    for r in &b.rules {
        out.push_str(&format!("| {} | {} | {} | {} |\n", r.rule, r.hits, r.fraud_hits, pct(r.precision)));
    }
    out
}

pub async fn lists(cfg: &Config, cmd: ListsCmd) -> anyhow::Result<()> {
    let service = app::open_service(cfg).await?;
    let cap = local::rules(&actor());
    match cmd {
        ListsCmd::Add { list, kind, value, reason, expires_at } => {
            let e = NewListEntry { list, kind, value, reason, expires_at };
            let added = service.add_list_entries(&cap, &[e]).await.map_err(|e| explain(Path::new("entry"), e))?;
            for a in added {
                println!("added {} ({} {} {})", a.id, a.list.as_str(), a.kind.as_str(), a.value);
            }
        }
        ListsCmd::Import { file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let added = service.import_list_csv(&cap, &bytes).await.map_err(|e| explain(&file, e))?;
            println!("imported {} entries", added.len());
        }
        ListsCmd::Remove { id } => {
            service.remove_list_entry(&cap, &id).await?;
            println!("removed {id}");
        }
        ListsCmd::Show => {
            for e in service.list_entries(&local::rules_viewer()).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.list.as_str(),
                    e.kind.as_str(),
                    e.value,
                    e.reason,
                    e.author,
                    e.expires_at.map_or("-".into(), |t| t.to_rfc3339())
                );
            }
        }
    }
    Ok(())
}

/// `riskdesk score FILE`: decisions for a JSONL file of orders, screened in time order against
/// the history in the file itself. With `--rules` it needs no database.
pub async fn score(cfg: &Config, file: &Path, rules: Option<&Path>, out: Option<&Path>) -> anyhow::Result<()> {
    let (set, version, hasher, lists) = match rules {
        Some(r) => {
            let (set, _) = validate(&read(r)?).map_err(|e| explain(r, e))?;
            (Arc::new(set), 0, app::ephemeral_hasher()?, Default::default())
        }
        None => {
            let service = app::open_service(cfg).await?;
            let live = service.screener().live().context("no live rule set; pass --rules FILE")?;
            (live.set, live.version, service.hasher().clone(), service.screener().lists())
        }
    };
    let reader =
        std::io::BufReader::new(std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?);
    let mut orders = Vec::new();
    let mut bad = 0usize;
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_order_json(line.as_bytes()) {
            Ok(o) => orders.push(o),
            Err(e) => {
                bad += 1;
                eprintln!("{}:{}: {}: {} ({})", file.display(), i + 1, e.field, e.detail, e.code);
            }
        }
    }
    orders.sort_by_key(|o| o.placed_at);
    let mut replay = Replay::new(vec![(version, set)], lists).with_return_window(cfg.disputes.returns);
    let mut sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut counts: HashMap<Verdict, usize> = HashMap::new();
    for o in &orders {
        let entities: Vec<_> = o.entities().iter().map(|e| hasher.key_of(e)).collect();
        let d = replay.order(o, &entities).remove(0);
        *counts.entry(d.decision).or_default() += 1;
        serde_json::to_writer(&mut sink, &d)?;
        sink.write_all(b"\n")?;
    }
    sink.flush()?;
    eprintln!(
        "{} orders scored: {} approve, {} review, {} decline; {} lines rejected",
        orders.len(),
        counts.get(&Verdict::Approve).unwrap_or(&0),
        counts.get(&Verdict::Review).unwrap_or(&0),
        counts.get(&Verdict::Decline).unwrap_or(&0),
        bad
    );
    Ok(())
}
