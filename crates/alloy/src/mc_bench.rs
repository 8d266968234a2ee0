//! `gcnet mc-bench` as a library call: Metropolis trials per second of one chain with its
//! persistent LAMMPS session against a bare `lmp` process per trial (a data file and an
//! input written, LAMMPS started, the potential read, the relaxation, the energy read
//! back: what the published script pays; then again with the session's neighbour skin),
//! on the same cell and the same trials in one run; then several chains side by side and
//! the CPU time their LAMMPS processes used.

use std::path::PathBuf;
use std::time::Instant;

use crate::error::{Error, Result, Within};
use crate::jobs::available_cores;
use crate::lammps::Lammps;
use crate::mc::{
    Chain, EnergyModel, MC_NEIGHBOR_SKIN, ProcessEnergy, SessionEnergy, StateEnergy, fcc_geometry, random_start,
};
use crate::potential::{CANTOR_ELEMENTS, Potential};

/// What `gcnet mc-bench` takes; [`McBenchConfig::new`] gives its defaults.
#[derive(Clone, Debug)]
pub struct McBenchConfig {
    /// [-pp] Potential directory.
    pub potential: PathBuf,
    /// [-u] Cubic FCC cells per side (one vacancy; equiatomic Co Ni Cr Fe Mn, the
    /// remainder to the first elements); default 3.
    pub units: usize,
    /// [-T] K; default 1173.
    pub temperature: f64,
    /// Each trial's energy; default CG to -ftol 1e-3 eV/Å.
    pub energy: EnergyModel,
    /// Trials of each measurement; default 40.
    pub trials: usize,
    /// Chains of the side-by-side run; default one per core.
    pub chains: Option<usize>,
    pub seed: u64,
    pub lmp: Option<PathBuf>,
}

impl McBenchConfig {
    pub fn new(potential: impl Into<PathBuf>) -> McBenchConfig {
        McBenchConfig {
            potential: potential.into(),
            units: 3,
            temperature: 1173.0,
            energy: EnergyModel::Relaxed { force_tol: 1e-3, energy_tol: 0.0 },
            trials: 40,
            chains: None,
            seed: 0,
            lmp: None,
        }
    }

    /// Runs the benchmark, handing each line of its report to `out` as it is measured.
    pub fn run(&self, out: &mut dyn FnMut(&str)) -> Result<McBenchFigures> {
        if self.trials == 0 {
            return Err(Error::Config("--trials must be at least 1".into()));
        }
        let elements: Vec<String> = CANTOR_ELEMENTS.iter().map(|e| e.to_string()).collect();
        let potential = Potential::new(&self.potential).within_lazy(|| format!("-pp {}", self.potential.display()))?;
        potential.check_elements(&elements)?;
        let (_, geometry) = fcc_geometry(self.units, false, 3.595)?;
        let lammps = Lammps::locate(self.lmp.as_deref()).within("finding LAMMPS (--lmp)")?;
        let (model, trials, temperature, seed) = (self.energy, self.trials, self.temperature, self.seed);
        let n = geometry.num_sites();
        let counts: Vec<usize> = (0..5).map(|k| (n - 1) / 5 + usize::from(k < (n - 1) % 5)).collect();
        let cores = available_cores();
        let chains = self.chains.unwrap_or(cores);
        let scratch = tempfile::tempdir().map_err(Error::io(std::env::temp_dir(), "create a scratch directory in"))?;
        let load = || std::fs::read_to_string("/proc/loadavg").map(|s| s.trim().to_string()).unwrap_or_default();
        out(&format!(
            "gcnet mc-bench: {n} sites (-u {} cubic, one vacancy), {}, T = {temperature} K, {trials} trials per measurement, {cores} cores; load average before: {}",
            self.units,
            match model {
                EnergyModel::OnLattice => "on-lattice energies".to_string(),
                EnergyModel::Relaxed { force_tol, .. } => format!("CG to -ftol {force_tol}"),
            },
            load()
        ));
        let create = |dir: &PathBuf| std::fs::create_dir_all(dir).map_err(Error::io(dir, "create"));

        // One chain, persistent session.
        let start = random_start(&counts, n, true, seed, 0)?;
        let dir = scratch.path().join("session");
        create(&dir)?;
        let mut session = SessionEnergy::start(&lammps, &dir, &geometry, &potential, &elements, &start, model)?;
        let t0 = Instant::now();
        let e0 = session.energy(&start)?;
        let mut chain = Chain::new(start.clone(), e0, seed, 0)?;
        for _ in 0..trials {
            chain.step(&mut session, temperature)?;
        }
        let session_rate = (trials + 1) as f64 / t0.elapsed().as_secs_f64();
        drop(session);

        // The same trials, one lmp process each: with the published input's neighbour skin
        // (the LAMMPS default), then with the session's, to tell the two gains apart.
        let bare_run = |name: &str, neighbor_skin: Option<f64>| -> Result<(f64, Chain)> {
            let dir = scratch.path().join(name);
            create(&dir)?;
            let (lammps, geometry, potential, elements) = (&lammps, &geometry, &potential, &elements);
            let mut process = ProcessEnergy { lammps, dir, geometry, potential, elements, model, neighbor_skin };
            let t0 = Instant::now();
            let e0 = process.energy(&start)?;
            let mut bare = Chain::new(start.clone(), e0, seed, 0)?;
            for _ in 0..trials {
                bare.step(&mut process, temperature)?;
            }
            Ok(((trials + 1) as f64 / t0.elapsed().as_secs_f64(), bare))
        };
        let (process_rate, bare) = bare_run("process", None)?;
        let (skin_rate, bare_skin) = bare_run("process_skin", Some(MC_NEIGHBOR_SKIN))?;
        let max_energy_difference = [&bare, &bare_skin]
            .iter()
            .flat_map(|b| chain.history().energies.iter().zip(&b.history().energies))
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        let same_path =
            chain.history().accepts == bare.history().accepts && chain.history().accepts == bare_skin.history().accepts;
        out(&format!("one chain, persistent LAMMPS session (skin {MC_NEIGHBOR_SKIN} A): {session_rate:.2} trials/s"));
        out(&format!(
            "one chain, bare lmp process per trial (the published input, default skin 2 A): {process_rate:.2} trials/s"
        ));
        out(&format!("one chain, bare lmp process per trial with the session's skin: {skin_rate:.2} trials/s"));
        out(&format!(
            "ratio: {:.2}x against the published input, {:.2}x against the bare process with the same skin (the same {trials} trials: largest energy difference {max_energy_difference:.2e} eV, {} acceptances)",
            session_rate / process_rate,
            session_rate / skin_rate,
            if same_path { "the same" } else { "different" }
        ));

        // Chains side by side.
        let wall = Instant::now();
        let results: Vec<Result<(f64, f64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..chains)
                .map(|c| {
                    let (lammps, geometry, potential, elements, counts) =
                        (&lammps, &geometry, &potential, &elements, &counts);
                    let dir = scratch.path().join(format!("chain_{c}"));
                    scope.spawn(move || -> Result<(f64, f64)> {
                        create(&dir)?;
                        let start = random_start(counts, n, true, seed, c)?;
                        let mut s = SessionEnergy::start(lammps, &dir, geometry, potential, elements, &start, model)?;
                        let t0 = Instant::now();
                        let e0 = s.energy(&start)?;
                        let mut chain = Chain::new(start, e0, seed, c)?;
                        for _ in 0..trials {
                            chain.step(&mut s, temperature)?;
                        }
                        let rate = (trials + 1) as f64 / t0.elapsed().as_secs_f64();
                        Ok((rate, cpu_seconds(s.pid()).unwrap_or(f64::NAN)))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a bench thread panicked")).collect()
        });
        let wall_seconds = wall.elapsed().as_secs_f64();
        let mut chain_rates = Vec::new();
        let mut cpu = 0.0;
        for r in results {
            let (rate, c) = r?;
            chain_rates.push(rate);
            cpu += c;
        }
        let total = (chains * (trials + 1)) as f64 / wall_seconds;
        out(&format!(
            "{chains} chains side by side: {} trials/s per chain, {total:.2} trials/s in all; their LAMMPS processes used {cpu:.1} CPU s in {wall_seconds:.1} s on {cores} cores ({:.0}% of {} cores busy)",
            chain_rates.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", "),
            100.0 * cpu / (wall_seconds * chains.min(cores) as f64),
            chains.min(cores)
        ));
        out(&format!("load average after: {}", load()));
        Ok(McBenchFigures {
            session_rate,
            process_rate,
            skin_rate,
            max_energy_difference,
            same_path,
            chain_rates,
            cpu_seconds: cpu,
            wall_seconds,
        })
    }
}

/// Trials per second (the start energy counted as one evaluation, as the trials are).
#[derive(Clone, Debug)]
pub struct McBenchFigures {
    /// One chain, persistent session.
    pub session_rate: f64,
    /// One chain, a bare lmp per trial with the published input (default skin).
    pub process_rate: f64,
    /// One chain, a bare lmp per trial with the session's skin.
    pub skin_rate: f64,
    /// Largest energy difference between the session's and the bare runs' trials (eV).
    pub max_energy_difference: f64,
    /// Whether all three made the same acceptances.
    pub same_path: bool,
    /// Each chain of the side-by-side run.
    pub chain_rates: Vec<f64>,
    /// CPU seconds of the side-by-side chains' LAMMPS processes.
    pub cpu_seconds: f64,
    pub wall_seconds: f64,
}

/// User + system CPU seconds of a running process (Linux /proc; clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14 and stime 15 (1-based, man proc).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
