//! The end-state check (SPEC section 8): the final state of each jump (the neighbour's atom
//! on the vacancy's site, every other atom on its ideal site) is relaxed on its own with
//! the NEB's FIRE settings; the largest distance an atom moves tells whether the jump stays
//! on the lattice.

use crate::error::{Error, Result};
use crate::neb::{NebInput, SETUP};
use crate::session::Session;

/// Iteration and force-evaluation limits of one end-state relaxation.
pub const RELAX_MAX_ITERATIONS: usize = 10_000;
pub const RELAX_MAX_EVALUATIONS: usize = 100_000;

/// One relaxed end state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EndState {
    /// Potential energy after relaxing (eV).
    pub energy: f64,
    /// Largest distance any atom moved from its starting (ideal) position (Å).
    pub max_displacement: f64,
    /// Minimiser iterations.
    pub iterations: usize,
}

impl NebInput<'_> {
    /// Relaxes the end state of every jump of the state `labels` (vacancy on `vacancy`)
    /// in `session`. `what` names the state in errors.
    pub fn relax_end_states(
        &self,
        session: &mut Session,
        labels: &[u8],
        vacancy: usize,
        what: &str,
    ) -> Result<Vec<EndState>> {
        (0..self.geometry.z())
            .map(|jump| {
                let t = self.geometry.neighbour(vacancy, jump);
                let path = session.dir().join(format!("end_{jump}.data"));
                let text = self.geometry.data_file(labels, self.elements.len(), Some((t, vacancy)));
                std::fs::write(&path, text).map_err(Error::io(&path, "write the LAMMPS input"))?;
                let task = format!("{what}, jump {jump} (end-state relaxation)");
                let lines = session.run(&self.relax_commands(&format!("end_{jump}.data")), &task)?;
                parse_relax(&lines).ok_or_else(|| Error::Lammps {
                    what: task,
                    message: "no result line after the minimisation".into(),
                    dir: session.dir().to_path_buf(),
                })
            })
            .collect()
    }

    /// Commands that relax the structure of `data` and print the result line.
    pub(crate) fn relax_commands(&self, data: &str) -> String {
        let s = self.settings;
        format!(
            "clear\n{SETUP}read_data {data}\n{pair}{fire}compute dsp all displace/atom\ncompute dmax all reduce max c_dsp[4]\nthermo_style custom step pe fmax c_dmax\nthermo 1000\nminimize {etol} {ftol} {RELAX_MAX_ITERATIONS} {RELAX_MAX_EVALUATIONS}\nprint \"GCNET_RELAX $(step) $(pe:%.17g) $(c_dmax:%.17g)\"",
            pair = self.potential.pair_lines(self.elements),
            fire = s.fire_lines(),
            etol = s.energy_tol,
            ftol = s.force_tol,
        )
    }
}

fn parse_relax(lines: &[String]) -> Option<EndState> {
    let line = lines.iter().rev().find_map(|l| l.strip_prefix("GCNET_RELAX "))?;
    let mut w = line.split_whitespace();
    let iterations = w.next()?.parse::<f64>().ok()? as usize;
    let energy = w.next()?.parse().ok()?;
    let max_displacement = w.next()?.parse().ok()?;
    Some(EndState { energy, max_displacement, iterations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines() {
        let lines = vec!["Loop time ...".to_string(), "GCNET_RELAX 31 -472.089342914804 0.015351719326223812".into()];
        let r = parse_relax(&lines).unwrap();
        assert_eq!((r.iterations, r.energy, r.max_displacement), (31, -472.089342914804, 0.015351719326223812));
        assert!(parse_relax(&["nothing".to_string()]).is_none());
    }
}
