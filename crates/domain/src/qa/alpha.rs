//! Krippendorff's alpha: agreement of several reviewers on the same units, any number of
//! reviewers per unit (missing ratings allowed), 1 perfect, 0 chance, below 0 systematic
//! disagreement. Nominal (pass/fail) and interval (points) metrics.

/// How two ratings differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Nominal,
    Interval,
}

fn delta(m: Metric, a: f64, b: f64) -> f64 {
    match m {
        Metric::Nominal => {
            if a == b {
                0.0
            } else {
                1.0
            }
        }
        Metric::Interval => (a - b) * (a - b),
    }
}

/// Alpha over units, each the ratings it got (missing ones left out). `None` when fewer than
/// two pairable ratings or no variation at all (alpha is undefined then).
pub fn alpha(units: &[Vec<f64>], m: Metric) -> Option<f64> {
    let pairable: Vec<&Vec<f64>> = units.iter().filter(|u| u.len() >= 2).collect();
    let n: f64 = pairable.iter().map(|u| u.len() as f64).sum();
    if n < 2.0 {
        return None;
    }
    let mut observed = 0.0;
    for u in &pairable {
        let mut s = 0.0;
        for (i, a) in u.iter().enumerate() {
            for (j, b) in u.iter().enumerate() {
                if i != j {
                    s += delta(m, *a, *b);
                }
            }
        }
        observed += s / (u.len() as f64 - 1.0);
    }
    observed /= n;
    let all: Vec<f64> = pairable.iter().flat_map(|u| u.iter().copied()).collect();
    let mut expected = 0.0;
    for (i, a) in all.iter().enumerate() {
        for (j, b) in all.iter().enumerate() {
            if i != j {
                expected += delta(m, *a, *b);
            }
        }
    }
    expected /= n * (n - 1.0);
    if expected == 0.0 {
        return None;
    }
    Some(1.0 - observed / expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Krippendorff's own example (Computing Krippendorff's alpha-reliability, 2011): four
    /// coders, twelve units, missing values; nominal 0.743, interval 0.849.
    fn example() -> Vec<Vec<f64>> {
        vec![
            vec![1.0, 1.0, 1.0],
            vec![2.0, 2.0, 3.0, 2.0],
            vec![3.0, 3.0, 3.0, 3.0],
            vec![3.0, 3.0, 3.0, 3.0],
            vec![2.0, 2.0, 2.0, 2.0],
            vec![1.0, 2.0, 3.0, 4.0],
            vec![4.0, 4.0, 4.0, 4.0],
            vec![1.0, 1.0, 2.0, 1.0],
            vec![2.0, 2.0, 2.0, 2.0],
            vec![5.0, 5.0, 5.0],
            vec![1.0, 1.0],
            vec![3.0],
        ]
    }

    #[test]
    fn krippendorffs_worked_example() {
        let nominal = alpha(&example(), Metric::Nominal).unwrap();
        let interval = alpha(&example(), Metric::Interval).unwrap();
        assert!((nominal - 0.743).abs() < 0.0005, "{nominal}");
        assert!((interval - 0.849).abs() < 0.0005, "{interval}");
    }

    #[test]
    fn perfect_chance_and_undefined() {
        assert_eq!(alpha(&[vec![1.0, 1.0], vec![0.0, 0.0]], Metric::Nominal), Some(1.0));
        assert!(alpha(&[vec![1.0, 0.0], vec![0.0, 1.0]], Metric::Nominal).unwrap() < 0.0);
        assert_eq!(alpha(&[vec![1.0, 1.0], vec![1.0, 1.0]], Metric::Nominal), None, "no variation");
        assert_eq!(alpha(&[vec![1.0]], Metric::Interval), None);
    }
}
