//! `riskdesk cases …` and `riskdesk knowledge …`: the cases and knowledge areas from the shell,
//! as the local operator (recorded as `cli` in the audit log).

use crate::app;
use crate::config::Config;
use anyhow::Context;
use clap::Subcommand;
use riskdesk_service::audit::Actor;
use riskdesk_service::cases::{CaseFilter, OpenCase, Opened};
use riskdesk_service::knowledge::PageInput;
use riskdesk_service::{CaseOpener, CaseViewer, KnowledgeEditor, Someone};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CasesCmd {
    /// Cases, open ones first by time left.
    List {
        /// open, closed or all.
        #[arg(long, default_value = "open")]
        status: String,
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        kind: Option<String>,
    },
    /// One case with its timeline.
    Show { id: String },
    /// Open a case (the same --source and --source-ref again prints the existing one).
    Open {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long)]
        customer: Option<String>,
        #[arg(long = "order")]
        orders: Vec<String>,
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        source_ref: Option<String>,
    },
    /// Run the SLA watch once (the server runs it every minute).
    Sweep,
}

#[derive(Subcommand)]
pub enum KnowledgeCmd {
    /// Pages in force.
    List {
        #[arg(long)]
        q: Option<String>,
    },
    /// Save a Markdown file as the next version of a page.
    Save {
        slug: String,
        file: PathBuf,
        /// sop, playbook or faq.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        title: String,
        /// The case kind a playbook is for.
        #[arg(long)]
        case_kind: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
}

pub async fn cases(cfg: &Config, cmd: CasesCmd) -> anyhow::Result<()> {
    let svc = app::open_service(cfg).await?;
    let viewer = CaseViewer::local(Actor::cli());
    match cmd {
        CasesCmd::List { status, team, kind } => {
            let statuses = match status.as_str() {
                "open" => None,
                "all" => Some(vec![]),
                "closed" => {
                    Some(vec![riskdesk_domain::cases::CaseStatus::Resolved, riskdesk_domain::cases::CaseStatus::Closed])
                }
                other => anyhow::bail!("--status must be open, closed or all, not {other:?}"),
            };
            let f = CaseFilter { statuses, team, kind, limit: 500, ..Default::default() };
            let (cases, total) = svc.cases(&viewer, &f).await?;
            println!(
                "{:<31} {:<20} {:<8} {:<20} {:<10} {:>14}  title",
                "case", "kind", "priority", "status", "owner", "sla left"
            );
            for c in cases {
                let sla = svc.case_sla(&c);
                println!(
                    "{:<31} {:<20} {:<8} {:<20} {:<10} {:>13}h  {}",
                    c.id,
                    c.kind,
                    c.priority.as_str(),
                    c.status.as_str(),
                    c.owner.as_deref().unwrap_or("-"),
                    sla.time_left_secs / 3600,
                    c.title
                );
            }
            eprintln!("{total} case(s)");
        }
        CasesCmd::Show { id } => {
            let v = svc.case_view(&viewer, &id).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        CasesCmd::Open { kind, title, description, priority, customer, orders, source, source_ref } => {
            let input = OpenCase {
                kind,
                title,
                description,
                priority,
                tier: None,
                customer_id: customer,
                order_ids: orders,
                source,
                source_ref,
            };
            match svc.open_case(&CaseOpener::local(Actor::cli()), input).await? {
                Opened::Created(c) => {
                    println!("opened {} (resolution due {})", c.id, c.sla.resolution_due_at.to_rfc3339())
                }
                Opened::Existing(c) => println!("already open: {}", c.id),
            }
        }
        CasesCmd::Sweep => {
            let s = svc.sweep_case_slas().await?;
            println!("warned {}, escalated {}", s.warned, s.escalated);
        }
    }
    Ok(())
}

pub async fn knowledge(cfg: &Config, cmd: KnowledgeCmd) -> anyhow::Result<()> {
    let svc = app::open_service(cfg).await?;
    match cmd {
        KnowledgeCmd::List { q } => {
            for p in svc.pages(&Someone::local(Actor::cli()), None, q.as_deref()).await? {
                println!("{:<40} {:<9} v{:<4} {}", p.slug, p.kind, p.version, p.title);
            }
        }
        KnowledgeCmd::Save { slug, file, kind, title, case_kind, note } => {
            let body = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let reader = Someone::local(Actor::cli());
            let base_version = match svc.page(&reader, &slug, None).await {
                Ok(v) => v.page.version,
                Err(riskdesk_service::ServiceError::NotFound(_)) => 0,
                Err(e) => return Err(e.into()),
            };
            let input = PageInput { kind, title, body, case_kind, note, base_version };
            let p = svc.save_page(&KnowledgeEditor::local(Actor::cli()), &slug, input).await?;
            println!("saved {} version {}", p.slug, p.version);
        }
    }
    Ok(())
}
