//! Trend alerts: a p-chart (Shewhart control chart for proportions) on a KPI's series per
//! segment. The last complete period is compared with the pooled rate of the periods before it;
//! it alerts when the rate leaves the control limit `p̄ ± z·√(p̄(1−p̄)/n)` in the bad direction,
//! with enough orders behind it to mean something.

use super::Better;
use serde::Serialize;

/// How strict the test is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartPolicy {
    /// Standard deviations to the control limit (3: the classic chart).
    pub sigmas: f64,
    /// Baseline periods needed before the last one is judged.
    pub min_baseline_periods: usize,
    /// At least this many in the last period's denominator…
    pub min_denominator: f64,
    /// …and in its numerator.
    pub min_numerator: f64,
}

impl Default for ChartPolicy {
    fn default() -> Self {
        Self { sigmas: 3.0, min_baseline_periods: 4, min_denominator: 30.0, min_numerator: 3.0 }
    }
}

/// A point of a series: a period and its fraction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub period: String,
    pub numerator: f64,
    pub denominator: f64,
}

/// The verdict on the last point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub period: String,
    pub rate: f64,
    pub baseline: f64,
    pub limit: f64,
    /// Standard deviations from the baseline.
    pub z: f64,
    pub numerator: f64,
    pub denominator: f64,
}

/// Tests the last point of `series` (oldest first) against the ones before it.
pub fn p_chart(series: &[Point], better: Better, policy: &ChartPolicy) -> Option<Signal> {
    let (last, baseline) = series.split_last()?;
    let base: Vec<&Point> = baseline.iter().filter(|p| p.denominator > 0.0).collect();
    if base.len() < policy.min_baseline_periods
        || last.denominator < policy.min_denominator
        || last.numerator < policy.min_numerator && better == Better::Lower
    {
        return None;
    }
    let (num, den) = base.iter().fold((0.0, 0.0), |(n, d), p| (n + p.numerator, d + p.denominator));
    if den <= 0.0 {
        return None;
    }
    let p = (num / den).clamp(0.0, 1.0);
    let rate = last.numerator / last.denominator;
    // A baseline of exactly 0 or 1 has no spread: use half an event's worth so a first cluster
    // of fraud in a clean segment can still stand out, rather than every single event alerting.
    let p_for_sigma = p.clamp(0.5 / den, 1.0 - 0.5 / den);
    let sigma = (p_for_sigma * (1.0 - p_for_sigma) / last.denominator).sqrt();
    let z = if sigma > 0.0 { (rate - p) / sigma } else { 0.0 };
    let (out, limit) = match better {
        Better::Lower => (z > policy.sigmas, p + policy.sigmas * sigma),
        Better::Higher => (z < -policy.sigmas, (p - policy.sigmas * sigma).max(0.0)),
    };
    out.then(|| Signal {
        period: last.period.clone(),
        rate,
        baseline: p,
        limit,
        z,
        numerator: last.numerator,
        denominator: last.denominator,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(rates: &[(f64, f64)]) -> Vec<Point> {
        rates
            .iter()
            .enumerate()
            .map(|(i, (n, d))| Point { period: format!("W{i}"), numerator: *n, denominator: *d })
            .collect()
    }

    #[test]
    fn a_jump_alerts_and_noise_does_not() {
        let p = ChartPolicy::default();
        let calm = series(&[(10.0, 1000.0), (12.0, 1000.0), (9.0, 1000.0), (11.0, 1000.0), (13.0, 1000.0)]);
        assert_eq!(p_chart(&calm, Better::Lower, &p), None);
        let jump = series(&[(10.0, 1000.0), (12.0, 1000.0), (9.0, 1000.0), (11.0, 1000.0), (40.0, 1000.0)]);
        let s = p_chart(&jump, Better::Lower, &p).expect("an alert");
        assert_eq!(s.period, "W4");
        assert!((s.baseline - 0.0105).abs() < 1e-9);
        assert!(s.z > 3.0 && s.rate > s.limit);
        // A drop in fraud is good news, not an alert; a drop in SLA compliance is.
        let drop = series(&[(10.0, 1000.0), (12.0, 1000.0), (9.0, 1000.0), (11.0, 1000.0), (0.0, 1000.0)]);
        assert_eq!(p_chart(&drop, Better::Lower, &p), None);
        let sla = series(&[(95.0, 100.0), (96.0, 100.0), (94.0, 100.0), (97.0, 100.0), (70.0, 100.0)]);
        assert!(p_chart(&sla, Better::Higher, &p).is_some());
    }

    #[test]
    fn too_little_data_says_nothing() {
        let p = ChartPolicy::default();
        assert_eq!(p_chart(&series(&[(0.0, 100.0), (50.0, 100.0)]), Better::Lower, &p), None);
        let small = series(&[(0.0, 100.0), (0.0, 100.0), (0.0, 100.0), (0.0, 100.0), (2.0, 10.0)]);
        assert_eq!(p_chart(&small, Better::Lower, &p), None);
        // A clean segment with a cluster of fraud in the last week alerts.
        let cluster = series(&[(0.0, 100.0), (0.0, 100.0), (0.0, 100.0), (0.0, 100.0), (6.0, 100.0)]);
        assert!(p_chart(&cluster, Better::Lower, &p).is_some());
    }

    proptest! {
        #[test]
        fn a_constant_rate_never_alerts(n in 30u32..5000, pct in 0u32..100, periods in 5usize..12) {
            let num = f64::from(n) * f64::from(pct) / 100.0;
            let s: Vec<(f64, f64)> = (0..periods).map(|_| (num.floor(), f64::from(n))).collect();
            prop_assert_eq!(p_chart(&series(&s), Better::Lower, &ChartPolicy::default()), None);
            prop_assert_eq!(p_chart(&series(&s), Better::Higher, &ChartPolicy::default()), None);
        }
    }
}
