//! The network version of the tracer correlation factor (`gcnet tracer train`): a host
//! lattice of one species with one vacancy, all z jumps as samples, one relaxation vector
//! per atom (the `-trc` loss of SPEC section 5); f = L[y] / L[0] after every epoch,
//! beside the exact finite-cell value f_N, which it can never go below.

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::{Composition, LatticeGas};
use gcnet_net::{Event, Gcnet, NetConfig, Objective, SampleSet, Schedule, Species, TrainConfig, Trainer, batch, eval};
use gcnet_plot::{Chart, Series};
use gcnet_progress::{bar, say};

use super::exact_tracer_correlation;
use crate::error::{Error, Result};

/// The host lattice and the network to train.
#[derive(Clone, Debug)]
pub struct TracerTraining {
    pub lattice: LatticeKind,
    /// Primitive cells along each axis.
    pub size: usize,
    /// Hidden layers (-nl) and their channels (-nch).
    pub nl: i64,
    pub nch: i64,
    /// Training epochs (one Adam step over the z exits each).
    pub epochs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seed of the initial weights.
    pub seed: u64,
}

impl Default for TracerTraining {
    fn default() -> Self {
        TracerTraining { lattice: LatticeKind::Fcc, size: 8, nl: 2, nch: 4, epochs: 300, learning_rate: 0.01, seed: 1 }
    }
}

/// What a tracer training run gives.
#[derive(Clone, Debug)]
pub struct TracerCurve {
    pub num_sites: usize,
    /// The exact finite-cell f_N.
    pub exact: f64,
    /// f after each epoch (index 0: the initial network).
    pub f: Vec<f64>,
}

impl TracerCurve {
    /// The epoch with the lowest f, and that f.
    pub fn best(&self) -> (usize, f64) {
        self.f.iter().copied().enumerate().min_by(|a, b| a.1.total_cmp(&b.1)).expect("at least the initial f")
    }

    /// The first epoch within 0.5% of f_N, if any.
    pub fn within_half_percent(&self) -> Option<usize> {
        self.f.iter().position(|&f| f <= self.exact * 1.005)
    }

    /// What `gcnet tracer train` prints: the first epoch within 0.5% of f_N (if any), and
    /// the best f against f_N.
    pub fn summary(&self, t: &TracerTraining, seconds: f64) -> String {
        let (best_epoch, best) = self.best();
        let within = self.within_half_percent().map(|e| format!("within 0.5% of f_N from epoch {e}\n"));
        format!(
            "{}{} {n}x{n}x{n} ({} sites): exact f_N = {:.6}; network f = {best:.6} at epoch {best_epoch} ({:+.2}% from \
             f_N), {} epochs in {seconds:.0} s",
            within.unwrap_or_default(),
            t.lattice,
            self.num_sites,
            self.exact,
            100.0 * (best - self.exact) / self.exact,
            t.epochs,
            n = t.size
        )
    }

    /// f against epoch, with f_N as a line.
    pub fn chart(&self, t: &TracerTraining) -> Chart {
        let points = self.f.iter().enumerate().map(|(e, &f)| (e as f64, f)).collect();
        Chart::new(format!("Tracer correlation factor, {} {n}x{n}x{n}", t.lattice, n = t.size), "epoch", "f")
            .with(Series::line("GCNet", points))
            .with_hline("exact f_N", self.exact)
    }

    /// The variational principle: no relaxation vector gives less than the exact value.
    pub fn check_bound(&self) -> Result<()> {
        let lowest = self.best().1;
        if lowest < self.exact * (1.0 - 1e-9) {
            return Err(Error::Config(format!(
                "network f = {lowest} went below the exact f_N = {}: the loss or the exact solve is wrong",
                self.exact
            )));
        }
        Ok(())
    }
}

impl TracerTraining {
    /// Trains on the host lattice, with a progress bar and a line every 25 epochs.
    pub fn run(&self) -> Result<TracerCurve> {
        let crystal = CrystalData::from_crystal(&Crystal::cube(self.lattice, CellKind::Primitive, self.size)?);
        let progress = bar(self.epochs as u64, "epochs");
        let curve = self.train(&crystal, |epoch, f| {
            progress.set_position(epoch as u64);
            progress.set_message(format!("f = {f:.5}"));
            if epoch % 25 == 0 {
                say(&progress, format!("  epoch {epoch:>4}: f = {f:.6}"));
            }
        });
        progress.finish_and_clear();
        curve
    }

    /// Trains on the host lattice of `crystal`; `on_epoch(epoch, f)` after every epoch.
    pub fn train(&self, crystal: &CrystalData, mut on_epoch: impl FnMut(usize, f64)) -> Result<TracerCurve> {
        let exact = exact_tracer_correlation(crystal)?.f;
        // One species at rate 1 everywhere: every arrangement is the same state.
        let host = LatticeGas::fixed(vec![1.0], Composition::Counts(vec![crystal.num_sites() - 1]))
            .generate(crystal, 1, self.seed)?;
        let cfg = NetConfig { nl: self.nl, nch: self.nch, ncl: 1, num_species: 1, ..NetConfig::default() };
        let net = Gcnet::from_crystal_seeded(crystal, &cfg, gcnet_net::default_device(), self.seed as i64)?;
        let species = Species::new(&[0], 1, 2).map_err(gcnet_net::Error::from)?;
        let obj = Objective::tracer(species)?.over_all_jumps()?;
        let set = SampleSet::new(&host, vec![0], true, net.geometry(), 1);
        let l0 = batch::uncorrelated_l0(&net, &set, &obj);
        let f_of = |net: &Gcnet| eval::loss_sum(net, &set, &obj, 64) / l0;
        let z = crystal.z();
        let tcfg = TrainConfig {
            batch_size: z,
            micro_batch: z,
            learning_rate: self.learning_rate,
            decay: 0.0,
            ..TrainConfig::default()
        };
        let mut f = vec![f_of(&net)];
        Trainer::new(&net, tcfg).fit(&net, &set, &obj, &Schedule::epochs(0, self.epochs), &mut |net, e| {
            if let Event::Epoch(r) = e {
                f.push(f_of(net));
                on_epoch(r.epoch + 1, *f.last().expect("just pushed"));
            }
            Ok(())
        })?;
        Ok(TracerCurve { num_sites: crystal.num_sites(), exact, f })
    }
}
