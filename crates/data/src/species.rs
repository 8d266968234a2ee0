//! The species set S of a transport coefficient and the vacancy label v (SPEC section 5),
//! one type for every crate that selects species: the network's objective (`gcnet -sp
//! -vSp`) and the scaled residual bias (`gcnet srb --species --vacancy`).

use ndarray::{Array2, ArrayView2, ArrayView3};

use crate::dataset::label_range;

/// A label as the callers spell it: the data's `i8` states, or a `usize` index into
/// `SpecDisps`.
pub trait Label: Copy {
    fn to_i64(self) -> i64;
}

macro_rules! labels {
    ($($t:ty),*) => { $(impl Label for $t { fn to_i64(self) -> i64 { self as i64 } })* };
}
labels!(i8, u8, i32, i64, usize);

/// Why a species set does not fit the data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpeciesError {
    #[error("no species to train")]
    Empty,

    #[error("species label {label} is not one of the data's labels {}", label_range(*num_labels))]
    UnknownLabel { label: i64, num_labels: usize },

    #[error("the species set mixes the vacancy label {vacancy} with atom labels")]
    MixedVacancy { vacancy: usize },

    #[error(
        "the {} label {label} occurs on no site of the {states} training states (the labels that occur: {})",
        if *vacancy { "vacancy" } else { "species" },
        occurring.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
    )]
    AbsentLabel { label: usize, vacancy: bool, states: usize, occurring: Vec<i8> },
}

/// The species set S whose transport coefficient is computed, and the vacancy label v.
/// S = {v} selects the vacancy; otherwise S holds atom labels only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeciesSet {
    /// Labels of S, sorted, without repeats.
    labels: Vec<usize>,
    vacancy: usize,
    /// Labels in the data, vacancy included.
    num_labels: usize,
}

impl SpeciesSet {
    /// `labels`: S in any order; `num_labels`: labels in the data (`SpecDisps`), vacancy
    /// included. Every label, the vacancy's too, must be one of the data's.
    pub fn new<L: Label>(labels: &[L], vacancy: L, num_labels: usize) -> Result<Self, SpeciesError> {
        let in_range = |l: i64| (0..num_labels as i64).contains(&l);
        let mut sorted: Vec<i64> = labels.iter().map(|l| l.to_i64()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.is_empty() {
            return Err(SpeciesError::Empty);
        }
        if let Some(&label) = sorted.iter().chain([&vacancy.to_i64()]).find(|&&l| !in_range(l)) {
            return Err(SpeciesError::UnknownLabel { label, num_labels });
        }
        let (labels, vacancy): (Vec<usize>, usize) =
            (sorted.into_iter().map(|l| l as usize).collect(), vacancy.to_i64() as usize);
        if labels.len() > 1 && labels.contains(&vacancy) {
            return Err(SpeciesError::MixedVacancy { vacancy });
        }
        Ok(SpeciesSet { labels, vacancy, num_labels })
    }

    /// The labels of S, ascending.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    pub fn vacancy(&self) -> usize {
        self.vacancy
    }

    /// The vacancy label as the states hold it.
    pub fn vacancy_label(&self) -> i8 {
        self.vacancy as i8
    }

    pub fn num_labels(&self) -> usize {
        self.num_labels
    }

    /// S = {v}.
    pub fn is_vacancy(&self) -> bool {
        self.labels == [self.vacancy]
    }

    pub fn contains(&self, label: usize) -> bool {
        self.labels.contains(&label)
    }

    /// Whether a site holding `label` (a state's entry) belongs to S.
    pub fn holds(&self, label: i8) -> bool {
        label >= 0 && self.contains(label as usize)
    }

    /// "vac", or the sorted labels joined (the published file and directory names).
    pub fn name(&self) -> String {
        if self.is_vacancy() { "vac".into() } else { self.labels.iter().map(|l| l.to_string()).collect() }
    }

    /// Input channels of the network: the atom labels (every label but the vacancy).
    pub fn num_channels(&self) -> usize {
        self.num_labels - 1
    }

    /// The label e whose basis vector carries the residual in the scaled residual bias:
    /// the single label of S, or for several labels the smallest. When every label is in
    /// the basis the corrected L does not depend on this choice (the basis vectors of all
    /// labels sum to the residual term alone).
    pub fn expanded(&self) -> usize {
        self.labels[0]
    }

    /// `dx_n` (N, 3): `SpecDisps[n, v]` if S = {v}, else the sum over S.
    pub fn displacements(&self, spec_disps: ArrayView3<'_, f64>) -> Array2<f64> {
        let n = spec_disps.shape()[0];
        Array2::from_shape_fn((n, 3), |(i, c)| self.labels.iter().map(|&l| spec_disps[[i, l, c]]).sum())
    }

    /// Refuses a label of S, or the vacancy, that occurs on no site of the states `rows`
    /// of `states`: training on it gives loss 0 and L = 0, which would read as a result.
    /// The error names the labels that do occur.
    pub fn check_present(&self, states: ArrayView2<'_, i8>, rows: &[usize]) -> Result<(), SpeciesError> {
        let needed: Vec<usize> = self.labels.iter().copied().chain([self.vacancy]).collect();
        let mut seen = [false; 256];
        for &r in rows {
            states.row(r).iter().for_each(|&l| seen[l as u8 as usize] = true);
            if needed.iter().all(|&l| seen[l]) {
                return Ok(());
            }
        }
        let label = *needed.iter().find(|&&l| !seen[l]).expect("one label is missing");
        let occurring = (0..=255u8).filter(|&l| seen[l as usize]).map(|l| l as i8).collect();
        Err(SpeciesError::AbsentLabel { label, vacancy: label == self.vacancy, states: rows.len(), occurring })
    }
}

/// Reads the published spelling of S: a string of single-digit labels ("1", "12"), or
/// labels separated by commas ("1,2", "10,11"). `None` when the text is neither.
pub fn parse_labels(text: &str) -> Option<Vec<usize>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.contains(',') {
        text.split(',').map(|t| t.trim().parse::<usize>().ok()).collect()
    } else {
        text.chars().map(|c| c.to_digit(10).map(|d| d as usize)).collect()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Array3};

    use super::*;

    #[test]
    fn parses_published_and_comma_spellings() {
        assert_eq!(parse_labels("1").unwrap(), [1]);
        assert_eq!(parse_labels("21").unwrap(), [2, 1]);
        assert_eq!(parse_labels("10,11").unwrap(), [10, 11]);
        assert!(parse_labels("a").is_none() && parse_labels("").is_none());
    }

    #[test]
    fn sets_follow_spec_section_5() {
        let disps = Array3::from_shape_fn((1, 3, 3), |(_, l, c)| (10 * l + c) as f64);
        let vac = SpeciesSet::new(&[0usize], 0, 3).unwrap();
        assert!(vac.is_vacancy() && vac.name() == "vac");
        assert_eq!(vac.displacements(disps.view()).row(0).to_vec(), [0.0, 1.0, 2.0]);
        let atoms = SpeciesSet::new(&[2i8, 1], 0, 3).unwrap();
        assert_eq!((atoms.expanded(), atoms.name(), atoms.num_channels()), (1, "12".to_string(), 2));
        assert_eq!(atoms.displacements(disps.view()).row(0).to_vec(), [30.0, 32.0, 34.0]);
        assert_eq!(SpeciesSet::new(&[0, 1], 0, 3), Err(SpeciesError::MixedVacancy { vacancy: 0 }));
        let e = SpeciesSet::new(&[3], 0, 3).unwrap_err().to_string();
        assert_eq!(e, "species label 3 is not one of the data's labels 0..2");
        assert!(SpeciesSet::new(&[1i8], -1, 3).is_err() && SpeciesSet::new::<i8>(&[], 0, 3).is_err());
    }

    #[test]
    fn an_absent_label_is_named_with_the_labels_that_occur() {
        let states = Array2::from_shape_vec((2, 3), vec![2i8, 1, 1, 2, 1, 1]).unwrap();
        let e = SpeciesSet::new(&[0], 2, 3).unwrap().check_present(states.view(), &[0, 1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the species label 0 occurs on no site of the 2 training states (the labels that occur: 1, 2)"
        );
        assert!(SpeciesSet::new(&[1], 2, 3).unwrap().check_present(states.view(), &[1]).is_ok());
    }
}
