//! Reference scores for normalising returns across envs:
//! `normalised = (score − random) / (reference − random)`, so the random
//! policy scores 0 and the reference 1 on every env, and envs with returns
//! in the hundreds and in the thousands weigh the same in an aggregate.
//!
//! *Random* is the uniform-random algorithm's mean final return on that env
//! in the data being reported (the `random` algorithm runs under exactly the
//! same evaluation protocol), except where a published random score is the
//! convention (the arcade games). Envs without a reference here (the
//! locomotion tasks: ours run on rapier, so MuJoCo's published scores do
//! not apply) are normalised min–max over the compared algorithms instead
//! (see `aggregate::task`).

/// The reference of one env.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    /// The env's short name (its id without `-vN`).
    pub env: &'static str,
    /// The score that normalises to 1.
    pub reference: f64,
    /// A published random-policy score, used instead of the data's.
    pub random: Option<f64>,
    /// Where the numbers come from.
    pub source: &'static str,
}

/// Arcade games: random and human scores of Mnih et al. 2013 (Table 1),
/// which the TRPO paper reports beside its own (its Table 1).
const ATARI_2013: &str = "human score, Mnih et al. 2013 (as in the TRPO paper, Table 1)";

/// Known references. Arcade entries are keyed by the short names the arcade
/// suite is to use; they apply once those envs exist.
pub const REFERENCES: &[Reference] = &[
    Reference {
        env: "cartpole",
        reference: 500.0,
        random: None,
        source: "maximum return: +1 per step up to the 500-step limit",
    },
    Reference {
        env: "pendulum",
        reference: -150.0,
        random: None,
        source: "a good swing-up policy (well-tuned agents reach about -150)",
    },
    Reference {
        env: "beamrider",
        reference: 7456.0,
        random: Some(354.0),
        source: ATARI_2013,
    },
    Reference {
        env: "breakout",
        reference: 31.0,
        random: Some(1.2),
        source: ATARI_2013,
    },
    Reference {
        env: "enduro",
        reference: 368.0,
        random: Some(0.0),
        source: ATARI_2013,
    },
    Reference {
        env: "pong",
        reference: -3.0,
        random: Some(-20.4),
        source: ATARI_2013,
    },
    Reference {
        env: "qbert",
        reference: 18900.0,
        random: Some(157.0),
        source: ATARI_2013,
    },
    Reference {
        env: "seaquest",
        reference: 28010.0,
        random: Some(110.0),
        source: ATARI_2013,
    },
    Reference {
        env: "spaceinvaders",
        reference: 3690.0,
        random: Some(179.0),
        source: ATARI_2013,
    },
];

/// The reference of a registered env id (`cartpole-v0` → `cartpole`), or
/// of an env as the report names it (`breakout-v1 [view=pixels]`: the
/// options are ignored).
pub fn lookup(env_id: &str) -> Option<&'static Reference> {
    let id = env_id.split(" [").next().unwrap_or(env_id);
    let short = trustbench_envs::resolve_spec(id).ok()?.short_name();
    REFERENCES.iter().find(|r| r.env == short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_by_short_name() {
        assert_eq!(lookup("cartpole-v0").unwrap().reference, 500.0);
        assert_eq!(lookup("pendulum-v0").unwrap().reference, -150.0);
        assert!(lookup("nonesuch-v0").is_none());
        assert_eq!(lookup("breakout-v1 [view=pixels]").unwrap().env, "breakout");
        // References differ from random scores (normalisation divides by it).
        assert!(
            REFERENCES
                .iter()
                .all(|r| r.random.is_none_or(|x| x != r.reference))
        );
    }
}
