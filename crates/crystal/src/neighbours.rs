//! Neighbour shells and the ordered nearest-neighbour jump vectors.

use crate::lattice::{CellKind, Lattice, LatticeKind};
use crate::rotation::inverse_f64;

/// Nearest-neighbour jump vectors as Cartesian coordinates doubled (lattice parameter 1),
/// in the order of the published crystal files for FCC (SPEC section 2); BCC and SC use
/// the order below (opposite jumps adjacent), which is this project's choice.
fn jump_order_doubled_cartesian(kind: LatticeKind, cell: CellKind) -> Vec<[i64; 3]> {
    match (kind, cell) {
        (LatticeKind::Fcc, CellKind::Primitive) => vec![
            [0, -1, 1],
            [0, 1, -1],
            [1, 0, -1],
            [-1, 0, 1],
            [0, -1, -1],
            [0, 1, 1],
            [-1, -1, 0],
            [1, 1, 0],
            [1, 0, 1],
            [-1, 0, -1],
            [1, -1, 0],
            [-1, 1, 0],
        ],
        (LatticeKind::Fcc, CellKind::Cubic) => vec![
            [0, -1, -1],
            [0, 1, 1],
            [0, -1, 1],
            [0, 1, -1],
            [-1, -1, 0],
            [1, 1, 0],
            [-1, 0, 1],
            [1, 0, -1],
            [-1, 0, -1],
            [1, 0, 1],
            [1, -1, 0],
            [-1, 1, 0],
        ],
        (LatticeKind::Bcc, _) => {
            vec![[1, 1, 1], [-1, -1, -1], [-1, 1, 1], [1, -1, -1], [1, -1, 1], [-1, 1, -1], [1, 1, -1], [-1, -1, 1]]
        }
        (LatticeKind::Sc, _) => vec![[2, 0, 0], [-2, 0, 0], [0, 2, 0], [0, -2, 0], [0, 0, 2], [0, 0, -2]],
    }
}

/// Doubled lattice coordinates of a point given in doubled Cartesian coordinates
/// (lattice parameter 1): `d = M^-1 x_doubled`.
fn doubled_cartesian_to_lattice(lattice: &Lattice, x: [i64; 3]) -> [i64; 3] {
    let minv = inverse_f64(&lattice.cell_columns());
    [0, 1, 2].map(|r| {
        let v: f64 = (0..3).map(|c| minv[r][c] * x[c] as f64).sum();
        let rounded = v.round();
        assert!((v - rounded).abs() < 1e-9, "jump vector is not a lattice vector");
        rounded as i64
    })
}

/// The nearest-neighbour jump vectors of the lattice in doubled lattice coordinates, in
/// the fixed order of the crystal files.
pub fn nearest_jumps(lattice: &Lattice) -> Vec<[i64; 3]> {
    jump_order_doubled_cartesian(lattice.kind(), lattice.cell())
        .into_iter()
        .map(|x| doubled_cartesian_to_lattice(lattice, x))
        .collect()
}

/// The first `count` neighbour shells of a site at the origin: vectors (doubled lattice
/// coordinates) to all sites at each distance, shells by increasing distance, vectors in
/// each shell sorted lexicographically by Cartesian coordinates.
pub fn neighbour_shells(lattice: &Lattice, count: usize) -> Vec<Vec<[i64; 3]>> {
    // Every shell up to the `count`-th lies within this many cells for cubic lattices.
    let reach = 2 + count as i64;
    let mut vectors: Vec<(f64, [i64; 3])> = Vec::new();
    for i in -reach..=reach {
        for j in -reach..=reach {
            for k in -reach..=reach {
                for b in lattice.basis_doubled() {
                    let d = [2 * i + b[0], 2 * j + b[1], 2 * k + b[2]];
                    if d == [0, 0, 0] {
                        continue;
                    }
                    let x = lattice.cartesian(d);
                    let r2 = x.iter().map(|v| v * v).sum::<f64>() / (lattice.parameter() * lattice.parameter());
                    vectors.push((r2, d));
                }
            }
        }
    }
    vectors.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut shells: Vec<(f64, Vec<[i64; 3]>)> = Vec::new();
    for (r2, d) in vectors {
        if let Some((last, shell)) = shells.last_mut()
            && (r2 - *last).abs() < 1e-9
        {
            shell.push(d);
            continue;
        }
        if shells.len() == count {
            break;
        }
        shells.push((r2, vec![d]));
    }
    shells
        .into_iter()
        .map(|(_, mut shell)| {
            shell.sort_by(|a, b| {
                let (xa, xb) = (lattice.cartesian(*a), lattice.cartesian(*b));
                xa.partial_cmp(&xb).expect("finite coordinates")
            });
            shell
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_sizes() {
        let expect = [(LatticeKind::Fcc, [12, 6, 24]), (LatticeKind::Bcc, [8, 6, 12]), (LatticeKind::Sc, [6, 12, 8])];
        for (kind, sizes) in expect {
            for cell in [CellKind::Primitive, CellKind::Cubic] {
                let shells = neighbour_shells(&Lattice::new(kind, cell, 1.0), 3);
                let got: Vec<usize> = shells.iter().map(Vec::len).collect();
                assert_eq!(got, sizes.to_vec(), "{kind} {cell}");
            }
        }
    }

    #[test]
    fn ordered_jumps_are_the_first_shell() {
        for kind in [LatticeKind::Fcc, LatticeKind::Bcc, LatticeKind::Sc] {
            for cell in [CellKind::Primitive, CellKind::Cubic] {
                let lat = Lattice::new(kind, cell, 1.0);
                let mut jumps = nearest_jumps(&lat);
                let mut shell = neighbour_shells(&lat, 1).remove(0);
                jumps.sort();
                shell.sort();
                assert_eq!(jumps, shell, "{kind} {cell}");
            }
        }
    }
}
