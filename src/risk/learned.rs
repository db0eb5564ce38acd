//! The learned risk models: logistic regression over the character n-grams of the text the risk rules read
//! (masked, normalized), explained by the n-grams that weighed most.
//! - the **escalation model** (`risk_model.json`) adds escalations the phrase rules miss — an escalation said
//!   in words no phrase list guessed;
//! - the **complaint model** (`complaint_model.json`) tells a complaint (priority A or B) from an inquiry
//!   (C) where no rule fired: a calm complaint the sentiment head reads neutral becomes B, a plain request it
//!   reads negative becomes C (below `lower`).
//!
//! Both live in the model directory (beside `policy.toml`) and are trained by `xinsheng train-risk` on
//! labeled utterances (see [`train`]). Features are binary: every distinct n-gram of
//! `ngram_min..=ngram_max` characters (whitespace skipped) that is in the vocabulary counts once.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// File names inside a model directory.
pub const ESCALATION_FILE: &str = "risk_model.json";
pub const COMPLAINT_FILE: &str = "complaint_model.json";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum LearnedError {
    #[error("{file}: {msg}")]
    Read { file: String, msg: String },
    #[error("{file}: {msg}")]
    Invalid { file: String, msg: String },
}

/// The stored model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NgramModel {
    pub format_version: u32,
    pub ngram_min: usize,
    pub ngram_max: usize,
    /// Fire when the score is at least this (for the escalation model, a policy's
    /// `escalation.learned_min_score` overrides it).
    pub threshold: f32,
    /// The complaint model: a text the rules made B by the model's negative reading alone becomes C when
    /// its score is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f32>,
    pub bias: f32,
    /// How it was trained (data, options, the cross-validated figures the threshold was chosen on).
    #[serde(default)]
    pub training: serde_json::Value,
    /// Weights of the model's scores used as inputs besides the n-grams ([`SIGNALS`]; optional).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub signals: BTreeMap<String, f32>,
    /// n-gram → weight (written sorted, so the file diffs well; read into a hash map, which is also the
    /// lookup table: a model file can hold hundreds of thousands of n-grams and loads on every start).
    #[serde(serialize_with = "sorted")]
    pub weights: HashMap<String, f32>,
}

fn sorted<S: serde::Serializer>(m: &HashMap<String, f32>, s: S) -> Result<S::Ok, S::Error> {
    m.iter().collect::<BTreeMap<_, _>>().serialize(s)
}

/// The model scores a learned model may take as inputs besides the n-grams: the sentiment head's
/// negative and positive probabilities and the emotion head's anger.
pub const SIGNALS: [&str; 3] = ["negative", "positive", "anger"];

/// A score and the n-grams that raised it most (multi-character ones first).
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub score: f32,
    pub top: Vec<String>,
}

/// The distinct character n-grams of `text` (whitespace skipped), in first-seen order.
pub fn ngrams(text: &str, min: usize, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for n in min.max(1)..=max {
        for w in chars.windows(n) {
            let g: String = w.iter().collect();
            if seen.insert(g.clone()) {
                out.push(g);
            }
        }
    }
    out
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

impl NgramModel {
    /// Reads `DIR/FILE` when there is one.
    pub fn for_model_dir(dir: &Path, file: &str) -> Result<Option<Self>, LearnedError> {
        let path = dir.join(file);
        if path.exists() {
            Self::load(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn load(path: &Path) -> Result<Self, LearnedError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| LearnedError::Read {
            file: file.clone(),
            msg: e.to_string(),
        })?;
        Self::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<Self, LearnedError> {
        let bad = |msg: String| LearnedError::Invalid {
            file: file.to_string(),
            msg,
        };
        let m: NgramModel = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        m.validated(file)
    }

    /// Checks a deserialized model (format, n-gram range, thresholds, finite weights, signal names) and
    /// returns it.
    pub fn validated(self, file: &str) -> Result<Self, LearnedError> {
        let m = self;
        let bad = |msg: String| LearnedError::Invalid {
            file: file.to_string(),
            msg,
        };
        if m.format_version != FORMAT {
            return Err(bad(format!(
                "format_version {} is not {FORMAT}",
                m.format_version
            )));
        }
        if m.ngram_min == 0 || m.ngram_min > m.ngram_max || m.ngram_max > 8 {
            return Err(bad("ngram_min..ngram_max must be within 1..8".into()));
        }
        if !(0.0..=1.0).contains(&m.threshold) {
            return Err(bad(format!("threshold {} is not in [0, 1]", m.threshold)));
        }
        if m.lower.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
            return Err(bad("lower is not in [0, 1]".into()));
        }
        if !m.bias.is_finite()
            || m.weights
                .values()
                .chain(m.signals.values())
                .any(|w| !w.is_finite())
        {
            return Err(bad("a weight is not a finite number".into()));
        }
        if let Some(k) = m.signals.keys().find(|k| !SIGNALS.contains(&k.as_str())) {
            return Err(bad(format!(
                "signal `{k}` is not one of {}",
                SIGNALS.join(", ")
            )));
        }
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the model serializes")
    }

    /// The probability of `text` (with the model scores `inputs`, by [`SIGNALS`] name; missing ones count
    /// 0), with the (up to three) n-grams that raised it most — multi-character n-grams before single
    /// characters.
    pub fn score(&self, text: &str, inputs: &[(&str, f32)]) -> Scored {
        self.score_ngrams(&ngrams(text, self.ngram_min, self.ngram_max), inputs)
    }

    /// The probability alone of a text whose n-grams ([`ngrams`] with this model's range) are at hand, without
    /// inputs and without the explaining n-grams (the blends of the heads call this for every label of every
    /// text).
    pub fn probability_ngrams(&self, grams: &[String]) -> f32 {
        let z = self.bias
            + grams
                .iter()
                .filter_map(|g| self.weights.get(g))
                .sum::<f32>();
        sigmoid(z)
    }

    /// [`NgramModel::score`] of a text whose n-grams ([`ngrams`] with this model's range) are at hand.
    pub fn score_ngrams(&self, grams: &[String], inputs: &[(&str, f32)]) -> Scored {
        let mut z = self.bias;
        for (name, x) in inputs {
            z += self.signals.get(*name).copied().unwrap_or(0.0) * x;
        }
        let mut hits: Vec<(String, f32)> = Vec::new();
        for g in grams {
            if let Some(&w) = self.weights.get(g) {
                z += w;
                if w > 0.0 {
                    hits.push((g.clone(), w));
                }
            }
        }
        // Multi-character n-grams explain better than single characters (我, 都); those come last.
        hits.sort_by(|a, b| {
            (b.0.chars().count() > 1)
                .cmp(&(a.0.chars().count() > 1))
                .then(b.1.total_cmp(&a.1))
                .then_with(|| a.0.cmp(&b.0))
        });
        Scored {
            score: sigmoid(z),
            top: hits.into_iter().take(3).map(|(g, _)| g).collect(),
        }
    }
}

/// Training options.
#[derive(Debug, Clone, Serialize)]
pub struct TrainOptions {
    pub ngram_min: usize,
    pub ngram_max: usize,
    /// An n-gram enters the vocabulary when at least this many training texts have it.
    pub min_count: usize,
    /// Inverse L2 strength, as in the usual logistic-regression `C` (penalty `|w|² / (2 C)` on the summed loss).
    pub c: f32,
    pub epochs: usize,
    pub learning_rate: f32,
    /// Model scores used as inputs besides the n-grams (names from [`SIGNALS`]).
    pub signals: Vec<String>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            ngram_min: 1,
            ngram_max: 3,
            min_count: 2,
            c: 1.0,
            epochs: 400,
            learning_rate: 0.05,
            signals: Vec::new(),
        }
    }
}

/// Fits the model (full-batch Adam on the L2-regularized logistic loss; deterministic). `inputs[i]` holds
/// text i's values of `opts.signals` (in that order; empty when there are none). `threshold` is stored as
/// given (`lower`: none); `training` is stored as the record of how the model was made.
pub fn train(
    texts: &[&str],
    inputs: &[Vec<f32>],
    labels: &[bool],
    opts: &TrainOptions,
    threshold: f32,
    training: serde_json::Value,
) -> NgramModel {
    assert_eq!(texts.len(), labels.len(), "one label per text");
    let k = opts.signals.len();
    assert!(
        k == 0 || inputs.iter().all(|x| x.len() == k) && inputs.len() == texts.len(),
        "one value per signal per text"
    );
    let grams: Vec<Vec<String>> = texts
        .iter()
        .map(|t| ngrams(t, opts.ngram_min, opts.ngram_max))
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for gs in &grams {
        for g in gs {
            *counts.entry(g.as_str()).or_default() += 1;
        }
    }
    let mut vocab: Vec<&str> = counts
        .iter()
        .filter(|(_, &c)| c >= opts.min_count)
        .map(|(g, _)| *g)
        .collect();
    vocab.sort_unstable();
    let id: HashMap<&str, usize> = vocab.iter().enumerate().map(|(i, g)| (*g, i)).collect();
    let rows: Vec<Vec<usize>> = grams
        .iter()
        .map(|gs| {
            gs.iter()
                .filter_map(|g| id.get(g.as_str()).copied())
                .collect()
        })
        .collect();
    let n = texts.len().max(1) as f32;
    let lambda = 1.0 / (opts.c * n);
    let nv = vocab.len();
    let d = nv + k + 1; // n-grams, signals, bias
    let (mut w, mut m, mut v) = (vec![0f32; d], vec![0f32; d], vec![0f32; d]);
    let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let mut grad = vec![0f32; d];
    for epoch in 1..=opts.epochs {
        grad.iter_mut().for_each(|g| *g = 0.0);
        for (i, (feats, &y)) in rows.iter().zip(labels).enumerate() {
            let dense = if k > 0 { &inputs[i][..] } else { &[][..] };
            let z = w[d - 1]
                + feats.iter().map(|&f| w[f]).sum::<f32>()
                + dense
                    .iter()
                    .enumerate()
                    .map(|(j, x)| w[nv + j] * x)
                    .sum::<f32>();
            let g = (sigmoid(z) - if y { 1.0 } else { 0.0 }) / n;
            for &f in feats {
                grad[f] += g;
            }
            for (j, x) in dense.iter().enumerate() {
                grad[nv + j] += g * x;
            }
            grad[d - 1] += g;
        }
        for (gi, wi) in grad.iter_mut().zip(&w).take(d - 1) {
            *gi += lambda * wi;
        }
        let (c1, c2) = (1.0 - b1.powi(epoch as i32), 1.0 - b2.powi(epoch as i32));
        for i in 0..d {
            m[i] = b1 * m[i] + (1.0 - b1) * grad[i];
            v[i] = b2 * v[i] + (1.0 - b2) * grad[i] * grad[i];
            w[i] -= opts.learning_rate * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
        }
    }
    NgramModel {
        format_version: FORMAT,
        ngram_min: opts.ngram_min,
        ngram_max: opts.ngram_max,
        threshold,
        lower: None,
        bias: w[d - 1],
        training,
        signals: opts
            .signals
            .iter()
            .enumerate()
            .map(|(j, name)| (name.clone(), (w[nv + j] * 1e4).round() / 1e4))
            .collect(),
        // Weights too small to move a score are left out (the file stays small).
        weights: vocab
            .iter()
            .zip(&w)
            .filter(|(_, x)| x.abs() >= 1e-3)
            .map(|(g, &x)| (g.to_string(), (x * 1e4).round() / 1e4))
            .collect(),
    }
}

/// F1 of boolean predictions.
pub fn f1(gold: &[bool], pred: &[bool]) -> f64 {
    let tp = gold.iter().zip(pred).filter(|(g, p)| **g && **p).count() as f64;
    let fp = gold.iter().zip(pred).filter(|(g, p)| !**g && **p).count() as f64;
    let fn_ = gold.iter().zip(pred).filter(|(g, p)| **g && !**p).count() as f64;
    if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (2.0 * tp + fp + fn_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<&'static str>, Vec<bool>) {
        let pos = [
            "气死我了你们领导呢",
            "我第三次打电话了还没人管",
            "再不处理我就去投诉你们领导",
            "叫你们领导出来说话",
            "第三次了还是没解决",
            "你们领导在哪里我要见他",
        ];
        let neg = [
            "我想查一下话费",
            "帮我改一下地址谢谢",
            "请问营业厅几点开门",
            "我想办理一张新卡",
            "麻烦帮我查一下快递",
            "谢谢你们的服务",
        ];
        let texts: Vec<&str> = pos.iter().chain(neg.iter()).copied().collect();
        let labels = (0..12).map(|i| i < 6).collect();
        (texts, labels)
    }

    #[test]
    fn ngrams_are_distinct_and_skip_whitespace() {
        assert_eq!(
            ngrams("ab a", 1, 2),
            vec!["a", "b", "ab", "ba"] // "a" once; "ba" bridges the removed space
        );
        assert_eq!(ngrams("气死", 1, 3), vec!["气", "死", "气死"]);
        assert!(ngrams("", 1, 3).is_empty());
    }

    /// The toy model with default options, no signals.
    fn toy_model(threshold: f32) -> NgramModel {
        let (texts, labels) = toy();
        train(
            &texts,
            &[],
            &labels,
            &TrainOptions::default(),
            threshold,
            serde_json::json!({"rows": 12}),
        )
    }

    #[test]
    fn training_learns_the_escalation_words_and_explains_by_them() {
        let (texts, labels) = toy();
        let m = toy_model(0.5);
        for (t, &y) in texts.iter().zip(&labels) {
            assert_eq!(m.score(t, &[]).score >= 0.5, y, "{t}");
        }
        let s = m.score("领导呢？我要找领导", &[]);
        assert!(s.score > 0.5, "{s:?}");
        assert!(s.top.iter().any(|g| g.contains("领导")), "{s:?}");
        assert!(m.score("我想查一下", &[]).score < 0.5);
        // Deterministic: the same data gives the same file.
        assert_eq!(m.to_json(), toy_model(0.5).to_json());
    }

    #[test]
    fn the_file_round_trips_and_bad_files_are_named_errors() {
        let m = toy_model(0.7);
        let back = NgramModel::parse(&m.to_json(), "m.json").unwrap();
        assert_eq!(
            back.score("叫你们领导来", &[]),
            m.score("叫你们领导来", &[])
        );
        assert_eq!(back.threshold, 0.7);
        for (bad, says) in [
            (
                m.to_json()
                    .replace("\"threshold\": 0.7", "\"threshold\": 7.0"),
                "threshold",
            ),
            (
                m.to_json()
                    .replace("\"format_version\": 1", "\"format_version\": 9"),
                "format_version",
            ),
            (
                m.to_json().replace("\"ngram_min\": 1", "\"ngram_min\": 0"),
                "ngram_min",
            ),
            ("{".to_string(), "m.json"),
        ] {
            let e = NgramModel::parse(&bad, "m.json").unwrap_err().to_string();
            assert!(e.contains(says) && e.starts_with("m.json"), "{e}");
        }
    }

    #[test]
    fn model_scores_can_be_inputs_too() {
        // The n-grams say nothing (every text the same); the "positive" input decides.
        let texts = ["好", "好", "好", "好", "好", "好"];
        let inputs: Vec<Vec<f32>> = [0.9, 0.8, 0.95, 0.1, 0.2, 0.05]
            .iter()
            .map(|&x| vec![x])
            .collect();
        let labels = [false, false, false, true, true, true];
        let opts = TrainOptions {
            signals: vec!["positive".into()],
            c: 100.0,
            epochs: 1000,
            ..Default::default()
        };
        let m = train(&texts, &inputs, &labels, &opts, 0.5, serde_json::json!({}));
        assert!(m.signals["positive"] < -1.0, "{:?}", m.signals);
        assert!(m.score("好", &[("positive", 0.9)]).score < 0.5);
        assert!(m.score("好", &[("positive", 0.1)]).score > 0.5);
        let back = NgramModel::parse(&m.to_json(), "m.json").unwrap();
        assert_eq!(back.signals, m.signals);
        let bad = m.to_json().replace("\"positive\"", "\"joy\"");
        let e = NgramModel::parse(&bad, "m.json").unwrap_err().to_string();
        assert!(e.contains("joy"), "{e}");
    }

    #[test]
    fn f1_counts_hits_and_misses() {
        assert_eq!(f1(&[true, true, false], &[true, false, false]), 2.0 / 3.0);
        assert_eq!(f1(&[false], &[false]), 0.0);
    }
}
