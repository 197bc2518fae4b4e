//! Card-scheme monitoring: for each month, Visa VAMP and Mastercard ECP as the programmes
//! count them, from the stored disputes and the settled volumes; for the running month a
//! month-end forecast with its 90 % interval, and an alert when the forecast crosses a
//! threshold.

use super::intake::month_of;
use super::watch::month_start;
use crate::audit::entry;
use crate::cases::OpenCase;
use crate::{Actor, DisputeImporter, DisputeViewer, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use riskdesk_domain::disputes::schemes::{self, Assessment, Forecast, Level};
use riskdesk_store::changes::{DisputeChange, Effect};
use riskdesk_store::disputes::SchemeVolume;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct MonthRatio {
    /// `YYYY-MM`.
    pub month: String,
    pub assessment: Assessment,
    /// Where the settled volume came from: `orders`, `report`, or `none`.
    pub volume_source: &'static str,
    /// For the running month: the projected count and ratio at month end.
    pub forecast: Option<ForecastOut>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForecastOut {
    pub count: Forecast,
    /// Percent: point, low and high.
    pub ratio_pct: Forecast,
    pub level: Level,
    /// The level the interval's upper end would reach.
    pub level_high: Level,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemeReport {
    pub visa_vamp: Vec<MonthRatio>,
    pub mastercard_ecp: Vec<MonthRatio>,
    /// Plain sentences: a month at or over a threshold, or a forecast crossing one.
    pub alerts: Vec<String>,
    /// The same alerts with their programme and month, for the watch's cases.
    #[serde(skip)]
    pub raised: Vec<(&'static str, String, String)>,
}

fn months_back(now: DateTime<Utc>, n: u32) -> Vec<DateTime<Utc>> {
    let mut out = vec![month_start(now)];
    for _ in 1..n {
        let prev = month_start(*out.last().expect("one month") - Duration::days(1));
        out.push(prev);
    }
    out.reverse();
    out
}

fn date(m: DateTime<Utc>) -> NaiveDate {
    m.date_naive()
}

fn ratio_forecast(count: Forecast, den: f64) -> Forecast {
    let p = |n: f64| if den > 0.0 { n * 100.0 / den } else { 0.0 };
    Forecast { point: p(count.point), low: p(count.low), high: p(count.high) }
}

impl Service {
    /// The last `months` months (at most 36), oldest first.
    pub async fn scheme_ratios(&self, _: &DisputeViewer, months: u32) -> ServiceResult<SchemeReport> {
        if !(1..=36).contains(&months) {
            return Err(ServiceError::Invalid("months: must be between 1 and 36".into()));
        }
        let now = self.now();
        // One month more: ECP divides by the previous month's sales.
        let span = months_back(now, months + 1);
        let (from, to) = (month_of(span[0]), month_of(*span.last().expect("months")));
        let counts = self.store().dispute_months(&from, &to).await?;
        let volumes = self.store().scheme_volumes(&from, &to).await?;
        let count =
            |m: &str, net: &str| counts.iter().find(|c| c.month == m && c.network == net).cloned().unwrap_or_default();
        let volume = |m: &str, net: &str| volumes.iter().find(|v| v.month == m && v.network == net);
        let this_month = month_of(now);
        let days = f64::from(schemes::days_in_month(now.date_naive()));
        let elapsed = (now - month_start(now)).num_seconds() as f64 / 86_400.0;
        let mut report =
            SchemeReport { visa_vamp: Vec::new(), mastercard_ecp: Vec::new(), alerts: Vec::new(), raised: Vec::new() };
        for w in span.windows(2) {
            let (prev, m) = (month_of(w[0]), month_of(w[1]));
            let running = m == this_month;
            // Visa.
            let v = count(&m, "visa");
            let vol = volume(&m, "visa");
            let settled = vol.map_or(0, |x| x.settled);
            let a = schemes::vamp(date(w[1]), v.vamp_counted, settled);
            let forecast = running.then(|| {
                let c = schemes::forecast(v.vamp_counted, elapsed, days);
                let den = if elapsed > 0.0 { settled as f64 * days / elapsed.min(days) } else { settled as f64 };
                let level_of = |n: f64| schemes::vamp(date(w[1]), n.round() as i64, den.round() as i64).level;
                ForecastOut {
                    ratio_pct: ratio_forecast(c, den),
                    level: level_of(c.point),
                    level_high: level_of(c.high),
                    count: c,
                }
            });
            self.alert(&mut report, "Visa VAMP", &m, &a, forecast.as_ref());
            report.visa_vamp.push(MonthRatio {
                month: m.clone(),
                volume_source: vol.map_or("none", |x| if x.source == "report" { "report" } else { "orders" }),
                assessment: a,
                forecast,
            });
            // Mastercard: this month's chargebacks over last month's sales.
            let mc = count(&m, "mastercard");
            let pvol = volume(&prev, "mastercard");
            let sales = pvol.map_or(0, |x| x.settled);
            let a = schemes::ecp(mc.chargebacks, sales);
            let forecast = running.then(|| {
                let c = schemes::forecast(mc.chargebacks, elapsed, days);
                let level_of = |n: f64| schemes::ecp(n.round() as i64, sales).level;
                ForecastOut {
                    ratio_pct: ratio_forecast(c, sales as f64),
                    level: level_of(c.point),
                    level_high: level_of(c.high),
                    count: c,
                }
            });
            self.alert(&mut report, "Mastercard ECP", &m, &a, forecast.as_ref());
            report.mastercard_ecp.push(MonthRatio {
                month: m,
                volume_source: pvol.map_or("none", |x| if x.source == "report" { "report" } else { "orders" }),
                assessment: a,
                forecast,
            });
        }
        Ok(report)
    }

    fn alert(
        &self,
        report: &mut SchemeReport,
        programme: &'static str,
        month: &str,
        a: &Assessment,
        f: Option<&ForecastOut>,
    ) {
        let text = if a.level > Level::Below {
            format!("{programme} {month}: {} at {:.2} % ({} counted)", a.level.label(), a.ratio_pct, a.count)
        } else if let Some(f) = f {
            if f.level > Level::Below {
                format!(
                    "{programme} {month}: the month-end forecast ({:.2} %, {:.0} counted) reaches {}",
                    f.ratio_pct.point,
                    f.count.point,
                    f.level.label()
                )
            } else if f.level_high > Level::Below {
                format!(
                    "{programme} {month}: the forecast's upper end ({:.2} %) would reach {}",
                    f.ratio_pct.high,
                    f.level_high.label()
                )
            } else {
                return;
            }
        } else {
            return;
        };
        report.alerts.push(text.clone());
        report.raised.push((programme, month.to_owned(), text));
    }

    /// Opens a case for each programme month that crossed or is forecast to cross a threshold:
    /// once per programme and month, for the payments team. Answers how many opened.
    pub async fn open_scheme_cases(&self) -> ServiceResult<usize> {
        let actor = Actor::other("system:schemes");
        let report = self.scheme_ratios(&DisputeViewer::local(actor.clone()), 2).await?;
        let mut opened = 0;
        for (programme, month, text) in report.raised {
            let input = OpenCase {
                kind: "dispute".into(),
                title: format!("{programme} {month}: chargeback ratio alert"),
                description: format!(
                    "{text}.\n\nReview the month's disputes and fraud reports by reason, and the rules that let their orders through."
                ),
                ..Default::default()
            };
            let key = format!("scheme:{}:{month}", programme.to_lowercase().replace(' ', "_"));
            if let crate::cases::Opened::Created(_) = self.open_case_as(&actor, input, Some(key), Vec::new()).await? {
                opened += 1;
            }
        }
        Ok(opened)
    }

    /// Sets a month's settled volume from the provider's settlement report.
    pub async fn set_scheme_volume(
        &self,
        cap: &DisputeImporter,
        month: &str,
        network: &str,
        settled: i64,
    ) -> ServiceResult<()> {
        let m = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .map_err(|_| ServiceError::Invalid("month: must be YYYY-MM".into()))?;
        if m.year() < 2000 || month.len() != 7 {
            return Err(ServiceError::Invalid("month: must be YYYY-MM".into()));
        }
        let net = riskdesk_domain::disputes::Network::parse(network)
            .filter(|n| *n != riskdesk_domain::disputes::Network::Other)
            .ok_or_else(|| ServiceError::Invalid("network: must be visa, mastercard or amex".into()))?;
        if !(0..=1_000_000_000).contains(&settled) {
            return Err(ServiceError::Invalid("settled: must be from 0 to 1000000000".into()));
        }
        let now = self.now();
        let v = SchemeVolume {
            month: month.into(),
            network: net.as_str().into(),
            settled,
            source: "report".into(),
            updated_at: now,
        };
        let audit = entry(
            &cap.actor().id,
            "dispute.volume",
            format!("volume:{month}:{}", net.as_str()),
            serde_json::json!({"settled": settled}),
            now,
        );
        self.commit_audited(&[Effect::Disputes(DisputeChange::Volume(v))], &[audit]).await
    }
}
