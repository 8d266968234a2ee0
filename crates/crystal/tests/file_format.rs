//! Crystal data files: round trips, foreign dtypes and extra datasets, malformed files.

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};

fn fcc(n: usize, cell: CellKind) -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, cell, n).unwrap())
}

/// Equality of contents, whatever file each came from.
fn same_contents(a: &CrystalData, b: &CrystalData) -> bool {
    a.lattice_vectors() == b.lattice_vectors()
        && a.superlattice() == b.superlattice()
        && a.group_rotations() == b.group_rotations()
        && a.jump_vectors() == b.jump_vectors()
        && a.nn_sites() == b.nn_sites()
        && a.jump_site_permutation() == b.jump_site_permutation()
        && a.group_nn_permutation() == b.group_nn_permutation()
        && a.site_positions().unwrap() == b.site_positions().unwrap()
}

#[test]
fn round_trip_primitive_and_cubic() {
    let dir = tempfile::tempdir().unwrap();
    for (data, file) in [(fcc(4, CellKind::Primitive), "p.h5"), (fcc(2, CellKind::Cubic), "c.h5")] {
        let path = dir.path().join(file);
        data.write(&path).unwrap();
        let back = CrystalData::read(&path).unwrap();
        assert!(same_contents(&data, &back), "{file}");
        assert_eq!(back.path(), Some(path.as_path()));
    }
}

#[test]
fn writing_twice_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = fcc(3, CellKind::Primitive);
    let (a, b) = (dir.path().join("a.h5"), dir.path().join("b.h5"));
    data.write(&a).unwrap();
    data.write(&b).unwrap();
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

/// Rewrites one dataset of a file with h5's API (as a foreign tool would).
fn replace_dataset<T: hdf5::H5Type>(path: &std::path::Path, name: &str, data: ndarray::ArrayViewD<T>) {
    let file = hdf5::File::open_rw(path).unwrap();
    file.unlink(name).unwrap();
    file.new_dataset_builder().with_data(&data).create(name).unwrap();
}

#[test]
fn u8_group_permutation_and_extra_datasets_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u8.h5");
    let data = fcc(4, CellKind::Primitive);
    data.write(&path).unwrap();
    let as_u8 = data.group_nn_permutation().mapv(|x| x as u8).into_dyn();
    replace_dataset(&path, "GroupNNPermutation", as_u8.view());
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        file.new_dataset_builder().with_data(&ndarray::arr1(&[1.0f64, 2.0])).create("SomethingElse").unwrap();
    }
    let back = CrystalData::read(&path).unwrap();
    assert!(same_contents(&data, &back));
}

#[test]
fn missing_file_names_the_file() {
    let err = CrystalData::read("/nonexistent/CrystData.h5").unwrap_err().to_string();
    assert!(err.contains("/nonexistent/CrystData.h5"), "{err}");
}

#[test]
fn missing_dataset_names_file_and_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.h5");
    fcc(3, CellKind::Primitive).write(&path).unwrap();
    hdf5::File::open_rw(&path).unwrap().unlink("JumpSiteIndexPermutation").unwrap();
    let err = CrystalData::read(&path).unwrap_err().to_string();
    assert!(err.contains("missing.h5") && err.contains("JumpSiteIndexPermutation"), "{err}");
}

#[test]
fn wrong_shape_names_file_and_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shape.h5");
    let data = fcc(3, CellKind::Primitive);
    data.write(&path).unwrap();
    let short = data.nn_sites().slice(ndarray::s![.., 0..10]).to_owned().into_dyn();
    replace_dataset(&path, "NNsiteList_sitewise", short.view());
    let err = CrystalData::read(&path).unwrap_err().to_string();
    assert!(err.contains("shape.h5") && err.contains("NNsiteList_sitewise"), "{err}");
    // Wrong number of dimensions.
    let flat = ndarray::Array1::<f64>::zeros(36).into_dyn();
    replace_dataset(&path, "dxList_1nn", flat.view());
    let err = CrystalData::read(&path).unwrap_err().to_string();
    assert!(err.contains("shape.h5") && err.contains("dxList_1nn"), "{err}");
}

#[test]
fn broken_permutation_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perm.h5");
    let data = fcc(3, CellKind::Primitive);
    data.write(&path).unwrap();
    let mut p = data.jump_site_permutation().to_owned();
    p[[2, 5]] = p[[2, 6]];
    replace_dataset(&path, "JumpSiteIndexPermutation", p.into_dyn().view());
    let err = CrystalData::read(&path).unwrap_err().to_string();
    assert!(err.contains("perm.h5") && err.contains("JumpSiteIndexPermutation"), "{err}");
}

#[test]
fn not_an_hdf5_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("text.h5");
    std::fs::write(&path, "not hdf5").unwrap();
    let err = CrystalData::read(&path).unwrap_err().to_string();
    assert!(err.contains("text.h5"), "{err}");
}

#[test]
fn failed_write_leaves_existing_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.h5");
    fcc(3, CellKind::Primitive).write(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // Writing into a directory that does not exist fails before touching anything.
    assert!(fcc(3, CellKind::Primitive).write(dir.path().join("no/such/dir.h5")).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Tables that are valid permutations but wrong for the crystal are refused on load, with
/// the file, the dataset and the first offending entry named; so is a table with a site
/// twice. Primitive and cubic-cell files (positions from SiteIndToR and from
/// superCellSiteToCart).
#[test]
fn tables_that_contradict_the_geometry_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for cell in [CellKind::Primitive, CellKind::Cubic] {
        let data = fcc(3, cell);
        let path = dir.path().join(format!("{cell:?}.h5"));
        let check = |name: &str, table: ndarray::ArrayD<i64>, needle: &str| {
            data.write(&path).unwrap();
            replace_dataset(&path, name, table.view());
            let err = CrystalData::read(&path).unwrap_err().to_string();
            assert!(err.contains(&path.display().to_string()) && err.contains(name), "{cell:?} {name}: {err}");
            assert!(err.contains(needle), "{cell:?} {name}: expected `{needle}` in {err}");
        };
        // a neighbour row with a site twice
        let mut nn = data.nn_sites().to_owned();
        nn[[3, 7]] = nn[[3, 8]];
        check("NNsiteList_sitewise", nn.into_dyn(), "twice");
        // two entries of a neighbour row swapped: still a permutation, wrong geometry
        let mut nn = data.nn_sites().to_owned();
        let (a, b) = (nn[[2, 4]], nn[[2, 9]]);
        nn[[2, 4]] = b;
        nn[[2, 9]] = a;
        check("NNsiteList_sitewise", nn.into_dyn(), "entry [2,4]");
        // two rows of GroupNNPermutation swapped: valid permutations, wrong operations
        let mut g = data.group_nn_permutation().to_owned();
        let (r1, r2) = (g.row(1).to_owned(), g.row(2).to_owned());
        g.row_mut(1).assign(&r2);
        g.row_mut(2).assign(&r1);
        check("GroupNNPermutation", g.into_dyn(), "entry [1,");
        // two entries of a jump permutation swapped
        let mut p = data.jump_site_permutation().to_owned();
        let (a, b) = (p[[5, 3]], p[[5, 11]]);
        p[[5, 3]] = b;
        p[[5, 11]] = a;
        check("JumpSiteIndexPermutation", p.into_dyn(), "entry [5,3]");
    }
}
