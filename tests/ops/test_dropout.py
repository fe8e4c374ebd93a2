"""dropout: inverted scaling, seeding, identity in evaluation, gradient through the mask."""

from __future__ import annotations

import numpy as np
import pytest
from support import GC_ATOL, GC_EPS, GC_RTOL

import minigrad as mg
import minigrad.functional as F
from minigrad.gradcheck import gradcheck


def test_keeps_about_one_minus_p_and_scales_them() -> None:
    y = F.dropout(mg.ones(100_000), p=0.3).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02  # expectation preserved


def test_reproducible_from_manual_seed_or_a_generator() -> None:
    mg.manual_seed(3)
    a = F.dropout(mg.ones(50), 0.5).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(mg.ones(50), 0.5).numpy(), a)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(
        F.dropout(mg.ones(50), 0.5, generator=g1).numpy(),
        F.dropout(mg.ones(50), 0.5, generator=g2).numpy(),
    )


def test_identity_in_eval_and_for_p_zero() -> None:
    x = mg.randn(10, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()


def test_gradient_goes_through_the_same_mask(rng) -> None:
    x = mg.tensor(rng.standard_normal((4, 5)), dtype="float64", requires_grad=True)

    def f(x):
        return F.dropout(x, 0.4, generator=np.random.default_rng(0))

    assert gradcheck(f, [x], eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)
    y = f(x)
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad != 0, y.numpy() != 0)


def test_bad_p() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.dropout(mg.ones(2), 1.5)
