"""The Gymnasium side of the `gym:` provider: typed options, refused spaces,
and MuJoCo snapshots that replay bit for bit."""

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
import trustbench_gym  # noqa: E402


def test_env_set_values_are_typed() -> None:
    assert trustbench_gym.typed("true") is True
    assert trustbench_gym.typed("False") is False
    assert trustbench_gym.typed("3") == 3 and isinstance(trustbench_gym.typed("3"), int)
    assert trustbench_gym.typed("3.5") == 3.5
    assert trustbench_gym.typed("rgb_array") == "rgb_array"


def test_unsupported_spaces_are_refused_by_name() -> None:
    spaces = gymnasium.spaces
    for space in (spaces.MultiBinary(3), spaces.Dict({"a": spaces.Discrete(2)})):
        with pytest.raises(RuntimeError, match=type(space).__name__):
            trustbench_gym.space(space, "observation")


def test_an_unknown_id_says_so_with_close_matches() -> None:
    with pytest.raises(RuntimeError, match="unknown Gymnasium env 'gym:Cartpole-v1'.*CartPole-v1"):
        trustbench_gym.make("Cartpole-v1", "{}")


def rollout(copy: trustbench_gym.Copy) -> list[tuple[bytes, float, bool, bool]]:
    rng = np.random.default_rng(0)
    steps = []
    for _ in range(300):
        obs, reward, terminated, truncated, _ = copy.step(rng.uniform(-1, 1, 3))
        steps.append((obs.tobytes(), reward, terminated, truncated))
    return steps


def test_a_mujoco_snapshot_replays_bit_for_bit_in_a_fresh_copy() -> None:
    pytest.importorskip("mujoco")
    original = trustbench_gym.Copy("Hopper-v5", "{}", 5)
    assert original.snapshots
    original.reset(None)
    for _ in range(20):
        original.step(np.full(3, 0.3))
    state = original.save()
    expected = rollout(original)
    assert any(s[2] for s in expected), "the rollout crosses an episode end (a reset)"
    fresh = trustbench_gym.Copy("Hopper-v5", "{}", 9)
    fresh.load(state)
    assert rollout(fresh) == expected


def test_classic_control_offers_no_snapshot() -> None:
    assert not trustbench_gym.Copy("Pendulum-v1", "{}", 0).snapshots
