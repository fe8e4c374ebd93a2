"""2-D max and average pooling over ``(N, C, H, W)``.

Both ops visit the ``KH * KW`` kernel offsets one at a time, each offset reading a strided slice
of the (padded) input, so there is no Python loop over windows or pixels. Like convolutions
they store images batch-last (see ``minigrad.ops.conv``), where each slice is made of long
contiguous runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops import _workspace as workspace
from minigrad.ops._common import as_tensor
from minigrad.ops.conv import Pair, batch_last, output_size, padded, pair, shifted_slices
from minigrad.tensor import Tensor


def _tiles_exactly(x_shape, out_hw, kernel, stride, padding) -> bool:
    """Whether every input element lies in exactly one window (so gradients need no adding)."""
    return (
        padding == (0, 0)
        and stride == kernel
        and out_hw[0] * kernel[0] == x_shape[2]
        and out_hw[1] * kernel[1] == x_shape[3]
    )


def _padded_grad(x_shape, out_hw, kernel, stride, padding, dtype) -> np.ndarray:
    """The (padded) input-gradient buffer, batch-last like the input; zeroed unless every
    element will be written exactly once."""
    n, c, h, w = x_shape
    shape = (n, c, h + 2 * padding[0], w + 2 * padding[1])
    exact = _tiles_exactly(x_shape, out_hw, kernel, stride, padding)
    return batch_last(shape, dtype, fill=None if exact else 0)


def _crop(dxp: np.ndarray, x_shape: tuple[int, ...], padding: tuple[int, int]) -> np.ndarray:
    ph, pw = padding
    return dxp[:, :, ph : ph + x_shape[2], pw : pw + x_shape[3]]


def _geometry(x: np.ndarray, kernel, stride, padding) -> tuple:
    out_hw = tuple(output_size(x.shape[2 + a], kernel[a], stride[a], padding[a]) for a in range(2))
    return x.shape, out_hw, kernel, stride, padding


def _fold(combine: np.ufunc, xp: np.ndarray, geometry: tuple) -> np.ndarray:
    """Combine (max or add) the slices of ``xp`` under every kernel offset into one output."""
    _, out_hw, kernel, stride, _ = geometry
    z = None
    for _, _, (rows, cols) in shifted_slices(kernel, out_hw, stride):
        if z is None:
            z = workspace.empty_like(xp[:, :, rows, cols])
            np.copyto(z, xp[:, :, rows, cols])
        else:
            combine(z, xp[:, :, rows, cols], out=z)
    return z


class MaxPool2d(Function):
    """``z = max over each window of x`` (padding counts as ``-inf``).

    ``dx`` routes each ``g`` to the one input that was the window's maximum: the first one in
    row-major order when several tie (PyTorch's rule); every other input gets 0 from that
    window. The backward finds the winners again by comparing each kernel offset's slice of the
    input with ``z``, so the forward is nothing but ``KH * KW - 1`` elementwise maxima.
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        geometry = _geometry(x, kernel, stride, padding)
        xp = padded(x, padding, -np.inf)
        z = _fold(np.maximum, xp, geometry)
        ctx.geometry = geometry
        ctx.save(xp, z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        xp, z = ctx.saved
        x_shape, out_hw, kernel, stride, padding = ctx.geometry
        grad = workspace.laid_out_like(grad, z)
        dxp = _padded_grad(x_shape, out_hw, kernel, stride, padding, grad.dtype)
        overlapping = stride[0] < kernel[0] or stride[1] < kernel[1]
        hit, first = workspace.empty_like(z, np.bool_), workspace.empty_like(z, np.bool_)
        taken = None  # windows whose maximum has already been routed
        for _, _, (rows, cols) in shifted_slices(kernel, out_hw, stride):
            np.equal(xp[:, :, rows, cols], z, out=hit)
            if taken is None:
                taken = workspace.empty_like(z, np.bool_)
                np.copyto(taken, hit)
                np.copyto(first, hit)
            else:
                np.greater(hit, taken, out=first)  # hit and not taken before
                np.logical_or(taken, hit, out=taken)
            if overlapping:
                dxp[:, :, rows, cols] += grad * first
            else:  # each input lies in at most one window: write instead of add
                np.multiply(grad, first, out=dxp[:, :, rows, cols])
        return _crop(dxp, x_shape, padding)


class AvgPool2d(Function):
    """``z = mean over each window of x``, padding counted as zeros (PyTorch's default).
    ``dx`` adds ``g / (KH * KW)`` to every input of each window."""

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        geometry = _geometry(x, kernel, stride, padding)
        z = _fold(np.add, padded(x, padding), geometry)
        z *= 1.0 / (kernel[0] * kernel[1])
        ctx.geometry = geometry
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        x_shape, out_hw, kernel, stride, padding = ctx.geometry
        dxp = _padded_grad(x_shape, out_hw, kernel, stride, padding, grad.dtype)
        share = grad * (1.0 / (kernel[0] * kernel[1]))
        exact = _tiles_exactly(x_shape, out_hw, kernel, stride, padding)
        for _, _, (rows, cols) in shifted_slices(kernel, out_hw, stride):
            if exact:
                dxp[:, :, rows, cols] = share
            else:
                dxp[:, :, rows, cols] += share
        return _crop(dxp, x_shape, padding)


def _pool_args(
    op: str, x: Tensor, kernel_size: Pair, stride: Pair | None, padding: Pair
) -> dict[str, tuple[int, int]]:
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {x.shape}")
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding = pair(padding, "padding", op, minimum=0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    for a in range(2):
        if output_size(x.shape[2 + a], kernel[a], stride[a], padding[a]) < 1:
            raise ValueError(
                f"{op}: kernel {kernel} is larger than the padded input {x.shape[2:]} "
                f"(padding {padding})"
            )
    return {"kernel": kernel, "stride": stride, "padding": padding}


def max_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """Max pooling; ``stride`` defaults to ``kernel_size``; padding counts as ``-inf``.

    Example:
        >>> max_pool2d(Tensor(np.arange(16.0).reshape(1, 1, 4, 4)), 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    x = as_tensor(x)
    return MaxPool2d.apply(x, **_pool_args("max_pool2d", x, kernel_size, stride, padding))


def avg_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """Average pooling; ``stride`` defaults to ``kernel_size``; padding counts as zeros.

    Example:
        >>> avg_pool2d(Tensor(np.arange(16.0).reshape(1, 1, 4, 4)), 2).tolist()
        [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    x = as_tensor(x)
    return AvgPool2d.apply(x, **_pool_args("avg_pool2d", x, kernel_size, stride, padding))
