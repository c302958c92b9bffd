//! `--shard I/N`: shard `I` of `N` takes the runs whose index in the plan
//! (seed-major) is `I` modulo `N`. The plan is a function of the sweep's
//! arguments only, so every shard of one command sees the same order, and
//! the `N` shards together run every run exactly once; dealing round-robin
//! gives each shard a mix of algorithms and envs, hence similar run times.

use anyhow::{Result, anyhow, bail};

/// One part of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `0..count` (a Slurm array task id).
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl Shard {
    /// Whether plan run `i` belongs to this shard.
    pub fn owns(self, i: usize) -> bool {
        i % self.count == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Shard> {
        let bad = || anyhow!("--shard '{text}': expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            bail!(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_run_exactly_once() {
        for count in 1..=7 {
            for runs in [0, 1, 5, 54] {
                let mut owners = vec![0; runs];
                for index in 0..count {
                    let s: Shard = format!("{index}/{count}").parse().unwrap();
                    (0..runs)
                        .filter(|&i| s.owns(i))
                        .for_each(|i| owners[i] += 1);
                }
                assert!(
                    owners.iter().all(|&n| n == 1),
                    "{count} shards, {runs} runs"
                );
            }
        }
    }

    #[test]
    fn bad_shards_name_the_value() {
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")) && e.contains("I/N"), "{e}");
        }
    }
}
