"""Gymnasium envs behind trustbench's env-provider ABI (`--env gym:ID`).

The Python host library (src/gym.rs) embeds this module and calls it with
plain NumPy arrays; everything that touches Gymnasium lives here, so the
Rust side only copies buffers across the C ABI.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import json
import pickle
from typing import Any

import numpy as np

#: Packages whose installed versions identify the envs a run used.
RECORDED_PACKAGES = ("gymnasium", "mujoco", "ale-py")

#: The pip line that installs what `gym:` envs need.
PIP_LINE = 'pip install "gymnasium[mujoco]"'


def versions() -> str:
    """The installed versions of the packages in RECORDED_PACKAGES."""
    found = []
    for name in RECORDED_PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def typed(value: str) -> Any:
    """An `--env-set` value as Python: a bool, int, float or else the string."""
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def make(env_id: str, options_json: str) -> Any:
    """`gymnasium.make(env_id, **kwargs)` with clear errors for the user."""
    try:
        gymnasium = importlib.import_module("gymnasium")
    except ImportError as e:
        raise RuntimeError(
            f"gym:{env_id} needs Gymnasium, which this interpreter cannot import ({e}): {PIP_LINE}"
        ) from None
    kwargs = {k: typed(v) for k, v in json.loads(options_json).items()}
    if ":" in env_id:
        # `module:Id`, as gymnasium.make takes it: the module registers the env.
        module, _, env_id = env_id.partition(":")
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise RuntimeError(f"gym:{module}:{env_id}: cannot import {module} ({e})") from None
    if env_id not in gymnasium.registry:
        # ALE ids register when ale_py is imported.
        if env_id.startswith("ALE/"):
            try:
                gymnasium.register_envs(importlib.import_module("ale_py"))
            except ImportError:
                raise RuntimeError(f"gym:{env_id} needs ale-py: pip install ale-py") from None
    if env_id not in gymnasium.registry:
        # A short name (`gym:CartPole`) means its latest version.
        versions = [k for k in gymnasium.registry if k.rsplit("-v", 1)[0] == env_id]
        if versions:
            env_id = max(versions, key=lambda k: int(k.rsplit("-v", 1)[1] or 0))
    if env_id not in gymnasium.registry:
        close = difflib.get_close_matches(env_id, list(gymnasium.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join('gym:' + c for c in close)}?" if close else ""
        raise RuntimeError(f"unknown Gymnasium env 'gym:{env_id}' (ids are case-sensitive){hint}")
    try:
        env = gymnasium.make(env_id, **kwargs)
    except gymnasium.error.DependencyNotInstalled as e:
        raise RuntimeError(f"gym:{env_id}: a package is missing ({e}): {PIP_LINE}") from None
    except TypeError as e:
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise RuntimeError(f"gym:{env_id} does not take the options given ({shown}): {e}") from None
    return env


def space(s: Any, what: str) -> dict[str, Any]:
    """A Box or Discrete space as the ABI describes it; others are refused."""
    spaces = importlib.import_module("gymnasium.spaces")
    if isinstance(s, spaces.Discrete):
        if int(s.start) != 0:
            raise RuntimeError(
                f"{what} space {s} starts at {s.start}; only Discrete(n) from 0 is supported"
            )
        return {"kind": "discrete", "n": int(s.n), "shape": [1]}
    if isinstance(s, spaces.Box):
        if len(s.shape) > 4 or len(s.shape) == 0:
            raise RuntimeError(f"{what} space {s} has rank {len(s.shape)}; supported: 1 to 4")
        return {
            "kind": "box",
            "shape": [int(d) for d in s.shape],
            "low": np.asarray(s.low, dtype=np.float64).ravel().tolist(),
            "high": np.asarray(s.high, dtype=np.float64).ravel().tolist(),
        }
    raise RuntimeError(
        f"{what} space {type(s).__name__} ({s}) is not supported: only Box and Discrete are"
    )


def time_limit_of(env: Any) -> Any:
    """The TimeLimit wrapper around `env`, if any (its step count is state)."""
    while env is not None and not hasattr(env, "_elapsed_steps"):
        env = getattr(env, "env", None)
    return env


def mujoco_state_spec(env: Any) -> Any:
    """MuJoCo's full integration state spec when `env` is a MuJoCo env, else None."""
    unwrapped = env.unwrapped
    if not (hasattr(unwrapped, "model") and hasattr(unwrapped, "data")):
        return None
    try:
        mujoco = importlib.import_module("mujoco")
    except ImportError:
        return None
    if not isinstance(unwrapped.data, mujoco.MjData):
        return None
    return mujoco.mjtState.mjSTATE_INTEGRATION


class Copy:
    """One Gymnasium env: seeded at its first reset, reset on episode end."""

    def __init__(self, env_id: str, options_json: str, seed: int) -> None:
        self.env = make(env_id, options_json)
        self.observation = space(self.env.observation_space, "observation")
        self.action = space(self.env.action_space, "action")
        self.discrete = self.action["kind"] == "discrete"
        self.seed: int | None = seed
        #: Snapshots are exact only for MuJoCo envs (see `save`).
        self.state_spec = mujoco_state_spec(self.env)
        self.snapshots = self.state_spec is not None

    def reset(self, seed: int | None) -> np.ndarray:
        """The first observation of a new episode (reseeded when `seed` is given)."""
        if seed is None:
            seed, self.seed = self.seed, None
        else:
            self.seed = None
        obs, _ = self.env.reset(seed=seed)
        return np.asarray(obs, dtype=np.float64).ravel()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, np.ndarray | None]:
        """obs (of the next episode when this one ended), reward, flags, final obs."""
        if self.discrete:
            a: Any = int(action[0])
        else:
            low = np.asarray(self.action["low"]).reshape(self.action["shape"])
            high = np.asarray(self.action["high"]).reshape(self.action["shape"])
            a = np.clip(action.reshape(self.action["shape"]), low, high).astype(
                self.env.action_space.dtype
            )
        obs, reward, terminated, truncated, _ = self.env.step(a)
        obs = np.asarray(obs, dtype=np.float64).ravel()
        final = None
        if terminated or truncated:
            final = obs
            obs = self.reset(None)
        return obs, float(reward), bool(terminated), bool(truncated), final

    def save(self) -> bytes:
        """The copy's whole future as bytes: MuJoCo's integration state (qpos,
        qvel, act, warm start, controls, time...), the env's random generator,
        the time limit's step count and a pending first-reset seed."""
        mujoco = importlib.import_module("mujoco")
        unwrapped = self.env.unwrapped
        size = mujoco.mj_stateSize(unwrapped.model, self.state_spec)
        physics = np.empty(size, dtype=np.float64)
        mujoco.mj_getState(unwrapped.model, unwrapped.data, physics, self.state_spec)
        limit = time_limit_of(self.env)
        return pickle.dumps(
            {
                "physics": physics,
                "rng": unwrapped.np_random.bit_generator.state,
                "elapsed": None if limit is None else limit._elapsed_steps,
                "seed": self.seed,
            }
        )

    def load(self, state: bytes) -> None:
        """Put the copy into a state from `save` (of a copy of the same env)."""
        mujoco = importlib.import_module("mujoco")
        saved = pickle.loads(state)
        unwrapped = self.env.unwrapped
        physics = np.asarray(saved["physics"], dtype=np.float64)
        if physics.size != mujoco.mj_stateSize(unwrapped.model, self.state_spec):
            raise ValueError(f"a snapshot of {physics.size} values is not of this env")
        mujoco.mj_setState(unwrapped.model, unwrapped.data, physics, self.state_spec)
        mujoco.mj_forward(unwrapped.model, unwrapped.data)
        unwrapped.np_random.bit_generator.state = saved["rng"]
        limit = time_limit_of(self.env)
        if limit is not None:
            limit._elapsed_steps = saved["elapsed"]
        self.seed = saved["seed"]
        # A fresh copy has not been reset: its order-enforcing wrapper would refuse a step.
        wrapper = self.env
        while wrapper is not None:
            if hasattr(wrapper, "_has_reset"):
                wrapper._has_reset = True
            wrapper = getattr(wrapper, "env", None)
