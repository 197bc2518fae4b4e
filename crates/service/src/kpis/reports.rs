//! Scheduled reports: the last complete week (or month) as CSV and PDF, with the same numbers
//! the dashboard shows (the same operations build both), sent by SMTP to the configured
//! recipients. Each run is claimed per schedule and period in the database, so several
//! instances send it once; a failed send is recorded and tried again at the next tick.

use super::{KpiRow, invalid};
use crate::audit::Actor;
use crate::{KpiManager, KpiViewer, Service, ServiceError, ServiceResult};
use chrono::{Datelike, Timelike};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use riskdesk_domain::kpis::period::{self, Period};
use riskdesk_domain::kpis::{Dim, Fraction, ORDER_KPIS, Unit};
use riskdesk_store::kpis::ReportRun;
use serde::{Deserialize, Serialize};

/// `[kpis.reports]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required` or `smtps://host:465`; empty:
    /// reports are not sent (they can still be downloaded).
    pub smtp_url: String,
    pub from: String,
    /// Who receives the weekly report (Mondays) and the monthly one (on the 1st).
    pub weekly: Vec<String>,
    pub monthly: Vec<String>,
    /// Local hour from which a period's report is sent.
    pub send_hour: u32,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            from: "riskdesk <riskdesk@localhost>".into(),
            weekly: Vec::new(),
            monthly: Vec::new(),
            send_hour: 7,
        }
    }
}

impl ReportsConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.send_hour > 23 {
            return Err("kpis.reports.send_hour must be between 0 and 23".into());
        }
        for (field, list) in [("weekly", &self.weekly), ("monthly", &self.monthly)] {
            for r in list {
                r.parse::<Mailbox>().map_err(|_| format!("kpis.reports.{field}: {r:?} is not an e-mail address"))?;
            }
        }
        self.from
            .parse::<Mailbox>()
            .map_err(|_| format!("kpis.reports.from: {:?} is not an e-mail address", self.from))?;
        if !(self.smtp_url.is_empty() || self.smtp_url.starts_with("smtp://") || self.smtp_url.starts_with("smtps://"))
        {
            return Err("kpis.reports.smtp_url must start with smtp:// or smtps://".into());
        }
        Ok(())
    }
}

/// A built report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `weekly` or `monthly`.
    pub schedule: &'static str,
    /// `2026-W48` or `2026-11`.
    pub period: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub csv: String,
    #[serde(skip)]
    pub pdf: Vec<u8>,
    pub text: String,
}

pub fn schedule_period(schedule: &str) -> ServiceResult<Period> {
    match schedule {
        "weekly" => Ok(Period::Week),
        "monthly" => Ok(Period::Month),
        _ => Err(invalid("schedule", "must be weekly or monthly")),
    }
}

fn show(v: &Fraction, unit: Unit) -> String {
    match (v.value, unit) {
        (None, _) => "–".into(),
        (Some(x), Unit::Ratio) => format!("{:.2} %", x * 100.0),
        (Some(x), Unit::Minutes) => format!("{x:.1} min"),
        (Some(x), Unit::Hours) => format!("{x:.1} h"),
        (Some(x), Unit::Points) => format!("{x:.2}"),
    }
}

impl Service {
    /// The last complete period of a schedule, as local days `[from, to)`.
    fn last_complete(&self, per: Period) -> (i32, i32) {
        let today = period::local_day(self.now(), self.kpi_zone());
        let end = per.start(today);
        (per.start(end - 1), end)
    }

    /// Builds the report of the last complete week or month (or of the period starting `start`).
    pub async fn build_kpi_report(
        &self,
        _cap: &KpiViewer,
        schedule: &str,
        start: Option<chrono::NaiveDate>,
    ) -> ServiceResult<Report> {
        let per = schedule_period(schedule)?;
        let (a, b) = match start {
            Some(d) => {
                let s = per.start(period::day_of(d));
                (s, per.next(s))
            }
            None => self.last_complete(per),
        };
        let viewer = KpiViewer::local(Actor::other("system:reports"));
        let (from, to) = (period::date(a), period::date(b - 1));
        let now_t = self.kpi_table(&viewer, from, to, Dim::Channel).await?;
        let (pa, pb) = (per.start(a - 1), a);
        let prev = self.kpi_table(&viewer, period::date(pa), period::date(pb - 1), Dim::All).await?;
        let rules = self.rule_effectiveness(&viewer, from, to).await?;
        let areas = self.area_kpis(&viewer, from, to, per).await?;
        let label = per.label(a);
        let mut csv = csv::Writer::from_writer(Vec::new());
        let _ = csv.write_record(["section", "segment", "kpi", "numerator", "denominator", "value"]);
        let mut lines = vec![
            format!("riskdesk {schedule} report {label} ({from} to {to}, {})", self.kpi_settings().time_zone),
            String::new(),
            "Order KPIs (previous period in brackets)".into(),
        ];
        let push_row = |section: &str, r: &KpiRow, csv: &mut csv::Writer<Vec<u8>>| {
            for d in ORDER_KPIS {
                let f = r.kpis[d.code];
                let _ = csv.write_record([
                    section.into(),
                    r.segment.clone(),
                    d.code.into(),
                    f.numerator.to_string(),
                    f.denominator.to_string(),
                    f.value.map(|v| format!("{v:.6}")).unwrap_or_default(),
                ]);
            }
        };
        push_row("total", &now_t.total, &mut csv);
        for d in ORDER_KPIS {
            let f = now_t.total.kpis[d.code];
            let p = prev.total.kpis[d.code];
            lines.push(format!(
                "  {:<28} {:>12}  ({})   {} / {}",
                d.label,
                show(&f, d.unit),
                show(&p, d.unit),
                f.numerator,
                f.denominator
            ));
        }
        lines.push(String::new());
        lines.push("By channel: orders, fraud rate, decline rate, review rate, hold-then-release".into());
        for r in &now_t.rows {
            push_row("channel", r, &mut csv);
            let g = |c: &str| show(&r.kpis[c], Unit::Ratio);
            lines.push(format!(
                "  {:<20} {:>8}  {:>9} {:>9} {:>9} {:>9}",
                r.segment,
                r.kpis["review_rate"].denominator,
                g("fraud_rate_orders"),
                g("decline_rate"),
                g("review_rate"),
                g("hold_release_rate")
            ));
        }
        lines.push(String::new());
        lines.push("Rules: hits, precision, value saved, good orders held".into());
        for r in rules.iter().take(25) {
            let _ = csv.write_record([
                "rule".into(),
                r.rule.clone(),
                "precision".into(),
                r.fraud_hits.to_string(),
                r.hits.to_string(),
                r.precision.map(|v| format!("{v:.6}")).unwrap_or_default(),
            ]);
            lines.push(format!(
                "  {:<32} {:>7} {:>9} {:>12.2} {:>6}",
                r.rule,
                r.hits,
                r.precision.map_or("–".into(), |p| format!("{:.1} %", p * 100.0)),
                r.value_saved,
                r.good_held
            ));
        }
        lines.push(String::new());
        lines.push("Cases, disputes and QA".into());
        for s in &areas {
            let _ = csv.write_record([
                s.kpi.area.into(),
                "all".into(),
                s.kpi.code.into(),
                s.total.numerator.to_string(),
                s.total.denominator.to_string(),
                s.total.value.map(|v| format!("{v:.6}")).unwrap_or_default(),
            ]);
            lines.push(format!(
                "  {:<32} {:>12}   {} / {}",
                s.kpi.label,
                show(&s.total, s.kpi.unit),
                s.total.numerator,
                s.total.denominator
            ));
        }
        let alerts = self.store().kpi_alerts(None, 500).await?;
        let mine: Vec<_> = alerts.iter().filter(|x| x.from_day >= a && x.from_day < b).collect();
        if !mine.is_empty() {
            lines.push(String::new());
            lines.push("Trend alerts".into());
            for x in mine {
                lines.push(format!(
                    "  {} {}={}: {:.2} % against {:.2} % ({})",
                    x.kpi,
                    x.dim,
                    x.segment,
                    x.rate * 100.0,
                    x.baseline * 100.0,
                    x.status
                ));
            }
        }
        let text = lines.join("\n");
        let pdf = crate::disputes::pdf::render_text(&lines);
        Ok(Report {
            schedule: if per == Period::Week { "weekly" } else { "monthly" },
            period: label,
            from,
            to,
            csv: String::from_utf8(csv.into_inner().unwrap_or_default()).unwrap_or_default(),
            pdf,
            text,
        })
    }

    /// Sends a schedule's last complete period now (again, if it was sent already).
    pub async fn send_kpi_report(&self, cap: &KpiManager, schedule: &str) -> ServiceResult<ReportRun> {
        let viewer = KpiViewer::local(cap.actor().clone());
        let report = self.build_kpi_report(&viewer, schedule, None).await?;
        let recipients = self.recipients(schedule);
        if recipients.is_empty() {
            return Err(ServiceError::Conflict(format!("kpis.reports.{schedule} names no recipient")));
        }
        let run = ReportRun {
            schedule: format!("{schedule}:manual:{}", ulid::Ulid::new()),
            period: report.period.clone(),
            started_at: self.now(),
            status: "sending".into(),
            recipients: recipients.join(", "),
            detail: format!("sent by {}", cap.actor().id),
        };
        self.store().kpi_report_claim(&run).await?;
        self.deliver(&run, &report, &recipients).await
    }

    fn recipients(&self, schedule: &str) -> Vec<String> {
        let r = self.kpi_settings().reports;
        if schedule == "weekly" { r.weekly } else { r.monthly }
    }

    async fn deliver(&self, run: &ReportRun, report: &Report, recipients: &[String]) -> ServiceResult<ReportRun> {
        let outcome = self.send_mail(report, recipients).await;
        let (status, detail) = match &outcome {
            Ok(()) => ("sent", format!("{} ({} recipients)", run.detail, recipients.len())),
            Err(e) => ("failed", e.clone()),
        };
        self.store().kpi_report_finish(&run.schedule, &run.period, status, &detail).await?;
        match outcome {
            Ok(()) => Ok(ReportRun { status: status.into(), detail, ..run.clone() }),
            Err(e) => Err(ServiceError::Conflict(format!("the report could not be sent: {e}"))),
        }
    }

    async fn send_mail(&self, report: &Report, recipients: &[String]) -> Result<(), String> {
        let cfg = self.kpi_settings().reports;
        if cfg.smtp_url.is_empty() {
            return Err("kpis.reports.smtp_url is not set".into());
        }
        let from: Mailbox = cfg.from.parse().map_err(|e| format!("from: {e}"))?;
        let mut b =
            Message::builder().from(from).subject(format!("riskdesk {} report {}", report.schedule, report.period));
        for r in recipients {
            b = b.to(r.parse().map_err(|e| format!("{r}: {e}"))?);
        }
        let name = format!("riskdesk-{}-{}", report.schedule, report.period);
        let body = MultiPart::mixed()
            .singlepart(SinglePart::plain(report.text.clone()))
            .singlepart(
                Attachment::new(format!("{name}.csv"))
                    .body(report.csv.clone(), ContentType::parse("text/csv").expect("a content type")),
            )
            .singlepart(
                Attachment::new(format!("{name}.pdf"))
                    .body(report.pdf.clone(), ContentType::parse("application/pdf").expect("a content type")),
            );
        let msg = b.multipart(body).map_err(|e| e.to_string())?;
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.smtp_url).map_err(|e| e.to_string())?.build();
        mailer.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Sends each schedule's last complete period once, from the configured local hour. Returns
    /// the runs it made.
    pub async fn send_due_reports(&self) -> ServiceResult<Vec<ReportRun>> {
        let cfg = self.kpi_settings().reports;
        if cfg.smtp_url.is_empty() {
            return Ok(Vec::new());
        }
        let local = self.now().with_timezone(&self.kpi_zone());
        if local.hour() < cfg.send_hour {
            return Ok(Vec::new());
        }
        let mut runs = Vec::new();
        for schedule in ["weekly", "monthly"] {
            let recipients = self.recipients(schedule);
            if recipients.is_empty() {
                continue;
            }
            let per = schedule_period(schedule)?;
            let (a, _) = self.last_complete(per);
            let period = per.label(a);
            let existing = self.store().kpi_report_runs(100).await?;
            let failed = existing.iter().any(|r| r.schedule == schedule && r.period == period && r.status == "failed");
            let run = ReportRun {
                schedule: schedule.into(),
                period: period.clone(),
                started_at: self.now(),
                status: "sending".into(),
                recipients: recipients.join(", "),
                detail: format!("scheduled, {}", local.date_naive().weekday()),
            };
            if !failed && !self.store().kpi_report_claim(&run).await? {
                continue;
            }
            let viewer = KpiViewer::local(Actor::other("system:reports"));
            let report = self.build_kpi_report(&viewer, schedule, Some(period::date(a))).await?;
            match self.deliver(&run, &report, &recipients).await {
                Ok(r) => runs.push(r),
                Err(e) => tracing::warn!(schedule, period = %period, error = %e, "a scheduled report was not sent"),
            }
        }
        Ok(runs)
    }

    pub async fn kpi_report_runs(&self, _cap: &KpiViewer) -> ServiceResult<Vec<ReportRun>> {
        Ok(self.store().kpi_report_runs(50).await?)
    }

    /// Alerts each hour and reports when due.
    pub fn spawn_kpi_watch(&self) {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
            let mut last_scan: Option<chrono::DateTime<chrono::Utc>> = None;
            loop {
                tick.tick().await;
                if last_scan.is_none_or(|t| svc.now() - t >= chrono::Duration::hours(1)) {
                    match svc.scan_kpi_alerts().await {
                        Ok(_) => last_scan = Some(svc.now()),
                        Err(e) => tracing::warn!(error = %e, "the trend-alert scan failed"),
                    }
                }
                if let Err(e) = svc.send_due_reports().await {
                    tracing::warn!(error = %e, "sending due reports failed");
                }
            }
        });
    }
}
