"""The Gymnasium 1.x vector-env contract of `trustbench.make_vec`."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from conftest import random_actions, rollout, same
from gymnasium.vector import AutoresetMode, VectorEnv

import trustbench


def test_make_vec_is_a_vector_env_with_batched_and_single_spaces():
    envs = trustbench.make_vec("hopper", num_envs=4)
    assert isinstance(envs, VectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.single_observation_space.shape == (11,)
    assert envs.observation_space.shape == (4, 11)
    assert envs.single_action_space.shape == (3,)
    assert envs.action_space.shape == (4, 3)
    obs, info = envs.reset()
    assert obs.dtype == np.float64 and obs in envs.observation_space and info == {}
    pixels = trustbench.make_vec("breakout", num_envs=2, view="pixels")
    obs, _ = pixels.reset()
    assert obs.dtype == np.uint8 and obs.shape == pixels.observation_space.shape
    assert isinstance(pixels.single_action_space, gym.spaces.Discrete)
    assert obs.any(), "the frame shows something"


def ends_of_cartpole(mode: str, steps: int = 60):
    """Push right always: every copy topples within a few dozen steps."""
    envs = trustbench.make_vec("cartpole", num_envs=3, seed=4, autoreset_mode=mode)
    envs.reset()
    out = []
    for _ in range(steps):
        out.append(envs.step(np.ones(3, np.int64)))
    return out


def test_next_step_reports_the_end_then_resets_on_the_following_step():
    next_step = ends_of_cartpole("NextStep")
    same_step = ends_of_cartpole(AutoresetMode.SAME_STEP)
    ended, first = 0, np.ones(3, bool)
    for t in range(len(next_step) - 1):
        obs, _, terminated, truncated, info = next_step[t]
        for i in np.flatnonzero(terminated | truncated):
            ended += 1
            assert info["_episode"][i] and info["episode"]["l"][i] > 0
            after, reward, term2, trunc2, _ = next_step[t + 1]
            assert reward[i] == 0 and not term2[i] and not trunc2[i]
            assert abs(after[i][2]) <= 0.05, "a fresh start"
            if not first[i]:
                continue  # NEXT_STEP's reset step shifts the later episodes
            first[i] = False
            # SAME_STEP gives the same two observations on the ending step.
            s_obs, _, s_term, _, s_info = same_step[t]
            assert s_term[i] and s_info["_final_obs"][i]
            assert s_info["final_obs"][i].tobytes() == obs[i].tobytes()
            assert s_obs[i].tobytes() == after[i].tobytes()
    assert ended >= 6 and not first.any()


def test_same_step_final_obs_only_where_an_episode_ended():
    for _obs, _, terminated, truncated, info in ends_of_cartpole("SameStep"):
        done = terminated | truncated
        if not done.any():
            assert "final_obs" not in info
            continue
        assert (info["_final_obs"] == done).all() and (info["_final_info"] == done).all()
        assert all((info["final_obs"][i] is None) != done[i] for i in range(3))


def test_disabled_mode_resets_only_the_masked_copies():
    envs = trustbench.make_vec("cartpole", num_envs=3, seed=1, autoreset_mode="Disabled")
    envs.reset()
    for _ in range(200):
        obs, _, terminated, truncated, _ = envs.step(np.ones(3, np.int64))
        done = terminated | truncated
        if done.any():
            break
    assert done.any() and not done.all()
    with pytest.raises(ValueError, match="episode has ended"):
        envs.step(np.ones(3, np.int64))
    new, _ = envs.reset(options={"reset_mask": done})
    assert (new[~done] == obs[~done]).all(), "unmasked copies keep their state"
    assert (np.abs(new[done][:, 2]) <= 0.05).all() and (new[done] != obs[done]).any()
    envs.step(np.ones(3, np.int64))
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": [True, False, True]})


def test_terminated_versus_truncated():
    # Pendulum never terminates: the 200-step time limit truncates it.
    envs = trustbench.make_vec("pendulum", num_envs=2)
    envs.reset()
    for t in range(1, 201):
        _, _, terminated, truncated, info = envs.step(np.zeros((2, 1)))
        assert not terminated.any()
        assert truncated.all() == (t == 200) and truncated.any() == (t == 200)
    assert (info["episode"]["l"] == 200).all() and info["_episode"].all()
    # CartPole falling over is terminated, not truncated.
    obs, _, terminated, truncated, _ = ends_of_cartpole("NextStep")[-1]
    seen = [s for s in ends_of_cartpole("NextStep") if s[2].any()]
    assert seen and not any(s[3].any() for s in seen)


def test_episode_return_and_length_sum_the_steps():
    envs = trustbench.make_vec("hopper", num_envs=2, seed=3)
    actions = random_actions(envs.action_space, 400, seed=0)
    envs.reset()
    running, steps, checked = np.zeros(2), np.zeros(2, np.int64), 0
    for a in actions:
        _, reward, terminated, truncated, info = envs.step(a)
        running += reward
        steps += 1
        for i in np.flatnonzero(terminated | truncated):
            assert info["episode"]["r"][i] == running[i] and info["episode"]["l"][i] == steps[i]
            checked += 1
        # NEXT_STEP: the reset step adds nothing, so start from 0 after an end.
        running[terminated | truncated] = 0.0
        steps[terminated | truncated] = -1
    assert checked >= 2


def test_same_seed_same_episodes_other_seed_others():
    def trace(seed, **kw):
        envs = trustbench.make_vec("hopper", num_envs=3, seed=seed, **kw)
        return rollout(envs, random_actions(envs.action_space, 300, seed=9))

    a = trace(5)
    assert same(a, trace(5))
    assert same(a, trace(5, num_threads=2)), "threads do not change the bits"
    assert not same(a, trace(6))
    first = a[0]
    assert not (first[0] == first[1]).all(), "copies get different seeds"


def test_reset_seed_int_and_list():
    made = trustbench.make_vec("hopper", num_envs=3, seed=11)
    other = trustbench.make_vec("hopper", num_envs=3, seed=0)
    listed = trustbench.make_vec("hopper", num_envs=3, seed=0)
    actions = random_actions(made.action_space, 100, seed=2)
    a = rollout(made, actions)
    b = [other.reset(seed=11)[0].copy()]
    for act in actions:
        obs, r, te, tr, _ = other.step(act)
        b += [obs.copy(), r.copy(), te.copy(), tr.copy()]
    assert same(a, b)
    obs, _ = listed.reset(seed=[11, 11, 11])
    assert obs.tobytes() == a[0].tobytes()
    # A None entry continues that copy's stream: copy 1 differs, 0 and 2 match.
    listed.step(actions[0])
    obs, _ = listed.reset(seed=[11, None, 11])
    assert obs[0].tobytes() == a[0][0].tobytes() and obs[1].tobytes() != a[0][1].tobytes()
    with pytest.raises(ValueError, match="seed -1 is not valid"):
        listed.reset(seed=-1)
    with pytest.raises(ValueError, match="seeds has 2 entries"):
        listed.reset(seed=[1, 2])


def test_returned_arrays_are_fresh():
    envs = trustbench.make_vec("hopper", num_envs=2)
    first, _ = envs.reset()
    kept = first.copy()
    steps = [envs.step(envs.action_space.sample()) for _ in range(100)]
    assert (first == kept).all()
    assert len({id(s[0]) for s in steps}) == 100
    assert not np.shares_memory(steps[0][0], steps[1][0])


def test_render_is_a_batch_of_rgb_frames():
    for env_id in ["hopper", "breakout"]:
        frames = trustbench.make_vec(env_id, num_envs=2).render()
        assert frames.shape == (2, 240, 320, 3) and frames.dtype == np.uint8
        assert frames.std() > 0


def test_gymnasium_make_vec_through_the_registry():
    envs = gym.make_vec("trustbench/Hopper-v0", num_envs=2, vectorization_mode="vector_entry_point")
    assert envs.unwrapped.metadata["trustbench_id"] == "hopper-v0"
    assert envs.reset(seed=1)[0].shape == (2, 11)
