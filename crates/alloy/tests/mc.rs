//! Metropolis Monte Carlo on the project's LAMMPS (from `bash scripts/setup.sh`): the
//! energies of the persistent session against hand-written LAMMPS inputs, and detailed
//! balance on a case with an exact answer. The tests that run LAMMPS take turns.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use gcnet_alloy::kmc::KB_EV_PER_K;
use gcnet_alloy::{
    Chain, EnergyModel, Lammps, Potential, ProcessEnergy, SessionEnergy, StateEnergy, fcc_geometry, random_start,
};

static LAMMPS_RUNS: Mutex<()> = Mutex::new(());

fn potential_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../potentials/CoNiCrFeMn_Choi2018").canonicalize().unwrap()
}

fn cantor() -> Vec<String> {
    gcnet_alloy::CANTOR_ELEMENTS.iter().map(|e| e.to_string()).collect()
}

/// The energy of `labels` (vacancy on site 0) of the 3x3x3 cubic cell from an input
/// written here from SPEC sections 8 and 9 alone, run by a fresh `lmp`.
fn hand_written_energy(dir: &Path, labels: &[u8], relax: bool) -> f64 {
    let crystal = gcnet_alloy::fcc_cell(3, false).unwrap();
    let pos = crystal.site_positions().unwrap();
    let a0 = 3.595;
    let l = 3.0 * a0;
    let mut data = format!(
        "hand\n\n{} atoms\n5 atom types\n\n0 {l} xlo xhi\n0 {l} ylo yhi\n0 {l} zlo zhi\n\nAtoms # atomic\n\n",
        labels.len() - 1
    );
    for s in 1..labels.len() {
        data += &format!("{s} {} {} {} {}\n", labels[s], pos[[s, 0]] * a0, pos[[s, 1]] * a0, pos[[s, 2]] * a0);
    }
    std::fs::write(dir.join("hand.data"), data).unwrap();
    let p = potential_dir();
    let energy = if relax { "min_style cg\nmin_modify norm max\nminimize 0.0 0.001 1000 1000000" } else { "run 0" };
    let input = format!(
        "units metal\natom_style atomic\natom_modify map array\nboundary p p p\natom_modify sort 0 0.0\n\
         read_data hand.data\npair_style meam\n\
         pair_coeff * * {p}/library.meam Co Ni Cr Fe Mn {p}/params.meam Co Ni Cr Fe Mn\n\
         {energy}\nprint \"$(pe:%.17g)\" file energy.txt\n",
        p = p.display()
    );
    std::fs::write(dir.join("in.hand"), input).unwrap();
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv");
    let status = Command::new(venv.join("bin/lmp"))
        .args(["-in", "in.hand", "-log", "log.hand", "-screen", "none"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(dir.join("energy.txt")).unwrap().trim().parse().unwrap()
}

/// The session's energy of a state reached after other states (types set in place, atoms
/// put back on their sites) equals a fresh hand-written minimisation to 1e-8 eV; so does
/// the one-process-per-trial evaluator, and the on-lattice energies.
#[test]
fn session_energies_equal_hand_written_lammps_minimisations() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let lammps = Lammps::locate(None).unwrap();
    let potential = Potential::new(potential_dir()).unwrap();
    let (_, g) = fcc_geometry(3, false, 3.595).unwrap();
    let elements = cantor();
    let counts = [22, 22, 21, 21, 21];
    let states: Vec<Vec<u8>> = (0..3).map(|c| random_start(&counts, 108, true, 7, c).unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();
    for (relax, model) in
        [(true, EnergyModel::Relaxed { force_tol: 1e-3, energy_tol: 0.0 }), (false, EnergyModel::OnLattice)]
    {
        let sdir = dir.path().join(format!("session_{relax}"));
        std::fs::create_dir_all(&sdir).unwrap();
        let mut session = SessionEnergy::start(&lammps, &sdir, &g, &potential, &elements, &states[0], model).unwrap();
        let ours: Vec<f64> = states.iter().map(|s| session.energy(s).unwrap()).collect();
        // Back to the first state after the others: the same energy again.
        let again = session.energy(&states[0]).unwrap();
        assert!((again - ours[0]).abs() < 1e-8, "{again} vs {}", ours[0]);
        let pdir = dir.path().join(format!("process_{relax}"));
        std::fs::create_dir_all(&pdir).unwrap();
        let mut process = ProcessEnergy {
            lammps: &lammps,
            dir: pdir,
            geometry: &g,
            potential: &potential,
            elements: &elements,
            model,
            neighbor_skin: None,
        };
        for (n, s) in states.iter().enumerate() {
            let hdir = dir.path().join(format!("hand_{relax}_{n}"));
            std::fs::create_dir_all(&hdir).unwrap();
            let hand = hand_written_energy(&hdir, s, relax);
            let bare = process.energy(s).unwrap();
            eprintln!("relax {relax}, state {n}: session {} eV, hand-written {hand} eV, process {bare} eV", ours[n]);
            assert!((ours[n] - hand).abs() < 1e-8, "session {} vs hand-written {hand}", ours[n]);
            assert!((bare - hand).abs() < 1e-8, "process {bare} vs hand-written {hand}");
        }
        if relax {
            // The relaxation lowers the energy below the on-lattice one of the same state.
            let odir = dir.path().join("hand_on_lattice");
            std::fs::create_dir_all(&odir).unwrap();
            let on = hand_written_energy(&odir, &states[0], false);
            assert!(ours[0] < on - 1e-3, "relaxed {} vs on-lattice {on}", ours[0]);
        }
    }
}

/// The upper tail of the chi-square distribution with `k` degrees of freedom at `x`
/// (Wilson-Hilferty: (x/k)^(1/3) is close to normal; good to a few percent of p at these
/// p-values and k >= 3).
fn chi_square_p(x: f64, k: usize) -> f64 {
    let k = k as f64;
    let z = ((x / k).powf(1.0 / 3.0) - (1.0 - 2.0 / (9.0 * k))) / (2.0 / (9.0 * k)).sqrt();
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// erfc (Numerical Recipes' erfcc, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Chi-square of `observed` counts against `weights` (normalised here), bins with an
/// expected count below 5 merged into one; (chi-square, degrees of freedom).
fn chi_square(observed: &[u64], weights: &[f64]) -> (f64, usize) {
    let n: u64 = observed.iter().sum();
    let total: f64 = weights.iter().sum();
    let mut bins: Vec<(f64, f64)> = Vec::new();
    let mut rest = (0.0, 0.0);
    for (&o, &w) in observed.iter().zip(weights) {
        let e = n as f64 * w / total;
        if e < 5.0 {
            rest = (rest.0 + o as f64, rest.1 + e);
        } else {
            bins.push((o as f64, e));
        }
    }
    if rest.1 > 0.0 {
        bins.push(rest);
    }
    (bins.iter().map(|(o, e)| (o - e) * (o - e) / e).sum(), bins.len() - 1)
}

/// Two Cr atoms in an otherwise pure Ni cell (2x2x2 cubic FCC cell, 32 sites, no vacancy,
/// on-lattice energies): the Metropolis chain's histogram of the pair's separation shell
/// matches the exact Boltzmann weights sum_{d in shell} exp(-E_d / kT), with E_d the
/// LAMMPS energy of the pair at separation d (all 31 placements of the second atom
/// relative to the first), by a chi-square test at p > 0.001 (samples every 10 trials,
/// 1/10 of the trials: well beyond the chain's correlation time here). The same histogram
/// against the infinite-temperature weights (shell multiplicities) must fail the test, so
/// the test can tell the right weights from wrong ones.
#[test]
fn detailed_balance_two_solutes_in_a_pure_cell() {
    let _one = LAMMPS_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let lammps = Lammps::locate(None).unwrap();
    let potential = Potential::new(potential_dir()).unwrap();
    let (_, g) = fcc_geometry(2, false, 3.595).unwrap();
    let n = g.num_sites();
    let elements = vec!["Ni".to_string(), "Cr".to_string()];
    let dir = tempfile::tempdir().unwrap();
    let mut pure = vec![1u8; n];
    pure[0] = 2;
    pure[1] = 2;
    let mut session =
        SessionEnergy::start(&lammps, dir.path(), &g, &potential, &elements, &pure, EnergyModel::OnLattice).unwrap();
    // Shells: sites grouped by their minimum-image distance from site 0.
    let l = g.lammps_box().lengths[0];
    let distance = |a: usize, b: usize| {
        let (p, q) = (g.position(a), g.position(b));
        (0..3)
            .map(|i| {
                let d = (p[i] - q[i]).rem_euclid(l);
                d.min(l - d).powi(2)
            })
            .sum::<f64>()
            .sqrt()
    };
    let mut radii: Vec<f64> = Vec::new();
    let shell_of = |d: f64, radii: &mut Vec<f64>| match radii.iter().position(|r| (r - d).abs() < 1e-6) {
        Some(i) => i,
        None => {
            radii.push(d);
            radii.len() - 1
        }
    };
    // Cr-Cr nearest neighbours cost about 7 meV here: at 100 K their weight is 0.43 of
    // the farthest pair's.
    let temperature = 100.0;
    let beta = 1.0 / (KB_EV_PER_K * temperature);
    let mut energies = Vec::new();
    for j in 1..n {
        let mut s = vec![1u8; n];
        s[0] = 2;
        s[j] = 2;
        let e = session.energy(&s).unwrap();
        let shell = shell_of(distance(0, j), &mut radii);
        energies.push((shell, e));
    }
    let e_min = energies.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
    let mut exact = vec![0.0; radii.len()];
    let mut multiplicity = vec![0.0; radii.len()];
    for &(shell, e) in &energies {
        exact[shell] += (-(e - e_min) * beta).exp();
        multiplicity[shell] += 1.0;
    }
    for (i, r) in radii.iter().enumerate() {
        let es: Vec<String> =
            energies.iter().filter(|x| x.0 == i).map(|x| format!("{:.6}", x.1 - e_min)).take(3).collect();
        eprintln!(
            "shell {i}: r = {r:.4} A, {} sites, E - Emin = {} eV, exact weight {:.4}",
            multiplicity[i],
            es.join(" "),
            exact[i]
        );
    }
    // Placements in the same shell have the same energy (translation and point symmetry).
    for (i, _) in radii.iter().enumerate() {
        let es: Vec<f64> = energies.iter().filter(|x| x.0 == i).map(|x| x.1).collect();
        let spread =
            es.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b)) - es.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        assert!(spread < 1e-9, "shell {i}: energies spread by {spread} eV");
    }
    let start = pure.clone();
    let e0 = session.energy(&start).unwrap();
    let mut chain = Chain::new(start, e0, 2026, 0).unwrap();
    let trials = 8000;
    let every = 10;
    let mut observed = vec![0u64; radii.len()];
    let started = std::time::Instant::now();
    for t in 1..=trials {
        chain.step(&mut session, temperature).unwrap();
        if t % every == 0 {
            let sites: Vec<usize> = (0..n).filter(|&s| chain.labels()[s] == 2).collect();
            assert_eq!(sites.len(), 2);
            observed[shell_of(distance(sites[0], sites[1]), &mut radii)] += 1;
        }
    }
    assert_eq!(observed.len(), exact.len(), "no new shells appear");
    let (x, df) = chi_square(&observed, &exact);
    let p = chi_square_p(x, df);
    let (x_inf, df_inf) = chi_square(&observed, &multiplicity);
    let p_inf = chi_square_p(x_inf, df_inf);
    eprintln!(
        "{trials} trials in {:.1} s, acceptance {:.3}; observed {observed:?}; chi2 = {x:.2} (df {df}, p = {p:.3}); against T = inf: chi2 = {x_inf:.1} (p = {p_inf:.2e})",
        started.elapsed().as_secs_f64(),
        chain.acceptance()
    );
    assert!(p > 1e-3, "the histogram does not follow the Boltzmann weights: p = {p}");
    assert!(p_inf < 1e-6, "the test cannot tell the weights from T = inf ones: p = {p_inf}");
}

#[test]
fn chi_square_tail_values() {
    // Reference values (scipy.stats.chi2.sf): sf(11.07, 5) = 0.050, sf(20.52, 5) = 0.001.
    assert!((chi_square_p(11.0705, 5) - 0.05).abs() < 0.003);
    assert!((chi_square_p(20.515, 5) - 0.001).abs() < 0.0002);
    assert!((erfc(0.5) - 0.4795001222).abs() < 1e-7);
}
