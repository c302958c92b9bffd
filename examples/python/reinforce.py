"""REINFORCE with a learned value baseline and GAE, in NumPy: a trustbench plugin.

The Python counterpart of the built-in ``vpg``: each iteration samples
``steps_per_iteration`` env steps from all copies, computes GAE advantages
with a value MLP, takes one Adam step along
g = ∇θ mean(log π_θ(a|s) · Â) (advantages normalised), and fits the value
network to the λ-returns. Discrete actions use a softmax policy, box actions a
Gaussian with a state-independent log-std. Observations are standardised with
running statistics.

    harness run --plugin examples/python/reinforce.py --algo reinforce-py --env cartpole
"""

from __future__ import annotations

import io

import numpy as np
import trustbench_plugin as tb


class Mlp:
    """A tanh MLP with a linear output layer, and its backward pass."""

    def __init__(self, sizes: list[int], rng: np.random.Generator, out_scale: float) -> None:
        self.weights = []
        self.biases = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            scale = out_scale if i == len(sizes) - 2 else 1.0
            # Orthogonal-like scaled Gaussian initialisation (Glorot variance).
            w = rng.normal(0.0, scale * np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))
            self.weights.append(w)
            self.biases.append(np.zeros(fan_out))

    def params(self) -> list[np.ndarray]:
        return self.weights + self.biases

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Outputs and the activations the backward pass needs."""
        acts = [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w + b
            if i < len(self.weights) - 1:
                x = np.tanh(x)
            acts.append(x)
        return x, acts

    def backward(self, acts: list[np.ndarray], grad_out: np.ndarray) -> list[np.ndarray]:
        """Gradients of Σ grad_out · output with respect to ``params()``."""
        gw, gb = [], []
        g = grad_out
        for i in reversed(range(len(self.weights))):
            gw.append(acts[i].T @ g)
            gb.append(g.sum(axis=0))
            if i > 0:
                g = (g @ self.weights[i].T) * (1.0 - acts[i] ** 2)
        return gw[::-1] + gb[::-1]


class Adam:
    """Adam (Kingma & Ba 2015) over a list of arrays, updated in place."""

    def __init__(self, params: list[np.ndarray], lr: float) -> None:
        self.params, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def ascend(self, grads: list[np.ndarray], sign: float = 1.0) -> None:
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            mhat = m / (1 - b1**self.t)
            vhat = v / (1 - b2**self.t)
            p += sign * self.lr * mhat / (np.sqrt(vhat) + eps)


class RunningStats:
    """Running mean and variance (Chan et al.'s parallel update)."""

    def __init__(self, dim: int) -> None:
        self.n, self.mean, self.m2 = 0, np.zeros(dim), np.zeros(dim)

    def update(self, x: np.ndarray) -> None:
        n_b = len(x)
        if n_b == 0:
            return
        mean_b = x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        delta = mean_b - self.mean
        total = self.n + n_b
        self.mean = self.mean + delta * n_b / total
        self.m2 = self.m2 + m2_b + delta**2 * self.n * n_b / total
        self.n = total

    def normalize(self, x: np.ndarray) -> np.ndarray:
        std = np.sqrt(self.m2 / max(self.n, 1)) if self.n > 1 else np.ones_like(self.mean)
        return np.clip((x - self.mean) / (std + 1e-8), -10.0, 10.0)


class Reinforce(tb.Algorithm):
    id = "reinforce-py"
    name = "REINFORCE with a value baseline (NumPy)"
    version = "1.0.0"
    description = "Williams 1992 with GAE and a value MLP, one Adam step per batch; mirrors vpg"
    observation_kinds = (tb.BOX,)
    action_kinds = (tb.BOX, tb.DISCRETE)
    config_ranges = {
        "steps_per_iteration": (1, 10**7),
        "gamma": (0.0, 1.0),
        "lambda": (0.0, 1.0),
        "hidden": (1, 4096),
        "learning_rate": (0.0, 1.0),
        "vf_learning_rate": (0.0, 1.0),
        "vf_epochs": (0, 1000),
        "vf_minibatch": (1, 10**6),
        "initial_log_std": (-20.0, 2.0),
    }
    default_config = {
        "steps_per_iteration": 2000,
        "gamma": 0.99,
        "lambda": 0.97,
        "hidden": 64,
        "learning_rate": 0.01,
        "vf_learning_rate": 0.001,
        "vf_epochs": 5,
        "vf_minibatch": 256,
        "initial_log_std": -0.5,
    }

    def __init__(self, config: dict, spaces: tb.Spaces, host: tb.Host) -> None:
        super().__init__(config, spaces, host)
        self.rng = np.random.default_rng(host.seed)
        obs_dim = int(np.prod(spaces.observation.shape))
        self.discrete = spaces.action.kind == tb.DISCRETE
        out = spaces.action.n if self.discrete else int(np.prod(spaces.action.shape))
        h = config["hidden"]
        self.policy = Mlp([obs_dim, h, h, out], self.rng, out_scale=0.01)
        self.log_std = np.full(0 if self.discrete else out, config["initial_log_std"])
        self.value = Mlp([obs_dim, h, h, 1], self.rng, out_scale=1.0)
        self.policy_opt = Adam(self.policy.params() + [self.log_std], config["learning_rate"])
        self.value_opt = Adam(self.value.params(), config["vf_learning_rate"])
        self.stats = RunningStats(obs_dim)
        self.obs = None

    # --- acting -----------------------------------------------------------

    def _distribution(self, obs: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        flat = self.stats.normalize(obs.reshape(len(obs), -1))
        return self.policy.forward(flat)

    def _sample(self, out: np.ndarray) -> np.ndarray:
        if self.discrete:
            p = softmax(out)
            u = self.rng.random(len(p))[:, None]
            return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)
        return out + np.exp(self.log_std) * self.rng.standard_normal(out.shape)

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        out, _ = self._distribution(obs)
        if deterministic:
            return out.argmax(axis=1) if self.discrete else out
        return self._sample(out)

    # --- learning ---------------------------------------------------------

    def train_iteration(self) -> None:
        host, c = self.host, self.config
        n = host.num_envs
        if self.obs is None:
            self.obs = host.reset()
        obs, actions, rewards, ends, cut, finals = [], [], [], [], [], []
        for _ in range(max(1, c["steps_per_iteration"] // n)):
            out, _ = self._distribution(self.obs)
            a = self._sample(out)
            step = host.step(a)
            obs.append(self.obs)
            actions.append(a)
            rewards.append(step.rewards)
            ends.append(step.terminated | step.truncated)
            cut.append(step.truncated & ~step.terminated)
            finals.append(step.final_observations)
            self.obs = step.observations
        obs_b = np.stack(obs)  # [T, N, obs]
        t_len = len(obs_b)
        flat_obs = obs_b.reshape(t_len * n, -1)
        self.stats.update(flat_obs)
        adv, returns = self._gae(obs_b, np.stack(rewards), np.stack(ends), np.stack(cut), finals)
        self._policy_step(flat_obs, np.concatenate(actions), adv.reshape(-1))
        self._fit_value(flat_obs, returns.reshape(-1))
        done = np.stack(ends)
        host.log("train/episodes_ended", float(done.sum()))

    def _values(self, x: np.ndarray) -> np.ndarray:
        v, _ = self.value.forward(self.stats.normalize(x.reshape(len(x), -1)))
        return v[:, 0]

    def _gae(
        self,
        obs: np.ndarray,
        rewards: np.ndarray,
        ends: np.ndarray,
        cut: np.ndarray,
        finals: list[np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        """GAE(γ, λ) over [T, N] arrays; truncated episodes bootstrap from V(s_final)."""
        c = self.config
        t_len, n = rewards.shape
        values = self._values(obs.reshape(t_len * n, -1)).reshape(t_len, n)
        next_values = np.empty_like(values)
        next_values[:-1] = values[1:]
        next_values[-1] = self._values(self.obs)
        # Where an episode ended, the next row is a new episode: bootstrap
        # from the final observation on truncation, from 0 on termination.
        final_values = self._values(np.stack(finals).reshape(t_len * n, -1)).reshape(t_len, n)
        next_values = np.where(ends, np.where(cut, final_values, 0.0), next_values)
        deltas = rewards + c["gamma"] * next_values - values
        adv = np.zeros_like(values)
        running = np.zeros(n)
        for t in reversed(range(t_len)):  # over time only: vectorised over copies
            running = deltas[t] + c["gamma"] * c["lambda"] * np.where(ends[t], 0.0, running)
            adv[t] = running
        return adv, adv + values

    def _policy_step(self, obs: np.ndarray, actions: np.ndarray, adv: np.ndarray) -> None:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        out, acts = self._distribution(obs)
        count = len(obs)
        if self.discrete:
            p = softmax(out)
            onehot = np.zeros_like(p)
            onehot[np.arange(count), actions.astype(int)] = 1.0
            grad_out = (onehot - p) * adv[:, None] / count
            grads = self.policy.backward(acts, grad_out) + [np.zeros(0)]
        else:
            std = np.exp(self.log_std)
            z = (actions - out) / std
            grad_out = z / std * adv[:, None] / count
            grad_log_std = ((z**2 - 1.0) * adv[:, None]).mean(axis=0)
            grads = self.policy.backward(acts, grad_out) + [grad_log_std]
        self.policy_opt.ascend(grads)

    def _fit_value(self, obs: np.ndarray, targets: np.ndarray) -> None:
        c = self.config
        x = self.stats.normalize(obs)
        for _ in range(c["vf_epochs"]):
            order = self.rng.permutation(len(x))
            for start in range(0, len(x), c["vf_minibatch"]):
                idx = order[start : start + c["vf_minibatch"]]
                v, acts = self.value.forward(x[idx])
                grad = (v[:, 0] - targets[idx])[:, None] / len(idx)
                self.value_opt.ascend(self.value.backward(acts, grad), sign=-1.0)

    # --- persistence ------------------------------------------------------

    def save(self) -> bytes:
        buf = io.BytesIO()
        arrays = self.policy.params() + [self.log_std, self.stats.mean, self.stats.m2]
        np.savez(buf, *arrays, count=np.array(self.stats.n))
        return buf.getvalue()

    def load(self, data: bytes) -> None:
        stored = np.load(io.BytesIO(data))
        params = self.policy.params() + [self.log_std, self.stats.mean, self.stats.m2]
        loaded = [stored[f"arr_{i}"] for i in range(len(params))]
        if any(a.shape != p.shape for a, p in zip(loaded, params)):
            raise ValueError("saved parameters have other shapes than this policy's")
        for p, a in zip(params, loaded):
            p[...] = a
        self.stats.n = int(stored["count"])


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
