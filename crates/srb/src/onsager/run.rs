//! `gcnet onsager`: one network with one relaxation vector per atom label ([`Form::Labels`]),
//! trained on the first `n_train` samples in a directory of its own (rerun, it continues
//! from its last checkpoint), then every `L_ab` on the training and the validation samples
//! with errors and checks, and the kinosons, written as one result set.

use std::fmt;
use std::path::PathBuf;

use gcnet_files::numpy::NpArray;
use gcnet_files::{Overwrite, ResultSet};
use gcnet_net::run::{Mode, Run, RunConfig, Trained};
use gcnet_net::{Form, eval};
use ndarray::{Array2, Array3, Array4, Axis, s};

use super::kinosons::{KinosonSummary, density_chart, summarize};
use super::matrix::{OnsagerEstimate, SampleTerms, add_relaxation};
use crate::error::{Context, Error, Result};
use crate::srb::expansion::{Coefficients, solve_coefficients};
use crate::srb::{DEFAULT_MAX_CONDITION, RelaxationVectors, SingularPolicy, SrbConfig, SrbProblem};

/// Largest relative violation of the sum rules that is rounding: the data's vacancy
/// displacement is minus the atoms' in every sample, so the vacancy row is minus the sum
/// of the atoms' rows to rounding.
const SUM_RULE_TOLERANCE: f64 = 1e-10;

/// What `gcnet onsager` is told.
#[derive(Clone, Debug)]
pub struct OnsagerRun {
    /// The published options with their meaning: the data (-DP, -prm), crystal (-cr),
    /// -td, -vSp, -nt, the network (-nl, -nch, -a0, -wm, -ws, -nosym), the schedule (-eep,
    /// -i) and Adam (-lr, -dcy, -bs, -shf, seed), device, precision and threads. The run
    /// sets the mode, the species (every atom label), the form and ncL itself.
    pub config: RunConfig,
    /// Correct each label's y by the scaled residual bias (SPEC section 7) before the
    /// matrix is formed.
    pub srb: bool,
    /// The vector cluster expansion instead of the network (`--vce -mo M -cc C`): every
    /// label's coefficients from one shared W; no network is trained, and the files are
    /// named `onsager_vce_*`, `kinosons_vce_*`.
    pub vce: Option<VceModel>,
}

/// The cluster expansion of `--vce` (SPEC section 10; `gcnet vce`'s -mo, -cc, -rc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VceModel {
    pub max_order: usize,
    pub cutoff: f64,
    pub rcond: f64,
}

/// What the relaxation vectors of a report come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Model {
    /// The network's checkpoint of this epoch (-eep).
    Network { epoch: usize },
    /// The cluster expansion, with its number of vector groups and the rank of W.
    Vce { model: VceModel, vector_groups: usize, rank: usize },
}

impl Model {
    /// The part of the output names after `onsager` and `kinosons`.
    fn infix(&self) -> &'static str {
        match self {
            Model::Network { .. } => "",
            Model::Vce { .. } => "_vce",
        }
    }
}

/// The scaled residual bias coefficients of each atom label (--srb).
pub type SrbCoefficients = Option<Vec<(usize, Coefficients)>>;

/// The moves out of a state whose terms make its kinoson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moves {
    /// Every one of the z jumps at its own rate (the default: the recorded step's
    /// expectation given the state).
    AllJumps,
    /// The recorded step at the escape rate (--srb, whose coefficients are fitted on it).
    RecordedStep,
}

/// What [`OnsagerRun::run`] computed and wrote.
#[derive(Clone, Debug)]
pub struct OnsagerReport {
    pub num_labels: usize,
    pub vacancy: usize,
    /// What the relaxation vectors come from.
    pub model: Model,
    /// The training done by this run (`None`: the checkpoint at -eep was there).
    pub trained: Option<Trained>,
    pub n_train: usize,
    pub train: OnsagerEstimate,
    pub validation: OnsagerEstimate,
    /// Which moves out of each state the terms sum.
    pub moves: Moves,
    /// Per-state relaxed displacements, rates and jumping labels, in sample order.
    pub terms: SampleTerms,
    /// With --srb, the coefficients of each atom label.
    pub srb: SrbCoefficients,
    /// Files written (the matrices, the kinosons, the plot).
    pub files: Vec<PathBuf>,
}

impl OnsagerRun {
    /// Trains (or continues) the network, computes the matrices and writes them.
    pub fn run(&self) -> Result<OnsagerReport> {
        let mut cfg = self.config.clone();
        let layout = gcnet_data::DataFile::open(&cfg.data)
            .context(format!("reading the data set -DP {}", cfg.data.display()))?
            .layout();
        let (nl, v) = (layout.num_labels, cfg.vacancy as usize);
        if v >= nl {
            return Err(Error::Species(format!(
                "-vSp {v} is not one of the data's labels {}",
                gcnet_data::label_range(nl)
            )));
        }
        if cfg.n_train < 2 || cfg.n_train + 2 > layout.len {
            return Err(Error::Config(format!(
                "-nt {} leaves no validation samples or too few for errors: the data set has {} samples, and each side \
                 needs at least two",
                cfg.n_train, layout.len
            )));
        }
        if self.vce.is_some() && (self.srb || cfg.checks.permuted) {
            return Err(Error::Config(
                "--vce takes neither --srb (the expansion is solved exactly in its function space) nor -prm (its \
                 training states are the file's first -nt)"
                    .into(),
            ));
        }
        if self.srb && cfg.checks.permuted {
            return Err(Error::Config(
                "--srb fits its coefficients on the file's first -nt samples; with -prm the training samples are others"
                    .into(),
            ));
        }
        let atoms: Vec<i8> = (0..nl).filter(|&a| a != v).map(|a| a as i8).collect();
        cfg.mode = Mode::Train;
        cfg.form = Form::Labels;
        cfg.species = atoms.clone();
        cfg.net.ncl = atoms.len() as i64;
        cfg.tnet = cfg.tdata.clone();
        if self.vce.is_some() {
            // No network, no epochs: the checks of the configuration need an end epoch.
            cfg.end.get_or_insert(0);
        }
        let end = cfg.end_epoch().map_err(Error::Net)?;
        if !end.is_multiple_of(cfg.interval.max(1)) {
            return Err(Error::Config(format!(
                "-eep {end} must be a multiple of -i {}: the matrix is computed with the checkpoint of epoch -eep",
                cfg.interval
            )));
        }
        cfg.start = 0;
        cfg.scratch = true;
        let mut run = cfg.prepare().map_err(Error::Net)?;
        if let Some(model) = self.vce {
            return self.run_vce(&run, model);
        }
        let trained = self.train(&mut run, end)?;
        let report = self.analyse(&run, end)?;
        Ok(OnsagerReport { trained, ..report })
    }

    /// Trains from the last checkpoint in the network directory (none: a new network) to
    /// `end`; nothing when ep_{end}.pt is there.
    fn train(&self, run: &mut Run, end: usize) -> Result<Option<Trained>> {
        let latest = (0..=end).rev().find(|&k| run.checkpoint(k).exists());
        // A checkpoint found is used only when its training samples are this run's (same
        // data set, -nt, order and sampling): otherwise the "training" matrix would be of
        // samples it never saw.
        let check = |k: usize| {
            run.check_checkpoint(&run.checkpoint(k), true).map_err(|e| {
                let first = e.to_string().lines().next().unwrap_or_default().to_string();
                Error::Config(format!(
                    "{first}\n(the network directory {} holds a network trained on other samples or settings: use \
                     another -td, or move the directory away to train a new network)",
                    run.dir.display()
                ))
            })
        };
        match latest {
            Some(k) if k == end => {
                check(k)?;
                eprintln!("gcnet: {} exists: the matrix is computed with it", run.checkpoint(end).display());
                return Ok(None);
            }
            Some(k) => {
                check(k)?;
                eprintln!("gcnet: continuing from {}", run.checkpoint(k).display());
                run.cfg.start = k;
                run.cfg.scratch = false;
            }
            None => {}
        }
        match run.train() {
            Ok(t) => Ok(Some(t)),
            Err(gcnet_net::Error::Interrupted { signal, epoch, batch, last_good }) => {
                let from = last_good.map_or("the start".to_string(), |(_, p)| p.display().to_string());
                Err(Error::Config(format!(
                    "stopped by {signal} in epoch {epoch} before batch {batch}; no file is half-written. Rerun the same \
                     command: it continues from {from}"
                )))
            }
            Err(e) => Err(Error::Net(e)),
        }
    }

    fn analyse(&self, run: &Run, end: usize) -> Result<OnsagerReport> {
        let net = run.load_network(end).map_err(Error::Net)?;
        let data = &run.data.data;
        let v = run.obj.species.vacancy();
        eprintln!(
            "gcnet: relaxation vectors of {} labels for {} states{}",
            run.obj.species.labels().len(),
            data.len(),
            if self.srb { " and their exit states (--srb)" } else { " and their z exits" }
        );
        let (terms, srb) = if self.srb { self.recorded_steps(run, &net)? } else { (all_exits(run, &net), None) };
        let order = &run.data.order;
        let terms = SampleTerms {
            u: terms.u.select(Axis(0), order),
            rates: terms.rates.select(Axis(0), order),
            jumping: terms.jumping.select(Axis(0), order),
            vacancy: v,
        };
        let moves = if self.srb { Moves::RecordedStep } else { Moves::AllJumps };
        let record = run.network_result_record("gcnet onsager", end).map_err(Error::Net)?.setting("srb", self.srb);
        let report = self.finish(run, Model::Network { epoch: end }, moves, terms, record)?;
        Ok(OnsagerReport { srb, ..report })
    }

    /// The matrix of the cluster expansion: W and every atom label's b in one pass over
    /// the training states, then every jump of every state.
    fn run_vce(&self, run: &Run, model: VceModel) -> Result<OnsagerReport> {
        let data = &run.data.data;
        let v = run.obj.species.vacancy();
        let geometry = gcnet_vce::SiteGeometry::from_crystal(&run.crystal)?;
        let params = gcnet_vce::BasisParams {
            max_order: model.max_order,
            cutoff: model.cutoff,
            num_labels: data.num_labels(),
            vacancy: v,
        };
        let expansion = gcnet_vce::Expansion::build(geometry, params, false)?;
        let choice = gcnet_vce::SpeciesChoice { species: v, vacancy: v };
        let samples = gcnet_vce::Samples::new(data, &run.data.path, &expansion, choice)?;
        eprintln!(
            "gcnet: vector cluster expansion -mo {} -cc {}: {} vector groups; W over {} training states",
            model.max_order,
            model.cutoff,
            expansion.num_vector_groups(),
            run.n_train
        );
        let t = gcnet_vce::onsager::label_terms(
            &expansion,
            &samples,
            data.spec_disps.view(),
            run.n_train,
            run.cfg.all_jumps,
            true,
            model.rcond,
        )?;
        let rank = t.solutions.first().map_or(0, |s| s.rank);
        let terms = SampleTerms { u: t.u, rates: t.rates, jumping: t.jumping, vacancy: v };
        let record = gcnet_files::Record::new("gcnet onsager", env!("CARGO_PKG_VERSION"))
            .input_hashed("data", run.data.input.clone())
            .input_hashed("crystal", run.crystal_input.clone())
            .setting("model", "vce")
            .setting("max_order", model.max_order)
            .setting("cutoff", model.cutoff)
            .setting("rcond", model.rcond)
            .setting("vacancy", v)
            .setting("n_train", run.n_train)
            .setting("all_jumps", run.cfg.all_jumps);
        let vector_groups = expansion.num_vector_groups();
        self.finish(run, Model::Vce { model, vector_groups, rank }, Moves::AllJumps, terms, record)
    }

    /// The matrices of the training and validation states, the sum-rule check, and the
    /// files written as one set with `record`.
    fn finish(
        &self,
        run: &Run,
        model: Model,
        moves: Moves,
        terms: SampleTerms,
        record: gcnet_files::Record,
    ) -> Result<OnsagerReport> {
        let (n, nt) = (terms.len(), run.n_train);
        let train = terms.estimate(0..nt);
        let validation = terms.estimate(nt..n);
        for (what, e) in [("training", &train), ("validation", &validation)] {
            if e.sum_rule_deviation > SUM_RULE_TOLERANCE {
                return Err(Error::Config(format!(
                    "the vacancy row of the {what} matrix is not minus the sum of the atoms' rows (relative deviation \
                     {:.2e}): the data set -DP {} has vacancy displacements (SpecDisps) that are not minus the atoms' \
                     sum; nothing was written",
                    e.sum_rule_deviation,
                    run.cfg.data.display()
                )));
            }
        }
        let files = self.write(run, model.infix(), record, &terms, &train, &validation)?;
        Ok(OnsagerReport {
            num_labels: terms.num_labels(),
            vacancy: terms.vacancy,
            model,
            trained: None,
            n_train: nt,
            train,
            validation,
            moves,
            terms,
            srb: None,
            files,
        })
    }

    /// The recorded step of every state (file order), each atom label's y corrected by the
    /// scaled residual bias fitted on the first `n_train` samples.
    fn recorded_steps(&self, run: &Run, net: &gcnet_net::Gcnet) -> Result<(SampleTerms, SrbCoefficients)> {
        let (data, bs, v) = (&run.data.data, run.cfg.train.batch_size, run.obj.species.vacancy());
        let atoms = run.obj.species.labels().to_vec();
        let (y1, e1) = eval::label_exit_relaxation_vectors(net, data.init_states.view(), &run.obj, bs);
        let (y2, e2) = eval::label_exit_relaxation_vectors(net, data.fin_states.view(), &run.obj, bs);
        let n = data.len();
        let mut u = data.spec_disps.clone().insert_axis(Axis(1));
        let dy = (&y2 - &y1).insert_axis(Axis(1));
        add_relaxation(&mut u, dy.view(), v);
        let mut coefficients = Vec::new();
        for (c, &a) in atoms.iter().enumerate() {
            let pick = |y: &Array3<f64>| y.slice(s![.., c, ..]).to_owned();
            let y = RelaxationVectors { st1: pick(&y1), st2: pick(&y2), st1_exits: pick(&e1), st2_exits: pick(&e2) };
            let config = SrbConfig {
                species: vec![a],
                vacancy: v,
                a0: run.net.a0,
                n_train: run.n_train,
                basis_labels: None,
                max_condition: DEFAULT_MAX_CONDITION,
                singular: SingularPolicy::Truncate,
            };
            let problem = SrbProblem::new(data, &run.crystal, &y, &config).context(format!("--srb of label {a}"))?;
            let expansion = problem.expand(0..run.n_train);
            let coef = solve_coefficients(&expansion, &problem.basis_labels, config.max_condition, config.singular)
                .context(format!("--srb of label {a}"))?;
            let corrected = problem.corrected_residuals(&coef.theta);
            for i in 0..n {
                for x in 0..3 {
                    let shift = corrected[[i, x]] - u[[i, 0, a, x]];
                    u[[i, 0, a, x]] += shift;
                    u[[i, 0, v, x]] -= shift;
                }
            }
            coefficients.push((a, coef));
        }
        let rates = data.rates.clone().insert_axis(Axis(1));
        let jumping = Array2::from_shape_fn((n, 1), |(i, _)| jumping_label(data.spec_disps.slice(s![i, .., ..]), v));
        Ok((SampleTerms { u, rates, jumping, vacancy: v }, Some(coefficients)))
    }

    /// onsager{I}_{T}.npy, onsager{I}_err_{T}.npy, onsager{I}_val_{T}.npy,
    /// onsager{I}_val_err_{T}.npy, kinosons{I}_{a}_{T}.npy of every label,
    /// kinosons{I}_jumping_{T}.npy and the kinoson plot (I: `infix`), as one set with its
    /// record.
    fn write(
        &self,
        run: &Run,
        infix: &str,
        record: gcnet_files::Record,
        terms: &SampleTerms,
        train: &OnsagerEstimate,
        validation: &OnsagerEstimate,
    ) -> Result<Vec<PathBuf>> {
        let dir = if run.cfg.work_dir.as_os_str().is_empty() { PathBuf::from(".") } else { run.cfg.work_dir.clone() };
        gcnet_files::check_writable(&dir)?;
        gcnet_files::remove_orphans(&dir)?;
        let mut set = ResultSet::new(record, Overwrite::Replace, &run.inputs);
        let t = &run.cfg.tdata;
        let mut files = Vec::new();
        let mut npy = |set: &mut ResultSet, name: String, role: &str, array: NpArray| -> Result<()> {
            let path = dir.join(format!("{name}.npy"));
            set.npy(&path, role, &array)?;
            files.push(path);
            Ok(())
        };
        let i = infix;
        npy(&mut set, format!("onsager{i}_{t}"), "onsager", train.l.clone().into())?;
        npy(&mut set, format!("onsager{i}_err_{t}"), "onsager_err", train.error.clone().into())?;
        npy(&mut set, format!("onsager{i}_val_{t}"), "onsager_val", validation.l.clone().into())?;
        npy(&mut set, format!("onsager{i}_val_err_{t}"), "onsager_val_err", validation.error.clone().into())?;
        let n = terms.len();
        for a in 0..terms.num_labels() {
            let k = terms.move_terms(a, a, 0..n);
            npy(&mut set, format!("kinosons{i}_{a}_{t}"), &format!("kinosons_{a}"), k.into())?;
        }
        let jumping = terms.jumping.mapv(|j| j as i64);
        npy(&mut set, format!("kinosons{i}_jumping_{t}"), "kinosons_jumping", jumping.into())?;
        // The plot of the atoms' kinosons together, one curve per jumping element.
        let plot = dir.join(format!("kinosons{i}_{t}.png"));
        let atoms = (0..terms.num_labels()).filter(|&a| a != terms.vacancy);
        let total = atoms.fold(Array2::zeros(terms.rates.dim()), |acc, a| acc + terms.move_terms(a, a, 0..n));
        let title = format!("kinosons of the atoms (sum over their labels), T = {t}");
        let chart = density_chart(&title, total.view(), terms.jumping.view(), 30);
        let file = set.file(&plot, "kinosons_plot")?;
        chart
            .draw_png_into(file.path())
            .map_err(|e| Error::Config(format!("the kinoson plot {}: {e}", plot.display())))?;
        files.push(plot);
        set.commit()?;
        Ok(files)
    }
}

/// Every jump out of every state (file order): the exchanged atom moves by `-a0 dx_j`, the
/// vacancy by `a0 dx_j`, at the jump's own rate, and y of the exit state minus y of the
/// state relaxes it. Their sum over the jumps is the recorded step's expectation given the
/// state: the same L, with smaller errors.
fn all_exits(run: &Run, net: &gcnet_net::Gcnet) -> SampleTerms {
    let (data, bs, v) = (&run.data.data, run.cfg.train.batch_size, run.obj.species.vacancy());
    let g = net.geometry();
    let (n, z, nl) = (data.len(), g.z, data.num_labels());
    let (y, exits) = eval::label_exit_relaxation_vectors(net, data.init_states.view(), &run.obj, bs);
    let scale = gcnet_net::SampleSet::new(data, Vec::new(), true, g, v as i8).jump_scale;
    let jumping = Array2::from_shape_fn((n, z), |(i, j)| data.init_states[[i, g.neighbour(0, j)]] as usize);
    let mut u = Array4::zeros((n, z, nl, 3));
    for i in 0..n {
        for j in 0..z {
            for x in 0..3 {
                u[[i, j, jumping[[i, j]], x]] = -scale * g.jumps[j][x];
                u[[i, j, v, x]] = scale * g.jumps[j][x];
            }
        }
    }
    let c = y.shape()[1];
    let dy = Array4::from_shape_fn((n, z, c, 3), |(i, j, a, x)| exits[[i * z + j, a, x]] - y[[i, a, x]]);
    add_relaxation(&mut u, dy.view(), v);
    SampleTerms { u, rates: data.jump_rates_init.clone(), jumping, vacancy: v }
}

/// The atom label that moves in a sample (the one non-vacancy label with a displacement).
fn jumping_label(disps: ndarray::ArrayView2<'_, f64>, vacancy: usize) -> usize {
    (0..disps.nrows())
        .filter(|&a| a != vacancy)
        .max_by(|&a, &b| disps.row(a).dot(&disps.row(a)).total_cmp(&disps.row(b).dot(&disps.row(b))))
        .unwrap_or(vacancy)
}

impl OnsagerReport {
    /// The kinoson summary of every label over all samples.
    pub fn kinosons(&self) -> Vec<KinosonSummary> {
        let n = self.terms.len();
        (0..self.num_labels)
            .map(|a| summarize(a, self.terms.move_terms(a, a, 0..n).view(), self.terms.jumping.view()))
            .collect()
    }

    /// The matrix of `e` as rows of `value +- error`.
    fn matrix_table(&self, f: &mut fmt::Formatter<'_>, title: &str, e: &OnsagerEstimate) -> fmt::Result {
        writeln!(
            f,
            "{title} ({} samples), L_ab +- standard error, labels in file order (vacancy {}):",
            e.samples, self.vacancy
        )?;
        write!(f, "{:>6}", "")?;
        for b in 0..self.num_labels {
            write!(f, "{:>24}", if b == self.vacancy { format!("{b} (vac)") } else { b.to_string() })?;
        }
        writeln!(f)?;
        for a in 0..self.num_labels {
            write!(f, "{a:>6}")?;
            for b in 0..self.num_labels {
                write!(f, "{:>24}", format!("{:.5e} +- {:.1e}", e.l[[a, b]], e.error[[a, b]]))?;
            }
            writeln!(f)?;
        }
        let psd = if e.positive_semidefinite() {
            "positive semidefinite within errors"
        } else {
            "NOT positive semidefinite within errors"
        };
        writeln!(
            f,
            "  checks: symmetric (exactly, by construction); sum rules L_va = -sum_b L_ab, L_vv = sum_ab L_ab to {:.1e} \
             (relative); atoms' block {psd}: smallest eigenvalue {:.4e} +- {:.1e}",
            e.sum_rule_deviation, e.min_eigenvalue, e.min_eigenvalue_error
        )
    }
}

impl fmt::Display for OnsagerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = match self.moves {
            Moves::AllJumps => "; every state's term sums its z jumps",
            Moves::RecordedStep => "; recorded steps, y corrected by the scaled residual bias",
        };
        match self.model {
            Model::Network { epoch } => writeln!(f, "Onsager matrix from the network of epoch {epoch}{with}")?,
            Model::Vce { model, vector_groups, rank } => writeln!(
                f,
                "Onsager matrix from the vector cluster expansion -mo {} -cc {} ({vector_groups} vector groups, W of \
                 rank {rank} with -rc {}){with}",
                model.max_order, model.cutoff, model.rcond
            )?,
        }
        self.matrix_table(f, "training samples", &self.train)?;
        self.matrix_table(f, "validation samples", &self.validation)?;
        for k in self.kinosons() {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}
