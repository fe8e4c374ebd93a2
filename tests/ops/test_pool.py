"""max_pool2d and avg_pool2d: loop references, gradchecks, PyTorch's tie and padding rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import FWD_ATOL, FWD_RTOL, GC_ATOL, GC_EPS, GC_RTOL
from support import POOL_SETTINGS as SETTINGS

import minigrad as mg
import minigrad.functional as F
from minigrad._kernels import workspace
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


# --- inputs that the windows do not tile, against a loop reference, in dirty memory ------------
def pool_backward_reference(x, grad, kernel, stride, padding, kind):
    """The input gradient by the definition, one window at a time: a max window sends its
    gradient to its first maximum (row-major), an average window shares it equally (padding
    counted); inputs no window covers get exactly zero."""
    h, w = x.shape[2:]
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    dxp = np.zeros(xp.shape)
    for i, k, oi, oj in itertools.product(*(range(d) for d in grad.shape)):
        rows, cols = slice(oi * sh, oi * sh + kh), slice(oj * sw, oj * sw + kw)
        if kind == "max":
            r, s = np.unravel_index(np.argmax(xp[i, k, rows, cols]), (kh, kw))
            dxp[i, k, oi * sh + r, oj * sw + s] += grad[i, k, oi, oj]
        else:
            dxp[i, k, rows, cols] += grad[i, k, oi, oj] / (kh * kw)
    return dxp[:, :, ph : ph + h, pw : pw + w]


@pytest.fixture
def dirty_memory(monkeypatch):
    """Every buffer the image ops take from the workspace comes filled with NaN (True for
    masks), so a gradient cell that is never written cannot pass for zero."""
    clean = workspace.empty

    def dirty(shape, dtype):
        buffer = clean(shape, dtype)
        buffer.fill(np.nan if np.dtype(dtype).kind == "f" else 1)
        return buffer

    workspace.clear()
    monkeypatch.setattr(workspace, "empty", dirty)
    yield
    workspace.clear()


POOLS = {"max": (F.max_pool2d, np.max, -np.inf), "avg": (F.avg_pool2d, np.mean, 0.0)}


@pytest.mark.usefixtures("dirty_memory")
@pytest.mark.parametrize(("kernel", "stride", "padding"), SETTINGS)
@pytest.mark.parametrize("kind", POOLS)
def test_forward_and_gradient_match_loop_references_on_untiled_inputs(
    kind, kernel, stride, padding, rng
) -> None:
    pool, reduce, fill = POOLS[kind]
    x = rng.standard_normal((2, 3, 9, 8))
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    y = pool(t, kernel, stride, padding)
    ref = pool_reference(x, kernel, stride, padding, reduce, fill)
    np.testing.assert_allclose(y.numpy(), ref, rtol=FWD_RTOL, atol=FWD_ATOL)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    want = pool_backward_reference(x, g, kernel, stride, padding, kind)
    np.testing.assert_allclose(t.grad, want, rtol=FWD_RTOL, atol=FWD_ATOL)


UNCOVERED = [
    # (input H, W, kernel, stride)
    ((9, 8), (2, 2), (2, 2)),  # row 8 lies past the last window
    ((7, 8), (3, 3), (3, 3)),  # row 6 and columns 6 and 7 too
    ((8, 7), (2, 1), (3, 2)),  # strides longer than the kernel: gaps at rows 2, 5, odd columns
]


@pytest.mark.usefixtures("dirty_memory")
@pytest.mark.parametrize(("hw", "kernel", "stride"), UNCOVERED)
@pytest.mark.parametrize("kind", POOLS)
def test_inputs_no_window_covers_get_exactly_zero_gradient(kind, hw, kernel, stride, rng):
    t = mg.tensor(rng.standard_normal((4, 3, *hw)), dtype="float64", requires_grad=True)
    y = POOLS[kind][0](t, kernel, stride)
    y.backward(rng.standard_normal(y.shape))
    covered = np.zeros(hw, dtype=bool)
    for i, j in itertools.product(range(y.shape[2]), range(y.shape[3])):
        covered[
            i * stride[0] : i * stride[0] + kernel[0], j * stride[1] : j * stride[1] + kernel[1]
        ] = True
    assert not covered.all()
    assert (t.grad[:, :, ~covered] == 0).all()
    assert np.isfinite(t.grad).all()


def test_geometry_worked_out_by_hand() -> None:
    # 3x3 windows with padding 1 and stride 1 over a 2x2 image: every window holds all four
    # pixels and five zeros of padding, and every pixel lies in all four windows.
    x = mg.tensor(np.ones((1, 1, 2, 2)), dtype="float64", requires_grad=True)
    y = F.avg_pool2d(x, 3, stride=1, padding=1)
    np.testing.assert_allclose(y.numpy()[0, 0], np.full((2, 2), 4 / 9), rtol=FWD_RTOL)
    y.sum().backward()
    np.testing.assert_allclose(x.grad[0, 0], np.full((2, 2), 4 / 9), rtol=FWD_RTOL)
    # stride (2, 1) over 3 rows fits one row of windows; row 2 is left out
    x = mg.tensor(np.arange(12.0).reshape(1, 1, 3, 4), dtype="float64", requires_grad=True)
    y = F.max_pool2d(x, 2, stride=(2, 1))
    np.testing.assert_array_equal(y.numpy()[0, 0], [[5, 6, 7]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 0, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0]])
