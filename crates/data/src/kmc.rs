//! The multi-step KMC reference: residence-time (continuous-time) trajectories of one
//! vacancy in a lattice gas, giving transport coefficients per vacancy from the Einstein
//! relation, with error bars from independent trajectories.
//!
//! For every pair of labels (vacancy included), with X_a the total displacement of the
//! atoms of label a (the vacancy's own displacement for the vacancy label) over a
//! trajectory of duration t,
//!
//! ```text
//! L_ab = <X_a . X_b> / (6 t)        (per vacancy, units of a0^2 x rate)
//! ```
//!
//! and the tracer coefficient of label a sums the atoms' own squared displacements,
//! L*_a = <sum_{i in a} |dr_i|^2> / (6 t). The uncorrelated value L0_a is the time average
//! of sum over jumps j exchanging an a atom of rate_j |a0 dx_j|^2 / 6 (for the vacancy: all
//! jumps), and the tracer correlation factor is f_a = L*_a / L0_a. For one species in a
//! cell of N sites this f is the tracer correlation factor at vacancy concentration 1/N
//! (FCC 0.78145 for N -> infinity).
//!
//! Every trajectory starts from a random arrangement at the gas's composition, which is an
//! equilibrium sample (jump rates are symmetric, so all arrangements are equally likely).
//! Trajectory k is seeded from (seed, k) alone, so results do not depend on the threads.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use gcnet_crystal::{CrystalData, JumpNetwork};
use gcnet_files::Overwrite;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::{Error, Result};
use crate::latgas::{LatticeGas, RateModel, Rates, shuffle_atoms};
use crate::rng::splitmix64;
use crate::select::select_jump;
use crate::units::LengthUnit;

/// How long each trajectory runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Duration {
    /// Up to this time (units of 1/rate); the estimate uses exactly this t.
    Time(f64),
    /// This many vacancy jumps; the estimate uses the time they took.
    Steps(u64),
}

/// A KMC reference run.
#[derive(Clone, Debug, PartialEq)]
pub struct KmcConfig {
    pub gas: LatticeGas,
    /// Independent trajectories (at least 2 for error bars).
    pub trajectories: usize,
    pub duration: Duration,
    pub seed: u64,
    /// Worker threads (0: all available cores).
    pub threads: usize,
}

/// A mean over trajectories and its standard error (sample standard deviation / sqrt(M)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub error: f64,
}

impl Estimate {
    /// Mean and standard error of `x` (error NaN for fewer than two values).
    pub fn of(x: &[f64]) -> Estimate {
        let m = x.len() as f64;
        let value = x.iter().sum::<f64>() / m;
        let var = x.iter().map(|v| (v - value).powi(2)).sum::<f64>() / (m - 1.0);
        Estimate { value, error: (var / m).sqrt() }
    }
}

/// Transport coefficients per vacancy from a KMC run, in `unit`^2 x rate. Displayed, it is
/// the table `gcnet kmc` prints.
#[derive(Clone, Debug)]
pub struct KmcResult {
    /// The length unit of the displacements (a0 x the crystal's jump vectors).
    pub unit: LengthUnit,
    pub num_labels: usize,
    pub vacancy_label: usize,
    /// L_ab (Nlabels, Nlabels), vacancy label included.
    pub onsager: Array2<f64>,
    /// Standard errors of `onsager`.
    pub onsager_error: Array2<f64>,
    /// Tracer coefficient L*_a per label (for the vacancy: L_vv).
    pub tracer: Vec<Estimate>,
    /// Uncorrelated L0_a per label (time average of the escape rates into label a).
    pub uncorrelated: Vec<Estimate>,
    /// Tracer correlation factor f_a = L*_a / L0_a per label (mean of per-trajectory ratios).
    pub correlation: Vec<Estimate>,
    pub trajectories: usize,
    /// Vacancy jumps over all trajectories.
    pub steps: u64,
    /// Mean duration of a trajectory.
    pub mean_time: f64,
}

/// Per-trajectory estimates.
#[derive(Clone, Debug, Default)]
struct Trajectory {
    onsager: Vec<f64>,
    tracer: Vec<f64>,
    uncorrelated: Vec<f64>,
    steps: u64,
    time: f64,
}

/// Runs the trajectories; `progress` is called with the number finished so far.
pub fn run(crystal: &CrystalData, config: &KmcConfig, progress: &(dyn Fn(usize) + Sync)) -> Result<KmcResult> {
    let counts = config.gas.counts(crystal.num_sites())?;
    if config.trajectories < 2 {
        return Err(Error::Config(format!("need at least 2 trajectories for error bars, got {}", config.trajectories)));
    }
    match config.duration {
        Duration::Time(t) if !(t.is_finite() && t > 0.0) => {
            return Err(Error::Config(format!("the trajectory time must be positive, got {t}")));
        }
        Duration::Steps(0) => return Err(Error::Config("the trajectory must take at least one step".into())),
        _ => {}
    }
    let network = JumpNetwork::new(crystal);
    let nl = config.gas.num_labels();
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(config.trajectories);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Trajectory>>> = Mutex::new(vec![None; config.trajectories]);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= config.trajectories {
                        break;
                    }
                    let seed = splitmix64(config.seed ^ splitmix64(k as u64 + 1));
                    let traj = trajectory(config, &counts, &network, seed);
                    results.lock().expect("no panics while holding the lock")[k] = Some(traj);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                }
            });
        }
    });
    let trajs: Vec<Trajectory> =
        results.into_inner().expect("no panics").into_iter().map(|t| t.expect("every trajectory ran")).collect();
    let column =
        |f: &dyn Fn(&Trajectory) -> f64| -> Estimate { Estimate::of(&trajs.iter().map(f).collect::<Vec<_>>()) };
    let mut onsager = Array2::zeros((nl, nl));
    let mut onsager_error = Array2::zeros((nl, nl));
    for a in 0..nl {
        for b in 0..nl {
            let e = column(&|t| t.onsager[a * nl + b]);
            onsager[[a, b]] = e.value;
            onsager_error[[a, b]] = e.error;
        }
    }
    Ok(KmcResult {
        unit: LengthUnit::of(config.gas.lattice_parameter),
        num_labels: nl,
        vacancy_label: config.gas.vacancy_label(),
        onsager,
        onsager_error,
        tracer: (0..nl).map(|a| column(&|t| t.tracer[a])).collect(),
        uncorrelated: (0..nl).map(|a| column(&|t| t.uncorrelated[a])).collect(),
        correlation: (0..nl).map(|a| column(&|t| t.tracer[a] / t.uncorrelated[a])).collect(),
        trajectories: trajs.len(),
        steps: trajs.iter().map(|t| t.steps).sum(),
        mean_time: trajs.iter().map(|t| t.time).sum::<f64>() / trajs.len() as f64,
    })
}

impl KmcConfig {
    /// [`run`] under a progress bar over the trajectories.
    pub fn run(&self, crystal: &CrystalData) -> Result<KmcResult> {
        let bar = gcnet_progress::bar(self.trajectories as u64, "trajectories");
        let result = run(crystal, self, &|n| bar.set_position(n as u64))?;
        bar.finish_and_clear();
        Ok(result)
    }
}

impl KmcResult {
    /// The results as JSON: `vacancy_label`, `trajectories`, `steps`, `mean_time`,
    /// `onsager` and `onsager_error` (rows), and `tracer`, `uncorrelated`, `correlation`
    /// as lists of `{"value", "error"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let est = |e: &Estimate| serde_json::json!({"value": e.value, "error": e.error});
        let matrix = |m: &Array2<f64>| m.outer_iter().map(|row| row.to_vec()).collect::<Vec<_>>();
        serde_json::json!({
            "vacancy_label": self.vacancy_label,
            "trajectories": self.trajectories,
            "steps": self.steps,
            "mean_time": self.mean_time,
            "onsager": matrix(&self.onsager),
            "onsager_error": matrix(&self.onsager_error),
            "tracer": self.tracer.iter().map(est).collect::<Vec<_>>(),
            "uncorrelated": self.uncorrelated.iter().map(est).collect::<Vec<_>>(),
            "correlation": self.correlation.iter().map(est).collect::<Vec<_>>(),
        })
    }

    /// Writes [`to_json`](Self::to_json) (pretty) atomically to `path`.
    pub fn write_json(&self, path: impl AsRef<Path>, overwrite: Overwrite) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.to_json()).expect("JSON values serialise");
        gcnet_files::write_atomic(path.as_ref(), overwrite, |f| std::io::Write::write_all(f, text.as_bytes()))?;
        Ok(())
    }
}

impl fmt::Display for KmcResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nl = self.num_labels;
        let name = |l: usize| if l == self.vacancy_label { format!("{l} (vac)") } else { l.to_string() };
        writeln!(
            f,
            "{} trajectories, {} jumps in all, mean time {:.6} per trajectory",
            self.trajectories, self.steps, self.mean_time
        )?;
        writeln!(f, "L_ab per vacancy ({}), mean +- standard error:", self.unit.transport())?;
        for a in 0..nl {
            for b in 0..nl {
                let (l, e) = (self.onsager[[a, b]], self.onsager_error[[a, b]]);
                writeln!(f, "  L[{}][{}] = {l:.6e} +- {e:.2e}", name(a), name(b))?;
            }
        }
        writeln!(f, "per label: tracer L*, uncorrelated L0, tracer correlation factor f = L*/L0")?;
        for a in 0..nl {
            let (t, u, c) = (self.tracer[a], self.uncorrelated[a], self.correlation[a]);
            writeln!(
                f,
                "  {:>7}  L* = {:.6e} +- {:.2e}  L0 = {:.6e} +- {:.2e}  f = {:.5} +- {:.5}",
                name(a),
                t.value,
                t.error,
                u.value,
                u.error,
                c.value,
                c.error
            )?;
        }
        Ok(())
    }
}

/// A vacancy walking through a lattice gas: the rates out of the current state, and the
/// jump itself, which reports the exchanged atom (label, identity).
trait Walker {
    fn rates(&self, rates: &mut [f64], labels: &mut [u8]);
    fn jump(&mut self, j: usize) -> (usize, usize);
}

/// Fixed rates: the lattice stays put and the vacancy moves (O(1) per jump).
struct LatticeWalker<'a> {
    neighbours: &'a [u32],
    z: usize,
    species_rates: &'a [f64],
    occupation: Vec<u8>,
    atom: Vec<u32>,
    vacancy_site: usize,
}

impl Walker for LatticeWalker<'_> {
    #[inline]
    fn rates(&self, rates: &mut [f64], labels: &mut [u8]) {
        let nb = &self.neighbours[self.vacancy_site * self.z..(self.vacancy_site + 1) * self.z];
        for k in 0..self.z {
            let l = self.occupation[nb[k] as usize];
            labels[k] = l;
            rates[k] = self.species_rates[l as usize];
        }
    }

    #[inline]
    fn jump(&mut self, j: usize) -> (usize, usize) {
        let v = self.vacancy_site;
        let n = self.neighbours[v * self.z + j] as usize;
        self.occupation.swap(v, n);
        self.atom.swap(v, n);
        self.vacancy_site = n;
        (self.occupation[v] as usize, self.atom[v] as usize)
    }
}

/// Any rates: the state is kept canonical (vacancy on site 0), as the random-rate gas
/// defines its energies on canonical states (O(Nsites) per jump).
struct CanonicalWalker<'a> {
    network: &'a JumpNetwork,
    rates: Rates,
    state: Vec<i8>,
    atom: Vec<u32>,
    scratch_state: Vec<i8>,
    scratch_atom: Vec<u32>,
}

impl Walker for CanonicalWalker<'_> {
    fn rates(&self, rates: &mut [f64], labels: &mut [u8]) {
        self.rates.of_state(self.network, &self.state, rates);
        for (l, &site) in labels.iter_mut().zip(self.network.neighbours_of(0)) {
            *l = self.state[site as usize] as u8;
        }
    }

    fn jump(&mut self, j: usize) -> (usize, usize) {
        let n = self.network.neighbour(0, j);
        let moved = (self.state[n] as usize, self.atom[n] as usize);
        self.network.apply_jump(j, &self.state, &mut self.scratch_state);
        self.network.apply_jump(j, &self.atom, &mut self.scratch_atom);
        std::mem::swap(&mut self.state, &mut self.scratch_state);
        std::mem::swap(&mut self.atom, &mut self.scratch_atom);
        moved
    }
}

fn trajectory(config: &KmcConfig, counts: &[usize], network: &JumpNetwork, seed: u64) -> Trajectory {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let vacancy = config.gas.vacancy_label();
    let mut state: Vec<i8> = vec![vacancy as i8];
    for (label, &c) in counts.iter().enumerate() {
        state.extend(std::iter::repeat_n(label as i8, c));
    }
    shuffle_atoms(&mut rng, &mut state[1..]);
    // Atom i starts on site i; identity 0 is the vacancy's.
    let atom: Vec<u32> = (0..state.len() as u32).collect();
    let labels_of_atoms: Vec<usize> = state.iter().map(|&l| l as usize).collect();
    let acc = match &config.gas.rates {
        RateModel::Fixed { rates } => {
            let mut w = LatticeWalker {
                neighbours: network.neighbour_table(),
                z: network.z(),
                species_rates: rates,
                occupation: state.iter().map(|&l| l as u8).collect(),
                atom,
                vacancy_site: 0,
            };
            walk(&mut w, config, network, &mut rng)
        }
        RateModel::Random { .. } => {
            let n = state.len();
            let mut w = CanonicalWalker {
                network,
                rates: Rates::new(&config.gas, network.num_sites()),
                state,
                atom,
                scratch_state: vec![0; n],
                scratch_atom: vec![0; n],
            };
            walk(&mut w, config, network, &mut rng)
        }
    };
    acc.estimates(&labels_of_atoms, vacancy)
}

/// Sums over one trajectory.
struct Accumulator {
    /// Total displacement per label.
    collective: Vec<[f64; 3]>,
    /// Displacement per atom identity.
    atoms: Vec<[f64; 3]>,
    /// Time integral of sum_j rate_j |a0 dx_j|^2 per exchanged label.
    rate_integral: Vec<f64>,
    steps: u64,
    time: f64,
}

fn walk(w: &mut impl Walker, config: &KmcConfig, network: &JumpNetwork, rng: &mut Xoshiro256PlusPlus) -> Accumulator {
    let nl = config.gas.num_labels();
    let vacancy = config.gas.vacancy_label();
    let a0 = config.gas.lattice_parameter;
    let dx: Vec<[f64; 3]> = network.jump_vectors().iter().map(|d| d.map(|x| a0 * x)).collect();
    let dx2: Vec<f64> = dx.iter().map(|d| d.iter().map(|x| x * x).sum()).collect();
    let mut acc = Accumulator {
        collective: vec![[0.0; 3]; nl],
        atoms: vec![[0.0; 3]; network.num_sites()],
        rate_integral: vec![0.0; nl],
        steps: 0,
        time: 0.0,
    };
    let mut rates = vec![0.0; network.z()];
    let mut labels = vec![0u8; network.z()];
    loop {
        w.rates(&mut rates, &mut labels);
        let total: f64 = rates.iter().sum();
        let u: f64 = rng.random();
        let mut dt = -(1.0 - rng.random::<f64>()).ln() / total;
        let last = match config.duration {
            Duration::Time(t_max) if acc.time + dt >= t_max => {
                dt = t_max - acc.time;
                true
            }
            _ => false,
        };
        for k in 0..network.z() {
            acc.rate_integral[labels[k] as usize] += dt * rates[k] * dx2[k];
        }
        acc.time += dt;
        if last {
            break;
        }
        let j = select_jump(&rates, u * total);
        let (label, atom) = w.jump(j);
        for (i, x) in dx[j].iter().enumerate() {
            acc.collective[vacancy][i] += x;
            acc.collective[label][i] -= x;
            acc.atoms[atom][i] -= x;
        }
        acc.steps += 1;
        if config.duration == Duration::Steps(acc.steps) {
            break;
        }
    }
    acc
}

impl Accumulator {
    fn estimates(&self, labels_of_atoms: &[usize], vacancy: usize) -> Trajectory {
        let nl = self.collective.len();
        let norm = 1.0 / (6.0 * self.time);
        let dot = |a: &[f64; 3], b: &[f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let mut onsager = vec![0.0; nl * nl];
        for a in 0..nl {
            for b in 0..nl {
                onsager[a * nl + b] = dot(&self.collective[a], &self.collective[b]) * norm;
            }
        }
        let mut tracer = vec![0.0; nl];
        for (atom, d) in self.atoms.iter().enumerate() {
            if atom != 0 {
                tracer[labels_of_atoms[atom]] += dot(d, d) * norm;
            }
        }
        tracer[vacancy] = dot(&self.collective[vacancy], &self.collective[vacancy]) * norm;
        let mut uncorrelated: Vec<f64> = self.rate_integral.iter().map(|x| x * norm).collect();
        uncorrelated[vacancy] = self.rate_integral.iter().sum::<f64>() * norm;
        Trajectory { onsager, tracer, uncorrelated, steps: self.steps, time: self.time }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latgas::Composition;
    use gcnet_crystal::{CellKind, Crystal, LatticeKind};

    #[test]
    fn both_walkers_take_the_same_path() {
        // With fixed rates both walkers draw the same numbers and see the same neighbours,
        // so their trajectories coincide.
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
        let config = KmcConfig {
            gas: LatticeGas::fixed(vec![0.3, 1.0, 2.0], Composition::Fractions(vec![0.3, 0.3, 0.4])),
            trajectories: 2,
            duration: Duration::Steps(500),
            seed: 5,
            threads: 1,
        };
        let network = JumpNetwork::new(&crystal);
        let counts = config.gas.counts(network.num_sites()).unwrap();
        let mut state: Vec<i8> = vec![3];
        for (l, &c) in counts.iter().enumerate() {
            state.extend(std::iter::repeat_n(l as i8, c));
        }
        let atom: Vec<u32> = (0..state.len() as u32).collect();
        let mut lattice = LatticeWalker {
            neighbours: network.neighbour_table(),
            z: 12,
            species_rates: &[0.3, 1.0, 2.0],
            occupation: state.iter().map(|&l| l as u8).collect(),
            atom: atom.clone(),
            vacancy_site: 0,
        };
        let mut canonical = CanonicalWalker {
            network: &network,
            rates: Rates::new(&config.gas, network.num_sites()),
            state: state.clone(),
            atom,
            scratch_state: state.clone(),
            scratch_atom: vec![0; state.len()],
        };
        let a = walk(&mut lattice, &config, &network, &mut Xoshiro256PlusPlus::seed_from_u64(1));
        let b = walk(&mut canonical, &config, &network, &mut Xoshiro256PlusPlus::seed_from_u64(1));
        assert_eq!(a.atoms, b.atoms);
        assert_eq!(a.collective, b.collective);
        assert_eq!(a.time, b.time);
        assert_eq!(a.steps, 500);
    }

    #[test]
    fn estimate_is_mean_and_standard_error() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.value, 2.5);
        assert!((e.error - (5.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-15);
    }
}
