//! The analysis of one text or conversation (the contract in DESIGN.md): the model's heads, risk,
//! keywords and masked text. [`Analyzer`] owns the model and the text resources; it is `Send + Sync`.
//!
//! The model sees the normalized text ([`crate::text::normalize`]), not masked: masking replaces the
//! digits and names the model never learned anything from, and the training data is not masked either.
//! `masked_text` is the caller's original text with PII masked.

use crate::model::config::ModelKind;
use crate::model::{HeadProbs, Model, ModelError};
use crate::risk::history::CustomerState;
use crate::risk::history::{Contact, StoreText};
use crate::risk::learned::{self, NgramModel};
use crate::risk::policy::{NegativeTurn, Policy};
use crate::risk::{self, ModelSignals, Risk};
use crate::text::{mask_with, normalize, KeywordExtractor, MaskOptions};
use candle_core::Device;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// Longest accepted text, in characters (longer texts are an input error, not silently cut).
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Keywords per analysis.
pub const KEYWORDS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("text is empty")]
    EmptyText,
    #[error("text has {0} characters; the limit is {MAX_TEXT_CHARS}")]
    TooLong(usize),
    #[error("request needs `text` or a non-empty `turns` list")]
    NoInput,
    #[error("request has both `text` and `turns`; send one of them (a text, or a conversation)")]
    TextAndTurns,
    #[error("turn {0}: speaker must be \"customer\" or \"agent\"")]
    BadSpeaker(usize),
    #[error(transparent)]
    Model(#[from] ModelError),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Turn {
    pub speaker: String,
    pub text: String,
}

/// One thing to analyze: a text, or a conversation (`turns`).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Request {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "crate::json_object::option_vec")]
    pub turns: Option<Vec<Turn>>,
    /// The customer this contact belongs to: with it, the contact is stored in the customer history and
    /// the analysis gains `customer` (see [`crate::risk::history`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

impl Request {
    pub fn text(t: impl Into<String>) -> Self {
        Self {
            text: Some(t.into()),
            turns: None,
            customer_id: None,
        }
    }

    /// CLI input: a JSON object with `text` or `turns` (a request, which must then be well-formed),
    /// otherwise the input is the text itself.
    pub fn from_cli_input(input: &str) -> Result<Self, String> {
        let trimmed = input.trim();
        if trimmed.starts_with('{') {
            let parsed = serde_json::from_str::<serde_json::Value>(trimmed);
            // A text may start with a brace (`{商品}很差`); broken JSON that names a request's fields is a
            // broken request, not a text to analyze.
            if let Err(e) = &parsed {
                if trimmed.contains("\"text\"") || trimmed.contains("\"turns\"") {
                    return Err(format!(
                        "the input looks like a JSON request but is not valid JSON: {e}"
                    ));
                }
            }
            if let Ok(serde_json::Value::Object(fields)) = parsed {
                if fields.contains_key("text") || fields.contains_key("turns") {
                    let r = serde_json::from_value::<Request>(serde_json::Value::Object(fields))
                        .map_err(|e| {
                            format!("the input is a JSON request, but not a valid one: {e}")
                        })?;
                    if r.text.is_none() && r.turns.is_none() {
                        return Err("the JSON request has neither `text` nor `turns`".into());
                    }
                    // Refused before the model loads, with the message the server gives.
                    if r.text.is_some() && r.turns.as_ref().is_some_and(|t| !t.is_empty()) {
                        return Err(AnalyzeError::TextAndTurns.to_string());
                    }
                    return Ok(r);
                }
            }
        }
        if crate::text::normalize::is_blank(trimmed) {
            return Err("no text given (pass it as an argument or on standard input)".into());
        }
        Ok(Self::text(trimmed))
    }
}

impl Request {
    /// Characters the model reads for this request, the measure of the server's `--max-request-chars`:
    /// the text, or a conversation's turns (see [`conversation_chars`]).
    pub fn model_chars(&self) -> usize {
        match self.turns.as_deref().filter(|t| !t.is_empty()) {
            Some(turns) => conversation_chars(turns),
            None => self.text.as_deref().map_or(0, chars_for_model),
        }
    }
}

/// Characters the model reads for a conversation: every turn, and the customer's turns once more (the
/// model also reads them joined, for the customer's overall mood; all turns when none is the customer's).
pub fn conversation_chars(turns: &[Turn]) -> usize {
    let (mut all, mut customer, mut any_customer) = (0, 0, false);
    for t in turns {
        let n = chars_for_model(&t.text);
        all += n;
        if t.speaker == "customer" {
            customer += n;
            any_customer = true;
        }
    }
    all + if any_customer { customer } else { all }
}

/// A text's characters; one over [`MAX_TEXT_CHARS`] counts nothing (it is refused before the model).
fn chars_for_model(text: &str) -> usize {
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        0
    } else {
        n
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelScore {
    pub label: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sentiment {
    pub label: String,
    pub score: f64,
    pub scores: serde_json::Map<String, serde_json::Value>,
    /// Set when a rule changed the model's reading, e.g. `sarcasm: 效率可真高` (ironic praise followed by
    /// a complaint: positive and negative swapped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// One analysis (DESIGN.md contract). Conversation fields are present only for conversations; `labels`
/// only for a plain Hugging Face classifier.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emotion: Option<LabelScore>,
    pub categories: Vec<LabelScore>,
    pub category_scores: serde_json::Map<String, serde_json::Value>,
    pub risk: Risk,
    pub keywords: Vec<String>,
    pub masked_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<LabelScore>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turns: Option<Vec<Analysis>>,
    /// Customer turns' sentiment as positive − negative, in turn order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trajectory: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff_turn: Option<Option<usize>>,
    /// Agent turns that count as complaint evidence (conversations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_evidence: Option<Vec<AgentEvidence>>,
    /// The customer's history after this contact (only with `customer_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerState>,
    /// Probability of the emotion `anger` (0 without an emotion head); for the conversation rules.
    #[serde(skip)]
    pub anger: f32,
    /// Set when the text was longer than the model's window: the number of overlapping windows it was
    /// read in (their probabilities aggregated; nothing is truncated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<usize>,
}

impl Analysis {
    /// Negative probability (0 without a sentiment head).
    pub fn negative(&self) -> f32 {
        self.sentiment
            .as_ref()
            .and_then(|s| s.scores.get("negative"))
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as f32
    }

    /// This analysis as a stored contact (never the raw text; the masked text only when asked).
    ///
    /// A contact is negative when the model reads it negative (`history.negative_threshold`) or when the
    /// rules escalated it (a threat, a safety problem, …: [`risk::Risk::escalated_by_rules`]), so a calm-sounding
    /// "我明天就去12315" keeps the customer's run of negative contacts going instead of resetting it. Its
    /// `risk_score` is the contact's own score, taken before [`Analysis::set_customer`] adds the history's
    /// `repeat_contact` (the rolling score must not feed on itself).
    pub fn contact(&self, policy: &Policy, store_text: StoreText) -> Contact {
        let negative =
            self.negative() >= policy.history.negative_threshold || self.risk.escalated_by_rules();
        Contact {
            at_ms: risk::history::now_ms(),
            sentiment: self
                .sentiment
                .as_ref()
                .map_or_else(|| "unknown".to_string(), |s| s.label.clone()),
            negative,
            categories: self.categories.iter().map(|c| c.label.clone()).collect(),
            priority: self.risk.priority.to_string(),
            risk_score: f64::from(self.risk.score),
            masked_text: match store_text {
                StoreText::None => None,
                StoreText::Masked => Some(self.masked_text.clone()),
            },
            source: None,
        }
    }

    /// Adds the customer's state after this contact, and lets a high-risk customer raise the risk. A
    /// conversation that escalates only because of the history hands off at its first customer turn.
    pub fn set_customer(&mut self, state: CustomerState, policy: &Policy) {
        risk::apply_customer(&mut self.risk, &state, policy);
        self.customer = Some(state);
        if let (true, Some(None), Some(turns)) =
            (self.risk.escalate, self.handoff_turn, &self.turns)
        {
            let first = turns
                .iter()
                .position(|t| t.speaker.as_deref() == Some("customer"));
            self.handoff_turn = Some(first);
        }
    }
}

pub struct Analyzer {
    pub model: Model,
    keywords: KeywordExtractor,
    pub batch_size: usize,
    /// What masking keeps (allow-list) and masks (kinds): `masked_text`, keywords and risk evidence.
    pub mask_options: MaskOptions,
    /// Risk rules (the model directory's `policy.toml`, the built-in policy, or `--policy`).
    pub policy: Arc<Policy>,
    /// The learned escalation model (the model directory's `risk_model.json`), if any.
    pub escalation_model: Option<Arc<NgramModel>>,
    /// The learned complaint model (the model directory's `complaint_model.json`), if any.
    pub complaint_model: Option<Arc<NgramModel>>,
}

/// Scores are reported with four decimals (as f64, so JSON shows `0.9749`, not `0.9749000072479248`).
fn round4(x: f32) -> f64 {
    (x as f64 * 10_000.0).round() / 10_000.0
}

/// A probability distribution with four decimals that still sums to exactly 1: each probability is rounded
/// in ten-thousandths, and what rounding gained or lost goes to (or comes from) the largest one. Rounding
/// each on its own made a quarter of the sentiment readings sum to 0.9999 or 1.0001.
fn round4_distribution(p: &[f32]) -> Vec<f64> {
    let mut units: Vec<i64> = p
        .iter()
        .map(|&x| (x as f64 * 10_000.0).round() as i64)
        .collect();
    let largest = p
        .iter()
        .enumerate()
        .fold(0, |b, (i, &x)| if x > p[b] { i } else { b });
    let residual = 10_000 - units.iter().sum::<i64>();
    if let Some(u) = units.get_mut(largest) {
        *u += residual;
    }
    units.into_iter().map(|u| u as f64 / 10_000.0).collect()
}

impl Analyzer {
    /// Loads the model and its policy (`DIR/policy.toml`, or the built-in policy when there is none).
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        let policy = Policy::for_model_dir(dir).map_err(|e| ModelError::Invalid {
            file: dir.join(risk::policy::POLICY_FILE).display().to_string(),
            msg: e.to_string(),
        })?;
        let learned = |file: &str| {
            NgramModel::for_model_dir(dir, file)
                .map(|m| m.map(Arc::new))
                .map_err(|e| ModelError::Invalid {
                    file: dir.join(file).display().to_string(),
                    msg: e.to_string(),
                })
        };
        let escalation_model = learned(learned::ESCALATION_FILE)?;
        let complaint_model = learned(learned::COMPLAINT_FILE)?;
        Ok(Self {
            model: Model::load(dir, device)?,
            keywords: KeywordExtractor::builtin(),
            batch_size: 32,
            mask_options: MaskOptions::default(),
            policy: Arc::new(policy),
            escalation_model,
            complaint_model,
        })
    }

    /// The text the risk rules and the learned escalation model read: normalized, PII masked.
    pub fn risk_text(&self, text: &str) -> String {
        self.mask(&normalize(text))
    }

    /// Masks PII in `text` with [`Analyzer::mask_options`].
    pub fn mask(&self, text: &str) -> String {
        mask_with(text, &self.mask_options)
    }

    /// Analyzes one request.
    pub fn analyze(&self, req: &Request) -> Result<Analysis, AnalyzeError> {
        self.analyze_batch(std::slice::from_ref(req))
            .pop()
            .expect("one result per request")
    }

    /// Analyzes many requests with one batched model pass; one result per request, in order.
    pub fn analyze_batch(&self, reqs: &[Request]) -> Vec<Result<Analysis, AnalyzeError>> {
        let prepared: Vec<Result<Prepared, AnalyzeError>> =
            reqs.par_iter().map(|r| self.prepare(r)).collect();
        // One model pass over every text of every request (length-sorted inside predict_many).
        let ids: Vec<Vec<u32>> = prepared
            .iter()
            .flat_map(|p| p.as_ref().map(|p| p.ids.clone()).unwrap_or_default())
            .collect();
        let mut probs = match self.model.predict_many(&ids, self.batch_size) {
            Ok(p) => p.into_iter(),
            Err(e) => {
                let msg = e.to_string();
                return reqs
                    .iter()
                    .map(|_| Err(AnalyzeError::Model(ModelError::Device(msg.clone()))))
                    .collect();
            }
        };
        prepared
            .into_iter()
            .map(|p| {
                p.map(|p| {
                    let mine: Vec<HeadProbs> = probs.by_ref().take(p.ids.len()).collect();
                    (p, mine)
                })
            })
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|job| job.map(|(p, mine)| self.finish(p, &mine)))
            .collect()
    }

    /// The first half of [`Analyzer::analyze`] for a pipelined server: checks the request, normalizes
    /// and encodes its texts (CPU work, no model). The model then runs on [`Prepared::ids`] (in any
    /// batching), and [`Analyzer::finish`] builds the analysis from the probabilities.
    pub fn prepare(&self, req: &Request) -> Result<Prepared, AnalyzeError> {
        let mut texts = Vec::new();
        let plan = plan(req, &mut texts)?;
        let normalized: Vec<String> = texts.iter().map(|t| normalize(t)).collect();
        // A conversation's last text (all turns joined) is only masked, never run through the model.
        let model_texts = match plan {
            Plan::Conversation { all, .. } => all,
            Plan::Text(_) => normalized.len(),
        };
        let (ids, windows) = self
            .model
            .encode_windows(normalized[..model_texts].iter().map(String::as_str));
        Ok(Prepared {
            plan,
            texts,
            normalized,
            ids,
            windows,
        })
    }

    /// The second half: the analysis from the model's probabilities for `prepared.ids` (same order).
    pub fn finish(&self, prepared: Prepared, probs: &[HeadProbs]) -> Analysis {
        let Prepared {
            plan,
            texts,
            normalized,
            windows,
            ..
        } = prepared;
        // Per model text: its windows' probabilities aggregated (a text that fits has one window).
        let per_text = self.model.combine_windows(probs, &windows);
        let one = |i: usize, speaker: Option<&str>| {
            let empty = Cow::Owned(HeadProbs::new());
            let p = per_text.get(i).unwrap_or(&empty);
            let n = windows.get(i).copied().unwrap_or(1);
            let mut a = self.single(&texts[i], &normalized[i], p, speaker);
            a.chunks = (n > 1).then_some(n);
            a
        };
        match plan {
            Plan::Text(i) => one(i, None),
            Plan::Conversation {
                turns,
                customer,
                all,
            } => {
                // Risk comes from the customer's side only: an agent turn ("您可以拨打12315") carries
                // none, and neither does a conversation without customer turns.
                let per_turn: Vec<Analysis> = turns
                    .iter()
                    .map(|(i, s)| {
                        let mut a = one(*i, Some(s.as_str()));
                        if s != "customer" {
                            a.risk = self.no_risk();
                        }
                        a
                    })
                    .collect();
                let mut overall = one(customer, None);
                if !per_turn
                    .iter()
                    .any(|t| t.speaker.as_deref() == Some("customer"))
                {
                    overall.risk = self.no_risk();
                }
                overall.masked_text = self.mask(&texts[all]);
                self.conversation(overall, per_turn)
            }
        }
    }

    /// The risk of a text with no signal at all (C, no reasons): where a risk is not read.
    fn no_risk(&self) -> risk::Risk {
        risk::assess("", ModelSignals::default(), &self.policy)
    }

    fn single(
        &self,
        original: &str,
        normalized: &str,
        probs: &HeadProbs,
        speaker: Option<&str>,
    ) -> Analysis {
        let cfg = &self.model.config;
        // Each head blended with the model's n-gram model for it, when it has one.
        let blended;
        let probs = if self.model.has_ngrams() {
            let mut p = probs.clone();
            self.model.blend(normalized, &mut p);
            blended = p;
            &blended
        } else {
            probs
        };
        let mut a = Analysis {
            sentiment: None,
            emotion: None,
            categories: Vec::new(),
            category_scores: serde_json::Map::new(),
            risk: self.no_risk(),
            // Keywords and risk evidence come from masked text, so they never carry PII.
            keywords: self.keywords.extract(&self.mask(normalized), KEYWORDS),
            masked_text: self.mask(original),
            labels: None,
            speaker: speaker.map(str::to_string),
            turns: None,
            trajectory: None,
            handoff_turn: None,
            agent_evidence: None,
            customer: None,
            anger: 0.0,
            chunks: None,
        };
        let masked_normalized = self.mask(normalized);
        let sarcasm = risk::sarcasm(&masked_normalized, &self.policy);
        let mut signals = ModelSignals::default();
        for (head, p) in cfg.heads.iter().zip(probs) {
            let best = p
                .iter()
                .enumerate()
                .fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b });
            match head.name.as_str() {
                "sentiment" => {
                    let mut p = p.clone();
                    let mut best = best;
                    let mut rule = None;
                    let neg = head.labels.iter().position(|l| l == "negative");
                    let pos = head.labels.iter().position(|l| l == "positive");
                    if let (Some(praise), Some(n), Some(q)) = (&sarcasm, neg, pos) {
                        if p[q] > p[n] {
                            p.swap(q, n);
                            rule = Some(format!("sarcasm: {praise}"));
                            best = p.iter().enumerate().fold((0, f32::MIN), |b, (i, &x)| {
                                if x > b.1 {
                                    (i, x)
                                } else {
                                    b
                                }
                            });
                        }
                    }
                    signals.negative = neg.map_or(p[0], |n| p[n]);
                    signals.positive = pos.map_or(0.0, |q| p[q]);
                    let rounded = round4_distribution(&p);
                    a.sentiment = Some(Sentiment {
                        label: head.labels[best.0].clone(),
                        score: rounded[best.0],
                        scores: head
                            .labels
                            .iter()
                            .zip(&rounded)
                            .map(|(l, &x)| (l.clone(), x.into()))
                            .collect(),
                        rule,
                    });
                }
                "emotion" => {
                    if let Some(i) = head.labels.iter().position(|l| l == "anger") {
                        signals.anger = p[i];
                        a.anger = p[i];
                    }
                    a.emotion = Some(LabelScore {
                        label: head.labels[best.0].clone(),
                        score: round4(best.1),
                    });
                }
                "categories" => {
                    let mut over: Vec<LabelScore> = Vec::new();
                    for (j, (l, &x)) in head.labels.iter().zip(p).enumerate() {
                        a.category_scores.insert(l.clone(), round4(x).into());
                        if x >= head.threshold(j) {
                            over.push(LabelScore {
                                label: l.clone(),
                                score: round4(x),
                            });
                        }
                    }
                    over.sort_by(|x, y| y.score.total_cmp(&x.score));
                    signals.any_category = !over.is_empty();
                    a.categories = over;
                }
                _ => {
                    let mut labels: Vec<LabelScore> = head
                        .labels
                        .iter()
                        .zip(p)
                        .map(|(l, &x)| LabelScore {
                            label: l.clone(),
                            score: round4(x),
                        })
                        .collect();
                    labels.sort_by(|x, y| y.score.total_cmp(&x.score));
                    a.labels = Some(labels);
                }
            }
        }
        // A plain HF classifier has no sentiment head; its risk comes from the phrase rules alone.
        if cfg.kind == ModelKind::HfClassifier {
            signals = ModelSignals::default();
        }
        a.risk = risk::assess_with(
            &masked_normalized,
            signals,
            &self.policy,
            risk::Learned {
                escalation: self.escalation_model.as_deref(),
                complaint: self.complaint_model.as_deref(),
            },
        );
        a
    }

    /// Combines per-turn analyses into the conversation analysis.
    ///
    /// Risk: the customer's side (all customer turns joined) plus every reason a customer turn triggered
    /// (agent turns never add threats: "您可以拨打12315" is not the customer's threat). Agent turns count
    /// as `service_attitude` evidence when they match `conversation.agent_rude`. `handoff_turn` is the
    /// first customer turn that asks for a human, escalates, shows anger rising (by `anger_rise` to at
    /// least `anger_min`) or an `agitation` phrase, or is the `negative_run`-th negative customer turn in
    /// a row.
    fn conversation(&self, mut overall: Analysis, turns: Vec<Analysis>) -> Analysis {
        let rules = &self.policy.conversation;
        let mut trajectory = Vec::new();
        let mut handoff = None;
        // The first escalated customer turn: the handoff when no trigger came, which happens only when the
        // learned model alone escalated and `handoff_on_learned` is off (an escalated conversation always
        // hands off).
        let mut learned_turn = None;
        let mut negative_run = 0;
        let mut last_anger: Option<f32> = None;
        let mut rude: Option<(usize, String)> = None;
        for (i, t) in turns.iter().enumerate() {
            if t.speaker.as_deref() != Some("customer") {
                if rude.is_none() {
                    if let Some(p) = rules
                        .agent_rude
                        .iter()
                        .find(|p| t.masked_text.contains(p.as_str()))
                    {
                        rude = Some((i, p.clone()));
                    }
                }
                continue;
            }
            let (neg, pos) = t
                .sentiment
                .as_ref()
                .map(|s| {
                    let g =
                        |k: &str| s.scores.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0) as f32;
                    (g("negative"), g("positive"))
                })
                .unwrap_or((0.0, 0.0));
            let anger = anger_of(t);
            trajectory.push(round4(pos - neg));
            let negative = match rules.negative_turn {
                NegativeTurn::Sentiment => neg >= 0.5,
                NegativeTurn::Complaint => t.risk.grade() <= risk::policy::Grade::B,
            };
            negative_run = if negative { negative_run + 1 } else { 0 };
            let asks_human = rules
                .human_request
                .iter()
                .any(|h| t.masked_text.contains(h.as_str()));
            let anger_rising = last_anger
                .is_some_and(|a| anger >= rules.anger_min && anger - a >= rules.anger_rise);
            last_anger = Some(anger);
            let escalates = t.risk.escalate
                && (rules.handoff_on_learned
                    || t.risk.evidence.iter().any(|e| e.reason != risk::LEARNED));
            if t.risk.escalate && learned_turn.is_none() {
                learned_turn = Some(i);
            }
            if handoff.is_none()
                && (asks_human
                    || escalates
                    || anger_rising
                    || negative_run >= rules.negative_run
                    || rules
                        .agitation
                        .iter()
                        .any(|a| t.masked_text.contains(a.as_str())))
            {
                handoff = Some(i);
            }
        }
        // The conversation's risk also counts what any customer turn triggered.
        for (i, t) in turns.iter().enumerate() {
            if t.speaker.as_deref() != Some("customer") {
                continue;
            }
            for e in &t.risk.evidence {
                let mut e = e.clone();
                if e.source.is_none() && e.phrase.is_none() {
                    e.source = Some(format!("turn {i}"));
                }
                overall.risk.add(e, &self.policy);
            }
            // A turn's grade counts when a rule fired in it; the model's mood alone is judged on the
            // customer's whole side (one short turn read as negative is not a complaint).
            if !t.risk.evidence.is_empty() && t.risk.grade() < overall.risk.grade() {
                overall.risk.set_grade(t.risk.grade(), &self.policy);
            }
            overall.risk.escalate |= t.risk.escalate;
            overall.risk.score = overall.risk.score.max(t.risk.score);
        }
        if let Some((i, phrase)) = rude {
            let floor = round4(rules.agent_rude_score);
            let key = "service_attitude";
            let score = overall
                .category_scores
                .get(key)
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
                .max(floor);
            overall.category_scores.insert(key.into(), score.into());
            overall.categories.retain(|c| c.label != key);
            overall.categories.push(LabelScore {
                label: key.into(),
                score,
            });
            overall
                .categories
                .sort_by(|x, y| y.score.total_cmp(&x.score));
            overall.agent_evidence = Some(vec![AgentEvidence {
                turn: i,
                category: key,
                phrase,
            }]);
            if overall.risk.grade() > risk::policy::Grade::B {
                overall.risk.set_grade(risk::policy::Grade::B, &self.policy);
            }
        }
        overall.trajectory = Some(trajectory);
        overall.handoff_turn = Some(handoff.or(learned_turn));
        overall.turns = Some(turns);
        overall
    }
}

/// An agent turn that counts against the service (`conversation.agent_rude`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgentEvidence {
    pub turn: usize,
    pub category: &'static str,
    pub phrase: String,
}

fn anger_of(a: &Analysis) -> f32 {
    a.anger
}

/// A checked, normalized and encoded request (see [`Analyzer::prepare`]).
pub struct Prepared {
    plan: Plan,
    texts: Vec<String>,
    normalized: Vec<String>,
    /// Token ids of every window the model must see (`[CLS] … [SEP]`, within the model's window); a text
    /// longer than the window has several (see `windows`).
    pub ids: Vec<Vec<u32>>,
    /// How many consecutive entries of `ids` belong to each model text.
    windows: Vec<usize>,
}

enum Plan {
    Text(usize),
    Conversation {
        turns: Vec<(usize, String)>,
        /// The customer's turns joined (the overall sentiment is the customer's).
        customer: usize,
        /// All turns joined (for the masked text).
        all: usize,
    },
}

fn check_text(t: &str) -> Result<(), AnalyzeError> {
    if crate::text::normalize::is_blank(t) {
        return Err(AnalyzeError::EmptyText);
    }
    let n = t.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(AnalyzeError::TooLong(n));
    }
    Ok(())
}

fn plan(r: &Request, texts: &mut Vec<String>) -> Result<Plan, AnalyzeError> {
    // Analyzing one and ignoring the other would silently drop the caller's input.
    if r.text.is_some() && r.turns.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(AnalyzeError::TextAndTurns);
    }
    if let Some(turns) = r.turns.as_ref().filter(|t| !t.is_empty()) {
        for (i, t) in turns.iter().enumerate() {
            if t.speaker != "customer" && t.speaker != "agent" {
                return Err(AnalyzeError::BadSpeaker(i));
            }
            check_text(&t.text)?;
        }
        let mut idx = Vec::new();
        for t in turns {
            idx.push((texts.len(), t.speaker.clone()));
            texts.push(t.text.clone());
        }
        let customer: Vec<&str> = turns
            .iter()
            .filter(|t| t.speaker == "customer")
            .map(|t| t.text.as_str())
            .collect();
        let customer_text = if customer.is_empty() {
            turns
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join("。")
        } else {
            customer.join("。")
        };
        texts.push(customer_text);
        let all = turns
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        texts.push(all);
        return Ok(Plan::Conversation {
            turns: idx,
            customer: texts.len() - 2,
            all: texts.len() - 1,
        });
    }
    match &r.text {
        Some(t) => {
            check_text(t)?;
            texts.push(t.clone());
            Ok(Plan::Text(texts.len() - 1))
        }
        None => Err(AnalyzeError::NoInput),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_input_forms() {
        assert_eq!(
            Request::from_cli_input(" 太差了 ").unwrap(),
            Request::text("太差了")
        );
        let r = Request::from_cli_input(r#"{"turns": [{"speaker": "customer", "text": "在吗"}]}"#)
            .unwrap();
        assert_eq!(r.turns.unwrap().len(), 1);
        // Braces that are not a request are text.
        assert_eq!(
            Request::from_cli_input("{不是JSON").unwrap(),
            Request::text("{不是JSON")
        );
        assert!(Request::from_cli_input("  ").is_err());
        assert!(Request::from_cli_input("\u{200B}\u{FEFF}").is_err());
        // A request that is not well-formed is an error, not text.
        for bad in [
            r#"{"text": null}"#,
            r#"{"turns": "x"}"#,
            r#"{"text": 5}"#,
            r#"{"turns": [{"speaker": "customer"}]}"#,
            // Broken JSON that names a request's fields (a truncated chatbot payload).
            r#"{"turns": [{"speaker":"customer","text":"我要投诉"}"#,
            r#"{"text": "太差了""#,
        ] {
            let e = Request::from_cli_input(bad).unwrap_err();
            assert!(e.contains("JSON request"), "{bad}: {e}");
        }
        assert!(Request::from_cli_input(r#"{"text": "太差了""#)
            .unwrap_err()
            .contains("not valid JSON"));
        // Both `text` and `turns`: refused (as by the server), not one of them silently dropped.
        let both = r#"{"text": "退款", "turns": [{"speaker": "customer", "text": "在吗"}]}"#;
        let e = Request::from_cli_input(both).unwrap_err();
        assert_eq!(e, AnalyzeError::TextAndTurns.to_string());
        let r: Request = serde_json::from_str(both).unwrap();
        assert!(matches!(
            plan(&r, &mut Vec::new()),
            Err(AnalyzeError::TextAndTurns)
        ));
        // An empty `turns` list next to a text is no conversation: the text is analyzed.
        let r = Request::from_cli_input(r#"{"text": "退款", "turns": []}"#).unwrap();
        assert!(plan(&r, &mut Vec::new()).is_ok());
    }

    #[test]
    fn rounded_distributions_sum_to_one() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            let mut p: Vec<f32> = (0..3)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (rng % 1_000_000) as f32 + 1.0
                })
                .collect();
            let sum: f32 = p.iter().sum();
            p.iter_mut().for_each(|x| *x /= sum);
            let r = round4_distribution(&p);
            let units: i64 = r.iter().map(|x| (x * 10_000.0).round() as i64).sum();
            assert_eq!(units, 10_000, "{p:?} → {r:?}");
            for (x, y) in p.iter().zip(&r) {
                assert!((*x as f64 - y).abs() <= 0.00015, "{p:?} → {r:?}");
            }
        }
        // Rounded one by one, these sum to 1.0001; the largest gives back the extra ten-thousandth.
        assert_eq!(
            round4_distribution(&[0.50006, 0.25006, 0.24988]),
            vec![0.5, 0.2501, 0.2499]
        );
    }

    #[test]
    fn model_chars_count_what_the_model_reads() {
        let turn = |speaker: &str, text: &str| Turn {
            speaker: speaker.into(),
            text: text.into(),
        };
        assert_eq!(Request::text("你好吗").model_chars(), 3);
        assert_eq!(
            Request::text("差".repeat(MAX_TEXT_CHARS + 1)).model_chars(),
            0
        );
        // The customer's turns twice (each, and joined); the agent's once.
        let conv = [
            turn("customer", "在吗"),
            turn("agent", "您好"),
            turn("customer", "退款"),
        ];
        assert_eq!(conversation_chars(&conv), 6 + 4);
        // No customer turn: all turns are joined, so all count twice.
        assert_eq!(conversation_chars(&[turn("agent", "您好")]), 4);
        let r = Request {
            text: None,
            turns: Some(conv.to_vec()),
            customer_id: None,
        };
        assert_eq!(r.model_chars(), 10);
    }

    #[test]
    fn plans_check_input() {
        let mut texts = Vec::new();
        for blank in [
            " ",
            "\u{200B}",
            "\u{FEFF}\u{00AD}",
            "\u{0000}\n",
            "\u{2060} \u{200D}",
        ] {
            assert!(
                matches!(
                    plan(&Request::text(blank), &mut texts),
                    Err(AnalyzeError::EmptyText)
                ),
                "{blank:?}"
            );
        }
        assert!(matches!(
            plan(&Request::default(), &mut texts),
            Err(AnalyzeError::NoInput)
        ));
        let long = "差".repeat(MAX_TEXT_CHARS + 1);
        assert!(matches!(
            plan(&Request::text(long), &mut texts),
            Err(AnalyzeError::TooLong(_))
        ));
        let bad = Request {
            customer_id: None,
            text: None,
            turns: Some(vec![Turn {
                speaker: "bot".into(),
                text: "hi".into(),
            }]),
        };
        assert!(matches!(
            plan(&bad, &mut texts),
            Err(AnalyzeError::BadSpeaker(0))
        ));
        assert!(texts.is_empty());
    }
}
