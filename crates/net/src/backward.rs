//! A training pass with a hand-written backward through the GConv stack.
//!
//! Autograd's backward of the row gather is an `index_add` (about as slow as a matrix
//! product on the CPU) and it materialises the group mean's gradient; here the neighbour
//! tables, which are permutations of the sites for every k, make the gather's backward a
//! gather with the inverse tables and a sum, and the softplus derivative is formed in place
//! from the saved pre-activations. Autograd still differentiates the cheap part, from the
//! scalar outputs `a` to the loss. Gradients equal autograd's to rounding (tested).
//!
//! The three matrix products of a layer go through `gcnet_kernels::products` as the
//! network's [`gcnet_kernels::Products`] choice says: on the CPU the `gemm` crate (AVX-512
//! where the CPU has it), elsewhere libtorch's `addmm` / `mm`.

use std::time::Instant;

use tch::Tensor;

use gcnet_kernels::{activation, gather_rows, neighbour_sum, products};

use crate::batch::{Batch, loss_from_vectors};
use crate::network::Gcnet;
use crate::side_by_side;
use crate::train::PassTimes;

/// The filters of every layer in the form the network's route multiplies with, built once
/// per Adam step: the rotated-filter matrices and bias rows of the dense route, or the
/// site filters `(Cin, K*Cout)` and biases `(Cout)` of the site-first route
/// ([`Gcnet::site_route`]).
pub(crate) struct Filters {
    pub site: bool,
    /// Samples side by side in a row of the site-first route (`crate::side_by_side`).
    pub group: i64,
    pub w: Vec<Tensor>,
    /// The site filters made wide for `group` samples (the forward's product).
    wide: Vec<Tensor>,
    pub bias_row: Vec<Tensor>,
    /// The weights they were made from, detached (replicas make their own from these).
    psi: Vec<Tensor>,
    bias: Vec<Tensor>,
}

impl Filters {
    pub fn new(net: &Gcnet) -> Self {
        let layers = net.layers();
        tch::no_grad(|| {
            let psi = layers.iter().map(|l| l.psi.detach().copy()).collect();
            let bias = layers.iter().map(|l| l.bias.detach().copy()).collect();
            Self::of_weights(net, psi, bias)
        })
    }

    fn of_weights(net: &Gcnet, psi: Vec<Tensor>, bias: Vec<Tensor>) -> Self {
        let site = net.site_route();
        let (w, bias_row): (Vec<Tensor>, Vec<Tensor>) =
            net.layers()
                .iter()
                .zip(psi.iter().zip(&bias))
                .map(|(l, (p, b))| {
                    if site { l.site_weights_of(p, b) } else { (l.filter_matrix_of(p), l.bias_row_of(b).contiguous()) }
                })
                .unzip();
        let group = if site { net.site_group() } else { 1 };
        let wide = if site {
            w.iter().zip(net.layers()).map(|(a, l)| side_by_side::filters_together(a, group, l.num_k, l.cout)).collect()
        } else {
            Vec::new()
        };
        Filters { site, group, w, wide, bias_row, psi, bias }
    }

    /// The same weights on `net`'s device, in the form of its route (a replica on another
    /// device).
    pub fn for_replica(&self, net: &Gcnet) -> Self {
        let d = net.device();
        let to = |v: &[Tensor]| v.iter().map(|t| t.to_device(d)).collect();
        tch::no_grad(|| Self::of_weights(net, to(&self.psi), to(&self.bias)))
    }
}

/// Gradients of the filters in the form of their [`Filters`], summed over micro-batches.
pub(crate) struct FilterGrads {
    site: bool,
    pub w: Vec<Tensor>,
    pub bias_row: Vec<Tensor>,
}

impl FilterGrads {
    pub fn zeros(f: &Filters) -> Self {
        FilterGrads {
            site: f.site,
            w: f.w.iter().map(|t| t.zeros_like()).collect(),
            bias_row: f.bias_row.iter().map(|t| t.zeros_like()).collect(),
        }
    }

    /// The gradients of every `Psi` and `bias`, in the order of [`Gcnet::parameters`].
    pub fn parameter_grads(&self, net: &Gcnet) -> Vec<Tensor> {
        let mut out = Vec::new();
        for ((layer, dw), db) in net.layers().iter().zip(&self.w).zip(&self.bias_row) {
            let (cin, cout, ng, k) = (layer.cin, layer.cout, layer.num_ops, layer.num_k);
            if self.site {
                out.push(layer.psi_grad_from_site(dw));
                out.push(db.view([cout, 1]));
                continue;
            }
            // dW[k*Cin + i, o*Ng + g] -> (Cout, Cin, Ng*K), summed into Psi[o, i, P[g,k]]
            let dw = dw.view([k, cin, cout, ng]).permute([2, 1, 3, 0]).reshape([cout, cin, ng * k]);
            let dpsi = Tensor::zeros([cout, cin, k], (dw.kind(), dw.device())).index_add(2, layer.filter_index(), &dw);
            out.push(dpsi);
            out.push(db.view([cout, ng]).sum_dim_intlist(1, true, None));
        }
        out
    }
}

/// What the forward pass keeps for the backward pass: per layer its input (the gathered
/// neighbour rows on the dense route, the activations on the site-first route) and the
/// softplus slopes at the pre-activations.
struct Tape {
    inputs: Vec<Tensor>,
    slope: Vec<Tensor>,
}

fn forward_taped(net: &Gcnet, x: &Tensor, f: &Filters) -> (Tensor, Tape) {
    let rows = x.size()[0];
    let batch = rows / net.num_sites() as i64;
    let mut tape = Tape { inputs: Vec::new(), slope: Vec::new() };
    let mut h = x.shallow_clone();
    if f.site {
        let (sites, group) = (net.num_sites() as i64, f.group);
        let table = net.neighbour_rows(side_by_side::groups(batch, group));
        h = side_by_side::rows_in(&h, sites, group);
        for (l, layer) in net.layers().iter().enumerate() {
            let (next, slope) = layer.forward_sites(&h, &f.wide[l], &f.bias_row[l], &table, group, true);
            tape.inputs.push(std::mem::replace(&mut h, next));
            tape.slope.push(slope);
        }
        return (side_by_side::rows_out(&h, sites, group, batch), tape);
    }
    let idx = net.gather_index(batch);
    let k = (net.geometry().z + 1) as i64;
    for (l, layer) in net.layers().iter().enumerate() {
        // (R, (z+1)*Cin) -> (R, Cout*Ng) -> (R, Cout)
        let g = gather_rows(net.products(), &h, &idx).view([rows, k * layer.cin]);
        let (mut pre, bias) = products::affine(net.products(), &g, &f.w[l], &f.bias_row[l]);
        h = activation::softplus_group_mean(&mut pre, bias, layer.cout, layer.num_ops, true);
        tape.inputs.push(g);
        tape.slope.push(pre);
    }
    (h, tape)
}

fn backward_taped(net: &Gcnet, tape: Tape, grad_out: Tensor, f: &Filters, grads: &mut FilterGrads) {
    let rows = grad_out.size()[0];
    let batch = rows / net.num_sites() as i64;
    let mut grad = grad_out;
    let Tape { inputs, slope } = tape;
    if f.site {
        let (sites, group) = (net.num_sites() as i64, f.group);
        let inv = net.inverse_rows(side_by_side::groups(batch, group));
        grad = side_by_side::rows_in(&grad, sites, group);
        for (l, (layer, (h, mut dpre))) in net.layers().iter().zip(inputs.into_iter().zip(slope)).enumerate().rev() {
            // d pre (R/group, Ng*group*Cout) in place; its sums per channel are d bias
            let width = group * layer.cout;
            let grad_rows = grad.view([-1, width]);
            let dbias = activation::scale_slopes_interleaved(&mut dpre, &grad_rows, width, layer.num_ops);
            let _ = grads.bias_row[l].g_add_(&dbias.view([group, layer.cout]).sum_dim_intlist(0, false, None));
            let dz = layer.backward_sites(&dpre, &inv, group); // (R, K*Cout)
            products::add_transposed_mm(net.products(), &mut grads.w[l], &h, &dz);
            if l > 0 {
                grad = products::mm_transposed(net.products(), &dz, &f.w[l]);
            }
        }
        return;
    }
    let inv = net.inverse_gather_index(batch);
    let k = (net.geometry().z + 1) as i64;
    for (l, (layer, (g, mut dpre))) in net.layers().iter().zip(inputs.into_iter().zip(slope)).enumerate().rev() {
        // d pre = slope * grad / Ng, in place: (R, Cout*Ng); its column sums are d bias_row
        let dbias = activation::scale_slopes(&mut dpre, &grad, layer.cout, layer.num_ops);
        let _ = grads.bias_row[l].g_add_(&dbias);
        products::add_mm(net.products(), &mut grads.w[l], &g.transpose(0, 1), &dpre);
        if l > 0 {
            // d gathered (R, (z+1)*Cin), then summed onto the sites it was read from
            let dg = products::mm_transposed(net.products(), &dpre, &f.w[l]);
            grad = neighbour_sum(net.products(), &dg, &inv, k, layer.cin);
        }
    }
}

/// Forward and backward of one micro-batch: adds the filter gradients of
/// `loss / l0` to `grads` and returns the loss value (`sum W |D|^2 / (6 l0)`); the time
/// of each phase is added to `times`.
pub(crate) fn train_pass(
    net: &Gcnet,
    batch: &Batch,
    l0: f64,
    f: &Filters,
    grads: &mut FilterGrads,
    times: &mut PassTimes,
) -> f64 {
    let start = Instant::now();
    let (a1, t1) = tch::no_grad(|| forward_taped(net, &batch.x1, f));
    let (a2, t2) = tch::no_grad(|| forward_taped(net, &batch.x2, f));
    let forward = start.elapsed();
    let a1 = a1.detach().set_requires_grad(true);
    let a2 = a2.detach().set_requires_grad(true);
    let loss = loss_from_vectors(&net.site_vectors(&a1), &net.site_vectors(&a2), &batch.target) / l0;
    loss.backward();
    let value = loss.double_value(&[]);
    let loss_done = start.elapsed();
    tch::no_grad(|| {
        backward_taped(net, t2, a2.grad(), f, grads);
        backward_taped(net, t1, a1.grad(), f, grads);
    });
    let rows = batch.x1.size()[0] as usize;
    *times += PassTimes {
        forward,
        loss: loss_done - forward,
        backward: start.elapsed() - loss_done,
        samples: rows / net.num_sites(),
    };
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

    /// Six SR-2 states on the 4x4x4 FCC cell and a network seeded with `seed`.
    fn small_case(data_seed: u64, seed: i64, nl: i64, nch: i64) -> (gcnet_data::Dataset, Gcnet) {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
        let data = LatticeGas::sr2(0.5).generate(&crystal, 6, data_seed).unwrap();
        tch::manual_seed(seed);
        let cfg = NetConfig { nl, nch, ncl: 1, num_species: 2, ..NetConfig::default() };
        (data, Gcnet::from_crystal(&crystal, &cfg, test_device()).unwrap())
    }

    /// GCNET_TEST_DEVICE=cuda runs these on a GPU (scripts/device_check.sh).
    fn test_device() -> Device {
        match std::env::var("GCNET_TEST_DEVICE").ok().as_deref() {
            Some("cuda") => Device::Cuda(0),
            _ => Device::Cpu,
        }
    }

    /// The hand-written gradients of `loss / 0.7` on batch `b` equal autograd's, on both
    /// routes of the products: the CPU route (gemm, our neighbour sum) and libtorch's
    /// (taken on CUDA).
    fn check_against_autograd(net: &mut Gcnet, b: &crate::batch::Batch, what: &str) {
        net.set_products(crate::Products::Gemm);
        let mut params = net.parameters();
        crate::Adam::zero_grad(&mut params);
        let auto = batch_loss(net, b) / 0.7;
        auto.backward();
        for libtorch in [false, true] {
            net.set_products(if libtorch { crate::Products::Libtorch } else { crate::Products::Gemm });
            let filters = Filters::new(net);
            let mut grads = FilterGrads::zeros(&filters);
            let value = train_pass(net, b, 0.7, &filters, &mut grads, &mut PassTimes::default());
            let dv = (value - auto.double_value(&[])).abs() / value.abs();
            assert!(dv < 1e-12, "{what}: loss differs by {dv} (relative)");
            // Relative to the largest gradient of any parameter: a bias gradient can be a
            // near-cancelling sum whose own size is at the rounding level of the others,
            // and autograd's summation order depends on the CPU and its thread count.
            let scale = params.iter().map(|p| p.grad().abs().max().double_value(&[])).fold(1e-300, f64::max);
            for (i, (p, g)) in params.iter().zip(grads.parameter_grads(net)).enumerate() {
                let d = (&p.grad() - &g).abs().max().double_value(&[]) / scale;
                assert!(
                    d < 1e-12,
                    "{what} (libtorch products: {libtorch}): gradient of parameter {i} differs by {d} (relative)"
                );
            }
        }
    }

    /// The hand-written gradients equal autograd's, for a collective and a tracer loss, and
    /// for an odd number of samples (with 3 channels in f64 the site-first route puts two
    /// samples side by side and pads the fifth).
    #[test]
    fn gradients_match_autograd() {
        let _rng = crate::global_rng();
        let (data, mut net) = small_case(3, 2, 1, 3);
        for (sp, form, order) in [
            (2i8, Form::Collective, &[0, 1, 2, 3, 4, 5][..]),
            (1, Form::Tracer, &[0, 1, 2, 3, 4, 5]),
            (2, Form::Collective, &[5, 1, 3, 0, 2]),
        ] {
            let obj = Objective::new(Species::new(&[sp], 2, 3).unwrap(), form, false, 1, 12).unwrap();
            let set = SampleSet::new(&data, (0..6).collect(), false, net.geometry(), 2);
            let b = build(&net, &set, order, &obj);
            check_against_autograd(&mut net, &b, &format!("{form:?}, {} samples", order.len()));
        }
    }

    /// The same for one y per label (two channels, labels 0 and 1 of SR-2, vacancy 2).
    #[test]
    fn label_gradients_match_autograd() {
        let _rng = crate::global_rng();
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
        let data = LatticeGas::sr2(0.5).generate(&crystal, 6, 4).unwrap();
        tch::manual_seed(5);
        let cfg = NetConfig { nl: 1, nch: 3, ncl: 2, num_species: 2, ..NetConfig::default() };
        let mut net = Gcnet::from_crystal(&crystal, &cfg, test_device()).unwrap();
        let obj = Objective::labels(Species::new(&[0, 1], 2, 3).unwrap(), vec![0.3, 2.0]).unwrap();
        let set = SampleSet::new(&data, (0..6).collect(), false, net.geometry(), 2);
        let b = build(&net, &set, &[0, 1, 2, 3, 4, 5], &obj);
        check_against_autograd(&mut net, &b, "one y per label");
    }

    /// In f32 (with a one-channel last layer) the loss and gradients agree with f64
    /// autograd to f32 rounding.
    #[test]
    fn f32_gradients_match_f64_autograd() {
        let _rng = crate::global_rng();
        let (data, mut net) = small_case(5, 3, 2, 4);
        let obj = Objective::collective(Species::new(&[2], 2, 3).unwrap());
        let set = SampleSet::new(&data, (0..6).collect(), false, net.geometry(), 2);
        let order = [0, 1, 2, 3, 4, 5];
        let mut params = net.parameters();
        crate::Adam::zero_grad(&mut params);
        let auto = batch_loss(&net, &build(&net, &set, &order, &obj));
        auto.backward();
        let want: Vec<Tensor> = params.iter().map(|p| p.grad().copy()).collect();
        net.set_kind(tch::Kind::Float);
        // libtorch's own f32 autograd on the same batch: the rounding f32 allows here
        let mut params32 = net.parameters();
        crate::Adam::zero_grad(&mut params32);
        let auto32 = batch_loss(&net, &build(&net, &set, &order, &obj));
        auto32.backward();
        let ref32: Vec<Tensor> = params32.iter().map(|p| p.grad().to_kind(tch::Kind::Double)).collect();
        let filters = Filters::new(&net);
        let mut grads = FilterGrads::zeros(&filters);
        let value =
            train_pass(&net, &build(&net, &set, &order, &obj), 1.0, &filters, &mut grads, &mut PassTimes::default());
        let rel = (value - auto.double_value(&[])).abs() / value.abs();
        // about 250 f32 epsilons: the loss sums squares of differences of site sums
        assert!(rel < 3e-5, "f32 loss differs by {rel}");
        // Relative to the largest gradient: the last bias's gradient is a near-cancelling
        // sum (a uniform shift of the outputs leaves y unchanged), so its own scale is not
        // one f32 can resolve. Each gradient is the difference of the two states' sums over
        // 384 sites, so f32 rounding moves it by up to some hundred unit roundoffs of the
        // largest: 1.1e-5 seen here, and libtorch's own f32 gradients by up to 7.8e-6, both
        // varying with the summation order (thread counts, CPU). The bound is 800 roundoffs;
        // a wrong term moves a gradient by 1e-3 or more.
        let scale = want.iter().map(|w| w.abs().max().double_value(&[])).fold(0.0, f64::max);
        let dist = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]) / scale;
        let libtorch_f32 = want.iter().zip(&ref32).map(|(w, r)| dist(w, r)).fold(0.0, f64::max);
        for (w, g) in want.iter().zip(grads.parameter_grads(&net)) {
            let d = dist(w, &g.to_kind(tch::Kind::Double));
            assert!(
                d < 5e-5,
                "f32 gradient of {:?} differs by {d} (relative; libtorch's f32: {libtorch_f32})",
                w.size()
            );
        }
    }
}
