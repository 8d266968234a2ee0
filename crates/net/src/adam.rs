//! Adam with L2 weight decay, step for step as `torch.optim.Adam` (not AdamW), with its
//! state exposed so that a resumed run continues exactly.

use tch::{Kind, Tensor};

use crate::error::StateMismatch;

/// `torch.optim.Adam(params, lr, weight_decay)` with betas (0.9, 0.999), eps 1e-8.
#[derive(Debug)]
pub struct Adam {
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Number of steps taken.
    pub step: i64,
    /// First and second moments, one per parameter.
    pub exp_avg: Vec<Tensor>,
    pub exp_avg_sq: Vec<Tensor>,
}

impl Adam {
    pub fn new(params: &[Tensor], lr: f64, weight_decay: f64) -> Self {
        Adam {
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 0,
            exp_avg: params.iter().map(|p| p.zeros_like().detach()).collect(),
            exp_avg_sq: params.iter().map(|p| p.zeros_like().detach()).collect(),
        }
    }

    /// Zeroes the gradients of `params`.
    pub fn zero_grad(params: &mut [Tensor]) {
        for p in params.iter_mut() {
            p.zero_grad();
        }
    }

    /// One update of `params` from their gradients (`p.grad()`).
    pub fn step(&mut self, params: &[Tensor]) {
        let grads: Vec<Tensor> = params.iter().map(|p| p.grad()).collect();
        self.step_with_grads(params, &grads);
    }

    /// One update of `params` from the gradients `grads` (same order; undefined ones skip
    /// their parameter).
    pub fn step_with_grads(&mut self, params: &[Tensor], grads: &[Tensor]) {
        self.step += 1;
        let t = self.step as i32;
        let bc1 = 1.0 - self.beta1.powi(t);
        let bc2_sqrt = (1.0 - self.beta2.powi(t)).sqrt();
        tch::no_grad(|| {
            for (((p, grad), m), v) in params.iter().zip(grads).zip(&mut self.exp_avg).zip(&mut self.exp_avg_sq) {
                if !grad.defined() {
                    continue;
                }
                let g = if self.weight_decay != 0.0 { grad + p * self.weight_decay } else { grad.shallow_clone() };
                let _ = m.g_mul_scalar_(self.beta1).g_add_(&(&g * (1.0 - self.beta1)));
                let _ = v.g_mul_scalar_(self.beta2).g_add_(&(&g * &g * (1.0 - self.beta2)));
                let denom = v.sqrt() / bc2_sqrt + self.eps;
                let mut p = p.shallow_clone();
                let _ = p.g_sub_(&(&*m / denom * (self.lr / bc1)));
            }
        });
    }

    /// The moments converted to `kind` (after the network's kind changes).
    pub fn set_kind(&mut self, kind: Kind) {
        for t in self.exp_avg.iter_mut().chain(self.exp_avg_sq.iter_mut()) {
            *t = t.to_kind(kind);
        }
    }

    /// State as named CPU tensors: `step`, `exp_avg.{i}`, `exp_avg_sq.{i}`.
    pub fn state_dict(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("step".to_string(), Tensor::from_slice(&[self.step]).view([] as [i64; 0]))];
        let cpu = |t: &Tensor| t.to_device(tch::Device::Cpu).to_kind(Kind::Double).contiguous();
        out.extend(self.exp_avg.iter().enumerate().map(|(i, t)| (format!("exp_avg.{i}"), cpu(t))));
        out.extend(self.exp_avg_sq.iter().enumerate().map(|(i, t)| (format!("exp_avg_sq.{i}"), cpu(t))));
        out
    }

    /// Restores [`Adam::state_dict`]; an error (state unchanged) if it does not fit these
    /// parameters.
    pub fn load_state_dict(&mut self, entries: &[(String, Tensor)]) -> Result<(), StateMismatch> {
        let get = |n: &str| entries.iter().find(|(k, _)| k == n).map(|(_, t)| t);
        let n = self.exp_avg.len();
        let expected = || format!("Adam for {n} parameters");
        let step = get("step").ok_or_else(|| StateMismatch::Missing { name: "step".into(), expected: expected() })?;
        let mut m = Vec::with_capacity(n);
        let mut v = Vec::with_capacity(n);
        for i in 0..n {
            for (name, like, out) in [
                (format!("exp_avg.{i}"), &self.exp_avg[i], &mut m),
                (format!("exp_avg_sq.{i}"), &self.exp_avg_sq[i], &mut v),
            ] {
                let t =
                    get(&name).ok_or_else(|| StateMismatch::Missing { name: name.clone(), expected: expected() })?;
                if t.size() != like.size() {
                    return Err(StateMismatch::Shape { name, found: t.size(), expected: like.size() });
                }
                out.push(t.to_kind(like.kind()).to_device(like.device()));
            }
        }
        self.step = step.int64_value(&[]);
        self.exp_avg = m;
        self.exp_avg_sq = v;
        Ok(())
    }
}
