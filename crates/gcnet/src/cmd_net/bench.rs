//! `gcnet bench`: training and evaluation throughput of GCNet in samples/s and GFLOP/s,
//! against a plain libtorch matmul of the GConv shape measured in the same run, and on the
//! CPU also against the same product through the `gemm` crate, which the layers use.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use gcnet_crystal::{CellKind, Crystal, CrystalData, LatticeKind};
use gcnet_data::LatticeGas;
use gcnet_net::{Form, Gcnet, NetConfig, Objective, Products, SampleSet, Species, TrainConfig, Trainer, eval};
use tch::{Device, Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BenchDtype {
    F64,
    F32,
    Both,
}

/// GCNet throughput: trains and evaluates the published default network (-nl 6 -nch 8
/// -ncL 1, batch 128) on a generated SR-2 data set in an N x N x N primitive FCC cell.
#[derive(Debug, Parser)]
#[command(name = "gcnet bench")]
struct BenchArgs {
    /// Hidden layers.
    #[arg(long, default_value_t = 6)]
    nl: i64,
    /// Channels per hidden layer.
    #[arg(long, default_value_t = 8)]
    nch: i64,
    /// Channels of the last layer.
    #[arg(long, default_value_t = 1)]
    ncl: i64,
    /// Samples per Adam step.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Samples per forward/backward pass (0: automatic, activations under 6 MiB).
    #[arg(long, default_value_t = 0)]
    micro_batch: usize,
    /// Cells along each edge of the FCC supercell.
    #[arg(long, default_value_t = 8)]
    size: usize,
    /// Training samples timed (a multiple of --batch is best).
    #[arg(long, default_value_t = 256)]
    samples: usize,
    /// Samples of the generated data set held in memory (default: --samples); the first
    /// --samples are timed. Shows the peak memory of training with a large data set.
    #[arg(long)]
    dataset: Option<usize>,
    /// Training precision(s) to time; evaluation is always f64.
    #[arg(long, value_enum, default_value_t = BenchDtype::Both)]
    dtype: BenchDtype,
    /// Device (cpu, cuda, cuda:N); default the first GPU if there is one.
    #[arg(long)]
    device: Option<String>,
    /// libtorch intra-op threads (default: libtorch's choice, one per core).
    #[arg(long)]
    threads: Option<i32>,
    /// Seed of the data set and the weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The code for the layers' matrix products: `gemm` (the gemm crate on the CPU, the
    /// default) or `libtorch` (libtorch's products, as on CUDA).
    #[arg(long, value_enum, default_value_t = ProductsArg::Gemm)]
    products: ProductsArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProductsArg {
    Gemm,
    Libtorch,
}

impl ProductsArg {
    fn choice(self) -> Products {
        match self {
            ProductsArg::Gemm => Products::Gemm,
            ProductsArg::Libtorch => Products::Libtorch,
        }
    }
}

fn peak_rss_gib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / (1024.0 * 1024.0))
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

/// The line that compares a throughput with the rate of the layers' own product, where
/// that is not libtorch's (the `gemm` crate on the CPU).
fn layers_rate_line(
    products: Products,
    gflops: f64,
    rows: i64,
    k: i64,
    n: i64,
    kind: Kind,
    device: Device,
) -> Option<String> {
    products.uses_gemm(kind, device).then(|| {
        let r = matmul_rate(rows, k, n, kind, device, true);
        format!(
            "    (the layers' products go through the gemm crate, whose rate for this shape is {r:.1} GFLOP/s: {:.0}% of it)",
            100.0 * gflops / r
        )
    })
}

pub(crate) fn run(args: &[OsString]) -> anyhow::Result<ExitCode> {
    let a = BenchArgs::parse_from(args);
    if let Some(t) = a.threads {
        tch::set_num_threads(t);
    }
    let device = match a.device.as_deref() {
        None => gcnet_net::default_device(),
        Some("cpu") => Device::Cpu,
        Some(d) => Device::Cuda(d.strip_prefix("cuda:").and_then(|n| n.parse().ok()).unwrap_or(0)),
    };
    let crystal = CrystalData::from_crystal(&Crystal::cube(LatticeKind::Fcc, CellKind::Primitive, a.size)?);
    let n = a.samples.max(1);
    let held = a.dataset.unwrap_or(n).max(n);
    let data = LatticeGas::sr2(0.5).generate(&crystal, held, a.seed).context("generating the SR-2 data set")?;
    let v = 2i8; // SR-2: species 0 and 1, vacancy label 2
    let cfg = NetConfig { nl: a.nl, nch: a.nch, ncl: a.ncl, num_species: 2, ..NetConfig::default() };
    let species = Species::new(&[v], v, 3)?;
    let obj = Objective::new(species, Form::Collective, false, a.ncl, crystal.z())?;
    let (s, k, ng) = (crystal.num_sites() as f64, (crystal.z() + 1) as f64, crystal.num_group_ops() as f64);
    let forward_flops: f64 = cfg.layer_channels().iter().map(|&(i, o)| 2.0 * s * k * (i * o) as f64 * ng).sum();
    // training: forward + two backward products per layer, for s1 and s2
    let train_flops = 2.0 * 3.0 * forward_flops;
    let eval_flops = 2.0 * forward_flops;
    println!(
        "gcnet bench: {}x{}x{} FCC ({} sites), SR-2, nl {} nch {} ncL {}, batch {} (micro-batch {}), {n} samples timed of {held} held, device {device:?}, {} threads",
        a.size,
        a.size,
        a.size,
        crystal.num_sites(),
        a.nl,
        a.nch,
        a.ncl,
        a.batch,
        a.micro_batch,
        tch::get_num_threads()
    );
    println!(
        "  {:.2} GFLOP per training sample, {:.2} GFLOP per evaluated sample",
        train_flops / 1e9,
        eval_flops / 1e9
    );
    let (kk, nn) = ((k as i64) * a.nch, (ng as i64) * a.nch);
    let kinds: Vec<Kind> = match a.dtype {
        BenchDtype::F64 => vec![Kind::Double],
        BenchDtype::F32 => vec![Kind::Float],
        BenchDtype::Both => vec![Kind::Double, Kind::Float],
    };
    let mut evaluated = Vec::new();
    for kind in kinds {
        let name = if kind == Kind::Float { "f32" } else { "f64" };
        let fresh = || -> anyhow::Result<Gcnet> {
            tch::manual_seed(a.seed as i64);
            let mut net = Gcnet::from_crystal(&crystal, &cfg, device)?;
            net.set_kind(kind);
            net.set_products(a.products.choice());
            Ok(net)
        };
        let net = fresh()?;
        let mb = if a.micro_batch == 0 { net.auto_micro_batch() } else { a.micro_batch }.min(a.batch);
        let rows = (mb as f64 * s) as i64;
        let tc = TrainConfig { batch_size: a.batch, micro_batch: mb, ..TrainConfig::default() };
        // warm-up on one micro-batch (allocations, index caches), with its own optimizer
        let warm = SampleSet::new(&data, (0..mb.min(n)).collect(), false, net.geometry(), v);
        Trainer::new(&net, tc.clone()).run_epoch(&net, &warm, &obj, 0, &mut |_, _| {})?;
        // the matmul reference before and after the timed run; the faster one counts
        let mm_before = matmul_rate(rows, kk, nn, kind, device, false);
        let mut net = fresh()?;
        let set = SampleSet::new(&data, (0..n).collect(), false, net.geometry(), v);
        let mut trainer = Trainer::new(&net, tc);
        sync(device);
        let t = Instant::now();
        let report = trainer.run_epoch(&net, &set, &obj, 0, &mut |_, _| {})?;
        sync(device);
        let train_s = t.elapsed().as_secs_f64();
        let mm = mm_before.max(matmul_rate(rows, kk, nn, kind, device, false));
        let train_rate = n as f64 / train_s;
        let train_gflops = train_rate * train_flops / 1e9;
        println!(
            "  train {name} (micro-batch {mb}): {train_rate:.2} samples/s, {train_gflops:.1} GFLOP/s = {:.0}% of the {name} matmul rate {mm:.1} GFLOP/s (loss {:.6e})",
            100.0 * train_gflops / mm,
            report.loss
        );
        if let Some(line) = layers_rate_line(a.products.choice(), train_gflops, rows, kk, nn, kind, device) {
            println!("{line}");
        }
        // evaluation in f64 of the trained weights
        net.set_kind(Kind::Double);
        let emb = net.auto_micro_batch().min(a.batch);
        let erows = (emb as f64 * s) as i64;
        let _ = eval::loss_sum(&net, &warm, &obj, a.batch);
        let mm64_before = matmul_rate(erows, kk, nn, Kind::Double, device, false);
        sync(device);
        let t = Instant::now();
        let l = eval::loss_sum(&net, &set, &obj, a.batch) / n as f64;
        sync(device);
        let eval_rate = n as f64 / t.elapsed().as_secs_f64();
        let mm64 = mm64_before.max(matmul_rate(erows, kk, nn, Kind::Double, device, false));
        let eval_gflops = eval_rate * eval_flops / 1e9;
        println!(
            "  eval f64 after {name} training: {eval_rate:.2} samples/s, {eval_gflops:.1} GFLOP/s = {:.0}% of the f64 matmul rate {mm64:.1} GFLOP/s; L = {l:.10e}",
            100.0 * eval_gflops / mm64
        );
        if let Some(line) = layers_rate_line(a.products.choice(), eval_gflops, erows, kk, nn, Kind::Double, device) {
            println!("{line}");
        }
        evaluated.push((name, train_rate, l));
    }
    if let [(_, r64, l64), (_, r32, l32)] = evaluated.as_slice() {
        println!(
            "  f32 training: {:.2}x the f64 throughput; evaluated L differs from f64 training by {:.2e} (relative)",
            r32 / r64,
            ((l32 - l64) / l64).abs()
        );
    }
    if let Some(p) = peak_rss_gib() {
        println!("  peak resident memory {p:.2} GiB");
    }
    Ok(ExitCode::SUCCESS)
}
