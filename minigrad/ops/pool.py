"""2-D max and average pooling over ``(N, C, H, W)``.

Both ops visit the ``KH * KW`` kernel offsets one at a time, each offset reading a strided slice
of the (padded) input, so there is no Python loop over windows or pixels. They keep the memory
layout of their input, like the other elementwise-style ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops._common import as_tensor
from minigrad.ops.conv import Pair, output_size, padded, pair, shifted_slices
from minigrad.tensor import Tensor


def _zeros_like_padded(x_shape: tuple[int, ...], padding: tuple[int, int], dtype) -> np.ndarray:
    """A zero ``(N, C, H + 2 ph, W + 2 pw)`` gradient buffer, channel-major in memory."""
    n, c, h, w = x_shape
    return np.zeros((c, n, h + 2 * padding[0], w + 2 * padding[1]), dtype).transpose(1, 0, 2, 3)


def _crop(dxp: np.ndarray, x_shape: tuple[int, ...], padding: tuple[int, int]) -> np.ndarray:
    ph, pw = padding
    return dxp[:, :, ph : ph + x_shape[2], pw : pw + x_shape[3]]


class MaxPool2d(Function):
    """``z = max over each window of x`` (padding counts as ``-inf``).

    ``dx`` routes each ``g`` to the one input that was the window's maximum: the first one in
    row-major order when several tie (PyTorch's rule); every other input gets 0 from that
    window. Only the winner's offset within the window is saved (one byte per output).
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        out_hw = tuple(
            output_size(x.shape[2 + a], kernel[a], stride[a], padding[a]) for a in range(2)
        )
        xp = padded(x, padding, -np.inf)
        z = winner = None
        for k, (_, _, (rows, cols)) in enumerate(shifted_slices(kernel, out_hw, stride)):
            candidate = xp[:, :, rows, cols]
            if z is None:
                z = np.copy(candidate, order="K")
                winner = np.zeros_like(
                    z, dtype=np.uint8 if kernel[0] * kernel[1] < 256 else np.int32
                )
                continue
            np.copyto(winner, k, where=candidate > z)  # strict: an earlier tie keeps the win
            np.maximum(z, candidate, out=z)
        ctx.geometry = (x.shape, out_hw, kernel, stride, padding)
        ctx.save(winner)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (winner,) = ctx.saved
        x_shape, out_hw, kernel, stride, padding = ctx.geometry
        dxp = _zeros_like_padded(x_shape, padding, grad.dtype)
        overlapping = stride[0] < kernel[0] or stride[1] < kernel[1]
        for k, (_, _, (rows, cols)) in enumerate(shifted_slices(kernel, out_hw, stride)):
            if overlapping:
                dxp[:, :, rows, cols] += np.where(winner == k, grad, 0)
            else:  # each input lies in at most one window: write instead of add
                np.copyto(dxp[:, :, rows, cols], grad, where=winner == k)
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
        out_hw = tuple(
            output_size(x.shape[2 + a], kernel[a], stride[a], padding[a]) for a in range(2)
        )
        xp = padded(x, padding)
        z = None
        for _, _, (rows, cols) in shifted_slices(kernel, out_hw, stride):
            if z is None:
                z = np.copy(xp[:, :, rows, cols], order="K")
            else:
                z += xp[:, :, rows, cols]
        z *= 1.0 / (kernel[0] * kernel[1])
        ctx.geometry = (x.shape, out_hw, kernel, stride, padding)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        x_shape, out_hw, kernel, stride, padding = ctx.geometry
        dxp = _zeros_like_padded(x_shape, padding, grad.dtype)
        share = grad * (1.0 / (kernel[0] * kernel[1]))
        for _, _, (rows, cols) in shifted_slices(kernel, out_hw, stride):
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
