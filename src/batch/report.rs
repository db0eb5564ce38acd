//! The figures of a finished output ([`Stats`], read back from the output file itself, so a resumed run
//! reports on every row exactly once) and the self-contained HTML report: no script, no CDN, charts as
//! inline SVG drawn here.

use super::input::{civil_from_days, days_from_civil};
use super::output::OutputFormat;
use super::{BatchError, Summary};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

/// Rows shown in the highest-risk table.
pub const TOP_RISK_ROWS: usize = 20;
/// Keywords shown per category.
pub const TOP_KEYWORDS: usize = 12;
/// Distinct keywords kept per category before rare ones are pruned (bounded memory on huge inputs).
const KEYWORD_CAP: usize = 20_000;
/// Bad rows quoted in the report.
const ERROR_EXAMPLES: usize = 10;

/// What the report needs of one output row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub row: u64,
    pub id: Option<String>,
    pub date: Option<String>,
    pub error: Option<String>,
    pub sentiment: Option<String>,
    pub emotion: Option<String>,
    pub categories: Vec<String>,
    pub escalate: bool,
    pub priority: Option<String>,
    pub risk_score: f64,
    pub reasons: Vec<String>,
    pub keywords: Vec<String>,
    pub masked_text: String,
}

fn plain(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

fn strings(v: Option<&Value>, key: Option<&str>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| plain(key.map_or(Some(i), |k| i.get(k))))
            .collect(),
        _ => Vec::new(),
    }
}

impl Record {
    /// From a JSONL output row.
    pub fn from_json(
        row: u64,
        m: &Map<String, Value>,
        id: Option<&str>,
        date: Option<&str>,
    ) -> Self {
        let a = m.get("analysis");
        let at = |path: &[&str]| {
            let mut v = a?;
            for p in path {
                v = v.get(*p)?;
            }
            Some(v)
        };
        Record {
            row,
            id: id.and_then(|f| plain(m.get(f))),
            date: date.and_then(|f| plain(m.get(f))),
            error: plain(m.get("error")),
            sentiment: plain(at(&["sentiment", "label"])),
            emotion: plain(at(&["emotion", "label"])),
            categories: strings(at(&["categories"]), Some("label")),
            escalate: at(&["risk", "escalate"]).and_then(Value::as_bool) == Some(true),
            priority: plain(at(&["risk", "priority"])),
            risk_score: at(&["risk", "score"])
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            reasons: strings(at(&["risk", "reasons"]), None),
            keywords: strings(at(&["keywords"]), None),
            masked_text: plain(at(&["masked_text"])).unwrap_or_default(),
        }
    }

    /// From a CSV output row (`get` looks a column up by name).
    fn from_csv(
        row: u64,
        get: impl Fn(&str) -> Option<String>,
        id: Option<&str>,
        date: Option<&str>,
    ) -> Self {
        let list = |c: &str| {
            get(c)
                .map(|s| {
                    s.split(';')
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Record {
            row,
            id: id.and_then(&get),
            date: date.and_then(&get),
            error: get("error"),
            sentiment: get("sentiment"),
            emotion: get("emotion"),
            categories: list("categories"),
            escalate: get("escalate").as_deref() == Some("true"),
            priority: get("priority"),
            risk_score: get("risk_score")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.0),
            reasons: list("reasons"),
            keywords: list("keywords"),
            masked_text: get("masked_text").unwrap_or_default(),
        }
    }
}

/// Keyword counts with a memory cap: past [`KEYWORD_CAP`] entries the rarest are dropped (the top of the
/// list, which is all the report shows, survives).
#[derive(Debug, Clone, Default)]
pub struct KeywordCounts {
    counts: HashMap<String, u64>,
    floor: u64,
}

impl KeywordCounts {
    fn add(&mut self, k: &str) {
        *self.counts.entry(k.to_string()).or_insert(0) += 1;
        if self.counts.len() > KEYWORD_CAP {
            while self.counts.len() > KEYWORD_CAP / 2 {
                self.floor += 1;
                let f = self.floor;
                self.counts.retain(|_, c| *c > f);
            }
        }
    }

    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.counts.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Period {
    pub rows: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    pub escalated: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub rows: u64,
    pub analyzed: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub error_examples: Vec<(u64, Option<String>, String)>,
    pub sentiment: BTreeMap<String, u64>,
    pub emotion: BTreeMap<String, u64>,
    pub categories: BTreeMap<String, u64>,
    pub uncategorized: u64,
    pub priority: BTreeMap<String, u64>,
    pub escalated: u64,
    pub reasons: BTreeMap<String, u64>,
    pub keywords: BTreeMap<String, KeywordCounts>,
    pub top_risk: Vec<Record>,
    /// Analyzed rows per day (days since 1970-01-01).
    pub days: BTreeMap<i64, Period>,
    pub undated: u64,
    pub has_dates: bool,
}

/// The kind of a row error, for counting.
pub fn error_kind(msg: &str) -> &'static str {
    if msg.starts_with("empty line") {
        "empty_line"
    } else if msg.starts_with("broken") {
        "broken_line"
    } else if msg.starts_with("undecodable") {
        "undecodable_bytes"
    } else if msg.contains("text is empty") {
        "empty_text"
    } else if msg.starts_with("non-text") {
        "non_text_value"
    } else if msg.starts_with("spreadsheet error cell") {
        "error_cell"
    } else if msg.starts_with("no field") {
        "missing_field"
    } else if msg.contains("characters; the limit") {
        "too_long"
    } else if msg.contains("turn") {
        "bad_turns"
    } else {
        "other"
    }
}

fn priority_rank(p: Option<&str>) -> u8 {
    match p {
        Some("A") => 3,
        Some("B") => 2,
        Some("C") => 1,
        _ => 0,
    }
}

fn risk_order(a: &Record, b: &Record) -> std::cmp::Ordering {
    priority_rank(b.priority.as_deref())
        .cmp(&priority_rank(a.priority.as_deref()))
        .then(b.escalate.cmp(&a.escalate))
        .then(b.risk_score.total_cmp(&a.risk_score))
        .then(a.row.cmp(&b.row))
}

/// A date as days since 1970-01-01: `2024-03-05`, `2024/3/5 10:00`, `2024年3月5日`, `20240305`, an Excel
/// serial day number, or a Unix timestamp in seconds or milliseconds.
pub fn parse_day(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(x) = s.parse::<f64>() {
        let valid = |d: i64| (-25_567..=47_482).contains(&d).then_some(d); // 1900–2099
        return match x {
            x if (20_000.0..80_000.0).contains(&x) => valid(x as i64 - 25_569),
            x if (1e9..1e10).contains(&x) => valid((x / 86_400.0) as i64),
            x if (1e12..1e13).contains(&x) => valid((x / 86_400_000.0) as i64),
            _ if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) => ymd(
                s[..4].parse().ok()?,
                s[4..6].parse().ok()?,
                s[6..].parse().ok()?,
            ),
            _ => None,
        };
    }
    let nums: Vec<i64> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .take(3)
        .map(|p| p.parse().unwrap_or(-1))
        .collect();
    if nums.len() < 3 {
        return None;
    }
    ymd(nums[0], nums[1], nums[2])
}

fn ymd(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1900..=2099).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m as u32, d as u32);
    // Rejects 2024-02-31 and the like.
    (civil_from_days(days) == (y, m as u32, d as u32)).then_some(days)
}

impl Stats {
    pub fn add(&mut self, r: Record) {
        self.rows += 1;
        if let Some(e) = &r.error {
            self.errors += 1;
            *self.error_kinds.entry(error_kind(e).into()).or_insert(0) += 1;
            if self.error_examples.len() < ERROR_EXAMPLES {
                self.error_examples.push((r.row, r.id.clone(), e.clone()));
            }
            return;
        }
        self.analyzed += 1;
        let inc =
            |m: &mut BTreeMap<String, u64>, k: &str| *m.entry(k.to_string()).or_insert(0) += 1;
        if let Some(s) = &r.sentiment {
            inc(&mut self.sentiment, s);
        }
        if let Some(e) = &r.emotion {
            inc(&mut self.emotion, e);
        }
        if r.categories.is_empty() {
            self.uncategorized += 1;
        }
        for c in &r.categories {
            inc(&mut self.categories, c);
        }
        if let Some(p) = &r.priority {
            inc(&mut self.priority, p);
        }
        if r.escalate {
            self.escalated += 1;
        }
        for reason in &r.reasons {
            inc(&mut self.reasons, reason);
        }
        let cats: Vec<&str> = if r.categories.is_empty() {
            vec!["(none)"]
        } else {
            r.categories.iter().map(String::as_str).collect()
        };
        for c in cats {
            let counts = self.keywords.entry(c.to_string()).or_default();
            for k in &r.keywords {
                counts.add(k);
            }
        }
        if let Some(d) = &r.date {
            self.has_dates = true;
            match parse_day(d) {
                Some(day) => {
                    let p = self.days.entry(day).or_default();
                    p.rows += 1;
                    match r.sentiment.as_deref() {
                        Some("negative") => p.negative += 1,
                        Some("neutral") => p.neutral += 1,
                        Some("positive") => p.positive += 1,
                        _ => {}
                    }
                    p.escalated += u64::from(r.escalate);
                }
                None => self.undated += 1,
            }
        } else {
            self.undated += 1;
        }
        self.top_risk.push(r);
        if self.top_risk.len() >= 4 * TOP_RISK_ROWS {
            self.top_risk.sort_by(risk_order);
            self.top_risk.truncate(TOP_RISK_ROWS);
        }
    }

    fn finish(&mut self) {
        self.top_risk.sort_by(risk_order);
        self.top_risk.truncate(TOP_RISK_ROWS);
    }

    /// Reads a finished output file back.
    pub fn from_output(
        path: &Path,
        format: OutputFormat,
        id: Option<&str>,
        date: Option<&str>,
    ) -> Result<Stats, BatchError> {
        let err = |e: String| BatchError::Output(format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let mut stats = Stats::default();
        let mut n = 0u64;
        match format {
            OutputFormat::Jsonl => {
                for line in std::io::BufReader::with_capacity(256 * 1024, file).lines() {
                    let line = line.map_err(|e| err(e.to_string()))?;
                    if line.is_empty() {
                        continue;
                    }
                    n += 1;
                    let m: Map<String, Value> = serde_json::from_str(&line)
                        .map_err(|e| err(format!("row {n} is not JSON: {e}")))?;
                    stats.add(Record::from_json(n, &m, id, date));
                }
            }
            OutputFormat::Csv => {
                let mut rdr = csv::ReaderBuilder::new()
                    .flexible(true)
                    .from_reader(std::io::BufReader::with_capacity(256 * 1024, file));
                let headers: Vec<String> = rdr
                    .headers()
                    .map_err(|e| err(e.to_string()))?
                    .iter()
                    .map(|h| {
                        super::output::csv_unsafe(h.trim_start_matches('\u{feff}')).to_string()
                    })
                    .collect();
                // The analysis columns are the last ones (an input column may share a name).
                let index = |name: &str| headers.iter().rposition(|h| h == name);
                let idx: HashMap<String, usize> = headers
                    .iter()
                    .filter_map(|h| index(h).map(|i| (h.clone(), i)))
                    .collect();
                let id_idx = id.and_then(|f| headers.iter().position(|h| h == f));
                let date_idx = date.and_then(|f| headers.iter().position(|h| h == f));
                for rec in rdr.records() {
                    let rec = rec.map_err(|e| err(e.to_string()))?;
                    n += 1;
                    let get = |name: &str| {
                        let i = match name {
                            "\u{0}id" => id_idx,
                            "\u{0}date" => date_idx,
                            _ => idx.get(name).copied(),
                        }?;
                        rec.get(i)
                            .filter(|v| !v.is_empty())
                            .map(|v| super::output::csv_unsafe(v).to_string())
                    };
                    stats.add(Record::from_csv(
                        n,
                        get,
                        id.map(|_| "\u{0}id"),
                        date.map(|_| "\u{0}date"),
                    ));
                }
            }
        }
        stats.finish();
        Ok(stats)
    }

    /// Rows per period: by day for up to 92 days, else by ISO week (labelled with its Monday).
    pub fn periods(&self) -> (bool, Vec<(String, Period)>) {
        let (Some(first), Some(last)) = (self.days.keys().next(), self.days.keys().last()) else {
            return (false, Vec::new());
        };
        let weekly = last - first > 92;
        let mut out: BTreeMap<i64, Period> = BTreeMap::new();
        for (day, p) in &self.days {
            // 1970-01-01 was a Thursday: Monday of the week is day - (day + 3) mod 7.
            let key = if weekly {
                day - (day + 3).rem_euclid(7)
            } else {
                *day
            };
            let e = out.entry(key).or_default();
            e.rows += p.rows;
            e.negative += p.negative;
            e.neutral += p.neutral;
            e.positive += p.positive;
            e.escalated += p.escalated;
        }
        let label = |d: i64| {
            let (y, m, dd) = civil_from_days(d);
            format!("{y:04}-{m:02}-{dd:02}")
        };
        (
            weekly,
            out.into_iter().map(|(d, p)| (label(d), p)).collect(),
        )
    }
}

// ---------------------------------------------------------------------------------------------------
// HTML

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn zh(label: &str) -> &str {
    match label {
        "negative" => "负面",
        "neutral" => "中性",
        "positive" => "正面",
        "service_attitude" => "服务态度",
        "process" => "流程",
        "product_quality" => "产品质量",
        "price" => "价格",
        "other" => "其他",
        "(none)" => "未归类",
        "none" => "无明显情绪",
        "like" => "喜爱",
        "happiness" => "高兴",
        "sadness" => "悲伤",
        "anger" => "愤怒",
        "disgust" => "厌恶",
        "fear" => "恐惧",
        "surprise" => "惊讶",
        "regulator_threat" => "扬言找监管",
        "media_threat" => "扬言曝光",
        "legal_threat" => "扬言起诉",
        "safety" => "安全问题",
        "service_outage" => "服务中断",
        "repeat_contact" => "重复来电",
        "strong_anger" => "强烈愤怒",
        "supervisor_demand" => "要求主管",
        "churn_threat" => "扬言流失",
        "broken_line" => "损坏的行",
        "undecodable_bytes" => "无法解码",
        "empty_text" => "空文本",
        "empty_line" => "空行",
        "non_text_value" => "非文本值",
        "error_cell" => "公式错误单元格",
        "missing_field" => "缺少字段",
        "too_long" => "文本过长",
        "bad_turns" => "对话格式错误",
        _ => "",
    }
}

/// `中文 label` for known labels, the label alone otherwise.
fn named(label: &str) -> String {
    match zh(label) {
        "" => escape(label),
        z => format!("{z} <span class=\"code\">{}</span>", escape(label)),
    }
}

fn sentiment_color(s: &str) -> &'static str {
    match s {
        "negative" => "#e5534b",
        "neutral" => "#9aa5b1",
        "positive" => "#2da44e",
        _ => "#6e7781",
    }
}

fn priority_color(p: &str) -> &'static str {
    match p {
        "A" => "#cf222e",
        "B" => "#f0883e",
        "C" => "#8c959f",
        _ => "#6e7781",
    }
}

const PALETTE: &[&str] = &[
    "#4f6bed", "#e5534b", "#2da44e", "#d4a72c", "#8250df", "#1b7c83", "#bf4b8a", "#57606a",
];

fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / total as f64)
    }
}

/// A donut chart (SVG) with its legend.
fn donut(parts: &[(String, u64, &str)]) -> String {
    let total: u64 = parts.iter().map(|p| p.1).sum();
    let r = 60.0;
    let c = 2.0 * std::f64::consts::PI * r;
    let mut svg = String::from(
        "<svg class=\"donut\" viewBox=\"0 0 160 160\" width=\"160\" height=\"160\" role=\"img\">\
         <circle cx=\"80\" cy=\"80\" r=\"60\" fill=\"none\" stroke=\"#eef1f4\" stroke-width=\"26\"/>",
    );
    let mut offset = 0.0;
    for (_, n, color) in parts {
        if *n == 0 || total == 0 {
            continue;
        }
        let len = c * *n as f64 / total as f64;
        let _ = write!(
            svg,
            "<circle cx=\"80\" cy=\"80\" r=\"60\" fill=\"none\" stroke=\"{color}\" stroke-width=\"26\" \
             stroke-dasharray=\"{len:.2} {:.2}\" stroke-dashoffset=\"{:.2}\" transform=\"rotate(-90 80 80)\"/>",
            c - len,
            -offset
        );
        offset += len;
    }
    let _ = write!(
        svg,
        "<text x=\"80\" y=\"78\" text-anchor=\"middle\" class=\"donut-n\">{total}</text>\
         <text x=\"80\" y=\"98\" text-anchor=\"middle\" class=\"donut-l\">条</text></svg>"
    );
    let mut legend = String::from("<ul class=\"legend\">");
    for (label, n, color) in parts {
        let _ = write!(
            legend,
            "<li><span class=\"sw\" style=\"background:{color}\"></span>{} <b>{n}</b> <span class=\"muted\">{}</span></li>",
            named(label),
            pct(*n, total)
        );
    }
    legend.push_str("</ul>");
    format!("<div class=\"donut-wrap\">{svg}{legend}</div>")
}

/// Horizontal bars (SVG), one per item, longest first as given.
fn hbars(items: &[(String, u64, String)], total: u64) -> String {
    if items.is_empty() {
        return "<p class=\"muted\">无数据</p>".into();
    }
    let max = items.iter().map(|i| i.1).max().unwrap_or(1).max(1);
    let row_h = 30.0;
    let h = row_h * items.len() as f64 + 8.0;
    let (label_w, bar_w) = (190.0, 420.0);
    let mut svg = format!(
        "<svg class=\"bars\" viewBox=\"0 0 760 {h}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\">"
    );
    for (i, (label, n, color)) in items.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = (bar_w * *n as f64 / max as f64).max(if *n > 0 { 2.0 } else { 0.0 });
        let name = match zh(label) {
            "" => escape(label),
            z => format!("{z} · {}", escape(label)),
        };
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" class=\"bl\">{name}</text>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{bar_w}\" height=\"18\" rx=\"4\" fill=\"#f0f3f6\"/>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"18\" rx=\"4\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"bv\">{n} · {}</text>",
            label_w - 10.0,
            y + 14.0,
            y + 1.0,
            y + 1.0,
            label_w + bar_w + 10.0,
            y + 14.0,
            pct(*n, total)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Stacked columns (negative / neutral / positive) per period, with the negative share as a line.
/// Bars of rows by sentiment per period, placed by date (a period without rows is a gap, not hidden), and
/// the negative share as a line; `step` is the period in days (1 or 7).
fn trend_chart(periods: &[(String, Period)], step: i64) -> String {
    let (w, h, left, right, top, bottom) = (900.0, 300.0, 50.0, 50.0, 16.0, 56.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    // The count axis has 4 intervals of a round number of whole rows (1, 2, 2.5 or 5 × 10ⁿ, at least 1).
    let max_rows = periods.iter().map(|p| p.1.rows).max().unwrap_or(1).max(1) as f64;
    let raw = max_rows / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let tick = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|t| *t >= raw)
        .unwrap_or(raw)
        .max(1.0)
        .ceil();
    let max = tick * 4.0;
    let day = |label: &str| parse_day(label).unwrap_or(0);
    let first = periods.first().map_or(0, |p| day(&p.0));
    let last = periods.last().map_or(0, |p| day(&p.0));
    let n = ((last - first) / step.max(1) + 1).max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.7).clamp(1.0, 40.0);
    let mut svg = format!(
        "<svg class=\"trend\" viewBox=\"0 0 {w} {h}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\">"
    );
    for k in 0..=4 {
        let y = top + plot_h * (1.0 - k as f64 / 4.0);
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e6e9ed\"/>\
             <text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" class=\"ax\">{:.0}</text>\
             <text x=\"{:.0}\" y=\"{:.1}\" class=\"ax\">{}%</text>",
            w - right,
            left - 6.0,
            y + 4.0,
            max * k as f64 / 4.0,
            w - right + 6.0,
            y + 4.0,
            k * 25
        );
    }
    let label_every = (periods.len() / 12).max(1);
    let mut line = String::new();
    for (i, (label, p)) in periods.iter().enumerate() {
        let at = (day(label) - first) / step.max(1);
        let x = left + slot * at as f64 + (slot - bar) / 2.0;
        let mut y = top + plot_h;
        for (count, color) in [
            (p.negative, sentiment_color("negative")),
            (p.neutral, sentiment_color("neutral")),
            (p.positive, sentiment_color("positive")),
        ] {
            let bh = plot_h * count as f64 / max;
            y -= bh;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{label}: {count}</title></rect>"
            );
        }
        let share = if p.rows == 0 {
            0.0
        } else {
            p.negative as f64 / p.rows as f64
        };
        let _ = write!(
            line,
            "{:.1},{:.1} ",
            x + bar / 2.0,
            top + plot_h * (1.0 - share)
        );
        if i % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\" transform=\"rotate(-35 {:.1} {:.1})\">{}</text>",
                x + bar / 2.0,
                top + plot_h + 16.0,
                x + bar / 2.0,
                top + plot_h + 16.0,
                escape(label)
            );
        }
    }
    let _ = write!(
        svg,
        "<polyline points=\"{line}\" fill=\"none\" stroke=\"#24292f\" stroke-width=\"2\" stroke-linejoin=\"round\"/></svg>"
    );
    svg
}

const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:15px/1.55 -apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif}
header{background:linear-gradient(120deg,#1f3a8a,#4f6bed);color:#fff;padding:28px 40px 24px}
header h1{margin:0 0 6px;font-size:26px;font-weight:650}
header .meta{opacity:.85;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px;margin:-44px 0 22px}
.kpi{background:#fff;border-radius:12px;padding:16px 18px;box-shadow:0 1px 3px rgba(31,35,40,.12)}
.kpi .v{font-size:28px;font-weight:700}
.kpi .l{color:#59636e;font-size:13px}
.kpi.warn .v{color:#cf222e}.kpi.ok .v{color:#1a7f37}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px}
section{background:#fff;border-radius:12px;padding:18px 22px;margin-bottom:18px;box-shadow:0 1px 3px rgba(31,35,40,.10)}
h2{font-size:17px;margin:0 0 12px;font-weight:650}
h2 small{font-weight:400;color:#59636e;font-size:13px;margin-left:6px}
.donut-wrap{display:flex;align-items:center;gap:28px}
.donut-n{font-size:24px;font-weight:700;fill:#1f2328}.donut-l{font-size:12px;fill:#59636e}
.legend{list-style:none;padding:0;margin:0}.legend li{margin:6px 0}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:8px;vertical-align:-1px}
.bl{font-size:13px;fill:#1f2328}.bv{font-size:12px;fill:#59636e}.ax{font-size:11px;fill:#59636e}
.muted{color:#59636e}.code{color:#8c959f;font-size:12px;font-family:ui-monospace,Menlo,monospace}
table{width:100%;border-collapse:collapse;font-size:13.5px}
th{text-align:left;color:#59636e;font-weight:600;border-bottom:1px solid #d1d9e0;padding:7px 8px;white-space:nowrap}
td{border-bottom:1px solid #eef1f4;padding:7px 8px;vertical-align:top}
td.text{max-width:560px}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.tag{display:inline-block;background:#eef1f4;border-radius:6px;padding:1px 7px;margin:1px 3px 1px 0;font-size:12px}
.kw{display:inline-block;border-radius:14px;padding:2px 10px;margin:3px 4px 3px 0;background:#eef2ff;color:#1f3a8a}
.kw b{font-weight:600;color:#4f6bed;margin-left:4px;font-size:12px}
.cat{margin:10px 0 14px}.cat h3{font-size:14px;margin:0 0 4px}
footer{color:#8c959f;font-size:12px;text-align:center;margin-top:10px}
"#;

/// The report page.
pub fn html(stats: &Stats, summary: &Summary) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let input_name = Path::new(&summary.input)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| summary.input.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, mo, d) = civil_from_days(now.div_euclid(86_400));
    let secs = now.rem_euclid(86_400);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>心声 xinsheng · {}</title><style>{CSS}</style></head><body>\
         <header><h1>心声 · 客户声音分析报告</h1><div class=\"meta\">输入 {} · 生成于 {y:04}-{mo:02}-{d:02} {:02}:{:02} UTC · 文本字段 <b>{}</b></div></header><main>",
        escape(&input_name),
        escape(&input_name),
        secs / 3600,
        secs % 3600 / 60,
        escape(&summary.text_field)
    );
    let negative = stats.sentiment.get("negative").copied().unwrap_or(0);
    let a = stats.priority.get("A").copied().unwrap_or(0);
    let kpis = [
        ("", stats.rows.to_string(), "总行数 rows"),
        ("ok", stats.analyzed.to_string(), "已分析 analyzed"),
        ("warn", pct(negative, stats.analyzed), "负面占比 negative"),
        ("warn", stats.escalated.to_string(), "需升级 escalate"),
        ("warn", a.to_string(), "A 级紧急 priority A"),
        ("", stats.errors.to_string(), "坏行 bad rows"),
    ];
    h.push_str("<div class=\"kpis\">");
    for (class, v, l) in kpis {
        let _ = write!(
            h,
            "<div class=\"kpi {class}\"><div class=\"v\">{v}</div><div class=\"l\">{l}</div></div>"
        );
    }
    h.push_str("</div><div class=\"grid\">");

    // Sentiment.
    let sent: Vec<(String, u64, &str)> = ["negative", "neutral", "positive"]
        .iter()
        .map(|s| {
            (
                s.to_string(),
                stats.sentiment.get(*s).copied().unwrap_or(0),
                sentiment_color(s),
            )
        })
        .collect();
    let _ = write!(
        h,
        "<section><h2>情感分布<small>sentiment</small></h2>{}</section>",
        donut(&sent)
    );
    // Priority and escalation.
    let prio: Vec<(String, u64, &str)> = ["A", "B", "C"]
        .iter()
        .map(|p| {
            (
                p.to_string(),
                stats.priority.get(*p).copied().unwrap_or(0),
                priority_color(p),
            )
        })
        .collect();
    let _ = write!(
        h,
        "<section><h2>优先级<small>priority A/B/C · {} 条需升级 ({})</small></h2>{}</section>",
        stats.escalated,
        pct(stats.escalated, stats.analyzed),
        donut(&prio)
    );
    // Categories.
    let mut cats: Vec<(String, u64, String)> = stats
        .categories
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (k.clone(), *v, PALETTE[i % PALETTE.len()].to_string()))
        .collect();
    cats.sort_by_key(|b| std::cmp::Reverse(b.1));
    cats.push(("(none)".into(), stats.uncategorized, "#c5ccd3".into()));
    let _ = write!(
        h,
        "<section><h2>投诉类别<small>categories（多标签，占已分析行）</small></h2>{}</section>",
        hbars(&cats, stats.analyzed)
    );
    // Reasons.
    let mut reasons: Vec<(String, u64, String)> = stats
        .reasons
        .iter()
        .map(|(k, v)| (k.clone(), *v, "#cf222e".to_string()))
        .collect();
    reasons.sort_by_key(|b| std::cmp::Reverse(b.1));
    let _ = write!(
        h,
        "<section><h2>升级原因<small>escalation reasons</small></h2>{}</section>",
        hbars(&reasons, stats.analyzed)
    );
    // Emotion.
    let mut emo: Vec<(String, u64, String)> = stats
        .emotion
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (k.clone(), *v, PALETTE[(i + 3) % PALETTE.len()].to_string()))
        .collect();
    emo.sort_by_key(|b| std::cmp::Reverse(b.1));
    let _ = write!(
        h,
        "<section><h2>情绪<small>emotion</small></h2>{}</section>",
        hbars(&emo, stats.analyzed)
    );
    // Keywords per category.
    h.push_str("<section><h2>各类别高频关键词<small>top keywords per category</small></h2>");
    let mut kw_cats: Vec<(&String, &KeywordCounts)> = stats.keywords.iter().collect();
    kw_cats.sort_by_key(|(c, _)| std::cmp::Reverse(stats.categories.get(*c).copied().unwrap_or(0)));
    if kw_cats.is_empty() {
        h.push_str("<p class=\"muted\">无数据</p>");
    }
    for (cat, counts) in kw_cats {
        let _ = write!(h, "<div class=\"cat\"><h3>{}</h3>", named(cat));
        for (k, n) in counts.top(TOP_KEYWORDS) {
            let _ = write!(h, "<span class=\"kw\">{}<b>{n}</b></span>", escape(&k));
        }
        h.push_str("</div>");
    }
    h.push_str("</section></div>");

    // Trends.
    let (weekly, periods) = stats.periods();
    if stats.has_dates {
        let _ = write!(
            h,
            "<section><h2>趋势<small>按{}统计 · 柱：负面/中性/正面条数 · 线：负面占比（右轴）{}</small></h2>",
            if weekly { "周（周一起）" } else { "日" },
            if stats.undated > 0 {
                format!(" · {} 行日期无法识别", stats.undated)
            } else {
                String::new()
            }
        );
        if periods.is_empty() {
            h.push_str("<p class=\"muted\">日期字段中没有可识别的日期。</p>");
        } else {
            h.push_str(&trend_chart(&periods, if weekly { 7 } else { 1 }));
            h.push_str("<table><tr><th>期间</th><th>行数</th><th>负面</th><th>负面占比</th><th>需升级</th></tr>");
            // The last 14 periods, oldest first as in the chart.
            for (label, p) in &periods[periods.len().saturating_sub(14)..] {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(label),
                    p.rows,
                    p.negative,
                    pct(p.negative, p.rows),
                    p.escalated
                );
            }
            h.push_str("</table>");
        }
        h.push_str("</section>");
    }

    // Highest-risk rows. The ID column only when the rows have ids (`--id-field`).
    let show_id = stats.top_risk.iter().any(|r| r.id.is_some())
        || stats.error_examples.iter().any(|e| e.1.is_some());
    let id_cell = |id: &Option<String>| {
        if show_id {
            format!("<td>{}</td>", escape(id.as_deref().unwrap_or("")))
        } else {
            String::new()
        }
    };
    let _ = write!(
        h,
        "<section><h2>风险最高的 {} 行<small>highest-risk rows · 文本已脱敏</small></h2>\
         <table><tr><th>行</th>{}<th>优先级</th><th>风险分</th><th>原因</th><th>情感</th><th>文本（脱敏）</th></tr>",
        stats.top_risk.len(),
        if show_id { "<th>ID</th>" } else { "" }
    );
    for r in &stats.top_risk {
        let p = r.priority.as_deref().unwrap_or("-");
        let s = r.sentiment.as_deref().unwrap_or("-");
        let reasons: String = r
            .reasons
            .iter()
            .map(|x| {
                format!(
                    "<span class=\"tag\">{}</span>",
                    match zh(x) {
                        "" => escape(x),
                        z => z.to_string(),
                    }
                )
            })
            .collect();
        let text: String = r.masked_text.chars().take(240).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td>{}<td><span class=\"pill\" style=\"background:{}\">{}</span>{}</td><td>{:.2}</td><td>{}</td>\
             <td><span style=\"color:{}\">{}</span></td><td class=\"text\">{}{}</td></tr>",
            r.row,
            id_cell(&r.id),
            priority_color(p),
            escape(p),
            if r.escalate { " ⚑" } else { "" },
            r.risk_score,
            reasons,
            sentiment_color(s),
            match zh(s) { "" => escape(s), z => z.to_string() },
            escape(&text),
            if r.masked_text.chars().count() > 240 { "…" } else { "" }
        );
    }
    h.push_str("</table></section>");

    // Bad rows.
    let _ = write!(
        h,
        "<section><h2>坏行<small>bad rows · {} 行（{}）保留在输出中并带有 error 字段</small></h2>",
        stats.errors,
        pct(stats.errors, stats.rows)
    );
    if stats.errors > 0 {
        h.push_str("<table><tr><th>类型</th><th>行数</th></tr>");
        let mut kinds: Vec<(&String, &u64)> = stats.error_kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        for (k, n) in kinds {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", named(k));
        }
        h.push_str("</table><h2 style=\"margin-top:16px\"><small>示例 examples</small></h2><table><tr><th>行</th>");
        h.push_str(if show_id { "<th>ID</th>" } else { "" });
        h.push_str("<th>错误</th></tr>");
        for (row, id, e) in &stats.error_examples {
            let _ = write!(
                h,
                "<tr><td>{row}</td>{}<td>{}</td></tr>",
                id_cell(id),
                // Outputs of earlier versions may hold messages that quote the input.
                escape(&crate::text::pii::mask(e))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
    let _ = write!(
        h,
        "<footer>xinsheng {} · {} 行 · 本次运行 {} 行，{:.1} 秒{}</footer></main></body></html>",
        env!("CARGO_PKG_VERSION"),
        stats.rows,
        summary.rows_this_run,
        summary.seconds,
        if summary.resumed_at_row > 0 {
            format!(" · 自第 {} 行续跑", summary.resumed_at_row + 1)
        } else {
            String::new()
        }
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_parse_in_common_shapes() {
        let d = days_from_civil(2024, 3, 5);
        for s in [
            "2024-03-05",
            "2024/3/5 10:22:01",
            "2024年3月5日",
            "20240305",
            "45356",
            "1709633000",
            "1709633000000",
        ] {
            assert_eq!(parse_day(s), Some(d), "{s}");
        }
        assert_eq!(parse_day("2024-02-31"), None);
        assert_eq!(parse_day("昨天"), None);
        assert_eq!(parse_day("12"), None);
    }

    fn rec(row: u64, p: &str, esc: bool, score: f64) -> Record {
        Record {
            row,
            sentiment: Some("negative".into()),
            priority: Some(p.into()),
            escalate: esc,
            risk_score: score,
            categories: vec!["process".into()],
            keywords: vec!["慢".into(), format!("k{row}")],
            date: Some(format!("2024-01-{:02}", row % 28 + 1)),
            ..Default::default()
        }
    }

    #[test]
    fn stats_rank_risk_count_and_group() {
        let mut s = Stats::default();
        for i in 0..200 {
            s.add(rec(
                i,
                if i % 50 == 7 { "A" } else { "B" },
                i % 3 == 0,
                (i % 10) as f64 / 10.0,
            ));
        }
        s.add(Record {
            row: 200,
            error: Some("broken CSV line: 3 fields, the header has 2".into()),
            ..Default::default()
        });
        s.finish();
        assert_eq!((s.rows, s.analyzed, s.errors), (201, 200, 1));
        assert_eq!(s.error_kinds["broken_line"], 1);
        assert_eq!(s.top_risk.len(), TOP_RISK_ROWS);
        assert!(s.top_risk[..4]
            .iter()
            .all(|r| r.priority.as_deref() == Some("A")));
        assert_eq!(s.top_risk[0].row, 57, "A, escalated, then highest score");
        assert_eq!(s.keywords["process"].top(1), vec![("慢".to_string(), 200)]);
        let (weekly, periods) = s.periods();
        assert!(!weekly);
        assert_eq!(periods.len(), 28);
        assert_eq!(periods.iter().map(|p| p.1.rows).sum::<u64>(), 200);
    }

    #[test]
    fn trend_bars_stand_at_their_dates_on_a_whole_row_axis() {
        let p = |n: u64| Period {
            rows: n,
            negative: n,
            ..Period::default()
        };
        let periods = vec![
            ("2026-11-01".to_string(), p(1)),
            ("2026-11-05".to_string(), p(2)),
            ("2026-11-06".to_string(), p(1)),
        ];
        let svg = trend_chart(&periods, 1);
        let xs: Vec<f64> = svg
            .match_indices("<rect x=\"")
            .map(|(i, m)| {
                svg[i + m.len()..]
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        // Six days, six slots: 11-05 stands in the fifth (three rects per period), not the second.
        assert!(xs[0] < 150.0 && xs[3] > 600.0 && xs[3] < 660.0, "{xs:?}");
        // Whole rows on the count axis (0 1 2 3 4), never 0.5.
        assert!(
            svg.contains(">3</text>") && !svg.contains(".5</text>"),
            "{svg}"
        );
    }

    #[test]
    fn keyword_counts_stay_bounded() {
        let mut k = KeywordCounts::default();
        for i in 0..(KEYWORD_CAP * 3) {
            k.add("常见");
            k.add(&format!("罕见{i}"));
        }
        assert!(k.counts.len() <= KEYWORD_CAP + 1);
        assert_eq!(k.top(1)[0].0, "常见");
    }

    #[test]
    fn records_read_from_json_rows() {
        let row = json!({"id": 9, "day": "2024-01-02", "analysis": {
            "sentiment": {"label": "negative"}, "categories": [{"label": "price", "score": 0.5}],
            "risk": {"escalate": true, "priority": "A", "score": 0.9, "reasons": ["safety"]},
            "keywords": ["贵"], "masked_text": "<b>贵</b>"}});
        let r = Record::from_json(1, row.as_object().unwrap(), Some("id"), Some("day"));
        assert_eq!(r.id.as_deref(), Some("9"));
        assert_eq!(r.categories, vec!["price"]);
        assert!(r.escalate);
        assert_eq!(escape(&r.masked_text), "&lt;b&gt;贵&lt;/b&gt;");
    }
}
