//! Fuzz target for the text pipeline's pure functions: PII masking and normalization.
//!
//! Checks, for any input (invalid UTF-8 is read lossily): nothing panics; `mask` is idempotent;
//! the spans of `find_pii` lie on character boundaries, in order and without overlap, and
//! `mask` changes nothing outside them (inside, characters become `*` one for one, or a name
//! before `先生`/`女士`/`小姐` becomes a shorter prefix of itself, possibly with `*`s);
//! `normalize` is idempotent (documented in `src/text/normalize.rs`); masking the normalized
//! text is idempotent too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xinsheng::text::pii::masked_as_reported;
use xinsheng::text::{find_pii, mask, normalize};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    let masked = mask(text);
    assert_eq!(mask(&masked), masked, "mask is not idempotent on {text:?}");

    let spans = find_pii(text);
    let mut last_end = 0;
    for span in &spans {
        assert!(span.range.start >= last_end && span.range.start < span.range.end);
        assert!(text.is_char_boundary(span.range.start) && text.is_char_boundary(span.range.end));
        last_end = span.range.end;
    }
    assert!(
        masked_as_reported(text, &spans, &masked),
        "mask changed {text:?} outside or unlike the spans {spans:?}: {masked:?}"
    );

    let normalized = normalize(text);
    assert_eq!(
        normalize(&normalized),
        normalized,
        "normalize is not idempotent on {text:?}"
    );
    let masked = mask(&normalized);
    assert_eq!(
        mask(&masked),
        masked,
        "mask is not idempotent on {normalized:?}"
    );
});
