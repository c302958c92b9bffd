//! The seed streams of the policy-search plugins: every random number a
//! plugin draws comes from `Rng::new(derive_seed(host.seed(), STREAM,
//! index))` with one of these, so two uses that must be independent never
//! share a sequence, and adding a new use cannot shift an old one (each
//! stream is its own sequence, not a position in a shared one).
//!
//! Listed here, once, so a new stream is checked against all others (the
//! test below). The uniform-random plugin does not depend on this crate; its
//! single stream (`0x5241_4e44`, "RAND") is defined beside it and is far from
//! these.

/// Initial policy parameters and the policy's own sampling RNG (saved with
/// it). Shared on purpose by the gradient methods and the derivative-free
/// search: the same seed starts every algorithm from the same policy.
pub const POLICY: u64 = 1;
/// Initial value-baseline parameters.
pub const BASELINE: u64 = 2;
/// Randomness of an update: Fisher-vector subsamples, minibatch order.
pub const UPDATE: u64 = 3;
/// The derivative-free search distribution's samples (CEM, CMA-ES).
pub const SEARCH: u64 = 4;
/// The vine's branch rollouts: index `iteration << 32 | state`, one stream
/// per branched state so all its actions share common random numbers.
pub const VINE_BRANCH: u64 = 11;
/// The vine's choice of which trunk states to branch from, index
/// `iteration`.
pub const VINE_CHOICE: u64 = 12;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_distinct() {
        let all = [POLICY, BASELINE, UPDATE, SEARCH, VINE_BRANCH, VINE_CHOICE];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b, "two seed streams coincide");
            }
        }
    }
}
