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

#[cfg(test)]
mod tests {
    use crate::testutil::{batch, normal_vec, perturbed, small_policies};
    use crate::{FisherVectorProduct, Policy, PolicyWorkspace, Precision, Surrogate, subsample};
    use trustbench_plugin::rng::Rng;

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Every small policy in both precisions.
    fn policies() -> Vec<(String, Policy)> {
        small_policies()
            .into_iter()
            .flat_map(|(name, p)| {
                [Precision::F64, Precision::F32]
                    .map(|q| (format!("{name} {q:?}"), p.clone().with_precision(q)))
            })
            .collect()
    }

    /// The freezing pass with its gradient, a gradient away from `θ_old`
    /// and an evaluation (with an entropy bonus, so its cotangents are
    /// covered too), on `threads` threads: (grad, grad, values, π_old).
    fn surrogate_passes(policy: &Policy, n: usize, threads: usize) -> Vec<Vec<u64>> {
        let b = batch(policy, n, 50);
        let adv = normal_vec(&mut Rng::new(6), n, 1.0);
        let mut ws = PolicyWorkspace::with_threads(threads);
        let mut at_old = vec![0.0; policy.param_len()];
        let (mut s, v0) = Surrogate::with_gradient(
            policy,
            &b.params,
            b.obs.clone(),
            b.actions.clone(),
            adv,
            0.01,
            &mut ws,
            &mut at_old,
        );
        let theta = perturbed(&b.params, 0.05, 9);
        let mut away = vec![0.0; policy.param_len()];
        let v1 = s.gradient(policy, &theta, &mut ws, &mut away);
        let v2 = s.evaluate(policy, &theta, &mut ws);
        let values: Vec<f64> = [v0, v1, v2]
            .iter()
            .flat_map(|v| [v.surrogate, v.objective, v.mean_kl, v.mean_entropy])
            .collect();
        vec![
            bits(&at_old),
            bits(&away),
            bits(&values),
            bits(s.old_dist()),
            bits(s.old_log_prob()),
        ]
    }

    #[test]
    fn block_parallel_surrogate_passes_are_the_serial_bits() {
        for (name, policy) in policies() {
            // Blocks that do not fill the last round or the last block.
            let n = 5 * crate::GRAD_BLOCK + 13;
            let serial = surrogate_passes(&policy, n, 1);
            for threads in [2, 3] {
                assert_eq!(
                    surrogate_passes(&policy, n, threads),
                    serial,
                    "{name}, {threads} threads"
                );
            }
        }
        // More than one chunk of the serial pass and one round of blocks.
        let (_, mlp) = &small_policies()[0];
        let n = crate::surrogate::CHUNK + 150;
        assert_eq!(surrogate_passes(mlp, n, 2), surrogate_passes(mlp, n, 1));
    }

    #[test]
    fn block_parallel_fisher_vector_products_are_the_serial_bits() {
        for (name, policy) in policies() {
            let n = 7 * crate::GRAD_BLOCK + 5;
            let b = batch(&policy, n, 51);
            let subset = subsample(n, 0.5, &mut Rng::new(7));
            let v = normal_vec(&mut Rng::new(8), policy.param_len(), 1.0);
            let product = |threads| {
                let mut fvp = FisherVectorProduct::new(&policy, 0.1).with_threads(threads);
                fvp.prepare(&b.params, &b.obs, n, Some(&subset));
                let mut out = vec![f64::NAN; policy.param_len()];
                fvp.apply(&v, &mut out);
                let mut again = vec![f64::NAN; policy.param_len()];
                fvp.apply(&out, &mut again);
                (fvp.states(), bits(&out), bits(&again))
            };
            let serial = product(1);
            assert_eq!(serial.0, subset.len());
            for threads in [2, 3] {
                assert_eq!(product(threads), serial, "{name}, {threads} threads");
            }
        }
        // More than one chunk: every product recomputes each block's
        // forward pass (in the serial pass per chunk, on threads per block
        // in the thread's workspace), so memory does not grow with the set.
        let (_, mlp) = &small_policies()[0];
        let n = 2 * crate::surrogate::CHUNK + 150;
        let b = batch(mlp, n, 52);
        let v = normal_vec(&mut Rng::new(9), mlp.param_len(), 1.0);
        let product = |threads| {
            let mut fvp = FisherVectorProduct::new(mlp, 0.1).with_threads(threads);
            fvp.prepare(&b.params, &b.obs, n, None);
            let mut out = vec![f64::NAN; mlp.param_len()];
            fvp.apply(&v, &mut out);
            let mut again = vec![f64::NAN; mlp.param_len()];
            fvp.apply(&out, &mut again);
            (bits(&out), bits(&again))
        };
        let serial = product(1);
        for threads in [2, 3] {
            assert_eq!(product(threads), serial, "{threads} threads, {n} states");
        }
    }
}
