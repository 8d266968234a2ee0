//! How many threads the CPU work uses: what the process may run on, never more.
//!
//! The limit is the smallest of: the CPUs in the process's affinity mask and its cgroup CPU
//! quota (both read by `std::thread::available_parallelism` on Linux: `srun -c`, `taskset`,
//! a container's `--cpus`), `SLURM_CPUS_PER_TASK` (a job step may see every CPU of the
//! node) and `OMP_NUM_THREADS`, each where it is set. An explicit count (`--threads`)
//! overrides the limit. This crate's kernels (their own thread pool) and libtorch's
//! intra-op threads (its OpenMP team, for libtorch's own operations) are set to the count,
//! so the two always agree; libtorch gets one thread where the environment keeps OpenMP's
//! idle threads spinning without end.
//!
//! Waiting threads spin only briefly before they sleep ([`SPIN_COUNT`]), so that a process
//! sharing its cores with other work is not slowed by its own idle threads.

use std::fmt;

/// Where a thread count came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `--threads` (or a program's explicit choice).
    Explicit,
    /// The affinity mask or the cgroup CPU quota.
    Cpus,
    SlurmCpusPerTask,
    OmpNumThreads,
}

/// A thread count and what decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threads {
    pub count: usize,
    pub source: Source,
    /// The limit from the machine and the environment (what `count` would be without an
    /// explicit choice).
    pub limit: usize,
    /// libtorch's intra-op threads: `count`, or 1 where the environment keeps libgomp's
    /// idle threads spinning ([`openmp_spins_forever`]).
    pub libtorch: usize,
}

impl fmt::Display for Threads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.source {
            Source::Explicit => "--threads",
            Source::Cpus => "the CPUs this process may use: affinity mask, cgroup quota",
            Source::SlurmCpusPerTask => "SLURM_CPUS_PER_TASK",
            Source::OmpNumThreads => "OMP_NUM_THREADS",
        };
        write!(f, "{} thread{} ({why})", self.count, if self.count == 1 { "" } else { "s" })?;
        if self.source == Source::Explicit && self.count > self.limit {
            write!(f, "; more than the {} CPUs this process may use", self.limit)?;
        }
        if self.libtorch < self.count {
            write!(f, "; libtorch's own operations on {} (OpenMP threads set to spin without end)", self.libtorch)?;
        }
        Ok(())
    }
}

/// The thread count for `explicit` (if given) or from the limits, with `var` reading the
/// environment (a parameter so that tests need not change the process's environment).
pub fn decide(explicit: Option<usize>, cpus: usize, var: impl Fn(&str) -> Option<String>) -> Result<Threads, String> {
    let mut t = decide_count(explicit, cpus, &var)?;
    t.libtorch = if openmp_spins_forever(&var) { 1 } else { t.count };
    Ok(t)
}

/// Whether libgomp's waiting threads would never sleep: OMP_WAIT_POLICY=active, or a
/// GOMP_SPINCOUNT of "infinite" or beyond 10^9 checks. libtorch's own operations still run
/// on libgomp's team, and a team thread that spins without end keeps a core from the
/// kernels' threads (gcnet_kernels::parallel): measured on 2 cores, training ran at half
/// speed with OMP_WAIT_POLICY=active. With such a setting libtorch gets one thread (no team,
/// nothing spins), which cost 0 to 3% on a quiet machine: the kernels, which do the heavy
/// work, keep every thread.
fn openmp_spins_forever(var: impl Fn(&str) -> Option<String>) -> bool {
    let policy = var("OMP_WAIT_POLICY").is_some_and(|v| v.trim().eq_ignore_ascii_case("active"));
    let spin = var("GOMP_SPINCOUNT").is_some_and(|v| {
        let v = v.trim();
        // a count with libgomp's optional unit suffix (k, M, G, T)
        let (count, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
        let scale = match unit {
            "" => 1.0,
            "k" | "K" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            _ => return v.eq_ignore_ascii_case("infinite") || v.eq_ignore_ascii_case("infinity"),
        };
        count.trim().parse::<f64>().is_ok_and(|n| n * scale > 1e9)
    });
    policy || spin
}

fn decide_count(explicit: Option<usize>, cpus: usize, var: impl Fn(&str) -> Option<String>) -> Result<Threads, String> {
    let mut limit = Threads { count: cpus.max(1), source: Source::Cpus, limit: cpus.max(1), libtorch: cpus.max(1) };
    for (name, source) in
        [("SLURM_CPUS_PER_TASK", Source::SlurmCpusPerTask), ("OMP_NUM_THREADS", Source::OmpNumThreads)]
    {
        let Some(text) = var(name).filter(|t| !t.trim().is_empty()) else { continue };
        // OpenMP allows a list (one count per nesting level): the first is ours.
        let first = text.split(',').next().unwrap_or("").trim();
        let n: usize = first
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("the environment variable {name}={text:?} is not a positive whole number"))?;
        if n < limit.count {
            limit = Threads { count: n, source, limit: n, libtorch: n };
        }
    }
    let limit_count = limit.count;
    match explicit {
        Some(0) => Err("--threads must be at least 1".into()),
        Some(n) => Ok(Threads { count: n, source: Source::Explicit, limit: limit_count, libtorch: n }),
        None => Ok(Threads { limit: limit_count, ..limit }),
    }
}

/// The CPUs the process may use (affinity mask and cgroup quota), at least 1.
pub fn usable_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Decides the thread count from this process's limits and environment and makes this
/// crate's kernels and libtorch use it (libtorch fewer where the environment keeps OpenMP
/// threads spinning, see [`Threads::libtorch`]). For CPU work only: a CUDA run keeps
/// libtorch's default.
pub fn configure(explicit: Option<usize>) -> Result<Threads, String> {
    let threads = decide(explicit, usable_cpus(), |name| std::env::var(name).ok())?;
    crate::parallel::set_threads(threads.count);
    tch::set_num_threads(threads.libtorch as i32);
    Ok(threads)
}

/// libgomp's spin count (GOMP_SPINCOUNT) for gcnet's network commands: how many times a
/// thread that waits (for work, or at the end of a parallel region) checks before it
/// sleeps. With libgomp's default (300000, OMP_WAIT_POLICY unset) the waiting threads keep
/// their cores busy, which costs nothing on a quiet machine and everything on a shared
/// one: beside one busy process on 2 cores, a training epoch ran at 8.2 samples/s instead
/// of 58-61 quiet (7x slower). With 3000 it ran at 29.7 beside the busy process and at
/// 56-60 quiet (`gcnet bench --dtype f64`, same machine, same session; 1000: 30.4 and
/// 55-56; 10000: 25.9 and 61).
/// (kernel/install.sh gives the notebook kernel the same value.)
pub const SPIN_COUNT: &str = "3000";

/// Set in the environment of a process that gcnet restarted with [`SPIN_COUNT`], so that
/// its children (the PyTorch baseline) run with the user's setting, not gcnet's.
const OWN_SPIN_COUNT: &str = "GCNET_OWN_GOMP_SPINCOUNT";

/// Restarts this program (same arguments, same environment) with GOMP_SPINCOUNT set to
/// [`SPIN_COUNT`] unless the user set it or OMP_WAIT_POLICY: libgomp reads them once, when
/// it is loaded, before `main` runs, so a restart is the only way to set them. Returns at
/// once when either is set (the restarted process sets it); the error says why a restart
/// failed (the program can go on with libgomp's default).
pub fn restart_with_spin_count() -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("GOMP_SPINCOUNT").is_some() || std::env::var_os("OMP_WAIT_POLICY").is_some() {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to restart it: {e}"))?;
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(&exe);
    if let Some(arg0) = args.next() {
        cmd.arg0(arg0);
    }
    cmd.args(args).env("GOMP_SPINCOUNT", SPIN_COUNT).env(OWN_SPIN_COUNT, "1");
    let e = cmd.exec();
    Err(format!("cannot restart {} with GOMP_SPINCOUNT={SPIN_COUNT}: {e}", exe.display()))
}

/// Gives `cmd` the user's OpenMP setting: removes the spin count that
/// [`restart_with_spin_count`] set (a user's own GOMP_SPINCOUNT stays).
pub fn without_own_spin_count(cmd: &mut std::process::Command) {
    if std::env::var_os(OWN_SPIN_COUNT).is_some() {
        cmd.env_remove("GOMP_SPINCOUNT").env_remove(OWN_SPIN_COUNT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_smallest_limit_wins_and_an_explicit_count_overrides() {
        let t = decide(None, 8, env(&[])).unwrap();
        assert_eq!((t.count, t.source), (8, Source::Cpus));
        let t = decide(None, 8, env(&[("SLURM_CPUS_PER_TASK", "4"), ("OMP_NUM_THREADS", "6")])).unwrap();
        assert_eq!((t.count, t.source), (4, Source::SlurmCpusPerTask));
        let t = decide(None, 8, env(&[("SLURM_CPUS_PER_TASK", "4"), ("OMP_NUM_THREADS", "2,1")])).unwrap();
        assert_eq!((t.count, t.source), (2, Source::OmpNumThreads));
        // never more than the affinity mask allows
        let t = decide(None, 2, env(&[("SLURM_CPUS_PER_TASK", "16"), ("OMP_NUM_THREADS", "16")])).unwrap();
        assert_eq!((t.count, t.source), (2, Source::Cpus));
        let t = decide(Some(3), 2, env(&[("OMP_NUM_THREADS", "1")])).unwrap();
        assert_eq!((t.count, t.source, t.limit), (3, Source::Explicit, 1));
        assert!(t.to_string().contains("more than the 1 CPUs"), "{t}");
    }

    /// Only a setting that keeps libgomp's threads spinning without end takes libtorch to
    /// one thread; the kernels keep the count, and the thread line says so.
    #[test]
    fn endless_openmp_spin_gives_libtorch_one_thread() {
        for vars in [
            &[("OMP_WAIT_POLICY", "ACTIVE")][..],
            &[("GOMP_SPINCOUNT", "infinite")],
            &[("GOMP_SPINCOUNT", "2000000000")],
            &[("GOMP_SPINCOUNT", "5G")],
        ] {
            let t = decide(None, 4, env(vars)).unwrap();
            assert_eq!((t.count, t.libtorch), (4, 1), "{vars:?}");
            assert!(t.to_string().contains("libtorch's own operations on 1"), "{t}");
        }
        for vars in
            [&[][..], &[("OMP_WAIT_POLICY", "passive")], &[("GOMP_SPINCOUNT", "300000")], &[("GOMP_SPINCOUNT", "10M")]]
        {
            let t = decide(Some(3), 4, env(vars)).unwrap();
            assert_eq!((t.count, t.libtorch), (3, 3), "{vars:?}");
            assert!(!t.to_string().contains("libtorch"), "{t}");
        }
    }

    #[test]
    fn bad_values_are_refused_naming_the_variable() {
        let e = decide(None, 4, env(&[("OMP_NUM_THREADS", "four")])).unwrap_err();
        assert!(e.contains("OMP_NUM_THREADS=\"four\""), "{e}");
        let e = decide(None, 4, env(&[("SLURM_CPUS_PER_TASK", "0")])).unwrap_err();
        assert!(e.contains("SLURM_CPUS_PER_TASK"), "{e}");
        assert!(decide(Some(0), 4, env(&[])).is_err());
    }
}
