"""2-D max and average pooling over ``(N, C, H, W)``.

Both reduce every receptive field (:func:`minigrad.ops.geometry.windows`) to one number, and
both backward rules say how much of that number's gradient each pixel of the window gets, then
add it back onto the input (:func:`minigrad.ops.geometry.fold`).

These are the reference rules; ``minigrad/_kernels/pool.py`` holds fast kernels for the same
ops, tested equal to them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function, Node
from minigrad.ops._common import as_float, as_tensor
from minigrad.ops.geometry import Pair, Window, fold, output_size, pad, pair, window, windows
from minigrad.tensor import Tensor


def first_input_pixel(win: Window) -> np.ndarray:
    """For each window position ``(OH, OW)``, the flat index within the window (row-major over
    ``KH x KW``) of its first pixel that is not padding."""
    real = pad(np.ones((1, 1, *win.in_shape[2:]), dtype=bool), win.padding, False)
    per_window = windows(real, win)[0, 0]  # (OH, OW, KH, KW)
    return per_window.reshape(*win.out_hw, -1).argmax(axis=-1)


class MaxPool2d(Function):
    """``z = max over each window of x``, padding counting as ``-inf``.

    ``dx``: each window sends its ``g`` to the one pixel that was its maximum, the first one in
    row-major order when several tie (PyTorch's rule); every other pixel of the window gets 0
    from it. A window whose real pixels are all ``-inf`` sends ``g`` to its first real pixel,
    never to the padding. A NaN counts as the maximum, so its gradient reaches it.
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        win = window(x.shape, kernel, stride, padding)
        fields = windows(pad(x, padding, -np.inf), win)
        fields = fields.reshape(*fields.shape[:4], -1)  # (N, C, OH, OW, KH*KW)
        winner = fields.argmax(axis=-1)  # the first maximum; argmax picks a NaN first
        z = np.take_along_axis(fields, winner[..., None], axis=-1)[..., 0]
        if padding != (0, 0):
            winner = np.where(z == -np.inf, first_input_pixel(win), winner)
        ctx.window = win
        ctx.save(winner)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (winner,) = ctx.saved
        win: Window = ctx.window
        per_window = np.zeros((*grad.shape, win.kernel[0] * win.kernel[1]), dtype=grad.dtype)
        np.put_along_axis(per_window, winner[..., None], grad[..., None], axis=-1)
        return fold(per_window.reshape(*grad.shape, *win.kernel), win)


class AvgPool2d(Function):
    """``z = mean over each window of x``, padding counted as zeros (PyTorch's default).

    ``dx``: each window gives ``g / (KH * KW)`` to every one of its pixels.
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        win = window(x.shape, kernel, stride, padding)
        ctx.window = win
        return windows(pad(x, padding), win).mean(axis=(-2, -1))

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        win: Window = ctx.window
        share = grad / (win.kernel[0] * win.kernel[1])
        return fold(np.broadcast_to(share[..., None, None], (*grad.shape, *win.kernel)), win)


def _float_input(x: Any) -> Tensor:
    """Pooling computes in floats: integer images become the default float dtype."""
    x = as_tensor(x)
    return x if x.data.dtype.kind == "f" else Tensor._wrap(as_float(x.data), None)


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
    x = _float_input(x)
    return kernels.pick(MaxPool2d).apply(
        x, **_pool_args("max_pool2d", x, kernel_size, stride, padding)
    )


def avg_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """Average pooling; ``stride`` defaults to ``kernel_size``; padding counts as zeros.

    Example:
        >>> avg_pool2d(Tensor(np.arange(16.0).reshape(1, 1, 4, 4)), 2).tolist()
        [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    x = _float_input(x)
    return kernels.pick(AvgPool2d).apply(
        x, **_pool_args("avg_pool2d", x, kernel_size, stride, padding)
    )
