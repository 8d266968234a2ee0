//! The published GCNetRun interface (train, eval, getY, getRep; SPEC section 6) and
//! `gcnet bench`. Arguments are parsed here and turned into a plain [`Job`] before the
//! library (`gcnet-net`) is called.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;
use gcnet_files::{Input, Record};
use gcnet_net::{Form, Gcnet, NetConfig, Objective, SampleSet, Species, TrainConfig, checkpoint};
use tch::{Device, Kind};

mod args;
mod bench;
mod modes;

pub use args::{NetArgs, Precision, long_spellings};

pub fn published(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let a = NetArgs::parse_from(long_spellings(args));
    let job = Job::from_args(&a)?;
    if a.dump_args {
        dump_args(&a, &job)?;
    }
    match job.mode {
        Mode::Train => modes::train(&job)?,
        Mode::Eval => modes::eval(&job)?,
        Mode::GetY => modes::get_y(&job)?,
        Mode::GetRep => modes::get_rep(&job)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn bench(args: &[OsString]) -> anyhow::Result<ExitCode> {
    bench::run(args)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Train,
    Eval,
    GetY,
    GetRep,
}

/// Everything a mode needs, checked, with files read.
pub(crate) struct Job {
    pub mode: Mode,
    pub crystal: CrystalData,
    pub data: Dataset,
    /// Sample order (identity, or the file's `Permutation` with -prm).
    pub order: Vec<usize>,
    pub n_train: usize,
    pub net: NetConfig,
    pub obj: Objective,
    pub train: TrainConfig,
    pub start: usize,
    pub end: usize,
    pub interval: usize,
    pub scratch: bool,
    /// Network directory `ep_T_{TNet}_{S}_n{nl}c{nch}_all_{aj}` (aj: -aj in train, -ajn
    /// otherwise).
    pub dir: PathBuf,
    /// `{S}_{Tdata}_{TNet}_n{nl}c{nch}_all_{aj}` for output file names (aj: the -aj flag).
    pub tag: String,
    /// The files the run reads (data set, crystal), which nothing may replace.
    pub inputs: Vec<PathBuf>,
    /// --force: train may replace existing checkpoints of the epochs it writes.
    pub force: bool,
    /// --restart-adam: resume with a fresh Adam.
    pub restart_adam: bool,
    pub device: Device,
    pub precision: Precision,
    pub rep_layer: Option<usize>,
    pub rep_start: usize,
    pub seed: u64,
    /// -l0: divide the training loss by the uncorrelated L0 of the training states.
    pub train_scale_l0: bool,
    /// -DPr: the other GPUs that compute gradients beside `device` (empty: one device).
    pub parallel_devices: Vec<Device>,
    /// The data set and crystal file as read, by content hash (for the results' records).
    pub data_input: Input,
    pub crystal_input: Input,
    /// -prm: the samples are in the file's `Permutation` order.
    pub permuted: bool,
}

impl Job {
    fn from_args(a: &NetArgs) -> anyhow::Result<Job> {
        let mode = match a.mode.as_deref() {
            Some("train") => Mode::Train,
            Some("eval") => Mode::Eval,
            Some("getY") => Mode::GetY,
            Some("getRep") => Mode::GetRep,
            Some(m) => bail!("unknown mode -m {m}: use train, eval, getY or getRep"),
            None => bail!("no mode given: -m train, eval, getY or getRep"),
        };
        let tdata = a.tdata.clone().context("-td (--Tdata) is required")?;
        let tnet = a.tnet.clone().context("-tn (--TNet) is required")?;
        for (flag, v) in [("-td", &tdata), ("-tn", &tnet)] {
            // They become parts of file and directory names in the working directory.
            if v.is_empty() || v.contains('/') || v.contains('\\') || v == "." || v == ".." {
                bail!("{flag} {v:?}: a temperature or composition tag, not a path (no `/`)");
            }
        }
        if mode == Mode::Train && tdata != tnet {
            bail!(
                "training uses the data of the network's own temperature: -td {tdata} and -tn {tnet} must agree (they differ only for eval, getY and getRep)"
            );
        }
        if a.all_jumps && a.bound_train {
            bail!("-aj (all jumps) cannot be combined with -bt (boundary training)");
        }
        if a.tracers && a.bound_train {
            bail!("-trc (tracers) cannot be combined with -bt (boundary training)");
        }
        if a.interval == 0 {
            bail!("-i (--Interval) must be at least 1");
        }
        if !(a.lr.is_finite() && a.lr > 0.0) {
            bail!("-lr (--Learning_rate) {}: must be a finite number > 0", a.lr);
        }
        if !(a.decay.is_finite() && a.decay >= 0.0) {
            bail!("-dcy (--Decay) {}: must be a finite number >= 0", a.decay);
        }
        if !(a.mean_wt.is_finite() && a.std_wt.is_finite() && a.std_wt >= 0.0) {
            bail!("-wm {} -ws {}: the initial weights need a finite mean and a finite std >= 0", a.mean_wt, a.std_wt);
        }
        if !(a.a0.is_finite() && a.a0 > 0.0) {
            bail!("-a0 (--LatParam) {}: must be a finite number > 0", a.a0);
        }
        if a.batch_size == 0 {
            bail!("-bs (--Batch_size) must be at least 1");
        }
        if a.n_train == 0 {
            bail!("-nt (--N_train) must be at least 1");
        }
        let start = a.start_epoch.unwrap_or(0);
        // As published: outside train and eval the end epoch is the start epoch.
        let end = if matches!(mode, Mode::GetY | Mode::GetRep) {
            start
        } else {
            a.end_epoch.context("-eep (--End_epoch) is required")?
        };
        if end < start {
            bail!("-eep {end} is before -sep {start}");
        }
        let sp = a
            .spec_train
            .as_deref()
            .context("-sp (--SpecTrain) is required: the species labels to train, e.g. -sp 0")?;
        let labels: Vec<i8> = sp
            .chars()
            .map(|c| {
                c.to_digit(10).map(|d| d as i8).with_context(|| format!("-sp {sp}: `{c}` is not a species label (0-9)"))
            })
            .collect::<anyhow::Result<_>>()?;
        if a.tracers && labels.contains(&a.vac_spec) {
            bail!("-trc trains atom tracers: -sp {sp} must not contain the vacancy label {} (-vSp)", a.vac_spec);
        }
        let device = match a.device.as_deref() {
            None => gcnet_net::default_device(),
            Some("cpu") => Device::Cpu,
            Some("cuda") => Device::Cuda(0),
            Some(d) => match d.strip_prefix("cuda:").and_then(|n| n.parse().ok()) {
                Some(n) => Device::Cuda(n),
                None => bail!("--device {d}: use cpu, cuda or cuda:N"),
            },
        };
        if device != Device::Cpu && !tch::Cuda::is_available() {
            bail!("--device {:?}: no CUDA device is available", a.device.as_deref().unwrap_or(""));
        }

        let cr = a.crys_path.as_ref().context("-cr (--CrysDatPath) is required: the crystal data file")?;
        let crystal =
            CrystalData::read(cr).with_context(|| format!("reading the crystal file given by -cr {}", cr.display()))?;
        let dp = a.data_path.as_ref().context("-DP (--DataPath) is required: the data set")?;
        let data = Dataset::read_checked(dp, &crystal).with_context(|| {
            format!("reading the data set given by -DP {} (crystal -cr {})", dp.display(), cr.display())
        })?;
        let geometry = gcnet_net::Geometry::from_crystal(&crystal);
        gcnet_net::check_dataset(&data, &geometry, a.vac_spec)
            .with_context(|| format!("data set -DP {} against crystal -cr {}", dp.display(), cr.display()))?;
        if !a.no_check {
            // The checks of `gcnet check`: every sample must be one KMC step of this crystal.
            let options = gcnet_data::CheckOptions {
                vacancy_label: Some(a.vac_spec as usize),
                ..gcnet_data::CheckOptions::default()
            };
            let t = Instant::now();
            gcnet_data::require_valid(&data, &crystal, &options, dp, cr)
                .with_context(|| format!("checking -DP {} against -cr {}", dp.display(), cr.display()))?;
            eprintln!("gcnet: {} samples of {} checked in {}", data.len(), dp.display(), elapsed(t));
        }
        let species = Species::new(&labels, a.vac_spec, data.num_labels())
            .map_err(with_flags)
            .with_context(|| format!("-sp {sp} -vSp {}", a.vac_spec))?;
        let form = if a.tracers {
            Form::Tracer
        } else if a.bound_train {
            Form::Boundary { jump_sort: jump_sort(a), add_on_sites: a.add_on_sites }
        } else {
            Form::Collective
        };
        let all_jumps_samples = a.all_jumps;
        let obj = Objective::new(species.clone(), form, all_jumps_samples, a.ncl, crystal.z()).map_err(with_flags)?;
        let order = if a.perm {
            gcnet_net::read_sample_permutation(dp, data.len())?.unwrap_or_else(|| {
                eprintln!("gcnet: -prm: {} has no `Permutation` dataset; samples stay in file order", dp.display());
                (0..data.len()).collect()
            })
        } else {
            (0..data.len()).collect()
        };
        // getY uses every state (as published); train and eval split at -nt, which must fit
        // (and leave validation states for eval).
        let n_train = if matches!(mode, Mode::Train | Mode::Eval) {
            let n = gcnet_net::training_size(a.n_train, data.len(), mode == Mode::Eval)
                .with_context(|| format!("-nt {} on the data set -DP {}", a.n_train, dp.display()))?;
            // A species (or vacancy) on no training site would train to loss 0 and L = 0.
            species
                .check_present(data.init_states.view(), &order[..n])
                .with_context(|| format!("-sp {sp} -vSp {} on the data set -DP {}", a.vac_spec, dp.display()))?;
            n
        } else {
            a.n_train.min(data.len())
        };
        if mode == Mode::Train {
            // The network's jump vectors are a0 dx: they must be the data's displacements.
            gcnet_data::check_lattice_parameter(&data, &crystal, a.vac_spec as usize, a.a0)
                .with_context(|| format!("-a0 {} does not fit the data set -DP {}", a.a0, dp.display()))?;
        }
        // The published rule: the network directory has -aj in train and -ajn in the other
        // modes; the output names always have the -aj flag.
        let dir_aj = if mode == Mode::Train { a.all_jumps } else { a.all_jumps_net };
        let dir = PathBuf::from(format!("ep_T_{tnet}_{}_n{}c{}_all_{}", species.name(), a.nl, a.nch, dir_aj as u8));
        let tag = format!("{}_{tdata}_{tnet}_n{}c{}_all_{}", species.name(), a.nl, a.nch, a.all_jumps as u8);
        let net = NetConfig {
            nl: a.nl,
            nch: a.nch,
            ncl: a.ncl,
            num_species: species.num_channels() as i64,
            a0: a.a0,
            mean_wt: a.mean_wt,
            std_wt: a.std_wt,
            nosym: a.nosym,
        };
        let seed = a.seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
        });
        let train = TrainConfig {
            batch_size: a.batch_size,
            micro_batch: a.micro_batch,
            learning_rate: a.lr,
            decay: a.decay,
            shuffle: a.shuffle,
            seed,
        };
        let mut parallel_devices = Vec::new();
        if a.data_parallel {
            let n = tch::Cuda::device_count().max(0) as usize;
            if n > 1 && matches!(device, Device::Cuda(_)) {
                parallel_devices = (0..n).map(Device::Cuda).filter(|&d| d != device).collect();
                if mode == Mode::Train {
                    eprintln!("gcnet: -DPr: data-parallel training on {n} GPUs, Adam steps on {device:?}");
                }
            } else {
                eprintln!("gcnet: -DPr: {n} GPU(s) visible, so no data parallelism: running on {device:?} alone");
            }
        }
        if mode == Mode::GetRep && a.rep_layer.is_none() {
            bail!("getRep needs -rl: a group-average module (2, 5, 8, ...) or the stack length {}", net.stack_len());
        }
        let data_input = Input::of(dp).with_context(|| format!("-DP {}", dp.display()))?;
        let crystal_input = Input::of(cr).with_context(|| format!("-cr {}", cr.display()))?;
        Ok(Job {
            data_input,
            crystal_input,
            permuted: a.perm,
            mode,
            crystal,
            data,
            order,
            n_train,
            net,
            obj,
            train,
            parallel_devices,
            start,
            end,
            interval: a.interval,
            scratch: a.scratch,
            dir,
            tag,
            inputs: vec![dp.clone(), cr.clone()],
            force: a.force,
            restart_adam: a.restart_adam,
            device,
            precision: a.dtype,
            rep_layer: a.rep_layer,
            rep_start: a.rep_start,
            seed,
            train_scale_l0: a.scale_l0,
        })
    }

    /// The training states and the validation states, in sample order.
    pub fn split(&self) -> (SampleSet<'_>, SampleSet<'_>) {
        let g = gcnet_net::Geometry::from_crystal(&self.crystal);
        let v = self.obj.species.vacancy;
        let aj = self.obj.all_jumps;
        (
            SampleSet::new(&self.data, self.order[..self.n_train].to_vec(), aj, &g, v),
            SampleSet::new(&self.data, self.order[self.n_train..].to_vec(), aj, &g, v),
        )
    }

    pub fn checkpoint(&self, epoch: usize) -> PathBuf {
        gcnet_net::fit::weights_path(&self.dir, epoch)
    }

    /// A network built for this job and loaded from checkpoint `epoch`.
    pub fn load_network(&self, epoch: usize) -> anyhow::Result<Gcnet> {
        let mut net = Gcnet::from_crystal(&self.crystal, &self.net, self.device)?;
        let path = self.checkpoint(epoch);
        if !path.exists() {
            bail!(
                "checkpoint {} does not exist (network directory for -tn, -sp, -nl, -nch and -aj/-ajn)",
                path.display()
            );
        }
        self.check_checkpoint(&path, false)?;
        checkpoint::load(&mut net, &path).with_context(|| format!("loading epoch {epoch}"))?;
        Ok(net)
    }

    /// Epochs sep, sep+i, ... up to eep (evaluation modes).
    pub fn epochs(&self) -> Vec<usize> {
        (self.start..=self.end).filter(|k| (k - self.start).is_multiple_of(self.interval)).collect()
    }

    fn form_name(&self) -> &'static str {
        match self.obj.form {
            Form::Collective => "collective",
            Form::Tracer => "tracer",
            Form::Boundary { .. } => "boundary",
        }
    }

    /// The record of what `producer` made from this job's data set and settings.
    fn base_record(&self, producer: String) -> Record {
        let species: Vec<i64> = self.obj.species.train.iter().map(|&l| l as i64).collect();
        Record::new(producer, env!("CARGO_PKG_VERSION"))
            .input_hashed("data", self.data_input.clone())
            .input_hashed("crystal", self.crystal_input.clone())
            .setting("species", species)
            .setting("vacancy", self.obj.species.vacancy as i64)
            .setting("form", self.form_name())
            .setting("all_jumps", self.obj.all_jumps)
            .setting("n_train", self.n_train)
            .setting("num_samples", self.data.len())
            .setting("permuted", self.permuted)
            .setting("nl", self.net.nl)
            .setting("nch", self.net.nch)
            .setting("ncl", self.net.ncl)
            .setting("a0", self.net.a0)
            .setting("nosym", self.net.nosym)
    }

    /// The record every checkpoint of a training run carries.
    pub fn training_record(&self) -> Record {
        self.base_record("gcnet train".into()).setting("network_dir", self.dir.display().to_string())
    }

    /// A checkpoint's record against this job: a resume continues only the same training
    /// (data set, samples, species, form, network); an evaluation may use other data (the
    /// published transfer), but the network must be the one this job describes.
    pub fn check_checkpoint(&self, path: &Path, resuming: bool) -> anyhow::Result<()> {
        let Some((record, member)) = gcnet_files::Record::of_file(path)? else { return Ok(()) };
        let mine = self.training_record();
        let mut expect = gcnet_files::Expect::new().producer("gcnet train").role("checkpoint");
        let mut names = vec!["species", "vacancy", "form", "nl", "nch", "ncl", "a0", "nosym"];
        if resuming {
            expect = expect.input("data", &self.data_input.hash, format!("the data set -DP {}", self.data_input.path));
            names.extend(["all_jumps", "n_train", "permuted"]);
        }
        for n in names {
            expect = expect.setting(n, &mine.settings[n]);
        }
        expect.check(path, &record, &member).map_err(|e| {
            let what = if resuming { "resume training from" } else { "evaluate" };
            anyhow::anyhow!("{e}\n(refusing to {what} a network made for other settings; start a new network with -scr, or use the settings it was trained with)")
        })
    }

    /// The provenance record of a mode's results at `epoch` (eval: the last epoch; every
    /// evaluated checkpoint is an input).
    pub fn record(&self, mode: &str, epoch: usize) -> anyhow::Result<Record> {
        let mut r = self
            .base_record(format!("gcnet {mode}"))
            .setting("network_dir", self.dir.display().to_string())
            .setting("epoch", epoch);
        let epochs = if mode == "eval" { self.epochs() } else { vec![epoch] };
        for k in &epochs {
            let role = if epochs.len() == 1 { "checkpoint".to_string() } else { format!("checkpoint_{k}") };
            r = r.input(&role, self.checkpoint(*k))?;
        }
        if mode == "eval" {
            r = r.setting("epochs", epochs);
        }
        if mode == "getRep" {
            r = r.setting("rep_layer", self.rep_layer).setting("rep_start", self.rep_start);
        }
        Ok(r)
    }

    pub fn kind(&self) -> Kind {
        if self.precision == Precision::F32 { Kind::Float } else { Kind::Double }
    }
}

/// The library's objective errors in the words of the command line (its flags).
fn with_flags(e: gcnet_net::Error) -> anyhow::Error {
    use gcnet_net::{Error as E, ObjectiveError as O};
    match e {
        E::Objective(O::BoundaryChannels { z, ncl }) => {
            anyhow::anyhow!("-bt needs one output channel per jump: -ncL must be z = {z}, got {ncl}")
        }
        E::Objective(O::AllJumpsWithBoundary) => {
            anyhow::anyhow!("-aj (all jumps) cannot be combined with -bt (boundary training)")
        }
        E::Objective(O::TracerWithVacancy { vacancy }) => {
            anyhow::anyhow!("-trc trains atom tracers: -sp must not contain the vacancy label {vacancy} (-vSp)")
        }
        E::Objective(O::MixedVacancy { vacancy }) => {
            anyhow::anyhow!("-sp mixes the vacancy label {vacancy} (-vSp) with atom labels")
        }
        e => e.into(),
    }
}

/// -nosym switches jump sorting off, as published (the sort is only symmetric with the
/// whole group).
fn jump_sort(a: &NetArgs) -> bool {
    !a.no_jump_sort && !a.nosym
}

/// -d: `name: value` per argument into -dpf, which must not be an input of the run and is
/// not replaced without --force.
fn dump_args(a: &NetArgs, job: &Job) -> anyhow::Result<()> {
    let path: &Path = a.dump_file.as_deref().context("-d (--DumpArgs) needs -dpf (--DumpFile) FILE to write to")?;
    let mut inputs = job.inputs.clone();
    if job.dir.is_dir() {
        inputs.extend(std::fs::read_dir(&job.dir).into_iter().flatten().flatten().map(|e| e.path()));
    }
    let end = if matches!(job.mode, Mode::GetY | Mode::GetRep) { Some(job.end) } else { a.end_epoch };
    let text = a.dump_lines(end, jump_sort(a));
    crate::spellings::write_dump(path, &inputs, gcnet_files::Overwrite::force(a.force), &text)?;
    eprintln!("gcnet: arguments written to {}", path.display());
    Ok(())
}

pub(crate) fn elapsed(t: Instant) -> String {
    let s = t.elapsed().as_secs_f64();
    if s < 120.0 { format!("{s:.1} s") } else { format!("{:.1} min", s / 60.0) }
}
