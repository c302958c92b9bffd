"""trustbench's environments for Python: Gymnasium 1.x vector and single envs.

`make_vec("hopper", 8, seed=0)` is the harness's training envs of a run with
seed 0, stepped by the same Rust code. `import trustbench` also registers
every env with Gymnasium as `trustbench/<Name>-v<N>` (`trustbench/Hopper-v0`,
`trustbench/Breakout-v1`), for `gymnasium.make` and `gymnasium.make_vec`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from trustbench import _core
from trustbench._single import TrustbenchEnv
from trustbench._vector import TrustbenchVectorEnv, _address, make_vec, option_pairs

__all__ = [
    "TrustbenchEnv",
    "TrustbenchVectorEnv",
    "gym_id",
    "harness_random_actions",
    "make_vec",
    "registry",
]


def registry() -> list[str]:
    """Every trustbench env id (`hopper-v0`), in the registry's order."""
    return [env_id for env_id, _ in _core.registry()]


def gym_id(env_id: str) -> str:
    """The Gymnasium id of `env_id`: `hopper-paper-v0` is `trustbench/HopperPaper-v0`."""
    name, version = env_id.rsplit("-v", 1)
    return "trustbench/" + "".join(p.capitalize() for p in name.split("-")) + f"-v{version}"


def harness_random_actions(
    env_id: str, num_envs: int, seed: int, batches: int, **options: Any
) -> np.ndarray:
    """The actions of `harness run --algo random --seed SEED --num-envs N --eval-every 0`.

    `(batches, num_envs, *action_shape)` `float64` (discrete actions as their
    index), drawn by the harness's random policy itself, for replaying a run.
    """
    core = _core.VecCore(env_id, 1, 0, option_pairs(options), "SameStep", 1)
    kind, shape, _, _ = core.action_space
    out = np.empty((batches, num_envs, *([] if kind == "discrete" else shape)), np.float64)
    _core.harness_random_actions(
        env_id, option_pairs(options), num_envs, seed, batches, _address(out)
    )
    return out


def _register() -> None:
    for env_id in registry():
        gym.register(
            id=gym_id(env_id),
            entry_point="trustbench._single:TrustbenchEnv",
            vector_entry_point="trustbench._vector:make_vec",
            kwargs={"env_id": env_id},
            disable_env_checker=False,
        )


_register()
