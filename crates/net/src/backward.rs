//! A training pass with a hand-written backward through the GConv stack.
//!
//! Autograd's backward of the row gather is an `index_add` (about as slow as a matrix
//! product on the CPU) and it materialises the group mean's gradient; here the neighbour
//! tables, which are permutations of the sites for every k, make the gather's backward a
//! gather with the inverse tables and a sum, and the softplus derivative is formed in place
//! from the saved pre-activations. Autograd still differentiates the cheap part, from the
//! scalar outputs `a` to the loss. Gradients equal autograd's to rounding (tested).

use tch::Tensor;

use crate::batch::{Batch, loss_from_vectors};
use crate::network::Gcnet;

/// Rotated filters and bias rows of every layer, built once per Adam step.
pub(crate) struct Filters {
    pub w: Vec<Tensor>,
    pub bias_row: Vec<Tensor>,
}

impl Filters {
    pub fn new(net: &Gcnet) -> Self {
        tch::no_grad(|| Filters {
            w: net.layers().iter().map(|l| l.filter_matrix().detach()).collect(),
            bias_row: net.layers().iter().map(|l| l.bias_row().detach()).collect(),
        })
    }
}

/// Gradients of the filter matrices and bias rows, summed over micro-batches.
pub(crate) struct FilterGrads {
    pub w: Vec<Tensor>,
    pub bias_row: Vec<Tensor>,
}

impl FilterGrads {
    pub fn zeros(f: &Filters) -> Self {
        FilterGrads {
            w: f.w.iter().map(|t| t.zeros_like()).collect(),
            bias_row: f.bias_row.iter().map(|t| t.zeros_like()).collect(),
        }
    }

    /// The gradients of every `Psi` and `bias`, in the order of [`Gcnet::parameters`].
    pub fn parameter_grads(&self, net: &Gcnet) -> Vec<Tensor> {
        let mut out = Vec::new();
        for ((layer, dw), db) in net.layers().iter().zip(&self.w).zip(&self.bias_row) {
            let (cin, cout, ng, k) = (layer.cin, layer.cout, layer.num_ops, layer.num_k);
            // dW[k*Cin + i, o*Ng + g] -> (Cout, Cin, Ng*K), summed into Psi[o, i, P[g,k]]
            let dw = dw.view([k, cin, cout, ng]).permute([2, 1, 3, 0]).reshape([cout, cin, ng * k]);
            let dpsi = Tensor::zeros([cout, cin, k], (dw.kind(), dw.device())).index_add(2, layer.filter_index(), &dw);
            out.push(dpsi);
            out.push(db.view([cout, ng]).sum_dim_intlist(1, true, None));
        }
        out
    }
}

/// What the forward pass keeps for the backward pass: per layer the gathered input and
/// the pre-activations.
struct Tape {
    gathered: Vec<Tensor>,
    pre: Vec<Tensor>,
}

fn forward_taped(net: &Gcnet, x: &Tensor, f: &Filters) -> (Tensor, Tape) {
    let rows = x.size()[0];
    let idx = net.gather_index(rows / net.num_sites() as i64);
    let k = (net.geometry().z + 1) as i64;
    let mut tape = Tape { gathered: Vec::new(), pre: Vec::new() };
    let mut h = x.shallow_clone();
    for (l, layer) in net.layers().iter().enumerate() {
        // (R, (z+1)*Cin) -> (R, Cout*Ng) -> (R, Cout)
        let g = h.index_select(0, &idx).view([rows, k * layer.cin]);
        let pre = f.bias_row[l].addmm(&g, &f.w[l]);
        h = pre.softplus().view([rows, layer.cout, layer.num_ops]).mean_dim(2, false, None);
        tape.gathered.push(g);
        tape.pre.push(pre);
    }
    (h, tape)
}

fn backward_taped(net: &Gcnet, tape: Tape, grad_out: Tensor, f: &Filters, grads: &mut FilterGrads) {
    let rows = grad_out.size()[0];
    let inv = net.inverse_gather_index(rows / net.num_sites() as i64);
    let k = (net.geometry().z + 1) as i64;
    let mut grad = grad_out;
    let Tape { gathered, pre } = tape;
    for (l, (layer, (g, mut pre))) in net.layers().iter().zip(gathered.into_iter().zip(pre)).enumerate().rev() {
        // d pre = sigmoid(pre) * grad / Ng, in place: (R, Cout, Ng)
        let _ = pre.sigmoid_();
        let mut dpre = pre.view([rows, layer.cout, layer.num_ops]);
        let _ = dpre.g_mul_(&(grad.unsqueeze(2) / layer.num_ops as f64));
        let dpre = dpre.view([rows, layer.cout * layer.num_ops]);
        let _ = grads.w[l].addmm_(&g.transpose(0, 1), &dpre);
        let _ = grads.bias_row[l].g_add_(&dpre.sum_dim_intlist(0, false, None));
        if l > 0 {
            // d gathered, transposed: ((z+1)*Cin, R); d h[t, i] = sum_k dG^T[k, i, NNinv[k, t]]
            let dgt = f.w[l].mm(&dpre.transpose(0, 1)).view([k, layer.cin, rows]);
            let idx = inv.expand([k, layer.cin, rows], false);
            grad = dgt.gather(2, &idx, false).sum_dim_intlist(0, false, None).transpose(0, 1);
        }
    }
}

/// Forward and backward of one micro-batch: adds the filter gradients of
/// `loss / l0` to `grads` and returns the loss value (`sum W |D|^2 / (6 l0)`).
pub(crate) fn train_pass(net: &Gcnet, batch: &Batch, l0: f64, f: &Filters, grads: &mut FilterGrads) -> f64 {
    let (a1, t1) = tch::no_grad(|| forward_taped(net, &batch.x1, f));
    let (a2, t2) = tch::no_grad(|| forward_taped(net, &batch.x2, f));
    let a1 = a1.detach().set_requires_grad(true);
    let a2 = a2.detach().set_requires_grad(true);
    let loss = loss_from_vectors(&net.site_vectors(&a1), &net.site_vectors(&a2), &batch.target) / l0;
    loss.backward();
    let value = loss.double_value(&[]);
    tch::no_grad(|| {
        backward_taped(net, t2, a2.grad(), f, grads);
        backward_taped(net, t1, a1.grad(), f, grads);
    });
    value
}

#[cfg(test)]
mod tests {
    use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
    use gcnet_data::LatticeGas;
    use tch::Device;

    use super::*;
    use crate::batch::{batch_loss, build};
    use crate::{Form, NetConfig, Objective, SampleSet, Species};

    /// The hand-written gradients equal autograd's, for a collective and a tracer loss.
    #[test]
    fn gradients_match_autograd() {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
        let data = LatticeGas::sr2(0.5).generate(&crystal, 6, 3).unwrap();
        tch::manual_seed(2);
        let cfg = NetConfig { nl: 1, nch: 3, ncl: 1, num_species: 2, ..NetConfig::default() };
        let net = Gcnet::from_crystal(&crystal, &cfg, Device::Cpu).unwrap();
        for (sp, form) in [(2i8, Form::Collective), (1, Form::Tracer)] {
            let obj = Objective::new(Species::new(&[sp], 2, 3).unwrap(), form, false, 1, 12).unwrap();
            let set = SampleSet::new(&data, (0..6).collect(), false, net.geometry(), 2);
            let b = build(&net, &set, &[0, 1, 2, 3, 4, 5], &obj);
            let mut params = net.parameters();
            crate::Adam::zero_grad(&mut params);
            let auto = batch_loss(&net, &b) / 0.7;
            auto.backward();
            let filters = Filters::new(&net);
            let mut grads = FilterGrads::zeros(&filters);
            let value = train_pass(&net, &b, 0.7, &filters, &mut grads);
            assert!((value - auto.double_value(&[])).abs() < 1e-12 * value.abs());
            for (p, g) in params.iter().zip(grads.parameter_grads(&net)) {
                let want = p.grad();
                let scale = want.abs().max().double_value(&[]).max(1e-300);
                let d = (&want - &g).abs().max().double_value(&[]) / scale;
                assert!(d < 1e-12, "{form:?}: gradient differs by {d} (relative)");
            }
        }
    }
}
