//! The length unit of a data set: `SpecDisps` = a * dx_j, with the crystal's jump vectors
//! dx_j in units of its lattice parameter. The data's a (from its first sample, as the
//! published tools take it) decides how results are labelled and which `-a0` fits.

use gcnet_crystal::CrystalData;

use crate::dataset::Dataset;
use crate::error::{Error, Result};

/// The unit of the displacements, and so of L (length^2 x rate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthUnit {
    /// a = 1: the displacements are the crystal's jump vectors (`gcnet latgas`).
    LatticeParameter,
    /// Any other a: the displacements are lengths in Å (the published Cantor data and
    /// `gcnet neb`, where a is the lattice parameter in Å).
    Angstrom,
}

impl LengthUnit {
    /// The unit of data whose lattice parameter is `a`.
    pub fn of(a: f64) -> LengthUnit {
        if (a - 1.0).abs() <= 1e-6 { LengthUnit::LatticeParameter } else { LengthUnit::Angstrom }
    }

    /// "a0" or "Å".
    pub fn symbol(self) -> &'static str {
        match self {
            LengthUnit::LatticeParameter => "a0",
            LengthUnit::Angstrom => "Å",
        }
    }

    /// The unit of a transport coefficient per vacancy: "a0^2 x rate" or "Å^2 x rate".
    pub fn transport(self) -> String {
        format!("{}^2 x rate", self.symbol())
    }
}

/// The lattice parameter a of the data: |SpecDisps[0, l]| / |dx_j| for the jump j of the
/// first sample, l the vacancy (or, without one given, the label that moved farthest: the
/// vacancy and the atom it exchanged with both move by a |dx_j|).
pub fn lattice_parameter(data: &Dataset, crystal: &CrystalData, vacancy: Option<usize>) -> Result<f64> {
    let bad = |reason: String| Error::Config(format!("cannot tell the data's lattice parameter: {reason}"));
    if data.is_empty() {
        return Err(bad("the data set has no samples".into()));
    }
    let j = data.jump_selects[0];
    let z = crystal.z();
    let Some(j) = usize::try_from(j).ok().filter(|&j| j < z) else {
        return Err(bad(format!("JumpSelects[0] = {j} is not a jump of the crystal (z = {z})")));
    };
    let norm = |x: [f64; 3]| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let moved = |l: usize| norm([0, 1, 2].map(|c| data.spec_disps[[0, l, c]]));
    let found = match vacancy {
        Some(v) if v < data.num_labels() => moved(v),
        Some(v) => return Err(bad(format!("the vacancy label {v} is not one of the data's labels"))),
        None => (0..data.num_labels()).map(moved).fold(0.0, f64::max),
    };
    Ok(found / norm(crystal.jump_vector(j)))
}

/// Refuses a lattice parameter `a0` that the data's displacements contradict: jump j of
/// the first sample must move the vacancy by a0 |dx_j| (to 1e-6).
pub fn check_lattice_parameter(data: &Dataset, crystal: &CrystalData, vacancy: usize, a0: f64) -> Result<()> {
    if !(a0.is_finite() && a0 > 0.0) {
        return Err(Error::Config(format!("the lattice parameter a0 must be positive, got {a0}")));
    }
    if data.is_empty() {
        return Ok(());
    }
    let a = lattice_parameter(data, crystal, Some(vacancy))?;
    if (a - a0).abs() > 1e-6 * a0 {
        // 13 significant digits: 3.595, not 3.5950000000000006.
        let a: f64 = format!("{a:.12e}").parse().expect("a formatted float parses");
        let j = data.jump_selects[0] as usize;
        let dx = crystal.jump_vector(j).iter().map(|x| x * x).sum::<f64>().sqrt();
        return Err(Error::Config(format!(
            "SpecDisps[0, vacancy] has length {}, but a0 * |dx| = {}: the data's lattice parameter is a0 = {a} \
             (or the vacancy label is wrong)",
            a * dx,
            a0 * dx
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use gcnet_crystal::{CellKind, Crystal, LatticeKind};

    use super::*;
    use crate::LatticeGas;

    #[test]
    fn the_unit_and_lattice_parameter_come_from_the_displacements() {
        let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 4).unwrap());
        for (a, unit) in [(1.0, LengthUnit::LatticeParameter), (3.595, LengthUnit::Angstrom)] {
            let gas = LatticeGas { lattice_parameter: a, ..LatticeGas::sr2(0.5) };
            let data = gas.generate(&crystal, 20, 1).unwrap();
            for vacancy in [Some(2), None] {
                let found = lattice_parameter(&data, &crystal, vacancy).unwrap();
                assert!((found - a).abs() < 1e-12, "{found} vs {a}");
                assert_eq!(LengthUnit::of(found), unit);
            }
            check_lattice_parameter(&data, &crystal, 2, a).unwrap();
            let e = check_lattice_parameter(&data, &crystal, 2, 2.0 * a).unwrap_err().to_string();
            assert!(e.contains(&format!("the data's lattice parameter is a0 = {a}")), "{e}");
        }
        assert_eq!(LengthUnit::Angstrom.transport(), "Å^2 x rate");
        assert_eq!(LengthUnit::LatticeParameter.transport(), "a0^2 x rate");
    }
}
