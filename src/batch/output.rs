//! Writers. A chunk of labeled rows is formatted into one byte buffer, appended to the output and
//! fsync'd before the journal records it, so the journal's byte offset always ends on a whole row.
//!
//! `.jsonl`: the input row's fields unchanged, plus `analysis` (the contract) or `error`.
//! `.csv`: UTF-8 with a BOM (Excel opens it right), the input columns, then [`ANALYSIS_COLUMNS`]; a text
//! cell a spreadsheet would run as a formula gets a leading `'` ([`csv_safe`]).

use super::input::extension;
use super::BatchError;
use serde_json::{Map, Value};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Csv,
}

impl OutputFormat {
    pub fn from_path(path: &Path) -> Result<Self, BatchError> {
        match extension(path).as_str() {
            "jsonl" | "json" | "ndjson" => Ok(Self::Jsonl),
            "csv" => Ok(Self::Csv),
            ext => Err(BatchError::Usage(format!(
                "{}: unsupported output type {ext:?}; use .jsonl or .csv",
                path.display()
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
        }
    }
}

/// The flattened analysis, after the input columns of a CSV output. Lists are joined with `;`.
pub const ANALYSIS_COLUMNS: &[&str] = &[
    "sentiment",
    "sentiment_score",
    "emotion",
    "categories",
    "escalate",
    "priority",
    "risk_score",
    "reasons",
    "keywords",
    "masked_text",
    "error",
];

/// A CSV cell as written: a text starting with `=`, `+`, `-`, `@`, a tab or a carriage return (what Excel
/// and LibreOffice run as a formula: `=HYPERLINK(…)`, `@SUM(…)`) gets a leading `'` (OWASP's advice on CSV
/// injection), and so does one that already starts with `'`s before such a character, so [`csv_unsafe`]
/// gives back the text exactly. A number stays a number: `-0.5` and `+86` are left alone.
pub fn csv_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s
        .trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !s.parse::<f64>().is_ok_and(f64::is_finite) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The text of a CSV cell [`csv_safe`] wrote.
pub fn csv_unsafe(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest)
            if rest
                .trim_start_matches('\'')
                .starts_with(['=', '+', '-', '@', '\t', '\r']) =>
        {
            rest
        }
        _ => s,
    }
}

/// A labeled row: the input fields plus `analysis` or `error` (JSONL shape).
pub type Labeled = Map<String, Value>;

/// A cell of a CSV output: strings as they are, null as empty, anything else as JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn join(v: Option<&Value>, key: Option<&str>) -> String {
    let Some(Value::Array(items)) = v else {
        return String::new();
    };
    items
        .iter()
        .map(|i| match key {
            Some(k) => cell(i.get(k)),
            None => cell(Some(i)),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The flattened analysis columns of one labeled row.
pub fn flatten(row: &Labeled) -> Vec<String> {
    let a = row.get("analysis");
    let get = |path: &[&str]| {
        let mut v = a?;
        for p in path {
            v = v.get(*p)?;
        }
        Some(v)
    };
    vec![
        cell(get(&["sentiment", "label"])),
        cell(get(&["sentiment", "score"])),
        cell(get(&["emotion", "label"])),
        join(get(&["categories"]), Some("label")),
        cell(get(&["risk", "escalate"])),
        cell(get(&["risk", "priority"])),
        get(&["risk", "score"])
            .and_then(Value::as_f64)
            .map(|x| format!("{}", (x * 10_000.0).round() / 10_000.0))
            .unwrap_or_default(),
        join(get(&["risk", "reasons"]), None),
        join(get(&["keywords"]), None),
        cell(get(&["masked_text"])),
        cell(row.get("error")),
    ]
}

/// Formats rows for one output format; `columns` are the input columns of a CSV output.
pub struct Formatter {
    pub format: OutputFormat,
    pub columns: Vec<String>,
}

impl Formatter {
    /// The bytes that start a fresh output (a CSV header, with BOM).
    pub fn header(&self) -> Result<Vec<u8>, BatchError> {
        match self.format {
            OutputFormat::Jsonl => Ok(Vec::new()),
            OutputFormat::Csv => {
                let mut buf = b"\xEF\xBB\xBF".to_vec();
                let mut w = csv::WriterBuilder::new().from_writer(&mut buf);
                let mut names: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| csv_safe(c).into_owned())
                    .collect();
                names.extend(ANALYSIS_COLUMNS.iter().map(|c| c.to_string()));
                w.write_record(&names).map_err(csv_err)?;
                w.flush().map_err(|e| BatchError::Output(e.to_string()))?;
                drop(w);
                Ok(buf)
            }
        }
    }

    /// Appends `rows` to `buf`.
    pub fn write_rows(&self, rows: &[Labeled], buf: &mut Vec<u8>) -> Result<(), BatchError> {
        match self.format {
            OutputFormat::Jsonl => {
                for row in rows {
                    serde_json::to_writer(&mut *buf, row)
                        .map_err(|e| BatchError::Output(e.to_string()))?;
                    buf.push(b'\n');
                }
            }
            OutputFormat::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(&mut *buf);
                for row in rows {
                    let mut record: Vec<String> =
                        self.columns.iter().map(|c| cell(row.get(c))).collect();
                    record.extend(flatten(row));
                    w.write_record(record.iter().map(|c| csv_safe(c).into_owned()))
                        .map_err(csv_err)?;
                }
                w.flush().map_err(|e| BatchError::Output(e.to_string()))?;
            }
        }
        Ok(())
    }
}

fn csv_err(e: csv::Error) -> BatchError {
    BatchError::Output(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_rows_flatten_the_analysis() {
        let f = Formatter {
            format: OutputFormat::Csv,
            columns: vec!["id".into(), "内容".into()],
        };
        let row = json!({"id": "7", "内容": "太慢了, 真的", "analysis": {
            "sentiment": {"label": "negative", "score": 0.9},
            "emotion": {"label": "anger", "score": 0.5},
            "categories": [{"label": "process", "score": 0.8}, {"label": "price", "score": 0.6}],
            "risk": {"escalate": true, "priority": "B", "score": 0.7, "reasons": ["anger", "repeat_contact"]},
            "keywords": ["慢", "真的"], "masked_text": "太慢了, 真的"}});
        let mut buf = f.header().unwrap();
        f.write_rows(&[row.as_object().unwrap().clone()], &mut buf)
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "\u{feff}id,内容,sentiment,sentiment_score,emotion,categories,escalate,priority,risk_score,reasons,keywords,masked_text,error"
        );
        assert_eq!(
            lines.next().unwrap(),
            "7,\"太慢了, 真的\",negative,0.9,anger,process;price,true,B,0.7,anger;repeat_contact,慢;真的,\"太慢了, 真的\","
        );
        let bad = json!({"id": "8", "error": "text is empty"});
        let mut buf = Vec::new();
        f.write_rows(&[bad.as_object().unwrap().clone()], &mut buf)
            .unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "8,,,,,,,,,,,,text is empty\n"
        );
        assert!(OutputFormat::from_path(Path::new("x.xlsx")).is_err());
        // Formulas are neutralised, numbers are not, and the report reads the text back exactly.
        for (text, cell) in [
            (
                "=HYPERLINK(\"http://evil.example\")",
                "'=HYPERLINK(\"http://evil.example\")",
            ),
            ("+1+1 退款太慢", "'+1+1 退款太慢"),
            ("@SUM(1,1)", "'@SUM(1,1)"),
            ("-", "'-"),
            ("\t=1", "'\t=1"),
            ("'=1", "''=1"),
            ("'引号", "'引号"),
            ("-0.5", "-0.5"),
            ("+86", "+86"),
            ("1e3", "1e3"),
            ("-inf", "'-inf"),
            ("好评 =1", "好评 =1"),
        ] {
            assert_eq!(csv_safe(text), cell, "{text:?}");
            assert_eq!(csv_unsafe(cell), text, "{cell:?}");
        }
        let row = json!({"id": "-3", "内容": "=1+1", "analysis": {"masked_text": "=1+1", "keywords": ["-", "=x"]}});
        let mut buf = Vec::new();
        f.write_rows(&[row.as_object().unwrap().clone()], &mut buf)
            .unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "-3,'=1+1,,,,,,,,,'-;=x,'=1+1,\n"
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("x.CSV")).unwrap(),
            OutputFormat::Csv
        );
    }
}
