//! The cubic point group m-3m (48 operations) of a cubic lattice.

use crate::lattice::Lattice;
use crate::rotation::Rotation;

/// The 48 operations of the cubic point group, in lattice coordinates of a given lattice.
/// Index 0 is the identity; the others follow in a fixed order (axis permutations in
/// lexicographic order, each with sign patterns +++ ... ---), which no result depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct PointGroup {
    ops: Vec<Rotation>,
}

impl PointGroup {
    /// All Cartesian signed permutation matrices, expressed in the lattice's coordinates.
    pub fn cubic(lattice: &Lattice) -> Self {
        const PERMS: [[usize; 3]; 6] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let mut ops = Vec::with_capacity(48);
        for perm in PERMS {
            for signs in 0..8u32 {
                let mut cart = [[0.0; 3]; 3];
                for (row, &col) in perm.iter().enumerate() {
                    cart[row][col] = if signs >> (2 - row) & 1 == 1 { -1.0 } else { 1.0 };
                }
                let op = Rotation::from_cartesian(&cart, lattice)
                    .expect("cubic operations map every cubic lattice onto itself");
                ops.push(op);
            }
        }
        PointGroup { ops }
    }

    /// The operations for which `keep` holds, in the same order (the identity stays first
    /// when it is kept).
    pub fn restricted(&self, keep: impl Fn(&Rotation) -> bool) -> Self {
        PointGroup { ops: self.ops.iter().copied().filter(|g| keep(g)).collect() }
    }

    /// Only the identity (used by the no-symmetry switch).
    pub fn trivial() -> Self {
        PointGroup { ops: vec![Rotation::identity()] }
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn operations(&self) -> &[Rotation] {
        &self.ops
    }

    pub fn get(&self, g: usize) -> Rotation {
        self.ops[g]
    }

    /// Index of an operation in this group.
    pub fn index_of(&self, op: &Rotation) -> Option<usize> {
        self.ops.iter().position(|o| o == op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lattice::{CellKind, LatticeKind};

    #[test]
    fn identity_first_and_48_distinct() {
        for kind in [LatticeKind::Fcc, LatticeKind::Bcc, LatticeKind::Sc] {
            let g = PointGroup::cubic(&Lattice::new(kind, CellKind::Primitive, 1.0));
            assert_eq!(g.len(), 48);
            assert_eq!(g.get(0), Rotation::identity());
            for i in 0..48 {
                for j in 0..i {
                    assert_ne!(g.get(i), g.get(j));
                }
            }
        }
    }
}
