//! Batch labeling (`xinsheng label`): a `.jsonl`, `.csv` or `.xlsx` file in, the same rows out (`.jsonl` or
//! `.csv`) with an `analysis` or an `error` each, in input order, plus `<output>.summary.json` and a
//! self-contained `<output>.report.html`.
//!
//! The path of a run, top to bottom:
//! 1. [`input::scan`] reads the input once (size, content hash; for CSV the encoding evidence), the reader
//!    opens (delimiter sniffed, header read) and the first chunk is read to find the text field.
//! 2. The [`journal`] decides: fresh start, resume (output cut back to the journaled byte offset, rows
//!    already done skipped), already complete, or refusal (different input or options; `--restart`).
//! 3. Chunks of `chunk_size` rows: requests are built, [`Analyzer::analyze_batch`] prepares them on all
//!    cores (rayon), runs the model once over the chunk's texts (length-sorted batches) and finishes them
//!    on all cores; the chunk is written in input order, fsync'd, then journaled.
//! 4. [`report`] reads the finished output once for the summary and the HTML report.
//!
//! Bad rows (broken lines, undecodable bytes, empty or non-text values, missing fields) keep their fields
//! and get `error`; a run stops only when a file cannot be read or written.

pub mod input;
pub mod journal;
pub mod output;
pub mod progress;
pub mod report;

use crate::analysis::{Analysis, Analyzer, Request, Turn};
use crate::json_object::Object;
use input::{InputFormat, RawRow, RowSource};
use journal::{Fingerprint, Journal};
use output::{Formatter, Labeled, OutputFormat};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Bad flags, an unsupported file type, a journal that belongs to another run: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The input cannot be read at all (bad rows are never this): exit code 2.
    #[error("{0}")]
    Input(String),
    /// The output, journal or report cannot be written: exit code 1.
    #[error("{0}")]
    Output(String),
}

impl BatchError {
    pub(crate) fn input(path: &Path, e: std::io::Error) -> Self {
        BatchError::Input(format!("{}: {e}", path.display()))
    }
}

/// The place where labeled rows meet the customer history store.
///
/// When `--customer-field` is given, every analyzed row with a non-empty customer id is passed here.
/// `source` names the row (`label:<input hash>:<row number>`): a row labeled again after a resume (it was
/// analyzed, but the run was killed before the journal recorded it) comes with the same source, and the
/// store keeps the contact once. `main.rs` passes the history store as `LabelOptions::history`.
pub trait CustomerHistory: Sync {
    fn record(
        &self,
        customer_id: &str,
        date: Option<&str>,
        source: &str,
        analysis: &Analysis,
    ) -> Result<(), HistoryWriteError>;
}

/// Why a contact was not stored.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryWriteError {
    /// The row's customer id is not a valid id: the row is labeled, the contact is not stored, and the
    /// summary counts it (`history_skipped`).
    BadId(String),
    /// The store failed (cannot be opened or written): the run stops with exit code 1 and resumes later.
    Store(String),
}

pub struct LabelOptions<'a> {
    pub input: PathBuf,
    pub output: PathBuf,
    /// The text column; `None` detects it ([`input::TEXT_FIELD_NAMES`]).
    pub text_field: Option<String>,
    pub id_field: Option<String>,
    pub date_field: Option<String>,
    pub customer_field: Option<String>,
    /// Force a CSV encoding (`gbk`, `gb18030`, `utf-8`, …) instead of detecting it.
    pub encoding: Option<String>,
    /// Force a CSV delimiter instead of sniffing it.
    pub delimiter: Option<u8>,
    /// The xlsx sheet (default: the first).
    pub sheet: Option<String>,
    /// Rows read, analyzed, written and journaled at a time.
    pub chunk_size: usize,
    pub progress: bool,
    /// Ignore (and replace) a journal of an earlier run.
    pub restart: bool,
    /// Names the model in the journal (a different model is a different run).
    pub model_id: String,
    /// Names the other things that decide an analysis — engine, risk policy, PII allow list — in the journal
    /// (different settings are a different run).
    pub settings: String,
    pub history: Option<&'a dyn CustomerHistory>,
}

impl LabelOptions<'_> {
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        Self {
            input: input.into(),
            output: output.into(),
            text_field: None,
            id_field: None,
            date_field: None,
            customer_field: None,
            encoding: None,
            delimiter: None,
            sheet: None,
            chunk_size: 1024,
            progress: false,
            restart: false,
            model_id: String::new(),
            settings: String::new(),
            history: None,
        }
    }
}

/// Parses `--delimiter`: one ASCII character, or `tab`.
pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!(
            "delimiter must be one ASCII character or `tab`, not {s:?}"
        )),
    }
}

/// The request for one row: in a JSONL input (`conversations`) a `turns` field makes a conversation;
/// otherwise the text field must hold text (a CSV or XLSX column named `turns` is an ordinary column).
pub fn request_for(
    fields: &Map<String, Value>,
    text_field: &str,
    conversations: bool,
) -> Result<Request, String> {
    if let Some(turns) = fields.get("turns").filter(|_| conversations) {
        return serde_json::from_value::<Vec<Object<Turn>>>(turns.clone())
            .map(|t| Request {
                text: None,
                turns: Some(t.into_iter().map(|Object(t)| t).collect()),
                customer_id: None,
            })
            .map_err(|e| format!("`turns` must be a list of {{speaker, text}}: {e}"));
    }
    match fields.get(text_field) {
        Some(Value::String(s)) => Ok(Request::text(s.clone())),
        Some(Value::Null) => Err("text is empty".into()),
        Some(Value::Object(o)) if o.contains_key("cell_error") => Err(format!(
            "spreadsheet error cell {} in field `{text_field}`",
            o["cell_error"]
        )),
        // The value is not echoed: a number in a text column is often a phone or an id number.
        Some(other) => Err(format!(
            "non-text value ({}) in field `{text_field}`",
            match other {
                Value::Number(_) => "a number",
                Value::Bool(_) => "true or false",
                Value::Array(_) => "a list",
                _ => "an object",
            }
        )),
        None => Err(format!("no field `{text_field}`")),
    }
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

/// Rows come from the peeked first chunk, then from the source.
struct Rows {
    source: Box<dyn RowSource>,
    peeked: VecDeque<RawRow>,
}

impl Rows {
    fn next(&mut self) -> Result<Option<RawRow>, BatchError> {
        match self.peeked.pop_front() {
            Some(r) => Ok(Some(r)),
            None => self.source.next_row(),
        }
    }

    fn chunk(&mut self, n: usize) -> Result<Vec<RawRow>, BatchError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.next()? {
                Some(r) => out.push(r),
                None => break,
            }
        }
        Ok(out)
    }
}

/// What every chunk of one run shares.
struct Run<'a> {
    text_field: String,
    /// A JSONL input: rows with `turns` are conversations.
    conversations: bool,
    /// Output names an input field must not take ([`reserved_names`]).
    reserved: &'static [&'static str],
    /// Size and hash of the input: names it in the history sources.
    input_name: String,
    opts: &'a LabelOptions<'a>,
    /// Rows of this run whose customer id could not be stored, and the first reason.
    history_skipped: std::cell::Cell<u64>,
    history_note: std::cell::RefCell<Option<String>>,
}

/// The names the output adds to a row: `analysis` and `error` in JSONL, the analysis columns in CSV.
fn reserved_names(format: OutputFormat) -> &'static [&'static str] {
    match format {
        OutputFormat::Jsonl => &["analysis", "error"],
        OutputFormat::Csv => output::ANALYSIS_COLUMNS,
    }
}

/// An input field's name in the output: a name the output adds itself gets an `input_` prefix (as many
/// as it takes to be free), so the input's `error` column and the output's `error` never collide.
fn output_name(name: &str, reserved: &[&str], taken: impl Fn(&str) -> bool) -> String {
    if !reserved.contains(&name) {
        return name.to_string();
    }
    let mut n = format!("input_{name}");
    while taken(&n) || reserved.contains(&n.as_str()) {
        n = format!("input_{n}");
    }
    n
}

/// Input columns as the output names them ([`output_name`]).
fn output_columns(columns: &[String], reserved: &[&str]) -> Vec<String> {
    columns
        .iter()
        .map(|c| output_name(c, reserved, |n| columns.iter().any(|c| c == n)))
        .collect()
}

/// Labels one chunk: one `analyze_batch` over the rows that have a request; output in input order.
/// `first_row` is the 0-based number of the chunk's first row. Fails only when the customer history store
/// does.
fn label_chunk(
    analyzer: &Analyzer,
    rows: Vec<RawRow>,
    first_row: u64,
    run: &Run<'_>,
) -> Result<Vec<Labeled>, BatchError> {
    let opts = run.opts;
    let input_name = &run.input_name;
    let requests: Vec<Result<Request, String>> = rows
        .iter()
        .map(|r| match &r.problem {
            Some(p) => Err(p.clone()),
            None => request_for(&r.fields, &run.text_field, run.conversations),
        })
        .collect();
    let ok: Vec<Request> = requests
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let mut results = analyzer.analyze_batch(&ok).into_iter();
    rows.into_iter()
        .zip(requests)
        .zip(first_row..)
        .map(|((row, req), row_number)| {
            let mut fields = row.fields;
            if fields.keys().any(|k| run.reserved.contains(&k.as_str())) {
                let original = std::mem::take(&mut fields);
                for (k, v) in &original {
                    let name = output_name(k, run.reserved, |n| original.contains_key(n));
                    fields.insert(name, v.clone());
                }
            }
            let outcome = match req {
                Ok(_) => results
                    .next()
                    .expect("one result per request")
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(a) => {
                    if let (Some(h), Some(cf)) = (opts.history, opts.customer_field.as_deref()) {
                        if let Some(customer) = text_of(fields.get(cf)) {
                            let date = opts
                                .date_field
                                .as_deref()
                                .and_then(|d| text_of(fields.get(d)));
                            let source = format!("label:{input_name}:{row_number}");
                            match h.record(&customer, date.as_deref(), &source, &a) {
                                Ok(()) => {}
                                Err(HistoryWriteError::BadId(e)) => {
                                    run.history_skipped.set(run.history_skipped.get() + 1);
                                    run.history_note.borrow_mut().get_or_insert_with(|| {
                                        format!("row {}: {e}", row_number + 1)
                                    });
                                }
                                Err(HistoryWriteError::Store(e)) => {
                                    return Err(BatchError::Output(format!(
                                        "customer history: {e} (the rows labeled so far are kept; \
                                         run the same command again to resume)"
                                    )));
                                }
                            }
                        }
                    }
                    fields.insert(
                        "analysis".into(),
                        serde_json::to_value(a).expect("serializable"),
                    );
                }
                Err(e) => {
                    // A message may quote the input (a `turns` value serde could not read): PII masked,
                    // as everywhere xinsheng writes text itself.
                    fields.insert("error".into(), Value::String(analyzer.mask(&e)));
                }
            }
            Ok(fields)
        })
        .collect()
}

/// What a run did: this run's figures, and the whole output's figures ([`report::Stats`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub input: String,
    pub output: String,
    pub report: String,
    pub rows: u64,
    pub analyzed: u64,
    pub errors: u64,
    pub error_kinds: std::collections::BTreeMap<String, u64>,
    /// Rows that were already done when this run started (resume).
    pub resumed_at_row: u64,
    pub rows_this_run: u64,
    /// Rows of this run labeled but not stored in the customer history (an invalid customer id).
    pub history_skipped: u64,
    /// Why, for the first of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_note: Option<String>,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub text_field: String,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub sentiment: std::collections::BTreeMap<String, u64>,
    pub categories: std::collections::BTreeMap<String, u64>,
    pub priority: std::collections::BTreeMap<String, u64>,
    pub escalated: u64,
    pub reasons: std::collections::BTreeMap<String, u64>,
}

/// The line printed at the start of a run (unless `--quiet`): which column is read as the text, and why.
fn text_field_note(given: bool, text_field: &str, columns: &[String]) -> String {
    if given {
        return format!("text column: {text_field:?} (--text-field)");
    }
    let others: Vec<String> = input::text_field_candidates(columns)
        .into_iter()
        .filter(|(_, c)| c != text_field)
        .map(|(_, c)| format!("{c:?}"))
        .collect();
    if !columns.iter().any(|c| c == text_field) {
        return format!(
            "text column: {text_field:?} (the default: no field of the first rows has a text-like name; \
             choose one with --text-field)"
        );
    }
    format!(
        "text column: {text_field:?} (found by its name{}; choose another with --text-field)",
        if others.is_empty() {
            String::new()
        } else {
            format!("; passed over: {}", others.join(", "))
        }
    )
}

/// Whether two paths name one file: the same spelling, or (when both exist) the same file by another name —
/// `./x.csv`, an absolute path, a symbolic link or a hard link.
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(ma), Ok(mb)) => {
            use std::os::unix::fs::MetadataExt;
            ma.dev() == mb.dev() && ma.ino() == mb.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(ca), Ok(cb)) => ca == cb,
            _ => false,
        },
        _ => false,
    }
}

fn out_err(path: &Path) -> impl Fn(std::io::Error) -> BatchError + '_ {
    move |e| BatchError::Output(format!("{}: {e}", path.display()))
}

/// Labels `opts.input` into `opts.output` (resuming an interrupted run), then writes the summary and the
/// report.
pub fn label_file(analyzer: &Analyzer, opts: &LabelOptions<'_>) -> Result<Summary, BatchError> {
    let started = std::time::Instant::now();
    let in_format = InputFormat::from_path(&opts.input)?;
    let out_format = OutputFormat::from_path(&opts.output)?;
    if same_file(&opts.input, &opts.output) {
        return Err(BatchError::Usage(format!(
            "--input {} and --output {} are the same file; labeling it would overwrite the input",
            opts.input.display(),
            opts.output.display()
        )));
    }
    let chunk_size = opts.chunk_size.max(1);

    // 1. Scan and open the input.
    // A CSV output of a JSONL input has a column for every field of the file, not only the first chunk's.
    let all_keys = in_format == InputFormat::Jsonl && out_format == OutputFormat::Csv;
    let scan = input::scan(&opts.input, in_format, all_keys)?;
    let mut encoding = None;
    let mut delimiter = None;
    let source: Box<dyn RowSource> = match in_format {
        InputFormat::Jsonl => Box::new(input::JsonlSource::open(&opts.input, scan.size)?),
        InputFormat::Csv => {
            let enc = input::choose_encoding(opts.encoding.as_deref(), &scan)?;
            let (src, d) = input::CsvSource::open(&opts.input, enc, opts.delimiter, scan.size)?;
            encoding = Some(enc.name().to_string());
            delimiter = Some(if d == b'\t' {
                "tab".to_string()
            } else {
                (d as char).to_string()
            });
            Box::new(src)
        }
        InputFormat::Xlsx => Box::new(input::XlsxSource::open(&opts.input, opts.sheet.as_deref())?),
    };
    let mut rows = Rows {
        source,
        peeked: VecDeque::new(),
    };
    let first = rows.chunk(chunk_size)?;
    let (columns, strict) = if in_format == InputFormat::Jsonl {
        let mut cols: Vec<String> = Vec::new();
        for r in first.iter().filter(|r| r.problem.is_none()) {
            for k in r.fields.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
        (cols, false)
    } else {
        (rows.source.columns().to_vec(), true)
    };
    let text_field = input::resolve_text_field(opts.text_field.as_deref(), &columns, strict)?;
    if in_format == InputFormat::Jsonl {
        // A JSONL file has no header: a text field in no text row of the first chunk is a typo (or the
        // wrong file), refused as a CSV or xlsx column that does not exist is, not a file of errors.
        let mut texts = first
            .iter()
            .filter(|r| r.problem.is_none() && !r.fields.contains_key("turns"));
        let some = texts.clone().next().is_some();
        if some && !texts.any(|r| r.fields.contains_key(&text_field)) {
            return Err(BatchError::Usage(match &opts.text_field {
                Some(f) => format!(
                    "--text-field {f:?} is in none of the first {} rows; the fields there are {columns:?}",
                    first.len()
                ),
                None => format!(
                    "no text field found among the fields of the first {} rows, {columns:?}; name it \
                     with --text-field",
                    first.len()
                ),
            }));
        }
    }
    rows.peeked.extend(first);
    if opts.progress {
        eprintln!(
            "{}",
            text_field_note(opts.text_field.is_some(), &text_field, &columns)
        );
    }
    for (flag, f) in [
        ("--id-field", &opts.id_field),
        ("--date-field", &opts.date_field),
        ("--customer-field", &opts.customer_field),
    ] {
        if let Some(f) = f {
            if strict && !columns.contains(f) {
                return Err(BatchError::Usage(format!(
                    "{flag} {f:?} is not a column; the columns are {columns:?}"
                )));
            }
        }
    }

    // 2. Fresh start, resume, done, or refuse.
    let fingerprint = Fingerprint {
        input_size: scan.size,
        input_hash: format!("{:016x}", scan.hash),
        input_format: in_format.name().into(),
        output_format: out_format.name().into(),
        encoding: encoding.clone(),
        delimiter: delimiter.clone(),
        sheet: opts.sheet.clone(),
        text_field: text_field.clone(),
        id_field: opts.id_field.clone(),
        date_field: opts.date_field.clone(),
        customer_field: opts.customer_field.clone(),
        model: opts.model_id.clone(),
        settings: opts.settings.clone(),
    };
    let journal_path = journal::path_for(&opts.output);
    let previous = if opts.restart {
        None
    } else {
        Journal::load(&journal_path)?
    };
    let output_len = std::fs::metadata(&opts.output).map(|m| m.len()).ok();
    let previous = match (previous, output_len) {
        (Some(j), Some(len)) => {
            if j.version != journal::VERSION || j.fingerprint != fingerprint {
                let diff = if j.version != journal::VERSION {
                    vec!["journal version"]
                } else {
                    j.fingerprint.differences(&fingerprint)
                };
                return Err(BatchError::Usage(format!(
                    "{} belongs to an earlier run with a different {}; rerun with --restart to \
                     start over (or write to another --output)",
                    opts.output.display(),
                    diff.join(", ")
                )));
            }
            if len < j.output_bytes {
                return Err(BatchError::Usage(format!(
                    "{} is shorter ({len} bytes) than its journal says ({} bytes); it was changed \
                     by something else — rerun with --restart",
                    opts.output.display(),
                    j.output_bytes
                )));
            }
            Some(j)
        }
        // A journal without its output: nothing to resume.
        _ => None,
    };

    if let Some(j) = &previous {
        if in_format == InputFormat::Jsonl && !j.blank_lines_are_rows && scan.blank_lines > 0 {
            return Err(BatchError::Usage(format!(
                "{} was started by an earlier xinsheng that skipped blank lines; the input has {} \
                 blank lines, which are now rows (error `empty line`, so output line N is input line N) \
                 — rerun with --restart",
                opts.output.display(),
                scan.blank_lines
            )));
        }
    }
    let reserved = reserved_names(out_format);
    let columns = if all_keys { &scan.keys } else { &columns };
    let expected_columns = output_columns(columns, reserved);
    if let Some(j) = &previous {
        if out_format == OutputFormat::Csv && j.columns != expected_columns {
            let missing: Vec<&String> = expected_columns
                .iter()
                .filter(|c| !j.columns.contains(c))
                .collect();
            return Err(BatchError::Usage(format!(
                "{} was started by an earlier xinsheng that wrote only the fields of the first chunk as \
                 columns; the input has more ({missing:?}), which that output would drop — rerun with \
                 --restart",
                opts.output.display()
            )));
        }
    }
    let formatter_columns = previous
        .as_ref()
        .map(|j| j.columns.clone())
        .unwrap_or(expected_columns);
    let formatter = Formatter {
        format: out_format,
        columns: formatter_columns,
    };
    let mut journal = match previous {
        Some(j) => j,
        None => {
            let header = formatter.header()?;
            // An output without a journal was not written by a run of this command (or holds nothing but
            // the header of one killed before its first journal): never overwrite it unasked.
            if !opts.restart && output_len.is_some_and(|n| n > 0) && !journal_path.exists() {
                let ours = output_len == Some(header.len() as u64)
                    && std::fs::read(&opts.output).is_ok_and(|b| b == header);
                if !ours {
                    return Err(BatchError::Usage(format!(
                        "{} already exists and no run of `xinsheng label` wrote it (there is no {}); \
                         rerun with --restart to overwrite it, or choose another --output",
                        opts.output.display(),
                        journal_path.display()
                    )));
                }
            }
            let mut f = std::fs::File::create(&opts.output).map_err(out_err(&opts.output))?;
            f.write_all(&header).map_err(out_err(&opts.output))?;
            f.sync_all().map_err(out_err(&opts.output))?;
            journal::sync_dir(&opts.output);
            let j = Journal {
                version: journal::VERSION,
                fingerprint,
                rows_done: 0,
                output_bytes: header.len() as u64,
                columns: formatter.columns.clone(),
                complete: false,
                blank_lines_are_rows: true,
            };
            j.store(&journal_path)?;
            j
        }
    };
    let resumed_at_row = journal.rows_done;
    let mut rows_this_run = 0u64;
    let (mut history_skipped, mut history_note) = (0u64, None);

    // 3. Label chunk by chunk.
    if !journal.complete {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .open(&opts.output)
            .map_err(out_err(&opts.output))?;
        out.set_len(journal.output_bytes)
            .map_err(out_err(&opts.output))?;
        out.seek(SeekFrom::Start(journal.output_bytes))
            .map_err(out_err(&opts.output))?;
        for _ in 0..journal.rows_done {
            if rows.next()?.is_none() {
                return Err(BatchError::Usage(format!(
                    "{}: the journal says {} rows are done but the input has fewer; rerun with --restart",
                    opts.output.display(),
                    journal.rows_done
                )));
            }
        }
        let bar = progress::Progress::new(
            opts.progress,
            rows.source.total(),
            in_format == InputFormat::Xlsx,
            journal.rows_done,
        );
        bar.update(rows.source.position(), journal.rows_done, 0);
        let mut errors_this_run = 0u64;
        let mut buf = Vec::new();
        let run = Run {
            text_field: text_field.clone(),
            conversations: in_format == InputFormat::Jsonl,
            reserved,
            input_name: format!(
                "{}-{}",
                journal.fingerprint.input_size, journal.fingerprint.input_hash
            ),
            opts,
            history_skipped: std::cell::Cell::new(0),
            history_note: std::cell::RefCell::new(None),
        };
        loop {
            let chunk = rows.chunk(chunk_size)?;
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len() as u64;
            let labeled = label_chunk(analyzer, chunk, journal.rows_done, &run)?;
            errors_this_run += labeled.iter().filter(|r| r.contains_key("error")).count() as u64;
            buf.clear();
            formatter.write_rows(&labeled, &mut buf)?;
            out.write_all(&buf).map_err(out_err(&opts.output))?;
            out.sync_data().map_err(out_err(&opts.output))?;
            journal.rows_done += n;
            journal.output_bytes += buf.len() as u64;
            journal.store(&journal_path)?;
            rows_this_run += n;
            bar.update(rows.source.position(), journal.rows_done, errors_this_run);
        }
        journal.complete = true;
        journal.store(&journal_path)?;
        bar.finish();
        history_skipped = run.history_skipped.get();
        history_note = run.history_note.take();
    }

    // 4. Summary and report from the whole output.
    let stats = report::Stats::from_output(
        &opts.output,
        out_format,
        opts.id_field.as_deref(),
        opts.date_field.as_deref(),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let report_path = journal::sibling(&opts.output, "report.html");
    let summary = Summary {
        input: opts.input.display().to_string(),
        output: opts.output.display().to_string(),
        report: report_path.display().to_string(),
        rows: stats.rows,
        analyzed: stats.analyzed,
        errors: stats.errors,
        error_kinds: stats.error_kinds.clone(),
        resumed_at_row,
        rows_this_run,
        history_skipped,
        history_note,
        seconds: (seconds * 1000.0).round() / 1000.0,
        rows_per_second: (rows_this_run as f64 / seconds.max(1e-9) * 10.0).round() / 10.0,
        text_field,
        encoding,
        delimiter,
        sentiment: stats.sentiment.clone(),
        categories: stats.categories.clone(),
        priority: stats.priority.clone(),
        escalated: stats.escalated,
        reasons: stats.reasons.clone(),
    };
    let summary_path = journal::sibling(&opts.output, "summary.json");
    std::fs::write(
        &summary_path,
        serde_json::to_vec_pretty(&summary).expect("serializable"),
    )
    .map_err(out_err(&summary_path))?;
    std::fs::write(&report_path, report::html(&stats, &summary)).map_err(out_err(&report_path))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn input_fields_never_take_an_output_name() {
        let reserved = reserved_names(OutputFormat::Csv);
        let cols: Vec<String> = ["id", "error", "sentiment", "input_sentiment"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            output_columns(&cols, reserved),
            [
                "id",
                "input_error",
                "input_input_sentiment",
                "input_sentiment"
            ]
        );
        let jsonl = reserved_names(OutputFormat::Jsonl);
        assert_eq!(output_name("analysis", jsonl, |_| false), "input_analysis");
        assert_eq!(output_name("sentiment", jsonl, |_| false), "sentiment");
    }

    #[test]
    fn requests_come_from_text_or_turns() {
        assert_eq!(
            request_for(&obj(json!({"内容": "太慢"})), "内容", true).unwrap(),
            Request::text("太慢")
        );
        assert_eq!(
            request_for(&obj(json!({"内容": 13712345678u64})), "内容", true).unwrap_err(),
            "non-text value (a number) in field `内容`",
            "the value is not echoed"
        );
        assert_eq!(
            request_for(&obj(json!({"内容": null})), "内容", true).unwrap_err(),
            "text is empty"
        );
        assert!(request_for(&obj(json!({"a": "x"})), "text", true)
            .unwrap_err()
            .contains("no field `text`"));
        let conv = json!({"turns": [{"speaker": "customer", "text": "在吗"}]});
        assert!(request_for(&obj(conv.clone()), "text", true)
            .unwrap()
            .turns
            .is_some());
        assert!(request_for(&obj(json!({"turns": "x"})), "text", true)
            .unwrap_err()
            .contains("turns"));
        // A turn is an object, not a [speaker, text] pair read by position.
        let e =
            request_for(&obj(json!({"turns": [["customer", "在吗"]]})), "text", true).unwrap_err();
        assert!(e.contains("a JSON object"), "{e}");
        // A spreadsheet error cell (what the xlsx reader makes of `#DIV/0!`) is not text.
        let e = request_for(&obj(json!({"t": {"cell_error": "#DIV/0!"}})), "t", false).unwrap_err();
        assert_eq!(e, "spreadsheet error cell \"#DIV/0!\" in field `t`");
        assert_eq!(report::error_kind(&e), "error_cell");
        // A `turns` column of a CSV or XLSX input is an ordinary column.
        let row = obj(json!({"turns": "3", "text": "太慢"}));
        assert_eq!(
            request_for(&row, "text", false).unwrap(),
            Request::text("太慢")
        );
        assert!(request_for(&obj(conv), "text", false).is_err());
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter("ab").is_err());
    }
}
