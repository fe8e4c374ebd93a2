"""2-D convolution (cross-correlation, as in every deep learning framework) through im2col.

The forward copies every receptive field into a column matrix (``im2col``), and the
convolution becomes one matrix product per group. The backward runs the same products
transposed, and returns the gradient of the columns to the input pixels they were copied from
(``col2im``, the adjoint of the copy: :func:`minigrad.ops.geometry.fold`).

This is the reference rule: plain NCHW arrays, as the math reads. ``minigrad/_kernels/conv.py``
holds the fast kernel for the same op (another memory layout, buffers reused), tested equal to
this one; ``minigrad.kernels.use`` chooses between them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function, Node
from minigrad.ops._common import as_tensor, promote
from minigrad.ops.geometry import Pair, Window, fold, output_size, pad, pair, window, windows
from minigrad.tensor import Tensor


class Conv2d(Function):
    """``z[n, o, p, q] = b[o] + sum_{c, i, j} w[o, c, i, j] * xp[n, c, p*s + i*d, q*s + j*d]``
    with ``xp`` the zero-padded input and ``c`` running over the group of channel ``o``.

    Per group, with the receptive fields as columns ``cols (K, L)`` (``K = C/G * KH * KW``
    rows, ``L = OH * OW`` columns per image), ``w`` as a ``(O/G, K)`` matrix and the upstream
    gradient ``g (O/G, L)``:

    - forward: ``z = w @ cols + b``;
    - ``dw = sum over images of g @ cols.T   (O/G, K)``;
    - ``db = sum of g over images and positions   (O,)``;
    - ``dcols = w.T @ g   (K, L)``, and ``dx`` adds each entry of ``dcols`` to the input pixel
      its column entry was copied from (``col2im``).
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
        n = x.shape[0]
        o, cg, kh, kw = w.shape
        win = window(x.shape, (kh, kw), stride, padding, dilation)
        oh, ow = win.out_hw
        # im2col: cols[n, g, (c, i, j), (p, q)] = xp[n, g * C/G + c, p*sh + i*dh, q*sw + j*dw]
        fields = windows(pad(x, padding), win)  # (N, C, OH, OW, KH, KW)
        cols = fields.transpose(0, 1, 4, 5, 2, 3).reshape(n, groups, cg * kh * kw, oh * ow)
        z = w.reshape(groups, o // groups, -1) @ cols  # (N, G, O/G, OH*OW)
        z = z.reshape(n, o, oh, ow)
        if b is not None:
            z += b.reshape(o, 1, 1)
        ctx.window, ctx.groups = win, groups
        ctx.save(cols, w)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        cols, w = ctx.saved
        win: Window = ctx.window
        need_x, need_w, need_b = ctx.needs_input_grad
        n, c = win.in_shape[:2]
        o, _, kh, kw = w.shape
        oh, ow = win.out_hw
        g = grad.reshape(n, ctx.groups, o // ctx.groups, oh * ow)
        grad_x = grad_w = grad_b = None
        if need_w:
            grad_w = np.einsum("ngol,ngkl->gok", g, cols).reshape(w.shape)
        if need_b:
            grad_b = grad.sum(axis=(0, 2, 3))
        if need_x:
            dcols = w.reshape(ctx.groups, o // ctx.groups, -1).swapaxes(1, 2) @ g  # (N, G, K, L)
            per_window = dcols.reshape(n, c, kh, kw, oh, ow).transpose(0, 1, 4, 5, 2, 3)
            grad_x = fold(per_window, win)  # col2im
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
    x, weight = promote(as_tensor(x), as_tensor(weight))  # int64 images meet float weights
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
    return kernels.pick(Conv2d).apply(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=int(groups)
    )
