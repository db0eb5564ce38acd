//! The `xinsheng` command line: parses [`Settings`] and calls the library. Exit codes: 0 ok, 2 bad usage or
//! bad input, 1 anything else.

use clap::Parser;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use xinsheng::config::{Command, CorpusArgs, Settings, TrainArgs};
use xinsheng::risk::history::{check_id, Backend, History};
use xinsheng::risk::policy::Policy;
use xinsheng::train::{self, TrainOptions};

/// A failure with the exit code it should produce.
struct Failure {
    code: u8,
    msg: String,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 1,
            msg: e.to_string(),
        }
    }
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        msg: msg.into(),
    }
}

/// `println!` that does not panic when stdout is gone: see [`emit`].
macro_rules! out {
    ($($arg:tt)*) => {
        emit(format_args!($($arg)*))
    };
}

/// Writes one line of output. A reader that went away (`xinsheng analyze … | head`) ends the command
/// quietly with the status of a broken pipe (141, as a shell reports SIGPIPE); any other write error is
/// reported.
fn emit(args: std::fmt::Arguments) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{args}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure {
            code: 141,
            msg: String::new(),
        }),
        r => r.map_err(Failure::from),
    }
}

/// `eprintln!` that does not panic when standard error is gone (`xinsheng … 2>&1 | head -1`): a closed
/// reader must not turn a usage error (2) into a panic (101).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let settings = Settings::parse();
    if settings.threads > 0 {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.threads)
            .build_global();
    }
    match run(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.msg.is_empty() {
                note!("error: {}", f.msg);
            }
            ExitCode::from(f.code)
        }
    }
}

/// The shipped model is found from the working directory, or beside the crate when run elsewhere.
/// The n-gram trainer's options of `train-categories` / `train-ngrams`, checked.
fn ngram_options(
    c: f32,
    min_count: usize,
    ngram_max: usize,
) -> Result<xinsheng::risk::learned::TrainOptions, Failure> {
    if !(c > 0.0 && c.is_finite()) || min_count == 0 || !(1..=8).contains(&ngram_max) {
        return Err(usage(
            "--c must be > 0, --min-count >= 1 and 1 <= --ngram-max <= 8",
        ));
    }
    Ok(xinsheng::risk::learned::TrainOptions {
        c,
        min_count,
        ngram_max,
        ..Default::default()
    })
}

/// The --model network without its n-gram files (which the n-gram trainers write), on --engine.
fn network_model(s: &Settings) -> Result<xinsheng::model::Model, Failure> {
    let device =
        xinsheng::model::device::parse_device(&s.device).map_err(|e| usage(e.to_string()))?;
    let mut model = xinsheng::model::Model::load_network(&resolve_model(s.model.clone()), &device)
        .map_err(|e| usage(e.to_string()))?;
    model
        .set_engine(s.engine)
        .map_err(|e| usage(e.to_string()))?;
    Ok(model)
}

/// Writes an n-gram model file atomically and prints where, its size and its training record.
fn write_ngram_file(
    output: &Path,
    json: String,
    features: usize,
    training: &serde_json::Value,
) -> Result<(), Failure> {
    let tmp = output.with_extension("json.tmp");
    std::fs::write(&tmp, json + "\n")
        .and_then(|()| std::fs::rename(&tmp, output))
        .map_err(|e| usage(format!("{}: {e}", output.display())))?;
    out!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "output": output.display().to_string(),
            "features": features,
            "training": training,
        }))?
    )?;
    Ok(())
}

fn resolve_model(path: PathBuf) -> PathBuf {
    if path.exists() || path.is_absolute() {
        return path;
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&path);
    if beside.exists() {
        beside
    } else {
        path
    }
}

/// The masking options of `--pii-allow` and `--pii-allow-file` (built-in hotlines plus these).
fn mask_options(s: &Settings) -> Result<xinsheng::text::MaskOptions, Failure> {
    let mut extra = s.pii_allow.clone();
    if let Some(path) = &s.pii_allow_file {
        extra.extend(xinsheng::text::read_allow_list(path).map_err(|e| usage(e.to_string()))?);
    }
    Ok(xinsheng::text::MaskOptions::with_extra_allow(extra))
}

/// The model of `--model` on `--device`, run by `--engine`.
fn load_model(s: &Settings) -> Result<xinsheng::model::Model, Failure> {
    let device =
        xinsheng::model::device::parse_device(&s.device).map_err(|e| usage(e.to_string()))?;
    xinsheng::model::Model::load_with_engine(&resolve_model(s.model.clone()), &device, s.engine)
        .map_err(|e| usage(e.to_string()))
}

fn load_analyzer(s: &Settings) -> Result<xinsheng::analysis::Analyzer, Failure> {
    let device =
        xinsheng::model::device::parse_device(&s.device).map_err(|e| usage(e.to_string()))?;
    let dir = resolve_model(s.model.clone());
    let mask_options = mask_options(s)?;
    let mut analyzer =
        xinsheng::analysis::Analyzer::load(&dir, &device).map_err(|e| usage(e.to_string()))?;
    analyzer.mask_options = mask_options;
    analyzer
        .model
        .set_engine(s.engine)
        .map_err(|e| usage(e.to_string()))?;
    if let Some(p) = &s.policy {
        analyzer.policy = std::sync::Arc::new(Policy::load(p).map_err(|e| usage(e.to_string()))?);
    }
    Ok(analyzer)
}

/// The policy without loading the model: `--policy`, else the model directory's, else the built-in.
fn load_policy(s: &Settings) -> Result<Policy, Failure> {
    match &s.policy {
        Some(p) => Policy::load(p),
        None => Policy::for_model_dir(&resolve_model(s.model.clone())),
    }
    .map_err(|e| usage(e.to_string()))
}

/// What a label run's journal records of the analysis: the model directory (canonical, so `models/x/` and
/// an absolute path are one model), and the engine, the risk policy's text and the PII allow list.
fn run_identity(s: &Settings, analyzer: &xinsheng::analysis::Analyzer) -> (String, String) {
    use xinsheng::batch::input::Fnv;
    let dir = resolve_model(s.model.clone());
    let model = std::fs::canonicalize(&dir)
        .unwrap_or(dir)
        .display()
        .to_string();
    let mut policy = Fnv::default();
    match std::fs::read(&analyzer.policy.source) {
        Ok(bytes) => policy.update(&bytes),
        Err(_) => policy.update(analyzer.policy.source.as_bytes()),
    }
    let mut allow_list = analyzer.mask_options.allow.clone();
    allow_list.sort();
    allow_list.dedup();
    let mut allow = Fnv::default();
    for entry in &allow_list {
        allow.update(entry.as_bytes());
        allow.update(b"\n");
    }
    let settings = format!(
        "engine {:?}, policy {:016x}, PII allow list {:016x}",
        analyzer.model.engine(),
        policy.0,
        allow.0
    );
    (model, settings)
}

/// The customer history store selected by `--database-url` / `--data-dir`.
/// The customer history as `label --customer-field` feeds it (contact time = when the row is labeled).
struct BatchHistory {
    history: History,
    policy: std::sync::Arc<Policy>,
    store_text: xinsheng::risk::history::StoreText,
}

impl xinsheng::batch::CustomerHistory for BatchHistory {
    fn record(
        &self,
        customer_id: &str,
        _date: Option<&str>,
        source: &str,
        analysis: &xinsheng::analysis::Analysis,
    ) -> Result<(), xinsheng::batch::HistoryWriteError> {
        use xinsheng::batch::HistoryWriteError;
        use xinsheng::risk::history::HistoryError;
        check_id(customer_id).map_err(|e| HistoryWriteError::BadId(e.to_string()))?;
        let contact = xinsheng::risk::history::Contact {
            source: Some(source.to_string()),
            ..analysis.contact(&self.policy, self.store_text)
        };
        self.history
            .record(customer_id, contact)
            .map(|_| ())
            .map_err(|e| match e {
                HistoryError::BadId(_) => HistoryWriteError::BadId(e.to_string()),
                _ => HistoryWriteError::Store(e.to_string()),
            })
    }
}

/// The SQLite history file when that is the store and it does not exist yet (reads then find nobody,
/// and must not create it).
fn missing_sqlite(s: &Settings) -> Option<std::path::PathBuf> {
    match Backend::choose(&s.data_dir, s.database_url.as_deref()) {
        Backend::Sqlite(path) if !path.exists() => Some(path),
        _ => None,
    }
}

fn history(s: &Settings, policy: &Policy) -> History {
    History::start(
        Backend::choose(&s.data_dir, s.database_url.as_deref()),
        policy.history.clone(),
        s.store_text,
    )
}

fn run(s: Settings) -> Result<(), Failure> {
    match &s.command {
        Command::Analyze(a) => {
            let input = match &a.text {
                Some(t) => t.clone(),
                None => {
                    let mut buf = String::new();
                    std::io::stdin()
                        .read_to_string(&mut buf)
                        .map_err(|e| {
                            usage(format!(
                                "standard input is not UTF-8 text ({e}); if it is GBK, convert it \
                                 (`iconv -f GBK -t UTF-8`), or put it in a file for `xinsheng label`, \
                                 which detects GBK, GB18030, Big5 and UTF-16"
                            ))
                        })?;
                    buf
                }
            };
            let mut request = xinsheng::analysis::Request::from_cli_input(&input).map_err(usage)?;
            if a.customer_id.is_some() {
                request.customer_id = a.customer_id.clone();
            }
            if let Some(id) = &request.customer_id {
                check_id(id).map_err(|e| usage(e.to_string()))?;
            }
            let analyzer = load_analyzer(&s)?;
            let mut analysis = analyzer
                .analyze(&request)
                .map_err(|e| usage(e.to_string()))?;
            if let Some(id) = &request.customer_id {
                let h = history(&s, &analyzer.policy);
                let state = h.record(id, analysis.contact(&analyzer.policy, s.store_text))?;
                analysis.set_customer(state, &analyzer.policy);
            }
            let out = if a.compact {
                serde_json::to_string(&analysis)?
            } else {
                serde_json::to_string_pretty(&analysis)?
            };
            out!("{out}")?;
            Ok(())
        }
        Command::Label(l) => {
            let mut analyzer = load_analyzer(&s)?;
            analyzer.batch_size = l.batch_size.max(1);
            let mut opts = xinsheng::batch::LabelOptions::new(&l.input, &l.output);
            opts.text_field = l.text_field.clone();
            opts.id_field = l.id_field.clone();
            opts.date_field = l.date_field.clone();
            opts.customer_field = l.customer_field.clone();
            opts.encoding = l.encoding.clone();
            opts.delimiter = l
                .delimiter
                .as_deref()
                .map(xinsheng::batch::parse_delimiter)
                .transpose()
                .map_err(usage)?;
            opts.sheet = l.sheet.clone();
            opts.chunk_size = l.window;
            opts.progress = !l.quiet;
            opts.restart = l.restart;
            (opts.model_id, opts.settings) = run_identity(&s, &analyzer);
            // With --customer-field every analyzed row is a contact in the customer history.
            let store = l.customer_field.as_ref().map(|_| BatchHistory {
                history: history(&s, &analyzer.policy),
                policy: analyzer.policy.clone(),
                store_text: s.store_text,
            });
            opts.history = store
                .as_ref()
                .map(|b| b as &dyn xinsheng::batch::CustomerHistory);
            let summary = xinsheng::batch::label_file(&analyzer, &opts).map_err(|e| match e {
                xinsheng::batch::BatchError::Output(_) => Failure::from(e),
                _ => usage(e.to_string()),
            })?;
            if !l.quiet {
                note!(
                    "labeled {} rows ({} analyzed, {} bad) · this run {} rows in {:.1} s ({:.0} rows/s){}",
                    summary.rows,
                    summary.analyzed,
                    summary.errors,
                    summary.rows_this_run,
                    summary.seconds,
                    summary.rows_per_second,
                    if summary.resumed_at_row > 0 {
                        format!(" · resumed after row {}", summary.resumed_at_row)
                    } else {
                        String::new()
                    }
                );
                note!("report: {}", summary.report);
                if summary.history_skipped > 0 {
                    note!(
                        "customer history: {} rows were labeled but not stored ({})",
                        summary.history_skipped,
                        summary
                            .history_note
                            .as_deref()
                            .unwrap_or("invalid customer id")
                    );
                }
            }
            note!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        Command::Train(t) => {
            let opts = train_options(t);
            let summary = train::run(&opts, t.resume, !t.quiet).map_err(|e| match e {
                train::TrainError::Usage(_) | train::TrainError::Data(_) => usage(e.to_string()),
                other => Failure::from(other),
            })?;
            out!("{}", serde_json::to_string_pretty(&summary)?)?;
            Ok(())
        }
        Command::Eval(e) => {
            let model = load_model(&s)?;
            let mut examples =
                train::data::read_examples(&e.data).map_err(|e| usage(e.to_string()))?;
            if e.mask_input {
                let options = mask_options(&s)?;
                let mut changed = 0;
                for ex in &mut examples {
                    let masked = xinsheng::text::mask_with(&ex.text, &options);
                    changed += usize::from(masked != ex.text);
                    ex.text = masked;
                }
                note!(
                    "--mask-input: PII masked in {changed} of {} texts",
                    examples.len()
                );
            }
            let Some(field) = &e.group_by else {
                let report = train::eval::evaluate(&model, &examples, e.batch_size)?;
                out!("{}", serde_json::to_string_pretty(&report)?)?;
                return Ok(());
            };
            let groups =
                train::data::read_groups(&e.data, field).map_err(|e| usage(e.to_string()))?;
            let (all, by_group) =
                train::eval::evaluate_grouped(&model, &examples, &groups, e.batch_size)?;
            let mut out = serde_json::to_value(&all)?;
            out["group_by"] = field.as_str().into();
            out["groups"] = serde_json::to_value(&by_group)?;
            out!("{}", serde_json::to_string_pretty(&out)?)?;
            Ok(())
        }
        Command::Bench(b) => {
            let model = load_model(&s)?;
            let text = std::fs::read_to_string(&b.texts)
                .map_err(|e| usage(format!("{}: {e}", b.texts.display())))?;
            let texts: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if texts.is_empty() {
                return Err(usage(format!("{}: no texts", b.texts.display())));
            }
            let report =
                xinsheng::model::bench::run(&model, &texts, b.batch_size, b.seconds, b.probs)?;
            out!("{}", serde_json::to_string_pretty(&report)?)?;
            Ok(())
        }
        Command::Serve(args) => {
            let analyzer = load_analyzer(&s)?;
            let model = resolve_model(s.model.clone());
            let h = history(&s, &analyzer.policy);
            xinsheng::server::run(analyzer, args, &model.display().to_string(), h)?;
            Ok(())
        }
        Command::Customer(c) => {
            check_id(&c.id).map_err(|e| usage(e.to_string()))?;
            // Reading must not create a store: with no SQLite file there is no customer.
            if let Some(path) = missing_sqlite(&s) {
                return Err(usage(format!(
                    "unknown customer: {} (no history at {})",
                    c.id,
                    path.display()
                )));
            }
            let policy = load_policy(&s)?;
            match history(&s, &policy).customer(&c.id)? {
                Some(state) => {
                    out!("{}", serde_json::to_string_pretty(&state)?)?;
                    Ok(())
                }
                None => Err(usage(format!("unknown customer: {}", c.id))),
            }
        }
        Command::Customers(c) => {
            if missing_sqlite(&s).is_some() {
                return Ok(());
            }
            let policy = load_policy(&s)?;
            let h = history(&s, &policy);
            let states = h.list(c.high_risk)?;
            for state in states {
                out!("{}", serde_json::to_string(&state)?)?;
            }
            Ok(())
        }
        Command::EvalRisk(e) => {
            if e.utterances.is_none() && e.conversations.is_none() {
                return Err(usage("give --utterances FILE and/or --conversations FILE"));
            }
            let mut analyzer = load_analyzer(&s)?;
            if e.rules_only {
                analyzer.escalation_model = None;
                analyzer.complaint_model = None;
            }
            let report = xinsheng::risk::eval::run(
                &analyzer,
                e.utterances.as_deref(),
                e.conversations.as_deref(),
                e.misses,
            )
            .map_err(|e| usage(e.to_string()))?;
            out!("{}", serde_json::to_string_pretty(&report)?)?;
            Ok(())
        }
        Command::TrainRisk(t) => {
            use xinsheng::risk::{fit, learned};
            if !(t.c > 0.0 && t.c.is_finite())
                || t.min_count == 0
                || t.ngram_min == 0
                || t.ngram_min > t.ngram_max
                || t.ngram_max > 8
            {
                return Err(usage(
                    "--c must be > 0, --min-count >= 1, 1 <= --ngram-min <= --ngram-max <= 8",
                ));
            }
            if t.threshold.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
                return Err(usage("--threshold must be in [0, 1]"));
            }
            if let Some(x) = t
                .signals
                .iter()
                .find(|x| !learned::SIGNALS.contains(&x.as_str()))
            {
                return Err(usage(format!(
                    "--signals: `{x}` is not one of {}",
                    learned::SIGNALS.join(", ")
                )));
            }
            let mut analyzer = load_analyzer(&s)?;
            // The rules' decisions without the model being trained; the complaint model acts after the
            // escalation model, so that one stays for it.
            analyzer.complaint_model = None;
            if t.target == fit::Target::Escalate {
                analyzer.escalation_model = None;
            }
            let mut groups = Vec::new();
            for (dir, tune_only) in t
                .data
                .iter()
                .map(|d| (d, false))
                .chain(t.tune.iter().map(|d| (d, true)))
            {
                groups.push(fit::group(dir, tune_only).map_err(|e| usage(e.to_string()))?);
            }
            let mut eval_texts = Vec::new();
            for dir in &t.exclude_near {
                eval_texts
                    .extend(fit::evaluation_texts(dir, &groups).map_err(|e| usage(e.to_string()))?);
            }
            let excluded = fit::drop_near(&mut groups, &eval_texts);
            note!(
                "{} training rows left out as copies of evaluation texts",
                excluded.len()
            );
            let opts = learned::TrainOptions {
                c: t.c,
                min_count: t.min_count,
                ngram_min: t.ngram_min,
                ngram_max: t.ngram_max,
                signals: t.signals.clone(),
                ..Default::default()
            };
            let sources: Vec<_> = t.data.iter().chain(&t.tune).cloned().collect();
            let model = fit::fit(
                &analyzer,
                &groups,
                &opts,
                t.target,
                t.threshold,
                &sources,
                &excluded,
            )
            .map_err(usage)?;
            std::fs::write(&t.output, model.to_json() + "\n")
                .map_err(|e| usage(format!("{}: {e}", t.output.display())))?;
            let cv = &model.training["cross_validation"];
            out!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "output": t.output.display().to_string(),
                    "rows": model.training["rows"],
                    "features": model.weights.len(),
                    "target": t.target,
                    "threshold": (model.threshold as f64 * 100.0).round() / 100.0,
                    "lower": model.lower.map(|x| (x as f64 * 100.0).round() / 100.0),
                    "cross_validation": cv,
                }))?
            )?;
            Ok(())
        }
        Command::TrainCategories(t) => {
            use xinsheng::train::category_ngrams::{fit, FitOptions};
            let ngrams = ngram_options(t.c, t.min_count, t.ngram_max)?;
            let model = network_model(&s)?;
            let opts = FitOptions {
                sources: t.sources.clone(),
                ngrams,
                weights: t.weights.clone(),
            };
            let fitted = fit(&model, &t.data, &opts).map_err(|e| usage(e.to_string()))?;
            let output = t
                .output
                .clone()
                .unwrap_or_else(|| model.dir.join(xinsheng::model::category_ngrams::FILE));
            let features = fitted.labels.values().map(|m| m.weights.len()).sum();
            write_ngram_file(&output, fitted.to_json(), features, &fitted.training)
        }
        Command::TrainNgrams(t) => {
            use xinsheng::train::head_ngrams::{fit, FitOptions};
            let ngrams = ngram_options(t.c, t.min_count, t.ngram_max)?;
            let model = network_model(&s)?;
            let opts = FitOptions {
                ngrams,
                weights: t.weights.clone(),
            };
            let fitted = fit(&model, &t.data, &t.head, &opts).map_err(|e| usage(e.to_string()))?;
            let output = t.output.clone().unwrap_or_else(|| {
                model
                    .dir
                    .join(xinsheng::model::head_ngrams::file_name(&t.head))
            });
            let features = fitted.labels.values().map(|m| m.weights.len()).sum();
            write_ngram_file(&output, fitted.to_json(), features, &fitted.training)
        }
        Command::Prepare(p) => {
            let mut opts = corpus_options(&p.corpus);
            opts.out = p.out.clone();
            let counts = train::prepare(&opts, &p.out).map_err(|e| usage(e.to_string()))?;
            out!("{}", serde_json::to_string_pretty(&counts)?)?;
            Ok(())
        }
    }
}

fn corpus_options(c: &CorpusArgs) -> TrainOptions {
    TrainOptions {
        data_dir: c.data.clone(),
        extra: train::data::ExtraSets {
            labeled_dir: Some(c.labeled_dir.clone()),
            weak_categories: c.weak_categories.clone(),
        },
        train_file: c.train_file.clone(),
        dev_file: c.dev_file.clone(),
        init: None,
        tokenizer_dir: c.tokenizer.clone(),
        out: PathBuf::new(),
        layers: 4,
        hidden: 256,
        attention_heads: 4,
        ffn: 1024,
        max_length: c.max_length,
        epochs: 1.0,
        max_steps: None,
        batch_size: 64,
        lr: 5e-4,
        warmup: 0.06,
        weight_decay: 0.01,
        clip_norm: 1.0,
        dropout: 0.1,
        seed: c.seed,
        checkpoint_every: 0,
        limit: c.limit,
        f16: true,
        emotion_weight: 0.5,
        ema: 0.0,
    }
}

fn train_options(t: &TrainArgs) -> TrainOptions {
    TrainOptions {
        init: t.init.clone(),
        out: t.out.clone(),
        layers: t.layers,
        hidden: t.hidden,
        attention_heads: t.attention_heads,
        ffn: t.ffn,
        epochs: t.epochs,
        max_steps: t.max_steps,
        batch_size: t.batch_size,
        lr: t.lr,
        warmup: t.warmup,
        weight_decay: t.weight_decay,
        clip_norm: t.clip_norm,
        dropout: t.dropout,
        checkpoint_every: t.checkpoint_every,
        f16: !t.f32,
        emotion_weight: t.emotion_weight,
        ema: t.ema,
        ..corpus_options(&t.corpus)
    }
}
