//! Row-wise operations of the encoder: layer norm (with the residual add), activations, softmax,
//! one attention head, and the per-row int8 quantization of activations.
//!
//! Each is written once as plain loops over 16 independent lanes (so no floating-point sum is
//! reassociated and results do not depend on the instruction set) and compiled twice: for AVX-512,
//! where the compiler vectorizes the lanes, and for any CPU. `exp` and `erf` are polynomial
//! approximations without library calls so that they vectorize too (errors below 2e-7).

use super::Isa;

const LANES: usize = 16;

/// Declares `pub fn name(isa: Isa, args…)` running `body` compiled for AVX-512 when `isa` says so.
macro_rules! lanes_fn {
    ($(#[$m:meta])* pub fn $name:ident($($a:ident: $t:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        pub fn $name(isa: Isa, $($a: $t),*) {
            #[inline(always)]
            fn body($($a: $t),*) $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
            unsafe fn wide($($a: $t),*) {
                body($($a),*)
            }
            #[cfg(target_arch = "x86_64")]
            if isa == Isa::Avx512 {
                // SAFETY: `Isa::Avx512` is only ever produced after runtime detection of these features.
                return unsafe { wide($($a),*) };
            }
            let _ = isa;
            body($($a),*)
        }
    };
}

const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23

/// Round half to even for |x| < 2^22, with two additions (vectorizes; no library call).
#[inline(always)]
fn round_even(x: f32) -> f32 {
    (x + MAGIC) - MAGIC
}

/// `x` rounded half to even, as an integer, for |x| < 2^22: the bits of `x + 1.5 · 2^23` hold it
/// (unlike `as i32`, whose saturation and NaN rules keep the compiler from vectorizing).
#[inline(always)]
fn round_to_int(x: f32) -> i32 {
    (x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

#[inline(always)]
fn lane_sum(acc: [f32; LANES]) -> f32 {
    let mut v = acc;
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            v[i] += v[i + w];
        }
        w /= 2;
    }
    v[0]
}

#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut it = x.chunks_exact(LANES);
    for c in &mut it {
        for i in 0..LANES {
            acc[i] += c[i];
        }
    }
    for (i, &v) in it.remainder().iter().enumerate() {
        acc[i] += v;
    }
    lane_sum(acc)
}

#[inline(always)]
fn max_abs(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut it = x.chunks_exact(LANES);
    for c in &mut it {
        for i in 0..LANES {
            acc[i] = acc[i].max(c[i].abs());
        }
    }
    for (i, &v) in it.remainder().iter().enumerate() {
        acc[i] = acc[i].max(v.abs());
    }
    acc.iter().fold(0f32, |m, &v| m.max(v))
}

#[inline(always)]
fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut it = x.chunks_exact(LANES);
    for c in &mut it {
        for i in 0..LANES {
            acc[i] = acc[i].max(c[i]);
        }
    }
    for (i, &v) in it.remainder().iter().enumerate() {
        acc[i] = acc[i].max(v);
    }
    acc.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

/// e^x, relative error < 2e-7 on [-87, 88] (clamped outside).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = round_even(x * LOG2E);
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let n = round_to_int(n);
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n + 127) << 23) as u32)
}

/// erf(x), absolute error < 2e-7 (Abramowitz & Stegun 7.1.26).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152) * t + 1.421_413_8) * t - 0.284_496_74) * t
        + 0.254_829_6)
        * t;
    (1.0 - poly * exp(-a * a)).copysign(x)
}

/// The encoder's activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `x · Φ(x)` with the exact normal CDF (`gelu` in Hugging Face configs).
    GeluErf,
    /// The tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    GeluTanh,
    Relu,
}

lanes_fn! {
    /// Applies `act` in place.
    pub fn activate(x: &mut [f32], act: Activation) {
        match act {
            Activation::GeluErf => {
                for v in x.iter_mut() {
                    *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
                }
            }
            Activation::GeluTanh => {
                const C: f32 = 0.797_884_6; // sqrt(2 / pi)
                for v in x.iter_mut() {
                    let y = C * (*v + 0.044_715 * *v * *v * *v);
                    let tanh = 1.0 - 2.0 / (exp(2.0 * y) + 1.0);
                    *v = 0.5 * *v * (1.0 + tanh);
                }
            }
            Activation::Relu => {
                for v in x.iter_mut() {
                    *v = v.max(0.0);
                }
            }
        }
    }
}

lanes_fn! {
    /// For each row of `x` (`h` wide): `x = layer_norm(x + residual) · gamma + beta`.
    pub fn add_layer_norm(x: &mut [f32], residual: &[f32], h: usize, gamma: &[f32], beta: &[f32], eps: f32) {
        for (row, res) in x.chunks_exact_mut(h).zip(residual.chunks_exact(h)) {
            for (v, r) in row.iter_mut().zip(res) {
                *v += *r;
            }
            let mean = sum(row) / h as f32;
            let mut acc = [0f32; LANES];
            let mut it = row.chunks_exact(LANES);
            for c in &mut it {
                for i in 0..LANES {
                    let d = c[i] - mean;
                    acc[i] += d * d;
                }
            }
            for (i, &v) in it.remainder().iter().enumerate() {
                acc[i] += (v - mean) * (v - mean);
            }
            let inv = 1.0 / (lane_sum(acc) / h as f32 + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
                *v = (*v - mean) * inv * *g + *b;
            }
        }
    }
}

lanes_fn! {
    /// Quantizes each row of `x` (`k` wide) to bytes `q = round(x / s) + 128` with `s = max |x| / 127`,
    /// into rows of `k4` bytes (padding 128); the scales go to `scales`.
    pub fn quantize_rows(x: &[f32], k: usize, out: &mut [u8], k4: usize, scales: &mut [f32]) {
        for ((row, q), s) in x.chunks_exact(k).zip(out.chunks_exact_mut(k4)).zip(scales.iter_mut()) {
            let m = max_abs(row);
            let (scale, inv) = if m > 0.0 { (m / 127.0, 127.0 / m) } else { (1.0, 1.0) };
            *s = scale;
            for (b, &v) in q.iter_mut().zip(row) {
                // max/min (not clamp) also turn a NaN into a bound.
                #[allow(clippy::manual_clamp)]
                let c = (v * inv).max(-127.0).min(127.0);
                *b = (round_to_int(c) + 128) as u8;
            }
            for b in q[k..].iter_mut() {
                *b = 128;
            }
        }
    }
}

lanes_fn! {
    /// In place: a softmax over `x`.
    pub fn softmax(x: &mut [f32]) {
        let m = max(x);
        for v in x.iter_mut() {
            *v = exp(*v - m);
        }
        let inv = 1.0 / sum(x);
        for v in x.iter_mut() {
            *v *= inv;
        }
    }
}

/// Where one attention head's inputs are: `t` rows, `row` floats apart, with the head's query at column
/// `cols.0`, key at `cols.1` and value at `cols.2` (`d` floats each); scores are scaled by `scale`.
#[derive(Debug, Clone, Copy)]
pub struct HeadLayout {
    pub row: usize,
    pub t: usize,
    pub cols: (usize, usize, usize),
    pub d: usize,
    pub scale: f32,
}

/// One attention head over one sequence's rows `qkv` (see [`HeadLayout`]); `out` receives the `t × d`
/// context. `scratch` is resized as needed.
pub fn attention_head(
    isa: Isa,
    qkv: &[f32],
    at: &HeadLayout,
    out: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx512 && at.d.is_multiple_of(16) {
        // SAFETY: `Isa::Avx512` is only produced after runtime detection of the features.
        return unsafe { x86::attention_head(qkv, at, out, scratch) };
    }
    let _ = isa;
    scratch.resize(at.t * (at.d + 1), 0.0);
    attention_portable(qkv, at, out, scratch)
}

fn attention_portable(qkv: &[f32], at: &HeadLayout, out: &mut [f32], scratch: &mut [f32]) {
    let HeadLayout {
        row,
        t,
        cols: (q_col, k_col, v_col),
        d,
        scale,
    } = *at;
    let (kt, scores) = scratch.split_at_mut(t * d);
    let scores = &mut scores[..t];
    for j in 0..t {
        for (c, &v) in qkv[j * row + k_col..][..d].iter().enumerate() {
            kt[c * t + j] = v;
        }
    }
    for (i, o) in out.chunks_exact_mut(d).enumerate().take(t) {
        let q = &qkv[i * row + q_col..][..d];
        scores.fill(0.0);
        for (c, &qc) in q.iter().enumerate() {
            for (s, &k) in scores.iter_mut().zip(&kt[c * t..(c + 1) * t]) {
                *s += qc * k;
            }
        }
        let m = max(scores);
        for s in scores.iter_mut() {
            *s = exp((*s - m) * scale);
        }
        let inv = 1.0 / sum(scores);
        o.fill(0.0);
        for (j, &p) in scores.iter().enumerate() {
            for (ov, &v) in o.iter_mut().zip(&qkv[j * row + v_col..][..d]) {
                *ov += p * v;
            }
        }
        for ov in o.iter_mut() {
            *ov *= inv;
        }
    }
}

lanes_fn! {
    /// Each `width`-wide row of `x`: `x = softmax(x · scale)` over its first `t` entries, zero after.
    pub fn softmax_rows(x: &mut [f32], width: usize, t: usize, scale: f32) {
        for r in x.chunks_exact_mut(width) {
            let (row, pad) = r.split_at_mut(t);
            let m = max(row);
            for v in row.iter_mut() {
                *v = exp((*v - m) * scale);
            }
            let inv = 1.0 / sum(row);
            for v in row.iter_mut() {
                *v *= inv;
            }
            pad.fill(0.0);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::Isa;
    use super::HeadLayout;
    use std::arch::x86_64::*;

    const R: usize = 4;

    /// Scores `Q Kᵀ` as a small matrix product with register accumulators (keys packed in 16-wide
    /// panels), softmax, then `P V` the same way. `d` is a multiple of 16.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,fma")]
    pub(super) unsafe fn attention_head(
        qkv: &[f32],
        at: &HeadLayout,
        out: &mut [f32],
        scratch: &mut Vec<f32>,
    ) {
        let HeadLayout {
            row,
            t,
            cols: (q_col, k_col, v_col),
            d,
            scale,
        } = *at;
        let tp = t.div_ceil(16) * 16;
        let tr = t.div_ceil(R) * R;
        scratch.clear();
        scratch.resize(tp * d + tr * tp, 0.0);
        let (kp, scores) = scratch.split_at_mut(tp * d);
        // Keys packed: [j / 16][c][j % 16].
        for j in 0..t {
            let k = &qkv[j * row + k_col..][..d];
            let base = (j / 16) * d * 16 + j % 16;
            for (c, &v) in k.iter().enumerate() {
                kp[base + c * 16] = v;
            }
        }
        let q = qkv.as_ptr().add(q_col);
        for i in (0..t).step_by(8) {
            for jb in 0..tp / 16 {
                let kb = kp.as_ptr().add(jb * d * 16);
                let dst = scores.as_mut_ptr().add(i * tp + jb * 16);
                let qi = q.add(i * row);
                macro_rules! tile {
                    ($($n:literal)+) => {
                        match (t - i).min(8) { $($n => scores_tile::<$n>(qi, row, kb, d, dst, tp),)+ _ => unreachable!() }
                    };
                }
                tile!(1 2 3 4 5 6 7 8);
            }
        }
        super::softmax_rows(Isa::Avx512, &mut scores[..t * tp], tp, t, scale);
        // Context: rows of P times V, 16 columns per vector.
        let v = qkv.as_ptr().add(v_col);
        let blocks = d / 16;
        for i in (0..t).step_by(R) {
            let p = scores.as_ptr().add(i * tp);
            let o = out.as_mut_ptr().add(i * d);
            let n = (t - i).min(R);
            if blocks.is_multiple_of(4) {
                for b0 in (0..blocks).step_by(4) {
                    let (vb, ob) = (v.add(b0 * 16), o.add(b0 * 16));
                    match n {
                        1 => context_tile::<1, 4>(p, tp, vb, row, t, ob, d),
                        2 => context_tile::<2, 4>(p, tp, vb, row, t, ob, d),
                        3 => context_tile::<3, 4>(p, tp, vb, row, t, ob, d),
                        _ => context_tile::<4, 4>(p, tp, vb, row, t, ob, d),
                    }
                }
            } else {
                for b0 in 0..blocks {
                    let (vb, ob) = (v.add(b0 * 16), o.add(b0 * 16));
                    match n {
                        1 => context_tile::<1, 1>(p, tp, vb, row, t, ob, d),
                        2 => context_tile::<2, 1>(p, tp, vb, row, t, ob, d),
                        3 => context_tile::<3, 1>(p, tp, vb, row, t, ob, d),
                        _ => context_tile::<4, 1>(p, tp, vb, row, t, ob, d),
                    }
                }
            }
        }
    }

    /// `N` rows of scores for 16 keys: `dst[r][0..16] = Σ_c q[r][c] · kb[c][0..16]`.
    #[inline(always)]
    unsafe fn scores_tile<const N: usize>(
        q: *const f32,
        row: usize,
        kb: *const f32,
        d: usize,
        dst: *mut f32,
        tp: usize,
    ) {
        let mut acc = [_mm512_setzero_ps(); N];
        for c in 0..d {
            let kv = _mm512_loadu_ps(kb.add(c * 16));
            for (r, a) in acc.iter_mut().enumerate() {
                *a = _mm512_fmadd_ps(_mm512_set1_ps(*q.add(r * row + c)), kv, *a);
            }
        }
        for (r, a) in acc.iter().enumerate() {
            _mm512_storeu_ps(dst.add(r * tp), *a);
        }
    }

    /// `N` rows of context, `B` vectors of 16 columns: `o[r] = Σ_j p[r][j] · v[j]`.
    #[inline(always)]
    unsafe fn context_tile<const N: usize, const B: usize>(
        p: *const f32,
        tp: usize,
        v: *const f32,
        row: usize,
        t: usize,
        o: *mut f32,
        d: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); B]; N];
        for j in 0..t {
            let mut vv = [_mm512_setzero_ps(); B];
            for (b, x) in vv.iter_mut().enumerate() {
                *x = _mm512_loadu_ps(v.add(j * row + b * 16));
            }
            for (r, a) in acc.iter_mut().enumerate() {
                let pr = _mm512_set1_ps(*p.add(r * tp + j));
                for b in 0..B {
                    a[b] = _mm512_fmadd_ps(pr, vv[b], a[b]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            for (b, x) in a.iter().enumerate() {
                _mm512_storeu_ps(o.add(r * d + b * 16), *x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_erf_are_accurate() {
        let mut worst_exp = 0f64;
        let mut worst_erf = 0f64;
        for i in -8000..=8000 {
            let x = i as f32 / 100.0;
            let e = (exp(x) as f64 - (x as f64).exp()).abs() / (x as f64).exp();
            worst_exp = worst_exp.max(e);
            if x.abs() < 6.0 {
                let want = libm_erf(x as f64);
                worst_erf = worst_erf.max((erf(x) as f64 - want).abs());
            }
        }
        assert!(worst_exp < 4e-7, "exp relative error {worst_exp}");
        assert!(worst_erf < 4e-7, "erf absolute error {worst_erf}");
    }

    /// erf by its Taylor series / continued fraction in f64, good to 1e-12 here.
    fn libm_erf(x: f64) -> f64 {
        if x.abs() > 3.0 {
            // 1 - erfc with the asymptotic continued fraction (Lentz), enough terms for |x| > 3.
            let a = x.abs();
            let mut f = a;
            for n in (1..60).rev() {
                f = a + (n as f64 / 2.0) / f;
            }
            let erfc = (-a * a).exp() / (std::f64::consts::PI.sqrt() * f);
            return (1.0 - erfc).copysign(x);
        }
        let mut term = x;
        let mut total = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            total += term / (2 * n + 1) as f64;
        }
        total * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn both_instruction_sets_agree_exactly() {
        let isa = Isa::detect();
        let x: Vec<f32> = (0..999)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let mut a = x.clone();
        let mut b = x.clone();
        activate(Isa::Portable, &mut a, Activation::GeluErf);
        activate(isa, &mut b, Activation::GeluErf);
        assert_eq!(a, b);
        let (g, be) = (vec![1.5f32; 333], vec![0.25f32; 333]);
        let mut a = x.clone();
        let mut b = x.clone();
        add_layer_norm(Isa::Portable, &mut a, &x, 333, &g, &be, 1e-12);
        add_layer_norm(isa, &mut b, &x, 333, &g, &be, 1e-12);
        assert_eq!(a, b);
        let row = &a[..333];
        let mean: f32 = row.iter().sum::<f32>() / 333.0;
        assert!((mean - 0.25).abs() < 1e-4, "normalized mean {mean}");
    }

    #[test]
    fn attention_matches_a_direct_computation() {
        // d = 5 runs the portable loop everywhere, d = 32 and 64 the AVX-512 kernel where there is one.
        for &(t, d) in &[(7usize, 5usize), (21, 32), (1, 64), (50, 64)] {
            let row = 3 * d + 3;
            let qkv: Vec<f32> = (0..t * row)
                .map(|i| ((i * 13 % 17) as f32 - 8.0) / 5.0)
                .collect();
            let mut out = vec![0f32; t * d];
            let mut scratch = Vec::new();
            let scale = 0.4;
            let cols = (1, d + 2, 2 * d + 3);
            for isa in [Isa::Portable, Isa::detect()] {
                let at = HeadLayout {
                    row,
                    t,
                    cols,
                    d,
                    scale,
                };
                attention_head(isa, &qkv, &at, &mut out, &mut scratch);
                for i in 0..t {
                    let s: Vec<f64> = (0..t)
                        .map(|j| {
                            (0..d)
                                .map(|c| {
                                    qkv[i * row + cols.0 + c] as f64
                                        * qkv[j * row + cols.1 + c] as f64
                                })
                                .sum::<f64>()
                                * scale as f64
                        })
                        .collect();
                    let m = s.iter().cloned().fold(f64::MIN, f64::max);
                    let z: f64 = s.iter().map(|v| (v - m).exp()).sum();
                    for c in 0..d {
                        let want: f64 = (0..t)
                            .map(|j| (s[j] - m).exp() / z * qkv[j * row + cols.2 + c] as f64)
                            .sum();
                        let got = out[i * d + c] as f64;
                        assert!(
                            (got - want).abs() < 1e-5,
                            "t={t} d={d} {isa:?}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn quantized_rows_round_trip() {
        let x: Vec<f32> = (0..40).map(|i| (i as f32 - 20.0) * 0.3).collect();
        let mut q = vec![0u8; 2 * 24];
        let mut s = vec![0f32; 2];
        quantize_rows(Isa::detect(), &x, 20, &mut q, 24, &mut s);
        for r in 0..2 {
            for c in 0..20 {
                let back = (q[r * 24 + c] as f32 - 128.0) * s[r];
                assert!((back - x[r * 20 + c]).abs() <= s[r] * 0.5 + 1e-6);
            }
            assert!(q[r * 24 + 20..r * 24 + 24].iter().all(|&b| b == 128));
        }
    }
}
