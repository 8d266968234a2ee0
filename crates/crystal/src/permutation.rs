//! Permutations of indices (sites, jumps).

use std::ops::Mul;

use crate::error::{Error, Result};

/// A permutation of `0..n`, stored as the image of each index: `p[i]`.
///
/// [`Permutation::apply`] follows NumPy's fancy indexing: `apply(p, data)[i] = data[p[i]]`,
/// which is how `JumpSiteIndexPermutation` acts on a state in the crystal files.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Permutation(Vec<usize>);

impl Permutation {
    /// Checks that `images` is a bijection of `0..images.len()`.
    pub fn new(images: Vec<usize>) -> Result<Self> {
        let n = images.len();
        let mut seen = vec![false; n];
        for (i, &p) in images.iter().enumerate() {
            if p >= n {
                return Err(Error::NotAPermutation {
                    what: format!("index map of length {n}"),
                    reason: format!("entry {i} is {p}, out of range"),
                });
            }
            if std::mem::replace(&mut seen[p], true) {
                return Err(Error::NotAPermutation {
                    what: format!("index map of length {n}"),
                    reason: format!("{p} appears twice"),
                });
            }
        }
        Ok(Permutation(images))
    }

    pub fn identity(n: usize) -> Self {
        Permutation((0..n).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_identity(&self) -> bool {
        self.0.iter().enumerate().all(|(i, &p)| i == p)
    }

    /// The image of `i`.
    pub fn get(&self, i: usize) -> usize {
        self.0[i]
    }

    pub fn as_slice(&self) -> &[usize] {
        &self.0
    }

    /// `out[i] = data[self[i]]`.
    pub fn apply<T: Clone>(&self, data: &[T]) -> Vec<T> {
        assert_eq!(data.len(), self.0.len(), "permutation and data lengths differ");
        self.0.iter().map(|&p| data[p].clone()).collect()
    }

    pub fn inverse(&self) -> Self {
        let mut inv = vec![0; self.0.len()];
        for (i, &p) in self.0.iter().enumerate() {
            inv[p] = i;
        }
        Permutation(inv)
    }
}

impl Mul for &Permutation {
    type Output = Permutation;
    /// Composition of maps: `(p * q)[i] = p[q[i]]`, so that
    /// `q.apply(&p.apply(data)) == (p * q).apply(data)`.
    fn mul(self, rhs: &Permutation) -> Permutation {
        assert_eq!(self.len(), rhs.len(), "permutation lengths differ");
        Permutation(rhs.0.iter().map(|&q| self.0[q]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_bijections() {
        assert!(Permutation::new(vec![0, 0, 1]).is_err());
        assert!(Permutation::new(vec![0, 3, 1]).is_err());
        assert!(Permutation::new(vec![2, 0, 1]).is_ok());
    }

    #[test]
    fn apply_inverse_and_composition() {
        let p = Permutation::new(vec![2, 0, 1]).unwrap();
        let q = Permutation::new(vec![1, 2, 0]).unwrap();
        let data = ['a', 'b', 'c'];
        assert_eq!(p.apply(&data), vec!['c', 'a', 'b']);
        assert_eq!(p.inverse().apply(&p.apply(&data)), data.to_vec());
        assert_eq!(q.apply(&p.apply(&data)), (&p * &q).apply(&data));
        assert!((&p * &p.inverse()).is_identity());
    }
}
