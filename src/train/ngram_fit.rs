//! What the n-gram trainers share (`train-categories`, `train-ngrams`): reading a prepared file's rows with
//! their sources, fitting one logistic regression per label, the network's own probabilities on dev rows, the
//! tie rule of the blend-weight grid, and the options record of the files.

use super::data::{read_jsonl, row_example, Example};
use super::TrainError;
use crate::model::Model;
use crate::risk::learned::{self, TrainOptions};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Rows of a prepared JSONL file, each keeping its own `source` field (`data::read_examples` names every row
/// after the file instead).
pub(crate) fn source_rows(path: &Path) -> Result<Vec<Example>, TrainError> {
    Ok(read_jsonl(path)?
        .iter()
        .filter_map(|row| {
            let source = row.get("source").and_then(|s| s.as_str()).unwrap_or("");
            row_example(row, source)
        })
        .collect())
}

/// One logistic regression per label over the n-grams of `texts` (text `i` is a positive of label `j` when
/// `positive(j, i)`), fitted side by side; each is deterministic. Their thresholds are left at 0.5.
pub(crate) fn fit_labels(
    labels: &[String],
    texts: &[&str],
    opts: &TrainOptions,
    positive: impl Fn(usize, usize) -> bool + Sync,
) -> BTreeMap<String, learned::NgramModel> {
    labels
        .par_iter()
        .enumerate()
        .map(|(j, label)| {
            let y: Vec<bool> = (0..texts.len()).map(|i| positive(j, i)).collect();
            let positives = y.iter().filter(|&&b| b).count();
            let m = learned::train(
                texts,
                &[],
                &y,
                opts,
                0.5,
                serde_json::json!({ "positives": positives }),
            );
            (label.clone(), m)
        })
        .collect()
}

/// The network's probabilities of head `hi` for `texts` (without any n-gram blend).
pub(crate) fn head_probabilities(
    model: &Model,
    texts: &[&str],
    hi: usize,
) -> Result<Vec<Vec<f32>>, TrainError> {
    Ok(model
        .predict_texts(texts, 32)?
        .into_iter()
        .map(|p| p[hi].clone())
        .collect())
}

/// Whether a blend weight `w` scoring `score` beats the best so far (`best_score` at `best_w`): a higher score,
/// or the same score (within 1e-9) at a smaller weight, whatever order the grid was given in.
pub(crate) fn better(score: f64, w: f32, best_score: f64, best_w: f32) -> bool {
    score > best_score + 1e-9 || (score >= best_score - 1e-9 && w < best_w)
}

/// The n-gram options as the model files record them.
pub(crate) fn options_record(o: &TrainOptions) -> serde_json::Value {
    serde_json::json!({
        "c": o.c,
        "min_count": o.min_count,
        "ngram_min": o.ngram_min,
        "ngram_max": o.ngram_max,
    })
}

#[cfg(test)]
mod tests {
    use super::better;

    #[test]
    fn the_best_weight_is_the_highest_score_then_the_smallest_weight() {
        // A grid given in descending order still ends on the smallest of the tied weights.
        let mut best: Option<(f64, f32)> = None;
        for (score, w) in [(0.7, 1.0), (0.8, 0.6), (0.8, 0.3), (0.75, 0.1), (0.8, 0.5)] {
            if best.is_none_or(|b| better(score, w, b.0, b.1)) {
                best = Some((score, w));
            }
        }
        assert_eq!(best, Some((0.8, 0.3)));
        assert!(!better(0.8, 0.3, 0.8, 0.3));
        assert!(better(0.81, 0.9, 0.8, 0.1));
    }
}
