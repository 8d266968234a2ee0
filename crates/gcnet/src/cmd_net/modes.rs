//! The four modes of the published interface.

use std::time::Instant;

use anyhow::{Context, bail};
use gcnet_files::numpy::NpArray;
use gcnet_files::{Overwrite, ResultSet};
use gcnet_net::{
    Adam, CheckpointDir, Error as NetError, Event, Form, Gcnet, Saving, Schedule, Trainer, batch, eval, fit,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::{Job, elapsed};

fn bar(len: u64, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(&format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} {{msg}}"))
            .expect("valid template"),
    );
    b
}

/// One result of a mode: the published `{name}.npy` (the bare array, as np.save) and
/// beside it `{name}.npz` with the array named `key` plus `extra` arrays.
struct Output<'a> {
    name: String,
    role: &'a str,
    key: &'a str,
    array: NpArray,
    extra: Vec<(&'a str, NpArray)>,
}

impl<'a> Output<'a> {
    fn new(name: String, role: &'a str, key: &'a str, array: impl Into<NpArray>) -> Output<'a> {
        Output { name, role, key, array: array.into(), extra: Vec::new() }
    }
}

/// Writes a mode's outputs as one set with its record (gcnet-files' ResultSet): every file
/// is complete before any replaces an older one, and the sidecars tie them together.
/// Results are replaced, as the published np.save replaces them; an input of the run
/// never is, and an empty result is refused.
fn write_set(job: &Job, mode: &str, epoch: usize, outputs: Vec<Output<'_>>) -> anyhow::Result<()> {
    let record = job.record(mode, epoch)?;
    let mut set = ResultSet::new(record, Overwrite::Replace, &job.inputs);
    for o in &outputs {
        set.npy(format!("{}.npy", o.name), o.role, &o.array)?;
        let mut named = vec![(o.key, o.array.clone())];
        named.extend(o.extra.iter().cloned());
        set.npz(format!("{}.npz", o.name), o.role, &named)?;
    }
    set.commit().with_context(|| format!("writing the {mode} results"))?;
    for o in &outputs {
        eprintln!("gcnet: wrote {}.npy (and .npz)", o.name);
    }
    Ok(())
}

/// Before any work: the working directory takes files, and the temporary files of killed
/// runs (whose writers are gone) are removed.
fn prepare_working_directory(mode: &str) -> anyhow::Result<()> {
    gcnet_files::check_writable(".")
        .with_context(|| format!("the working directory, where {mode} writes its results"))?;
    for orphan in gcnet_files::remove_orphans(".")? {
        eprintln!("gcnet: removed {}, left by a run that was killed while writing", orphan.display());
    }
    Ok(())
}

/// A log line above the progress bars (or plainly on stderr when they are hidden).
fn log(multi: &MultiProgress, line: String) {
    if multi.is_hidden() {
        eprintln!("{line}");
    } else {
        multi.println(line).ok();
    }
}

/// The published meaning of -scr and -sep in train: resume from ep_{sep}.pt when it exists
/// (an ep_0.pt is never started over); without it, -scr starts a new network at epoch
/// sep, and without -scr there is nothing to resume from.
fn resumes(job: &Job) -> anyhow::Result<bool> {
    let sep = job.start;
    let ck = job.checkpoint(sep);
    let exists = ck.exists();
    if job.scratch {
        if exists && sep == 0 {
            bail!(
                "{} already exists: -scr -sep 0 never overwrites a trained network (remove it, or drop -scr to resume from it)",
                ck.display()
            );
        }
        if !exists && sep > 0 && !job.dir.is_dir() {
            bail!(
                "-scr -sep {sep}: the network directory {} does not exist, and a new network starts there only from -sep 0",
                job.dir.display()
            );
        }
    } else if !exists {
        bail!(
            "-sep {sep} resumes from {}, which does not exist (network directory for -tn, -sp, -nl, -nch and -aj; use -scr to start a new network)",
            ck.display()
        );
    }
    Ok(exists)
}

pub(crate) fn train(job: &Job) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let (sep, eep) = (job.start, job.end);
    let resumed = resumes(job)?;
    tch::manual_seed(job.seed as i64);
    let mut net = Gcnet::from_crystal(&job.crystal, &job.net, job.device)?;
    let mut adam = Adam::new(&net.parameters(), job.train.learning_rate, job.train.decay);
    if resumed {
        job.check_checkpoint(&job.checkpoint(sep), true)?;
        let with_adam = if job.restart_adam { None } else { Some(&mut adam) };
        fit::resume(&job.dir, &mut net, with_adam, sep).map_err(|e| match e {
            NetError::AdamState { .. } => anyhow::Error::new(e).context(format!(
                "resuming from {}: pass --restart-adam to continue with a fresh Adam (as the published code does)",
                job.checkpoint(sep).display()
            )),
            e => anyhow::Error::new(e).context(format!("resuming from {}", job.checkpoint(sep).display())),
        })?;
    }
    let schedule = Schedule { start: sep, end: eep, interval: job.interval };
    let overwrite = Overwrite::force(job.force);
    // Refused here, before the directory is locked or anything is written.
    let existing: Vec<String> = schedule
        .checkpoint_epochs(resumed)
        .into_iter()
        .map(|k| job.checkpoint(k))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !job.force {
        bail!(
            "training epochs {sep}..{eep} would replace {} (another run's checkpoints?): pass --force to replace them",
            existing.join(", ")
        );
    }
    let (train_set, _) = job.split();
    let mut obj = job.obj.clone();
    if job.train_scale_l0 {
        obj.l0 = batch::training_l0(&net, &train_set, &obj);
        eprintln!("gcnet: -l0: training loss divided by L0 = {:.6e}", obj.l0);
    }
    let dir = CheckpointDir::open(&job.dir, true)
        .with_context(|| format!("opening the network directory {}", job.dir.display()))?
        .with_record(job.training_record());
    net.set_kind(job.kind());
    adam.set_kind(job.kind());
    let mut trainer = Trainer::data_parallel(&net, job.train.clone(), &job.parallel_devices)?;
    trainer.adam = adam;
    eprintln!(
        "gcnet: training {} on {:?} ({}): {} training states, {} samples per epoch, epochs {sep}..{eep}{}",
        job.dir.display(),
        job.device,
        if job.kind() == tch::Kind::Float { "f32" } else { "f64" },
        train_set.num_states(),
        train_set.len(),
        if resumed { format!(", resumed from {}", job.checkpoint(sep).display()) } else { String::new() }
    );
    let multi = MultiProgress::new();
    let epochs = multi.add(bar((eep - sep) as u64, "epochs"));
    let batches = multi.add(bar(train_set.len().div_ceil(job.train.batch_size) as u64, "batches"));
    let mut last_loss = f64::NAN;
    let reports = fit(
        &net,
        &mut trainer,
        &train_set,
        &obj,
        &schedule,
        Some(Saving { dir: &dir, overwrite, resumed }),
        &mut |_, e| {
            match e {
                Event::Batch { done, .. } => batches.set_position(done as u64),
                Event::Epoch(r) => {
                    last_loss = r.loss;
                    batches.reset();
                    epochs.inc(1);
                    log(&multi, format!("epoch {}: training loss {:.8e}", r.epoch, r.loss));
                }
                Event::Saved { .. } => {}
            }
            Ok(())
        },
    );
    epochs.finish_and_clear();
    batches.finish_and_clear();
    reports.context("training")?;
    eprintln!(
        "gcnet: trained epochs {sep}..{eep} in {} (last training loss {last_loss:.8e}); checkpoints in {}",
        elapsed(t0),
        job.dir.display()
    );
    Ok(())
}

pub(crate) fn eval(job: &Job) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let (train_set, val_set) = job.split();
    let mut obj = job.obj.clone();
    obj.l0 = 1.0;
    let epochs = job.epochs();
    // Every checkpoint must be there before hours of evaluation.
    if let Some(missing) = epochs.iter().map(|&k| job.checkpoint(k)).find(|p| !p.exists()) {
        bail!("checkpoint {} does not exist (network directory for -tn, -sp, -nl, -nch and -ajn)", missing.display());
    }
    prepare_working_directory("eval")?;
    let (mut lt, mut lv) = (Vec::new(), Vec::new());
    let b = bar(epochs.len() as u64, "checkpoints");
    for &k in &epochs {
        let net = job.load_network(k)?;
        let t = eval::mean_loss(&net, &train_set, &obj, job.train.batch_size).context("L on the training states")?;
        let v = eval::mean_loss(&net, &val_set, &obj, job.train.batch_size).context("L on the validation states")?;
        gcnet_progress::say(&b, format!("epoch {k}: L_train {t:.8e}  L_val {v:.8e}"));
        lt.push(t);
        lv.push(v);
        b.inc(1);
    }
    b.finish_and_clear();
    let suffix = if matches!(obj.form, Form::Tracer) { "_tracer" } else { "" };
    let ep: NpArray = Array1::from(epochs.iter().map(|&k| k as i64).collect::<Vec<_>>()).into();
    let outputs = [("tr", "L_train", lt), ("val", "L_val", lv)]
        .into_iter()
        .map(|(prefix, role, l)| {
            let mut o = Output::new(format!("{prefix}_{}{suffix}", job.tag), role, "L", Array1::from(l));
            o.extra.push(("epochs", ep.clone()));
            o
        })
        .collect();
    write_set(job, "eval", job.end, outputs)?;
    eprintln!("gcnet: evaluated {} checkpoints in {}", epochs.len(), elapsed(t0));
    Ok(())
}

pub(crate) fn get_y(job: &Job) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let k = job.start;
    let net = job.load_network(k)?;
    prepare_working_directory("getY")?;
    let st1 = job.data.init_states.select(Axis(0), &job.order);
    let st2 = job.data.fin_states.select(Axis(0), &job.order);
    let bs = job.train.batch_size;
    let v = job.obj.species.vacancy;
    let name = |what: &str| format!("y_{what}_{}_{k}", job.tag);
    let mut files: Vec<(String, &str, NpArray)> = Vec::new();
    match job.obj.form {
        Form::Tracer => {
            files.push((name("st1"), "y_st1", eval::site_relaxation_vectors(&net, st1.view(), v, bs).into()));
            files.push((name("st2"), "y_st2", eval::site_relaxation_vectors(&net, st2.view(), v, bs).into()));
        }
        Form::Boundary { .. } => {
            let r1 = job.data.jump_rates_init.select(Axis(0), &job.order);
            let r2 = job.data.jump_rates_fin.select(Axis(0), &job.order);
            let y1 = eval::relaxation_vectors(&net, st1.view(), Some(r1.view()), &job.obj, bs);
            let y2 = eval::relaxation_vectors(&net, st2.view(), Some(r2.view()), &job.obj, bs);
            files.push((name("st1"), "y_st1", y1.into()));
            files.push((name("st2"), "y_st2", y2.into()));
        }
        Form::Collective if job.obj.all_jumps => {
            // y of every state and of each of its z exit states, for s1 and for s2.
            let (y1, e1) = eval::exit_relaxation_vectors(&net, st1.view(), &job.obj, bs);
            let (y2, e2) = eval::exit_relaxation_vectors(&net, st2.view(), &job.obj, bs);
            files.push((name("st1"), "y_st1", y1.into()));
            files.push((name("st2"), "y_st2", y2.into()));
            files.push((name("st1_exits"), "y_st1_exits", e1.into()));
            files.push((name("st2_exits"), "y_st2_exits", e2.into()));
        }
        Form::Collective => {
            files.push((name("st1"), "y_st1", eval::relaxation_vectors(&net, st1.view(), None, &job.obj, bs).into()));
            files.push((name("st2"), "y_st2", eval::relaxation_vectors(&net, st2.view(), None, &job.obj, bs).into()));
        }
    }
    let outputs = files.into_iter().map(|(file, role, array)| Output::new(file, role, "y", array)).collect();
    write_set(job, "getY", k, outputs)?;
    eprintln!("gcnet: getY done in {}", elapsed(t0));
    Ok(())
}

/// The z exit states of every state, row `n*z + j` (SPEC section 2's jump permutation).
fn exit_states(net: &Gcnet, states: ArrayView2<'_, i8>) -> Array2<i8> {
    let g = net.geometry();
    let z = g.z;
    Array2::from_shape_fn((states.nrows() * z, g.num_sites), |(row, site)| {
        states[[row / z, g.jump_perm[row % z][site]]]
    })
}

pub(crate) fn get_rep(job: &Job) -> anyhow::Result<()> {
    let layer = job.rep_layer.expect("checked when the job was built");
    let k = job.start;
    let net = job.load_network(k)?;
    prepare_working_directory("getRep")?;
    let n = job.data.len();
    let start = job.rep_start.min(n);
    let end = (start + job.n_train).min(n);
    let idx = &job.order[start..end];
    let v = job.obj.species.vacancy;
    let bs = job.train.batch_size;
    let rep = |states: ArrayView2<'_, i8>| {
        eval::representation(&net, states, v, layer, bs).with_context(|| format!("-rl {layer}"))
    };
    if start >= end {
        bail!(
            "-rStart {} is at or past the end of the {n} samples of the data set: there is nothing to represent \
             (nothing was written)",
            job.rep_start
        );
    }
    // The published names: st1Exits and st2_exits, inconsistent as they are.
    let mut outputs = Vec::new();
    for (what, exits_what, states) in
        [("st1", "st1Exits", &job.data.init_states), ("st2", "st2_exits", &job.data.fin_states)]
    {
        let st = states.select(Axis(0), idx);
        let name = format!("Rep_L_{layer}_{what}_{}_{k}", job.tag);
        outputs.push(Output::new(name, if what == "st1" { "rep_st1" } else { "rep_st2" }, "rep", rep(st.view())?));
        if job.obj.all_jumps {
            let exits = exit_states(&net, st.view());
            let name = format!("Rep_L_{layer}_{exits_what}_{}_{k}", job.tag);
            let role = if what == "st1" { "rep_st1_exits" } else { "rep_st2_exits" };
            outputs.push(Output::new(name, role, "rep", rep(exits.view())?));
        }
    }
    write_set(job, "getRep", k, outputs)?;
    eprintln!("gcnet: representations of samples {start}..{end} after module {layer}");
    Ok(())
}
