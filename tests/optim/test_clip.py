"""clip_grad_norm: the total norm, in-place scaling, non-finite norms, other norm types;
clip_grad_value: elementwise clamping in place."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import FWD_ATOL, FWD_RTOL

import minigrad as mg
from minigrad.optim import clip_grad_norm, clip_grad_value


def with_grads(*grads, dtype="float64"):
    params = []
    for g in grads:
        p = mg.Tensor(np.zeros(np.shape(g)), requires_grad=True, dtype=dtype)
        p.grad = None if g is None else np.array(g, dtype=dtype)
        params.append(p)
    return params


def clip_reference(grads, max_norm, norm_type):
    """PyTorch's clip_grad_norm_ in float64: the norm of all gradients taken together, and
    the gradients scaled by min(1, max_norm / (norm + 1e-6))."""
    flat = np.abs(np.concatenate([np.ravel(g) for g in grads]))
    total = flat.max() if math.isinf(norm_type) else (flat**norm_type).sum() ** (1 / norm_type)
    scale = min(1.0, max_norm / (total + 1e-6))
    return total, [g * scale for g in grads]


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_matches_reference(rng, max_norm, norm_type) -> None:
    grads = [rng.standard_normal(shape) for shape in [(3, 4), (5,), ()]]
    params = with_grads(*grads)
    total = clip_grad_norm(params, max_norm, norm_type=norm_type)
    expected_total, expected = clip_reference(grads, max_norm, norm_type)
    assert total == pytest.approx(expected_total, rel=FWD_RTOL)
    for p, want in zip(params, expected, strict=True):
        np.testing.assert_allclose(p.grad, want, rtol=FWD_RTOL, atol=FWD_ATOL)


def test_total_norm_without_clipping() -> None:
    # sqrt(3**2 + 4**2 + 12**2) = 13
    params = with_grads([3.0, 4.0], [[12.0]], None)
    total = clip_grad_norm(params, max_norm=26.0)
    assert type(total) is float and total == pytest.approx(13.0, rel=FWD_RTOL)
    np.testing.assert_array_equal(params[0].grad, [3.0, 4.0])
    np.testing.assert_array_equal(params[1].grad, [[12.0]])


def test_clipping_scales_in_place_by_pytorchs_coefficient() -> None:
    params = with_grads([3.0, 4.0], [[12.0]])
    held = params[0].grad
    total = clip_grad_norm(params, max_norm=1.0)
    assert total == pytest.approx(13.0, rel=FWD_RTOL)
    coef = 1.0 / (13.0 + 1e-6)
    assert params[0].grad is held
    np.testing.assert_allclose(held, [3.0 * coef, 4.0 * coef], rtol=FWD_RTOL)
    np.testing.assert_allclose(params[1].grad, [[12.0 * coef]], rtol=FWD_RTOL)
    assert clip_grad_norm(params, max_norm=10.0) == pytest.approx(1.0, rel=1e-6)


def test_a_single_tensor_and_float32() -> None:
    (p,) = with_grads([0.6, 0.8], dtype="float32")
    assert clip_grad_norm(p, 0.5) == pytest.approx(1.0, rel=1e-6)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, [0.3, 0.4], rtol=1e-5)


def test_no_gradients() -> None:
    assert clip_grad_norm(with_grads(None, None), 1.0) == 0.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("position", [0, 1])
def test_non_finite_norm_raises_and_leaves_grads_alone(bad, norm_type, position) -> None:
    grads = [[3.0, 4.0], [1.0, 2.0]]
    grads[position] = [bad, 1.0]
    params = with_grads(*grads)
    kept = [p.grad.copy() for p in params]
    with pytest.raises(FloatingPointError, match="non-finite"):
        clip_grad_norm(params, max_norm=1.0, norm_type=norm_type)
    for p, k in zip(params, kept, strict=True):
        np.testing.assert_array_equal(p.grad, k)


def test_inf_norm() -> None:
    params = with_grads([3.0, -7.0], [5.0])
    assert clip_grad_norm(params, max_norm=5.0, norm_type=math.inf) == 7.0
    coef = 5.0 / (7.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad, [3.0 * coef, -7.0 * coef], rtol=FWD_RTOL)
    np.testing.assert_allclose(params[1].grad, [5.0 * coef], rtol=FWD_RTOL)


def test_one_norm() -> None:
    params = with_grads([3.0, -7.0], [5.0])
    assert clip_grad_norm(params, max_norm=100.0, norm_type=1) == pytest.approx(15.0)
    np.testing.assert_array_equal(params[0].grad, [3.0, -7.0])


@pytest.mark.parametrize("kwargs", [{"max_norm": -1.0}, {"max_norm": math.nan}])
def test_invalid_max_norm(kwargs) -> None:
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(with_grads([1.0]), **kwargs)


@pytest.mark.parametrize("norm_type", [0, -2.0])
def test_invalid_norm_type(norm_type) -> None:
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm(with_grads([1.0]), 1.0, norm_type=norm_type)


def test_clip_grad_value_clamps_each_element_in_place() -> None:
    params = with_grads([3.0, -0.25, -7.0], [[0.5, 2.0]], None)
    held = params[0].grad
    assert clip_grad_value(params, 1.0) is None
    assert params[0].grad is held
    np.testing.assert_array_equal(held, [1.0, -0.25, -1.0])
    np.testing.assert_array_equal(params[1].grad, [[0.5, 1.0]])
    assert params[2].grad is None


def test_clip_grad_value_single_tensor_float32_and_nan() -> None:
    (p,) = with_grads([math.nan, 5.0, -5.0], dtype="float32")
    clip_grad_value(p, 2.0)
    assert p.grad.dtype == np.float32
    assert math.isnan(p.grad[0]) and p.grad[1:].tolist() == [2.0, -2.0]


@pytest.mark.parametrize("clip_value", [-1.0, math.nan])
def test_clip_grad_value_invalid(clip_value) -> None:
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(with_grads([1.0]), clip_value)
