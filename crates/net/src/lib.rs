//! The symmetry-conforming group-convolutional network GCNet on libtorch (SPEC sections 4
//! and 5): the network, the losses of the variational principle, training, evaluation and
//! PyTorch-compatible checkpoints. The `gcnet` binary is a thin layer over this crate.
//!
//! Layers, each using only the ones above it:
//! 1. tables and layers: [`Geometry`] (crystal tables), [`GConv`], [`Gcnet`];
//! 2. objectives and data: [`Species`], [`Objective`], [`SampleSet`], batches and the loss
//!    ([`batch`]);
//! 3. algorithms: [`Adam`], [`Trainer`] (one epoch), [`fit`] (the training loop with
//!    checkpoints, resume and the stop on non-finite values), evaluation ([`eval`]);
//! 4. file format: `torch.save` archives ([`checkpoint`], [`pickle`]), network
//!    directories ([`CheckpointDir`]).
//!
//! ```no_run
//! use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
//! use gcnet_net::{Form, Gcnet, NetConfig, Objective, SampleSet, Species, TrainConfig};
//! # fn demo(data: &gcnet_data::Dataset) -> gcnet_net::Result<()> {
//! let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8)?);
//! let net = Gcnet::from_crystal(&crystal, &NetConfig::default(), gcnet_net::default_device())?;
//! let species = Species::new(&[0], 0, data.num_labels())?; // the vacancy
//! let obj = Objective::new(species, Form::Collective, false, 1, crystal.z())?;
//! let set = SampleSet::new(data, (0..data.len()).collect(), false, net.geometry(), 0);
//! let mut trainer = gcnet_net::Trainer::new(&net, TrainConfig::default());
//! let schedule = gcnet_net::Schedule { start: 0, end: 10, interval: 1 };
//! gcnet_net::fit(&net, &mut trainer, &set, &obj, &schedule, None, &mut |_, event| {
//!     if let gcnet_net::Event::Epoch(r) = event {
//!         println!("epoch {}: {}", r.epoch, r.loss);
//!     }
//!     Ok(())
//! })?;
//! let l = gcnet_net::eval::loss_sum(&net, &set, &obj, 128) / set.num_states() as f64;
//! # Ok(()) }
//! ```

// `deny`, not `forbid`: ndarray's `s!` macro expands to an `#[allow(unsafe_code)]` of its own.
#![deny(unsafe_code)]

mod adam;
mod backward;
pub mod batch;
pub mod checkpoint;
mod error;
pub mod eval;
pub mod fit;
mod gconv;
mod geometry;
mod network;
mod objective;
pub mod pickle;
mod samples;
mod train;

pub use adam::Adam;
pub use error::{Error, ObjectiveError, Result, StateMismatch};
pub use fit::{CheckpointDir, Event, Saving, Schedule, fit};
pub use gcnet_kernels::Products;
pub use gconv::GConv;
pub use geometry::Geometry;
pub use network::{Gcnet, NetConfig};
pub use objective::{Form, Objective, Species};
pub use samples::{SampleRef, SampleSet, check_dataset, read_sample_permutation, training_size};
pub use train::{EpochReport, TrainConfig, Trainer, shuffle};

/// The device to run on: the `GCNET_DEVICE` environment variable (`cpu`, `cuda`,
/// `cuda:N`) if set, else the first CUDA device if there is one, else the CPU.
pub fn default_device() -> tch::Device {
    match std::env::var("GCNET_DEVICE").ok().as_deref().map(str::trim) {
        Some("cpu") => tch::Device::Cpu,
        Some("cuda") => tch::Device::Cuda(0),
        Some(s) if s.starts_with("cuda:") => s[5..].parse().map(tch::Device::Cuda).unwrap_or(tch::Device::Cpu),
        _ => tch::Device::cuda_if_available(),
    }
}
