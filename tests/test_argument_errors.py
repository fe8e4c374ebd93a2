"""Bad arguments fail at once with an error that names the argument and the rule.

Tensor methods and creation functions, layer constructors, ``load_state_dict``, optimizers and
schedulers: each case here used to be accepted silently, or to fail later with an unrelated
error (``ZeroDivisionError``, ``'float' object is not iterable``, ...).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler

# --------------------------------------------------------------------------------------------
# Tensor
# --------------------------------------------------------------------------------------------
AXIS_CALLS = {
    "sum": lambda t, a: t.sum(axis=a),
    "mean": lambda t, a: t.mean(axis=a),
    "max": lambda t, a: t.max(axis=a),
    "var": lambda t, a: t.var(axis=a),
    "logsumexp": lambda t, a: t.logsumexp(axis=a),
    "softmax": lambda t, a: t.softmax(axis=a),
    "log_softmax": lambda t, a: t.log_softmax(axis=a),
    "argmax": lambda t, a: t.argmax(axis=a),
    "squeeze": lambda t, a: t.squeeze(axis=a),
    "unsqueeze": lambda t, a: t.unsqueeze(a),
    "concat": lambda t, a: mg.concat([t, t], axis=a),
    "stack": lambda t, a: mg.stack([t, t], axis=a),
}


@pytest.mark.parametrize("op", list(AXIS_CALLS))
@pytest.mark.parametrize("axis", [1.0, "x", True], ids=["float", "str", "bool"])
def test_an_axis_that_is_not_an_int_is_a_type_error_naming_the_op(op, axis) -> None:
    with pytest.raises(TypeError, match=rf"^{op}: axis must be an int, got {axis!r} \("):
        AXIS_CALLS[op](mg.ones((2, 1)), axis)


def test_a_sequence_of_axes_must_hold_ints() -> None:
    with pytest.raises(TypeError, match=r"sum: axis must be an int or a sequence of ints"):
        mg.ones((2, 3)).sum(axis=(0, 1.0))


@pytest.mark.parametrize("op", ["concat", "stack"])
def test_concat_and_stack_refuse_an_axis_out_of_range(op) -> None:
    with pytest.raises(ValueError, match=rf"{op}: axis 5 is out of range for a 2-d tensor"):
        AXIS_CALLS[op](mg.ones((2, 3)), 5)


def test_arange_refuses_a_zero_step_and_non_finite_bounds() -> None:
    with pytest.raises(ValueError, match="arange: step must not be 0"):
        mg.arange(0, 5, 0)
    with pytest.raises(ValueError, match="arange: stop must be a finite number, got inf"):
        mg.arange(0, math.inf)
    with pytest.raises(ValueError, match="arange: step must be a finite number, got nan"):
        mg.arange(0, 1, math.nan)


def test_var_refuses_a_ddof_that_leaves_no_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match=r"var: ddof=2 needs more than 2 elements .* takes 2"):
        mg.ones(2).var(ddof=2)
    with pytest.raises(ValueError, match=r"var: ddof must be an int >= 0, got 1\.5"):
        mg.ones(3).var(ddof=1.5)
    with pytest.raises(ValueError, match="var: ddof must be an int >= 0, got -1"):
        mg.ones(3).var(ddof=-1)
    assert mg.tensor([1.0, 3.0]).var(ddof=1).item() == 2.0


def test_comparing_with_none_is_false_as_in_pytorch() -> None:
    t = mg.ones(3)
    assert (t == None) is False  # noqa: E711 (the operator is what is tested)
    assert (t != None) is True  # noqa: E711
    with pytest.raises(TypeError):
        t < None  # noqa: B015


def test_flatten_refuses_start_after_end_and_missing_axes() -> None:
    t = mg.ones((2, 3, 4))
    with pytest.raises(ValueError, match="flatten: start_axis 1 comes after end_axis 0"):
        t.flatten(1, 0)
    with pytest.raises(ValueError, match="flatten: start_axis 3 is out of range for a 3-d"):
        t.flatten(3)
    assert t.flatten(1).shape == (2, 12) and t.flatten(-1, -1).shape == (2, 3, 4)
    assert mg.tensor(5.0).flatten().shape == (1,)


def test_flatten_layer_refuses_a_1d_input_instead_of_flattening_the_batch() -> None:
    with pytest.raises(
        ValueError,
        match=r"Flatten\(start_axis=1, end_axis=-1\): the input of shape \(3,\) has no axis 1",
    ):
        nn.Flatten()(mg.ones(3))
    assert nn.Flatten()(mg.ones((2, 3, 4))).shape == (2, 12)


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.Conv2d(2, 2, 3, groups=0), "Conv2d: groups must be an int >= 1, got 0"),
        (lambda: nn.Conv2d(2, 2, 3, groups=-1), "Conv2d: groups must be an int >= 1, got -1"),
        (lambda: nn.Conv2d(2, 2, 2.5), "Conv2d: kernel_size must be an int >= 1 or a pair"),
        (lambda: nn.Conv2d(-2, 2, 3), "Conv2d: in_channels must be an int >= 0, got -2"),
        (lambda: nn.Conv2d(2, -4, 3), "Conv2d: out_channels must be an int >= 0, got -4"),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), "groups=4 must divide in_channels=4 and out"),
        (lambda: nn.Linear(-1, 2), "Linear: in_features must be an int >= 0, got -1"),
        (lambda: nn.Linear(2, 2.5), "Linear: out_features must be an int >= 0, got 2.5"),
        (lambda: nn.BatchNorm2d(-3), "BatchNorm2d: num_features must be an int >= 0, got -3"),
    ],
)
def test_layer_constructors_name_the_argument_and_the_rule(make, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make()


def test_a_linear_layer_without_inputs_is_allowed_as_in_pytorch() -> None:
    layer = nn.Linear(0, 2)
    assert layer.weight.shape == (2, 0)
    np.testing.assert_array_equal(layer.bias.data, np.zeros(2, np.float32))
    out = layer(np.zeros((3, 0), np.float32))
    np.testing.assert_array_equal(out.data, np.zeros((3, 2), np.float32))
    assert nn.Conv2d(0, 2, 1)(np.zeros((1, 0, 2, 2), np.float32)).shape == (1, 2, 2, 2)


def test_load_state_dict_needs_a_mapping() -> None:
    with pytest.raises(TypeError, match=r"load_state_dict: state must be a mapping .* got a list"):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_load_state_dict_changes_nothing_when_a_target_is_read_only() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    new = {k: v + 1 for k, v in before.items()}
    model[1].running_var.data.setflags(write=False)
    assert list(before).index("1.running_var") > 3  # entries before it would have been copied
    with pytest.raises(ValueError, match=r"'1.running_var' is read-only .*nothing was changed"):
        model.load_state_dict(new)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    assert all(p.version == 0 for p in model.parameters())


# --------------------------------------------------------------------------------------------
# Optimizers and schedulers
# --------------------------------------------------------------------------------------------
def _params() -> list[nn.Parameter]:
    return list(nn.Linear(2, 2).parameters())


OPTIMIZERS = {
    "SGD lr": (lambda v: optim.SGD(_params(), lr=v), "lr"),
    "SGD momentum": (lambda v: optim.SGD(_params(), lr=0.1, momentum=v), "momentum"),
    "SGD weight_decay": (lambda v: optim.SGD(_params(), lr=0.1, weight_decay=v), "weight_decay"),
    "Adam lr": (lambda v: optim.Adam(_params(), lr=v), "lr"),
    "Adam eps": (lambda v: optim.Adam(_params(), eps=v), "eps"),
    "Adam weight_decay": (lambda v: optim.Adam(_params(), weight_decay=v), "weight_decay"),
    "AdamW lr": (lambda v: optim.AdamW(_params(), lr=v), "lr"),
    "param group lr": (lambda v: optim.SGD([{"params": _params(), "lr": v}], lr=0.1), "lr"),
}


@pytest.mark.parametrize("case", list(OPTIMIZERS))
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_optimizers_refuse_non_finite_hyperparameters(case, value) -> None:
    make, key = OPTIMIZERS[case]
    with pytest.raises(ValueError, match=rf"invalid {key} {value!r}: must be a finite number"):
        make(value)


def test_a_loaded_optimizer_state_is_checked_like_the_constructor() -> None:
    opt = optim.SGD(_params(), lr=0.1)
    state = opt.state_dict()
    state["param_groups"][0]["lr"] = math.inf
    with pytest.raises(ValueError, match="invalid lr inf"):
        opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"params": 5}, "group 0: 'params' must be a list of parameter indices, got 5"),
        ({"params": ["a", "b"]}, "'params' must be a list of parameter indices"),
    ],
)
def test_an_optimizer_state_with_bad_params_is_refused(change, message) -> None:
    opt = optim.SGD(_params(), lr=0.1)
    state = opt.state_dict()
    state["param_groups"][0].update(change)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)


def test_an_optimizer_state_whose_parts_have_the_wrong_types_is_refused() -> None:
    opt = optim.SGD(_params(), lr=0.1)
    with pytest.raises(ValueError, match="'param_groups' must be a list and 'state' a dict"):
        opt.load_state_dict({"param_groups": 5, "state": {}})


SCHEDULERS = {
    "StepLR gamma": (lambda o, v: lr_scheduler.StepLR(o, 1, gamma=v), "StepLR: gamma"),
    "Cosine eta_min": (
        lambda o, v: lr_scheduler.CosineAnnealingLR(o, 3, eta_min=v),
        "CosineAnnealingLR: eta_min",
    ),
}


@pytest.mark.parametrize("case", list(SCHEDULERS))
@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_schedulers_refuse_non_finite_hyperparameters(case, value) -> None:
    make, prefix = SCHEDULERS[case]
    with pytest.raises(ValueError, match=rf"{prefix} must be a finite number >= 0, got {value}"):
        make(optim.SGD(_params(), lr=0.1), value)


def test_a_loaded_scheduler_state_with_non_finite_rates_is_refused() -> None:
    sched = lr_scheduler.StepLR(optim.SGD(_params(), lr=0.1), 1)
    state = sched.state_dict()
    with pytest.raises(ValueError, match="base_lrs must be a finite number >= 0, got inf"):
        sched.load_state_dict({**state, "base_lrs": [math.inf]})
    with pytest.raises(ValueError, match="base_lrs must be a list, got 5"):
        sched.load_state_dict({**state, "base_lrs": 5})
    assert sched.base_lrs == [0.1]
