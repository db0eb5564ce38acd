//! Long-running random-input driver for the masker and the normalizer: the same checks as the
//! cargo-fuzz target `fuzz/fuzz_targets/mask_normalize.rs`, on the stable toolchain, for as long
//! as asked. Ignored by default (it is a soak run, not a unit test):
//!
//!     XINSHENG_SOAK_SECS=600 cargo test --release --test pii_soak -- --ignored --nocapture
//!
//! Inputs (seeded; `XINSHENG_SOAK_SEED`, default 1): mutations of the evidence table's texts
//! (characters inserted, deleted, replaced, spans duplicated), strings over an alphabet of PII
//! characters and look-alikes, arbitrary Unicode, and arbitrary bytes read lossily as UTF-8.
//! Checks on every input: nothing panics; `mask` is idempotent; `find_pii` spans are in order,
//! non-overlapping and on character boundaries, and `mask` changes nothing outside them (inside,
//! characters become `*` one for one, or a name before `先生`/`女士`/`小姐` becomes a shorter
//! prefix of itself, possibly with `*`s); masking without names keeps the length in
//! characters and changes characters (to `*`) only inside the spans `find_pii_with` reports;
//! `normalize` is idempotent; masking the normalized text is idempotent.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use xinsheng::text::normalize;
use xinsheng::text::pii::{
    find_pii, find_pii_with, mask, mask_with, masked_as_reported, MaskOptions, PiiKind,
};

const ALPHABET: &str =
    "0123456789０１３８ -+()（）Xx@._abcmzAZ*王李张欧阳小明伟娜先生女士小姐我叫是本人\
姓名联系收件号楼栋幢单元室弄路街村区座一二三四五六七八九十幺洞零拐，、：:订单号工验证码元¥￥月日第\
投诉热线１０086９5588\u{3000}\u{00A0}\u{200B}\n\t。！？繁體電話壹贰叁肆伍陆柒捌玖〇拾佰仟貳陸．花园";

fn seeds() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pii_cases.jsonl");
    std::fs::read_to_string(path)
        .expect("tests/data/pii_cases.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect()
}

fn random_char(rng: &mut StdRng, alphabet: &[char]) -> char {
    if rng.random_range(0..8) == 0 {
        loop {
            if let Some(c) = char::from_u32(rng.random_range(0..0x3_0000)) {
                return c;
            }
        }
    }
    alphabet[rng.random_range(0..alphabet.len())]
}

fn input(rng: &mut StdRng, seeds: &[String], alphabet: &[char]) -> String {
    match rng.random_range(0..10) {
        // Mutated evidence rows (most of the time: they reach the deepest branches).
        0..=5 => {
            let mut chars: Vec<char> = seeds[rng.random_range(0..seeds.len())].chars().collect();
            // Sometimes two rows joined.
            if rng.random_range(0..4) == 0 {
                chars.extend(seeds[rng.random_range(0..seeds.len())].chars());
            }
            for _ in 0..rng.random_range(1..6) {
                let len = chars.len();
                match rng.random_range(0..4) {
                    0 => chars.insert(rng.random_range(0..=len), random_char(rng, alphabet)),
                    1 if len > 0 => {
                        chars.remove(rng.random_range(0..len));
                    }
                    2 if len > 0 => chars[rng.random_range(0..len)] = random_char(rng, alphabet),
                    _ if len > 1 => {
                        let a = rng.random_range(0..len);
                        let b = rng.random_range(a..len.min(a + 12));
                        let span: Vec<char> = chars[a..=b].to_vec();
                        let at = rng.random_range(0..=len);
                        chars.splice(at..at, span);
                    }
                    _ => {}
                }
            }
            chars.into_iter().collect()
        }
        6..=7 => (0..rng.random_range(0..80))
            .map(|_| random_char(rng, alphabet))
            .collect(),
        8 => (0..rng.random_range(0..60))
            .filter_map(|_| char::from_u32(rng.random_range(0..0x11_0000)))
            .collect(),
        _ => {
            let bytes: Vec<u8> = (0..rng.random_range(0..120))
                .map(|_| rng.random())
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

fn check(text: &str, no_names: &MaskOptions) {
    let masked = mask(text);
    assert_eq!(mask(&masked), masked, "mask is not idempotent on {text:?}");

    let spans = find_pii(text);
    let mut last_end = 0;
    for span in &spans {
        assert!(
            span.range.start >= last_end && span.range.start < span.range.end,
            "spans out of order on {text:?}: {spans:?}"
        );
        assert!(
            text.is_char_boundary(span.range.start) && text.is_char_boundary(span.range.end),
            "span off a character boundary on {text:?}: {spans:?}"
        );
        last_end = span.range.end;
    }
    assert!(
        masked_as_reported(text, &spans, &masked),
        "mask changed {text:?} outside or unlike the spans {spans:?}: {masked:?}"
    );

    // Without names nothing is removed: same characters, except `*` inside reported spans.
    let plain = mask_with(text, no_names);
    let plain_spans = find_pii_with(text, no_names);
    let inside = |byte: usize| plain_spans.iter().any(|s| s.range.contains(&byte));
    let (a, b): (Vec<(usize, char)>, Vec<char>) =
        (text.char_indices().collect(), plain.chars().collect());
    assert_eq!(a.len(), b.len(), "length changed on {text:?} -> {plain:?}");
    for (&(at, c), &m) in a.iter().zip(&b) {
        assert!(
            c == m || (m == '*' && inside(at)),
            "{c:?} at byte {at} changed to {m:?} outside a span: {text:?} -> {plain:?}"
        );
    }

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
}

#[test]
#[ignore = "soak run: XINSHENG_SOAK_SECS=600 cargo test --release --test pii_soak -- --ignored"]
fn soak_mask_and_normalize() {
    let secs: u64 = std::env::var("XINSHENG_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("XINSHENG_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let seeds = seeds();
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    let no_names = MaskOptions {
        kinds: PiiKind::ALL
            .into_iter()
            .filter(|k| *k != PiiKind::Name)
            .collect(),
        ..MaskOptions::default()
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Instant::now();
    let (mut runs, mut bytes, mut with_pii) = (0u64, 0u64, 0u64);
    while start.elapsed() < Duration::from_secs(secs) {
        for _ in 0..1000 {
            let text = input(&mut rng, &seeds, &alphabet);
            check(&text, &no_names);
            runs += 1;
            bytes += text.len() as u64;
            with_pii += u64::from(mask(&text) != text);
        }
    }
    println!(
        "soak: {runs} inputs ({:.1} MB, {with_pii} with something masked) in {:.0} s, seed {seed}, no failure",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn soak_driver_smoke() {
    // A short run on every CI build, so the driver itself stays working.
    let seeds = seeds();
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    let no_names = MaskOptions {
        kinds: PiiKind::ALL
            .into_iter()
            .filter(|k| *k != PiiKind::Name)
            .collect(),
        ..MaskOptions::default()
    };
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..2000 {
        check(&input(&mut rng, &seeds, &alphabet), &no_names);
    }
}
