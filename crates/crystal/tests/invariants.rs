//! Symmetry and jump-network invariants of generated crystals, for every lattice and
//! cell kind (issue 2, section 3).

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind, Permutation, Rotation};

/// Small but complete cells of every kind: each keeps the full cubic group.
fn crystals() -> Vec<Crystal> {
    let mut out = Vec::new();
    for kind in [LatticeKind::Fcc, LatticeKind::Bcc, LatticeKind::Sc] {
        out.push(Crystal::cube(kind, CellKind::Primitive, 4).unwrap());
        out.push(Crystal::cube(kind, CellKind::Cubic, 3).unwrap());
    }
    out
}

fn name(c: &Crystal) -> String {
    format!("{} {} ({} sites)", c.lattice().kind(), c.lattice().cell(), c.num_sites())
}

#[test]
fn group_is_closed_and_has_inverses() {
    for c in crystals() {
        let ops = c.group().operations();
        assert_eq!(ops.len(), 48, "{}", name(&c));
        assert_eq!(ops[0], Rotation::identity(), "{}: identity first", name(&c));
        for a in ops {
            assert!(c.group().index_of(&a.inverse()).is_some(), "{}: inverse of {a:?} missing", name(&c));
            assert_eq!(*a * a.inverse(), Rotation::identity());
            for b in ops {
                assert!(c.group().index_of(&(*a * *b)).is_some(), "{}: {a:?} * {b:?} not in group", name(&c));
            }
        }
    }
}

#[test]
fn cartesian_rotations_are_orthogonal_and_compose_like_the_integer_ones() {
    for c in crystals() {
        let lat = c.lattice();
        for a in c.group().operations() {
            let ra = a.cartesian(lat);
            for i in 0..3 {
                for j in 0..3 {
                    let dot: f64 = (0..3).map(|k| ra[k][i] * ra[k][j]).sum();
                    assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
                }
            }
            assert_eq!(Rotation::from_cartesian(&ra, lat), Some(*a));
        }
    }
}

#[test]
fn every_permutation_is_a_bijection() {
    for c in crystals() {
        let data = CrystalData::from_crystal(&c);
        let n = c.num_sites();
        for j in 0..c.z() {
            let row: Vec<usize> = data.jump_site_permutation().row(j).iter().map(|&x| x as usize).collect();
            assert!(Permutation::new(row).is_ok(), "{}: jump {j}", name(&c));
            assert_eq!(data.jump_site_permutation()[[j, 0]], 0);
        }
        for k in 0..=c.z() {
            let row: Vec<usize> = data.nn_sites().row(k).iter().map(|&x| x as usize).collect();
            assert!(Permutation::new(row).is_ok(), "{}: neighbour row {k} is not a bijection", name(&c));
        }
        for g in 0..48 {
            let row: Vec<usize> = data.group_nn_permutation().row(g).iter().map(|&x| x as usize).collect();
            assert!(Permutation::new(row).is_ok(), "{}: GroupNNPermutation row {g}", name(&c));
        }
        let perms = c.group_site_permutations();
        assert_eq!(perms.len(), 48);
        for p in &perms {
            assert_eq!(p.len(), n);
            assert_eq!(p.get(0), 0, "operations act about site 0");
        }
        // The file's Cartesian description gives the same site permutations.
        assert_eq!(data.group_site_permutations().unwrap(), perms, "{}", name(&c));
    }
}

#[test]
fn neighbour_table_pairs_each_jump_with_its_opposite() {
    for c in crystals() {
        for k in 0..c.z() {
            let back = c.opposite_jump(k);
            let (a, b) = (c.jump_cartesian(k), c.jump_cartesian(back));
            assert!((0..3).all(|i| (a[i] + b[i]).abs() < 1e-12));
            for s in 0..c.num_sites() {
                assert_eq!(c.neighbour(c.neighbour(s, k), back), s, "{}: site {s} jump {k}", name(&c));
            }
        }
    }
}

#[test]
fn a_jump_followed_by_its_opposite_restores_every_site() {
    for c in crystals() {
        let n = c.num_sites();
        // Distinct labels on every site, so any misplaced occupant shows.
        let state: Vec<usize> = (0..n).collect();
        for j in 0..c.z() {
            let after = c.jump_site_permutation(j).apply(&state);
            assert_eq!(after[0], 0, "the vacancy is back on site 0");
            assert_eq!(after[c.neighbour(0, c.opposite_jump(j))], c.neighbour(0, j), "the exchanged atom sits behind");
            let restored = c.jump_site_permutation(c.opposite_jump(j)).apply(&after);
            assert_eq!(restored, state, "{}: jump {j}", name(&c));
        }
    }
}

#[test]
fn group_nn_permutation_rotates_jumps_by_the_inverse_operation() {
    for c in crystals() {
        let data = CrystalData::from_crystal(&c);
        for g in 0..48 {
            let r = data.group_rotation(g);
            assert_eq!(data.group_nn_permutation()[[g, 0]], 0);
            for k in 1..=c.z() {
                let dx = data.jump_vector(k - 1);
                // g^-1 = R^T for an orthogonal rotation.
                let rotated: Vec<f64> = (0..3).map(|i| (0..3).map(|m| r[m][i] * dx[m]).sum()).collect();
                let kp = data.group_nn_permutation()[[g, k]] as usize;
                let target = data.jump_vector(kp - 1);
                assert!((0..3).all(|i| (rotated[i] - target[i]).abs() < 1e-12), "{}: g {g} k {k}", name(&c));
            }
        }
    }
}

#[test]
fn group_permutations_map_neighbours_to_neighbours() {
    for c in crystals() {
        let data = CrystalData::from_crystal(&c);
        for (g, p) in c.group_site_permutations().iter().enumerate() {
            let r = data.group_rotation(g);
            for k in 0..c.z() {
                let dx = data.jump_vector(k);
                let rdx: Vec<f64> = (0..3).map(|i| (0..3).map(|m| r[i][m] * dx[m]).sum()).collect();
                let kp = (0..c.z())
                    .find(|&q| (0..3).all(|i| (data.jump_vector(q)[i] - rdx[i]).abs() < 1e-12))
                    .expect("a rotated jump is a jump");
                for s in 0..c.num_sites() {
                    assert_eq!(p.get(c.neighbour(s, k)), c.neighbour(p.get(s), kp), "{}: g {g}", name(&c));
                }
            }
        }
    }
}

#[test]
fn coordination_numbers() {
    for (kind, z, z2) in [(LatticeKind::Fcc, 12, 6), (LatticeKind::Bcc, 8, 6), (LatticeKind::Sc, 6, 12)] {
        for cell in [CellKind::Primitive, CellKind::Cubic] {
            let c = Crystal::cube(kind, cell, 3).unwrap();
            assert_eq!(c.z(), z, "{kind} {cell}");
            let shells = c.neighbour_shells(2);
            assert_eq!(shells[0].len(), z);
            assert_eq!(shells[1].len(), z2, "second shell of {kind}");
        }
    }
}

#[test]
fn published_fcc_neighbours_of_site_zero() {
    let c = Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, 8).unwrap();
    let got: Vec<usize> = (0..12).map(|k| c.neighbour(0, k)).collect();
    assert_eq!(got, [15, 57, 449, 71, 448, 64, 7, 1, 8, 56, 456, 120]);
    // Site index = N*N*i + N*j + k.
    let sc = c.supercell();
    for s in [0, 1, 8, 64, 511] {
        let r = sc.site_cell(s);
        assert_eq!(s as i64, 64 * r[0] + 8 * r[1] + r[2]);
    }
}

#[test]
fn cubic_cell_jump_order_is_the_published_one() {
    let c = Crystal::cube(LatticeKind::Fcc, CellKind::Cubic, 5).unwrap();
    assert_eq!(c.num_sites(), 500);
    let expect = [
        [0.0, -0.5, -0.5],
        [0.0, 0.5, 0.5],
        [0.0, -0.5, 0.5],
        [0.0, 0.5, -0.5],
        [-0.5, -0.5, 0.0],
        [0.5, 0.5, 0.0],
        [-0.5, 0.0, 0.5],
        [0.5, 0.0, -0.5],
        [-0.5, 0.0, -0.5],
        [0.5, 0.0, 0.5],
        [0.5, -0.5, 0.0],
        [-0.5, 0.5, 0.0],
    ];
    for (k, e) in expect.iter().enumerate() {
        assert_eq!(c.jump_cartesian(k), *e, "jump {k}");
    }
}

#[test]
fn general_supercell_matrix() {
    // The conventional FCC cube written as a primitive supercell: 4 sites, a 2x2x2
    // version has 32; both keep the cubic group.
    use gcnet_crystal::{Lattice, Supercell};
    let lat = Lattice::new(LatticeKind::Fcc, CellKind::Primitive, 1.0);
    let sc = Supercell::new(lat, [[-2, 2, 2], [2, -2, 2], [2, 2, -2]]).unwrap();
    let c = Crystal::from_supercell(sc).unwrap();
    assert_eq!(c.num_sites(), 32);
    assert_eq!(c.group_site_permutations().len(), 48);
}

/// A supercell that is not a cube keeps only the operations that map it onto itself, and
/// its crystal data file is valid (every operation permutes its sites).
#[test]
fn other_supercell_shapes_keep_the_operations_that_map_them_onto_themselves() {
    use gcnet_crystal::{Lattice, Supercell};
    let lattice = Lattice::new(LatticeKind::Fcc, CellKind::Primitive, 1.0);
    let sheared =
        Crystal::from_supercell(Supercell::new(lattice.clone(), [[4, 0, 1], [0, 4, 0], [0, 0, 4]]).unwrap()).unwrap();
    let ng = sheared.group().len();
    assert!((2..48).contains(&ng), "{ng} operations");
    assert_eq!(sheared.group().get(0), gcnet_crystal::Rotation::identity());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheared.h5");
    CrystalData::from_crystal(&sheared).write(&path).unwrap();
    assert_eq!(CrystalData::read(&path).unwrap().num_group_ops(), ng);
    let cube = Crystal::from_supercell(Supercell::new(lattice, [[4, 0, 0], [0, 4, 0], [0, 0, 4]]).unwrap()).unwrap();
    assert_eq!(cube.group().len(), 48);
}
