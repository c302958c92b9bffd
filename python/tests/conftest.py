"""Shared helpers of the trustbench package's tests."""

from __future__ import annotations

import numpy as np


def random_actions(space, steps: int, seed: int) -> np.ndarray:
    """`steps` batches of uniform actions from a (batched) action space."""
    space.seed(seed)
    return np.stack([space.sample() for _ in range(steps)])


def rollout(envs, actions: np.ndarray) -> list:
    """Observations, rewards and flags of stepping `envs` through `actions`."""
    trace = [envs.reset()[0].copy()]
    for a in actions:
        obs, reward, terminated, truncated, _ = envs.step(a)
        trace += [obs.copy(), reward.copy(), terminated.copy(), truncated.copy()]
    return trace


def same(a: list, b: list) -> bool:
    """Bit-for-bit equality of two traces."""
    return len(a) == len(b) and all(
        x.dtype == y.dtype and x.tobytes() == y.tobytes() for x, y in zip(a, b)
    )
