//! Stopping a run on SIGINT or SIGTERM: what a batch system sends at a job's time limit
//! or on preemption (SLURM: SIGTERM, then SIGKILL after `KillWait`), and Ctrl-C.
//!
//! A run calls [`install`] when it starts and asks [`requested`] between units of work it
//! can give up without harm (an NEB chunk, an MC trial, a training batch); it then stops
//! with every file it has written complete and says where a rerun continues.
//!
//! Children started through [`spawn`] (LAMMPS: `mpiexec` or `srun`, its proxies and
//! ranks; serial sessions) each run in a process group of their own, so that a signal sent
//! to gcnet alone (a `kill`, a batch system's SIGTERM) no longer leaves them running: a
//! watcher thread forwards the first SIGINT/SIGTERM as SIGTERM to every such group (a
//! second one as SIGKILL), no new child starts, and a [`Group`] dropped waits until every
//! process of its group has ended.

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use signal_hook::consts::{SIGINT, SIGTERM};

/// Why [`spawn`] did not start a child.
#[derive(Debug)]
pub enum SpawnError {
    /// A stop was asked for (by the named signal): no new child starts.
    Stopping(&'static str),
    /// The command could not be started.
    Io(std::io::Error),
}

/// The signal that asked the run to stop (0: none yet), as the watcher thread saw it first.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The last SIGINT/SIGTERM, set by the signal handler itself (signal-hook's flag), so that
/// a stop is seen at once: SLURM signals every process of a job step together, and a
/// thread that sees a LAMMPS child end from that SIGTERM must find the stop asked for even
/// when the watcher thread has not run yet (seen once in CI: the requeued task reported
/// "LAMMPS failed" instead of the stop).
static AT_ONCE: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

fn at_once() -> &'static Arc<AtomicUsize> {
    AT_ONCE.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}
/// The process groups of the running children.
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// How long a group may take to end after its leader did (MPI ranks exit after
/// `mpiexec` at times) before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// Catches SIGINT and SIGTERM for the rest of the process; called at the start of each
/// run, which starts not stopped (a stop ends the run it reached, not the next one in a
/// long-lived process such as a notebook kernel).
pub fn install() -> std::io::Result<()> {
    RECEIVED.store(0, Ordering::SeqCst);
    at_once().store(0, Ordering::SeqCst);
    INSTALLED
        .get_or_init(|| {
            for signal in [SIGINT, SIGTERM] {
                signal_hook::flag::register_usize(signal, Arc::clone(at_once()), signal as usize)
                    .map_err(|e| e.to_string())?;
            }
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|e| e.to_string())?;
            std::thread::Builder::new()
                .name("gcnet-signals".into())
                .spawn(move || {
                    for (n, signal) in signals.forever().enumerate() {
                        RECEIVED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst).ok();
                        let forward = if n == 0 { Signal::TERM } else { Signal::KILL };
                        for &g in groups().iter() {
                            signal_group(g, forward);
                        }
                    }
                })
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| std::io::Error::other(format!("cannot catch SIGINT and SIGTERM: {e}")))
}

fn installed() -> bool {
    matches!(INSTALLED.get(), Some(Ok(())))
}

fn groups() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Signals the group of `pgid` and every descendant of its leader: MPICH's hydra puts its
/// proxy and each rank in a group of their own, so the leader's group alone would miss
/// them (hydra forwards a SIGTERM itself, but not a SIGKILL).
fn signal_group(pgid: i32, signal: Signal) {
    let tree = descendants(pgid);
    if let Some(pid) = Pid::from_raw(pgid) {
        kill_process_group(pid, signal).ok();
    }
    for p in tree.into_iter().filter_map(Pid::from_raw) {
        rustix::process::kill_process(p, signal).ok();
    }
}

/// The descendants of process `root` (Linux: from /proc; none where it cannot be read).
fn descendants(root: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let parents: Vec<(i32, i32)> = dir
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (name) state ppid ...": the name may hold spaces and parentheses.
            let ppid = stat[stat.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for &(child, _) in parents.iter().filter(|(_, pp)| *pp == p) {
            found.push(child);
            todo.push(child);
        }
    }
    found
}

/// The name of the signal that asked the run to stop, if one did.
pub fn requested() -> Option<&'static str> {
    let first = match RECEIVED.load(Ordering::SeqCst) {
        0 => at_once().load(Ordering::SeqCst) as i32,
        s => s,
    };
    match first {
        0 => None,
        SIGINT => Some("SIGINT"),
        _ => Some("SIGTERM"),
    }
}

/// A child's process group, registered for forwarding while it lives; dropped (after the
/// child was waited for), it waits until every process of the group has ended.
#[derive(Debug)]
pub struct Group(Option<i32>);

/// Starts `cmd`; after [`install`], in a process group of its own that gets the signals
/// forwarded. Refused once a stop was asked for (no new child starts then). Keep the
/// [`Group`] until the child was waited for.
pub fn spawn(cmd: &mut Command) -> Result<(Child, Group), SpawnError> {
    if let Some(signal) = requested() {
        return Err(SpawnError::Stopping(signal));
    }
    let grouped = installed();
    if grouped {
        std::os::unix::process::CommandExt::process_group(cmd, 0);
    }
    let child = cmd.spawn().map_err(SpawnError::Io)?;
    if !grouped {
        return Ok((child, Group(None)));
    }
    let pgid = child.id() as i32;
    groups().insert(pgid);
    // A signal that came between the spawn and the registration was not forwarded.
    if requested().is_some() {
        signal_group(pgid, Signal::TERM);
    }
    Ok((child, Group(Some(pgid))))
}

impl Drop for Group {
    fn drop(&mut self) {
        let Some(pgid) = self.0 else { return };
        let Some(pid) = Pid::from_raw(pgid) else { return };
        let started = Instant::now();
        let mut killed = false;
        while test_kill_process_group(pid).is_ok() && runs_in_group(pgid) {
            if !killed && started.elapsed() > GRACE {
                signal_group(pgid, Signal::KILL);
                killed = true;
            } else if started.elapsed() > 2 * GRACE {
                // Zombies whose parent does not reap them: nothing runs any more.
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        groups().remove(&pgid);
    }
}

/// Whether a process of group `pgid` still runs. A group whose members have all exited can
/// still hold zombies: srun forks a helper that is reparented to init when srun exits, and
/// an init that reaps slowly (a container's) kept every NEB waiting 1-2 s for it.
fn runs_in_group(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else { return true };
    entries.flatten().any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { return false };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else { return false };
        let mut fields = rest.split_whitespace();
        let (state, _ppid, group) = (fields.next(), fields.next(), fields.next());
        group == Some(pgid.to_string().as_str()) && state != Some("Z")
    })
}
