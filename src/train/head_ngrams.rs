//! Fits the n-gram model of a single-label head ([`crate::model::head_ngrams`]) for a trained model:
//! `xinsheng --model DIR train-ngrams --head emotion --data build/dataset` writes `DIR/emotion_ngrams.json`
//! (`--head sentiment`: `DIR/sentiment_ngrams.json`).
//!
//! - **Training rows:** every row of `train.jsonl` (as `xinsheng prepare` writes it) labeled for the head.
//!   One one-vs-rest logistic regression per label over character 1–3-grams.
//! - **Blend weight:** chosen on the head's selection splits ([`selection_splits`]): the weight of the grid
//!   with the best mean of the splits' accuracies (ties: the smaller weight), so a small customer-service split
//!   counts as much as a large review split. Sentiment accuracy is computed as `xinsheng eval` does (binary on
//!   a split without neutral gold labels). Every weight's figures per split are kept in the file's `training`
//!   record.

use super::data::Example;
use super::eval::{argmax, sentiment_is_binary, sentiment_prediction};
use super::metrics;
use super::ngram_fit::{better, fit_labels, head_probabilities, options_record, source_rows};
use super::TrainError;
use crate::model::config::{EMOTION_LABELS, SENTIMENT_LABELS};
use crate::model::head_ngrams::{blend, HeadNgrams};
use crate::model::Model;
use crate::risk::fit::{round2, round4};
use crate::risk::learned::TrainOptions;
use std::collections::BTreeMap;
use std::path::Path;

/// The dev splits a head's blend weight is chosen on: for emotion the NLPCC 2013 slice and the written
/// customer-service utterances; for sentiment every split that has training rows of its own source
/// (ChnSentiCorp, NLPCC 2014, the other review sets, the written utterances, the Taobao turns), so the
/// hand-written dev-only sets (`sentiment3`, `robustness`) stay unseen by the choice.
pub fn selection_splits(head: &str) -> &'static [&'static str] {
    match head {
        "emotion" => &["emotion", "cs_written"],
        _ => &[
            "chnsenticorp",
            "nlpcc2014",
            "reviews",
            "cs_written",
            "taobao",
        ],
    }
}

/// What `train-ngrams` takes besides the model, the head and the data directory.
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

/// The gold label of `e` for `head`.
fn gold(head: &str, e: &Example) -> Option<u8> {
    match head {
        "emotion" => e.emotion,
        _ => e.sentiment,
    }
}

/// Rows of a prepared JSONL file labeled for `head`.
fn head_rows(path: &Path, head: &str) -> Result<Vec<Example>, TrainError> {
    Ok(source_rows(path)?
        .into_iter()
        .filter(|e| gold(head, e).is_some())
        .collect())
}

/// One dev split, scored: the network's and the n-grams' probabilities and the gold labels.
struct Split {
    name: String,
    network: Vec<Vec<f32>>,
    grams: Vec<Vec<f32>>,
    gold: Vec<usize>,
}

impl Split {
    /// The split's figures at blend weight `w` (accuracy, macro-F1, per class).
    fn figures(&self, head: &str, labels: &[String], w: f32) -> metrics::SingleLabelReport {
        // A sentiment split without neutral gold labels is read two-way, as `xinsheng eval` reads it.
        let binary = head == "sentiment" && sentiment_is_binary(self.gold.iter().copied());
        let pairs: Vec<(usize, usize)> = self
            .network
            .iter()
            .zip(&self.grams)
            .zip(&self.gold)
            .map(|((n, q), &g)| {
                let p = blend(w, n, q);
                let pred = if head == "sentiment" {
                    sentiment_prediction(&p, binary).0
                } else {
                    argmax(&p)
                };
                (g, pred)
            })
            .collect();
        metrics::single_label(labels, &pairs)
    }
}

/// Fits `head`'s n-gram models on `data/train.jsonl` and chooses the blend weight with `model` (its
/// network's own probabilities; an existing n-gram file of the model is not used).
pub fn fit(
    model: &Model,
    data: &Path,
    head: &str,
    opts: &FitOptions,
) -> Result<HeadNgrams, TrainError> {
    let expected: &[&str] = match head {
        "emotion" => &EMOTION_LABELS,
        "sentiment" => &SENTIMENT_LABELS,
        _ => {
            return Err(TrainError::Usage(format!(
                "--head {head}: not a single-label head with an n-gram model (sentiment, emotion)"
            )))
        }
    };
    let (hi, spec) = model
        .config
        .head(head)
        .ok_or_else(|| TrainError::Usage(format!("the model has no {head} head")))?;
    let labels = spec.labels.clone();
    if labels != expected {
        return Err(TrainError::Usage(format!(
            "the {head} head's labels {labels:?} are not the corpus's {expected:?}"
        )));
    }
    if opts.weights.is_empty() || opts.weights.iter().any(|w| !(0.0..=1.0).contains(w)) {
        return Err(TrainError::Usage(
            "blend weights must be in [0, 1] (at least one)".into(),
        ));
    }
    let train = head_rows(&data.join("train.jsonl"), head)?;
    if train.is_empty() {
        return Err(TrainError::Usage(format!(
            "{}: no rows labeled for the {head} head",
            data.join("train.jsonl").display()
        )));
    }
    let mut dev = Vec::new();
    for split in selection_splits(head) {
        let path = data.join(format!("dev_{split}.jsonl"));
        if path.exists() {
            let rows = head_rows(&path, head)?;
            if !rows.is_empty() {
                dev.push((split.to_string(), rows));
            }
        }
    }
    if dev.is_empty() {
        return Err(TrainError::Usage(format!(
            "{}: no dev rows labeled for the {head} head (dev_{}.jsonl)",
            data.display(),
            selection_splits(head).join(".jsonl, dev_")
        )));
    }
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &train {
        *counts.entry(e.source.as_str()).or_default() += 1;
    }
    let models = fit_labels(&labels, &texts, &opts.ngrams, |k, i| {
        gold(head, &train[i]) == Some(k as u8)
    });
    let mut fitted = HeadNgrams {
        format_version: crate::model::ngram_files::FORMAT,
        blend_weight: 0.0,
        training: serde_json::Value::Null,
        labels: models,
    };
    let mut splits = Vec::new();
    for (name, rows) in dev {
        let dev_texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        let network = head_probabilities(model, &dev_texts, hi)?;
        let grams = dev_texts
            .iter()
            .map(|t| fitted.scores(&labels, t))
            .collect();
        let gold = rows
            .iter()
            .map(|r| gold(head, r).unwrap() as usize)
            .collect();
        splits.push(Split {
            name,
            network,
            grams,
            gold,
        });
    }
    let anger = labels.iter().position(|l| l == "anger");
    let mut grid = Vec::new();
    let mut best: Option<(f64, f32)> = None;
    for &w in &opts.weights {
        let mut per_split = serde_json::Map::new();
        let mut mean = 0.0;
        for s in &splits {
            let r = s.figures(head, &labels, w);
            mean += r.accuracy / splits.len() as f64;
            let mut v = serde_json::json!({ "accuracy": round4(r.accuracy), "macro_f1": round4(r.macro_f1) });
            if let Some(a) = anger {
                v["anger_recall"] = round4(r.per_class[&labels[a]].recall).into();
            }
            per_split.insert(s.name.clone(), v);
        }
        grid.push(
            serde_json::json!({ "weight": round2(w), "mean_accuracy": round4(mean),
                                      "splits": per_split }),
        );
        if best.is_none_or(|b| better(mean, w, b.0, b.1)) {
            best = Some((mean, w));
        }
    }
    let (mean, w) = best.expect("at least one weight");
    fitted.blend_weight = w;
    fitted.training = serde_json::json!({
        "command": format!("xinsheng --model DIR train-ngrams --head {head} --data DATA (docs/model_history.md, \"Emotion and sentiment n-grams\")"),
        "head": head,
        "model": model.dir.display().to_string(),
        "train_rows": counts,
        "options": options_record(&opts.ngrams),
        "dev": splits.iter().map(|s| format!("dev_{}.jsonl", s.name)).collect::<Vec<_>>(),
        "chosen": { "weight": round2(w), "mean_accuracy": round4(mean) },
        "by_weight": grid,
    });
    Ok(fitted)
}
