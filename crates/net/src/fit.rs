//! The training loop every caller shares (the train mode of `gcnet`, `gcnet demo`,
//! `gcnet tracer train`, the notebooks): [`Trainer::fit`], epochs of
//! [`Trainer::run_epoch`] with checkpoints and their Adam state, [`Trainer::resume`] (the
//! directory locked first), and the stop on a non-finite loss or weights.

use std::path::{Path, PathBuf};

use gcnet_files::{Overwrite, Record, ResultSet, RunLock};
use tch::{Kind, Tensor};

use crate::adam::Adam;
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::network::Gcnet;
use crate::objective::Objective;
use crate::samples::SampleSet;
use crate::train::{EpochReport, TrainConfig, Trainer};

/// Epochs `start..end` (the weights go from "after `start` epochs" to "after `end`"), with
/// a checkpoint after k epochs for every k in `[start, end]` divisible by `interval`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub start: usize,
    pub end: usize,
    pub interval: usize,
}

impl Schedule {
    /// Epochs `start..end` with a checkpoint after every one (interval 1).
    pub fn epochs(start: usize, end: usize) -> Schedule {
        Schedule { start, end, interval: 1 }
    }

    /// The same epochs with a checkpoint every `interval` epochs.
    pub fn every(self, interval: usize) -> Schedule {
        Schedule { interval, ..self }
    }

    /// The epochs whose checkpoints a run writes; a run resumed from `start` does not
    /// write that one again.
    pub fn checkpoint_epochs(&self, resumed: bool) -> Vec<usize> {
        let i = self.interval.max(1);
        (self.start..=self.end).filter(|k| k.is_multiple_of(i) && !(resumed && *k == self.start)).collect()
    }
}

/// A network directory as the published code lays it out: `ep_{k}.pt`, the weights after
/// k epochs (a `torch.save` state dict), and beside it `optimizer_ep_{k}.pt`, Adam's state
/// together with a copy of the weights it belongs to, so that a resume continues exactly or
/// is refused. One run holds it at a time ([`RunLock`]); temporary files of killed runs
/// are removed when it opens.
#[derive(Debug)]
pub struct CheckpointDir {
    dir: PathBuf,
    _lock: RunLock,
    /// What made the checkpoints (data set, species, network settings); with one, every
    /// `ep_{k}.pt` is written with its record (`ep_{k}.gcnet.json`, gcnet-files).
    record: Option<Record>,
    /// Whether existing checkpoints of the epochs a run writes may be replaced
    /// ([`Overwrite::Refuse`] unless set: they stop the run before any work).
    overwrite: Overwrite,
}

/// One step of [`fit`], reported to its callback.
#[derive(Debug)]
pub enum Event<'a> {
    /// `done` of `total` Adam steps of the current epoch.
    Batch { done: usize, total: usize },
    /// An epoch finished.
    Epoch(&'a EpochReport),
    /// A checkpoint was written.
    Saved { epoch: usize, path: &'a Path },
}

impl CheckpointDir {
    /// Creates `dir` if needed and locks it for this run (a new network, or one that
    /// goes on in its own directory); removes orphaned temporary files. A second run on
    /// the same directory fails here at once.
    pub fn create(dir: impl AsRef<Path>) -> Result<CheckpointDir> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(Error::io(dir, "create the network directory"))?;
        CheckpointDir::lock(dir)
    }

    /// Locks the existing network directory `dir` for this run (to resume from it).
    pub fn open_existing(dir: impl AsRef<Path>) -> Result<CheckpointDir> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::io(dir, "open the network directory")(std::io::ErrorKind::NotFound.into()));
        }
        CheckpointDir::lock(dir)
    }

    fn lock(dir: &Path) -> Result<CheckpointDir> {
        let lock = RunLock::acquire(dir, "training")?;
        gcnet_files::remove_orphans(dir)?;
        Ok(CheckpointDir { dir: dir.to_path_buf(), _lock: lock, record: None, overwrite: Overwrite::Refuse })
    }

    /// Lets a run replace existing checkpoints of the epochs it writes
    /// ([`Overwrite::Replace`]), or not (the default).
    pub fn overwrite(mut self, overwrite: Overwrite) -> CheckpointDir {
        self.overwrite = overwrite;
        self
    }

    /// Writes every checkpoint with this record (plus its epoch), so that a resume or an
    /// evaluation can check what it continues from.
    pub fn with_record(mut self, record: Record) -> CheckpointDir {
        self.record = Some(record);
        self
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `ep_{k}.pt`.
    pub fn weights(&self, epoch: usize) -> PathBuf {
        weights_path(&self.dir, epoch)
    }

    /// `optimizer_ep_{k}.pt`.
    pub fn adam_state(&self, epoch: usize) -> PathBuf {
        adam_state_path(&self.dir, epoch)
    }

    /// Writes the Adam state, then the weights: a run killed in between leaves no
    /// `ep_{k}.pt`, so no resume can pair the weights with a missing or older state.
    pub fn save(&self, net: &Gcnet, adam: &Adam, epoch: usize, overwrite: Overwrite) -> Result<PathBuf> {
        let mut state = adam.state_dict();
        state.extend(net.parameters().iter().enumerate().map(|(i, p)| (format!("weights.{i}"), cpu_f64(p))));
        // The sidecar of an interrupted save may remain without its ep_k.pt: replace it.
        checkpoint::write_tensors(&self.adam_state(epoch), &state, Overwrite::Replace)?;
        let path = self.weights(epoch);
        match &self.record {
            None => checkpoint::save(net, &path, overwrite)?,
            Some(record) => {
                let mut set = ResultSet::new(record.clone().setting("epoch", epoch), overwrite, &[]);
                let file = set.file(&path, "checkpoint")?;
                checkpoint::write_tensors_into(&path, file.file(), &net.state_dict())?;
                set.commit()?;
            }
        }
        Ok(path)
    }

    /// Loads `ep_{k}.pt` into `net` and, unless `adam` is `None` (the optimiser restarts),
    /// the Adam state saved with it: a missing or unreadable state, or one saved with other
    /// weights, is an [`Error::AdamState`].
    pub fn resume(&self, net: &mut Gcnet, adam: Option<&mut Adam>, epoch: usize) -> Result<()> {
        resume(&self.dir, net, adam, epoch)
    }
}

/// `dir/ep_{k}.pt`.
pub fn weights_path(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("ep_{epoch}.pt"))
}

/// `dir/optimizer_ep_{k}.pt`.
pub fn adam_state_path(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("optimizer_ep_{epoch}.pt"))
}

fn resume(dir: &Path, net: &mut Gcnet, adam: Option<&mut Adam>, epoch: usize) -> Result<()> {
    checkpoint::load(net, &weights_path(dir, epoch))?;
    let Some(adam) = adam else { return Ok(()) };
    let path = adam_state_path(dir, epoch);
    let bad = |reason: String| Error::AdamState { path: path.clone(), reason };
    if !path.exists() {
        return Err(bad("missing".into()));
    }
    let entries = checkpoint::read_tensors(&path).map_err(|e| bad(format!("unreadable ({e})")))?;
    for (i, p) in net.parameters().iter().enumerate() {
        let saved = entries.iter().find(|(n, _)| *n == format!("weights.{i}")).map(|(_, t)| t);
        let same =
            saved.is_some_and(|t| t.size() == p.size() && t.to_kind(p.kind()).equal(&p.to_device(tch::Device::Cpu)));
        if !same {
            return Err(bad(format!("it was saved with other weights than {}", weights_path(dir, epoch).display())));
        }
    }
    let state: Vec<(String, Tensor)> = entries.into_iter().filter(|(n, _)| !n.starts_with("weights.")).collect();
    adam.load_state_dict(&state).map_err(|e| bad(format!("does not fit this network's parameters: {e}")))?;
    Ok(())
}

fn cpu_f64(t: &Tensor) -> Tensor {
    t.detach().to_device(tch::Device::Cpu).to_kind(Kind::Double).contiguous()
}

/// What Adam continues with when training resumes from a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdamPolicy {
    /// The Adam state saved with the checkpoint (`optimizer_ep_{k}.pt`): the run goes on
    /// exactly as if it had not stopped; a missing or mismatched state is an error.
    Restore,
    /// A fresh Adam, as the published code always resumes.
    Restart,
}

impl Trainer {
    /// A trainer that writes the checkpoints of [`Trainer::fit`] into `dir`, starting a
    /// new network (nothing is loaded).
    pub fn saving_to(mut self, dir: CheckpointDir) -> Trainer {
        self.checkpoints = Some(dir);
        self.resumed_at = None;
        self
    }

    /// Resumes training from `ep_{epoch}.pt` of `dir`, which this run holds locked before
    /// anything is read (its [`CheckpointDir`]): the weights go into `net`, and Adam is
    /// restored from the state saved with them or restarted (`adam`). [`Trainer::fit`]
    /// then continues from `epoch` and writes its checkpoints into `dir`.
    pub fn resume(
        net: &mut Gcnet,
        cfg: TrainConfig,
        dir: CheckpointDir,
        epoch: usize,
        adam: AdamPolicy,
    ) -> Result<Trainer> {
        let mut trainer = Trainer::new(net, cfg);
        let state = match adam {
            AdamPolicy::Restore => Some(&mut trainer.adam),
            AdamPolicy::Restart => None,
        };
        dir.resume(net, state, epoch)?;
        trainer.checkpoints = Some(dir);
        trainer.resumed_at = Some(epoch);
        Ok(trainer)
    }

    /// The network directory this trainer writes into, if any.
    pub fn checkpoints(&self) -> Option<&CheckpointDir> {
        self.checkpoints.as_ref()
    }

    /// Trains `net` on `set` through `schedule`. With a checkpoint directory
    /// ([`Trainer::saving_to`], [`Trainer::resume`]) writes the checkpoints of
    /// [`Schedule::checkpoint_epochs`] into it, after refusing (before any work) to replace
    /// existing ones unless the directory allows it. `on_event` sees every batch, epoch
    /// and checkpoint, and stops training by returning an error.
    ///
    /// A non-finite loss stops training before its Adam step, and non-finite weights right
    /// after the step that made them: [`Error::TrainingStopped`] names the last checkpoint
    /// written, which holds the last good weights.
    pub fn fit(
        &mut self,
        net: &Gcnet,
        set: &SampleSet<'_>,
        obj: &Objective,
        schedule: &Schedule,
        on_event: &mut dyn FnMut(&Gcnet, Event<'_>) -> Result<()>,
    ) -> Result<Vec<EpochReport>> {
        if schedule.interval == 0 || schedule.end < schedule.start {
            return Err(Error::Config(format!(
                "epochs {}..{} every {}: the end must not precede the start and the interval must be at least 1",
                schedule.start, schedule.end, schedule.interval
            )));
        }
        if let Some(k) = self.resumed_at.filter(|&k| k != schedule.start) {
            return Err(Error::Config(format!(
                "the trainer resumed from epoch {k}, but the schedule starts at epoch {}",
                schedule.start
            )));
        }
        let resumed = self.resumed_at.is_some();
        let saves = schedule.checkpoint_epochs(resumed);
        if let Some(dir) = self.checkpoints.as_ref().filter(|d| d.overwrite == Overwrite::Refuse) {
            let existing: Vec<PathBuf> = saves.iter().map(|&k| dir.weights(k)).filter(|p| p.exists()).collect();
            if !existing.is_empty() {
                return Err(Error::WouldReplace { files: existing });
            }
        }
        let checkpoints = self.checkpoints.take();
        let result = self.epochs(net, set, obj, schedule, checkpoints.as_ref(), &saves, on_event);
        self.checkpoints = checkpoints;
        let reports = result?;
        // The weights now hold the state after `end` epochs, saved if the schedule says so.
        self.resumed_at = self.resumed_at.map(|_| schedule.end);
        Ok(reports)
    }

    #[allow(clippy::too_many_arguments)]
    fn epochs(
        &mut self,
        net: &Gcnet,
        set: &SampleSet<'_>,
        obj: &Objective,
        schedule: &Schedule,
        dir: Option<&CheckpointDir>,
        saves: &[usize],
        on_event: &mut dyn FnMut(&Gcnet, Event<'_>) -> Result<()>,
    ) -> Result<Vec<EpochReport>> {
        let mut last_saved =
            dir.filter(|_| self.resumed_at.is_some()).map(|d| (schedule.start, d.weights(schedule.start)));
        let mut reports = Vec::new();
        for k in schedule.start..=schedule.end {
            if let Some(dir) = dir.filter(|_| saves.contains(&k)) {
                let path = dir.save(net, &self.adam, k, dir.overwrite)?;
                on_event(net, Event::Saved { epoch: k, path: &path })?;
                last_saved = Some((k, path));
            }
            if k == schedule.end {
                break;
            }
            let report = self.run_epoch(net, set, obj, k, &mut |done, total| {
                // A progress callback cannot stop a batch half-way; its errors wait for the epoch.
                let _ = on_event(net, Event::Batch { done, total });
            });
            let report = match report {
                Err(e @ (Error::NonFiniteLoss { .. } | Error::NonFiniteWeights { .. })) => {
                    return Err(Error::TrainingStopped { source: Box::new(e), last_good: last_saved.map(|(_, p)| p) });
                }
                Err(Error::Interrupted { signal, epoch, batch, .. }) => {
                    return Err(Error::Interrupted { signal, epoch, batch, last_good: last_saved });
                }
                r => r?,
            };
            on_event(net, Event::Epoch(&report))?;
            reports.push(report);
        }
        Ok(reports)
    }
}
