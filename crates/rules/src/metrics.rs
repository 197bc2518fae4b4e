//! Ranking quality of scores against labels: ROC-AUC and the area under the precision-recall
//! curve (average precision). Written out here because they are a few lines each and the
//! statistics crates that have them pull in far more than they give.

/// ROC-AUC by the rank-sum (Mann-Whitney U) formula; tied scores share their average rank.
pub fn roc_auc(scored: &[(f64, bool)]) -> Option<f64> {
    let pos = scored.iter().filter(|s| s.1).count() as f64;
    let neg = scored.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg_rank * v[i..j].iter().filter(|s| s.1).count() as f64;
        i = j;
    }
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Average precision: the precision at each distinct threshold weighted by the recall it adds
/// (scikit-learn's `average_precision_score`).
pub fn average_precision(scored: &[(f64, bool)]) -> Option<f64> {
    let pos = scored.iter().filter(|s| s.1).count() as f64;
    if pos == 0.0 {
        return None;
    }
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp, mut ap, mut last_recall) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            if v[j].1 {
                tp += 1.0
            } else {
                fp += 1.0
            }
            j += 1;
        }
        let recall = tp / pos;
        ap += (recall - last_recall) * tp / (tp + fp);
        last_recall = recall;
        i = j;
    }
    Some(ap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Checked against scikit-learn: roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75,
        // average_precision_score(...) = 0.8333.
        let s = [(0.1, false), (0.4, false), (0.35, true), (0.8, true)];
        assert!((roc_auc(&s).unwrap() - 0.75).abs() < 1e-9);
        assert!((average_precision(&s).unwrap() - 0.833_333_333).abs() < 1e-6);
        // Ties: all equal scores give 0.5 and the base rate.
        let t = [(1.0, true), (1.0, false), (1.0, false), (1.0, false)];
        assert_eq!(roc_auc(&t), Some(0.5));
        assert_eq!(average_precision(&t), Some(0.25));
        assert_eq!(roc_auc(&[(1.0, true)]), None);
    }
}
