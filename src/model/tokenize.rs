//! `tokenizer.json` → token ids, with head-and-tail truncation to the model's window.

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

impl TextEncoder {
    /// Number of tokens in the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }
}
