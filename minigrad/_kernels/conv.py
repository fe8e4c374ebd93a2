"""Fast conv2d: im2col on batch-last images, the bias inside the matrix products.

Same op, same results as :class:`minigrad.ops.conv.Conv2d` (tested equal); what differs is how
memory is used:

- images are stored batch-last (see :mod:`minigrad._kernels.layout`), so the column matrix is
  one copy of a strided view, its columns ordered ``(OH, OW, N)``, and ``w @ cols`` comes out
  already in the output's layout;
- the bias rides in the matrix products: ``cols`` gets a row of ones and ``w`` a column holding
  ``b``, so the forward needs no pass to add it, and ``db`` comes out of the same product as
  ``dw``;
- col2im adds ``KH * KW`` shifted slices of ``dcols`` into the padded input gradient, each slice
  a run of long contiguous rows;
- large arrays come from the workspace cache.
"""

from __future__ import annotations

import numpy as np

from minigrad._kernels import layout, workspace
from minigrad.autograd import Node
from minigrad.kernels import fast_kernel
from minigrad.ops import conv as reference
from minigrad.ops.geometry import Window, window


@fast_kernel(reference.Conv2d)
class Conv2d(reference.Conv2d):
    """Fast kernel of :class:`minigrad.ops.conv.Conv2d` (see the module docstring)."""

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
        k, length = cg * kh * kw, win.out_hw[0] * win.out_hw[1] * n
        xp = layout.padded(x, padding)
        view = layout.windows(xp, (kh, kw), win.out_hw, stride, dilation)
        bias_row = b is not None
        cols = workspace.empty((groups, k + bias_row, length), x.dtype)
        np.copyto(
            cols[:, :k].reshape(groups, cg, kh, kw, *win.out_hw, n),
            view.reshape(groups, cg, kh, kw, *win.out_hw, n),
        )
        w_rows = w.reshape(groups, o // groups, k)
        if bias_row:
            cols[:, k] = 1
            w_rows = np.concatenate([w_rows, b.reshape(groups, o // groups, 1)], axis=2)
        z = workspace.empty((groups, o // groups, length), np.result_type(x, w))
        np.matmul(w_rows, cols, out=z)
        ctx.window, ctx.groups = win, groups
        # the columns are needed only for the weight's (and bias's) gradient
        ctx.save(cols if ctx.needs_input_grad[1] or ctx.needs_input_grad[2] else None, w)
        return z.reshape(o, *win.out_hw, n).transpose(3, 0, 1, 2)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        cols, w = ctx.saved
        win: Window = ctx.window
        groups = ctx.groups
        need_x, need_w, need_b = ctx.needs_input_grad
        o, cg, kh, kw = w.shape
        k = cg * kh * kw
        # (O, OH, OW, N) rows: a free view of a batch-last gradient
        g = layout.aligned(grad, layout.BATCH_LAST, contiguous=True).transpose(1, 2, 3, 0)
        g = g.reshape(groups, o // groups, -1)
        grad_w = grad_b = grad_x = None
        if need_w or need_b:
            both = np.matmul(g, cols.transpose(0, 2, 1))  # (G, O/G, K [+ 1 for the bias])
            grad_w = both[:, :, :k].reshape(w.shape) if need_w else None
            grad_b = both[:, :, k].reshape(o) if need_b else None
        if need_x:
            n, c, h, wd = win.in_shape
            (ph, pw), out_hw = win.padding, win.out_hw
            dcols = workspace.empty((groups, k, g.shape[2]), g.dtype)
            np.matmul(w.reshape(groups, o // groups, k).transpose(0, 2, 1), g, out=dcols)
            dcols = dcols.reshape(c, kh, kw, *out_hw, n)
            dxp = workspace.zeros((c, h + 2 * ph, wd + 2 * pw, n), grad.dtype)  # batch-last
            for i, j, rows, cols_ in layout.shifted_slices(
                (kh, kw), out_hw, win.stride, win.dilation
            ):
                dxp[:, rows, cols_] += dcols[:, i, j]
            grad_x = dxp[:, ph : ph + h, pw : pw + wd].transpose(3, 0, 1, 2)
        return grad_x, grad_w, grad_b
