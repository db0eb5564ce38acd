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
use xinsheng::text::pii::{PiiKind, PiiSpan};
use xinsheng::text::{find_pii, mask, normalize};

/// Whether `out` is `text` with each span replaced as `find_pii` documents. Tracks every
/// position in `out` that the spans so far can end at (a name span can shrink to 1..len
/// characters), so it is linear in practice and never backtracks exponentially.
fn aligned(text: &str, spans: &[PiiSpan], out: &str) -> bool {
    let out: Vec<char> = out.chars().collect();
    let matches = |pos: usize, original: &[char]| {
        out.len() >= pos + original.len()
            && original
                .iter()
                .zip(&out[pos..pos + original.len()])
                .all(|(&o, &m)| o == m || m == '*')
    };
    let mut reachable = vec![0usize];
    let mut gap_start = 0;
    for span in spans {
        let gap: Vec<char> = text[gap_start..span.range.start].chars().collect();
        let original: Vec<char> = text[span.range.clone()].chars().collect();
        let mut next = Vec::new();
        for &pos in &reachable {
            if out.len() < pos + gap.len() || out[pos..pos + gap.len()] != gap[..] {
                continue;
            }
            let pos = pos + gap.len();
            if matches(pos, &original) {
                next.push(pos + original.len());
            }
            if span.kind == PiiKind::Name {
                next.extend(
                    (1..original.len())
                        .filter(|&len| matches(pos, &original[..len]))
                        .map(|len| pos + len),
                );
            }
        }
        next.sort_unstable();
        next.dedup();
        reachable = next;
        gap_start = span.range.end;
    }
    let tail: Vec<char> = text[gap_start..].chars().collect();
    reachable
        .iter()
        .any(|&pos| out.len() == pos + tail.len() && out[pos..] == tail[..])
}

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
        aligned(text, &spans, &masked),
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
