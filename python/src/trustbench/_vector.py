"""`make_vec`: a trustbench env as a Gymnasium 1.x `VectorEnv`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from trustbench._core import VecCore

#: Frame size of `render()`, as `harness render` draws by default.
RENDER_WIDTH, RENDER_HEIGHT = 320, 240


def _address(array: np.ndarray) -> int:
    """The address of `array`'s first byte (C-contiguous, kept alive by the caller)."""
    return array.__array_interface__["data"][0]


def single_spaces(core: VecCore) -> tuple[gym.Space, gym.Space]:
    """One copy's observation and action spaces, as Gymnasium spaces."""
    _, shape, low, high = core.observation_space
    if core.byte_observations:
        observation: gym.Space = gym.spaces.Box(0, 255, tuple(shape), np.uint8)
    else:
        low_a = np.asarray(low, np.float64).reshape(shape)
        high_a = np.asarray(high, np.float64).reshape(shape)
        observation = gym.spaces.Box(low_a, high_a, tuple(shape), np.float64)
    kind, shape, low, high = core.action_space
    if kind == "discrete":
        action: gym.Space = gym.spaces.Discrete(shape[0])
    else:
        low_a = np.asarray(low, np.float64).reshape(shape)
        high_a = np.asarray(high, np.float64).reshape(shape)
        action = gym.spaces.Box(low_a, high_a, tuple(shape), np.float64)
    return observation, action


def option_pairs(options: dict[str, Any]) -> list[tuple[str, str]]:
    """`--env-set` pairs from keyword options (`True` is `true`, as on the CLI)."""
    text = {True: "true", False: "false"}
    return [(k, text[v] if isinstance(v, bool) else str(v)) for k, v in options.items()]


def seed_list(seed: int | Sequence[int | None] | None, n: int) -> list | None:
    """Per-copy seeds from `reset(seed=...)`: an int seeds every copy."""
    if seed is None:
        return None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seeds: list = [int(seed)] * n
    elif isinstance(seed, (list, tuple, np.ndarray)):
        seeds = [None if s is None else int(s) for s in seed]
    else:
        raise TypeError(f"seed must be an int, a list of ints (or None) or None, got {seed!r}")
    bad = [s for s in seeds if s is not None and not 0 <= s < 2**64]
    if bad:
        raise ValueError(f"seed {bad[0]} is not valid (valid: 0 to 2**64 - 1)")
    return seeds


class Actions:
    """Checks a batch of actions and copies it into the buffer the core reads."""

    def __init__(self, space: gym.Space, n: int) -> None:
        self.discrete = isinstance(space, gym.spaces.Discrete)
        self.shape = (n,) if self.discrete else (n, *space.shape)
        self.buffer = np.zeros(self.shape, np.float64)
        self.address = _address(self.buffer)

    def load(self, actions: Any) -> int:
        """Copy `actions` in (no broadcasting, no unsafe casts); the buffer's address."""
        a = actions if isinstance(actions, np.ndarray) else np.asarray(actions)
        if a.shape != self.shape:
            raise ValueError(f"actions have shape {a.shape}; expected {self.shape}")
        if a.dtype.kind not in "biuf":
            kinds = "integers" if self.discrete else "numbers"
            raise TypeError(f"actions have dtype {a.dtype}; expected {kinds}")
        np.copyto(self.buffer, a, casting="unsafe")
        return self.address


class Outputs:
    """Fresh arrays for each step's results, written by the core in place.

    Arrays are carved from blocks allocated a few steps at a time, so one
    address lookup serves many steps. Each step's arrays are new memory that
    no later step writes; a block is freed once nothing refers to any of its
    steps' arrays (so keeping one step's arrays keeps its block, at most
    about 1 MiB, alive).
    """

    BLOCK_BYTES = 1 << 20

    def __init__(self, n: int, shape: tuple, dtype: np.dtype) -> None:
        self.n, self.shape, self.dtype = n, shape, dtype
        row = n * int(np.prod(shape)) * np.dtype(dtype).itemsize
        self.per_block = max(1, min(64, self.BLOCK_BYTES // max(row, 1)))
        self.next_slot = self.per_block

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]:
        """This step's observations, rewards and flags, and their addresses."""
        if self.next_slot == self.per_block:
            k, n = self.per_block, self.n
            self.obs = np.empty((k, n, *self.shape), self.dtype)
            self.rewards = np.empty((k, n), np.float64)
            self.flags = np.empty((k, 2, n), np.bool_)
            self.base = (_address(self.obs), _address(self.rewards), _address(self.flags))
            self.strides = (self.obs.strides[0], self.rewards.strides[0], self.flags.strides[0])
            self.next_slot = 0
        k = self.next_slot
        self.next_slot += 1
        (o, r, f), (so, sr, sf) = self.base, self.strides
        return self.obs[k], self.rewards[k], self.flags[k], o + k * so, r + k * sr, f + k * sf


class TrustbenchVectorEnv(VectorEnv):
    """N copies of a trustbench env, stepped in Rust (see `make_vec`)."""

    def __init__(
        self,
        env_id: str,
        num_envs: int = 8,
        seed: int = 0,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        num_threads: int = 1,
        **options: Any,
    ) -> None:
        mode = AutoresetMode(autoreset_mode)
        self.core = VecCore(env_id, num_envs, seed, option_pairs(options), mode.value, num_threads)
        self.num_envs = num_envs
        self.single_observation_space, self.single_action_space = single_spaces(self.core)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.metadata = {
            "autoreset_mode": mode,
            "render_modes": ["rgb_array"],
            "trustbench_id": self.core.env_id,
            "trustbench_options": dict(self.core.options),
        }
        self.render_mode = "rgb_array"
        self._actions = Actions(self.single_action_space, num_envs)
        obs_space = self.single_observation_space
        self._outputs = Outputs(num_envs, obs_space.shape, obs_space.dtype)
        self._fresh = True
        self._started = time.perf_counter()

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """New episodes: every copy, or those in `options["reset_mask"]`.

        `seed=s` restarts copy i from the harness's seed for copy i of a run
        seeded s; `seed=[s0, s1, ...]` restarts copy i as copy i of a vector
        made with seed s_i (`None` entries continue their streams).
        """
        seeds = seed_list(seed, self.num_envs)
        mask = None
        if options and "reset_mask" in options:
            m = options["reset_mask"]
            if not isinstance(m, np.ndarray) or m.dtype != np.bool_ or m.shape != (self.num_envs,):
                raise ValueError(
                    f"options['reset_mask'] must be a bool array of shape ({self.num_envs},), "
                    f"got {m!r}"
                )
            mask = m.tolist()
        obs = np.empty(
            (self.num_envs, *self.single_observation_space.shape),
            self.single_observation_space.dtype,
        )
        self.core.reset(_address(obs), seeds, mask, self._fresh)
        self._fresh = False
        return obs, {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One step of every copy; `info["episode"]` holds ended episodes' figures."""
        address = self._actions.load(actions)
        obs, rewards, flags, o, r, f = self._outputs.take()
        ended = self.core.step(address, o, r, f)
        self._fresh = False
        info: dict[str, Any] = {}
        if ended:
            self._add_ended(info)
        return obs, rewards, flags[0], flags[1], info

    def _add_ended(self, info: dict[str, Any]) -> None:
        """`episode` (return `r`, length `l`, wall seconds `t`) and final observations."""
        n = self.num_envs
        returns, lengths = np.zeros(n, np.float64), np.zeros(n, np.int64)
        same_step = self.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
        final = None
        if same_step:
            space = self.single_observation_space
            final = np.zeros((n, *space.shape), space.dtype)
        mask = np.array(
            self.core.ended(
                _address(returns), _address(lengths), 0 if final is None else _address(final)
            ),
            np.bool_,
        )
        elapsed = np.where(mask, round(time.perf_counter() - self._started, 6), 0.0)
        info["episode"] = {"r": returns, "l": lengths, "t": elapsed}
        info["_episode"] = mask
        if final is not None:
            final_obs = np.full(n, None, dtype=object)
            for i in np.flatnonzero(mask):
                final_obs[i] = final[i]
            info["final_obs"], info["_final_obs"] = final_obs, mask
            info["final_info"], info["_final_info"] = {}, mask

    def render(self) -> np.ndarray:
        """Every copy's current frame: `(num_envs, 240, 320, 3)` `uint8`."""
        frames = np.empty((self.num_envs, RENDER_HEIGHT, RENDER_WIDTH, 3), np.uint8)
        self.core.render(_address(frames), RENDER_WIDTH, RENDER_HEIGHT)
        return frames

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release: the copies go with the object."""


def make_vec(
    env_id: str,
    num_envs: int = 8,
    seed: int = 0,
    autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    num_threads: int = 1,
    **options: Any,
) -> TrustbenchVectorEnv:
    """`num_envs` copies of trustbench env `env_id` as a Gymnasium `VectorEnv`.

    `env_id` is an id or short name as `harness run --env` takes it
    (`hopper`, `breakout-v1`); `options` are its `--env-set` keys
    (`view="pixels"`). Copy i starts as training env i of a harness run
    seeded `seed`, and steps exactly like it. `num_threads` threads step the
    copies, with the GIL released; the results do not depend on it.
    """
    return TrustbenchVectorEnv(env_id, num_envs, seed, autoreset_mode, num_threads, **options)
