//! All configuration in one place: the command line (clap), where every flag also reads an
//! `XINSHENG_*` environment variable.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// xinsheng (心声): sentiment, emotion, complaint categories, risk, keywords and PII masking for Chinese
/// customer-service text.
#[derive(Debug, Parser)]
#[command(name = "xinsheng", version, about, long_about = None)]
pub struct Settings {
    /// Model directory (config.json + tokenizer.json + model.safetensors). Default: the shipped model.
    #[arg(
        long,
        global = true,
        env = "XINSHENG_MODEL",
        default_value = "models/default"
    )]
    pub model: PathBuf,
    /// Device: cpu, cuda or cuda:N (CUDA needs a build with `--features cuda`).
    #[arg(long, global = true, env = "XINSHENG_DEVICE", default_value = "cpu")]
    pub device: String,
    /// Encoder engine: auto (int8 on CPUs with AVX-512 VNNI, else candle), candle (f32 reference,
    /// CPU or CUDA), f32 or int8 (xinsheng's fused CPU kernels).
    #[arg(
        long,
        global = true,
        env = "XINSHENG_ENGINE",
        value_enum,
        default_value = "auto"
    )]
    pub engine: crate::model::EngineKind,
    /// Worker threads for inference (0 = one per core; at most 256).
    #[arg(long, global = true, env = "XINSHENG_THREADS", default_value_t = 0, value_parser = thread_count)]
    pub threads: usize,
    /// Never mask this number or e-mail address (repeatable; the environment variable takes a
    /// comma-separated list): a company hotline `0755-88886666`, a prefix `400*`, a suffix
    /// `*@example.com`. Added to the built-in hotline list (10086, 95588, 12315, 400*, …).
    #[arg(
        long = "pii-allow",
        global = true,
        env = "XINSHENG_PII_ALLOW",
        value_delimiter = ','
    )]
    pub pii_allow: Vec<String>,
    /// File of allow-list entries, one per line (`#` comments), added like `--pii-allow`.
    #[arg(long, global = true, env = "XINSHENG_PII_ALLOW_FILE")]
    pub pii_allow_file: Option<PathBuf>,
    /// Risk policy (TOML) instead of the model directory's policy.toml (or the built-in policy).
    #[arg(long, global = true, env = "XINSHENG_POLICY")]
    pub policy: Option<PathBuf>,
    /// Directory for the customer history (SQLite file `history.sqlite`).
    #[arg(long, global = true, env = "XINSHENG_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL for the customer history instead of SQLite (needs `--features postgres`).
    #[arg(
        long,
        global = true,
        env = "XINSHENG_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// What the customer history keeps of a contact's text: none, or the PII-masked text.
    #[arg(
        long,
        global = true,
        env = "XINSHENG_STORE_TEXT",
        value_enum,
        default_value = "none"
    )]
    pub store_text: crate::risk::history::StoreText,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze one text (argument, or standard input) and print the analysis as JSON.
    Analyze(AnalyzeArgs),
    /// Label a .jsonl, .csv or .xlsx file: every row gets an `analysis` (or an `error`), in input order;
    /// resumable; writes a summary and an HTML report beside the output.
    Label(LabelArgs),
    /// Train a model from scratch on ../shared/data, or fine-tune a model on your own labeled JSONL.
    Train(TrainArgs),
    /// Evaluate a model on a labeled JSONL file; prints accuracy, macro-F1, per-class figures and the
    /// confusion matrix as JSON.
    Eval(EvalArgs),
    /// Write the training corpus as token ids (for scripts/train_torch.py), without training.
    Prepare(PrepareArgs),
    /// Serve the HTTP API (analyze, batch, chatbot conversations, health, metrics, OpenAPI, docs).
    Serve(ServeArgs),
    /// Measure model speed on a file of texts (one per line): batch throughput and single-text latency
    /// percentiles, tokenization included; prints JSON (used by scripts/bench_compare.py).
    Bench(BenchArgs),
    /// Print one customer's history (`{"id", "contacts", "consecutive_negative", "high_risk",
    /// "risk_score", …}`); exit code 2 for an unknown customer.
    Customer(CustomerArgs),
    /// List customers as JSON lines.
    Customers(CustomersArgs),
    /// Evaluate the risk rules on labeled utterances and conversations (escalation P/R/F1, priority
    /// accuracy and confusion, reason-code confusion, handoff within ±1 turn, sentiment accuracy).
    EvalRisk(EvalRiskArgs),
    /// Fit a learned risk model (logistic regression over character n-grams) to labeled utterances: the
    /// escalation model (risk_model.json) or the complaint model (complaint_model.json); thresholds are
    /// chosen by leave-one-group-out cross-validation.
    TrainRisk(TrainRiskArgs),
    /// Fit the category n-gram model of a trained model (MODEL_DIR/category_ngrams.json): one logistic
    /// regression per category over character n-grams of the hand-labeled category rows of a prepared
    /// corpus, blended with the network's categories head; blend weight and thresholds chosen on the
    /// corpus's category dev rows.
    TrainCategories(TrainCategoriesArgs),
    /// Fit the n-gram model of a single-label head of a trained model (MODEL_DIR/HEAD_ngrams.json for
    /// --head sentiment or emotion): one-vs-rest logistic regressions over character n-grams of every row of a
    /// prepared corpus labeled for that head, blended with the network's head; the blend weight is chosen on
    /// the corpus's dev rows for that head.
    TrainNgrams(TrainNgramsArgs),
}

#[derive(Debug, Args)]
pub struct TrainNgramsArgs {
    /// The head: sentiment (blend weight chosen on the chnsenticorp, nlpcc2014, reviews, cs_written and
    /// taobao dev splits) or emotion (chosen on the emotion and cs_written dev splits).
    #[arg(long, env = "XINSHENG_NGRAMS_HEAD", value_parser = ["sentiment", "emotion"])]
    pub head: String,
    /// A directory written by `xinsheng prepare` (train.jsonl and the dev splits of the head).
    #[arg(long, env = "XINSHENG_NGRAMS_DATA", default_value = "build/dataset")]
    pub data: PathBuf,
    /// Where to write the model (default: HEAD_ngrams.json in the --model directory).
    #[arg(long, env = "XINSHENG_NGRAMS_OUTPUT")]
    pub output: Option<PathBuf>,
    /// Inverse L2 strength (larger = weaker regularization).
    #[arg(long, env = "XINSHENG_NGRAMS_C", default_value_t = 1.0)]
    pub c: f32,
    /// An n-gram needs this many training texts to enter the vocabulary.
    #[arg(long, env = "XINSHENG_NGRAMS_MIN_COUNT", default_value_t = 2)]
    pub min_count: usize,
    /// Longest n-gram, in characters (the shortest is 1).
    #[arg(long, env = "XINSHENG_NGRAMS_NGRAM_MAX", default_value_t = 3)]
    pub ngram_max: usize,
    /// Blend weights to try (comma-separated, each in [0, 1]; 0 = the network alone, 1 = the n-grams alone).
    #[arg(
        long,
        env = "XINSHENG_NGRAMS_WEIGHTS",
        value_delimiter = ',',
        default_value = "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1"
    )]
    pub weights: Vec<f32>,
}

#[derive(Debug, Args)]
pub struct TrainCategoriesArgs {
    /// A directory written by `xinsheng prepare` (train.jsonl, dev_handcat.jsonl, dev_cs_written.jsonl).
    #[arg(
        long,
        env = "XINSHENG_CATEGORIES_DATA",
        default_value = "build/dataset"
    )]
    pub data: PathBuf,
    /// Sources of train.jsonl whose category labels train the n-gram models (comma-separated).
    #[arg(
        long,
        env = "XINSHENG_CATEGORIES_SOURCES",
        value_delimiter = ',',
        default_value = "handcat,cs_written,taobao"
    )]
    pub sources: Vec<String>,
    /// Where to write the model (default: category_ngrams.json in the --model directory).
    #[arg(long, env = "XINSHENG_CATEGORIES_OUTPUT")]
    pub output: Option<PathBuf>,
    /// Inverse L2 strength (larger = weaker regularization).
    #[arg(long, env = "XINSHENG_CATEGORIES_C", default_value_t = 1.0)]
    pub c: f32,
    /// An n-gram needs this many training texts to enter the vocabulary.
    #[arg(long, env = "XINSHENG_CATEGORIES_MIN_COUNT", default_value_t = 2)]
    pub min_count: usize,
    /// Longest n-gram, in characters (the shortest is 1).
    #[arg(long, env = "XINSHENG_CATEGORIES_NGRAM_MAX", default_value_t = 3)]
    pub ngram_max: usize,
    /// Blend weights to try (comma-separated, each in [0, 1]; 0 = the network alone, 1 = the n-grams alone).
    #[arg(
        long,
        env = "XINSHENG_CATEGORIES_WEIGHTS",
        value_delimiter = ',',
        default_value = "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1"
    )]
    pub weights: Vec<f32>,
}

#[derive(Debug, Args)]
pub struct TrainRiskArgs {
    /// A directory with utterances.jsonl (the eval-risk schema); all its rows train. Repeatable; each
    /// directory is one cross-validation group.
    #[arg(
        long = "data",
        required = true,
        env = "XINSHENG_RISK_DATA",
        value_delimiter = ','
    )]
    pub data: Vec<PathBuf>,
    /// Like --data, but only the tune split (ids whose last digit is even) of a dev set.
    #[arg(long = "tune", env = "XINSHENG_RISK_TUNE", value_delimiter = ',')]
    pub tune: Vec<PathBuf>,
    /// A directory of evaluation data (utterances.jsonl, conversations.jsonl): training rows that copy one
    /// of its texts (character-trigram Dice >= 0.5) are left out; its rows that train (--tune) do not count.
    /// Repeatable.
    #[arg(
        long = "exclude-near",
        env = "XINSHENG_RISK_EXCLUDE_NEAR",
        value_delimiter = ','
    )]
    pub exclude_near: Vec<PathBuf>,
    /// What the model learns: escalate (put the output in the model directory as risk_model.json) or
    /// complaint, i.e. priority A or B (as complaint_model.json).
    #[arg(
        long,
        value_enum,
        env = "XINSHENG_RISK_TARGET",
        default_value = "escalate"
    )]
    pub target: crate::risk::fit::Target,
    /// Where to write the model.
    #[arg(long, env = "XINSHENG_RISK_OUTPUT")]
    pub output: PathBuf,
    /// Inverse L2 strength (larger = weaker regularization).
    #[arg(long, env = "XINSHENG_RISK_C", default_value_t = 1.0)]
    pub c: f32,
    /// An n-gram needs this many training texts to enter the vocabulary.
    #[arg(long, env = "XINSHENG_RISK_MIN_COUNT", default_value_t = 2)]
    pub min_count: usize,
    /// Shortest n-gram, in characters.
    #[arg(long, env = "XINSHENG_RISK_NGRAM_MIN", default_value_t = 1)]
    pub ngram_min: usize,
    /// Longest n-gram, in characters.
    #[arg(long, env = "XINSHENG_RISK_NGRAM_MAX", default_value_t = 3)]
    pub ngram_max: usize,
    /// Model scores to use as inputs besides the n-grams (comma-separated: negative, positive, anger).
    #[arg(long, env = "XINSHENG_RISK_SIGNALS", value_delimiter = ',')]
    pub signals: Vec<String>,
    /// Use this threshold instead of the cross-validated one.
    #[arg(long, env = "XINSHENG_RISK_THRESHOLD")]
    pub threshold: Option<f32>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Texts, one per line.
    #[arg(long, env = "XINSHENG_BENCH_TEXTS")]
    pub texts: PathBuf,
    /// Batch size of the throughput run (1 to 4096).
    #[arg(long, env = "XINSHENG_BATCH_SIZE", default_value_t = 32, value_parser = batch_texts)]
    pub batch_size: usize,
    /// Seconds to run each measurement (after one warm-up pass; more than 0, at most 86400).
    #[arg(long, env = "XINSHENG_BENCH_SECONDS", default_value_t = 10.0, value_parser = bench_seconds)]
    pub seconds: f64,
    /// Also print every head's probabilities for the first N texts (to compare engines).
    #[arg(long, env = "XINSHENG_BENCH_PROBS", default_value_t = 0)]
    pub probs: usize,
}

#[derive(Debug, Args)]
pub struct CustomerArgs {
    /// The customer id.
    #[arg(env = "XINSHENG_CUSTOMER_ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct CustomersArgs {
    /// Only high-risk customers (`history.high_risk_after` or more negative contacts in a row); without it,
    /// every customer.
    #[arg(long, env = "XINSHENG_HIGH_RISK", value_parser = clap::builder::BoolishValueParser::new())]
    pub high_risk: bool,
}

#[derive(Debug, Args)]
pub struct EvalRiskArgs {
    /// Labeled utterances (JSONL: id, text, sentiment, categories, escalate, priority, reasons).
    #[arg(long, env = "XINSHENG_EVAL_UTTERANCES")]
    pub utterances: Option<PathBuf>,
    /// Labeled conversations (JSONL: id, turns, handoff_turn, escalate, priority).
    #[arg(long, env = "XINSHENG_EVAL_CONVERSATIONS")]
    pub conversations: Option<PathBuf>,
    /// Also list every misclassified row (id, gold, predicted) under `misses`.
    #[arg(long, env = "XINSHENG_EVAL_MISSES", value_parser = clap::builder::BoolishValueParser::new())]
    pub misses: bool,
    /// Leave the learned models (risk_model.json, complaint_model.json) out: the rules alone.
    #[arg(long, env = "XINSHENG_EVAL_RULES_ONLY", value_parser = clap::builder::BoolishValueParser::new())]
    pub rules_only: bool,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The text (at most 20,000 characters). Read from standard input when absent. A JSON object with
    /// `turns` is analyzed as a conversation (each turn at most 20,000 characters; not both `text` and
    /// `turns`). (No environment variable: a stale one would silently replace piped input.)
    pub text: Option<String>,
    /// Print compact one-line JSON instead of indented JSON.
    #[arg(long, env = "XINSHENG_COMPACT", value_parser = clap::builder::BoolishValueParser::new())]
    pub compact: bool,
    /// Store this contact in the customer's history and add `customer` to the analysis.
    #[arg(long, env = "XINSHENG_CUSTOMER_ID")]
    pub customer_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct LabelArgs {
    /// Input file: .jsonl (one JSON object per line), .csv (delimiter sniffed; UTF-8 or GBK/GB18030,
    /// detected) or .xlsx (first sheet, or --sheet).
    #[arg(long, env = "XINSHENG_INPUT")]
    pub input: PathBuf,
    /// Output file, by extension: .jsonl (the input rows plus `analysis` or `error`) or .csv (input
    /// columns plus flattened analysis columns). Beside it: OUTPUT.journal (resume), OUTPUT.summary.json
    /// and OUTPUT.report.html.
    #[arg(long, env = "XINSHENG_OUTPUT")]
    pub output: PathBuf,
    /// The field (column) holding the text; default: detected (text, content, 内容, 评论, 反馈, 留言,
    /// 描述, 文本, …).
    #[arg(long, env = "XINSHENG_TEXT_FIELD")]
    pub text_field: Option<String>,
    /// The field holding a row id (shown in the report).
    #[arg(long, env = "XINSHENG_ID_FIELD")]
    pub id_field: Option<String>,
    /// The field holding the row's date (trends by day or week in the report).
    #[arg(long, env = "XINSHENG_DATE_FIELD")]
    pub date_field: Option<String>,
    /// The field holding the customer id (feeds the customer history).
    #[arg(long, env = "XINSHENG_CUSTOMER_FIELD")]
    pub customer_field: Option<String>,
    /// CSV encoding (utf-8, gbk, gb18030, big5, …); default: UTF-8 if the file decodes as UTF-8, else
    /// GB18030.
    #[arg(long, env = "XINSHENG_ENCODING")]
    pub encoding: Option<String>,
    /// CSV delimiter (one character, or `tab`); default: sniffed among , ; tab |.
    #[arg(long, env = "XINSHENG_DELIMITER")]
    pub delimiter: Option<String>,
    /// The xlsx sheet to read (default: the first).
    #[arg(long, env = "XINSHENG_SHEET")]
    pub sheet: Option<String>,
    /// Texts per model batch (1 to 4096).
    #[arg(long, env = "XINSHENG_BATCH_SIZE", default_value_t = 32, value_parser = batch_texts)]
    pub batch_size: usize,
    /// Rows read, analyzed (length-sorted), written and journaled at a time (bounded memory; 1 to
    /// 1000000).
    #[arg(
        long,
        alias = "chunk-size",
        env = "XINSHENG_WINDOW",
        default_value_t = 1024,
        value_parser = window_rows
    )]
    pub window: usize,
    /// Start over, ignoring the journal of an earlier interrupted run (by default a rerun resumes); also
    /// needed to overwrite an existing output that no label run wrote.
    #[arg(long, env = "XINSHENG_RESTART", value_parser = clap::builder::BoolishValueParser::new())]
    pub restart: bool,
    /// No progress bar, no start notes (the text column chosen) and no closing lines: only the summary.
    #[arg(long, env = "XINSHENG_QUIET", value_parser = clap::builder::BoolishValueParser::new())]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CorpusArgs {
    /// Shared data directory (the public JSONL sets).
    #[arg(long, env = "XINSHENG_DATA", default_value = "../shared/data")]
    pub data: PathBuf,
    /// The project's hand-labeled sets (categories/labeled_part*.jsonl are trained on, the ids in categories/split.json held out as dev
    /// `handcat`; sentiment3/ and robustness/ are dev-only). Missing files are skipped.
    #[arg(long, env = "XINSHENG_LABELED_DIR", default_value = "tests/data")]
    pub labeled_dir: PathBuf,
    /// Weak category labels to merge into the training rows (written by scripts/weak_categories.py).
    #[arg(long, env = "XINSHENG_WEAK_CATEGORIES")]
    pub weak_categories: Option<PathBuf>,
    /// Train on this labeled JSONL instead (rows: text + sentiment|label, emotion, categories).
    #[arg(long, env = "XINSHENG_TRAIN_FILE")]
    pub train_file: Option<PathBuf>,
    /// Dev file for --train-file (default: 5% of it held out by hash).
    #[arg(long, env = "XINSHENG_DEV_FILE")]
    pub dev_file: Option<PathBuf>,
    /// Directory with tokenizer.json for a model trained from scratch.
    #[arg(
        long,
        env = "XINSHENG_TOKENIZER",
        default_value = "../shared/models/chinese-bert-tokenizer-21128"
    )]
    pub tokenizer: PathBuf,
    /// Tokens per window (incl. [CLS] and [SEP]); longer texts keep their head and tail.
    #[arg(long, env = "XINSHENG_MAX_LENGTH", default_value_t = 128)]
    pub max_length: usize,
    /// Use only this many training examples (quick runs).
    #[arg(long, env = "XINSHENG_LIMIT")]
    pub limit: Option<usize>,
    /// Seed for initialization, sampling and data order.
    #[arg(long, env = "XINSHENG_SEED", default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Output model directory (checkpoints go to OUT/checkpoint).
    #[arg(long, env = "XINSHENG_OUT")]
    pub out: PathBuf,
    /// Fine-tune: start from this model directory (its heads, tokenizer and weights).
    #[arg(long, env = "XINSHENG_INIT")]
    pub init: Option<PathBuf>,
    #[arg(long, env = "XINSHENG_LAYERS", default_value_t = 4)]
    pub layers: usize,
    #[arg(long, env = "XINSHENG_HIDDEN", default_value_t = 256)]
    pub hidden: usize,
    #[arg(long, env = "XINSHENG_ATTENTION_HEADS", default_value_t = 4)]
    pub attention_heads: usize,
    #[arg(long, env = "XINSHENG_FFN", default_value_t = 1024)]
    pub ffn: usize,
    #[arg(long, env = "XINSHENG_EPOCHS", default_value_t = 2.0)]
    pub epochs: f64,
    /// Stop after this many optimizer steps (overrides --epochs).
    #[arg(long, env = "XINSHENG_MAX_STEPS")]
    pub max_steps: Option<usize>,
    #[arg(long, env = "XINSHENG_BATCH_SIZE", default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, env = "XINSHENG_LR", default_value_t = 5e-4)]
    pub lr: f64,
    /// Warmup as a fraction of all steps.
    #[arg(long, env = "XINSHENG_WARMUP", default_value_t = 0.06)]
    pub warmup: f64,
    #[arg(long, env = "XINSHENG_WEIGHT_DECAY", default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Clip the global gradient norm (0 = off).
    #[arg(long, env = "XINSHENG_CLIP_NORM", default_value_t = 1.0)]
    pub clip_norm: f64,
    #[arg(long, env = "XINSHENG_DROPOUT", default_value_t = 0.1)]
    pub dropout: f64,
    /// Save a checkpoint every N steps (0 = only at the end).
    #[arg(long, env = "XINSHENG_CHECKPOINT_EVERY", default_value_t = 200)]
    pub checkpoint_every: usize,
    /// Continue from OUT/checkpoint (same options).
    #[arg(long, env = "XINSHENG_RESUME", value_parser = clap::builder::BoolishValueParser::new())]
    pub resume: bool,
    /// Weight of the emotion loss (sentiment and categories weigh 1).
    #[arg(long, env = "XINSHENG_EMOTION_WEIGHT", default_value_t = 0.5)]
    pub emotion_weight: f64,
    /// Ship an exponential moving average of the weights with this decay (0 = the last weights).
    #[arg(long, env = "XINSHENG_EMA", default_value_t = 0.999)]
    pub ema: f64,
    /// Store final weights as f32 instead of f16.
    #[arg(long, env = "XINSHENG_F32")]
    pub f32: bool,
    /// No progress bar.
    #[arg(long, env = "XINSHENG_QUIET", value_parser = clap::builder::BoolishValueParser::new())]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labeled JSONL: text + any of sentiment (name) or label (0/1), emotion, categories (list).
    #[arg(long, env = "XINSHENG_EVAL_DATA")]
    pub data: PathBuf,
    #[arg(long, env = "XINSHENG_BATCH_SIZE", default_value_t = 32)]
    pub batch_size: usize,
    /// Mask PII (`xinsheng::text::mask`) in every text before evaluating, to measure what masking
    /// the model input would cost.
    #[arg(long, env = "XINSHENG_MASK_INPUT", value_parser = clap::builder::BoolishValueParser::new())]
    pub mask_input: bool,
    /// Also report each group of rows on its own, grouped by this field of the input rows (a string or a
    /// number; e.g. `phenomenon` of the robustness dev set, or a channel column). Rows without it form the
    /// group `(none)`. Output: the whole-file report plus `groups` {name: report}.
    #[arg(long, env = "XINSHENG_GROUP_BY", value_name = "FIELD")]
    pub group_by: Option<String>,
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Directory to write train.jsonl, dev_*.jsonl and stats.json into.
    #[arg(long, env = "XINSHENG_OUT")]
    pub out: PathBuf,
}

/// Every setting of the HTTP server (`xinsheng serve`).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "XINSHENG_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 = any free port; the bound address is printed on standard output).
    #[arg(long, env = "XINSHENG_PORT", default_value_t = 8080)]
    pub port: u16,
    /// API key clients must send as `Authorization: Bearer KEY` (repeatable; the environment variable
    /// takes a comma-separated list). No key = no authentication.
    #[arg(
        long = "api-key",
        env = "XINSHENG_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,
    /// Require the API key on /health, /ready, /metrics, /openapi.json and /docs too.
    #[arg(long, env = "XINSHENG_PROTECT_PROBES", value_parser = clap::builder::BoolishValueParser::new())]
    pub protect_probes: bool,
    /// Largest accepted request body, in bytes (larger → 413).
    #[arg(long, env = "XINSHENG_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Analysis requests served at once; more → 429 with Retry-After.
    #[arg(long, env = "XINSHENG_MAX_CONCURRENT", default_value_t = 64)]
    pub max_concurrent: usize,
    /// A request that takes longer is answered 503 (milliseconds, counted once its body has arrived).
    #[arg(long, env = "XINSHENG_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// A request body that has not fully arrived this long after its headers is answered 408
    /// (milliseconds). Bodies are read before a `--max-concurrent` slot is taken, so stalled uploads
    /// cannot hold the slots.
    #[arg(long, env = "XINSHENG_BODY_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub body_timeout_ms: u64,
    /// Most texts in one `/v1/analyze/batch` request, a conversation counting as its number of turns
    /// (more → 413).
    #[arg(long, env = "XINSHENG_MAX_BATCH_ITEMS", default_value_t = 256)]
    pub max_batch_items: usize,
    /// Most characters the model reads for one request: every text and turn, a conversation's customer
    /// turns twice (also read joined, for the overall mood), a batch's items added up (more → 413
    /// `too_much_text`); also for one chatbot conversation (more → 422 `conversation_full`). Bounds a
    /// request's model time well within `--request-timeout-ms`.
    #[arg(long, env = "XINSHENG_MAX_REQUEST_CHARS", default_value_t = 40_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_request_chars: u64,
    /// Most padded tokens (texts × longest text) in one model batch.
    #[arg(long, env = "XINSHENG_MAX_BATCH_TOKENS", default_value_t = 8192)]
    pub max_batch_tokens: usize,
    /// Most texts in one model batch.
    #[arg(long, env = "XINSHENG_MAX_BATCH_SIZE", default_value_t = 64)]
    pub max_batch_size: usize,
    /// On an idle queue, wait this long (milliseconds, at most 1000) for more requests to join a batch.
    #[arg(long, env = "XINSHENG_BATCH_WAIT_MS", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub batch_wait_ms: u64,
    /// Threads for tokenization and postprocessing (0 = one per core; at most 256).
    #[arg(long, env = "XINSHENG_WORKERS", default_value_t = 0, value_parser = thread_count)]
    pub workers: usize,
    /// Close a connection whose request headers have not all arrived within this many seconds (an idle
    /// keep-alive connection included), so idle or trickling clients cannot hold every file descriptor.
    #[arg(long, env = "XINSHENG_HEADER_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Forget a chatbot conversation after this many seconds without a new turn.
    #[arg(long, env = "XINSHENG_CONVERSATION_TTL_SECS", default_value_t = 1800)]
    pub conversation_ttl_secs: u64,
    /// Most turns in one chatbot conversation, and in the `turns` of one `/v1/analyze` request or batch
    /// item (more → 413 `too_many_turns`).
    #[arg(long, env = "XINSHENG_CONVERSATION_MAX_TURNS", default_value_t = 200)]
    pub conversation_max_turns: usize,
    /// Most chatbot conversations held in memory (the least recently used is dropped).
    #[arg(long, env = "XINSHENG_MAX_CONVERSATIONS", default_value_t = 10_000)]
    pub max_conversations: usize,
    /// On SIGTERM / Ctrl-C, wait at most this long (seconds) for in-flight requests.
    #[arg(long, env = "XINSHENG_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Log as JSON lines instead of text (logs go to standard error; filter with XINSHENG_LOG).
    #[arg(long, env = "XINSHENG_LOG_JSON", value_parser = clap::builder::BoolishValueParser::new())]
    pub log_json: bool,
}

/// Parses a whole number from `lo` to `hi`; `what` names the unit in the message.
fn count_in(s: &str, lo: usize, hi: usize, what: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    if n < lo || n > hi {
        return Err(format!("{n} is out of range: {lo} to {hi} {what}"));
    }
    Ok(n)
}

/// A thread count: 0 (one per core) to 256.
fn thread_count(s: &str) -> Result<usize, String> {
    count_in(s, 0, 256, "threads (0 = one per core)")
}

/// Texts in one model batch: 1 to 4096.
fn batch_texts(s: &str) -> Result<usize, String> {
    count_in(s, 1, 4096, "texts")
}

/// Rows in one window of `label`: 1 to 1,000,000.
fn window_rows(s: &str) -> Result<usize, String> {
    count_in(s, 1, 1_000_000, "rows")
}

/// A measurement time: a finite number of seconds above 0, at most a day.
fn bench_seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !(x > 0.0 && x <= 86_400.0) {
        return Err(format!(
            "{s} is out of range: more than 0 and at most 86400 seconds"
        ));
    }
    Ok(x)
}
