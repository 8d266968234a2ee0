//! The alloy recipe (scripts/alloy_recipe.sh) end to end at a toy size: MC chains, the
//! extraction, 2 NEB KMC steps with 3 images, both networks, getY -aj and the scaled
//! residual bias, and its summary table; the whole Onsager matrix (6 x 6: five elements and
//! the vacancy) and its checks; L0 in the table is recomputed from the data set
//! file; a second run into the same directory, or a continued one with other settings, is
//! refused and touches nothing; a run stopped in its last stage continues (RESUME=1).

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{Array1, Array3};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn recipe(out: &Path, env: &[(&str, &str)]) -> std::process::Output {
    Command::new("bash")
        .arg(repo().join("scripts/alloy_recipe.sh"))
        .env("GCNET", env!("CARGO_BIN_EXE_gcnet"))
        .env("OUT", out)
        // 2 chains x 2 states after thermalisation, 3-image NEBs, 2 training states
        .envs([("CHAINS", "2"), ("MC_NT", "150"), ("MC_NE", "100"), ("MC_NS", "50"), ("NI", "3")])
        .envs([("NTRAIN", "2"), ("EPOCHS", "4"), ("INTERVAL", "2"), ("NL", "1"), ("NCH", "2"), ("BS", "4")])
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// `value +- error` columns of one summary row: (samples, N, [L0, L_NN, L_NN+SRB] each with
/// its error).
fn row(summary: &str, species: &str, set: &str) -> (usize, Vec<(f64, f64)>) {
    let line = summary
        .lines()
        .find(|l| l.split_whitespace().take(2).eq([species, set]))
        .unwrap_or_else(|| panic!("no {species} {set} row in\n{summary}"));
    let w: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(w.len(), 12, "{line}");
    let values = (0..3)
        .map(|k| {
            assert_eq!(w[4 + 3 * k], "+-", "{line}");
            (w[3 + 3 * k].parse().unwrap(), w[5 + 3 * k].parse().unwrap())
        })
        .collect();
    (w[2].parse().unwrap(), values)
}

#[test]
fn the_alloy_recipe_runs_end_to_end_and_its_table_is_the_data_sets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recipe");
    let run = recipe(&out, &[]);
    let log = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the recipe failed:\n{log}");

    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    let data = hdf5::File::open(out.join("alloy_1173.h5")).unwrap();
    let rates: Array1<f64> = data.dataset("rates").unwrap().read().unwrap();
    let disps: Array3<f64> = data.dataset("SpecDisps").unwrap().read().unwrap();
    assert_eq!(rates.len(), 4, "2 chains x 2 states");
    // L0 = mean over the samples of W_n |dx_n|^2 / 6, dx_n of the label (SpecDisps, A).
    let l0 = |label: usize, samples: std::ops::Range<usize>| {
        let n = samples.len() as f64;
        samples.map(|s| rates[s] * (0..3).map(|d| disps[[s, label, d]].powi(2)).sum::<f64>() / 6.0).sum::<f64>() / n
    };
    for (species, label) in [("vacancy", 0), ("Mn", 5)] {
        for (set, samples) in [("training", 0..2), ("validation", 2..4)] {
            let (n, values) = row(&summary, species, set);
            assert_eq!(n, 2, "{species} {set}");
            for (value, error) in &values {
                assert!(value.is_finite() && *value >= 0.0 && error.is_finite(), "{species} {set}: {values:?}");
            }
            let expected = l0(label, samples);
            assert!(
                (values[0].0 - expected).abs() <= 1e-5 * expected.abs() + 1e-300,
                "{species} {set}: L0 {} in the table, {expected} from the data set",
                values[0].0
            );
        }
    }
    // The vacancy always jumps: its L0 is positive.
    assert!(row(&summary, "vacancy", "training").1[0].0 > 0.0);
    let times = std::fs::read_to_string(out.join("stage_times.txt")).unwrap();
    for stage in
        ["1 crystal", "2 MC", "3 extraction", "4 NEB KMC", "5 train vacancy", "5 train Mn", "7 SRB Mn", "8 onsager"]
    {
        assert!(times.contains(stage), "no {stage} in\n{times}");
    }

    // The whole Onsager matrix: every element and the vacancy (6 labels), symmetric, the
    // vacancy row minus the sum of the atoms' rows, positive semidefinite within errors.
    assert!(summary.contains("The whole Onsager matrix"), "{summary}");
    assert_eq!(summary.matches("positive semidefinite within errors").count(), 2, "{summary}");
    assert!(!summary.contains("NOT positive"), "{summary}");
    for name in ["onsager_1173.npy", "onsager_err_1173.npy", "onsager_val_1173.npy", "onsager_val_err_1173.npy"] {
        let m: ndarray::ArrayD<f64> = gcnet_files::numpy::read(out.join("onsager").join(name), "").unwrap();
        let m: ndarray::Array2<f64> = m.into_dimensionality().unwrap();
        assert_eq!(m.dim(), (6, 6), "{name}");
        assert_eq!(m, m.t(), "{name} is not symmetric");
        assert!(m.iter().all(|x| x.is_finite()), "{name}: {m}");
        if !name.contains("err") {
            let scale = m.iter().fold(0.0f64, |a, b| a.max(b.abs()));
            for a in 1..6 {
                let row: f64 = (1..6).map(|b| m[[a, b]]).sum();
                assert!((m[[0, a]] + row).abs() <= 1e-12 * scale, "{name}: L_0{a} {} vs -{row}", m[[0, a]]);
            }
            // L_vv equals the vacancy's own L over all jumps: positive.
            assert!(m[[0, 0]] > 0.0, "{name}: {m}");
        }
    }

    // Run again into the same directory: refused, nothing touched.
    let before = std::fs::read(out.join("summary.txt")).unwrap();
    let again = recipe(&out, &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read(out.join("summary.txt")).unwrap(), before);
    // Continuing with other settings: refused, naming both.
    let other = recipe(&out, &[("RESUME", "1"), ("EPOCHS", "6")]);
    assert_eq!(other.status.code(), Some(2));
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(err.contains("other settings") && err.contains("EPOCHS=4") && err.contains("EPOCHS=6"), "{err}");
    assert_eq!(std::fs::read(out.join("summary.txt")).unwrap(), before);

    // A run stopped in the Mn stage continues: the finished stages are skipped (no MC, no
    // NEB), the unfinished Mn directory is kept aside, and the vacancy rows are unchanged.
    std::fs::remove_file(out.join("Mn/srb.txt")).unwrap();
    let dataset = std::fs::read(out.join("alloy_1173.h5")).unwrap();
    let resumed = recipe(&out, &[("RESUME", "1")]);
    let log = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "the continued recipe failed:\n{log}{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(!log.contains("gcnet mc -pp") && !log.contains("gcnet neb -cr"), "{log}");
    assert!(log.contains("done before: alloy_1173.h5 exists"), "{log}");
    assert!(out.join("Mn.unfinished.1/srb.npz").is_file(), "the unfinished Mn stage was not kept");
    assert_eq!(std::fs::read(out.join("alloy_1173.h5")).unwrap(), dataset);
    let summary2 = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    for set in ["training", "validation"] {
        assert_eq!(row(&summary2, "vacancy", set), row(&summary, "vacancy", set));
        assert_eq!(row(&summary2, "Mn", set).1[0], row(&summary, "Mn", set).1[0], "L0 comes from the data set");
    }
}
