"""Image geometry shared by convolution and pooling: window sizes, padding, and the windows.

A 2-D window op (convolution, pooling) slides a ``KH x KW`` kernel over an ``(N, C, H, W)``
input padded by ``padding`` on each side, moving ``stride`` pixels at a time, reading every
``dilation``-th pixel. :func:`windows` gives every receptive field as one array view, and
:func:`fold` is its adjoint: it adds values given per window back onto the pixels they were read
from, which is how every window op's backward returns its gradient to the input.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Pair = int | tuple[int, int]


def pair(value: Pair, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints as a pair, each at least ``minimum``.

    Example:
        >>> pair(3, "kernel_size", "conv2d"), pair((1, 2), "stride", "conv2d")
        ((3, 3), (1, 2))
    """
    if isinstance(value, (int, np.integer)):
        p = (value, value)
    else:
        p = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(p) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in p
    ):
        raise ValueError(
            f"{op}: {name} must be an int >= {minimum} or a pair of them, got {value!r}"
        )
    return int(p[0]), int(p[1])


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Number of window positions along one axis (PyTorch's formula, floor mode).

    Example:
        >>> output_size(28, 3, 1, 1), output_size(28, 2, 2, 0)
        (28, 14)
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class Window(NamedTuple):
    """Where a window op reads its input ``(N, C, H, W)``; ``out_hw`` is ``(OH, OW)``."""

    in_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]


def window(
    in_shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> Window:
    """The :class:`Window` of a kernel over an input of shape ``in_shape``.

    Example:
        >>> window((2, 3, 28, 28), (2, 2), (2, 2), (0, 0)).out_hw
        (14, 14)
    """
    out_hw = tuple(
        output_size(in_shape[2 + a], kernel[a], stride[a], padding[a], dilation[a])
        for a in range(2)
    )
    return Window(tuple(in_shape), kernel, stride, padding, dilation, out_hw)  # type: ignore[arg-type]


def pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """``x (N, C, H, W)`` surrounded by ``value`` on its last two axes.

    Example:
        >>> pad(np.ones((1, 1, 1, 1)), (1, 0)).shape
        (1, 1, 3, 1)
    """
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def windows(xp: np.ndarray, win: Window) -> np.ndarray:
    """Every receptive field of the padded input ``xp``, as a read-only view of shape
    ``(N, C, OH, OW, KH, KW)``: ``[n, c, p, q, i, j]`` is
    ``xp[n, c, p * sh + i * dh, q * sw + j * dw]``.

    Example:
        >>> windows(np.arange(16.0).reshape(1, 1, 4, 4), window((1, 1, 4, 4), (2, 2), (2, 2),
        ...     (0, 0)))[0, 0, 1, 1].tolist()
        [[10.0, 11.0], [14.0, 15.0]]
    """
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = win.kernel, win.stride, win.dilation, win.out_hw
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(xp, span, axis=(2, 3))  # (N, C, Hp-span+1, Wp-span+1, span...)
    return view[:, :, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw, ::dh, ::dw]


def fold(per_window: np.ndarray, win: Window) -> np.ndarray:
    """The adjoint of :func:`windows`: a zero ``(N, C, H, W)`` array to which every value of
    ``per_window (N, C, OH, OW, KH, KW)`` is added at the input pixel that window position read
    (overlapping windows add up; what fell on the padding is dropped).

    Example:
        >>> win = window((1, 1, 3, 3), (2, 2), (1, 1), (0, 0))
        >>> fold(np.ones((1, 1, 2, 2, 2, 2)), win)[0, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    n, c, h, w = win.in_shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = win.kernel, win.stride, win.dilation, win.out_hw
    (ph, pw) = win.padding
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=per_window.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            xp[:, :, rows, cols] += per_window[:, :, :, :, i, j]
    return xp[:, :, ph : ph + h, pw : pw + w]
