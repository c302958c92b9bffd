"""The noisy cross-entropy method over a linear policy, in NumPy: a trustbench plugin.

Each iteration draws ``population`` weight vectors w ~ N(μ, diag σ²), scores
each by the undiscounted return of one episode of its deterministic policy
a = clip(W·s̃ + b) (s̃: observations standardised with running statistics),
and refits μ, σ² to the best ``elite_fraction`` of them plus the decaying extra
noise Zₜ of Szita & Lőrincz (2006). ``act`` plays μ.

Candidates are scored on all env copies at once, asynchronously: whenever a
copy's episode ends, the copy takes the next unscored candidate (copies reset
themselves), so no copy idles until the generation's last episodes.

    harness run --plugin examples/python/cem.py --algo cem-py --env swimmer
"""

from __future__ import annotations

import io

import numpy as np
import trustbench_plugin as tb


class Cem(tb.Algorithm):
    id = "cem-py"
    name = "Noisy cross-entropy method, linear policy (NumPy)"
    version = "1.0.0"
    description = "Szita & Lorincz 2006 over a linear policy, episodes scored on every copy"
    observation_kinds = (tb.BOX,)
    action_kinds = (tb.BOX,)
    config_ranges = {
        "population": (2, 100_000),
        "elite_fraction": (1e-6, 1.0),
        "initial_std": (1e-9, 1e6),
        "extra_noise": (0.0, 1e6),
        "noise_decay_iterations": (0, 10**9),
    }
    default_config = {
        "population": 32,
        "elite_fraction": 0.25,
        "initial_std": 0.5,
        "extra_noise": 0.05,
        "noise_decay_iterations": 50,
    }

    def __init__(self, config: dict, spaces: tb.Spaces, host: tb.Host) -> None:
        super().__init__(config, spaces, host)
        self.rng = np.random.default_rng(host.seed)
        self.obs_dim = int(np.prod(spaces.observation.shape))
        self.act_shape = spaces.action.shape
        act_dim = int(np.prod(self.act_shape))
        self.low = np.where(np.isfinite(spaces.action.low), spaces.action.low, -1.0).reshape(-1)
        self.high = np.where(np.isfinite(spaces.action.high), spaces.action.high, 1.0).reshape(-1)
        self.shape = (self.obs_dim + 1, act_dim)  # weights and a bias row
        self.mean = np.zeros(self.shape)
        self.std = np.full(self.shape, config["initial_std"])
        self.count, self.obs_mean, self.obs_m2 = 0, np.zeros(self.obs_dim), np.zeros(self.obs_dim)
        self.iteration = 0
        self.obs: np.ndarray | None = None

    def _features(self, obs: np.ndarray) -> np.ndarray:
        flat = obs.reshape(len(obs), -1)
        std = np.sqrt(self.obs_m2 / self.count) if self.count > 1 else np.ones(self.obs_dim)
        scaled = np.clip((flat - self.obs_mean) / (std + 1e-8), -10.0, 10.0)
        return np.hstack([scaled, np.ones((len(obs), 1))])

    def _actions(self, weights: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """One policy per row: ``weights`` is [count, obs_dim + 1, act_dim]."""
        raw = np.einsum("ci,cia->ca", self._features(obs), weights)
        return np.clip(raw, self.low, self.high).reshape(len(obs), *self.act_shape)

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        return self._actions(np.broadcast_to(self.mean, (len(obs), *self.shape)), obs)

    def train_iteration(self) -> None:
        c, host = self.config, self.host
        n = host.num_envs
        k = c["population"]
        candidates = self.mean + self.std * self.rng.standard_normal((k, *self.shape))
        scores = np.full(k, np.nan)
        # Copy i plays candidate assigned[i]; -1: a copy with nothing left to
        # score plays μ until the generation ends (its returns are ignored).
        assigned = np.full(n, -1)
        assigned[: min(n, k)] = np.arange(min(n, k))
        next_up = min(n, k)
        returns = np.zeros(n)
        self.obs = host.reset()  # every candidate starts a fresh episode
        seen = []
        while np.isnan(scores).any():
            weights = np.where(assigned[:, None, None] >= 0, candidates[assigned], self.mean)
            step = host.step(self._actions(weights, self.obs))
            seen.append(self.obs.reshape(n, -1))
            returns += step.rewards
            for i in np.flatnonzero(step.terminated | step.truncated):
                if assigned[i] >= 0:
                    scores[assigned[i]] = returns[i]
                assigned[i] = next_up if next_up < k else -1
                next_up += 1
                returns[i] = 0.0
            self.obs = step.observations
        self._update_stats(np.concatenate(seen))
        elite = candidates[np.argsort(-scores)[: max(1, int(np.ceil(c["elite_fraction"] * k)))]]
        decay = c["noise_decay_iterations"]
        noise = (
            c["extra_noise"] * max(0.0, 1.0 - self.iteration / decay) if decay else c["extra_noise"]
        )
        self.mean = elite.mean(axis=0)
        self.std = np.sqrt(elite.var(axis=0) + noise)
        self.iteration += 1
        host.log("train/mean_score", float(scores.mean()))
        host.log("train/best_score", float(scores.max()))
        host.log("train/mean_std", float(self.std.mean()))

    def _update_stats(self, x: np.ndarray) -> None:
        mean_b, m2_b, n_b = x.mean(axis=0), ((x - x.mean(axis=0)) ** 2).sum(axis=0), len(x)
        delta, total = mean_b - self.obs_mean, self.count + n_b
        self.obs_mean = self.obs_mean + delta * n_b / total
        self.obs_m2 = self.obs_m2 + m2_b + delta**2 * self.count * n_b / total
        self.count = total

    def save(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, mean=self.mean, obs_mean=self.obs_mean, obs_m2=self.obs_m2, count=self.count)
        return buf.getvalue()

    def load(self, data: bytes) -> None:
        stored = np.load(io.BytesIO(data))
        if stored["mean"].shape != self.shape:
            raise ValueError(
                f"saved policy has shape {stored['mean'].shape}, expected {self.shape}"
            )
        self.mean = stored["mean"]
        self.obs_mean, self.obs_m2 = stored["obs_mean"], stored["obs_m2"]
        self.count = int(stored["count"])
