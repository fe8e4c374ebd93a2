"""Fast max and average pooling on batch-last images.

Same ops, same results as :mod:`minigrad.ops.pool` (tested equal). Instead of gathering every
window, both visit the ``KH * KW`` kernel offsets one at a time, each offset reading a strided
slice of the padded batch-last input (long contiguous runs), and fold them with an elementwise
maximum or sum. Max pooling keeps no indices: its backward finds each window's winner again by
comparing the offsets' slices with the output, in the same first-to-last order as the forward.
"""

from __future__ import annotations

import numpy as np

from minigrad._kernels import layout
from minigrad.autograd import Node
from minigrad.kernels import fast_kernel
from minigrad.ops import pool as reference
from minigrad.ops.geometry import Window, window


def _fold(combine: np.ufunc, xp: np.ndarray, win: Window) -> np.ndarray:
    """Combine (max or add) the slices of ``xp`` under every kernel offset into one output."""
    z = None
    for _, _, rows, cols in layout.shifted_slices(win.kernel, win.out_hw, win.stride):
        if z is None:
            z = layout.empty_like(xp[:, :, rows, cols])
            np.copyto(z, xp[:, :, rows, cols])
        else:
            combine(z, xp[:, :, rows, cols], out=z)
    return z


def _input_grad(win: Window, dtype: np.dtype) -> tuple[np.ndarray, bool]:
    """The padded input-gradient buffer, batch-last, and whether windows may share pixels.

    When the windows tile the input exactly, every pixel is written exactly once and the
    buffer needs no zeroing; otherwise it starts at zero (pixels no window covers stay 0).
    """
    n, c, h, w = win.in_shape
    (ph, pw), (kh, kw), (sh, sw), (oh, ow) = win.padding, win.kernel, win.stride, win.out_hw
    tiles = (ph, pw) == (0, 0) and (sh, sw) == (kh, kw) and (oh * kh, ow * kw) == (h, w)
    buffer = layout.batch_last((n, c, h + 2 * ph, w + 2 * pw), dtype, fill=None if tiles else 0)
    return buffer, sh < kh or sw < kw


def _crop(dxp: np.ndarray, win: Window) -> np.ndarray:
    (ph, pw), (h, w) = win.padding, win.in_shape[2:]
    return dxp[:, :, ph : ph + h, pw : pw + w]


@fast_kernel(reference.MaxPool2d)
class MaxPool2d(reference.MaxPool2d):
    """Fast kernel of :class:`minigrad.ops.pool.MaxPool2d` (see the module docstring)."""

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        win = window(x.shape, kernel, stride, padding)
        xp = layout.padded(x, padding, -np.inf)
        z = _fold(np.maximum, xp, win)
        ctx.window = win
        ctx.save(xp, z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        xp, z = ctx.saved
        return route_max(xp, z, ctx.window, grad)


def route_max(xp: np.ndarray, z: np.ndarray, win: Window, grad: np.ndarray) -> np.ndarray:
    """Max pooling's backward: each window of the padded input ``xp`` sends its ``grad`` to
    the first pixel equal to its maximum ``z``; returns the input's gradient."""
    grad = layout.aligned(grad, layout.BATCH_LAST)
    dxp, overlapping = _input_grad(win, grad.dtype)
    # A window whose real pixels are all -inf routes to its first real pixel, as the
    # reference rule does: padding cells must not count as hits there.
    real = None
    if win.padding != (0, 0) and np.isneginf(z).any():
        real = layout.padded(np.ones((1, 1, *win.in_shape[2:]), bool), win.padding, False)
    nan = np.isnan(z)  # a NaN maximum is the first NaN of its window (argmax's rule)
    nan = nan if nan.any() else None
    hit, first = layout.empty_like(z, np.bool_), layout.empty_like(z, np.bool_)
    taken = None  # windows whose maximum has already been routed
    for _, _, rows, cols in layout.shifted_slices(win.kernel, win.out_hw, win.stride):
        np.equal(xp[:, :, rows, cols], z, out=hit)
        if nan is not None:
            hit |= nan & np.isnan(xp[:, :, rows, cols])
        if real is not None:
            hit &= real[:, :, rows, cols]
        if taken is None:
            taken = layout.empty_like(z, np.bool_)
            np.copyto(taken, hit)
            np.copyto(first, hit)
        else:
            np.greater(hit, taken, out=first)  # a hit, and none before it in its window
            np.logical_or(taken, hit, out=taken)
        if overlapping:
            dxp[:, :, rows, cols] += grad * first
        else:  # each pixel lies in at most one window: write instead of add
            np.multiply(grad, first, out=dxp[:, :, rows, cols])
    return _crop(dxp, win)


@fast_kernel(reference.AvgPool2d)
class AvgPool2d(reference.AvgPool2d):
    """Fast kernel of :class:`minigrad.ops.pool.AvgPool2d` (see the module docstring)."""

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        win = window(x.shape, kernel, stride, padding)
        z = _fold(np.add, layout.padded(x, padding), win)
        z *= 1.0 / (kernel[0] * kernel[1])
        ctx.window = win
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        win: Window = ctx.window
        grad = layout.aligned(grad, layout.BATCH_LAST)
        dxp, overlapping = _input_grad(win, grad.dtype)
        share = grad * (1.0 / (win.kernel[0] * win.kernel[1]))
        for _, _, rows, cols in layout.shifted_slices(win.kernel, win.out_hw, win.stride):
            if overlapping:
                dxp[:, :, rows, cols] += share
            else:
                dxp[:, :, rows, cols] = share
        return _crop(dxp, win)
