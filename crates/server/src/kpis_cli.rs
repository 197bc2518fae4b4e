//! `riskdesk kpis …`: KPIs from the shell, as the local operator (recorded as `cli`).

use crate::app;
use crate::config::Config;
use clap::Subcommand;
use riskdesk_domain::kpis::Dim;
use riskdesk_service::audit::Actor;
use riskdesk_service::{KpiManager, KpiViewer};

#[derive(Subcommand)]
pub enum KpisCmd {
    /// The order KPIs by segment over local days (default: the last 28), as JSON.
    Show {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// channel, country, payment_method, brand, rule or segment.
        #[arg(long)]
        by: Option<String>,
    },
    /// Counts every changed order now (the server does this every few seconds).
    Refresh,
    /// Empties and recounts every order's KPIs (after changing `kpis.time_zone`).
    Rebuild,
    /// Runs the trend-alert scan and prints new alerts.
    Alerts,
    /// Writes the weekly or monthly report (PDF and CSV) of the last complete period, or sends it.
    Report {
        /// weekly or monthly.
        schedule: String,
        /// Write `<out>.pdf` and `<out>.csv`.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Send it to the configured recipients.
        #[arg(long)]
        send: bool,
    },
}

pub async fn kpis(cfg: &Config, cmd: KpisCmd) -> anyhow::Result<()> {
    let svc = app::open_service(cfg).await?;
    let viewer = KpiViewer::local(Actor::cli());
    let date = |s: Option<String>| -> anyhow::Result<Option<chrono::NaiveDate>> {
        s.map(|s| riskdesk_service::kpis::parse_date("date", &s).map_err(anyhow::Error::from)).transpose()
    };
    match cmd {
        KpisCmd::Show { from, to, by } => {
            let to = date(to)?.unwrap_or_else(|| svc.kpi_today());
            let from = date(from)?.unwrap_or(to - chrono::Duration::days(27));
            let by = match by.as_deref() {
                None | Some("all") => Dim::All,
                Some(b) => Dim::parse(b).ok_or_else(|| anyhow::anyhow!("--by: unknown dimension {b}"))?,
            };
            let t = svc.kpi_table(&viewer, from, to, by).await?;
            println!("{}", serde_json::to_string_pretty(&t)?);
        }
        KpisCmd::Refresh => {
            let t = std::time::Instant::now();
            let n = svc.refresh_kpis(usize::MAX).await?;
            let s = t.elapsed().as_secs_f64();
            println!("{n} orders counted in {s:.1} s ({:.0} orders/s)", n as f64 / s.max(1e-9));
        }
        KpisCmd::Rebuild => {
            let marked = svc.rebuild_kpis().await?;
            let t = std::time::Instant::now();
            let n = svc.refresh_kpis(usize::MAX).await?;
            let s = t.elapsed().as_secs_f64();
            println!("{marked} orders marked, {n} counted in {s:.1} s ({:.0} orders/s)", n as f64 / s.max(1e-9));
        }
        KpisCmd::Alerts => {
            for a in svc.scan_kpi_alerts().await? {
                println!(
                    "{} {} {}={} {}: {:.2} % against {:.2} % (z {:.1})",
                    a.alert_id,
                    a.kpi,
                    a.dim,
                    a.segment,
                    a.period,
                    a.rate * 100.0,
                    a.baseline * 100.0,
                    a.z
                );
            }
        }
        KpisCmd::Report { schedule, out, send } => {
            if send {
                let run = svc.send_kpi_report(&KpiManager::local(Actor::cli()), &schedule).await?;
                println!("{} {} {}: {}", run.period, run.status, run.recipients, run.detail);
            } else {
                let r = svc.build_kpi_report(&viewer, &schedule, None).await?;
                match out {
                    Some(p) => {
                        std::fs::write(p.with_extension("pdf"), &r.pdf)?;
                        std::fs::write(p.with_extension("csv"), &r.csv)?;
                        println!(
                            "wrote {} and {}",
                            p.with_extension("pdf").display(),
                            p.with_extension("csv").display()
                        );
                    }
                    None => println!("{}", r.text),
                }
            }
        }
    }
    Ok(())
}
