//! Lattice-gas generators of single-step KMC data sets.
//!
//! A lattice gas is one vacancy (on site 0) among atoms of `n` species, labels `0..n`; the
//! vacancy takes the largest label `n`. Every sample is a fresh random arrangement at the
//! given composition (or, with [`LatticeGas::continue_chain`], the previous sample's final
//! state), one KMC step out of it, and every dataset of SPEC section 3.
//!
//! Rates are per unit time with attempt frequency 1:
//! - [`RateModel::Fixed`]: a jump's rate is the rate of the species that exchanges with
//!   the vacancy. "SR-2" ([`LatticeGas::sr2`]): slow species 0 at rate 0.001, fast
//!   species 1 at rate 1.0, vacancy label 2.
//! - [`RateModel::Random`]: rate = exp(-E) with E ~ N(mean[a], width[a]) for exchanged
//!   species a, fixed per transition by a symmetric function of both states.
//!
//! In both, a jump and its reverse have the same rate, so every arrangement is equally
//! likely in equilibrium and a random arrangement is an equilibrium sample.

use std::path::Path;

use gcnet_crystal::{CrystalData, JumpNetwork};
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::file::Layout;
use crate::landscape::Landscape;
use crate::select::select_jump;
use crate::writer::DataFileWriter;

/// How jump rates are set.
#[derive(Clone, Debug, PartialEq)]
pub enum RateModel {
    /// `rates[a]`: rate of every jump that exchanges the vacancy with species `a`.
    Fixed { rates: Vec<f64> },
    /// Rate exp(-E), E (units of kT) normal with `mean[a]`, `width[a]` for exchanged species
    /// `a`; `seed` fixes the energy landscape (independent of the sampling seed, so data
    /// sets drawn with different seeds share one landscape).
    Random { mean: Vec<f64>, width: Vec<f64>, seed: u64 },
}

impl RateModel {
    /// Number of (non-vacancy) species.
    pub fn num_species(&self) -> usize {
        match self {
            RateModel::Fixed { rates } => rates.len(),
            RateModel::Random { mean, .. } => mean.len(),
        }
    }
}

/// Composition of the atom sites (every site but the vacancy's).
#[derive(Clone, Debug, PartialEq)]
pub enum Composition {
    /// Atoms of each species; they must add up to `num_sites - 1`.
    Counts(Vec<usize>),
    /// Fractions of the atom sites, adding up to 1 (counts by largest remainder).
    Fractions(Vec<f64>),
}

/// A lattice gas: rates, composition and the lattice parameter of the data.
#[derive(Clone, Debug, PartialEq)]
pub struct LatticeGas {
    pub rates: RateModel,
    pub composition: Composition,
    /// Lattice parameter a0: `SpecDisps` are a0 * dx_j (dx in units of the lattice
    /// parameter, from the crystal file).
    pub lattice_parameter: f64,
    /// Start each sample from the previous sample's final state (one KMC chain) instead of
    /// a fresh random arrangement.
    pub continue_chain: bool,
}

impl Composition {
    /// Equal fractions of `num_species` species.
    pub fn equal(num_species: usize) -> Composition {
        Composition::Fractions(vec![1.0 / num_species as f64; num_species])
    }
}

impl LatticeGas {
    /// Fixed rates per species at a composition, a0 = 1, fresh arrangements.
    pub fn fixed(rates: Vec<f64>, composition: Composition) -> LatticeGas {
        LatticeGas { rates: RateModel::Fixed { rates }, composition, lattice_parameter: 1.0, continue_chain: false }
    }

    /// The binary "SR-2" gas: slow species 0 (rate 0.001), fast species 1 (rate 1.0) at
    /// fraction `fast_fraction` of the atom sites, vacancy label 2.
    pub fn sr2(fast_fraction: f64) -> LatticeGas {
        LatticeGas::fixed(vec![0.001, 1.0], Composition::Fractions(vec![1.0 - fast_fraction, fast_fraction]))
    }

    /// Number of atom species (labels `0..num_species()`).
    pub fn num_species(&self) -> usize {
        self.rates.num_species()
    }

    /// Labels, vacancy included.
    pub fn num_labels(&self) -> usize {
        self.num_species() + 1
    }

    /// The vacancy's label: the largest.
    pub fn vacancy_label(&self) -> usize {
        self.num_species()
    }

    /// Checks the parameters and returns the atom count of each species on a cell of
    /// `num_sites` sites.
    pub fn counts(&self, num_sites: usize) -> Result<Vec<usize>> {
        let ns = self.num_species();
        let bad = |msg: String| Err(Error::Config(msg));
        if ns == 0 || ns > 126 {
            return bad(format!("a lattice gas needs 1 to 126 species, got {ns}"));
        }
        match &self.rates {
            RateModel::Fixed { rates } => {
                if let Some(r) = rates.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
                    return bad(format!("species rates must be positive and finite, got {r}"));
                }
            }
            RateModel::Random { mean, width, .. } => {
                if width.len() != ns {
                    return bad(format!("{} energy means but {} widths", ns, width.len()));
                }
                if mean.iter().chain(width).any(|x| !x.is_finite()) || width.iter().any(|w| *w < 0.0) {
                    return bad("energy means must be finite and widths finite and >= 0".into());
                }
            }
        }
        if !(self.lattice_parameter.is_finite() && self.lattice_parameter > 0.0) {
            return bad(format!("the lattice parameter must be positive, got {}", self.lattice_parameter));
        }
        let atoms = num_sites.saturating_sub(1);
        match &self.composition {
            Composition::Counts(c) => {
                if c.len() != ns {
                    return bad(format!("{} species counts given for {ns} species", c.len()));
                }
                if c.iter().sum::<usize>() != atoms {
                    return bad(format!(
                        "species counts {c:?} add up to {}, the cell has {atoms} atom sites (one site holds the vacancy)",
                        c.iter().sum::<usize>()
                    ));
                }
                Ok(c.clone())
            }
            Composition::Fractions(f) => {
                if f.len() != ns {
                    return bad(format!("{} species fractions given for {ns} species", f.len()));
                }
                let total: f64 = f.iter().sum();
                if f.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
                    return bad(format!("species fractions must be finite and >= 0, got {f:?}"));
                }
                // Refused rather than renormalised: fractions that do not add up are a typo
                // more often than a wish.
                if (total - 1.0).abs() > 1e-9 {
                    return bad(format!("species fractions must add up to 1, got {f:?} (sum {total})"));
                }
                Ok(largest_remainder(f, total, atoms))
            }
        }
    }

    /// A sampler of single steps on `crystal`, seeded.
    pub fn sampler(&self, crystal: &CrystalData, seed: u64) -> Result<Sampler> {
        Sampler::new(self, crystal, seed)
    }

    /// `n` samples in memory.
    pub fn generate(&self, crystal: &CrystalData, n: usize, seed: u64) -> Result<Dataset> {
        let mut sampler = self.sampler(crystal, seed)?;
        let mut data = sampler.empty_block(n);
        sampler.fill(&mut data);
        Ok(data)
    }

    /// `n` samples streamed into a new file, block by block (the samples are the same as
    /// [`LatticeGas::generate`]'s for the same seed). `progress` is called with the number
    /// of samples written so far.
    pub fn generate_to_file(
        &self,
        crystal: &CrystalData,
        n: usize,
        seed: u64,
        path: impl AsRef<Path>,
        force: bool,
        progress: &mut dyn FnMut(usize),
    ) -> Result<()> {
        let mut sampler = self.sampler(crystal, seed)?;
        let layout = Layout { len: n, ..Layout::of(&sampler.empty_block(0)) };
        let mut writer = DataFileWriter::create(path, layout, force)?;
        let mut block = sampler.empty_block(BLOCK.min(n));
        while writer.written() < n {
            let rows = BLOCK.min(n - writer.written());
            if rows != block.len() {
                block = sampler.empty_block(rows);
            }
            sampler.fill(&mut block);
            writer.append(&block)?;
            progress(writer.written());
        }
        writer.finish()
    }
}

/// Samples generated per block when streaming to a file.
const BLOCK: usize = 8192;

/// Integer counts adding up to `total_count` in proportion to `f`.
fn largest_remainder(f: &[f64], sum: f64, total_count: usize) -> Vec<usize> {
    let exact: Vec<f64> = f.iter().map(|x| x / sum * total_count as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..f.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let missing = total_count - counts.iter().sum::<usize>();
    for &i in order.iter().cycle().take(missing) {
        counts[i] += 1;
    }
    counts
}

/// The jump rates of a lattice gas, ready to evaluate on canonical states.
#[derive(Clone, Debug)]
pub(crate) enum Rates {
    Fixed(Vec<f64>),
    Random(Landscape),
}

impl Rates {
    pub fn new(gas: &LatticeGas, num_sites: usize) -> Rates {
        match &gas.rates {
            RateModel::Fixed { rates } => Rates::Fixed(rates.clone()),
            RateModel::Random { mean, width, seed } => {
                Rates::Random(Landscape::new(num_sites, gas.num_labels(), mean.clone(), width.clone(), *seed))
            }
        }
    }

    /// Rate of every jump out of the canonical `state` (vacancy on site 0).
    #[inline]
    pub fn of_state(&self, network: &JumpNetwork, state: &[i8], out: &mut [f64]) {
        match self {
            Rates::Fixed(r) => {
                for (o, &site) in out.iter_mut().zip(network.neighbours_of(0)) {
                    *o = r[state[site as usize] as usize];
                }
            }
            Rates::Random(land) => land.rates(network, state, out),
        }
    }
}

/// Draws single KMC steps of one lattice gas on one crystal; deterministic for a seed.
pub struct Sampler {
    network: JumpNetwork,
    rates: Rates,
    num_labels: usize,
    vacancy: i8,
    a0: f64,
    continue_chain: bool,
    rng: Xoshiro256PlusPlus,
    /// The next initial state (its atom sites are reshuffled unless continuing).
    state: Vec<i8>,
    started: bool,
}

impl Sampler {
    fn new(gas: &LatticeGas, crystal: &CrystalData, seed: u64) -> Result<Sampler> {
        let counts = gas.counts(crystal.num_sites())?;
        let vacancy = gas.vacancy_label() as i8;
        let mut state = vec![vacancy];
        for (label, &c) in counts.iter().enumerate() {
            state.extend(std::iter::repeat_n(label as i8, c));
        }
        Ok(Sampler {
            network: JumpNetwork::new(crystal),
            rates: Rates::new(gas, crystal.num_sites()),
            num_labels: gas.num_labels(),
            vacancy,
            a0: gas.lattice_parameter,
            continue_chain: gas.continue_chain,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            state,
            started: false,
        })
    }

    /// A zeroed block of `n` samples with this sampler's shapes (randNums included).
    pub fn empty_block(&self, n: usize) -> Dataset {
        Dataset::zeros(n, self.network.num_sites(), self.num_labels, self.network.z(), true)
    }

    /// Overwrites every sample of `block` with the next samples.
    ///
    /// Panics if `block` does not have this sampler's shapes and standard layout (make it
    /// with [`Sampler::empty_block`]).
    pub fn fill(&mut self, block: &mut Dataset) {
        let (ns, z, nl) = (self.network.num_sites(), self.network.z(), self.num_labels);
        assert!(
            block.num_sites() == ns && block.z() == z && block.num_labels() == nl,
            "block shapes do not match the sampler"
        );
        let init = block.init_states.as_slice_mut().expect("standard layout");
        let fin = block.fin_states.as_slice_mut().expect("standard layout");
        let disps = block.spec_disps.as_slice_mut().expect("standard layout");
        let rates = block.rates.as_slice_mut().expect("standard layout");
        let ri = block.jump_rates_init.as_slice_mut().expect("standard layout");
        let rf = block.jump_rates_fin.as_slice_mut().expect("standard layout");
        let jumps = block.jump_selects.as_slice_mut().expect("standard layout");
        let mut rand_nums = block.rand_nums.as_mut().map(|r| r.as_slice_mut().expect("standard layout"));
        for n in 0..rates.len() {
            if !(self.continue_chain && self.started) {
                shuffle_atoms(&mut self.rng, &mut self.state[1..]);
            }
            self.started = true;
            let s1 = &mut init[n * ns..(n + 1) * ns];
            s1.copy_from_slice(&self.state);
            let r1 = &mut ri[n * z..(n + 1) * z];
            self.rates.of_state(&self.network, s1, r1);
            let w: f64 = r1.iter().sum();
            let u: f64 = self.rng.random();
            let j = select_jump(r1, u * w);
            let s2 = &mut fin[n * ns..(n + 1) * ns];
            self.network.apply_jump(j, s1, s2);
            self.rates.of_state(&self.network, s2, &mut rf[n * z..(n + 1) * z]);
            let d = &mut disps[n * nl * 3..(n + 1) * nl * 3];
            d.fill(0.0);
            let exchanged = s1[self.network.neighbour(0, j)] as usize;
            let v = self.vacancy as usize;
            for (i, x) in self.network.jump_vector(j).iter().enumerate() {
                d[v * 3 + i] = self.a0 * x;
                d[exchanged * 3 + i] = -self.a0 * x;
            }
            rates[n] = w;
            jumps[n] = j as i64;
            if let Some(r) = rand_nums.as_mut() {
                r[n] = u;
            }
            if self.continue_chain {
                self.state.copy_from_slice(s2);
            }
        }
    }
}

/// Fisher-Yates shuffle with Lemire's unbiased bounded integers (Lemire, ACM TOMACS 29, 2019).
#[inline]
pub(crate) fn shuffle_atoms<T>(rng: &mut impl RngCore, atoms: &mut [T]) {
    for i in (1..atoms.len()).rev() {
        let j = bounded(rng, i as u32 + 1) as usize;
        atoms.swap(i, j);
    }
}

#[inline]
fn bounded(rng: &mut impl RngCore, n: u32) -> u32 {
    let mut m = rng.next_u32() as u64 * n as u64;
    if (m as u32) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u32) < threshold {
            m = rng.next_u32() as u64 * n as u64;
        }
    }
    (m >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use gcnet_crystal::{CellKind, Crystal, LatticeKind};

    fn fcc(n: usize) -> CrystalData {
        CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, n).unwrap())
    }

    #[test]
    fn counts_from_fractions_add_up() {
        let table: [(&[f64], usize, &[usize]); 4] = [
            (&[0.5, 0.5], 511, &[256, 255]),
            (&[1.0], 63, &[63]),
            (&[0.2, 0.3, 0.5], 10, &[2, 3, 5]),
            (&[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0], 10, &[4, 3, 3]),
        ];
        for (f, atoms, want) in table {
            let gas = LatticeGas::fixed(vec![1.0; f.len()], Composition::Fractions(f.to_vec()));
            assert_eq!(gas.counts(atoms + 1).unwrap(), want, "{f:?}");
        }
        let gas = LatticeGas::fixed(vec![1.0, 1.0], Composition::Counts(vec![3, 3]));
        assert!(matches!(gas.counts(8), Err(Error::Config(_))));
        // fractions that do not add up to 1 are refused, not renormalised
        for f in [vec![0.5, 0.6], vec![1.0, 1.0], vec![0.3, 0.3]] {
            let gas = LatticeGas::fixed(vec![1.0, 1.0], Composition::Fractions(f.clone()));
            let e = gas.counts(11).unwrap_err().to_string();
            assert!(e.contains("add up to 1"), "{f:?}: {e}");
        }
    }

    #[test]
    fn shuffles_are_uniform() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut hits = [[0u32; 4]; 4];
        let mut a = [0usize, 1, 2, 3];
        for _ in 0..40_000 {
            shuffle_atoms(&mut rng, &mut a);
            for (pos, &v) in a.iter().enumerate() {
                hits[v][pos] += 1;
            }
        }
        for row in hits {
            for h in row {
                assert!((h as f64 - 10_000.0).abs() < 400.0, "{hits:?}");
            }
        }
    }

    #[test]
    fn sample_is_one_kmc_step() {
        let crystal = fcc(4);
        let data = LatticeGas::sr2(0.5).generate(&crystal, 50, 3).unwrap();
        for n in 0..data.len() {
            let s1: Vec<i8> = data.init_states.row(n).to_vec();
            let j = data.jump_selects[n] as usize;
            assert_eq!(data.fin_states.row(n).to_vec(), crystal.jump_permutation(j).apply(&s1));
            assert_eq!(s1[0], 2);
            let w: f64 = data.jump_rates_init.row(n).iter().sum();
            assert_eq!(data.rates[n], w);
            let exchanged = s1[crystal.neighbour(0, j)] as usize;
            assert_eq!(data.jump_rates_init[[n, j]], [0.001, 1.0][exchanged]);
            let dx = crystal.jump_vector(j);
            for (i, x) in dx.iter().enumerate() {
                assert_eq!(data.spec_disps[[n, 2, i]], *x);
                assert_eq!(data.spec_disps[[n, exchanged, i]], -x);
            }
        }
    }

    #[test]
    fn chains_continue_from_the_final_state() {
        let crystal = fcc(3);
        let mut gas = LatticeGas::sr2(0.4);
        gas.continue_chain = true;
        let data = gas.generate(&crystal, 20, 9).unwrap();
        for n in 1..data.len() {
            assert_eq!(data.init_states.row(n), data.fin_states.row(n - 1));
        }
    }
}
