//! Fits the category n-gram model ([`crate::model::category_ngrams`]) for a trained model:
//! `xinsheng --model DIR train-categories --data build/dataset` writes `DIR/category_ngrams.json`.
//!
//! - **Training rows:** the rows of `train.jsonl` (as `xinsheng prepare` writes it) whose source is one of
//!   the hand-labeled sets (default `handcat`, `cs_written`, `taobao`) and that carry categories; weak
//!   labels never train it. One logistic regression per category over character 1–3-grams.
//! - **Blend weights and thresholds, per label:** chosen on the dev rows the network's category thresholds
//!   are chosen on (`dev_handcat.jsonl` and `dev_cs_written.jsonl`): for every weight of the grid, the
//!   label's best threshold ([`metrics::best_threshold`]) and its F1 there; the weight with the best F1 wins
//!   (ties: the smaller weight). Every weight's figure is kept in the file's `training` record.

use super::data::Example;
use super::metrics;
use super::ngram_fit::{better, fit_labels, head_probabilities, options_record, source_rows};
use super::{TrainError, THRESHOLD_SPLITS};
use crate::model::category_ngrams::{blend, CategoryNgrams};
use crate::model::Model;
use crate::risk::fit::{round2, round4};
use crate::risk::learned::TrainOptions;
use std::collections::BTreeMap;
use std::path::Path;

/// What `train-categories` takes besides the model and the data directory.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Sources of `train.jsonl` whose category labels train the n-gram models.
    pub sources: Vec<String>,
    /// Inverse L2 strength, n-gram range and vocabulary cut (as for the learned risk models).
    pub ngrams: TrainOptions,
    /// Blend weights tried.
    pub weights: Vec<f32>,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            sources: ["handcat", "cs_written", "taobao"]
                .map(String::from)
                .to_vec(),
            ngrams: TrainOptions::default(),
            weights: (0..=10).map(|i| i as f32 * 0.1).collect(),
        }
    }
}

/// Rows of a prepared JSONL file with categories.
fn labeled_rows(path: &Path) -> Result<Vec<Example>, TrainError> {
    Ok(source_rows(path)?
        .into_iter()
        .filter(|e| e.categories.is_some())
        .collect())
}

/// The best F1 of one label over the threshold grid, and that threshold ([`metrics::best_threshold`]).
fn best_f1(gold: &[u8], probs: &[f32]) -> (f64, f32) {
    let t = metrics::best_threshold(gold, probs);
    let rows: Vec<(f32, bool)> = probs.iter().zip(gold).map(|(&x, &y)| (x, y == 1)).collect();
    (metrics::operating_points(&rows, &[t])[0].f1, t)
}

/// Fits the n-gram models on `data/train.jsonl` and chooses the blend weight and thresholds with `model`
/// (its network's own probabilities; an existing `category_ngrams.json` of the model is not used).
pub fn fit(model: &Model, data: &Path, opts: &FitOptions) -> Result<CategoryNgrams, TrainError> {
    let (hi, head) = model
        .config
        .head("categories")
        .ok_or_else(|| TrainError::Usage("the model has no categories head".into()))?;
    let labels = head.labels.clone();
    if labels != crate::model::config::CATEGORY_LABELS {
        return Err(TrainError::Usage(format!(
            "the categories head's labels {labels:?} are not the corpus's {:?}",
            crate::model::config::CATEGORY_LABELS
        )));
    }
    if opts.weights.is_empty() || opts.weights.iter().any(|w| !(0.0..=1.0).contains(w)) {
        return Err(TrainError::Usage(
            "blend weights must be in [0, 1] (at least one)".into(),
        ));
    }
    let train: Vec<Example> = labeled_rows(&data.join("train.jsonl"))?
        .into_iter()
        .filter(|e| opts.sources.contains(&e.source))
        .collect();
    if train.is_empty() {
        return Err(TrainError::Usage(format!(
            "{}: no rows with categories from the sources {:?}",
            data.join("train.jsonl").display(),
            opts.sources
        )));
    }
    let mut dev = Vec::new();
    let mut dev_files = Vec::new();
    for split in THRESHOLD_SPLITS {
        let path = data.join(format!("dev_{split}.jsonl"));
        if path.exists() {
            dev.extend(labeled_rows(&path)?);
            dev_files.push(path.display().to_string());
        }
    }
    if dev.is_empty() {
        return Err(TrainError::Usage(format!(
            "{}: no dev rows with categories (dev_{}.jsonl)",
            data.display(),
            THRESHOLD_SPLITS.join(".jsonl, dev_")
        )));
    }
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &train {
        *counts.entry(e.source.as_str()).or_default() += 1;
    }
    let models = fit_labels(&labels, &texts, &opts.ngrams, |j, i| {
        train[i].categories.as_ref().is_some_and(|c| c[j] == 1)
    });
    let mut c = CategoryNgrams {
        format_version: crate::model::ngram_files::FORMAT,
        blend_weights: BTreeMap::new(),
        training: serde_json::Value::Null,
        labels: models,
    };
    // The network's own probabilities and the n-grams' on the dev rows.
    let dev_texts: Vec<&str> = dev.iter().map(|e| e.text.as_str()).collect();
    let network = head_probabilities(model, &dev_texts, hi)?;
    let grams: Vec<Vec<f32>> = dev_texts.iter().map(|t| c.scores(&labels, t)).collect();
    let gold: Vec<Vec<u8>> = dev.iter().map(|e| e.categories.clone().unwrap()).collect();
    // Per label: the weight whose best threshold gives the best F1 on the dev rows (ties: the smaller).
    let mut grid = BTreeMap::new();
    let mut chosen_f1 = Vec::with_capacity(labels.len());
    for (j, label) in labels.iter().enumerate() {
        let g: Vec<u8> = gold.iter().map(|c| c[j]).collect();
        let mut best: Option<(f64, f32, f32)> = None;
        let mut row = Vec::new();
        for &w in &opts.weights {
            let p: Vec<f32> = network
                .iter()
                .zip(&grams)
                .map(|(n, q)| blend(w, n[j], q[j]))
                .collect();
            let (f1, t) = best_f1(&g, &p);
            row.push(serde_json::json!([round2(w), round4(f1)]));
            if best.as_ref().is_none_or(|b| better(f1, w, b.0, b.1)) {
                best = Some((f1, w, t));
            }
        }
        let (f1, w, t) = best.expect("at least one weight");
        chosen_f1.push(f1);
        c.blend_weights.insert(label.clone(), w);
        if let Some(m) = c.labels.get_mut(label) {
            m.threshold = t;
        }
        grid.insert(
            label.clone(),
            serde_json::json!({ "chosen": { "weight": round2(w), "threshold": round2(t), "f1": round4(f1) },
                                "f1_by_weight": row }),
        );
    }
    // Each label's F1 at its chosen weight and threshold, as found above.
    let macro_f1 = chosen_f1.iter().sum::<f64>() / labels.len() as f64;
    let network_f1 = labels
        .iter()
        .enumerate()
        .map(|(j, _)| {
            let g: Vec<u8> = gold.iter().map(|c| c[j]).collect();
            best_f1(&g, &network.iter().map(|n| n[j]).collect::<Vec<_>>()).0
        })
        .sum::<f64>()
        / labels.len() as f64;
    c.training = serde_json::json!({
        "command": "xinsheng --model DIR train-categories --data DATA (docs/model_history.md, \"Category n-grams\")",
        "model": model.dir.display().to_string(),
        "train_rows": counts,
        "options": options_record(&opts.ngrams),
        "dev": dev_files,
        "dev_rows": dev.len(),
        "per_label": grid,
        "macro_f1": { "network_alone": round4(network_f1), "blended": round4(macro_f1) },
    });
    Ok(c)
}
