//! `gcnet neb-bench` as a library call: what gcnet's orchestration costs against bare
//! `lmp` NEB runs of the same jumps (inputs written beforehand, `mpiexec -n NI lmp -p
//! NIx1`), the throughput in jumps per hour with every core busy, and the barrier error
//! and time of climbing-image NEBs with fewer images against the 11-image reference.
//! Each measurement's line goes to the caller as it is made (a table takes hours at the
//! published size); the figures come back typed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use gcnet_crystal::CrystalData;
use gcnet_files::{Overwrite, write_atomic};

use crate::error::{Error, Result, Within};
use crate::geometry::{CellSpec, Geometry};
use crate::jobs::{Engine, JobDirs, Model, StateTask, available_cores, compute_jumps};
use crate::lammps::{Lammps, LaunchOptions, Launcher};
use crate::neb::{NebResult, NebSettings, parse_neb_log};
use crate::potential::{CANTOR_ELEMENTS, Potential};
use crate::states::{InitialStates, random_states};

/// What `gcnet neb-bench` takes; [`NebBenchConfig::new`] gives its defaults.
#[derive(Clone, Debug)]
pub struct NebBenchConfig {
    /// [-cr] Crystal data file.
    pub crystal: PathBuf,
    /// [-pp] Potential directory.
    pub potential: PathBuf,
    /// [-if] States; default: random equiatomic states of the elements.
    pub initial_states: Option<PathBuf>,
    /// [-u -pr] Default 5 cubic cells per side.
    pub cell: CellSpec,
    /// [-a0] Å; default 3.595.
    pub lattice_parameter: f64,
    /// [-ni] Images of the overhead and throughput runs; default 11.
    pub images: usize,
    /// [-ftol] Default 1e-3 eV/Å.
    pub force_tol: f64,
    /// Jumps of the overhead comparison (the first jumps of the first states); default 6.
    pub jumps: usize,
    /// States whose jumps and end states are computed with every core busy (0: skip);
    /// default 1.
    pub throughput_states: usize,
    /// NEBs at once in the throughput run; default cores / images.
    pub parallel_nebs: Option<usize>,
    /// Also time the bare runs without MPICH's progress throttle.
    pub compare_throttle: bool,
    /// Instead of the above: the climbing-image table over this many jumps.
    pub climb_table: Option<usize>,
    /// Images of the climbing-image variants; default 5 and 7.
    pub climb_images: Vec<usize>,
    /// Most climbing-stage steps of the variants; default 2000.
    pub climb_steps: usize,
    /// Images of the reference (no climbing image, as published); default 11.
    pub reference_images: usize,
    /// Per-jump results of the climbing table as CSV (a new file).
    pub csv: Option<PathBuf>,
    /// Default Co Ni Cr Fe Mn.
    pub elements: Vec<String>,
    /// Seed of the random states; default 1.
    pub seed: u64,
    /// Scratch directory; default a new temporary one.
    pub scratch: Option<PathBuf>,
    pub lmp: Option<PathBuf>,
}

impl NebBenchConfig {
    pub fn new(crystal: impl Into<PathBuf>, potential: impl Into<PathBuf>) -> NebBenchConfig {
        NebBenchConfig {
            crystal: crystal.into(),
            potential: potential.into(),
            initial_states: None,
            cell: CellSpec { units: 5, primitive: false },
            lattice_parameter: 3.595,
            images: 11,
            force_tol: 1e-3,
            jumps: 6,
            throughput_states: 1,
            parallel_nebs: None,
            compare_throttle: false,
            climb_table: None,
            climb_images: vec![5, 7],
            climb_steps: 2000,
            reference_images: 11,
            csv: None,
            elements: CANTOR_ELEMENTS.iter().map(|e| e.to_string()).collect(),
            seed: 1,
            scratch: None,
            lmp: None,
        }
    }

    /// Runs the benchmark, handing each line of its report to `out` as it is measured.
    pub fn run(&self, out: &mut dyn FnMut(&str)) -> Result<NebBenchFigures> {
        if let Some(csv) = &self.csv
            && csv.exists()
        {
            return Err(Error::Config(format!("--csv {} already exists", csv.display())));
        }
        let cr = self.crystal.display();
        let crystal = CrystalData::read(&self.crystal).within_lazy(|| format!("-cr {cr}"))?;
        let geometry = Geometry::new(&crystal, self.lattice_parameter, self.cell)
            .within_lazy(|| format!("-cr {cr} with -u {}", self.cell.units))?;
        let potential = Potential::new(&self.potential).within_lazy(|| format!("-pp {}", self.potential.display()))?;
        potential.check_elements(&self.elements).within("--elements")?;
        let lammps = Lammps::locate(self.lmp.as_deref()).within("finding LAMMPS (--lmp)")?;
        let needed = self.climb_table.unwrap_or(self.jumps).div_ceil(geometry.z()).max(self.throughput_states);
        let states = match &self.initial_states {
            Some(p) => InitialStates::load(p, 0, needed, crystal.num_sites(), self.elements.len() + 1)
                .within_lazy(|| format!("-if {}", p.display()))?
                .labels()
                .rows()
                .into_iter()
                .map(|r| r.to_vec())
                .collect(),
            None => random_states(needed, crystal.num_sites(), self.elements.len(), self.seed),
        };
        let tmp = tempfile::tempdir().map_err(Error::io(std::env::temp_dir(), "create a scratch directory in"))?;
        let scratch = self.scratch.clone().unwrap_or_else(|| tmp.path().to_path_buf());
        std::fs::create_dir_all(&scratch).map_err(Error::io(&scratch, "create"))?;
        let cores = available_cores();
        out(&format!(
            "gcnet neb-bench: {} sites ({} atoms), LAMMPS {} ({}), {cores} cores, load average {}",
            crystal.num_sites(),
            crystal.num_sites() - 1,
            lammps.version(),
            lammps.exe().display(),
            load_average()
        ));
        let bench = Bench {
            config: self,
            lammps,
            model: Model { geometry, potential, elements: self.elements.clone(), neb: NebSettings::default() },
            states,
            scratch,
            cores,
        };
        let z = bench.model.geometry.z();
        let jumps: Vec<(usize, usize)> = (0..bench.states.len()).flat_map(|s| (0..z).map(move |j| (s, j))).collect();
        if let Some(n) = self.climb_table {
            let climb = bench.climb_table(&jumps[..n.min(jumps.len())], out)?;
            return Ok(NebBenchFigures { overhead: None, throughput: None, climb: Some(climb) });
        }
        let m = bench.model(self.images, 0);
        m.neb.validate()?;
        let throttled =
            LaunchOptions { launcher: Launcher::Mpiexec, mem_per_cpu_mb: None, throttle: self.images > cores };
        let overhead = bench.overhead(&m, &throttled, &jumps[..self.jumps.min(jumps.len())], out)?;
        let throughput = match self.throughput_states {
            0 => None,
            n => Some(bench.throughput(&m, throttled, n, out)?),
        };
        Ok(NebBenchFigures { overhead: Some(overhead), throughput, climb: None })
    }
}

/// What `gcnet neb-bench` measured: the overhead and throughput, or the climbing table.
#[derive(Clone, Debug)]
pub struct NebBenchFigures {
    pub overhead: Option<Overhead>,
    pub throughput: Option<Throughput>,
    pub climb: Option<ClimbTable>,
}

/// The same NEBs, one at a time, bare and through gcnet (seconds in all).
#[derive(Clone, Debug)]
pub struct Overhead {
    pub nebs: usize,
    pub images: usize,
    pub bare_seconds: f64,
    pub gcnet_seconds: f64,
    /// The LAMMPS processes of gcnet's runs alone.
    pub lammps_seconds: f64,
    /// The bare runs without MPICH's progress throttle (with `compare_throttle`).
    pub unthrottled_seconds: Option<f64>,
}

/// Every jump of some states with every core busy.
#[derive(Clone, Debug)]
pub struct Throughput {
    pub jumps: usize,
    pub states: usize,
    pub parallel: usize,
    pub seconds: f64,
    /// The end-state relaxation passes' share of `seconds`.
    pub relax_seconds: f64,
}

impl Throughput {
    pub fn jumps_per_hour(&self) -> f64 {
        self.jumps as f64 * 3600.0 / self.seconds
    }
}

/// Climbing-image variants against the reference, jump by jump.
#[derive(Clone, Debug)]
pub struct ClimbTable {
    pub jumps: usize,
    pub reference_seconds: f64,
    pub variants: Vec<ClimbVariant>,
}

#[derive(Clone, Debug)]
pub struct ClimbVariant {
    pub name: String,
    pub settings: NebSettings,
    /// Barrier minus the reference's, per jump (eV).
    pub errors: Vec<f64>,
    pub seconds: f64,
}

/// What the measurements share.
struct Bench<'a> {
    config: &'a NebBenchConfig,
    lammps: Lammps,
    model: Model,
    states: Vec<Vec<u8>>,
    scratch: PathBuf,
    cores: usize,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The bare run: `mpiexec -n NI lmp -p NIx1 -in in.neb` on inputs written beforehand.
fn bare(lammps: &Lammps, launch: &LaunchOptions, dir: &Path, settings: &NebSettings) -> Result<(f64, NebResult)> {
    let n = settings.images;
    let mut cmd = lammps.parallel_command(n, launch)?;
    cmd.args(["-p", &format!("{n}x1"), "-in", "in.neb", "-log", "neb.log", "-screen", "none", "-nocite"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let status = cmd.status().map_err(Error::io(dir, "start the bare NEB in"))?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(Error::Config(format!("the bare NEB in {} failed ({status})", dir.display())));
    }
    let log_path = dir.join("neb.log");
    let log = std::fs::read_to_string(&log_path).map_err(Error::io(&log_path, "read the bare NEB's log"))?;
    let result = parse_neb_log(&log, n, settings.climb_steps > 0, settings.max_steps).map_err(Error::Config)?;
    Ok((seconds, result))
}

impl Bench<'_> {
    fn model(&self, images: usize, climb: usize) -> Model {
        let neb =
            NebSettings { images, force_tol: self.config.force_tol, climb_steps: climb, ..NebSettings::default() };
        Model { neb, ..self.model.clone() }
    }

    fn overhead(
        &self,
        model: &Model,
        launch: &LaunchOptions,
        jumps: &[(usize, usize)],
        out: &mut dyn FnMut(&str),
    ) -> Result<Overhead> {
        let (lammps, input, states) = (&self.lammps, model.input(), &self.states);
        let (mut t_bare, mut t_gcnet, mut t_plain, mut t_inside) = (0.0, 0.0, 0.0, 0.0);
        for (k, &(s, j)) in jumps.iter().enumerate() {
            let bare_dir = self.scratch.join(format!("bare_{s}_{j}"));
            std::fs::create_dir_all(&bare_dir).map_err(Error::io(&bare_dir, "create"))?;
            input.write(&bare_dir, &states[s], 0, j)?;
            let ours_dir = self.scratch.join(format!("gcnet_{s}_{j}"));
            std::fs::create_dir_all(&ours_dir).map_err(Error::io(&ours_dir, "create"))?;
            let inside = std::cell::Cell::new(0.0);
            let run_ours = || -> Result<(f64, NebResult)> {
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
                return Err(Error::Config(format!(
                    "state {s}, jump {j}: gcnet's result {rg:?} differs from the bare run's {rb:?}"
                )));
            }
            t_bare += tb;
            t_gcnet += tg;
            t_inside += inside.get();
            let plain = if self.config.compare_throttle {
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
            out(&format!(
                "  state {s} jump {j}: barrier {:.6} eV, {} steps; bare {tb:.2} s, gcnet {tg:.2} s (its LAMMPS process {:.2} s){plain}",
                rb.barrier,
                rb.iterations,
                inside.get()
            ));
            std::fs::remove_dir_all(&bare_dir).ok();
            std::fs::remove_dir_all(&ours_dir).ok();
        }
        out(&format!(
            "overhead: {} NEBs of {} images, one at a time{}: bare lmp {t_bare:.2} s, gcnet {t_gcnet:.2} s, overhead {:+.2}% (identical barriers and image energies)",
            jumps.len(),
            model.neb.images,
            if launch.throttle { " (MPICH progress throttle on: more ranks than cores)" } else { "" },
            100.0 * (t_gcnet - t_bare) / t_bare
        ));
        out(&format!(
            "overhead inside gcnet's own runs (writing the inputs, starting, waiting, reading the log) against the LAMMPS processes they launched: {:.3} s of {t_gcnet:.2} s, {:+.3}%",
            t_gcnet - t_inside,
            100.0 * (t_gcnet - t_inside) / t_inside
        ));
        if self.config.compare_throttle {
            out(&format!(
                "throttle: bare runs without MPICH's progress throttle took {t_plain:.2} s, {:.2}x the throttled time",
                t_plain / t_bare
            ));
        }
        Ok(Overhead {
            nebs: jumps.len(),
            images: model.neb.images,
            bare_seconds: t_bare,
            gcnet_seconds: t_gcnet,
            lammps_seconds: t_inside,
            unthrottled_seconds: self.config.compare_throttle.then_some(t_plain),
        })
    }

    fn throughput(
        &self,
        model: &Model,
        launch: LaunchOptions,
        num_states: usize,
        out: &mut dyn FnMut(&str),
    ) -> Result<Throughput> {
        let (images, cores) = (self.config.images, self.cores);
        let parallel = self.config.parallel_nebs.unwrap_or_else(|| Engine::default_parallel(cores, images));
        let engine = Engine::new(self.lammps.clone(), launch, parallel, images, cores);
        let tasks: Vec<StateTask> = self.states[..num_states]
            .iter()
            .enumerate()
            .map(|(i, l)| StateTask { index: i, labels: l, vacancy: 0 })
            .collect();
        let dirs = JobDirs { scratch: self.scratch.clone(), keep: None, tag: "throughput".into() };
        let relax_seconds = std::sync::Mutex::new(0.0);
        let started = Instant::now();
        compute_jumps(&engine, model, &tasks, &dirs, &|d| {
            if d.jump.is_none() {
                *relax_seconds.lock().expect("no panics while holding the lock") += d.seconds;
            }
        })?;
        let t = Throughput {
            jumps: tasks.len() * model.geometry.z(),
            states: tasks.len(),
            parallel: engine.parallel,
            seconds: started.elapsed().as_secs_f64(),
            relax_seconds: relax_seconds.into_inner().expect("no panics while holding the lock"),
        };
        out(&format!(
            "throughput: {} jumps (NEB + end-state relaxation) of {} state(s), {} NEB(s) at once of {images} ranks on {cores} cores: {:.1} s, {:.0} jumps/hour; end-state relaxations {:.1} s of it ({:.1}%)",
            t.jumps,
            t.states,
            t.parallel,
            t.seconds,
            t.jumps_per_hour(),
            t.relax_seconds,
            100.0 * t.relax_seconds / t.seconds
        ));
        Ok(t)
    }

    fn climb_table(&self, jumps: &[(usize, usize)], out: &mut dyn FnMut(&str)) -> Result<ClimbTable> {
        let config = self.config;
        let reference = self.model(config.reference_images, 0);
        reference.neb.validate()?;
        let mut variants: Vec<ClimbVariant> = Vec::new();
        for &ni in &config.climb_images {
            for climb in [0, config.climb_steps] {
                let settings = self.model(ni, climb).neb;
                settings.validate()?;
                let name = if climb == 0 {
                    format!("{ni} images, no climbing")
                } else {
                    format!("{ni} images + climbing (<= {climb} steps)")
                };
                variants.push(ClimbVariant { name, settings, errors: Vec::new(), seconds: 0.0 });
            }
        }
        let cores = self.cores;
        let launch = |images: usize| LaunchOptions {
            launcher: Launcher::Mpiexec,
            mem_per_cpu_mb: None,
            throttle: images > cores,
        };
        let mut rows = vec![format!(
            "state,jump,reference_barrier,reference_seconds,{}",
            variants
                .iter()
                .map(|v| format!("\"{}\" barrier,\"{}\" seconds", v.name, v.name))
                .collect::<Vec<_>>()
                .join(",")
        )];
        let mut t_ref = 0.0;
        let started_all = Instant::now();
        for (k, &(s, j)) in jumps.iter().enumerate() {
            let dir = self.scratch.join(format!("climb_{s}_{j}"));
            let run_one = |m: &Model| -> Result<(f64, NebResult)> {
                std::fs::create_dir_all(&dir).map_err(Error::io(&dir, "create"))?;
                let started = Instant::now();
                let input = m.input();
                input.write(&dir, &self.states[s], 0, j)?;
                let r = input.run(&self.lammps, &launch(m.neb.images), &dir, &format!("state {s}, jump {j}"))?;
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
            out(&line);
            rows.push(row);
        }
        let n = jumps.len() as f64;
        out(&format!(
            "\nclimbing-image table: {} jumps of {} random equiatomic states{}, {} sites, -ftol {}; reference {} images, no climbing image (published): {:.1} s per jump; whole table {:.1} min",
            jumps.len(),
            jumps.iter().map(|j| j.0).max().map_or(0, |m| m + 1),
            if config.initial_states.is_some() { " (from -if)" } else { "" },
            reference.geometry.num_sites(),
            config.force_tol,
            config.reference_images,
            t_ref / n,
            started_all.elapsed().as_secs_f64() / 60.0
        ));
        out(
            "| NEB | mean |dE| (meV) | RMS dE (meV) | max |dE| (meV) | mean dE (meV) | time per jump (s) | time vs reference |",
        );
        out("|---|---|---|---|---|---|---|");
        for v in &variants {
            let abs: Vec<f64> = v.errors.iter().map(|e| e.abs() * 1000.0).collect();
            let mean_abs = abs.iter().sum::<f64>() / n;
            let rms = (abs.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
            let max = abs.iter().cloned().fold(0.0, f64::max);
            let mean = v.errors.iter().sum::<f64>() / n * 1000.0;
            out(&format!(
                "| {} | {mean_abs:.2} | {rms:.2} | {max:.2} | {mean:+.2} | {:.1} | {:.2}x |",
                v.name,
                v.seconds / n,
                v.seconds / t_ref
            ));
        }
        if let Some(csv) = &config.csv {
            write_atomic(csv, Overwrite::Refuse, |f| std::io::Write::write_all(f, (rows.join("\n") + "\n").as_bytes()))
                .within_lazy(|| format!("--csv {}", csv.display()))?;
            out(&format!("per-jump results: {}", csv.display()));
        }
        Ok(ClimbTable { jumps: jumps.len(), reference_seconds: t_ref, variants })
    }
}
