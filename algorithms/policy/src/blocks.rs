//! Batch passes split over threads with the same bits for any thread count.
//!
//! A batch's states are cut into blocks of [`GRAD_BLOCK`] — a grid fixed by
//! the batch, never by the threads. Each block is computed alone (its
//! forward pass, per-state terms and gradient, into its own slot), on
//! whichever thread [`trustbench_plugin::parallel::split`] gives it; the
//! slots are then added in block order on one thread. That is exactly the
//! order of the serial pass ([`crate::Network::vjp_add`] adds one block's
//! gradient at a time, and a state's forward, JVP and VJP rows do not
//! depend on the batch around it), so a parallel pass is the same bits as
//! the serial one, for every thread count.

use crate::network::GRAD_BLOCK;
use crate::vector::grow;
use trustbench_plugin::parallel::split;

/// Blocks computed between two combines: bounds the slots' memory to
/// `ROUND ×` the parameters (16 blocks are 1,024 states).
pub(crate) const ROUND: usize = 16;

/// `job(worker, &mut jobs[k], slot)` for every block `k`, on one thread per
/// worker, [`ROUND`] blocks at a time. With `sum`, each job gets a zeroed
/// slot of `slot_len` values to write its block's gradient into, and after
/// each round `sum[i] += slot[i]` for `i < sum.len()`, block by block in
/// order; without, the slot is empty.
pub(crate) fn sum_blocks<J: Send, W: Send>(
    jobs: &mut [J],
    workers: &mut [W],
    slots: &mut Vec<f64>,
    slot_len: usize,
    mut sum: Option<&mut [f64]>,
    job: impl Fn(&mut W, &mut J, &mut [f64]) + Sync,
) {
    let len = if sum.is_some() { slot_len } else { 0 };
    for round in jobs.chunks_mut(ROUND) {
        grow(slots, round.len() * len);
        let slots = &mut slots[..round.len() * len];
        slots.fill(0.0);
        let mut free = slots.chunks_exact_mut(len.max(1));
        let mut items: Vec<(&mut J, &mut [f64])> = round
            .iter_mut()
            .map(|j| match len {
                0 => (j, &mut [][..]),
                _ => (j, free.next().expect("a slot per block")),
            })
            .collect();
        split(&mut items, workers, |w, _, (j, slot)| job(w, j, slot));
        if let Some(sum) = sum.as_deref_mut() {
            for (_, slot) in &items {
                sum.iter_mut().zip(slot.iter()).for_each(|(s, x)| *s += x);
            }
        }
    }
}

/// The blocks of `n` states as `(first state, states)`.
pub(crate) fn grid(n: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n)
        .step_by(GRAD_BLOCK)
        .map(move |s0| (s0, GRAD_BLOCK.min(n - s0)))
}
