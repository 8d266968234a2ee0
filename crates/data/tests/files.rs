//! The data-set file: round trips, integer types of JumpSelects, datasets carried through
//! a rewrite, block-wise reading, refusal to overwrite, and files that do not fit.

mod common;

use common::*;
use gcnet_crystal::LatticeKind;
use gcnet_data::{DataFile, DataFileWriter, Dataset, Error, LatticeGas, Layout};
use ndarray::{Array1, Array2, s};

#[test]
fn write_then_read_gives_the_same_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, data) = sr2_file(dir.path(), "d.h5", &crystal, 300);
    assert_eq!(Dataset::read(&path).unwrap(), data);
    assert_eq!(Dataset::read_checked(&path, &crystal).unwrap(), data);
    // Without randNums too.
    let mut plain = data.clone();
    plain.rand_nums = None;
    plain.write(dir.path().join("plain.h5"), false).unwrap();
    assert_eq!(Dataset::read(dir.path().join("plain.h5")).unwrap(), plain);
}

#[test]
fn reading_in_blocks_crosses_block_boundaries() {
    // More samples than one read block (16384), on a small cell.
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(3);
    let data = LatticeGas::sr2(0.3).generate(&crystal, 40_000, 5).unwrap();
    let path = dir.path().join("big.h5");
    data.write(&path, false).unwrap();
    let file = DataFile::open(&path).unwrap();
    assert_eq!(file.read_all().unwrap(), data);
    assert_eq!(file.read_range(16_000, 17_000).unwrap(), data.slice(16_000, 17_000));
}

#[test]
fn streamed_file_equals_the_in_memory_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let gas = LatticeGas::sr2(0.5);
    let path = dir.path().join("s.h5");
    let mut calls = Vec::new();
    gas.generate_to_file(&crystal, 20_000, 8, &path, false, &mut |n| calls.push(n)).unwrap();
    assert_eq!(calls, [8192, 16384, 20000]);
    assert_eq!(Dataset::read(&path).unwrap(), gas.generate(&crystal, 20_000, 8).unwrap());
}

#[test]
fn jump_selects_of_any_integer_type_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, data) = sr2_file(dir.path(), "d.h5", &crystal, 50);
    let as_u8 = copy(&path, dir.path(), "u8.h5");
    replace_dataset(&as_u8, "JumpSelects", &data.jump_selects.mapv(|j| j as u8));
    let as_i32 = copy(&path, dir.path(), "i32.h5");
    replace_dataset(&as_i32, "JumpSelects", &data.jump_selects.mapv(|j| j as i32));
    for p in [as_u8, as_i32] {
        assert_eq!(Dataset::read(&p).unwrap(), data, "{}", p.display());
    }
    // A float JumpSelects is refused, naming the dataset.
    let as_f64 = copy(&path, dir.path(), "f64.h5");
    replace_dataset(&as_f64, "JumpSelects", &data.jump_selects.mapv(|j| j as f64));
    let err = Dataset::read(&as_f64).unwrap_err();
    assert!(matches!(&err, Error::Invalid { dataset, .. } if dataset == "JumpSelects"), "{err}");
}

#[test]
fn unknown_datasets_are_kept_when_rewriting() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, data) = sr2_file(dir.path(), "d.h5", &crystal, 40);
    let barriers = Array2::from_shape_fn((40, 12), |(n, j)| (n * 12 + j) as f64 * 0.25);
    let permutation: Array1<i64> = (0..40).rev().collect();
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        file.new_dataset_builder().with_data(&barriers).create("Barriers").unwrap();
        file.new_dataset_builder().with_data(&permutation).create("Permutation").unwrap();
        let g = file.create_group("second_step").unwrap();
        g.new_dataset_builder().with_data(&Array1::from(vec![7u16, 8, 9])).create("JumpSelects").unwrap();
        file.new_dataset::<f32>().create("temperature").unwrap().write_scalar(&1200.0f32).unwrap();
    }
    let file = DataFile::open(&path).unwrap();
    let mut extras = file.extra_datasets().unwrap();
    extras.sort();
    assert_eq!(extras, ["Barriers", "Permutation", "second_step/JumpSelects", "temperature"]);
    drop(file);
    // Rewrite in place with modified rates: known datasets new, unknown ones kept.
    let mut changed = Dataset::read(&path).unwrap();
    changed.rates *= 2.0;
    assert!(matches!(changed.write_keeping_extras(&path, &path, false), Err(Error::Exists { .. })));
    changed.write_keeping_extras(&path, &path, true).unwrap();
    assert_eq!(Dataset::read(&path).unwrap(), changed);
    assert_ne!(changed, data);
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(file.dataset("Barriers").unwrap().read_2d::<f64>().unwrap(), barriers);
    assert_eq!(file.dataset("Permutation").unwrap().read_1d::<i64>().unwrap(), permutation);
    let second = file.dataset("second_step/JumpSelects").unwrap();
    assert!(second.dtype().unwrap().is::<u16>());
    assert_eq!(second.read_1d::<u16>().unwrap().to_vec(), [7, 8, 9]);
    assert_eq!(file.dataset("temperature").unwrap().read_scalar::<f32>().unwrap(), 1200.0);
}

#[test]
fn existing_files_are_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(3);
    let (path, data) = sr2_file(dir.path(), "d.h5", &crystal, 10);
    let other = LatticeGas::sr2(0.5).generate(&crystal, 10, 99).unwrap();
    assert!(matches!(other.write(&path, false), Err(Error::Exists { .. })));
    assert_eq!(Dataset::read(&path).unwrap(), data);
    let err = LatticeGas::sr2(0.5).generate_to_file(&crystal, 10, 1, &path, false, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    other.write(&path, true).unwrap();
    assert_eq!(Dataset::read(&path).unwrap(), other);
}

#[test]
fn an_unfinished_writer_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = LatticeGas::sr2(0.5).generate(&fcc(3), 10, 1).unwrap();
    let path = dir.path().join("partial.h5");
    let mut w = DataFileWriter::create(&path, Layout { len: 20, ..Layout::of(&data) }, false).unwrap();
    w.append(&data).unwrap();
    assert!(matches!(w.finish(), Err(Error::Config(_))));
    assert!(!path.exists());
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(entries.is_empty(), "temporary files left: {entries:?}");
}

#[test]
fn truncated_and_missing_datasets_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let crystal = fcc(4);
    let (path, data) = sr2_file(dir.path(), "d.h5", &crystal, 30);
    let truncated = copy(&path, dir.path(), "truncated.h5");
    replace_dataset(&truncated, "FinStates", &data.fin_states.slice(s![..29, ..]).to_owned());
    let err = Dataset::read(&truncated).unwrap_err();
    assert!(
        matches!(&err, Error::Shape { dataset, found, .. } if dataset == "FinStates" && found == &[29, 64]),
        "{err}"
    );
    assert!(err.to_string().contains("truncated.h5"), "{err}");

    let short_rates = copy(&path, dir.path(), "rates.h5");
    replace_dataset(&short_rates, "rates", &data.rates.slice(s![..10]).to_owned());
    let err = Dataset::read(&short_rates).unwrap_err();
    assert!(matches!(&err, Error::Shape { dataset, .. } if dataset == "rates"), "{err}");

    let missing = copy(&path, dir.path(), "missing.h5");
    hdf5::File::open_rw(&missing).unwrap().unlink("AllJumpRates_Fin").unwrap();
    let err = Dataset::read(&missing).unwrap_err();
    assert!(matches!(err, Error::MissingDataset { dataset: "AllJumpRates_Fin", .. }), "{err}");
}

#[test]
fn sizes_that_disagree_with_the_crystal_name_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let (crystal_path, crystal) = crystal_file(dir.path(), "fcc4.h5", LatticeKind::Fcc, 4);
    let (other_path, other) = crystal_file(dir.path(), "fcc5.h5", LatticeKind::Fcc, 5);
    let (bcc_path, bcc) = crystal_file(dir.path(), "bcc4.h5", LatticeKind::Bcc, 4);
    let (path, _) = sr2_file(dir.path(), "d.h5", &crystal, 20);
    assert!(Dataset::read_checked(&path, &crystal).is_ok());
    for (cpath, c, what) in [(&other_path, &other, "sites"), (&bcc_path, &bcc, "jump")] {
        let err = Dataset::read_checked(&path, c).unwrap_err();
        assert!(matches!(err, Error::CrystalMismatch { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("d.h5") && msg.contains(&*cpath.to_string_lossy()) && msg.contains(what), "{msg}");
    }
    let _ = crystal_path;
}
