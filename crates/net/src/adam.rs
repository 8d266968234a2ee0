//! Adam with L2 weight decay, step for step as `torch.optim.Adam` (not AdamW), with its
//! state exposed so that a resumed run continues exactly.

use tch::{Kind, Tensor};

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

    /// Restores [`Adam::state_dict`]; false (state unchanged) if it does not fit.
    pub fn load_state_dict(&mut self, entries: &[(String, Tensor)]) -> bool {
        let get = |n: &str| entries.iter().find(|(k, _)| k == n).map(|(_, t)| t);
        let Some(step) = get("step") else { return false };
        let n = self.exp_avg.len();
        let mut m = Vec::with_capacity(n);
        let mut v = Vec::with_capacity(n);
        for i in 0..n {
            match (get(&format!("exp_avg.{i}")), get(&format!("exp_avg_sq.{i}"))) {
                (Some(a), Some(b)) if a.size() == self.exp_avg[i].size() && b.size() == self.exp_avg_sq[i].size() => {
                    let like = &self.exp_avg[i];
                    m.push(a.to_kind(like.kind()).to_device(like.device()));
                    v.push(b.to_kind(like.kind()).to_device(like.device()));
                }
                _ => return false,
            }
        }
        self.step = step.int64_value(&[]);
        self.exp_avg = m;
        self.exp_avg_sq = v;
        true
    }
}
