"""The trustbench plugin protocol for algorithms written in Python.

The harness owns the world; a plugin owns learning. A Python plugin is a
``.py`` file that defines one or more subclasses of :class:`Algorithm`; the
harness runs them with ``harness run --plugin my_algo.py --algo my-id``,
through the same C ABI as every other plugin (the Python host library embeds
CPython and speaks it). This module mirrors that ABI in NumPy terms:

* the class attributes are the algorithm's descriptor (id, name, version,
  description, accepted space kinds, default config);
* ``__init__(config, spaces, host)`` is ``create``: ``config`` is the default
  config updated with the user's keys, already checked by
  :func:`resolve_config` (unknown keys and wrong types are refused, naming
  the valid ones);
* ``train_iteration()`` samples through ``host`` (:class:`Host`) and
  updates the policy; ``act(obs, deterministic)`` returns a batch of
  actions; ``save()``/``load(data)`` persist the learned parameters.

Everything a plugin needs at run time (seed, env copies, stepping, metrics)
comes through the host, so every algorithm is measured the same way. The
harness provides this module when it runs a plugin; the file is also
importable on its own (for type checkers and unit tests of a plugin).

Determinism: derive every random stream from ``host.seed`` (NumPy:
``np.random.default_rng(host.seed)``; PyTorch: ``torch.manual_seed(host.seed)``
plus ``torch.use_deterministic_algorithms(True)``; JAX, whose keys take 32
bits: ``jax.random.key(host.seed % 2**32)``). The same seed then gives the
same results.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

if TYPE_CHECKING:  # the host type is provided by the harness's Python host library
    from typing import Protocol

    class Host(Protocol):
        """The harness's services (see the module docs); valid inside ``train_iteration``."""

        seed: int
        num_envs: int
        threads: int
        byte_observations: bool

        @property
        def steps_remaining(self) -> int: ...

        def reset(self, env: int | None = None) -> np.ndarray: ...

        def step(self, actions: np.ndarray, first: int = 0) -> StepResult: ...

        def snapshot(self, env: int) -> int: ...

        def restore(self, env: int, snapshot: int) -> None: ...

        def release(self, snapshot: int) -> None: ...

        def log(self, name: str, value: float) -> None: ...


BOX = "box"
DISCRETE = "discrete"
KINDS = (BOX, DISCRETE)


class BudgetExhausted(Exception):
    """Raised by ``host.step`` when the run's step budget cannot cover the step.

    Nothing was stepped. Let it propagate out of ``train_iteration``: the
    host ends the iteration normally (the ABI's ``TB_BUDGET_EXHAUSTED``).
    """


@dataclasses.dataclass(frozen=True)
class Space:
    """An observation or action space, as in Gymnasium.

    ``kind`` is ``"box"`` (reals with bounds ``low``/``high`` of ``shape``)
    or ``"discrete"`` (one integer in ``[0, n)``; ``shape`` is ``()``).
    Pixel observations are boxes whose batches arrive as ``uint8`` (value =
    byte / 255) when ``host.byte_observations`` is true.
    """

    kind: str
    shape: tuple[int, ...]
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    n: int | None = None


@dataclasses.dataclass(frozen=True)
class Spaces:
    """The spaces of a run and its number of env copies."""

    observation: Space
    action: Space
    num_envs: int


class StepResult(NamedTuple):
    """What ``host.step`` returns for ``count`` copies; unpacks as
    ``obs, rewards, terminated, truncated, final_obs``. Arrays are fresh.

    ``observations``: ``[count, *obs_shape]``, the next observations (the
    first of a new episode where one ended: copies reset themselves).
    ``rewards``: ``float64[count]``; ``terminated``/``truncated``: ``bool[count]``
    (Gymnasium's meaning: a true end, no bootstrap / cut off, bootstrap).
    ``final_observations``: the same shape as ``observations``; for copies
    whose episode ended this step, the episode's last observation (bootstrap
    V(s') from it on truncation); zeros elsewhere.
    """

    observations: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    final_observations: np.ndarray


class Algorithm:
    """Base class of a Python algorithm plugin; subclass it in your ``.py``.

    Class attributes describe the algorithm (the ABI's descriptor); the
    methods are the instance's. Override every method that raises here.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = ""
    observation_kinds: ClassVar[tuple[str, ...]] = (BOX,)
    action_kinds: ClassVar[tuple[str, ...]] = KINDS
    default_config: ClassVar[dict[str, Any]] = {}
    #: Inclusive ``(low, high)`` bounds of numeric config keys, checked with
    #: the types before ``__init__``: a value outside is refused naming the
    #: key and the range (what the validator's ``config-range`` check wants).
    config_ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    def __init__(self, config: dict[str, Any], spaces: Spaces, host: Host) -> None:
        self.config = config
        self.spaces = spaces
        self.host = host

    def train_iteration(self) -> None:
        """Sample through ``self.host``, update the policy, log metrics."""
        raise NotImplementedError(f"{type(self).__name__}.train_iteration")

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        """Actions for a batch ``obs`` of shape ``[count, *obs_shape]``.

        Return ``[count, *action_shape]`` (box) or ``[count]`` integers
        (discrete). ``deterministic`` asks for the policy's mode (evaluation).
        An action may not depend on the rest of its batch.
        """
        raise NotImplementedError(f"{type(self).__name__}.act")

    def save(self) -> bytes:
        """The learned parameters as bytes (``policy.bin``)."""
        raise NotImplementedError(f"{type(self).__name__}.save")

    def load(self, data: bytes) -> None:
        """Replace the learned parameters with bytes from :meth:`save`."""
        raise NotImplementedError(f"{type(self).__name__}.load")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _same_type(default: Any, value: Any) -> bool:
    """Whether ``value`` may replace ``default``: same JSON type (an integer
    is a valid number; a boolean is never a number)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, int):
        return isinstance(value, int)
    return isinstance(value, type(default))


def resolve_config(
    defaults: Mapping[str, Any],
    given: Mapping[str, Any],
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """``defaults`` updated with ``given``, refusing what the ABI refuses.

    An unknown key raises ``ValueError`` naming it and the valid keys; a value
    of another type than its default's raises ``TypeError`` naming the key,
    the value and the expected type; a value outside its ``ranges`` entry
    (inclusive bounds) raises ``ValueError`` naming the key and the range.
    Integers are accepted for float keys (and become floats). The harness
    calls this before ``__init__`` with the class's ``default_config`` and
    ``config_ranges``, so every plugin passes the validator's config checks
    without writing them.
    """
    resolved = dict(defaults)
    for key, value in given.items():
        if key not in defaults:
            valid = ", ".join(sorted(defaults)) or "(none)"
            raise ValueError(f"unknown config key '{key}'; valid keys: {valid}")
        default = defaults[key]
        if not _same_type(default, value):
            raise TypeError(
                f"config key '{key}' = {value!r} is {_type_name(value)}, "
                f"expected {_type_name(default)} (default {default!r})"
            )
        resolved[key] = float(value) if isinstance(default, float) else value
    for key, (low, high) in (ranges or {}).items():
        if key not in defaults:
            raise ValueError(f"config_ranges names '{key}', which is not a config key")
        if not low <= resolved[key] <= high:
            raise ValueError(
                f"config key '{key}' = {resolved[key]!r} is out of range [{low}, {high}]"
            )
    return resolved


def _describe(cls: type[Algorithm]) -> dict[str, Any]:
    """The descriptor of ``cls`` as plain data, checked (the host reads it)."""
    where = f"class {cls.__name__}"
    for attr in ("id", "name"):
        if not isinstance(getattr(cls, attr, None), str):
            raise TypeError(f"{where} must set the class attribute '{attr}' to a string")
    for attr in ("version", "description"):
        if not isinstance(getattr(cls, attr), str):
            raise TypeError(f"{where}: '{attr}' must be a string")
    masks = {}
    for attr in ("observation_kinds", "action_kinds"):
        kinds = tuple(getattr(cls, attr))
        bad = [k for k in kinds if k not in KINDS]
        if bad or not kinds:
            raise ValueError(f"{where}: '{attr}' = {kinds!r}; valid kinds: {', '.join(KINDS)}")
        masks[attr] = kinds
    if not isinstance(cls.default_config, dict):
        raise TypeError(f"{where}: 'default_config' must be a dict")
    try:
        config_json = json.dumps(cls.default_config, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: 'default_config' is not plain JSON data: {e}") from None
    return {
        "id": cls.id,
        "name": cls.name,
        "version": cls.version,
        "description": cls.description,
        "observation_kinds": masks["observation_kinds"],
        "action_kinds": masks["action_kinds"],
        "default_config_json": config_json,
    }


def _algorithms(module: Any) -> list[type[Algorithm]]:
    """The algorithms a script offers: the :class:`Algorithm` subclasses it
    defines that set their own ``id``, in definition order. Imported classes
    are not offered again, and a base class without an ``id`` of its own
    (shared code for several algorithms) is not offered at all."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Algorithm)
        and "id" in vars(value)
        and value.__module__ == module.__name__
    ]


def _create(cls: type[Algorithm], config_json: str, spaces: Spaces, host: Host) -> Algorithm:
    """``create``: resolve the config against the class's defaults, then build."""
    given = json.loads(config_json) if config_json else {}
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise TypeError(f"config must be a JSON object, got {config_json}")
    return cls(resolve_config(cls.default_config, given, cls.config_ranges), spaces, host)
