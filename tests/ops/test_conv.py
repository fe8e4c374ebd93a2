"""conv2d against a direct loop reference, float64 gradchecks over a grid of settings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import CONV_GRID as GRID
from support import CONV_IDS as IDS
from support import FWD_ATOL, FWD_RTOL, GC_ATOL, GC_EPS, GC_RTOL

import minigrad as mg
import minigrad.functional as F
from minigrad.gradcheck import gradcheck


def conv2d_reference(x, w, b, stride, padding, dilation, groups):
    """The definition, one output element at a time."""
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for i, oc, y, xx in itertools.product(range(n), range(o), range(oh), range(ow)):
        g = oc // per_group
        patch = xp[
            i,
            g * cg : (g + 1) * cg,
            y * sh : y * sh + dh * (kh - 1) + 1 : dh,
            xx * sw : xx * sw + dw * (kw - 1) + 1 : dw,
        ]
        out[i, oc, y, xx] = (patch * w[oc]).sum() + (0 if b is None else b[oc])
    return out


def _case(rng, setting, dtype="float64"):
    n, c, h, w, o, kernel, stride, padding, dilation, groups = setting
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((o, c // groups, *kernel))
    bias = rng.standard_normal(o)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return x, weight, bias, kwargs


@pytest.mark.parametrize("setting", GRID, ids=IDS)
def test_forward_matches_loop_reference(setting, rng) -> None:
    x, w, b, kw = _case(rng, setting)
    got = F.conv2d(
        mg.tensor(x, dtype="float64"),
        mg.tensor(w, dtype="float64"),
        mg.tensor(b, dtype="float64"),
        **kw,
    )
    np.testing.assert_allclose(
        got.numpy(), conv2d_reference(x, w, b, **kw), rtol=FWD_RTOL, atol=FWD_ATOL
    )


@pytest.mark.parametrize("setting", GRID, ids=IDS)
def test_gradcheck_x_weight_bias(setting, rng) -> None:
    x, w, b, kw = _case(rng, setting)
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in (x, w, b)]
    assert gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, **kw), tensors, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL
    )


def test_int_arguments_and_no_bias(rng) -> None:
    x = rng.standard_normal((1, 2, 6, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    got = F.conv2d(
        mg.tensor(x, dtype="float64"), mg.tensor(w, dtype="float64"), stride=2, padding=1
    )
    ref = conv2d_reference(x, w, None, (2, 2), (1, 1), (1, 1), 1)
    np.testing.assert_allclose(got.numpy(), ref, rtol=FWD_RTOL, atol=FWD_ATOL)


def test_float32_stays_float32_and_grads_match_shapes(rng) -> None:
    x = mg.tensor(rng.standard_normal((2, 3, 8, 8)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal(4), requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, np.float32))
    for t in (x, w, b):
        assert t.grad.shape == t.shape and t.grad.dtype == np.float32


def test_bad_shapes_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="3 channels but weight expects 2"):
        F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(mg.zeros(1, 1, 2, 2), mg.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="groups=2"):
        F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(4, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.conv2d(mg.zeros(3, 5, 5), mg.zeros(4, 3, 3, 3))
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(mg.zeros(1, 1, 5, 5), mg.zeros(1, 1, 3, 3), stride=0)


def test_matches_pytorch_when_installed(rng) -> None:
    torch = pytest.importorskip("torch")
    x, w, b, kw = _case(rng, GRID[3])
    got = F.conv2d(
        mg.tensor(x, dtype="float64"),
        mg.tensor(w, dtype="float64"),
        mg.tensor(b, dtype="float64"),
        **kw,
    )
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=FWD_RTOL, atol=FWD_ATOL)


def _one_hot(shape, at):
    w = np.zeros(shape)
    w[at] = 1.0
    return w


# Small cases worked out by hand, so the geometry is checked by something other than
# conv2d_reference (which could share a misreading of stride, padding, dilation or groups).
BY_HAND = {
    # cross-correlation, not convolution: a kernel picking its top-right tap reads x[i, j + 1]
    "no_flip": (
        np.arange(16.0).reshape(1, 1, 4, 4),
        _one_hot((1, 1, 2, 2), (0, 0, 0, 1)),
        {},
        [[1, 2, 3], [5, 6, 7], [9, 10, 11]],
    ),
    # a 3x3 sum with padding 1 and stride 2 over ones counts the real pixels in each window
    "stride_padding": (
        np.ones((1, 1, 4, 4)),
        np.ones((1, 1, 3, 3)),
        {"stride": 2, "padding": 1},
        [[4, 6], [6, 9]],
    ),
    # dilation 2 spreads a 2x2 kernel over 3x3: its bottom-right tap reads x[i + 2, j + 2]
    "dilation": (
        np.arange(25.0).reshape(1, 1, 5, 5),
        _one_hot((1, 1, 2, 2), (0, 0, 1, 1)),
        {"dilation": 2},
        np.arange(25.0).reshape(5, 5)[2:, 2:],
    ),
    # groups=2: output channel 1 sees input channel 1 only (2 * 10, not 1 * 10)
    "groups": (
        np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))])[None],
        np.array([1.0, 10.0]).reshape(2, 1, 1, 1),
        {"groups": 2},
        [np.ones((2, 2)), 20 * np.ones((2, 2))],
    ),
}


def _pairs(kwargs):
    """conv2d's keyword arguments as conv2d_reference takes them (all four, as pairs)."""
    full = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1} | kwargs
    return {k: v if k == "groups" else (v, v) for k, v in full.items()}


@pytest.mark.parametrize("name", BY_HAND)
def test_geometry_worked_out_by_hand(name) -> None:
    x, w, kwargs, expected = BY_HAND[name]
    got = F.conv2d(mg.tensor(x, dtype="float64"), mg.tensor(w, dtype="float64"), **kwargs)
    np.testing.assert_array_equal(got.numpy()[0].squeeze(), np.squeeze(expected))
    ref = conv2d_reference(x, w, None, **_pairs(kwargs))
    np.testing.assert_array_equal(ref[0].squeeze(), np.squeeze(expected))
