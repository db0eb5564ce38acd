//! The fused CPU encoder: the same BERT forward pass as [`super::bert`], written directly over the
//! kernels in [`super::kernels`] instead of candle tensors.
//!
//! What makes it fast on a CPU:
//! - no padding: the texts of a batch are laid end to end, so the linear layers only see real tokens
//!   and attention runs per text;
//! - weights packed once at load time for the matrix kernel (f32, or int8 for `vpdpbusd`);
//! - per block of rows, everything from the attention output to the next layer's input (output
//!   projection, residual, layer norm, feed-forward, activation, residual, layer norm) runs in one task
//!   on one core while the rows are in cache; only attention needs whole texts;
//! - int8: weights quantized per output column, activations per row at run time (dynamic, symmetric).

use super::bert::{DenseWeights, EncoderWeights, NormWeights};
use super::config::Pooling;
use super::kernels::gemm::{PackedF32, PackedI8};
use super::kernels::ops::{self, Activation};
use super::kernels::Isa;
use rayon::prelude::*;

/// Arithmetic of the encoder's matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    /// int8 weights and activations, i32 sums (pooler and heads stay f32).
    Int8,
}

enum Dense {
    F32(PackedF32),
    I8(PackedI8),
}

impl Dense {
    fn new(d: &DenseWeights, precision: Precision) -> Self {
        match precision {
            Precision::F32 => Dense::F32(PackedF32::new(&d.w, &d.b, d.n, d.k)),
            Precision::Int8 => Dense::I8(PackedI8::new(&d.w, &d.b, d.n, d.k)),
        }
    }

    fn n(&self) -> usize {
        match self {
            Dense::F32(p) => p.n,
            Dense::I8(p) => p.n,
        }
    }

    /// `out = x · wᵀ + b` for the rows of `x`.
    fn forward(&self, isa: Isa, x: &[f32], out: &mut [f32], scratch: &mut Scratch) {
        match self {
            Dense::F32(p) => p.matmul(isa, x, out),
            Dense::I8(p) => {
                let rows = x.len() / p.k;
                scratch.q.resize(rows * p.k4, 0);
                scratch.scales.resize(rows, 0.0);
                ops::quantize_rows(isa, x, p.k, &mut scratch.q, p.k4, &mut scratch.scales);
                p.matmul(isa, &scratch.q, &scratch.scales, out);
            }
        }
    }
}

#[derive(Default)]
struct Scratch {
    q: Vec<u8>,
    scales: Vec<f32>,
}

struct Layer {
    qkv: Dense,
    attn_out: Dense,
    attn_norm: NormWeights,
    ffn_in: Dense,
    ffn_out: Dense,
    ffn_norm: NormWeights,
}

/// Encoder + pooler + classification heads (stacked), ready to run.
pub struct FusedEncoder {
    isa: Isa,
    precision: Precision,
    hidden: usize,
    heads: usize,
    act: Activation,
    max_positions: usize,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    emb_norm: NormWeights,
    layers: Vec<Layer>,
    pooler: PackedF32,
    /// The classification heads in output order, each with what it reads.
    classifiers: Vec<(Pooling, PackedF32)>,
}

impl FusedEncoder {
    /// `heads`: the classification heads' linear layers in output order, each with its pooling. Takes
    /// the encoder weights by value: the embedding tables (the largest arrays) move in, not copied.
    pub fn new(
        w: EncoderWeights,
        heads: &[(Pooling, DenseWeights)],
        precision: Precision,
        isa: Isa,
    ) -> Self {
        let layers = w
            .layers
            .iter()
            .map(|l| Layer {
                qkv: Dense::new(&l.qkv, precision),
                attn_out: Dense::new(&l.attn_out, precision),
                attn_norm: l.attn_norm.clone(),
                ffn_in: Dense::new(&l.ffn_in, precision),
                ffn_out: Dense::new(&l.ffn_out, precision),
                ffn_norm: l.ffn_norm.clone(),
            })
            .collect();
        Self {
            isa,
            precision,
            hidden: w.hidden,
            heads: w.heads,
            act: w.act,
            max_positions: w.position.len() / w.hidden,
            word: w.word,
            position: w.position,
            token_type0: w.token_type0,
            emb_norm: w.emb_norm,
            layers,
            pooler: PackedF32::new(&w.pooler.w, &w.pooler.b, w.pooler.n, w.pooler.k),
            classifiers: heads
                .iter()
                .map(|(p, d)| (*p, PackedF32::new(&d.w, &d.b, d.n, d.k)))
                .collect(),
        }
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Number of logits per text (all heads).
    pub fn outputs(&self) -> usize {
        self.classifiers.iter().map(|(_, c)| c.n).sum()
    }

    /// Logits of every text (all heads concatenated), in input order. Token ids must be below the
    /// vocabulary size and texts no longer than the position table (the caller's tokenizer ensures
    /// both; violations are reported as an error, not a panic).
    pub fn logits(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, String> {
        let h = self.hidden;
        let vocab = self.word.len() / h;
        let mut starts = Vec::with_capacity(batch.len() + 1);
        starts.push(0usize);
        for s in batch {
            if s.is_empty() {
                return Err("empty token sequence".into());
            }
            if s.len() > self.max_positions {
                return Err(format!(
                    "{} tokens but the model has {} positions",
                    s.len(),
                    self.max_positions
                ));
            }
            if let Some(&bad) = s.iter().find(|&&id| id as usize >= vocab) {
                return Err(format!(
                    "token id {bad} is outside the vocabulary ({vocab})"
                ));
            }
            starts.push(starts.last().unwrap() + s.len());
        }
        let rows = *starts.last().unwrap();
        let chunk = self.chunk_rows(rows);
        let isa = self.isa;

        // Embeddings + layer norm.
        let mut x = vec![0f32; rows * h];
        let ids: Vec<(u32, usize)> = batch
            .iter()
            .flat_map(|s| s.iter().enumerate().map(|(p, &id)| (id, p)))
            .collect();
        x.par_chunks_mut(chunk * h)
            .zip(ids.par_chunks(chunk))
            .for_each(|(xs, ids)| {
                for (row, &(id, pos)) in xs.chunks_exact_mut(h).zip(ids) {
                    let w = &self.word[id as usize * h..][..h];
                    let p = &self.position[pos * h..][..h];
                    for (((o, &a), &b), &c) in row.iter_mut().zip(w).zip(p).zip(&self.token_type0) {
                        *o = a + b;
                        *o += c;
                    }
                }
                let zero = vec![0f32; xs.len()];
                let n = &self.emb_norm;
                ops::add_layer_norm(isa, xs, &zero, h, &n.gamma, &n.beta, n.eps);
            });

        let mut qkv = vec![0f32; rows * 3 * h];
        let mut ctx = vec![0f32; rows * h];
        for layer in &self.layers {
            // Query, key and value of every row.
            x.par_chunks(chunk * h)
                .zip(qkv.par_chunks_mut(chunk * 3 * h))
                .for_each_init(Scratch::default, |scratch, (xs, out)| {
                    layer.qkv.forward(isa, xs, out, scratch)
                });
            self.attention(&qkv, &starts, &mut ctx);
            // Everything else, row-local.
            x.par_chunks_mut(chunk * h)
                .zip(ctx.par_chunks(chunk * h))
                .for_each_init(Scratch::default, |scratch, (xs, cs)| {
                    self.feed_forward(layer, xs, cs, scratch)
                });
        }

        // Pooled vectors (each kind computed once) → heads.
        let mut out = vec![Vec::with_capacity(self.outputs()); batch.len()];
        let mut pooled: Vec<(Pooling, Vec<f32>)> = Vec::new();
        for (pooling, classifier) in &self.classifiers {
            let i = match pooled.iter().position(|(p, _)| p == pooling) {
                Some(i) => i,
                None => {
                    pooled.push((*pooling, self.pool(&x, &starts, *pooling)));
                    pooled.len() - 1
                }
            };
            let n = classifier.n;
            let mut logits = vec![0f32; batch.len() * n];
            classifier.matmul(isa, &pooled[i].1, &mut logits);
            for (o, l) in out.iter_mut().zip(logits.chunks_exact(n.max(1))) {
                o.extend_from_slice(l);
            }
        }
        Ok(out)
    }

    /// One `hidden`-vector per text from the final token states `x` (texts at `starts`).
    fn pool(&self, x: &[f32], starts: &[usize], pooling: Pooling) -> Vec<f32> {
        let h = self.hidden;
        let texts = starts.len() - 1;
        let mut pooled = vec![0f32; texts * h];
        match pooling {
            Pooling::Cls => {
                let mut cls = Vec::with_capacity(texts * h);
                for &s in &starts[..texts] {
                    cls.extend_from_slice(&x[s * h..(s + 1) * h]);
                }
                self.pooler.matmul(self.isa, &cls, &mut pooled);
                for v in pooled.iter_mut() {
                    *v = v.tanh();
                }
            }
            Pooling::Max | Pooling::Mean => {
                for (t, p) in pooled.chunks_exact_mut(h).enumerate() {
                    let rows = x[starts[t] * h..starts[t + 1] * h].chunks_exact(h);
                    if pooling == Pooling::Max {
                        p.fill(f32::NEG_INFINITY);
                        for row in rows {
                            for (a, &b) in p.iter_mut().zip(row) {
                                *a = a.max(b);
                            }
                        }
                    } else {
                        let n = (starts[t + 1] - starts[t]) as f32;
                        for row in rows {
                            for (a, &b) in p.iter_mut().zip(row) {
                                *a += b;
                            }
                        }
                        for a in p.iter_mut() {
                            *a /= n;
                        }
                    }
                }
            }
        }
        pooled
    }

    /// Rows per parallel task: about four tasks per thread, at least one kernel tile.
    fn chunk_rows(&self, rows: usize) -> usize {
        let tasks = rayon::current_num_threads().max(1) * 4;
        rows.div_ceil(tasks).max(super::kernels::gemm::MR).max(1)
    }

    /// Self-attention of every text and head: `qkv` rows → context rows.
    fn attention(&self, qkv: &[f32], starts: &[usize], ctx: &mut [f32]) {
        let h = self.hidden;
        let d = h / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        let isa = self.isa;
        let tasks: Vec<(usize, usize)> = (0..starts.len() - 1)
            .flat_map(|s| (0..self.heads).map(move |head| (s, head)))
            .collect();
        let outs: Vec<Vec<f32>> = tasks
            .par_iter()
            .map_init(Vec::new, |scratch, &(s, head)| {
                let (a, b) = (starts[s], starts[s + 1]);
                let t = b - a;
                let mut out = vec![0f32; t * d];
                let at = ops::HeadLayout {
                    row: 3 * h,
                    t,
                    cols: (head * d, h + head * d, 2 * h + head * d),
                    d,
                    scale,
                };
                ops::attention_head(isa, &qkv[a * 3 * h..b * 3 * h], &at, &mut out, scratch);
                out
            })
            .collect();
        for (&(s, head), out) in tasks.iter().zip(&outs) {
            for (i, o) in out.chunks_exact(d).enumerate() {
                ctx[(starts[s] + i) * h + head * d..][..d].copy_from_slice(o);
            }
        }
    }

    /// Output projection + residual + norm, feed-forward + residual + norm, for a block of rows.
    fn feed_forward(&self, l: &Layer, x: &mut [f32], ctx: &[f32], scratch: &mut Scratch) {
        let (h, isa) = (self.hidden, self.isa);
        let rows = x.len() / h;
        let mut attn = vec![0f32; rows * h];
        l.attn_out.forward(isa, ctx, &mut attn, scratch);
        let n = &l.attn_norm;
        ops::add_layer_norm(isa, &mut attn, x, h, &n.gamma, &n.beta, n.eps);
        let mut inner = vec![0f32; rows * l.ffn_in.n()];
        l.ffn_in.forward(isa, &attn, &mut inner, scratch);
        ops::activate(isa, &mut inner, self.act);
        l.ffn_out.forward(isa, &inner, x, scratch);
        let n = &l.ffn_norm;
        ops::add_layer_norm(isa, x, &attn, h, &n.gamma, &n.beta, n.eps);
    }
}
