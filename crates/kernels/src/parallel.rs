//! Runs the kernels' parts on a small pool of helper threads, with the calling thread
//! taking parts too.
//!
//! Why not a fork-join team (libtorch's OpenMP team was used before): a team's region ends
//! only when every thread of the team has arrived, so a helper that the operating system
//! has descheduled (its core shared with another process: `srun -c` on a shared node, NEB
//! ranks, a build) holds the caller up until it is scheduled again, even when it has no
//! work left to do. Measured on 2 cores beside one busy process, training slowed 2.1x, more
//! than the 2x that losing half the machine costs. Here the caller and the helpers take the
//! parts from one counter; a helper that wakes late finds nothing left and the caller does
//! not wait for it. The caller waits only for parts a helper has started.
//!
//! Part boundaries depend on the sizes and the thread count only, never on which thread
//! takes which part, so results are the same from run to run and bit-identical to the
//! team's.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// Parts per thread. More parts would let the others take over more of a slow thread's
/// share, but smaller `gemm` blocks lose efficiency (2 or 4 per thread measured up to 15%
/// slower on a quiet machine), and some column sums depend on the split.
const PARTS_PER_THREAD: usize = 1;

/// How long an idle helper keeps checking for the next job before it sleeps, and how long
/// the caller checks for its helpers' parts before it sleeps. Kernels follow one another
/// within microseconds during training, and waking a sleeping thread costs a system call
/// and a scheduling delay; spinning longer takes a shared core from the work beside us.
const SPIN: Duration = Duration::from_micros(50);

/// The kernels' thread count, set by `gcnet_kernels::threads::configure`; 0 until then.
static POOL_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the kernels' thread count (the caller and `n - 1` helpers).
pub(crate) fn set_threads(n: usize) {
    POOL_THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The kernels' threads: what `threads::configure` set, else libtorch's intra-op threads
/// (a program that never configured them, the tests).
pub(crate) fn threads() -> usize {
    match POOL_THREADS.load(Ordering::Relaxed) {
        0 => tch::get_num_threads().max(1) as usize,
        n => n,
    }
}

/// How many parts a kernel makes: up to [`PARTS_PER_THREAD`] per thread, at most `limit`
/// (what its size allows), one when there is one thread. With one part per thread the
/// split is the one the kernels have always made, so results stay bit-identical.
pub(crate) fn parts(limit: usize) -> usize {
    match threads() {
        1 => 1,
        t => (t * PARTS_PER_THREAD).min(limit).max(1),
    }
}

/// The part function of the job being run, with its lifetime erased. It is called only for
/// a part index taken from the job's counter below `parts`, and the caller does not return
/// before every such call has returned (`done == parts`), so it is never called after the
/// closure it points to is gone.
struct PartFn(*const (dyn Fn(usize) + Sync + 'static));

/// One call of [`for_each_part`]: the counters its threads share.
struct Job {
    f: PartFn,
    parts: usize,
    /// Helpers that may join (the team less the caller); more helpers may be running.
    helpers: usize,
    joined: AtomicUsize,
    next: AtomicUsize,
    done: AtomicUsize,
    panicked: AtomicBool,
    caller: Thread,
}
// SAFETY: `f` points to a `Sync` closure, called from several threads only while the
// caller keeps it alive (see `PartFn`); everything else is atomics and a thread handle.
unsafe impl Send for Job {}
// SAFETY: as above.
unsafe impl Sync for Job {}

impl Job {
    /// Takes parts until none is left. A helper wakes the caller after the last part.
    fn work(&self, helper: bool) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.parts {
                return;
            }
            // SAFETY: `i < parts`, so the caller is still waiting (see `PartFn`).
            let f = unsafe { &*self.f.0 };
            if catch_unwind(AssertUnwindSafe(|| f(i))).is_err() {
                self.panicked.store(true, Ordering::Relaxed);
            }
            if self.done.fetch_add(1, Ordering::AcqRel) + 1 == self.parts && helper {
                self.caller.unpark();
            }
        }
    }
}

/// The helper threads and the job they are offered.
struct Pool {
    /// The helpers, held by the one caller at a time that hands out parts; another caller
    /// meanwhile (tests on several threads, data-parallel replicas) runs its parts itself.
    helpers: Mutex<Vec<Thread>>,
    job: Mutex<Option<Arc<Job>>>,
    /// Counts the jobs offered, so that an idle helper sees a new one without a lock.
    epoch: AtomicUsize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool { helpers: Mutex::new(Vec::new()), job: Mutex::new(None), epoch: AtomicUsize::new(0) })
}

/// Spins for [`SPIN`] until `ready`, then sleeps (`park`) until it is. `park` may return
/// without an `unpark`, so the condition is checked again.
fn wait_until(ready: impl Fn() -> bool) {
    let start = Instant::now();
    let mut round = 0u32;
    while !ready() {
        round = round.wrapping_add(1);
        // the clock is read every 64 checks only
        if !round.is_multiple_of(64) || start.elapsed() < SPIN {
            std::hint::spin_loop();
        } else {
            std::thread::park();
        }
    }
}

impl Pool {
    /// Starts helpers until there are `n` (on first use; a failed start leaves fewer, and
    /// the caller does the parts no helper takes).
    fn start_helpers(&'static self, helpers: &mut Vec<Thread>, n: usize) {
        while helpers.len() < n {
            let name = format!("gcnet-kernels-{}", helpers.len() + 1);
            match std::thread::Builder::new().name(name).spawn(move || self.serve()) {
                Ok(h) => helpers.push(h.thread().clone()),
                Err(_) => break,
            }
        }
    }

    /// A helper's life: wait for a job newer than the last one seen, join it if the job
    /// wants another helper, repeat.
    fn serve(&self) {
        let mut seen = self.epoch.load(Ordering::Acquire);
        loop {
            wait_until(|| self.epoch.load(Ordering::Acquire) != seen);
            seen = self.epoch.load(Ordering::Acquire);
            let job = self.job.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(job) = job
                && job.joined.fetch_add(1, Ordering::Relaxed) < job.helpers
            {
                job.work(true);
            }
        }
    }
}

/// Calls `f(i)` for every `i < parts` on the caller and up to `team - 1` helpers; returns
/// when every call has returned. A panic in a part is raised again here.
fn run(parts: usize, team: usize, f: &(dyn Fn(usize) + Sync)) {
    let pool = pool();
    let Ok(mut helpers) = pool.helpers.try_lock() else { return (0..parts).for_each(f) };
    if team <= 1 || parts <= 1 {
        return (0..parts).for_each(f);
    }
    pool.start_helpers(&mut helpers, team - 1);
    // SAFETY: only the lifetime is erased; see `PartFn` for why no call outlives `f`.
    let f: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(f) };
    let job = Arc::new(Job {
        f: PartFn(f),
        parts,
        helpers: team - 1,
        joined: AtomicUsize::new(0),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        panicked: AtomicBool::new(false),
        caller: std::thread::current(),
    });
    *pool.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job.clone());
    pool.epoch.fetch_add(1, Ordering::Release);
    helpers.iter().take(team - 1).for_each(Thread::unpark);
    job.work(false);
    wait_until(|| job.done.load(Ordering::Acquire) == parts);
    *pool.job.lock().unwrap_or_else(|e| e.into_inner()) = None;
    drop(helpers);
    assert!(!job.panicked.load(Ordering::Relaxed), "a kernel part panicked");
}

/// Runs `f` on every item, on the caller and the pool's helpers, each thread taking the
/// next item not yet taken until none is left (a slow thread takes fewer). The items are
/// the disjoint pieces of the work (made with safe slice splitting: `chunks_mut`,
/// `split_at_mut`), so no two threads ever reach the same memory.
pub(crate) fn for_each_part<W: Send>(items: Vec<W>, f: impl Fn(W) + Sync) {
    let n = items.len();
    let team = threads().min(n);
    if team <= 1 {
        items.into_iter().for_each(f);
        return;
    }
    let slots: Vec<Mutex<Option<W>>> = items.into_iter().map(|w| Mutex::new(Some(w))).collect();
    run(n, team, &|i| {
        let item = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(item) = item {
            f(item);
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Every part runs exactly once, whatever the team, including parts a helper would take.
    #[test]
    fn every_part_runs_once() {
        for (parts, team) in [(1, 1), (2, 2), (5, 3), (64, 2), (3, 8)] {
            let counts: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
            run(parts, team, &|i| {
                counts[i].fetch_add(1, Ordering::SeqCst);
            });
            assert!(counts.iter().all(|c| c.load(Ordering::SeqCst) == 1), "{parts} parts, team {team}");
        }
    }

    /// Every item is processed exactly once, whatever the number of items and threads.
    #[test]
    fn every_item_is_taken_once() {
        let _ = tch::get_num_threads();
        for n in [0, 1, 2, 5, 17] {
            let mut data = vec![0u32; n * 3];
            let items: Vec<(usize, &mut [u32])> = data.chunks_mut(3).enumerate().collect();
            for_each_part(items, |(i, c)| c.iter_mut().for_each(|x| *x += i as u32 + 1));
            for (i, c) in data.chunks(3).enumerate() {
                assert!(c.iter().all(|&x| x == i as u32 + 1), "{n} items: {data:?}");
            }
        }
    }

    /// Callers on several threads at once (only one hands out parts; the others run theirs
    /// alone) all get every part done, and a helper that is still busy with a slow part of
    /// one job does not lose the next one.
    #[test]
    fn concurrent_callers_and_slow_parts() {
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    for round in 0..50 {
                        let sum = AtomicUsize::new(0);
                        run(4, 2, &|i| {
                            if (i + round + t) % 7 == 0 {
                                std::thread::sleep(Duration::from_micros(200));
                            }
                            sum.fetch_add(i + 1, Ordering::SeqCst);
                        });
                        assert_eq!(sum.load(Ordering::SeqCst), 10);
                    }
                });
            }
        });
    }

    /// A panic in a part, on whichever thread ran it, comes back to the caller instead of
    /// leaving it waiting.
    #[test]
    fn a_panicking_part_panics_the_caller() {
        for victim in 0..2 {
            let r = std::panic::catch_unwind(|| run(2, 2, &|i| assert!(i != victim, "part {i} fails")));
            assert!(r.is_err());
        }
        let done = AtomicUsize::new(0);
        run(2, 2, &|_| {
            done.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(done.load(Ordering::SeqCst), 2, "the pool still works after a panic");
    }
}
