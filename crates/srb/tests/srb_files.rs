//! File round trips: getY outputs (`.npz`, and the published bare `.npy`) and the report.

mod common;

use std::fs::File;

use common::{fcc, model_relaxation, random_gas};
use gcnet_files::Overwrite;
use gcnet_srb::srb::files::{read_relaxation_file, write_relaxation_file};
use gcnet_srb::{RelaxationVectors, SingularPolicy, SrbConfig, scaled_residual_bias};
use ndarray::{Array0, Array1, Array2};
use ndarray_npy::{NpzReader, NpzWriter};

#[test]
fn relaxation_vectors_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(3);
    let data = random_gas(&crystal, &[13, 13], 10, 1);
    let y = model_relaxation(&crystal, &data, 1.0, 1.0);
    let names = ["y_st1.npz", "y_st2.npz", "y_st1_exits.npz", "y_st2_exits.npz"];
    let paths: Vec<_> = names.iter().map(|n| dir.path().join(n)).collect();
    for (path, a) in paths.iter().zip([&y.st1, &y.st2, &y.st1_exits, &y.st2_exits]) {
        write_relaxation_file(path, a, Overwrite::Refuse).unwrap();
    }
    let back = RelaxationVectors::read(&paths[0], &paths[1], &paths[2], &paths[3]).unwrap();
    assert_eq!(back, y);
    // the published form: bare arrays written as np.save writes them
    let npy: Vec<_> = names.iter().map(|n| dir.path().join(n.replace(".npz", ".npy"))).collect();
    for (path, a) in npy.iter().zip([&y.st1, &y.st2, &y.st1_exits, &y.st2_exits]) {
        ndarray_npy::write_npy(path, a).unwrap();
    }
    assert_eq!(RelaxationVectors::read(&npy[0], &npy[1], &npy[2], &npy[3]).unwrap(), y);
    // an existing file is not replaced unasked
    assert!(write_relaxation_file(&paths[0], &y.st2, Overwrite::Refuse).is_err());
    assert_eq!(read_relaxation_file(&paths[0]).unwrap(), y.st1);
}

#[test]
fn a_file_without_y_or_with_the_wrong_shape_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.npz");
    let mut npz = NpzWriter::new(File::create(&path).unwrap());
    npz.add_array("x", &Array2::<f64>::zeros((2, 3))).unwrap();
    npz.finish().unwrap();
    let err = read_relaxation_file(&path).unwrap_err().to_string();
    assert!(err.contains("other.npz") && err.contains("`y`"), "{err}");
    let path = dir.path().join("wide.npz");
    write_relaxation_file(&path, &Array2::zeros((2, 4)), Overwrite::Refuse).unwrap();
    let err = read_relaxation_file(&path).unwrap_err().to_string();
    assert!(err.contains("wide.npz") && err.contains("(rows, 3)"), "{err}");
    let err = read_relaxation_file(&dir.path().join("missing.npz")).unwrap_err().to_string();
    assert!(err.contains("missing.npz") && err.contains("cannot"), "{err}");
}

#[test]
fn the_report_file_holds_theta_w_and_the_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let data = random_gas(&crystal, &[40, 23], 120, 2);
    let y = model_relaxation(&crystal, &data, 1.0, 0.5);
    let config = SrbConfig {
        species: vec![1],
        vacancy: 2,
        a0: 1.0,
        n_train: 100,
        basis_labels: None,
        max_condition: 1e10,
        singular: SingularPolicy::Refuse,
    };
    let report = scaled_residual_bias(&data, &crystal, &y, &config).unwrap();
    let path = dir.path().join("srb.npz");
    report.write_npz(&path, Overwrite::Refuse).unwrap();
    assert!(report.write_npz(&path, Overwrite::Refuse).unwrap_err().to_string().contains("already exists"));
    let mut npz = NpzReader::new(File::open(&path).unwrap()).unwrap();
    let theta: Array1<f64> = npz.by_name("theta").unwrap();
    assert_eq!(theta.to_vec(), report.coefficients.theta);
    let w: Array2<f64> = npz.by_name("W").unwrap();
    assert_eq!(w, report.expansion.w);
    let labels: Array1<i64> = npz.by_name("basis_labels").unwrap();
    assert_eq!(labels.to_vec(), [0, 1, 2]);
    let l: Array0<f64> = npz.by_name("val_Lsrb").unwrap();
    assert_eq!(l.into_scalar(), report.validation.unwrap().l_srb);
    let l: Array0<f64> = npz.by_name("train_Ly").unwrap();
    assert_eq!(l.into_scalar(), report.train.l_y);
}
