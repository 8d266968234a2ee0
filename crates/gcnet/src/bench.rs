//! `gcnet bench`: the options mapped onto `gcnet_net::bench`, which measures and reports.

use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use gcnet_net::Products;
use gcnet_net::bench::{BenchConfig, ContentionConfig};
use gcnet_net::run::parse_device;
use tch::{Device, Kind};

/// GCNet throughput: trains and evaluates the published default network (-nl 6 -nch 8
/// -ncL 1, batch 128) on a generated SR-2 data set in an N x N x N primitive FCC cell.
#[derive(Debug, clap::Args)]
pub struct Args {
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
    /// Timed epochs per precision, taking turns; the rate counts their samples over their
    /// summed times.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Samples of the generated data set held in memory (default: --samples); the first
    /// --samples are timed. Shows the peak memory of training with a large data set.
    #[arg(long)]
    dataset: Option<usize>,
    /// Training precision(s) to time; evaluation is always f64.
    #[arg(long, default_value = "both", value_parser = PossibleValuesParser::new(["f64", "f32", "both"]))]
    dtype: String,
    /// Device (cpu, cuda, cuda:N); default the first GPU if there is one.
    #[arg(long, value_parser = parse_device)]
    device: Option<Device>,
    /// CPU threads (default: the CPUs this process may use, limited by
    /// SLURM_CPUS_PER_TASK and OMP_NUM_THREADS).
    #[arg(long)]
    threads: Option<usize>,
    /// Seed of the data set and the weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The code for the layers' matrix products: `gemm` (the gemm crate on the CPU, the
    /// default) or `libtorch` (libtorch's products, as on CUDA).
    #[arg(long, default_value = "gemm", value_parser = PossibleValuesParser::new(["gemm", "libtorch"]))]
    products: String,
    /// Measure f64 training quiet and beside N busy single-threaded processes (`yes >
    /// /dev/null`; gcnet's epochs taking turns, --rounds each), for gcnet and the PyTorch
    /// baseline (scripts/bench_pytorch.py, the project's .venv); print rates and slowdowns.
    #[arg(long, value_name = "N")]
    contend: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let device = a.device.unwrap_or_else(gcnet_net::default_device);
    let kinds = [("f64", Kind::Double), ("f32", Kind::Float)];
    let kinds = kinds.into_iter().filter(|(name, _)| a.dtype == "both" || a.dtype == *name).map(|(_, k)| k).collect();
    let products = if a.products == "gemm" { Products::Gemm } else { Products::Libtorch };
    let (nl, nch, ncl, batch, micro_batch, size, samples, dataset, seed) =
        (a.nl, a.nch, a.ncl, a.batch, a.micro_batch, a.size, a.samples, a.dataset, a.seed);
    let threads = a.threads;
    let cfg = BenchConfig {
        nl,
        nch,
        ncl,
        batch,
        micro_batch,
        size,
        samples,
        rounds: a.rounds,
        dataset,
        kinds,
        device,
        seed,
        products,
        threads,
    };
    match a.contend {
        None => print!("{}", gcnet_net::bench::run(&cfg)?),
        Some(busy) => {
            // The checkout this binary was built in (target/release/gcnet) holds the venv
            // and the baseline script.
            let exe = std::env::current_exe()?;
            let root = exe.ancestors().nth(3).map(std::path::Path::to_path_buf).unwrap_or_default();
            let (python, script) = (root.join(".venv/bin/python"), root.join("scripts/bench_pytorch.py"));
            let baseline = (python.is_file() && script.is_file()).then_some((python, script));
            if baseline.is_none() {
                eprintln!(
                    "gcnet bench: no .venv/bin/python and scripts/bench_pytorch.py beside {}: gcnet alone",
                    exe.display()
                );
            }
            print!("{}", gcnet_net::bench::contention(&ContentionConfig { bench: cfg, busy, baseline })?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
