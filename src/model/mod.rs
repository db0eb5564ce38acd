//! A model directory: `config.json` + `tokenizer.json` + `model.safetensors` → probabilities per head.

pub mod bench;
pub mod bert;
pub mod category_ngrams;
pub mod config;
pub mod device;
pub mod fused;
pub mod head_ngrams;
pub mod kernels;
pub mod ngram_files;
pub mod tokenize;

use bert::BertEncoder;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use config::{HeadSpec, ModelConfig, ModelKind, Pooling};
use fused::{FusedEncoder, Precision};
use kernels::Isa;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use tokenize::TextEncoder;

/// Which code runs the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// `int8` on a CPU with AVX-512 VNNI, `candle` otherwise (and on CUDA).
    #[default]
    Auto,
    /// candle tensors, f32: the reference; the only engine on CUDA.
    Candle,
    /// The fused CPU encoder in f32 (matches `candle` to ~1e-6).
    F32,
    /// The fused CPU encoder with int8 matrix products (AVX-512 VNNI); dev accuracy in the README.
    Int8,
}

/// Errors of the model layer. Every variant that concerns a file names it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{file}: file is missing")]
    Missing { file: String },
    #[error("{file}: {msg}")]
    Invalid { file: String, msg: String },
    #[error("{file}: cannot read: {msg}")]
    Io { file: String, msg: String },
    #[error("device: {0}")]
    Device(String),
    #[error("inference failed: {}", candle_message(.0))]
    Compute(#[from] candle_core::Error),
}

/// A candle error's message without the stack trace candle attaches when `RUST_BACKTRACE` is set: the
/// user needs the one-line reason, not candle's frames.
pub fn candle_message(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => candle_message(inner),
        e => e.to_string(),
    }
}

impl ModelError {
    pub(crate) fn file(path: &Path, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            ModelError::Missing {
                file: path.display().to_string(),
            }
        } else {
            ModelError::Io {
                file: path.display().to_string(),
                msg: e.to_string(),
            }
        }
    }
}

/// Encoder + heads, built from a [`VarBuilder`] (a safetensors file, or a `VarMap` while training).
pub struct Network {
    pub encoder: BertEncoder,
    pub heads: Vec<Linear>,
    /// What each head reads, in head order.
    pub poolings: Vec<Pooling>,
}

impl Network {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let bert_vb = if cfg.kind == ModelKind::HfClassifier
            && !vb.contains_tensor("bert.embeddings.word_embeddings.weight")
            && vb.contains_tensor("embeddings.word_embeddings.weight")
        {
            vb.clone()
        } else {
            vb.pp("bert")
        };
        let encoder = BertEncoder::new(&cfg.bert, bert_vb)?;
        let h = cfg.bert.hidden_size;
        let heads = cfg
            .heads
            .iter()
            .map(|head| candle_nn::linear(h, head.labels.len(), vb.pp(cfg.head_prefix(head))))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let poolings = cfg.heads.iter().map(|h| h.pooling).collect();
        Ok(Self {
            encoder,
            heads,
            poolings,
        })
    }

    /// Each head's weights as plain arrays, with what it reads (for the fused encoder).
    pub fn head_weights(&self) -> candle_core::Result<Vec<(Pooling, bert::DenseWeights)>> {
        self.heads
            .iter()
            .zip(&self.poolings)
            .map(|(h, &p)| Ok((p, bert::DenseWeights::of(h)?)))
            .collect()
    }

    /// Logits per head, each `[batch, labels]`.
    pub fn logits(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: bool,
    ) -> candle_core::Result<Vec<Tensor>> {
        let states = self.encoder.forward(ids, mask, train)?;
        let mut pooled: Vec<(Pooling, Tensor)> = Vec::new();
        self.heads
            .iter()
            .zip(&self.poolings)
            .map(|(h, &p)| {
                let x = match pooled.iter().find(|(q, _)| *q == p) {
                    Some((_, x)) => x.clone(),
                    None => {
                        let x = self.encoder.pool(&states, mask, p)?;
                        pooled.push((p, x.clone()));
                        x
                    }
                };
                h.forward(&x)
            })
            .collect()
    }
}

/// Builds the padded `[batch, seq]` id and mask tensors for a batch of encoded texts.
pub fn batch_tensors(
    batch: &[&[u32]],
    pad: u32,
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let t = batch.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
    let mut ids = Vec::with_capacity(batch.len() * t);
    let mut mask = Vec::with_capacity(batch.len() * t);
    for s in batch {
        ids.extend_from_slice(s);
        mask.extend(std::iter::repeat_n(1f32, s.len()));
        ids.extend(std::iter::repeat_n(pad, t - s.len()));
        mask.extend(std::iter::repeat_n(0f32, t - s.len()));
    }
    Ok((
        Tensor::from_vec(ids, (batch.len(), t), device)?,
        Tensor::from_vec(mask, (batch.len(), t), device)?,
    ))
}

/// One head's probabilities from its logits: softmax, or independent sigmoids for a multi-label head.
pub fn head_probabilities(head: &HeadSpec, logits: &[f32]) -> Vec<f32> {
    if head.multi_label {
        return logits.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect();
    }
    let m = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<f32> = logits.iter().map(|&v| (v - m).exp()).collect();
    let z: f32 = e.iter().sum();
    e.iter().map(|v| v / z).collect()
}

/// [`head_probabilities`] for each row of a `[batch, labels]` logits tensor.
pub fn probabilities(head: &HeadSpec, logits: &Tensor) -> candle_core::Result<Vec<Vec<f32>>> {
    Ok(logits
        .to_dtype(DType::F32)?
        .to_vec2::<f32>()?
        .iter()
        .map(|row| head_probabilities(head, row))
        .collect())
}

/// Splits a text's concatenated logits by head and applies [`head_probabilities`] to each.
pub fn probabilities_of(heads: &[HeadSpec], logits: &[f32]) -> HeadProbs {
    let mut at = 0;
    heads
        .iter()
        .map(|head| {
            let l = &logits[at..at + head.labels.len()];
            at += head.labels.len();
            head_probabilities(head, l)
        })
        .collect()
}

/// A loaded model directory, ready for inference. `Send + Sync`: share it behind an `Arc`.
pub struct Model {
    pub dir: PathBuf,
    pub config: ModelConfig,
    pub encoder: TextEncoder,
    network: Network,
    device: Device,
    fused: Option<FusedEncoder>,
    /// The optional category n-gram model ([`category_ngrams`]); see [`Model::blend`].
    pub category_ngrams: Option<category_ngrams::CategoryNgrams>,
    /// The optional n-gram models of single-label heads ([`head_ngrams`]), with their head's index; see
    /// [`Model::blend`].
    pub head_ngrams: Vec<(usize, head_ngrams::HeadNgrams)>,
}

/// Probabilities of one text: one vector per head, in `config.heads` order.
pub type HeadProbs = Vec<Vec<f32>>;

impl Model {
    /// Loads and checks a model directory. Errors name the file and what is wrong with it.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        Self::load_parts(dir, device, true)
    }

    /// Like [`Model::load`] without the n-gram models (`category_ngrams.json`, `sentiment_ngrams.json`,
    /// `emotion_ngrams.json`, even outdated or broken ones): the network alone, as `train-categories` and
    /// `train-ngrams` need it.
    pub fn load_network(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        Self::load_parts(dir, device, false)
    }

    fn load_parts(dir: &Path, device: &Device, with_ngrams: bool) -> Result<Self, ModelError> {
        if !dir.is_dir() {
            return Err(ModelError::Invalid {
                file: dir.display().to_string(),
                msg: if dir.exists() {
                    "not a directory; a model is a directory with config.json, model.safetensors and \
                     tokenizer.json"
                        .into()
                } else {
                    "no such model directory".into()
                },
            });
        }
        let mut config = ModelConfig::load(dir)?;
        let encoder = TextEncoder::load(dir, config.max_length)?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(ModelError::Missing {
                file: weights.display().to_string(),
            });
        }
        let invalid = |msg: String| ModelError::Invalid {
            file: weights.display().to_string(),
            msg,
        };
        // SAFETY: the file is memory-mapped read-only; it must not be modified while the model lives,
        // which holds for model directories (training writes a new file and renames it into place).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, device) }
            .map_err(|e| invalid(format!("not a safetensors file: {}", candle_message(&e))))?;
        let network = Network::new(&config, vb).map_err(|e| {
            invalid(format!(
                "does not match config.json: {}",
                candle_message(&e)
            ))
        })?;
        let vocab = config.bert.vocab_size;
        let tokenizer_vocab = encoder.vocab_size();
        if tokenizer_vocab > vocab {
            return Err(ModelError::Invalid {
                file: dir.join("tokenizer.json").display().to_string(),
                msg: format!(
                    "tokenizer has {tokenizer_vocab} tokens but config.json vocab_size is {vocab}"
                ),
            });
        }
        // The n-gram files are independent and large (JSON, up to ~10 MB each): read them side by side.
        let (category_ngrams, head_files) = if with_ngrams {
            std::thread::scope(|scope| {
                let heads: Vec<_> = head_ngrams::HEADS
                    .iter()
                    .map(|name| {
                        scope.spawn(move || head_ngrams::HeadNgrams::for_model_dir(dir, name))
                    })
                    .collect();
                let category = category_ngrams::CategoryNgrams::for_model_dir(dir);
                let heads: Vec<_> = heads
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect();
                (category, heads)
            })
        } else {
            (Ok(None), Vec::new())
        };
        let category_ngrams = category_ngrams?;
        let mut head_ngrams = Vec::new();
        for (name, m) in head_ngrams::HEADS.iter().zip(head_files) {
            let Some(m) = m? else {
                continue;
            };
            let file = dir.join(head_ngrams::file_name(name)).display().to_string();
            let Some((hi, head)) = config.head(name) else {
                return Err(ModelError::Invalid {
                    file,
                    msg: format!("the model has no {name} head to blend with"),
                });
            };
            m.check(head, &file)?;
            head_ngrams.push((hi, m));
        }
        if let Some(c) = &category_ngrams {
            let file = dir.join(category_ngrams::FILE).display().to_string();
            let Some((hi, head)) = config.head("categories") else {
                return Err(ModelError::Invalid {
                    file,
                    msg: "the model has no categories head to blend with".into(),
                });
            };
            c.check(head, &file)?;
            // The blended score has its own thresholds.
            config.heads[hi].thresholds = Some(c.thresholds(&head.labels));
        }
        let mut model = Self {
            dir: dir.to_path_buf(),
            config,
            category_ngrams,
            head_ngrams,
            encoder,
            network,
            device: device.clone(),
            fused: None,
        };
        model.set_engine(EngineKind::Auto)?;
        Ok(model)
    }

    /// Loads a model directory and runs it with `engine`.
    pub fn load_with_engine(
        dir: &Path,
        device: &Device,
        engine: EngineKind,
    ) -> Result<Self, ModelError> {
        let mut model = Self::load(dir, device)?;
        model.set_engine(engine)?;
        Ok(model)
    }

    /// Chooses the engine (see [`EngineKind`]); `f32` and `int8` need the CPU device.
    pub fn set_engine(&mut self, kind: EngineKind) -> Result<(), ModelError> {
        let precision = match kind {
            EngineKind::Candle => None,
            EngineKind::Auto => {
                (self.device.is_cpu() && Isa::detect() == Isa::Avx512).then_some(Precision::Int8)
            }
            EngineKind::F32 | EngineKind::Int8 if !self.device.is_cpu() => {
                return Err(ModelError::Device(format!(
                    "engine {kind:?} runs on the CPU only; use --engine candle on a GPU"
                )))
            }
            EngineKind::F32 => Some(Precision::F32),
            EngineKind::Int8 => Some(Precision::Int8),
        };
        if self.fused.as_ref().map(FusedEncoder::precision) == precision {
            return Ok(());
        }
        self.fused = match precision {
            None => None,
            Some(p) => {
                let weights = self.network.encoder.export()?;
                let heads = self.network.head_weights()?;
                Some(FusedEncoder::new(weights, &heads, p, Isa::detect()))
            }
        };
        Ok(())
    }

    /// The engine in use: `candle`, `f32` or `int8` (never `auto`).
    pub fn engine(&self) -> EngineKind {
        match self.fused.as_ref().map(FusedEncoder::precision) {
            None => EngineKind::Candle,
            Some(Precision::F32) => EngineKind::F32,
            Some(Precision::Int8) => EngineKind::Int8,
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether [`Model::blend`] changes anything (the directory has an n-gram model).
    pub fn has_ngrams(&self) -> bool {
        self.category_ngrams.is_some() || !self.head_ngrams.is_empty()
    }

    /// Blends the heads' probabilities of `text` (the normalized text the network read) with the directory's
    /// n-gram models (categories, sentiment, emotion), in place; a head without one is left alone. The model's
    /// prediction methods return the network's own probabilities: callers that know the text (the
    /// analysis, `eval`) call this.
    pub fn blend(&self, text: &str, probs: &mut HeadProbs) {
        // Every n-gram model reads the same n-grams of the text: computed once.
        let mut grams = ngram_files::TextGrams::new(text);
        if let (Some(c), Some((hi, head))) = (&self.category_ngrams, self.config.head("categories"))
        {
            if let Some(p) = probs.get_mut(hi) {
                c.apply(&head.labels, &mut grams, p);
            }
        }
        for (hi, m) in &self.head_ngrams {
            if let (Some(head), Some(p)) = (self.config.heads.get(*hi), probs.get_mut(*hi)) {
                m.apply(&head.labels, &mut grams, p);
            }
        }
    }

    /// Runs one padded batch of already-encoded texts.
    pub fn predict_encoded(&self, batch: &[&[u32]]) -> Result<Vec<HeadProbs>, ModelError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(fused) = &self.fused {
            let logits = fused
                .logits(batch)
                .map_err(|msg| ModelError::Compute(candle_core::Error::Msg(msg)))?;
            return Ok(logits
                .iter()
                .map(|l| probabilities_of(&self.config.heads, l))
                .collect());
        }
        let (ids, mask) = batch_tensors(batch, self.encoder.pad_id(), &self.device)?;
        let logits = self.network.logits(&ids, &mask, false)?;
        let mut out: Vec<HeadProbs> = vec![Vec::with_capacity(logits.len()); batch.len()];
        for (head, l) in self.config.heads.iter().zip(&logits) {
            for (row, p) in out.iter_mut().zip(probabilities(head, l)?) {
                row.push(p);
            }
        }
        Ok(out)
    }

    /// Encodes and predicts many texts as the analyzer reads them: a text longer than the window is read
    /// in overlapping windows (`TextEncoder::windows`) whose probabilities are combined by
    /// [`Model::aggregate_windows`]. Windows are sorted by length and cut into batches of at most
    /// `batch_size` so padding is small; results come back in input order, one per text.
    pub fn predict_texts(
        &self,
        texts: &[&str],
        batch_size: usize,
    ) -> Result<Vec<HeadProbs>, ModelError> {
        let (ids, counts) = self.encode_windows(texts.iter().copied());
        let probs = self.predict_many(&ids, batch_size)?;
        Ok(self
            .combine_windows(&probs, &counts)
            .into_iter()
            .map(Cow::into_owned)
            .collect())
    }

    /// Every window of every text (`TextEncoder::windows`), in order, and how many windows each text has.
    pub fn encode_windows<'t>(
        &self,
        texts: impl IntoIterator<Item = &'t str>,
    ) -> (Vec<Vec<u32>>, Vec<usize>) {
        let mut ids = Vec::new();
        let mut counts = Vec::new();
        for t in texts {
            let w = self.encoder.windows(t);
            counts.push(w.len());
            ids.extend(w);
        }
        (ids, counts)
    }

    /// Per text, the probabilities of its windows (`probs`, in the order of [`Model::encode_windows`])
    /// combined by [`Model::aggregate_windows`]; a text whose windows are missing gets empty heads.
    pub fn combine_windows<'p>(
        &self,
        probs: &'p [HeadProbs],
        counts: &[usize],
    ) -> Vec<Cow<'p, HeadProbs>> {
        let mut at = 0;
        counts
            .iter()
            .map(|&n| {
                let part = probs.get(at..at + n).unwrap_or(&[]);
                at += n;
                self.aggregate_windows(part)
            })
            .collect()
    }

    /// Combines the windows of one long text: a softmax head takes the mean of its windows (the text's
    /// overall leaning), a multi-label head the maximum (a complaint in any part is a complaint of the
    /// text). A text that fits the window has one window, returned as it is, without a copy.
    pub fn aggregate_windows<'p>(&self, parts: &'p [HeadProbs]) -> Cow<'p, HeadProbs> {
        match parts {
            [] => Cow::Owned(HeadProbs::new()),
            [one] => Cow::Borrowed(one),
            _ => Cow::Owned(
                (0..parts[0].len())
                    .map(|h| {
                        let multi = self.config.heads.get(h).is_some_and(|s| s.multi_label);
                        (0..parts[0][h].len())
                            .map(|j| {
                                let xs = parts.iter().map(|p| p[h].get(j).copied().unwrap_or(0.0));
                                if multi {
                                    xs.fold(0.0, f32::max)
                                } else {
                                    xs.sum::<f32>() / parts.len() as f32
                                }
                            })
                            .collect()
                    })
                    .collect(),
            ),
        }
    }

    /// Predicts already-encoded inputs (one window each, not combined): sorted by length, cut into
    /// batches of at most `batch_size` so padding is small, results returned in input order.
    pub fn predict_many(
        &self,
        encoded: &[Vec<u32>],
        batch_size: usize,
    ) -> Result<Vec<HeadProbs>, ModelError> {
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out: Vec<Option<HeadProbs>> = vec![None; encoded.len()];
        for chunk in order.chunks(batch_size.max(1)) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| encoded[i].as_slice()).collect();
            for (&i, p) in chunk.iter().zip(self.predict_encoded(&batch)?) {
                out[i] = Some(p);
            }
        }
        Ok(out.into_iter().map(|p| p.unwrap_or_default()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: &[&str] = &[
        "好",
        "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差",
        "房间很干净，服务也不错，下次还来。",
        "我想查一下话费",
        "快递三天了还没到，打客服电话一直占线，你们到底怎么回事？再不处理我就去12315投诉！",
    ];

    fn shipped(engine: EngineKind) -> Model {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default");
        Model::load_with_engine(&dir, &Device::Cpu, engine).expect("shipped model")
    }

    fn max_diff(a: &[HeadProbs], b: &[HeadProbs]) -> f32 {
        let mut d = 0f32;
        for (x, y) in a.iter().zip(b) {
            for (hx, hy) in x.iter().zip(y) {
                for (p, q) in hx.iter().zip(hy) {
                    d = d.max((p - q).abs());
                }
            }
        }
        d
    }

    fn argmax(p: &[f32]) -> usize {
        (0..p.len()).max_by(|&i, &j| p[i].total_cmp(&p[j])).unwrap()
    }

    /// Texts of different lengths in one batch: candle pads them, the fused engine lays them end to end.
    #[test]
    fn fused_engines_agree_with_candle() {
        let reference = shipped(EngineKind::Candle).predict_texts(TEXTS, 8).unwrap();
        let f32 = shipped(EngineKind::F32);
        assert_eq!(f32.engine(), EngineKind::F32);
        let got = f32.predict_texts(TEXTS, 8).unwrap();
        assert!(
            max_diff(&reference, &got) < 1e-4,
            "f32: {}",
            max_diff(&reference, &got)
        );
        let one_at_a_time = f32.predict_texts(TEXTS, 1).unwrap();
        assert!(max_diff(&got, &one_at_a_time) < 1e-5);

        let int8 = shipped(EngineKind::Int8);
        let got = int8.predict_texts(TEXTS, 8).unwrap();
        let d = max_diff(&reference, &got);
        assert!(d < 0.03, "int8 differs from f32 by {d}");
        for (r, g) in reference.iter().zip(&got) {
            assert_eq!(
                argmax(&r[0]),
                argmax(&g[0]),
                "sentiment changed: {r:?} vs {g:?}"
            );
        }
    }

    /// The portable kernels (any CPU) compute what the AVX-512 ones do.
    #[test]
    fn portable_kernels_match_the_detected_ones() {
        let model = shipped(EngineKind::Candle);
        let weights = model.network.encoder.export().unwrap();
        let heads = model.network.head_weights().unwrap();
        let ids: Vec<Vec<u32>> = TEXTS[..3].iter().map(|t| model.encoder.encode(t)).collect();
        let batch: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        for precision in [Precision::F32, Precision::Int8] {
            let fast = FusedEncoder::new(weights.clone(), &heads, precision, Isa::detect());
            let port = FusedEncoder::new(weights.clone(), &heads, precision, Isa::Portable);
            let (a, b) = (fast.logits(&batch).unwrap(), port.logits(&batch).unwrap());
            // The int8 products are bit-identical (kernels::gemm tests), but the float ops around them
            // (GELU, layer norm, softmax) differ in the last bits between the vector and portable code, and
            // such a difference can move an activation across an int8 rounding step: a looser bound there.
            let tol = match precision {
                Precision::F32 => 2e-3,
                Precision::Int8 => 1e-2,
            };
            for (x, y) in a.iter().zip(&b) {
                for (p, q) in x.iter().zip(y) {
                    assert!((p - q).abs() < tol, "{precision:?}: {p} vs {q}");
                }
            }
        }
    }

    /// Heads reading the `[CLS]` pooler, the token maximum and the token mean give the same logits in
    /// candle (padded batch) and in the fused encoder (texts end to end), padding never leaking in.
    #[test]
    fn every_pooling_agrees_between_candle_and_fused() {
        let cfg = ModelConfig::parse(
            r#"{"vocab_size": 120, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
              "intermediate_size": 64, "max_position_embeddings": 40,
              "xinsheng": {"format_version": 1, "max_length": 40, "heads": [
                {"name": "sentiment", "labels": ["negative", "neutral", "positive"]},
                {"name": "emotion", "labels": ["none", "like", "happiness", "sadness", "anger", "disgust",
                  "fear", "surprise"], "pooling": "mean"},
                {"name": "categories", "labels": ["service_attitude", "process", "product_quality", "price",
                  "other"], "multi_label": true, "pooling": "max"}]}}"#,
        )
        .unwrap();
        let poolings: Vec<Pooling> = cfg.heads.iter().map(|h| h.pooling).collect();
        assert_eq!(poolings, [Pooling::Cls, Pooling::Mean, Pooling::Max]);
        let varmap = candle_nn::VarMap::new();
        let net = Network::new(
            &cfg,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )
        .unwrap();
        let texts: Vec<Vec<u32>> = vec![
            vec![101, 5, 7, 102],
            (0..30).map(|i| 106 + i % 14).collect(),
            vec![101, 102],
        ];
        let batch: Vec<&[u32]> = texts.iter().map(Vec::as_slice).collect();
        let (ids, mask) = batch_tensors(&batch, 0, &Device::Cpu).unwrap();
        let reference: Vec<Vec<Vec<f32>>> = net
            .logits(&ids, &mask, false)
            .unwrap()
            .iter()
            .map(|t| t.to_vec2::<f32>().unwrap())
            .collect();
        let fused = FusedEncoder::new(
            net.encoder.export().unwrap(),
            &net.head_weights().unwrap(),
            Precision::F32,
            Isa::detect(),
        );
        let got = fused.logits(&batch).unwrap();
        for (t, row) in got.iter().enumerate() {
            let want: Vec<f32> = reference.iter().flat_map(|h| h[t].clone()).collect();
            assert_eq!(row.len(), want.len());
            for (a, b) in row.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "text {t}: {row:?} vs {want:?}");
            }
        }
    }

    /// A text longer than the window is read the way the analyzer reads it: every overlapping window, the
    /// softmax heads averaged and the categories at their maximum, not cut to its head and tail.
    #[test]
    fn long_texts_are_read_in_windows_as_the_analyzer_reads_them() {
        let model = shipped(EngineKind::Int8);
        let long = format!(
            "{}{}",
            "房间很干净，早餐种类丰富，前台服务热情周到，交通也方便。".repeat(6),
            "可是退房时多扣了两百块押金，打了三次电话都说在处理，到现在还没退回来，太气人了！"
                .repeat(5)
        );
        let windows = model.encoder.windows(&long);
        assert!(
            windows.len() >= 3,
            "the text spans {} windows",
            windows.len()
        );
        let parts = model.predict_many(&windows, 8).unwrap();
        let got = model.predict_texts(&[long.as_str()], 8).unwrap();
        assert_eq!(got.len(), 1);
        for (h, head) in model.config.heads.iter().enumerate() {
            for j in 0..head.labels.len() {
                let xs: Vec<f32> = parts.iter().map(|p| p[h][j]).collect();
                let want = if head.multi_label {
                    xs.iter().copied().fold(0.0, f32::max)
                } else {
                    xs.iter().sum::<f32>() / xs.len() as f32
                };
                assert!((got[0][h][j] - want).abs() < 1e-6, "{} {j}", head.name);
            }
        }
        let truncated = model
            .predict_many(&[model.encoder.encode(&long)], 8)
            .unwrap();
        assert!(
            max_diff(&got, &truncated) > 1e-3,
            "head-and-tail reading differs"
        );
        // Short texts: one window each, the same probabilities as one batch of their encodings.
        let short: Vec<Vec<u32>> = TEXTS.iter().map(|t| model.encoder.encode(t)).collect();
        let direct = model.predict_many(&short, 8).unwrap();
        assert!(max_diff(&model.predict_texts(TEXTS, 8).unwrap(), &direct) < 1e-6);
    }

    /// The shipped categories head tells topics apart (model v2's `[CLS]` head gave product_quality
    /// first for every one of these), with every engine.
    #[test]
    fn shipped_categories_follow_the_topic() {
        let cases = [
            ("价格太贵了，不值这个价", "price"),
            ("扣费不明不白，乱收费", "price"),
            ("快递太慢了，等了一个星期", "process"),
            ("客服态度太差了", "service_attitude"),
            ("质量很差，用了两天就坏了", "product_quality"),
        ];
        let texts: Vec<&str> = cases.iter().map(|c| c.0).collect();
        for engine in [EngineKind::Candle, EngineKind::F32, EngineKind::Int8] {
            let model = shipped(engine);
            let (i, head) = model.config.head("categories").expect("categories head");
            let probs = model.predict_texts(&texts, 8).unwrap();
            for ((text, want), p) in cases.iter().zip(&probs) {
                let got = &head.labels[argmax(&p[i])];
                assert_eq!(got, want, "{engine:?} {text}: {:?}", p[i]);
            }
        }
    }

    #[test]
    fn fused_engine_rejects_bad_input_without_panicking() {
        let model = shipped(EngineKind::F32);
        let vocab = model.config.bert.vocab_size as u32;
        assert!(model.predict_encoded(&[&[]]).is_err());
        assert!(model.predict_encoded(&[&[101, vocab, 102]]).is_err());
        let long = vec![101u32; model.config.bert.max_position_embeddings + 1];
        assert!(model.predict_encoded(&[&long]).is_err());
        assert!(model.predict_encoded(&[]).unwrap().is_empty());
    }
}
