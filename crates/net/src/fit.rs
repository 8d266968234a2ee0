//! The training loop every caller shares (the train mode of `gcnet`, `gcnet demo`,
//! `gcnet tracer train`, the notebooks): epochs of [`Trainer::run_epoch`], checkpoints
//! with their Adam state, resume, and the stop on a non-finite loss or weights.

use std::path::{Path, PathBuf};

use gcnet_files::{Overwrite, Record, ResultSet, RunLock};
use tch::{Kind, Tensor};

use crate::adam::Adam;
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::network::Gcnet;
use crate::objective::Objective;
use crate::samples::SampleSet;
use crate::train::{EpochReport, Trainer};

/// Epochs `start..end` (the weights go from "after `start` epochs" to "after `end`"), with
/// a checkpoint after k epochs for every k in `[start, end]` divisible by `interval`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub start: usize,
    pub end: usize,
    pub interval: usize,
}

impl Schedule {
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
    /// Locks `dir` for this run (creating it first with `create`), and removes orphaned
    /// temporary files. A second run on the same directory fails here at once.
    pub fn open(dir: impl AsRef<Path>, create: bool) -> Result<CheckpointDir> {
        let dir = dir.as_ref().to_path_buf();
        if create {
            std::fs::create_dir_all(&dir).map_err(Error::io(&dir, "create the network directory"))?;
        } else if !dir.is_dir() {
            return Err(Error::io(&dir, "open the network directory")(std::io::ErrorKind::NotFound.into()));
        }
        let lock = RunLock::acquire(&dir, "training")?;
        gcnet_files::remove_orphans(&dir)?;
        Ok(CheckpointDir { dir, _lock: lock, record: None })
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

/// [`CheckpointDir::resume`] without taking the directory's lock (to check a resume
/// before a run starts).
pub fn resume(dir: &Path, net: &mut Gcnet, adam: Option<&mut Adam>, epoch: usize) -> Result<()> {
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

/// Where [`fit`] writes its checkpoints.
#[derive(Clone, Copy, Debug)]
pub struct Saving<'a> {
    pub dir: &'a CheckpointDir,
    /// [`Overwrite::Refuse`]: existing checkpoints of the epochs to write stop the run
    /// before any work.
    pub overwrite: Overwrite,
    /// The network and the trainer hold the state after `schedule.start` epochs, already
    /// saved in `dir` (that checkpoint is not written again).
    pub resumed: bool,
}

/// Trains `net` through `schedule`. With `saving`, writes the checkpoints of
/// [`Schedule::checkpoint_epochs`] into its directory. `on_event` sees every batch, epoch
/// and checkpoint, and stops training by returning an error.
///
/// A non-finite loss stops training before its Adam step, and non-finite weights right
/// after the step that made them: [`Error::TrainingStopped`] names the last checkpoint
/// written, which holds the last good weights.
pub fn fit(
    net: &Gcnet,
    trainer: &mut Trainer,
    set: &SampleSet<'_>,
    obj: &Objective,
    schedule: &Schedule,
    saving: Option<Saving<'_>>,
    on_event: &mut dyn FnMut(&Gcnet, Event<'_>) -> Result<()>,
) -> Result<Vec<EpochReport>> {
    if schedule.interval == 0 || schedule.end < schedule.start {
        return Err(Error::Config(format!(
            "epochs {}..{} every {}: the end must not precede the start and the interval must be at least 1",
            schedule.start, schedule.end, schedule.interval
        )));
    }
    let saves = schedule.checkpoint_epochs(saving.is_some_and(|s| s.resumed));
    if let Some(Saving { dir, overwrite: Overwrite::Refuse, .. }) = saving {
        let existing: Vec<PathBuf> = saves.iter().map(|&k| dir.weights(k)).filter(|p| p.exists()).collect();
        if !existing.is_empty() {
            return Err(Error::WouldReplace { files: existing });
        }
    }
    let mut last_saved = saving.filter(|s| s.resumed).map(|s| s.dir.weights(schedule.start));
    let mut reports = Vec::new();
    for k in schedule.start..=schedule.end {
        if let Some(Saving { dir, overwrite, .. }) = saving.filter(|_| saves.contains(&k)) {
            let path = dir.save(net, &trainer.adam, k, overwrite)?;
            on_event(net, Event::Saved { epoch: k, path: &path })?;
            last_saved = Some(path);
        }
        if k == schedule.end {
            break;
        }
        let report = trainer.run_epoch(net, set, obj, k, &mut |done, total| {
            // A progress callback cannot stop a batch half-way; its errors wait for the epoch.
            let _ = on_event(net, Event::Batch { done, total });
        });
        let report = match report {
            Err(e @ (Error::NonFiniteLoss { .. } | Error::NonFiniteWeights { .. })) => {
                return Err(Error::TrainingStopped { source: Box::new(e), last_good: last_saved });
            }
            r => r?,
        };
        on_event(net, Event::Epoch(&report))?;
        reports.push(report);
    }
    Ok(reports)
}
