//! Evaluation without gradients: the loss summed over a sample set, relaxation vectors
//! y(state) for getY, per-site vectors and layer representations for getRep.

use ndarray::{Array2, Array3, ArrayD, ArrayView2, ArrayView3, Axis, s};
use tch::{Device, Kind, Tensor};

use crate::batch::{self, chunks};
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::network::Gcnet;
use crate::objective::{Form, Objective};
use crate::samples::SampleSet;

pub(crate) fn to_vec(t: &Tensor) -> Vec<f64> {
    let t = t.to_device(Device::Cpu).to_kind(Kind::Double).contiguous().view([-1]);
    Vec::<f64>::try_from(&t).expect("a contiguous f64 tensor converts")
}

/// States per evaluation pass: at most `batch_size`, and small enough for the allocator
/// to reuse activation memory ([`Gcnet::auto_micro_batch`]).
fn chunk(net: &Gcnet, batch_size: usize) -> usize {
    batch_size.min(net.auto_micro_batch()).max(1)
}

/// The loss per state, [`loss_sum`] / the number of states (L with L0 = 1); a set without
/// states has none, and is refused rather than giving NaN.
pub fn mean_loss(net: &Gcnet, set: &SampleSet<'_>, obj: &Objective, batch_size: usize) -> Result<f64> {
    if set.num_states() == 0 {
        return Err(Error::Config("no states to evaluate L on".into()));
    }
    Ok(loss_sum(net, set, obj, batch_size) / set.num_states() as f64)
}

/// `sum_n W_n |dx_n + y(s2_n) - y(s1_n)|^2 / (6 L0)` over every sample of `set`.
pub fn loss_sum(net: &Gcnet, set: &SampleSet<'_>, obj: &Objective, batch_size: usize) -> f64 {
    tch::no_grad(|| {
        let order: Vec<usize> = (0..set.len()).collect();
        chunks(set.len(), chunk(net, batch_size))
            .map(|r| batch::batch_loss(net, &batch::build(net, set, &order[r], obj)).double_value(&[]))
            .sum::<f64>()
            / obj.l0
    })
}

/// The relaxation vector y(state) `(N, 3)` of every state (collective or boundary form,
/// SPEC section 5); boundary training needs each state's jump rates `(N, z)`. One y per
/// label ([`Form::Labels`]) is [`label_relaxation_vectors`].
pub fn relaxation_vectors(
    net: &Gcnet,
    states: ArrayView2<'_, i8>,
    jump_rates: Option<ArrayView2<'_, f64>>,
    obj: &Objective,
    batch_size: usize,
) -> Array2<f64> {
    assert!(obj.form != Form::Labels, "one y per label: use label_relaxation_vectors");
    let y = weighted_vectors(net, states, jump_rates, obj, batch_size, false);
    y.into_shape_with_order((states.nrows(), 3)).expect("one vector per state")
}

/// y of every label of S for every state, `(N, |S|, 3)` ([`Form::Labels`]).
pub fn label_relaxation_vectors(
    net: &Gcnet,
    states: ArrayView2<'_, i8>,
    obj: &Objective,
    batch_size: usize,
) -> Array3<f64> {
    assert!(obj.form == Form::Labels, "label_relaxation_vectors needs the Labels form");
    weighted_vectors(net, states, None, obj, batch_size, true)
}

/// [`label_relaxation_vectors`] of the states and of their z exit states (row `n*z + j`),
/// as [`exit_relaxation_vectors`] for one y.
pub fn label_exit_relaxation_vectors(
    net: &Gcnet,
    states: ArrayView2<'_, i8>,
    obj: &Objective,
    batch_size: usize,
) -> (Array3<f64>, Array3<f64>) {
    let g = net.geometry();
    let (n, z, c) = (states.nrows(), g.z, obj.species.labels().len());
    let y = label_relaxation_vectors(net, states, obj, batch_size);
    let mut exits = Array3::zeros((n * z, c, 3));
    for r in chunks(n, batch_size.div_ceil(z).max(1)) {
        let exits_of_chunk = exit_states(g, states.slice(s![r.clone(), ..]));
        let ye = label_relaxation_vectors(net, exits_of_chunk.view(), obj, batch_size);
        exits.slice_mut(s![r.start * z..r.end * z, .., ..]).assign(&ye);
    }
    (y, exits)
}

/// `sum_s w[c,s] y[c,:,s]` per state: summed over the channels `(N, 1, 3)`, or per channel
/// `(N, ncL, 3)`.
fn weighted_vectors(
    net: &Gcnet,
    states: ArrayView2<'_, i8>,
    jump_rates: Option<ArrayView2<'_, f64>>,
    obj: &Objective,
    batch_size: usize,
    per_channel: bool,
) -> Array3<f64> {
    let n = states.nrows();
    let (ncl, s) = (net.config().ncl as usize, net.num_sites());
    let c = if per_channel { ncl } else { 1 };
    let mut out = Array3::zeros((n, c, 3));
    // The tracer form's y(state) is the collective sum of its site vectors.
    let collective;
    let obj = if obj.form == Form::Tracer {
        collective = Objective { form: Form::Collective, ..obj.clone() };
        &collective
    } else {
        obj
    };
    tch::no_grad(|| {
        for r in chunks(n, chunk(net, batch_size)) {
            let st = states.slice(s![r.clone(), ..]);
            let mut w = Vec::with_capacity(r.len() * ncl * s);
            for (i, row) in st.outer_iter().enumerate() {
                let rates = jump_rates.map(|jr| jr.row(r.start + i).to_vec());
                obj.state_weights(&row.to_vec(), rates.as_deref(), ncl, &mut w);
            }
            let w = Tensor::from_slice(&w)
                .view([r.len() as i64, ncl as i64, s as i64])
                .to_kind(net.kind())
                .to_device(net.device());
            let y = net.forward(&net.one_hot(st, obj.species.vacancy_label()));
            let equation = if per_channel { "bcxs,bcs->bcx" } else { "bcxs,bcs->bx" };
            let v = to_vec(&Tensor::einsum(equation, &[&y, &w], None::<&[i64]>));
            out.slice_mut(s![r.clone(), .., ..]).assign(&ArrayView3::from_shape((r.len(), c, 3), &v).expect("(B,C,3)"));
        }
    });
    out
}

/// For all-jumps getY (`-aj`): `(y(state) (N, 3), y(exit) (N*z, 3))`, where exit row
/// `n*z + j` is y of the state reached from state n by jump j (translated so that the
/// vacancy is back on site 0, as SPEC section 2 defines the jump permutation). getY calls
/// it once for the initial and once for the final states.
pub fn exit_relaxation_vectors(
    net: &Gcnet,
    states: ArrayView2<'_, i8>,
    obj: &Objective,
    batch_size: usize,
) -> (Array2<f64>, Array2<f64>) {
    let g = net.geometry();
    let (n, z) = (states.nrows(), g.z);
    let y = relaxation_vectors(net, states, None, obj, batch_size);
    let mut exits = Array2::zeros((n * z, 3));
    let per = batch_size.div_ceil(z).max(1);
    for r in chunks(n, per) {
        let exits_of_chunk = exit_states(g, states.slice(s![r.clone(), ..]));
        let ye = relaxation_vectors(net, exits_of_chunk.view(), None, obj, batch_size);
        exits.slice_mut(s![r.start * z..r.end * z, ..]).assign(&ye);
    }
    (y, exits)
}

/// The z exit states of every state, row `n*z + j` the state reached from state n by
/// jump j, translated so that the vacancy is back on site 0 (SPEC section 2's jump
/// permutation).
pub fn exit_states(geometry: &Geometry, states: ArrayView2<'_, i8>) -> Array2<i8> {
    let z = geometry.z;
    Array2::from_shape_fn((states.nrows() * z, geometry.num_sites), |(row, site)| {
        states[[row / z, geometry.jump_perm[row % z][site]]]
    })
}

/// Per-site vectors of channel 0, `(N, S, 3)`: the tracer relaxation of the atom on each
/// site.
pub fn site_relaxation_vectors(net: &Gcnet, states: ArrayView2<'_, i8>, vacancy: i8, batch_size: usize) -> Array3<f64> {
    let (n, s) = (states.nrows(), net.num_sites());
    let mut out = Array3::zeros((n, s, 3));
    tch::no_grad(|| {
        for r in chunks(n, chunk(net, batch_size)) {
            let y = net.forward(&net.one_hot(states.slice(s![r.clone(), ..]), vacancy));
            let v = to_vec(&y.select(1, 0).permute([0, 2, 1]));
            let a = ndarray::ArrayView3::from_shape((r.len(), s, 3), &v).expect("(B,S,3)");
            out.slice_mut(s![r, .., ..]).assign(&a);
        }
    });
    out
}

/// The output of stack module `module` (see [`Gcnet::representation`]) for every state,
/// in the published getRep layout: `(N, C, S)` after a group-average module, `(N, ncL, 3,
/// S)` for the whole stack (the per-site vectors).
pub fn representation(
    net: &Gcnet,
    states: ArrayView2<'_, i8>,
    vacancy: i8,
    module: usize,
    batch_size: usize,
) -> Result<ArrayD<f64>> {
    let (n, s) = (states.nrows(), net.num_sites());
    let whole_stack = module == net.config().stack_len();
    let mut out: Option<ArrayD<f64>> = None;
    tch::no_grad(|| -> Result<()> {
        for r in chunks(n, chunk(net, batch_size)) {
            let x = net.one_hot(states.slice(s![r.clone(), ..]), vacancy);
            // (B, C, S) or (B, ncL, 3, S), as the published GCNet.getRep returns them
            let h = if whole_stack {
                net.forward(&x)
            } else {
                let h = net.representation(&x, module)?; // (B*S, C)
                let c = h.size()[1];
                h.view([r.len() as i64, s as i64, c]).permute([0, 2, 1])
            };
            let shape: Vec<usize> = h.size().iter().map(|&d| d as usize).collect();
            let o = out.get_or_insert_with(|| {
                let mut full = shape.clone();
                full[0] = n;
                ArrayD::zeros(full)
            });
            let v = to_vec(&h);
            o.slice_axis_mut(Axis(0), ndarray::Slice::from(r.clone()))
                .assign(&ndarray::ArrayViewD::from_shape(shape, &v).expect("contiguous block"));
        }
        Ok(())
    })?;
    Ok(out.unwrap_or_else(|| ArrayD::zeros(vec![0, 0, s])))
}
