//! Fits the emotion n-gram model ([`crate::model::emotion_ngrams`]) for a trained model:
//! `xinsheng --model DIR train-emotion --data build/dataset` writes `DIR/emotion_ngrams.json`.
//!
//! - **Training rows:** every row of `train.jsonl` (as `xinsheng prepare` writes it) that carries an emotion
//!   (NLPCC 2013 Weibo posts, the written customer-service utterances, the neutral templates and Taobao
//!   turns). One one-vs-rest logistic regression per emotion over character 1–3-grams.
//! - **Blend weight:** chosen on the emotion rows of `dev_emotion.jsonl` (NLPCC 2013) and
//!   `dev_cs_written.jsonl` (customer-service utterances): the weight of the grid with the best mean of the
//!   two splits' accuracies (ties: the smaller weight), so the 310 customer-service rows count as much as
//!   the 1,264 Weibo posts. Every weight's figures (accuracy, macro-F1, anger recall per split) are kept in
//!   the file's `training` record.

use super::category_ngrams::source_rows;
use super::data::Example;
use super::metrics;
use super::TrainError;
use crate::model::config::EMOTION_LABELS;
use crate::model::emotion_ngrams::{blend, EmotionNgrams};
use crate::model::Model;
use crate::risk::fit::{round2, round4};
use crate::risk::learned::{self, TrainOptions};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// The dev splits the blend weight is chosen on.
pub const SELECTION_SPLITS: [&str; 2] = ["emotion", "cs_written"];

/// What `train-emotion` takes besides the model and the data directory.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Inverse L2 strength, n-gram range and vocabulary cut (as for the learned risk models).
    pub ngrams: TrainOptions,
    /// Blend weights tried.
    pub weights: Vec<f32>,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            ngrams: TrainOptions::default(),
            weights: (0..=10).map(|i| i as f32 * 0.1).collect(),
        }
    }
}

/// Rows of a prepared JSONL file with an emotion.
fn emotion_rows(path: &Path) -> Result<Vec<Example>, TrainError> {
    Ok(source_rows(path)?
        .into_iter()
        .filter(|e| e.emotion.is_some())
        .collect())
}

/// Accuracy, macro-F1 and anger recall of arg-max predictions.
fn figures(labels: &[String], gold: &[usize], probs: &[Vec<f32>]) -> metrics::SingleLabelReport {
    let pairs: Vec<(usize, usize)> = gold
        .iter()
        .zip(probs)
        .map(|(&g, p)| {
            let top = p
                .iter()
                .enumerate()
                .fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b });
            (g, top.0)
        })
        .collect();
    metrics::single_label(labels, &pairs)
}

/// Fits the n-gram models on `data/train.jsonl` and chooses the blend weight with `model` (its network's
/// own probabilities; an existing `emotion_ngrams.json` of the model is not used).
pub fn fit(model: &Model, data: &Path, opts: &FitOptions) -> Result<EmotionNgrams, TrainError> {
    let (hi, head) = model
        .config
        .head("emotion")
        .ok_or_else(|| TrainError::Usage("the model has no emotion head".into()))?;
    let labels = head.labels.clone();
    if labels != EMOTION_LABELS {
        return Err(TrainError::Usage(format!(
            "the emotion head's labels {labels:?} are not the corpus's {EMOTION_LABELS:?}"
        )));
    }
    if opts.weights.is_empty() || opts.weights.iter().any(|w| !(0.0..=1.0).contains(w)) {
        return Err(TrainError::Usage(
            "blend weights must be in [0, 1] (at least one)".into(),
        ));
    }
    let train = emotion_rows(&data.join("train.jsonl"))?;
    if train.is_empty() {
        return Err(TrainError::Usage(format!(
            "{}: no rows with an emotion",
            data.join("train.jsonl").display()
        )));
    }
    let mut splits: Vec<(String, Vec<Example>)> = Vec::new();
    for split in SELECTION_SPLITS {
        let path = data.join(format!("dev_{split}.jsonl"));
        if path.exists() {
            let rows = emotion_rows(&path)?;
            if !rows.is_empty() {
                splits.push((split.to_string(), rows));
            }
        }
    }
    if splits.is_empty() {
        return Err(TrainError::Usage(format!(
            "{}: no dev rows with an emotion (dev_{}.jsonl)",
            data.display(),
            SELECTION_SPLITS.join(".jsonl, dev_")
        )));
    }
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &train {
        *counts.entry(e.source.as_str()).or_default() += 1;
    }
    // One model per emotion, fitted side by side (each is deterministic).
    let models: BTreeMap<String, learned::NgramModel> = labels
        .par_iter()
        .enumerate()
        .map(|(k, label)| {
            let y: Vec<bool> = train.iter().map(|e| e.emotion == Some(k as u8)).collect();
            let positives = y.iter().filter(|&&b| b).count();
            let m = learned::train(
                &texts,
                &[],
                &y,
                &opts.ngrams,
                0.5,
                serde_json::json!({ "positives": positives }),
            );
            (label.clone(), m)
        })
        .collect();
    let mut e = EmotionNgrams {
        format_version: 1,
        blend_weight: 0.0,
        training: serde_json::Value::Null,
        labels: models,
    };
    // Per split: the network's probabilities and the n-grams' distribution on its rows.
    let mut scored = Vec::new();
    for (name, rows) in &splits {
        let dev_texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        let network: Vec<Vec<f32>> = model
            .predict_texts(&dev_texts, 32)?
            .into_iter()
            .map(|p| p[hi].clone())
            .collect();
        let grams: Vec<Vec<f32>> = dev_texts.iter().map(|t| e.scores(&labels, t)).collect();
        let gold: Vec<usize> = rows.iter().map(|r| r.emotion.unwrap() as usize).collect();
        scored.push((name.as_str(), network, grams, gold));
    }
    let anger = labels.iter().position(|l| l == "anger");
    let mut grid = Vec::new();
    let mut best: Option<(f64, f32)> = None;
    for &w in &opts.weights {
        let mut per_split = serde_json::Map::new();
        let mut mean = 0.0;
        for (name, network, grams, gold) in &scored {
            let p: Vec<Vec<f32>> = network
                .iter()
                .zip(grams)
                .map(|(n, q)| blend(w, n, q))
                .collect();
            let r = figures(&labels, gold, &p);
            mean += r.accuracy / scored.len() as f64;
            let anger_recall = anger.map(|a| round4(r.per_class[&labels[a]].recall));
            per_split.insert(
                name.to_string(),
                serde_json::json!({ "accuracy": round4(r.accuracy), "macro_f1": round4(r.macro_f1),
                                    "anger_recall": anger_recall }),
            );
        }
        grid.push(serde_json::json!({ "weight": round2(w),
                                      "mean_accuracy": round4(mean), "splits": per_split }));
        if best.is_none_or(|b| mean > b.0 + 1e-9) {
            best = Some((mean, w));
        }
    }
    let (mean, w) = best.expect("at least one weight");
    e.blend_weight = w;
    e.training = serde_json::json!({
        "command": "xinsheng --model DIR train-emotion --data DATA (README, \"Emotion n-grams\")",
        "model": model.dir.display().to_string(),
        "train_rows": counts,
        "options": {
            "c": opts.ngrams.c,
            "min_count": opts.ngrams.min_count,
            "ngram_min": opts.ngrams.ngram_min,
            "ngram_max": opts.ngrams.ngram_max,
        },
        "dev": scored.iter().map(|s| format!("dev_{}.jsonl", s.0)).collect::<Vec<_>>(),
        "chosen": { "weight": round2(w), "mean_accuracy": round4(mean) },
        "by_weight": grid,
    });
    Ok(e)
}
