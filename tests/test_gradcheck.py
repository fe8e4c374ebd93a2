"""The gradient checker: it passes correct rules and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function
from minigrad.gradcheck import GradcheckError, gradcheck, numerical_grad


class WrongSquare(Function):
    """x**2 with a planted mistake: the backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x


def test_numerical_grad_matches_a_known_gradient(rng) -> None:
    x = mg.tensor(rng.standard_normal((3, 2)), dtype="float64")
    w = mg.tensor(rng.standard_normal(2), dtype="float64")
    gx, gw = numerical_grad(lambda x, w: (x * w).sum() ** 2, [x, w])
    s = (x.numpy() * w.numpy()).sum()
    np.testing.assert_allclose(gx, 2 * s * np.broadcast_to(w.numpy(), (3, 2)), rtol=1e-7)
    np.testing.assert_allclose(gw, 2 * s * x.numpy().sum(axis=0), rtol=1e-7)


def test_numerical_grad_leaves_inputs_unchanged(rng) -> None:
    x = mg.tensor(rng.standard_normal(4), dtype="float64")
    before = x.numpy().copy()
    numerical_grad(lambda x: x.exp().sum(), [x])
    np.testing.assert_array_equal(x.numpy(), before)


def test_numerical_grad_returns_none_for_non_float_inputs() -> None:
    x = mg.tensor([1.0, 2.0], dtype="float64")
    gx, gi = numerical_grad(lambda x, i: x[i].sum(), [x, np.array([1])])
    assert gi is None and gx.tolist() == pytest.approx([0.0, 1.0])


def test_gradcheck_catches_a_planted_wrong_rule(rng) -> None:
    x = mg.tensor(rng.uniform(0.5, 1.5, (2, 3)), dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 3\)\): worst element") as e:
        gradcheck(lambda x: WrongSquare.apply(x), [x])
    assert "analytic" in str(e.value) and "numerical" in str(e.value)
    assert "relative error 0.5" in str(e.value)  # x*g vs 2x*g


def test_gradcheck_fast_mode_catches_it_too(rng) -> None:
    x = mg.tensor(rng.uniform(0.5, 1.5, 50), dtype="float64", requires_grad=True)
    assert gradcheck(lambda x: x * x, [x], fast=True)
    with pytest.raises(GradcheckError, match="random direction"):
        gradcheck(lambda x: WrongSquare.apply(x), [x], fast=True)


def test_gradcheck_names_the_failing_input(rng) -> None:
    a = mg.tensor(rng.standard_normal(3), dtype="float64", requires_grad=True)
    b = mg.tensor(rng.uniform(0.5, 1.5, 3), dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a + WrongSquare.apply(b), [a, b])


def test_gradcheck_refuses_float32() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * x, [x])


def test_gradcheck_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(lambda x: x * x, [mg.tensor([1.0], dtype="float64")])
