//! `riskdesk privacy …`: privacy operations from the shell, as the local operator (`cli`).

use crate::app;
use crate::config::Config;
use clap::Subcommand;
use riskdesk_service::audit::Actor;
use riskdesk_service::privacy::RequestIn;
use riskdesk_service::{PrivacyIntake, PrivacyViewer, PrivacyWorker};

#[derive(Subcommand)]
pub enum PrivacyCmd {
    /// Requests by days left (open ones; `--all` adds the closed), as a table.
    Requests {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        customer: Option<String>,
    },
    /// One request with its timeline, jobs and per-record outcomes, as JSON.
    Show { request_id: String },
    /// Enters a request received by letter or phone.
    Enter {
        /// access, rectification, erasure, restriction, portability or objection.
        right: String,
        customer_id: String,
        /// When it was received (RFC 3339; default now).
        #[arg(long)]
        received_at: Option<String>,
        #[arg(long, default_value = "letter")]
        channel: String,
    },
    /// Writes a request's access package (JSON) to a file.
    Export {
        request_id: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Runs the jobs not finished (exports, erasures, sweeps): after a crash they go on from
    /// their cursor. The server does this every few seconds.
    Jobs,
    /// Starts a retention sweep and runs it.
    Sweep,
    /// The records of processing (Art. 30), as JSON.
    Records,
    /// The breach register, as JSON.
    Breaches,
}

pub async fn privacy(cfg: &Config, cmd: PrivacyCmd) -> anyhow::Result<()> {
    let svc = app::open_service(cfg).await?;
    let viewer = PrivacyViewer::local(Actor::cli());
    match cmd {
        PrivacyCmd::Requests { all, customer } => {
            println!(
                "{:<32} {:<14} {:<12} {:<18} {:<11} {:>9}",
                "request", "right", "customer", "status", "due", "days left"
            );
            for r in svc.privacy_requests(&viewer, all, customer).await? {
                println!(
                    "{:<32} {:<14} {:<12} {:<18} {:<11} {:>9}",
                    r.record.request_id,
                    r.record.right,
                    r.record.customer_id,
                    r.record.status,
                    r.due_on,
                    r.days_left.map_or("paused".into(), |d| d.to_string())
                );
            }
        }
        PrivacyCmd::Show { request_id } => {
            println!("{}", serde_json::to_string_pretty(&svc.privacy_request_detail(&viewer, &request_id).await?)?);
        }
        PrivacyCmd::Enter { right, customer_id, received_at, channel } => {
            let input = RequestIn {
                right,
                customer_id,
                received_at: received_at.unwrap_or_else(|| svc.now().to_rfc3339()),
                channel,
                details: String::new(),
            };
            let s = svc.submit_privacy_request(&PrivacyIntake::local(Actor::cli()), input).await?;
            println!("{}", serde_json::to_string_pretty(&s)?);
        }
        PrivacyCmd::Export { request_id, out } => {
            let v = svc.privacy_export(&PrivacyIntake::local(Actor::cli()), &request_id).await?;
            std::fs::write(&out, serde_json::to_vec_pretty(&v)?)?;
            eprintln!("wrote {}", out.display());
        }
        PrivacyCmd::Jobs => {
            let t = std::time::Instant::now();
            let n = svc.run_privacy_jobs().await?;
            eprintln!("ran {n} job(s) in {:.2} s", t.elapsed().as_secs_f64());
        }
        PrivacyCmd::Sweep => {
            let job = svc.start_sweep(&PrivacyWorker::local(Actor::cli())).await?;
            let t = std::time::Instant::now();
            svc.run_privacy_jobs().await?;
            let runs = svc.privacy_dashboard(&viewer).await?.sweeps;
            let run = runs.iter().find(|j| j.job_id == job);
            eprintln!(
                "sweep {job}: {} in {:.2} s, {} record(s) changed",
                run.map_or("?", |j| j.status.as_str()),
                t.elapsed().as_secs_f64(),
                run.map_or(0, |j| j.done_rows)
            );
        }
        PrivacyCmd::Records => println!("{}", serde_json::to_string_pretty(&svc.records_of_processing(&viewer))?),
        PrivacyCmd::Breaches => println!("{}", serde_json::to_string_pretty(&svc.breaches(&viewer, false).await?)?),
    }
    Ok(())
}
