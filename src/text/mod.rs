//! Text processing that runs before (and beside) the model: normalization, PII masking and
//! keyword extraction.
//!
//! * [`normalize`](normalize::normalize) — width folding, traditional → simplified, invisible
//!   characters, whitespace and conservative ASR filler removal.
//! * [`mask`](pii::mask) — masking of phone numbers (digits or ASR digit words), resident IDs,
//!   bank cards, e-mails, names and house numbers of addresses; [`mask_with`](pii::mask_with)
//!   takes [`MaskOptions`] (allow-list, kinds); [`read_allow_list`](pii::read_allow_list) reads
//!   an allow-list file.
//! * [`KeywordExtractor`] — jieba TF-IDF keywords with a customer-service dictionary.

pub mod keywords;
pub mod normalize;
pub mod pii;

use std::path::PathBuf;

pub use keywords::KeywordExtractor;
pub use normalize::{normalize, normalize_with, NormalizeOptions};
pub use pii::{
    find_pii, find_pii_with, is_valid_resident_id, luhn_valid, mask, mask_with, parse_allow_list,
    read_allow_list, MaskOptions, PiiKind, PiiSpan,
};

/// Errors raised while loading text resources (dictionaries, stop-word lists).
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// The file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line of the file is malformed (`line` is 1-based).
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}
