//! Speed measurement of a loaded model (`xinsheng bench`): batch throughput and single-text latency,
//! tokenization included, the way `scripts/bench_compare.py` measures PyTorch and ONNX Runtime.

use super::{Model, ModelError};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// The engine that ran (`candle`, `f32` or `int8`).
    pub engine: super::EngineKind,
    pub texts: usize,
    pub batch_size: usize,
    /// Texts per second when all texts are run in batches of `batch_size` (length-sorted).
    pub batch_texts_per_second: f64,
    /// Latency of one text at a time, in milliseconds.
    pub single_p50_ms: f64,
    pub single_p99_ms: f64,
    pub single_runs: usize,
    /// Real (unpadded) tokens per text, on average (every window of a long text counted).
    pub mean_tokens: f64,
    /// Head name → probabilities of the first texts (when asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probabilities: Vec<serde_json::Value>,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the measurements: one warm-up pass, then batch passes over all texts for `seconds`, then single
/// texts (cycling through them) for `seconds`.
pub fn run(
    model: &Model,
    texts: &[&str],
    batch_size: usize,
    seconds: f64,
    probs: usize,
) -> Result<BenchReport, ModelError> {
    let batch_size = batch_size.max(1);
    let warm = model.predict_texts(texts, batch_size)?;
    let started = Instant::now();
    let mut done = 0usize;
    while done == 0 || started.elapsed().as_secs_f64() < seconds {
        model.predict_texts(texts, batch_size)?;
        done += texts.len();
    }
    let batch_rate = done as f64 / started.elapsed().as_secs_f64();

    let mut lat = Vec::new();
    let started = Instant::now();
    while lat.is_empty() || started.elapsed().as_secs_f64() < seconds {
        let t = texts[lat.len() % texts.len()];
        let one = Instant::now();
        model.predict_texts(&[t], 1)?;
        lat.push(one.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    // Every window's tokens: what the model reads (a text longer than the window is read in several).
    let tokens: usize = texts
        .iter()
        .flat_map(|t| model.encoder.windows(t))
        .map(|w| w.len())
        .sum();
    let heads: Vec<&str> = model.config.heads.iter().map(|h| h.name.as_str()).collect();
    let probabilities = warm
        .iter()
        .take(probs)
        .map(|row| {
            let mut m = serde_json::Map::new();
            for (name, p) in heads.iter().zip(row) {
                m.insert(name.to_string(), serde_json::json!(p));
            }
            serde_json::Value::Object(m)
        })
        .collect();
    Ok(BenchReport {
        engine: model.engine(),
        texts: texts.len(),
        batch_size,
        batch_texts_per_second: batch_rate,
        single_p50_ms: percentile(&lat, 0.5),
        single_p99_ms: percentile(&lat, 0.99),
        single_runs: lat.len(),
        mean_tokens: tokens as f64 / texts.len() as f64,
        probabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 51.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
