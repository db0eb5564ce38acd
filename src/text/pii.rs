//! Masking of personal information (PII) in customer-service text.
//!
//! [`mask`] replaces personal data with `*` and leaves every other character exactly as it was.
//! [`mask_with`] does the same with [`MaskOptions`]: an allow-list of numbers and addresses that
//! are never masked (default: the hotlines of [`DEFAULT_ALLOW`]) and the kinds to mask.
//! [`find_pii`] reports what would be masked (kind + byte range) without changing the text.
//! Full-width digits (`１３８…`) are recognised as well, so raw and [normalized](super::normalize)
//! text can both be masked. [`mask_with`] and [`find_pii_with`] read the text through
//! [`fold_for_masking`] (traditional characters simplified, `＠` folded, invisible characters and
//! doubled spaces dropped …) and mask what they find there on the original characters.
//!
//! # What is masked, and how
//!
//! | kind | recognised | masked form |
//! |---|---|---|
//! | mobile | `1[3-9]` + 9 digits, optionally prefixed by `86`, `+86`, `0086` or a trunk `0`, digits optionally grouped with spaces or dashes (`138 1234 5678`, `+86-138-1234-5678`, the last four in pairs `138 1234 56 78`, or eleven single digits `1 3 8 1 …`) | only the leading `1` (and the prefix) kept: `13812345678` → `1**********`, `+86 138 1234 5678` → `+86 1** **** ****` |
//! | numbers in words (ASR) | digit words — `零`/`〇`/`洞` 0, `一`/`幺` 1, `二` … `九`, `拐` 7, and the formal (financial) digits of bank forms `壹 贰 叁 肆 伍 陆 柒 捌 玖` (`陆贰贰贰零贰…`, `壹叁捌…`) — one block or grouped as above (separators also `，`/`、`; and `。`/`.`/`．`, which speech recognition puts between the groups of a number read out, `一三八。一二三四。五六七八`, only between groups of three or more digit words and when no part before such a separator is a number by itself), read by the rules of the written kinds (prefixes, check digits, the relaxation after `身份证`): mobiles (`幺三八一二三四五六七八`, `一三八 一二三四 五六七八`, a spoken prefix `加零零八六…`/`加八六…`), landlines, resident IDs (`四四零三零六一九九零零一零一一二三六`), bank cards (`六二二二零二…`); words mixed with written digits only as a mobile, every stretch of words at least two long (`一三八1234五六七八`) | as written numbers, one for one: `幺**********`, `加零零八六幺**********`, `******************`, `***************四五六二` |
//! | landline | area code + number: `010`/`02x` + 8 digits, `0[3-9]xx` + 7–8 digits, written `010-62345678`, `(0755)88886666`, `0571 8888 6666` or unbroken; with the country code and the area code without its `0` after `+86`/`0086` (`+86-10-62345678`) | area code kept: `010-********`, `+86-10-********` |
//! | resident ID | 18 characters with a valid GB 11643 check character ([`is_valid_resident_id`]); right after `身份证`/`证件` also a mistyped one (a real birth date, a wrong check character: `身份证号440306199001011237`), and a 15-digit legacy ID ([`is_valid_legacy_resident_id`]) | fully masked: `******************` |
//! | bank card | 16–19 digits (spaces or dashes allowed) passing [`luhn_valid`], with a card-scheme first digit (`3`–`6`, or `2221`–`2720`) | last 4 digits kept: `**** **** **** ***0 123` |
//! | e-mail | `local@domain.tld`; also with one space on either side of `@` (`zhangsan @ 163.com`) or `@` URL-encoded (`zhangsan%40163.com`) | first character of the local part kept: `z*******@163.com` |
//! | name after an introduction | `我叫`, `本人叫`, `我名叫`, `名字叫/是`, `姓名`, `联系人`, `收件人`, `收货人`, `持卡人`, `户名` (then optional `：`/`是`/`为`), `姓X名Y`, `姓X，叫XY` or `姓X，XY` (the name then followed by punctuation, the end of the text, a particle, `我`, `要` or a following word: `我姓张，张飞的张` is spelled out), followed by a common surname and a 1–2 character given name; the second character is not taken when a common following word starts there (`投诉`, `反映`, `昨天`, `想`… — `我叫张伟投诉一下` → `我叫张*投诉一下`) | given name replaced by `*`: `我叫张伟` → `我叫张*`, `姓名：王小明` → `姓名：王**` |
//! | name after `我是` / `本人` / `这边是` (`我这边是`) / `我是用户`, `我是客户`, `我是机主` | as above, but only when the name is followed by punctuation, the end of the text, `我`, `要`/`想` (`我是王小明要投诉你们`), a modal particle (`啊`, `呀`, `啦`, `噢` …, never part of the name: `我是张伟啦` → `我是张*啦`) or one of those following words, and does not look like a role or a place (`我是高中生`, `我是黄金会员`, `我是武汉的`, `我是来投诉的`, `这边是高新区` are left alone) | `我是王小明，` → `我是王**，` |
//! | name before `先生` / `女士` / `小姐` | common surname + 1–2 character given name | given name removed: `王小明先生` → `王先生`, `欧阳娜娜女士` → `欧阳女士` |
//! | given names with a function-word character | `刚`, `和`, `来` are words as well as common given-name characters (`王志刚`, `李和平`, `张来福`): they count as given-name characters only where the name is clearly delimited — before `先生`/`女士`/`小姐` (but `和`/`来` never right before the title: `我和先生`), or after any trigger above when the name is followed by punctuation, the end of the text, a particle, a title, `我`, `要` or a following word; a name ending in `和`/`来` (which also start clauses: `我是张伟来投诉的`) only before punctuation, the end, a particle or a title; one of them before a surname is the word (`我叫王和李`, `王和李先生`). `我是王刚来的`, `我叫王刚来修` are left alone | `我叫王志刚` → `我叫王**`, `王志刚先生` → `王先生`, `我叫王刚` → `我叫王*` |
//! | address, house-number level | a number (digits, letters, inner dashes: `88`, `B1203`, `12-3`) followed by `号院`, `单元`, `栋`, `幢`, `室`, `弄`; or by `号` / `号楼` right after a street, lane, village or compound name (`路 街 道 巷 弄 里 村 区 园 苑 院 段 …`) or another house-number part (`号楼` also when a unit or room number follows: `住的8号楼` alone is kept); a bare room number right after such a part or after `座` (`2单元1101`, `B座1203`); a floor (`楼`, `层`) right after such a part (`1号楼5楼501`); building and room joined by a dash right after a compound (`幸福小区12-1502`). A number in words (`八十八`, `五零一`, formal `捌拾捌`) only right after another part, as a house number (`号`) after a road (`建国路八十八号`), or as a building or unit (`号楼`, `栋`, `幢`, `单元`) after a road or an estate (`小区`, `花园`, `家园`, `新村`, `公寓`, `社区`, `大厦`, `苑`: `中山路三号楼二单元`, `幸福小区三栋`), never as `N栋楼` (`小区三栋楼都停电了`, a count). Not in a clause about a workplace, shop, venue or lesson (`会议在301室开`, `园区5号`, `店铺在步行街3号`: [`NOT_HOME_CONTEXT`]) unless right after another part or the clause names a home (`住`, `地址`, `寄到` …: [`HOME_CONTEXT`]); building, unit and room joined by dashes also `2-1-302` | the number's characters `*`, the unit and everything above it (province, city, district, street) kept: `北京市朝阳区建国路88号3栋2单元501室` → `北京市朝阳区建国路**号*栋*单元***室` |
//!
//! Separators and prefixes inside a masked number (`+`, spaces, dashes, brackets) are kept, and a
//! number is masked one character for one character, so the shape of the text survives.
//!
//! Surnames come from a compact list of about 130 of the most common single-character surnames
//! plus the common compound ones (欧阳, 司马, 诸葛, …). Everyday words that start with one
//! (`申请`, `甘心`, `单位`: [`SURNAME_WORDS`]) are never read as a name. A surname directly followed by a title
//! (`张先生`, `王总`, `李老师`, `刘师傅`) is not personal enough to mask and is kept; so is a
//! name whose last character before `先生/女士/小姐` is itself a surname (`张杨女士` is read as
//! `杨女士` with a prefix, and left alone — conservative on purpose).
//!
//! # What is deliberately not masked
//!
//! * the number right after an identifier keyword — `订单号`, `单号` (快递单号, 运单号, 工单号 …),
//!   `订单`, `工单`, `工号`, `编号`, `验证码`, `流水号`, `交易号`, `序列号`, `取件码`, `兑换码`,
//!   `保单号`, `发票号`, product codes (`编码`, `商品编码`, `货号`, `款号`, `SKU`) … (optionally
//!   followed by `：`, `是`, `为`, `#` or spaces), unless the keyword names an identity
//!   document's number (`身份证编号`, `证件编码`: read as usual). After a product-code label
//!   a mobile number is still read (`快递柜 编码 13812345678`), nothing else
//!   (`商品编码 6222020200001234562` stays). Only that one
//!   number: its digit groups joined by dashes, or its first group when spaces follow; after a
//!   space a second number is read (`工号1234 13812345678` → `工号1234 1**********`), as a mobile
//!   in any written form or another kind written as one block (the tail of a grouped value,
//!   `订单号 2024 0315 1234 5678`, stays);
//! * amounts (`¥`, `￥`, `$`, `RMB` before, `元`, `块`, `万`, `亿` after), decimals, dates and
//!   times (`2024-03-15`, `10:30`); amounts in formal digits (`人民币壹仟贰佰元整`,
//!   `壹拾贰万叁仟…`), whose `拾`/`佰`/`仟`/`万` break every run of digits;
//! * digit words in two sentences: a `。` joins groups of digit words only when each has three
//!   or more (`我买了三个。一二三楼都有`, `买了三。一二三四。五六七八` stay) and a number that
//!   ended a sentence is not continued into the next (`…五六七八。一二三楼` masks the mobile
//!   only); written digits around `.`/`。` are never joined (`12.5`);
//! * service numbers such as `10086`, `95588`, `12315`, `400-810-8888`: they fail every pattern,
//!   and [`DEFAULT_ALLOW`] lists them (`400*`, `800*` as prefixes) so that a caller's allow-list
//!   ([`MaskOptions::allow`]) extends it;
//! * look-alikes of house numbers: dates (`3月15号`, `15号楼下` after a month), ordinals
//!   (`第2单元`), layouts (`3室1厅`), `N号` not after a street name or followed by `线`, `口`,
//!   `门`, `床`, `窗`, `仓` … (`地铁2号线`, `3号窗口`, `3号仓库`), quantities (`2栋房子`, and
//!   `N栋`/`N单元` after `一共`, `有`, `约`, `这` … or a verb of study: `小区一共12栋楼`,
//!   `学到了5单元`; in words anywhere but after a road or an estate: `小区两栋楼`, `下一单元`,
//!   `住在三单元`, `这条路三号楼`), buildings of a public institution (`人民医院3号楼`, which like `住的8号楼`
//!   needs a unit or room number after it); floors (`3楼`) are kept;
//! * time words after a surname that is also a preposition: a given name never starts with a
//!   time word (`上月`, `近日`, `周末`, `日前`, `三月` …), so `本人于上月购买` is a date after `于`;
//! * digit words that do not form a number of a kind above (`一二三四五六七八九十`, `二三八…`),
//!   or that are mixed with written digits and do not form a mobile;
//! * digit runs that look right but fail their validator (a wrong ID check character — except
//!   right after `身份证`/`证件`, see above —, a card number failing Luhn), and digits glued to Latin letters (`SF13812345678`, a code) —
//!   except a valid resident ID, which is masked whatever letters touch it
//!   (`ID440306199001011236`, `…1236a`), and a phone number right after a phone label in
//!   letters (`Tel13812345678`, `mobile…`, `vx…`: `PHONE_LABELS`). A number glued to more
//!   digits (`.`, `:`, `_`, or `,`/`/` next to a group of at most 4 digits: `1,234`,
//!   `2024/03/15`) is part of a longer one and never read; two long numbers joined by `,` or
//!   `/` (`13812345678,13912345678`) are a list and both read.
//!
//! # Guarantees
//!
//! * Never panics, whatever the input (all indexing is on character boundaries).
//! * Idempotent: `mask(&mask(x)) == mask(x)`. Masked digits become `*`, which no pattern matches;
//!   removing a given name can only leave `surname + title`, which is kept; and as a safety net
//!   [`mask`] repeats its pass while the text changes (at most 16 passes).
//! * Outside the spans that [`find_pii`] reports, nothing changes; inside, characters are replaced
//!   one for one by `*`, except a titled name, whose span becomes its surname (which a later
//!   pass may mask further). [`find_pii`] reports what every pass masks, on the characters of
//!   the input (property-tested in `tests/pii_props.rs`, fuzzed by `fuzz/`).
//! * Linear in the length of the text (all regexes are compiled once). A first scan skips every
//!   detector that cannot fire (no digit, no `@` or `%40`, fewer than 11 digits and digit words, no name trigger).
//!
//! The evidence table `tests/data/pii_cases.jsonl` (`tests/pii_cases.rs`) measures recall and
//! look-alikes kept; see the README for the figures.

use std::collections::HashSet;
use std::ops::Range;

use once_cell::sync::Lazy;
use regex::Regex;

use super::normalize::{fold_for_masking, is_han};

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
    /// House-number level of a postal address (`88号`, `3栋`, `2单元`, `501室` …).
    Address,
}

impl PiiKind {
    /// Every kind, in a fixed order.
    pub const ALL: [PiiKind; 7] = [
        PiiKind::Mobile,
        PiiKind::Landline,
        PiiKind::ResidentId,
        PiiKind::BankCard,
        PiiKind::Email,
        PiiKind::Name,
        PiiKind::Address,
    ];

    /// Stable lower-case name (`mobile`, `landline`, `resident_id`, `bank_card`, `email`, `name`,
    /// `address`).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Mobile => "mobile",
            PiiKind::Landline => "landline",
            PiiKind::ResidentId => "resident_id",
            PiiKind::BankCard => "bank_card",
            PiiKind::Email => "email",
            PiiKind::Name => "name",
            PiiKind::Address => "address",
        }
    }
}

/// One piece of personal information found in a text: its kind and its byte range in that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiSpan {
    pub kind: PiiKind,
    pub range: Range<usize>,
}

/// Service numbers that are never masked by [`mask`]: the default of [`MaskOptions::allow`].
/// Most of them cannot match a PII pattern anyway (5 digits); they are listed so that the
/// default allow-list documents them and a caller extending it keeps them.
pub const DEFAULT_ALLOW: &[&str] = &[
    // carriers
    "10086", "10010", "10000", "10099", // banks
    "95588", "95533", "95599", "95566", "95555", "95559", "95528", "95558", "95561", "95568",
    "95595", "95577", "95580", "95508", "95511", "95518", "95519", "95500",
    // government service lines
    "12315", "12345", "12306", "12366", "12358", "12321", "12318", "12333", "12348", "12378",
    // emergency
    "110", "119", "120", "122", // nationwide toll-free / shared-cost numbers (prefix)
    "400*", "800*",
];

/// What [`mask_with`] masks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskOptions {
    /// Numbers and e-mail addresses that are never masked (company hotlines, a service mailbox).
    /// An entry is compared with a detected item as follows: if it contains `@`, with the whole
    /// e-mail address (ASCII case ignored); otherwise with the item's digits (separators, `+` and
    /// brackets ignored, full-width digits folded; a `+86`/`0086`/`86`/`0` prefix of the item may
    /// be left out of the entry). A trailing `*` makes the entry a prefix (`400*`), a leading `*`
    /// a suffix (`*@example.com`); such a number pattern only applies to phone numbers (mobile
    /// and landline), never to an ID or a card that happens to start the same way. Default:
    /// [`DEFAULT_ALLOW`].
    pub allow: Vec<String>,
    /// The kinds to mask; items of other kinds are left as they are. Default: all
    /// ([`PiiKind::ALL`]).
    pub kinds: Vec<PiiKind>,
}

impl Default for MaskOptions {
    fn default() -> Self {
        Self {
            allow: DEFAULT_ALLOW.iter().map(|s| s.to_string()).collect(),
            kinds: PiiKind::ALL.to_vec(),
        }
    }
}

impl MaskOptions {
    /// The default options with `extra` entries added to the allow-list (after
    /// [`DEFAULT_ALLOW`]; empty entries are skipped). This is what `--pii-allow` and
    /// `--pii-allow-file` build.
    pub fn with_extra_allow<I, S>(extra: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut options = Self::default();
        for entry in extra {
            let entry = entry.as_ref().trim();
            if !entry.is_empty() && !options.allow.iter().any(|e| e == entry) {
                options.allow.push(entry.to_string());
            }
        }
        options
    }

    /// Whether the detected item `item` (its text) of kind `kind` is allowed by
    /// [`MaskOptions::allow`].
    fn allows(&self, kind: PiiKind, item: &str) -> bool {
        if self.allow.is_empty() {
            return false;
        }
        let matches = |entry: &str, value: &str| -> bool {
            if let Some(prefix) = entry.strip_suffix('*') {
                !prefix.is_empty() && value.starts_with(prefix)
            } else if let Some(suffix) = entry.strip_prefix('*') {
                !suffix.is_empty() && value.ends_with(suffix)
            } else {
                !entry.is_empty() && value == entry
            }
        };
        if kind == PiiKind::Email {
            let item = item.to_ascii_lowercase();
            return self
                .allow
                .iter()
                .filter(|e| e.contains('@'))
                .any(|e| matches(&e.to_ascii_lowercase(), &item));
        }
        let digits = ascii_digits(item);
        if digits.is_empty() {
            return false;
        }
        // The item without its country or trunk prefix, when it has one.
        let national = ["0086", "86", "0"]
            .iter()
            .filter_map(|p| digits.strip_prefix(p))
            .find(|rest| rest.len() == 11 && rest.starts_with('1'));
        let phone = matches!(kind, PiiKind::Mobile | PiiKind::Landline);
        self.allow.iter().filter(|e| !e.contains('@')).any(|entry| {
            let mut wanted = ascii_digits(entry);
            let wildcard = entry.starts_with('*') || entry.ends_with('*');
            if wanted.is_empty() || (wildcard && !phone) {
                return false;
            }
            if entry.starts_with('*') {
                wanted.insert(0, '*');
            } else if entry.ends_with('*') {
                wanted.push('*');
            }
            matches(&wanted, &digits) || national.is_some_and(|n| matches(&wanted, n))
        })
    }
}

/// Parses an allow-list file (`--pii-allow-file`): one entry per line (`95588`, `400*`,
/// `0755-88886666`, `*@example.com`); leading and trailing whitespace, blank lines and `#`
/// comments (whole lines, or after the entry) are ignored.
pub fn parse_allow_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|entry| !entry.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads an allow-list file (see [`parse_allow_list`]).
pub fn read_allow_list(path: &std::path::Path) -> Result<Vec<String>, super::TextError> {
    let text = std::fs::read_to_string(path).map_err(|source| super::TextError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse_allow_list(&text))
}

/// The ASCII digits (and an `X` check character) of `s`, full-width digits folded.
fn ascii_digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if is_x(c) {
                Some('X')
            } else {
                digit_value(c).or_else(|| spoken_digit(c))
            }
        })
        .collect()
}

static DEFAULT_OPTIONS: Lazy<MaskOptions> = Lazy::new(MaskOptions::default);

/// Masks the personal information in `text` (see the module documentation for the rules), with
/// the default options (every kind, the hotline allow-list [`DEFAULT_ALLOW`]).
pub fn mask(text: &str) -> String {
    mask_with(text, &DEFAULT_OPTIONS)
}

/// Masks the personal information in `text` as `options` say.
///
/// Masking can, in contrived inputs, bring a new pattern together: removing a given name
/// shortens the text, and masking an e-mail address ends a digit run that was too long to be a
/// number (`身份证<15 full-width digits>8@qq.com`, found by `tests/pii_soak.rs`). So the pass is
/// repeated while it changes the text (at most 16 passes in all), which makes [`mask`]
/// idempotent by construction; a text without PII costs one pass. [`find_pii_with`] reports
/// what all the passes mask.
///
/// Masking reads the text as [`fold_for_masking`] shows it (traditional characters simplified, full-width
/// `＠` and letters folded, invisible characters and doubled spaces dropped …), so `我叫張偉` and
/// `138\u{200B}1234\u{200B}5678` are masked as their plain forms are. The result is `text` itself with
/// what was found there masked: every character masking leaves alone keeps its original form.
pub fn mask_with(text: &str, options: &MaskOptions) -> String {
    let (view, from) = fold_for_masking(text);
    if view == text {
        return run_passes(text, options, |_, _| {});
    }
    let tracked = mask_tracked(&view, options);
    if tracked.spans.is_empty() {
        return text.to_owned();
    }
    // What the masked view put on each character of the view, and which view character (if any)
    // each character of `text` became.
    let view_chars: Vec<char> = view.chars().collect();
    let mut put: Vec<Vec<char>> = vec![Vec::new(); view_chars.len()];
    for (c, &v) in tracked.out.chars().zip(&tracked.origin) {
        put[v].push(c);
    }
    let mut became: Vec<Option<usize>> = vec![None; text.chars().count()];
    for (v, &i) in from.iter().enumerate() {
        became[i] = Some(v);
    }
    let spans = spans_on_text(&view, &from, &tracked.spans);
    let mut span = spans.iter().peekable();
    let mut out = String::with_capacity(text.len());
    // Whether the last character of `text` that the view kept was removed by masking.
    let mut after_removed = false;
    for (i, (c, b)) in text.chars().zip(became).enumerate() {
        while span.next_if(|s| s.1.end <= i).is_some() {}
        match b {
            // Dropped from the view (an invisible character, a doubled space): kept as it is, unless
            // it stands inside a given name after the part masking removed.
            None if after_removed && span.peek().is_some_and(|s| s.1.contains(&i)) => {}
            None => out.push(c),
            Some(v) => {
                out.extend(
                    put[v]
                        .iter()
                        .map(|&m| if m == view_chars[v] { c } else { m }),
                );
                after_removed = put[v].is_empty();
            }
        }
    }
    out
}

/// Spans found in the view of `text` ([`fold_for_masking`]; byte ranges of `view`) as ranges of
/// characters of `text`.
fn spans_on_text(view: &str, from: &[usize], spans: &[PiiSpan]) -> Vec<(PiiKind, Range<usize>)> {
    let mut view_index = vec![0; view.len() + 1];
    for (k, (b, _)) in view.char_indices().enumerate() {
        view_index[b] = k;
    }
    view_index[view.len()] = from.len();
    spans
        .iter()
        .map(|span| {
            let (a, b) = (view_index[span.range.start], view_index[span.range.end]);
            (span.kind, from[a]..from[b - 1] + 1)
        })
        .collect()
}

/// The personal information found in `text` (default options), sorted by position; ranges
/// never overlap.
pub fn find_pii(text: &str) -> Vec<PiiSpan> {
    find_pii_with(text, &DEFAULT_OPTIONS)
}

/// The personal information that [`mask_with`] masks in `text`, as byte ranges of `text`,
/// sorted by position; ranges never overlap.
///
/// Every character outside these ranges is left unchanged by [`mask_with`]; inside a range,
/// characters are replaced one for one by `*`, except a name before `先生`/`女士`/`小姐`, whose
/// range (surname + given name) is replaced by the surname alone, whose characters a later pass
/// may turn into `*` (`我是王张小明先生` → `我是王*先生`: one name span, `王张小明`).
///
/// When masking needs more than one pass (contrived inputs, see [`mask_with`]), the spans found
/// by the later passes are mapped back to the characters of `text` they stand on, and a later
/// span that overlaps an earlier one is merged into it (the merged span keeps the kind of the
/// one that starts first, or [`PiiKind::Name`] if either is a name).
pub fn find_pii_with(text: &str, options: &MaskOptions) -> Vec<PiiSpan> {
    let (view, from) = fold_for_masking(text);
    let tracked = mask_tracked(&view, options);
    if view == text {
        return tracked.spans;
    }
    let starts = char_starts(text);
    spans_on_text(&view, &from, &tracked.spans)
        .into_iter()
        .map(|(kind, chars)| PiiSpan {
            kind,
            range: starts[chars.start]..starts[chars.end],
        })
        .collect()
}

/// Byte offset of each character of `text`, and its length.
fn char_starts(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect()
}

/// What [`run_passes`] made of `text`: the masked text, the index of the character of `text` each of
/// its characters stands on, and the spans of `text` masked (see [`find_pii_with`]).
struct Tracked {
    out: String,
    origin: Vec<usize>,
    spans: Vec<PiiSpan>,
}

fn mask_tracked(text: &str, options: &MaskOptions) -> Tracked {
    // Byte offset of each character of `text` (plus its length), and, for each character of the
    // text a pass reads, the index of the character of `text` it came from.
    let starts = char_starts(text);
    let mut origin: Vec<usize> = (0..starts.len() - 1).collect();
    let mut spans: Vec<PiiSpan> = Vec::new();
    let out = run_passes(text, options, |input, hits| {
        let t = Text::new(input);
        for hit in hits {
            let Some(kind) = hit.kind else { continue };
            let (from, to) = (t.index_of(hit.span.start), t.index_of(hit.span.end));
            if from >= to {
                continue;
            }
            spans.push(PiiSpan {
                kind,
                range: starts[origin[from]]..starts[origin[to - 1] + 1],
            });
        }
        // Where each character of this pass's output comes from: unchanged characters and `*`
        // replacing a character one for one keep their origin; removed characters drop out.
        let mut edits: Vec<&(Range<usize>, String)> = hits.iter().flat_map(|h| &h.edits).collect();
        edits.sort_by_key(|(r, _)| r.start);
        let mut next = Vec::with_capacity(origin.len());
        let mut last = 0;
        for (range, replacement) in edits {
            let (from, to) = (t.index_of(range.start), t.index_of(range.end));
            next.extend_from_slice(&origin[last..from]);
            let taken = &origin[from..to];
            for k in 0..replacement.chars().count() {
                // One for one. Replacements are never longer than what they replace; were one
                // longer, its extra characters would stay on the last one replaced.
                let at = taken.get(k).or(taken.last()).or(origin.get(from));
                next.extend(at.or(origin.last()).copied());
            }
            last = to;
        }
        next.extend_from_slice(&origin[last..]);
        origin = next;
    });
    // Merge what later passes found into the spans it overlaps.
    spans.sort_by_key(|s| (s.range.start, std::cmp::Reverse(s.range.end)));
    let mut merged: Vec<PiiSpan> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.range.start < last.range.end => {
                last.range.end = last.range.end.max(span.range.end);
                if span.kind == PiiKind::Name {
                    last.kind = PiiKind::Name;
                }
            }
            _ => merged.push(span),
        }
    }
    Tracked {
        out,
        origin,
        spans: merged,
    }
}

/// At most this many masking passes over one text (see [`run_passes`]).
const MAX_PASSES: usize = 16;

/// Masks `text` in passes (see [`mask_with`]): the first pass over `text`, then more passes
/// while a pass changes the text, at most [`MAX_PASSES`] in all. `on_pass(input, hits)` is
/// called for the first pass and for every later pass whose output is kept, with the text that
/// pass read and what it detected there.
fn run_passes(text: &str, options: &MaskOptions, mut on_pass: impl FnMut(&str, &[Hit])) -> String {
    let hits = detect(text, options);
    let mut out = apply_edits(text, &hits);
    on_pass(text, &hits);
    let mut passes = 1;
    while passes < MAX_PASSES && out != text {
        let hits = detect(&out, options);
        let next = apply_edits(&out, &hits);
        if next == out {
            break;
        }
        on_pass(&out, &hits);
        out = next;
        passes += 1;
    }
    out
}

/// Whether `out` is `text` with each span replaced as [`find_pii_with`] documents (used by the tests,
/// the soak driver and the fuzz target to check `mask` against `find_pii`). Tracks every
/// position in `out` that the spans so far can end at (a name span can shrink to 1..len
/// characters), so it is linear in practice and never backtracks exponentially.
pub fn masked_as_reported(text: &str, spans: &[PiiSpan], out: &str) -> bool {
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
    if !is_id_shaped(id) {
        return false;
    }
    let b = id.as_bytes();
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    b[17].to_ascii_uppercase() == CHECK[(sum % 11) as usize]
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

/// Whether `id` has the shape of an 18-character resident ID whatever its check character: 17
/// ASCII digits, the first non-zero, a real birth date in positions 7–14, and a digit or `X`.
fn is_id_shaped(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && b[0] != b'0'
        && (b[17].is_ascii_digit() || b[17].eq_ignore_ascii_case(&b'X'))
        && valid_date(&b[6..14])
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

/// One detected item: the reported span and the edits that mask it. A hit without a kind marks
/// what was masked before (the visible digits of a masked number, a masked e-mail address): it
/// changes nothing and is not reported, but keeps the other detectors off that text.
struct Hit {
    kind: Option<PiiKind>,
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

/// `text` with the edits of `hits` made (they never overlap).
fn apply_edits(text: &str, hits: &[Hit]) -> String {
    if hits.is_empty() {
        return text.to_owned();
    }
    let mut edits: Vec<&(Range<usize>, String)> = hits.iter().flat_map(|h| &h.edits).collect();
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, replacement) in edits {
        out.push_str(&text[last..range.start]);
        out.push_str(replacement);
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// What a quick scan of the text found: which detectors can possibly fire. Most sentences of
/// plain complaint text have no digit, no `@` and no name trigger, and skip every detector.
struct Scan {
    digits: bool,
    digit_count: usize,
    at: bool,
    spoken_digits: usize,
    names: bool,
}

impl Scan {
    fn of(text: &str) -> Self {
        let mut scan = Scan {
            digits: false,
            digit_count: 0,
            at: false,
            spoken_digits: 0,
            names: false,
        };
        for c in text.chars() {
            match c {
                '0'..='9' | '０'..='９' => {
                    scan.digits = true;
                    scan.digit_count += 1;
                }
                '@' => scan.at = true,
                _ if c >= '\u{3007}' && spoken_digit(c).is_some() => scan.spoken_digits += 1,
                _ => {}
            }
        }
        scan.at |= text.contains("%40");
        scan.names = NAME_TRIGGER.is_match(text) || TITLE.is_match(text);
        scan
    }
}

/// All detectors in priority order; a later hit overlapping an earlier one is dropped, and so
/// is a hit that `options` allow or whose kind they do not mask.
fn detect(text: &str, options: &MaskOptions) -> Vec<Hit> {
    let scan = Scan::of(text);
    // Eleven digits at least, two of them words (a mobile read out, or mixed: `一三八1234五六七八`).
    let spoken = scan.spoken_digits >= 2 && scan.spoken_digits + scan.digit_count >= 11;
    // House numbers: digits, or words before `号`, `栋`, `单元` (`建国路八十八号`, `中山路三号楼`).
    let houses = scan.digits
        || (scan.spoken_digits > 0 && ["号", "栋", "幢", "单元"].iter().any(|u| text.contains(u)));
    if !(scan.digits || scan.at || spoken || scan.names || houses) {
        return Vec::new();
    }
    let t = Text::new(text);
    // Accepted hits, kept sorted by start; they never overlap.
    let mut hits: Vec<Hit> = Vec::new();
    let run = |on: bool, detector: fn(&Text<'_>) -> Vec<Hit>| {
        if on {
            detector(&t)
        } else {
            Vec::new()
        }
    };
    let found = [
        run(scan.at, detect_emails),
        run(scan.digits, detect_numbers),
        run(spoken, detect_spoken_numbers),
        run(houses, detect_addresses),
        run(scan.names, detect_titled_names),
        run(scan.names, detect_introduced_names),
    ];
    for hit in found.into_iter().flatten() {
        if let Some(kind) = hit.kind {
            if !options.kinds.contains(&kind) || options.allows(kind, &text[hit.span.clone()]) {
                continue;
            }
        }
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

fn is_local_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
}

/// Length of the longest prefix of `run` (ASCII letters, digits, dots, dashes) that is a domain:
/// two or more dot-separated labels (letters, digits, inner dashes), the last one starting with
/// 2–24 letters, which end the domain (`qq.com`, `sina.com.cn`; `163.com` of `163.com123`).
fn domain_len(run: &[u8]) -> Option<usize> {
    let valid_label = |l: &[u8]| {
        !l.is_empty() && l[0].is_ascii_alphanumeric() && l[l.len() - 1].is_ascii_alphanumeric()
    };
    let mut best = None;
    let mut label_start = 0;
    let mut labels_ok = true;
    for (k, label) in run.split(|&c| c == b'.').enumerate() {
        if k > 0 && labels_ok {
            let tld = label
                .iter()
                .take(24)
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            if tld >= 2 {
                best = Some(label_start + tld);
            }
        }
        labels_ok &= valid_label(label);
        label_start += label.len() + 1;
    }
    best
}

/// Where the `@` of an e-mail address stands: `@` itself, with at most one space on each side
/// (`zhangsan @ 163.com`, as speech recognition and some typists write it), or its URL
/// encoding `%40` (`zhangsan%40163.com`). Byte ranges of the local part's end and of the
/// domain's start, sorted by position.
fn at_signs(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut signs = Vec::new();
    for (at, _) in s.match_indices('@') {
        let local_end = if at > 0 && b[at - 1] == b' ' {
            at - 1
        } else {
            at
        };
        let domain_start = if b.get(at + 1) == Some(&b' ') {
            at + 2
        } else {
            at + 1
        };
        signs.push((local_end, domain_start));
    }
    for (at, _) in s.match_indices("%40") {
        signs.push((at, at + 3));
    }
    signs.sort_unstable();
    signs
}

/// E-mail addresses, found from each `@` ([`at_signs`]): the local part is the run of
/// `A-Z a-z 0-9 . _ % + -` before it (from its first letter or digit), the domain as in
/// [`domain_len`] after it. A local part that directly follows another `@` is the domain of a
/// previous address (`a@b.cc@d.cc`), not an address. Working from each `@` rather than scanning
/// with a regex keeps every decision local, so masking twice changes nothing.
fn detect_emails(t: &Text<'_>) -> Vec<Hit> {
    let b = t.s.as_bytes();
    let mut hits = Vec::new();
    for (at, domain_start) in at_signs(t.s) {
        let mut run_start = at;
        while run_start > 0 && is_local_byte(b[run_start - 1]) {
            run_start -= 1;
        }
        if run_start > 0 && b[run_start - 1] == b'@' {
            continue;
        }
        let local_start = (run_start..at)
            .find(|&k| b[k].is_ascii_alphanumeric())
            .unwrap_or(at);
        let mut domain_end = domain_start;
        while domain_end < b.len() && is_domain_byte(b[domain_end]) {
            domain_end += 1;
        }
        let Some(domain) = domain_len(&b[domain_start..domain_end]) else {
            continue;
        };
        let end = domain_start + domain;
        if local_start == at {
            // No local part: an address masked before (`*@126.com`, `z*******@163.com` seen
            // from its `@`) blocks its domain from the other detectors.
            if at > 0 && b[at - 1] == b'*' {
                let mut stars_start = at;
                while stars_start > 0 && matches!(b[stars_start - 1], b'*') {
                    stars_start -= 1;
                }
                // The kept first character of the local part belongs to the address too: a digit
                // run must not continue into it (`<18 digits>1**********@qq.com` is no bank card).
                if stars_start > 0 && is_local_byte(b[stars_start - 1]) {
                    stars_start -= 1;
                }
                hits.push(Hit {
                    kind: None,
                    span: stars_start..end,
                    edits: Vec::new(),
                });
            }
            continue;
        }
        // All ASCII: byte offsets are character offsets here.
        let keep = usize::from(at - local_start > 1);
        let masked = local_start + keep..at;
        hits.push(Hit {
            kind: Some(PiiKind::Email),
            span: local_start..end,
            edits: vec![(masked.clone(), stars(&t.s[masked]))],
        });
    }
    hits
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

/// Product-code labels: like [`LOOKALIKE_KEYWORDS`], except that a mobile number after them is
/// still read (`快递柜 编码 13812345678`): an 11-digit `1[3-9]…` number is far more often a
/// phone than a product code, while a card-shaped code (`商品编码 6222020200001234562`) stays.
const PRODUCT_CODE_LABELS: &[&str] = &[
    "编码",
    "货号",
    "商品号",
    "商品码",
    "产品号",
    "款号",
    "物料号",
    "SKU",
    "sku",
];

/// Which label a number follows ([`label_before`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    /// No identifier label.
    None,
    /// An identifier keyword ([`LOOKALIKE_KEYWORDS`]): the number is never PII.
    Identifier,
    /// A product-code label ([`PRODUCT_CODE_LABELS`]): only a mobile number is read.
    ProductCode,
}

/// Identity documents: a look-alike keyword right after one of them (`身份证编号`, `证件编码`)
/// names the document's number, which is PII.
const ID_DOCUMENTS: &[&str] = &["身份证", "证件"];

/// Characters allowed between an identifier keyword and its number.
fn is_label_filler(c: char) -> bool {
    matches!(c, ':' | '：' | '是' | '为' | '#' | '＃' | '=' | '(' | '（') || c.is_whitespace()
}

/// Which identifier label, if any, the number starting at character `start` follows. A label
/// right after an identity document (`身份证编号`, `证件编码`) names the document's number: no
/// label then.
fn label_before(t: &Text<'_>, start: usize) -> Label {
    let mut k = start;
    let mut skipped = 0;
    while k > 0 && skipped < 4 && is_label_filler(t.chars[k - 1].1) {
        k -= 1;
        skipped += 1;
    }
    let before = t.slice(k.saturating_sub(9), k);
    let labelled = |keywords: &[&str]| {
        keywords.iter().any(|kw| {
            before
                .strip_suffix(kw)
                .is_some_and(|rest| !ID_DOCUMENTS.iter().any(|doc| rest.ends_with(doc)))
        })
    };
    if labelled(LOOKALIKE_KEYWORDS) {
        Label::Identifier
    } else if labelled(PRODUCT_CODE_LABELS) {
        Label::ProductCode
    } else {
        Label::None
    }
}

/// Whether the number starting at character `start` follows an identifier keyword or a
/// product-code label.
fn after_lookalike_keyword(t: &Text<'_>, start: usize) -> bool {
    label_before(t, start) != Label::None
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

/// Digits of a thousands group, a date part or a fraction (`1,234`, `2024/03/15`, `1/2`) are at
/// most this many: a longer digit group on the other side of an ASCII `,` or `/` is another
/// number of a list (`13812345678,13912345678`), not part of this one.
const MAX_GLUED_PART: usize = 4;

/// What a candidate number is glued to on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glue {
    /// Nothing: a space, punctuation, a Han character, the end of the text.
    Free,
    /// A phone label in Latin letters right before the number (`Tel13812345678`).
    PhoneLabel,
    /// Other Latin letters (`SF13812345678`, `440306199001011236a`): the number may be part
    /// of a code; only a resident ID (checksum and birth date) is read through them.
    Letters,
    /// Digits, `_`, or a decimal point / date, time or list separator before more digits: the
    /// number is part of a longer one and is never read.
    Hard,
}

/// Latin letters (ASCII or full-width).
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ')
}

/// Latin-letter words that label a phone number when glued to it (compared ignoring ASCII
/// case): `Tel13812345678`, `mobile13812345678`, `vx13812345678` (WeChat).
const PHONE_LABELS: &[&str] = &[
    "tel",
    "telephone",
    "phone",
    "cellphone",
    "mobile",
    "mob",
    "cell",
    "call",
    "fax",
    "wechat",
    "weixin",
    "vx",
    "wx",
];

/// What precedes character `start`: letters (a phone label or not), or a decimal point / date or
/// time separator after a digit (`,` and `/` only after a short digit group).
fn glued_before(t: &Text<'_>, start: usize) -> Glue {
    if start == 0 {
        return Glue::Free;
    }
    let prev = t.chars[start - 1].1;
    let digit_at = |k: usize| t.char(k).and_then(digit_value).is_some();
    let hard = |glued: bool| if glued { Glue::Hard } else { Glue::Free };
    match prev {
        _ if is_latin_letter(prev) => {
            let from = (0..start)
                .rev()
                .take_while(|&k| t.chars[k].1.is_ascii_alphabetic())
                .last();
            let label = from.map(|k| t.slice(k, start));
            let whole_word = from.is_some_and(|k| k == 0 || !is_word_char(t.chars[k - 1].1));
            if whole_word
                && label.is_some_and(|l| PHONE_LABELS.iter().any(|p| p.eq_ignore_ascii_case(l)))
            {
                Glue::PhoneLabel
            } else {
                Glue::Letters
            }
        }
        _ if is_word_char(prev) => Glue::Hard,
        '.' | '．' | ':' | '：' => hard(start >= 2 && digit_at(start - 2)),
        '/' | ',' => {
            let part = (0..start - 1).rev().take_while(|&k| digit_at(k)).count();
            hard((1..=MAX_GLUED_PART).contains(&part))
        }
        _ => Glue::Free,
    }
}

/// What follows character `end - 1` (as in [`glued_before`]; letters after a number are never
/// a phone label).
fn glued_after(t: &Text<'_>, end: usize) -> Glue {
    let digit_at = |k: usize| t.char(k).and_then(digit_value).is_some();
    let hard = |glued: bool| if glued { Glue::Hard } else { Glue::Free };
    match t.char(end) {
        None => Glue::Free,
        Some(c) if is_latin_letter(c) => Glue::Letters,
        Some(c) if is_word_char(c) => Glue::Hard,
        Some('.' | '．' | ':' | '：') => hard(digit_at(end + 1)),
        Some('/' | ',') => {
            let part = (end + 1..t.len()).take_while(|&k| digit_at(k)).count();
            hard((1..=MAX_GLUED_PART).contains(&part))
        }
        _ => Glue::Free,
    }
}

/// Whether a number of kind `kind` is read with `before` and `after` on its sides: a resident
/// ID through letters too (`ID440306199001011236`), a phone number after a phone label but
/// before no letters, anything else only when free on both sides.
fn glue_allows(kind: PiiKind, before: Glue, after: Glue) -> bool {
    match kind {
        PiiKind::ResidentId => before != Glue::Hard && after != Glue::Hard,
        PiiKind::Mobile | PiiKind::Landline => {
            matches!(before, Glue::Free | Glue::PhoneLabel) && after == Glue::Free
        }
        _ => before == Glue::Free && after == Glue::Free,
    }
}

/// Whether `身份证` or `证件` occurs shortly before character `start`.
fn after_id_keyword(t: &Text<'_>, start: usize) -> bool {
    let before = t.slice(start.saturating_sub(12), start);
    ID_DOCUMENTS.iter().any(|doc| before.contains(doc))
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
    mobile_shape(&lens)
}

/// Digit-group lengths of a written mobile number: one block, `3-4-4`, `3-8`, `7-4`, `3-4-2-2`
/// (the last four read in pairs: `138 1234 56 78`), or eleven single digits (`1 3 8 1 2 …`, as
/// some ASR systems write digits).
fn mobile_shape(lens: &[usize]) -> bool {
    matches!(lens, [11] | [3, 4, 4] | [3, 8] | [7, 4] | [3, 4, 2, 2])
        || (lens.len() == 11 && lens.iter().all(|&l| l == 1))
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

/// Landline written with the country code and the area code without its trunk `0`:
/// `+86-10-62345678`, `+86 755 8888 6666`, `0086 10 62345678` (`86` alone only right after a
/// `+`). Returns how many leading digits stay visible (country and area code).
fn international_landline(t: &Text<'_>, digits: &str, start: usize) -> Option<usize> {
    let plus = start > 0 && matches!(t.chars[start - 1].1, '+' | '＋' | '加');
    let (country, rest) = if let Some(rest) = digits.strip_prefix("0086") {
        (4, rest)
    } else {
        (2, digits.strip_prefix("86").filter(|_| plus)?)
    };
    if rest.starts_with('0') {
        return None;
    }
    let area = landline_area(&format!("0{rest}"))?;
    Some(country + area - 1)
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
    // Right after `身份证`/`证件`, an ID with a wrong check character is a mistyped ID: its other
    // 17 characters are still the customer's, and it is no bank card.
    if digits.len() == 18 && after_id_keyword(t, start) && is_id_shaped(digits) {
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
    if let Some(kept) = international_landline(t, digits, start) {
        return Some((PiiKind::Landline, kept, 0));
    }
    if is_bank_card(digits) {
        return Some((PiiKind::BankCard, 0, 4));
    }
    None
}

/// Separators that may stand between the visible digits of a masked number and its `*`s.
fn is_remnant_separator(c: char) -> bool {
    is_spoken_separator(c)
        || is_sentence_separator(c)
        || matches!(c, '(' | ')' | '（' | '）' | '+' | '＋')
}

/// Whether a `*` stands right before character `start`, directly or across one separator.
fn star_before(t: &Text<'_>, start: usize) -> bool {
    match start.checked_sub(1).and_then(|k| t.char(k)) {
        Some('*') => true,
        Some(c) if is_remnant_separator(c) => {
            start.checked_sub(2).and_then(|k| t.char(k)) == Some('*')
        }
        _ => false,
    }
}

/// Whether a `*` stands right after character `end - 1`, directly or across one separator.
fn star_after(t: &Text<'_>, end: usize) -> bool {
    match t.char(end) {
        Some('*') => true,
        Some(c) if is_remnant_separator(c) => t.char(end + 1) == Some('*'),
        _ => false,
    }
}

/// Which digit groups (character range and digit count, joined by single separators) are the
/// visible remains of an already masked number — the `1` of `1**********`, the `0086-1` of
/// `0086-1**********`, the `010` of `010-********`, the `0 123` of `***0 123`. They touch a
/// `*` and hold at most 5 digits together (what the masker ever keeps). Numbers are never
/// read through them, so that masking twice changes nothing (`mask` is idempotent even when a
/// kept digit could complete a number with its neighbours).
fn masked_remnants(t: &Text<'_>, groups: &[(usize, usize, usize)]) -> Vec<bool> {
    const KEPT: usize = 5;
    let mut dead = vec![false; groups.len()];
    for (g, &(start, end, digits)) in groups.iter().enumerate() {
        if digits > KEPT {
            continue;
        }
        if star_after(t, end) {
            let mut total = 0;
            for k in (0..=g).rev() {
                total += groups[k].2;
                if total > KEPT {
                    break;
                }
                dead[k] = true;
            }
        }
        if star_before(t, start) {
            let mut total = 0;
            for k in g..groups.len() {
                total += groups[k].2;
                if total > KEPT {
                    break;
                }
                dead[k] = true;
            }
        }
    }
    dead
}

/// Blocking hits (no kind, no edits) over each stretch of remnant groups, so that no later
/// detector reads them either (the kept `5` of `**** 849 5` before `弄` is not a house number).
fn remnant_hits(t: &Text<'_>, groups: &[(usize, usize, usize)], dead: &[bool]) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut k = 0;
    while k < groups.len() {
        if !dead[k] {
            k += 1;
            continue;
        }
        let first = k;
        while k + 1 < groups.len() && dead[k + 1] {
            k += 1;
        }
        hits.push(Hit {
            kind: None,
            span: t.byte(groups[first].0)..t.byte(groups[k].1),
            edits: Vec::new(),
        });
        k += 1;
    }
    hits
}

fn detect_numbers(t: &Text<'_>) -> Vec<Hit> {
    const MAX_DIGITS: usize = 19;
    let mut hits = Vec::new();
    for run in digit_runs(t) {
        // The number right after an identifier keyword is its value (an order number, a code),
        // never PII: the run's first group. A group after a space may start another number
        // (`工号1234 13812345678`); it is read as a mobile in any written form, or as another
        // kind written as one block (the tail of a grouped value, `订单号 2024 0315 1234 5678`,
        // is no landline). After a dash the run is one value (`2024-0315-001`).
        // After a product-code label, the label's own number is still read as a mobile.
        let label = label_before(t, run[0].start);
        let labelled = label == Label::Identifier;
        let code = label == Label::ProductCode;
        let spaced = run.len() > 1 && t.char(run[0].end).is_some_and(char::is_whitespace);
        if labelled && !spaced {
            continue;
        }
        let groups: Vec<(usize, usize, usize)> = run
            .iter()
            .map(|g| (g.start, g.end, g.digits.len()))
            .collect();
        let dead = masked_remnants(t, &groups);
        hits.extend(remnant_hits(t, &groups, &dead));
        let mut i = usize::from(labelled);
        while i < run.len() {
            if dead[i] {
                i += 1;
                continue;
            }
            // Longest candidate first: groups i..=j with at most MAX_DIGITS digits.
            let mut last = i;
            let mut total = run[i].digits.len();
            while last + 1 < run.len()
                && !run[last].has_x
                && !dead[last + 1]
                && total + run[last + 1].digits.len() <= MAX_DIGITS
            {
                last += 1;
                total += run[last].digits.len();
            }
            let mut found = None;
            if total <= MAX_DIGITS {
                for j in (i..=last).rev() {
                    let (start, end) = (run[i].start, run[j].end);
                    let before = if i == 0 {
                        glued_before(t, start)
                    } else {
                        Glue::Free
                    };
                    let after = if j + 1 == run.len() {
                        glued_after(t, end)
                    } else {
                        Glue::Free
                    };
                    if before == Glue::Hard || after == Glue::Hard || is_amount(t, start, end) {
                        continue;
                    }
                    let digits: String = run[i..=j].iter().map(|g| g.digits.as_str()).collect();
                    let groups: Vec<usize> = run[i..=j].iter().map(|g| g.digits.len()).collect();
                    if let Some(class) = classify_number(t, &digits, &groups, start) {
                        let own_number = !labelled || class.0 == PiiKind::Mobile || i == j;
                        // A product code's own number (its first group, or all its groups
                        // when dashes join them) is read as a mobile only.
                        let mobile = class.0 == PiiKind::Mobile;
                        let code_ok = !code
                            || if i == 0 {
                                mobile
                            } else {
                                spaced && (mobile || i == j)
                            };
                        if own_number && code_ok && glue_allows(class.0, before, after) {
                            found = Some((j, class));
                            break;
                        }
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

/// Masks the digits (written or words, and an ID check character) of characters `start..end`,
/// keeping the first `keep_head` and the last `keep_tail` digits and every separator.
fn number_hit(
    t: &Text<'_>,
    kind: PiiKind,
    start: usize,
    end: usize,
    keep_head: usize,
    keep_tail: usize,
) -> Hit {
    let chars = &t.chars[start..end];
    let is_digit = |c: char| any_digit(c).is_some() || is_spoken_x(c);
    let total = chars.iter().filter(|&&(_, c)| is_digit(c)).count();
    let mut masked = String::with_capacity(t.byte(end) - t.byte(start));
    let mut seen = 0;
    for &(_, c) in chars {
        if is_digit(c) {
            let keep = seen < keep_head || seen >= total - keep_tail.min(total);
            masked.push(if keep { c } else { '*' });
            seen += 1;
        } else {
            masked.push(c);
        }
    }
    let span = t.byte(start)..t.byte(end);
    Hit {
        kind: Some(kind),
        span: span.clone(),
        edits: vec![(span, masked)],
    }
}

// ---------------------------------------------------------------------------------------------
// Mobiles written in words (ASR output)
// ---------------------------------------------------------------------------------------------

/// Value of a digit as speech recognition writes it in words: `零`/`〇`/`洞` 0, `一`/`幺` 1,
/// `二` 2 … `九` 9, and `拐` 7 (the radio reading); also the formal (financial) digits of bank
/// forms, `壹` 1, `贰` 2, `叁` 3, `肆` 4, `伍` 5, `陆` 6, `柒` 7, `捌` 8, `玖` 9 (traditional
/// `貳`/`陸` are simplified before masking; `參`, which becomes the everyday `参`, is not read).
/// Amounts in formal digits (`壹仟贰佰元整`) break every run with `拾`/`佰`/`仟`/`万` and are
/// never read as numbers.
fn spoken_digit(c: char) -> Option<char> {
    Some(match c {
        '零' | '〇' | '洞' => '0',
        '一' | '幺' | '壹' => '1',
        '二' | '贰' => '2',
        '三' | '叁' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' => '6',
        '七' | '拐' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// Sentence punctuation that speech recognition puts between the groups of a number read out
/// (`一三八。一二三四。五六七八`): a separator only between digit words, and only where the
/// groups together make a number ([`spoken_candidate`]).
fn is_sentence_separator(c: char) -> bool {
    matches!(c, '。' | '.' | '．')
}

fn is_spoken_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '－' | '，' | ',' | '、' | '\u{3000}' | '\u{00A0}'
    )
}

/// An ID check character `X` as written or read out (`叉`, "cross").
fn is_spoken_x(c: char) -> bool {
    is_x(c) || c == '叉'
}

/// A digit written (`0`–`9`, full-width) or as a word ([`spoken_digit`]): its ASCII value.
fn any_digit(c: char) -> Option<char> {
    digit_value(c).or_else(|| spoken_digit(c))
}

/// Numbers read out as digit words (ASR output), alone or mixed with written digits, classified
/// as written numbers are ([`classify_number`]: the same check digits, the same relaxation
/// after `身份证`): mobiles (`幺三八一二三四五六七八`, `一三八 一二三四 五六七八`, with a spoken
/// prefix `加零零八六…`/`加八六…`, or mixed `一三八1234五六七八`), landlines, resident IDs
/// (`四四零三零六一九九零…`, a last `X` or `叉` allowed) and bank cards. A candidate is a stretch of
/// whole digit groups (joined by single separators) holding at least one digit word; pure
/// written numbers are left to [`detect_numbers`]. A candidate mixing written digits and words
/// is read only as a mobile, and only when every stretch of words in it has two or more (`第一`
/// before a written number is no digit of it). Masked as written numbers are: the first word
/// (and a prefix) of a mobile kept, the last four of a card, the others `*` one for one.
fn detect_spoken_numbers(t: &Text<'_>) -> Vec<Hit> {
    const MAX_DIGITS: usize = 19;
    let n = t.len();
    let is_digit_at = |k: usize| k < n && any_digit(t.chars[k].1).is_some();
    let mut hits = Vec::new();
    let mut i = 0;
    while i < n {
        if !is_digit_at(i) {
            i += 1;
            continue;
        }
        // A maximal run of digit groups joined by single separators; an ID check `X` ends it.
        // `sentence[k]`: group `k` follows a sentence separator (`。`), not an ordinary one.
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut sentence: Vec<bool> = vec![false];
        let mut has_x = false;
        loop {
            let start = i;
            while is_digit_at(i) {
                i += 1;
            }
            if t.char(i).is_some_and(is_spoken_x) && !t.char(i + 1).is_some_and(is_word_char) {
                has_x = true;
                i += 1;
            }
            groups.push((start, i));
            let sep = t.char(i).filter(|_| !has_x && is_digit_at(i + 1));
            match sep {
                Some(c) if is_spoken_separator(c) || is_sentence_separator(c) => {
                    sentence.push(is_sentence_separator(c));
                    i += 1;
                }
                _ => break,
            }
        }
        let sized: Vec<(usize, usize, usize)> =
            groups.iter().map(|&(s, e)| (s, e, e - s)).collect();
        let dead = masked_remnants(t, &sized);
        hits.extend(remnant_hits(t, &sized, &dead));
        let mut a = 0;
        while a < groups.len() {
            if dead[a] {
                a += 1;
                continue;
            }
            let mut last = a;
            let mut total = sized[a].2;
            while last + 1 < groups.len()
                && !dead[last + 1]
                && total + sized[last + 1].2 <= MAX_DIGITS
            {
                last += 1;
                total += sized[last].2;
            }
            let mut found = None;
            for b in (a..=last).rev() {
                if let Some(hit) = spoken_candidate(t, &groups, &sentence, a, b) {
                    found = Some((b, hit));
                    break;
                }
            }
            match found {
                Some((b, hit)) => {
                    hits.push(hit);
                    a = b + 1;
                }
                None => a += 1,
            }
        }
    }
    hits
}

/// The digits (ASCII, and `X` for an ID check character) of characters `start..end`.
fn candidate_digits(t: &Text<'_>, start: usize, end: usize) -> String {
    t.chars[start..end]
        .iter()
        .filter_map(|&(_, c)| any_digit(c).or_else(|| is_spoken_x(c).then_some('X')))
        .collect()
}

/// The hit of [`detect_spoken_numbers`] for digit groups `a..=b` of `groups` (character ranges),
/// if they form a number; `sentence[k]` says whether group `k` follows a sentence separator.
///
/// A candidate across a sentence separator (`一三八。一二三四。五六七八`) is read only in digit
/// words, with groups of three or more, when no part of it before a sentence separator is a
/// number already (a number that ended a sentence is not continued into the next one), and a
/// landline only when its first group is the area code.
fn spoken_candidate(
    t: &Text<'_>,
    groups: &[(usize, usize)],
    sentence: &[bool],
    a: usize,
    b: usize,
) -> Option<Hit> {
    let (start, end) = (groups[a].0, groups[b].1);
    // Glue is read on the sides of the run, and at a sentence separator as at a run's end.
    let first = a == 0 || sentence[a];
    let last = b + 1 == groups.len() || sentence[b + 1];
    let chars = &t.chars[start..end];
    let spoken = chars.iter().any(|&(_, c)| spoken_digit(c).is_some());
    if !spoken {
        return None; // written digits only: detect_numbers reads them
    }
    let written = chars.iter().any(|&(_, c)| digit_value(c).is_some());
    let digits = candidate_digits(t, start, end);
    let lens: Vec<usize> = groups[a..=b].iter().map(|&(s, e)| e - s).collect();
    if digits.len() > 19 || is_amount(t, start, end) {
        return None;
    }
    let across = (a + 1..=b).any(|k| sentence[k]);
    if across
        && (written
            || lens.iter().any(|&len| len < 3)
            || (a + 1..=b).filter(|&k| sentence[k]).any(|k| {
                let before = candidate_digits(t, start, groups[k - 1].1);
                classify_number(t, &before, &lens[..k - a], start).is_some()
            }))
    {
        return None;
    }
    let label = label_before(t, start);
    if label == Label::Identifier {
        return None;
    }
    let before = if first {
        glued_before(t, start)
    } else {
        Glue::Free
    };
    let after = if last {
        glued_after(t, end)
    } else {
        Glue::Free
    };
    let (kind, keep_head, keep_tail) = classify_number(t, &digits, &lens, start)?;
    if !glue_allows(kind, before, after) {
        return None;
    }
    if across && kind == PiiKind::Landline && keep_head != lens[0] {
        return None;
    }
    let mixed_ok = || {
        let mut word_runs = chars
            .split(|&(_, c)| spoken_digit(c).is_none())
            .filter(|run| !run.is_empty());
        word_runs.all(|run| run.len() >= 2)
    };
    let mobile_only = written || label == Label::ProductCode;
    if mobile_only && kind != PiiKind::Mobile || written && !mixed_ok() {
        return None;
    }
    Some(number_hit(t, kind, start, end, keep_head, keep_tail))
}

// ---------------------------------------------------------------------------------------------
// Addresses: the house-number level
// ---------------------------------------------------------------------------------------------

/// Units that end the house-number part of an address, longest first.
/// `楼`/`层` (a floor) count only inside an address, right after another house-number part
/// (`1号楼5楼501`); alone (`我住3楼`) a floor identifies nobody.
const ADDRESS_UNITS: &[&str] = &[
    "号楼", "号院", "单元", "号", "栋", "幢", "室", "弄", "楼", "层",
];

/// Last characters of a road, lane, village or compound name, after which `88号` is a house
/// number (`建国路88号`, `幸福里5号`, `张家村12号`).
const STREET_SUFFIXES: &str = "路街道巷弄里村同坊屯庄园苑区院湾寨组队城段厦寓";

/// What may follow `N号` when it is not a house number (`3号线`, `2号口`, `5号床`, `8号桌`,
/// `3号仓库`, `2号厂房`).
const NOT_HOUSE_AFTER_HAO: &str = "线口门店床窗桌机位台柜车键码厅场馆仓库厂档摊铺";

/// Public institutions whose name ends like a compound (`院`): `人民医院3号楼` is a building of
/// a hospital, not a home; it needs a unit or room after it, like a building number alone.
const INSTITUTIONS: &[&str] = &[
    "医院",
    "卫生院",
    "学院",
    "法院",
    "检察院",
    "研究院",
    "设计院",
    "科学院",
    "影院",
    "剧院",
    "戏院",
];

/// Words before `N栋`/`N幢`/`N单元` that make it a count or a lesson, not an address
/// (`小区一共12栋楼`, `小区有30栋`, `这3栋`).
const QUANTITY_BEFORE: &[&str] = &[
    "一共", "总共", "共", "有", "约", "大约", "将近", "仅", "只", "才", "这", "那", "每", "各",
    "好几",
];

/// Verbs of study before `N单元`/`N栋` (optionally with `了`): a lesson reached, not an address
/// (`学到了5单元`).
const LESSON_BEFORE: &[&str] = &["学到", "讲到", "教到", "读到", "背到", "复习到", "考到"];

/// Words that make a clause about a workplace, a shop, a venue or a lesson, where `N号`, `N室`,
/// `N栋` name a stall, a meeting room or a lesson, not a home (`会议在301室开`,
/// `商场B区12号`, `店铺在步行街3号`, `考试考第3单元和4单元`). A number right after another
/// house-number part (`去人民医院3号楼201`) is read all the same.
const NOT_HOME_CONTEXT: &[&str] = &[
    "仓库",
    "商场",
    "商户",
    "店铺",
    "档口",
    "摊位",
    "停车场",
    "车位",
    "展会",
    "展馆",
    "会议",
    "酒店",
    "宾馆",
    "考试",
    "课程",
    "课本",
    "教材",
];

/// Zones of a workplace or a campus: right before a number (`坐到园区5号`, `我在仓储区12号`,
/// `学校2栋宿舍楼`) they make it a building of that zone, not a home. Only right before:
/// `苏州工业园区星湖街328号` is a street address in a district of that name.
const NOT_HOME_ZONES: &[&str] = &[
    "园区",
    "仓储区",
    "工业区",
    "厂区",
    "库区",
    "景区",
    "校区",
    "学校",
    "物流园",
];

/// Words that make a clause about a home or a delivery all the same (`我住在酒店对面的幸福小区3栋`,
/// `店铺地址：建国路88号`): [`NOT_HOME_CONTEXT`] and [`NOT_HOME_ZONES`] do not apply there.
const HOME_CONTEXT: &[&str] = &["住", "家", "小区", "地址", "寄到", "送到", "收货", "收件"];

/// Whether the number starting at character `start` stands in a clause (back to the last
/// clause punctuation) holding one of [`NOT_HOME_CONTEXT`], or right after one of
/// [`NOT_HOME_ZONES`], and the clause names no home ([`HOME_CONTEXT`]).
fn not_home_context(t: &Text<'_>, start: usize) -> bool {
    let clause_start = (0..start)
        .rev()
        .find(|&k| "，,。！!？?；;\n".contains(t.chars[k].1))
        .map_or(0, |k| k + 1);
    let clause = t.slice(clause_start, start);
    (NOT_HOME_CONTEXT.iter().any(|w| clause.contains(w))
        || NOT_HOME_ZONES.iter().any(|w| clause.ends_with(w)))
        && !HOME_CONTEXT.iter().any(|w| clause.contains(w))
}

/// Whether the token `start..end` is a building (and a unit) and a room joined by dashes
/// (`12-1502`, `2-1-302`: 1–3 digits each, the room 3–4 digits), as written right after a
/// compound's name (`幸福小区12-1502`).
fn building_room_token(t: &Text<'_>, start: usize, end: usize) -> bool {
    let token: String = t.chars[start..end]
        .iter()
        .map(|&(_, c)| digit_value(c).unwrap_or(c))
        .collect();
    let parts: Vec<&str> = token.split(['-', '－']).collect();
    let digits = |s: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let Some((room, building)) = parts.split_last() else {
        return false;
    };
    (1..=2).contains(&building.len())
        && building.iter().all(|part| digits(part, 1..=3))
        && digits(room, 3..=4)
        && !t.char(end).is_some_and(|c| {
            "年月日号点时分秒元块万天次个件期届岁%％".contains(c) || is_word_char(c)
        })
}

/// Numerals of a house number in words (`八十八`, `五零一`, formal `捌拾捌`).
fn is_numeral(c: char) -> bool {
    spoken_digit(c).is_some() || matches!(c, '十' | '百' | '拾' | '佰')
}

/// Whether character `start` follows the name of a road (`路`, `街`, `巷`, `弄` after a Han
/// character that is not a classifier or a demonstrative: `建国路`, not `这条路`), where a
/// number in words is a house number.
fn after_road(t: &Text<'_>, start: usize) -> bool {
    start >= 2
        && "路街巷弄".contains(t.chars[start - 1].1)
        && is_han(t.chars[start - 2].1)
        && !"条这那该此每哪本上下前后马走".contains(t.chars[start - 2].1)
}

/// Names of housing estates (`幸福小区`, `阳光花园`, `翠苑`), after which a building or unit
/// number in words is an address (`幸福小区三栋二单元`).
const ESTATES: &[&str] = &["小区", "花园", "家园", "新村", "公寓", "社区", "大厦", "苑"];

/// Whether a number in words at character `start`, before `unit` (and then `after`), starts an
/// address: a house number (`号`) after a road (`建国路八十八号`); a building or unit number
/// (`号楼`, `栋`, `幢`, `单元`) after a road or an estate (`中山路三号楼`, `幸福小区三栋`), but
/// not `N栋楼` (`小区三栋楼都停电了`: a count).
fn words_start_address(t: &Text<'_>, start: usize, unit: &str, after: Option<char>) -> bool {
    let after_estate = || {
        let before = t.slice(start.saturating_sub(2), start);
        ESTATES.iter().any(|w| before.ends_with(w))
    };
    match unit {
        "号" => after_road(t, start),
        "号楼" | "单元" => after_road(t, start) || after_estate(),
        "栋" | "幢" => after != Some('楼') && (after_road(t, start) || after_estate()),
        _ => false,
    }
}

/// Whether the number starting at character `start` is a count or a lesson reached
/// ([`QUANTITY_BEFORE`], [`LESSON_BEFORE`]).
fn quantity_before(t: &Text<'_>, start: usize) -> bool {
    let before = t.slice(start.saturating_sub(4), start);
    let verb = before.strip_suffix('了').unwrap_or(before);
    QUANTITY_BEFORE.iter().any(|w| before.ends_with(w))
        || LESSON_BEFORE.iter().any(|w| verb.ends_with(w))
}

/// Whether character `start` follows a street, lane, village or compound name
/// ([`STREET_SUFFIXES`]) that is not a public institution ([`INSTITUTIONS`]).
fn after_street(t: &Text<'_>, start: usize) -> bool {
    start > 0
        && STREET_SUFFIXES.contains(t.chars[start - 1].1)
        && !INSTITUTIONS
            .iter()
            .any(|w| t.slice(start.saturating_sub(3), start).ends_with(w))
}

/// House, building, unit, room and lane numbers of an address (`88号`, `3栋`, `2单元`, `501室`,
/// `3号楼`, `123弄`): the number's digits and letters become `*`, the unit is kept, and so is
/// everything above it (province, city, district, street). `N号` counts only after a street
/// name or another house-number part; dates (`3月15号`), ordinals (`第2单元`) and layouts
/// (`3室1厅`) are left alone.
fn detect_addresses(t: &Text<'_>) -> Vec<Hit> {
    let n = t.len();
    let is_token_char = |c: char| {
        digit_value(c).is_some()
            || c.is_ascii_alphabetic()
            || matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ')
    };
    let mut hits = Vec::new();
    // Character index where the last accepted house-number part ended.
    let mut chain_end = usize::MAX;
    let mut i = 0;
    while i < n {
        let c = t.chars[i].1;
        if !is_token_char(c) && !is_numeral(c) {
            i += 1;
            continue;
        }
        let start = i;
        // A number in words (`八十八号三栋二单元五零一室`), or a maximal token of digits and
        // letters, dashes allowed inside (`12-3`, `B1203`).
        let words = is_numeral(c);
        if words {
            while i < n && is_numeral(t.chars[i].1) {
                i += 1;
            }
        } else {
            while i < n
                && (is_token_char(t.chars[i].1)
                    || (matches!(t.chars[i].1, '-' | '－')
                        && i + 1 < n
                        && is_token_char(t.chars[i + 1].1)))
            {
                i += 1;
            }
        }
        let end = i;
        if star_before(t, start) || star_after(t, end) {
            continue; // the visible digits of a masked number (`***************1234室`)
        }
        let token = &t.chars[start..end];
        let digits = if words {
            token.len()
        } else {
            token
                .iter()
                .filter(|&&(_, c)| digit_value(c).is_some())
                .count()
        };
        let letters = token
            .iter()
            .filter(|&&(_, c)| !words && c.is_alphabetic() && digit_value(c).is_none())
            .count();
        if digits == 0 || digits > 6 || letters > 2 {
            continue;
        }
        let unit = ADDRESS_UNITS
            .iter()
            .find(|u| t.starts_with_at(end, u))
            .copied();
        // A room number right after a unit number or a block (`2单元1101`, `B座1203`), without `室`;
        // a building and a room after a compound (`幸福小区12-1502`).
        let after_block = start > 0 && t.chars[start - 1].1 == '座';
        let bare_room = unit.is_none()
            && if words {
                // `二单元五零一`: digit words only, three or more.
                chain_end == start
                    && digits >= 3
                    && token.iter().all(|&(_, c)| spoken_digit(c).is_some())
            } else {
                ((chain_end == start || after_block) && digits >= 2)
                    || (after_street(t, start) && building_room_token(t, start, end))
            };
        let Some(unit) = unit.or(bare_room.then_some("")) else {
            continue;
        };
        let unit_end = end + unit.chars().count();
        let before = if start > 0 {
            Some(t.chars[start - 1].1)
        } else {
            None
        };
        let after = t.char(unit_end);
        let glued =
            before.is_some_and(|c| matches!(c, '.' | '．' | ':' | '：' | '/' | '第' | '月' | '周'));
        let accepted = !glued
            && !after_lookalike_keyword(t, start)
            && (chain_end == start || !not_home_context(t, start))
            // A number in words starts an address only as a house number after a road
            // (`建国路八十八号`), or a building or unit after a road or an estate
            // (`中山路三号楼`, `幸福小区三栋`); words are far more often counts (`小区两栋楼`,
            // `小区三栋楼都停电了`, `下一单元`).
            && (!words || chain_end == start || words_start_address(t, start, unit, after))
            && match unit {
                "号" => {
                    let after_street = after_street(t, start)
                        || t.slice(start.saturating_sub(3), start).ends_with("门牌")
                        || t.slice(start.saturating_sub(3), start).ends_with("门牌号");
                    (after_street || chain_end == start)
                        && !after.is_some_and(|c| NOT_HOUSE_AFTER_HAO.contains(c))
                }
                // A building number alone (`住的8号楼` in a hotel review) identifies nobody: it
                // needs a compound or street before it, or a unit or room after it.
                "号楼" => {
                    after_street(t, start)
                        || chain_end == start
                        || after.is_some_and(|c| digit_value(c).is_some())
                }
                "室" => !t.slice(unit_end, (unit_end + 3).min(n)).contains('厅'),
                "栋" | "幢" => {
                    !after.is_some_and(|c| "房别".contains(c)) && !quantity_before(t, start)
                }
                "单元" => !quantity_before(t, start),
                "楼" | "层" => chain_end == start,
                _ => true,
            };
        if !accepted {
            continue;
        }
        let masked: String = token
            .iter()
            .map(|&(_, c)| if words || is_token_char(c) { '*' } else { c })
            .collect();
        hits.push(Hit {
            kind: Some(PiiKind::Address),
            span: t.byte(start)..t.byte(unit_end),
            edits: vec![(t.byte(start)..t.byte(end), masked)],
        });
        chain_end = unit_end;
        i = unit_end;
    }
    hits
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// About 130 of the most common single-character surnames (by population).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘\
袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎\
史陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文施洪辛柯庄葛温樊邢聂章鲁岳翟庞颜倪殷申甘单";

/// Common compound surnames.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "轩辕", "端木", "南宫", "西门", "独孤", "呼延",
];

static SURNAME_SET: Lazy<HashSet<char>> = Lazy::new(|| SURNAMES.chars().collect());

/// Everyday words that start with a surname of [`SURNAMES`] (mostly `单`, `申`, `甘`, which are
/// far more common as word characters than as surnames): never read as surname + given name,
/// whatever the trigger (`姓名单独填写`, `本人单身`, `我是申通的`, `甘肃人女士`).
const SURNAME_WORDS: &[&str] = &[
    "单独", "单位", "单身", "单亲", "单纯", "单号", "单据", "单价", "单次", "单日", "单笔", "单项",
    "单品", "单词", "单元", "单车", "单程", "单方", "单向", "单面", "单子", "单人", "单间", "单张",
    "单件", "单个", "单机", "单曲", "单打", "单页", "单只", "单边", "申请", "申诉", "申报", "申领",
    "申办", "申通", "申购", "申明", "申述", "申辩", "甘心", "甘愿", "甘肃", "甘蔗", "甘甜", "甘草",
    "甘拜", "甘于",
];

/// Whether one of [`SURNAME_WORDS`] starts at character `i`.
fn surname_word_at(t: &Text<'_>, i: usize) -> bool {
    SURNAME_WORDS.iter().any(|w| t.starts_with_at(i, w))
}

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
    "的了是在我你您他她它们这那哪位个和与跟给对被把说也都就还又吗呢吧啊呀哈嘛哦啦噢喔哟咯嘞呗哇\
要想来去不没很太打已今昨刚从让叫请问电手号老姓名先等";

fn is_name_char(c: char) -> bool {
    is_han(c) && !NON_NAME_CHARS.contains(c)
}

/// Characters of [`NON_NAME_CHARS`] that are also common in given names (`志刚`, `小刚`,
/// `和平`, `来福`). They count as given-name characters only where the name is clearly
/// delimited: before `先生`/`女士`/`小姐`, or after an introduction when the name ends at a
/// [`name_end`] (see [`delimited_given_len`]).
const AMBIGUOUS_NAME_CHARS: &str = "刚和来";

/// Ambiguous name characters that also start a clause (`和` "and", `来` "come": `我和先生`,
/// `我是张伟来投诉的`): they end a given name only before a hard end ([`hard_name_end`]), and
/// never right before a title. Before a surname, any ambiguous character is read as the word
/// (`王和李先生`, `我叫王和李`).
const CLAUSE_CHARS: &str = "和来";

fn is_ambiguous_name_char(c: char) -> bool {
    AMBIGUOUS_NAME_CHARS.contains(c)
}

/// Given-name characters after a weak trigger that make the phrase a role or a place, not a
/// name (`高中生`, `会员`, `用户`, `武汉人`, `这边是高新区`, `这边是万达店`).
const ROLE_SUFFIX_CHARS: &str = "生员户主家师长工人客卡者友民商方级型族迷粉区市县省镇乡路街店厅";

/// Surname-initial words often found after `我是` that are not names.
const NOT_NAMES_AFTER_WEAK: &[&str] = &[
    "武汉", "江苏", "江西", "江门", "常州", "温州", "金华", "黄石", "石家", "高中", "高三", "高二",
    "高一", "高管", "周末", "方便", "余额", "白领", "白金", "黄金", "金卡", "钱包", "马上", "万达",
    "龙岗", "龙华", "唐山", "许昌", "韩国", "郑州", "于是", "何时", "史上", "康复", "文员", "文科",
    "常客", "易购", "汤圆", "罗湖", "孙子", "宋朝", "秦皇", "柯桥", "汪汪", "陆续", "曾经", "任何",
    "谢谢", "沈阳", "苏州", "杨浦", "林业", "田园", "程序", "范围", "叶子", "石油", "雷达", "贺卡",
    "高速", "高铁", "高新", "高端", "高层", "黄色", "白色", "金色", "江边", "江湖", "常态",
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

static TITLE: Lazy<Regex> = Lazy::new(|| Regex::new("先生|女士|小姐").expect("title regex"));

/// Names before `先生`, `女士`, `小姐`: the given name is removed (`王小明先生` → `王先生`).
fn detect_titled_names(t: &Text<'_>) -> Vec<Hit> {
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
        // The title delimits the name, so an ambiguous character may end it (`王志刚先生`),
        // unless it starts a clause (`我和先生`, `张姐和先生`).
        if !(is_name_char(c1) || (is_ambiguous_name_char(c1) && !CLAUSE_CHARS.contains(c1))) {
            continue;
        }
        if c2.is_some_and(|c2| is_compound_surname(c2, c1)) {
            continue; // 欧阳先生
        }
        // An ambiguous first given-name character (`李和平女士`), unless a surname follows it
        // (`王和李先生`: "Wang and Mr Li").
        let name_ok = |x: Option<char>| {
            x.is_some_and(|x| is_name_char(x) || (is_ambiguous_name_char(x) && !is_surname(c1)))
        };
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
            if surname_word_at(t, surname) {
                continue; // 甘肃人女士
            }
            hits.push(Hit {
                kind: Some(PiiKind::Name),
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
    /// `我是`, `本人`, `这边是` (`我这边是`), `我是用户`/`我是客户`/`我是机主`: what follows may
    /// be a name, a role, a place or a verb.
    Weak,
    /// `姓X名Y`.
    SurnameGiven,
}

static NAME_TRIGGER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        "我的名字叫|我的名字是|名字叫|名字是|我名叫|我叫|本人叫|本人名叫|姓名|联系人|收件人|收货人|持卡人|户名|我是用户|我是客户|我是机主|这边是|我是|本人|姓",
    )
    .expect("name trigger regex")
});

fn trigger_kind(s: &str) -> Trigger {
    match s {
        "我是" | "本人" | "这边是" | "我是用户" | "我是客户" | "我是机主" => {
            Trigger::Weak
        }
        "姓" => Trigger::SurnameGiven,
        _ => Trigger::Strong,
    }
}

/// Words that often follow a self-introduction (`我叫张伟投诉一下`, `我是李明昨天打过电话`).
/// When the character after a one-character given name starts one of them, the name is read as
/// surname + one character and the word is left intact.
const FOLLOWING_WORDS: &[&str] = &[
    "投诉", "反映", "反馈", "咨询", "办理", "申请", "来电", "致电", "报修", "报案", "举报", "查询",
    "确认", "需要", "希望", "觉得", "认为", "因为", "所以", "但是", "可是", "而且", "然后", "现在",
    "目前", "刚才", "刚刚", "之前", "以前", "上次", "上周", "上个", "昨天", "今天", "明天", "前天",
    "早上", "上午", "中午", "下午", "晚上", "一直", "已经", "本来", "其实", "只是", "真的", "实在",
    "非常", "特别", "家住", "住在", "居住", "身份", "手机", "电话", "号码", "联系", "地址", "账号",
    "账户", "卡号", "银行", "订单", "快递", "宽带", "网络", "信号", "套餐", "话费", "流量", "退款",
    "退货", "换货", "维修", "安装", "取消", "开通", "充值", "缴费", "购买", "买了", "下单", "收到",
    "没有", "有个", "有一", "有点", "这边", "那边", "麻烦", "帮忙", "帮我", "谢谢", "问下", "问一",
    "要求", "请求", "来自", "用的", "使用", "情况", "问题", "事情", "遇到", "发现", "知道", "告诉",
    "说明", "表示", "提出", "再次", "多次", "两次", "三次", "几次", "一次", "很多", "很久", "好久",
    "等了", "等待", "一个", "一下", "一点", "办的", "买的", "在贵", "于今", "于昨", "于上", "于本",
];

/// Time words: a "given name" starting with one is a date after a surname that is also a
/// preposition (`本人于上月购买`, `于近日`, `于周末`), never a name.
const TIME_WORDS: &[&str] = &[
    "上月",
    "上周",
    "上次",
    "上个",
    "上旬",
    "本月",
    "本周",
    "本年",
    "本日",
    "近日",
    "近期",
    "近来",
    "日前",
    "前天",
    "前日",
    "前些",
    "前段",
    "前几",
    "大前天",
    "周末",
    "周一",
    "周二",
    "周三",
    "周四",
    "周五",
    "周六",
    "周日",
    "周天",
    "星期",
    "礼拜",
    "月初",
    "月中",
    "月底",
    "月末",
    "年初",
    "年中",
    "年底",
    "当天",
    "当日",
    "次日",
    "同日",
    "早前",
    "早些",
    "中旬",
    "下旬",
    "节前",
    "节后",
    "春节",
    "国庆",
    "假期",
    "上午",
    "中午",
    "下午",
    "早上",
    "晚上",
    "凌晨",
    "傍晚",
    "白天",
    "夜里",
    "去年",
    "前年",
    "今年",
    "今天",
    "今日",
    "昨天",
    "昨日",
    "明天",
    "明日",
];

/// Whether a time word starts at character `i`: one of [`TIME_WORDS`], or a number in words
/// followed by a calendar unit (`三月`, `十五号`, `两天`).
fn time_word_at(t: &Text<'_>, i: usize) -> bool {
    if TIME_WORDS.iter().any(|w| t.starts_with_at(i, w)) {
        return true;
    }
    let numeral = |k: usize| {
        t.char(k)
            .is_some_and(|c| "一二三四五六七八九十两几".contains(c))
    };
    let mut k = i;
    while k < i + 3 && numeral(k) {
        k += 1;
    }
    k > i && t.char(k).is_some_and(|c| "月日号年天周".contains(c))
}

/// Whether one of [`FOLLOWING_WORDS`] starts at character `i`.
fn following_word_at(t: &Text<'_>, i: usize) -> bool {
    FOLLOWING_WORDS.iter().any(|w| t.starts_with_at(i, w))
}

/// Sentence-final (modal) particles: never part of a given name, and a name may end before them.
const MODAL_PARTICLES: &str = "啊呀哈呢吧嘛哦啦噢喔哟咯嘞呗哇";

/// After a weak trigger, the name must end at punctuation, the end of the text, a modal
/// particle ([`MODAL_PARTICLES`]), `我`, or `要`/`想` starting a verb phrase
/// (`我是王小明要投诉你们`).
fn weak_boundary(t: &Text<'_>, i: usize) -> bool {
    hard_name_end(t, i) || matches!(t.char(i), Some('我' | '要' | '想'))
}

/// A hard end of a name: punctuation or another non-Han character (not `*`), the end of the
/// text, a modal particle or a title.
fn hard_name_end(t: &Text<'_>, i: usize) -> bool {
    match t.char(i) {
        None => true,
        Some(c) if !is_han(c) => c != '*',
        Some(c) => MODAL_PARTICLES.contains(c) || title_at(t, i),
    }
}

/// The end of a name: a [`hard_name_end`], or a clause starter — `我`, `要` or one of
/// [`FOLLOWING_WORDS`] (`我是王志刚我要投诉`, `我叫李和平要投诉`).
fn name_end(t: &Text<'_>, i: usize) -> bool {
    hard_name_end(t, i) || matches!(t.char(i), Some('我' | '要')) || following_word_at(t, i)
}

/// The length of a given name starting at character `q` that holds one of
/// [`AMBIGUOUS_NAME_CHARS`] (`志刚`, `和平`, `刚`), read only when the name is clearly delimited:
/// two characters followed by a [`name_end`], else one followed by one; an ambiguous last
/// character that starts a clause ([`CLAUSE_CHARS`]) needs a [`hard_name_end`] after it, and an
/// ambiguous character before a surname is never part of a name. `我是王刚来的` (刚来 before `的`)
/// and `我叫王刚来修` stay unread. `None` when there is no such name.
fn delimited_given_len(t: &Text<'_>, q: usize) -> Option<usize> {
    let given_char = |k: usize| {
        t.char(k)
            .is_some_and(|c| is_name_char(c) || is_ambiguous_name_char(c))
            && !title_at(t, k)
    };
    let ambiguous = |k: usize| t.char(k).is_some_and(is_ambiguous_name_char);
    // Whether the given name `q..end` ends at `end`.
    let ends = |end: usize| {
        let last_starts_clause = t.char(end - 1).is_some_and(|c| CLAUSE_CHARS.contains(c));
        if last_starts_clause {
            hard_name_end(t, end)
        } else {
            name_end(t, end)
        }
    };
    if !given_char(q) {
        return None;
    }
    let two = given_char(q + 1)
        && (ambiguous(q) || ambiguous(q + 1))
        && !following_word_at(t, q + 1)
        && !(ambiguous(q) && surname_at(t, q + 1).is_some())
        && ends(q + 2);
    if two {
        Some(2)
    } else if ambiguous(q) && ends(q + 1) {
        Some(1)
    } else {
        None
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
        // `客户名单`, `用户名单`: the trigger `户名` inside a word.
        if surname_word_at(t, p)
            || (m.as_str() == "户名" && p == t.index_of(m.end()) && t.char(p) == Some('单'))
        {
            continue;
        }
        let mut q = p + surname_len;
        // `姓张，张伟`: the full name repeated after the surname must end clearly (`姓张，张飞的张`
        // spells the surname out).
        let mut repeated = false;
        if trigger == Trigger::SurnameGiven {
            // 姓王名小明, 姓王，名小明, 姓王，叫王小明, 姓王，王小明
            if t.char(q).is_some_and(|c| matches!(c, '，' | ',' | ' ')) {
                q += 1;
            }
            let surname = t.slice(p, p + surname_len);
            match t.char(q) {
                Some('名') => q += 1,
                Some('叫') if t.slice(q + 1, q + 1 + surname_len) == surname => {
                    q += 1 + surname_len;
                }
                Some(_) if t.slice(q, q + surname_len) == surname => {
                    q += surname_len;
                    repeated = true;
                }
                _ => continue,
            }
        }
        if title_at(t, q) || time_word_at(t, q) {
            continue;
        }
        // After a weak trigger, a given name of `len` characters must not make the phrase a
        // role or a place (`我是高中生`, `我是武汉的`).
        let weak_ok = |len: usize| {
            let word = t.slice(p, (p + surname_len + 1).min(t.len()));
            let role = t
                .char(q + len - 1)
                .is_some_and(|c| ROLE_SUFFIX_CHARS.contains(c));
            !NOT_NAMES_AFTER_WEAK.contains(&word) && !role
        };
        // A second given-name character, unless it starts a word that usually follows a name
        // (`我叫张伟投诉一下`: the name is 张伟, not 张伟投).
        let second = t.char(q + 1).is_some_and(is_name_char)
            && !title_at(t, q + 1)
            && !following_word_at(t, q + 1);
        let plain = if !t.char(q).is_some_and(is_name_char) {
            None
        } else {
            match trigger {
                // What follows a strong trigger is a name: two given-name characters when two
                // name characters follow (the most common length), else one.
                Trigger::Strong | Trigger::SurnameGiven => Some(if second { 2 } else { 1 }),
                Trigger::Weak => {
                    let boundary = |k: usize| weak_boundary(t, k) || following_word_at(t, k);
                    if second && boundary(q + 2) && weak_ok(2) {
                        Some(2)
                    } else if !second && boundary(q + 1) && weak_ok(1) {
                        Some(1)
                    } else {
                        None
                    }
                }
            }
        };
        // A longer reading through an ambiguous character (`王志刚`, `李和平`), when delimited.
        let delimited =
            delimited_given_len(t, q).filter(|&len| trigger != Trigger::Weak || weak_ok(len));
        let given_len = match (plain, delimited) {
            (plain, Some(len)) if len > plain.unwrap_or(0) => len,
            (Some(len), _) => len,
            (None, _) => continue,
        };
        if repeated && !name_end(t, q + given_len) {
            continue;
        }
        let given = t.byte(q)..t.byte(q + given_len);
        hits.push(Hit {
            kind: Some(PiiKind::Name),
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
            ("_abc@x.com", "_a**@x.com"),
            ("见abc@qq.com123", "见a**@qq.com123"),
            ("a@b.cc@d.cc", "*@b.cc@d.cc"),
            ("abc@13812345678.com", "a**@13812345678.com"),
            ("邮箱@客服", "邮箱@客服"),
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
            ("我叫张伟投诉一下", "我叫张*投诉一下"),
            ("我叫李娜反映个问题", "我叫李*反映个问题"),
            ("我是张伟投诉一下", "我是张*投诉一下"),
            ("我是王小明昨天打过电话", "我是王**昨天打过电话"),
            ("我叫王小明投诉", "我叫王**投诉"),
            ("本人叫王强，要投诉", "本人叫王*，要投诉"),
            ("我姓张，叫张建国", "我姓张，叫张**"),
            ("我姓张，叫李四", "我姓张，叫李四"),
            // --- mobiles in words (ASR)
            ("电话幺三八一二三四五六七八", "电话幺**********"),
            ("一三八 一二三四 五六七八", "一** **** ****"),
            (
                "号码是一三九洞洞幺二三四五六，谢谢",
                "号码是一**********，谢谢",
            ),
            ("手机一五九零零零零一一一一", "手机一**********"),
            ("1 3 8 1 2 3 4 5 6 7 8", "1 * * * * * * * * * *"),
            ("一二三四五六七八九十", "一二三四五六七八九十"),
            (
                "订单号一三八一二三四五六七八",
                "订单号一三八一二三四五六七八",
            ),
            ("一三八一二三四五六七八九", "一三八一二三四五六七八九"),
            ("二三八一二三四五六七八", "二三八一二三四五六七八"),
            // --- addresses
            (
                "北京市朝阳区建国路88号3栋2单元501室",
                "北京市朝阳区建国路**号*栋*单元***室",
            ),
            (
                "上海市徐汇区漕溪北路123弄5号1202室",
                "上海市徐汇区漕溪北路***弄*号****室",
            ),
            ("住在幸福小区12号楼3单元", "住在幸福小区**号楼*单元"),
            ("送到B座1203室", "送到B座****室"),
            ("恒隆广场2座3305", "恒隆广场2座****"),
            ("尾号*1234 13812345678", "尾号*1234 1**********"),
            (
                "54888-1472000058-14725488808",
                "54888-1472000058-1**********",
            ),
            ("2座位", "2座位"),
            ("3月15号下的单", "3月15号下的单"),
            ("地铁2号线", "地铁2号线"),
            ("酒店的8号楼设施比较新", "酒店的8号楼设施比较新"),
            ("住8号楼1202", "住*号楼****"),
            ("三室两厅，3室1厅", "三室两厅，3室1厅"),
            ("第2单元的内容", "第2单元的内容"),
            ("人民路3号口", "人民路3号口"),
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
            // one value after a label: dashes join it (a space starts a new number)
            ("单号 1234-13812345678", "单号 1234-13812345678"),
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
    fn mask_options_allow_list_and_kinds() {
        let mut opts = MaskOptions::default();
        opts.allow.push("010-62345678".into());
        opts.allow.push("13800000000".into());
        opts.allow.push("*@example.com".into());
        opts.allow.push("0571*".into());
        let text = "热线010 6234 5678，经理13800000000，service@Example.com，\
                    座机0571-88886666，手机+86 138 1234 5678，zw@qq.com";
        assert_eq!(
            mask_with(text, &opts),
            "热线010 6234 5678，经理13800000000，service@Example.com，\
             座机0571-88886666，手机+86 1** **** ****，z*@qq.com"
        );
        // The same mobile with a country prefix is allowed too.
        assert_eq!(mask_with("+8613800000000", &opts), "+8613800000000");
        // A prefix pattern applies to phone numbers only: a Visa card starting 4000 and an ID
        // starting 400 are still masked with the default `400*` entry.
        let card = with_luhn("400012345678901");
        assert_eq!(mask(&card), format!("************{}", &card[12..]));
        let id = with_check("40000019000101000");
        assert_eq!(mask(&id), "*".repeat(18));
        // Kinds.
        let names_only = MaskOptions {
            kinds: vec![PiiKind::Name],
            ..MaskOptions::default()
        };
        assert_eq!(
            mask_with("我叫张伟，电话13812345678", &names_only),
            "我叫张*，电话13812345678"
        );
        let nothing = MaskOptions {
            allow: Vec::new(),
            kinds: Vec::new(),
        };
        assert_eq!(
            mask_with("我叫张伟，电话13812345678", &nothing),
            "我叫张伟，电话13812345678"
        );
        assert!(DEFAULT_ALLOW.contains(&"10086"));
    }

    #[test]
    fn idempotent_when_masking_an_email_ends_a_long_digit_run() {
        // Found by the soak driver (tests/pii_soak.rs).
        let text = "身份证３３０１０６１９９５０８０８５９３２13812345678@qq.com收不5账单";
        let once = mask(text);
        assert_eq!(mask(&once), once);
        // ... and masking changes only what `find_pii` reports (the soak driver's second finding on
        // this input: the e-mail's kept `1` turned the ID digits into a "bank card" in a second pass).
        let spans = find_pii(text);
        assert_eq!(once.chars().count(), text.chars().count());
        for ((at, a), b) in text.char_indices().zip(once.chars()) {
            if a != b {
                assert!(
                    spans.iter().any(|s| s.range.contains(&at)),
                    "{a:?} at byte {at} changed outside {spans:?}"
                );
            }
        }
    }

    #[test]
    fn pii_hidden_by_traditional_characters_invisible_characters_or_spacing_is_masked() {
        // Each was returned unmasked when masking read the raw text only (an audit, 2026-12-03).
        for (text, masked) in [
            ("我叫張偉", "我叫張*"),
            ("黃小明先生您好", "黃先生您好"),
            ("邮箱zhangsan＠163.com", "邮箱z*******＠163.com"),
            (
                "电话138\u{200B}1234\u{200B}5678",
                "电话1**\u{200B}****\u{200B}****",
            ),
            ("138\t1234\t5678", "1**\t****\t****"),
            ("打138  1234  5678", "打1**  ****  ****"),
            ("我叫陈 伟，我要投诉", "我叫陈 *，我要投诉"),
            ("黄晓\u{3000}明先生", "黄先生"),
            (
                "电话幺三八，嗯，幺二三四，五六七八",
                "电话幺**，嗯，****，****",
            ),
        ] {
            assert_eq!(mask(text), masked, "{text:?}");
            assert!(
                masked_as_reported(text, &find_pii(text), masked),
                "{text:?}"
            );
            assert_eq!(mask(masked), masked, "{text:?}");
        }
        // What masking leaves alone keeps its original form: traditional characters, full-width
        // punctuation, the spacing.
        let text = "我們的寬帶  壞了！！請聯繫";
        assert_eq!(mask(text), text);
        assert!(find_pii(text).is_empty());
        // A dropped space next to a name that stays, or outside a name, is kept.
        assert_eq!(mask("请王芳\n女士回电"), "请王\n女士回电");
    }

    #[test]
    fn find_pii_reports_what_later_passes_mask() {
        // `身份证` + a 15-digit legacy ID in full-width digits glued to `8@qq.com`: the first pass
        // masks only the e-mail (`<15 digits>8` is no number); that ends the digit run, and the
        // second pass masks the ID. `find_pii` used to report the first pass only.
        let text = "身份证３３０１０６４９１２３１００２8@qq.com";
        let once = mask(text);
        assert_eq!(once, "身份证****************@qq.com");
        let id = text.find('３').unwrap();
        let at = text.find('8').unwrap();
        assert_eq!(
            find_pii(text),
            vec![
                PiiSpan {
                    kind: PiiKind::ResidentId,
                    range: id..at,
                },
                PiiSpan {
                    kind: PiiKind::Email,
                    range: at..text.len(),
                },
            ]
        );
        // Every changed character lies in a reported span.
        let spans = find_pii(text);
        assert_eq!(once.chars().count(), text.chars().count());
        for ((at, a), b) in text.char_indices().zip(once.chars()) {
            assert!(a == b || spans.iter().any(|s| s.range.contains(&at)));
        }
        // Without e-mails there is no second pass, and the ID stays (it is glued to the `8`).
        let no_email = MaskOptions {
            kinds: PiiKind::ALL
                .into_iter()
                .filter(|k| *k != PiiKind::Email)
                .collect(),
            ..MaskOptions::default()
        };
        assert_eq!(mask_with(text, &no_email), text);
        assert!(find_pii_with(text, &no_email).is_empty());
    }

    #[test]
    fn find_pii_maps_later_passes_across_a_removed_name() {
        // The first pass also removes a given name before `先生`, which shortens the text: the ID
        // found by the second pass must still be reported on the input's own characters.
        let text = "王小明先生，身份证３３０１０６４９１２３１００２8@qq.com，李大伟女士";
        assert_eq!(mask(text), "王先生，身份证****************@qq.com，李女士");
        let span = |kind, from: &str, to: &str| PiiSpan {
            kind,
            range: text.find(from).unwrap()..text.find(to).unwrap(),
        };
        assert_eq!(
            find_pii(text),
            vec![
                span(PiiKind::Name, "王", "先生"),
                span(PiiKind::ResidentId, "３３０", "8@"),
                span(PiiKind::Email, "8@", "，李"),
                span(PiiKind::Name, "李", "女士"),
            ]
        );
    }

    #[test]
    fn find_pii_merges_a_name_masked_again_by_a_later_pass() {
        // Found while checking the spans of every pass: `张小明` is removed before `先生`, and the
        // second pass reads `王张` after `我是` as a name and masks its given name.
        let text = "我是王张小明先生单机号：17641172527";
        assert_eq!(mask(text), "我是王*先生单机号：1**********");
        let name = text.find('王').unwrap()..text.find('先').unwrap();
        let mobile = text.find('1').unwrap()..text.len();
        assert_eq!(
            find_pii(text),
            vec![
                PiiSpan {
                    kind: PiiKind::Name,
                    range: name,
                },
                PiiSpan {
                    kind: PiiKind::Mobile,
                    range: mobile,
                },
            ]
        );
    }

    #[test]
    fn allow_list_file_and_extra_entries() {
        let entries = parse_allow_list(
            "# company hotlines\n\n  0755-88886666  \n13800000000 # duty phone\n*@example.com\n#\n",
        );
        assert_eq!(
            entries,
            vec!["0755-88886666", "13800000000", "*@example.com"]
        );
        let opts = MaskOptions::with_extra_allow(&entries);
        // The defaults stay, the file's entries are added once.
        assert!(opts.allow.iter().any(|e| e == "95588"));
        assert_eq!(opts.allow.len(), DEFAULT_ALLOW.len() + 3);
        assert_eq!(
            MaskOptions::with_extra_allow(["", " 10086 "]).allow.len(),
            DEFAULT_ALLOW.len()
        );
        let text = "请打0755-88886666或13800000000，邮件zw@example.com，我的手机13912345678";
        assert_eq!(
            mask_with(text, &opts),
            "请打0755-88886666或13800000000，邮件zw@example.com，我的手机1**********"
        );
        assert_eq!(
            mask(text),
            "请打0755-********或1**********，邮件z*@example.com，我的手机1**********"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("allow.txt");
        std::fs::write(&path, "13800000000\n").expect("write");
        assert_eq!(read_allow_list(&path).expect("read"), vec!["13800000000"]);
        assert!(read_allow_list(&dir.path().join("missing.txt")).is_err());
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

    /// Checks `mask` on each `(input, expected)` pair, and that masking again changes nothing.
    fn check_cases(cases: &[(&str, &str)]) {
        let mut failures = Vec::new();
        for (input, expected) in cases {
            let got = mask(input);
            if got != *expected {
                failures.push(format!("mask({input:?}) = {got:?}, expected {expected:?}"));
            }
            assert_eq!(mask(&got), got, "not idempotent on {input:?}");
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn mobile_with_its_last_four_digits_in_pairs() {
        check_cases(&[
            ("电话138 1234 56 78", "电话1** **** ** **"),
            ("电话138-1234-56-78", "电话1**-****-**-**"),
            ("电话一三八，一二三四，五六，七八", "电话一**，****，**，**"),
            // look-alikes: other pairings, a date and time
            ("电话13 81 23 45 67 8", "电话13 81 23 45 67 8"),
            ("2024 0315 12 30", "2024 0315 12 30"),
            ("订单号 138 1234 56 78", "订单号 138 1234 56 78"),
        ]);
    }

    #[test]
    fn mobiles_listed_with_ascii_comma_or_slash() {
        check_cases(&[
            ("请打13812345678,13912345678", "请打1**********,1**********"),
            ("号码13812345678/13912345678", "号码1**********/1**********"),
            ("13812345678, 13912345678", "1**********, 1**********"),
            // thousands separators, dates and fractions still glue
            ("金额1,13812345678", "金额1,13812345678"),
            ("2024/13812345678", "2024/13812345678"),
        ]);
    }

    #[test]
    fn ids_and_labelled_phones_glued_to_letters() {
        check_cases(&[
            ("ID440306199001011236", "ID******************"),
            ("身份证号440306199001011236a", "身份证号******************a"),
            ("Tel13812345678", "Tel1**********"),
            ("TEL:13812345678", "TEL:1**********"),
            ("mobile13812345678", "mobile1**********"),
            // a code: letters glued to a number that is not an ID
            ("运单SF13812345678", "运单SF13812345678"),
            ("快递单号SF1234567890123", "快递单号SF1234567890123"),
            ("13812345678abc", "13812345678abc"),
            ("Tel138123456789", "Tel138123456789"),
            ("A4403061990010112361", "A4403061990010112361"),
        ]);
    }

    #[test]
    fn lookalike_label_covers_only_its_own_number() {
        check_cases(&[
            ("工号1234 13812345678", "工号1234 1**********"),
            (
                "订单号 20240315001 13812345678",
                "订单号 20240315001 1**********",
            ),
            (
                "订单号：123456 138-1234-5678",
                "订单号：123456 1**-****-****",
            ),
            ("单号 1234 13812345678", "单号 1234 1**********"),
            // the label's own number, grouped, stays whole
            ("工号 138 1234 5678", "工号 138 1234 5678"),
            ("订单号 2024 0315 1234 5678", "订单号 2024 0315 1234 5678"),
            ("订单号 2024-13812345678", "订单号 2024-13812345678"),
            ("工号 13812345678", "工号 13812345678"),
        ]);
    }

    #[test]
    fn product_code_labels_are_lookalikes() {
        check_cases(&[
            (
                "商品编码 6222020200001234562",
                "商品编码 6222020200001234562",
            ),
            ("货号6222020200001234562", "货号6222020200001234562"),
            // an ID document's number is never a look-alike
            (
                "身份证编号440306199001011236",
                "身份证编号******************",
            ),
            (
                "身份证编码440306199001011236",
                "身份证编码******************",
            ),
        ]);
    }

    #[test]
    fn mistyped_id_after_an_id_keyword_is_masked_as_an_id() {
        check_cases(&[
            ("身份证号440306199001011237", "身份证号******************"),
            ("身份证号110105194912310021", "身份证号******************"),
            // without the keyword a wrong check character is no ID (and no card)
            ("号码110105194912310021", "号码110105194912310021"),
        ]);
        let spans = find_pii("身份证号440306199001011237");
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].kind, PiiKind::ResidentId);
    }

    #[test]
    fn quantities_and_institutions_are_not_house_numbers() {
        check_cases(&[
            ("小区一共12栋楼", "小区一共12栋楼"),
            ("小区有30栋", "小区有30栋"),
            ("学到了5单元", "学到了5单元"),
            ("去人民医院3号楼", "去人民医院3号楼"),
            ("园区3号仓库", "园区3号仓库"),
            ("去人民医院3号楼201", "去人民医院*号楼***"),
            // documented addresses unchanged
            ("住在幸福小区12号楼3单元", "住在幸福小区**号楼*单元"),
            (
                "北京市朝阳区建国路88号3栋2单元501室",
                "北京市朝阳区建国路**号*栋*单元***室",
            ),
            ("幸福里5号", "幸福里*号"),
        ]);
    }

    #[test]
    fn sentence_particles_are_not_given_names() {
        check_cases(&[
            ("我是张伟啦", "我是张*啦"),
            ("我是张伟噢", "我是张*噢"),
            ("我是张伟喔", "我是张*喔"),
            ("我叫张伟啦", "我叫张*啦"),
            ("我叫张伟呀", "我叫张*呀"),
        ]);
    }

    #[test]
    fn time_words_after_a_function_word_surname_are_not_names() {
        check_cases(&[
            ("本人于上月购买", "本人于上月购买"),
            ("本人于前天投诉", "本人于前天投诉"),
            ("本人于近日投诉", "本人于近日投诉"),
            ("本人于周末投诉", "本人于周末投诉"),
            ("本人于日前投诉", "本人于日前投诉"),
            ("本人于本月初投诉", "本人于本月初投诉"),
            ("本人于三月投诉", "本人于三月投诉"),
            ("我叫于小明", "我叫于**"),
            ("我叫王五", "我叫王*"),
        ]);
    }

    #[test]
    fn given_names_with_function_word_characters_when_delimited() {
        check_cases(&[
            ("王志刚先生", "王先生"),
            ("冯小刚先生您好", "冯先生您好"),
            ("张来福先生", "张先生"),
            ("李和平女士", "李女士"),
            ("请转告王刚先生", "请转告王先生"),
            ("我是王志刚，我要投诉", "我是王**，我要投诉"),
            ("我叫李和平", "我叫李**"),
            ("我叫李和平，电话13812345678", "我叫李**，电话1**********"),
            ("我叫王志刚", "我叫王**"),
            ("我叫王志刚要投诉", "我叫王**要投诉"),
            ("我叫王刚", "我叫王*"),
            ("我叫李和平要投诉", "我叫李**要投诉"),
            ("姓名：张来福", "姓名：张**"),
            // a clause char after a name is the word (`来投诉`, `和我`)
            ("我叫张伟来投诉", "我叫张*来投诉"),
            ("我叫张伟和我老婆一起", "我叫张*和我老婆一起"),
            ("本人王志刚。", "本人王**。"),
            // not delimited, or a function word after all: left alone
            ("我是王刚来的", "我是王刚来的"),
            ("我叫他来", "我叫他来"),
            ("我叫王刚来修", "我叫王刚来修"),
            ("我和先生一起去的", "我和先生一起去的"),
            ("张姐和先生", "张姐和先生"),
            ("王和李先生", "王和李先生"),
            ("我叫王和李", "我叫王和李"),
            ("我是来投诉的", "我是来投诉的"),
        ]);
    }

    #[test]
    fn more_name_triggers() {
        check_cases(&[
            ("我这边是李娜", "我这边是李*"),
            ("这边是张伟", "这边是张*"),
            ("您好，这边是王小明，我要投诉", "您好，这边是王**，我要投诉"),
            ("我是用户李雪", "我是用户李*"),
            ("我是客户王小明，宽带坏了", "我是客户王**，宽带坏了"),
            ("我是王小明要投诉你们", "我是王**要投诉你们"),
            ("本人李明想咨询一下", "本人李*想咨询一下"),
            ("我姓张，张伟", "我姓张，张*"),
            (
                "我姓王，王小明，电话13812345678",
                "我姓王，王**，电话1**********",
            ),
            // look-alikes: a place, a shop, a word after `这边是`; the surname spelled out
            ("我们这边是高新区", "我们这边是高新区"),
            ("这边是万达店", "这边是万达店"),
            ("你们这边是怎么回事", "你们这边是怎么回事"),
            ("这边是高速", "这边是高速"),
            ("我是用户", "我是用户"),
            ("我是用户，要投诉", "我是用户，要投诉"),
            ("我是客户经理", "我是客户经理"),
            ("我姓张，张飞的张", "我姓张，张飞的张"),
            ("我是来要钱的", "我是来要钱的"),
        ]);
    }

    #[test]
    fn surnames_that_are_common_word_characters() {
        check_cases(&[
            ("我叫申雪", "我叫申*"),
            ("我叫甘露露", "我叫甘**"),
            ("我叫单雄信", "我叫单**"),
            ("单雄信先生", "单先生"),
            ("姓名：单雄信", "姓名：单**"),
            // 申, 甘, 单 in everyday words
            ("我要申请退款", "我要申请退款"),
            ("本人申请退款", "本人申请退款"),
            ("我不甘心", "我不甘心"),
            ("订单号查不到", "订单号查不到"),
            ("姓名单独填写", "姓名单独填写"),
            ("客户名单里有我", "客户名单里有我"),
            ("本人单身", "本人单身"),
            ("我是申通快递的", "我是申通快递的"),
            ("我是申通", "我是申通"),
            ("我是单位派来的", "我是单位派来的"),
            ("甘肃人女士", "甘肃人女士"),
            ("下单小姐姐说", "下单小姐姐说"),
        ]);
    }

    #[test]
    fn numbers_read_out_in_digit_words() {
        check_cases(&[
            (
                "身份证号是四四零三零六一九九零零一零一一二三六",
                "身份证号是******************",
            ),
            (
                "我的号码四四零三零六一九九零零一零一一二三六",
                "我的号码******************",
            ),
            (
                "身份证三一零一一五二零零零零二二九五六七X",
                "身份证******************",
            ),
            (
                "身份证号是幺幺零幺零五幺九四九幺二三幺零零二叉",
                "身份证号是******************",
            ),
            // a mistyped check digit after 身份证, as for written IDs
            (
                "身份证号是四四零三零六一九九零零一零一一二三七",
                "身份证号是******************",
            ),
            (
                "银行卡号六二二二零二零二零零零零一二三四五六二",
                "银行卡号***************四五六二",
            ),
            (
                "卡号六二二二 零二零二 零零零零 一二三四 五六二",
                "卡号**** **** **** ***四 五六二",
            ),
            ("加零零八六幺三八幺二三四五六七八", "加零零八六幺**********"),
            ("加八六一三八一二三四五六七八", "加八六一**********"),
            ("电话一三八1234五六七八", "电话一**********"),
            ("电话138一二三四5678", "电话1**********"),
            ("座机零幺零六二三四五六七八", "座机零幺零********"),
            // look-alikes: a wrong check digit without 身份证, a card failing Luhn, counts
            (
                "号码四四零三零六一九九零零一零一一二三八",
                "号码四四零三零六一九九零零一零一一二三八",
            ),
            (
                "卡号六二二二零二零二零零零零一二三四五六三",
                "卡号六二二二零二零二零零零零一二三四五六三",
            ),
            ("第一13812345678", "第一1**********"),
            (
                "订单号一三八一二三四五六七八",
                "订单号一三八一二三四五六七八",
            ),
            (
                "一二三四五六七八九十一二三四五六七八九",
                "一二三四五六七八九十一二三四五六七八九",
            ),
            (
                "打了三次2024031512345678一直没到账",
                "打了三次2024031512345678一直没到账",
            ),
        ]);
        let spans = find_pii("身份证号是四四零三零六一九九零零一零一一二三六");
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].kind, PiiKind::ResidentId);
        let spans = find_pii("银行卡号六二二二零二零二零零零零一二三四五六二");
        assert_eq!(spans[0].kind, PiiKind::BankCard);
    }

    #[test]
    fn url_encoded_and_spaced_emails_and_international_landlines() {
        check_cases(&[
            ("邮箱zhangsan%40163.com", "邮箱z*******%40163.com"),
            (
                "邮箱 zhangsan @ 163.com 谢谢",
                "邮箱 z******* @ 163.com 谢谢",
            ),
            ("邮箱zhangsan@ 163.com", "邮箱z*******@ 163.com"),
            ("座机+86-10-62345678", "座机+86-10-********"),
            ("座机 +86 755 8888 6666", "座机 +86 755 **** ****"),
            ("座机0086 21 62345678", "座机0086 21 ********"),
            // look-alikes: percentages, a bare 86 prefix, a lone @
            ("满意度100%40分", "满意度100%40分"),
            ("订单861062345678", "订单861062345678"),
            ("编号 861062345678", "编号 861062345678"),
            ("@ 客服 怎么没人回", "@ 客服 怎么没人回"),
        ]);
    }

    #[test]
    fn floors_and_dashed_rooms_inside_addresses() {
        check_cases(&[
            (
                "杭州市西湖区文三路90号东部软件园1号楼5楼501",
                "杭州市西湖区文三路**号东部软件园*号楼*楼***",
            ),
            ("住在幸福小区12-1502", "住在幸福小区**-****"),
            (
                "深圳南山区科技园南区R2-B栋12楼",
                "深圳南山区科技园南区**-*栋**楼",
            ),
            // look-alikes: floors alone, workplaces, venues, lessons, dashes that are ranges
            ("我住3楼", "我住3楼"),
            ("会议在301室开", "会议在301室开"),
            ("订的酒店房间是1208室", "订的酒店房间是1208室"),
            ("去人民医院3号楼做检查", "去人民医院3号楼做检查"),
            ("园区3号仓库发货", "园区3号仓库发货"),
            ("坐到园区5号", "坐到园区5号"),
            ("商场B区12号", "商场B区12号"),
            ("店铺在步行街3号", "店铺在步行街3号"),
            ("商户在美食城12号档口", "商户在美食城12号档口"),
            ("学校2栋宿舍楼", "学校2栋宿舍楼"),
            ("考试考第3单元和4单元", "考试考第3单元和4单元"),
            ("3号窗口", "3号窗口"),
            ("第3期课程学到了5单元", "第3期课程学到了5单元"),
            ("小区12-15岁的孩子", "小区12-15岁的孩子"),
            ("小区2023-2024年", "小区2023-2024年"),
            ("住在阳光花园2-1-302", "住在阳光花园*-*-***"),
            // a clause about a home is read all the same
            (
                "我住在酒店对面的幸福小区3栋201",
                "我住在酒店对面的幸福小区*栋***",
            ),
            ("店铺地址：建国路88号", "店铺地址：建国路**号"),
            ("会议室在3号楼501", "会议室在3号楼501"),
        ]);
    }

    #[test]
    fn house_numbers_in_words() {
        check_cases(&[
            (
                "建国路八十八号三栋二单元五零一室",
                "建国路***号*栋*单元***室",
            ),
            ("住在文三路九十号", "住在文三路**号"),
            ("建国路八十八号三栋二单元五零一", "建国路***号*栋*单元***"),
            // counts, lessons, dates and lines in words stay
            ("小区两栋楼", "小区两栋楼"),
            ("小区三栋楼都停电了", "小区三栋楼都停电了"),
            ("下一单元的内容", "下一单元的内容"),
            ("地铁三号线", "地铁三号线"),
            ("我住三楼", "我住三楼"),
            ("住在三单元", "住在三单元"),
            ("三月五号到货", "三月五号到货"),
            ("这条路三号封路", "这条路三号封路"),
        ]);
    }

    #[test]
    fn formal_digits_are_read_like_digit_words() {
        check_cases(&[
            (
                "卡号陆贰贰贰零贰零贰零零零零壹贰叁肆伍陆贰",
                "卡号***************肆伍陆贰",
            ),
            ("手机壹叁捌壹贰叁肆伍陆柒捌", "手机壹**********"),
            ("手機壹叁捌壹貳叁肆伍陸柒捌", "手機壹**********"),
            ("手机壹叁捌 壹贰叁肆 伍陆柒捌", "手机壹** **** ****"),
            ("电话壹叁捌一二三四五六七八", "电话壹**********"),
            (
                "身份证号肆肆零叁零陆壹玖玖〇〇壹〇壹壹贰叁陆",
                "身份证号******************",
            ),
            ("座机零壹零陆贰叁肆伍陆柒捌", "座机零壹零********"),
            ("住中山路捌拾捌号", "住中山路***号"),
            // look-alikes: amounts in formal digits, failed checks, a wrong prefix, a label
            ("人民币壹仟贰佰元整", "人民币壹仟贰佰元整"),
            (
                "金额壹拾贰万叁仟肆佰伍拾陆元柒角捌分，手机号码待补",
                "金额壹拾贰万叁仟肆佰伍拾陆元柒角捌分，手机号码待补",
            ),
            (
                "大写：壹万贰仟叁佰肆拾伍元陆角柒分捌厘玖毫",
                "大写：壹万贰仟叁佰肆拾伍元陆角柒分捌厘玖毫",
            ),
            (
                "卡号陆贰贰贰零贰零贰零零零零壹贰叁肆伍陆叁",
                "卡号陆贰贰贰零贰零贰零零零零壹贰叁肆伍陆叁",
            ),
            ("手机贰叁捌壹贰叁肆伍陆柒捌", "手机贰叁捌壹贰叁肆伍陆柒捌"),
            (
                "订单号壹叁捌壹贰叁肆伍陆柒捌",
                "订单号壹叁捌壹贰叁肆伍陆柒捌",
            ),
            (
                "金额壹贰叁肆伍陆柒捌玖零壹元",
                "金额壹贰叁肆伍陆柒捌玖零壹元",
            ),
        ]);
        let spans = find_pii("卡号陆贰贰贰零贰零贰零零零零壹贰叁肆伍陆贰");
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].kind, PiiKind::BankCard);
    }

    #[test]
    fn sentence_punctuation_between_read_out_groups() {
        check_cases(&[
            ("电话一三八。一二三四。五六七八", "电话一**。****。****"),
            ("电话幺三八。幺二三四。五六七八", "电话幺**。****。****"),
            ("电话一三八.一二三四.五六七八", "电话一**.****.****"),
            ("电话一三八．一二三四．五六七八", "电话一**．****．****"),
            ("电话一三八一二三四。五六七八。", "电话一******。****。"),
            (
                "电话幺三八。嗯。幺二三四。五六七八",
                "电话幺**。嗯。****。****",
            ),
            ("手机壹叁捌。壹贰叁肆。伍陆柒捌", "手机壹**。****。****"),
            (
                "身份证号四四零三零六。一九九零零一零一。一二三六",
                "身份证号******。********。****",
            ),
            (
                "卡号六二二二。零二零二。零零零零。一二三五",
                "卡号****。****。****。一二三五",
            ),
            ("座机零一零。六二三四五六七八", "座机零一零。********"),
            ("座机零一零。六二三四。五六七八", "座机零一零。****。****"),
            // look-alikes: a number ending a sentence is not continued into the next one,
            // short groups are counts, written digits around `.` are decimals
            ("我买了三个。一二三楼都有", "我买了三个。一二三楼都有"),
            ("买了三。一二三四。五六七八", "买了三。一二三四。五六七八"),
            (
                "电话一三八一二三四五六七八。一二三楼都有人",
                "电话一**********。一二三楼都有人",
            ),
            (
                "卡号六二二二。零二零二。零零零零。一二三五。五六七",
                "卡号****。****。****。一二三五。五六七",
            ),
            ("共三。一三八一二三四五六七八", "共三。一**********"),
            (
                "第一。二三。四五六七八九十。一二",
                "第一。二三。四五六七八九十。一二",
            ),
            ("价格12.5元，一三八", "价格12.5元，一三八"),
            ("电话138。1234五六七八", "电话138。1234五六七八"),
        ]);
    }

    #[test]
    fn building_and_unit_numbers_in_words_after_a_road_or_estate() {
        check_cases(&[
            ("我住中山路三号楼二单元", "我住中山路*号楼*单元"),
            ("我住中山路3号楼2单元", "我住中山路*号楼*单元"),
            ("中山路三号楼", "中山路*号楼"),
            ("中山路三栋二单元五零一", "中山路*栋*单元***"),
            ("幸福小区三栋二单元五零一", "幸福小区*栋*单元***"),
            ("阳光花园十二号楼三单元", "阳光花园**号楼*单元"),
            ("幸福小区三单元的电梯坏了", "幸福小区*单元的电梯坏了"),
            ("中山路叁号楼贰单元", "中山路*号楼*单元"),
            // counts, lessons, demonstratives and bare units stay
            ("小区两栋楼", "小区两栋楼"),
            ("小区三栋楼都停电了", "小区三栋楼都停电了"),
            ("中山路三栋楼都停电了", "中山路三栋楼都停电了"),
            ("下一单元的内容", "下一单元的内容"),
            ("住在三单元", "住在三单元"),
            ("这条路三号楼", "这条路三号楼"),
            ("小区一共三栋", "小区一共三栋"),
            ("学到了第三单元", "学到了第三单元"),
            ("马路三号楼下有家店", "马路三号楼下有家店"),
        ]);
    }

    #[test]
    fn phone_after_a_product_code_label() {
        check_cases(&[
            ("快递柜 编码 13812345678", "快递柜 编码 1**********"),
            ("货号13812345678", "货号1**********"),
            ("编码 138-1234-5678", "编码 1**-****-****"),
            (
                "商品编码 6222020200001234562",
                "商品编码 6222020200001234562",
            ),
            ("编码 2024-13812345678", "编码 2024-13812345678"),
            ("货号 1234 13812345678", "货号 1234 1**********"),
            ("工号 13812345678", "工号 13812345678"),
        ]);
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
            // Found by fuzzing: the kept `1` of a masked mobile completed a card number.
            "/码0市朝阳5488/码0市朝阳54888-1472000058-14725488808",
            "1 3 8 1 2 3 4 5 6 7 13812345678",
            "6222 0202 0012 3456 789 1234 5678",
            "三八一二三四五六七八 幺三八一二三四五六七八",
            // Found by fuzzing: the domain of one address read as the local part of a second.
            "maJi~g@hJ7GCl.cgUUUUUUV@hJ7GCl.cg",
            "a@b.cc@d.cc",
            "embig:@Gmail.cjm-Jing@GCh7en.Jin7ailail.cjm-Ji.cjm-Jifg@Ji.cjJifg@Ji.cjm-Jifg@GGmail.cgm",
            "abc@13812345678.com",
            // Found by fuzzing: the kept digits of a masked card read as a house number.
            "\"\"\"\"卡523 13 96228 4849 849 5弄 13 96228 4849 5523849 50",
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
