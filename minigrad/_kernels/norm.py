"""Fast batch normalization on one contiguous ``(C, M)`` row per channel.

Same op, same results as :class:`minigrad.ops.norm.BatchNorm` (tested equal). An ``(N, C, ...)``
input stored batch-last is, in memory, ``(C, ..., N)``: one contiguous row of ``M`` values per
channel, so every pass below is a straight sweep, and the per-channel sums of products are one
BLAS dot each. ``xhat`` is never stored: the rule keeps ``x - mu`` and ``1 / sqrt(var + eps)``.
"""

from __future__ import annotations

import numpy as np

from minigrad._kernels import layout, workspace
from minigrad.autograd import Node
from minigrad.kernels import fast_kernel
from minigrad.ops import norm as reference


def rows(x: np.ndarray) -> np.ndarray:
    """``x (N, C, ...)`` as its ``(C, M)`` rows: free when ``x`` is stored batch-last."""
    moved = np.moveaxis(layout.aligned(x, layout.batch_last_order(x.ndim), contiguous=True), 0, -1)
    return moved.reshape(len(moved), -1)


def as_input(buffer: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``(C, M)`` rows seen as the batch-last ``(N, C, ...)`` array of ``shape`` they hold."""
    return np.moveaxis(buffer.reshape(*shape[1:], shape[0]), -1, 0)


def row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_m a[c, m] * b[c, m]`` for each row ``c``, as one BLAS dot per row: faster than
    ``einsum`` and, with its blocked accumulation, about ten times more accurate in float32."""
    return np.matmul(a[:, None, :], b[:, :, None])[:, 0, 0]


@fast_kernel(reference.BatchNorm)
class BatchNorm(reference.BatchNorm):
    """Fast kernel of :class:`minigrad.ops.norm.BatchNorm` (see the module docstring)."""

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        gamma: np.ndarray | None,
        beta: np.ndarray | None,
        running_mean: np.ndarray | None,
        running_var: np.ndarray | None,
        training: bool,
        momentum: float,
        eps: float,
    ) -> np.ndarray:
        xr = rows(x)  # (C, M)
        m = xr.shape[1]
        centered = workspace.empty(xr.shape, x.dtype)
        if training:
            mu = xr.mean(axis=1)
            np.subtract(xr, mu[:, None], out=centered)
            var = row_dots(centered, centered) / m  # two passes: no cancellation
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mu
                running_var *= 1 - momentum
                running_var += (momentum * m / max(m - 1, 1)) * var
        else:
            mu, var = running_mean, running_var
            np.subtract(xr, mu[:, None], out=centered)
        inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = inv_std if gamma is None else gamma * inv_std
        y = np.multiply(centered, scale[:, None], out=workspace.empty(xr.shape, x.dtype))
        if beta is not None:
            y += beta[:, None]
        ctx.training = training
        ctx.save(centered, inv_std, gamma)
        return as_input(y, x.shape)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        centered, inv_std, gamma = ctx.saved
        need_x, need_gamma, need_beta = ctx.needs_input_grad[:3]
        g = rows(grad)
        dbeta = g.sum(axis=1)
        dgamma = row_dots(g, centered) * inv_std  # sum g * xhat
        grad_x = None
        if need_x:
            scale = inv_std if gamma is None else gamma * inv_std
            dx = np.multiply(g, scale[:, None], out=workspace.empty(g.shape, g.dtype))
            if ctx.training:
                m = g.shape[1]
                # dx = scale * (g - dbeta/m - xhat * dgamma/m), xhat = centered * inv_std
                dx -= centered * (scale * inv_std * dgamma / m)[:, None]
                dx -= (scale * dbeta / m)[:, None]
            grad_x = as_input(dx, grad.shape)
        return grad_x, dgamma if need_gamma else None, dbeta if need_beta else None, None, None
