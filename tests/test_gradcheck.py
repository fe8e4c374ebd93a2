"""The gradient checker: it passes correct rules and catches wrong ones."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from support import GC_ATOL, GC_EPS, GC_RTOL, MISMATCH, MISTAKES, planted_rule

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


# --- planted mistakes that gradcheck must catch, in both modes -------------------------------
@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("name", MISTAKES)
def test_gradcheck_fails_on_every_planted_mistake(rng, name, fast) -> None:
    mistake, message = MISTAKES[name]
    x = mg.tensor(rng.standard_normal((3, 4)), dtype="float64", requires_grad=True)
    check = functools.partial(gradcheck, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL, fast=fast)
    if message is None:
        assert check(planted_rule(mistake), [x])
        return
    if message is MISMATCH:
        message = "along a random direction" if fast else "worst element"
    with pytest.raises(GradcheckError, match=rf"input 0 \(shape \(3, 4\)\): {message}"):
        check(planted_rule(mistake), [x])


def test_a_non_finite_analytic_gradient_names_its_first_element(rng) -> None:
    x = mg.tensor(rng.standard_normal((3, 4)), dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match=r"is nan at element \(0, 1\)$"):
        gradcheck(planted_rule(MISTAKES["nan"][0]), [x])
    both = planted_rule(lambda g: MISTAKES["inf"][0](MISTAKES["nan"][0](g)))
    with pytest.raises(GradcheckError, match=r"is nan at element \(0, 1\) \(and 1 more\)$"):
        gradcheck(both, [x], fast=True)


class Cliff(Function):
    """The identity below 2 and +inf above it: finite at x, not within eps of 2."""

    @staticmethod
    def forward(ctx, x):
        return np.where(x > 2, np.inf, x)

    @staticmethod
    def backward(ctx, grad):
        return grad


# A nudge of eps = 1e-6 (fast mode: eps times a unit direction, so any component above 1e-3)
# crosses the edge 1e-9 away: below zero the log is NaN, past 2 the cliff is infinite.
NON_FINITE_NEARBY = {
    "log_near_zero": (lambda x: x.log(), [1e-9, 1.0, 2.0], r"is nan at element \(0,\)"),
    "cliff": (Cliff.apply, [1.0, 2.0 - 1e-9, 0.5], r"is -?inf at element \(1,\)"),
}


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("name", NON_FINITE_NEARBY)
def test_a_non_finite_numerical_gradient_fails(name, fast) -> None:
    f, values, where = NON_FINITE_NEARBY[name]
    x = mg.tensor(values, dtype="float64", requires_grad=True)
    expected = r"derivative along a random direction is -?(nan|inf)" if fast else where
    with pytest.raises(GradcheckError, match=rf"the numerical (gradient )?{expected}") as e:
        gradcheck(f, [x], fast=fast)
    assert "not finite within eps=1e-06 of this point" in str(e.value)


def test_a_wrong_rule_cannot_hide_behind_a_nan_numerical_gradient() -> None:
    x = mg.tensor([1e-7, 1.0], dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match="numerical gradient is nan"):
        gradcheck(lambda x: WrongSquare.apply(x.log()), [x])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_output_fails_before_anything_is_compared(bad) -> None:
    x = mg.tensor([1.0, bad, 2.0], dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match=rf"the output of f is {bad} at element \(1,\)"):
        gradcheck(lambda x: x * 2, [x])
