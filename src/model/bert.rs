//! A BERT encoder in candle, usable for inference and for training (dropout and differentiable ops when
//! `train` is true; fused CPU kernels otherwise). Tensor names follow Hugging Face `BertModel`.

use super::config::{BertConfig, Pooling};
use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{Dropout, Embedding, Linear, VarBuilder};

/// Layer norm with a fused kernel at inference and plain (differentiable) ops in training.
#[derive(Debug, Clone)]
struct Norm {
    inner: candle_nn::LayerNorm,
    eps: f64,
}

impl Norm {
    fn new(size: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        // Old TF-converted checkpoints call the parameters gamma/beta.
        let (w, b) = if vb.contains_tensor("gamma") && !vb.contains_tensor("weight") {
            ("gamma", "beta")
        } else {
            ("weight", "bias")
        };
        let weight = vb.get_with_hints(size, w, candle_nn::Init::Const(1.0))?;
        let bias = vb.get_with_hints(size, b, candle_nn::Init::Const(0.0))?;
        Ok(Self {
            inner: candle_nn::LayerNorm::new(weight, bias, eps),
            eps,
        })
    }

    fn export(&self) -> Result<NormWeights> {
        let b = self.inner.bias().expect("layer norm built with a bias");
        Ok(NormWeights {
            gamma: self.inner.weight().to_dtype(DType::F32)?.to_vec1()?,
            beta: b.to_dtype(DType::F32)?.to_vec1()?,
            eps: self.eps as f32,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if !train {
            return self.inner.forward(x);
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = xc.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        let b = self.inner.bias().expect("layer norm built with a bias");
        normed.broadcast_mul(self.inner.weight())?.broadcast_add(b)
    }
}

fn linear(i: usize, o: usize, vb: VarBuilder) -> Result<Linear> {
    candle_nn::linear(i, o, vb)
}

/// A linear layer's parameters as plain f32: `w` is `[n][k]` (PyTorch layout), `b` is `[n]`.
#[derive(Debug, Clone)]
pub struct DenseWeights {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub n: usize,
    pub k: usize,
}

impl DenseWeights {
    pub fn of(l: &Linear) -> Result<Self> {
        let (n, k) = l.weight().dims2()?;
        let w = l.weight().to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let b = match l.bias() {
            Some(b) => b.to_dtype(DType::F32)?.to_vec1()?,
            None => vec![0.0; n],
        };
        Ok(Self { w, b, n, k })
    }

    /// Stacks layers with the same input size into one (outputs concatenated).
    pub fn stack(parts: &[DenseWeights]) -> Self {
        let k = parts[0].k;
        assert!(
            parts.iter().all(|p| p.k == k),
            "stacked layers share their input size"
        );
        Self {
            w: parts.iter().flat_map(|p| p.w.iter().copied()).collect(),
            b: parts.iter().flat_map(|p| p.b.iter().copied()).collect(),
            n: parts.iter().map(|p| p.n).sum(),
            k,
        }
    }
}

/// A layer norm's parameters.
#[derive(Debug, Clone)]
pub struct NormWeights {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub eps: f32,
}

/// One transformer layer's parameters (query, key and value stacked into `qkv`).
#[derive(Debug, Clone)]
pub struct LayerWeights {
    pub qkv: DenseWeights,
    pub attn_out: DenseWeights,
    pub attn_norm: NormWeights,
    pub ffn_in: DenseWeights,
    pub ffn_out: DenseWeights,
    pub ffn_norm: NormWeights,
}

/// The encoder's parameters as plain f32 arrays, for the fused CPU encoder.
#[derive(Debug, Clone)]
pub struct EncoderWeights {
    pub hidden: usize,
    pub heads: usize,
    pub act: Act,
    /// `[vocab][hidden]`, `[positions][hidden]`, and token type 0's `[hidden]`.
    pub word: Vec<f32>,
    pub position: Vec<f32>,
    pub token_type0: Vec<f32>,
    pub emb_norm: NormWeights,
    pub layers: Vec<LayerWeights>,
    pub pooler: DenseWeights,
}

use super::kernels::ops::Activation as Act;

#[derive(Debug, Clone)]
struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    ffn_in: Linear,
    ffn_out: Linear,
    ffn_norm: Norm,
}

/// The encoder: embeddings, transformer layers and the `[CLS]` pooler.
#[derive(Debug, Clone)]
pub struct BertEncoder {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    emb_norm: Norm,
    layers: Vec<Layer>,
    pooler: Linear,
    heads: usize,
    head_dim: usize,
    act: Act,
    hidden_dropout: Dropout,
    attn_dropout: Dropout,
}

impl BertEncoder {
    /// Builds the encoder from `vb` (already at the `bert` prefix, or the root for bare `BertModel` files).
    pub fn new(cfg: &BertConfig, vb: VarBuilder) -> Result<Self> {
        let h = cfg.hidden_size;
        let init = candle_nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let emb = vb.pp("embeddings");
        let word = Embedding::new(
            emb.pp("word_embeddings")
                .get_with_hints((cfg.vocab_size, h), "weight", init)?,
            h,
        );
        let position = Embedding::new(
            emb.pp("position_embeddings").get_with_hints(
                (cfg.max_position_embeddings, h),
                "weight",
                init,
            )?,
            h,
        );
        let token_type = Embedding::new(
            emb.pp("token_type_embeddings").get_with_hints(
                (cfg.type_vocab_size, h),
                "weight",
                init,
            )?,
            h,
        );
        let emb_norm = Norm::new(h, cfg.layer_norm_eps, emb.pp("LayerNorm"))?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let att = l.pp("attention");
            layers.push(Layer {
                q: linear(h, h, att.pp("self.query"))?,
                k: linear(h, h, att.pp("self.key"))?,
                v: linear(h, h, att.pp("self.value"))?,
                attn_out: linear(h, h, att.pp("output.dense"))?,
                attn_norm: Norm::new(h, cfg.layer_norm_eps, att.pp("output.LayerNorm"))?,
                ffn_in: linear(h, cfg.intermediate_size, l.pp("intermediate.dense"))?,
                ffn_out: linear(cfg.intermediate_size, h, l.pp("output.dense"))?,
                ffn_norm: Norm::new(h, cfg.layer_norm_eps, l.pp("output.LayerNorm"))?,
            });
        }
        let pooler = linear(h, h, vb.pp("pooler.dense"))?;
        let act = match cfg.hidden_act.as_str() {
            "gelu" => Act::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Act::GeluTanh,
            "relu" => Act::Relu,
            other => candle_core::bail!("hidden_act {other:?} is not supported"),
        };
        Ok(Self {
            word,
            position,
            token_type,
            emb_norm,
            layers,
            pooler,
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
            act,
            hidden_dropout: Dropout::new(cfg.hidden_dropout_prob as f32),
            attn_dropout: Dropout::new(cfg.attention_probs_dropout_prob as f32),
        })
    }

    /// The parameters as plain f32 arrays.
    pub fn export(&self) -> Result<EncoderWeights> {
        let flat =
            |t: &Tensor| -> Result<Vec<f32>> { t.to_dtype(DType::F32)?.flatten_all()?.to_vec1() };
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(LayerWeights {
                    qkv: DenseWeights::stack(&[
                        DenseWeights::of(&l.q)?,
                        DenseWeights::of(&l.k)?,
                        DenseWeights::of(&l.v)?,
                    ]),
                    attn_out: DenseWeights::of(&l.attn_out)?,
                    attn_norm: l.attn_norm.export()?,
                    ffn_in: DenseWeights::of(&l.ffn_in)?,
                    ffn_out: DenseWeights::of(&l.ffn_out)?,
                    ffn_norm: l.ffn_norm.export()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(EncoderWeights {
            hidden: self.heads * self.head_dim,
            heads: self.heads,
            act: self.act,
            word: flat(self.word.embeddings())?,
            position: flat(self.position.embeddings())?,
            token_type0: flat(&self.token_type.embeddings().get(0)?)?,
            emb_norm: self.emb_norm.export()?,
            layers,
            pooler: DenseWeights::of(&self.pooler)?,
        })
    }

    /// `input_ids`: u32 `[batch, seq]`; `mask`: f32 `[batch, seq]` (1 = token, 0 = padding).
    /// Returns the final token states `[batch, seq, hidden]` (see [`BertEncoder::pool`]).
    pub fn forward(&self, input_ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        let (b, t) = input_ids.dims2()?;
        let dev = input_ids.device();
        let positions = Tensor::arange(0u32, t as u32, dev)?;
        let mut x = self
            .word
            .forward(input_ids)?
            .broadcast_add(&self.position.forward(&positions)?)?
            .broadcast_add(&self.token_type.embeddings().get(0)?)?;
        x = self.emb_norm.forward(&x, train)?;
        x = self.hidden_dropout.forward(&x, train)?;
        // Additive mask: 0 for tokens, a large negative number for padding; shape [b, 1, 1, t].
        let bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 1e4)?.reshape((b, 1, 1, t))?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        for layer in &self.layers {
            x = self.layer_forward(layer, &x, &bias, scale, train)?;
        }
        Ok(x)
    }

    /// One vector per text `[batch, hidden]` from the token states of [`BertEncoder::forward`]:
    /// the pooled `[CLS]` state (dense + tanh), or the maximum or mean over the unpadded tokens.
    pub fn pool(&self, states: &Tensor, mask: &Tensor, pooling: Pooling) -> Result<Tensor> {
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        match pooling {
            Pooling::Cls => {
                let cls = states.narrow(1, 0, 1)?.squeeze(1)?;
                self.pooler.forward(&cls)?.tanh()
            }
            Pooling::Max => states.broadcast_add(&((mask - 1.0)? * 1e4)?)?.max(1),
            Pooling::Mean => states
                .broadcast_mul(&mask)?
                .sum(1)?
                .broadcast_div(&mask.sum(1)?),
        }
    }

    fn layer_forward(
        &self,
        l: &Layer,
        x: &Tensor,
        bias: &Tensor,
        scale: f64,
        train: bool,
    ) -> Result<Tensor> {
        let (b, t, h) = x.dims3()?;
        let split = |y: Tensor| -> Result<Tensor> {
            y.reshape((b, t, self.heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(l.q.forward(x)?)?;
        let k = split(l.k.forward(x)?)?;
        let v = split(l.v.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(bias)?;
        let probs = if train {
            candle_nn::ops::softmax(&scores, D::Minus1)?
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let probs = self.attn_dropout.forward(&probs, train)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, t, h))?;
        let attn = self
            .hidden_dropout
            .forward(&l.attn_out.forward(&ctx)?, train)?;
        let x = l.attn_norm.forward(&(attn + x)?, train)?;
        let inner = l.ffn_in.forward(&x)?;
        let inner = match self.act {
            Act::GeluErf => inner.gelu_erf()?,
            Act::GeluTanh => inner.gelu()?,
            Act::Relu => inner.relu()?,
        };
        let out = self
            .hidden_dropout
            .forward(&l.ffn_out.forward(&inner)?, train)?;
        l.ffn_norm.forward(&(out + x)?, train)
    }
}
