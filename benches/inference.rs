//! Inference speed of the shipped model on CPU: one 50-character text and a batch of 32 such texts, model
//! only with each engine (int8 and f32 fused kernels, candle), and the whole analysis (keywords, masking,
//! risk) with the default engine.
//!
//!     cargo bench --bench inference
//!
//! Criterion prints the time per iteration; texts/s for the batch = 32 / that time.

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::PathBuf;
use xinsheng::analysis::{Analyzer, Request};
use xinsheng::model::{EngineKind, Model};

/// 50 characters of a typical complaint.
const TEXT: &str = "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差，你们到底管不管，再不处理我就去投诉了";

fn texts() -> Vec<String> {
    let t: Vec<char> = TEXT.chars().collect();
    (0..32)
        .map(|i| {
            // Rotate the text so the batch is not 32 copies of one input.
            let k = i % t.len();
            t[k..].iter().chain(&t[..k]).take(50).collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/default");
    let analyzer = Analyzer::load(&dir, &Device::Cpu).expect("shipped model");
    let one: String = TEXT.chars().take(50).collect();
    assert_eq!(one.chars().count(), 50);
    let batch = texts();
    let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
    for engine in [EngineKind::Int8, EngineKind::F32, EngineKind::Candle] {
        let model = Model::load_with_engine(&dir, &Device::Cpu, engine).expect("shipped model");
        let name = format!("{engine:?}").to_lowercase();
        let mut g = c.benchmark_group(format!("engine_{name}"));
        g.sample_size(30);
        g.bench_function("model_one_text_50_chars", |b| {
            b.iter(|| model.predict_texts(black_box(&[one.as_str()]), 1).unwrap())
        });
        g.throughput(Throughput::Elements(32));
        g.bench_function("model_batch_32", |b| {
            b.iter(|| model.predict_texts(black_box(&refs), 32).unwrap())
        });
        g.finish();
    }
    let mut g = c.benchmark_group("shipped_model");
    g.sample_size(50);
    g.bench_function("analyze_one_text_50_chars", |b| {
        b.iter(|| {
            analyzer
                .analyze(black_box(&Request::text(one.clone())))
                .unwrap()
        })
    });
    g.throughput(Throughput::Elements(32));
    let reqs: Vec<Request> = batch.iter().map(|t| Request::text(t.clone())).collect();
    g.bench_function("analyze_batch_32", |b| {
        b.iter(|| analyzer.analyze_batch(black_box(&reqs)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
