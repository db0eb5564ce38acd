//! The risk policy: reason codes with their phrases, grades and weights, the negation and question words,
//! the A/B/C response limits and routes, the escalation rule, model-score thresholds, the sarcasm rule,
//! the customer-history rule and the conversation rules. Read from TOML (`models/default/policy.toml`
//! documents every key); [`Policy::builtin`] is a copy of that file compiled into the binary.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The reason codes a policy may define (and the risk output may name).
pub const REASON_CODES: [&str; 9] = [
    "regulator_threat",
    "media_threat",
    "legal_threat",
    "churn_threat",
    "safety",
    "supervisor_demand",
    "repeat_contact",
    "strong_anger",
    "service_outage",
];

/// The policy shipped with the default model, used when a model directory has none.
pub const BUILTIN_POLICY: &str = include_str!("../../models/default/policy.toml");

/// The file name looked for in a model directory.
pub const POLICY_FILE: &str = "policy.toml";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {file}: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid policy {file}: {msg}")]
    Parse { file: String, msg: String },
    #[error("invalid policy {file}: key `{key}`: {msg}")]
    Value {
        file: String,
        key: String,
        msg: String,
    },
}

/// Priority grades, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
        }
    }

    pub fn parse(s: &str) -> Option<Grade> {
        match s {
            "A" => Some(Grade::A),
            "B" => Some(Grade::B),
            "C" => Some(Grade::C),
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matching {
    pub negations: Vec<String>,
    pub negation_window: usize,
    /// A negation followed, before the phrase, by one of these negates that word and not the phrase
    /// ("我不会忍了去12315": 不会 negates 忍). Optional key; none by default.
    #[serde(default)]
    pub negation_stops: Vec<String>,
    pub question_words: Vec<String>,
    pub intent_words: Vec<String>,
    /// Conditional-threat markers (再不…就, 不然, 否则): a phrase with one of these in the
    /// `condition_window` characters before it is a threat whatever the model's negative reading, so a
    /// reason's `min_negative` does not apply to it (optional key; none by default).
    #[serde(default)]
    pub conditions: Vec<String>,
    #[serde(default = "default_condition_window")]
    pub condition_window: usize,
    /// Someone else's words or plans ("我同事说他去民航局投诉了"): a phrase with one of these earlier in
    /// its clause is not the customer's own threat (optional key; none by default).
    #[serde(default)]
    pub others: Vec<String>,
    /// Words saying the problem is over ("已经修好了", "钱已经退回来了"): a phrase in a clause with one of these
    /// (not right after 没/不/未) does not count, nor does an unauthorized-money phrase (optional key; none by
    /// default).
    #[serde(default)]
    pub resolved: Vec<String>,
    /// How far (characters before and after the phrase, same clause) a reason's `unless` words are looked for
    /// (optional key, 8 by default).
    #[serde(default = "default_unless_window")]
    pub unless_window: usize,
    /// The most characters between the parts of a proximity phrase `A*B` (optional key, 8 by default).
    #[serde(default = "default_proximity_gap")]
    pub proximity_gap: usize,
    /// The most characters between a reason's `requested` word and its phrase ("办个停机": 1) (optional
    /// key, 2 by default).
    #[serde(default = "default_requested_gap")]
    pub requested_gap: usize,
}

fn default_requested_gap() -> usize {
    2
}

fn default_condition_window() -> usize {
    12
}

fn default_proximity_gap() -> usize {
    8
}

fn default_unless_window() -> usize {
    8
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    pub respond_within_minutes: u32,
    pub route: String,
    pub weight: f32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalationFile {
    grades: Vec<String>,
    reasons: Vec<String>,
    negative_for_b: f32,
    category_for_b: bool,
    #[serde(default)]
    inquiry_markers: Vec<String>,
    #[serde(default)]
    complaint_cues: Vec<String>,
    #[serde(default)]
    learned_min_score: Option<f32>,
    #[serde(default = "one")]
    complaint_max_positive: f32,
}

fn one() -> f32 {
    1.0
}

#[derive(Debug, Clone)]
pub struct Escalation {
    pub grades: Vec<Grade>,
    pub reasons: Vec<&'static str>,
    pub negative_for_b: f32,
    pub category_for_b: bool,
    /// A text with one of these ("请问", "我想咨询") and none of `complaint_cues` ("还没", "为什么", "坏")
    /// is an inquiry: the model's negative reading alone does not make it B (optional keys; none by default).
    pub inquiry_markers: Vec<String>,
    pub complaint_cues: Vec<String>,
    /// The learned escalation model (`risk_model.json` in the model directory) escalates at this score
    /// instead of the threshold stored with it; above 1 turns it off (optional key).
    pub learned_min_score: Option<f32>,
    /// The complaint model does not make a complaint of a text the sentiment head reads positive above
    /// this (optional key; 1 by default: no limit).
    pub complaint_max_positive: f32,
}

impl Escalation {
    /// Whether the text is a plain inquiry (see `inquiry_markers`).
    pub fn inquiry(&self, text: &str) -> bool {
        self.inquiry_markers
            .iter()
            .any(|m| text.contains(m.as_str()))
            && !self
                .complaint_cues
                .iter()
                .any(|c| text.contains(c.as_str()))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scores {
    pub strong_anger: f32,
    /// The model's anger counts only when negative is at least this (0 = always; optional key).
    #[serde(default)]
    pub strong_anger_min_negative: f32,
    pub strong_negative_exclaim: f32,
    pub outage_urgent_negative: f32,
    pub negative_weight: f32,
    pub anger_weight: f32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonFile {
    grade: String,
    weight: f32,
    phrases: Vec<String>,
    #[serde(default)]
    min_negative: f32,
    #[serde(default)]
    in_questions: bool,
    #[serde(default)]
    unless: Vec<String>,
    #[serde(default)]
    firm: Vec<String>,
    #[serde(default)]
    requested: Vec<String>,
    #[serde(default)]
    cues: Vec<String>,
}

/// One reason code's rule.
#[derive(Debug, Clone)]
pub struct ReasonRule {
    pub code: &'static str,
    pub grade: Grade,
    pub weight: f32,
    pub phrases: Vec<String>,
    /// A phrase only counts when the model's negative probability is at least this (0 = always).
    pub min_negative: f32,
    /// The phrase counts in a question too (optional key, false by default): an insult or a call for the
    /// manager asked as a question ("你们是吃干饭的吗", "你们经理呢？") is rhetorical.
    pub in_questions: bool,
    /// The phrase does not count with one of these within `matching.unless_window` characters of it in its
    /// clause (optional key, none by default):
    /// 计划停电 / 停水通知 / 停电补偿的事 speak of an outage without one happening to the customer now.
    pub unless: Vec<String>,
    /// Phrases said as a demand ("我要销户", "把我的*销户") that count without the model's negative reading
    /// (`min_negative` does not apply to them) — but only in a text with no question word and no inquiry
    /// marker (optional key, none by default). Matched before `phrases`.
    pub firm: Vec<String>,
    /// Words of a service the customer orders ("办", "申请"): a phrase at most `matching.requested_gap`
    /// characters after one of them is that service, not a failure ("我想办个停机", "申请暂时停气"), unless
    /// a negation (不/没/未/别/无) stands in the three characters before the word ("我根本没办过停机").
    /// Optional key, none by default.
    pub requested: Vec<String>,
    /// Words saying the problem is still there ("还没", "到现在"): in a text with one of these the reason's
    /// `min_negative` does not apply (a calm "上周就反映过，到现在还是没加上" is a repeat contact; a calm "我第二次
    /// 来交燃气费了" is not). Optional key, none by default.
    pub cues: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sarcasm {
    pub praise: Vec<String>,
    pub complaint: Vec<String>,
}

/// Large financial loss (no reason code of its own): money gone without the customer's consent, or an
/// amount of at least `min_amount` yuan lost or disputed. Graded A; the evidence names `large_loss`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LargeLoss {
    pub unauthorized: Vec<String>,
    pub min_amount: f64,
    /// Words that make a sum money (after the number): 元, 块, 钱…; Chinese numerals with 千/万 count
    /// without one.
    pub money_units: Vec<String>,
    /// Words that make the text about a loss at all (扣, 丢, 坏, 转走…).
    pub loss_words: Vec<String>,
    /// A sentence with one of these (假如, 万一…) asks about a loss that has not happened (optional key).
    #[serde(default)]
    pub hypothetical: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryFile {
    negative_threshold: f32,
    high_risk_after: u32,
    decay: f64,
    high_risk_grade: String,
}

/// Customer-history rule.
#[derive(Debug, Clone)]
pub struct HistoryRules {
    pub negative_threshold: f32,
    pub high_risk_after: u32,
    pub decay: f64,
    pub high_risk_grade: Grade,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationRules {
    pub human_request: Vec<String>,
    pub negative_run: usize,
    pub anger_rise: f32,
    pub anger_min: f32,
    /// Indignant phrases ("？？", "凭什么", "我什么时候开过"): a customer turn with one hands off even when
    /// the model reads it calm (optional key; none by default).
    #[serde(default)]
    pub agitation: Vec<String>,
    pub agent_rude: Vec<String>,
    pub agent_rude_score: f32,
    /// Whether a turn the learned escalation model escalated hands off like a rule's escalation
    /// (optional key; true by default).
    #[serde(default = "yes")]
    pub handoff_on_learned: bool,
    /// What makes a customer turn count toward `negative_run` (optional key; `sentiment` by default).
    #[serde(default)]
    pub negative_turn: NegativeTurn,
}

/// When a customer turn counts as negative for the `negative_run` handoff rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NegativeTurn {
    /// The sentiment head reads it negative (>= 0.5).
    #[default]
    Sentiment,
    /// The risk engine grades it a complaint (A or B): a rule fired, the model reads it negative and it
    /// is no plain inquiry, or the complaint model says so.
    Complaint,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: u32,
    matching: Matching,
    grades: BTreeMap<String, GradeRule>,
    escalation: EscalationFile,
    scores: Scores,
    reasons: BTreeMap<String, ReasonFile>,
    sarcasm: Sarcasm,
    large_loss: LargeLoss,
    history: HistoryFile,
    conversation: ConversationRules,
}

/// A checked policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from (a file path, or `built-in`).
    pub source: String,
    pub matching: Matching,
    grades: [GradeRule; 3],
    pub escalation: Escalation,
    pub scores: Scores,
    /// In the order of [`REASON_CODES`] (codes the file leaves out never fire).
    pub reasons: Vec<ReasonRule>,
    pub sarcasm: Sarcasm,
    pub large_loss: LargeLoss,
    pub history: HistoryRules,
    pub conversation: ConversationRules,
}

fn code(s: &str) -> Option<&'static str> {
    REASON_CODES.iter().copied().find(|c| *c == s)
}

impl Policy {
    /// The policy compiled into the binary (identical to `models/default/policy.toml`).
    pub fn builtin() -> Policy {
        Policy::parse(BUILTIN_POLICY, "built-in").expect("the built-in policy is valid")
    }

    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// The policy of a model directory: its `policy.toml`, or the built-in one when it has none.
    pub fn for_model_dir(dir: &Path) -> Result<Policy, PolicyError> {
        let path = dir.join(POLICY_FILE);
        if path.exists() {
            Policy::load(&path)
        } else {
            Ok(Policy::builtin())
        }
    }

    /// Parses and checks policy text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let raw: PolicyFile = toml::from_str(text).map_err(|e| PolicyError::Parse {
            file: file.to_string(),
            msg: e.to_string().trim_end().replace('\n', " "),
        })?;
        let bad = |key: &str, msg: &str| PolicyError::Value {
            file: file.to_string(),
            key: key.to_string(),
            msg: msg.to_string(),
        };
        if raw.version != 1 {
            return Err(bad("version", "only version 1 is known"));
        }
        let grade = |key: &str, s: &str| {
            Grade::parse(s).ok_or_else(|| bad(key, &format!("\"{s}\" is not A, B or C")))
        };
        let unit = |key: &str, x: f32| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(bad(key, &format!("{x} is not between 0 and 1")))
            }
        };
        let nonempty = |key: &str, v: &[String]| {
            if v.iter().any(|p| p.trim().is_empty()) {
                Err(bad(key, "empty phrase"))
            } else {
                Ok(())
            }
        };
        nonempty("matching.negations", &raw.matching.negations)?;
        nonempty("matching.question_words", &raw.matching.question_words)?;
        nonempty("matching.intent_words", &raw.matching.intent_words)?;
        nonempty("matching.negation_stops", &raw.matching.negation_stops)?;

        for k in raw.grades.keys() {
            if Grade::parse(k).is_none() {
                return Err(bad(&format!("grades.{k}"), "grades are A, B and C"));
            }
        }
        let mut grades = Vec::new();
        for g in ["A", "B", "C"] {
            let rule = raw
                .grades
                .get(g)
                .ok_or_else(|| bad(&format!("grades.{g}"), "missing"))?;
            unit(&format!("grades.{g}.weight"), rule.weight)?;
            if rule.route.trim().is_empty() {
                return Err(bad(&format!("grades.{g}.route"), "empty route"));
            }
            grades.push(rule.clone());
        }
        let grades: [GradeRule; 3] = grades.try_into().expect("three grades");

        let mut esc_grades = Vec::new();
        for (i, g) in raw.escalation.grades.iter().enumerate() {
            esc_grades.push(grade(&format!("escalation.grades[{i}]"), g)?);
        }
        let mut esc_reasons = Vec::new();
        for (i, r) in raw.escalation.reasons.iter().enumerate() {
            esc_reasons.push(code(r).ok_or_else(|| {
                bad(
                    &format!("escalation.reasons[{i}]"),
                    &format!("unknown reason code \"{r}\""),
                )
            })?);
        }
        unit("escalation.negative_for_b", raw.escalation.negative_for_b)?;

        for (k, x) in [
            ("scores.strong_anger", raw.scores.strong_anger),
            (
                "scores.strong_anger_min_negative",
                raw.scores.strong_anger_min_negative,
            ),
            (
                "scores.strong_negative_exclaim",
                raw.scores.strong_negative_exclaim,
            ),
            (
                "scores.outage_urgent_negative",
                raw.scores.outage_urgent_negative,
            ),
            ("scores.negative_weight", raw.scores.negative_weight),
            ("scores.anger_weight", raw.scores.anger_weight),
        ] {
            unit(k, x)?;
        }

        let mut reasons = Vec::new();
        for k in raw.reasons.keys() {
            if code(k).is_none() {
                return Err(bad(
                    &format!("reasons.{k}"),
                    &format!("unknown reason code (known: {})", REASON_CODES.join(", ")),
                ));
            }
        }
        for c in REASON_CODES {
            if let Some(r) = raw.reasons.get(c) {
                let g = grade(&format!("reasons.{c}.grade"), &r.grade)?;
                unit(&format!("reasons.{c}.weight"), r.weight)?;
                unit(&format!("reasons.{c}.min_negative"), r.min_negative)?;
                nonempty(&format!("reasons.{c}.requested"), &r.requested)?;
                nonempty(&format!("reasons.{c}.cues"), &r.cues)?;
                for (key, list) in [("phrases", &r.phrases), ("firm", &r.firm)] {
                    nonempty(&format!("reasons.{c}.{key}"), list)?;
                    if let Some(p) = list
                        .iter()
                        .find(|p| p.contains('*') && p.split('*').any(str::is_empty))
                    {
                        return Err(bad(
                            &format!("reasons.{c}.{key}"),
                            &format!(
                                "`{p}`: a proximity phrase needs text on both sides of each `*`"
                            ),
                        ));
                    }
                }
                let weight = if r.weight > 0.0 {
                    r.weight
                } else {
                    grades[g.index()].weight
                };
                reasons.push(ReasonRule {
                    code: c,
                    grade: g,
                    weight,
                    phrases: r.phrases.clone(),
                    min_negative: r.min_negative,
                    in_questions: r.in_questions,
                    unless: r.unless.clone(),
                    firm: r.firm.clone(),
                    requested: r.requested.clone(),
                    cues: r.cues.clone(),
                });
            }
        }
        nonempty("sarcasm.praise", &raw.sarcasm.praise)?;
        nonempty("sarcasm.complaint", &raw.sarcasm.complaint)?;
        nonempty("large_loss.unauthorized", &raw.large_loss.unauthorized)?;
        nonempty("large_loss.money_units", &raw.large_loss.money_units)?;
        nonempty("large_loss.loss_words", &raw.large_loss.loss_words)?;
        if raw.large_loss.min_amount.is_nan() || raw.large_loss.min_amount < 0.0 {
            return Err(bad(
                "large_loss.min_amount",
                "must be a non-negative number",
            ));
        }

        unit("history.negative_threshold", raw.history.negative_threshold)?;
        if raw.history.high_risk_after == 0 {
            return Err(bad("history.high_risk_after", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&raw.history.decay) {
            return Err(bad("history.decay", "must be in [0, 1)"));
        }
        let history = HistoryRules {
            negative_threshold: raw.history.negative_threshold,
            high_risk_after: raw.history.high_risk_after,
            decay: raw.history.decay,
            high_risk_grade: grade("history.high_risk_grade", &raw.history.high_risk_grade)?,
        };
        nonempty(
            "conversation.human_request",
            &raw.conversation.human_request,
        )?;
        nonempty("conversation.agent_rude", &raw.conversation.agent_rude)?;
        if raw.conversation.negative_run == 0 {
            return Err(bad("conversation.negative_run", "must be at least 1"));
        }
        unit("conversation.anger_rise", raw.conversation.anger_rise)?;
        unit("conversation.anger_min", raw.conversation.anger_min)?;
        unit(
            "conversation.agent_rude_score",
            raw.conversation.agent_rude_score,
        )?;

        unit(
            "escalation.complaint_max_positive",
            raw.escalation.complaint_max_positive,
        )?;
        if let Some(x) = raw.escalation.learned_min_score {
            if !x.is_finite() || x < 0.0 {
                return Err(bad(
                    "escalation.learned_min_score",
                    "must be a number >= 0 (above 1 turns the learned model off)",
                ));
            }
        }
        Ok(Policy {
            source: file.to_string(),
            matching: raw.matching,
            grades,
            escalation: Escalation {
                grades: esc_grades,
                reasons: esc_reasons,
                negative_for_b: raw.escalation.negative_for_b,
                category_for_b: raw.escalation.category_for_b,
                inquiry_markers: raw.escalation.inquiry_markers.clone(),
                complaint_cues: raw.escalation.complaint_cues.clone(),
                learned_min_score: raw.escalation.learned_min_score,
                complaint_max_positive: raw.escalation.complaint_max_positive,
            },
            scores: raw.scores,
            reasons,
            sarcasm: raw.sarcasm,
            large_loss: raw.large_loss,
            history,
            conversation: raw.conversation,
        })
    }

    /// Response limit, route and weight of a grade.
    pub fn grade(&self, g: Grade) -> &GradeRule {
        &self.grades[g.index()]
    }

    /// The rule of a reason code, if the policy has it.
    pub fn reason(&self, code: &str) -> Option<&ReasonRule> {
        self.reasons.iter().find(|r| r.code == code)
    }

    /// Whether a priority and a set of reasons escalate.
    pub fn escalates(&self, g: Grade, reasons: &[&str]) -> bool {
        self.escalation.grades.contains(&g)
            || reasons.iter().any(|r| self.escalation.reasons.contains(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_every_reason_code() {
        let p = Policy::builtin();
        for c in REASON_CODES {
            assert!(p.reason(c).is_some(), "{c}");
        }
        assert_eq!(p.grade(Grade::A).respond_within_minutes, 15);
        assert_eq!(p.grade(Grade::C).route, "inquiry");
        assert!(p.escalates(Grade::A, &[]));
        assert!(!p.escalates(Grade::C, &[]));
    }

    #[test]
    fn conversation_learned_keys_are_optional_and_checked() {
        let p = Policy::builtin();
        assert_eq!(p.conversation.negative_turn, NegativeTurn::Complaint);
        assert!(!p.conversation.handoff_on_learned);
        let plain = with("negative_turn = \"complaint\"\n", "").replacen(
            "handoff_on_learned = false\n",
            "",
            1,
        );
        let p = Policy::parse(&plain, "my.toml").unwrap();
        assert_eq!(p.conversation.negative_turn, NegativeTurn::Sentiment);
        assert!(p.conversation.handoff_on_learned);
        let e = err(&with(
            "negative_turn = \"complaint\"",
            "negative_turn = \"mood\"",
        ));
        assert!(e.contains("my.toml") && e.contains("mood"), "{e}");
    }

    fn with(from: &str, to: &str) -> String {
        assert!(BUILTIN_POLICY.contains(from), "{from}");
        BUILTIN_POLICY.replacen(from, to, 1)
    }

    fn err(text: &str) -> String {
        Policy::parse(text, "my.toml").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        // (replace this, with this, the error must name all of these)
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "requested = [\"办\"",
                "requested = [\"\"",
                &[
                    "my.toml",
                    "reasons.service_outage.requested",
                    "empty phrase",
                ],
            ),
            (
                "\ncues = [\"还没\"",
                "\ncues = [\" \"",
                &["my.toml", "reasons.repeat_contact.cues", "empty phrase"],
            ),
            (
                "[reasons.safety]\ngrade = \"A\"",
                "[reasons.safety]\ngrade = \"Z\"",
                &["my.toml", "reasons.safety.grade"],
            ),
            (
                "[reasons.safety]",
                "[reasons.saftey]",
                &["reasons.saftey", "unknown reason code"],
            ),
            (
                "strong_anger = 0.9",
                "strong_anger = 1.5",
                &["scores.strong_anger"],
            ),
            (
                "strong_anger = 0.9",
                "strong_anger = \"high\"",
                &["my.toml", "strong_anger"],
            ),
            (
                "high_risk_after = 3",
                "high_risk_after = 0",
                &["history.high_risk_after"],
            ),
            ("[grades.C]", "[grades.D]", &["grades.D"]),
            ("decay = 0.5", "decay = 0.5\ntypo = 1", &["my.toml", "typo"]),
            (
                "phrases = [\"断网\"",
                "phrases = [\"宽带*\", \"断网\"",
                &["reasons.service_outage.phrases", "宽带*"],
            ),
        ];
        for (from, to, want) in cases {
            let e = err(&with(from, to));
            for w in *want {
                assert!(e.contains(w), "{to}: {e}");
            }
        }
        let e = err("version = 1\n[matching");
        assert!(e.contains("my.toml"), "{e}");
        let e = Policy::load(Path::new("no/such/policy.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no/such/policy.toml"), "{e}");
    }

    #[test]
    fn a_model_dir_without_policy_gets_the_builtin() {
        let dir = std::env::temp_dir().join(format!("xinsheng-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = Policy::for_model_dir(&dir).unwrap();
        assert_eq!(p.source, "built-in");
        std::fs::write(
            dir.join(POLICY_FILE),
            with("route = \"inquiry\"", "route = \"faq\""),
        )
        .unwrap();
        let p = Policy::for_model_dir(&dir).unwrap();
        assert_eq!(p.grade(Grade::C).route, "faq");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
