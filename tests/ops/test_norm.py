"""batch_norm: the fused rule against the same math from primitives, and its statistics."""

from __future__ import annotations

import numpy as np
import pytest
from support import GC_ATOL, GC_EPS, GC_RTOL, SAME_ATOL, SAME_RTOL

import minigrad as mg
import minigrad.functional as F
from minigrad.gradcheck import gradcheck

SHAPES = [(8, 3), (4, 3, 5), (4, 3, 4, 5)]
EPS = 1e-5


def composite_batch_norm(x, gamma, beta):
    """Training-mode batchnorm built from primitive ops (mean, var, sqrt, broadcasting)."""
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    xhat = (x - mu) / (var + EPS).sqrt()
    return xhat * gamma.reshape(shape) + beta.reshape(shape)


def _tensors(rng, shape):
    x = mg.tensor(rng.standard_normal(shape) * 2 + 1, dtype="float64", requires_grad=True)
    gamma = mg.tensor(rng.standard_normal(shape[1]), dtype="float64", requires_grad=True)
    beta = mg.tensor(rng.standard_normal(shape[1]), dtype="float64", requires_grad=True)
    return x, gamma, beta


@pytest.mark.parametrize("shape", SHAPES)
def test_fused_rule_equals_the_composite(shape, rng) -> None:
    x, gamma, beta = _tensors(rng, shape)
    upstream = rng.standard_normal(shape)
    fused = F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS)
    composite = composite_batch_norm(x, gamma, beta)
    np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=SAME_RTOL, atol=SAME_ATOL)
    grads_fused = mg.grad(fused, [x, gamma, beta], upstream)
    grads_composite = mg.grad(composite, [x, gamma, beta], upstream)
    for a, b in zip(grads_fused, grads_composite, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(shape, training, rng) -> None:
    x, gamma, beta = _tensors(rng, shape)
    rm, rv = rng.standard_normal(shape[1]), rng.uniform(0.5, 2, shape[1])

    def f(x, gamma, beta):
        # fresh copies: training mode updates the running statistics in place
        return F.batch_norm(x, rm.copy(), rv.copy(), gamma, beta, training=training)

    assert gradcheck(f, [x, gamma, beta], eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


def test_eval_output_does_not_depend_on_the_rest_of_the_batch(rng) -> None:
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    batch = rng.standard_normal((6, 3, 4, 4))
    full = F.batch_norm(mg.tensor(batch), rm, rv, training=False).numpy()
    alone = F.batch_norm(mg.tensor(batch[:1]), rm, rv, training=False).numpy()
    np.testing.assert_allclose(full[:1], alone, rtol=1e-6)


def test_eval_leaves_running_stats_unchanged(rng) -> None:
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    before = rm.copy(), rv.copy()
    F.batch_norm(mg.tensor(rng.standard_normal((5, 3))), rm, rv, training=False)
    np.testing.assert_array_equal(rm, before[0])
    np.testing.assert_array_equal(rv, before[1])


def test_constant_channel_normalizes_to_bias() -> None:
    x = np.ones((4, 2, 3, 3), dtype=np.float32) * 7.0
    beta = np.array([0.5, -2.0], dtype=np.float32)
    y = F.batch_norm(mg.tensor(x), None, None, mg.ones(2), mg.tensor(beta), training=True)
    np.testing.assert_allclose(y.numpy(), np.broadcast_to(beta.reshape(1, 2, 1, 1), x.shape))


def test_running_stats_after_k_steps_match_the_formula(rng) -> None:
    momentum, rm, rv = 0.1, np.zeros(3), np.ones(3)
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for _ in range(5):
        x = rng.standard_normal((10, 3, 2, 2)) * 3 + 2
        F.batch_norm(mg.tensor(x, dtype="float64"), rm, rv, training=True, momentum=momentum)
        values = x.transpose(1, 0, 2, 3).reshape(3, -1)
        expected_mean = (1 - momentum) * expected_mean + momentum * values.mean(axis=1)
        expected_var = (1 - momentum) * expected_var + momentum * values.var(axis=1, ddof=1)
    np.testing.assert_allclose(rm, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(rv, expected_var, rtol=1e-12)


def test_training_normalizes_with_biased_variance(rng) -> None:
    x = rng.standard_normal((16, 2)) * 4
    y = F.batch_norm(mg.tensor(x, dtype="float64"), None, None, training=True, eps=0.0).numpy()
    np.testing.assert_allclose(y, (x - x.mean(0)) / x.std(0), rtol=1e-12)


def test_errors() -> None:
    with pytest.raises(ValueError, match="3 channels"):
        F.batch_norm(mg.zeros(4, 3), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(mg.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="evaluation mode needs"):
        F.batch_norm(mg.zeros(4, 3), None, None, training=False)
