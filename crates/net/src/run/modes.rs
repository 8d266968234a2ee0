//! The four modes: train (the published -scr/-sep rules, the directory locked before the
//! resume), eval, getY (y of each form, with exit states under -aj) and getRep; each
//! writes the published output names as one result set with its record.

use std::path::PathBuf;
use std::time::Instant;

use gcnet_files::numpy::NpArray;
use gcnet_files::{Overwrite, ResultSet};
use gcnet_progress::{MultiProgress, bar, bar_in, log, say};
use ndarray::{Array1, ArrayView2, Axis};

use super::{Run, elapsed};
use crate::batch;
use crate::error::{Context, Error, Result, refuse};
use crate::eval;
use crate::fit::{CheckpointDir, Event, Schedule};
use crate::network::Gcnet;
use crate::objective::Form;
use crate::train::{EpochReport, Trainer};

/// What a training run did.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The network directory with the checkpoints.
    pub dir: PathBuf,
    /// The checkpoint it resumed from (`None`: a new network).
    pub resumed_from: Option<PathBuf>,
    /// One report per epoch trained (the training loss, normalised by `l0`).
    pub epochs: Vec<EpochReport>,
    /// The loss normalisation: 1, or the uncorrelated L0 with -l0.
    pub l0: f64,
}

/// L on the training and the validation states for every evaluated checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    pub epochs: Vec<usize>,
    pub l_train: Vec<f64>,
    pub l_val: Vec<f64>,
}

/// One result of getY or getRep: the published `{name}.npy` (the bare array) and beside
/// it `{name}.npz` with the array named `key` (and, for eval, the epochs).
#[derive(Clone, Debug)]
pub struct Output {
    /// The file name without extension, e.g. `y_st1_1_1_1_n0c2_all_1_4`.
    pub name: String,
    /// Its role in the result set's record, e.g. `y_st1_exits`.
    pub role: &'static str,
    pub array: NpArray,
    /// The `.npy` file written.
    pub path: PathBuf,
}

/// The files a mode wrote, by role.
#[derive(Clone, Debug)]
pub struct Outputs {
    pub epoch: usize,
    pub files: Vec<Output>,
}

impl Outputs {
    /// The output of `role` (e.g. `y_st1`, `rep_st2_exits`).
    pub fn get(&self, role: &str) -> Option<&Output> {
        self.files.iter().find(|o| o.role == role)
    }

    /// The f64 array of `role` as a 2-d array (y: (N, 3)).
    pub fn y(&self, role: &str) -> Option<ndarray::Array2<f64>> {
        match &self.get(role)?.array {
            NpArray::F64(a) => a.clone().into_dimensionality().ok(),
            _ => None,
        }
    }
}

/// What [`Run::run`] did, by mode.
#[derive(Clone, Debug)]
pub enum Done {
    Trained(Trained),
    Evaluated(Evaluated),
    /// getY or getRep.
    Wrote(Outputs),
}

impl Run {
    /// The mode of the configuration (-m).
    pub fn run(&self) -> Result<Done> {
        Ok(match self.cfg.mode {
            super::Mode::Train => Done::Trained(self.train()?),
            super::Mode::Eval => Done::Evaluated(self.eval()?),
            super::Mode::GetY => Done::Wrote(self.get_y()?),
            super::Mode::GetRep => Done::Wrote(self.get_rep()?),
        })
    }

    /// The published meaning of -scr and -sep in train: resume from ep_{sep}.pt when it
    /// exists (an ep_0.pt is never started over); without it, -scr starts a new network
    /// at epoch sep, and without -scr there is nothing to resume from.
    fn resumes(&self) -> Result<bool> {
        let sep = self.cfg.start;
        let ck = self.checkpoint(sep);
        let exists = ck.exists();
        if self.cfg.scratch {
            if exists && sep == 0 {
                refuse!(
                    "{} already exists: -scr -sep 0 never overwrites a trained network (remove it, or drop -scr to resume from it)",
                    ck.display()
                );
            }
            if !exists && sep > 0 && !self.dir.is_dir() {
                refuse!(
                    "-scr -sep {sep}: the network directory {} does not exist, and a new network starts there only from -sep 0",
                    self.dir.display()
                );
            }
        } else if !exists {
            refuse!(
                "-sep {sep} resumes from {}, which does not exist (network directory for -tn, -sp, -nl, -nch and -aj; use -scr to start a new network)",
                ck.display()
            );
        }
        Ok(exists)
    }

    /// Trains from -sep to -eep, writing ep_k.pt every -i epochs: a new network, or (the
    /// network directory locked first) the one at -sep resumed with its Adam state.
    pub fn train(&self) -> Result<Trained> {
        let t0 = Instant::now();
        let (sep, eep) = (self.cfg.start, self.cfg.end_epoch()?);
        let resumed = self.resumes()?;
        let mut net =
            Gcnet::from_crystal_seeded(&self.crystal, &self.net, self.cfg.device, self.cfg.train.seed as i64)?;
        let dir_name = self.dir.display();
        let open = if resumed { CheckpointDir::open_existing(&self.dir) } else { CheckpointDir::create(&self.dir) };
        let dir = open
            .with_context(|| format!("opening the network directory {dir_name}"))?
            .with_record(self.training_record())
            .overwrite(Overwrite::force(self.cfg.force));
        let ck = self.checkpoint(sep);
        let mut trainer = if resumed {
            self.check_checkpoint(&ck, true)?;
            let what = format!("resuming from {}", ck.display());
            Trainer::resume(&mut net, self.cfg.train.clone(), dir, sep, self.cfg.adam).map_err(|e| match e {
                Error::AdamState { .. } => Error::Context {
                    what: format!(
                        "{what}: pass --restart-adam to continue with a fresh Adam (as the published code does)"
                    ),
                    source: Box::new(e),
                },
                e => Error::Context { what, source: Box::new(e) },
            })?
        } else {
            Trainer::new(&net, self.cfg.train.clone()).saving_to(dir)
        };
        let (train_set, _) = self.split();
        let mut obj = self.obj.clone();
        if self.cfg.scale_l0 {
            obj.l0 = batch::training_l0(&net, &train_set, &obj);
            eprintln!("gcnet: -l0: training loss divided by L0 = {:.6e}", obj.l0);
        }
        if obj.form == Form::Labels {
            // Every label's term counts relative to its own uncorrelated L0, so that a slow
            // species is trained as well as a fast one.
            let l0 = batch::label_l0(&net, &train_set, &obj);
            let labels = obj.species.labels().to_vec();
            let still: Vec<usize> = labels.iter().zip(&l0).filter(|(_, l)| **l <= 0.0).map(|(a, _)| *a).collect();
            if !still.is_empty() {
                refuse!(
                    "label(s) {still:?} never jump in the {} training samples (their uncorrelated L0 is 0), so their \
                     relaxation vectors cannot be trained: train on all jumps (-aj) or on more samples",
                    train_set.len()
                );
            }
            obj = crate::Objective {
                l0: obj.l0,
                ..crate::Objective::labels(obj.species, l0.clone()).map_err(|e| Error::Context {
                    what: format!("the uncorrelated L0 of labels {labels:?} on the training states"),
                    source: Box::new(e),
                })?
            };
            let l0: Vec<String> = l0.iter().map(|x| format!("{x:.6e}")).collect();
            eprintln!("gcnet: one y per label {labels:?}, each term divided by its L0 [{}]", l0.join(", "));
        }
        let kind = self.cfg.kind;
        trainer.set_kind(&mut net, kind);
        let mut trainer = trainer.with_replicas(&net, &self.parallel_devices)?;
        eprintln!(
            "gcnet: training {dir_name} on {:?} ({}{}): {} training states, {} samples per epoch, epochs {sep}..{eep}{}",
            self.cfg.device,
            if kind == tch::Kind::Float { "f32" } else { "f64" },
            self.threads.map_or(String::new(), |t| format!(", {t}")),
            train_set.num_states(),
            train_set.len(),
            if resumed { format!(", resumed from {}", ck.display()) } else { String::new() }
        );
        let multi = MultiProgress::new();
        let epochs = bar_in(&multi, (eep - sep) as u64, "epochs");
        let batches = bar_in(&multi, train_set.len().div_ceil(self.cfg.train.batch_size) as u64, "batches");
        let schedule = Schedule::epochs(sep, eep).every(self.cfg.interval);
        // SIGINT/SIGTERM (a time limit, a preemption) stop training between two batches
        // with the checkpoint to continue from (Error::Interrupted), not mid-write.
        gcnet_interrupt::install().map_err(|e| Error::Config(e.to_string()))?;
        let reports = trainer.fit(&net, &train_set, &obj, &schedule, &mut |_, e| {
            match e {
                Event::Batch { done, .. } => batches.set_position(done as u64),
                Event::Epoch(r) => {
                    batches.reset();
                    epochs.inc(1);
                    log(&multi, format!("epoch {}: training loss {:.8e}", r.epoch, r.loss));
                }
                Event::Saved { .. } => {}
            }
            Ok(())
        });
        epochs.finish_and_clear();
        batches.finish_and_clear();
        let reports = reports.map_err(|e| match e {
            Error::WouldReplace { files } => Error::Refused(format!(
                "training epochs {sep}..{eep} would replace {} (another run's checkpoints?): pass --force to replace them",
                files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )),
            e @ Error::Interrupted { .. } => e,
            e => Error::Context { what: "training".into(), source: Box::new(e) },
        })?;
        let last = reports.last().map_or(f64::NAN, |r| r.loss);
        eprintln!(
            "gcnet: trained epochs {sep}..{eep} in {} (last training loss {last:.8e}); checkpoints in {dir_name}",
            elapsed(t0)
        );
        let resumed_from = resumed.then_some(ck);
        Ok(Trained { dir: self.dir.clone(), resumed_from, epochs: reports, l0: obj.l0 })
    }

    /// L_train and L_val (L0 = 1) of every checkpoint sep, sep+i, ... eep; writes
    /// tr_{tag}.npy and val_{tag}.npy (suffix _tracer with -trc) and their .npz.
    pub fn eval(&self) -> Result<Evaluated> {
        let t0 = Instant::now();
        let (train_set, val_set) = self.split();
        let mut obj = self.obj.clone();
        obj.l0 = 1.0;
        let epochs = self.epochs();
        // Every checkpoint must be there before hours of evaluation.
        if let Some(missing) = epochs.iter().map(|&k| self.checkpoint(k)).find(|p| !p.exists()) {
            refuse!(
                "checkpoint {} does not exist (network directory for -tn, -sp, -nl, -nch and -ajn)",
                missing.display()
            );
        }
        self.prepare_work_dir()?;
        let (mut l_train, mut l_val) = (Vec::new(), Vec::new());
        let b = bar(epochs.len() as u64, "checkpoints");
        let bs = self.cfg.train.batch_size;
        for &k in &epochs {
            let net = self.load_network(k)?;
            let t = eval::mean_loss(&net, &train_set, &obj, bs).context("L on the training states")?;
            let v = eval::mean_loss(&net, &val_set, &obj, bs).context("L on the validation states")?;
            say(&b, format!("epoch {k}: L_train {t:.8e}  L_val {v:.8e}"));
            l_train.push(t);
            l_val.push(v);
            b.inc(1);
        }
        b.finish_and_clear();
        let suffix = if obj.form == Form::Tracer { "_tracer" } else { "" };
        let ep: NpArray = Array1::from(epochs.iter().map(|&k| k as i64).collect::<Vec<_>>()).into();
        let files = [("tr", "L_train", &l_train), ("val", "L_val", &l_val)]
            .map(|(prefix, role, l)| (format!("{prefix}_{}{suffix}", self.tag), role, Array1::from(l.clone()).into()));
        self.write_set(self.cfg.end_epoch()?, files.into(), "L", Some(ep))?;
        eprintln!("gcnet: evaluated {} checkpoints in {}", epochs.len(), elapsed(t0));
        Ok(Evaluated { epochs, l_train, l_val })
    }

    /// y of every state (in sample order) with the network of epoch -sep, as the form
    /// says: (N, 3) for the collective and boundary forms (with -aj also the (N*z, 3) y
    /// of every exit state), the per-site (N, S, 3) of the tracers.
    pub fn get_y(&self) -> Result<Outputs> {
        let t0 = Instant::now();
        let k = self.cfg.start;
        let net = self.load_network(k)?;
        self.prepare_work_dir()?;
        let (data, order, obj) = (&self.data.data, &self.data.order, &self.obj);
        let st1 = data.init_states.select(Axis(0), order);
        let st2 = data.fin_states.select(Axis(0), order);
        let (bs, v) = (self.cfg.train.batch_size, obj.species.vacancy_label());
        let name = |what: &str| format!("y_{what}_{}_{k}", self.tag);
        let mut files: Vec<(String, &'static str, NpArray)> = Vec::new();
        let mut push = |what: &str, role, array: NpArray| files.push((name(what), role, array));
        match obj.form {
            Form::Tracer => {
                push("st1", "y_st1", eval::site_relaxation_vectors(&net, st1.view(), v, bs).into());
                push("st2", "y_st2", eval::site_relaxation_vectors(&net, st2.view(), v, bs).into());
            }
            Form::Boundary { .. } => {
                let r1 = data.jump_rates_init.select(Axis(0), order);
                let r2 = data.jump_rates_fin.select(Axis(0), order);
                push("st1", "y_st1", eval::relaxation_vectors(&net, st1.view(), Some(r1.view()), obj, bs).into());
                push("st2", "y_st2", eval::relaxation_vectors(&net, st2.view(), Some(r2.view()), obj, bs).into());
            }
            Form::Collective if obj.all_jumps => {
                // y of every state and of each of its z exit states, for s1 and for s2.
                let (y1, e1) = eval::exit_relaxation_vectors(&net, st1.view(), obj, bs);
                let (y2, e2) = eval::exit_relaxation_vectors(&net, st2.view(), obj, bs);
                push("st1", "y_st1", y1.into());
                push("st2", "y_st2", y2.into());
                push("st1_exits", "y_st1_exits", e1.into());
                push("st2_exits", "y_st2_exits", e2.into());
            }
            Form::Labels => {
                // y of every label: (N, |S|, 3), and with -aj of every exit: (N*z, |S|, 3).
                let (y1, e1) = eval::label_exit_relaxation_vectors(&net, st1.view(), obj, bs);
                let (y2, e2) = eval::label_exit_relaxation_vectors(&net, st2.view(), obj, bs);
                push("st1", "y_st1", y1.into());
                push("st2", "y_st2", y2.into());
                if obj.all_jumps {
                    push("st1_exits", "y_st1_exits", e1.into());
                    push("st2_exits", "y_st2_exits", e2.into());
                }
            }
            Form::Collective => {
                push("st1", "y_st1", eval::relaxation_vectors(&net, st1.view(), None, obj, bs).into());
                push("st2", "y_st2", eval::relaxation_vectors(&net, st2.view(), None, obj, bs).into());
            }
        }
        let outputs = self.write_set(k, files, "y", None)?;
        eprintln!("gcnet: getY done in {}", elapsed(t0));
        Ok(outputs)
    }

    /// The output of stack module -rl for samples -rStart.. (-nt of them) with the network
    /// of epoch -sep, and with -aj for their exit states too.
    pub fn get_rep(&self) -> Result<Outputs> {
        let Some(layer) = self.cfg.rep_layer else {
            refuse!(
                "getRep needs -rl: a group-average module (2, 5, 8, ...) or the stack length {}",
                self.net.stack_len()
            )
        };
        let k = self.cfg.start;
        let net = self.load_network(k)?;
        self.prepare_work_dir()?;
        let data = &self.data.data;
        let n = data.len();
        let start = self.cfg.rep_start.min(n);
        let end = (start + self.n_train).min(n);
        let idx = &self.data.order[start..end];
        let (v, bs) = (self.obj.species.vacancy_label(), self.cfg.train.batch_size);
        let rep = |states: ArrayView2<'_, i8>| -> Result<NpArray> {
            Ok(eval::representation(&net, states, v, layer, bs).with_context(|| format!("-rl {layer}"))?.into())
        };
        if start >= end {
            refuse!(
                "-rStart {} is at or past the end of the {n} samples of the data set: there is nothing to represent \
                 (nothing was written)",
                self.cfg.rep_start
            );
        }
        // The published names: st1Exits and st2_exits, inconsistent as they are.
        let mut files = Vec::new();
        for (what, exits_what, states) in
            [("st1", "st1Exits", &data.init_states), ("st2", "st2_exits", &data.fin_states)]
        {
            let st = states.select(Axis(0), idx);
            let (role, exits_role) =
                if what == "st1" { ("rep_st1", "rep_st1_exits") } else { ("rep_st2", "rep_st2_exits") };
            files.push((format!("Rep_L_{layer}_{what}_{}_{k}", self.tag), role, rep(st.view())?));
            if self.obj.all_jumps {
                let exits = eval::exit_states(net.geometry(), st.view());
                files.push((format!("Rep_L_{layer}_{exits_what}_{}_{k}", self.tag), exits_role, rep(exits.view())?));
            }
        }
        let outputs = self.write_set(k, files, "rep", None)?;
        eprintln!("gcnet: representations of samples {start}..{end} after module {layer}");
        Ok(outputs)
    }

    /// Before any work: the work directory takes files, and the temporary files of killed
    /// runs (whose writers are gone) are removed.
    fn prepare_work_dir(&self) -> Result<()> {
        let dir = if self.cfg.work_dir.as_os_str().is_empty() { PathBuf::from(".") } else { self.cfg.work_dir.clone() };
        let mode = self.cfg.mode.name();
        gcnet_files::check_writable(&dir)
            .with_context(|| format!("the working directory, where {mode} writes its results"))?;
        for orphan in gcnet_files::remove_orphans(&dir)? {
            eprintln!("gcnet: removed {}, left by a run that was killed while writing", orphan.display());
        }
        Ok(())
    }

    /// Writes a mode's outputs as one set with its record (gcnet-files' ResultSet): every
    /// file is complete before any replaces an older one, and the sidecars tie them
    /// together. Results are replaced, as the published np.save replaces them; an input of
    /// the run never is, and an empty result is refused.
    fn write_set(
        &self,
        epoch: usize,
        files: Vec<(String, &'static str, NpArray)>,
        key: &str,
        epochs: Option<NpArray>,
    ) -> Result<Outputs> {
        let mode = self.cfg.mode.name();
        let mut set = ResultSet::new(self.record(epoch)?, Overwrite::Replace, &self.inputs);
        let mut outputs = Vec::new();
        for (name, role, array) in files {
            let path = self.cfg.work_dir.join(format!("{name}.npy"));
            set.npy(&path, role, &array)?;
            let mut named = vec![(key, array.clone())];
            named.extend(epochs.clone().map(|e| ("epochs", e)));
            set.npz(self.cfg.work_dir.join(format!("{name}.npz")), role, &named)?;
            outputs.push(Output { name, role, array, path });
        }
        set.commit().with_context(|| format!("writing the {mode} results"))?;
        for o in &outputs {
            eprintln!("gcnet: wrote {}.npy (and .npz)", o.name);
        }
        Ok(Outputs { epoch, files: outputs })
    }
}
