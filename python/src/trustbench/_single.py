"""One trustbench env as a Gymnasium `Env` (copy 0 of a one-copy vector)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from trustbench._vector import TrustbenchVectorEnv


class TrustbenchEnv(gym.Env):
    """A trustbench env for `gymnasium.make("trustbench/Hopper-v0")`.

    It is copy 0 of a one-copy `make_vec(env_id, 1, seed)` with autoreset
    disabled: `reset(seed=s)` starts the episode that copy 0 of a harness run
    seeded s starts. The time limit is the env's own (`truncated`), so
    Gymnasium's `TimeLimit` is not added on top.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        env_id: str,
        seed: int = 0,
        render_mode: str | None = None,
        **options: Any,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode '{render_mode}' is not valid (valid: None, rgb_array)")
        self.vec = TrustbenchVectorEnv(env_id, 1, seed, "Disabled", 1, **options)
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space
        self.render_mode = render_mode

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; `seed` restarts the env's random stream."""
        super().reset(seed=seed)
        obs, _ = self.vec.reset(seed=None if seed is None else [seed])
        return obs[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply `action`; on the episode's end `info["episode"]` has its return and length."""
        obs, rewards, terminated, truncated, info = self.vec.step(np.asarray(action)[None])
        if "episode" in info:
            info = {"episode": {k: v[0] for k, v in info["episode"].items()}}
        return obs[0], float(rewards[0]), bool(terminated[0]), bool(truncated[0]), info

    def render(self) -> np.ndarray | None:
        """The current frame, `(240, 320, 3)` `uint8` (with `render_mode="rgb_array"`)."""
        return self.vec.render()[0] if self.render_mode == "rgb_array" else None
