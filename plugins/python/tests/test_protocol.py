"""The protocol module on its own: config resolution, descriptors, discovery."""

from __future__ import annotations

import types

import numpy as np
import pytest
import trustbench_plugin as tb


def test_resolve_config_fills_defaults_and_takes_given_values():
    defaults = {"lr": 0.01, "steps": 100, "name": "x", "flag": False}
    assert tb.resolve_config(defaults, {"lr": 1, "flag": True}) == {
        "lr": 1.0,
        "steps": 100,
        "name": "x",
        "flag": True,
    }


def test_resolve_config_refuses_unknown_keys_naming_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown config key 'lr2'; valid keys: lr, steps"):
        tb.resolve_config({"steps": 1, "lr": 0.1}, {"lr2": 3})


@pytest.mark.parametrize(
    ("default", "value", "expected"),
    [
        (0.1, "fast", "a string, expected a number"),
        (3, 2.5, "a number, expected an integer"),
        (3, True, "a boolean, expected an integer"),
        (True, 1, "an integer, expected a boolean"),
        ("a", 1, "an integer, expected a string"),
    ],
)
def test_resolve_config_refuses_wrong_types(default, value, expected):
    with pytest.raises(TypeError, match=expected):
        tb.resolve_config({"k": default}, {"k": value})


class _Base(tb.Algorithm):
    default_config = {"a": 1}


class Good(_Base):
    id = "good"
    name = "Good"
    observation_kinds = (tb.BOX, tb.DISCRETE)


class BadKinds(tb.Algorithm):
    id = "bad"
    name = "Bad"
    action_kinds = ("box", "continuous")


def test_describe_reads_the_class_attributes():
    d = tb._describe(Good)
    assert d["id"] == "good"
    assert d["observation_kinds"] == ("box", "discrete")
    assert d["default_config_json"] == '{"a": 1}'


def test_describe_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="continuous"):
        tb._describe(BadKinds)


def test_discovery_offers_classes_with_their_own_id_in_order():
    module = types.ModuleType("plugin")
    for cls in (_Base, Good, BadKinds):
        cls.__module__ = "plugin"
        setattr(module, cls.__name__, cls)
    module.Imported = type("Imported", (Good,), {"id": "imp", "__module__": "other"})
    assert tb._algorithms(module) == [Good, BadKinds]


def test_create_resolves_the_config_before_init():
    spaces = tb.Spaces(
        tb.Space("box", (2,), np.zeros(2), np.ones(2)), tb.Space("discrete", (), n=3), 4
    )
    algo = tb._create(Good, '{"a": 5}', spaces, None)
    assert algo.config == {"a": 5}
    with pytest.raises(ValueError, match="unknown config key"):
        tb._create(Good, '{"b": 5}', spaces, None)


def test_step_result_unpacks_in_the_documented_order():
    obs, rewards, terminated, truncated, final_obs = tb.StepResult(1, 2, 3, 4, 5)
    assert (obs, rewards, terminated, truncated, final_obs) == (1, 2, 3, 4, 5)


def test_resolve_config_refuses_values_out_of_range_naming_key_and_range():
    defaults = {"hidden": 32, "lr": 0.1}
    ranges = {"hidden": (1, 4096), "lr": (0.0, 1.0)}
    assert tb.resolve_config(defaults, {"hidden": 4096}, ranges)["hidden"] == 4096
    with pytest.raises(
        ValueError, match=r"'hidden' = 9007199254740992 is out of range \[1, 4096\]"
    ):
        tb.resolve_config(defaults, {"hidden": 2**53}, ranges)
    with pytest.raises(ValueError, match="'lr' = -1e"):
        tb.resolve_config(defaults, {"lr": -1e308}, ranges)
