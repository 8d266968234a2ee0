//! A run prepared from its configuration: files read and checked once, the objective,
//! the network directory and the output names.

use std::path::PathBuf;

use gcnet_crystal::CrystalData;
use gcnet_files::Input;
use gcnet_kernels::threads::Threads;
use tch::Device;

use super::{CheckedData, Mode, RunConfig};
use crate::error::{Context, Error, ObjectiveError, Result, refuse};
use crate::network::{Gcnet, NetConfig};
use crate::objective::{Objective, Species};
use crate::samples::{SampleSet, training_size};

/// A prepared run of the published interface; see the [module documentation](super).
pub struct Run {
    pub cfg: RunConfig,
    pub crystal: CrystalData,
    pub data: CheckedData,
    pub crystal_input: Input,
    pub obj: Objective,
    /// The network, with one input channel per atom label of the data.
    pub net: NetConfig,
    /// Training states: the first `n_train` of the sample order (getY: every state).
    pub n_train: usize,
    /// `ep_T_{TNet}_{S}_n{nl}c{nch}_all_{aj}` in the work directory (aj: -aj in train,
    /// -ajn otherwise).
    pub dir: PathBuf,
    /// `{S}_{Tdata}_{TNet}_n{nl}c{nch}_all_{aj}` of the output names (aj: the -aj flag).
    pub tag: String,
    /// The files the run reads (data set, crystal), which nothing may replace.
    pub inputs: Vec<PathBuf>,
    /// -DPr: the other GPUs that compute gradients beside the device (empty: one device).
    pub parallel_devices: Vec<Device>,
    /// The CPU threads in use and why (`None` on CUDA, which keeps libtorch's default).
    pub threads: Option<Threads>,
}

impl Run {
    pub(super) fn new(cfg: RunConfig) -> Result<Run> {
        let (dp, cr) = (cfg.data.display().to_string(), cfg.crystal.display().to_string());
        let crystal =
            CrystalData::read(&cfg.crystal).with_context(|| format!("reading the crystal file given by -cr {cr}"))?;
        let data = CheckedData::read(&cfg.data, &crystal, &cfg.crystal, cfg.vacancy, cfg.checks)?;
        let (sp, v) = (cfg.species_text(), cfg.vacancy);
        let species = Species::new(&cfg.species, v, data.data.num_labels())
            .map_err(with_flags)
            .with_context(|| format!("-sp {sp} -vSp {v}"))?;
        let mut obj = Objective::with_form(species.clone(), cfg.form).map_err(with_flags)?;
        if cfg.all_jumps {
            obj = obj.over_all_jumps().map_err(with_flags)?;
        }
        obj.check_channels(cfg.net.ncl, crystal.z()).map_err(with_flags)?;
        // getY uses every state (as published); train and eval split at -nt, which must fit
        // (and leave validation states for eval).
        let n_train = if matches!(cfg.mode, Mode::Train | Mode::Eval) {
            let n = training_size(cfg.n_train, data.data.len(), cfg.mode == Mode::Eval)
                .with_context(|| format!("-nt {} on the data set -DP {dp}", cfg.n_train))?;
            // A species (or vacancy) on no training site would train to loss 0 and L = 0.
            species
                .check_present(data.data.init_states.view(), &data.order[..n])
                .with_context(|| format!("-sp {sp} -vSp {v} on the data set -DP {dp}"))?;
            n
        } else {
            cfg.n_train.min(data.data.len())
        };
        if cfg.mode == Mode::Train {
            // The network's jump vectors are a0 dx: they must be the data's displacements.
            gcnet_data::check_lattice_parameter(&data.data, &crystal, v as usize, cfg.net.a0)
                .with_context(|| format!("-a0 {} does not fit the data set -DP {dp}", cfg.net.a0))?;
        }
        let net = NetConfig { num_species: species.num_channels() as i64, ..cfg.net.clone() };
        // The published rule: the network directory has -aj in train and -ajn in the other
        // modes; the output names always have the -aj flag.
        let dir_aj = if cfg.mode == Mode::Train { cfg.all_jumps } else { cfg.all_jumps_net };
        // One y per label has a directory and names of its own: its S is not a collective S.
        let name = if cfg.form == crate::Form::Labels { format!("labels{}", species.name()) } else { species.name() };
        let tnet = &cfg.tnet;
        let dir = cfg.work_dir.join(format!("ep_T_{tnet}_{name}_n{}c{}_all_{}", net.nl, net.nch, dir_aj as u8));
        let tag = format!("{name}_{}_{tnet}_n{}c{}_all_{}", cfg.tdata, net.nl, net.nch, cfg.all_jumps as u8);
        let parallel_devices = parallel_devices(&cfg);
        if cfg.mode == Mode::GetRep && cfg.rep_layer.is_none() {
            refuse!("getRep needs -rl: a group-average module (2, 5, 8, ...) or the stack length {}", net.stack_len());
        }
        let crystal_input = Input::of(&cfg.crystal).with_context(|| format!("-cr {cr}"))?;
        let inputs = vec![cfg.data.clone(), cfg.crystal.clone()];
        let threads = match cfg.device {
            Device::Cpu => Some(gcnet_kernels::threads::configure(cfg.threads).map_err(Error::Config)?),
            _ => None,
        };
        Ok(Run { crystal, data, crystal_input, obj, net, n_train, dir, tag, inputs, parallel_devices, threads, cfg })
    }

    /// The training states and the validation states, in sample order.
    pub fn split(&self) -> (SampleSet<'_>, SampleSet<'_>) {
        let g = crate::Geometry::from_crystal(&self.crystal);
        let (v, aj, order) = (self.obj.species.vacancy_label(), self.obj.all_jumps, &self.data.order);
        (
            SampleSet::new(&self.data.data, order[..self.n_train].to_vec(), aj, &g, v),
            SampleSet::new(&self.data.data, order[self.n_train..].to_vec(), aj, &g, v),
        )
    }

    /// `ep_{k}.pt` of the network directory.
    pub fn checkpoint(&self, epoch: usize) -> PathBuf {
        crate::fit::weights_path(&self.dir, epoch)
    }

    /// Epochs sep, sep+i, ... up to eep (the evaluated checkpoints).
    pub fn epochs(&self) -> Vec<usize> {
        let (start, end) = (self.cfg.start, self.cfg.end_epoch().unwrap_or(self.cfg.start));
        (start..=end).filter(|k| (k - start).is_multiple_of(self.cfg.interval)).collect()
    }

    /// A network of this run loaded from checkpoint `epoch` (its record checked first).
    pub fn load_network(&self, epoch: usize) -> Result<Gcnet> {
        let mut net = Gcnet::from_crystal(&self.crystal, &self.net, self.cfg.device)?;
        let path = self.checkpoint(epoch);
        if !path.exists() {
            refuse!(
                "checkpoint {} does not exist (network directory for -tn, -sp, -nl, -nch and -aj/-ajn)",
                path.display()
            );
        }
        self.check_checkpoint(&path, false)?;
        crate::checkpoint::load(&mut net, &path).with_context(|| format!("loading epoch {epoch}"))?;
        Ok(net)
    }
}

/// -DPr: every other visible GPU, when there are several and the run is on one.
fn parallel_devices(cfg: &RunConfig) -> Vec<Device> {
    if !cfg.data_parallel {
        return Vec::new();
    }
    let n = tch::Cuda::device_count().max(0) as usize;
    let device = cfg.device;
    if n > 1 && matches!(device, Device::Cuda(_)) {
        if cfg.mode == Mode::Train {
            eprintln!("gcnet: -DPr: data-parallel training on {n} GPUs, Adam steps on {device:?}");
        }
        (0..n).map(Device::Cuda).filter(|&d| d != device).collect()
    } else {
        eprintln!("gcnet: -DPr: {n} GPU(s) visible, so no data parallelism: running on {device:?} alone");
        Vec::new()
    }
}

/// The objective's errors in the words of the command line (its flags).
fn with_flags(e: impl Into<Error>) -> Error {
    use gcnet_data::SpeciesError as S;
    let flags = |m: String| Error::Refused(m);
    match e.into() {
        Error::Objective(ObjectiveError::BoundaryChannels { z, ncl }) => {
            flags(format!("-bt needs one output channel per jump: -ncL must be z = {z}, got {ncl}"))
        }
        Error::Objective(ObjectiveError::AllJumpsWithBoundary) => {
            flags("-aj (all jumps) cannot be combined with -bt (boundary training)".into())
        }
        Error::Objective(ObjectiveError::TracerWithVacancy { vacancy }) => {
            flags(format!("-trc trains atom tracers: -sp must not contain the vacancy label {vacancy} (-vSp)"))
        }
        Error::Species(S::MixedVacancy { vacancy }) => {
            flags(format!("-sp mixes the vacancy label {vacancy} (-vSp) with atom labels"))
        }
        e => e,
    }
}
