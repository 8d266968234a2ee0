//! Training: epochs of Adam steps over batches, each batch split into micro-batches whose
//! gradients add up (the loss is a sum over samples), so memory stays bounded. With
//! replicas on other devices (data-parallel, `-DPr`) the micro-batches of a batch are
//! dealt out to the devices, each computes its gradients in a thread of its own, and the
//! sums meet on the main device before the Adam step.

use std::time::Duration;

use tch::Device;

use crate::adam::Adam;
use crate::backward::{FilterGrads, Filters, train_pass};
use crate::batch::{self, chunks};
use crate::error::{Error, Result};
use crate::fit::CheckpointDir;
use crate::network::Gcnet;
use crate::objective::Objective;
use crate::samples::SampleSet;

/// Optimiser and batching settings (the published `-lr -dcy -bs -shf` options).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Samples per Adam step (`-bs`).
    pub batch_size: usize,
    /// Samples per forward/backward pass inside a batch (memory bound; the result does
    /// not depend on it beyond rounding); 0: [`Gcnet::auto_micro_batch`].
    pub micro_batch: usize,
    /// Adam learning rate (`-lr`).
    pub learning_rate: f64,
    /// Adam weight decay (`-dcy`).
    pub decay: f64,
    /// Reshuffle the training samples every epoch (`-shf`).
    pub shuffle: bool,
    /// Seed of the shuffles (epoch k uses `seed + k`, so resumed runs shuffle alike).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { batch_size: 128, micro_batch: 0, learning_rate: 0.001, decay: 0.0005, shuffle: false, seed: 0 }
    }
}

/// What one epoch did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// Index of the epoch just finished (weights are now "after epoch + 1 epochs").
    pub epoch: usize,
    /// Sum of the batch losses (normalised by L0) divided by the number of states.
    pub loss: f64,
    /// Adam steps taken in the epoch.
    pub batches: usize,
    /// Where this device's forward/backward passes spent the epoch's time.
    pub passes: PassTimes,
}

/// Wall time of the forward/backward passes of an epoch on the main device (replicas of
/// data-parallel training not counted), by phase: the layers' forward for both states of
/// every jump, the loss with its autograd backward to the network outputs, and the
/// layers' backward. The rest of an epoch is building the batches and the Adam steps. On
/// CUDA the phases time kernel launches, not the kernels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PassTimes {
    pub forward: Duration,
    pub loss: Duration,
    pub backward: Duration,
    /// Samples these passes trained on.
    pub samples: usize,
}

impl PassTimes {
    /// The three phases together.
    pub fn total(&self) -> Duration {
        self.forward + self.loss + self.backward
    }
}

impl std::ops::AddAssign for PassTimes {
    fn add_assign(&mut self, o: PassTimes) {
        self.forward += o.forward;
        self.loss += o.loss;
        self.backward += o.backward;
        self.samples += o.samples;
    }
}

/// Adam state and settings for training one network, and where its checkpoints go.
pub struct Trainer {
    pub cfg: TrainConfig,
    pub(crate) adam: Adam,
    /// Copies of the network on the other devices of data-parallel training.
    replicas: Vec<Gcnet>,
    /// The network directory [`Trainer::fit`] writes into (locked for this run).
    pub(crate) checkpoints: Option<CheckpointDir>,
    /// The epoch whose checkpoint the network and Adam were resumed from.
    pub(crate) resumed_at: Option<usize>,
}

impl Trainer {
    /// A fresh Adam for `net`'s parameters; no checkpoints are written.
    pub fn new(net: &Gcnet, cfg: TrainConfig) -> Self {
        let adam = Adam::new(&net.parameters(), cfg.learning_rate, cfg.decay);
        Trainer { cfg, adam, replicas: Vec::new(), checkpoints: None, resumed_at: None }
    }

    /// Data-parallel training: `net` stays on its device, which does the Adam steps, and
    /// every device of `others` gets a replica that computes the gradients of its share of
    /// each batch. The result equals single-device training to rounding (tested).
    pub fn data_parallel(net: &Gcnet, cfg: TrainConfig, others: &[Device]) -> Result<Self> {
        Trainer::new(net, cfg).with_replicas(net, others)
    }

    /// [`Trainer::data_parallel`] for a trainer already built (resumed): replicas of `net`
    /// as it is now (weights and kind) on `others`.
    pub fn with_replicas(mut self, net: &Gcnet, others: &[Device]) -> Result<Self> {
        self.replicas = others.iter().map(|&d| net.replica(d)).collect::<Result<_>>()?;
        Ok(self)
    }

    /// Trains in `kind` (f32 or f64) from here on: the network's variables and Adam's
    /// moments are converted, keeping their values. Call it before
    /// [`Trainer::with_replicas`].
    pub fn set_kind(&mut self, net: &mut Gcnet, kind: tch::Kind) {
        net.set_kind(kind);
        self.adam.set_kind(kind);
    }

    /// The optimiser's state (steps taken, moments).
    pub fn adam(&self) -> &Adam {
        &self.adam
    }

    /// The devices that compute gradients: the network's, then the replicas'.
    pub fn devices(&self, net: &Gcnet) -> Vec<Device> {
        std::iter::once(net.device()).chain(self.replicas.iter().map(|r| r.device())).collect()
    }

    /// One epoch over `set`; `on_batch(done, total)` after each Adam step. A loss that is
    /// not finite stops before the step (the weights stay those of the last good step).
    pub fn run_epoch(
        &mut self,
        net: &Gcnet,
        set: &SampleSet<'_>,
        obj: &Objective,
        epoch: usize,
        on_batch: &mut dyn FnMut(usize, usize),
    ) -> Result<EpochReport> {
        let mut order: Vec<usize> = (0..set.len()).collect();
        if self.cfg.shuffle {
            shuffle(&mut order, self.cfg.seed.wrapping_add(epoch as u64));
        }
        let params = net.parameters();
        let total = set.len().div_ceil(self.cfg.batch_size.max(1));
        let micro_batch = if self.cfg.micro_batch == 0 { net.auto_micro_batch() } else { self.cfg.micro_batch };
        let mut sum = 0.0;
        let mut passes = PassTimes::default();
        for (bi, range) in chunks(order.len(), self.cfg.batch_size).enumerate() {
            // A stop asked for (gcnet-interrupt, installed by the run) ends training here,
            // between two Adam steps; nothing of this epoch is saved.
            if let Some(signal) = gcnet_interrupt::requested() {
                return Err(Error::Interrupted { signal, epoch, batch: bi, last_good: None });
            }
            let filters = Filters::new(net);
            let micro: Vec<&[usize]> =
                chunks(range.len(), micro_batch).map(|m| &order[range.start + m.start..range.start + m.end]).collect();
            let parts = 1 + self.replicas.len();
            let mine = micro.iter().step_by(parts);
            let (grads, batch_sum) = if parts == 1 {
                gradients(net, set, obj, &filters, mine, &mut passes)
            } else {
                // The replicas' threads start first; the main device's share runs on this
                // thread meanwhile (the network is not Sync), then the sums meet here.
                let replicas = std::mem::take(&mut self.replicas);
                let (own, shares) = std::thread::scope(|scope| {
                    let handles: Vec<_> = replicas
                        .into_iter()
                        .enumerate()
                        .map(|(p, replica)| {
                            let f = filters.for_replica(&replica);
                            let share: Vec<&[usize]> = micro.iter().skip(p + 1).step_by(parts).copied().collect();
                            scope.spawn(move || {
                                let (g, sum) =
                                    gradients(&replica, set, obj, &f, share.iter(), &mut PassTimes::default());
                                (replica, g, sum)
                            })
                        })
                        .collect();
                    let own = gradients(net, set, obj, &filters, mine, &mut passes);
                    let shares: Vec<_> =
                        handles.into_iter().map(|h| h.join().expect("a data-parallel worker panicked")).collect();
                    (own, shares)
                });
                let (mut grads, mut batch_sum) = own;
                for (replica, g, sum) in shares {
                    for (a, b) in grads.iter_mut().zip(&g) {
                        let _ = a.g_add_(&b.to_device(a.device()));
                    }
                    batch_sum += sum;
                    self.replicas.push(replica);
                }
                (grads, batch_sum)
            };
            if !batch_sum.is_finite() {
                return Err(Error::NonFiniteLoss { epoch, batch: bi, loss: batch_sum });
            }
            self.adam.step_with_grads(&params, &grads);
            // Stop right after a step that made the weights non-finite (a NaN or huge
            // learning rate): every later loss would be meaningless.
            if params.iter().any(|p| p.isfinite().all().int64_value(&[]) == 0) {
                return Err(Error::NonFiniteWeights { epoch, batch: bi });
            }
            sum += batch_sum;
            on_batch(bi + 1, total);
        }
        Ok(EpochReport { epoch, loss: sum / set.num_states().max(1) as f64, batches: total, passes })
    }
}

/// The summed parameter gradients (in the order of [`Gcnet::parameters`]) and loss of the
/// micro-batches `micro` on `net`'s device; their passes' times are added to `times`.
fn gradients<'m>(
    net: &Gcnet,
    set: &SampleSet<'_>,
    obj: &Objective,
    filters: &Filters,
    micro: impl Iterator<Item = &'m &'m [usize]>,
    times: &mut PassTimes,
) -> (Vec<tch::Tensor>, f64) {
    let mut grads = FilterGrads::zeros(filters);
    let mut sum = 0.0;
    for idx in micro {
        let b = batch::build(net, set, idx, obj);
        sum += train_pass(net, &b, obj.l0, filters, &mut grads, times);
    }
    (grads.parameter_grads(net), sum)
}

/// The passes of the micro-batches `micro` with the weights as they are (no Adam step):
/// their times by phase, for the benchmark's paired precisions.
pub(crate) fn time_passes(net: &Gcnet, set: &SampleSet<'_>, obj: &Objective, micro: &[&[usize]]) -> PassTimes {
    let mut times = PassTimes::default();
    let _ = gradients(net, set, obj, &Filters::new(net), micro.iter(), &mut times);
    times
}

/// Fisher-Yates, seeded (the project's one generator): the same seed gives the same
/// order everywhere.
pub use gcnet_data::rng::shuffle;
