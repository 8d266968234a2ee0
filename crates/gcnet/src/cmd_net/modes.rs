//! The four modes of the published interface.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use gcnet_net::{Error as NetError, Form, Gcnet, Trainer, batch, checkpoint, eval};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ndarray::{Array1, Array2, Axis};
use ndarray_npy::NpzWriter;

use super::{Job, elapsed};

fn bar(len: u64, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(&format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} {{msg}}"))
            .expect("valid template"),
    );
    b
}

/// Writes named arrays as an .npz file.
fn write_npz<'a>(path: &Path, arrays: impl IntoIterator<Item = (&'a str, NpzArray)>) -> anyhow::Result<()> {
    // Written next to the target and renamed when complete, so an interrupted run never
    // leaves a truncated file in place of an earlier result.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .prefix(".gcnet-")
        .suffix(".npz.part")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file for {}", path.display()))?;
    let mut npz = NpzWriter::new(tmp.reopen().with_context(|| format!("writing {}", path.display()))?);
    for (name, a) in arrays {
        match a {
            NpzArray::F1(a) => npz.add_array(name, &a),
            NpzArray::I1(a) => npz.add_array(name, &a),
            NpzArray::F2(a) => npz.add_array(name, &a),
            NpzArray::F3(a) => npz.add_array(name, &a),
        }
        .with_context(|| format!("writing {name} to {}", path.display()))?;
    }
    npz.finish().with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("moving the finished file to {}", path.display()))?;
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

enum NpzArray {
    F1(Array1<f64>),
    I1(Array1<i64>),
    F2(Array2<f64>),
    F3(ndarray::Array3<f64>),
}

pub(crate) fn train(job: &Job) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let (sep, eep) = (job.start, job.end);
    let ep0 = job.checkpoint(0);
    if job.scratch {
        if ep0.exists() {
            bail!(
                "{} already exists: -scr -sep 0 never overwrites a trained network (remove it or resume with -sep)",
                ep0.display()
            );
        }
    } else if !job.dir.is_dir() {
        bail!(
            "-sep {sep} resumes from {}, but the network directory {} does not exist (use -scr -sep 0 to start a new network)",
            job.checkpoint(sep).display(),
            job.dir.display()
        );
    }
    tch::manual_seed(job.seed as i64);
    let mut net =
        if job.scratch { Gcnet::from_crystal(&job.crystal, &job.net, job.device)? } else { job.load_network(sep)? };
    let (train_set, _) = job.split();
    let mut obj = job.obj.clone();
    if obj.l0 == 1.0 && job_scale_l0(job) {
        obj.l0 = batch::uncorrelated_l0(&net, &train_set, &obj);
        eprintln!("gcnet: -l0: training loss divided by the uncorrelated L0 = {:.6e}", obj.l0);
    }
    net.set_kind(job.kind());
    let mut trainer = Trainer::data_parallel(&net, job.train.clone(), &job.parallel_devices)?;
    if !job.scratch {
        let opt = job.optimizer_state(sep);
        let resumed =
            opt.exists() && checkpoint::read_tensors(&opt).map(|t| trainer.adam.load_state_dict(&t)).unwrap_or(false);
        if !resumed {
            eprintln!(
                "gcnet: no Adam state beside {} (a PyTorch checkpoint?): Adam restarts",
                job.checkpoint(sep).display()
            );
        }
    }
    std::fs::create_dir_all(&job.dir)
        .with_context(|| format!("creating the network directory {}", job.dir.display()))?;
    eprintln!(
        "gcnet: training {} on {:?} ({}): {} training states, {} samples per epoch, epochs {sep}..{eep}",
        job.dir.display(),
        job.device,
        if job.kind() == tch::Kind::Float { "f32" } else { "f64" },
        train_set.num_states(),
        train_set.len()
    );
    let multi = MultiProgress::new();
    let epochs = multi.add(bar((eep - sep) as u64, "epochs"));
    let batches = multi.add(bar(train_set.len().div_ceil(job.train.batch_size) as u64, "batches"));
    let mut last_saved = if job.scratch { None } else { Some(sep) };
    let mut last_loss = f64::NAN;
    for k in sep..=eep {
        if k.is_multiple_of(job.interval) && (job.scratch || k != sep) {
            checkpoint::save(&net, &job.checkpoint(k))?;
            checkpoint::write_tensors(&job.optimizer_state(k), &trainer.adam.state_dict())?;
            last_saved = Some(k);
        }
        if k == eep {
            break;
        }
        batches.reset();
        let report = trainer.run_epoch(&net, &train_set, &obj, k, &mut |done, _| batches.set_position(done as u64));
        let report = match report {
            Err(e @ NetError::NonFiniteLoss { .. }) => {
                multi.clear().ok();
                let kept = last_saved.map_or("none".to_string(), |e| job.checkpoint(e).display().to_string());
                return Err(e).context(format!("training stopped; the last good checkpoint is {kept}"));
            }
            r => r?,
        };
        last_loss = report.loss;
        epochs.inc(1);
        log(&multi, format!("epoch {k}: training loss {:.8e}", report.loss));
    }
    epochs.finish_and_clear();
    batches.finish_and_clear();
    eprintln!(
        "gcnet: trained epochs {sep}..{eep} in {} (last training loss {last_loss:.8e}); checkpoints in {}",
        elapsed(t0),
        job.dir.display()
    );
    Ok(())
}

fn job_scale_l0(job: &Job) -> bool {
    job.train_scale_l0
}

pub(crate) fn eval(job: &Job) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let (train_set, val_set) = job.split();
    let mut obj = job.obj.clone();
    obj.l0 = 1.0;
    let epochs = job.epochs();
    let (mut lt, mut lv) = (Vec::new(), Vec::new());
    let b = bar(epochs.len() as u64, "checkpoints");
    for &k in &epochs {
        let net = job.load_network(k)?;
        let t = eval::loss_sum(&net, &train_set, &obj, job.train.batch_size) / train_set.num_states().max(1) as f64;
        let v = if val_set.num_states() > 0 {
            eval::loss_sum(&net, &val_set, &obj, job.train.batch_size) / val_set.num_states() as f64
        } else {
            f64::NAN
        };
        crate::progress::say(&b, format!("epoch {k}: L_train {t:.8e}  L_val {v:.8e}"));
        lt.push(t);
        lv.push(v);
        b.inc(1);
    }
    b.finish_and_clear();
    let suffix = if matches!(obj.form, Form::Tracer) { "_tracer" } else { "" };
    let ep = Array1::from(epochs.iter().map(|&k| k as i64).collect::<Vec<_>>());
    for (prefix, l) in [("tr", lt), ("val", lv)] {
        let path = format!("{prefix}_{}{suffix}.npz", job.tag);
        write_npz(Path::new(&path), [("epochs", NpzArray::I1(ep.clone())), ("L", NpzArray::F1(Array1::from(l)))])?;
        eprintln!("gcnet: wrote {path}");
    }
    eprintln!("gcnet: evaluated {} checkpoints in {}", epochs.len(), elapsed(t0));
    Ok(())
}

pub(crate) fn get_y(job: &Job) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let st1 = job.data.init_states.select(Axis(0), &job.order);
    let st2 = job.data.fin_states.select(Axis(0), &job.order);
    let r1 = job.data.jump_rates_init.select(Axis(0), &job.order);
    let r2 = job.data.jump_rates_fin.select(Axis(0), &job.order);
    let bs = job.train.batch_size;
    let v = job.obj.species.vacancy;
    for k in job.epochs() {
        let net = job.load_network(k)?;
        let name = |what: &str| format!("y_{what}_{}_{k}.npz", job.tag);
        let mut files: Vec<(String, NpzArray)> = Vec::new();
        match job.obj.form {
            Form::Tracer => {
                files.push((name("st1"), NpzArray::F3(eval::site_relaxation_vectors(&net, st1.view(), v, bs))));
                files.push((name("st2"), NpzArray::F3(eval::site_relaxation_vectors(&net, st2.view(), v, bs))));
            }
            _ => {
                let bt = matches!(job.obj.form, Form::Boundary { .. });
                let y1 = eval::relaxation_vectors(&net, st1.view(), bt.then(|| r1.view()), &job.obj, bs);
                let y2 = eval::relaxation_vectors(&net, st2.view(), bt.then(|| r2.view()), &job.obj, bs);
                files.push((name("st1"), NpzArray::F2(y1)));
                files.push((name("st2"), NpzArray::F2(y2)));
                if job.obj.all_jumps {
                    let (e1, e2) = eval::exit_relaxation_vectors(&net, st1.view(), &job.obj, bs);
                    files.push((name("st1_exits"), NpzArray::F2(e1)));
                    files.push((name("st2_exits"), NpzArray::F2(e2)));
                }
            }
        }
        for (path, array) in files {
            write_npz(Path::new(&path), [("y", array)])?;
            eprintln!("gcnet: wrote {path}");
        }
    }
    eprintln!("gcnet: getY done in {}", elapsed(t0));
    Ok(())
}

pub(crate) fn get_rep(job: &Job) -> anyhow::Result<()> {
    let layer = job.rep_layer.expect("checked when the job was built");
    let n = job.data.len();
    let start = job.rep_start.min(n);
    let end = (start + job.n_train).min(n);
    let idx = &job.order[start..end];
    let v = job.obj.species.vacancy;
    for k in job.epochs() {
        let net = job.load_network(k)?;
        for (what, states) in [("st1", &job.data.init_states), ("st2", &job.data.fin_states)] {
            let st = states.select(Axis(0), idx);
            let rep = eval::representation(&net, st.view(), v, layer, job.train.batch_size)
                .with_context(|| format!("-rl {layer}"))?;
            let path = format!("Rep_L_{layer}_{what}_{}_{k}.npz", job.tag);
            write_npz(Path::new(&path), [("rep", NpzArray::F3(rep))])?;
            eprintln!("gcnet: wrote {path} (samples {start}..{end})");
        }
    }
    Ok(())
}
