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
        steps.append((np.asarray(obs).tobytes(), reward, terminated, truncated))
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


def pixel_rollout(copy: trustbench_gym.Copy, steps: int) -> list[tuple[bytes, float, bool, bool]]:
    rng = np.random.default_rng(1)
    out = []
    for _ in range(steps):
        obs, reward, terminated, truncated, final = copy.step(int(rng.integers(6)))
        out.append((obs.tobytes(), reward, terminated, truncated))
    return out


def test_atari_pixels_are_the_papers_frames_and_snapshots_replay_bit_for_bit() -> None:
    pytest.importorskip("ale_py")
    original = trustbench_gym.Copy("ALE/Pong-v5", '{"view": "pixels"}', 3)
    assert original.bytes and original.snapshots and original.renders
    assert original.observation["shape"] == [50, 38, 4]
    frames = original.reset(None)
    assert frames.dtype == np.uint8 and frames.shape == (50, 38, 4)
    assert not frames[:, :, :3].any() and frames[:, :, 3].any(), "one frame, oldest slots empty"
    for _ in range(30):
        original.step(0)
    state = original.save()
    expected = pixel_rollout(original, 200)
    assert len({s[0] for s in expected}) > 50, "the frames change"
    fresh = trustbench_gym.Copy("ALE/Pong-v5", '{"view": "pixels"}', 11)
    fresh.load(state)
    assert pixel_rollout(fresh, 200) == expected
    assert fresh.render(80, 60).shape == (60, 80, 3)


def test_pixel_options_are_checked_by_name() -> None:
    pytest.importorskip("ale_py")
    with pytest.raises(RuntimeError, match="view='colour' is not valid; valid: raw | pixels"):
        trustbench_gym.Copy("ALE/Pong-v5", '{"view": "colour"}', 0)
    with pytest.raises(RuntimeError, match="stack=0 is not valid"):
        trustbench_gym.Copy("ALE/Pong-v5", '{"view": "pixels", "stack": "0"}', 0)
    with pytest.raises(RuntimeError, match="view=pixels only"):
        trustbench_gym.Copy("ALE/Pong-v5", '{"size": "84x84"}', 0)
    with pytest.raises(RuntimeError, match="not gym:CartPole-v1"):
        trustbench_gym.Copy("CartPole-v1", '{"view": "pixels"}', 0)
    small = trustbench_gym.Copy(
        "ALE/Pong-v5", '{"view": "pixels", "size": "84x84", "stack": "2"}', 0
    )
    assert small.observation["shape"] == [84, 84, 2]


def test_a_batch_writes_into_the_callers_rows() -> None:
    batch = trustbench_gym.Batch("CartPole-v1", "{}", [1, 2])
    obs = np.zeros((2, 4))
    batch.reset(0, np.array([1, 2], dtype=np.uint64), obs)
    assert obs.any()
    rewards, term, trunc = np.zeros(2), np.zeros(2, np.uint8), np.zeros(2, np.uint8)
    finals = np.zeros((2, 4))
    for _ in range(100):
        batch.step(0, np.zeros((2, 1)), obs, rewards, term, trunc, finals)
        if term.any():
            break
    assert term.any() and rewards.tolist() == [1.0, 1.0]
    ended = int(np.argmax(term))
    assert finals[ended].any(), "the ended copy's last observation"
