"""`gymnasium.make("trustbench/...")` for every env, and the env checker."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import trustbench

IDS = trustbench.registry()


def test_every_env_is_registered():
    assert len(IDS) >= 10
    assert trustbench.gym_id("hopper-paper-v0") == "trustbench/HopperPaper-v0"
    for env_id in IDS:
        assert trustbench.gym_id(env_id) in gym.registry


@pytest.mark.parametrize("env_id", IDS)
def test_env_checker(env_id):
    env = gym.make(trustbench.gym_id(env_id), render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    env.reset(seed=1)
    assert env.render().shape == (240, 320, 3)


def test_env_checker_on_the_pixel_view():
    check_env(gym.make("trustbench/Breakout-v1", view="pixels").unwrapped)


def test_single_env_is_copy_0_of_the_vector():
    env = gym.make("trustbench/Hopper-v0")
    envs = trustbench.make_vec("hopper", num_envs=2, seed=8)
    obs, _ = env.reset(seed=8)
    vobs, _ = envs.reset()
    assert obs.tobytes() == vobs[0].tobytes()
    env.action_space.seed(0)
    for _ in range(50):
        a = env.action_space.sample()
        obs, reward, terminated, truncated, _ = env.step(a)
        vobs, vrew, vterm, _, _ = envs.step(np.stack([a, a]))
        assert obs.tobytes() == vobs[0].tobytes() and reward == vrew[0]
        if terminated:
            break
