//! Text normalization applied before the model and keyword extraction.
//!
//! [`normalize`] runs every step below in this order; [`normalize_with`] lets a caller switch off
//! the (heuristic) filler removal. The result is stable: `normalize(&normalize(x)) ==
//! normalize(x)`.
//!
//! 1. **Invisible characters.** Zero-width characters (U+200B–U+200F), bidi controls
//!    (U+202A–U+202E, U+2066–U+2069), word joiner (U+2060), soft hyphen (U+00AD) and the byte
//!    order mark (U+FEFF) are removed. Control characters are removed, except the whitespace ones
//!    (tab, newline, carriage return, ...), which become a space.
//! 2. **Width.** Full-width forms U+FF01–U+FF5E become their ASCII counterparts (`ＡＢＣ１２３` →
//!    `ABC123`, `＠` → `@`, `（）` → `()`), and the ideographic space U+3000 becomes a space.
//!    CJK punctuation outside that block (`。、“”‘’《》【】…`) is left alone.
//! 3. **Traditional → simplified** with [`fast2s`] (pure Rust, MIT, table embedded at build time,
//!    no I/O at run time): `我們的服務態度` → `我们的服务态度`.
//! 4. **ASR fillers** (only when [`NormalizeOptions::fillers`] is set) — deliberately
//!    conservative, so that real words are never broken:
//!    * stutters of a discourse marker collapse to one: `那个那个` → `那个`, `就是，就是` → `就是`
//!      (markers: 那个 这个 就是 然后);
//!    * a stand-alone hesitation token — a token made only of 嗯/呃/额 (`嗯`, `嗯嗯`, `呃呃`) or
//!      one of `um uh umm uhh uhm erm hmm` — is removed wherever it stands. "Stand-alone" means
//!      delimited by whitespace, clause punctuation or the text's ends, so `额度` and `额外` are
//!      never touched;
//!    * a stand-alone `啊`, `那个`, `这个` or `就是` is removed only at the start of a clause and
//!      only when more content follows in the same sentence (`啊 我想问一下` → `我想问一下`), so
//!      the sentence-final `好啊` / `好 啊` and an exclamation `啊？` are kept;
//!    * at the start of a clause, 嗯/呃 glued to the following word are stripped (`嗯我想问` →
//!      `我想问`);
//!    * a comma left dangling by a removed filler is dropped as well (`嗯，我想` → `我想`);
//!    * if nothing but fillers would remain (a turn that is only `嗯` or `嗯嗯。`), the text is
//!      kept as it is, since a bare `嗯` is an answer.
//! 5. **Whitespace.** Runs of whitespace collapse to one space and the ends are trimmed.
//! 6. **Clause punctuation** `，！？：；` has one canonical form decided by context, whatever the
//!    input used: full-width when the previous non-space character is CJK (an ideograph or CJK
//!    punctuation), ASCII otherwise. So `好,谢谢` and `好，谢谢` both give `好，谢谢`, `太差了!!!`
//!    gives `太差了！！！`, while `OK!` and `10:30` stay ASCII.
//! 7. **Spaces between CJK.** A space whose neighbours are both CJK is dropped (`宽带 怎么还没修好`
//!    → `宽带怎么还没修好`): word segmentation must not see ASR pauses as word boundaries. Spaces
//!    next to Latin letters or digits are kept (`等了 3 天`).

use once_cell::sync::Lazy;
use regex::Regex;

/// Which optional steps [`normalize_with`] runs. `Default` turns everything on, like
/// [`normalize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizeOptions {
    /// Remove ASR fillers and collapse stutters (step 4 of the module documentation).
    pub fillers: bool,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        Self { fillers: true }
    }
}

/// Full normalization pipeline (every step on). See the module documentation.
pub fn normalize(text: &str) -> String {
    normalize_with(text, &NormalizeOptions::default())
}

/// Normalization with the optional steps chosen by `options`.
pub fn normalize_with(text: &str, options: &NormalizeOptions) -> String {
    let folded = fold_chars(text);
    let simplified = fast2s::convert(&folded);
    if !options.fillers {
        return finish_spacing(&simplified);
    }
    let mut out = finish_spacing(&remove_fillers(&simplified));
    // Spacing can bring together what the filler step saw apart (`那 个 那个` becomes `那个那个`
    // once the spaces between CJK characters go; found by fuzzing): repeat both steps until the
    // text no longer changes, so that normalization stays idempotent.
    for _ in 0..4 {
        let again = finish_spacing(&remove_fillers(&out));
        if again == out {
            break;
        }
        out = again;
    }
    out
}

/// Step 1 + 2: drop invisible characters and fold widths. Clause punctuation is folded to ASCII
/// here; its final form is chosen by [`finish_spacing`].
fn fold_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_control() {
            if c.is_whitespace() {
                out.push(' ');
            }
            continue;
        }
        out.push(fold_width(c));
    }
    out
}

/// Whether nothing of `text` would be left to read: only whitespace, control and invisible characters
/// (what step 1 removes), so `"\u{200B}\u{FEFF}"` is as empty as `"  "`.
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
}

/// The text as PII masking reads it ([`crate::text::pii`]), and for each of its characters the index (in
/// characters) of the character of `text` it stands on. Only what can hide personal data is undone, and
/// characters are never rewritten beyond one for one, so what masking finds here maps back onto `text`:
/// - invisible characters (step 1) are dropped; a control character that is whitespace becomes a space,
///   any other control character is dropped;
/// - full-width letters and `@ . _ - +` become ASCII (`＠` → `@`); full-width digits (which masking reads as
///   digits) and clause punctuation keep their form;
/// - traditional characters are simplified (step 3, one character for one: `張偉` → `张伟`);
/// - a run of whitespace becomes one space (step 5), and a space between two ideographs is dropped
///   (step 7: `陈 伟` → `陈伟`);
/// - a stand-alone hesitation (`嗯`, `呃`, `额`) between two separators is dropped with the separator after
///   it (`幺三八，嗯，幺二三四` → `幺三八，幺二三四`).
pub fn fold_for_masking(text: &str) -> (String, Vec<usize>) {
    let mut chars: Vec<(char, usize)> = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if is_invisible(c) || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        // Full-width digits keep their form: the detectors read them as digits already.
        let folded = fold_width(c);
        let fold = folded.is_ascii_alphabetic() || "@._-+ ".contains(folded);
        chars.push((if fold { folded } else { c }, i));
    }
    let folded: String = chars.iter().map(|&(c, _)| c).collect();
    let simplified = fast2s::convert(&folded);
    if simplified.chars().count() == chars.len() {
        for (slot, c) in chars.iter_mut().zip(simplified.chars()) {
            slot.0 = c;
        }
    }
    let mut spaced: Vec<(char, usize)> = Vec::with_capacity(chars.len());
    for (c, i) in chars {
        if !c.is_whitespace() {
            spaced.push((c, i));
        } else if spaced.last().is_some_and(|&(p, _)| p != ' ') {
            spaced.push((' ', i));
        }
    }
    let separator = |c: char| matches!(c, ' ' | ',' | '，' | '、' | '。' | '.');
    let mut out: Vec<(char, usize)> = Vec::with_capacity(spaced.len());
    let mut k = 0;
    while k < spaced.len() {
        let (c, _) = spaced[k];
        if HESITATION_CHARS.contains(&c) && k > 0 && separator(spaced[k - 1].0) {
            let end = (k..spaced.len())
                .find(|&e| !HESITATION_CHARS.contains(&spaced[e].0))
                .unwrap_or(spaced.len());
            if end < spaced.len() && separator(spaced[end].0) {
                k = end + 1;
                continue;
            }
        }
        if c == ' '
            && out.last().is_some_and(|&(p, _)| is_han(p))
            && spaced.get(k + 1).is_some_and(|&(n, _)| is_han(n))
        {
            k += 1;
            continue;
        }
        out.push(spaced[k]);
        k += 1;
    }
    (
        out.iter().map(|&(c, _)| c).collect(),
        out.iter().map(|&(_, i)| i).collect(),
    )
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{00AD}'
            | '\u{FEFF}'
    )
}

fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// CJK ideographs (URO, extension A, compatibility, supplementary planes).
pub(crate) fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{4E00}'..='\u{9FFF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{323AF}'
    )
}

/// CJK punctuation: the CJK symbols block, full-width clause punctuation, curly quotes, ellipsis
/// and dashes as used in Chinese text.
fn is_cjk_punct(c: char) -> bool {
    matches!(
        c,
        '\u{3001}'..='\u{303F}'
            | '，'
            | '！'
            | '？'
            | '：'
            | '；'
            | '\u{2018}'..='\u{201F}'
            | '…'
            | '—'
            | '·'
    )
}

fn is_cjk(c: char) -> bool {
    is_han(c) || is_cjk_punct(c)
}

/// Clause punctuation whose form (ASCII or full-width) is decided by context.
fn clause_punct_forms(c: char) -> Option<(char, char)> {
    match c {
        ',' | '，' => Some((',', '，')),
        '!' | '！' => Some(('!', '！')),
        '?' | '？' => Some(('?', '？')),
        ':' | '：' => Some((':', '：')),
        ';' | '；' => Some((';', '；')),
        _ => None,
    }
}

/// Steps 5–7: collapse whitespace, choose the clause punctuation form, drop spaces between CJK.
fn finish_spacing(text: &str) -> String {
    // 5. collapse and trim
    let mut collapsed: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() {
            if collapsed.last().is_some_and(|&p| p != ' ') {
                collapsed.push(' ');
            }
        } else {
            collapsed.push(c);
        }
    }
    while collapsed.last() == Some(&' ') {
        collapsed.pop();
    }

    // 6. clause punctuation by context (previous non-space character, after its own conversion)
    let mut prev_non_space: Option<char> = None;
    for c in collapsed.iter_mut() {
        if let Some((ascii, wide)) = clause_punct_forms(*c) {
            *c = if prev_non_space.is_some_and(is_cjk) {
                wide
            } else {
                ascii
            };
        }
        if *c != ' ' {
            prev_non_space = Some(*c);
        }
    }

    // 7. drop spaces between two CJK characters
    let mut out = String::with_capacity(text.len());
    for (i, &c) in collapsed.iter().enumerate() {
        if c == ' ' {
            let prev = i.checked_sub(1).map(|j| collapsed[j]);
            let next = collapsed.get(i + 1).copied();
            if prev.is_some_and(is_cjk) && next.is_some_and(is_cjk) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// ASR fillers
// ---------------------------------------------------------------------------------------------

/// Discourse markers whose immediate repetitions are collapsed.
const STUTTER_MARKERS: [&str; 4] = ["那个", "这个", "就是", "然后"];

static STUTTERS: Lazy<Vec<(Regex, &'static str)>> = Lazy::new(|| {
    STUTTER_MARKERS
        .iter()
        .map(|m| {
            let pattern = format!("{m}(?:[\\s,，、]*{m})+");
            (Regex::new(&pattern).expect("stutter pattern is valid"), *m)
        })
        .collect()
});

/// Hesitation sounds removed wherever they stand alone.
const HESITATION_CHARS: [char; 3] = ['嗯', '呃', '额'];
/// Hesitation sounds that may be glued to the first word of a clause.
const GLUED_HESITATION_CHARS: [char; 2] = ['嗯', '呃'];
/// English-style hesitations (compared case-insensitively).
const LATIN_FILLERS: [&str; 8] = ["um", "umm", "uh", "uhh", "uhm", "erm", "hmm", "hmmm"];
/// Stand-alone words removed only at the start of a clause, when content follows.
const CLAUSE_START_FILLERS: [&str; 3] = ["那个", "这个", "就是"];

/// Punctuation that separates clauses (for tokenizing filler candidates).
fn is_clause_punct(c: char) -> bool {
    matches!(
        c,
        ',' | '，'
            | '、'
            | '.'
            | '。'
            | '!'
            | '！'
            | '?'
            | '？'
            | ';'
            | '；'
            | ':'
            | '：'
            | '…'
            | '~'
            | '～'
            | '—'
    )
}

fn is_comma_like(c: char) -> bool {
    matches!(c, ',' | '，' | '、')
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Space(&'a str),
    Punct(char),
    Word(&'a str),
}

fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut start = 0;
    let mut kind: Option<bool> = None; // Some(true) = in whitespace run, Some(false) = in word
    for (i, c) in text.char_indices() {
        if is_clause_punct(c) {
            flush(text, start, i, kind, &mut toks);
            toks.push(Tok::Punct(c));
            kind = None;
            start = i + c.len_utf8();
            continue;
        }
        let ws = c.is_whitespace();
        if kind != Some(ws) {
            flush(text, start, i, kind, &mut toks);
            kind = Some(ws);
            start = i;
        }
    }
    flush(text, start, text.len(), kind, &mut toks);
    toks
}

fn flush<'a>(text: &'a str, start: usize, end: usize, kind: Option<bool>, toks: &mut Vec<Tok<'a>>) {
    if start < end {
        match kind {
            Some(true) => toks.push(Tok::Space(&text[start..end])),
            Some(false) => toks.push(Tok::Word(&text[start..end])),
            None => {}
        }
    }
}

fn is_hesitation(word: &str) -> bool {
    (!word.is_empty() && word.chars().all(|c| HESITATION_CHARS.contains(&c)))
        || LATIN_FILLERS.iter().any(|f| word.eq_ignore_ascii_case(f))
}

fn is_clause_start_filler(word: &str) -> bool {
    (!word.is_empty() && word.chars().all(|c| c == '啊')) || CLAUSE_START_FILLERS.contains(&word)
}

/// Index of the next non-space token at or after `i`.
fn next_non_space(toks: &[Tok<'_>], mut i: usize) -> Option<usize> {
    while i < toks.len() {
        if !matches!(toks[i], Tok::Space(_)) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Does content of the same sentence follow token `i` (directly or after a comma)?
fn content_follows(toks: &[Tok<'_>], i: usize) -> bool {
    match next_non_space(toks, i + 1).map(|j| (j, &toks[j])) {
        Some((_, Tok::Word(_))) => true,
        Some((j, Tok::Punct(p))) if is_comma_like(*p) => {
            matches!(
                next_non_space(toks, j + 1).map(|k| &toks[k]),
                Some(Tok::Word(_))
            )
        }
        _ => false,
    }
}

fn remove_fillers(text: &str) -> String {
    let mut collapsed = text.to_string();
    for (re, marker) in STUTTERS.iter() {
        if collapsed.contains(marker) {
            collapsed = re.replace_all(&collapsed, *marker).into_owned();
        }
    }

    let toks = tokenize(&collapsed);
    let mut out: Vec<Tok<'_>> = Vec::with_capacity(toks.len());
    let mut clause_start = true;
    let mut drop_next_comma = false;
    let mut kept_words = 0usize;
    let mut removed_any = false;

    let mut i = 0;
    while i < toks.len() {
        match toks[i] {
            Tok::Space(s) => out.push(Tok::Space(s)),
            Tok::Punct(p) => {
                if drop_next_comma && is_comma_like(p) {
                    // comma left dangling by a filler removed at the start of a clause
                } else if drop_next_comma && last_non_space(&out).is_some_and(is_comma_like) {
                    // "好的，嗯。" → "好的。": the stronger mark replaces the dangling comma
                    pop_last_non_space(&mut out);
                    out.push(Tok::Punct(p));
                } else {
                    out.push(Tok::Punct(p));
                }
                drop_next_comma = false;
                clause_start = true;
            }
            Tok::Word(w) => {
                let remove = is_hesitation(w)
                    || (clause_start && is_clause_start_filler(w) && content_follows(&toks, i));
                if remove {
                    removed_any = true;
                    drop_next_comma =
                        clause_start || last_non_space(&out).is_some_and(is_comma_like);
                    if next_non_space(&toks, i + 1).is_none()
                        && last_non_space(&out).is_some_and(is_comma_like)
                    {
                        // "好的，嗯" → "好的"
                        pop_last_non_space(&mut out);
                    }
                } else {
                    let stripped = if clause_start {
                        strip_glued_hesitation(w)
                    } else {
                        w
                    };
                    if stripped.len() != w.len() {
                        removed_any = true;
                    }
                    out.push(Tok::Word(stripped));
                    kept_words += 1;
                    clause_start = false;
                    drop_next_comma = false;
                }
            }
        }
        i += 1;
    }

    if !removed_any {
        return collapsed;
    }
    if kept_words == 0 {
        // nothing but fillers: a bare "嗯" is an answer, keep it
        return collapsed;
    }
    let mut result = String::with_capacity(collapsed.len());
    for t in out {
        match t {
            Tok::Space(s) | Tok::Word(s) => result.push_str(s),
            Tok::Punct(p) => result.push(p),
        }
    }
    result
}

fn last_non_space(out: &[Tok<'_>]) -> Option<char> {
    out.iter().rev().find_map(|t| match t {
        Tok::Space(_) => None,
        Tok::Punct(p) => Some(Some(*p)),
        Tok::Word(_) => Some(None),
    })?
}

fn pop_last_non_space(out: &mut Vec<Tok<'_>>) {
    if let Some(pos) = out.iter().rposition(|t| !matches!(t, Tok::Space(_))) {
        out.remove(pos);
    }
}

/// `嗯我想问` → `我想问` (only 嗯/呃, which start no common word; never the whole word).
fn strip_glued_hesitation(word: &str) -> &str {
    let rest = word.trim_start_matches(|c| GLUED_HESITATION_CHARS.contains(&c));
    if rest.is_empty() {
        word
    } else {
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_for_masking_says_where_each_character_comes_from() {
        let (view, from) = fold_for_masking("我叫張\u{200B}偉，\t電話 ＠ｑｑ");
        assert_eq!(view, "我叫张伟， 电话 @qq");
        assert_eq!(from, vec![0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let (view, from) = fold_for_masking("幺三八，嗯，幺二  三四 五\u{3000}\u{3000}六");
        assert_eq!(view, "幺三八，幺二三四五六");
        assert_eq!(from, vec![0, 1, 2, 3, 6, 7, 10, 11, 13, 16]);
        // Digits, clause punctuation and text with nothing to fold are left as they are.
        for text in ["１３８，好！", "金额，嗯", "额度 10 元", ""] {
            let (view, from) = fold_for_masking(text);
            assert_eq!(view, text);
            assert_eq!(from, (0..text.chars().count()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn normalize_table() {
        let cases: &[(&str, &str)] = &[
            // width
            ("ＡＢＣ１２３", "ABC123"),
            ("ｉＰｈｏｎｅ１５　Ｐｒｏ", "iPhone15 Pro"),
            ("邮箱ｋｅｆｕ＠ｑｑ．ｃｏｍ", "邮箱kefu@qq.com"),
            ("优惠（满１００减２０）", "优惠(满100减20)"),
            ("１０：３０到", "10:30到"),
            ("ＯＫ！", "OK!"),
            // clause punctuation by context
            ("好,谢谢", "好，谢谢"),
            ("太差了!!!", "太差了！！！"),
            ("电话:13812345678", "电话：13812345678"),
            ("退款了吗?", "退款了吗？"),
            ("OK, thanks!", "OK, thanks!"),
            // traditional → simplified
            ("我們的服務態度", "我们的服务态度"),
            ("寬頻一直斷線，請盡快處理！", "宽频一直断线，请尽快处理！"),
            ("為什麼還沒退款", "为什么还没退款"),
            // invisible characters, whitespace
            ("宽\u{200B}带\u{FEFF}坏了", "宽带坏了"),
            ("  我要\t\t投诉 \n  ", "我要投诉"),
            ("第一行\r\n第二行", "第一行第二行"),
            ("等了  3   天", "等了 3 天"),
            ("\u{0007}响铃\u{0000}", "响铃"),
            // ASR fillers
            (
                "嗯 那个 我想问一下 宽带 啊 怎么还没修好",
                "我想问一下宽带啊怎么还没修好",
            ),
            ("嗯，我想办理退款", "我想办理退款"),
            ("呃呃 就是就是 我的快递丢了", "我的快递丢了"),
            ("那个那个订单还没发货", "那个订单还没发货"),
            ("嗯我想问一下话费", "我想问一下话费"),
            ("啊 我的流量怎么用完了", "我的流量怎么用完了"),
            ("好的，嗯，谢谢", "好的，谢谢"),
            ("好的，嗯。", "好的。"),
            ("好的，嗯", "好的"),
            ("um I want a refund", "I want a refund"),
            ("宽带 嗯 还是不行", "宽带还是不行"),
            // real words are kept
            ("好啊", "好啊"),
            ("好 啊", "好啊"),
            ("啊？怎么又扣费了", "啊？怎么又扣费了"),
            ("额度不够用", "额度不够用"),
            ("额外收了我二十块", "额外收了我二十块"),
            ("就是这个套餐有问题", "就是这个套餐有问题"),
            ("我要那个", "我要那个"),
            ("嗯", "嗯"),
            ("嗯嗯。", "嗯嗯。"),
            ("", ""),
            ("   ", ""),
        ];
        let mut failures = Vec::new();
        for (input, expected) in cases {
            let got = normalize(input);
            if got != *expected {
                failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn fillers_can_be_switched_off() {
        let opts = NormalizeOptions { fillers: false };
        assert_eq!(
            normalize_with("嗯 那个 我們 要投訴", &opts),
            "嗯那个我们要投诉"
        );
        assert_eq!(normalize_with("ＡＢＣ，嗯", &opts), "ABC,嗯");
        assert!(NormalizeOptions::default().fillers);
    }

    #[test]
    fn normalize_is_idempotent() {
        let inputs = [
            "嗯 那个 我想问一下 宽带 啊 怎么还没修好",
            "OK 嗯,好",
            "好 , 谢谢",
            "ＯＫ！！好的！",
            "我們的服務態度,太差了!!!",
            "  um, uh 退款  ",
            "嗯，啊",
            "就是，就是，那个那个 订单",
            "等了 3 天 , 没人管",
            "a , b , 我",
            // Found by fuzzing: the spaces inside `那 个` go only after the stutter step.
            "那\t\0\0\0个 那个$1\u{1}\0\0\u{1a}78",
            "那 个 那个 订单",
        ];
        for input in inputs {
            let once = normalize(input);
            assert_eq!(normalize(&once), once, "not idempotent for {input:?}");
        }
    }
}
