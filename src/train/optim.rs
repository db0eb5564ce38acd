//! AdamW with a warmup-then-linear-decay schedule and global gradient-norm clipping. Written here (not
//! candle-nn's `AdamW`) so the moment estimates can be saved in a checkpoint and restored by `--resume`.

use candle_core::backprop::GradStore;
use candle_core::{DType, Result, Tensor, Var};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Copy)]
pub struct AdamWParams {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value (0 = no clipping).
    pub clip_norm: f64,
}

/// Learning rate at `step` (0-based): linear warmup over `warmup` steps, then linear decay to 0 at `total`.
pub fn schedule(base: f64, step: usize, warmup: usize, total: usize) -> f64 {
    if warmup > 0 && step < warmup {
        return base * (step + 1) as f64 / warmup as f64;
    }
    let rest = total.saturating_sub(warmup).max(1);
    let done = step.saturating_sub(warmup);
    base * (1.0 - done as f64 / rest as f64).max(0.0)
}

pub struct AdamW {
    /// Parameters by name, sorted, so checkpoints are deterministic.
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Exponential moving average of the weights (decay, shadow per var), when enabled.
    ema: Option<(f64, Vec<Tensor>)>,
    pub params: AdamWParams,
    pub step: usize,
}

impl AdamW {
    pub fn new(mut vars: Vec<(String, Var)>, params: AdamWParams) -> Result<Self> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let m = vars
            .iter()
            .map(|(_, v)| v.zeros_like())
            .collect::<Result<Vec<_>>>()?;
        let v = m.clone();
        Ok(Self {
            vars,
            m,
            v,
            ema: None,
            params,
            step: 0,
        })
    }

    /// Keeps an exponential moving average of the weights with this decay (0 = off), updated after every
    /// step; [`AdamW::export`] then returns the average instead of the last weights.
    pub fn with_ema(mut self, decay: f64) -> Result<Self> {
        if decay > 0.0 {
            let shadow = self
                .vars
                .iter()
                .map(|(_, v)| v.as_tensor().copy())
                .collect::<Result<Vec<_>>>()?;
            self.ema = Some((decay, shadow));
        }
        Ok(self)
    }

    /// The weights to ship: the moving average when enabled, else the current weights; by name.
    pub fn export(&self) -> Vec<(String, Tensor)> {
        match &self.ema {
            Some((_, shadow)) => self
                .vars
                .iter()
                .zip(shadow)
                .map(|((n, _), t)| (n.clone(), t.clone()))
                .collect(),
            None => self
                .vars
                .iter()
                .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
                .collect(),
        }
    }

    /// The global L2 norm of the gradients.
    pub fn grad_norm(&self, grads: &GradStore) -> Result<f64> {
        let mut sum = 0f64;
        for (_, var) in &self.vars {
            if let Some(g) = grads.get(var) {
                sum += g
                    .sqr()?
                    .sum_all()?
                    .to_dtype(DType::F64)?
                    .to_scalar::<f64>()?;
            }
        }
        Ok(sum.sqrt())
    }

    /// One update with learning rate `lr`. Returns the gradient norm before clipping.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<f64> {
        let p = self.params;
        let norm = self.grad_norm(grads)?;
        let scale = if p.clip_norm > 0.0 && norm > p.clip_norm {
            p.clip_norm / norm
        } else {
            1.0
        };
        self.step += 1;
        let t = self.step as i32;
        let bc1 = 1.0 - p.beta1.powi(t);
        let bc2 = 1.0 - p.beta2.powi(t);
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var) else { continue };
            let g = (g * scale)?;
            let m = ((&self.m[i] * p.beta1)? + (&g * (1.0 - p.beta1))?)?;
            let v = ((&self.v[i] * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?;
            let update = ((&m / bc1)? / ((&v / bc2)?.sqrt()? + p.eps)?)?;
            // Decoupled weight decay on matrices only (not on biases and layer-norm gains).
            let theta = var.as_tensor();
            let next = if theta.rank() >= 2 && p.weight_decay > 0.0 {
                ((theta * (1.0 - lr * p.weight_decay))? - (update * lr)?)?
            } else {
                (theta - (update * lr)?)?
            };
            var.set(&next)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        if let Some((decay, shadow)) = &mut self.ema {
            // Warm-up of the decay, so a short run (a quick fine-tune) is not dominated by its start.
            let t = self.step as f64;
            let d = decay.min((1.0 + t) / (10.0 + t));
            for (s, (_, var)) in shadow.iter_mut().zip(&self.vars) {
                *s = ((&*s * d)? + (var.as_tensor() * (1.0 - d))?)?;
            }
        }
        Ok(norm)
    }

    /// Saves the moment estimates (`m.<name>`, `v.<name>`).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut map: HashMap<String, Tensor> = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            map.insert(format!("m.{name}"), self.m[i].clone());
            map.insert(format!("v.{name}"), self.v[i].clone());
            if let Some((_, shadow)) = &self.ema {
                map.insert(format!("ema.{name}"), shadow[i].clone());
            }
        }
        candle_core::safetensors::save(&map, path)
    }

    /// Restores the moment estimates saved by [`AdamW::save`] and the step count.
    pub fn load(&mut self, path: &Path, step: usize) -> Result<()> {
        let dev = self.vars.first().map(|(_, v)| v.device().clone());
        let Some(dev) = dev else { return Ok(()) };
        let map = candle_core::safetensors::load(path, &dev)?;
        for (i, (name, _)) in self.vars.iter().enumerate() {
            let get = |k: String| {
                map.get(&k).cloned().ok_or_else(|| {
                    candle_core::Error::Msg(format!("{}: no tensor {k}", path.display()))
                })
            };
            self.m[i] = get(format!("m.{name}"))?;
            self.v[i] = get(format!("v.{name}"))?;
            if let Some((_, shadow)) = &mut self.ema {
                shadow[i] = get(format!("ema.{name}"))?;
            }
        }
        self.step = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn schedule_warms_up_then_decays() {
        assert!((schedule(1.0, 0, 10, 100) - 0.1).abs() < 1e-12);
        assert!((schedule(1.0, 9, 10, 100) - 1.0).abs() < 1e-12);
        assert!((schedule(1.0, 55, 10, 100) - 0.5).abs() < 1e-12);
        assert_eq!(schedule(1.0, 100, 10, 100), 0.0);
    }

    #[test]
    fn minimizes_a_quadratic_and_clips() -> Result<()> {
        let x = Var::from_slice(&[3f32, -2.0], 2, &Device::Cpu)?;
        let params = AdamWParams {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            clip_norm: 1.0,
        };
        let mut opt = AdamW::new(vec![("x".into(), x.clone())], params)?;
        let mut first_norm = 0.0;
        for i in 0..300 {
            let loss = x.as_tensor().sqr()?.sum_all()?;
            let grads = loss.backward()?;
            let n = opt.step(&grads, 0.1)?;
            if i == 0 {
                first_norm = n;
            }
        }
        assert!((first_norm - (36f64 + 16.0).sqrt()).abs() < 1e-4);
        let v = x.as_tensor().to_vec1::<f32>()?;
        assert!(v.iter().all(|a| a.abs() < 0.05), "{v:?}");
        Ok(())
    }

    #[test]
    fn ema_trails_the_weights_and_is_exported() -> Result<()> {
        let x = Var::from_slice(&[1f32], 1, &Device::Cpu)?;
        let params = AdamWParams {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            clip_norm: 0.0,
        };
        let mut opt = AdamW::new(vec![("x".into(), x.clone())], params)?.with_ema(0.5)?;
        let grads = x.as_tensor().sum_all()?.backward()?;
        opt.step(&grads, 0.1)?;
        // Adam's first step moves by lr: x = 0.9; the decay at step 1 is min(0.5, 2/11) = 2/11.
        let w = x.as_tensor().to_vec1::<f32>()?[0];
        let e = opt.export()[0].1.to_vec1::<f32>()?[0];
        let d = 2.0 / 11.0;
        assert!((w - 0.9).abs() < 1e-5, "{w}");
        assert!((e - (d * 1.0 + (1.0 - d) * 0.9)).abs() < 1e-5, "{e}");
        Ok(())
    }
}
