//! The card schemes' monitoring programmes, as the programmes define them: Visa VAMP (fraud
//! reports and disputes over settled transactions of the same month, a count floor, the
//! threshold in force on the month's date) and Mastercard ECP (chargebacks of a month over the
//! sales of the month before, ratio and count both met). Thresholds are a dated table, so a
//! change of programme is a new row. Ratios compare exactly, in integers.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// A VAMP threshold in force from a date: the "excessive" ratio in basis points and the count
/// the numerator must exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VampThreshold {
    pub from: NaiveDate,
    pub ratio_bp: i64,
    pub min_count: i64,
}

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("a valid date"),
    }
}

/// VAMP merchant thresholds, oldest first: the programme counts from April 2025 and enforces
/// 2.2 % from June 2025 until 31 March 2026, 1.5 % from 1 April 2026; only above 1,500 counted
/// transactions a month.
pub const VAMP: &[VampThreshold] = &[
    VampThreshold { from: date(2025, 6, 1), ratio_bp: 220, min_count: 1500 },
    VampThreshold { from: date(2026, 4, 1), ratio_bp: 150, min_count: 1500 },
];

/// The threshold in force on a date (`None` before the programme).
pub fn vamp_threshold(on: NaiveDate) -> Option<VampThreshold> {
    VAMP.iter().rev().find(|t| t.from <= on).copied()
}

/// Where a month stands in a programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Below,
    EarlyWarning,
    /// VAMP "excessive"; Mastercard "excessive chargeback merchant".
    Excessive,
    /// Mastercard "high excessive chargeback merchant".
    HighExcessive,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Self::Below => "Below thresholds",
            Self::EarlyWarning => "Early warning",
            Self::Excessive => "Excessive",
            Self::HighExcessive => "High excessive",
        }
    }
}

/// A month's assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub programme: &'static str,
    pub count: i64,
    pub denominator: i64,
    /// Percent, for display; levels are decided in integers.
    pub ratio_pct: f64,
    pub level: Level,
    /// The threshold that applied, as people read it.
    pub threshold: String,
}

fn pct(n: i64, d: i64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 * 100.0 / d as f64 }
}

/// `n / d >= bp / 10000`, exactly.
fn at_least(n: i64, d: i64, bp: i64) -> bool {
    d > 0 && i128::from(n) * 10_000 >= i128::from(bp) * i128::from(d)
}

/// Visa VAMP for a month: `counted` fraud reports and disputes (a transaction with both counts
/// once) over the month's settled card-absent transactions.
pub fn vamp(month: NaiveDate, counted: i64, settled: i64) -> Assessment {
    let t = vamp_threshold(month);
    let level = match t {
        Some(t) if counted > t.min_count && at_least(counted, settled, t.ratio_bp) => Level::Excessive,
        _ => Level::Below,
    };
    Assessment {
        programme: "visa_vamp",
        count: counted,
        denominator: settled,
        ratio_pct: pct(counted, settled),
        level,
        threshold: t.map_or("not in force".into(), |t| {
            format!("≥ {:.1} % and more than {} counted", t.ratio_bp as f64 / 100.0, t.min_count)
        }),
    }
}

/// Mastercard ECP for a month: its chargebacks over the previous month's sales.
pub fn ecp(chargebacks: i64, previous_sales: i64) -> Assessment {
    let level = if chargebacks >= 300 && at_least(chargebacks, previous_sales, 300) {
        Level::HighExcessive
    } else if chargebacks >= 100 && at_least(chargebacks, previous_sales, 150) {
        Level::Excessive
    } else if chargebacks >= 100 && at_least(chargebacks, previous_sales, 100) {
        Level::EarlyWarning
    } else {
        Level::Below
    };
    Assessment {
        programme: "mastercard_ecp",
        count: chargebacks,
        denominator: previous_sales,
        ratio_pct: pct(chargebacks, previous_sales),
        level,
        threshold: "early warning ≥ 1.0 % and 100; excessive ≥ 1.5 % and 100; high ≥ 3.0 % and 300".into(),
    }
}

/// A month-end projection of a count seen so far, with a 90 % interval: the rest of the month
/// as a Poisson process at the rate seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Forecast {
    pub point: f64,
    pub low: f64,
    pub high: f64,
}

pub fn forecast(so_far: i64, elapsed_days: f64, days_in_month: f64) -> Forecast {
    if elapsed_days <= 0.0 || elapsed_days >= days_in_month {
        let n = so_far as f64;
        return Forecast { point: n, low: n, high: n };
    }
    let rate = so_far as f64 / elapsed_days;
    let rest = rate * (days_in_month - elapsed_days);
    let spread = 1.645 * rest.sqrt();
    let n = so_far as f64;
    Forecast { point: n + rest, low: n + (rest - spread).max(0.0), high: n + rest + spread }
}

/// Days in the month of `d`.
pub fn days_in_month(d: NaiveDate) -> u32 {
    let first = d.with_day(1).expect("day 1");
    let next = first.checked_add_months(chrono::Months::new(1)).expect("a later month");
    (next - first).num_days() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vamp_threshold_changes_on_1_april_2026() {
        // 1,600 counted of 80,000 settled: 2.0 %.
        let march = vamp(date(2026, 3, 1), 1600, 80_000);
        assert_eq!(march.level, Level::Below);
        let april = vamp(date(2026, 4, 1), 1600, 80_000);
        assert_eq!(april.level, Level::Excessive);
        assert!((april.ratio_pct - 2.0).abs() < 1e-9);
        // Exactly at the threshold counts: 1,650 of 75,000 is 2.2 %.
        assert_eq!(vamp(date(2026, 3, 1), 1650, 75_000).level, Level::Excessive);
        assert_eq!(vamp(date(2026, 3, 1), 1649, 75_000).level, Level::Below);
    }

    #[test]
    fn vamp_below_the_count_floor_is_not_excessive() {
        // 1,400 counted of 50,000: 2.8 %, but not more than 1,500.
        let m = vamp(date(2026, 6, 1), 1400, 50_000);
        assert_eq!(m.level, Level::Below);
        assert_eq!(vamp(date(2026, 6, 1), 1500, 50_000).level, Level::Below);
        assert_eq!(vamp(date(2026, 6, 1), 1501, 50_000).level, Level::Excessive);
        assert_eq!(vamp(date(2024, 6, 1), 5000, 10_000).threshold, "not in force");
        // Counted from April 2025, enforced from June 2025.
        assert_eq!(vamp(date(2025, 5, 1), 5000, 10_000).threshold, "not in force");
        assert_eq!(vamp(date(2025, 6, 1), 5000, 10_000).level, Level::Excessive);
    }

    #[test]
    fn ecp_tiers() {
        assert_eq!(ecp(120, 10_000).level, Level::EarlyWarning); // 1.2 %
        assert_eq!(ecp(250, 10_000).level, Level::Excessive); // 2.5 %
        assert_eq!(ecp(350, 10_000).level, Level::HighExcessive); // 3.5 %
        assert_eq!(ecp(299, 9_000).level, Level::Excessive); // 3.3 % but fewer than 300
        assert_eq!(ecp(90, 5_000).level, Level::Below); // 1.8 % but fewer than 100
        assert_eq!(ecp(100, 10_000).level, Level::EarlyWarning); // exactly 1.0 %
        assert_eq!(ecp(10, 0).level, Level::Below);
    }

    #[test]
    fn forecast_brackets_the_projection() {
        let f = forecast(100, 10.0, 30.0);
        assert!((f.point - 300.0).abs() < 1e-9);
        assert!(f.low < f.point && f.point < f.high);
        assert!(f.low >= 100.0);
        assert_eq!(forecast(7, 30.0, 30.0).point, 7.0);
        assert_eq!(days_in_month(date(2026, 2, 10)), 28);
        assert_eq!(days_in_month(date(2028, 2, 1)), 29);
    }
}
