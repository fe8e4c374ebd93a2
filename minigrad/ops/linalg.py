"""Matrix products: ``matmul`` with NumPy's semantics, and the fused affine map ``linear``."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops._common import operands, shape_error
from minigrad.tensor import Tensor


def _t(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes (a view; BLAS reads it without a copy)."""
    return a.swapaxes(-1, -2)


class MatMul(Function):
    """``z = x @ w`` with NumPy's rules for 1-D operands and broadcast batch axes.

    For matrices ``x (M, K)``, ``w (K, N)``, ``g (M, N)``:
    ``dx = g @ w.T  (M, K)``,  ``dw = x.T @ g  (K, N)``. A 1-D ``x`` is a row ``(1, K)`` and a
    1-D ``w`` a column ``(K, 1)`` whose inserted axis is dropped again; gradients for batch axes
    that were broadcast are summed by the engine.
    """

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        ctx.save(x, w)
        return np.matmul(x, w)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, w = ctx.saved
        need_x, need_w = ctx.needs_input_grad
        grad_x = grad_w = None
        if x.ndim == 1 and w.ndim == 1:
            grad_x = grad * w if need_x else None
            grad_w = grad * x if need_w else None
        elif x.ndim == 1:
            if need_x:
                grad_x = np.matmul(grad[..., None, :], _t(w))[..., 0, :]
            if need_w:
                grad_w = x[:, None] * grad[..., None, :]
        elif w.ndim == 1:
            if need_x:
                grad_x = grad[..., None] * w
            if need_w:
                grad_w = np.matmul(_t(x), grad[..., None])[..., 0]
        else:
            if need_x:
                grad_x = np.matmul(grad, _t(w))
            if need_w:
                if w.ndim == 2 and x.ndim > 2:
                    # Fold the batch axes into the rows: one GEMM instead of a (B, K, N) stack
                    # that the engine would then sum over B.
                    grad_w = x.reshape(-1, x.shape[-1]).T @ grad.reshape(-1, grad.shape[-1])
                else:
                    grad_w = np.matmul(_t(x), grad)
        return grad_x, grad_w


class Linear(Function):
    """``z = x @ w.T + b`` with ``x (..., I)``, ``w (O, I)``, ``b (O,)``: a fused
    matmul-and-bias (one node instead of three, and no extra pass for the bias).

    ``dx = g @ w  (..., I)``,  ``dw = g.T @ x  (O, I)`` summed over the leading axes,
    ``db = sum of g over all axes but the last  (O,)``.
    """

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        ctx.save(x, w)
        z = np.matmul(x, w.T)
        if b is not None:
            z += b
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, w = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, grad.shape[-1])
        grad_x = np.matmul(grad, w) if need_x else None
        grad_w = g2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        grad_b = g2.sum(axis=0) if need_b else None
        return grad_x, grad_w, grad_b


def _check_matmul(x: np.ndarray | Any, w: np.ndarray | Any) -> None:
    xs, ws = np.shape(x), np.shape(w)
    if not xs or not ws:
        raise shape_error("matmul", xs, ws, detail="include a 0-d operand (use * to scale)")
    k_w = ws[-2] if len(ws) > 1 else ws[0]
    if xs[-1] != k_w:
        raise shape_error(
            "matmul",
            xs,
            ws,
            detail=f"are not aligned: {xs[-1]} (last axis of the first) != {k_w} "
            f"({'second-to-last' if len(ws) > 1 else 'only'} axis of the second)",
        )
    if len(xs) > 2 and len(ws) > 2:
        try:
            np.broadcast_shapes(xs[:-2], ws[:-2])
        except ValueError:
            raise shape_error(
                "matmul", xs, ws, detail="have batch axes that do not broadcast"
            ) from None


def matmul(x: Any, w: Any) -> Tensor:
    """Matrix product ``x @ w`` (1-D, 2-D, or batched with broadcast batch axes).

    Example:
        >>> matmul(Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4)))).shape
        (2, 4)
    """
    x, w = operands(x, w)
    _check_matmul(x.data if isinstance(x, Tensor) else x, w.data if isinstance(w, Tensor) else w)
    return MatMul.apply(x, w)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """The affine map ``x @ weight.T + bias`` with PyTorch's layout: ``weight`` is (out, in).

    Example:
        >>> linear(Tensor(np.ones((5, 3))), Tensor(np.ones((2, 3))), Tensor(np.zeros(2))).shape
        (5, 2)
    """
    x, weight = operands(x, weight)
    ws, xs = np.shape(weight.data if isinstance(weight, Tensor) else weight), x.shape
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise shape_error("linear", xs, ws, detail="do not fit: need x (..., in), weight (out, in)")
    if bias is not None:
        bias = operands(bias, x)[0]
        if np.shape(bias.data if isinstance(bias, Tensor) else bias) != (ws[0],):
            raise shape_error("linear", np.shape(bias), ws, detail="do not fit: need bias (out,)")
    return Linear.apply(x, weight, bias)
