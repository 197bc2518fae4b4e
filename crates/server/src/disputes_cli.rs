//! `riskdesk disputes …`: the disputes area from the shell, as the local operator (recorded as
//! `cli` in the audit log).

use crate::app;
use crate::config::Config;
use anyhow::Context;
use clap::Subcommand;
use riskdesk_service::audit::Actor;
use riskdesk_service::disputes::DisputeQuery;
use riskdesk_service::{DisputeImporter, DisputeViewer, DisputeWorker};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DisputesCmd {
    /// Disputes by the provider's deadline.
    List {
        /// open, or statuses separated by commas; all when empty.
        #[arg(long, default_value = "open")]
        status: String,
        #[arg(long)]
        order: Option<String>,
    },
    /// One dispute with its checklist and CE 3.0 candidates, as JSON.
    Show { id: String },
    /// Import a provider's dispute report (CSV).
    Import { file: PathBuf },
    /// Write a dispute's evidence pack (PDF, and the provider fields as JSON beside it).
    Pack { id: String, out: PathBuf },
    /// Visa VAMP and Mastercard ECP by month, with the running month's forecast, as JSON.
    Schemes {
        #[arg(long, default_value_t = 13)]
        months: u32,
    },
    /// Set a month's settled volume from the provider's report.
    Volume { month: String, network: String, settled: i64 },
    /// Run the deadline watch once (the server runs it every minute).
    Sweep,
}

pub async fn disputes(cfg: &Config, cmd: DisputesCmd) -> anyhow::Result<()> {
    let svc = app::open_service(cfg).await?;
    let viewer = DisputeViewer::local(Actor::cli());
    let worker = DisputeWorker::local(Actor::cli());
    let importer = DisputeImporter::local(Actor::cli());
    match cmd {
        DisputesCmd::List { status, order } => {
            let q = DisputeQuery {
                status: Some(status).filter(|s| !s.is_empty()),
                order_id: order,
                limit: Some(500),
                ..Default::default()
            };
            let (rows, total) = svc.disputes(&viewer, &q).await?;
            println!("{total} dispute(s)");
            for d in rows {
                println!(
                    "{}  {:<7} {:<16} {:<15} {:<14} {:>12}  due {}  order {}",
                    d.dispute_id,
                    d.provider,
                    d.stage,
                    d.status,
                    d.reason_family,
                    format!(
                        "{} {}",
                        d.amount["amount"].as_str().unwrap_or(""),
                        d.amount["currency"].as_str().unwrap_or("")
                    ),
                    d.due_by.map_or("—".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
                    d.order_id.as_deref().unwrap_or("—")
                );
            }
        }
        DisputesCmd::Show { id } => {
            println!("{}", serde_json::to_string_pretty(&svc.dispute(&viewer, &id, true).await?)?)
        }
        DisputesCmd::Import { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let r = svc.import_disputes_csv(&importer, &text).await?;
            println!("{} created, {} updated, {} unchanged", r.created, r.updated, r.unchanged);
        }
        DisputesCmd::Pack { id, out } => {
            let pack = svc.dispute_pack(&worker, &id).await?;
            std::fs::write(&out, &pack.pdf)?;
            std::fs::write(out.with_extension("json"), serde_json::to_string_pretty(&pack.json)?)?;
            println!("wrote {} and {}", out.display(), out.with_extension("json").display());
        }
        DisputesCmd::Schemes { months } => {
            println!("{}", serde_json::to_string_pretty(&svc.scheme_ratios(&viewer, months).await?)?)
        }
        DisputesCmd::Volume { month, network, settled } => {
            svc.set_scheme_volume(&importer, &month, &network, settled).await?;
            println!("{month} {network}: {settled} settled (report)");
        }
        DisputesCmd::Sweep => {
            let s = svc.sweep_disputes().await?;
            println!("{} warned, {} escalated, {} case(s) opened", s.warned, s.escalated, s.cases_opened);
        }
    }
    Ok(())
}
