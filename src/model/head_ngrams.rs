//! The n-gram model of a single-label head (optional `sentiment_ngrams.json` / `emotion_ngrams.json` in a
//! model directory): per label, a one-vs-rest logistic regression over the character n-grams of the text
//! (the learned-model format of [`crate::risk::learned`]), fitted to every training row labeled for that
//! head (`xinsheng train-ngrams --head HEAD`). Its scores, normalized to sum to one (`q`), are blended with
//! the network's softmax (`p`) in log space and renormalized: `p' ∝ p^(1 − w) · q^w`, one weight `w` for the
//! whole head.
//!
//! Why: the network reads emotion from a loss weighted 0.5 beside the other heads and from teachers that read
//! Weibo posts, and sentiment from a small from-scratch encoder; a linear model over n-grams reads the same
//! rows differently and the blend is more accurate than either (docs/model_history.md, "Emotion and sentiment n-grams").

use super::config::HeadSpec;
use super::ngram_files::{self, TextGrams};
use super::ModelError;
use crate::risk::learned::NgramModel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The single-label heads that may have an n-gram model, in the order they are blended.
pub const HEADS: [&str; 2] = ["sentiment", "emotion"];
/// Probabilities are floored here before their logarithm.
const FLOOR: f32 = 1e-9;

/// File name of `head`'s n-gram model inside a model directory.
pub fn file_name(head: &str) -> String {
    format!("{head}_ngrams.json")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadNgrams {
    pub format_version: u32,
    /// `w` of the blend, in [0, 1] (0: the network alone; 1: the n-grams alone).
    pub blend_weight: f32,
    /// How it was made (data, options, the dev figures the weight was chosen on).
    #[serde(default)]
    pub training: serde_json::Value,
    /// Label → its one-vs-rest model (their thresholds are not used).
    pub labels: BTreeMap<String, NgramModel>,
}

/// Blends two distributions over the same labels: `p' ∝ p^(1 − w) · q^w`.
pub fn blend(weight: f32, network: &[f32], ngrams: &[f32]) -> Vec<f32> {
    let z: Vec<f32> = network
        .iter()
        .zip(ngrams)
        .map(|(&p, &q)| (1.0 - weight) * p.max(FLOOR).ln() + weight * q.max(FLOOR).ln())
        .collect();
    let top = z.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = z.iter().map(|x| (x - top).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

impl HeadNgrams {
    /// Reads `head`'s file in `dir` (`DIR/HEAD_ngrams.json`) when there is one.
    pub fn for_model_dir(dir: &Path, head: &str) -> Result<Option<Self>, ModelError> {
        ngram_files::read(&dir.join(file_name(head)), Self::parse)
    }

    /// Parses and checks the file (its labels' models, the blend weight).
    pub fn parse(text: &str, file: &str) -> Result<Self, ModelError> {
        let bad = |msg: String| ModelError::Invalid {
            file: file.to_string(),
            msg,
        };
        let m: HeadNgrams = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !(0.0..=1.0).contains(&m.blend_weight) {
            return Err(bad(format!(
                "blend weight {} is not in [0, 1]",
                m.blend_weight
            )));
        }
        let labels = ngram_files::checked_labels(m.format_version, m.labels, file)?;
        Ok(Self { labels, ..m })
    }

    /// Checks that every label of `head` has a model.
    pub fn check(&self, head: &HeadSpec, file: &str) -> Result<(), ModelError> {
        match head.labels.iter().find(|l| !self.labels.contains_key(*l)) {
            Some(l) => Err(ModelError::Invalid {
                file: file.to_string(),
                msg: format!("no model for label `{l}` of the {} head", head.name),
            }),
            None => Ok(()),
        }
    }

    /// The n-gram models' distribution over `labels` for `text`: each one-vs-rest score, normalized to sum
    /// to one (a label without a model scores 0).
    pub fn scores(&self, labels: &[String], text: &str) -> Vec<f32> {
        self.scores_of(labels, &mut TextGrams::new(text))
    }

    fn scores_of(&self, labels: &[String], grams: &mut TextGrams) -> Vec<f32> {
        let raw = ngram_files::probabilities(&self.labels, labels, grams, 0.0);
        let sum: f32 = raw.iter().sum();
        if sum > 0.0 {
            raw.into_iter().map(|s| s / sum).collect()
        } else {
            vec![1.0 / labels.len().max(1) as f32; labels.len()]
        }
    }

    /// Blends the head's probabilities `probs` (in `labels` order) of the text of `grams` in place.
    pub fn apply(&self, labels: &[String], grams: &mut TextGrams, probs: &mut [f32]) {
        let q = self.scores_of(labels, grams);
        let b = blend(self.blend_weight, probs, &q);
        probs.copy_from_slice(&b);
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the model serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::learned::{train, TrainOptions};

    fn labels() -> Vec<String> {
        vec!["none".into(), "anger".into(), "happiness".into()]
    }

    fn fitted(weight: f32) -> HeadNgrams {
        let texts = [
            "气死我了",
            "太气人了",
            "真开心",
            "好开心啊",
            "查一下话费",
            "帮我改地址",
        ];
        let gold = [1, 1, 2, 2, 0, 0];
        let opts = TrainOptions {
            min_count: 1,
            ..Default::default()
        };
        HeadNgrams {
            format_version: 1,
            blend_weight: weight,
            training: serde_json::Value::Null,
            labels: labels()
                .into_iter()
                .enumerate()
                .map(|(k, l)| {
                    let y: Vec<bool> = gold.iter().map(|&g| g == k).collect();
                    (
                        l,
                        train(&texts, &[], &y, &opts, 0.5, serde_json::Value::Null),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn scores_are_a_distribution_that_learned_the_words() {
        let m = fitted(0.5);
        let q = m.scores(&labels(), "气死人了");
        assert!((q.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{q:?}");
        assert!(q[1] > q[0] && q[1] > q[2], "{q:?}");
    }

    #[test]
    fn weight_zero_keeps_the_network_one_takes_the_ngrams_and_between_mixes() {
        let p = [0.7, 0.2, 0.1];
        let mut x = p.to_vec();
        fitted(0.0).apply(&labels(), &mut TextGrams::new("真开心"), &mut x);
        for (a, b) in x.iter().zip(&p) {
            assert!((a - b).abs() < 1e-5, "{x:?}");
        }
        let m = fitted(1.0);
        let q = m.scores(&labels(), "真开心");
        let mut x = p.to_vec();
        m.apply(&labels(), &mut TextGrams::new("真开心"), &mut x);
        for (a, b) in x.iter().zip(&q) {
            assert!((a - b).abs() < 1e-4, "{x:?} {q:?}");
        }
        let mut x = p.to_vec();
        fitted(0.5).apply(&labels(), &mut TextGrams::new("真开心"), &mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        // Happiness rises above the network's 0.1 toward the n-grams' reading, none falls below 0.7.
        assert!(x[2] > 0.1 && x[2] < q[2] && x[0] < 0.7, "{x:?} {q:?}");
    }

    #[test]
    fn file_round_trips_and_bad_files_are_refused() {
        let m = fitted(0.4);
        let back = HeadNgrams::parse(&m.to_json(), "f").unwrap();
        assert_eq!(back.scores(&labels(), "气死"), m.scores(&labels(), "气死"));
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        v["blend_weight"] = (-0.1).into();
        let err = HeadNgrams::parse(&v.to_string(), "f").unwrap_err();
        assert!(err.to_string().contains("blend weight"), "{err}");
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        v["labels"]["anger"]["ngram_max"] = 0.into();
        let err = HeadNgrams::parse(&v.to_string(), "f").unwrap_err();
        assert!(err.to_string().contains("anger"), "{err}");
        let head = HeadSpec {
            name: "emotion".into(),
            labels: vec!["none".into(), "fear".into()],
            multi_label: false,
            thresholds: None,
            pooling: Default::default(),
        };
        let err = m.check(&head, "f").unwrap_err();
        assert!(err.to_string().contains("`fear`"), "{err}");
    }
}
