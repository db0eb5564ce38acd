//! `xinsheng train-risk`: fits the learned escalation model ([`super::learned`]) to labeled utterances.
//!
//! Each `--data DIR` (all of `DIR/utterances.jsonl`) and each `--tune DIR` (only its tune split: ids whose
//! last digit is even, see [`super::eval::is_tune`]) is one group. The threshold is chosen by
//! leave-one-group-out cross-validation: every group is scored by a model fitted to the other groups, and
//! the threshold that gives the best escalation F1 of *rules or learned* over those out-of-group scores
//! wins (ties: the higher threshold). The model is then fitted to all rows. Texts are read as the risk
//! rules read them ([`Analyzer::risk_text`]); the rules' own decision comes from the analyzer with no
//! learned model.

use super::eval::{is_tune, read_jsonl, Conversation, EvalError, Utterance};
use super::learned::{f1, train, EscalationModel, TrainOptions};
use crate::analysis::{Analyzer, Request};
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

/// Thresholds tried by the cross-validation.
fn grid() -> Vec<f32> {
    (6..=19).map(|i| i as f32 * 0.05).collect()
}

/// Fits the model; `threshold` fixes the threshold instead of choosing it. Progress goes to stderr.
pub fn fit(
    analyzer: &Analyzer,
    groups: &[Group],
    opts: &TrainOptions,
    threshold: Option<f32>,
    sources: &[PathBuf],
    excluded: &[String],
) -> Result<EscalationModel, String> {
    let mut texts = Vec::new();
    let mut gold = Vec::new();
    let mut rules = Vec::new();
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
            texts.push(analyzer.risk_text(&u.text));
            gold.push(u.escalate);
            rules.push(a.risk.escalate);
            of_group.push(gi);
        }
    }
    if groups.len() < 2 || !gold.iter().any(|&g| g) || gold.iter().all(|&g| g) {
        return Err("need at least two groups and both escalated and calm rows".into());
    }
    let mut oof = vec![0f32; texts.len()];
    for gi in 0..groups.len() {
        let (mut tr_t, mut tr_y) = (Vec::new(), Vec::new());
        for i in 0..texts.len() {
            if of_group[i] != gi {
                tr_t.push(texts[i].as_str());
                tr_y.push(gold[i]);
            }
        }
        let m = train(&tr_t, &tr_y, opts, 0.5, Value::Null);
        for i in (0..texts.len()).filter(|&i| of_group[i] == gi) {
            oof[i] = m.score(&texts[i]).score;
        }
        eprintln!(
            "cross-validation {}/{}: {} held out",
            gi + 1,
            groups.len(),
            groups[gi].name
        );
    }
    let rules_f1 = f1(&gold, &rules);
    let mut table = Vec::new();
    let mut best = (f64::MIN, 0.5f32);
    for t in grid() {
        let learned: Vec<bool> = oof.iter().map(|&p| p >= t).collect();
        let either: Vec<bool> = rules.iter().zip(&learned).map(|(r, l)| *r || *l).collect();
        let (fl, fe) = (f1(&gold, &learned), f1(&gold, &either));
        if fe >= best.0 {
            best = (fe, t);
        }
        table.push(json!({"threshold": round2(t), "learned_f1": round4(fl), "rules_or_learned_f1": round4(fe)}));
    }
    let chosen = threshold.unwrap_or(best.1);
    let all: Vec<&str> = texts.iter().map(String::as_str).collect();
    let training = json!({
        "command": "scripts/train_risk.sh (xinsheng train-risk; README, \"The learned escalation model\")",
        "sources": sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "groups": groups.iter().map(|g| json!({"name": g.name, "rows": g.rows.len()})).collect::<Vec<_>>(),
        "rows": texts.len(),
        "left_out_as_copies_of_evaluation_texts": excluded,
        "escalated": gold.iter().filter(|&&g| g).count(),
        "options": opts,
        "cross_validation": {
            "how": "leave one group out; rules = the analyzer's rules alone (fitted to these rows, so optimistic)",
            "rules_f1": round4(rules_f1),
            "table": table,
        },
        "threshold": if threshold.is_some() { "given" } else { "chosen by cross-validation" },
    });
    Ok(train(&all, &gold, opts, round2(chosen) as f32, training))
}

fn round2(x: f32) -> f64 {
    (x as f64 * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
