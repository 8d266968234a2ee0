//! The species set S of a transport coefficient (SPEC section 5) and the label the
//! scaled residual bias expands (SPEC section 7).

use ndarray::{Array2, ArrayView3};

use crate::error::{Error, Result};

/// The species whose transport coefficient is computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeciesSet {
    /// Labels of S, sorted, without repeats.
    labels: Vec<usize>,
    /// The vacancy label v.
    vacancy: usize,
}

impl SpeciesSet {
    /// `labels`: S (order-free); S = {v} selects the vacancy, otherwise S must not contain
    /// v. `num_labels`: labels in the data, vacancy included.
    pub fn new(labels: &[usize], vacancy: usize, num_labels: usize) -> Result<Self> {
        let mut sorted = labels.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.is_empty() {
            return Err(Error::Species("the species set S is empty".into()));
        }
        if vacancy >= num_labels {
            return Err(Error::Species(format!(
                "vacancy label {vacancy} is not one of the data's labels {}",
                gcnet_data::label_range(num_labels)
            )));
        }
        if let Some(bad) = sorted.iter().find(|&&l| l >= num_labels) {
            return Err(Error::Species(format!(
                "label {bad} is not one of the data's labels {}",
                gcnet_data::label_range(num_labels)
            )));
        }
        if sorted.len() > 1 && sorted.contains(&vacancy) {
            return Err(Error::Species(format!(
                "S = {sorted:?} mixes the vacancy label {vacancy} with atoms; the vacancy can only be selected alone"
            )));
        }
        Ok(SpeciesSet { labels: sorted, vacancy })
    }

    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    pub fn vacancy(&self) -> usize {
        self.vacancy
    }

    /// Whether S = {v}.
    pub fn is_vacancy(&self) -> bool {
        self.labels == [self.vacancy]
    }

    /// The label e whose basis vector carries the residual: the single label of S, or
    /// for several labels the smallest. When every label is in the basis the corrected L
    /// does not depend on this choice: the basis vectors of all labels sum to the residual
    /// term alone, so their span is that of the plain biases plus the residual.
    pub fn expanded(&self) -> usize {
        self.labels[0]
    }

    /// `dx_n` (N,3): `SpecDisps[n, v]` if S = {v}, else the sum over S.
    pub fn displacements(&self, spec_disps: ArrayView3<'_, f64>) -> Array2<f64> {
        let n = spec_disps.shape()[0];
        Array2::from_shape_fn((n, 3), |(i, c)| self.labels.iter().map(|&l| spec_disps[[i, l, c]]).sum())
    }
}

/// Parses the published spelling of S: a string of single-digit labels ("1", "12"), or
/// labels separated by commas ("1,2", "10,11").
pub fn parse_species(text: &str) -> Result<Vec<usize>> {
    let bad = || Error::Species(format!("cannot read species labels from `{text}` (write e.g. 1, 12 or 1,2)"));
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    if text.contains(',') {
        text.split(',').map(|t| t.trim().parse::<usize>().map_err(|_| bad())).collect()
    } else {
        text.chars().map(|c| c.to_digit(10).map(|d| d as usize).ok_or_else(bad)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    #[test]
    fn parses_published_and_comma_spellings() {
        assert_eq!(parse_species("1").unwrap(), [1]);
        assert_eq!(parse_species("21").unwrap(), [2, 1]);
        assert_eq!(parse_species("10,11").unwrap(), [10, 11]);
        assert!(parse_species("a").is_err());
        assert!(parse_species("").is_err());
    }

    #[test]
    fn displacements_follow_spec_section_5() {
        let disps = Array3::from_shape_fn((1, 3, 3), |(_, l, c)| (10 * l + c) as f64);
        let vac = SpeciesSet::new(&[0], 0, 3).unwrap();
        assert!(vac.is_vacancy());
        assert_eq!(vac.displacements(disps.view()).row(0).to_vec(), [0.0, 1.0, 2.0]);
        let atoms = SpeciesSet::new(&[2, 1], 0, 3).unwrap();
        assert_eq!(atoms.expanded(), 1);
        assert_eq!(atoms.displacements(disps.view()).row(0).to_vec(), [30.0, 32.0, 34.0]);
        assert!(SpeciesSet::new(&[0, 1], 0, 3).is_err());
        assert!(SpeciesSet::new(&[3], 0, 3).is_err());
    }
}
