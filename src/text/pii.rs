//! Masking of personal information (PII) in customer-service text.
//!
//! [`mask`] replaces personal data with `*` and leaves every other character exactly as it was.
//! [`find_pii`] reports what would be masked (kind + byte range) without changing the text.
//! Full-width digits (`１３８…`) are recognised as well, so raw and [normalized](super::normalize)
//! text can both be masked.
//!
//! # What is masked, and how
//!
//! | kind | recognised | masked form |
//! |---|---|---|
//! | mobile | `1[3-9]` + 9 digits, optionally prefixed by `86`, `+86`, `0086` or a trunk `0`, digits optionally grouped with spaces or dashes (`138 1234 5678`, `+86-138-1234-5678`) | only the leading `1` (and the prefix) kept: `13812345678` → `1**********`, `+86 138 1234 5678` → `+86 1** **** ****` |
//! | landline | area code + number: `010`/`02x` + 8 digits, `0[3-9]xx` + 7–8 digits, written `010-62345678`, `(0755)88886666`, `0571 8888 6666` or unbroken | area code kept: `010-********` |
//! | resident ID | 18 characters with a valid GB 11643 check character ([`is_valid_resident_id`]); a 15-digit legacy ID ([`is_valid_legacy_resident_id`]) only right after `身份证`/`证件` | fully masked: `******************` |
//! | bank card | 16–19 digits (spaces or dashes allowed) passing [`luhn_valid`], with a card-scheme first digit (`3`–`6`, or `2221`–`2720`) | last 4 digits kept: `**** **** **** ***0 123` |
//! | e-mail | `local@domain.tld` | first character of the local part kept: `z*******@163.com` |
//! | name after an introduction | `我叫`, `我名叫`, `名字叫/是`, `姓名`, `联系人`, `收件人`, `收货人`, `持卡人`, `户名` (then optional `：`/`是`/`为`), or `姓X名Y`, followed by a common surname and a 1–2 character given name | given name replaced by `*`: `我叫张伟` → `我叫张*`, `姓名：王小明` → `姓名：王**` |
//! | name after `我是` / `本人` | as above, but only when the name is followed by punctuation, the end of the text, `我` or a modal particle, and does not look like a role or a place (`我是高中生`, `我是黄金会员`, `我是武汉的`, `我是来投诉的` are left alone) | `我是王小明，` → `我是王**，` |
//! | name before `先生` / `女士` / `小姐` | common surname + 1–2 character given name | given name removed: `王小明先生` → `王先生`, `欧阳娜娜女士` → `欧阳女士` |
//!
//! Separators and prefixes inside a masked number (`+`, spaces, dashes, brackets) are kept, and a
//! number is masked one character for one character, so the shape of the text survives.
//!
//! Surnames come from a compact list of about 115 of the most common single-character surnames
//! plus the common compound ones (欧阳, 司马, 诸葛, …). A surname directly followed by a title
//! (`张先生`, `王总`, `李老师`, `刘师傅`) is not personal enough to mask and is kept; so is a
//! name whose last character before `先生/女士/小姐` is itself a surname (`张杨女士` is read as
//! `杨女士` with a prefix, and left alone — conservative on purpose).
//!
//! # What is deliberately not masked
//!
//! * numbers right after an identifier keyword — `订单号`, `单号` (快递单号, 运单号, 工单号 …),
//!   `订单`, `工单`, `工号`, `编号`, `验证码`, `流水号`, `交易号`, `序列号`, `取件码`, `兑换码`,
//!   `保单号`, `发票号` … (optionally followed by `：`, `是`, `为`, `#` or spaces);
//! * amounts (`¥`, `￥`, `$`, `RMB` before, `元`, `块`, `万`, `亿` after), decimals, dates and
//!   times (`2024-03-15`, `10:30`);
//! * service numbers such as `10086`, `95588`, `12315`, `400-810-8888`: they fail every pattern;
//! * digit runs that look right but fail their validator (a wrong ID check character, a
//!   card number failing Luhn), and digits glued to Latin letters (`SF1234567890123`).
//!
//! # Guarantees
//!
//! * Never panics, whatever the input (all indexing is on character boundaries).
//! * Idempotent: `mask(&mask(x)) == mask(x)`. Masked digits become `*`, which no pattern matches;
//!   removing a given name can only leave `surname + title`, which is kept; and as a safety net
//!   [`mask`] repeats its pass when a name was removed until the text no longer changes.
//! * Linear in the length of the text (all regexes are compiled once).

use std::collections::HashSet;
use std::ops::Range;

use once_cell::sync::Lazy;
use regex::Regex;

use super::normalize::is_han;

/// What kind of personal information a [`PiiSpan`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PiiKind {
    /// Mainland mobile number.
    Mobile,
    /// Landline number with area code.
    Landline,
    /// Resident identity card number (18-character or 15-digit legacy).
    ResidentId,
    /// Bank card number.
    BankCard,
    /// E-mail address.
    Email,
    /// Personal name (surname and given name).
    Name,
}

impl PiiKind {
    /// Stable lower-case name (`mobile`, `landline`, `resident_id`, `bank_card`, `email`, `name`).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Mobile => "mobile",
            PiiKind::Landline => "landline",
            PiiKind::ResidentId => "resident_id",
            PiiKind::BankCard => "bank_card",
            PiiKind::Email => "email",
            PiiKind::Name => "name",
        }
    }
}

/// One piece of personal information found in a text: its kind and its byte range in that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiSpan {
    pub kind: PiiKind,
    pub range: Range<usize>,
}

/// Masks the personal information in `text` (see the module documentation for the rules).
pub fn mask(text: &str) -> String {
    let (mut out, mut removed) = mask_once(text);
    // Removing a given name shortens the text and could, in contrived inputs, bring a new
    // pattern together; repeat until stable so that `mask` is idempotent by construction.
    let mut passes = 1;
    while removed && passes < 4 {
        let (next, again) = mask_once(&out);
        if next == out {
            break;
        }
        out = next;
        removed = again;
        passes += 1;
    }
    out
}

/// The personal information found in `text`, sorted by position; ranges never overlap.
pub fn find_pii(text: &str) -> Vec<PiiSpan> {
    detect(text)
        .into_iter()
        .map(|hit| PiiSpan {
            kind: hit.kind,
            range: hit.span,
        })
        .collect()
}

/// Luhn (mod 10) check, as used by bank card numbers. ASCII digits only; spaces and dashes
/// between them are ignored. Anything else, or fewer than two digits, gives `false`.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for c in digits.chars().rev() {
        match c {
            '0'..='9' => {
                let mut d = c as u32 - '0' as u32;
                if count % 2 == 1 {
                    d *= 2;
                    if d > 9 {
                        d -= 9;
                    }
                }
                sum += d;
                count += 1;
            }
            ' ' | '-' => {}
            _ => return false,
        }
    }
    count >= 2 && sum.is_multiple_of(10)
}

/// Whether `id` is a valid 18-character resident identity number (GB 11643-1999): 17 digits
/// and a check character (`0`–`9` or `X`/`x`) equal to the ISO 7064 MOD 11-2 checksum of the
/// first 17, a non-zero first digit and a real birth date (`YYYYMMDD`, year 1900–2099) in
/// positions 7–14.
pub fn is_valid_resident_id(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [u8; 11] = *b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == expected && valid_date(&b[6..14])
}

/// Whether `id` is a plausible 15-digit legacy resident identity number (issued before 1999,
/// no check digit): 15 digits, a first digit 1–8 and a real birth date `19YYMMDD` in positions
/// 7–12. Without a checksum this is weak evidence, so [`mask`] only uses it after `身份证`/`证件`.
pub fn is_valid_legacy_resident_id(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) || !(b'1'..=b'8').contains(&b[0]) {
        return false;
    }
    let mut date = *b"19000000";
    date[2..].copy_from_slice(&b[6..12]);
    valid_date(&date)
}

/// `YYYYMMDD` (ASCII digits) is a real calendar date with the year in 1900–2099.
fn valid_date(d: &[u8]) -> bool {
    let num = |s: &[u8]| s.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
    let (year, month, day) = (num(&d[..4]), num(&d[4..6]), num(&d[6..8]));
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------

/// One detected item: the reported span and the edits that mask it.
struct Hit {
    kind: PiiKind,
    span: Range<usize>,
    edits: Vec<(Range<usize>, String)>,
}

/// The text with its characters indexed, so that detectors can look around by character.
struct Text<'a> {
    s: &'a str,
    chars: Vec<(usize, char)>,
}

impl<'a> Text<'a> {
    fn new(s: &'a str) -> Self {
        Self {
            s,
            chars: s.char_indices().collect(),
        }
    }

    fn len(&self) -> usize {
        self.chars.len()
    }

    fn char(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|&(_, c)| c)
    }

    /// Byte offset of character `i` (the text length for `i == len`).
    fn byte(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.s.len(), |&(b, _)| b)
    }

    /// Character index of the character starting at byte `b` (a char boundary).
    fn index_of(&self, b: usize) -> usize {
        self.chars.partition_point(|&(off, _)| off < b)
    }

    /// The text of characters `from..to`.
    fn slice(&self, from: usize, to: usize) -> &'a str {
        &self.s[self.byte(from)..self.byte(to)]
    }

    /// Whether the text at character `i` starts with `prefix`.
    fn starts_with_at(&self, i: usize, prefix: &str) -> bool {
        i < self.len() && self.s[self.byte(i)..].starts_with(prefix)
    }
}

fn mask_once(text: &str) -> (String, bool) {
    let hits = detect(text);
    if hits.is_empty() {
        return (text.to_owned(), false);
    }
    let mut edits: Vec<&(Range<usize>, String)> = hits.iter().flat_map(|h| &h.edits).collect();
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut removed = false;
    for (range, replacement) in edits {
        out.push_str(&text[last..range.start]);
        out.push_str(replacement);
        removed |= replacement.is_empty() && !range.is_empty();
        last = range.end;
    }
    out.push_str(&text[last..]);
    (out, removed)
}

/// All detectors in priority order; a later hit overlapping an earlier one is dropped.
fn detect(text: &str) -> Vec<Hit> {
    let t = Text::new(text);
    // Accepted hits, kept sorted by start; they never overlap.
    let mut hits: Vec<Hit> = Vec::new();
    let found = [
        detect_emails(&t),
        detect_numbers(&t),
        detect_titled_names(&t),
        detect_introduced_names(&t),
    ];
    for hit in found.into_iter().flatten() {
        let at = hits.partition_point(|h| h.span.start < hit.span.start);
        let clear_before = at == 0 || hits[at - 1].span.end <= hit.span.start;
        let clear_after = hits.get(at).is_none_or(|h| hit.span.end <= h.span.start);
        if clear_before && clear_after {
            hits.insert(at, hit);
        }
    }
    hits
}

/// Replaces every character of `s` by `*`.
fn stars(s: &str) -> String {
    "*".repeat(s.chars().count())
}

// ---------------------------------------------------------------------------------------------
// E-mail
// ---------------------------------------------------------------------------------------------

static EMAIL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}",
    )
    .expect("email regex")
});

fn detect_emails(t: &Text<'_>) -> Vec<Hit> {
    EMAIL
        .find_iter(t.s)
        .filter_map(|m| {
            let at = m.start() + m.as_str().find('@')?;
            let local = &t.s[m.start()..at];
            let first = local.chars().next()?;
            let keep = if local.len() > first.len_utf8() {
                first.len_utf8()
            } else {
                0
            };
            let masked = m.start() + keep..at;
            Some(Hit {
                kind: PiiKind::Email,
                span: m.range(),
                edits: vec![(masked.clone(), stars(&t.s[masked]))],
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Numbers: mobiles, landlines, resident IDs, bank cards
// ---------------------------------------------------------------------------------------------

/// A maximal run of digits (character indices `start..end`, `end` past a trailing `X` if any).
struct Group {
    start: usize,
    end: usize,
    /// ASCII digits of the group, plus a final `X` for an ID check character.
    digits: String,
    has_x: bool,
}

fn digit_value(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// Latin letters, digits and `_` (ASCII and full-width): characters that glue a digit run into
/// a larger code.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９')
}

fn is_group_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '－' | '\u{3000}' | '\u{00A0}')
}

/// Splits the text into runs of digit groups joined by single separators.
fn digit_runs(t: &Text<'_>) -> Vec<Vec<Group>> {
    let n = t.len();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n {
        if digit_value(t.chars[i].1).is_none() {
            i += 1;
            continue;
        }
        let mut run: Vec<Group> = Vec::new();
        loop {
            let start = i;
            let mut digits = String::new();
            while let Some(d) = t.char(i).and_then(digit_value) {
                digits.push(d);
                i += 1;
            }
            let mut has_x = false;
            if t.char(i).is_some_and(is_x) && !t.char(i + 1).is_some_and(is_word_char) {
                digits.push('X');
                has_x = true;
                i += 1;
            }
            run.push(Group {
                start,
                end: i,
                digits,
                has_x,
            });
            if has_x {
                break;
            }
            // Next group: one separator, or a closing bracket (after an area code) optionally
            // followed by one separator.
            let is_digit_at = |k: usize| t.char(k).and_then(digit_value).is_some();
            let next = match t.char(i) {
                Some(c) if is_group_separator(c) && is_digit_at(i + 1) => Some(i + 1),
                Some(')' | '）') if is_digit_at(i + 1) => Some(i + 1),
                Some(')' | '）')
                    if t.char(i + 1).is_some_and(is_group_separator) && is_digit_at(i + 2) =>
                {
                    Some(i + 2)
                }
                _ => None,
            };
            match next {
                Some(k) => i = k,
                None => break,
            }
        }
        runs.push(run);
    }
    runs
}

/// Identifier keywords after which a number is an order number, code, etc., never PII.
const LOOKALIKE_KEYWORDS: &[&str] = &[
    "单号",
    "单号码",
    "订单",
    "订单编号",
    "工单",
    "工号",
    "编号",
    "验证码",
    "校验码",
    "动态码",
    "流水号",
    "交易号",
    "序列号",
    "序号",
    "串号",
    "条码",
    "条形码",
    "取件码",
    "取货码",
    "提货码",
    "取餐码",
    "券码",
    "兑换码",
    "激活码",
    "型号",
    "合同号",
    "保单号",
    "发票号",
    "发票号码",
    "发票代码",
    "批号",
    "批次号",
    "车次",
    "航班号",
    "邮编",
    "邮政编码",
];

/// Characters allowed between an identifier keyword and its number.
fn is_label_filler(c: char) -> bool {
    matches!(c, ':' | '：' | '是' | '为' | '#' | '＃' | '=' | '(' | '（') || c.is_whitespace()
}

/// Whether the number starting at character `start` follows an identifier keyword.
fn after_lookalike_keyword(t: &Text<'_>, start: usize) -> bool {
    let mut k = start;
    let mut skipped = 0;
    while k > 0 && skipped < 4 && is_label_filler(t.chars[k - 1].1) {
        k -= 1;
        skipped += 1;
    }
    let before = t.slice(k.saturating_sub(6), k);
    LOOKALIKE_KEYWORDS.iter().any(|kw| before.ends_with(kw))
}

/// Whether the number `start..end` is an amount (currency sign before, unit after).
fn is_amount(t: &Text<'_>, start: usize, end: usize) -> bool {
    let mut k = start;
    while k > 0 && t.chars[k - 1].1.is_whitespace() {
        k -= 1;
    }
    let before = t.slice(k.saturating_sub(3), k);
    if ["¥", "￥", "$", "＄", "RMB", "rmb"]
        .iter()
        .any(|s| before.ends_with(s))
    {
        return true;
    }
    let mut k = end;
    while t.char(k).is_some_and(char::is_whitespace) {
        k += 1;
    }
    matches!(
        t.char(k),
        Some('元' | '块' | '圆' | '万' | '亿' | '%' | '％')
    ) || t.starts_with_at(k, "RMB")
        || t.starts_with_at(k, "rmb")
}

/// A number glued to what precedes character `start` (letters, or a decimal point / date or
/// time separator after a digit).
fn glued_before(t: &Text<'_>, start: usize) -> bool {
    if start == 0 {
        return false;
    }
    let prev = t.chars[start - 1].1;
    is_word_char(prev)
        || (matches!(prev, '.' | '．' | '/' | ':' | '：' | ',')
            && start >= 2
            && digit_value(t.chars[start - 2].1).is_some())
}

/// A number glued to what follows character `end - 1`.
fn glued_after(t: &Text<'_>, end: usize) -> bool {
    match t.char(end) {
        None => false,
        Some(c) if is_word_char(c) => true,
        Some('.' | '．' | '/' | ':' | '：' | ',') => {
            t.char(end + 1).and_then(digit_value).is_some()
        }
        _ => false,
    }
}

/// Whether `身份证` or `证件` occurs shortly before character `start`.
fn after_id_keyword(t: &Text<'_>, start: usize) -> bool {
    let before = t.slice(start.saturating_sub(12), start);
    before.contains("身份证") || before.contains("证件")
}

/// Mobile number with an optional prefix, written as one block or grouped the way phone numbers
/// are (`3-4-4`, `3-8`, `7-4`); `groups` are the lengths of the digit groups. Returns the number
/// of prefix digits.
fn mobile_prefix(d: &str, groups: &[usize]) -> Option<usize> {
    ["", "0", "86", "0086"].iter().find_map(|p| {
        let rest = d.strip_prefix(p)?;
        let b = rest.as_bytes();
        let number = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        (number && phone_shaped(groups, p.len())).then_some(p.len())
    })
}

/// Whether digit groups of these lengths, after dropping `prefix` leading digits, have the
/// shape of a written mobile number.
fn phone_shaped(groups: &[usize], prefix: usize) -> bool {
    let mut rest = prefix;
    let mut lens = Vec::with_capacity(groups.len());
    for &len in groups {
        if rest >= len {
            rest -= len;
        } else {
            lens.push(len - rest);
            rest = 0;
        }
    }
    matches!(lens.as_slice(), [11] | [3, 4, 4] | [3, 8] | [7, 4])
}

/// Landline number with area code; returns the length of the area code.
fn landline_area(d: &str) -> Option<usize> {
    let b = d.as_bytes();
    if b.len() < 11 || b[0] != b'0' {
        return None;
    }
    match b[1] {
        b'1' if b[2] == b'0' && b.len() == 11 => Some(3),
        b'2' if b.len() == 11 => Some(3),
        b'3'..=b'9' if b.len() <= 12 => Some(4),
        _ => None,
    }
}

/// Bank card: 16–19 digits, a card-scheme first digit and a valid Luhn checksum.
fn is_bank_card(d: &str) -> bool {
    let b = d.as_bytes();
    if !(16..=19).contains(&b.len()) {
        return false;
    }
    let scheme = match b[0] {
        b'3'..=b'6' => true,
        b'2' => d[..4]
            .parse::<u32>()
            .is_ok_and(|p| (2221..=2720).contains(&p)),
        _ => false,
    };
    scheme && luhn_valid(d)
}

/// Classifies the digits of a candidate number; returns the kind and how many leading digits
/// and trailing digits stay visible.
fn classify_number(
    t: &Text<'_>,
    digits: &str,
    groups: &[usize],
    start: usize,
) -> Option<(PiiKind, usize, usize)> {
    let has_x = digits.ends_with('X');
    if digits.len() == 18 && is_valid_resident_id(digits) {
        return Some((PiiKind::ResidentId, 0, 0));
    }
    if has_x {
        return None;
    }
    if digits.len() == 15 && is_valid_legacy_resident_id(digits) && after_id_keyword(t, start) {
        return Some((PiiKind::ResidentId, 0, 0));
    }
    if let Some(prefix) = mobile_prefix(digits, groups) {
        return Some((PiiKind::Mobile, prefix + 1, 0));
    }
    if let Some(area) = landline_area(digits) {
        return Some((PiiKind::Landline, area, 0));
    }
    if is_bank_card(digits) {
        return Some((PiiKind::BankCard, 0, 4));
    }
    None
}

fn detect_numbers(t: &Text<'_>) -> Vec<Hit> {
    const MAX_DIGITS: usize = 19;
    let mut hits = Vec::new();
    for run in digit_runs(t) {
        if after_lookalike_keyword(t, run[0].start) {
            continue;
        }
        let mut i = 0;
        while i < run.len() {
            // Longest candidate first: groups i..=j with at most MAX_DIGITS digits.
            let mut last = i;
            let mut total = run[i].digits.len();
            while last + 1 < run.len()
                && !run[last].has_x
                && total + run[last + 1].digits.len() <= MAX_DIGITS
            {
                last += 1;
                total += run[last].digits.len();
            }
            let mut found = None;
            if total <= MAX_DIGITS {
                for j in (i..=last).rev() {
                    let (start, end) = (run[i].start, run[j].end);
                    if (i == 0 && glued_before(t, start))
                        || (j + 1 == run.len() && glued_after(t, end))
                        || is_amount(t, start, end)
                    {
                        continue;
                    }
                    let digits: String = run[i..=j].iter().map(|g| g.digits.as_str()).collect();
                    let groups: Vec<usize> = run[i..=j].iter().map(|g| g.digits.len()).collect();
                    if let Some(class) = classify_number(t, &digits, &groups, start) {
                        found = Some((j, class));
                        break;
                    }
                }
            }
            match found {
                Some((j, (kind, keep_head, keep_tail))) => {
                    hits.push(number_hit(
                        t,
                        kind,
                        run[i].start,
                        run[j].end,
                        keep_head,
                        keep_tail,
                    ));
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }
    hits
}

/// Masks the digits (and ID check character) of characters `start..end`, keeping the first
/// `keep_head` and the last `keep_tail` digits and every separator.
fn number_hit(
    t: &Text<'_>,
    kind: PiiKind,
    start: usize,
    end: usize,
    keep_head: usize,
    keep_tail: usize,
) -> Hit {
    let chars = &t.chars[start..end];
    let total = chars
        .iter()
        .filter(|&&(_, c)| digit_value(c).is_some() || is_x(c))
        .count();
    let mut masked = String::with_capacity(t.byte(end) - t.byte(start));
    let mut seen = 0;
    for &(_, c) in chars {
        if digit_value(c).is_some() || is_x(c) {
            let keep = seen < keep_head || seen >= total - keep_tail.min(total);
            masked.push(if keep { c } else { '*' });
            seen += 1;
        } else {
            masked.push(c);
        }
    }
    let span = t.byte(start)..t.byte(end);
    Hit {
        kind,
        span: span.clone(),
        edits: vec![(span, masked)],
    }
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// About 115 of the most common single-character surnames (by population).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘\
袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎\
史陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文施洪辛柯庄葛温樊邢聂章鲁岳翟庞颜倪殷";

/// Common compound surnames.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "轩辕", "端木", "南宫", "西门", "独孤", "呼延",
];

static SURNAME_SET: Lazy<HashSet<char>> = Lazy::new(|| SURNAMES.chars().collect());

/// Surnames that are also everyday function words (`向`, `于`, `何` …): before another surname
/// they are read as the function word (`向王明先生` → `向王先生`).
const FUNCTION_WORD_SURNAMES: &str = "向于何余常万文易方高";

fn is_surname(c: char) -> bool {
    SURNAME_SET.contains(&c)
}

fn is_compound_surname(a: char, b: char) -> bool {
    COMPOUND_SURNAMES.iter().any(|s| {
        let mut it = s.chars();
        it.next() == Some(a) && it.next() == Some(b)
    })
}

/// Titles that may follow a bare surname (`张先生`, `王总`): surname + title is kept as it is.
const TITLES: &[&str] = &[
    "先生", "女士", "小姐", "太太", "夫人", "老师", "师傅", "经理", "总", "主任", "医生", "大夫",
    "律师", "同学", "阿姨", "叔叔", "大哥", "大姐", "哥", "姐", "工", "警官", "科长", "处长",
    "局长", "部长", "老板", "家",
];

/// Characters that never belong to a given name: particles, pronouns, common verbs.
const NON_NAME_CHARS: &str =
    "的了是在我你您他她它们这那哪位个和与跟给对被把说也都就还又吗呢吧啊呀哈嘛哦\
要想来去不没很太打已今昨刚从让叫请问电手号老姓名先等";

fn is_name_char(c: char) -> bool {
    is_han(c) && !NON_NAME_CHARS.contains(c)
}

/// Given-name characters after `我是`/`本人` that make the phrase a role, not a name
/// (`高中生`, `会员`, `用户`, `武汉人`).
const ROLE_SUFFIX_CHARS: &str = "生员户主家师长工人客卡者友民商方级型族迷粉";

/// Surname-initial words often found after `我是` that are not names.
const NOT_NAMES_AFTER_WEAK: &[&str] = &[
    "武汉", "江苏", "江西", "江门", "常州", "温州", "金华", "黄石", "石家", "高中", "高三", "高二",
    "高一", "高管", "周末", "方便", "余额", "白领", "白金", "黄金", "金卡", "钱包", "马上", "万达",
    "龙岗", "龙华", "唐山", "许昌", "韩国", "郑州", "于是", "何时", "史上", "康复", "文员", "文科",
    "常客", "易购", "汤圆", "罗湖", "孙子", "宋朝", "秦皇", "柯桥", "汪汪", "陆续", "曾经", "任何",
    "谢谢", "沈阳", "苏州", "杨浦", "林业", "田园", "程序", "范围", "叶子", "石油", "雷达", "贺卡",
];

fn title_at(t: &Text<'_>, i: usize) -> bool {
    TITLES.iter().any(|title| t.starts_with_at(i, title))
}

/// Surname at character `i`: its length in characters (2 for a compound surname).
fn surname_at(t: &Text<'_>, i: usize) -> Option<usize> {
    let a = t.char(i)?;
    if let Some(b) = t.char(i + 1) {
        if is_compound_surname(a, b) {
            return Some(2);
        }
    }
    is_surname(a).then_some(1)
}

/// Names before `先生`, `女士`, `小姐`: the given name is removed (`王小明先生` → `王先生`).
fn detect_titled_names(t: &Text<'_>) -> Vec<Hit> {
    static TITLE: Lazy<Regex> = Lazy::new(|| Regex::new("先生|女士|小姐").expect("title regex"));
    let mut hits = Vec::new();
    for m in TITLE.find_iter(t.s) {
        let title = t.index_of(m.start());
        if title == 0 {
            continue;
        }
        let c = |back: usize| title.checked_sub(back).and_then(|k| t.char(k));
        let (Some(c1), c2, c3, c4) = (c(1), c(2), c(3), c(4)) else {
            continue;
        };
        if !is_name_char(c1) {
            continue;
        }
        if c2.is_some_and(|c2| is_compound_surname(c2, c1)) {
            continue; // 欧阳先生
        }
        let name_ok = |x: Option<char>| x.is_some_and(is_name_char);
        // (surname start, given-name start), in characters.
        let reading = if c4.zip(c3).is_some_and(|(a, b)| is_compound_surname(a, b)) && name_ok(c2) {
            Some((title - 4, title - 2))
        } else if c3.zip(c2).is_some_and(|(a, b)| is_compound_surname(a, b)) {
            Some((title - 3, title - 1))
        } else if c3.is_some_and(is_surname)
            && name_ok(c2)
            && !(c2.is_some_and(is_surname) && is_surname(c1))
            && !(c2.is_some_and(is_surname)
                && c3.is_some_and(|c3| FUNCTION_WORD_SURNAMES.contains(c3)))
        {
            Some((title - 3, title - 2))
        } else if c2.is_some_and(is_surname) && !is_surname(c1) {
            Some((title - 2, title - 1))
        } else {
            None
        };
        if let Some((surname, given)) = reading {
            hits.push(Hit {
                kind: PiiKind::Name,
                span: t.byte(surname)..t.byte(title),
                edits: vec![(t.byte(given)..t.byte(title), String::new())],
            });
        }
    }
    hits
}

/// How strongly a trigger announces a name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// `我叫`, `姓名`, `收货人` … : what follows is a name.
    Strong,
    /// `我是`, `本人`: what follows may be a name, a role, a place or a verb.
    Weak,
    /// `姓X名Y`.
    SurnameGiven,
}

static NAME_TRIGGER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        "我的名字叫|我的名字是|名字叫|名字是|我名叫|我叫|姓名|联系人|收件人|收货人|持卡人|户名|我是|本人|姓",
    )
    .expect("name trigger regex")
});

fn trigger_kind(s: &str) -> Trigger {
    match s {
        "我是" | "本人" => Trigger::Weak,
        "姓" => Trigger::SurnameGiven,
        _ => Trigger::Strong,
    }
}

/// After a weak trigger, the name must end at punctuation, the end of the text, `我` or a
/// modal particle.
fn weak_boundary(t: &Text<'_>, i: usize) -> bool {
    match t.char(i) {
        None => true,
        Some(c) if !is_han(c) => c != '*',
        Some(c) => "我啊呀哈呢吧嘛哦哟".contains(c) || title_at(t, i),
    }
}

/// Names after an introduction (`我叫张伟` → `我叫张*`).
fn detect_introduced_names(t: &Text<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for m in NAME_TRIGGER.find_iter(t.s) {
        let trigger = trigger_kind(m.as_str());
        let mut p = t.index_of(m.end());
        if trigger == Trigger::Strong {
            let mut skipped = 0;
            while skipped < 3
                && t.char(p)
                    .is_some_and(|c| matches!(c, ':' | '：' | ' ' | '是' | '为'))
            {
                p += 1;
                skipped += 1;
            }
        }
        let Some(surname_len) = surname_at(t, p) else {
            continue;
        };
        let mut q = p + surname_len;
        if trigger == Trigger::SurnameGiven {
            // 姓王名小明, 姓王，名小明
            if t.char(q).is_some_and(|c| matches!(c, '，' | ',' | ' ')) {
                q += 1;
            }
            if t.char(q) != Some('名') {
                continue;
            }
            q += 1;
        }
        if title_at(t, q) || !t.char(q).is_some_and(is_name_char) {
            continue;
        }
        let second = t.char(q + 1).is_some_and(is_name_char) && !title_at(t, q + 1);
        let given_len = match trigger {
            // What follows a strong trigger is a name: two given-name characters when two
            // name characters follow (the most common length), else one.
            Trigger::Strong | Trigger::SurnameGiven => {
                if second {
                    2
                } else {
                    1
                }
            }
            Trigger::Weak => {
                let word = t.slice(p, (p + surname_len + 1).min(t.len()));
                if NOT_NAMES_AFTER_WEAK.contains(&word) {
                    continue;
                }
                let role = |k: usize| t.char(k).is_some_and(|c| ROLE_SUFFIX_CHARS.contains(c));
                if second && weak_boundary(t, q + 2) && !role(q + 1) {
                    2
                } else if !second && weak_boundary(t, q + 1) && !role(q) {
                    1
                } else {
                    continue;
                }
            }
        };
        let given = t.byte(q)..t.byte(q + given_len);
        hits.push(Hit {
            kind: PiiKind::Name,
            span: t.byte(p)..given.end,
            edits: vec![(given.clone(), stars(&t.s[given]))],
        });
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computes the GB 11643 check character for 17 digits (test helper, written independently
    /// of the validator: weights are 2^(17-i) mod 11).
    fn with_check(body: &str) -> String {
        assert_eq!(body.len(), 17);
        let sum: u64 = body
            .bytes()
            .enumerate()
            .map(|(i, d)| u64::from(d - b'0') * ((1u64 << (17 - i)) % 11))
            .sum();
        let value = (12 - sum % 11) % 11;
        let check = if value == 10 {
            'X'
        } else {
            char::from(b'0' + value as u8)
        };
        format!("{body}{check}")
    }

    /// Appends the Luhn check digit to `body` (independent of `luhn_valid`).
    fn with_luhn(body: &str) -> String {
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
        format!("{body}{}", (10 - sum % 10) % 10)
    }

    #[test]
    fn resident_id_validator() {
        assert!(is_valid_resident_id("11010519491231002X"));
        assert!(is_valid_resident_id("11010519491231002x"));
        assert!(!is_valid_resident_id("110105194912310021")); // wrong check character
        assert!(!is_valid_resident_id("11010519491231002")); // too short
        assert!(!is_valid_resident_id("11010519491331002X")); // month 13 (checksum aside)
        assert!(!is_valid_resident_id("01010519491231002X"));
        assert!(!is_valid_resident_id("1101051949123100２X")); // full-width digit
        assert!(!is_valid_resident_id(""));
        // Generated IDs, checked with an independent implementation of the checksum.
        for body in [
            "44030419850612123",
            "31011520000229567",
            "51010719990101001",
            "65010219720815234",
        ] {
            let id = with_check(body);
            assert!(is_valid_resident_id(&id), "{id}");
            let last = id.as_bytes()[17];
            let wrong_check = if last == b'0' { '1' } else { '0' };
            let mut wrong = id[..17].to_string();
            wrong.push(wrong_check);
            assert!(!is_valid_resident_id(&wrong), "{wrong}");
        }
        assert_eq!(with_check("11010519491231002"), "11010519491231002X");
        // 2001-02-29 does not exist, even with a correct check character.
        assert!(!is_valid_resident_id(&with_check("31011520010229567")));
        assert!(is_valid_resident_id(&with_check("31011520040229567")));
    }

    #[test]
    fn legacy_resident_id_validator() {
        assert!(is_valid_legacy_resident_id("110105491231002"));
        assert!(is_valid_legacy_resident_id("440304850612123"));
        assert!(!is_valid_legacy_resident_id("110105491331002")); // month 13
        assert!(!is_valid_legacy_resident_id("910105491231002")); // region
        assert!(!is_valid_legacy_resident_id("11010549123100"));
        assert!(!is_valid_legacy_resident_id("11010549123100X"));
    }

    #[test]
    fn luhn_validator() {
        // Well-known test card numbers.
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("5555555555554444"));
        assert!(luhn_valid("378282246310005"));
        assert!(luhn_valid("6011111111111117"));
        assert!(luhn_valid("79927398713"));
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("4111-1111-1111-1111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid("4111a111111111111"));
        assert!(!luhn_valid("0"));
        assert!(!luhn_valid(""));
        let card = with_luhn("622202020012345678");
        assert!(luhn_valid(&card));
        assert_eq!(with_luhn("7992739871"), "79927398713");
    }

    #[test]
    fn mask_table() {
        let card19 = with_luhn("622202020012345678");
        let card16 = with_luhn("621700000123456");
        let bad_card = {
            let mut c = card19.clone();
            let last = c.pop().unwrap();
            c.push(if last == '9' {
                '0'
            } else {
                char::from(last as u8 + 1)
            });
            c
        };
        let id = with_check("44030419850612123");
        let cases: Vec<(String, String)> = [
            // --- mobiles
            ("我的电话13812345678", "我的电话1**********"),
            ("电话：13812345678，尽快回电", "电话：1**********，尽快回电"),
            ("手机 138 1234 5678", "手机 1** **** ****"),
            ("手机138-1234-5678", "手机1**-****-****"),
            ("打+86 138 1234 5678找我", "打+86 1** **** ****找我"),
            ("+8613912345678", "+861**********"),
            ("0086-15912345678", "0086-1**********"),
            ("0138 1234 5678", "01** **** ****"),
            ("1381234-5678", "1******-****"),
            ("拨013812345678", "拨01**********"),
            (
                "联系13812345678或13987654321",
                "联系1**********或1**********",
            ),
            // --- landlines
            ("座机010-62345678", "座机010-********"),
            ("打0755 8888 6666", "打0755 **** ****"),
            ("电话(0571)88886666", "电话(0571)********"),
            ("02187654321", "021********"),
            ("电话是0571-88886666转8001", "电话是0571-********转8001"),
            // --- e-mail
            ("邮箱zhangwei@163.com谢谢", "邮箱z*******@163.com谢谢"),
            ("发到 a.b-c@example.com.cn", "发到 a****@example.com.cn"),
            ("13812345678@qq.com", "1**********@qq.com"),
            // --- names
            ("我叫张伟", "我叫张*"),
            ("我叫王小明，订单没到", "我叫王**，订单没到"),
            ("我叫张伟想问一下", "我叫张*想问一下"),
            ("我是王小明。", "我是王**。"),
            ("我是李四，电话13812345678", "我是李*，电话1**********"),
            ("本人刘德华", "本人刘**"),
            ("王小明先生您好", "王先生您好"),
            ("请转告李明先生", "请转告李先生"),
            ("欧阳娜娜女士", "欧阳女士"),
            ("司马光先生", "司马先生"),
            ("我是王小明先生", "我是王先生"),
            ("姓名：陈晓东", "姓名：陈**"),
            ("收货人是赵敏", "收货人是赵*"),
            ("我姓王，名小明", "我姓王，名**"),
            ("我叫欧阳锋", "我叫欧阳*"),
            ("联系人：王小明 13812345678", "联系人：王** 1**********"),
            ("麻烦向王明先生转达", "麻烦向王先生转达"),
            ("我是赵四。我是李五", "我是赵*。我是李*"),
            // --- names left alone
            ("我是来投诉的", "我是来投诉的"),
            ("我是张先生，电话13812345678", "我是张先生，电话1**********"),
            ("我是高中生", "我是高中生"),
            ("我是黄金会员", "我是黄金会员"),
            ("我是武汉的用户", "我是武汉的用户"),
            ("我是江苏人", "我是江苏人"),
            ("我是你们的老客户", "我是你们的老客户"),
            ("本人于昨天下单", "本人于昨天下单"),
            ("王先生", "王先生"),
            ("这位先生", "这位先生"),
            ("欧阳先生", "欧阳先生"),
            ("服务员小王先生", "服务员小王先生"),
            ("张杨女士", "张杨女士"),
            ("我叫了三次外卖", "我叫了三次外卖"),
            ("我叫王师傅来修", "我叫王师傅来修"),
            ("我姓王", "我姓王"),
            // --- look-alikes
            ("订单号13812345678还没发货", "订单号13812345678还没发货"),
            ("快递单号：13812345678", "快递单号：13812345678"),
            ("工号 13812345678", "工号 13812345678"),
            ("验证码是138123", "验证码是138123"),
            ("订单号是 13812345678 ", "订单号是 13812345678 "),
            (
                "我打了10086和12315，还有95588",
                "我打了10086和12315，还有95588",
            ),
            ("客服热线400-810-8888", "客服热线400-810-8888"),
            ("扣了13812345678元", "扣了13812345678元"),
            ("¥13812345678", "¥13812345678"),
            ("2024-03-15 10:30下的单", "2024-03-15 10:30下的单"),
            ("版本3.13812345678", "版本3.13812345678"),
            ("运单SF13812345678", "运单SF13812345678"),
            ("12345678901", "12345678901"),
            ("1381234567", "1381234567"),
            // digit groups that do not have the shape of a phone number
            ("6222 1381 2345 678", "6222 1381 2345 678"),
            ("13 812 345 678", "13 812 345 678"),
            ("单号 1234 13812345678", "单号 1234 13812345678"),
            ("金额 13812345678.00", "金额 13812345678.00"),
            ("QQ号123456789", "QQ号123456789"),
            ("138123456789", "138123456789"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .chain([
            // --- resident IDs
            (
                "身份证11010519491231002X办的卡".to_string(),
                "身份证******************办的卡".to_string(),
            ),
            (
                format!("证件号{id}"),
                "证件号******************".to_string(),
            ),
            (
                "身份证 110105 19491231 002x".to_string(),
                "身份证 ****** ******** ****".to_string(),
            ),
            // wrong check character: looks like an ID, is not one
            (
                "号码110105194912310021".to_string(),
                "号码110105194912310021".to_string(),
            ),
            // legacy IDs only after an ID keyword
            (
                "身份证号110105491231002".to_string(),
                "身份证号***************".to_string(),
            ),
            (
                "编码110105491231002".to_string(),
                "编码110105491231002".to_string(),
            ),
            // --- bank cards
            (
                format!("卡号{card19}被盗刷"),
                format!("卡号***************{}被盗刷", &card19[15..]),
            ),
            (
                format!(
                    "卡号 {} {} {} {}",
                    &card16[..4],
                    &card16[4..8],
                    &card16[8..12],
                    &card16[12..]
                ),
                format!("卡号 **** **** **** {}", &card16[12..]),
            ),
            (format!("卡号{bad_card}"), format!("卡号{bad_card}")),
            (format!("订单号{card19}"), format!("订单号{card19}")),
            // --- full-width digits
            (
                "电话１３８１２３４５６７８".to_string(),
                "电话１**********".to_string(),
            ),
        ])
        .collect();
        assert!(cases.len() >= 25);
        let mut failures = Vec::new();
        for (input, expected) in &cases {
            let got = mask(input);
            if &got != expected {
                failures.push(format!("mask({input:?}) = {got:?}, expected {expected:?}"));
            }
            assert_eq!(mask(&got), got, "not idempotent on {input:?}");
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn spans_report_kind_and_range() {
        let text = "我叫张伟，电话13812345678，邮箱zw@qq.com，身份证11010519491231002X";
        let spans = find_pii(text);
        let kinds: Vec<PiiKind> = spans.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                PiiKind::Name,
                PiiKind::Mobile,
                PiiKind::Email,
                PiiKind::ResidentId
            ]
        );
        let texts: Vec<&str> = spans.iter().map(|s| &text[s.range.clone()]).collect();
        assert_eq!(
            texts,
            ["张伟", "13812345678", "zw@qq.com", "11010519491231002X"]
        );
        assert_eq!(PiiKind::ResidentId.as_str(), "resident_id");
        assert!(find_pii("我要投诉，10086打不通").is_empty());
    }

    #[test]
    fn design_example() {
        assert_eq!(
            mask("我是张先生，电话13812345678"),
            "我是张先生，电话1**********"
        );
    }

    #[test]
    fn non_pii_characters_are_unchanged() {
        let text = "宽带断网三天了！我叫王小明，电话 138-1234-5678，订单号 202403150001。";
        let masked = mask(text);
        assert_eq!(
            masked,
            "宽带断网三天了！我叫王**，电话 1**-****-****，订单号 202403150001。"
        );
        // Masking never changes the character count except for names removed before a title.
        assert_eq!(masked.chars().count(), text.chars().count());
    }

    #[test]
    fn never_panics_and_is_idempotent_on_odd_input() {
        let mut inputs: Vec<String> = [
            "",
            "1",
            "X",
            "先生",
            "女士小姐先生",
            "王先生先生",
            "我叫",
            "我是",
            "姓",
            "姓王名",
            "@",
            "a@",
            "@b.com",
            "1-",
            "-1",
            "1 ",
            "(",
            "（010）",
            "0086",
            "+86",
            "138 ",
            "11010519491231002",
            "11010519491231002X1",
            "1101051949123100２X",
            "😀13812345678😀",
            "é13812345678",
            "\u{0}\u{FFFF}13812345678",
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0",
            "我叫王王王王王王",
            "李王小明先生",
            "高何王小明先生",
            "我是我是我是王",
            "13812345678x",
            "１３８１２３４５６７８ｘ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A deterministic pseudo-random mix of digits, separators, CJK and ASCII.
        let alphabet: Vec<char> =
            "0123456789 -+()（）X@.王李欧阳小明先生女士我叫是本人姓名号单元¥：，a😀"
                .chars()
                .collect();
        let mut state = 0x2545F4914F6CDD1Du64;
        for _ in 0..3000 {
            let len = (state % 40) as usize;
            let mut s = String::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            state = state.wrapping_mul(0x9E3779B97F4A7C15).wrapping_add(1);
            inputs.push(s);
        }
        for input in &inputs {
            let once = mask(input);
            assert_eq!(mask(&once), once, "not idempotent on {input:?}");
            for span in find_pii(input) {
                assert!(input.is_char_boundary(span.range.start));
                assert!(input.is_char_boundary(span.range.end));
            }
        }
    }
}
