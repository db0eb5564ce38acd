//! The category n-gram model (optional `category_ngrams.json` in a model directory): per complaint category,
//! a logistic regression over the character n-grams of the text (the learned-model format of
//! [`crate::risk::learned`]), fitted to the hand-labeled category rows only (`xinsheng train-categories`).
//! Its log-odds are blended with the network's categories head,
//! `logit(p) = (1 − w) · logit(p_network) + w · logit(p_ngrams)`, and each label's `threshold` in the file
//! is the decision threshold of that blended score (it replaces the head's threshold in `config.json`).
//!
//! Why a second reader of the same text: the from-scratch encoder learns topic words ("贵", "态度", "等了")
//! from a few thousand hand labels less sharply than a linear model over n-grams does, and the two err on
//! different rows (docs/model_history.md, "Category n-grams").

use super::config::HeadSpec;
use super::ngram_files::{self, TextGrams};
use super::ModelError;
use crate::risk::learned::NgramModel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// File name inside a model directory.
pub const FILE: &str = "category_ngrams.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryNgrams {
    pub format_version: u32,
    /// Category label → `w` of its blend, in [0, 1] (0: the network alone; 1: the n-grams alone).
    pub blend_weights: BTreeMap<String, f32>,
    /// How it was made (data, options, the dev figures the weight and thresholds were chosen on).
    #[serde(default)]
    pub training: serde_json::Value,
    /// Category label → its model; the model's `threshold` applies to the blended score.
    pub labels: BTreeMap<String, NgramModel>,
}

/// Log-odds of a probability, clamped away from 0 and 1.
fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// The blended probability of one label.
pub fn blend(weight: f32, network: f32, ngrams: f32) -> f32 {
    let z = (1.0 - weight) * logit(network) + weight * logit(ngrams);
    1.0 / (1.0 + (-z).exp())
}

impl CategoryNgrams {
    /// Reads `DIR/category_ngrams.json` when there is one.
    pub fn for_model_dir(dir: &Path) -> Result<Option<Self>, ModelError> {
        ngram_files::read(&dir.join(FILE), Self::parse)
    }

    /// Parses and checks the file (its labels' models, the blend weight).
    pub fn parse(text: &str, file: &str) -> Result<Self, ModelError> {
        let bad = |msg: String| ModelError::Invalid {
            file: file.to_string(),
            msg,
        };
        let m: CategoryNgrams = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if let Some((l, w)) = m
            .blend_weights
            .iter()
            .find(|(_, w)| !(0.0..=1.0).contains(*w))
        {
            return Err(bad(format!("blend weight {w} of `{l}` is not in [0, 1]")));
        }
        let labels = ngram_files::checked_labels(m.format_version, m.labels, file)?;
        Ok(Self { labels, ..m })
    }

    /// Checks that every label of the categories head has a model and a blend weight.
    pub fn check(&self, head: &HeadSpec, file: &str) -> Result<(), ModelError> {
        match head
            .labels
            .iter()
            .find(|l| !self.labels.contains_key(*l) || !self.blend_weights.contains_key(*l))
        {
            Some(l) => Err(ModelError::Invalid {
                file: file.to_string(),
                msg: format!("no model or blend weight for category `{l}` of the categories head"),
            }),
            None => Ok(()),
        }
    }

    /// The n-gram models' probabilities of `text`, one per `labels` entry.
    pub fn scores(&self, labels: &[String], text: &str) -> Vec<f32> {
        self.scores_of(labels, &mut TextGrams::new(text))
    }

    fn scores_of(&self, labels: &[String], grams: &mut TextGrams) -> Vec<f32> {
        ngram_files::probabilities(&self.labels, labels, grams, 0.5)
    }

    /// Blends the head's probabilities `probs` (in `labels` order) of the text of `grams` in place.
    pub fn apply(&self, labels: &[String], grams: &mut TextGrams, probs: &mut [f32]) {
        for ((p, q), l) in probs
            .iter_mut()
            .zip(self.scores_of(labels, grams))
            .zip(labels)
        {
            *p = blend(self.blend_weights.get(l).copied().unwrap_or(0.0), *p, q);
        }
    }

    /// The blended decision thresholds, in `labels` order (0.5 for a label without a model).
    pub fn thresholds(&self, labels: &[String]) -> Vec<f32> {
        labels
            .iter()
            .map(|l| self.labels.get(l).map_or(0.5, |m| m.threshold))
            .collect()
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
        vec!["price".into(), "process".into()]
    }

    fn fitted(weight: f32) -> CategoryNgrams {
        let texts = [
            "太贵了",
            "价格太贵",
            "等了很久",
            "一直没人处理",
            "贵而且慢",
            "还不错",
        ];
        let price = [true, true, false, false, true, false];
        let process = [false, false, true, true, true, false];
        let opts = TrainOptions {
            min_count: 1,
            ..Default::default()
        };
        let mk = |y: &[bool], t: f32| train(&texts, &[], y, &opts, t, serde_json::Value::Null);
        CategoryNgrams {
            format_version: 1,
            blend_weights: labels().into_iter().map(|l| (l, weight)).collect(),
            training: serde_json::Value::Null,
            labels: [
                ("price".to_string(), mk(&price, 0.4)),
                ("process".to_string(), mk(&process, 0.6)),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn blend_weight_zero_keeps_the_network_and_one_takes_the_ngrams() {
        let m = fitted(0.0);
        let mut p = vec![0.3, 0.8];
        m.apply(&labels(), &mut TextGrams::new("价格太贵"), &mut p);
        assert!((p[0] - 0.3).abs() < 1e-5 && (p[1] - 0.8).abs() < 1e-5);
        let m = fitted(1.0);
        let q = m.scores(&labels(), "价格太贵");
        let mut p = vec![0.3, 0.8];
        m.apply(&labels(), &mut TextGrams::new("价格太贵"), &mut p);
        assert!((p[0] - q[0]).abs() < 1e-4 && (p[1] - q[1]).abs() < 1e-4);
        // The n-grams learned the words: price high, process low for a price complaint.
        assert!(q[0] > 0.5 && q[1] < 0.5, "{q:?}");
    }

    #[test]
    fn halfway_blend_lies_between_its_inputs() {
        let m = fitted(0.5);
        let q = m.scores(&labels(), "等了很久");
        let mut p = vec![0.9, 0.1];
        m.apply(&labels(), &mut TextGrams::new("等了很久"), &mut p);
        for j in 0..2 {
            let (lo, hi) = (q[j].min([0.9, 0.1][j]), q[j].max([0.9, 0.1][j]));
            assert!(p[j] > lo && p[j] < hi, "{p:?} {q:?}");
        }
    }

    #[test]
    fn file_round_trips_and_bad_files_are_refused() {
        let m = fitted(0.3);
        let back = CategoryNgrams::parse(&m.to_json(), "f").unwrap();
        assert_eq!(back.thresholds(&labels()), vec![0.4, 0.6]);
        assert_eq!(back.scores(&labels(), "太贵"), m.scores(&labels(), "太贵"));
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        v["blend_weights"]["process"] = 1.5.into();
        let err = CategoryNgrams::parse(&v.to_string(), "f").unwrap_err();
        assert!(err.to_string().contains("of `process`"), "{err}");
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        v["labels"]["price"]["threshold"] = 2.0.into();
        let err = CategoryNgrams::parse(&v.to_string(), "f").unwrap_err();
        assert!(err.to_string().contains("price"), "{err}");
        let head = HeadSpec {
            name: "categories".into(),
            labels: vec!["price".into(), "other".into()],
            multi_label: true,
            thresholds: None,
            pooling: Default::default(),
        };
        let err = m.check(&head, "f").unwrap_err();
        assert!(err.to_string().contains("`other`"), "{err}");
    }
}
