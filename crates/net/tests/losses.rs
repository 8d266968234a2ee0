//! Every loss mode of SPEC section 5, and the y vectors of getY, against a direct
//! per-sample computation from the per-site network output.

mod common;

use common::{fcc, random_dataset};
use gcnet_crystal::CrystalData;
use gcnet_data::Dataset;
use gcnet_net::{Form, Gcnet, NetConfig, Objective, SampleSet, Species, eval};
use ndarray::Array2;
use tch::{Device, Kind};

/// Per-site vectors `Y[c][x][s]` of one state.
fn site_vectors(net: &Gcnet, state: &[i8]) -> Vec<Vec<Vec<f64>>> {
    let s = state.len();
    let st = Array2::from_shape_vec((1, s), state.to_vec()).unwrap();
    let y = net.forward(&net.one_hot(st.view(), 0));
    let v = Vec::<f64>::try_from(&y.to_device(Device::Cpu).to_kind(Kind::Double).contiguous().view([-1])).unwrap();
    let ncl = net.config().ncl as usize;
    (0..ncl).map(|c| (0..3).map(|x| v[(c * 3 + x) * s..(c * 3 + x + 1) * s].to_vec()).collect()).collect()
}

/// y(state) straight from SPEC section 5.
fn y_state(net: &Gcnet, state: &[i8], rates: Option<&[f64]>, sp: &[i8], form: Form) -> [f64; 3] {
    let y = site_vectors(net, state);
    let vac = sp == [0];
    let mut out = [0.0; 3];
    match form {
        Form::Labels => unreachable!("one y per label has its own test"),
        Form::Collective | Form::Tracer => {
            for (site, &l) in state.iter().enumerate() {
                let take = if vac { site >= 1 } else { sp.contains(&l) };
                if take {
                    for x in 0..3 {
                        out[x] += if vac { -y[0][x][site] } else { y[0][x][site] };
                    }
                }
            }
        }
        Form::Boundary { jump_sort, add_on_sites } => {
            let r = rates.unwrap();
            let w: f64 = r.iter().sum();
            let mut p: Vec<f64> = r.iter().map(|v| v / w).collect();
            if jump_sort {
                p.sort_by(|a, b| a.partial_cmp(b).unwrap());
            }
            for (c, pc) in p.iter().enumerate() {
                for x in 0..3 {
                    let term = if vac {
                        -(1..state.len()).map(|s| y[c][x][s]).sum::<f64>()
                    } else {
                        let mut t = -y[c][x][0];
                        if add_on_sites {
                            t += state
                                .iter()
                                .enumerate()
                                .filter(|(_, l)| sp.contains(l))
                                .map(|(s, _)| y[c][x][s])
                                .sum::<f64>();
                        }
                        t
                    };
                    out[x] += pc * term;
                }
            }
        }
    }
    out
}

struct Sample {
    s1: Vec<i8>,
    s2: Vec<i8>,
    rate: f64,
    jump: usize,
    disps: Vec<[f64; 3]>,
    r1: Vec<f64>,
    r2: Vec<f64>,
}

fn samples(crystal: &CrystalData, data: &Dataset, states: &[usize], all_jumps: bool) -> Vec<Sample> {
    let nl = data.num_labels();
    let mut out = Vec::new();
    for &n in states {
        let s1 = data.init_states.row(n).to_vec();
        if all_jumps {
            for j in 0..crystal.z() {
                let dx = crystal.jump_vector(j);
                let mut disps = vec![[0.0; 3]; nl];
                disps[0] = dx;
                disps[s1[crystal.neighbour(0, j)] as usize] = dx.map(|v| -v);
                out.push(Sample {
                    s2: crystal.jump_permutation(j).apply(&s1),
                    s1: s1.clone(),
                    rate: data.jump_rates_init[[n, j]],
                    jump: j,
                    disps,
                    r1: vec![],
                    r2: vec![],
                });
            }
        } else {
            out.push(Sample {
                s2: data.fin_states.row(n).to_vec(),
                rate: data.rates[n],
                jump: data.jump_selects[n] as usize,
                disps: (0..nl).map(|l| [0, 1, 2].map(|x| data.spec_disps[[n, l, x]])).collect(),
                r1: data.jump_rates_init.row(n).to_vec(),
                r2: data.jump_rates_fin.row(n).to_vec(),
                s1,
            });
        }
    }
    out
}

fn direct_loss(net: &Gcnet, crystal: &CrystalData, data: &Dataset, sp: &[i8], form: Form, aj: bool) -> f64 {
    let states: Vec<usize> = (0..data.len()).collect();
    let mut total = 0.0;
    for smp in samples(crystal, data, &states, aj) {
        if form == Form::Tracer {
            let y1 = site_vectors(net, &smp.s1);
            let y2 = site_vectors(net, &smp.s2);
            let dest = crystal.jump_permutation(smp.jump).inverse();
            let exch = crystal.neighbour(0, smp.jump);
            for (site, l) in smp.s1.iter().enumerate() {
                if !sp.contains(l) {
                    continue;
                }
                let d: f64 = (0..3)
                    .map(|x| {
                        let u = if site == exch { -smp.disps[0][x] } else { 0.0 };
                        (u + y2[0][x][dest.get(site)] - y1[0][x][site]).powi(2)
                    })
                    .sum();
                total += smp.rate * d;
            }
            continue;
        }
        let dx: [f64; 3] = [0, 1, 2].map(|x| sp.iter().map(|&l| smp.disps[l as usize][x]).sum());
        let y1 = y_state(net, &smp.s1, Some(&smp.r1).filter(|r| !r.is_empty()).map(|v| v.as_slice()), sp, form);
        let y2 = y_state(net, &smp.s2, Some(&smp.r2).filter(|r| !r.is_empty()).map(|v| v.as_slice()), sp, form);
        total += smp.rate * (0..3).map(|x| (dx[x] + y2[x] - y1[x]).powi(2)).sum::<f64>();
    }
    total / 6.0
}

fn check(sp: &[i8], form: Form, aj: bool, ncl: i64) {
    let crystal = fcc(4);
    let data = random_dataset(&crystal, 7, &[0.5, 0.5], &[1.0, 0.3], true, 17);
    tch::manual_seed(21);
    let cfg = NetConfig { nl: 1, nch: 3, ncl, num_species: 2, ..NetConfig::default() };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let species = Species::new(sp, 0, 3).unwrap();
    let obj = Objective::new(species, form, aj, ncl, crystal.z()).unwrap();
    let set = SampleSet::new(&data, (0..data.len()).collect(), aj, net.geometry(), 0);
    let got = eval::loss_sum(&net, &set, &obj, 5);
    let want = direct_loss(&net, &crystal, &data, sp, form, aj);
    assert!(((got - want) / want).abs() < 1e-12, "{sp:?} {form:?} aj={aj}: {got} vs {want}");
}

#[test]
fn collective_vacancy() {
    let _rng = common::global_rng();
    check(&[0], Form::Collective, false, 1);
}

#[test]
fn collective_species() {
    let _rng = common::global_rng();
    check(&[1], Form::Collective, false, 1);
    check(&[1, 2], Form::Collective, false, 1);
}

#[test]
fn boundary_training() {
    let _rng = common::global_rng();
    for jump_sort in [true, false] {
        for add_on_sites in [true, false] {
            check(&[0], Form::Boundary { jump_sort, add_on_sites }, false, 12);
            check(&[2], Form::Boundary { jump_sort, add_on_sites }, false, 12);
        }
    }
}

#[test]
fn all_jumps() {
    let _rng = common::global_rng();
    check(&[0], Form::Collective, true, 1);
    check(&[1], Form::Collective, true, 1);
}

#[test]
fn tracer() {
    let _rng = common::global_rng();
    check(&[1], Form::Tracer, false, 1);
    check(&[2], Form::Tracer, true, 1);
}

#[test]
fn l0_scaling_divides_the_loss() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    let data = random_dataset(&crystal, 6, &[0.5, 0.5], &[1.0, 0.3], false, 3);
    let net = Gcnet::from_crystal(&crystal, &NetConfig::default(), common::device()).unwrap();
    let mut obj = Objective::collective(Species::new(&[0], 0, 3).unwrap());
    let set = SampleSet::new(&data, (0..6).collect(), false, net.geometry(), 0);
    let l0 = gcnet_net::batch::uncorrelated_l0(&net, &set, &obj);
    let want: f64 = (0..6).map(|n| data.rates[n] * 0.5).sum::<f64>() / 36.0; // |dx|^2 = 1/2
    assert!((l0 - want).abs() < 1e-14);
    assert_eq!(gcnet_net::batch::training_l0(&net, &set, &obj), l0);
    let plain = eval::loss_sum(&net, &set, &obj, 4);
    obj.l0 = l0;
    assert!((eval::loss_sum(&net, &set, &obj, 4) - plain / l0).abs() < 1e-10);
}

/// The published -l0 under -aj: every one of the z*N jump rows counts, each with its own
/// rate AllJumpRates_Init[n, j] and the jump's displacement, divided by 6 z N (an
/// explicit loop over the rows, as GCNetRun.py's `L0 = dot(rates, |disps|^2) / (6 rows)`).
#[test]
fn training_l0_with_all_jumps_counts_every_jump_row() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    let data = random_dataset(&crystal, 6, &[0.5, 0.5], &[1.0, 0.3], false, 3);
    let net = Gcnet::from_crystal(&crystal, &NetConfig::default(), common::device()).unwrap();
    let a = (0..3).map(|x| data.spec_disps[[0, 0, x]].powi(2)).sum::<f64>().sqrt()
        / crystal.jump_vectors().row(0).iter().map(|x| x * x).sum::<f64>().sqrt();
    for sp in [0i8, 1] {
        let obj = Objective::collective(Species::new(&[sp], 0, 3).unwrap()).over_all_jumps().unwrap();
        let set = SampleSet::new(&data, (0..6).collect(), true, net.geometry(), 0);
        let mut want = 0.0;
        for n in 0..6 {
            for j in 0..12 {
                let dx2: f64 = crystal.jump_vectors().row(j).iter().map(|d| (a * d).powi(2)).sum();
                let jumper = data.init_states[[n, crystal.nn_sites()[[j + 1, 0]] as usize]];
                let moves = sp == 0 || jumper == sp;
                want += if moves { data.jump_rates_init[[n, j]] * dx2 } else { 0.0 };
            }
        }
        want /= 6.0 * 72.0;
        let got = gcnet_net::batch::training_l0(&net, &set, &obj);
        assert!((got - want).abs() < 1e-14 * want.max(1.0), "species {sp}: {got} vs {want}");
        let per_state = gcnet_net::batch::uncorrelated_l0(&net, &set, &obj);
        assert!((per_state - 12.0 * got).abs() < 1e-12 * per_state.max(1.0));
    }
}

#[test]
fn relaxation_vectors_match_direct_computation() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    let data = random_dataset(&crystal, 5, &[0.6, 0.4], &[1.0, 0.5], true, 8);
    let cfg = NetConfig { nl: 0, nch: 2, ncl: 12, num_species: 2, ..NetConfig::default() };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let form = Form::Boundary { jump_sort: true, add_on_sites: true };
    let obj = Objective::new(Species::new(&[1], 0, 3).unwrap(), form, false, 12, 12).unwrap();
    let y = eval::relaxation_vectors(&net, data.fin_states.view(), Some(data.jump_rates_fin.view()), &obj, 2);
    for n in 0..5 {
        let want =
            y_state(&net, &data.fin_states.row(n).to_vec(), Some(&data.jump_rates_fin.row(n).to_vec()), &[1], form);
        for x in 0..3 {
            assert!((y[[n, x]] - want[x]).abs() < 1e-12);
        }
    }
    let cfg = NetConfig { ncl: 1, ..cfg };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let obj = Objective::collective(Species::new(&[0], 0, 3).unwrap()).over_all_jumps().unwrap();
    let (y1, y2) = eval::exit_relaxation_vectors(&net, data.init_states.view(), &obj, 7);
    assert_eq!((y1.dim(), y2.dim()), ((5, 3), (60, 3)));
    for n in 0..5 {
        let s1 = data.init_states.row(n).to_vec();
        let base = y_state(&net, &s1, None, &[0], Form::Collective);
        for x in 0..3 {
            assert!((y1[[n, x]] - base[x]).abs() < 1e-12);
        }
        for j in 0..12 {
            let exit = y_state(&net, &crystal.jump_permutation(j).apply(&s1), None, &[0], Form::Collective);
            for x in 0..3 {
                assert!((y2[[n * 12 + j, x]] - exit[x]).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn objective_rules() {
    let _rng = common::global_rng();
    let sp = |l: &[i8]| Species::new(l, 0, 3).unwrap();
    let bt = Form::Boundary { jump_sort: true, add_on_sites: false };
    assert!(Objective::new(sp(&[0]), bt, false, 1, 12).is_err());
    assert!(Objective::new(sp(&[0]), bt, true, 12, 12).is_err());
    assert!(Objective::new(sp(&[0]), Form::Tracer, false, 1, 12).is_err());
    assert!(Species::new(&[5], 0, 3).is_err());
    assert_eq!(sp(&[2, 1]).name(), "12");
    assert_eq!(sp(&[0]).name(), "vac");
}

/// One y per label from one network: channel c, summed over the sites of label S[c], is
/// y of that label; the loss is the sum of the labels' losses, each divided by its L0; the
/// vectors of eval are the same sums.
#[test]
fn one_y_per_label() {
    let _rng = common::global_rng();
    let crystal = fcc(4);
    let data = random_dataset(&crystal, 7, &[0.5, 0.5], &[1.0, 0.3], true, 17);
    tch::manual_seed(22);
    let cfg = NetConfig { nl: 1, nch: 3, ncl: 2, num_species: 2, ..NetConfig::default() };
    let net = Gcnet::from_crystal(&crystal, &cfg, common::device()).unwrap();
    let y_label = |state: &[i8], c: usize, label: i8| {
        let y = site_vectors(&net, state);
        [0, 1, 2].map(|x| state.iter().enumerate().filter(|(_, l)| **l == label).map(|(s, _)| y[c][x][s]).sum::<f64>())
    };
    let scale = [0.7, 0.2];
    for aj in [false, true] {
        let obj = Objective::labels(Species::new(&[1, 2], 0, 3).unwrap(), scale.to_vec()).unwrap();
        let obj = if aj { obj.over_all_jumps().unwrap() } else { obj };
        obj.check_channels(2, crystal.z()).unwrap();
        let set = SampleSet::new(&data, (0..data.len()).collect(), aj, net.geometry(), 0);
        let got = eval::loss_sum(&net, &set, &obj, 5);
        let states: Vec<usize> = (0..data.len()).collect();
        let mut want = 0.0;
        for smp in samples(&crystal, &data, &states, aj) {
            for (c, label) in [1i8, 2].into_iter().enumerate() {
                let (y1, y2) = (y_label(&smp.s1, c, label), y_label(&smp.s2, c, label));
                let d: f64 = (0..3).map(|x| (smp.disps[label as usize][x] + y2[x] - y1[x]).powi(2)).sum();
                want += smp.rate * d / 6.0 / scale[c];
            }
        }
        assert!(((got - want) / want).abs() < 1e-12, "aj={aj}: {got} vs {want}");
    }
    let obj = Objective::labels(Species::new(&[1, 2], 0, 3).unwrap(), Vec::new()).unwrap();
    let y = eval::label_relaxation_vectors(&net, data.init_states.view(), &obj, 3);
    for n in 0..data.len() {
        let state = data.init_states.row(n).to_vec();
        for (c, label) in [1i8, 2].into_iter().enumerate() {
            let want = y_label(&state, c, label);
            for x in 0..3 {
                assert!((y[[n, c, x]] - want[x]).abs() < 1e-12, "state {n} label {label}");
            }
        }
    }
    // The rules: no vacancy in S, one channel per label, one positive L0 per label.
    assert!(Objective::labels(Species::new(&[0], 0, 3).unwrap(), Vec::new()).is_err());
    assert!(obj.check_channels(1, crystal.z()).is_err());
    assert!(Objective::labels(Species::new(&[1, 2], 0, 3).unwrap(), vec![1.0, 0.0]).is_err());
}
