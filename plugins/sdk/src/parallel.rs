//! Work split over threads so that the result does not depend on how many.
//!
//! The rule that makes `--threads N` give the same bits for every `N`: the
//! work is cut into items fixed by the data (env copies, blocks of states),
//! never by the thread count; each item writes only its own output; and
//! whatever combines the items' outputs runs afterwards, on one thread, in
//! item order. [`split`] does the middle part.
//!
//! The threads are a process-wide pool, started on first use and parked
//! between calls: a batched env step or one block pass is 50–500 µs of
//! work, and starting a thread per call (`std::thread::scope`) cost ~25% on
//! top of a walker run's CPU time (measured), waking a parked one far less.
//! The pool takes one call at a time; a call that finds it busy (another
//! caller, or a call from inside a pool job) runs its items on its own
//! thread, which gives the same results.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

/// How long a helper (for the next job) or the caller (for the helpers to
/// finish) spins before it parks. Waking a parked thread costs tens of
/// microseconds, about as much as one batched walker step of 8 copies, so
/// without spinning two threads were no faster than one on an idle machine
/// (walker 1M: 31.6 s vs 30.5 s). Bounded, so a busy machine loses at most
/// this much CPU per wait.
const SPIN: Duration = Duration::from_micros(200);

/// Spin until `done()` or [`SPIN`] has passed.
fn spin_until(done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() && start.elapsed() < SPIN {
        std::hint::spin_loop();
    }
}

/// Runs `f(worker, i, &mut items[i])` for every item, with at most
/// `workers.len()` threads: the items are cut into that many contiguous
/// runs (fewer when there are fewer items), run `t` goes to one thread with
/// `&mut workers[t]` (its scratch space), in item order within the run. The
/// first run is done on the calling thread. With one worker (or one item)
/// no other thread takes part.
///
/// A panic in `f` on any thread is propagated to the caller once every
/// thread has finished with the call.
pub fn split<T: Send, W: Send>(
    items: &mut [T],
    workers: &mut [W],
    f: impl Fn(&mut W, usize, &mut T) + Sync,
) {
    let runs = workers.len().min(items.len());
    let n = items.len();
    let mut cut = Vec::with_capacity(runs);
    let mut rest = items;
    for (t, worker) in workers.iter_mut().take(runs).enumerate() {
        let (start, end) = (t * n / runs, (t + 1) * n / runs);
        let (run, tail) = rest.split_at_mut(end - start);
        rest = tail;
        cut.push(Mutex::new(Some((start, run, worker))));
    }
    let run = |t: usize| {
        let taken = cut[t].lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some((start, run, worker)) = taken {
            for (k, item) in run.iter_mut().enumerate() {
                f(worker, start + k, item);
            }
        }
    };
    match runs {
        0 => {}
        1 => run(0),
        _ => POOL.run(runs - 1, &run),
    }
}

/// A job as the pool's threads see it: `f(t)` for helper `t`.
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync`, and `Pool::run` keeps it alive until every
// helper is done with it.
unsafe impl Send for Job {}

/// What the caller and the helpers share.
struct State {
    /// Bumped for every job.
    generation: u64,
    job: Option<Job>,
    /// Helpers `1..=helpers` take part in the current job.
    helpers: usize,
    /// Helpers not yet done with it.
    remaining: usize,
    /// The first panic of a helper.
    panic: Option<Box<dyn Any + Send>>,
    /// Helper threads started so far (numbered `1..=started`).
    started: usize,
}

/// Parked helper threads and the job they share.
struct Pool {
    /// Held by the one caller using the pool.
    busy: Mutex<()>,
    state: Mutex<State>,
    wake: Condvar,
    done: Condvar,
    /// Mirrors of `State::generation` and `State::remaining` (written under
    /// the lock), read without it while spinning.
    generation: AtomicU64,
    remaining: AtomicUsize,
}

static POOL: Pool = Pool {
    busy: Mutex::new(()),
    state: Mutex::new(State {
        generation: 0,
        job: None,
        helpers: 0,
        remaining: 0,
        panic: None,
        started: 0,
    }),
    wake: Condvar::new(),
    done: Condvar::new(),
    generation: AtomicU64::new(0),
    remaining: AtomicUsize::new(0),
};

impl Pool {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `f(0)` on this thread and `f(1..=helpers)` on the pool's, returning
    /// when all are done; everything on this thread when the pool is busy.
    fn run(&'static self, helpers: usize, f: &(dyn Fn(usize) + Sync)) {
        let _busy = match self.busy.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                (0..=helpers).for_each(f);
                return;
            }
        };
        // SAFETY: the pointer is only lifetime-erased; this function does
        // not return (or unwind) before every helper has finished calling
        // it and the job is cleared.
        let job = Job(unsafe {
            std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(f)
        });
        {
            let mut s = self.state();
            while s.started < helpers {
                s.started += 1;
                let (index, seen) = (s.started, s.generation);
                std::thread::Builder::new()
                    .name(format!("trustbench-pool-{index}"))
                    .spawn(move || self.serve(index, seen))
                    .expect("starting a pool thread");
            }
            s.generation += 1;
            s.job = Some(job);
            s.helpers = helpers;
            s.remaining = helpers;
            self.remaining.store(helpers, Ordering::Release);
            self.generation.store(s.generation, Ordering::Release);
        }
        self.wake.notify_all();
        let mine = catch_unwind(AssertUnwindSafe(|| f(0)));
        spin_until(|| self.remaining.load(Ordering::Acquire) == 0);
        let theirs = {
            let mut s = self.state();
            while s.remaining > 0 {
                s = self.done.wait(s).unwrap_or_else(PoisonError::into_inner);
            }
            s.job = None;
            s.panic.take()
        };
        if let Err(panic) = mine {
            resume_unwind(panic);
        }
        if let Some(panic) = theirs {
            resume_unwind(panic);
        }
    }

    /// Helper `index`: wait for a job after generation `seen` that it
    /// takes part in, run it, repeat.
    fn serve(&'static self, index: usize, mut seen: u64) {
        loop {
            spin_until(|| self.generation.load(Ordering::Acquire) != seen);
            let job = {
                let mut s = self.state();
                loop {
                    if s.generation != seen {
                        seen = s.generation;
                        if index <= s.helpers {
                            break s.job.expect("a job while helpers remain");
                        }
                    }
                    s = self.wake.wait(s).unwrap_or_else(PoisonError::into_inner);
                }
            };
            // SAFETY: `run` keeps the closure alive until `remaining` is 0.
            let result = catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)(index) }));
            let mut s = self.state();
            if let Err(panic) = result {
                s.panic.get_or_insert(panic);
            }
            s.remaining -= 1;
            self.remaining.store(s.remaining, Ordering::Release);
            if s.remaining == 0 {
                self.done.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn every_item_is_visited_once_with_its_index_whatever_the_workers() {
        for workers in 1..=5 {
            for n in [0, 1, 2, 3, 7, 64] {
                let mut items = vec![(usize::MAX, 0u32); n];
                let mut scratch = vec![0usize; workers];
                split(&mut items, &mut scratch, |w, i, item| {
                    *w += 1;
                    item.0 = i;
                    item.1 += 1;
                });
                for (i, item) in items.iter().enumerate() {
                    assert_eq!(*item, (i, 1), "{workers} workers, {n} items");
                }
                assert_eq!(scratch.iter().sum::<usize>(), n);
                if n >= workers {
                    assert!(scratch.iter().all(|&c| c > 0), "{scratch:?}: idle worker");
                }
            }
        }
    }

    #[test]
    fn concurrent_and_nested_calls_visit_every_item() {
        // Two callers at once, each also calling from inside its items: the
        // pool serves one call, the others run on their own threads.
        std::thread::scope(|scope| {
            for caller in 0..2u64 {
                scope.spawn(move || {
                    for _ in 0..50 {
                        let mut outer = vec![0u64; 6];
                        split(&mut outer, &mut [(), (), ()], |_, i, x| {
                            let mut inner = vec![0u64; 4];
                            split(&mut inner, &mut [(), ()], |_, j, y| *y = j as u64 + 1);
                            *x = caller * 100 + i as u64 * 10 + inner.iter().sum::<u64>();
                        });
                        let expected: Vec<u64> =
                            (0..6).map(|i| caller * 100 + i * 10 + 10).collect();
                        assert_eq!(outer, expected);
                    }
                });
            }
        });
    }

    #[test]
    fn a_panicking_item_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            split(&mut [0, 1, 2, 3], &mut [(), ()], |_, i, _| {
                assert!(i != 3, "item 3 fails");
            })
        });
        assert!(caught.is_err());
        let mut after = [0, 0, 0];
        split(&mut after, &mut [(), ()], |_, i, x| *x = i + 1);
        assert_eq!(after, [1, 2, 3], "the pool still works after a panic");
    }
}
