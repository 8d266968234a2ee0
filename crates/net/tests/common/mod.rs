//! Shared helpers of the integration tests: small crystals and a tiny random single-step
//! data generator (random alloy, vacancy on site 0, one KMC step per state).
#![allow(dead_code)]

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::Dataset;
use ndarray::{Array1, Array2, Array3};

/// Held for the whole body of every test of these binaries: tests draw from libtorch's
/// global random generator (`tch::manual_seed`, network weights, `randn`) and the harness
/// runs them on several threads, so a draw by another test between a seed and the draws it
/// fixes would change the weights (seen: a resumed and an uninterrupted run started from
/// different weights under `--test-threads=8`, and on the 2-core CI now and then).
pub fn global_rng() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn fcc(n: usize) -> CrystalData {
    CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, n).unwrap())
}

/// splitmix64
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` random states: vacancy (label 0) on site 0, the other sites label l (1..) with
/// probability `fractions[l-1]`; the jump rate of the atom of label l is `rates[l-1]`
/// (times `1 + 0.5 u` with `spread`, so states differ in all their rates).
pub fn random_dataset(
    crystal: &CrystalData,
    n: usize,
    fractions: &[f64],
    rates: &[f64],
    spread: bool,
    seed: u64,
) -> Dataset {
    let mut rng = Rng(seed);
    let (s, z) = (crystal.num_sites(), crystal.z());
    let nl = fractions.len() + 1;
    let mut init = Array2::<i8>::zeros((n, s));
    let mut fin = Array2::<i8>::zeros((n, s));
    let mut disps = Array3::<f64>::zeros((n, nl, 3));
    let mut w = Array1::<f64>::zeros(n);
    let mut ri = Array2::<f64>::zeros((n, z));
    let mut rf = Array2::<f64>::zeros((n, z));
    let mut js = Array1::<i64>::zeros(n);
    let factor: Vec<f64> = (0..s).map(|_| 1.0).collect();
    let jump_rates = |state: &[i8], rng: &mut Rng| -> Vec<f64> {
        (0..z)
            .map(|j| {
                let l = state[crystal.neighbour(0, j)] as usize;
                rates[l - 1] * if spread { 1.0 + 0.5 * rng.uniform() } else { factor[0] }
            })
            .collect()
    };
    for i in 0..n {
        let mut st = vec![0i8; s];
        for x in st.iter_mut().skip(1) {
            let u = rng.uniform();
            let mut acc = 0.0;
            *x = fractions.len() as i8;
            for (l, f) in fractions.iter().enumerate() {
                acc += f;
                if u < acc {
                    *x = l as i8 + 1;
                    break;
                }
            }
        }
        let r1 = jump_rates(&st, &mut rng);
        let total: f64 = r1.iter().sum();
        let mut u = rng.uniform() * total;
        let mut j = z - 1;
        for (k, r) in r1.iter().enumerate() {
            if u < *r {
                j = k;
                break;
            }
            u -= r;
        }
        let s2 = crystal.jump_permutation(j).apply(&st);
        let r2 = jump_rates(&s2, &mut rng);
        let dx = crystal.jump_vector(j);
        let exchanged = st[crystal.neighbour(0, j)] as usize;
        for x in 0..3 {
            disps[[i, 0, x]] = dx[x];
            disps[[i, exchanged, x]] = -dx[x];
        }
        init.row_mut(i).assign(&ndarray::aview1(&st));
        fin.row_mut(i).assign(&ndarray::aview1(&s2));
        w[i] = total;
        ri.row_mut(i).assign(&ndarray::aview1(&r1));
        rf.row_mut(i).assign(&ndarray::aview1(&r2));
        js[i] = j as i64;
    }
    Dataset {
        init_states: init,
        fin_states: fin,
        spec_disps: disps,
        rates: w,
        jump_rates_init: ri,
        jump_rates_fin: rf,
        jump_selects: js,
        rand_nums: None,
    }
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// The device the network tests run on: `GCNET_TEST_DEVICE` (`cpu`, `cuda`, `cuda:N`),
/// the CPU by default; scripts/device_check.sh runs them on a GPU this way.
pub fn device() -> tch::Device {
    match std::env::var("GCNET_TEST_DEVICE").ok().as_deref().map(str::trim) {
        None | Some("") | Some("cpu") => tch::Device::Cpu,
        Some("cuda") => tch::Device::Cuda(0),
        Some(d) => tch::Device::Cuda(
            d.strip_prefix("cuda:").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("GCNET_TEST_DEVICE={d}")),
        ),
    }
}
