//! Runs Rust closures on libtorch's own OpenMP threads.
//!
//! libtorch's CPU kernels run in an OpenMP (libgomp) team whose threads spin for a while
//! after each parallel region. Threads of our own started right after a matrix product
//! would compete with those spinning threads for the cores (measured on 2 cores: the
//! fused activation kernels lost a fifth of their speed that way). Entering a parallel
//! region of the same libgomp, as the compiler does for `#pragma omp parallel`, reuses the
//! team instead. When the process has no libgomp (another libtorch build), scoped threads
//! are used.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Parts per thread. The parts are taken as threads come free, so a thread slowed by other
/// work on its core (shared nodes, a build, NEB ranks) does not hold the others up: they
/// take its share. Part boundaries depend on the sizes and the thread count only, never on
/// which thread takes which part, so results are the same from run to run.
const PARTS_PER_THREAD: usize = 1;

/// libtorch's intra-op threads (gcnet_kernels::threads sets them).
pub(crate) fn threads() -> usize {
    tch::get_num_threads().max(1) as usize
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

type ParallelFn = unsafe extern "C" fn(extern "C" fn(*mut c_void), *mut c_void, c_uint, c_uint);
type ThreadNumFn = unsafe extern "C" fn() -> c_int;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// A symbol of the libraries the process has loaded (glibc's RTLD_DEFAULT is null).
#[cfg(target_os = "linux")]
fn find(name: &[u8]) -> Option<*mut c_void> {
    // SAFETY: `name` is NUL-terminated.
    let p = unsafe { dlsym(std::ptr::null_mut(), name.as_ptr().cast()) };
    (!p.is_null()).then_some(p)
}

#[cfg(not(target_os = "linux"))]
fn find(_name: &[u8]) -> Option<*mut c_void> {
    None
}

/// libgomp's `GOMP_parallel`, `omp_get_thread_num` and `omp_get_num_threads`, looked up
/// once in the libraries the process has loaded.
fn gomp() -> Option<(ParallelFn, ThreadNumFn, ThreadNumFn)> {
    static GOMP: OnceLock<Option<(ParallelFn, ThreadNumFn, ThreadNumFn)>> = OnceLock::new();
    *GOMP.get_or_init(|| {
        let par = find(b"GOMP_parallel\0")?;
        let num = find(b"omp_get_thread_num\0")?;
        let count = find(b"omp_get_num_threads\0")?;
        // SAFETY: the symbols have these C signatures in every libgomp since GCC 4.9.
        unsafe {
            Some((
                std::mem::transmute::<*mut c_void, ParallelFn>(par),
                std::mem::transmute::<*mut c_void, ThreadNumFn>(num),
                std::mem::transmute::<*mut c_void, ThreadNumFn>(count),
            ))
        }
    })
}

struct Job<'a> {
    f: &'a (dyn Fn(usize, usize) + Sync),
    thread_num: ThreadNumFn,
    num_threads: ThreadNumFn,
}

extern "C" fn trampoline(data: *mut c_void) {
    // SAFETY: `data` is the `Job` that `run` keeps alive until GOMP_parallel returns.
    let job = unsafe { &*(data as *const Job<'_>) };
    // SAFETY: plain libgomp queries, valid inside a parallel region.
    let (t, n) = unsafe { ((job.thread_num)(), (job.num_threads)()) };
    (job.f)(t as usize, n.max(1) as usize);
}

/// Calls `f(part, parts)` once for each part, `parts` at most `threads`, in parallel. `f`
/// must not panic (a panic cannot cross the C frames of libgomp and aborts).
fn run(threads: usize, f: &(dyn Fn(usize, usize) + Sync)) {
    if threads <= 1 {
        return f(0, 1);
    }
    if let Some((parallel, thread_num, num_threads)) = gomp() {
        let job = Job { f, thread_num, num_threads };
        // SAFETY: libgomp calls `trampoline` on each team thread with `&job`, which outlives
        // the call; flags 0 is the default proc_bind.
        unsafe { parallel(trampoline, &job as *const Job<'_> as *mut c_void, threads as c_uint, 0) };
        return;
    }
    std::thread::scope(|scope| {
        for t in 1..threads {
            scope.spawn(move || f(t, threads));
        }
        f(0, threads);
    });
}

/// Runs `f` on every item on libtorch's team, each thread taking the next item not yet
/// taken until none is left (a slow thread takes fewer). The items are the disjoint pieces
/// of the work (made with safe slice splitting: `chunks_mut`, `split_at_mut`), so no two
/// threads ever reach the same memory. `f` must not panic (see [`run`]).
pub(crate) fn for_each_part<W: Send>(items: Vec<W>, f: impl Fn(W) + Sync) {
    let n = items.len();
    let team = threads().min(n);
    if team <= 1 {
        items.into_iter().for_each(f);
        return;
    }
    let slots: Vec<Mutex<Option<W>>> = items.into_iter().map(|w| Mutex::new(Some(w))).collect();
    let next = AtomicUsize::new(0);
    run(team, &|_, _| {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else { break };
            let item = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(item) = item {
                f(item);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn every_part_runs_once() {
        let _ = tch::get_num_threads(); // make sure libtorch (and libgomp) is loaded
        for threads in [1, 2, 3] {
            let seen = AtomicUsize::new(0);
            let total = AtomicUsize::new(0);
            run(threads, &|t, n| {
                assert!(t < n && n <= threads);
                seen.fetch_or(1 << t, Ordering::SeqCst);
                total.fetch_add(1, Ordering::SeqCst);
            });
            let n = total.load(Ordering::SeqCst);
            assert!(n >= 1 && n <= threads);
            assert_eq!(seen.load(Ordering::SeqCst), (1 << n) - 1);
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
}
