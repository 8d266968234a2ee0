//! The symmetry-conforming group-convolutional network GCNet on libtorch (SPEC sections 4
//! and 5): the network, the losses of the variational principle, training, evaluation and
//! PyTorch-compatible checkpoints. The `gcnet` binary is a thin layer over this crate.
//!
//! Layers, each using only the ones above it:
//! 1. tables and layers: [`Geometry`] (crystal tables), [`GConv`], [`Gcnet`];
//! 2. objectives and data: [`Species`], [`Objective`], [`SampleSet`], batches and the loss
//!    ([`batch`]);
//! 3. algorithms: [`Adam`], [`Trainer`] (one epoch; [`Trainer::fit`], the training loop
//!    with checkpoints, [`Trainer::resume`] and the stop on non-finite values), evaluation
//!    ([`eval`]);
//! 4. file format: `torch.save` archives ([`checkpoint`], [`pickle`]), network
//!    directories ([`CheckpointDir`]);
//! 5. workflows: the published modes ([`run`]) and the throughput benchmark ([`bench`]).
//!
//! ```no_run
//! use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
//! use gcnet_net::{CheckpointDir, Event, Gcnet, NetConfig, Objective, SampleSet, Schedule, Species, TrainConfig, Trainer};
//! # fn demo(data: &gcnet_data::Dataset) -> gcnet_net::Result<()> {
//! let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8)?);
//! let net = Gcnet::from_crystal(&crystal, &NetConfig::default(), gcnet_net::default_device())?;
//! let obj = Objective::collective(Species::new(&[0], 0, data.num_labels())?); // the vacancy
//! let set = SampleSet::new(data, (0..data.len()).collect(), false, net.geometry(), 0);
//! let mut trainer = Trainer::new(&net, TrainConfig::default()).saving_to(CheckpointDir::create("ep_T_1_vac")?);
//! trainer.fit(&net, &set, &obj, &Schedule::epochs(0, 10), &mut |_, event| {
//!     if let Event::Epoch(r) = event {
//!         println!("epoch {}: {}", r.epoch, r.loss);
//!     }
//!     Ok(())
//! })?;
//! let l = gcnet_net::eval::mean_loss(&net, &set, &obj, 128)?;
//! # Ok(()) }
//! ```
//!
//! The published command line's workflows (train, eval, getY, getRep with their files
//! and records) are [`run`]: a [`run::RunConfig`], prepared once, then one call per mode.

// `deny`, not `forbid`: ndarray's `s!` macro expands to an `#[allow(unsafe_code)]` of its own.
#![deny(unsafe_code)]

mod adam;
mod backward;
pub mod batch;
pub mod bench;
mod bench_turns;
pub mod checkpoint;
mod error;
pub mod eval;
pub mod fit;
mod gconv;
mod geometry;
mod network;
mod objective;
pub mod pickle;
pub mod run;
mod samples;
mod side_by_side;
mod train;

pub use adam::Adam;
pub use bench_turns::Turns;
pub use error::{Error, ObjectiveError, Result, StateMismatch};
pub use fit::{AdamPolicy, CheckpointDir, Event, Schedule};
pub use gcnet_data::{SpeciesError, SpeciesSet};
pub use gcnet_kernels::Products;
pub use gconv::GConv;
pub use geometry::Geometry;
pub use network::{Gcnet, NetConfig};
pub use objective::{Form, Objective, Species};
pub use samples::{SampleRef, SampleSet, training_size};
pub use train::{EpochReport, PassTimes, TrainConfig, Trainer, shuffle};

/// The device to run on: the `GCNET_DEVICE` environment variable (`cpu`, `cuda`,
/// `cuda:N`; a job script's choice) if set, else the first CUDA device if there is one,
/// else the CPU. A value that is not a device does not fall back to anything: every
/// network refuses to be made while it is set ([`device_env_error`]).
pub fn default_device() -> tch::Device {
    match device_env() {
        Some(Ok(device)) => device,
        _ => tch::Device::cuda_if_available(),
    }
}

/// `GCNET_DEVICE` parsed, if set.
fn device_env() -> Option<std::result::Result<tch::Device, String>> {
    let value = std::env::var("GCNET_DEVICE").ok()?;
    Some(run::parse_device(value.trim()).map_err(|_| {
        format!("the environment variable GCNET_DEVICE={value:?} is not a device: use cpu, cuda or cuda:N")
    }))
}

/// Why `GCNET_DEVICE` cannot be used, if it is set to something that is not a device
/// (checked by every network made, so that no run silently uses another device).
pub fn device_env_error() -> Option<String> {
    device_env()?.err()
}

/// Held for the whole body of every unit test of this crate that draws from libtorch's
/// global random generator (seeds, network weights, `randn`): the harness runs tests on
/// several threads, and another test's draw between a seed and the draws it fixes would
/// change the weights.
#[cfg(test)]
pub(crate) fn global_rng() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
