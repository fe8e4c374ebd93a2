"""max_pool2d and avg_pool2d: loop references, gradchecks, PyTorch's tie and padding rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import FWD_ATOL, FWD_RTOL, GC_ATOL, GC_EPS, GC_RTOL
from support import POOL_SETTINGS as SETTINGS

import minigrad as mg
import minigrad.functional as F
from minigrad.gradcheck import gradcheck


def pool_reference(x, kernel, stride, padding, reduce, fill):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.empty((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        out[:, :, i, j] = reduce(xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw], (2, 3))
    return out


def _distinct(rng, shape):
    return rng.permutation(np.linspace(-3, 3, int(np.prod(shape)))).reshape(shape)


@pytest.mark.parametrize(("kernel", "stride", "padding"), SETTINGS)
def test_max_pool_forward_and_gradcheck(kernel, stride, padding, rng) -> None:
    x = _distinct(rng, (2, 3, 7, 6))
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    got = F.max_pool2d(t, kernel, stride, padding)
    ref = pool_reference(x, kernel, stride, padding, np.max, -np.inf)
    np.testing.assert_allclose(got.numpy(), ref, rtol=FWD_RTOL, atol=FWD_ATOL)
    assert gradcheck(
        lambda t: F.max_pool2d(t, kernel, stride, padding),
        [t],
        eps=GC_EPS,
        atol=GC_ATOL,
        rtol=GC_RTOL,
    )


@pytest.mark.parametrize(("kernel", "stride", "padding"), SETTINGS)
def test_avg_pool_forward_and_gradcheck(kernel, stride, padding, rng) -> None:
    x = rng.standard_normal((2, 3, 7, 6))
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    got = F.avg_pool2d(t, kernel, stride, padding)
    ref = pool_reference(x, kernel, stride, padding, np.mean, 0.0)  # padding counts as zeros
    np.testing.assert_allclose(got.numpy(), ref, rtol=FWD_RTOL, atol=FWD_ATOL)
    assert gradcheck(
        lambda t: F.avg_pool2d(t, kernel, stride, padding),
        [t],
        eps=GC_EPS,
        atol=GC_ATOL,
        rtol=GC_RTOL,
    )


def test_max_pool_tie_sends_gradient_to_the_first_maximum() -> None:
    x = mg.tensor(np.ones((1, 1, 2, 4)), requires_grad=True)
    x.data[0, 0, 1, 3] = 5.0
    F.max_pool2d(x, 2).sum().backward()
    # first window all ones: the top-left element wins; second window: the unique max
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 0, 0, 0], [0, 0, 0, 1]])


def test_overlapping_windows_accumulate() -> None:
    x = mg.tensor(
        np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]), requires_grad=True
    )
    F.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad[0, 0, 0, 1] == 2.0  # the 9 is the max of two windows


def test_max_pool_pads_with_minus_infinity() -> None:
    x = mg.tensor(-np.ones((1, 1, 2, 2)))
    assert (F.max_pool2d(x, 3, stride=1, padding=1).numpy() == -1).all()


def test_pool_errors() -> None:
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(mg.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.avg_pool2d(mg.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(mg.zeros(1, 1, 2, 2), 3)


def test_matches_pytorch_when_installed(rng) -> None:
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9, 8))
    for kernel, stride, padding in SETTINGS:
        for ours, theirs in (
            (F.max_pool2d, torch.nn.functional.max_pool2d),
            (F.avg_pool2d, torch.nn.functional.avg_pool2d),
        ):
            t = mg.tensor(x, dtype="float64", requires_grad=True)
            tt = torch.tensor(x, requires_grad=True)
            y, yt = ours(t, kernel, stride, padding), theirs(tt, kernel, stride, padding)
            np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=FWD_RTOL)
            g = rng.standard_normal(y.shape)
            y.backward(g)
            yt.backward(torch.tensor(g))
            np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=FWD_RTOL, atol=FWD_ATOL)
