//! Work split over threads so that the result does not depend on how many.
//!
//! The rule that makes `--threads N` give the same bits for every `N`: the
//! work is cut into items fixed by the data (env copies, blocks of states),
//! never by the thread count; each item writes only its own output; and
//! whatever combines the items' outputs runs afterwards, on one thread, in
//! item order. [`split`] does the middle part. Threads are scoped to the
//! call (`std::thread::scope`): starting one costs ~10–30 µs, small next to
//! the items this is used for (a batched env step, a block of 64 states'
//! gradient), and no thread outlives the data it borrows.

/// Runs `f(worker, i, &mut items[i])` for every item, with at most
/// `workers.len()` threads: the items are cut into that many contiguous
/// runs (fewer when there are fewer items), run `t` goes to thread `t` with
/// `&mut workers[t]` (its scratch space), in item order within the run. The
/// first run is done on the calling thread. With one worker (or one item)
/// no thread is started.
///
/// A panic in `f` on any thread is propagated to the caller once every
/// thread has finished.
pub fn split<T: Send, W: Send>(
    items: &mut [T],
    workers: &mut [W],
    f: impl Fn(&mut W, usize, &mut T) + Sync,
) {
    let runs = workers.len().min(items.len());
    if runs <= 1 {
        if let Some(worker) = workers.first_mut() {
            for (i, item) in items.iter_mut().enumerate() {
                f(worker, i, item);
            }
        }
        return;
    }
    let n = items.len();
    let f = &f;
    std::thread::scope(|scope| {
        let mut rest = items;
        let mut first = 0;
        let mut own = None;
        for (t, worker) in workers.iter_mut().take(runs).enumerate() {
            let end = (t + 1) * n / runs;
            let (run, tail) = rest.split_at_mut(end - first);
            rest = tail;
            let start = first;
            first = end;
            let work = move || {
                for (k, item) in run.iter_mut().enumerate() {
                    f(worker, start + k, item);
                }
            };
            if t == 0 {
                own = Some(work);
            } else {
                scope.spawn(work);
            }
        }
        if let Some(mut work) = own {
            work();
        }
    });
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
    fn a_panicking_item_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            split(&mut [0, 1, 2, 3], &mut [(), ()], |_, i, _| {
                assert!(i != 3, "item 3 fails");
            })
        });
        assert!(caught.is_err());
    }
}
