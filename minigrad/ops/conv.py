"""2-D convolution (cross-correlation, as in every deep learning framework) through im2col.

The forward copies every receptive field into a column matrix once, through a strided view
of the padded input (no Python loop over output pixels), and then a convolution is one matrix
product per group. The backward's ``dcols = W^T g`` is scattered back onto the input by adding
``KH * KW`` shifted slices: the adjoint of the copy.

Memory layout: the column matrix is ordered ``(C, KH, KW) x (N, OH, OW)``, so the product
``W @ cols`` comes out as ``(O, N, OH, OW)`` and the result is returned as a transposed *view*
of shape ``(N, O, OH, OW)``: channel-major in memory, NCHW in shape, no copy. The next layers
(ReLU, pooling, batchnorm) keep that layout, the next convolution reads it directly, and the
backward receives its gradient in the same layout, so ``g`` is an ``(O, N*OH*OW)`` matrix
without a copy either.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.autograd import Function, Node
from minigrad.ops._common import as_tensor
from minigrad.tensor import Tensor

Pair = int | tuple[int, int]


def pair(value: Pair, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints as a pair, each at least ``minimum``."""
    p = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(p) != 2 or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in p):
        raise ValueError(
            f"{op}: {name} must be an int >= {minimum} or a pair of them, got {value!r}"
        )
    return int(p[0]), int(p[1])


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Number of window positions along one axis (PyTorch's formula, floor mode)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def padded(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """``x (N, C, H, W)`` with ``value`` around its last two axes, laid out channel-major.

    The result is a ``(N, C, H + 2 ph, W + 2 pw)`` view of a ``(C, N, ...)`` buffer, matching
    the layout convolutions produce; with no padding ``x`` itself is returned.
    """
    ph, pw = padding
    if not ph and not pw:
        return x
    n, c, h, w = x.shape
    buffer = np.full((c, n, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    buffer[:, :, ph : ph + h, pw : pw + w] = x.transpose(1, 0, 2, 3)
    return buffer.transpose(1, 0, 2, 3)


def windows(
    xp: np.ndarray,
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """A read-only strided view ``(C, KH, KW, N, OH, OW)`` of every receptive field of ``xp``."""
    sn, sc, sh, sw = xp.strides
    n, c = xp.shape[:2]
    return as_strided(
        xp,
        shape=(c, *kernel, n, *out_hw),
        strides=(sc, sh * dilation[0], sw * dilation[1], sn, sh * stride[0], sw * stride[1]),
        writeable=False,
    )


def shifted_slices(
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
):
    """For each kernel offset ``(i, j)``, the slices of the padded input it reads."""
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    for i in range(kh):
        for j in range(kw):
            yield (
                i,
                j,
                (
                    slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                    slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
                ),
            )


class Conv2d(Function):
    """``z[n, o] = b[o] + sum_{c, i, j} w[o, c, i, j] * xp[n, c, s*h + d*i, s*w + d*j]``.

    With ``cols (K, N*L)`` the receptive fields (``K = C/G * KH * KW``, ``L = OH * OW``) and
    ``g (O, N*L)`` the upstream gradient, per group:
    ``dw = g @ cols.T  (O/G, K)``,  ``db = sum over N*L of g  (O,)``,
    ``dcols = w.T @ g  (K, N*L)``, and ``dx`` adds each row of ``dcols`` back at the input
    position it was copied from.
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None,
        stride: tuple[int, int],
        padding: tuple[int, int],
        dilation: tuple[int, int],
        groups: int,
    ) -> np.ndarray:
        n, _, h, wd = x.shape
        o, cg, kh, kw = w.shape
        out_hw = (
            output_size(h, kh, stride[0], padding[0], dilation[0]),
            output_size(wd, kw, stride[1], padding[1], dilation[1]),
        )
        xp = padded(x, padding)
        cols = np.ascontiguousarray(windows(xp, (kh, kw), out_hw, stride, dilation))
        cols = cols.reshape(groups, cg * kh * kw, -1)  # (G, K, N*L)
        z = np.matmul(w.reshape(groups, o // groups, -1), cols).reshape(o, n, *out_hw)
        if b is not None:
            z += b.reshape(o, 1, 1, 1)
        ctx.geometry = (x.shape, xp.shape, out_hw, stride, padding, dilation, groups)
        # the columns are only needed for the weight's gradient
        ctx.save(cols if ctx.needs_input_grad[1] else None, w)
        return z.transpose(1, 0, 2, 3)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        cols, w = ctx.saved
        x_shape, xp_shape, out_hw, stride, padding, dilation, groups = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad
        o, _, kh, kw = w.shape
        # channel-major, as the forward produced it: a free view when the layout came back
        g = np.ascontiguousarray(grad.transpose(1, 0, 2, 3)).reshape(groups, o // groups, -1)
        grad_w = grad_b = grad_x = None
        if need_w:
            grad_w = np.matmul(g, cols.transpose(0, 2, 1)).reshape(w.shape)
        if need_b:
            grad_b = g.reshape(o, -1).sum(axis=1)
        if need_x:
            dcols = np.matmul(w.reshape(groups, o // groups, -1).transpose(0, 2, 1), g)
            dcols = dcols.reshape(x_shape[1], kh, kw, x_shape[0], *out_hw)
            n, c = x_shape[:2]
            dxp = np.zeros((c, n, *xp_shape[2:]), dtype=grad.dtype)
            for i, j, (rows, cols_) in shifted_slices((kh, kw), out_hw, stride, dilation):
                dxp[:, :, rows, cols_] += dcols[:, i, j]
            ph, pw = padding
            grad_x = dxp[:, :, ph : ph + x_shape[2], pw : pw + x_shape[3]].transpose(1, 0, 2, 3)
        return grad_x, grad_w, grad_b


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution of ``x (N, C, H, W)`` with ``weight (O, C/groups, KH, KW)``.

    Same output shape and semantics as PyTorch's ``conv2d`` (cross-correlation, zero padding).

    Example:
        >>> conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((2, 1, 3, 3))), padding=1).shape
        (1, 2, 4, 4)
    """
    x, weight = as_tensor(x), as_tensor(weight)
    stride = pair(stride, "stride", "conv2d")
    padding = pair(padding, "padding", "conv2d", minimum=0)
    dilation = pair(dilation, "dilation", "conv2d")
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected x (N, C, H, W) and weight (O, C/groups, KH, KW), got shapes "
            f"{x.shape} and {weight.shape}"
        )
    o, cg, kh, kw = weight.shape
    if not isinstance(groups, (int, np.integer)) or groups < 1 or o % groups or x.shape[1] % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide both the {x.shape[1]} input and {o} output "
            "channels"
        )
    if x.shape[1] != cg * groups:
        raise ValueError(
            f"conv2d: shapes {x.shape} and {weight.shape} do not fit: x has {x.shape[1]} "
            f"channels but weight expects {cg * groups} (C/groups={cg}, groups={groups})"
        )
    for axis, k in ((2, kh), (3, kw)):
        i = axis - 2
        if output_size(x.shape[axis], k, stride[i], padding[i], dilation[i]) < 1:
            raise ValueError(
                f"conv2d: kernel {weight.shape[2:]} (dilation {dilation}) is larger than the "
                f"padded input {x.shape[2:]} (padding {padding})"
            )
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (o,):
            raise ValueError(f"conv2d: bias has shape {bias.shape}, expected ({o},)")
    return Conv2d.apply(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=int(groups)
    )
