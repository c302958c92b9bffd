"""The uniform-random policy as a Python plugin: the floor of every comparison.

The Python counterpart of the built-in ``random``, with the same config key.
It is also the measure of the Python layer's own cost: it does nothing but
draw actions and step, so its whole-run time against ``random``'s is the
overhead of running an algorithm in Python (benches/README.md).

    harness run --plugin examples/python/uniform_random.py --algo random-py --env walker
"""

from __future__ import annotations

import json

import numpy as np
import trustbench_plugin as tb


class UniformRandom(tb.Algorithm):
    id = "random-py"
    name = "Uniform random policy (NumPy)"
    version = "1.0.0"
    description = "Actions drawn uniformly from the action space; mirrors the built-in random"
    observation_kinds = (tb.BOX, tb.DISCRETE)
    action_kinds = (tb.BOX, tb.DISCRETE)
    default_config = {"steps_per_iteration": 1000}
    config_ranges = {"steps_per_iteration": (1, 2**40)}

    def __init__(self, config: dict, spaces: tb.Spaces, host: tb.Host) -> None:
        super().__init__(config, spaces, host)
        self.rng = np.random.default_rng(host.seed)
        action = spaces.action
        if action.kind == tb.BOX:
            # Unbounded elements are drawn from [-1, 1], as the built-in does.
            self.low = np.where(np.isfinite(action.low), action.low, -1.0)
            self.span = np.where(np.isfinite(action.high), action.high, 1.0) - self.low

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        return self._draw(len(obs))

    def _draw(self, count: int) -> np.ndarray:
        if self.spaces.action.kind == tb.DISCRETE:
            return self.rng.integers(0, self.spaces.action.n, size=count)
        # low + (high - low) · U[0, 1): one draw of the whole batch, then
        # array arithmetic (Generator.uniform with array bounds broadcasts
        # per call, several times slower on the step path).
        return self.low + self.span * self.rng.random((count, *self.low.shape))

    def train_iteration(self) -> None:
        n = self.host.num_envs
        steps = 0
        rewards = 0.0
        while steps < self.config["steps_per_iteration"]:
            step = self.host.step(self._draw(n))
            rewards += float(step.rewards.sum())
            steps += n
        self.host.log("train/mean_reward", rewards / steps)

    def save(self) -> bytes:
        # No parameters; the generator's state makes a reload continue the
        # stream (as the built-in's does), so a reloaded policy acts the same.
        return json.dumps(self.rng.bit_generator.state).encode()

    def load(self, data: bytes) -> None:
        state = json.loads(data)
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise ValueError(f"random-py: {len(data)} bytes that are no generator state")
        self.rng.bit_generator.state = state
