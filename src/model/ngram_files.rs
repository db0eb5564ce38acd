//! What the n-gram model files of a model directory share (`category_ngrams.json`, `sentiment_ngrams.json`,
//! `emotion_ngrams.json`): reading one when it is there, checking its per-label models, and scoring a text
//! with them (the n-grams computed once per n-gram range).

use super::ModelError;
use crate::risk::learned::{ngrams, NgramModel};
use std::collections::BTreeMap;
use std::path::Path;

/// The file format version all of them share.
pub const FORMAT: u32 = 1;

/// Reads and parses `path` with `parse(text, file name)` when it exists.
pub fn read<T>(
    path: &Path,
    parse: impl FnOnce(&str, &str) -> Result<T, ModelError>,
) -> Result<Option<T>, ModelError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::file(path, e))?;
    parse(&text, &path.display().to_string()).map(Some)
}

/// Checks a file's format version and each label's model (valid, and taking no signals).
pub fn checked_labels(
    format_version: u32,
    labels: BTreeMap<String, NgramModel>,
    file: &str,
) -> Result<BTreeMap<String, NgramModel>, ModelError> {
    let bad = |msg: String| ModelError::Invalid {
        file: file.to_string(),
        msg,
    };
    if format_version != FORMAT {
        return Err(bad(format!(
            "format_version {format_version} is not {FORMAT}"
        )));
    }
    let mut checked = BTreeMap::new();
    for (label, model) in labels {
        let model = model
            .validated(file)
            .map_err(|e| bad(format!("label `{label}`: {e}")))?;
        if !model.signals.is_empty() {
            return Err(bad(format!("label `{label}`: takes no signals")));
        }
        checked.insert(label, model);
    }
    Ok(checked)
}

/// The n-grams of one text, computed once per n-gram range and shared by every model that reads the text
/// (the blends of the categories, sentiment and emotion heads all read the same 1–3-grams).
pub struct TextGrams<'t> {
    text: &'t str,
    by_range: Vec<((usize, usize), Vec<String>)>,
}

impl<'t> TextGrams<'t> {
    pub fn new(text: &'t str) -> Self {
        Self {
            text,
            by_range: Vec::new(),
        }
    }

    /// The distinct n-grams of `min..=max` characters ([`ngrams`]).
    pub fn of(&mut self, min: usize, max: usize) -> &[String] {
        let at = match self.by_range.iter().position(|(r, _)| *r == (min, max)) {
            Some(at) => at,
            None => {
                self.by_range
                    .push(((min, max), ngrams(self.text, min, max)));
                self.by_range.len() - 1
            }
        };
        &self.by_range[at].1
    }
}

/// Each of `labels`' model probability for the text of `grams` (`missing` for a label without a model).
pub fn probabilities(
    models: &BTreeMap<String, NgramModel>,
    labels: &[String],
    grams: &mut TextGrams,
    missing: f32,
) -> Vec<f32> {
    labels
        .iter()
        .map(|l| match models.get(l) {
            Some(m) => m.probability_ngrams(grams.of(m.ngram_min, m.ngram_max)),
            None => missing,
        })
        .collect()
}
