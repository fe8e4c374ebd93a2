"""2-D convolution (cross-correlation, as in every deep learning framework) through im2col.

The forward copies every receptive field into a column matrix once, from a strided view of the
padded input (no Python loop over output pixels), and the convolution is then one matrix
product per group. The backward's ``dcols = W^T g`` is scattered back onto the input by adding
``KH * KW`` shifted slices: the adjoint of the copy.

Memory layout: image tensors are NCHW in shape, but the arrays these ops create keep the batch
axis innermost in memory (``C, H, W, N``), exposed as a transposed view. In that layout every
shifted slice that im2col, col2im and pooling touch is made of contiguous runs of ``W * N``
numbers instead of runs of ``W``, the matrix product ``W @ cols`` comes out already in place,
and the gradient flowing back arrives in the same layout. Elementwise ops keep their input's
layout, so a CNN's activations stay in it from the first convolution to ``Flatten``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.autograd import Function, Node
from minigrad.ops import _workspace as workspace
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


def batch_last(shape: tuple[int, ...], dtype: np.dtype, fill: float | None = None) -> np.ndarray:
    """A new ``(N, C, H, W)`` array stored as ``(C, H, W, N)`` (see the module docstring),
    taken from the workspace cache."""
    n, c, h, w = shape
    memory = workspace.empty((c, h, w, n), dtype)
    if fill is not None:
        memory.fill(fill)
    return memory.transpose(3, 0, 1, 2)


def padded(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """``x (N, C, H, W)`` surrounded by ``value`` on its last two axes, stored batch-last.

    ``x`` itself is returned when there is no padding and it is already stored batch-last.
    """
    ph, pw = padding
    n, c, h, w = x.shape
    if not ph and not pw:
        return x if x.transpose(1, 2, 3, 0).flags.c_contiguous else _batch_last_copy(x)
    xp = batch_last((n, c, h + 2 * ph, w + 2 * pw), x.dtype, fill=value)
    xp[:, :, ph : ph + h, pw : pw + w] = x
    return xp


def _batch_last_copy(x: np.ndarray) -> np.ndarray:
    out = batch_last(x.shape, x.dtype)
    out[...] = x
    return out


def windows(
    xp: np.ndarray,
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """A read-only strided view ``(C, KH, KW, OH, OW, N)`` of every receptive field of the
    batch-last ``xp``; copying it gives the column matrix ``(C*KH*KW, OH*OW*N)``."""
    sn, sc, sh, sw = xp.strides
    n, c = xp.shape[:2]
    return as_strided(
        xp,
        shape=(c, *kernel, *out_hw, n),
        strides=(sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn),
        writeable=False,
    )


def shifted_slices(
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
):
    """For each kernel offset ``(i, j)``, the slices of the padded input's H and W it reads."""
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

    With ``cols (K, L)`` the receptive fields (``K = C/G * KH * KW`` rows, ``L = OH*OW*N``
    columns) and ``g (O, L)`` the upstream gradient, per group:
    ``dw = g @ cols.T  (O/G, K)``,  ``db = sum over L of g  (O,)``,
    ``dcols = w.T @ g  (K, L)``, and ``dx`` adds each row of ``dcols`` back at the input
    position it was copied from.

    The bias rides in the matrix products: ``cols`` gets a row of ones and ``w`` a column
    holding ``b``, so the forward needs no extra pass to add it and ``db`` comes out of the
    same product as ``dw``.
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
        k, length = cg * kh * kw, out_hw[0] * out_hw[1] * n
        xp = padded(x, padding)
        view = windows(xp, (kh, kw), out_hw, stride, dilation)
        cols = workspace.empty((groups, k + (b is not None), length), x.dtype)
        np.copyto(
            cols[:, :k].reshape(groups, cg, kh, kw, *out_hw, n),
            view.reshape(groups, cg, kh, kw, *out_hw, n),
        )
        w_rows = w.reshape(groups, o // groups, k)
        if b is not None:
            cols[:, k] = 1
            w_rows = np.concatenate([w_rows, b.reshape(groups, o // groups, 1)], axis=2)
        z = workspace.empty((groups, o // groups, length), np.result_type(x, w))
        np.matmul(w_rows, cols, out=z)
        ctx.geometry = (x.shape, xp.shape, out_hw, stride, padding, dilation, groups)
        # the columns are only needed for the weight's (and bias's) gradient
        ctx.save(cols if ctx.needs_input_grad[1] or ctx.needs_input_grad[2] else None, w)
        return z.reshape(o, *out_hw, n).transpose(3, 0, 1, 2)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        cols, w = ctx.saved
        x_shape, xp_shape, out_hw, stride, padding, dilation, groups = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad
        o, cg, kh, kw = w.shape
        k = cg * kh * kw
        # (O, OH, OW, N): a free view when the gradient comes back batch-last
        g = np.ascontiguousarray(grad.transpose(1, 2, 3, 0)).reshape(groups, o // groups, -1)
        grad_w = grad_b = grad_x = None
        if need_w or need_b:
            both = np.matmul(g, cols.transpose(0, 2, 1))  # (G, O/G, K [+ 1])
            grad_w = both[:, :, :k].reshape(w.shape) if need_w else None
            grad_b = both[:, :, k].reshape(o) if need_b else None
        if need_x:
            n, c = x_shape[:2]
            dcols = workspace.empty((groups, k, g.shape[2]), g.dtype)
            np.matmul(w.reshape(groups, o // groups, k).transpose(0, 2, 1), g, out=dcols)
            dcols = dcols.reshape(c, kh, kw, *out_hw, n)
            dxp = workspace.zeros((c, *xp_shape[2:], n), grad.dtype)  # batch-last memory
            for i, j, (rows, cols_) in shifted_slices((kh, kw), out_hw, stride, dilation):
                dxp[:, rows, cols_] += dcols[:, i, j]
            ph, pw = padding
            grad_x = dxp[:, ph : ph + x_shape[2], pw : pw + x_shape[3]].transpose(3, 0, 1, 2)
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
