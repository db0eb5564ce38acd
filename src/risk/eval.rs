//! `xinsheng eval-risk`: the risk rules against labeled utterances and conversations.
//!
//! Utterances (JSONL): `{"id", "domain", "text", "sentiment", "categories", "escalate", "priority",
//! "reasons"}`; conversations: `{"id", "domain", "turns", "handoff_turn", "escalate", "priority"}`.
//! Figures are reported for three splits by the last digit of the id: `tune` (even digit: the rows the
//! policy may be tuned on), `holdout` (odd digit: report these) and `all`. Rows whose id has no digit
//! count in `all` only.

use super::policy::{Grade, REASON_CODES};
use crate::analysis::{Analysis, Analyzer, Request, Turn};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{file}: {msg}")]
    Input { file: String, msg: String },
    #[error("{file} line {line}: {msg}")]
    Row {
        file: String,
        line: usize,
        msg: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
pub struct Utterance {
    pub id: String,
    #[serde(default)]
    pub domain: Option<String>,
    pub text: String,
    #[serde(default)]
    pub sentiment: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    pub escalate: bool,
    pub priority: String,
    #[serde(default)]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub domain: Option<String>,
    pub turns: Vec<Turn>,
    pub handoff_turn: Option<usize>,
    pub escalate: bool,
    pub priority: String,
}

pub(crate) fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, EvalError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Input {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(line).map_err(|e| EvalError::Row {
            file: file.clone(),
            line: i + 1,
            msg: e.to_string(),
        })?);
    }
    if out.is_empty() {
        return Err(EvalError::Input {
            file,
            msg: "no rows".into(),
        });
    }
    Ok(out)
}

/// Which split an id belongs to: `Some(true)` tune (last digit even), `Some(false)` holdout (odd).
pub fn is_tune(id: &str) -> Option<bool> {
    id.chars()
        .rev()
        .find_map(|c| c.to_digit(10))
        .map(|d| d % 2 == 0)
}

/// One row's gold and predicted labels.
#[derive(Debug, Clone)]
struct Outcome {
    id: String,
    tune: Option<bool>,
    escalate: (bool, bool),
    priority: (String, &'static str),
    reasons: Option<(Vec<String>, Vec<&'static str>)>,
    sentiment: Option<(String, String)>,
    handoff: Option<(Option<usize>, Option<usize>)>,
    evidence: Vec<String>,
}

fn outcome_of(
    id: &str,
    a: &Analysis,
    escalate: bool,
    priority: &str,
    reasons: Option<Vec<String>>,
    sentiment: Option<String>,
    handoff: Option<Option<usize>>,
) -> Outcome {
    Outcome {
        id: id.to_string(),
        tune: is_tune(id),
        escalate: (escalate, a.risk.escalate),
        priority: (priority.to_string(), a.risk.priority),
        reasons: reasons.map(|r| (r, a.risk.reasons.clone())),
        sentiment: sentiment.map(|s| {
            (
                s,
                a.sentiment
                    .as_ref()
                    .map_or_else(String::new, |p| p.label.clone()),
            )
        }),
        handoff: handoff.map(|h| (h, a.handoff_turn.flatten())),
        evidence: a
            .risk
            .evidence
            .iter()
            .map(|e| match (&e.phrase, &e.source) {
                (Some(p), _) => format!("{}:{p}", e.reason),
                (None, Some(s)) => format!("{}:{s}", e.reason),
                _ => e.reason.to_string(),
            })
            .collect(),
    }
}

fn ratio(a: usize, b: usize) -> Value {
    if b == 0 {
        Value::Null
    } else {
        json!(((a as f64 / b as f64) * 10_000.0).round() / 10_000.0)
    }
}

fn prf(tp: usize, fp: usize, fn_: usize) -> Value {
    let p = if tp + fp == 0 {
        0.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let r = if tp + fn_ == 0 {
        0.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    let r4 = |x: f64| (x * 10_000.0).round() / 10_000.0;
    json!({"precision": r4(p), "recall": r4(r), "f1": r4(f), "tp": tp, "fp": fp, "fn": fn_})
}

/// Figures over a set of outcomes.
fn figures(rows: &[&Outcome]) -> Value {
    let mut out = Map::new();
    out.insert("rows".into(), json!(rows.len()));
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for o in rows {
        match o.escalate {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
    }
    out.insert("escalation".into(), prf(tp, fp, fn_));
    let grades = ["A", "B", "C"];
    let mut confusion = Map::new();
    let mut right = 0;
    for g in grades {
        let mut row = Map::new();
        for p in grades {
            let n = rows
                .iter()
                .filter(|o| o.priority.0 == g && o.priority.1 == p)
                .count();
            row.insert(p.into(), json!(n));
            if g == p {
                right += n;
            }
        }
        confusion.insert(g.into(), Value::Object(row));
    }
    out.insert(
        "priority".into(),
        json!({"accuracy": ratio(right, rows.len()), "confusion_gold_by_predicted": confusion}),
    );
    let with_reasons: Vec<_> = rows.iter().filter_map(|o| o.reasons.as_ref()).collect();
    if !with_reasons.is_empty() {
        let mut codes = Map::new();
        for c in REASON_CODES {
            let (mut tp, mut fp, mut fn_) = (0, 0, 0);
            for (gold, pred) in &with_reasons {
                let g = gold.iter().any(|x| x == c);
                let p = pred.contains(&c);
                match (g, p) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fn_ += 1,
                    _ => {}
                }
            }
            codes.insert(c.into(), prf(tp, fp, fn_));
        }
        let exact = with_reasons
            .iter()
            .filter(|(g, p)| {
                let mut g: Vec<&str> = g.iter().map(String::as_str).collect();
                let mut p = p.clone();
                g.sort_unstable();
                p.sort_unstable();
                g == p
            })
            .count();
        out.insert(
            "reasons".into(),
            json!({"exact_set_accuracy": ratio(exact, with_reasons.len()), "per_code": codes}),
        );
    }
    let sent: Vec<_> = rows.iter().filter_map(|o| o.sentiment.as_ref()).collect();
    if !sent.is_empty() {
        let right = sent.iter().filter(|(g, p)| g == p).count();
        out.insert(
            "sentiment".into(),
            json!({"accuracy": ratio(right, sent.len()), "rows": sent.len()}),
        );
    }
    let hand: Vec<_> = rows.iter().filter_map(|o| o.handoff).collect();
    if !hand.is_empty() {
        let within = |(g, p): &(Option<usize>, Option<usize>)| match (g, p) {
            (None, None) => true,
            (Some(g), Some(p)) => g.abs_diff(*p) <= 1,
            _ => false,
        };
        let ok = hand.iter().filter(|h| within(h)).count();
        let exact = hand.iter().filter(|(g, p)| g == p).count();
        let gold_some = hand.iter().filter(|(g, _)| g.is_some()).count();
        let early = hand
            .iter()
            .filter(|(g, p)| match (g, p) {
                (Some(g), Some(p)) => p + 1 < *g,
                (None, Some(_)) => true,
                _ => false,
            })
            .count();
        out.insert(
            "handoff".into(),
            json!({"within_1": ratio(ok, hand.len()), "exact": ratio(exact, hand.len()),
                   "conversations": hand.len(), "gold_handoffs": gold_some, "too_early_or_spurious": early}),
        );
    }
    Value::Object(out)
}

fn by_split(rows: &[Outcome]) -> Value {
    let all: Vec<&Outcome> = rows.iter().collect();
    let tune: Vec<&Outcome> = rows.iter().filter(|o| o.tune == Some(true)).collect();
    let hold: Vec<&Outcome> = rows.iter().filter(|o| o.tune == Some(false)).collect();
    json!({"holdout": figures(&hold), "tune": figures(&tune), "all": figures(&all)})
}

fn misses(rows: &[Outcome]) -> Vec<Value> {
    rows.iter()
        .filter(|o| {
            o.escalate.0 != o.escalate.1
                || o.priority.0 != o.priority.1
                || o.handoff.is_some_and(|(g, p)| match (g, p) {
                    (None, None) => false,
                    (Some(g), Some(p)) => g.abs_diff(p) > 1,
                    _ => true,
                })
        })
        .map(|o| {
            json!({"id": o.id, "escalate": [o.escalate.0, o.escalate.1],
                   "priority": [o.priority.0, o.priority.1],
                   "reasons": o.reasons.as_ref().map(|(g, p)| json!([g, p])),
                   "handoff": o.handoff.map(|(g, p)| json!([g, p])),
                   "evidence": o.evidence})
        })
        .collect()
}

/// Runs the evaluation and returns the report.
pub fn run(
    analyzer: &Analyzer,
    utterances: Option<&Path>,
    conversations: Option<&Path>,
    with_misses: bool,
) -> Result<Value, EvalError> {
    let mut report = Map::new();
    report.insert(
        "split".into(),
        json!("tune = ids whose last digit is even (rules may be tuned on these); holdout = odd"),
    );
    report.insert("policy".into(), json!(analyzer.policy.source));
    let mut combined = Vec::new();
    if let Some(path) = utterances {
        let rows: Vec<Utterance> = read_jsonl(path)?;
        for (i, r) in rows.iter().enumerate() {
            if Grade::parse(&r.priority).is_none() {
                return Err(EvalError::Row {
                    file: path.display().to_string(),
                    line: i + 1,
                    msg: format!("priority \"{}\" is not A, B or C", r.priority),
                });
            }
        }
        let reqs: Vec<Request> = rows.iter().map(|r| Request::text(r.text.clone())).collect();
        let mut outcomes = Vec::new();
        for (r, a) in rows.iter().zip(analyzer.analyze_batch(&reqs)) {
            let a = a.map_err(|e| EvalError::Input {
                file: format!("{} (id {})", path.display(), r.id),
                msg: e.to_string(),
            })?;
            outcomes.push(outcome_of(
                &r.id,
                &a,
                r.escalate,
                &r.priority,
                Some(r.reasons.clone()),
                r.sentiment.clone(),
                None,
            ));
        }
        report.insert("utterances".into(), by_split(&outcomes));
        if with_misses {
            report.insert("utterance_misses".into(), json!(misses(&outcomes)));
        }
        combined.extend(outcomes);
    }
    if let Some(path) = conversations {
        let rows: Vec<Conversation> = read_jsonl(path)?;
        let reqs: Vec<Request> = rows
            .iter()
            .map(|r| Request {
                text: None,
                turns: Some(r.turns.clone()),
                customer_id: None,
            })
            .collect();
        let mut outcomes = Vec::new();
        for (r, a) in rows.iter().zip(analyzer.analyze_batch(&reqs)) {
            let a = a.map_err(|e| EvalError::Input {
                file: format!("{} (id {})", path.display(), r.id),
                msg: e.to_string(),
            })?;
            outcomes.push(outcome_of(
                &r.id,
                &a,
                r.escalate,
                &r.priority,
                None,
                None,
                Some(r.handoff_turn),
            ));
        }
        report.insert("conversations".into(), by_split(&outcomes));
        if with_misses {
            report.insert("conversation_misses".into(), json!(misses(&outcomes)));
        }
        combined.extend(outcomes);
    }
    if utterances.is_some() && conversations.is_some() {
        let mut c = by_split(&combined);
        // Handoff and sentiment are per-set figures; the combined view is escalation and priority.
        for split in ["holdout", "tune", "all"] {
            if let Some(o) = c.get_mut(split).and_then(Value::as_object_mut) {
                o.remove("handoff");
                o.remove("sentiment");
                o.remove("reasons");
            }
        }
        report.insert("combined".into(), c);
    }
    Ok(Value::Object(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_last_digit() {
        assert_eq!(is_tune("u-012"), Some(true));
        assert_eq!(is_tune("c7"), Some(false));
        assert_eq!(is_tune("x13a"), Some(false));
        assert_eq!(is_tune("abc"), None);
    }

    #[test]
    fn figures_count_right() {
        let o = |id: &str, e: (bool, bool), p: (&str, &'static str), h| Outcome {
            id: id.into(),
            tune: is_tune(id),
            escalate: e,
            priority: (p.0.into(), p.1),
            reasons: None,
            sentiment: None,
            handoff: Some(h),
            evidence: vec![],
        };
        let rows = [
            o("1", (true, true), ("A", "A"), (Some(2), Some(3))),
            o("2", (true, false), ("B", "C"), (Some(2), None)),
            o("3", (false, true), ("C", "B"), (None, Some(1))),
            o("4", (false, false), ("C", "C"), (None, None)),
        ];
        let refs: Vec<&Outcome> = rows.iter().collect();
        let f = figures(&refs);
        assert_eq!(f["escalation"]["precision"], json!(0.5));
        assert_eq!(f["escalation"]["recall"], json!(0.5));
        assert_eq!(f["priority"]["accuracy"], json!(0.5));
        assert_eq!(
            f["priority"]["confusion_gold_by_predicted"]["B"]["C"],
            json!(1)
        );
        assert_eq!(f["handoff"]["within_1"], json!(0.5));
        assert_eq!(f["handoff"]["exact"], json!(0.25));
        assert_eq!(misses(&rows).len(), 2);
    }
}
