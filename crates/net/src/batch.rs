//! Batches: a few samples turned into device tensors once (network inputs of both states,
//! the weights that form y(state), displacements and rates).

use ndarray::Array2;
use tch::Tensor;

use crate::network::Gcnet;
use crate::objective::{Form, Objective};
use crate::samples::{SampleRef, SampleSet};

/// What the loss compares, on the device.
pub enum Target {
    /// Collective and boundary forms: `y(state) = sum_{c,s} w[b,c,s] y[b,c,:,s]`.
    Collective {
        /// `(B, ncL, S)` weights of s1 and s2.
        w1: Tensor,
        w2: Tensor,
        /// `(B, 3)` displacement of S in the step.
        dx: Tensor,
        /// `(B)` rate W of the sample.
        rates: Tensor,
    },
    /// One y per label ([`Form::Labels`]): channel c is y of label `S[c]`.
    Labels {
        /// `(B, ncL, S)` weights of s1 and s2 (1 on the sites of the channel's label).
        w1: Tensor,
        w2: Tensor,
        /// `(B, ncL, 3)` displacement of each label in the step.
        dx: Tensor,
        /// `(B)` rate W of the sample.
        rates: Tensor,
        /// `(ncL)` weight of each label's term (1 / its L0).
        scale: Tensor,
    },
    /// Tracer form: one term per atom of S.
    Tracer {
        /// `(B*S)` row of y2 where the atom on each row of y1 ends.
        dest: Tensor,
        /// `(B*S)` W of the sample on the rows of atoms of S, else 0.
        weight: Tensor,
        /// `(B*S, 3)` displacement of each atom (non-zero only for the exchanged atom).
        u: Tensor,
    },
}

/// Network inputs `(B*S, NSpec)` of the initial and final states and the loss target.
pub struct Batch {
    pub x1: Tensor,
    pub x2: Tensor,
    pub target: Target,
    pub len: usize,
}

/// The pieces of one sample, on the host.
pub(crate) struct Step {
    pub s2: Vec<i8>,
    /// Displacement of every label (vacancy included).
    pub disps: Vec<[f64; 3]>,
    pub rate: f64,
    pub jump: usize,
}

pub(crate) fn step(set: &SampleSet<'_>, net: &Gcnet, r: SampleRef, vacancy: i8) -> Step {
    let data = set.data;
    let g = net.geometry();
    let s1 = data.init_states.row(r.state);
    let nl = data.num_labels();
    match r.exit {
        None => Step {
            s2: data.fin_states.row(r.state).to_vec(),
            disps: (0..nl).map(|l| [0, 1, 2].map(|x| data.spec_disps[[r.state, l, x]])).collect(),
            rate: data.rates[r.state],
            jump: data.jump_selects[r.state] as usize,
        },
        Some(j) => {
            let s2 = g.jump_perm[j].iter().map(|&p| s1[p]).collect();
            let a = set.jump_scale;
            let mut disps = vec![[0.0; 3]; nl];
            let exchanged = s1[g.neighbour(0, j)] as usize;
            disps[exchanged] = g.jumps[j].map(|d| -a * d);
            disps[vacancy as usize] = g.jumps[j].map(|d| a * d);
            Step { s2, disps, rate: data.jump_rates_init[[r.state, j]], jump: j }
        }
    }
}

/// Builds the batch of samples `indices` of `set` on the network's device.
pub fn build(net: &Gcnet, set: &SampleSet<'_>, indices: &[usize], obj: &Objective) -> Batch {
    let data = set.data;
    let g = net.geometry();
    let (b, s) = (indices.len(), g.num_sites);
    let ncl = net.config().ncl as usize;
    let v = obj.species.vacancy_label();
    let mut st1 = Array2::<i8>::zeros((b, s));
    let mut st2 = Array2::<i8>::zeros((b, s));
    let (mut w1, mut w2, mut dx, mut rates) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut dest, mut weight, mut u) = (Vec::new(), Vec::new(), Vec::new());
    for (bi, &i) in indices.iter().enumerate() {
        let r = set.sample(i);
        let step = step(set, net, r, v);
        let s1 = data.init_states.row(r.state);
        st1.row_mut(bi).assign(&s1);
        st2.row_mut(bi).assign(&ndarray::aview1(&step.s2));
        let s1 = s1.to_vec();
        match obj.form {
            Form::Tracer => {
                weight.extend(s1.iter().map(|&l| if obj.species.holds(l) { step.rate } else { 0.0 }));
                dest.extend(g.jump_dest[step.jump].iter().map(|&d| (bi * s + d) as i64));
                let exchanged = g.neighbour(0, step.jump);
                let mut rows = vec![0.0; 3 * s];
                for x in 0..3 {
                    rows[3 * exchanged + x] = -step.disps[v as usize][x];
                }
                u.extend(rows);
            }
            _ => {
                let (r1, r2) = match obj.form {
                    Form::Boundary { .. } => (
                        Some(data.jump_rates_init.row(r.state).to_vec()),
                        Some(data.jump_rates_fin.row(r.state).to_vec()),
                    ),
                    _ => (None, None),
                };
                obj.state_weights(&s1, r1.as_deref(), ncl, &mut w1);
                obj.state_weights(&step.s2, r2.as_deref(), ncl, &mut w2);
                if obj.form == Form::Labels {
                    dx.extend(obj.species.labels().iter().flat_map(|&l| step.disps[l]));
                    rates.push(step.rate);
                    continue;
                }
                let d = if obj.species.is_vacancy() {
                    step.disps[v as usize]
                } else {
                    let mut d = [0.0; 3];
                    for &l in obj.species.labels() {
                        (0..3).for_each(|x| d[x] += step.disps[l][x]);
                    }
                    d
                };
                dx.extend(d);
                rates.push(step.rate);
            }
        }
    }
    let (kind, dev) = (net.kind(), net.device());
    let t = |v: &[f64], shape: &[i64]| Tensor::from_slice(v).view(shape).to_kind(kind).to_device(dev);
    let (bi, si, ci) = (b as i64, s as i64, ncl as i64);
    let target = match obj.form {
        Form::Tracer => Target::Tracer {
            dest: Tensor::from_slice(&dest).to_device(dev),
            weight: t(&weight, &[bi * si]),
            u: t(&u, &[bi * si, 3]),
        },
        Form::Labels => Target::Labels {
            w1: t(&w1, &[bi, ci, si]),
            w2: t(&w2, &[bi, ci, si]),
            dx: t(&dx, &[bi, ci, 3]),
            rates: t(&rates, &[bi]),
            scale: t(&label_scale(obj), &[ci]),
        },
        _ => Target::Collective {
            w1: t(&w1, &[bi, ci, si]),
            w2: t(&w2, &[bi, ci, si]),
            dx: t(&dx, &[bi, 3]),
            rates: t(&rates, &[bi]),
        },
    };
    Batch { x1: net.one_hot(st1.view(), v), x2: net.one_hot(st2.view(), v), target, len: b }
}

/// `sum_n W_n |dx_n + y(s2_n) - y(s1_n)|^2 / 6` over the batch (tracer: summed over the
/// atoms of S), a scalar tensor; divide by L0 for the training loss.
pub fn batch_loss(net: &Gcnet, batch: &Batch) -> Tensor {
    loss_from_vectors(&net.forward(&batch.x1), &net.forward(&batch.x2), &batch.target)
}

/// The loss of [`batch_loss`] from the per-site vectors `(B, ncL, 3, S)` of both states.
pub fn loss_from_vectors(y1: &Tensor, y2: &Tensor, target: &Target) -> Tensor {
    match target {
        Target::Collective { w1, w2, dx, rates } => {
            let e = |y: &Tensor, w: &Tensor| Tensor::einsum("bcxs,bcs->bx", &[y, w], None::<&[i64]>);
            let d = dx + e(y2, w2) - e(y1, w1);
            (rates * d.square().sum_dim_intlist(1, false, None)).sum(None) / 6.0
        }
        Target::Labels { w1, w2, dx, rates, scale } => {
            let e = |y: &Tensor, w: &Tensor| Tensor::einsum("bcxs,bcs->bcx", &[y, w], None::<&[i64]>);
            let d = dx + e(y2, w2) - e(y1, w1);
            let per_label = d.square().sum_dim_intlist(2, false, None) * scale.unsqueeze(0);
            (rates * per_label.sum_dim_intlist(1, false, None)).sum(None) / 6.0
        }
        Target::Tracer { dest, weight, u } => {
            let rows = |y: &Tensor| {
                let (b, _, _, s) = y.size4().expect("network output is 4-d");
                y.select(1, 0).permute([0, 2, 1]).reshape([b * s, 3])
            };
            let d = u + rows(y2).index_select(0, dest) - rows(y1);
            (weight * d.square().sum_dim_intlist(1, false, None)).sum(None) / 6.0
        }
    }
}

/// `1 / L0_a` per label of a [`Form::Labels`] objective (1 where it has none).
fn label_scale(obj: &Objective) -> Vec<f64> {
    let n = obj.species.labels().len();
    if obj.label_l0.is_empty() { vec![1.0; n] } else { obj.label_l0.iter().map(|l| 1.0 / l).collect() }
}

/// The uncorrelated value `L0 = sum_n W_n |dx_n|^2 / (6 N_states)` over a sample set, per
/// state (with all-jumps sampling the z exit samples of a state add up, as in eval's L);
/// for tracers the exchanged atom's displacement counts when it belongs to S.
pub fn uncorrelated_l0(net: &Gcnet, set: &SampleSet<'_>, obj: &Objective) -> f64 {
    uncorrelated_sum(net, set, obj) / (6.0 * set.num_states().max(1) as f64)
}

/// The `-l0` normalisation of the published training code: `sum W |dx|^2 / (6 N_rows)`
/// over the training rows, where with all-jumps sampling every one of the z*N_train jump
/// samples is a row with its own rate. Without `-aj` it equals [`uncorrelated_l0`]; with
/// `-aj` it is z times smaller.
pub fn training_l0(net: &Gcnet, set: &SampleSet<'_>, obj: &Objective) -> f64 {
    uncorrelated_sum(net, set, obj) / (6.0 * set.len().max(1) as f64)
}

/// The uncorrelated `L0_a = sum W |dx_a|^2 / (6 N_rows)` of every label of a
/// [`Form::Labels`] objective over the samples of `set` (the per-label `-l0`).
pub fn label_l0(net: &Gcnet, set: &SampleSet<'_>, obj: &Objective) -> Vec<f64> {
    let v = obj.species.vacancy_label();
    let mut total = vec![0.0; obj.species.labels().len()];
    for i in 0..set.len() {
        let st = step(set, net, set.sample(i), v);
        for (t, &l) in total.iter_mut().zip(obj.species.labels()) {
            *t += st.rate * st.disps[l].iter().map(|x| x * x).sum::<f64>();
        }
    }
    total.iter().map(|t| t / (6.0 * set.len().max(1) as f64)).collect()
}

/// `sum_n W_n |dx_n|^2` over the samples of a set.
fn uncorrelated_sum(net: &Gcnet, set: &SampleSet<'_>, obj: &Objective) -> f64 {
    let v = obj.species.vacancy_label();
    let g = net.geometry();
    let mut total = 0.0;
    for i in 0..set.len() {
        let r = set.sample(i);
        let st = step(set, net, r, v);
        if obj.form == Form::Labels {
            let scale = label_scale(obj);
            let per_label = obj.species.labels().iter().zip(&scale);
            total += st.rate * per_label.map(|(&l, k)| k * st.disps[l].iter().map(|x| x * x).sum::<f64>()).sum::<f64>();
            continue;
        }
        let d: [f64; 3] = match obj.form {
            Form::Tracer => {
                let exchanged = set.data.init_states[[r.state, g.neighbour(0, st.jump)]];
                if obj.species.holds(exchanged) { st.disps[v as usize] } else { [0.0; 3] }
            }
            _ if obj.species.is_vacancy() => st.disps[v as usize],
            _ => {
                let mut d = [0.0; 3];
                for &l in obj.species.labels() {
                    (0..3).for_each(|x| d[x] += st.disps[l][x]);
                }
                d
            }
        };
        total += st.rate * d.iter().map(|x| x * x).sum::<f64>();
    }
    total
}

/// The half-open sample ranges of consecutive batches.
pub fn chunks(len: usize, size: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let size = size.max(1);
    (0..len.div_ceil(size)).map(move |c| c * size..((c + 1) * size).min(len))
}
