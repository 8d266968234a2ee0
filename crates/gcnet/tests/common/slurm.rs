//! The local SLURM of the tests (scripts/slurm_local.sh, started by scripts/test.sh, which
//! exports SLURM_CONF): submit, signal, requeue, wait.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::text;

/// The SLURM configuration of the local cluster, or a failure that says how to start it.
pub fn conf() -> String {
    let conf = std::env::var("SLURM_CONF").unwrap_or_default();
    assert!(
        Path::new(&conf).is_file(),
        "this test needs a SLURM cluster: `bash scripts/slurm_local.sh start` and export \
         SLURM_CONF=/tmp/gcnet-slurm/slurm.conf (scripts/test.sh does both)"
    );
    conf
}

/// `sbatch ARGS` in `dir`, with `env` added; the job id (`--parsable`).
pub fn sbatch(dir: &Path, env: &[(&str, String)], args: &[&str]) -> String {
    let out = Command::new("sbatch")
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--parsable")
        .args(args)
        .output()
        .expect("sbatch on PATH");
    assert!(out.status.success(), "sbatch {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap().to_string()
}

/// The states of job `id` (one per task of an array), as `scontrol` shows them.
pub fn states(id: &str) -> Vec<String> {
    let out = Command::new("scontrol").args(["show", "job", "-o", id]).output().expect("scontrol on PATH");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().filter_map(|w| w.strip_prefix("JobState=")).map(str::to_string).collect()
}

/// Why job `id` is pending (`Reason=` of `scontrol show job`).
pub fn reason(id: &str) -> String {
    let out = Command::new("scontrol").args(["show", "job", "-o", id]).output().expect("scontrol on PATH");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().filter_map(|w| w.strip_prefix("Reason=")).collect::<Vec<_>>().join(",")
}

/// Waits until job `id` (every task of an array) has ended; its states joined by commas.
/// Polls `scontrol` (the cluster keeps ended jobs for MinJobAge = 300 s), which answers
/// within 0.2 s where `sbatch --wait` polls with growing pauses.
pub fn wait_for_job(id: &str) -> String {
    let until = Instant::now() + Duration::from_secs(900);
    loop {
        let states = states(id);
        let ended =
            |s: &String| !matches!(s.as_str(), "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING" | "REQUEUED");
        if !states.is_empty() && states.iter().all(ended) {
            return states.join(",");
        }
        assert!(Instant::now() < until, "job {id} did not end in 15 minutes: {states:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until `ready` holds while job `id` runs; fails if the job ends first.
pub fn wait_while_running(id: &str, what: &str, ready: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(600);
    while !ready() {
        let states = states(id);
        assert!(
            states.iter().all(|s| matches!(s.as_str(), "PENDING" | "RUNNING" | "CONFIGURING")),
            "job {id} ended ({states:?}) before {what}"
        );
        assert!(Instant::now() < until, "job {id}: timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a preemption or a time limit does: SIGTERM to every process of job `id`, the
/// batch script included (`scancel --signal=TERM --full`).
pub fn sigterm(id: &str) {
    let out = Command::new("scancel").args(["--signal=TERM", "--full", id]).output().expect("scancel on PATH");
    assert!(out.status.success(), "scancel {id}: {}", text(&out));
}

/// `scontrol requeue` job `id` (a running one is stopped first, as on preemption), and
/// lets it start again at once: SLURM holds a requeued job for two minutes, from when it is
/// pending again, so the start time is set once it is.
pub fn requeue(id: &str) {
    let out = Command::new("scontrol").args(["requeue", id]).output().expect("scontrol on PATH");
    assert!(out.status.success(), "scontrol requeue {id}: {}", text(&out));
    let until = Instant::now() + Duration::from_secs(60);
    while states(id) != ["PENDING"] {
        assert!(Instant::now() < until, "job {id} is not pending after its requeue: {:?}", states(id));
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = Command::new("scontrol")
        .args(["update", &format!("JobId={id}"), "StartTime=now"])
        .output()
        .expect("scontrol on PATH");
    assert!(out.status.success(), "scontrol update {id} StartTime=now: {}", text(&out));
}

/// Sets the dependency of pending job `id` again (`scontrol update JobId=.. Dependency=..`):
/// a job whose `afterok` job failed waits for ever (DependencyNeverSatisfied) even after
/// that job was requeued and completed.
pub fn renew_dependency(id: &str, dependency: &str) {
    let out = Command::new("scontrol")
        .args(["update", &format!("JobId={id}"), &format!("Dependency={dependency}")])
        .output()
        .expect("scontrol on PATH");
    assert!(out.status.success(), "scontrol update {id} Dependency={dependency}: {}", text(&out));
}
