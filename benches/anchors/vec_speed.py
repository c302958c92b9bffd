"""Random-policy steps of a vector env from Python: trustbench against Gymnasium's peers.

    python vec_speed.py trustbench hopper 8 200000    # trustbench.make_vec("hopper", 8)
    python vec_speed.py gymnasium Hopper-v5 8 200000  # SyncVectorEnv over 8 Hopper-v5
    python vec_speed.py gymnasium-env Hopper-v5 1 200000  # one env, Gymnasium's own loop
    python vec_speed.py trustbench breakout 8 50000 view=pixels
    python vec_speed.py gymnasium ALE/Breakout-v5 8 50000

IMPL ENV N STEPS [KEY=VALUE ...]: STEPS env steps in all (STEPS / N batched
steps), actions drawn uniformly by NumPy before the clock starts (Gymnasium's
`Box.sample` costs more than a trustbench step), autoreset on (Gymnasium's
default, NEXT_STEP). Timed from outside as a whole process (farm-bench);
prints its own steps per CPU-second of the loop too.
"""

from __future__ import annotations

import sys
import time

import gymnasium as gym
import numpy as np


def make(impl: str, env_id: str, n: int, options: dict[str, str]) -> gym.vector.VectorEnv:
    if impl == "trustbench":
        import trustbench

        return trustbench.make_vec(env_id, n, seed=0, **options)
    if env_id.startswith("ALE/"):
        import ale_py

        gym.register_envs(ale_py)
    return gym.make_vec(env_id, n, vectorization_mode="sync", **options)


def main() -> None:
    impl, env_id, n, steps = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    options = dict(kv.split("=", 1) for kv in sys.argv[5:])
    if impl == "gymnasium-env":
        single(env_id, steps, options)
        return
    envs = make(impl, env_id, n, options)
    space, rng, batches = envs.single_action_space, np.random.default_rng(0), steps // n
    if isinstance(space, gym.spaces.Discrete):
        actions = rng.integers(0, space.n, size=(batches, n))
    else:
        actions = rng.uniform(space.low, space.high, size=(batches, n, *space.shape))
    envs.reset(seed=0)
    start = time.process_time()
    for a in actions:
        envs.step(a)
    cpu = time.process_time() - start
    print(f"{impl} {env_id} N={n}: {steps // n * n / cpu:,.0f} steps per CPU-second of the loop")


def single(env_id: str, steps: int, options: dict[str, str]) -> None:
    """Gymnasium's own loop over one env: step, and reset when an episode ends."""
    env = gym.make(env_id, **options)
    space, rng = env.action_space, np.random.default_rng(0)
    if isinstance(space, gym.spaces.Discrete):
        actions = rng.integers(0, space.n, size=steps)
    else:
        actions = rng.uniform(space.low, space.high, size=(steps, *space.shape)).astype(space.dtype)
    env.reset(seed=0)
    start = time.process_time()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    cpu = time.process_time() - start
    print(f"gymnasium-env {env_id} N=1: {steps / cpu:,.0f} steps per CPU-second of the loop")


if __name__ == "__main__":
    main()
