"""Bad actions and arguments are Python exceptions with the harness's messages."""

from __future__ import annotations

import numpy as np
import pytest

import trustbench


def test_unknown_env_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown env 'hoper'; valid envs: .*hopper-v0"):
        trustbench.make_vec("hoper")


def test_bad_options():
    with pytest.raises(ValueError, match=r"env 'breakout-v1' has no option 'veiw' \(valid: .*view"):
        trustbench.make_vec("breakout", veiw="pixels")
    with pytest.raises(
        ValueError, match=r"'view' = 'pixel' is not valid \(valid: compact \| pixels\)"
    ):
        trustbench.make_vec("breakout", view="pixel")
    with pytest.raises(ValueError, match="num_envs = 0 is not valid"):
        trustbench.make_vec("hopper", 0)
    with pytest.raises(ValueError, match="autoreset mode|not a valid AutoresetMode"):
        trustbench.make_vec("hopper", autoreset_mode="Sometimes")


def test_bad_actions_move_no_copy():
    envs = trustbench.make_vec("hopper", num_envs=2)
    first, _ = envs.reset()
    with pytest.raises(ValueError, match=r"actions have shape \(3,\); expected \(2, 3\)"):
        envs.step(np.zeros(3))
    with pytest.raises(TypeError, match="actions have dtype <U1; expected numbers"):
        envs.step(np.full((2, 3), "a"))
    nan = np.zeros((2, 3))
    nan[1, 2] = np.nan
    with pytest.raises(ValueError, match="invalid action for env 1: element 2 is NaN"):
        envs.step(nan)
    discrete = trustbench.make_vec("breakout", num_envs=2)
    discrete.reset()
    with pytest.raises(
        ValueError, match=r"invalid action for env 0: 9 is not an integer in \[0, 4\)"
    ):
        discrete.step(np.array([9, 0]))
    with pytest.raises(ValueError, match=r"invalid action for env 1: 0.5 is not an integer"):
        discrete.step(np.array([0.0, 0.5]))
    # Nothing moved: the next good step is the first step.
    again = trustbench.make_vec("hopper", num_envs=2)
    again.reset()
    a = np.full((2, 3), 0.3)
    assert envs.step(a)[0].tobytes() == again.step(a)[0].tobytes()
