//! The saved expansion round-trips, refuses another crystal, and its published index
//! arrays give the same basis functions.

mod common;

use common::{Rng, random_state};
use gcnet_crystal::{CellKind, LatticeKind};
use gcnet_files::Overwrite;
use gcnet_vce::{Contents, SiteGeometry, read_expansion, write_expansion};
use ndarray::{Array1, Array2, Array3};

#[test]
fn round_trip_and_index_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let e = common::expansion(&crystal, 3, 0.71, 3, true);
    let path = dir.path().join("JitArrays.h5");
    write_expansion(&e, &path, Contents::WithIndexArrays, Overwrite::Refuse).unwrap();
    assert!(write_expansion(&e, &path, Contents::WithIndexArrays, Overwrite::Refuse).is_err(), "refused");
    let back = read_expansion(&path, SiteGeometry::from_crystal(&crystal).unwrap()).unwrap();
    assert_eq!(back.counts(), e.counts());
    assert_eq!(back.params(), e.params());
    let mut rng = Rng(3);
    let state = random_state(crystal.num_sites(), 3, &mut rng);
    assert_eq!(back.lambda(&state).unwrap(), e.lambda(&state).unwrap());

    // The published arrays: lambda = sum of the vectors of the interactions that are on.
    let f = hdf5::File::open(&path).unwrap();
    let num_sites: Array1<i64> = f.dataset("numSitesInteracts").unwrap().read().unwrap();
    let sites: Array2<i64> = f.dataset("SupSitesInteracts").unwrap().read().unwrap();
    let specs: Array2<i64> = f.dataset("SpecOnInteractSites").unwrap().read().unwrap();
    let num_vecs: Array1<i64> = f.dataset("numVecsInteracts").unwrap().read().unwrap();
    let vecs: Array3<f64> = f.dataset("VecsInteracts").unwrap().read().unwrap();
    let groups: Array2<i64> = f.dataset("VecGroupInteracts").unwrap().read().unwrap();
    let nv: Array1<i64> = f.dataset("NVclus").unwrap().read().unwrap();
    assert_eq!(num_sites.len(), e.counts().interactions);
    assert_eq!(nv[0] as usize, e.num_vector_groups());
    assert_eq!(*groups.iter().max().unwrap(), nv[0] - 1);
    let mut lambda = Array2::<f64>::zeros((nv[0] as usize, 3));
    for i in 0..num_sites.len() {
        let on = (0..num_sites[i] as usize).all(|k| state[sites[[i, k]] as usize] as i64 == specs[[i, k]]);
        if on {
            for v in 0..num_vecs[i].max(0) as usize {
                for c in 0..3 {
                    lambda[[groups[[i, v]] as usize, c]] += vecs[[i, v, c]];
                }
            }
        }
    }
    assert!((&lambda - &e.lambda(&state).unwrap()).iter().all(|x| x.abs() < 1e-12));
    let per_site: Array2<i64> = f.dataset("numInteractsSiteSpec").unwrap().read().unwrap();
    assert_eq!(per_site.shape(), [crystal.num_sites(), 3]);
    // Every site holds the same number of interactions per label (all interactions, -ait).
    assert!(per_site.iter().all(|&c| c == per_site[[0, 0]] || c == per_site[[0, 2]]));
}

#[test]
fn another_crystal_or_a_foreign_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let e = common::expansion(&crystal, 2, 0.71, 3, false);
    let path = dir.path().join("VclusExp.h5");
    write_expansion(&e, &path, Contents::Expansion, Overwrite::Replace).unwrap();
    let other = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 5);
    let err = read_expansion(&path, SiteGeometry::from_crystal(&other).unwrap()).unwrap_err().to_string();
    assert!(err.contains("VclusExp.h5") && err.contains("another crystal"), "{err}");
    let foreign = dir.path().join("foreign.h5");
    hdf5::File::create(&foreign).unwrap().new_dataset::<i64>().shape(3).create("numSitesInteracts").unwrap();
    let err = read_expansion(&foreign, SiteGeometry::from_crystal(&crystal).unwrap()).unwrap_err().to_string();
    assert!(err.contains("foreign.h5") && err.contains("format"), "{err}");
    let err = read_expansion(dir.path().join("none.h5"), SiteGeometry::from_crystal(&crystal).unwrap()).unwrap_err();
    assert!(err.to_string().contains("none.h5"));
}

#[test]
fn a_tampered_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = common::crystal(LatticeKind::Fcc, CellKind::Primitive, 6);
    let e = common::expansion(&crystal, 2, 0.71, 3, false);
    let path = dir.path().join("VclusExp.h5");
    write_expansion(&e, &path, Contents::Expansion, Overwrite::Replace).unwrap();
    {
        let f = hdf5::File::open_rw(&path).unwrap();
        let ds = f.dataset("orbits/vectors").unwrap();
        let mut v: Array3<f64> = ds.read().unwrap();
        let o = e.basis().orbits().iter().position(|o| !o.basis.is_empty()).unwrap();
        v[[o, 0, 0]] += 0.5;
        ds.write(&v).unwrap();
    }
    let err = read_expansion(&path, SiteGeometry::from_crystal(&crystal).unwrap()).unwrap_err().to_string();
    assert!(err.contains("VclusExp.h5") && err.contains("inconsistent"), "{err}");
}
