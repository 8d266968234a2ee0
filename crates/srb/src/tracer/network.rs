//! The vacancy-relative-to-tracer Markov chain on a periodic supercell.

use gcnet_crystal::CrystalData;

use crate::error::{Error, Result};

/// One vacancy jump in the tracer frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracerTransition {
    /// Vacancy site before the jump (the tracer is on site 0).
    pub from: usize,
    /// Vacancy site after the jump, translated back so that the tracer is on site 0.
    pub to: usize,
    /// Tracer displacement in the jump, Cartesian, lattice parameter 1: `-dx_k` when the
    /// vacancy exchanges with the tracer by jump `k`, else zero.
    pub tracer_displacement: [f64; 3],
}

/// Every state (vacancy site 1..Nsites; the tracer sits on site 0) and every jump out of
/// it, all at rate 1.
///
/// A vacancy on site `s` taking jump `k` lands on `t = neighbour(s, k)`. If `t` is the
/// tracer's site 0, the two exchange: the tracer moves by `-dx_k` to `s`, the vacancy
/// ends on site 0, and translating by `-x_s = dx_k` puts the tracer back on site 0 and
/// the vacancy on `neighbour(0, k)`. Works for any supercell of a Bravais lattice (every
/// site is a lattice translation of site 0).
#[derive(Clone, Debug)]
pub struct TracerNetwork {
    num_sites: usize,
    z: usize,
    /// Jump length |dx| (lattice parameter 1).
    jump_length: f64,
    /// Row-major (state, jump): transition `(s - 1) * z + k` leaves vacancy site `s`.
    transitions: Vec<TracerTransition>,
}

impl TracerNetwork {
    pub fn new(crystal: &CrystalData) -> Result<Self> {
        let num_sites = crystal.num_sites();
        if num_sites < 2 {
            return Err(Error::CellTooSmall(num_sites));
        }
        let z = crystal.z();
        let mut transitions = Vec::with_capacity((num_sites - 1) * z);
        for from in 1..num_sites {
            for k in 0..z {
                let t = crystal.neighbour(from, k);
                transitions.push(if t == 0 {
                    TracerTransition {
                        from,
                        to: crystal.neighbour(0, k),
                        tracer_displacement: crystal.jump_vector(k).map(|x| -x),
                    }
                } else {
                    TracerTransition { from, to: t, tracer_displacement: [0.0; 3] }
                });
            }
        }
        let d = crystal.jump_vector(0);
        let jump_length = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        Ok(TracerNetwork { num_sites, z, jump_length, transitions })
    }

    /// Sites of the supercell (the states are the `num_sites - 1` vacancy sites `1..`).
    pub fn num_sites(&self) -> usize {
        self.num_sites
    }

    pub fn num_states(&self) -> usize {
        self.num_sites - 1
    }

    /// Jumps out of every state (coordination number z).
    pub fn z(&self) -> usize {
        self.z
    }

    /// Nearest-neighbour distance, lattice parameter 1.
    pub fn jump_length(&self) -> f64 {
        self.jump_length
    }

    /// All `num_states * z` transitions, state-major.
    pub fn transitions(&self) -> &[TracerTransition] {
        &self.transitions
    }

    /// Jump `k` out of the state with the vacancy on site `from` (`from >= 1`).
    pub fn transition(&self, from: usize, k: usize) -> &TracerTransition {
        &self.transitions[(from - 1) * self.z + k]
    }
}

#[cfg(test)]
mod tests {
    use gcnet_crystal::{CellKind, Crystal, LatticeKind};

    use super::*;

    #[test]
    fn every_transition_has_its_reverse() {
        for kind in [LatticeKind::Fcc, LatticeKind::Bcc, LatticeKind::Sc] {
            let data = CrystalData::from_crystal(&Crystal::cube(kind, CellKind::Primitive, 3).unwrap());
            let network = TracerNetwork::new(&data).unwrap();
            assert_eq!(network.transitions().len(), network.num_states() * network.z());
            let mut exchanges = 0;
            for t in network.transitions() {
                assert_ne!(t.to, 0, "the vacancy never lands on the tracer");
                let back = t.tracer_displacement.map(|x| -x);
                assert!(
                    network
                        .transitions()
                        .iter()
                        .any(|r| r.from == t.to && r.to == t.from && r.tracer_displacement == back),
                    "{kind}: no reverse of {t:?}"
                );
                exchanges += usize::from(t.tracer_displacement != [0.0; 3]);
            }
            // One exchange per neighbour of the tracer.
            assert_eq!(exchanges, network.z());
        }
    }
}
