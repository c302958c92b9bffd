"""Gymnasium envs behind trustbench's env-provider ABI (`--env gym:ID`).

The Python host library (src/gym.rs) embeds this module and calls a `Batch`
with NumPy arrays that view the harness's own buffers: each copy's result is
written once, where the harness reads it, and everything that touches
Gymnasium lives here.

Atari from pixels as the TRPO paper ran it (`--env-set view=pixels` on an
`ALE/` id) is `AtariPixels`: per agent step, the action repeated for
`frameskip` frames, the per-pixel max of the last two frames, area-averaged
down to `size` in greyscale and pushed onto a stack of `stack` frames; no
sticky actions unless asked for. The observation is height x width x stack
bytes, channel fastest and oldest frame first, like the native pixel view.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import pickle
import sys
from typing import Any

import numpy as np

if not os.environ.get("DISPLAY"):
    # Headless rendering for MuJoCo's `render` (read when mujoco is imported).
    os.environ.setdefault("MUJOCO_GL", "egl")

#: Packages whose installed versions identify the envs a run used.
RECORDED_PACKAGES = ("gymnasium", "mujoco", "ale-py")

#: The pip line that installs what `gym:` envs need.
PIP_LINE = 'pip install "gymnasium[mujoco]"'


def versions() -> str:
    """The installed versions of the packages in RECORDED_PACKAGES, read from
    their `.dist-info` folder names on `sys.path` (first one wins, as for
    imports): `importlib.metadata` parses every package's metadata and
    costs a third of a second at start-up."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            name, _, version = entry[: -len(".dist-info")].partition("-")
            key = name.lower().replace("_", "-")
            if key in RECORDED_PACKAGES and key not in found:
                found[key] = version
    return ", ".join(f"{name} {found[name]}" for name in RECORDED_PACKAGES if name in found)


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


#: The value one observation byte stands for: byte * SCALE (the ABI's
#: TB_BYTE_OBSERVATION_SCALE), so double and byte observations agree bit for bit.
SCALE = 1.0 / 255.0

#: Options the provider takes itself (pixel preprocessing of `ALE/` ids);
#: every other key goes to `gymnasium.make`. As the ABI describes options.
PIXEL_OPTIONS = [
    {
        "key": "view",
        "default": "raw",
        "valid": "raw | pixels",
        "help": "ALE ids: pixels = the TRPO paper's preprocessing (grey, max of two frames, "
        "50x38, stack 4, frameskip 4, no sticky actions); raw = Gymnasium's observation",
    },
    {
        "key": "size",
        "default": "50x38",
        "valid": "HxW with H in 1..=210, W in 1..=160",
        "help": "view=pixels: height x width of a frame after area averaging",
    },
    {
        "key": "stack",
        "default": "4",
        "valid": "an integer in 1..=16",
        "help": "view=pixels: frames stacked into one observation",
    },
    {
        "key": "frameskip",
        "default": "auto",
        "valid": "auto | an integer in 1..=64",
        "help": "frames per agent step, rewards summed (auto: 4 for view=pixels, "
        "else the env's own); with view=raw it goes to gymnasium.make",
    },
    {
        "key": "max_pool",
        "default": "true",
        "valid": "true | false",
        "help": "view=pixels: max over the last two frames of each step",
    },
    {
        "key": "grayscale",
        "default": "true",
        "valid": "true | false",
        "help": "view=pixels: one luminance channel instead of RGB",
    },
]


def make(env_id: str, options_json: str) -> Any:
    """`gymnasium.make(env_id, **kwargs)` with clear errors for the user.

    Made with `render_mode="rgb_array"` when the env offers it (and the
    user chose no render mode), so runs can draw their `eval.gif`.
    """
    try:
        gymnasium = importlib.import_module("gymnasium")
    except ImportError as e:
        raise RuntimeError(
            f"gym:{env_id} needs Gymnasium, which this interpreter cannot import ({e}): {PIP_LINE}"
        ) from None
    kwargs = options_json if isinstance(options_json, dict) else json.loads(options_json)
    kwargs = {k: typed(v) if isinstance(v, str) else v for k, v in kwargs.items()}
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
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if "render_mode" not in kwargs and "rgb_array" in render_modes(gymnasium, env_id):
        kwargs["render_mode"] = "rgb_array"
    try:
        env = gymnasium.make(env_id, **kwargs)
    except gymnasium.error.DependencyNotInstalled as e:
        raise RuntimeError(f"gym:{env_id}: a package is missing ({e}): {PIP_LINE}") from None
    except TypeError as e:
        raise RuntimeError(f"gym:{env_id} does not take the options given ({shown}): {e}") from None
    return env


def render_modes(gymnasium: Any, env_id: str) -> list[str]:
    """The render modes `env_id`'s class declares, without making it."""
    spec = gymnasium.spec(env_id)
    if not isinstance(spec.entry_point, str):
        return []
    creator = gymnasium.envs.registration.load_env_creator(spec.entry_point)
    return list(getattr(creator, "metadata", {}).get("render_modes", []))


def byte_box(s: Any) -> bool:
    """Whether `s` is a uint8 Box of 0..255: images, which travel as bytes."""
    spaces = importlib.import_module("gymnasium.spaces")
    return (
        isinstance(s, spaces.Box)
        and s.dtype == np.uint8
        and bool(np.all(s.low == 0))
        and bool(np.all(s.high == 255))
    )


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
        if byte_box(s):
            # Bytes b stand for b * SCALE: the space the harness sees is [0, 1].
            size = int(np.prod(s.shape))
            return {
                "kind": "box",
                "shape": [int(d) for d in s.shape],
                "low": [0.0] * size,
                "high": [1.0] * size,
            }
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


def parse_size(text: str) -> tuple[int, int]:
    """`HxW` with 1 <= H <= 210 and 1 <= W <= 160 (averaging never enlarges)."""
    h, _, w = str(text).partition("x")
    try:
        size = (int(h), int(w))
    except ValueError:
        size = (0, 0)
    if not (1 <= size[0] <= 210 and 1 <= size[1] <= 160):
        raise RuntimeError(
            f"size={text!r} is not valid; valid: HxW with H in 1..=210, W in 1..=160"
        )
    return size


def bounded_int(options: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    """An integer option within [low, high], or an error naming both."""
    value = options.pop(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuntimeError(f"{key}={value!r} is not valid; valid: an integer in {low}..={high}")
    return value


def flag(options: dict[str, Any], key: str, default: bool) -> bool:
    """A true/false option, or an error naming the valid values."""
    value = options.pop(key, default)
    if not isinstance(value, bool):
        raise RuntimeError(f"{key}={value!r} is not valid; valid: true | false")
    return value


def spans(source: int, out: int) -> np.ndarray:
    """The first source index that output index i of `out` averages:
    floor(i * source / out), as the native pixel view splits an axis."""
    return np.arange(out) * source // out


class AtariPixels:
    """The TRPO paper's Atari input over the raw ALE of a Gymnasium Atari env
    made with frameskip=1: its own frame skip, max-pool, area averaging and
    frame stack, all of it state that `save` and `load` carry."""

    HEIGHT, WIDTH = 210, 160

    def __init__(self, env: Any, options: dict[str, Any]) -> None:
        self.ale = env.unwrapped.ale
        self.action_set = env.unwrapped._action_set
        self.size = parse_size(options.pop("size", "50x38"))
        self.stack = bounded_int(options, "stack", 4, 1, 16)
        self.frameskip = bounded_int(options, "frameskip", 4, 1, 64)
        self.max_pool = flag(options, "max_pool", True)
        self.grayscale = flag(options, "grayscale", True)
        colour = 1 if self.grayscale else 3
        screen = (self.HEIGHT, self.WIDTH) if self.grayscale else (self.HEIGHT, self.WIDTH, 3)
        self.screens = [np.zeros(screen, np.uint8), np.zeros(screen, np.uint8)]
        self.latest = 0
        h, w = self.size
        self.rows, self.cols = spans(self.HEIGHT, h), spans(self.WIDTH, w)
        counts = (
            np.diff(np.append(self.rows, self.HEIGHT))[:, None]
            * np.diff(np.append(self.cols, self.WIDTH))[None, :]
        )
        self.counts = counts if self.grayscale else counts[:, :, None]
        self.stacked = np.zeros((h, w, self.stack * colour), np.uint8)
        self.colour = colour

    def shape(self) -> tuple[int, int, int]:
        """height x width x (stack * colour channels)."""
        return self.stacked.shape

    def capture(self) -> None:
        """The ALE's current frame into the next of the two screens."""
        self.latest ^= 1
        if self.grayscale:
            self.ale.getScreenGrayscale(self.screens[self.latest])
        else:
            self.ale.getScreenRGB(self.screens[self.latest])

    def push(self) -> None:
        """Max-pool, average down and push the newest frame onto the stack."""
        frame = self.screens[self.latest]
        if self.max_pool:
            frame = np.maximum(frame, self.screens[self.latest ^ 1])
        sums = np.add.reduceat(
            np.add.reduceat(frame.astype(np.uint32), self.rows, axis=0), self.cols, axis=1
        )
        # Rounded to the nearest byte: (sum + count / 2) // count.
        small = ((sums + self.counts // 2) // self.counts).astype(np.uint8)
        c = self.colour
        self.stacked[:, :, :-c] = self.stacked[:, :, c:]
        self.stacked[:, :, -c:] = small.reshape(small.shape[0], small.shape[1], c)

    def start(self) -> np.ndarray:
        """An episode's first observation: an empty stack and the first frame."""
        self.stacked.fill(0)
        self.capture()
        self.screens[self.latest ^ 1][...] = self.screens[self.latest]
        self.push()
        return self.stacked

    def act(self, action: int) -> tuple[np.ndarray, float, bool, bool]:
        """One agent step: the action for `frameskip` frames (fewer when the
        game ends), the last two of them captured."""
        ale, code = self.ale, self.action_set[action]
        reward = 0.0
        for i in range(self.frameskip):
            reward += ale.act(code)
            ended = ale.game_over(with_truncation=True)
            if i >= self.frameskip - 2 or ended:
                self.capture()
            if ended:
                break
        self.push()
        return self.stacked, reward, ale.game_over(with_truncation=False), ale.game_truncated()

    def state(self) -> dict[str, Any]:
        """The pipeline's part of a snapshot."""
        return {
            "screens": [s.copy() for s in self.screens],
            "latest": self.latest,
            "stacked": self.stacked.copy(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Put back what `state` returned."""
        for mine, saved in zip(self.screens, state["screens"]):
            mine[...] = saved
        self.latest = state["latest"]
        self.stacked[...] = state["stacked"]


def ale_env(env: Any) -> bool:
    """Whether `env` is an Atari env of ale-py (exact `cloneState` snapshots)."""
    return hasattr(env.unwrapped, "ale") and hasattr(env.unwrapped.ale, "cloneState")


class Copy:
    """One Gymnasium env: seeded at its first reset, reset on episode end."""

    def __init__(self, env_id: str, options_json: str, seed: int) -> None:
        options = json.loads(options_json)
        view = options.pop("view", "raw")
        if view not in ("raw", "pixels"):
            raise RuntimeError(f"view={view!r} is not valid; valid: raw | pixels")
        pixel_keys = [o["key"] for o in PIXEL_OPTIONS if o["key"] not in ("view", "frameskip")]
        ours = {k: typed(options.pop(k)) for k in pixel_keys if k in options}
        if view == "pixels":
            if not env_id.startswith("ALE/"):
                raise RuntimeError(f"view=pixels is for Atari ids (gym:ALE/...), not gym:{env_id}")
            frameskip = options.pop("frameskip", "auto")
            ours["frameskip"] = 4 if frameskip == "auto" else typed(frameskip)
            # The paper's protocol: the provider skips frames; no sticky actions.
            options["frameskip"] = "1"
            options.setdefault("repeat_action_probability", "0.0")
            if ours.get("grayscale", True):
                options.setdefault("obs_type", "grayscale")
        else:
            # The harness passes every declared option, at its default when unset.
            defaults = {o["key"]: typed(o["default"]) for o in PIXEL_OPTIONS}
            changed = [k for k, v in ours.items() if v != defaults[k]]
            if changed:
                raise RuntimeError(
                    f"{', '.join(changed)} apply to view=pixels only (gym:ALE/... ids)"
                )
            if options.get("frameskip", "auto") == "auto":
                options.pop("frameskip", None)
        self.env = make(env_id, options)
        self.pixels = AtariPixels(self.env, ours) if view == "pixels" else None
        if self.pixels is not None:
            h, w, depth = self.pixels.shape()
            size = h * w * depth
            self.observation = {
                "kind": "box",
                "shape": [h, w, depth],
                "low": [0.0] * size,
                "high": [1.0] * size,
            }
            self.bytes = True
        else:
            self.observation = space(self.env.observation_space, "observation")
            self.bytes = byte_box(self.env.observation_space)
        self.action = space(self.env.action_space, "action")
        self.discrete = self.action["kind"] == "discrete"
        self.seed: int | None = seed
        #: Snapshots are offered only where they are exact (see `save`).
        self.state_spec = mujoco_state_spec(self.env)
        self.snapshots = self.state_spec is not None or ale_env(self.env)
        self.renders = self.pixels is not None or self.env.render_mode == "rgb_array"

    def reset(self, seed: int | None) -> np.ndarray:
        """The first observation of a new episode (reseeded when `seed` is
        given), as the env gives it."""
        if seed is None:
            seed, self.seed = self.seed, None
        else:
            self.seed = None
        obs, _ = self.env.reset(seed=seed)
        if self.pixels is not None:
            obs = self.pixels.start()
        return obs

    def step(self, action: Any) -> tuple[Any, float, bool, bool, Any]:
        """obs (of the next episode when this one ended), reward, flags and
        the ended episode's last obs, as the env gives them. `action` is as
        the env takes it: an int for a discrete space, else an array of the
        space's dtype (within its bounds: the caller clips)."""
        if self.pixels is not None:
            obs, reward, terminated, truncated = self.pixels.act(action)
        else:
            obs, reward, terminated, truncated, _ = self.env.step(action)
        final = None
        if terminated or truncated:
            # The pipeline's stack is overwritten by the reset.
            final = obs.copy() if self.pixels is not None else obs
            obs = self.reset(None)
        return obs, float(reward), bool(terminated), bool(truncated), final

    def render(self, width: int, height: int) -> np.ndarray:
        """The copy's current frame, height x width x 3 bytes (nearest pixel)."""
        if self.pixels is not None:
            frame = self.pixels.ale.getScreenRGB()
        else:
            frame = self.env.render()
        if frame is None or np.asarray(frame).ndim != 3:
            raise RuntimeError("this env draws no RGB frame (render_mode='rgb_array')")
        frame = np.asarray(frame, dtype=np.uint8)
        # Fitted inside the asked size with its aspect ratio kept (black
        # bars on the other axis), so nothing is squashed or cut off.
        h, w = frame.shape[:2]
        fit_h = max(1, min(height, h * width // w))
        fit_w = max(1, min(width, w * height // h))
        rows = np.arange(fit_h) * h // fit_h
        cols = np.arange(fit_w) * w // fit_w
        canvas = np.zeros((height, width, 3), np.uint8)
        top, left = (height - fit_h) // 2, (width - fit_w) // 2
        canvas[top : top + fit_h, left : left + fit_w] = frame[rows][:, cols, :3]
        return canvas

    def save(self) -> bytes:
        """The copy's whole future as bytes: the emulator or physics state,
        the env's random generator, the time limit's step count, a pending
        first-reset seed and (pixels) the frame pipeline.

        MuJoCo: the integration state (qpos, qvel, act, warm start,
        controls, time...). ALE: `cloneState(include_rng=True)`, which
        includes the RNG of sticky actions."""
        unwrapped = self.env.unwrapped
        limit = time_limit_of(self.env)
        state: dict[str, Any] = {
            "rng": unwrapped.np_random.bit_generator.state,
            "elapsed": None if limit is None else limit._elapsed_steps,
            "seed": self.seed,
        }
        if self.state_spec is not None:
            mujoco = importlib.import_module("mujoco")
            size = mujoco.mj_stateSize(unwrapped.model, self.state_spec)
            physics = np.empty(size, dtype=np.float64)
            mujoco.mj_getState(unwrapped.model, unwrapped.data, physics, self.state_spec)
            state["physics"] = physics
        else:
            state["ale"] = unwrapped.ale.cloneState(include_rng=True)
            if self.pixels is not None:
                state["pixels"] = self.pixels.state()
        return pickle.dumps(state)

    def load(self, state: bytes) -> None:
        """Put the copy into a state from `save` (of a copy of the same env)."""
        saved = pickle.loads(state)
        unwrapped = self.env.unwrapped
        if self.state_spec is not None:
            mujoco = importlib.import_module("mujoco")
            physics = np.asarray(saved["physics"], dtype=np.float64)
            if physics.size != mujoco.mj_stateSize(unwrapped.model, self.state_spec):
                raise ValueError(f"a snapshot of {physics.size} values is not of this env")
            mujoco.mj_setState(unwrapped.model, unwrapped.data, physics, self.state_spec)
            mujoco.mj_forward(unwrapped.model, unwrapped.data)
        else:
            unwrapped.ale.restoreState(saved["ale"])
            if self.pixels is not None:
                self.pixels.set_state(saved["pixels"])
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


def write(row: np.ndarray, obs: Any) -> None:
    """One observation into the harness's row (shaped like the space): as
    is, or bytes into doubles as b * SCALE (bit for bit the ABI's value)."""
    if row.dtype == np.float64 and getattr(obs, "dtype", None) == np.uint8:
        np.multiply(obs, SCALE, out=row)
    else:
        row[...] = obs


class Batch:
    """The copies of one `create`: the ABI's batched reset and step, written
    into NumPy views of the harness's buffers (rows are copies, shaped like
    the observation space)."""

    def __init__(self, env_id: str, options_json: str, seeds: list[int]) -> None:
        self.copies = [Copy(env_id, options_json, seed) for seed in seeds]
        first = self.copies[0]
        self.observation, self.action = first.observation, first.action
        self.snapshots, self.bytes, self.renders = first.snapshots, first.bytes, first.renders
        self.discrete = first.discrete or first.pixels is not None
        if not self.discrete:
            self.action_dtype = first.env.action_space.dtype
            self.action_shape = tuple(first.env.action_space.shape)

    def reset(self, first: int, seeds: np.ndarray | None, out: np.ndarray) -> None:
        """Reset copies first.. (one per row of `out`)."""
        for k, row in enumerate(out):
            seed = None if seeds is None else int(seeds[k])
            write(row, self.copies[first + k].reset(seed))

    def step(
        self,
        first: int,
        actions: np.ndarray,
        obs: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        finals: np.ndarray | None,
    ) -> None:
        """Step copies first.. with one row of `actions` each (clipped to
        the action space's bounds by the caller)."""
        if self.discrete:
            acts = actions[:, 0].astype(np.int64).tolist()
        else:
            acts = list(actions.astype(self.action_dtype).reshape(len(actions), *self.action_shape))
        scale = obs.dtype == np.float64 and self.bytes
        copies = self.copies
        for k, action in enumerate(acts):
            o, rewards[k], terminated[k], truncated[k], final = copies[first + k].step(action)
            if scale:
                np.multiply(o, SCALE, out=obs[k])
            else:
                obs[k] = o
            if final is not None and finals is not None:
                if scale:
                    np.multiply(final, SCALE, out=finals[k])
                else:
                    finals[k] = final

    def render(self, env: int, width: int, out: np.ndarray) -> None:
        """Copy `env`'s frame into `out` (height x width * 3 bytes)."""
        out[...] = self.copies[env].render(width, out.shape[0]).reshape(out.shape)
