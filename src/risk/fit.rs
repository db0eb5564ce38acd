//! `xinsheng train-risk`: fits a learned risk model ([`super::learned`]) to labeled utterances — the
//! escalation model (target: `escalate`) or the complaint model (target: priority A or B).
//!
//! Each `--data DIR` (all of `DIR/utterances.jsonl`) and each `--tune DIR` (only its tune split: ids whose
//! last digit is even, see [`super::eval::is_tune`]) is one group. The threshold is chosen by
//! leave-one-group-out cross-validation: every group is scored by a model fitted to the other groups, and
//! the thresholds that score best over those out-of-group scores win (ties: the higher threshold): for the
//! escalation model the escalation F1 of *rules or learned*; for the complaint model the priority accuracy
//! after it moves C to B (score >= threshold) and B to C (score < lower) where no rule fired. The model is
//! then fitted to all rows. Texts are read as the risk rules read them ([`Analyzer::risk_text`]); the
//! rules' own decisions come from the analyzer as given (the caller leaves out the model being trained, and
//! for the complaint model keeps the escalation model, which acts first).

use super::eval::{is_tune, read_jsonl, Conversation, EvalError, Utterance};
use super::learned::{f1, train, NgramModel, TrainOptions};
use super::policy::Grade;
use crate::analysis::{Analysis, Analyzer, Request};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A training row whose character trigrams overlap an evaluation text at least this much (Dice) is a
/// copy of it and is left out (`--exclude-near`).
pub const NEAR_DICE: f64 = 0.5;

/// One group of training rows.
pub struct Group {
    pub dir: PathBuf,
    pub name: String,
    pub rows: Vec<Utterance>,
}

/// Reads `DIR/utterances.jsonl` (all rows, or only the tune split).
pub fn group(dir: &Path, tune_only: bool) -> Result<Group, EvalError> {
    let rows: Vec<Utterance> = read_jsonl(&dir.join("utterances.jsonl"))?;
    let rows = if tune_only {
        rows.into_iter()
            .filter(|u| is_tune(&u.id) == Some(true))
            .collect()
    } else {
        rows
    };
    Ok(Group {
        dir: dir.to_path_buf(),
        name: format!(
            "{}{}",
            dir.display(),
            if tune_only { " (tune split)" } else { "" }
        ),
        rows,
    })
}

fn trigrams(text: &str) -> HashSet<String> {
    let c: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    c.windows(3).map(|w| w.iter().collect()).collect()
}

fn dice(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

/// The evaluation texts of `dir` (utterances, and customer turns of conversations when there is a
/// conversations.jsonl) that are not training rows themselves (`train_ids`: ids in `groups` read from it).
pub fn evaluation_texts(dir: &Path, groups: &[Group]) -> Result<Vec<String>, EvalError> {
    let train_ids: HashSet<&str> = groups
        .iter()
        .filter(|g| g.dir == dir)
        .flat_map(|g| g.rows.iter().map(|u| u.id.as_str()))
        .collect();
    let mut out: Vec<String> = read_jsonl::<Utterance>(&dir.join("utterances.jsonl"))?
        .into_iter()
        .filter(|u| !train_ids.contains(u.id.as_str()))
        .map(|u| u.text)
        .collect();
    let conv = dir.join("conversations.jsonl");
    if conv.exists() {
        for c in read_jsonl::<Conversation>(&conv)? {
            out.extend(
                c.turns
                    .into_iter()
                    .filter(|t| t.speaker == "customer")
                    .map(|t| t.text),
            );
        }
    }
    Ok(out)
}

/// Drops the training rows that copy an evaluation text (trigram Dice >= [`NEAR_DICE`]); returns
/// their ids.
pub fn drop_near(groups: &mut [Group], eval_texts: &[String]) -> Vec<String> {
    let ev: Vec<HashSet<String>> = eval_texts.iter().map(|t| trigrams(t)).collect();
    let mut dropped = Vec::new();
    for g in groups.iter_mut() {
        g.rows.retain(|u| {
            let t = trigrams(&u.text);
            let near = ev.iter().any(|e| dice(&t, e) >= NEAR_DICE);
            if near {
                dropped.push(u.id.clone());
            }
            !near
        });
    }
    dropped
}

/// What a model learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// `escalate` (risk_model.json)
    Escalate,
    /// priority A or B (complaint_model.json)
    Complaint,
}

/// The complaint model's change to a priority where no rule fired (see [`super::assess_with`]).
fn adjusted(grade: Grade, untouched: bool, p: f32, t: f32, lower: Option<f32>) -> Grade {
    match grade {
        Grade::C if untouched && p >= t => Grade::B,
        Grade::B if untouched && lower.is_some_and(|lo| p < lo) => Grade::C,
        g => g,
    }
}

/// Thresholds tried by the cross-validation.
fn grid() -> Vec<f32> {
    (6..=19).map(|i| i as f32 * 0.05).collect()
}

/// Fits the model; `threshold` fixes the threshold instead of choosing it. Progress goes to stderr.
pub fn fit(
    analyzer: &Analyzer,
    groups: &[Group],
    opts: &TrainOptions,
    target: Target,
    threshold: Option<f32>,
    sources: &[PathBuf],
    excluded: &[String],
) -> Result<NgramModel, String> {
    let mut texts = Vec::new();
    let mut inputs: Vec<Vec<f32>> = Vec::new();
    let mut gold = Vec::new();
    let mut rules = Vec::new();
    // The complaint model: gold priority, the rules' grade, and whether no rule fired.
    let mut priority: Vec<(Grade, Grade, bool)> = Vec::new();
    let mut of_group = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let reqs: Vec<Request> = g
            .rows
            .iter()
            .map(|u| Request {
                text: Some(u.text.clone()),
                ..Default::default()
            })
            .collect();
        for (u, a) in g.rows.iter().zip(analyzer.analyze_batch(&reqs)) {
            let a = a.map_err(|e| format!("{} row {}: {e}", g.name, u.id))?;
            let gold_grade = Grade::parse(&u.priority)
                .ok_or_else(|| format!("{} row {}: priority must be A, B or C", g.name, u.id))?;
            texts.push(analyzer.risk_text(&u.text));
            inputs.push(opts.signals.iter().map(|name| signal(&a, name)).collect());
            match target {
                Target::Escalate => {
                    gold.push(u.escalate);
                    rules.push(a.risk.escalate);
                }
                Target::Complaint => {
                    gold.push(gold_grade != Grade::C);
                    rules.push(a.risk.grade() != Grade::C);
                }
            }
            priority.push((gold_grade, a.risk.grade(), a.risk.evidence.is_empty()));
            of_group.push(gi);
        }
    }
    if groups.len() < 2 || !gold.iter().any(|&g| g) || gold.iter().all(|&g| g) {
        return Err(
            "need at least two groups and rows of both kinds (e.g. escalated and calm)".into(),
        );
    }
    let mut oof = vec![0f32; texts.len()];
    for gi in 0..groups.len() {
        let (mut tr_t, mut tr_x, mut tr_y) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..texts.len() {
            if of_group[i] != gi {
                tr_t.push(texts[i].as_str());
                tr_x.push(inputs[i].clone());
                tr_y.push(gold[i]);
            }
        }
        let m = train(&tr_t, &tr_x, &tr_y, opts, 0.5, Value::Null);
        for i in (0..texts.len()).filter(|&i| of_group[i] == gi) {
            oof[i] = m.score(&texts[i], &named(&opts.signals, &inputs[i])).score;
        }
        eprintln!(
            "cross-validation {}/{}: {} held out",
            gi + 1,
            groups.len(),
            groups[gi].name
        );
    }
    let rules_f1 = f1(&gold, &rules);
    let accuracy = |t: f32, lower: Option<f32>| {
        let ok = priority
            .iter()
            .zip(&oof)
            .filter(|((g, r, untouched), &p)| adjusted(*r, *untouched, p, t, lower) == *g)
            .count();
        ok as f64 / priority.len() as f64
    };
    let mut table = Vec::new();
    let mut best = (f64::MIN, 0.5f32, None);
    for t in grid() {
        let learned: Vec<bool> = oof.iter().map(|&p| p >= t).collect();
        let either: Vec<bool> = rules.iter().zip(&learned).map(|(r, l)| *r || *l).collect();
        let (fl, fe) = (f1(&gold, &learned), f1(&gold, &either));
        match target {
            Target::Escalate => {
                if fe >= best.0 {
                    best = (fe, t, None);
                }
                table.push(json!({"threshold": round2(t), "learned_f1": round4(fl),
                                  "rules_or_learned_f1": round4(fe)}));
            }
            Target::Complaint => {
                let mut row = json!({"threshold": round2(t), "learned_f1": round4(fl)});
                for lower in [
                    None,
                    Some(0.05),
                    Some(0.1),
                    Some(0.15),
                    Some(0.2),
                    Some(0.25),
                    Some(0.3),
                ] {
                    let acc = accuracy(t, lower);
                    // Ties: the higher threshold, then the less intrusive (no or a lower) `lower`.
                    if acc > best.0 || (acc == best.0 && t > best.1) {
                        best = (acc, t, lower);
                    }
                    let key = lower.map_or("priority_accuracy".to_string(), |lo| {
                        format!("priority_accuracy_lower_{}", round2(lo))
                    });
                    row[key] = json!(round4(acc));
                }
                table.push(row);
            }
        }
    }
    let chosen = threshold.unwrap_or(best.1);
    let lower = if threshold.is_some() { None } else { best.2 };
    let all: Vec<&str> = texts.iter().map(String::as_str).collect();
    let training = json!({
        "command": "scripts/train_risk.sh (xinsheng train-risk; README, \"The learned risk models\")",
        "sources": sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "groups": groups.iter().map(|g| json!({"name": g.name, "rows": g.rows.len()})).collect::<Vec<_>>(),
        "rows": texts.len(),
        "left_out_as_copies_of_evaluation_texts": excluded,
        "target": target,
        "positive": gold.iter().filter(|&&g| g).count(),
        "options": opts,
        "cross_validation": {
            "how": "leave one group out; rules = the analyzer's decisions without this model (its phrase lists were fitted to these rows, so optimistic)",
            "rules_f1": round4(rules_f1),
            "rules_priority_accuracy": round4(accuracy(2.0, None)),
            "table": table,
        },
        "threshold": if threshold.is_some() { "given" } else { "chosen by cross-validation" },
    });
    let mut model = train(&all, &inputs, &gold, opts, round2(chosen) as f32, training);
    model.lower = lower.map(|x| round2(x) as f32);
    Ok(model)
}

/// A model score of an analysis, as the risk engine sees it ([`super::ModelSignals`]).
fn signal(a: &Analysis, name: &str) -> f32 {
    match name {
        "anger" => a.anger,
        _ => a
            .sentiment
            .as_ref()
            .and_then(|s| s.scores.get(name))
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as f32,
    }
}

fn named<'a>(names: &'a [String], values: &[f32]) -> Vec<(&'a str, f32)> {
    names
        .iter()
        .map(String::as_str)
        .zip(values.iter().copied())
        .collect()
}

pub(crate) fn round2(x: f32) -> f64 {
    (x as f64 * 100.0).round() / 100.0
}

pub(crate) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
