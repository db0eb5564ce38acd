//! `xinsheng eval`: run a model over labeled examples and report every head the examples carry labels for.

use super::data::Example;
use super::metrics::{self, MultiLabelReport, OperatingPoint, SingleLabelReport};
use crate::model::{Model, ModelError};
use serde::Serialize;
use std::collections::BTreeMap;

/// Metrics per head. Sentiment on a set with no neutral gold label (the binary review sets) is scored as
/// negative-vs-positive: the prediction is whichever of the two has the higher probability (`mode: binary`).
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub examples: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<SingleLabelReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emotion: Option<SingleLabelReport>,
    /// Flagging anger whenever its probability reaches a threshold (what the risk policy's
    /// `scores.strong_anger` does) instead of only when it is the top emotion: precision/recall per threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anger_by_threshold: Option<Vec<OperatingPoint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<MultiLabelReport>,
}

impl EvalReport {
    /// The headline figures (for the model card in config.json).
    pub fn headline(&self) -> serde_json::Value {
        let mut v = serde_json::json!({"examples": self.examples});
        if let Some(s) = &self.sentiment {
            v["sentiment_accuracy"] = s.accuracy.into();
            v["sentiment_macro_f1"] = s.macro_f1.into();
            v["sentiment_mode"] = self.sentiment_mode.into();
            v["sentiment_ece"] = s.ece.into();
        }
        if let Some(e) = &self.emotion {
            v["emotion_accuracy"] = e.accuracy.into();
            v["emotion_macro_f1"] = e.macro_f1.into();
            if let Some(a) = e.per_class.get("anger") {
                v["anger_recall"] = a.recall.into();
            }
        }
        if let Some(c) = &self.categories {
            v["categories_macro_f1"] = c.macro_f1.into();
            v["categories_micro_f1"] = c.micro_f1.into();
        }
        v
    }
}

/// Whether a set's sentiment gold labels (indices) make it a binary set: none of them neutral.
pub fn sentiment_is_binary(gold: impl IntoIterator<Item = usize>) -> bool {
    gold.into_iter().all(|g| g != 1)
}

/// The predicted sentiment class and its confidence: on a binary set (no neutral gold label) the larger of
/// negative and positive, with the two renormalized; otherwise the arg-max.
pub fn sentiment_prediction(p: &[f32], binary: bool) -> (usize, f32) {
    if binary {
        let z = (p[0] + p[2]).max(f32::MIN_POSITIVE);
        if p[0] > p[2] {
            (0, p[0] / z)
        } else {
            (2, p[2] / z)
        }
    } else {
        let a = argmax(p);
        (a, p[a])
    }
}

pub(crate) fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .fold(
            (0, f32::MIN),
            |best, (i, &x)| if x > best.1 { (i, x) } else { best },
        )
        .0
}

/// Evaluates `model` on `examples` (texts already normalized or not: the model's path normalizes nothing,
/// so pass what the model should see — [`super::data::read_examples`] normalizes).
pub fn evaluate(
    model: &Model,
    examples: &[Example],
    batch: usize,
) -> Result<EvalReport, ModelError> {
    let probs = predict(model, examples, batch)?;
    Ok(report(model, examples, &probs))
}

/// The model's probabilities per example and head, each head blended with its n-gram model when the model
/// ships one (what [`evaluate`] scores).
pub fn predict(
    model: &Model,
    examples: &[Example],
    batch: usize,
) -> Result<Vec<Vec<Vec<f32>>>, ModelError> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let mut probs = model.predict_texts(&texts, batch)?;
    for (p, t) in probs.iter_mut().zip(&texts) {
        model.blend(t, p);
    }
    Ok(probs)
}

/// The report of [`evaluate`] on one group of examples at a time: `groups[i]` names the group of
/// `examples[i]`. Groups come back sorted by name; the model runs once over all examples.
pub fn evaluate_grouped(
    model: &Model,
    examples: &[Example],
    groups: &[String],
    batch: usize,
) -> Result<(EvalReport, BTreeMap<String, EvalReport>), ModelError> {
    assert_eq!(examples.len(), groups.len(), "one group name per example");
    let probs = predict(model, examples, batch)?;
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        members.entry(g.as_str()).or_default().push(i);
    }
    let by_group = members
        .into_iter()
        .map(|(g, idx)| {
            let ex: Vec<Example> = idx.iter().map(|&i| examples[i].clone()).collect();
            let pr: Vec<Vec<Vec<f32>>> = idx.iter().map(|&i| probs[i].clone()).collect();
            (g.to_string(), report(model, &ex, &pr))
        })
        .collect();
    Ok((report(model, examples, &probs), by_group))
}

/// Scores `probs` (from [`predict`], aligned with `examples`) against the examples' labels.
pub fn report(model: &Model, examples: &[Example], probs: &[Vec<Vec<f32>>]) -> EvalReport {
    let mut report = EvalReport {
        examples: examples.len(),
        sentiment_mode: None,
        sentiment: None,
        emotion: None,
        anger_by_threshold: None,
        categories: None,
    };
    for (hi, head) in model.config.heads.iter().enumerate() {
        match head.name.as_str() {
            "sentiment" => {
                let labeled: Vec<(usize, u8)> = examples
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| e.sentiment.map(|s| (i, s)))
                    .collect();
                if labeled.is_empty() {
                    continue;
                }
                let binary = sentiment_is_binary(labeled.iter().map(|&(_, s)| s as usize));
                let mut confidence = Vec::with_capacity(labeled.len());
                let pairs: Vec<(usize, usize)> = labeled
                    .iter()
                    .map(|&(i, s)| {
                        let (pred, conf) = sentiment_prediction(&probs[i][hi], binary);
                        confidence.push((conf, pred == s as usize));
                        (s as usize, pred)
                    })
                    .collect();
                report.sentiment_mode = Some(if binary { "binary" } else { "three_way" });
                let mut r = metrics::single_label(&head.labels, &pairs);
                r.ece = Some(metrics::expected_calibration_error(&confidence, 15));
                report.sentiment = Some(r);
            }
            "emotion" => {
                let labeled: Vec<(usize, usize)> = examples
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| e.emotion.map(|g| (i, g as usize)))
                    .filter(|&(_, g)| g < head.labels.len())
                    .collect();
                if labeled.is_empty() {
                    continue;
                }
                let mut confidence = Vec::with_capacity(labeled.len());
                let pairs: Vec<(usize, usize)> = labeled
                    .iter()
                    .map(|&(i, g)| {
                        let a = argmax(&probs[i][hi]);
                        confidence.push((probs[i][hi][a], a == g));
                        (g, a)
                    })
                    .collect();
                let mut r = metrics::single_label(&head.labels, &pairs);
                r.ece = Some(metrics::expected_calibration_error(&confidence, 15));
                report.emotion = Some(r);
                if let Some(anger) = head.labels.iter().position(|l| l == "anger") {
                    let rows: Vec<(f32, bool)> = labeled
                        .iter()
                        .map(|&(i, g)| (probs[i][hi][anger], g == anger))
                        .collect();
                    report.anger_by_threshold = Some(metrics::operating_points(
                        &rows,
                        &[0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5],
                    ));
                }
            }
            "categories" => {
                let rows: Vec<(Vec<u8>, Vec<f32>)> = examples
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| e.categories.clone().map(|c| (c, probs[i][hi].clone())))
                    .filter(|(c, _)| c.len() == head.labels.len())
                    .collect();
                if !rows.is_empty() {
                    let t: Vec<f32> = (0..head.labels.len()).map(|j| head.threshold(j)).collect();
                    report.categories = Some(metrics::multi_label(&head.labels, &t, &rows));
                }
            }
            _ => {}
        }
    }
    report
}
