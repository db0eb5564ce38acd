//! Matrix products `out[m][n] = Σ_k a[m][k] · w[n][k] + bias[n]` with the weights packed once at load
//! time: f32 (AVX-512 FMA) and int8 (AVX-512 VNNI `vpdpbusd`: u8 activations × i8 weights, i32 sums).
//!
//! Both have a portable implementation that gives bit-identical results (the int8 sums are exact; the
//! f32 epilogue does the same operations in the same order), used on CPUs without AVX-512 and by the
//! tests that check the vector kernels.
//!
//! Layout: the `n` outputs are cut into panels of 16 columns; a panel stores, for each `k`, its 16
//! weights contiguously (f32), or for each group of four `k`, 16 × 4 bytes (int8, the operand layout
//! of `vpdpbusd`). The micro-kernel computes up to [`MR`] rows × 32 columns (two panels) in registers.

use super::Isa;

/// Rows per micro-kernel tile.
pub const MR: usize = 8;
const PANEL: usize = 16;

/// f32 weights of a linear layer `[n][k]` (PyTorch layout), packed.
#[derive(Debug, Clone)]
pub struct PackedF32 {
    pub k: usize,
    pub n: usize,
    panels: usize,
    /// `[panel][k][16]`, zero-padded to whole panels (an even number of them).
    data: Vec<f32>,
    /// Length `panels * 16`, zero-padded.
    bias: Vec<f32>,
}

fn panel_count(n: usize) -> usize {
    n.div_ceil(2 * PANEL) * 2
}

impl PackedF32 {
    /// `w`: `[n][k]` row-major; `bias`: `[n]`.
    pub fn new(w: &[f32], bias: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(w.len(), n * k, "weight shape");
        assert_eq!(bias.len(), n, "bias shape");
        let panels = panel_count(n);
        let mut data = vec![0f32; panels * PANEL * k];
        for col in 0..n {
            let (p, c) = (col / PANEL, col % PANEL);
            for kk in 0..k {
                data[(p * k + kk) * PANEL + c] = w[col * k + kk];
            }
        }
        let mut b = vec![0f32; panels * PANEL];
        b[..n].copy_from_slice(bias);
        Self {
            k,
            n,
            panels,
            data,
            bias: b,
        }
    }

    /// `out[m][n] = a[m] · w[n] + bias[n]` for the rows of `a` (`[rows][k]`), into `out` (`[rows][n]`).
    pub fn matmul(&self, isa: Isa, a: &[f32], out: &mut [f32]) {
        let rows = a.len() / self.k.max(1);
        assert_eq!(a.len(), rows * self.k);
        assert_eq!(out.len(), rows * self.n);
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { x86::f32_matmul(self, a, out, rows) },
            _ => self.matmul_portable(a, out, rows),
        }
    }

    fn matmul_portable(&self, a: &[f32], out: &mut [f32], rows: usize) {
        let k = self.k;
        for r in 0..rows {
            let arow = &a[r * k..(r + 1) * k];
            for col in 0..self.n {
                let (p, c) = (col / PANEL, col % PANEL);
                let mut acc = 0f32;
                for (kk, &x) in arow.iter().enumerate() {
                    acc += x * self.data[(p * k + kk) * PANEL + c];
                }
                out[r * self.n + col] = acc + self.bias[col];
            }
        }
    }
}

/// int8 weights of a linear layer, quantized per output column (symmetric, scale = max |w| / 127).
#[derive(Debug, Clone)]
pub struct PackedI8 {
    pub k: usize,
    pub n: usize,
    /// `k` rounded up to a multiple of 4.
    pub k4: usize,
    panels: usize,
    /// `[panel][k4 / 4][16][4]`, zero-padded.
    data: Vec<i8>,
    /// Per column: weight scale; `128 · Σ_k w_q[k]` (undoes the +128 shift of the activations); bias.
    scale: Vec<f32>,
    shift: Vec<i32>,
    bias: Vec<f32>,
}

impl PackedI8 {
    /// `w`: `[n][k]` row-major; `bias`: `[n]`.
    pub fn new(w: &[f32], bias: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(w.len(), n * k, "weight shape");
        assert_eq!(bias.len(), n, "bias shape");
        let panels = panel_count(n);
        let k4 = k.div_ceil(4) * 4;
        let width = panels * PANEL;
        let mut data = vec![0i8; width * k4];
        let mut scale = vec![0f32; width];
        let mut shift = vec![0i32; width];
        for col in 0..n {
            let row = &w[col * k..(col + 1) * k];
            let max = row.iter().fold(0f32, |m, &x| m.max(x.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            scale[col] = s;
            let (p, c) = (col / PANEL, col % PANEL);
            let mut sum = 0i32;
            for (kk, &x) in row.iter().enumerate() {
                let q = (x / s).round().clamp(-127.0, 127.0) as i8;
                sum += q as i32;
                let (g, j) = (kk / 4, kk % 4);
                data[((p * (k4 / 4) + g) * PANEL + c) * 4 + j] = q;
            }
            shift[col] = 128 * sum;
        }
        let mut b = vec![0f32; width];
        b[..n].copy_from_slice(bias);
        Self {
            k,
            n,
            k4,
            panels,
            data,
            scale,
            shift,
            bias: b,
        }
    }

    /// `out[m][n] = s_a[m] · s_w[n] · (Σ_k (q_a[m][k] − 128) · q_w[n][k]) + bias[n]`, where `qa` holds
    /// rows of `k4` bytes from [`super::ops::quantize_rows`] and `row_scale` their scales.
    pub fn matmul(&self, isa: Isa, qa: &[u8], row_scale: &[f32], out: &mut [f32]) {
        let rows = row_scale.len();
        assert_eq!(qa.len(), rows * self.k4);
        assert_eq!(out.len(), rows * self.n);
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { x86::i8_matmul(self, qa, row_scale, out, rows) },
            _ => self.matmul_portable(qa, row_scale, out, rows),
        }
    }

    fn matmul_portable(&self, qa: &[u8], row_scale: &[f32], out: &mut [f32], rows: usize) {
        let k4 = self.k4;
        for r in 0..rows {
            let arow = &qa[r * k4..(r + 1) * k4];
            for col in 0..self.n {
                let (p, c) = (col / PANEL, col % PANEL);
                let mut acc = 0i32;
                for (kk, &x) in arow.iter().enumerate() {
                    let (g, j) = (kk / 4, kk % 4);
                    let w = self.data[((p * (k4 / 4) + g) * PANEL + c) * 4 + j];
                    acc += x as i32 * w as i32;
                }
                let v = (acc - self.shift[col]) as f32;
                out[r * self.n + col] = v * (row_scale[r] * self.scale[col]) + self.bias[col];
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{PackedF32, PackedI8, MR, PANEL};
    use std::arch::x86_64::*;

    /// Mask of the valid columns of the 16-column panel starting at `col0` (of `n`).
    #[inline(always)]
    fn col_mask(col0: usize, n: usize) -> __mmask16 {
        let valid = n.saturating_sub(col0).min(PANEL);
        if valid == PANEL {
            0xffff
        } else {
            ((1u32 << valid) - 1) as __mmask16
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,fma")]
    pub(super) unsafe fn f32_matmul(w: &PackedF32, a: &[f32], out: &mut [f32], rows: usize) {
        let mut r0 = 0;
        while r0 < rows {
            let mr = (rows - r0).min(MR);
            for pp in (0..w.panels).step_by(2) {
                macro_rules! tile {
                    ($($r:literal)+) => {
                        match mr { $($r => f32_tile::<$r>(w, a, out, r0, pp),)+ _ => unreachable!() }
                    };
                }
                tile!(1 2 3 4 5 6 7 8);
            }
            r0 += mr;
        }
    }

    #[inline(always)]
    unsafe fn f32_tile<const R: usize>(
        w: &PackedF32,
        a: &[f32],
        out: &mut [f32],
        r0: usize,
        pp: usize,
    ) {
        let k = w.k;
        let b0 = w.data.as_ptr().add(pp * k * PANEL);
        let b1 = w.data.as_ptr().add((pp + 1) * k * PANEL);
        let ap = a.as_ptr().add(r0 * k);
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for kk in 0..k {
            let w0 = _mm512_loadu_ps(b0.add(kk * PANEL));
            let w1 = _mm512_loadu_ps(b1.add(kk * PANEL));
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*ap.add(r * k + kk));
                acc[0] = _mm512_fmadd_ps(x, w0, acc[0]);
                acc[1] = _mm512_fmadd_ps(x, w1, acc[1]);
            }
        }
        for (half, p) in [pp, pp + 1].into_iter().enumerate() {
            let col0 = p * PANEL;
            let m = col_mask(col0, w.n);
            if m == 0 {
                continue;
            }
            let bias = _mm512_loadu_ps(w.bias.as_ptr().add(col0));
            for (r, acc) in acc.iter().enumerate() {
                let v = _mm512_add_ps(acc[half], bias);
                _mm512_mask_storeu_ps(out.as_mut_ptr().add((r0 + r) * w.n + col0), m, v);
            }
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,fma")]
    pub(super) unsafe fn i8_matmul(
        w: &PackedI8,
        qa: &[u8],
        row_scale: &[f32],
        out: &mut [f32],
        rows: usize,
    ) {
        let mut r0 = 0;
        while r0 < rows {
            let mr = (rows - r0).min(MR);
            for pp in (0..w.panels).step_by(2) {
                macro_rules! tile {
                    ($($r:literal)+) => {
                        match mr { $($r => i8_tile::<$r>(w, qa, row_scale, out, r0, pp),)+ _ => unreachable!() }
                    };
                }
                tile!(1 2 3 4 5 6 7 8);
            }
            r0 += mr;
        }
    }

    #[inline(always)]
    unsafe fn i8_tile<const R: usize>(
        w: &PackedI8,
        qa: &[u8],
        row_scale: &[f32],
        out: &mut [f32],
        r0: usize,
        pp: usize,
    ) {
        let groups = w.k4 / 4;
        let b0 = w.data.as_ptr().add(pp * groups * PANEL * 4);
        let b1 = w.data.as_ptr().add((pp + 1) * groups * PANEL * 4);
        let ap = qa.as_ptr().add(r0 * w.k4);
        let mut acc = [[_mm512_setzero_si512(); 2]; R];
        for g in 0..groups {
            let w0 = _mm512_loadu_si512(b0.add(g * PANEL * 4) as *const _);
            let w1 = _mm512_loadu_si512(b1.add(g * PANEL * 4) as *const _);
            for (r, acc) in acc.iter_mut().enumerate() {
                let x =
                    _mm512_set1_epi32((ap.add(r * w.k4 + g * 4) as *const i32).read_unaligned());
                acc[0] = _mm512_dpbusd_epi32(acc[0], x, w0);
                acc[1] = _mm512_dpbusd_epi32(acc[1], x, w1);
            }
        }
        for (half, p) in [pp, pp + 1].into_iter().enumerate() {
            let col0 = p * PANEL;
            let m = col_mask(col0, w.n);
            if m == 0 {
                continue;
            }
            let shift = _mm512_loadu_si512(w.shift.as_ptr().add(col0) as *const _);
            let scale = _mm512_loadu_ps(w.scale.as_ptr().add(col0));
            let bias = _mm512_loadu_ps(w.bias.as_ptr().add(col0));
            for (r, acc) in acc.iter().enumerate() {
                let v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[half], shift));
                let s = _mm512_mul_ps(_mm512_set1_ps(row_scale[r0 + r]), scale);
                let v = _mm512_add_ps(_mm512_mul_ps(v, s), bias);
                _mm512_mask_storeu_ps(out.as_mut_ptr().add((r0 + r) * w.n + col0), m, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ops, Isa};
    use super::*;

    fn rand_vec(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn f32_vector_kernel_matches_portable_and_reference() {
        for &(rows, n, k) in &[(1, 3, 5), (7, 33, 17), (13, 64, 256), (9, 200, 31)] {
            let w = rand_vec(n * k, 1);
            let b = rand_vec(n, 2);
            let a = rand_vec(rows * k, 3);
            let p = PackedF32::new(&w, &b, n, k);
            let mut port = vec![0f32; rows * n];
            p.matmul(Isa::Portable, &a, &mut port);
            for r in 0..rows {
                for c in 0..n {
                    let want: f64 = (0..k)
                        .map(|i| a[r * k + i] as f64 * w[c * k + i] as f64)
                        .sum::<f64>()
                        + b[c] as f64;
                    assert!((port[r * n + c] as f64 - want).abs() < 1e-4);
                }
            }
            if Isa::detect() == Isa::Avx512 {
                let mut vec = vec![0f32; rows * n];
                p.matmul(Isa::Avx512, &a, &mut vec);
                for (x, y) in vec.iter().zip(&port) {
                    // FMA rounds once per step, the portable loop twice: close, not identical.
                    assert!((x - y).abs() < 1e-4, "{x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn int8_vector_kernel_is_bit_identical_to_portable_and_close_to_f32() {
        for &(rows, n, k) in &[(1, 3, 5), (7, 33, 17), (13, 64, 256), (9, 200, 31)] {
            let w = rand_vec(n * k, 4);
            let b = rand_vec(n, 5);
            let a = rand_vec(rows * k, 6);
            let p = PackedI8::new(&w, &b, n, k);
            let mut qa = vec![0u8; rows * p.k4];
            let mut scales = vec![0f32; rows];
            ops::quantize_rows(Isa::Portable, &a, k, &mut qa, p.k4, &mut scales);
            let mut port = vec![0f32; rows * n];
            p.matmul(Isa::Portable, &qa, &scales, &mut port);
            for r in 0..rows {
                for c in 0..n {
                    let want: f32 = (0..k).map(|i| a[r * k + i] * w[c * k + i]).sum::<f32>() + b[c];
                    // int8 × int8 with per-row and per-column scales: error ≲ 1% of |a|·|w|.
                    let bound = 0.02 * (k as f32).sqrt() + 0.01;
                    assert!((port[r * n + c] - want).abs() < bound);
                }
            }
            if Isa::detect() == Isa::Avx512 {
                let mut qa2 = vec![0u8; rows * p.k4];
                let mut scales2 = vec![0f32; rows];
                ops::quantize_rows(Isa::Avx512, &a, k, &mut qa2, p.k4, &mut scales2);
                assert_eq!(qa, qa2);
                assert_eq!(scales, scales2);
                let mut vec = vec![0f32; rows * n];
                p.matmul(Isa::Avx512, &qa, &scales, &mut vec);
                assert_eq!(vec, port);
            }
        }
    }
}
