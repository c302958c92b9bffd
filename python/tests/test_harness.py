"""The same bits as the harness, and the CLI's error messages.

A run of `harness run --algo random --eval-every 0` is replayed through
`make_vec` with the harness's own random-policy actions
(`trustbench.harness_random_actions`); every training episode it recorded
(when it ended, its return, length and how it ended) must come out the
same, bit for bit. The harness binary is `$TRUSTBENCH_HARNESS`, else the
workspace's debug build; without one these tests are skipped, unless
`TRUSTBENCH_REQUIRE_HARNESS=1` (as in CI) makes that a failure.
"""

from __future__ import annotations

import importlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import trustbench

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(os.environ.get("TRUSTBENCH_HARNESS", ROOT / "target" / "debug" / "harness"))
REQUIRED = os.environ.get("TRUSTBENCH_REQUIRE_HARNESS") == "1"

if not HARNESS.exists():
    if REQUIRED:
        raise RuntimeError(f"TRUSTBENCH_REQUIRE_HARNESS=1 but there is no harness at {HARNESS}")
    pytest.skip(f"no harness binary at {HARNESS}", allow_module_level=True)


def harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(HARNESS), *args], capture_output=True, text=True, check=False)


def harness_episodes(tmp_path, env, seed, num_envs, steps, env_sets=()):
    # pyarrow reads the Parquet; CI installs it, so there a missing one fails.
    parquet = "pyarrow.parquet"
    pq = importlib.import_module(parquet) if REQUIRED else pytest.importorskip(parquet)
    sets = [a for kv in env_sets for a in ("--env-set", kv)]
    done = harness(
        "run", "--algo", "random", "--env", env, "--seed", str(seed),
        "--num-envs", str(num_envs), "--steps", str(steps), "--eval-every", "0",
        "--eval-episodes", "1", "--threads", "1", "--quiet", "--no-gif",
        "--out", str(tmp_path), *sets,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.glob("*/episodes.parquet")
    rows = pq.read_table(path).to_pylist()
    return [
        (r["env_steps"], r["episode_return"], r["length"], r["terminated"], r["truncated"])
        for r in rows
        if r["phase"] == "train"
    ]


def replay(env, seed, num_envs, steps, options):
    """The training episodes of the same run, stepped through `make_vec`."""
    envs = trustbench.make_vec(env, num_envs, seed, autoreset_mode="SameStep", **options)
    batches = steps // num_envs
    actions = trustbench.harness_random_actions(env, num_envs, seed, batches, **options)
    if isinstance(envs.single_action_space, trustbench.gym.spaces.Discrete):
        actions = actions.astype(np.int64)
    envs.reset()
    episodes = []
    for b in range(batches):
        _, _, terminated, truncated, info = envs.step(actions[b])
        for i in np.flatnonzero(info.get("_episode", np.zeros(num_envs, bool))):
            r, length = info["episode"]["r"][i], info["episode"]["l"][i]
            episodes.append((b * num_envs + i + 1, r, length, terminated[i], truncated[i]))
    return episodes


@pytest.mark.parametrize(
    "env, options",
    [("hopper", {}), ("cartpole", {}), ("breakout", {"view": "pixels", "max_frames": 400})],
)
def test_replaying_a_harness_run_gives_its_episodes(tmp_path, env, options):
    seed, num_envs, steps = 7, 3, 1500
    sets = [f"{k}={v}" for k, v in options.items()]
    recorded = harness_episodes(tmp_path, env, seed, num_envs, steps, sets)
    replayed = replay(env, seed, num_envs, steps, options)
    assert len(recorded) >= 3
    assert [tuple(map(float, e)) for e in replayed] == [tuple(map(float, e)) for e in recorded]


@pytest.mark.parametrize(
    "env, options",
    [
        ("hoper", {}),
        ("breakout", {"veiw": "pixels"}),
        ("breakout", {"view": "pixel"}),
        ("breakout", {"sticky": 1.5}),
        ("cartpole", {"view": "pixels"}),
    ],
)
def test_bad_envs_and_options_raise_the_cli_messages(env, options):
    with pytest.raises(ValueError) as caught:
        trustbench.make_vec(env, 2, **options)
    sets = [a for k, v in options.items() for a in ("--env-set", f"{k}={v}")]
    cli = harness(
        "run", "--algo", "random", "--env", env, "--steps", "10", "--out", "/nonexistent", *sets
    )
    assert cli.returncode != 0
    assert str(caught.value) in cli.stderr, (str(caught.value), cli.stderr)
