"""check_model: whole-model gradient checks for learners writing their own layers."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from support import GC_ATOL, GC_EPS, GC_RTOL, MISMATCH, MISTAKES, planted_rule

import minigrad as mg
import minigrad.nn as nn
from minigrad.autograd import Function
from minigrad.gradcheck import GradcheckError, check_model


class BadScaleRule(Function):
    """x * s with a planted mistake in the gradient of s."""

    @staticmethod
    def forward(ctx, x, s):
        ctx.save(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved
        return grad * s, (grad * x).sum(axis=0) * 0.5


class Scale(nn.Layer):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.s = nn.Parameter(np.linspace(0.5, 1.5, n))

    def forward(self, x):
        return BadScaleRule.apply(x, self.s)


def cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(3 * 3 * 3, 4),
    )


def test_passes_for_a_cnn_with_batchnorm_and_dropout(rng) -> None:
    mg.manual_seed(0)
    model = cnn()
    x, y = rng.standard_normal((6, 1, 6, 6)), rng.integers(0, 4, 6)
    assert check_model(model, nn.CrossEntropyLoss(), x, y)


def test_names_the_failing_parameter_by_dotted_name(rng) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Tanh(), Scale(4)), nn.Linear(4, 2))
    x, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    with pytest.raises(
        GradcheckError, match=r"parameter '1\.1\.s' \(shape \(4,\)\): worst element"
    ):
        check_model(model, nn.CrossEntropyLoss(), x, y)


def test_leaves_the_users_model_and_random_state_untouched(rng) -> None:
    model = cnn()
    x, y = rng.standard_normal((6, 1, 6, 6)), rng.integers(0, 4, 6)
    before = model.state_dict()
    state = mg.random.get_rng_state()
    check_model(model, nn.CrossEntropyLoss(), x, y, max_elements=5)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
        assert value.dtype == np.float32
    assert all(p.grad is None for p in model.parameters())
    assert mg.random.get_rng_state() == state


class PlantedScale(nn.Layer):
    """``x * (3 * s)`` whose rule for ``3 * s`` passes its gradient through ``mistake``."""

    def __init__(self, mistake, n: int = 4) -> None:
        super().__init__()
        self.s = nn.Parameter(np.linspace(0.5, 1.5, n))
        self.rule = planted_rule(mistake)

    def forward(self, x):
        return x * self.rule(self.s)


def planted_model(mistake) -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), PlantedScale(mistake), nn.Linear(4, 2))


@pytest.mark.parametrize("name", MISTAKES)
def test_fails_on_every_planted_mistake(rng, name) -> None:
    mistake, message = MISTAKES[name]
    x, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    check = functools.partial(check_model, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)
    if message is None:
        assert check(planted_model(mistake), nn.CrossEntropyLoss(), x, y)
        return
    message = "worst element" if message is MISMATCH else message
    with pytest.raises(GradcheckError, match=rf"parameter '2\.s' \(shape \(4,\)\): {message}"):
        check(planted_model(mistake), nn.CrossEntropyLoss(), x, y)


class Log(nn.Layer):
    """``log(x * s)``: not finite where ``x * s <= 0``."""

    def __init__(self, s) -> None:
        super().__init__()
        self.s = nn.Parameter(np.array(s))

    def forward(self, x):
        return (x * self.s).log()


def test_a_non_finite_numerical_gradient_fails() -> None:
    # s[0] = 1e-7: a nudge of eps = 1e-6 takes it below zero, where the log is NaN
    x, y = np.ones((2, 2)), np.array([0, 1])
    with pytest.raises(GradcheckError, match=r"'s' \(shape \(2,\)\): the numerical gradient") as e:
        check_model(Log([1e-7, 1.0]), nn.CrossEntropyLoss(), x, y)
    assert "is nan at element (0,); the function is not finite within eps=1e-06" in str(e.value)


@pytest.mark.parametrize("s", [[-1.0, 1.0], [0.0, 1.0]], ids=["nan", "inf"])
def test_a_non_finite_loss_fails_before_anything_is_compared(s) -> None:
    x, y = np.ones((2, 2)), np.array([0, 1])
    # the log's own warning is the model's business; errstate keeps it from ending the test
    with np.errstate(all="ignore"), pytest.raises(GradcheckError, match=r"the loss is (nan|inf)"):
        check_model(Log(s), nn.CrossEntropyLoss(), x, y)
