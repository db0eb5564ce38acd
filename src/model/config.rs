//! `config.json` of a model directory: a Hugging Face `BertConfig` plus either an `xinsheng` block naming the
//! heads (our own format) or `id2label` (a plain `BertForSequenceClassification`).

use super::ModelError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The sentiment labels of the contract, in head order.
pub const SENTIMENT_LABELS: [&str; 3] = ["negative", "neutral", "positive"];
/// The complaint categories of the contract, in head order.
pub const CATEGORY_LABELS: [&str; 5] = [
    "service_attitude",
    "process",
    "product_quality",
    "price",
    "other",
];
/// The emotion labels of the default model (the NLPCC 2013 Weibo emotion classes; `none` = no emotion).
pub const EMOTION_LABELS: [&str; 8] = [
    "none",
    "like",
    "happiness",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "surprise",
];

fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_max_pos() -> usize {
    512
}

/// The encoder hyper-parameters (field names as in Hugging Face `BertConfig`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: u32,
}

/// What a head reads from the encoder's final token states.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The `[CLS]` state through the BERT pooler (dense + tanh), as in `BertForSequenceClassification`.
    #[default]
    Cls,
    /// The element-wise maximum over the text's tokens: "is this mentioned anywhere", which suits
    /// multi-label topic heads such as the complaint categories.
    Max,
    /// The mean over the text's tokens.
    Mean,
}

impl Pooling {
    pub fn is_cls(&self) -> bool {
        *self == Pooling::Cls
    }
}

/// One output head: a linear layer over a pooled vector (by default the pooled `[CLS]` vector).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadSpec {
    /// Task name: `sentiment`, `emotion`, `categories`, or `labels` for a plain HF classifier.
    pub name: String,
    pub labels: Vec<String>,
    /// Independent sigmoids (multi-label) instead of one softmax.
    #[serde(default)]
    pub multi_label: bool,
    /// Per-label decision thresholds for a multi-label head (default 0.5 each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Vec<f32>>,
    /// What the head reads (`cls` when absent, which is what Hugging Face classifiers do).
    #[serde(default, skip_serializing_if = "Pooling::is_cls")]
    pub pooling: Pooling,
}

impl HeadSpec {
    pub fn threshold(&self, i: usize) -> f32 {
        self.thresholds
            .as_ref()
            .and_then(|t| t.get(i).copied())
            .unwrap_or(0.5)
    }
}

fn default_max_length() -> usize {
    256
}

/// The `xinsheng` block of our own model format.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct XinshengBlock {
    pub format_version: u32,
    /// Tokens per window including `[CLS]` and `[SEP]`; a longer text is read in overlapping windows
    /// (training keeps its head and tail).
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    pub heads: Vec<HeadSpec>,
    /// Free-form provenance (data, command, dev figures); not read by the loader.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub training: serde_json::Value,
}

/// Which kind of model directory this is.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelKind {
    /// Our format: heads under `heads.<name>.*`.
    Xinsheng,
    /// A plain `BertForSequenceClassification`: one head under `classifier.*`.
    HfClassifier,
}

/// Everything the loader needs from `config.json`.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub bert: BertConfig,
    pub kind: ModelKind,
    pub heads: Vec<HeadSpec>,
    pub max_length: usize,
    /// The parsed file, kept so it can be written back unchanged apart from what training updates.
    pub raw: serde_json::Value,
}

#[derive(Deserialize)]
struct HfExtras {
    #[serde(default)]
    id2label: Option<BTreeMap<String, String>>,
    #[serde(default)]
    problem_type: Option<String>,
    #[serde(default)]
    xinsheng: Option<XinshengBlock>,
}

impl ModelConfig {
    /// Reads and validates `dir/config.json`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::file(&path, e))?;
        Self::parse(&text).map_err(|msg| ModelError::Invalid {
            file: path.display().to_string(),
            msg,
        })
    }

    /// Parses `config.json` text; the error is a message about what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let bert: BertConfig =
            serde_json::from_value(raw.clone()).map_err(|e| format!("not a BERT config: {e}"))?;
        let extras: HfExtras = serde_json::from_value(raw.clone())
            .map_err(|e| format!("bad `xinsheng`, `id2label` or `problem_type`: {e}"))?;
        if bert.hidden_size == 0
            || bert.num_attention_heads == 0
            || !bert.hidden_size.is_multiple_of(bert.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a positive multiple of num_attention_heads {}",
                bert.hidden_size, bert.num_attention_heads
            ));
        }
        if let Some(block) = extras.xinsheng {
            validate_heads(&block.heads)?;
            if block.max_length < 3 || block.max_length > bert.max_position_embeddings {
                return Err(format!(
                    "xinsheng.max_length {} must be in 3..={} (max_position_embeddings)",
                    block.max_length, bert.max_position_embeddings
                ));
            }
            return Ok(Self {
                max_length: block.max_length,
                heads: block.heads,
                kind: ModelKind::Xinsheng,
                bert,
                raw,
            });
        }
        let id2label = extras.id2label.ok_or_else(|| {
            "neither an `xinsheng` block nor `id2label`: cannot tell what the model outputs"
                .to_string()
        })?;
        let mut labels = vec![String::new(); id2label.len()];
        for (k, v) in &id2label {
            let i: usize = k
                .parse()
                .map_err(|_| format!("id2label key {k:?} is not an integer"))?;
            let slot = labels
                .get_mut(i)
                .ok_or_else(|| format!("id2label key {i} is out of range 0..{}", id2label.len()))?;
            *slot = v.clone();
        }
        let multi_label = match extras.problem_type.as_deref() {
            None | Some("single_label_classification") => false,
            Some("multi_label_classification") => true,
            Some(other) => {
                return Err(format!(
                    "problem_type {other:?} is not supported (single_label_classification or multi_label_classification)"
                ))
            }
        };
        let heads = vec![HeadSpec {
            name: "labels".into(),
            labels,
            multi_label,
            thresholds: None,
            pooling: Pooling::Cls,
        }];
        validate_heads(&heads)?;
        Ok(Self {
            max_length: bert.max_position_embeddings.min(512),
            heads,
            kind: ModelKind::HfClassifier,
            bert,
            raw,
        })
    }

    /// The head with this name, if the model has it.
    pub fn head(&self, name: &str) -> Option<(usize, &HeadSpec)> {
        self.heads.iter().enumerate().find(|(_, h)| h.name == name)
    }

    /// The prefix of a head's tensors in `model.safetensors`.
    pub fn head_prefix(&self, head: &HeadSpec) -> String {
        match self.kind {
            ModelKind::Xinsheng => format!("heads.{}", head.name),
            ModelKind::HfClassifier => "classifier".into(),
        }
    }
}

fn validate_heads(heads: &[HeadSpec]) -> Result<(), String> {
    if heads.is_empty() {
        return Err("no heads".into());
    }
    let mut seen = std::collections::HashSet::new();
    for h in heads {
        if !seen.insert(h.name.as_str()) {
            return Err(format!("head {:?} is declared twice", h.name));
        }
        if h.labels.is_empty() {
            return Err(format!("head {:?} has no labels", h.name));
        }
        if let Some(t) = &h.thresholds {
            if t.len() != h.labels.len() {
                return Err(format!(
                    "head {:?} has {} thresholds for {} labels",
                    h.name,
                    t.len(),
                    h.labels.len()
                ));
            }
            if t.iter().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(format!("head {:?} has a threshold outside [0, 1]", h.name));
            }
        }
        let expect: Option<&[&str]> = match h.name.as_str() {
            "sentiment" => Some(&SENTIMENT_LABELS),
            "categories" => Some(&CATEGORY_LABELS),
            _ => None,
        };
        if let Some(expect) = expect {
            if h.labels
                .iter()
                .map(String::as_str)
                .ne(expect.iter().copied())
            {
                return Err(format!(
                    "head {:?} must have labels {:?} in that order, found {:?}",
                    h.name, expect, h.labels
                ));
            }
        }
        if h.name == "categories" && !h.multi_label {
            return Err("head \"categories\" must be multi_label".into());
        }
        if h.name == "sentiment" && h.multi_label {
            return Err("head \"sentiment\" must be single-label (softmax)".into());
        }
    }
    if heads.iter().all(|h| h.name != "labels") && heads.iter().all(|h| h.name != "sentiment") {
        return Err("an xinsheng model needs a \"sentiment\" head".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""vocab_size": 100, "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 64"#;

    #[test]
    fn hf_classifier_with_id2label() {
        let c = ModelConfig::parse(&format!(
            r#"{{{BASE}, "id2label": {{"0": "neg", "1": "pos"}}}}"#
        ))
        .unwrap();
        assert_eq!(c.kind, ModelKind::HfClassifier);
        assert_eq!(c.heads[0].labels, vec!["neg", "pos"]);
        assert!(!c.heads[0].multi_label);
        assert_eq!(c.head_prefix(&c.heads[0]), "classifier");
    }

    #[test]
    fn hf_multi_label_problem_type() {
        let c = ModelConfig::parse(&format!(
            r#"{{{BASE}, "id2label": {{"1": "b", "0": "a"}}, "problem_type": "multi_label_classification"}}"#
        ))
        .unwrap();
        assert_eq!(c.heads[0].labels, vec!["a", "b"]);
        assert!(c.heads[0].multi_label);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases = [
            ("{", "not valid JSON"),
            (r#"{"hidden_size": 8}"#, "not a BERT config"),
            (&format!("{{{BASE}}}"), "neither an `xinsheng` block"),
            (
                &format!(r#"{{{BASE}, "id2label": {{"0": "a", "5": "b"}}}}"#),
                "out of range",
            ),
            (
                &format!(r#"{{{BASE}, "id2label": {{"0": "a"}}, "problem_type": "regression"}}"#),
                "not supported",
            ),
            (
                &format!(
                    r#"{{{BASE}, "xinsheng": {{"format_version": 1, "max_length": 32, "heads": [{{"name": "sentiment", "labels": ["positive", "negative"]}}]}}}}"#
                ),
                "must have labels",
            ),
            (
                &format!(
                    r#"{{{BASE}, "xinsheng": {{"format_version": 1, "max_length": 999, "heads": [{{"name": "sentiment", "labels": ["negative", "neutral", "positive"]}}]}}}}"#
                ),
                "max_length",
            ),
        ];
        for (text, want) in cases {
            let err = ModelConfig::parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn xinsheng_block_thresholds() {
        let c = ModelConfig::parse(&format!(
            r#"{{{BASE}, "xinsheng": {{"format_version": 1, "max_length": 32, "heads": [
              {{"name": "sentiment", "labels": ["negative", "neutral", "positive"]}},
              {{"name": "categories", "labels": ["service_attitude", "process", "product_quality", "price", "other"],
                "multi_label": true, "thresholds": [0.4, 0.5, 0.6, 0.5, 0.7]}}]}}}}"#
        ))
        .unwrap();
        assert_eq!(c.kind, ModelKind::Xinsheng);
        let (_, cat) = c.head("categories").unwrap();
        assert_eq!(cat.threshold(2), 0.6);
        assert_eq!(c.head_prefix(cat), "heads.categories");
    }
}
