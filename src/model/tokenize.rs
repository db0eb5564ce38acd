//! `tokenizer.json` → token ids: overlapping windows covering a long text (how every reader of a model sees
//! it), or one window cut to the text's head and tail (how training sees it).

use super::ModelError;
use std::path::Path;

/// Wraps a Hugging Face tokenizer; adds `[CLS]`/`[SEP]` itself so truncation can keep both ends of a text.
pub struct TextEncoder {
    tokenizer: tokenizers::Tokenizer,
    cls: u32,
    sep: u32,
    pad: u32,
    max_length: usize,
}

impl TextEncoder {
    /// Loads `dir/tokenizer.json`; `[CLS]`, `[SEP]` and `[PAD]` must be in its vocabulary.
    pub fn load(dir: &Path, max_length: usize) -> Result<Self, ModelError> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(ModelError::Missing {
                file: path.display().to_string(),
            });
        }
        let mut tokenizer =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| ModelError::Invalid {
                file: path.display().to_string(),
                msg: format!("cannot parse tokenizer: {e}"),
            })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| ModelError::Invalid {
                file: path.display().to_string(),
                msg: e.to_string(),
            })?;
        let id = |tok: &str| {
            tokenizer
                .token_to_id(tok)
                .ok_or_else(|| ModelError::Invalid {
                    file: path.display().to_string(),
                    msg: format!("vocabulary has no {tok} token"),
                })
        };
        Ok(Self {
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            pad: id("[PAD]")?,
            tokenizer,
            max_length,
        })
    }

    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Token ids without special tokens (whole text, no truncation).
    pub fn raw_ids(&self, text: &str) -> Vec<u32> {
        match self.tokenizer.encode_fast(text, false) {
            Ok(enc) => enc.get_ids().to_vec(),
            // The BERT pipeline has no failing step for valid UTF-8; treat a failure as an empty text.
            Err(_) => Vec::new(),
        }
    }

    /// `[CLS] text [SEP]`, keeping the first and last tokens when the text is longer than the window.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.wrap(&self.raw_ids(text))
    }

    /// `[CLS] … [SEP]` windows covering the whole text: one window when it fits, else overlapping windows
    /// of the model's length (a quarter of a window overlaps the next; the last one ends at the text's
    /// end). Nothing is cut away: a long complaint is read in parts and the parts are aggregated.
    pub fn windows(&self, text: &str) -> Vec<Vec<u32>> {
        split_windows(&self.raw_ids(text), self.max_length - 2)
            .into_iter()
            .map(|w| self.wrap(w))
            .collect()
    }

    /// Wraps content ids in `[CLS]`…`[SEP]` with head-and-tail truncation.
    pub fn wrap(&self, ids: &[u32]) -> Vec<u32> {
        let budget = self.max_length - 2;
        let mut out = Vec::with_capacity(ids.len().min(budget) + 2);
        out.push(self.cls);
        if ids.len() <= budget {
            out.extend_from_slice(ids);
        } else {
            let head = budget / 2;
            let tail = budget - head;
            out.extend_from_slice(&ids[..head]);
            out.extend_from_slice(&ids[ids.len() - tail..]);
        }
        out.push(self.sep);
        out
    }
}

/// Content windows of at most `budget` ids with a quarter-window overlap; the last window ends at the end.
pub fn split_windows(ids: &[u32], budget: usize) -> Vec<&[u32]> {
    let budget = budget.max(1);
    if ids.len() <= budget {
        return vec![ids];
    }
    let stride = (budget - budget / 4).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        if start + budget >= ids.len() {
            out.push(&ids[ids.len() - budget..]);
            break;
        }
        out.push(&ids[start..start + budget]);
        start += stride;
    }
    out
}

impl TextEncoder {
    /// Number of tokens in the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }
}

#[cfg(test)]
mod tests {
    use super::split_windows;

    #[test]
    fn windows_cover_everything_with_overlap() {
        let ids: Vec<u32> = (0..10).collect();
        assert_eq!(split_windows(&ids, 16), vec![&ids[..]]);
        let ids: Vec<u32> = (0..300).collect();
        let w = split_windows(&ids, 158);
        // 158-token windows, stride 119: [0, 158), [119, 277), then the last one aligned to the end.
        assert_eq!(w.len(), 3);
        assert!(w.iter().all(|x| x.len() == 158));
        assert_eq!(w[0][0], 0);
        assert_eq!(w[1][0], 119);
        assert_eq!(*w[2].last().unwrap(), 299);
        // Every id is in some window, and neighbours overlap.
        for id in 0..300u32 {
            assert!(w.iter().any(|x| x.contains(&id)), "{id}");
        }
        assert!(w[0].last().unwrap() >= &w[1][0]);
        assert_eq!(split_windows(&[], 8).len(), 1);
    }
}
