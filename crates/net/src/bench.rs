//! Throughput of training and evaluation (`gcnet bench`): samples/s and GFLOP/s of the
//! network on a generated SR-2 data set, against a plain libtorch matmul of the GConv
//! shape measured in the same run, and on the CPU also against the same product through
//! the `gemm` crate, which the layers use.

use std::fmt;
use std::time::{Duration, Instant};

use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::LatticeGas;
use gcnet_kernels::threads::Threads;
use tch::{Device, Kind, Tensor};

use crate::bench_turns::{Side, Turns, take_turns};
use crate::error::{Context, Error, Result};
use crate::{Gcnet, NetConfig, Objective, PassTimes, Products, SampleSet, Species, TrainConfig, Trainer, eval};

/// What to time: the published default network (-nl 6 -nch 8 -ncL 1, batch 128) on an
/// N x N x N primitive FCC cell by default.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub nl: i64,
    pub nch: i64,
    pub ncl: i64,
    /// Samples per Adam step.
    pub batch: usize,
    /// Samples per forward/backward pass (0: automatic).
    pub micro_batch: usize,
    /// Cells along each edge of the FCC supercell.
    pub size: usize,
    /// Training samples timed.
    pub samples: usize,
    /// Timed epochs per precision, the precisions taking turns (f64, f32, f64, ...): each
    /// precision's rate is its samples over its summed epoch times, so that both sample the
    /// same stretch of a shared machine, whose speed drifts (see `throughput`).
    pub rounds: usize,
    /// Samples of the generated data set held in memory (`None`: `samples`).
    pub dataset: Option<usize>,
    /// Training precisions timed, in order (evaluation is always f64).
    pub kinds: Vec<Kind>,
    pub device: Device,
    /// Seed of the data set and the weights.
    pub seed: u64,
    /// The code for the layers' matrix products.
    pub products: Products,
    /// CPU threads (`None`: what the process may use, gcnet_kernels::threads).
    pub threads: Option<usize>,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            nl: 6,
            nch: 8,
            ncl: 1,
            batch: 128,
            micro_batch: 0,
            size: 8,
            samples: 256,
            rounds: 5,
            dataset: None,
            kinds: vec![Kind::Double, Kind::Float],
            device: crate::default_device(),
            seed: 1,
            products: Products::Gemm,
            threads: None,
        }
    }
}

/// The figures of one training precision.
#[derive(Clone, Debug)]
pub struct KindFigures {
    pub kind: Kind,
    pub micro_batch: usize,
    /// Samples/s over all timed epochs: their samples over their summed times.
    pub train_rate: f64,
    /// Samples/s of every timed epoch, in order.
    pub train_rates: Vec<f64>,
    /// The timed epochs' passes by phase (summed over the epochs).
    pub passes: PassTimes,
    pub train_gflops: f64,
    /// The matmul rate of the training precision, measured after each of its timed epochs
    /// (the same stretch of a drifting machine's speed), the measurements' flops over their
    /// summed times.
    pub matmul: f64,
    /// Loss of the timed epoch.
    pub loss: f64,
    /// The rate of the layers' own product for the training shape (the gemm crate).
    pub train_layers_rate: Option<f64>,
    pub eval_rate: f64,
    pub eval_gflops: f64,
    pub matmul_f64: f64,
    pub eval_layers_rate: Option<f64>,
    /// L of the trained weights, evaluated in f64.
    pub l: f64,
}

/// Everything `gcnet bench` prints.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub cfg: BenchConfig,
    pub num_sites: usize,
    pub held: usize,
    /// The CPU threads and why (`None` on CUDA).
    pub threads: Option<Threads>,
    pub train_flops: f64,
    pub eval_flops: f64,
    pub kinds: Vec<KindFigures>,
    /// f64 and f32 passes taking turns (CPU, both precisions).
    pub turns: Option<Turns>,
    pub peak_rss_gib: Option<f64>,
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// GFLOP/s of `(rows, k) x (k, n)` matrix products, through libtorch's `mm` or, with
/// `layers`, through the `gemm` crate's product that the GConv layers use.
fn matmul_rate(rows: i64, k: i64, n: i64, kind: Kind, device: Device, layers: bool) -> f64 {
    let a = Tensor::randn([rows, k], (kind, device));
    let b = Tensor::randn([k, n], (kind, device));
    let product = || if layers { gcnet_kernels::products::mm(Products::Gemm, &a, &b) } else { a.mm(&b) };
    let _ = product();
    sync(device);
    let reps = 10;
    let t = Instant::now();
    for _ in 0..reps {
        let _ = product();
    }
    sync(device);
    2.0 * (rows * k * n) as f64 * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}

fn peak_rss_gib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / (1024.0 * 1024.0))
}

/// Trains one epoch and evaluates once per precision of `cfg`, timing both.
pub fn run(cfg: &BenchConfig) -> Result<BenchReport> {
    let device = cfg.device;
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, cfg.size)?);
    let n = cfg.samples.max(1);
    let held = cfg.dataset.unwrap_or(n).max(n);
    let data = LatticeGas::sr2(0.5).generate(&crystal, held, cfg.seed).context("generating the SR-2 data set")?;
    let v = 2i8; // SR-2: species 0 and 1, vacancy label 2
    let net_cfg = NetConfig { nl: cfg.nl, nch: cfg.nch, ncl: cfg.ncl, num_species: 2, ..NetConfig::default() };
    let obj = Objective::collective(Species::new(&[v], v, 3)?);
    let (s, k, ng) = (crystal.num_sites() as f64, (crystal.z() + 1) as f64, crystal.num_group_ops() as f64);
    let forward_flops: f64 = net_cfg.layer_channels().iter().map(|&(i, o)| 2.0 * s * k * (i * o) as f64 * ng).sum();
    let mut report = BenchReport {
        cfg: cfg.clone(),
        num_sites: crystal.num_sites(),
        held,
        threads: match device {
            Device::Cpu => Some(gcnet_kernels::threads::configure(cfg.threads).map_err(Error::Config)?),
            _ => None,
        },
        // training: forward + two backward products per layer, for s1 and s2
        train_flops: 2.0 * 3.0 * forward_flops,
        eval_flops: 2.0 * forward_flops,
        kinds: Vec::new(),
        turns: None,
        peak_rss_gib: None,
    };
    let (kk, nn) = ((k as i64) * cfg.nch, (ng as i64) * cfg.nch);
    // The rate of the layers' own product, where that is not libtorch's (the gemm crate
    // on the CPU).
    let layers_rate = |rows: i64, kind: Kind| {
        cfg.products.uses_gemm(kind, device).then(|| matmul_rate(rows, kk, nn, kind, device, true))
    };
    let fresh = |kind: Kind| -> Result<Gcnet> {
        let mut net = Gcnet::from_crystal_seeded(&crystal, &net_cfg, device, cfg.seed as i64)?;
        net.set_kind(kind);
        net.set_products(cfg.products);
        Ok(net)
    };
    let set_of = |net: &Gcnet, len: usize| SampleSet::new(&data, (0..len).collect(), false, net.geometry(), v);
    // per precision: its training setup, warmed up on one micro-batch (allocations, index
    // caches) with its own optimizer
    let mut setups = Vec::new();
    for &kind in &cfg.kinds {
        let net = fresh(kind)?;
        let mb = if cfg.micro_batch == 0 { net.auto_micro_batch() } else { cfg.micro_batch }.min(cfg.batch);
        let tc = TrainConfig { batch_size: cfg.batch, micro_batch: mb, ..TrainConfig::default() };
        Trainer::new(&net, tc.clone()).run_epoch(&net, &set_of(&net, mb.min(n)), &obj, 0, &mut |_, _| {})?;
        setups.push((kind, mb, tc));
    }
    // the timed epochs, the precisions taking turns; each from the same fresh weights
    let mut rates = vec![Vec::new(); setups.len()];
    // the matmul references (libtorch's, and the gemm crate's where the layers use it)
    // after every timed epoch of the same precision
    let mut references = vec![(Vec::new(), Vec::new()); setups.len()];
    let mut passes = vec![PassTimes::default(); setups.len()];
    let mut trained = Vec::new();
    for round in 0..cfg.rounds.max(1) {
        for (i, (kind, mb, tc)) in setups.iter().enumerate() {
            let net = fresh(*kind)?;
            let set = set_of(&net, n);
            let mut trainer = Trainer::new(&net, tc.clone());
            sync(device);
            let t = Instant::now();
            let epoch = trainer.run_epoch(&net, &set, &obj, 0, &mut |_, _| {})?;
            sync(device);
            rates[i].push(n as f64 / t.elapsed().as_secs_f64());
            passes[i] += epoch.passes;
            let rows = (*mb as f64 * s) as i64;
            references[i].0.push(matmul_rate(rows, kk, nn, *kind, device, false));
            references[i].1.extend(layers_rate(rows, *kind));
            if round == 0 {
                trained.push((net, epoch.loss));
            } else {
                trained[i] = (net, epoch.loss);
            }
        }
    }
    // On the CPU the two precisions' passes once more, taking turns every few samples
    // (crate::bench_turns): a ratio that the machine's drift moves less.
    if let [(Kind::Double, mb64, _), (Kind::Float, mb32, _)] = setups.as_slice()
        && device == Device::Cpu
    {
        let (net64, net32) = (fresh(Kind::Double)?, fresh(Kind::Float)?);
        let (set64, set32) = (set_of(&net64, n), set_of(&net32, n));
        let side = |net, set, micro_batch| Side { net, set, micro_batch };
        report.turns = Some(take_turns(&side(&net64, &set64, *mb64), &side(&net32, &set32, *mb32), &obj, n));
    }
    for (((((kind, mb, _), train_rates), passes), (mut net, loss)), (matmuls, layers)) in
        setups.into_iter().zip(rates).zip(passes).zip(trained).zip(references)
    {
        // equal flops per measurement: their rate together is the harmonic mean
        let matmul = throughput(&matmuls);
        let train_rate = throughput(&train_rates);
        let train_gflops = train_rate * report.train_flops / 1e9;
        let train_layers_rate = (!layers.is_empty()).then(|| throughput(&layers));
        // evaluation in f64 of the trained weights
        net.set_kind(Kind::Double);
        let emb = net.auto_micro_batch().min(cfg.batch);
        let erows = (emb as f64 * s) as i64;
        let set = set_of(&net, n);
        let _ = eval::loss_sum(&net, &set_of(&net, mb.min(n)), &obj, cfg.batch);
        let mm64_before = matmul_rate(erows, kk, nn, Kind::Double, device, false);
        sync(device);
        let t = Instant::now();
        let l = eval::loss_sum(&net, &set, &obj, cfg.batch) / n as f64;
        sync(device);
        let eval_rate = n as f64 / t.elapsed().as_secs_f64();
        let matmul_f64 = mm64_before.max(matmul_rate(erows, kk, nn, Kind::Double, device, false));
        let eval_gflops = eval_rate * report.eval_flops / 1e9;
        report.kinds.push(KindFigures {
            kind,
            micro_batch: mb,
            train_rate,
            train_rates,
            passes,
            train_gflops,
            matmul,
            loss,
            train_layers_rate,
            eval_rate,
            eval_gflops,
            matmul_f64,
            eval_layers_rate: layers_rate(erows, Kind::Double),
            l,
        });
    }
    report.peak_rss_gib = peak_rss_gib();
    Ok(report)
}

/// The rate of epochs of equal sample counts taken together: their samples over their
/// summed times (the harmonic mean of the rates). Not the median: a shared machine's speed
/// drifts between states lasting several epochs, and the median of a few epochs jumps
/// between them, often one precision in each (figures in crates/net/README.md).
fn throughput(rates: &[f64]) -> f64 {
    rates.len() as f64 / rates.iter().map(|r| 1.0 / r).sum::<f64>()
}

fn min(x: &[f64]) -> f64 {
    x.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(x: &[f64]) -> f64 {
    x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The median of some rates (the mean of the middle two for an even count).
fn median(rates: &[f64]) -> f64 {
    let mut r = rates.to_vec();
    r.sort_by(f64::total_cmp);
    let m = r.len() / 2;
    if r.len() % 2 == 1 { r[m] } else { (r[m - 1] + r[m]) / 2.0 }
}

fn kind_name(kind: Kind) -> &'static str {
    if kind == Kind::Float { "f32" } else { "f64" }
}

/// "per sample: layers' forward 4.15 ms, ...": the timed epochs' wall time per sample by
/// phase, the rest being the epochs' time outside the passes (batches, Adam steps).
fn per_sample(p: &PassTimes, rates: &[f64]) -> String {
    let samples = p.samples.max(1) as f64;
    // every timed epoch trains the same samples, so each took samples/len / rate seconds
    let total: f64 = rates.iter().map(|r| samples / rates.len().max(1) as f64 / r).sum();
    let ms = |d: Duration| 1e3 * d.as_secs_f64() / samples;
    let rest = 1e3 * total / samples - ms(p.forward) - ms(p.loss) - ms(p.backward);
    format!(
        "per sample: layers' forward {:.2} ms, loss and its gradient {:.2} ms, layers' backward {:.2} ms, the rest (batches, Adam) {:.2} ms",
        ms(p.forward),
        ms(p.loss),
        ms(p.backward),
        rest
    )
}

/// " (3 epochs: 80.1, 84.3, 85.0; median 84.3)" for more than one timed epoch.
fn rounds(rates: &[f64]) -> String {
    if rates.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = rates.iter().map(|r| format!("{r:.1}")).collect();
    format!(" ({} epochs: {}; median {:.1})", rates.len(), each.join(", "), median(rates))
}

/// The printed report: the same lines, in the same order, as `gcnet bench` has printed.
impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.cfg;
        let n = c.samples.max(1);
        writeln!(
            f,
            "gcnet bench: {0}x{0}x{0} FCC ({1} sites), SR-2, nl {2} nch {3} ncL {4}, batch {5} (micro-batch {6}), {n} samples timed of {7} held, device {8:?}{9}",
            c.size,
            self.num_sites,
            c.nl,
            c.nch,
            c.ncl,
            c.batch,
            c.micro_batch,
            self.held,
            c.device,
            self.threads.map_or(String::new(), |t| format!(", {t}"))
        )?;
        writeln!(
            f,
            "  {:.2} GFLOP per training sample, {:.2} GFLOP per evaluated sample",
            self.train_flops / 1e9,
            self.eval_flops / 1e9
        )?;
        let layers = |f: &mut fmt::Formatter<'_>, gflops: f64, rate: Option<f64>| match rate {
            Some(r) => writeln!(
                f,
                "    (the layers' products go through the gemm crate, whose rate for this shape is {r:.1} GFLOP/s: {:.0}% of it)",
                100.0 * gflops / r
            ),
            None => Ok(()),
        };
        for k in &self.kinds {
            let name = kind_name(k.kind);
            writeln!(
                f,
                "  train {name} (micro-batch {}): {:.2} samples/s{}, {:.1} GFLOP/s = {:.0}% of the {name} matmul rate {:.1} GFLOP/s (loss {:.6e})",
                k.micro_batch,
                k.train_rate,
                rounds(&k.train_rates),
                k.train_gflops,
                100.0 * k.train_gflops / k.matmul,
                k.matmul,
                k.loss
            )?;
            layers(f, k.train_gflops, k.train_layers_rate)?;
            if c.device == Device::Cpu {
                writeln!(f, "    {}", per_sample(&k.passes, &k.train_rates))?;
            }
            writeln!(
                f,
                "  eval f64 after {name} training: {:.2} samples/s, {:.1} GFLOP/s = {:.0}% of the f64 matmul rate {:.1} GFLOP/s; L = {:.10e}",
                k.eval_rate,
                k.eval_gflops,
                100.0 * k.eval_gflops / k.matmul_f64,
                k.matmul_f64,
                k.l
            )?;
            layers(f, k.eval_gflops, k.eval_layers_rate)?;
        }
        if let [a, b] = self.kinds.as_slice()
            && (a.kind, b.kind) == (Kind::Double, Kind::Float)
        {
            writeln!(
                f,
                "  f32 training: {:.2}x the f64 throughput{}; evaluated L differs from f64 training by {:.2e} (relative)",
                b.train_rate / a.train_rate,
                if a.train_rates.len() > 1 {
                    format!(
                        " (over all timed epochs; ratio of the medians {:.2})",
                        median(&b.train_rates) / median(&a.train_rates)
                    )
                } else {
                    String::new()
                },
                ((b.l - a.l) / a.l).abs()
            )?;
        }
        if let Some(t) = &self.turns {
            writeln!(f, "  {t}")?;
        }
        if let Some(p) = self.peak_rss_gib {
            writeln!(f, "  peak resident memory {p:.2} GiB")?;
        }
        Ok(())
    }
}

/// What `gcnet bench --contend N` measures: f64 training epochs of the bench network,
/// quiet and beside `busy` single-threaded busy processes (`yes > /dev/null`, as other work
/// on shared cores), for gcnet and for the PyTorch baseline of the same network.
#[derive(Clone, Debug)]
pub struct ContentionConfig {
    pub bench: BenchConfig,
    pub busy: usize,
    /// The PyTorch baseline: a Python interpreter with torch and scripts/bench_pytorch.py
    /// (`None`: gcnet alone).
    pub baseline: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// Training samples/s of gcnet and of the baseline in one condition.
#[derive(Clone, Debug)]
pub struct Condition {
    pub busy: usize,
    /// gcnet's epochs' samples over their summed times.
    pub gcnet: f64,
    /// gcnet's rate in each epoch, in order (the conditions taking turns).
    pub gcnet_epochs: Vec<f64>,
    pub pytorch: Option<f64>,
}

/// Everything `gcnet bench --contend` prints.
#[derive(Clone, Debug)]
pub struct ContentionReport {
    pub threads: Option<Threads>,
    pub quiet: Condition,
    pub contended: Condition,
}

/// Busy processes that end when dropped.
struct Busy(Vec<std::process::Child>);

impl Busy {
    fn start(n: usize) -> Result<Busy> {
        let mut children = Busy(Vec::new());
        for _ in 0..n {
            let child = std::process::Command::new("yes")
                .stdout(std::process::Stdio::null())
                .spawn()
                .map_err(|e| Error::Config(format!("cannot start a busy process (`yes`): {e}")))?;
            children.0.push(child);
        }
        Ok(children)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        for c in &mut self.0 {
            c.kill().ok();
            c.wait().ok();
        }
    }
}

/// Samples/s that scripts/bench_pytorch.py prints for the bench network, f64.
fn pytorch_rate(
    python: &std::path::Path,
    script: &std::path::Path,
    cfg: &BenchConfig,
    threads: Option<Threads>,
) -> Result<f64> {
    let mut cmd = std::process::Command::new(python);
    gcnet_kernels::threads::without_own_spin_count(&mut cmd);
    cmd.arg(script).args(["--samples", &cfg.samples.to_string(), "--batch", &cfg.batch.to_string(), "--dtype", "f64"]);
    if let Some(t) = threads {
        cmd.args(["--threads", &t.count.to_string()]);
    }
    let out = cmd.output().map_err(|e| Error::Config(format!("cannot run {}: {e}", python.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rate = text
        .split(": ")
        .last()
        .and_then(|t| t.trim().strip_suffix(" samples/s"))
        .and_then(|t| t.parse().ok())
        .filter(|_| out.status.success());
    rate.ok_or_else(|| {
        Error::Config(format!(
            "{} {}: no rate in its output: {text}{}",
            python.display(),
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}

/// Measures gcnet quiet and beside `busy` busy processes, one epoch each, the conditions
/// taking turns for `--rounds` rounds: a shared machine's speed drifts between states that
/// last seconds, and all quiet epochs first would measure the two conditions in different
/// states (crate::bench_turns). Then the baseline's one epoch quiet and one beside them.
pub fn contention(cfg: &ContentionConfig) -> Result<ContentionReport> {
    let one = BenchConfig { kinds: vec![Kind::Double], rounds: 1, ..cfg.bench.clone() };
    let mut threads = None;
    let mut epochs = [Vec::new(), Vec::new()];
    for _ in 0..cfg.bench.rounds.max(1) {
        for (rates, busy) in epochs.iter_mut().zip([0, cfg.busy]) {
            let _busy = Busy::start(busy)?;
            let report = run(&one)?;
            threads = report.threads;
            rates.push(report.kinds[0].train_rate);
        }
    }
    let pytorch = |busy: usize| -> Result<Option<f64>> {
        let Some((python, script)) = &cfg.baseline else { return Ok(None) };
        let _busy = Busy::start(busy)?;
        pytorch_rate(python, script, &one, threads).map(Some)
    };
    let [quiet, contended] = epochs;
    let condition = |busy: usize, epochs: Vec<f64>| -> Result<Condition> {
        Ok(Condition { busy, gcnet: throughput(&epochs), gcnet_epochs: epochs, pytorch: pytorch(busy)? })
    };
    Ok(ContentionReport { threads, quiet: condition(0, quiet)?, contended: condition(cfg.busy, contended)? })
}

impl fmt::Display for ContentionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threads = self.threads.map_or("CUDA".to_string(), |t| t.to_string());
        writeln!(
            f,
            "gcnet bench --contend: f64 training, one epoch per turn, quiet and beside the busy processes taking turns; {threads}"
        )?;
        writeln!(
            f,
            "{:<28} {:>16} {:>16} {:>14}",
            "condition", "gcnet samples/s", "PyTorch samples/s", "gcnet/PyTorch"
        )?;
        for c in [&self.quiet, &self.contended] {
            let name = if c.busy == 0 { "quiet".to_string() } else { format!("{} busy process(es)", c.busy) };
            let (py, ratio) = match c.pytorch {
                Some(p) => (format!("{p:.2}"), format!("{:.2}x", c.gcnet / p)),
                None => ("-".into(), "-".into()),
            };
            writeln!(f, "{name:<28} {:>16.2} {py:>16} {ratio:>14}", c.gcnet)?;
        }
        for c in [&self.quiet, &self.contended] {
            let each: Vec<String> = c.gcnet_epochs.iter().map(|r| format!("{r:.1}")).collect();
            writeln!(f, "  gcnet's epochs {}: {}", if c.busy == 0 { "quiet" } else { "beside them" }, each.join(", "))?;
        }
        write!(f, "slowdown beside the busy processes: gcnet {:.2}x", self.quiet.gcnet / self.contended.gcnet)?;
        let turns: Vec<f64> =
            self.quiet.gcnet_epochs.iter().zip(&self.contended.gcnet_epochs).map(|(q, c)| q / c).collect();
        if turns.len() > 1 {
            write!(f, " (each turn's: median {:.2}, {:.2} to {:.2})", median(&turns), min(&turns), max(&turns))?;
        }
        if let (Some(q), Some(c)) = (self.quiet.pytorch, self.contended.pytorch) {
            write!(f, ", PyTorch {:.2}x", q / c)?;
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epochs of equal sample counts: the rate over all of them is their samples over
    /// their summed times, not the mean of the rates; the median is printed beside it.
    #[test]
    fn throughput_is_samples_over_summed_times() {
        let (n, times) = (256.0, [2.0, 4.0, 5.0]);
        let rates: Vec<f64> = times.iter().map(|t| n / t).collect();
        let total = 3.0 * n / times.iter().sum::<f64>();
        assert!((throughput(&rates) - total).abs() < 1e-12 * total);
        assert_eq!(median(&rates), 64.0);
        assert_eq!(throughput(&[42.0]), 42.0);
        assert_eq!(rounds(&rates), " (3 epochs: 128.0, 64.0, 51.2; median 64.0)");
        assert_eq!(rounds(&[42.0]), "");
    }

    /// The contention report: each condition's rate over its epochs' summed times, the
    /// epochs themselves, and the slowdown with each turn's spread.
    #[test]
    fn contention_slowdown_over_summed_times_and_per_turn() {
        let condition = |busy: usize, epochs: Vec<f64>, pytorch: f64| Condition {
            busy,
            gcnet: throughput(&epochs),
            gcnet_epochs: epochs,
            pytorch: Some(pytorch),
        };
        let report = ContentionReport {
            threads: None,
            quiet: condition(0, vec![100.0, 50.0], 10.0),
            contended: condition(1, vec![50.0, 20.0], 5.0),
        };
        let text = report.to_string();
        for line in [
            "quiet                                   66.67            10.00          6.67x",
            "1 busy process(es)                      28.57             5.00          5.71x",
            "  gcnet's epochs quiet: 100.0, 50.0",
            "  gcnet's epochs beside them: 50.0, 20.0",
            "slowdown beside the busy processes: gcnet 2.33x (each turn's: median 2.25, 2.00 to 2.50), PyTorch 2.00x",
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
        }
    }

    /// The phases per sample, and the rest of the epochs' time beside them: two epochs of
    /// 500 samples at 250 samples/s take 4 s, 4 ms a sample, 3.5 of them in the passes.
    #[test]
    fn phases_per_sample_and_the_rest() {
        let s = |x: f64| Duration::from_secs_f64(x);
        let p = PassTimes { forward: s(2.0), loss: s(0.5), backward: s(1.0), samples: 1000 };
        assert_eq!(
            per_sample(&p, &[250.0, 250.0]),
            "per sample: layers' forward 2.00 ms, loss and its gradient 0.50 ms, layers' backward 1.00 ms, the rest (batches, Adam) 0.50 ms"
        );
    }
}
