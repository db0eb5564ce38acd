//! The resume journal, `<output>.journal`: which input and options the output belongs to, how many input
//! rows are done and how many output bytes hold them. It is replaced atomically (write a temporary file,
//! fsync, rename, fsync the directory) after the output bytes it describes are fsync'd, so after a crash
//! or SIGKILL the journal never claims more than the output holds; the output is cut back to the journaled
//! offset and the run continues with the next row.

use super::BatchError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const VERSION: u32 = 1;

/// Everything that decides the output's content. A different fingerprint means a different run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fingerprint {
    pub input_size: u64,
    pub input_hash: String,
    pub input_format: String,
    pub output_format: String,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    pub text_field: String,
    pub id_field: Option<String>,
    pub date_field: Option<String>,
    pub customer_field: Option<String>,
    /// The model directory (canonical path).
    pub model: String,
    /// What else decides an analysis: the engine, the risk policy's text, the PII allow list
    /// ([`LabelOptions::settings`](super::LabelOptions::settings)). Empty in journals written before it
    /// was recorded.
    #[serde(default)]
    pub settings: String,
}

impl Fingerprint {
    /// Names the differences from `other`, for the refusal message.
    pub fn differences(&self, other: &Fingerprint) -> Vec<&'static str> {
        let mut d = Vec::new();
        if self.input_size != other.input_size || self.input_hash != other.input_hash {
            d.push("input file content");
        }
        if self.input_format != other.input_format {
            d.push("input format");
        }
        if self.output_format != other.output_format {
            d.push("output format");
        }
        if self.encoding != other.encoding {
            d.push("encoding");
        }
        if self.delimiter != other.delimiter {
            d.push("delimiter");
        }
        if self.sheet != other.sheet {
            d.push("sheet");
        }
        if self.text_field != other.text_field {
            d.push("text field");
        }
        if self.id_field != other.id_field
            || self.date_field != other.date_field
            || self.customer_field != other.customer_field
        {
            d.push("id/date/customer fields");
        }
        if self.model != other.model {
            d.push("model");
        }
        if self.settings != other.settings {
            d.push("engine, risk policy or PII allow list");
        }
        d
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    pub version: u32,
    pub fingerprint: Fingerprint,
    /// Input rows whose output is complete.
    pub rows_done: u64,
    /// Output bytes holding the header and those rows.
    pub output_bytes: u64,
    /// Input columns of a CSV output (fixed by the first chunk of a JSONL input).
    pub columns: Vec<String>,
    pub complete: bool,
    /// Blank JSONL lines are rows (`empty line` errors). False in journals written before they were, whose
    /// row counts skip them: such a run cannot resume in step with an input that has blank lines.
    #[serde(default)]
    pub blank_lines_are_rows: bool,
}

pub fn path_for(output: &Path) -> PathBuf {
    sibling(output, "journal")
}

/// `<output>.<suffix>`, e.g. `out.csv.journal`.
pub fn sibling(output: &Path, suffix: &str) -> PathBuf {
    let mut s = output.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

impl Journal {
    pub fn load(path: &Path) -> Result<Option<Journal>, BatchError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                BatchError::Usage(format!(
                    "{}: unreadable resume journal ({e}); rerun with --restart to start over",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BatchError::Output(format!("{}: {e}", path.display()))),
        }
    }

    /// Replaces the journal atomically and durably.
    pub fn store(&self, path: &Path) -> Result<(), BatchError> {
        let err = |e: std::io::Error| BatchError::Output(format!("{}: {e}", path.display()));
        let tmp = sibling(path, "tmp");
        {
            let mut f = std::fs::File::create(&tmp).map_err(err)?;
            f.write_all(&serde_json::to_vec_pretty(self).expect("serializable"))
                .map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, path).map_err(err)?;
        sync_dir(path);
        Ok(())
    }
}

/// Makes a rename durable (best effort: not every platform can open a directory).
pub fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp() -> Fingerprint {
        Fingerprint {
            input_size: 10,
            input_hash: "ab".into(),
            input_format: "csv".into(),
            output_format: "jsonl".into(),
            encoding: Some("UTF-8".into()),
            delimiter: Some(",".into()),
            sheet: None,
            text_field: "text".into(),
            id_field: None,
            date_field: None,
            customer_field: None,
            model: "m".into(),
            settings: "engine int8".into(),
        }
    }

    #[test]
    fn journals_round_trip_and_name_differences() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let p = path_for(&out);
        assert!(p.to_string_lossy().ends_with("out.jsonl.journal"));
        assert_eq!(Journal::load(&p).unwrap(), None);
        let j = Journal {
            version: VERSION,
            fingerprint: fp(),
            rows_done: 5,
            output_bytes: 99,
            columns: vec!["a".into()],
            complete: false,
            blank_lines_are_rows: true,
        };
        j.store(&p).unwrap();
        assert_eq!(Journal::load(&p).unwrap(), Some(j));
        let mut other = fp();
        other.input_hash = "cd".into();
        other.text_field = "内容".into();
        assert_eq!(
            fp().differences(&other),
            vec!["input file content", "text field"]
        );
        std::fs::write(&p, "{not json").unwrap();
        assert!(Journal::load(&p)
            .unwrap_err()
            .to_string()
            .contains("--restart"));
    }
}
