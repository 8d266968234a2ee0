//! GConv and the network against explicit loops; equivariance over all 48 operations.

mod common;

use common::{fcc, max_abs_diff};
use gcnet_net::{Gcnet, NetConfig, eval};
use ndarray::Array2;
use tch::{Device, Kind, Tensor};

fn to_vec(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.to_device(Device::Cpu).to_kind(Kind::Double).contiguous().view([-1])).unwrap()
}

fn softplus(x: f64) -> f64 {
    if x > 20.0 { x } else { x.exp().ln_1p() }
}

fn random_states(n: usize, s: usize, labels: i8, seed: u64) -> Array2<i8> {
    let mut rng = common::Rng(seed);
    Array2::from_shape_fn(
        (n, s),
        |(_, site)| if site == 0 { 0 } else { 1 + (rng.next_u64() % (labels as u64 - 1)) as i8 },
    )
}

#[test]
fn gconv_stack_matches_explicit_loop() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    let (s, z, ng) = (crystal.num_sites(), crystal.z(), crystal.num_group_ops());
    tch::manual_seed(3);
    let cfg = NetConfig { nl: 0, nch: 3, ncl: 2, num_species: 2, ..NetConfig::default() };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let states = random_states(2, s, 3, 11);
    let x = net.one_hot(states.view(), 0);
    let y = to_vec(&net.forward(&x)); // (B, ncL, 3, S)
    let nn = crystal.nn_sites();
    let p = crystal.group_nn_permutation();
    for b in 0..2 {
        // x[i][s]
        let mut h: Vec<Vec<f64>> = (0..2)
            .map(|i| (0..s).map(|site| if site > 0 && states[[b, site]] == i as i8 + 1 { 1.0 } else { 0.0 }).collect())
            .collect();
        for layer in net.layers() {
            let psi = to_vec(&layer.psi);
            let bias = to_vec(&layer.bias);
            let (cout, cin, k) = (layer.cout as usize, layer.cin as usize, z + 1);
            let mut out = vec![vec![0.0; s]; cout];
            for (o, row) in out.iter_mut().enumerate() {
                for (site, v) in row.iter_mut().enumerate() {
                    let mut acc = 0.0;
                    for g in 0..ng {
                        let mut pre = bias[o];
                        for (i, hi) in h.iter().enumerate().take(cin) {
                            for kk in 0..k {
                                let pk = p[[g, kk]] as usize;
                                pre += psi[(o * cin + i) * k + pk] * hi[nn[[kk, site]] as usize];
                            }
                        }
                        acc += softplus(pre);
                    }
                    *v = acc / ng as f64;
                }
            }
            h = out;
        }
        for c in 0..2 {
            for x in 0..3 {
                for site in 0..s {
                    let want: f64 = (0..z).map(|k| h[c][nn[[k + 1, site]] as usize] * crystal.jump_vector(k)[x]).sum();
                    let got = y[((b * 2 + c) * 3 + x) * s + site];
                    assert!((got - want).abs() < 1e-12, "b{b} c{c} x{x} s{site}: {got} vs {want}");
                }
            }
        }
    }
}

/// For every operation g (perm[s] = site at g x_s), the rotated state
/// `rotated[perm[s]] = state[s]` gives scalars `a'[perm[s]] = a[s]` and vectors
/// `y'[perm[s]] = R_g y[s]`. Returns the largest deviation.
fn equivariance_error(net: &Gcnet, crystal: &gcnet_crystal::CrystalData, states: &Array2<i8>) -> f64 {
    let perms = crystal.group_site_permutations().unwrap();
    assert_eq!(perms.len(), 48);
    let (n, s) = states.dim();
    let base = eval::site_relaxation_vectors(net, states.view(), 0, 8); // (N, S, 3) channel 0
    let x = net.one_hot(states.view(), 0);
    let a = to_vec(&net.site_outputs(&x)); // (N*S, ncL)
    let ncl = net.config().ncl as usize;
    let mut worst = 0.0f64;
    for (g, perm) in perms.iter().enumerate() {
        let rot = crystal.group_rotation(g);
        let mut rotated = Array2::<i8>::zeros((n, s));
        for b in 0..n {
            for site in 0..s {
                rotated[[b, perm.get(site)]] = states[[b, site]];
            }
        }
        let yr = eval::site_relaxation_vectors(net, rotated.view(), 0, 8);
        let ar = to_vec(&net.site_outputs(&net.one_hot(rotated.view(), 0)));
        for b in 0..n {
            for site in 0..s {
                let t = perm.get(site);
                for c in 0..ncl {
                    worst = worst.max((ar[(b * s + t) * ncl + c] - a[(b * s + site) * ncl + c]).abs());
                }
                for x in 0..3 {
                    let want: f64 = (0..3).map(|k| rot[x][k] * base[[b, site, k]]).sum();
                    worst = worst.max((yr[[b, t, x]] - want).abs());
                }
            }
        }
    }
    worst
}

#[test]
fn network_is_equivariant_under_all_48_operations() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    tch::manual_seed(5);
    let cfg = NetConfig { nl: 2, nch: 4, ncl: 2, num_species: 3, ..NetConfig::default() };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let states = random_states(3, crystal.num_sites(), 4, 7);
    let err = equivariance_error(&net, &crystal, &states);
    assert!(err < 1e-12, "equivariance error {err}");
}

#[test]
fn nosym_breaks_equivariance() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    tch::manual_seed(5);
    let cfg = NetConfig { nl: 1, nch: 4, ncl: 1, num_species: 2, nosym: true, ..NetConfig::default() };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let states = random_states(2, crystal.num_sites(), 3, 9);
    let err = equivariance_error(&net, &crystal, &states);
    assert!(err > 1e-6, "-nosym network is unexpectedly equivariant ({err})");
}

#[test]
fn single_gconv_network_and_f32_agree_with_f64() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    tch::manual_seed(1);
    let cfg = NetConfig { nl: -1, ncl: 1, num_species: 1, ..NetConfig::default() };
    let mut net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    assert_eq!(net.layers().len(), 1);
    let states = random_states(2, crystal.num_sites(), 2, 4);
    let y64 = eval::site_relaxation_vectors(&net, states.view(), 0, 8);
    net.set_kind(Kind::Float);
    let y32 = eval::site_relaxation_vectors(&net, states.view(), 0, 8);
    let d = max_abs_diff(y64.as_slice().unwrap(), y32.as_slice().unwrap());
    assert!(d < 1e-5 && d > 0.0, "f32 differs from f64 by {d}");
}

#[test]
fn representation_modules() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    let cfg = NetConfig { nl: 1, nch: 3, ncl: 1, num_species: 2, ..NetConfig::default() };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let states = random_states(2, crystal.num_sites(), 3, 4);
    // the published getRep layout: (n, C, Nsites) after a group average, (n, ncL, 3, Nsites)
    // for the whole stack, in batches of 1 so that the blocks are put together too
    let s = crystal.num_sites();
    let r = eval::representation(&net, states.view(), 0, 5, 1).unwrap();
    assert_eq!(r.shape(), [2, 3, s]);
    let h = net.representation(&net.one_hot(states.view(), 0), 5).unwrap(); // (B*S, C)
    let h = Vec::<f64>::try_from(&h.to_device(Device::Cpu).contiguous().view([-1])).unwrap();
    for (b, c, site) in [(0, 0, 0), (1, 2, 5), (1, 1, s - 1)] {
        assert!((r[[b, c, site]] - h[(b * s + site) * 3 + c]).abs() < 1e-12);
    }
    let full = eval::representation(&net, states.view(), 0, 9, 1).unwrap();
    assert_eq!(full.shape(), [2, 1, 3, s]);
    let y = net.forward(&net.one_hot(states.view(), 0));
    let y = Vec::<f64>::try_from(&y.to_device(Device::Cpu).contiguous().view([-1])).unwrap();
    assert!(max_abs_diff(full.as_slice().unwrap(), &y) < 1e-12);
    assert!(eval::representation(&net, states.view(), 0, 4, 8).is_err());
    assert!(eval::representation(&net, states.view(), 0, 12, 8).is_err());
}

/// The site-first route (CPU, no gradients recorded: evaluation) equals the dense route
/// (gathered rows times the rotated filters, which autograd and CUDA take) to rounding, in
/// f64 and f32, for block widths with a fixed kernel (8, 2, 1) and without one (3), with
/// one sample a row (f64, 8 channels) and two side by side (f32; f64 with 3 channels), the
/// third of the three samples padded.
#[test]
fn site_first_route_equals_dense_route() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    for (nch, ncl) in [(8, 1), (3, 2)] {
        tch::manual_seed(7);
        let cfg = NetConfig { nl: 1, nch, ncl, num_species: 2, ..NetConfig::default() };
        let mut net = Gcnet::from_crystal(&crystal, &cfg, Device::Cpu).unwrap();
        assert!(net.site_route(), "CPU networks take the site-first route");
        let states = random_states(3, crystal.num_sites(), 3, 5);
        for (kind, tol) in [(Kind::Double, 1e-12), (Kind::Float, 1e-5)] {
            net.set_kind(kind);
            assert_eq!(net.site_group(), if kind == Kind::Double && nch == 8 { 1 } else { 2 });
            let x = net.one_hot(states.view(), 0);
            let site = tch::no_grad(|| net.forward(&x));
            let dense = net.forward(&x).detach(); // gradients recorded: the dense route
            let d = (&site - &dense).abs().max().double_value(&[]) / dense.abs().max().double_value(&[]);
            assert!(d < tol, "nch {nch} ncL {ncl} {kind:?}: the routes differ by {d} (relative)");
        }
    }
    // The block sums are CPU code: a network on CUDA (scripts/device_check.sh) keeps the
    // dense route.
    if common::device() != Device::Cpu {
        let cfg = NetConfig { nl: 1, nch: 8, ncl: 1, num_species: 2, ..NetConfig::default() };
        assert!(!Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap().site_route());
    }
}

/// Seeded networks get their seed's weights while other threads build networks at the same
/// time (each construction draws under one lock).
#[test]
fn seeded_weights_do_not_depend_on_other_threads() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    let cfg = NetConfig { nl: 2, nch: 4, ncl: 1, num_species: 2, ..NetConfig::default() };
    let want: Vec<tch::Tensor> = Gcnet::from_crystal_seeded(&crystal, &cfg, Device::Cpu, 17)
        .unwrap()
        .parameters()
        .iter()
        .map(|p| p.detach().copy())
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = Gcnet::from_crystal(&crystal, &cfg, Device::Cpu).unwrap();
            }
        });
        let same: Vec<bool> = (0..20)
            .map(|_| {
                let net = Gcnet::from_crystal_seeded(&crystal, &cfg, Device::Cpu, 17).unwrap();
                net.parameters().iter().zip(&want).all(|(p, w)| p.equal(w))
            })
            .collect();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(same.iter().all(|&s| s), "seeded weights changed: {same:?}");
    });
}
