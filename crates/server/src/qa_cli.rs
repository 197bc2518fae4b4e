//! `riskdesk qa …`: quality assurance from the shell, as the local operator (recorded as `cli`).

use crate::app;
use crate::config::Config;
use anyhow::Context;
use clap::Subcommand;
use riskdesk_service::audit::Actor;
use riskdesk_service::{HandlingIntake, QaReviewer, QaViewer, UserAdmin};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum QaCmd {
    /// Import handlings from a CSV (header row) or JSONL (`.jsonl`) file.
    Import { file: PathBuf },
    /// Sampled handlings waiting for review.
    Inbox {
        #[arg(long)]
        provider: Option<String>,
    },
    /// Scores by week and agent, team or provider, as JSON (or CSV with --csv).
    Dashboard {
        #[arg(long, default_value_t = 12)]
        weeks: i64,
        #[arg(long, default_value = "provider")]
        by: String,
        #[arg(long)]
        csv: bool,
    },
    /// Set the provider a provider team lead answers for, or a reviewer's own team.
    Member {
        username: String,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        team: Option<String>,
    },
}

pub async fn qa(cfg: &Config, cmd: QaCmd) -> anyhow::Result<()> {
    let svc = app::open_service(cfg).await?;
    match cmd {
        QaCmd::Import { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let jsonl = file.extension().is_some_and(|e| e == "jsonl");
            let t = std::time::Instant::now();
            let r = svc.import_handlings(&HandlingIntake::local(Actor::cli()), &text, jsonl).await?;
            let s = t.elapsed().as_secs_f64();
            println!(
                "{} created, {} duplicates, {} sampled in {s:.1} s ({:.0} handlings/s)",
                r.created,
                r.duplicates,
                r.sampled,
                (r.created + r.duplicates) as f64 / s.max(1e-9)
            );
        }
        QaCmd::Inbox { provider } => {
            let (items, total) = svc.qa_inbox(&QaReviewer::local(Actor::cli()), provider, None, 200).await?;
            println!("{total} waiting");
            for h in items {
                let why: Vec<&str> = h.picks.iter().map(|p| p.code.as_str()).collect();
                println!(
                    "{}  {:<12} {:<12} {}  {}",
                    h.handling.handling_id,
                    h.handling.agent,
                    h.handling.provider,
                    h.handling.closed_at.format("%Y-%m-%d %H:%M"),
                    why.join(",")
                );
            }
        }
        QaCmd::Dashboard { weeks, by, csv } => {
            let d = svc.qa_dashboard(&QaViewer::local(Actor::cli()), weeks, &by, None).await?;
            if csv {
                println!("week,{by},reviews,avg_score,knockouts");
                for r in &d.rows {
                    println!("{},{},{},{:.1},{}", r.week, r.key, r.reviews, r.avg_score, r.knockouts);
                }
            } else {
                println!("{}", serde_json::to_string_pretty(&d)?);
            }
        }
        QaCmd::Member { username, provider, team } => {
            svc.set_qa_member(&UserAdmin::local(Actor::cli()), &username, provider, team).await?;
            println!("{username}: set");
        }
    }
    Ok(())
}
