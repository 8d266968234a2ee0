//! Metropolis swap Monte Carlo of an alloy on LAMMPS (SPEC section 9), as the published
//! Init_state_MC.py does it: a trial picks two occupied sites holding different elements
//! (uniformly, by drawing both sites until they differ), swaps them, puts every atom back
//! on its ideal position, relaxes with conjugate gradients (max-norm, to etol/ftol, at
//! most 1000 iterations) and accepts when a uniform number u satisfies
//! u <= exp(-(E_new - E_old) / kB T), i.e. with probability min(1, exp(-dE / kB T)).
//! The vacancy (if any) stays on site 0.
//!
//! Energies come from a [`StateEnergy`]: [`SessionEnergy`] keeps one serial LAMMPS per
//! chain alive and changes only the types of the swapped atoms (a trial costs the
//! relaxation only); [`ProcessEnergy`] starts a fresh `lmp` per evaluation from a written
//! data file, as the published script does (the benchmark's reference).
//!
//! Every random number of trial `t` of chain `c` comes from a generator seeded by
//! (seed, c, t) alone, so a chain resumed at a checkpoint draws what the uninterrupted
//! chain drew.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::splitmix64;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geometry::{CellSpec, Geometry};
use crate::kmc::KB_EV_PER_K;
use crate::lammps::Lammps;
use crate::neb::SETUP;
use crate::potential::Potential;
use crate::session::Session;

/// Most conjugate-gradient iterations and force evaluations of one trial relaxation (the
/// published input's limits).
pub const MC_MAX_ITERATIONS: usize = 1000;
pub const MC_MAX_EVALUATIONS: usize = 1_000_000;

/// How the energy of a state is computed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum EnergyModel {
    /// Conjugate gradients (max-norm) from the ideal lattice positions to the relative
    /// energy tolerance `energy_tol` and the force tolerance `force_tol` (eV/Å), as the
    /// published protocol.
    Relaxed { force_tol: f64, energy_tol: f64 },
    /// The energy with every atom on its ideal position (no relaxation): an approximation
    /// (it ignores the relaxation energy, which differs between arrangements) that is
    /// faster and has an exactly enumerable answer in small test cells.
    OnLattice,
}

impl EnergyModel {
    pub fn validate(&self) -> Result<()> {
        if let EnergyModel::Relaxed { force_tol, energy_tol } = *self
            && !(force_tol >= 0.0 && energy_tol >= 0.0 && (force_tol > 0.0 || energy_tol > 0.0))
        {
            return Err(Error::Config(format!(
                "the force and energy tolerances must be non-negative and not both 0 (got {force_tol}, {energy_tol})"
            )));
        }
        Ok(())
    }

    /// The LAMMPS lines that compute the energy of the current positions.
    fn commands(&self) -> String {
        match *self {
            EnergyModel::Relaxed { force_tol, energy_tol } => {
                format!("minimize {energy_tol} {force_tol} {MC_MAX_ITERATIONS} {MC_MAX_EVALUATIONS}\n")
            }
            EnergyModel::OnLattice => "run 0\n".into(),
        }
    }
}

/// Neighbour-list skin (Å) of the persistent session. LAMMPS checks the lists every step
/// and rebuilds them when needed, so the energy does not depend on the skin (the same to
/// about 1e-11 eV); with 0.3 Å instead of the 2 Å metal-units default the MEAM screening
/// loops run over 40% of the pairs, which took 10% off a 5x5x5 trial (`gcnet mc-bench`).
pub const MC_NEIGHBOR_SKIN: f64 = 0.3;

/// The LAMMPS lines that set the neighbour skin `skin` (Å), checked every step.
fn neighbor_lines(skin: f64) -> String {
    format!("neighbor {skin} bin\nneigh_modify every 1 delay 0 check yes\n")
}

/// The lines that choose the minimiser (SPEC section 9): conjugate gradients, max-norm.
const MIN_LINES: &str = "min_style cg\nmin_modify norm max\nthermo_style custom step pe fmax\nthermo 10000\n";

/// The FCC cell of the published script, built from -u and -pr without a crystal file:
/// `units`^3 conventional cubic cells (4 sites each) or primitive cells. Its sites are in
/// the order `gcnet crystal --lattice fcc --cell cubic|primitive --size units` writes them,
/// so the states of a chain feed `gcnet neb -if` with that crystal file; site 0 is the
/// origin (the vacancy's site).
pub fn fcc_cell(units: usize, primitive: bool) -> Result<CrystalData> {
    let cell = if primitive { CellKind::Primitive } else { CellKind::Cubic };
    Ok(CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, cell, units)?))
}

/// The FCC geometry of [`fcc_cell`] with lattice parameter `a0` (Å).
pub fn fcc_geometry(units: usize, primitive: bool, a0: f64) -> Result<(CrystalData, Geometry)> {
    let crystal = fcc_cell(units, primitive)?;
    let geometry = Geometry::new(&crystal, a0, CellSpec { units, primitive })?;
    Ok((crystal, geometry))
}

/// The energy of a state (labels per site, 0 = empty) in eV.
pub trait StateEnergy {
    fn energy(&mut self, labels: &[u8]) -> Result<f64>;
}

/// The atom type of every site in LAMMPS, kept in one persistent [`Session`]: only the
/// types that changed since the previous evaluation are set, the atoms are put back on
/// their ideal positions (stored once by `fix store/state`) and the energy is computed.
/// Which sites are empty is fixed when the session starts.
pub struct SessionEnergy {
    session: Session,
    types: Vec<u8>,
    ids: Vec<usize>,
    model: EnergyModel,
    evaluations: u64,
}

impl SessionEnergy {
    /// Starts LAMMPS in `dir` (which must exist) with the state `labels`.
    pub fn start(
        lammps: &Lammps,
        dir: &Path,
        geometry: &Geometry,
        potential: &Potential,
        elements: &[String],
        labels: &[u8],
        model: EnergyModel,
    ) -> Result<SessionEnergy> {
        model.validate()?;
        let data = dir.join("mc.data");
        std::fs::write(&data, geometry.data_file(labels, elements.len(), None))
            .map_err(Error::io(&data, "write the LAMMPS input"))?;
        let mut session = Session::start(lammps, dir)?;
        let setup = format!(
            "log none\n{SETUP}read_data mc.data\n{pair}{neighbor}fix ideal all store/state 0 x y z\nvariable x0 atom f_ideal[1]\nvariable y0 atom f_ideal[2]\nvariable z0 atom f_ideal[3]\n{MIN_LINES}",
            pair = potential.pair_lines(elements),
            neighbor = neighbor_lines(MC_NEIGHBOR_SKIN),
        );
        session.run(&setup, "setting up the Monte Carlo cell")?;
        let mut id = 0;
        let ids = labels
            .iter()
            .map(|&l| {
                if l != 0 {
                    id += 1;
                }
                if l != 0 { id } else { 0 }
            })
            .collect();
        Ok(SessionEnergy { session, types: labels.to_vec(), ids, model, evaluations: 0 })
    }

    /// The LAMMPS process's id (to read its CPU time).
    pub fn pid(&self) -> u32 {
        self.session.pid()
    }

    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }
}

impl StateEnergy for SessionEnergy {
    fn energy(&mut self, labels: &[u8]) -> Result<f64> {
        if labels.len() != self.types.len() {
            return Err(Error::Config(format!("a state of {} sites for a cell of {}", labels.len(), self.types.len())));
        }
        let mut commands = String::new();
        for (site, (&new, old)) in labels.iter().zip(self.types.iter_mut()).enumerate() {
            if new == *old {
                continue;
            }
            if new == 0 || *old == 0 {
                return Err(Error::Config(format!(
                    "site {site}: the empty sites of a Monte Carlo chain cannot change"
                )));
            }
            commands += &format!("set atom {} type {new}\n", self.ids[site]);
            *old = new;
        }
        if matches!(self.model, EnergyModel::Relaxed { .. }) {
            commands += "set group all x v_x0 y v_y0 z v_z0\n";
        }
        commands += &self.model.commands();
        commands += "print \"GCNET_MC $(pe:%.17g)\"";
        self.evaluations += 1;
        let what = format!("Monte Carlo energy evaluation {}", self.evaluations);
        let lines = self.session.run(&commands, &what)?;
        parse_energy(&lines, "GCNET_MC ").ok_or_else(|| Error::Lammps {
            what,
            message: "no energy line after the minimisation".into(),
            dir: self.session.dir().to_path_buf(),
        })
    }
}

/// A fresh `lmp` process per evaluation: the state is written as a data file, LAMMPS
/// reads it and the potential, relaxes and prints the energy to a file (what the published
/// script does for every trial).
pub struct ProcessEnergy<'a> {
    pub lammps: &'a Lammps,
    pub dir: PathBuf,
    pub geometry: &'a Geometry,
    pub potential: &'a Potential,
    pub elements: &'a [String],
    pub model: EnergyModel,
    /// Neighbour skin (Å); `None`: the LAMMPS default, as in the published input.
    pub neighbor_skin: Option<f64>,
}

impl StateEnergy for ProcessEnergy<'_> {
    fn energy(&mut self, labels: &[u8]) -> Result<f64> {
        let data = self.dir.join("inp_MC.data");
        std::fs::write(&data, self.geometry.data_file(labels, self.elements.len(), None))
            .map_err(Error::io(&data, "write the LAMMPS input"))?;
        let input = self.dir.join("in.minim");
        let text = format!(
            "{SETUP}read_data inp_MC.data\n{pair}{neighbor}{MIN_LINES}{energy}variable e equal pe\nprint \"$(v_e:%.17g)\" file Eng.txt\n",
            pair = self.potential.pair_lines(self.elements),
            neighbor = self.neighbor_skin.map(neighbor_lines).unwrap_or_default(),
            energy = self.model.commands(),
        );
        std::fs::write(&input, text).map_err(Error::io(&input, "write the LAMMPS input"))?;
        let out = self.dir.join("out.txt");
        let out_file = std::fs::File::create(&out).map_err(Error::io(&out, "create"))?;
        let fail = |message: String| Error::Lammps {
            what: "a Monte Carlo energy (one lmp process)".into(),
            message,
            dir: self.dir.clone(),
        };
        let status = self
            .lammps
            .serial_command()
            .args(["-in", "in.minim", "-nocite"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out_file)
            .stderr(Stdio::null())
            .status()
            .map_err(|e| fail(format!("cannot start {}: {e}", self.lammps.exe().display())))?;
        if !status.success() {
            return Err(fail(format!("lmp exited with {status}")));
        }
        let eng = self.dir.join("Eng.txt");
        let text = std::fs::read_to_string(&eng).map_err(Error::io(&eng, "read"))?;
        text.split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| fail(format!("no energy in {}", eng.display())))
    }
}

fn parse_energy(lines: &[String], prefix: &str) -> Option<f64> {
    lines.iter().rev().find_map(|l| l.strip_prefix(prefix)).and_then(|w| w.trim().parse().ok())
}

/// What a chain did, trial by trial, with the published arrays' meaning.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Eng_all_steps: the energy of the start state, then the chain's energy after each
    /// trial (eV); one more entry than trials.
    pub energies: Vec<f64>,
    /// accepts_all_steps: 1 accepted, 0 rejected.
    pub accepts: Vec<i64>,
    /// rands_all_steps: the uniform number each trial's decision used.
    pub rands: Vec<f64>,
    /// The two sites each trial swapped (site indices of the cell; `swap_atoms_all_steps.npy`
    /// stores them as the published atom indices, site - 1 when site 0 is the vacancy).
    pub swaps: Vec<[i64; 2]>,
}

impl History {
    pub fn trials(&self) -> usize {
        self.accepts.len()
    }

    /// The first `trials` trials.
    pub fn truncated(&self, trials: usize) -> History {
        History {
            energies: self.energies[..=trials].to_vec(),
            accepts: self.accepts[..trials].to_vec(),
            rands: self.rands[..trials].to_vec(),
            swaps: self.swaps[..trials].to_vec(),
        }
    }

    /// Whether the four arrays hold at least `trials` trials.
    pub fn holds(&self, trials: usize) -> bool {
        self.energies.len() > trials
            && self.accepts.len() >= trials
            && self.rands.len() >= trials
            && self.swaps.len() >= trials
    }
}

/// One trial's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trial {
    pub sites: [usize; 2],
    /// Energy of the swapped state (eV).
    pub energy: f64,
    pub rand: f64,
    pub accepted: bool,
}

/// One Metropolis chain: the current state and its history.
#[derive(Clone, Debug)]
pub struct Chain {
    labels: Vec<u8>,
    occupied: Vec<usize>,
    history: History,
    seed: u64,
    index: usize,
}

impl Chain {
    /// A chain starting in `labels` whose energy is `energy`; `index` tells the chains
    /// of one seed apart.
    pub fn new(labels: Vec<u8>, energy: f64, seed: u64, index: usize) -> Result<Chain> {
        Chain::resume(labels, History { energies: vec![energy], ..History::default() }, seed, index)
    }

    /// A chain continuing after the trials of `history`, in the state `labels` it had
    /// then.
    pub fn resume(labels: Vec<u8>, history: History, seed: u64, index: usize) -> Result<Chain> {
        let occupied: Vec<usize> = (0..labels.len()).filter(|&s| labels[s] != 0).collect();
        let first = occupied.first().map(|&s| labels[s]);
        if !occupied.iter().any(|&s| Some(labels[s]) != first) {
            return Err(Error::Config("a swap Monte Carlo chain needs atoms of at least two elements".into()));
        }
        if !history.holds(history.trials()) {
            return Err(Error::Config("a chain history needs one energy more than trials".into()));
        }
        Ok(Chain { labels, occupied, history, seed, index })
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn trials_done(&self) -> usize {
        self.history.trials()
    }

    /// The current state's energy (eV).
    pub fn energy(&self) -> f64 {
        *self.history.energies.last().expect("at least the start energy")
    }

    /// Accepted trials / trials (0 before the first).
    pub fn acceptance(&self) -> f64 {
        let n = self.history.trials();
        if n == 0 { 0.0 } else { self.history.accepts.iter().sum::<i64>() as f64 / n as f64 }
    }

    /// The two sites trial `trial` swaps and its uniform number: drawn from the
    /// generator of (seed, chain, trial), the sites uniformly among the occupied ones until
    /// their elements differ (the published script's rule).
    pub fn proposal(&self, trial: usize) -> ([usize; 2], f64) {
        let mut rng = trial_rng(self.seed, self.index, trial);
        let n = self.occupied.len();
        loop {
            let a = self.occupied[rng.random_range(0..n)];
            let b = self.occupied[rng.random_range(0..n)];
            if self.labels[a] != self.labels[b] {
                return ([a, b], rng.random::<f64>());
            }
        }
    }

    /// One trial at `temperature` (K).
    pub fn step(&mut self, energy: &mut impl StateEnergy, temperature: f64) -> Result<Trial> {
        let t = self.trials_done();
        let ([a, b], rand) = self.proposal(t);
        self.labels.swap(a, b);
        let e_new = energy.energy(&self.labels)?;
        let de = e_new - self.energy();
        let accepted = rand <= (-de / (KB_EV_PER_K * temperature)).exp();
        if !accepted {
            self.labels.swap(a, b);
        }
        let e = if accepted { e_new } else { self.energy() };
        self.history.energies.push(e);
        self.history.accepts.push(accepted as i64);
        self.history.rands.push(rand);
        self.history.swaps.push([a as i64, b as i64]);
        Ok(Trial { sites: [a, b], energy: e_new, rand, accepted })
    }
}

fn trial_rng(seed: u64, chain: usize, trial: usize) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(splitmix64(splitmix64(splitmix64(seed ^ 0x4d43) ^ chain as u64) ^ trial as u64))
}

/// The start state of chain `chain`: `counts[k]` atoms of label k+1 dealt onto the
/// occupied sites in a random order (site 0 stays empty when `vacancy`), from the
/// generator of (seed, chain).
pub fn random_start(counts: &[usize], num_sites: usize, vacancy: bool, seed: u64, chain: usize) -> Result<Vec<u8>> {
    let occupied = num_sites - vacancy as usize;
    let total: usize = counts.iter().sum();
    if total != occupied {
        return Err(Error::Config(format!(
            "the atom counts add up to {total}, but the cell has {occupied} occupied sites ({num_sites} sites{})",
            if vacancy { ", one vacancy" } else { ", no vacancy" }
        )));
    }
    let mut atoms: Vec<u8> =
        counts.iter().enumerate().flat_map(|(k, &n)| std::iter::repeat_n(k as u8 + 1, n)).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(splitmix64(splitmix64(seed ^ 0x5354) ^ chain as u64));
    atoms.shuffle(&mut rng);
    Ok(if vacancy { std::iter::once(0).chain(atoms).collect() } else { atoms })
}

/// Warren-Cowley parameters of the first neighbour shell, averaged over `states`:
/// alpha_ij = 1 - P(j | i) / c_j, with P(j | i) the fraction of the nearest neighbours of
/// i-atoms that are j-atoms (empty sites left out) and c_j the fraction of j-atoms.
/// `(num_elements, num_elements)`, row i = label i+1. 0 for random, negative for i-j
/// pairs that attract, positive for pairs that avoid each other.
pub fn warren_cowley<'a>(
    states: impl IntoIterator<Item = &'a [u8]>,
    geometry: &Geometry,
    num_elements: usize,
) -> Vec<Vec<f64>> {
    let k = num_elements;
    let mut pairs = vec![vec![0u64; k]; k];
    let mut atoms = vec![0u64; k];
    for labels in states {
        for (s, &a) in labels.iter().enumerate() {
            if a == 0 {
                continue;
            }
            atoms[a as usize - 1] += 1;
            for j in 0..geometry.z() {
                let b = labels[geometry.neighbour(s, j)];
                if b != 0 {
                    pairs[a as usize - 1][b as usize - 1] += 1;
                }
            }
        }
    }
    let total: u64 = atoms.iter().sum();
    (0..k)
        .map(|i| {
            let around: u64 = pairs[i].iter().sum();
            (0..k)
                .map(|j| {
                    let c = atoms[j] as f64 / total as f64;
                    if around == 0 || c == 0.0 { f64::NAN } else { 1.0 - pairs[i][j] as f64 / around as f64 / c }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An energy that counts unlike nearest-neighbour pairs of a 1-d ring (a test model).
    struct Ring(f64);
    impl StateEnergy for Ring {
        fn energy(&mut self, labels: &[u8]) -> Result<f64> {
            let n = labels.len();
            Ok(self.0 * (0..n).filter(|&i| labels[i] != labels[(i + 1) % n]).count() as f64)
        }
    }

    #[test]
    fn starts_follow_the_counts_and_keep_the_vacancy_on_site_0() {
        let s = random_start(&[3, 2, 2], 8, true, 5, 0).unwrap();
        assert_eq!(s[0], 0);
        assert_eq!((s.iter().filter(|&&l| l == 1).count(), s.iter().filter(|&&l| l == 3).count()), (3, 2));
        assert_ne!(s, random_start(&[3, 2, 2], 8, true, 5, 1).unwrap());
        assert_eq!(s, random_start(&[3, 2, 2], 8, true, 5, 0).unwrap());
        let e = random_start(&[3, 2, 2], 8, false, 5, 0).unwrap_err().to_string();
        assert!(e.contains("add up to 7, but the cell has 8 occupied sites"), "{e}");
    }

    #[test]
    fn trials_follow_the_metropolis_rule_and_depend_on_the_trial_index_only() {
        let labels = random_start(&[10, 10], 21, true, 1, 0).unwrap();
        let mut ring = Ring(0.05);
        let e0 = ring.energy(&labels).unwrap();
        let mut chain = Chain::new(labels.clone(), e0, 9, 0).unwrap();
        let temperature = 600.0;
        for _ in 0..300 {
            let before = chain.energy();
            let t = chain.step(&mut ring, temperature).unwrap();
            assert_ne!(chain.labels()[t.sites[0]], 0);
            let p = (-(t.energy - before) / (KB_EV_PER_K * temperature)).exp();
            assert_eq!(t.accepted, t.rand <= p);
            assert_eq!(chain.energy(), if t.accepted { t.energy } else { before });
            assert_eq!(chain.energy(), ring.energy(chain.labels()).unwrap());
        }
        let h = chain.history().clone();
        assert_eq!((h.energies.len(), h.accepts.len(), h.swaps.len()), (301, 300, 300));
        assert!(chain.acceptance() > 0.0 && chain.acceptance() < 1.0, "{}", chain.acceptance());
        // Resuming at trial 120 in the state the chain had then repeats trials 120..300.
        let mut replay = Chain::new(labels, e0, 9, 0).unwrap();
        for _ in 0..120 {
            replay.step(&mut ring, temperature).unwrap();
        }
        let mut resumed = Chain::resume(replay.labels().to_vec(), h.truncated(120), 9, 0).unwrap();
        for _ in 120..300 {
            resumed.step(&mut ring, temperature).unwrap();
        }
        assert_eq!(resumed.history(), &h);
        assert_eq!(resumed.labels(), chain.labels());
    }

    #[test]
    fn warren_cowley_of_random_and_layered_states() {
        let (_, g) = fcc_geometry(3, false, 3.595).unwrap();
        let states: Vec<Vec<u8>> = (0..200).map(|c| random_start(&[54, 53], 108, true, 3, c).unwrap()).collect();
        let a = warren_cowley(states.iter().map(|s| s.as_slice()), &g, 2);
        for x in a.iter().flatten() {
            assert!(x.abs() < 0.03, "{a:?}");
        }
        // L1_0: (001) layers alternate; each atom has 4 like and 8 unlike neighbours, so
        // alpha_AA = 1 - (4/12)/0.5 = 1/3 and alpha_AB = 1 - (8/12)/0.5 = -1/3.
        let layered: Vec<u8> =
            (0..g.num_sites()).map(|s| 1 + ((g.position(s)[2] / (3.595 / 2.0)).round() as u8 % 2)).collect();
        let a = warren_cowley([layered.as_slice()], &g, 2);
        for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let want = if i == j { 1.0 / 3.0 } else { -1.0 / 3.0 };
            assert!((a[i][j] - want).abs() < 1e-12, "{a:?}");
        }
    }
}
