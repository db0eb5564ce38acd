//! Property tests of the check-digit validators and the PII masker (proptest).
//!
//!     cargo test --release --test pii_props
//!
//! * A resident ID with a computed check character is valid; changing any one of its 18
//!   characters makes it invalid. A card number with a computed Luhn digit passes; changing any
//!   one digit makes it fail.
//! * The masker never panics (arbitrary Unicode and a PII-heavy alphabet), is idempotent, and
//!   changes nothing outside the spans that `find_pii` reports: `mask(x)` is `x` with each span
//!   replaced by a string of the same length whose characters are the span's own or `*`, or —
//!   for a name before `先生`/`女士`/`小姐` only — by a non-empty proper prefix of the span (the
//!   surname), whose characters a later masking pass may have turned into `*`.
//! * Generated phone numbers, IDs and card numbers in plain context are always masked; so are
//!   mobiles and IDs read out in digit words or formal digits (`壹叁捌…`), mobiles grouped
//!   `3-4-4` with `。`, `.`, `．`, `，` or a space between the groups.

use proptest::prelude::*;
use xinsheng::text::pii::{
    find_pii, is_valid_resident_id, luhn_valid, mask, mask_with, masked_as_reported, MaskOptions,
    PiiKind,
};

/// GB 11643 check character of 17 digits (weights 2^(17-i) mod 11), written independently of the
/// crate's validator.
fn id_check(body: &str) -> char {
    let sum: u64 = body
        .bytes()
        .enumerate()
        .map(|(i, d)| u64::from(d - b'0') * ((1u64 << (17 - i)) % 11))
        .sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        v => char::from(b'0' + v as u8),
    }
}

/// Luhn check digit for `body`.
fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn days_in(year: u32, month: u32) -> u32 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 17 digits of a resident ID: region (first digit 1–6), a real birth date, a sequence number.
fn id_body() -> impl Strategy<Value = String> {
    (
        100_000u32..700_000,
        1900u32..2100,
        1u32..13,
        1u32..32,
        0u32..1000,
    )
        .prop_map(|(region, year, month, day, seq)| {
            let day = day.min(days_in(year, month));
            format!("{region}{year:04}{month:02}{day:02}{seq:03}")
        })
}

fn digits(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, len)
        .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
}

/// Characters that make up PII and its look-alikes, to reach the masker's corners.
const PII_ALPHABET: &str =
    "0123456789 -+()（）Xx@.abcmz*王李张欧阳小明伟先生女士我叫是本人姓名号栋单元室弄路\
                            一二三四五六七八九幺洞零，：订单元¥第月投诉０１３８張黃＠ｚ\u{200B}\u{3000}\t嗯、";

fn pii_text() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = PII_ALPHABET.chars().collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..48)
        .prop_map(|v| v.into_iter().collect())
}

/// Pieces of text around the rules for read-out numbers, e-mails written with `%40` or spaced
/// `@`, `+86` landlines, floors and dashed rooms, and the newer name triggers and surnames.
const PIECES: &[&str] = &[
    "幺",
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "零",
    "洞",
    "十",
    "叉",
    "X",
    "加",
    "1",
    "3",
    "8",
    "0",
    "6",
    "2",
    " ",
    "-",
    "，",
    "+86",
    "0086",
    "@",
    " @ ",
    "%40",
    "a",
    "163.com",
    "这边是",
    "我是用户",
    "我是",
    "姓张，",
    "张",
    "单",
    "甘",
    "申",
    "伟",
    "要",
    "号",
    "楼",
    "层",
    "栋",
    "单元",
    "室",
    "小区",
    "路",
    "身份证",
    "编码",
    "订单号",
    "*",
    "壹",
    "叁",
    "陆",
    "捌",
    "拾",
    "仟",
    "元",
    "。",
    ".",
    "号楼",
    "中山路",
    "花园",
];

fn pieces_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

/// Plain text around generated PII: no digits, separators or name triggers.
fn context() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = "的了吗宽带网络客服态度差，。！请尽快处理谢谢"
        .chars()
        .collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..8)
        .prop_map(|v| v.into_iter().collect())
}

/// The digit words of `d` (an ASCII digit or `X`) in one of three spellings: everyday words
/// (`一`, `零`), formal digits (`壹`, `零`), or the radio reading (`幺`, `洞`, `拐`).
fn digit_word(d: char, style: u8) -> char {
    let i = d.to_digit(10).map_or(usize::MAX, |i| i as usize);
    let table: [&str; 3] = [
        "零一二三四五六七八九",
        "零壹贰叁肆伍陆柒捌玖",
        "洞幺二三四五六拐八九",
    ];
    table[usize::from(style % 3)].chars().nth(i).unwrap_or(d)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failures are printed with their minimal input; no regression file beside the test.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn resident_id_with_check_is_valid_and_single_changes_are_not(
        body in id_body(),
        pos in 0usize..18,
        replacement in prop::sample::select("0123456789X".chars().collect::<Vec<_>>()),
    ) {
        let id = format!("{body}{}", id_check(&body));
        prop_assert!(is_valid_resident_id(&id), "{}", id);
        let mut chars: Vec<char> = id.chars().collect();
        // Only the check position may hold X; elsewhere draw a digit.
        let replacement = if pos < 17 && replacement == 'X' { '0' } else { replacement };
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let changed: String = chars.into_iter().collect();
        prop_assert!(!is_valid_resident_id(&changed), "{} -> {} still valid", id, changed);
    }

    #[test]
    fn luhn_with_check_passes_and_single_changes_fail(
        body in digits(12..19),
        pos in 0usize..19,
        replacement in 0u8..10,
    ) {
        let card = format!("{body}{}", luhn_digit(&body));
        prop_assert!(luhn_valid(&card), "{}", card);
        let pos = pos % card.len();
        let replacement = char::from(b'0' + replacement);
        let mut chars: Vec<char> = card.chars().collect();
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let changed: String = chars.into_iter().collect();
        prop_assert!(!luhn_valid(&changed), "{} -> {} still passes", card, changed);
    }

    #[test]
    fn mask_is_idempotent_and_aligned_on_arbitrary_unicode(x in any::<String>()) {
        let once = mask(&x);
        prop_assert_eq!(mask(&once), once.clone());
        prop_assert!(masked_as_reported(&x, &find_pii(&x), &once), "{:?} -> {:?}", x, once);
    }

    #[test]
    fn mask_is_idempotent_and_aligned_on_read_out_numbers_and_new_rules(x in pieces_text()) {
        let once = mask(&x);
        prop_assert_eq!(mask(&once), once.clone(), "not idempotent on {:?}", x);
        let spans = find_pii(&x);
        prop_assert!(masked_as_reported(&x, &spans, &once), "{:?} -> {:?} (spans {:?})", x, once, spans);
    }

    #[test]
    fn mask_is_idempotent_and_aligned_on_pii_alphabet(x in pii_text()) {
        let once = mask(&x);
        prop_assert_eq!(mask(&once), once.clone(), "not idempotent on {:?}", x);
        let spans = find_pii(&x);
        for span in &spans {
            prop_assert!(x.is_char_boundary(span.range.start) && x.is_char_boundary(span.range.end));
        }
        prop_assert!(masked_as_reported(&x, &spans, &once), "{:?} -> {:?} (spans {:?})", x, once, spans);
        // Without names (the only kind that removes characters) the length is kept.
        let no_names = MaskOptions {
            kinds: PiiKind::ALL.into_iter().filter(|k| *k != PiiKind::Name).collect(),
            ..MaskOptions::default()
        };
        prop_assert_eq!(mask_with(&x, &no_names).chars().count(), x.chars().count());
    }

    #[test]
    fn read_out_mobiles_and_ids_in_plain_context_are_masked(
        pre in context(),
        post in context(),
        second in 3u8..10,
        rest in digits(9..10),
        styles in prop::collection::vec(0u8..3, 18),
        sep in prop::sample::select(vec!["", "。", ".", "．", "，", " "]),
        id in id_body(),
    ) {
        let mobile = format!("1{second}{rest}");
        let words: Vec<char> = mobile.chars().zip(&styles).map(|(d, &s)| digit_word(d, s)).collect();
        let group = |w: &[char], masked: bool| -> String {
            w.iter().enumerate().map(|(k, &c)| if masked && k > 0 { '*' } else { c }).collect()
        };
        let spelled = [&words[..3], &words[3..7], &words[7..]];
        let text: Vec<String> = spelled.iter().map(|g| group(g, false)).collect();
        let masked: Vec<String> = spelled
            .iter()
            .enumerate()
            .map(|(k, g)| if k == 0 { group(g, true) } else { "*".repeat(g.len()) })
            .collect();
        prop_assert_eq!(
            mask(&format!("{pre}{}{post}", text.join(sep))),
            format!("{pre}{}{post}", masked.join(sep))
        );

        let id = format!("{id}{}", id_check(&id));
        let words: String = id.chars().zip(&styles).map(|(d, &s)| digit_word(d, s)).collect();
        prop_assert_eq!(mask(&format!("{pre}{words}{post}")), format!("{pre}{}{post}", "*".repeat(18)));
    }

    #[test]
    fn generated_pii_in_plain_context_is_masked(
        pre in context(),
        post in context(),
        second in 3u8..10,
        rest in digits(9..10),
        id in id_body(),
        card in digits(16..17),
        card_len in prop::sample::select(vec![16usize, 17, 19]),
    ) {
        let mobile = format!("1{second}{rest}");
        let masked = format!("1{}", "*".repeat(10));
        prop_assert_eq!(mask(&format!("{pre}{mobile}{post}")), format!("{pre}{masked}{post}"));

        let id = format!("{id}{}", id_check(&id));
        prop_assert_eq!(mask(&format!("{pre}{id}{post}")), format!("{pre}{}{post}", "*".repeat(18)));

        // 16, 17 or 19 digits (18 could, rarely, also read as a resident ID).
        let card = format!("62{}", &card[..card_len - 3]);
        let card = format!("{card}{}", luhn_digit(&card));
        let tail = &card[card.len() - 4..];
        prop_assert_eq!(
            mask(&format!("{pre}{card}{post}")),
            format!("{pre}{}{tail}{post}", "*".repeat(card.len() - 4))
        );
    }
}
