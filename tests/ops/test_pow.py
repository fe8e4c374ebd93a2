"""``x ** y`` at the limits where PyTorch defines the gradient as 0 instead of ``0 * inf``."""

from __future__ import annotations

import numpy as np
import pytest
from support import GC_ATOL, GC_EPS, GC_RTOL

import minigrad as mg
from minigrad.gradcheck import gradcheck


def _grads(x: np.ndarray, y: np.ndarray, wrt: str) -> np.ndarray:
    """The gradient of ``sum(x ** y)`` with respect to ``x`` or ``y`` (float64)."""
    xt = mg.tensor(x, dtype="float64", requires_grad=wrt == "x")
    yt = mg.tensor(y, dtype="float64", requires_grad=wrt == "y")
    (xt**yt).sum().backward()
    return xt.grad if wrt == "x" else yt.grad


def test_x_to_the_zero_has_gradient_zero_everywhere_even_at_zero() -> None:
    x = np.array([0.0, 0.0, 2.0, -3.0])
    np.testing.assert_array_equal(_grads(x, np.zeros(4), "x"), np.zeros(4))
    xt = mg.tensor(x, dtype="float64", requires_grad=True)
    (xt**0).sum().backward()  # a Python exponent takes the other branch
    np.testing.assert_array_equal(xt.grad, np.zeros(4))


def test_zero_to_a_non_negative_power_has_exponent_gradient_zero() -> None:
    grad_y = _grads(np.zeros(3), np.array([0.0, 0.5, 2.0]), "y")
    np.testing.assert_array_equal(grad_y, [0.0, 0.0, 0.0])
    y = mg.tensor([0.0, 1.0, 3.0], requires_grad=True)
    (0**y).sum().backward()  # a Python base
    np.testing.assert_array_equal(y.grad, np.zeros(3, np.float32))
    assert y.grad.dtype == np.float32


def test_a_true_infinity_stays_infinite() -> None:
    with np.errstate(divide="ignore"):
        grad_x = _grads(np.zeros(2), np.array([0.5, 2.0]), "x")
    np.testing.assert_array_equal(grad_x, [np.inf, 0.0])  # d/dx sqrt(x) is infinite at 0


def test_away_from_the_limits_the_rule_is_unchanged(rng) -> None:
    x = mg.tensor(rng.uniform(0.5, 2.0, (3, 4)), dtype="float64", requires_grad=True)
    y = mg.tensor(rng.uniform(-2.0, 2.0, (3, 4)), dtype="float64", requires_grad=True)
    assert gradcheck(lambda a, b: (a**b).sum(), [x, y], eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


@pytest.mark.parametrize("exponent", [1, 2, 3])
def test_integer_powers_at_zero_keep_their_finite_gradients(exponent: int) -> None:
    x = mg.tensor([0.0, 1.5], dtype="float64", requires_grad=True)
    (x**exponent).sum().backward()
    np.testing.assert_allclose(x.grad, exponent * np.array([0.0, 1.5]) ** (exponent - 1))
