//! Evaluation metrics: accuracy, macro-F1, per-class precision/recall and the confusion matrix for a
//! single-label head; per-label precision/recall/F1 at the model's thresholds for a multi-label head.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassReport {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Report for a single-label head. `confusion[gold][predicted]`, rows and columns in `labels` order.
#[derive(Debug, Clone, Serialize)]
pub struct SingleLabelReport {
    pub examples: usize,
    pub accuracy: f64,
    /// Mean F1 over the classes that occur in the gold labels.
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassReport>,
    pub labels: Vec<String>,
    pub confusion: Vec<Vec<usize>>,
    /// Expected calibration error of the predicted class's probability (15 equal-width bins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ece: Option<f64>,
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// `pairs`: (gold, predicted) class indices.
pub fn single_label(labels: &[String], pairs: &[(usize, usize)]) -> SingleLabelReport {
    let n = labels.len();
    let mut confusion = vec![vec![0usize; n]; n];
    for &(g, p) in pairs {
        confusion[g][p] += 1;
    }
    let correct: usize = (0..n).map(|i| confusion[i][i]).sum();
    let mut per_class = BTreeMap::new();
    let mut f1_sum = 0.0;
    let mut present = 0;
    for (i, label) in labels.iter().enumerate() {
        let support: usize = confusion[i].iter().sum();
        let predicted: usize = (0..n).map(|g| confusion[g][i]).sum();
        let p = ratio(confusion[i][i], predicted);
        let r = ratio(confusion[i][i], support);
        if support > 0 {
            f1_sum += f1(p, r);
            present += 1;
        }
        per_class.insert(
            label.clone(),
            ClassReport {
                precision: p,
                recall: r,
                f1: f1(p, r),
                support,
            },
        );
    }
    SingleLabelReport {
        examples: pairs.len(),
        accuracy: ratio(correct, pairs.len()),
        macro_f1: if present == 0 {
            0.0
        } else {
            f1_sum / present as f64
        },
        per_class,
        labels: labels.to_vec(),
        confusion,
        ece: None,
    }
}

/// Expected calibration error: `(confidence, correct)` per prediction, sorted into `bins` equal-width
/// confidence bins; the mean over examples of |accuracy − mean confidence| of their bin.
pub fn expected_calibration_error(preds: &[(f32, bool)], bins: usize) -> f64 {
    if preds.is_empty() || bins == 0 {
        return 0.0;
    }
    let mut sum_conf = vec![0.0f64; bins];
    let mut sum_ok = vec![0.0f64; bins];
    let mut count = vec![0usize; bins];
    for &(c, ok) in preds {
        let c = c.clamp(0.0, 1.0) as f64;
        let b = ((c * bins as f64) as usize).min(bins - 1);
        sum_conf[b] += c;
        sum_ok[b] += f64::from(u8::from(ok));
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (sum_ok[b] - sum_conf[b]).abs())
        .sum::<f64>()
        / preds.len() as f64
}

/// Report for a multi-label head at given thresholds.
#[derive(Debug, Clone, Serialize)]
pub struct MultiLabelReport {
    pub examples: usize,
    /// Mean F1 over labels with at least one gold positive.
    pub macro_f1: f64,
    pub micro_f1: f64,
    /// Share of examples whose predicted label set equals the gold set.
    pub exact_match: f64,
    pub per_label: BTreeMap<String, ClassReport>,
    pub thresholds: Vec<f32>,
}

/// `rows`: (gold 0/1 per label, probability per label).
pub fn multi_label(
    labels: &[String],
    thresholds: &[f32],
    rows: &[(Vec<u8>, Vec<f32>)],
) -> MultiLabelReport {
    let n = labels.len();
    let (mut tp, mut fp, mut fneg) = (vec![0usize; n], vec![0usize; n], vec![0usize; n]);
    let mut exact = 0;
    for (gold, probs) in rows {
        let mut same = true;
        for i in 0..n {
            let pred = probs[i] >= thresholds[i];
            let g = gold[i] == 1;
            match (g, pred) {
                (true, true) => tp[i] += 1,
                (false, true) => fp[i] += 1,
                (true, false) => fneg[i] += 1,
                _ => {}
            }
            same &= g == pred;
        }
        exact += same as usize;
    }
    let mut per_label = BTreeMap::new();
    let (mut f1_sum, mut present) = (0.0, 0);
    for i in 0..n {
        let p = ratio(tp[i], tp[i] + fp[i]);
        let r = ratio(tp[i], tp[i] + fneg[i]);
        let support = tp[i] + fneg[i];
        if support > 0 {
            f1_sum += f1(p, r);
            present += 1;
        }
        per_label.insert(
            labels[i].clone(),
            ClassReport {
                precision: p,
                recall: r,
                f1: f1(p, r),
                support,
            },
        );
    }
    let (stp, sfp, sfn) = (
        tp.iter().sum::<usize>(),
        fp.iter().sum::<usize>(),
        fneg.iter().sum::<usize>(),
    );
    MultiLabelReport {
        examples: rows.len(),
        macro_f1: if present == 0 {
            0.0
        } else {
            f1_sum / present as f64
        },
        micro_f1: f1(ratio(stp, stp + sfp), ratio(stp, stp + sfn)),
        exact_match: ratio(exact, rows.len()),
        per_label,
        thresholds: thresholds.to_vec(),
    }
}

/// One class against the rest when "probability ≥ threshold" flags it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OperatingPoint {
    pub threshold: f32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples flagged at this threshold.
    pub flagged: usize,
}

/// Precision and recall of flagging one class at each threshold; `rows`: (probability of the class, gold is
/// the class).
pub fn operating_points(rows: &[(f32, bool)], thresholds: &[f32]) -> Vec<OperatingPoint> {
    let support = rows.iter().filter(|r| r.1).count();
    thresholds
        .iter()
        .map(|&t| {
            let (mut tp, mut flagged) = (0, 0);
            for &(p, gold) in rows {
                if p >= t {
                    flagged += 1;
                    tp += usize::from(gold);
                }
            }
            let (p, r) = (ratio(tp, flagged), ratio(tp, support));
            OperatingPoint {
                threshold: t,
                precision: p,
                recall: r,
                f1: f1(p, r),
                flagged,
            }
        })
        .collect()
}

/// The threshold in 0.05..=0.95 that maximizes F1 of one label (ties: the one nearest 0.5).
pub fn best_threshold(gold: &[u8], probs: &[f32]) -> f32 {
    let rows: Vec<(f32, bool)> = probs.iter().zip(gold).map(|(&p, &g)| (p, g == 1)).collect();
    let grid: Vec<f32> = (1..20).map(|step| step as f32 * 0.05).collect();
    let mut best = (f64::MIN, 0.5f32);
    for point in operating_points(&rows, &grid) {
        let score = point.f1 - 1e-6 * (point.threshold - 0.5).abs() as f64;
        if score > best.0 {
            best = (score, point.threshold);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_error() {
        // Perfectly calibrated: 80% confident, 80% right.
        let mut preds: Vec<(f32, bool)> = (0..10).map(|i| (0.8, i < 8)).collect();
        assert!(expected_calibration_error(&preds, 15) < 1e-6);
        // Overconfident: 100% sure, half right → 0.5.
        preds = (0..10).map(|i| (1.0, i < 5)).collect();
        assert!((expected_calibration_error(&preds, 15) - 0.5).abs() < 1e-6);
        assert_eq!(expected_calibration_error(&[], 15), 0.0);
    }

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn single_label_by_hand() {
        // gold a,a,b,b ; predicted a,b,b,b
        let r = single_label(&labels(&["a", "b", "c"]), &[(0, 0), (0, 1), (1, 1), (1, 1)]);
        assert_eq!(r.accuracy, 0.75);
        assert_eq!(
            r.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![0, 0, 0]]
        );
        let a = &r.per_class["a"];
        assert_eq!((a.precision, a.recall), (1.0, 0.5));
        let b = &r.per_class["b"];
        assert!((b.precision - 2.0 / 3.0).abs() < 1e-12 && b.recall == 1.0);
        // c has no support: not in the macro average.
        let want = (f1(1.0, 0.5) + f1(2.0 / 3.0, 1.0)) / 2.0;
        assert!((r.macro_f1 - want).abs() < 1e-12);
    }

    #[test]
    fn operating_points_by_hand() {
        // Two gold positives (0.9, 0.3) among four rows.
        let rows = [(0.9, true), (0.6, false), (0.3, true), (0.1, false)];
        let pts = operating_points(&rows, &[0.5, 0.2, 0.95]);
        assert_eq!(
            (pts[0].flagged, pts[0].precision, pts[0].recall),
            (2, 0.5, 0.5)
        );
        assert_eq!((pts[1].flagged, pts[1].recall), (3, 1.0));
        assert!((pts[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            (pts[2].flagged, pts[2].precision, pts[2].recall, pts[2].f1),
            (0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn multi_label_by_hand() {
        let rows = vec![
            (vec![1, 0], vec![0.9, 0.2]),
            (vec![1, 1], vec![0.4, 0.8]),
            (vec![0, 0], vec![0.1, 0.7]),
        ];
        let r = multi_label(&labels(&["x", "y"]), &[0.5, 0.5], &rows);
        assert_eq!(r.per_label["x"].recall, 0.5);
        assert_eq!(r.per_label["y"].precision, 0.5);
        assert!((r.exact_match - 1.0 / 3.0).abs() < 1e-12);
        let r2 = multi_label(&labels(&["x", "y"]), &[0.3, 0.75], &rows);
        assert_eq!(r2.exact_match, 1.0);
    }

    #[test]
    fn threshold_search_finds_the_gap() {
        let gold = [1, 1, 0, 0];
        let probs = [0.35, 0.4, 0.2, 0.1];
        let t = best_threshold(&gold, &probs);
        assert!(t > 0.2 && t <= 0.35, "{t}");
    }
}
