//! `gcnet neb-bench`: what gcnet's orchestration costs against bare `lmp` NEB runs of the
//! same jumps, the throughput in jumps per hour with every core busy, and (with
//! --climb-table) the barrier error and time of climbing-image NEBs with fewer images
//! against the 11-image reference.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use gcnet_alloy::{
    CellSpec, Engine, Geometry, InitialStates, JobDirs, Lammps, LaunchOptions, Launcher, Model, NebResult, NebSettings,
    Potential, StateTask, available_cores, compute_jumps, parse_neb_log, random_states,
};
use gcnet_crystal::CrystalData;
use gcnet_files::{Overwrite, write_atomic};

/// Benchmark the NEB engine: the same jumps through gcnet and through bare `lmp` runs of
/// prepared inputs (the orchestration overhead), all jumps of the states with every core
/// busy (jumps per hour), and optionally climbing-image NEBs with fewer images against
/// the 11-image reference.
#[derive(Debug, Parser)]
#[command(name = "gcnet neb-bench", bin_name = "gcnet neb-bench")]
struct BenchArgs {
    /// [-cr] Crystal data file.
    #[arg(long = "CrysDatPath", short = 'c', value_name = "PATH")]
    crystal: PathBuf,
    /// [-pp] Potential directory (library.meam, params.meam).
    #[arg(long = "PotPath", value_name = "DIR")]
    pot_path: PathBuf,
    /// [-if] States (.npy); default: random equiatomic states of the elements.
    #[arg(long = "InitStateFile", value_name = "PATH")]
    init_state_file: Option<PathBuf>,
    /// [-u] Unit cells per side of the crystal file.
    #[arg(long = "Nunits", default_value_t = 5)]
    n_units: usize,
    /// [-pr] Primitive cells.
    #[arg(long = "Prim")]
    prim: bool,
    /// [-a0] Lattice parameter (A).
    #[arg(long = "LatPar", default_value_t = 3.595)]
    lat_par: f64,
    /// [-ni] Images of the overhead and throughput runs.
    #[arg(long = "NImages", default_value_t = 11)]
    n_images: usize,
    /// [-ftol] Force tolerance.
    #[arg(long = "ForceTol", default_value_t = 1e-3)]
    force_tol: f64,
    /// Jumps of the overhead comparison (the first jumps of the first states).
    #[arg(long, default_value_t = 6)]
    jumps: usize,
    /// States whose 12 jumps and end states are computed with every core busy (0: skip).
    #[arg(long = "throughput-states", default_value_t = 1)]
    throughput_states: usize,
    /// NEBs at once in the throughput run (default: cores / images, at least 1).
    #[arg(long = "parallel-nebs")]
    parallel_nebs: Option<usize>,
    /// Also time the bare runs without MPICH's progress throttle.
    #[arg(long = "compare-throttle")]
    compare_throttle: bool,
    /// Instead: the climbing-image table over this many jumps.
    #[arg(long = "climb-table", value_name = "JUMPS")]
    climb_table: Option<usize>,
    /// Images of the climbing-image variants.
    #[arg(long = "climb-images", value_delimiter = ',', default_value = "5,7")]
    climb_images: Vec<usize>,
    /// Most climbing-stage steps of the variants.
    #[arg(long = "climb-steps", default_value_t = 2000)]
    climb_steps: usize,
    /// Images of the reference (no climbing image, as published).
    #[arg(long = "reference-images", default_value_t = 11)]
    reference_images: usize,
    /// Per-jump results of the climbing table as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    #[arg(long, value_delimiter = ',', default_value = "Co,Ni,Cr,Fe,Mn")]
    elements: Vec<String>,
    /// Seed of the random states.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Scratch directory (default: a new temporary one).
    #[arg(long)]
    scratch: Option<PathBuf>,
    #[arg(long)]
    lmp: Option<PathBuf>,
}

pub(super) fn run(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let spellings: &[(&str, &str)] = &[
        ("-cr", "--CrysDatPath"),
        ("-pp", "--PotPath"),
        ("-if", "--InitStateFile"),
        ("-u", "--Nunits"),
        ("-pr", "--Prim"),
        ("-a0", "--LatPar"),
        ("-ni", "--NImages"),
        ("-ftol", "--ForceTol"),
    ];
    let a = BenchArgs::parse_from(crate::spellings::long_spellings(args, spellings));
    if let Some(csv) = &a.csv
        && csv.exists()
    {
        bail!("--csv {} already exists", csv.display());
    }
    let crystal = CrystalData::read(&a.crystal).with_context(|| format!("-cr {}", a.crystal.display()))?;
    let geometry = Geometry::new(&crystal, a.lat_par, CellSpec { units: a.n_units, primitive: a.prim })
        .with_context(|| format!("-cr {} with -u {}", a.crystal.display(), a.n_units))?;
    let potential = Potential::new(&a.pot_path).with_context(|| format!("-pp {}", a.pot_path.display()))?;
    potential.check_elements(&a.elements).context("--elements")?;
    let lammps = Lammps::locate(a.lmp.as_deref()).context("finding LAMMPS (--lmp)")?;
    let needed = a.climb_table.unwrap_or(a.jumps).div_ceil(geometry.z()).max(a.throughput_states);
    let states = match &a.init_state_file {
        Some(p) => InitialStates::load(p, 0, needed, crystal.num_sites(), a.elements.len() + 1)
            .with_context(|| format!("-if {}", p.display()))?
            .labels()
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect(),
        None => random_states(needed, crystal.num_sites(), a.elements.len(), a.seed),
    };
    let tmp = tempfile::tempdir().context("creating a scratch directory")?;
    let scratch = a.scratch.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let cores = available_cores();
    println!(
        "gcnet neb-bench: {} sites ({} atoms), LAMMPS {} ({}), {cores} cores, load average {}",
        crystal.num_sites(),
        crystal.num_sites() - 1,
        lammps.version(),
        lammps.exe().display(),
        load_average()
    );
    let model = |images: usize, climb: usize| Model {
        geometry: geometry.clone(),
        potential: potential.clone(),
        elements: a.elements.clone(),
        neb: NebSettings { images, force_tol: a.force_tol, climb_steps: climb, ..NebSettings::default() },
    };
    let jumps: Vec<(usize, usize)> = (0..states.len()).flat_map(|s| (0..geometry.z()).map(move |j| (s, j))).collect();
    if let Some(n) = a.climb_table {
        return climb_table(&a, &lammps, &model, &states, &jumps[..n.min(jumps.len())], &scratch, cores);
    }
    let m = model(a.n_images, 0);
    m.neb.validate()?;
    let throttled = LaunchOptions { launcher: Launcher::Mpiexec, mem_per_cpu_mb: None, throttle: a.n_images > cores };
    overhead(&lammps, &m, &throttled, &states, &jumps[..a.jumps.min(jumps.len())], &scratch, a.compare_throttle)?;
    if a.throughput_states > 0 {
        let parallel = a.parallel_nebs.unwrap_or_else(|| Engine::default_parallel(cores, a.n_images));
        let engine = Engine::new(lammps.clone(), throttled, parallel, a.n_images, cores);
        let tasks: Vec<StateTask> = states[..a.throughput_states]
            .iter()
            .enumerate()
            .map(|(i, l)| StateTask { index: i, labels: l, vacancy: 0 })
            .collect();
        let dirs = JobDirs { scratch: scratch.clone(), keep: None, tag: "throughput".into() };
        let relax_seconds = std::sync::Mutex::new(0.0);
        let started = Instant::now();
        compute_jumps(&engine, &m, &tasks, &dirs, &|d| {
            if d.jump.is_none() {
                *relax_seconds.lock().expect("no panics while holding the lock") += d.seconds;
            }
        })?;
        let wall = started.elapsed().as_secs_f64();
        let n = tasks.len() * m.geometry.z();
        let relax = *relax_seconds.lock().expect("no panics while holding the lock");
        println!(
            "throughput: {n} jumps (NEB + end-state relaxation) of {} state(s), {} NEB(s) at once of {} ranks on {cores} cores: {wall:.1} s, {:.0} jumps/hour; end-state relaxations {relax:.1} s of it ({:.1}%)",
            tasks.len(),
            engine.parallel,
            a.n_images,
            n as f64 * 3600.0 / wall,
            100.0 * relax / wall
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The bare run: `mpiexec -n NI lmp -p NIx1 -in in.neb` on inputs written beforehand.
fn bare(
    lammps: &Lammps,
    launch: &LaunchOptions,
    dir: &Path,
    settings: &NebSettings,
) -> anyhow::Result<(f64, NebResult)> {
    let n = settings.images;
    let mut cmd = lammps.parallel_command(n, launch)?;
    cmd.args(["-p", &format!("{n}x1"), "-in", "in.neb", "-log", "neb.log", "-screen", "none", "-nocite"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let status = cmd.status().context("starting the bare NEB")?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("the bare NEB in {} failed ({status})", dir.display());
    }
    let log = std::fs::read_to_string(dir.join("neb.log")).context("reading the bare NEB's log")?;
    let result = parse_neb_log(&log, n, settings.climb_steps > 0, settings.max_steps).map_err(anyhow::Error::msg)?;
    Ok((seconds, result))
}

fn overhead(
    lammps: &Lammps,
    model: &Model,
    launch: &LaunchOptions,
    states: &[Vec<u8>],
    jumps: &[(usize, usize)],
    scratch: &Path,
    compare_throttle: bool,
) -> anyhow::Result<()> {
    let input = model.input();
    let (mut t_bare, mut t_gcnet, mut t_plain, mut t_inside) = (0.0, 0.0, 0.0, 0.0);
    for (k, &(s, j)) in jumps.iter().enumerate() {
        let bare_dir = scratch.join(format!("bare_{s}_{j}"));
        std::fs::create_dir_all(&bare_dir)?;
        input.write(&bare_dir, &states[s], 0, j)?;
        let ours_dir = scratch.join(format!("gcnet_{s}_{j}"));
        std::fs::create_dir_all(&ours_dir)?;
        let inside = std::cell::Cell::new(0.0);
        let run_ours = || -> anyhow::Result<(f64, NebResult)> {
            let started = Instant::now();
            input.write(&ours_dir, &states[s], 0, j)?;
            let (r, t) = input.run_timed(lammps, launch, &ours_dir, &format!("state {s}, jump {j}"))?;
            inside.set(t.as_secs_f64());
            Ok((started.elapsed().as_secs_f64(), r))
        };
        // Alternate the order so that a drifting machine load biases neither.
        let ((tb, rb), (tg, rg)) = if k % 2 == 0 {
            let b = bare(lammps, launch, &bare_dir, &model.neb)?;
            (b, run_ours()?)
        } else {
            let g = run_ours()?;
            (bare(lammps, launch, &bare_dir, &model.neb)?, g)
        };
        if rb != rg {
            bail!("state {s}, jump {j}: gcnet's result {rg:?} differs from the bare run's {rb:?}");
        }
        t_bare += tb;
        t_gcnet += tg;
        t_inside += inside.get();
        let plain = if compare_throttle {
            let unthrottled = LaunchOptions { throttle: false, ..*launch };
            let (tp, rp) = bare(lammps, &unthrottled, &bare_dir, &model.neb)?;
            if rp != rb {
                eprintln!(
                    "note: state {s}, jump {j}: without the throttle the barrier is {} (throttled {})",
                    rp.barrier, rb.barrier
                );
            }
            t_plain += tp;
            format!(", bare without throttle {tp:.2} s")
        } else {
            String::new()
        };
        println!(
            "  state {s} jump {j}: barrier {:.6} eV, {} steps; bare {tb:.2} s, gcnet {tg:.2} s (its LAMMPS process {:.2} s){plain}",
            rb.barrier,
            rb.iterations,
            inside.get()
        );
        std::fs::remove_dir_all(&bare_dir).ok();
        std::fs::remove_dir_all(&ours_dir).ok();
    }
    println!(
        "overhead: {} NEBs of {} images, one at a time{}: bare lmp {t_bare:.2} s, gcnet {t_gcnet:.2} s, overhead {:+.2}% (identical barriers and image energies)",
        jumps.len(),
        model.neb.images,
        if launch.throttle { " (MPICH progress throttle on: more ranks than cores)" } else { "" },
        100.0 * (t_gcnet - t_bare) / t_bare
    );
    println!(
        "overhead inside gcnet's own runs (writing the inputs, starting, waiting, reading the log) against the LAMMPS processes they launched: {:.3} s of {t_gcnet:.2} s, {:+.3}%",
        t_gcnet - t_inside,
        100.0 * (t_gcnet - t_inside) / t_inside
    );
    if compare_throttle {
        println!(
            "throttle: bare runs without MPICH's progress throttle took {t_plain:.2} s, {:.2}x the throttled time",
            t_plain / t_bare
        );
    }
    Ok(())
}

struct Variant {
    name: String,
    settings: NebSettings,
    errors: Vec<f64>,
    seconds: f64,
}

fn climb_table(
    a: &BenchArgs,
    lammps: &Lammps,
    model: &dyn Fn(usize, usize) -> Model,
    states: &[Vec<u8>],
    jumps: &[(usize, usize)],
    scratch: &Path,
    cores: usize,
) -> anyhow::Result<ExitCode> {
    let reference = model(a.reference_images, 0);
    reference.neb.validate()?;
    let mut variants: Vec<Variant> = Vec::new();
    for &ni in &a.climb_images {
        for climb in [0, a.climb_steps] {
            let m = model(ni, climb);
            m.neb.validate()?;
            let name = if climb == 0 {
                format!("{ni} images, no climbing")
            } else {
                format!("{ni} images + climbing (<= {climb} steps)")
            };
            variants.push(Variant { name, settings: m.neb, errors: Vec::new(), seconds: 0.0 });
        }
    }
    let launch =
        |images: usize| LaunchOptions { launcher: Launcher::Mpiexec, mem_per_cpu_mb: None, throttle: images > cores };
    let mut rows = vec![format!(
        "state,jump,reference_barrier,reference_seconds,{}",
        variants.iter().map(|v| format!("\"{}\" barrier,\"{}\" seconds", v.name, v.name)).collect::<Vec<_>>().join(",")
    )];
    let mut t_ref = 0.0;
    let started_all = Instant::now();
    for (k, &(s, j)) in jumps.iter().enumerate() {
        let dir = scratch.join(format!("climb_{s}_{j}"));
        let run_one = |m: &Model| -> anyhow::Result<(f64, NebResult)> {
            std::fs::create_dir_all(&dir)?;
            let started = Instant::now();
            let input = m.input();
            input.write(&dir, &states[s], 0, j)?;
            let r = input.run(lammps, &launch(m.neb.images), &dir, &format!("state {s}, jump {j}"))?;
            let t = started.elapsed().as_secs_f64();
            std::fs::remove_dir_all(&dir).ok();
            Ok((t, r))
        };
        let (tr, rr) = run_one(&reference)?;
        t_ref += tr;
        let mut row = format!("{s},{j},{},{tr:.3}", rr.barrier);
        let mut line = format!(
            "  jump {}/{} (state {s}, jump {j}): reference {:.5} eV ({tr:.1} s)",
            k + 1,
            jumps.len(),
            rr.barrier
        );
        for v in variants.iter_mut() {
            let m = Model { neb: v.settings.clone(), ..reference.clone() };
            let (tv, rv) = run_one(&m)?;
            v.errors.push(rv.barrier - rr.barrier);
            v.seconds += tv;
            row += &format!(",{},{tv:.3}", rv.barrier);
            line += &format!(
                "; {}i{} {:+.5} ({tv:.1} s)",
                v.settings.images,
                if v.settings.climb_steps > 0 { "c" } else { "" },
                rv.barrier - rr.barrier
            );
        }
        println!("{line}");
        rows.push(row);
    }
    let n = jumps.len() as f64;
    println!(
        "\nclimbing-image table: {} jumps of {} random equiatomic states{}, {} sites, -ftol {}; reference {} images, no climbing image (published): {:.1} s per jump; whole table {:.1} min",
        jumps.len(),
        jumps.iter().map(|j| j.0).max().map_or(0, |m| m + 1),
        if a.init_state_file.is_some() { " (from -if)" } else { "" },
        reference.geometry.num_sites(),
        a.force_tol,
        a.reference_images,
        t_ref / n,
        started_all.elapsed().as_secs_f64() / 60.0
    );
    println!(
        "| NEB | mean |dE| (meV) | RMS dE (meV) | max |dE| (meV) | mean dE (meV) | time per jump (s) | time vs reference |"
    );
    println!("|---|---|---|---|---|---|---|");
    for v in &variants {
        let abs: Vec<f64> = v.errors.iter().map(|e| e.abs() * 1000.0).collect();
        let mean_abs = abs.iter().sum::<f64>() / n;
        let rms = (abs.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
        let max = abs.iter().cloned().fold(0.0, f64::max);
        let mean = v.errors.iter().sum::<f64>() / n * 1000.0;
        println!(
            "| {} | {mean_abs:.2} | {rms:.2} | {max:.2} | {mean:+.2} | {:.1} | {:.2}x |",
            v.name,
            v.seconds / n,
            v.seconds / t_ref
        );
    }
    if let Some(csv) = &a.csv {
        write_atomic(csv, Overwrite::Refuse, |f| std::io::Write::write_all(f, (rows.join("\n") + "\n").as_bytes()))
            .with_context(|| format!("--csv {}", csv.display()))?;
        println!("per-jump results: {}", csv.display());
    }
    Ok(ExitCode::SUCCESS)
}
