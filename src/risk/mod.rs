//! Risk: escalation reasons from phrase rules (with a negation and question check) and from the model's
//! scores, a priority grade A/B/C with a response limit and a route, customer history. Every number and
//! phrase comes from the [`policy::Policy`] (TOML; `models/default/policy.toml` is the reference).
//!
//! Rules, in order:
//! 1. **Phrases.** A reason's phrase counts in a clause (split at 。！；，, newlines, and after ？) unless a
//!    negation (`matching.negations`) stands in the `negation_window` characters before it (a number
//!    counts as one character; "是不是" does not negate; a negation followed by one of
//!    `matching.negation_stops` — 忍: "我不会忍了去12315" — negates that word, not the phrase), someone else's words (`matching.others`: 同事说,
//!    听说…) come earlier in the clause, or the clause is a plain question (a `question_words` entry and no `intent_words`
//!    entry; a question followed by '！' is rhetorical, and a reason with `in_questions = true` counts in
//!    questions too). A phrase of digits (12315) must stand alone, not inside a longer number. Nor does a
//!    phrase count in a clause that says the problem is over (`matching.resolved`: 已经修好了, 退回来了), or
//!    with one of its reason's `unless` words within `matching.unless_window` characters (计划停电, 停水通知),
//!    or at most `matching.requested_gap` characters after one of its reason's `requested` words that is not
//!    negated (a service the customer orders: "我想办个停机", "申请暂时停气"; "我根本没办过停机" still counts).
//!    Question words used as "any" (什么电话都打不进来) do not make a question.
//!    A phrase `A*B` is a proximity phrase: A, then B after at most `matching.proximity_gap`
//!    characters of the same clause with no negation (不, 没, 未, 别, 无) between them ("宽带*断" matches
//!    "宽带从昨晚开始就断了"). A reason's `min_negative` (the model must read the text negative) is waived for a conditional threat: a
//!    `matching.conditions` marker (再不, 不然, 否则…) in the `condition_window` characters before the phrase,
//!    for a reason's `firm` phrases ("我要销户", "把我的*销户") in a text that asks nothing, and in a text with
//!    one of the reason's `cues` (the problem is still there: "到现在还是没加上").
//! 2. **Model scores.** `strong_anger` also fires when emotion anger ≥ `scores.strong_anger` (and negative ≥
//!    `scores.strong_anger_min_negative`, an optional key, 0 by default), or negative ≥
//!    `scores.strong_negative_exclaim` in a text with `!`/`！`. `service_outage` is graded A when negative ≥
//!    `scores.outage_urgent_negative`.
//! 3. **Sarcasm.** Ironic praise (`sarcasm.praise`) followed, in a later clause, by a complaint cue
//!    (`sarcasm.complaint`) is negative evidence: the analysis swaps the positive and negative
//!    probabilities when positive was higher (see [`sarcasm`]).
//! 4. **Priority** = the most urgent grade of the fired reasons; without reasons B when negative ≥
//!    `escalation.negative_for_b` or (with `category_for_b`) a complaint category fires; else C.
//!    `escalate` = the priority is in `escalation.grades` or a reason in `escalation.reasons` fired.
//!    The score is the largest weight of the fired reasons and `negative_weight × negative + anger_weight
//!    × anger`. The response limit and route come from the grade.
//!    A **large financial loss** (`large_loss`: an `unauthorized` phrase such as 盗刷, or a sum ≥
//!    `min_amount` in a text with a loss word) makes the priority A; it has no reason code, its evidence
//!    says `large_loss` with the phrase or sum.
//! 5. **Customer history** ([`apply_customer`]): a high-risk customer (`history.high_risk_after` negative
//!    contacts in a row) adds `repeat_contact` with the history as evidence and raises the priority to at
//!    least `history.high_risk_grade`. A contact counts as negative for the run when the model reads it
//!    negative or the rules escalated it ([`Risk::escalated_by_rules`]); its stored score is its own, before
//!    the history's `repeat_contact`.
//! 6. **Learned models** ([`assess_with`], [`learned`]): the escalation model escalates what the rules left
//!    unescalated (evidence `escalation_model`); the complaint model, where no rule fired, makes a C a B
//!    (evidence `complaint_model`) or a B from the negative reading alone a C.

pub mod eval;
pub mod fit;
pub mod history;
pub mod learned;
pub mod policy;

use learned::NgramModel;
use policy::{Grade, Policy};
use serde::Serialize;

/// The evidence `reason` of an escalation the learned model added (no reason code of its own, like
/// `large_loss`; its phrase lists the n-grams that weighed most, its score the model's probability).
pub const LEARNED: &str = "escalation_model";
/// The evidence `reason` of a complaint (priority B) the complaint model found where no rule fired.
pub const COMPLAINT: &str = "complaint_model";

/// The learned models [`assess_with`] may use (see [`learned`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Learned<'a> {
    pub escalation: Option<&'a NgramModel>,
    pub complaint: Option<&'a NgramModel>,
}

/// A score as JSON with four decimals (an f64, so that `0.7207` does not come out as `0.7206999659538269`
/// once the analysis passes through `serde_json::Value`).
fn serialize_round4<S: serde::Serializer>(x: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(fit::round4(f64::from(*x)))
}

fn serialize_option_round4<S: serde::Serializer>(x: &Option<f32>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => serialize_round4(x, s),
        None => s.serialize_none(),
    }
}

/// Evidence for one reason: the matched phrase, or the model score (and what it is).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phrase: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_option_round4"
    )]
    pub score: Option<f32>,
    /// Where the evidence comes from when it is not a phrase of this text (`emotion.anger`,
    /// `customer_history`, `turn 3`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Risk {
    pub escalate: bool,
    pub priority: &'static str,
    /// Written with four decimals, like the other scores.
    #[serde(serialize_with = "serialize_round4")]
    pub score: f32,
    pub reasons: Vec<&'static str>,
    pub respond_within_minutes: u32,
    pub route: String,
    pub evidence: Vec<Evidence>,
}

impl Risk {
    pub fn grade(&self) -> Grade {
        Grade::parse(self.priority).unwrap_or(Grade::C)
    }

    /// Sets the priority (with its response limit and route) and recomputes `escalate`.
    pub fn set_grade(&mut self, g: Grade, policy: &Policy) {
        let rule = policy.grade(g);
        self.priority = g.as_str();
        self.respond_within_minutes = rule.respond_within_minutes;
        self.route = rule.route.clone();
        self.escalate = self.escalates(policy);
    }

    /// The policy's escalation rule, or an escalation the learned model added.
    fn escalates(&self, policy: &Policy) -> bool {
        policy.escalates(self.grade(), &self.reasons)
            || self.evidence.iter().any(|e| e.reason == LEARNED)
    }

    /// Whether the phrase and score rules escalated this text (a reason code or a large loss; an escalation
    /// only the learned model made does not count). The customer history counts such a contact as negative
    /// whatever the sentiment head read (see [`history`]): a threat said calmly ("我明天就去12315") must not
    /// break the run of negative contacts.
    pub fn escalated_by_rules(&self) -> bool {
        self.escalate
            && self
                .evidence
                .iter()
                .any(|e| e.reason != LEARNED && e.reason != COMPLAINT)
    }

    /// Adds a reason with its evidence (once per reason) and its weight to the score.
    pub fn add(&mut self, e: Evidence, policy: &Policy) {
        if self.reasons.contains(&e.reason) || self.evidence.contains(&e) {
            return;
        }
        if e.reason == "large_loss" {
            // Evidence without a reason code: urgent.
            self.score = self.score.max(policy.grade(Grade::A).weight);
            self.evidence.push(e);
            self.set_grade(Grade::A, policy);
            return;
        }
        if e.reason == LEARNED || e.reason == COMPLAINT {
            // Evidence without a reason code: at least a complaint (the escalation model's escalates).
            if e.reason == LEARNED {
                self.score = self.score.max(e.score.unwrap_or(0.0));
            }
            self.evidence.push(e);
            self.set_grade(self.grade().min(Grade::B), policy);
            return;
        }
        if let Some(rule) = policy.reason(e.reason) {
            self.score = self.score.max(rule.weight);
            if rule.grade < self.grade() {
                self.set_grade(rule.grade, policy);
            }
        }
        self.reasons.push(e.reason);
        self.evidence.push(e);
        self.escalate = self.escalates(policy);
    }
}

fn clauses(text: &str) -> impl Iterator<Item = &str> {
    text.split(['。', '！', '!', '；', ';', '\n', '，', ','])
        .filter(|c| !c.is_empty())
}

/// Splits after each question mark, so a question clause keeps its '？'. The flag says the question is
/// rhetorical: an exclamation mark follows its question mark ("吃干饭的吗？！").
fn sentences(text: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '？' | '?') {
            let end = i + c.len_utf8();
            let exclaimed = text[end..].starts_with(['！', '!']);
            out.push((&text[start..end], exclaimed));
            start = end;
        }
    }
    out.push((&text[start..], false));
    out
}

/// The last `n` characters of `s` before byte `pos`.
fn chars_before(s: &str, pos: usize, n: usize) -> &str {
    let before = &s[..pos];
    if n == 0 {
        return "";
    }
    let start = before.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i);
    &before[start..]
}

/// Whether the phrase at byte `pos` of `clause` is negated or only asked about (a question that is
/// `rhetorical`, or asked with a phrase that counts `in_questions`, still counts).
fn suppressed(clause: &str, pos: usize, in_questions: bool, p: &Policy) -> bool {
    let m = &p.matching;
    // "是不是要…" asks a (rhetorical) question; it does not negate.
    // A number counts as one character ("我不是要去12315告你们").
    let mut before = String::new();
    for c in clause[..pos].chars() {
        if !(c.is_ascii_digit() && before.ends_with(|p: char| p.is_ascii_digit())) {
            before.push(c);
        }
    }
    let near = chars_before(&before, before.len(), m.negation_window).replace("是不是", "");
    // A negation with one of `negation_stops` after it negates that word, not the phrase: "我不会忍了去
    // 12315" (不会 negates 忍) is a threat; "我不会去12315投诉的" is none.
    let negated = m.negations.iter().any(|n| {
        near.match_indices(n.as_str()).any(|(i, _)| {
            let after = &near[i + n.len()..];
            !m.negation_stops.iter().any(|s| after.contains(s.as_str()))
        })
    });
    if negated {
        return true;
    }
    if in_questions {
        return false;
    }
    // "什么都买不了" / "怎么也打不通" / "什么电话都打不进来" use the question word as "any", not to ask.
    let asked = indefinite(clause);
    let question = m.question_words.iter().any(|q| asked.contains(q.as_str()));
    // "就是问一下" / "就想问问" are "just asking", and the 要 of "需要" is no intent.
    let plain = clause
        .replace("是不是要", "是不是")
        .replace("就是", "")
        .replace("就想", "")
        .replace("需要", "");
    question && !m.intent_words.iter().any(|w| plain.contains(w.as_str()))
}

/// The clause without the question words used as "any": 什么, 怎么 or 啥 followed by 都 or 也 within
/// three characters ("什么都买不了", "怎么也打不通", "什么电话都打不进来", "啥东西也没收到").
fn indefinite(clause: &str) -> String {
    let chars: Vec<char> = clause.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let word = match chars[i] {
            '什' if chars.get(i + 1) == Some(&'么') => 2,
            '怎' if chars.get(i + 1) == Some(&'么') => 2,
            '啥' => 1,
            _ => 0,
        };
        let any = word > 0
            && chars[i + word..]
                .iter()
                .take(4)
                .take_while(|c| !matches!(c, '？' | '?'))
                .any(|c| matches!(c, '都' | '也'));
        if any {
            i += word;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A number phrase (12315) only counts when it is not part of a longer digit run (a phone number).
fn standalone(clause: &str, pos: usize, phrase: &str) -> bool {
    if !phrase.starts_with(|c: char| c.is_ascii_digit()) {
        return true;
    }
    let before = clause[..pos].chars().next_back();
    let after = clause[pos + phrase.len()..].chars().next();
    !before.is_some_and(|c| c.is_ascii_digit() || c == '*')
        && !after.is_some_and(|c| c.is_ascii_digit() || c == '*')
}

/// Characters that may not stand between the parts of a proximity phrase ("宽带*断" does not match
/// "宽带没断"): a negation inside the span.
const GAP_NEGATORS: [char; 5] = ['不', '没', '未', '别', '无'];

/// Where `phrase` occurs in `clause`: (byte offset of the match, byte offset of its last part). A phrase
/// `A*B` is a proximity phrase: A, then B after at most `gap` characters without a negation between them
/// (the first occurrence of B after each A).
fn occurrences(clause: &str, phrase: &str, gap: usize) -> Vec<(usize, usize)> {
    if !phrase.contains('*') {
        return clause.match_indices(phrase).map(|(i, _)| (i, i)).collect();
    }
    let parts: Vec<&str> = phrase.split('*').filter(|p| !p.is_empty()).collect();
    let Some((first, rest)) = parts.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    'starts: for (start, _) in clause.match_indices(first) {
        let mut at = start + first.len();
        let mut last = start;
        for part in rest {
            let Some(off) = clause[at..].find(part) else {
                continue 'starts;
            };
            let between = &clause[at..at + off];
            if between.chars().count() > gap || between.contains(GAP_NEGATORS) {
                continue 'starts;
            }
            last = at + off;
            at = last + part.len();
        }
        out.push((start, last));
    }
    out
}

/// Whether the clause says the problem is over: a `matching.resolved` entry without a negation in the two
/// characters before it ("已经修好了" yes; "还没修好了", "没有恢复了" no).
fn resolved(clause: &str, policy: &Policy) -> bool {
    policy.matching.resolved.iter().any(|r| {
        clause
            .match_indices(r.as_str())
            .any(|(pos, _)| !chars_before(clause, pos, 2).contains(GAP_NEGATORS))
    })
}

/// Whether one of a reason's `unless` words stands within `matching.unless_window` characters before or
/// after the phrase matched at `pos` (its last part at `last`) in the clause: "计划停电", "停水通知".
fn excepted(
    clause: &str,
    pos: usize,
    last: usize,
    phrase: &str,
    unless: &[String],
    p: &Policy,
) -> bool {
    if unless.is_empty() {
        return false;
    }
    let n = p.matching.unless_window;
    let end = last + phrase.rsplit('*').next().unwrap_or(phrase).len();
    let before = chars_before(clause, pos, n);
    let after: String = clause[end..].chars().take(n).collect();
    let near = format!("{before}{}{after}", &clause[pos..end]);
    unless.iter().any(|u| near.contains(u.as_str()))
}

/// Whether the phrase at byte `pos` of `clause` names a service the customer orders: one of the reason's
/// `requested` words ends at most `matching.requested_gap` characters before it ("我想办个停机", "申请暂时
/// 停气", "办理停水") and is not negated in the three characters before it ("我根本没办过停机" is a failure).
fn requested(clause: &str, pos: usize, words: &[String], p: &Policy) -> bool {
    let before = &clause[..pos];
    words.iter().any(|w| {
        before.match_indices(w.as_str()).any(|(i, _)| {
            before[i + w.len()..].chars().count() <= p.matching.requested_gap
                && !chars_before(before, i, 3).contains(GAP_NEGATORS)
        })
    })
}

/// Phrase rules over (normalized) text: each reason once, with the first matching phrase, in the order
/// the clauses are read.
pub fn phrase_reasons(text: &str, policy: &Policy) -> Vec<(&'static str, Grade, String)> {
    let mut out: Vec<(&'static str, Grade, String)> = Vec::new();
    let gap = policy.matching.proximity_gap;
    for (part, rhetorical) in sentences(text) {
        for clause in clauses(part) {
            // Whether the clause says the problem is over: looked up only once a phrase matches.
            let over = std::cell::OnceCell::new();
            for rule in &policy.reasons {
                if out.iter().any(|(r, _, _)| *r == rule.code) {
                    continue;
                }
                let asked = rhetorical || rule.in_questions;
                // Firm phrases first: one that matches keeps the waiver of `min_negative` (see `firm`).
                for p in rule.firm.iter().chain(&rule.phrases) {
                    let hit = occurrences(clause, p, gap)
                        .into_iter()
                        .find(|&(pos, last)| {
                            standalone(clause, pos, p.split('*').next().unwrap_or(p))
                                && !excepted(clause, pos, last, p, &rule.unless, policy)
                                && !requested(clause, pos, &rule.requested, policy)
                                && !suppressed(clause, pos, asked, policy)
                                && (last == pos || !suppressed(clause, last, asked, policy))
                                && !policy
                                    .matching
                                    .others
                                    .iter()
                                    .any(|o| clause[..pos].contains(o.as_str()))
                                && !*over.get_or_init(|| resolved(clause, policy))
                        });
                    if hit.is_some() {
                        out.push((rule.code, rule.grade, p.clone()));
                        break;
                    }
                }
            }
        }
    }
    out
}

/// A conditional threat: a `matching.conditions` marker (再不, 不然, 否则…) in the `condition_window`
/// characters before the phrase ("再不解决我就销户"), so the phrase is meant as a threat.
fn conditional(text: &str, phrase: &str, policy: &Policy) -> bool {
    let m = &policy.matching;
    occurrences(text, phrase, m.proximity_gap)
        .into_iter()
        .any(|(pos, _)| {
            let before = chars_before(text, pos, m.condition_window);
            m.conditions.iter().any(|c| before.contains(c.as_str()))
        })
}

/// Whether `phrase` is one of the reason's `firm` phrases ("我要销户") in a text that asks nothing: no
/// question word and no inquiry marker (`escalation.inquiry`), so the demand needs no negative reading.
fn firm(text: &str, rule: &policy::ReasonRule, phrase: &str, policy: &Policy) -> bool {
    rule.firm.iter().any(|f| f == phrase)
        && !policy
            .matching
            .question_words
            .iter()
            .any(|q| text.contains(q.as_str()))
        && !policy.escalation.inquiry(text)
}

/// Ironic praise followed by a complaint: returns the praise phrase. The praise must be in a clause
/// before (or the same clause, after the praise) a complaint cue; "谢谢，已经收到了" is not sarcasm.
pub fn sarcasm(text: &str, policy: &Policy) -> Option<String> {
    let s = &policy.sarcasm;
    for praise in &s.praise {
        if let Some(pos) = text.find(praise.as_str()) {
            let rest = &text[pos + praise.len()..];
            if s.complaint.iter().any(|c| rest.contains(c.as_str())) {
                return Some(praise.clone());
            }
        }
    }
    None
}

/// Value of a Chinese numeral (三万, 八千五, 一万二千, 两百); `None` when it is not one.
fn chinese_number(s: &str) -> Option<f64> {
    let digit = |c: char| "零一二三四五六七八九".find(c).map(|i| (i / 3) as f64);
    let mut total = 0.0;
    let mut section = 0.0;
    let mut current: Option<f64> = None;
    let mut last_unit = 1.0;
    for c in s.chars() {
        if let Some(d) = digit(c).or(if c == '两' { Some(2.0) } else { None }) {
            current = Some(d);
            continue;
        }
        let unit = match c {
            '十' => 10.0,
            '百' => 100.0,
            '千' => 1000.0,
            '万' => 10_000.0,
            _ => return None,
        };
        if unit == 10_000.0 {
            total += (section + current.unwrap_or(0.0)) * unit;
            section = 0.0;
        } else {
            section += current.unwrap_or(1.0) * unit;
        }
        last_unit = unit;
        current = None;
    }
    // 八千五 = 8500: a trailing digit counts in the next lower place.
    if let Some(d) = current {
        section += if last_unit >= 100.0 {
            d * last_unit / 10.0
        } else {
            d
        };
    }
    Some(total + section)
}

/// Sums of money in the text: Arabic numbers followed by a money unit (5000元, 6000块, 1.2万), and
/// Chinese numerals with 千 or 万 (三万多, 八千多块).
pub fn amounts(text: &str, units: &[String]) -> Vec<(f64, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let is_cn = |c: char| "零一二两三四五六七八九十百千万".contains(c);
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let num: String = chars[start..i].iter().collect();
            let mut rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
            let mut value = num.parse::<f64>().unwrap_or(0.0);
            if let Some(r) = rest.strip_prefix('万') {
                value *= 10_000.0;
                rest = r.to_string();
            } else if let Some(r) = rest.strip_prefix('千') {
                value *= 1000.0;
                rest = r.to_string();
            }
            let rest = rest.trim_start_matches('多');
            let before_yuan = start > 0 && matches!(chars[start - 1], '¥' | '￥');
            if before_yuan || units.iter().any(|u| rest.starts_with(u.as_str())) {
                out.push((value, num));
            }
        } else if is_cn(c) {
            let start = i;
            while i < chars.len() && is_cn(chars[i]) {
                i += 1;
            }
            let num: String = chars[start..i].iter().collect();
            if num.contains(['千', '万']) {
                if let Some(v) = chinese_number(&num) {
                    out.push((v, num));
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The large-loss rule: the unauthorized-money phrase, or the largest sum ≥ `min_amount` in a sentence that
/// speaks of a loss.
pub fn large_loss(text: &str, policy: &Policy) -> Option<String> {
    let l = &policy.large_loss;
    // Each occurrence is read in its own clause (the phrase rules' clauses): a later "这是怎么回事？" does
    // not make the report of the loss a question.
    for u in &l.unauthorized {
        for (part, _) in sentences(text) {
            // The clause without its question mark, as before: "卡被盗刷了？" is a report.
            for clause in clauses(part).map(|c| c.trim_end_matches(['？', '?'])) {
                if clause.match_indices(u.as_str()).any(|(pos, _)| {
                    !suppressed(clause, pos, false, policy) && !resolved(clause, policy)
                }) {
                    return Some(u.clone());
                }
            }
        }
    }
    // The sum and the loss word must share a sentence ("我要转五万" and, later, "废话" are no loss); a
    // question mark does not end it ("丢了？里面是一台八千块的相机"). Not in a hypothetical or resolved one.
    text.split(['。', '！', '!', '；', ';', '\n'])
        .filter(|s| l.loss_words.iter().any(|w| s.contains(w.as_str())))
        .filter(|s| !l.hypothetical.iter().any(|h| s.contains(h.as_str())))
        .filter(|s| !resolved(s, policy))
        .flat_map(|s| amounts(s, &l.money_units))
        .filter(|(v, _)| *v >= l.min_amount)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, s)| s)
}

/// What the model said about the text, as the risk rules use it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelSignals {
    pub negative: f32,
    /// The sentiment head's positive probability (after the sarcasm swap).
    pub positive: f32,
    pub anger: f32,
    pub any_category: bool,
}

/// Scores a text: phrase rules plus model signals.
pub fn assess(text: &str, m: ModelSignals, policy: &Policy) -> Risk {
    assess_with(text, m, policy, Learned::default())
}

/// [`assess`], then the learned models (when given), only where the rules left room:
/// - the escalation model escalates a text the rules did not when its score is at least its threshold (or
///   the policy's `escalation.learned_min_score`), priority at least B;
/// - the complaint model, on a text no rule fired on at all, makes a C a complaint (B) at or above its
///   threshold — unless the sentiment head reads the text positive above
///   `escalation.complaint_max_positive` (1 = never, the default) — and a B (the model's negative reading
///   alone) an inquiry (C) below its `lower`.
pub fn assess_with(text: &str, m: ModelSignals, policy: &Policy, learned: Learned) -> Risk {
    let mut risk = assess_rules(text, m, policy);
    if text.is_empty() {
        return risk;
    }
    let inputs = [
        ("negative", m.negative),
        ("positive", m.positive),
        ("anger", m.anger),
    ];
    // Both models read the same n-grams (when their ranges agree): extracted once.
    let mut grams: Option<((usize, usize), Vec<String>)> = None;
    let mut score = |model: &NgramModel| {
        let range = (model.ngram_min, model.ngram_max);
        if grams.as_ref().is_none_or(|(r, _)| *r != range) {
            grams = Some((range, learned::ngrams(text, range.0, range.1)));
        }
        let (_, g) = grams.as_ref().expect("just set");
        model.score_ngrams(g, &inputs)
    };
    if let Some(model) = learned.escalation.filter(|_| !risk.escalate) {
        let min = policy
            .escalation
            .learned_min_score
            .unwrap_or(model.threshold);
        let s = score(model);
        if s.score >= min {
            risk.add(evidence(LEARNED, s, learned::ESCALATION_FILE), policy);
        }
    }
    if let Some(model) = learned.complaint.filter(|_| risk.evidence.is_empty()) {
        let s = score(model);
        if risk.grade() == Grade::C
            && s.score >= model.threshold
            && m.positive <= policy.escalation.complaint_max_positive
        {
            risk.add(evidence(COMPLAINT, s, learned::COMPLAINT_FILE), policy);
        } else if risk.grade() == Grade::B && model.lower.is_some_and(|lo| s.score < lo) {
            risk.set_grade(Grade::C, policy);
        }
    }
    risk
}

fn evidence(reason: &'static str, s: learned::Scored, file: &str) -> Evidence {
    Evidence {
        reason,
        phrase: Some(s.top.join("、")),
        score: Some(s.score),
        source: Some(file.into()),
    }
}

fn assess_rules(text: &str, m: ModelSignals, policy: &Policy) -> Risk {
    let sc = &policy.scores;
    let mut evidence = Vec::new();
    let mut grade = Grade::C;
    let mut score: f32 = 0.0;
    for (reason, g, phrase) in phrase_reasons(text, policy) {
        if policy.reason(reason).is_some_and(|r| {
            m.negative < r.min_negative
                && !firm(text, r, &phrase, policy)
                && !r.cues.iter().any(|c| text.contains(c.as_str()))
        }) && !conditional(text, &phrase, policy)
        {
            continue;
        }
        let g = if reason == "service_outage" && m.negative >= sc.outage_urgent_negative {
            Grade::A
        } else {
            g
        };
        grade = grade.min(g);
        score = score.max(policy.reason(reason).map_or(0.0, |r| r.weight));
        evidence.push(Evidence {
            reason,
            phrase: Some(phrase),
            score: None,
            source: None,
        });
    }
    let exclaims = text.contains('!') || text.contains('！');
    let anger_fires = m.anger >= sc.strong_anger && m.negative >= sc.strong_anger_min_negative;
    if (anger_fires || (m.negative >= sc.strong_negative_exclaim && exclaims))
        && !evidence.iter().any(|e| e.reason == "strong_anger")
    {
        if let Some(rule) = policy.reason("strong_anger") {
            grade = grade.min(rule.grade);
            score = score.max(rule.weight);
        }
        evidence.push(Evidence {
            reason: "strong_anger",
            phrase: None,
            score: Some(if anger_fires { m.anger } else { m.negative }),
            source: Some(if anger_fires {
                "emotion.anger".into()
            } else {
                "sentiment.negative".into()
            }),
        });
    }
    let reasons: Vec<&'static str> = evidence.iter().map(|e| e.reason).collect();
    if let Some(phrase) = large_loss(text, policy) {
        // No reason code of its own: urgent, explained by its evidence.
        grade = Grade::A;
        score = score.max(policy.grade(Grade::A).weight);
        evidence.push(Evidence {
            reason: "large_loss",
            phrase: Some(phrase),
            score: None,
            source: None,
        });
    }
    if reasons.is_empty()
        && grade == Grade::C
        && (m.negative >= policy.escalation.negative_for_b
            || (policy.escalation.category_for_b && m.any_category))
        && !policy.escalation.inquiry(text)
    {
        grade = Grade::B;
    }
    let score = score
        .max(sc.negative_weight * m.negative + sc.anger_weight * m.anger)
        .clamp(0.0, 1.0);
    let rule = policy.grade(grade);
    Risk {
        escalate: policy.escalates(grade, &reasons),
        priority: grade.as_str(),
        score,
        reasons,
        respond_within_minutes: rule.respond_within_minutes,
        route: rule.route.clone(),
        evidence,
    }
}

/// A high-risk customer raises the risk of the current contact: reason `repeat_contact` with the history
/// as evidence (score = the rolling risk score), priority at least `history.high_risk_grade`.
pub fn apply_customer(risk: &mut Risk, customer: &history::CustomerState, policy: &Policy) {
    if !customer.high_risk {
        return;
    }
    if !risk.reasons.contains(&"repeat_contact") {
        risk.add(
            Evidence {
                reason: "repeat_contact",
                phrase: None,
                score: Some(customer.risk_score as f32),
                source: Some(format!(
                    "customer_history: {} negative contacts in a row",
                    customer.consecutive_negative
                )),
            },
            policy,
        );
    }
    let g = risk.grade().min(policy.history.high_risk_grade);
    risk.set_grade(g, policy);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(t: &str) -> Vec<&'static str> {
        phrase_reasons(t, &Policy::builtin())
            .into_iter()
            .map(|r| r.0)
            .collect()
    }

    #[test]
    fn every_reason_code_fires_on_its_phrase() {
        let cases: &[(&str, &[&str])] = &[
            ("再不处理我就打12315投诉你们", &["regulator_threat"]),
            ("我要找媒体曝光你们", &["media_threat"]),
            ("我已经请了律师，准备起诉", &["legal_threat"]),
            ("充电器冒烟了，差点起火", &["safety"]),
            ("这是我第三次打电话了", &["repeat_contact"]),
            ("把你们领导叫来，我要找你们领导", &["supervisor_demand"]),
            ("再这样我就销户", &["churn_threat"]),
            ("家里宽带断网两天了", &["service_outage"]),
            ("你们真是欺人太甚", &["strong_anger"]),
            // negation and questions do not fire
            ("我不是要投诉，也不会去12315", &[]),
            ("我不想曝光你们，只想解决问题", &[]),
            ("12315的电话是多少？", &[]),
            ("投诉流程是什么", &[]),
            ("怎么注销账户？", &[]),
            ("我想查一下话费", &[]),
            // digits inside a phone number are not a hotline
            ("我电话13812345678", &[]),
            ("电话13812345678，我要打12315", &["regulator_threat"]),
            // a question with intent still fires
            ("你们是不是要我去12315才肯处理？", &["regulator_threat"]),
            // a question followed by '！' is rhetorical
            ("12315管不管这种事？", &[]),
            ("12315管不管你们？！", &["regulator_threat"]),
            // asking for the manager and insults count in questions (`in_questions`)
            ("你们值班经理呢？", &["supervisor_demand"]),
            // 什么都 is "anything", not a question; the 要 of 需要 is no intent; 如果我 is hypothetical
            ("账号被冻结了现在什么都买不了", &["service_outage"]),
            ("请问携号转网需要满足什么条件？", &[]),
            ("如果我退订了这个彩铃，下个月还会扣费吗", &[]),
            // a number counts as one character in the negation window; others' threats are not the customer's
            ("放心我不是要去12315告你们", &[]),
            ("我同事说他上次去民航局投诉了", &[]),
            ("你们都是吃干饭的吗", &["strong_anger"]),
            // a threat withdrawn or denied is none (an audit, 2026-12-03: these were A)
            ("好的谢谢，那我就不去12315了", &[]),
            ("我没去12315，只是问问", &[]),
            ("我没打算起诉", &[]),
            ("我没有去消协投诉", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(reasons(text), *want, "{text}");
        }
    }

    #[test]
    fn proximity_phrases_match_parts_in_order_within_the_gap() {
        let gap = 8;
        assert_eq!(
            occurrences("宽带从昨晚开始就断了", "宽带*断", gap),
            [(0, 24)]
        );
        assert!(occurrences("宽带断了", "断*宽带", gap).is_empty(), "order");
        assert!(
            occurrences("宽带没断", "宽带*断", gap).is_empty(),
            "negation between"
        );
        assert!(
            occurrences("宽带套餐我上个月刚改过资费然后断了", "宽带*断", gap).is_empty(),
            "gap"
        );
        // The second part searched after each occurrence of the first.
        assert_eq!(occurrences("宽带宽带断", "宽带*断", gap).len(), 2);
        assert_eq!(occurrences("电费又扣了", "电*扣", gap), [(0, 9)]);
        let mut p = Policy::builtin();
        p.reasons
            .iter_mut()
            .find(|r| r.code == "churn_threat")
            .unwrap()
            .phrases = vec!["换*运营商".into()];
        let fired = |t: &str| !phrase_reasons(t, &p).is_empty();
        assert!(fired("我要换个运营商"));
        assert!(
            !fired("我不是要换个运营商"),
            "negation before the first part"
        );
        assert!(!fired("换运营商需要什么手续？"), "a plain question");
        assert!(!fired("换了手机，运营商没变"), "parts in different clauses");
    }

    #[test]
    fn grades_limits_and_routes_come_from_the_policy() {
        let p = Policy::builtin();
        let calm = ModelSignals::default();
        let r = assess("我想查一下话费", calm, &p);
        assert_eq!(
            (r.priority, r.escalate, r.respond_within_minutes),
            ("C", false, 120)
        );
        let neg = ModelSignals {
            negative: 0.8,
            ..Default::default()
        };
        let r = assess("等了很久还没到", neg, &p);
        assert_eq!(
            (r.priority, r.escalate, r.route.as_str()),
            ("B", false, "customer_service")
        );
        let r = assess("再不退款我就去12315投诉", neg, &p);
        assert_eq!(
            (r.priority, r.escalate, r.respond_within_minutes),
            ("A", true, 15)
        );
        assert!(r.score >= 0.9);
        assert_eq!(r.evidence[0].phrase.as_deref(), Some("12315"));
        let angry = ModelSignals {
            negative: 0.9,
            anger: p.scores.strong_anger,
            any_category: true,
            ..Default::default()
        };
        let r = assess("你们什么态度", angry, &p);
        assert_eq!(r.reasons, vec!["strong_anger"]);
        assert_eq!(r.evidence[0].source.as_deref(), Some("emotion.anger"));
        assert!(r.escalate);
        // Outage with a very negative text is urgent.
        let r = assess(
            "断网两天了",
            ModelSignals {
                negative: 0.95,
                ..Default::default()
            },
            &p,
        );
        assert_eq!(r.priority, "A");
        // Negation and question do not escalate.
        for t in ["我不是要投诉", "投诉流程是什么"] {
            let r = assess(t, calm, &p);
            assert!(!r.escalate && r.reasons.is_empty(), "{t}: {r:?}");
        }
    }

    #[test]
    fn a_changed_policy_changes_the_result() {
        let text = BUILTIN_TEXT.replacen("route = \"complaints\"", "route = \"legal_desk\"", 1);
        let text = text.replacen(
            "respond_within_minutes = 15",
            "respond_within_minutes = 5",
            1,
        );
        let p = Policy::parse(&text, "test.toml").unwrap();
        let r = assess("我要起诉你们", ModelSignals::default(), &p);
        assert_eq!(
            (r.route.as_str(), r.respond_within_minutes),
            ("legal_desk", 5)
        );
    }

    /// A toy learned model: "磨叽" (which no phrase rule knows) means escalate.
    fn toy_learned() -> learned::NgramModel {
        let texts = [
            "你们磨叽死了",
            "磨叽了一个月",
            "太磨叽了我受够了",
            "这么磨叽谁受得了",
            "我想查一下话费",
            "帮我改个地址",
            "请问几点开门",
            "谢谢你们",
        ];
        toy_model(&texts, 0.5)
    }

    /// A toy learned model: the first four texts positive, the last four negative.
    fn toy_model(texts: &[&str; 8], threshold: f32) -> learned::NgramModel {
        let labels = [true, true, true, true, false, false, false, false];
        learned::train(
            texts,
            &[],
            &labels,
            &learned::TrainOptions::default(),
            threshold,
            serde_json::Value::Null,
        )
    }

    #[test]
    fn the_learned_model_adds_escalations_the_rules_missed() {
        let p = Policy::builtin();
        let m = toy_learned();
        let calm = ModelSignals::default();
        let text = "你们办事太磨叽";
        assert!(!assess(text, calm, &p).escalate);
        let r = assess_with(
            text,
            calm,
            &p,
            Learned {
                escalation: Some(&m),
                complaint: None,
            },
        );
        assert!(r.escalate && r.priority == "B", "{r:?}");
        assert!(r.reasons.is_empty(), "no reason code of its own: {r:?}");
        let e = &r.evidence[0];
        assert_eq!(e.reason, LEARNED);
        assert!(e.phrase.as_deref().unwrap().contains("磨叽"), "{e:?}");
        assert!(r.score >= m.threshold && e.score == Some(r.score), "{r:?}");
        // Grade changes keep the learned escalation (set_grade recomputes `escalate`).
        let mut r2 = r.clone();
        r2.set_grade(Grade::C, &p);
        assert!(r2.escalate);
        // A calm text stays calm; the rules' own escalations are not re-judged.
        assert!(
            !assess_with(
                "我想查一下话费",
                calm,
                &p,
                Learned {
                    escalation: Some(&m),
                    complaint: None
                }
            )
            .escalate
        );
        let threat = assess_with(
            "再不处理我就打12315投诉你们",
            calm,
            &p,
            Learned {
                escalation: Some(&m),
                complaint: None,
            },
        );
        assert!(threat.escalate && threat.evidence.iter().all(|e| e.reason != LEARNED));
        // The policy can move the threshold or turn the model off.
        let off = Policy::parse(
            &BUILTIN_TEXT.replace("[escalation]\n", "[escalation]\nlearned_min_score = 1.5\n"),
            "t",
        )
        .unwrap();
        assert_eq!(off.escalation.learned_min_score, Some(1.5));
        assert!(
            !assess_with(
                text,
                calm,
                &off,
                Learned {
                    escalation: Some(&m),
                    complaint: None
                }
            )
            .escalate
        );
        let bad = BUILTIN_TEXT.replace("[escalation]\n", "[escalation]\nlearned_min_score = -1\n");
        let err = Policy::parse(&bad, "t").unwrap_err().to_string();
        assert!(err.contains("learned_min_score"), "{err}");
    }

    #[test]
    fn the_complaint_model_moves_b_and_c_only_where_no_rule_fired() {
        let p = Policy::builtin();
        let texts = [
            "耳机右边没声音",
            "耳机充不进电",
            "耳机断了一边",
            "耳机有杂音",
            "我想查一下话费",
            "帮我改个地址",
            "请问几点开门",
            "我要开发票",
        ];
        let mut m = toy_model(&texts, 0.6);
        m.lower = Some(0.3);
        let with = Learned {
            escalation: None,
            complaint: Some(&m),
        };
        let calm = ModelSignals::default();
        // A calm complaint the sentiment head reads neutral: C by the rules, B by the complaint model.
        assert_eq!(assess("耳机没声音", calm, &p).priority, "C");
        let r = assess_with("耳机没声音", calm, &p, with);
        assert_eq!(r.priority, "B", "{r:?}");
        assert!(!r.escalate && r.reasons.is_empty(), "{r:?}");
        assert_eq!(r.evidence[0].reason, COMPLAINT);
        // A request the sentiment head reads negative: B by the rules, C below `lower`.
        let negative = ModelSignals {
            negative: 0.8,
            ..Default::default()
        };
        assert_eq!(assess("帮我开个发票", negative, &p).priority, "B");
        assert_eq!(
            assess_with("帮我开个发票", negative, &p, with).priority,
            "C"
        );
        // Where a rule fired, the model stays out.
        let threat = assess_with("我要开发票，再不开我就打12315", calm, &p, with);
        assert_eq!(threat.priority, "A");
        assert!(threat.evidence.iter().all(|e| e.reason != COMPLAINT));
        let mut bad = m.clone();
        bad.lower = Some(2.0);
        let e = learned::NgramModel::parse(&bad.to_json(), "c.json").unwrap_err();
        assert!(e.to_string().contains("lower"), "{e}");
    }

    /// The built-in policy without the line that starts with `key` (an optional key left out).
    fn without_line(key: &str) -> String {
        let start = BUILTIN_TEXT.find(key).unwrap();
        let end = start + BUILTIN_TEXT[start..].find('\n').unwrap();
        format!("{}{}", &BUILTIN_TEXT[..start], &BUILTIN_TEXT[end + 1..])
    }

    #[test]
    fn in_questions_is_off_unless_the_policy_says_so() {
        let without = BUILTIN_TEXT.replace("in_questions = true\n", "");
        assert_ne!(without, BUILTIN_TEXT);
        let p = Policy::parse(&without, "test.toml").unwrap();
        assert!(phrase_reasons("你们值班经理呢？", &p).is_empty());
        assert!(phrase_reasons("你们值班经理呢？！", &p)[0].0 == "supervisor_demand");
    }

    #[test]
    fn large_loss_needs_consent_missing_or_a_lost_sum_in_one_sentence() {
        let p = Policy::builtin();
        let loss = |t: &str| large_loss(t, &p);
        assert_eq!(loss("我的信用卡被盗刷了三百块").as_deref(), Some("盗刷"));
        assert_eq!(
            loss("行李丢了，里面的相机值一万二").as_deref(),
            Some("一万二")
        );
        assert_eq!(loss("理财亏了32000元").as_deref(), Some("32000"));
        // a small sum, a sum with no loss, a loss word in another sentence
        assert_eq!(loss("多扣了三百块"), None);
        assert_eq!(loss("我要给装修公司转五万"), None);
        assert_eq!(loss("我要转五万。你说的都是废话"), None);
        let r = assess("行李丢了，里面的相机值一万二", ModelSignals::default(), &p);
        assert_eq!(r.priority, "A");
        assert!(
            r.evidence
                .iter()
                .any(|e| e.source.as_deref() == Some("large_loss")
                    || e.phrase.as_deref() == Some("一万二")),
            "{r:?}"
        );
        // asking the manager to be fetched is a supervisor demand
        assert_eq!(reasons("把你们营业厅经理叫来"), vec!["supervisor_demand"]);
        // a hypothetical loss, and money already returned, are no loss
        assert_eq!(loss("假如托运行李丢了，两万的相机怎么赔"), None);
        assert_eq!(loss("上次那笔盗刷的钱已经退回来了，谢谢"), None);
        assert_eq!(loss("盗刷的钱还没退回来了"), Some("盗刷".into()));
        // a question in a later clause does not make the report of the loss a question
        assert_eq!(
            loss("账户里的余额三百八被转走了，这是怎么回事？").as_deref(),
            Some("被转走")
        );
    }

    #[test]
    fn resolved_problems_and_unless_words_do_not_fire() {
        // `matching.resolved`: the problem is over
        assert_eq!(
            reasons("之前断网的问题已经修好了，谢谢师傅"),
            Vec::<&str>::new()
        );
        assert_eq!(reasons("断网到现在还没修好了"), vec!["service_outage"]);
        assert_eq!(reasons("停电到现在还没有恢复了"), vec!["service_outage"]);
        // a reason's `unless`: a planned outage, a notice, an alarm device
        assert_eq!(reasons("下周三计划停电，几点恢复"), Vec::<&str>::new());
        assert_eq!(reasons("停水通知贴得太晚了"), Vec::<&str>::new());
        assert_eq!(reasons("想装个燃气报警器"), Vec::<&str>::new());
        assert_eq!(reasons("家里停水一整天了"), vec!["service_outage"]);
        let mut p = Policy::builtin();
        p.reasons
            .iter_mut()
            .find(|r| r.code == "service_outage")
            .unwrap()
            .unless
            .clear();
        assert_eq!(phrase_reasons("停水通知贴得太晚了", &p).len(), 1);
    }

    #[test]
    fn a_plain_inquiry_is_not_a_complaint_by_the_model_alone() {
        let p = Policy::builtin();
        let read_negative = ModelSignals {
            negative: 0.97,
            anger: 0.0,
            any_category: false,
            ..Default::default()
        };
        let grade = |t: &str| assess(t, read_negative, &p).priority;
        assert_eq!(grade("请问你们支持七天无理由退货吗"), "C");
        assert_eq!(grade("我想问下快递丢了一般怎么赔"), "C");
        // a complaint cue keeps the model's reading; no marker, no change
        assert_eq!(grade("请问我的快递为什么还没到"), "B");
        assert_eq!(grade("你们的快递太慢了"), "B");
        let without = BUILTIN_TEXT.replace("inquiry_markers = [", "unused_markers = [");
        assert!(
            Policy::parse(&without, "test.toml").is_err(),
            "unknown keys are errors"
        );
        let q = Policy::parse(&without_line("inquiry_markers = "), "test.toml").unwrap();
        assert_eq!(
            assess("请问你们支持七天无理由退货吗", read_negative, &q).priority,
            "B"
        );
    }

    #[test]
    fn agitation_phrases_are_optional() {
        assert!(!Policy::builtin().conversation.agitation.is_empty());
        let p = Policy::parse(&without_line("agitation = "), "test.toml").unwrap();
        assert!(p.conversation.agitation.is_empty());
    }

    #[test]
    fn chars_before_counts_characters_not_bytes() {
        let s = "我不是要投诉";
        let pos = s.find("投诉").unwrap();
        assert_eq!(chars_before(s, pos, 2), "是要");
        assert_eq!(chars_before(s, pos, 7), "我不是要");
        assert_eq!(chars_before(s, pos, 0), "");
        assert_eq!(chars_before(s, 0, 3), "");
    }

    #[test]
    fn a_conditional_threat_needs_no_negative_reading() {
        let p = Policy::builtin();
        let calm = ModelSignals {
            negative: 0.3,
            ..Default::default()
        };
        // churn_threat needs negative >= 0.5, except after 再不…/不然/否则
        assert_eq!(
            assess("再不解决我就销户", calm, &p).reasons,
            vec!["churn_threat"]
        );
        assert_eq!(
            assess("三天内给我答复，不然我就退网", calm, &p).reasons,
            vec!["churn_threat"]
        );
        assert!(assess("我想办理销户", calm, &p).reasons.is_empty());
        assert!(assess("我要出国了，想把这个号销户", calm, &p)
            .reasons
            .is_empty());
        // a marker far before the phrase does not count
        assert!(assess(
            "再不久我就要出国定居了，所以想问问手续怎么弄，顺便把号销户",
            calm,
            &p
        )
        .reasons
        .is_empty());
    }

    #[test]
    fn model_anger_can_require_a_negative_reading() {
        // Anger from the emotion head on a text the sentiment head reads as calm (a thank-you) counts only
        // while scores.strong_anger_min_negative is below the negative probability.
        let thanks = ModelSignals {
            negative: 0.2,
            anger: Policy::builtin().scores.strong_anger,
            any_category: false,
            ..Default::default()
        };
        let text = "谢谢你们及时提醒我";
        let without = Policy::parse(
            &BUILTIN_TEXT.replacen(
                "strong_anger_min_negative = 0.5",
                "strong_anger_min_negative = 0",
                1,
            ),
            "t.toml",
        )
        .unwrap();
        let with = Policy::parse(
            &BUILTIN_TEXT.replacen(
                "strong_anger_min_negative = 0.5",
                "strong_anger_min_negative = 0.3",
                1,
            ),
            "t.toml",
        )
        .unwrap();
        assert_eq!(assess(text, thanks, &without).reasons, vec!["strong_anger"]);
        assert!(assess(text, thanks, &with).reasons.is_empty());
        // The key is optional: a policy file without it keeps the model's anger unconditional.
        let old = Policy::parse(
            &BUILTIN_TEXT.replacen("strong_anger_min_negative = 0.5\n", "", 1),
            "t.toml",
        )
        .unwrap();
        assert_eq!(assess(text, thanks, &old).reasons, vec!["strong_anger"]);
        let angry = ModelSignals {
            negative: 0.9,
            ..thanks
        };
        assert_eq!(assess(text, angry, &with).reasons, vec!["strong_anger"]);
    }

    const BUILTIN_TEXT: &str = policy::BUILTIN_POLICY;

    #[test]
    fn sarcasm_needs_praise_then_complaint() {
        let p = Policy::builtin();
        assert_eq!(
            sarcasm("你们效率可真高啊，一个月了还没处理", &p).as_deref(),
            Some("效率可真高")
        );
        assert_eq!(sarcasm("你们效率真高，谢谢", &p), None);
        assert_eq!(sarcasm("还没收到，你们效率真高", &p), None);
    }

    #[test]
    fn a_negation_of_putting_up_with_it_does_not_negate_the_threat() {
        // 不会/不想 negate 忍 here, not the threat after it (an audit, 2026-12-03: these were no threat)
        assert_eq!(reasons("我不会忍了去12315"), vec!["regulator_threat"]);
        assert_eq!(
            reasons("我不会再忍了要去12315投诉"),
            vec!["regulator_threat"]
        );
        assert_eq!(reasons("我不想再忍了我要起诉你们"), vec!["legal_threat"]);
        // a negation of the threat itself still withdraws it
        assert_eq!(reasons("我不会去12315投诉的"), Vec::<&str>::new());
        assert_eq!(reasons("放心我不会告你们"), Vec::<&str>::new());
        // the key is optional: without it the negation reaches the phrase, as before
        let p = Policy::parse(&without_line("negation_stops = "), "t.toml").unwrap();
        assert!(p.matching.negation_stops.is_empty());
        assert!(phrase_reasons("我不会忍了去12315", &p).is_empty());
    }

    #[test]
    fn a_child_swallowing_something_is_a_safety_problem() {
        for t in [
            "孩子把零件吞下去了",
            "宝宝误吞了电池",
            "小孩吃了里面的干燥剂",
            "我家娃把磁铁吞了",
        ] {
            assert_eq!(reasons(t), vec!["safety"], "{t}");
        }
        // a machine swallowing a card is an outage, not a safety problem
        assert_eq!(reasons("卡在ATM机里被吞了"), vec!["service_outage"]);
    }

    #[test]
    fn court_and_internet_regulator_threats_said_indirectly() {
        assert_eq!(reasons("咱们法庭见"), vec!["legal_threat"]);
        assert_eq!(reasons("法院见"), vec!["legal_threat"]);
        assert_eq!(reasons("不退钱咱们就对簿公堂"), vec!["legal_threat"]);
        assert_eq!(reasons("我去网信办举报你们"), vec!["regulator_threat"]);
        assert_eq!(reasons("向网信办反映"), vec!["regulator_threat"]);
        assert_eq!(reasons("网信办的电话是多少？"), Vec::<&str>::new());
    }

    #[test]
    fn a_platform_where_the_customer_saw_something_is_no_media_threat() {
        for t in [
            "我在微博上看到你们的活动",
            "我在微博上看到你们的活动想问问怎么参加",
            "在抖音上刷到你们的广告",
            "在小红书上看到你们家的新品",
            "我在媒体上看到你们的报道",
            "我们业主群里有人推荐你们",
        ] {
            assert_eq!(reasons(t), Vec::<&str>::new(), "{t}");
        }
        for t in [
            "你们这样乱收费，我要发到微博上让大家都看看",
            "我已经在微博上@你们官方了",
            "再不处理我就把这事发到业主群里，让整个小区都知道",
        ] {
            assert_eq!(reasons(t), vec!["media_threat"], "{t}");
        }
    }

    #[test]
    fn a_stop_the_customer_orders_is_no_outage() {
        for t in [
            "我上周已经在营业厅办过停机了",
            "我爸那张副卡用不着了，想给他办个停机",
            "家里要装修，想申请暂时停气",
            "我想办理停水，房子卖了要过户",
            "办理停机的时候没人说要扣违约金",
        ] {
            assert!(reasons(t).is_empty(), "{t}: {:?}", reasons(t));
        }
        // not ordered: negated, or the verb is about something else further away
        for t in [
            "我根本没办过停机，号怎么就停机了",
            "不是我申请的停机，现在停机了打不了电话",
            "我办的宽带停机了",
            "我要报修，家里停水了",
        ] {
            assert_eq!(reasons(t), vec!["service_outage"], "{t}");
        }
        // the key is optional
        let q = Policy::parse(&without_line("requested = "), "t.toml").unwrap();
        assert_eq!(
            phrase_reasons("我想办个停机", &q)[0].0,
            "service_outage",
            "without `requested`"
        );
    }

    #[test]
    fn courts_and_police_count_only_as_where_the_customer_takes_the_company() {
        for t in [
            "法院寄来的材料上要我这个号码的实名证明",
            "我要寄一份材料给法院",
            "法院的判决书下来了，需要你们配合解冻",
            "派出所让我打印一份近三个月的通话记录",
            "我是派出所的，想核实一个快递单号",
        ] {
            assert!(reasons(t).is_empty(), "{t}: {:?}", reasons(t));
        }
        for t in [
            "咱们法院见",
            "这事我一定要去法院讨个说法",
            "我已经在法院立案了",
            "派出所已经立案了，你们的快递员冒领了我的包裹",
            "我现在就去派出所",
        ] {
            assert_eq!(reasons(t), vec!["legal_threat"], "{t}");
        }
    }

    #[test]
    fn a_calm_returning_customer_is_no_repeat_contact_and_a_calm_title_no_demand() {
        let p = Policy::builtin();
        let calm = ModelSignals {
            negative: 0.05,
            ..Default::default()
        };
        let cross = ModelSignals {
            negative: 0.6,
            ..Default::default()
        };
        for t in [
            "我第二次来交燃气费了，上次的卡没带",
            "上周就约好今天上门装燃气表，师傅几点到",
            "我再次确认一下收货地址",
            "工号1023的柜员特别耐心，帮我表扬一下",
            "负责我们小区的快递站长电话能给我一下吗",
        ] {
            let r = assess(t, calm, &p);
            assert!(r.reasons.is_empty() && !r.escalate, "{t}: {r:?}");
        }
        // read negative, the same words are a repeat contact / a demand
        let r = assess("我第二次来办这个业务了，又让我白跑一趟", cross, &p);
        assert_eq!(r.reasons, vec!["repeat_contact"]);
        let r = assess("工号1023的柜员态度太差了", cross, &p);
        assert_eq!(r.reasons, vec!["supervisor_demand"]);
        // read calm, a cue that the problem is still there keeps the repeat contact (`cues`)
        let r = assess("上周就反映过里程没累积，到现在还是没加上", calm, &p);
        assert_eq!(r.reasons, vec!["repeat_contact"], "{r:?}");
        assert!(r.escalate);
        // without `cues` it needs the negative reading
        let q = Policy::parse(
            &BUILTIN_TEXT.replacen("\ncues = ", "\n# cues = ", 1),
            "t.toml",
        )
        .unwrap();
        assert!(assess("上周就反映过里程没累积，到现在还是没加上", calm, &q)
            .reasons
            .is_empty());
        // a staff member who sent the customer somewhere is named, not demanded (`unless`)
        let r = assess("大堂经理让我来这个窗口办的，请问是在这排队吗", cross, &p);
        assert!(r.reasons.is_empty(), "{r:?}");
    }

    #[test]
    fn question_words_used_as_any_do_not_make_a_question() {
        assert_eq!(indefinite("现在什么电话都打不进来"), "现在电话都打不进来");
        assert_eq!(indefinite("什么都买不了"), "都买不了");
        assert_eq!(indefinite("啥东西也没收到"), "东西也没收到");
        assert_eq!(indefinite("什么时候能恢复？"), "什么时候能恢复？");
        assert_eq!(
            reasons("结果号码还是被停了，现在什么电话都打不进来"),
            vec!["service_outage"]
        );
        assert!(reasons("宽带什么时候能装好？").is_empty());
        // a platform as the source of what someone said is no media threat
        assert!(reasons("小红书上有人说你们的校园卡很划算").is_empty());
    }

    #[test]
    fn closing_the_account_as_a_demand_is_churn_without_a_negative_reading() {
        let p = Policy::builtin();
        let calm = ModelSignals {
            negative: 0.1,
            ..Default::default()
        };
        for t in ["我要销户", "我要注销账户", "把我的卡销户"] {
            let r = assess(t, calm, &p);
            assert_eq!(r.reasons, vec!["churn_threat"], "{t}: {r:?}");
            assert!(r.escalate, "{t}");
        }
        // asked about, or a calm request, it is none
        for t in [
            "我想办理销户",
            "我要销户，需要带什么证件吗",
            "房子卖了 我要把水表销户 需要怎么办",
            "请问怎么注销账户？",
        ] {
            assert!(assess(t, calm, &p).reasons.is_empty(), "{t}");
        }
        // the key is optional
        let q = Policy::parse(&without_line("firm = "), "t.toml").unwrap();
        assert!(assess("我要销户", calm, &q).reasons.is_empty());
    }

    #[test]
    fn a_rule_escalation_counts_for_the_history_a_learned_one_does_not() {
        let p = Policy::builtin();
        let calm = ModelSignals::default();
        assert!(assess("我明天就去12315投诉你们", calm, &p).escalated_by_rules());
        assert!(!assess("我想查一下话费", calm, &p).escalated_by_rules());
        let m = toy_learned();
        let learned_only = assess_with(
            "你们办事太磨叽",
            calm,
            &p,
            Learned {
                escalation: Some(&m),
                complaint: None,
            },
        );
        assert!(learned_only.escalate && !learned_only.escalated_by_rules());
    }

    #[test]
    fn a_high_risk_customer_raises_the_risk() {
        let p = Policy::builtin();
        let mut r = assess("我想查一下话费", ModelSignals::default(), &p);
        let state = history::CustomerState {
            id: "c1".into(),
            contacts: 3,
            consecutive_negative: 3,
            high_risk: true,
            risk_score: 0.7,
            last_contact_ms: 0,
        };
        apply_customer(&mut r, &state, &p);
        assert_eq!(r.priority, "B");
        assert!(r.escalate);
        assert_eq!(r.reasons, vec!["repeat_contact"]);
        assert!(r.evidence[0]
            .source
            .as_deref()
            .unwrap()
            .contains("3 negative contacts"));
        let calm = history::CustomerState {
            high_risk: false,
            consecutive_negative: 1,
            ..state
        };
        let mut r = assess("我想查一下话费", ModelSignals::default(), &p);
        apply_customer(&mut r, &calm, &p);
        assert_eq!((r.priority, r.escalate), ("C", false));
    }
}
