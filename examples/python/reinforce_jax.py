"""REINFORCE with reward-to-go and a batch-mean baseline, in JAX: a trustbench plugin.

The same harness, envs and measurements as every other plugin, with the policy
and its gradient in JAX (``jax.grad`` of the surrogate, ``jax.jit``-compiled; CPU
is enough). Discrete actions: a softmax MLP. Parameters are initialised from
``jax.random.key(host.seed % 2**32)`` and actions sampled from a NumPy generator seeded
with ``host.seed``, so the same seed gives the same run.

    pip install jax==0.10.2
    harness run --plugin examples/python/reinforce_jax.py --algo reinforce-jax --env cartpole
"""

from __future__ import annotations

import io

import jax
import jax.numpy as jnp
import numpy as np
import trustbench_plugin as tb


def _init(key: jax.Array, sizes: list[int]) -> list[tuple[jax.Array, jax.Array]]:
    """Weights ~ N(0, 1/fan_in), the last layer scaled down (near-uniform start)."""
    params = []
    keys = jax.random.split(key, len(sizes) - 1)
    for i, (k, fan_in, fan_out) in enumerate(zip(keys, sizes[:-1], sizes[1:])):
        scale = 0.01 if i == len(sizes) - 2 else 1.0
        w = scale * jax.random.normal(k, (fan_in, fan_out)) / jnp.sqrt(fan_in)
        params.append((w, jnp.zeros(fan_out)))
    return params


def _logits(params: list[tuple[jax.Array, jax.Array]], obs: jax.Array) -> jax.Array:
    x = obs
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = params[-1]
    return x @ w + b


@jax.jit
def _log_probs(params: list[tuple[jax.Array, jax.Array]], obs: jax.Array) -> jax.Array:
    return jax.nn.log_softmax(_logits(params, obs))


def _surrogate(
    params: list[tuple[jax.Array, jax.Array]],
    obs: jax.Array,
    actions: jax.Array,
    weights: jax.Array,
) -> jax.Array:
    """mean(log π(a|s) · Â): its gradient is the policy gradient."""
    logp = jax.nn.log_softmax(_logits(params, obs))
    return jnp.mean(jnp.take_along_axis(logp, actions[:, None], axis=1)[:, 0] * weights)


_gradient = jax.jit(jax.grad(_surrogate))


class ReinforceJax(tb.Algorithm):
    id = "reinforce-jax"
    name = "REINFORCE (JAX)"
    version = "1.0.0"
    description = "Williams 1992 with reward-to-go, gradient by jax.grad, one Adam step per batch"
    observation_kinds = (tb.BOX,)
    action_kinds = (tb.DISCRETE,)
    config_ranges = {
        "steps_per_iteration": (1, 10**7),
        "gamma": (0.0, 1.0),
        "hidden": (1, 4096),
        "learning_rate": (0.0, 1.0),
    }
    default_config = {
        "steps_per_iteration": 4000,
        "gamma": 0.99,
        "hidden": 32,
        "learning_rate": 0.01,
    }

    def __init__(self, config: dict, spaces: tb.Spaces, host: tb.Host) -> None:
        super().__init__(config, spaces, host)
        obs_dim = int(np.prod(spaces.observation.shape))
        sizes = [obs_dim, config["hidden"], config["hidden"], spaces.action.n]
        self.params = _init(jax.random.key(host.seed % 2**32), sizes)
        leaves = jax.tree_util.tree_leaves(self.params)
        self.m = [jnp.zeros_like(p) for p in leaves]  # Adam's moments, one per leaf
        self.v = [jnp.zeros_like(p) for p in leaves]
        self.t = 0
        self.rng = np.random.default_rng(host.seed)
        self.obs: np.ndarray | None = None

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        logp = np.asarray(_log_probs(self.params, jnp.asarray(obs.reshape(len(obs), -1))))
        if deterministic:
            return logp.argmax(axis=1)
        # Inverse-CDF sampling, one uniform per state.
        cdf = np.cumsum(np.exp(logp), axis=1)
        u = self.rng.random(len(obs))[:, None] * cdf[:, -1:]
        return np.minimum((cdf < u).sum(axis=1), logp.shape[1] - 1)

    def train_iteration(self) -> None:
        host, c = self.host, self.config
        if self.obs is None:
            self.obs = host.reset()
        obs, actions, rewards, ends = [], [], [], []
        for _ in range(max(1, c["steps_per_iteration"] // host.num_envs)):
            a = self.act(self.obs, deterministic=False)
            step = host.step(a)
            obs.append(self.obs)
            actions.append(a)
            rewards.append(step.rewards)
            ends.append(step.terminated | step.truncated)
            self.obs = step.observations
        # Reward-to-go within each episode (an unfinished one is cut at the batch's end).
        togo = np.zeros_like(np.stack(rewards))
        running = np.zeros(host.num_envs)
        for t in reversed(range(len(rewards))):
            running = rewards[t] + c["gamma"] * np.where(ends[t], 0.0, running)
            togo[t] = running
        weights = (togo - togo.mean()) / (togo.std() + 1e-8)
        flat_obs = np.concatenate(obs).reshape(-1, np.prod(obs[0].shape[1:]))
        grads = _gradient(
            self.params,
            jnp.asarray(flat_obs),
            jnp.asarray(np.concatenate(actions).astype(np.int32)),
            jnp.asarray(weights.reshape(-1)),
        )
        self._adam_ascend(grads)
        host.log("train/episodes_ended", float(np.sum(ends)))

    def _adam_ascend(self, grads: list) -> None:
        """One Adam step (Kingma & Ba 2015) up the surrogate's gradient."""
        self.t += 1
        lr, b1, b2, eps = self.config["learning_rate"], 0.9, 0.999, 1e-8
        leaves, tree = jax.tree_util.tree_flatten(self.params)
        for i, g in enumerate(jax.tree_util.tree_leaves(grads)):
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            mhat = self.m[i] / (1 - b1**self.t)
            vhat = self.v[i] / (1 - b2**self.t)
            leaves[i] = leaves[i] + lr * mhat / (jnp.sqrt(vhat) + eps)
        self.params = jax.tree_util.tree_unflatten(tree, leaves)

    def save(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, *[np.asarray(p) for p in jax.tree_util.tree_leaves(self.params)])
        return buf.getvalue()

    def load(self, data: bytes) -> None:
        stored = np.load(io.BytesIO(data))
        leaves, tree = jax.tree_util.tree_flatten(self.params)
        loaded = [jnp.asarray(stored[f"arr_{i}"]) for i in range(len(leaves))]
        if any(a.shape != p.shape for a, p in zip(loaded, leaves)):
            raise ValueError("saved parameters have other shapes than this policy's")
        self.params = jax.tree_util.tree_unflatten(tree, loaded)
