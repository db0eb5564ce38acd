//! The fused encoder's hot paths, one core, shapes of the shipped model (hidden 256, FFN 1024, 4 heads of
//! 64) for a block of 64 token rows, so that regressions in a kernel show:
//!
//!     cargo bench --bench kernels
//!
//! Criterion's throughput is in multiply-adds (matrix products) or elements (row operations) per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use xinsheng::model::kernels::gemm::{PackedF32, PackedI8};
use xinsheng::model::kernels::ops::{self, Activation};
use xinsheng::model::kernels::Isa;

const ROWS: usize = 64;

fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 16) as f32 / 65536.0 - 0.5
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let isa = Isa::detect();
    let mut g = c.benchmark_group(format!("kernels_{isa:?}").to_lowercase());
    g.sample_size(30);
    for &(k, n) in &[(256usize, 768usize), (256, 1024), (1024, 256)] {
        let w = values(n * k, 1);
        let bias = values(n, 2);
        let a = values(ROWS * k, 3);
        let mut out = vec![0f32; ROWS * n];
        g.throughput(Throughput::Elements((ROWS * k * n) as u64));
        let f = PackedF32::new(&w, &bias, n, k);
        g.bench_function(format!("gemm_f32_{ROWS}x{k}x{n}"), |b| {
            b.iter(|| f.matmul(isa, black_box(&a), &mut out))
        });
        let q = PackedI8::new(&w, &bias, n, k);
        let mut qa = vec![0u8; ROWS * q.k4];
        let mut scales = vec![0f32; ROWS];
        g.bench_function(format!("gemm_int8_{ROWS}x{k}x{n}_with_quantization"), |b| {
            b.iter(|| {
                ops::quantize_rows(isa, black_box(&a), k, &mut qa, q.k4, &mut scales);
                q.matmul(isa, &qa, &scales, &mut out)
            })
        });
    }
    let (t, d, h) = (50usize, 64usize, 256usize);
    let qkv = values(t * 3 * h, 4);
    let mut ctx = vec![0f32; t * d];
    let mut scratch = Vec::new();
    g.throughput(Throughput::Elements((2 * t * t * d) as u64));
    let at = ops::HeadLayout {
        row: 3 * h,
        t,
        cols: (0, h, 2 * h),
        d,
        scale: 0.125,
    };
    g.bench_function("attention_head_50_tokens", |b| {
        b.iter(|| ops::attention_head(isa, black_box(&qkv), &at, &mut ctx, &mut scratch))
    });
    let mut x = values(ROWS * 1024, 5);
    g.throughput(Throughput::Elements((ROWS * 1024) as u64));
    g.bench_function("gelu_64x1024", |b| {
        b.iter(|| ops::activate(isa, black_box(&mut x), Activation::GeluErf))
    });
    let mut y = values(ROWS * h, 6);
    let res = values(ROWS * h, 7);
    let (gamma, beta) = (vec![1.0f32; h], vec![0.0f32; h]);
    g.throughput(Throughput::Elements((ROWS * h) as u64));
    g.bench_function("add_layer_norm_64x256", |b| {
        b.iter(|| ops::add_layer_norm(isa, black_box(&mut y), &res, h, &gamma, &beta, 1e-12))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
