"""check_model: whole-model gradient checks for learners writing their own layers."""

from __future__ import annotations

import numpy as np
import pytest

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
    with pytest.raises(GradcheckError, match=r"parameter '1\.1\.s' \(shape \(4,\)\): element"):
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
