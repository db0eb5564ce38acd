//! A plain Hugging Face `BertForSequenceClassification` directory, built here with random weights under the
//! HF tensor names, loads and serves its own labels; broken directories give errors that name the file.

use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use xinsheng::analysis::{Analyzer, Request};

const H: usize = 16;
const FFN: usize = 32;
const LAYERS: usize = 2;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn(0f32, 0.5, shape, &Device::Cpu).unwrap()
}

/// Tokens in the tokenizer these directories ship (models/default's: bert-base-chinese pruned to the tokens
/// its network saw in training; a hub model ships all 21,128, which changes nothing here).
fn vocab_size() -> usize {
    let raw = std::fs::read_to_string(root().join("models/default/tokenizer.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    json["model"]["vocab"].as_object().unwrap().len()
}

/// Writes config.json, tokenizer.json and model.safetensors (f16, as many hub models ship) to `dir`.
fn write_hf_dir(dir: &Path, labels: &[&str], problem_type: Option<&str>, prefix: &str) {
    let vocab = vocab_size();
    let mut t: HashMap<String, Tensor> = HashMap::new();
    let mut put = |name: String, shape: &[usize]| {
        t.insert(name, randn(shape).to_dtype(DType::F16).unwrap());
    };
    put(
        format!("{prefix}embeddings.word_embeddings.weight"),
        &[vocab, H],
    );
    put(
        format!("{prefix}embeddings.position_embeddings.weight"),
        &[64, H],
    );
    put(
        format!("{prefix}embeddings.token_type_embeddings.weight"),
        &[2, H],
    );
    put(format!("{prefix}embeddings.LayerNorm.weight"), &[H]);
    put(format!("{prefix}embeddings.LayerNorm.bias"), &[H]);
    for i in 0..LAYERS {
        let l = format!("{prefix}encoder.layer.{i}.");
        for (name, o, inp) in [
            ("attention.self.query", H, H),
            ("attention.self.key", H, H),
            ("attention.self.value", H, H),
            ("attention.output.dense", H, H),
            ("intermediate.dense", FFN, H),
            ("output.dense", H, FFN),
        ] {
            put(format!("{l}{name}.weight"), &[o, inp]);
            put(format!("{l}{name}.bias"), &[o]);
        }
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            put(format!("{l}{norm}.weight"), &[H]);
            put(format!("{l}{norm}.bias"), &[H]);
        }
    }
    put(format!("{prefix}pooler.dense.weight"), &[H, H]);
    put(format!("{prefix}pooler.dense.bias"), &[H]);
    put("classifier.weight".into(), &[labels.len(), H]);
    put("classifier.bias".into(), &[labels.len()]);
    candle_core::safetensors::save(&t, dir.join("model.safetensors")).unwrap();
    let id2label: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), (*l).into()))
        .collect();
    let mut config = serde_json::json!({
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "vocab_size": vocab, "hidden_size": H, "num_hidden_layers": LAYERS, "num_attention_heads": 2,
        "intermediate_size": FFN, "hidden_act": "gelu", "max_position_embeddings": 64,
        "type_vocab_size": 2, "layer_norm_eps": 1e-12, "id2label": id2label,
    });
    if let Some(p) = problem_type {
        config["problem_type"] = p.into();
    }
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    std::fs::copy(
        root().join("models/default/tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .unwrap();
}

fn labels_of(a: &xinsheng::analysis::Analysis) -> Vec<(String, f64)> {
    a.labels
        .as_ref()
        .expect("labels")
        .iter()
        .map(|l| (l.label.clone(), l.score))
        .collect()
}

#[test]
fn single_label_classifier_serves_softmax_labels() {
    let dir = tempfile::tempdir().unwrap();
    write_hf_dir(dir.path(), &["差评", "中评", "好评"], None, "bert.");
    let analyzer = Analyzer::load(dir.path(), &Device::Cpu).unwrap();
    let a = analyzer
        .analyze(&Request::text("快递太慢了，等了一个星期，我要打12315投诉"))
        .unwrap();
    let labels = labels_of(&a);
    assert_eq!(labels.len(), 3);
    let mut names: Vec<&str> = labels.iter().map(|l| l.0.as_str()).collect();
    names.sort();
    assert_eq!(names, ["中评", "好评", "差评"]);
    let sum: f64 = labels.iter().map(|l| l.1).sum();
    assert!((sum - 1.0).abs() < 1e-3, "softmax sums to 1: {labels:?}");
    assert!(labels.windows(2).all(|w| w[0].1 >= w[1].1), "sorted");
    assert!(a.sentiment.is_none());
    // With no sentiment head, risk comes from the phrase rules alone.
    assert_eq!(a.risk.reasons, vec!["regulator_threat"]);
    assert_eq!(a.risk.priority, "A");
}

#[test]
fn multi_label_classifier_uses_sigmoids_and_bare_bert_names_load() {
    let dir = tempfile::tempdir().unwrap();
    // A bare `BertModel` layout (no `bert.` prefix) with a classifier, as some exports have.
    write_hf_dir(
        dir.path(),
        &["a", "b", "c", "d"],
        Some("multi_label_classification"),
        "",
    );
    let analyzer = Analyzer::load(dir.path(), &Device::Cpu).unwrap();
    let results = analyzer.analyze_batch(&[
        Request::text("发票开错了"),
        Request::text("谢谢"),
        Request::text(""),
    ]);
    let labels = labels_of(results[0].as_ref().unwrap());
    assert!(labels.iter().all(|l| (0.0..=1.0).contains(&l.1)));
    let sum: f64 = labels.iter().map(|l| l.1).sum();
    assert!((sum - 1.0).abs() > 1e-3, "independent sigmoids: {labels:?}");
    assert!(results[1].is_ok());
    assert!(
        results[2].is_err(),
        "empty text is an error for that item only"
    );
}

#[test]
fn broken_directories_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_hf_dir(dir.path(), &["x", "y"], None, "bert.");
    let err = |d: &Path| match Analyzer::load(d, &Device::Cpu) {
        Ok(_) => panic!("loaded a broken directory"),
        Err(e) => e.to_string(),
    };
    // Missing weights.
    let no_weights = tempfile::tempdir().unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(dir.path().join(f), no_weights.path().join(f)).unwrap();
    }
    let e = err(no_weights.path());
    assert!(
        e.contains("model.safetensors") && e.contains("missing"),
        "{e}"
    );
    // A config that disagrees with the weights.
    let cfg_path = dir.path().join("config.json");
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();
    std::fs::write(
        &cfg_path,
        cfg.replace("\"hidden_size\":16", "\"hidden_size\":32"),
    )
    .unwrap();
    let e = err(dir.path());
    assert!(
        e.contains("model.safetensors") && e.contains("config.json"),
        "{e}"
    );
    // Not JSON.
    std::fs::write(&cfg_path, "{oops").unwrap();
    let e = err(dir.path());
    assert!(
        e.contains("config.json") && e.contains("not valid JSON"),
        "{e}"
    );
    // Missing tokenizer.
    std::fs::write(&cfg_path, cfg).unwrap();
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let e = err(dir.path());
    assert!(e.contains("tokenizer.json"), "{e}");
}
