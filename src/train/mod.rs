//! Training from scratch (or fine-tuning a model directory) in candle, and evaluation.
//!
//! * [`data`] builds the multi-task corpus from `../shared/data` (or reads a customer's JSONL file).
//! * [`run`] trains: AdamW, warmup + linear decay, dropout, global gradient clipping, seeded
//!   initialization and data order, checkpoints every N steps and `--resume`, a progress bar with loss and
//!   examples/s, a `train_log.jsonl` of every step. It writes a model directory in our format.
//! * [`eval`] computes the metrics `xinsheng eval` prints.

pub mod category_ngrams;
pub mod data;
pub mod eval;
pub mod head_ngrams;
pub mod metrics;
mod ngram_fit;
pub mod optim;

use crate::model::config::{
    BertConfig, HeadSpec, ModelConfig, Pooling, XinshengBlock, CATEGORY_LABELS, EMOTION_LABELS,
    SENTIMENT_LABELS,
};
use crate::model::tokenize::TextEncoder;
use crate::model::{batch_tensors, Model, ModelError, Network};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use data::{Corpus, DataError, Example};
use optim::{AdamW, AdamWParams};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Errors of the training layer.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("training computation failed: {0}")]
    Compute(#[from] candle_core::Error),
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
    #[error("{0}")]
    Usage(String),
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |e| TrainError::Io {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// Everything a training run needs. Saved in the checkpoint so `--resume` continues the same run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainOptions {
    /// Directory laid out like `../shared/data` (used when `train_file` is not given).
    pub data_dir: PathBuf,
    /// Our own labeled sets joined to the shared corpus (hand-labeled categories, dev-only sets, weak labels).
    #[serde(default)]
    pub extra: data::ExtraSets,
    /// A JSONL file of labeled rows to train on instead of the shared corpus (fine-tuning on own tickets).
    pub train_file: Option<PathBuf>,
    /// Dev file for `train_file`; without it 5% of `train_file` is held out.
    pub dev_file: Option<PathBuf>,
    /// Start from this model directory's weights and heads instead of random initialization.
    pub init: Option<PathBuf>,
    /// Directory holding `tokenizer.json` for a model trained from scratch.
    pub tokenizer_dir: PathBuf,
    pub out: PathBuf,
    pub layers: usize,
    pub hidden: usize,
    pub attention_heads: usize,
    pub ffn: usize,
    pub max_length: usize,
    pub epochs: f64,
    pub max_steps: Option<usize>,
    pub batch_size: usize,
    pub lr: f64,
    pub warmup: f64,
    pub weight_decay: f64,
    pub clip_norm: f64,
    pub dropout: f64,
    pub seed: u64,
    pub checkpoint_every: usize,
    /// Use only this many training examples (a quick run).
    pub limit: Option<usize>,
    /// Store the final weights as f16 (half the size; loaded back as f32).
    pub f16: bool,
    /// Weight of the emotion loss in the multi-task sum (sentiment and categories weigh 1).
    pub emotion_weight: f64,
    /// Decay of an exponential moving average of the weights that is shipped instead of the last
    /// weights (0 = off).
    pub ema: f64,
}

/// One text with its token ids, as the trainer uses it.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub example: Example,
}

/// What a finished run reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub steps: usize,
    pub examples_per_second: f64,
    pub first_loss: f64,
    pub last_loss: f64,
    pub dev: BTreeMap<String, eval::EvalReport>,
    pub model_dir: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct CheckpointState {
    step: usize,
    options: TrainOptions,
}

/// Loads the corpus the options ask for.
pub fn load_corpus(opts: &TrainOptions) -> Result<Corpus, TrainError> {
    let mut corpus = match &opts.train_file {
        None => data::build_corpus(&opts.data_dir, &opts.extra)?,
        Some(train) => {
            let rows = data::read_examples(train)?;
            let mut corpus = Corpus::default();
            match &opts.dev_file {
                Some(dev) => {
                    corpus.train = rows;
                    corpus.dev.insert("dev".into(), data::read_examples(dev)?);
                }
                None => {
                    let (dev, train): (Vec<_>, Vec<_>) = rows
                        .into_iter()
                        .partition(|e| data::in_dev_slice(&data::dedup_key(&e.text), 5));
                    corpus.train = train;
                    corpus.dev.insert("dev".into(), dev);
                }
            }
            corpus
        }
    };
    if let Some(n) = opts.limit {
        let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);
        corpus.train.shuffle(&mut rng);
        corpus.train.truncate(n);
    }
    if corpus.train.is_empty() {
        return Err(TrainError::Usage("no training examples".into()));
    }
    Ok(corpus)
}

/// The heads a model trained on `train` needs: sentiment always, emotion and categories when labeled.
fn heads_for(train: &[Example]) -> Vec<HeadSpec> {
    let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut heads = vec![HeadSpec {
        name: "sentiment".into(),
        labels: labels(&SENTIMENT_LABELS),
        multi_label: false,
        thresholds: None,
        pooling: Pooling::Cls,
    }];
    if train.iter().any(|e| e.emotion.is_some()) {
        heads.push(HeadSpec {
            name: "emotion".into(),
            labels: labels(&EMOTION_LABELS),
            multi_label: false,
            thresholds: None,
            pooling: Pooling::Cls,
        });
    }
    if train.iter().any(|e| e.categories.is_some()) {
        heads.push(HeadSpec {
            name: "categories".into(),
            labels: labels(&CATEGORY_LABELS),
            multi_label: true,
            thresholds: Some(vec![0.5; CATEGORY_LABELS.len()]),
            pooling: Pooling::Max,
        });
    }
    heads
}

/// The model configuration for a run: the init model's, or a new one from the options.
fn model_config(
    opts: &TrainOptions,
    train: &[Example],
) -> Result<(ModelConfig, PathBuf), TrainError> {
    if let Some(init) = &opts.init {
        // A directory the user named that is not a model is a usage error (exit 2), not a failure.
        let cfg = ModelConfig::load(init).map_err(|e| TrainError::Usage(format!("--init: {e}")))?;
        if cfg.kind != crate::model::config::ModelKind::Xinsheng {
            return Err(TrainError::Usage(format!(
                "{}: fine-tuning starts from an xinsheng model directory (with an `xinsheng` block)",
                init.display()
            )));
        }
        return Ok((cfg, init.clone()));
    }
    let bert = BertConfig {
        vocab_size: 0, // set from the tokenizer below
        hidden_size: opts.hidden,
        num_hidden_layers: opts.layers,
        num_attention_heads: opts.attention_heads,
        intermediate_size: opts.ffn,
        hidden_act: "gelu".into(),
        hidden_dropout_prob: opts.dropout,
        attention_probs_dropout_prob: opts.dropout,
        max_position_embeddings: opts.max_length.max(64),
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
    };
    let heads = heads_for(train);
    let block = XinshengBlock {
        format_version: 1,
        max_length: opts.max_length,
        heads: heads.clone(),
        training: serde_json::Value::Null,
    };
    let mut raw = serde_json::to_value(&bert).expect("serializable");
    raw["model_type"] = "bert".into();
    raw["xinsheng"] = serde_json::to_value(&block).expect("serializable");
    let cfg = ModelConfig {
        bert,
        kind: crate::model::config::ModelKind::Xinsheng,
        heads,
        max_length: opts.max_length,
        raw,
    };
    Ok((cfg, opts.tokenizer_dir.clone()))
}

/// Loads tensors from a safetensors file into existing variables, converting dtype (f16 files load into f32).
fn load_into(varmap: &VarMap, path: &Path) -> Result<(), TrainError> {
    // SAFETY: read-only map of a file nobody writes while training.
    let st = unsafe { candle_core::safetensors::MmapedSafetensors::new(path) }.map_err(|e| {
        TrainError::Io {
            path: path.display().to_string(),
            msg: e.to_string(),
        }
    })?;
    let vars = varmap.data().lock().expect("var map lock");
    for (name, var) in vars.iter() {
        let t = st
            .load(name, var.device())
            .map_err(|e| TrainError::Io {
                path: path.display().to_string(),
                msg: format!("tensor {name}: {e}"),
            })?
            .to_dtype(var.dtype())?;
        var.set(&t)?;
    }
    Ok(())
}

/// Seeded initialization: N(0, 0.02) for weights and embeddings, 1 for layer-norm gains, 0 for biases.
fn seeded_init(varmap: &VarMap, seed: u64) -> Result<(), TrainError> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for (name, var) in sorted_vars(varmap) {
        let n = var.elem_count();
        let values: Vec<f32> = if name.ends_with("LayerNorm.weight") {
            vec![1.0; n]
        } else if name.ends_with(".bias") {
            vec![0.0; n]
        } else {
            (0..n)
                .map(|_| {
                    // Box–Muller.
                    let u1: f64 = rng.random::<f64>().max(1e-12);
                    let u2: f64 = rng.random::<f64>();
                    (0.02 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
                })
                .collect()
        };
        var.set(&Tensor::from_vec(values, var.shape(), var.device())?)?;
    }
    Ok(())
}

fn sorted_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let mut v: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .expect("var map lock")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The batches of one epoch: a seeded shuffle, then length-sorted windows of 50 batches (less padding),
/// then the batches of the epoch shuffled again.
pub fn epoch_batches(lengths: &[usize], batch: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut rng =
        rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(&mut rng);
    let mut batches = Vec::new();
    for window in order.chunks(batch * 50) {
        let mut w = window.to_vec();
        w.sort_by_key(|&i| lengths[i]);
        batches.extend(w.chunks(batch).map(|c| c.to_vec()));
    }
    batches.shuffle(&mut rng);
    batches
}

/// The multi-task loss of one batch: cross-entropy per single-label head over the rows labeled for it, binary
/// cross-entropy summed over the labels for the multi-label head; heads with no labeled row in the batch
/// add nothing.
pub fn batch_loss(
    net: &Network,
    heads: &[HeadSpec],
    batch: &[&Encoded],
    pad: u32,
    device: &Device,
    train: bool,
    emotion_weight: f64,
) -> candle_core::Result<Option<Tensor>> {
    let ids: Vec<&[u32]> = batch.iter().map(|e| e.ids.as_slice()).collect();
    let (ids, mask) = batch_tensors(&ids, pad, device)?;
    let logits = net.logits(&ids, &mask, train)?;
    let mut total: Option<Tensor> = None;
    for (head, l) in heads.iter().zip(&logits) {
        let mut rows = Vec::new();
        let loss = if head.multi_label {
            let mut targets = Vec::new();
            for (i, e) in batch.iter().enumerate() {
                if let Some(c) = e
                    .example
                    .categories
                    .as_ref()
                    .filter(|c| c.len() == head.labels.len())
                {
                    rows.push(i as u32);
                    targets.extend(c.iter().map(|&x| x as f32));
                }
            }
            if rows.is_empty() {
                continue;
            }
            let n = rows.len();
            let sel = l.index_select(&Tensor::new(rows, device)?, 0)?;
            // Summed over the labels (mean over rows), so each label weighs like one single-label task.
            (candle_nn::loss::binary_cross_entropy_with_logit(
                &sel,
                &Tensor::from_vec(targets, (n, head.labels.len()), device)?,
            )? * head.labels.len() as f64)?
        } else {
            let mut targets = Vec::new();
            for (i, e) in batch.iter().enumerate() {
                let gold = match head.name.as_str() {
                    "emotion" => e.example.emotion,
                    _ => e.example.sentiment,
                };
                if let Some(g) = gold.filter(|&g| (g as usize) < head.labels.len()) {
                    rows.push(i as u32);
                    targets.push(g as u32);
                }
            }
            if rows.is_empty() {
                continue;
            }
            let sel = l.index_select(&Tensor::new(rows, device)?, 0)?;
            let ce = candle_nn::loss::cross_entropy(&sel, &Tensor::new(targets, device)?)?;
            if head.name == "emotion" {
                (ce * emotion_weight)?
            } else {
                ce
            }
        };
        total = Some(match total {
            None => loss,
            Some(t) => (t + loss)?,
        });
    }
    Ok(total)
}

/// Encodes examples in parallel.
pub fn encode_all(encoder: &TextEncoder, examples: Vec<Example>) -> Vec<Encoded> {
    examples
        .into_par_iter()
        .map(|example| Encoded {
            ids: encoder.encode(&example.text),
            example,
        })
        .collect()
}

#[derive(Serialize)]
struct LogLine {
    step: usize,
    loss: f64,
    lr: f64,
    grad_norm: f64,
    examples_per_second: f64,
}

/// Trains per `opts`, writes the model directory to `opts.out` and returns a summary.
/// With `resume`, continues from `opts.out/checkpoint` if one exists.
pub fn run(opts: &TrainOptions, resume: bool, progress: bool) -> Result<TrainSummary, TrainError> {
    let ckpt_dir = opts.out.join("checkpoint");
    let state_path = ckpt_dir.join("state.json");
    let mut start_step = 0;
    if resume && state_path.is_file() {
        let text = std::fs::read_to_string(&state_path).map_err(io_err(&state_path))?;
        let state: CheckpointState = serde_json::from_str(&text).map_err(|e| TrainError::Io {
            path: state_path.display().to_string(),
            msg: e.to_string(),
        })?;
        if &state.options != opts {
            return Err(TrainError::Usage(format!(
                "{}: the checkpoint was made with other options; rerun with the same options or without --resume",
                state_path.display()
            )));
        }
        start_step = state.step;
    }
    let corpus = load_corpus(opts)?;
    let (mut cfg, tok_dir) = model_config(opts, &corpus.train)?;
    let encoder = TextEncoder::load(&tok_dir, cfg.max_length)?;
    if opts.init.is_none() {
        cfg.bert.vocab_size = encoder.vocab_size();
        cfg.raw["vocab_size"] = cfg.bert.vocab_size.into();
    }
    let device = Device::Cpu;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let net = Network::new(&cfg, vb)?;
    match &opts.init {
        Some(init) => load_into(&varmap, &init.join("model.safetensors"))
            .map_err(|e| TrainError::Usage(format!("--init: {e}")))?,
        None => seeded_init(&varmap, opts.seed)?,
    }
    let train = encode_all(&encoder, corpus.train);
    let lengths: Vec<usize> = train.iter().map(|e| e.ids.len()).collect();
    let per_epoch = train.len().div_ceil(opts.batch_size.max(1));
    let total = opts
        .max_steps
        .unwrap_or(((opts.epochs * per_epoch as f64).ceil() as usize).max(1));
    let warmup = (opts.warmup * total as f64).round() as usize;
    let params = AdamWParams {
        lr: opts.lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: opts.weight_decay,
        clip_norm: opts.clip_norm,
    };
    let mut opt = AdamW::new(sorted_vars(&varmap), params)?.with_ema(opts.ema)?;
    if start_step > 0 {
        load_into(&varmap, &ckpt_dir.join("model.safetensors"))?;
        opt.load(&ckpt_dir.join("optimizer.safetensors"), start_step)?;
    }
    std::fs::create_dir_all(&opts.out).map_err(io_err(&opts.out))?;
    let log_path = opts.out.join("train_log.jsonl");
    // A fresh run starts a fresh log; a resumed run appends to it.
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(start_step > 0)
        .truncate(start_step == 0)
        .open(&log_path)
        .map_err(io_err(&log_path))?;
    let bar = if progress {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] step {pos}/{len} ETA {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_position(start_step as u64);
    let pad = encoder.pad_id();
    let (mut first_loss, mut last_loss, mut ema) = (f64::NAN, f64::NAN, f64::NAN);
    let started = Instant::now();
    let mut seen = 0usize;
    let mut batches = Vec::new();
    let mut batches_epoch = usize::MAX;
    for step in start_step..total {
        let epoch = step / per_epoch;
        if epoch != batches_epoch {
            batches = epoch_batches(&lengths, opts.batch_size.max(1), opts.seed, epoch);
            batches_epoch = epoch;
        }
        let batch: Vec<&Encoded> = batches[step % per_epoch]
            .iter()
            .map(|&i| &train[i])
            .collect();
        let lr = optim::schedule(opts.lr, step, warmup, total);
        let Some(loss) = batch_loss(
            &net,
            &cfg.heads,
            &batch,
            pad,
            &device,
            true,
            opts.emotion_weight,
        )?
        else {
            continue;
        };
        let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let grads = loss.backward()?;
        let grad_norm = opt.step(&grads, lr)?;
        seen += batch.len();
        let eps = seen as f64 / started.elapsed().as_secs_f64().max(1e-9);
        if first_loss.is_nan() {
            first_loss = loss_value;
        }
        last_loss = loss_value;
        ema = if ema.is_nan() {
            loss_value
        } else {
            0.98 * ema + 0.02 * loss_value
        };
        let line = LogLine {
            step: step + 1,
            loss: loss_value,
            lr,
            grad_norm,
            examples_per_second: eps,
        };
        use std::io::Write;
        writeln!(
            log,
            "{}",
            serde_json::to_string(&line).expect("serializable")
        )
        .map_err(io_err(&log_path))?;
        bar.set_message(format!("loss {ema:.4} · {eps:.0} ex/s · lr {lr:.2e}"));
        bar.inc(1);
        let done = step + 1;
        if opts.checkpoint_every > 0 && done % opts.checkpoint_every == 0 && done < total {
            save_checkpoint(&ckpt_dir, &varmap, &opt, done, opts)?;
        }
    }
    bar.finish();
    let examples_per_second = seen as f64 / started.elapsed().as_secs_f64().max(1e-9);
    save_checkpoint(&ckpt_dir, &varmap, &opt, total, opts)?;
    let dev = write_model(opts, &mut cfg, &tok_dir, opt.export(), &corpus.dev, &device)?;
    Ok(TrainSummary {
        steps: total,
        examples_per_second,
        first_loss,
        last_loss,
        dev,
        model_dir: opts.out.clone(),
    })
}

fn save_checkpoint(
    dir: &Path,
    varmap: &VarMap,
    opt: &AdamW,
    step: usize,
    opts: &TrainOptions,
) -> Result<(), TrainError> {
    // Write to a fresh directory, then swap it in, so a kill never leaves a half-written checkpoint.
    let tmp = dir.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    varmap.save(tmp.join("model.safetensors"))?;
    opt.save(&tmp.join("optimizer.safetensors"))?;
    let state = CheckpointState {
        step,
        options: opts.clone(),
    };
    std::fs::write(
        tmp.join("state.json"),
        serde_json::to_string_pretty(&state).expect("serializable"),
    )
    .map_err(io_err(&tmp))?;
    let old = dir.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(io_err(dir))?;
    }
    std::fs::rename(&tmp, dir).map_err(io_err(dir))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Writes `config.json`, `tokenizer.json` and `model.safetensors` to `opts.out`; picks the category
/// thresholds on the categories dev split; evaluates every dev split and records the figures in config.json.
fn write_model(
    opts: &TrainOptions,
    cfg: &mut ModelConfig,
    tok_dir: &Path,
    weights: Vec<(String, Tensor)>,
    dev: &BTreeMap<String, Vec<Example>>,
    device: &Device,
) -> Result<BTreeMap<String, eval::EvalReport>, TrainError> {
    let out = &opts.out;
    let tok_src = tok_dir.join("tokenizer.json");
    let tok_dst = out.join("tokenizer.json");
    if tok_src != tok_dst {
        std::fs::copy(&tok_src, &tok_dst).map_err(io_err(&tok_src))?;
    }
    let tensors: std::collections::HashMap<String, Tensor> = weights
        .into_iter()
        .map(|(k, t)| {
            let t = if opts.f16 { t.to_dtype(DType::F16)? } else { t };
            Ok((k, t))
        })
        .collect::<candle_core::Result<_>>()?;
    let weights = out.join("model.safetensors");
    let tmp = out.join("model.safetensors.tmp");
    candle_core::safetensors::save(&tensors, &tmp)?;
    std::fs::rename(&tmp, &weights).map_err(io_err(&weights))?;
    write_config(out, cfg)?;
    // Thresholds for the multi-label head, chosen on the customer-service category dev rows (the
    // hand-labeled reviews and the written utterances, as scripts/train_torch.py does), or on the aspect
    // sets' dev split when the corpus has neither.
    let model = Model::load(out, device)?;
    let mut reports = BTreeMap::new();
    let mut cat_dev: Vec<&Example> = THRESHOLD_SPLITS
        .iter()
        .filter_map(|s| dev.get(*s))
        .flatten()
        .collect();
    if cat_dev.is_empty() {
        cat_dev = dev.get("categories").into_iter().flatten().collect();
    }
    if let Some((hi, _)) = cfg.head("categories") {
        let labeled: Vec<&Example> = cat_dev
            .into_iter()
            .filter(|e| e.categories.is_some())
            .collect();
        if !labeled.is_empty() {
            let texts: Vec<&str> = labeled.iter().map(|e| e.text.as_str()).collect();
            let probs = model.predict_texts(&texts, 32)?;
            let n = CATEGORY_LABELS.len();
            let thresholds: Vec<f32> = (0..n)
                .map(|j| {
                    let gold: Vec<u8> = labeled
                        .iter()
                        .map(|e| e.categories.as_ref().unwrap()[j])
                        .collect();
                    let p: Vec<f32> = probs.iter().map(|p| p[hi][j]).collect();
                    metrics::best_threshold(&gold, &p)
                })
                .collect();
            cfg.heads[hi].thresholds = Some(thresholds);
            cfg.raw["xinsheng"]["heads"] = serde_json::to_value(&cfg.heads).expect("serializable");
            write_config(out, cfg)?;
        }
    }
    let model = Model::load(out, device)?;
    for (name, examples) in dev {
        if !examples.is_empty() {
            reports.insert(name.clone(), eval::evaluate(&model, examples, 32)?);
        }
    }
    cfg.raw["xinsheng"]["training"] = serde_json::json!({
        "options": opts,
        "dev": reports.iter().map(|(k, r)| (k.clone(), r.headline())).collect::<BTreeMap<_, _>>(),
    });
    write_config(out, cfg)?;
    Ok(reports)
}

/// Dev splits the category thresholds are chosen on (when the corpus has them).
pub(crate) const THRESHOLD_SPLITS: [&str; 2] = ["handcat", "cs_written"];

fn write_config(dir: &Path, cfg: &ModelConfig) -> Result<(), TrainError> {
    let path = dir.join("config.json");
    let text = serde_json::to_string_pretty(&cfg.raw).expect("serializable");
    std::fs::write(&path, text + "\n").map_err(io_err(&path))
}

/// Writes the corpus as token ids (`train.jsonl`, `dev_<split>.jsonl`, `stats.json`) for an external
/// trainer (`scripts/train_torch.py`) that must see exactly the examples and tokens `run` would.
pub fn prepare(opts: &TrainOptions, dir: &Path) -> Result<BTreeMap<String, usize>, TrainError> {
    let corpus = load_corpus(opts)?;
    let encoder = TextEncoder::load(&opts.tokenizer_dir, opts.max_length)?;
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut counts = BTreeMap::new();
    let write = |name: &str, examples: Vec<Example>| -> Result<usize, TrainError> {
        use std::io::Write;
        let path = dir.join(name);
        let enc = encode_all(&encoder, examples);
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
        for e in &enc {
            let mut v = serde_json::to_value(&e.example).expect("serializable");
            v["ids"] = serde_json::to_value(&e.ids).expect("serializable");
            writeln!(w, "{v}").map_err(io_err(&path))?;
        }
        w.flush().map_err(io_err(&path))?;
        Ok(enc.len())
    };
    counts.insert("train".to_string(), write("train.jsonl", corpus.train)?);
    for (name, examples) in corpus.dev {
        counts.insert(
            format!("dev_{name}"),
            write(&format!("dev_{name}.jsonl"), examples)?,
        );
    }
    let stats = dir.join("stats.json");
    std::fs::write(
        &stats,
        serde_json::to_string_pretty(
            &serde_json::json!({"counts": counts, "sources": corpus.stats}),
        )
        .expect("serializable"),
    )
    .map_err(io_err(&stats))?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_batches_cover_every_example_once() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 7919) % 97).collect();
        let b = epoch_batches(&lengths, 16, 3, 0);
        let mut all: Vec<usize> = b.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(b, epoch_batches(&lengths, 16, 3, 0), "seeded");
        assert_ne!(b, epoch_batches(&lengths, 16, 3, 1), "epochs differ");
    }
}
