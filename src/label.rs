//! `xinsheng label`: a JSONL file in, the same rows out with an `analysis` (or an `error`) added, in input
//! order. Rows are read a window at a time (bounded memory); each window is analyzed as one batch, sorted by
//! length inside the model. A row that cannot be analyzed (not JSON, not an object, no text, empty text,
//! bad turns) keeps its content and gets `error`; the run never stops for one row.

use crate::analysis::{Analyzer, Request};
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{file}: {msg}")]
    Input { file: String, msg: String },
    #[error("{file}: {msg}")]
    Output { file: String, msg: String },
}

#[derive(Debug, Clone)]
pub struct LabelOptions {
    pub text_field: String,
    pub batch_size: usize,
    pub window: usize,
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct LabelSummary {
    pub rows: usize,
    pub analyzed: usize,
    pub errors: usize,
}

/// Turns one input line into a request, or says why it cannot be analyzed. The row's fields come back
/// either way (a line that is not a JSON object is kept under `raw`).
fn parse_row(line: &str, text_field: &str) -> (Map<String, Value>, Result<Request, String>) {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            let mut m = Map::new();
            m.insert("raw".into(), Value::String(line.to_string()));
            return (m, Err(format!("not valid JSON: {e}")));
        }
    };
    let Value::Object(row) = value else {
        let mut m = Map::new();
        m.insert("raw".into(), value);
        return (m, Err("row is not a JSON object".into()));
    };
    let req = if let Some(turns) = row.get("turns") {
        serde_json::from_value(turns.clone())
            .map(|t| Request {
                text: None,
                turns: Some(t),
                customer_id: None,
            })
            .map_err(|e| format!("`turns` must be a list of {{speaker, text}}: {e}"))
    } else {
        match row.get(text_field) {
            Some(Value::String(s)) => Ok(Request::text(s.clone())),
            Some(other) => Err(format!("field `{text_field}` is not a string: {other}")),
            None => Err(format!("no field `{text_field}`")),
        }
    };
    (row, req)
}

/// Labels `input` into `output`.
pub fn label_file(
    analyzer: &Analyzer,
    input: &Path,
    output: &Path,
    opts: &LabelOptions,
) -> Result<LabelSummary, LabelError> {
    let in_err = |msg: String| LabelError::Input {
        file: input.display().to_string(),
        msg,
    };
    let out_err = |e: std::io::Error| LabelError::Output {
        file: output.display().to_string(),
        msg: e.to_string(),
    };
    match input.extension().and_then(|e| e.to_str()) {
        Some("jsonl") | Some("json") | Some("ndjson") => {}
        other => {
            return Err(in_err(format!(
                "unsupported input type {:?}: use a .jsonl file",
                other.unwrap_or("")
            )))
        }
    }
    let file = std::fs::File::open(input).map_err(|e| in_err(e.to_string()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::new(file);
    let tmp = output.with_extension("jsonl.partial");
    let mut writer = BufWriter::new(std::fs::File::create(&tmp).map_err(out_err)?);
    let bar = if opts.progress {
        indicatif::ProgressBar::new(size)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {bytes}/{total_bytes} · {msg} · ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let mut summary = LabelSummary::default();
    let started = std::time::Instant::now();
    let window = opts.window.max(1);
    let mut line = Vec::new();
    let mut eof = false;
    while !eof {
        let mut rows = Vec::with_capacity(window);
        while rows.len() < window {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| in_err(e.to_string()))?;
            if n == 0 {
                eof = true;
                break;
            }
            bar.inc(n as u64);
            // Undecodable bytes make a row error, never a failed run.
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let (row, req) = if std::str::from_utf8(&line).is_err() {
                let mut m = Map::new();
                m.insert("raw".into(), Value::String(text.to_string()));
                (m, Err("line is not valid UTF-8".to_string()))
            } else {
                parse_row(text, &opts.text_field)
            };
            rows.push((row, req));
        }
        let reqs: Vec<Request> = rows
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().cloned())
            .collect();
        let mut results = analyzer.analyze_batch(&reqs).into_iter();
        for (mut row, req) in rows {
            let outcome = match req {
                Ok(_) => results
                    .next()
                    .expect("one result per request")
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(a) => {
                    summary.analyzed += 1;
                    row.insert(
                        "analysis".into(),
                        serde_json::to_value(a).expect("serializable"),
                    );
                }
                Err(e) => {
                    summary.errors += 1;
                    row.insert("error".into(), Value::String(e));
                }
            }
            summary.rows += 1;
            serde_json::to_writer(&mut writer, &row).map_err(|e| out_err(e.into()))?;
            writer.write_all(b"\n").map_err(out_err)?;
        }
        let rate = summary.rows as f64 / started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "{} rows · {rate:.0} rows/s · {} errors",
            summary.rows, summary.errors
        ));
    }
    writer.flush().map_err(out_err)?;
    drop(writer);
    std::fs::rename(&tmp, output).map_err(out_err)?;
    bar.finish();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_or_say_why() {
        let (row, req) = parse_row(r#"{"id": 1, "text": "太慢了"}"#, "text");
        assert_eq!(row["id"], 1);
        assert_eq!(req.unwrap(), Request::text("太慢了"));
        let (_, req) = parse_row(r#"{"id": 2, "content": "x"}"#, "text");
        assert!(req.unwrap_err().contains("no field `text`"));
        let (_, req) = parse_row(r#"{"text": 5}"#, "text");
        assert!(req.unwrap_err().contains("not a string"));
        let (row, req) = parse_row("{broken", "text");
        assert_eq!(row["raw"], "{broken");
        assert!(req.is_err());
        let (row, req) = parse_row("[1,2]", "text");
        assert_eq!(row["raw"], serde_json::json!([1, 2]));
        assert!(req.is_err());
        let (_, req) = parse_row(
            r#"{"turns": [{"speaker": "customer", "text": "在吗"}]}"#,
            "text",
        );
        assert!(req.unwrap().turns.is_some());
        let (_, req) = parse_row(r#"{"turns": "nope"}"#, "text");
        assert!(req.unwrap_err().contains("turns"));
    }
}
