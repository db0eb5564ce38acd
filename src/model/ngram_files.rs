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

/// Each of `labels`' model probability for `text` (`missing` for a label without a model). Models trained
/// together share one n-gram range; the n-grams are computed once per range.
pub fn probabilities(
    models: &BTreeMap<String, NgramModel>,
    labels: &[String],
    text: &str,
    missing: f32,
) -> Vec<f32> {
    let mut cache: Vec<((usize, usize), Vec<String>)> = Vec::new();
    labels
        .iter()
        .map(|l| {
            let Some(m) = models.get(l) else {
                return missing;
            };
            let range = (m.ngram_min, m.ngram_max);
            let at = match cache.iter().position(|(r, _)| *r == range) {
                Some(at) => at,
                None => {
                    cache.push((range, ngrams(text, range.0, range.1)));
                    cache.len() - 1
                }
            };
            m.probability_ngrams(&cache[at].1)
        })
        .collect()
}
