"""Losses: softmax cross-entropy (fused), negative log-likelihood, squared error, and binary
cross-entropy on logits. ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops._common import as_float, as_tensor, operands
from minigrad.ops.activation import expit
from minigrad.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _scale(grad: np.ndarray, reduction: str, n: int) -> np.ndarray:
    """The upstream gradient of each per-element loss."""
    return grad / n if reduction == "mean" else grad


def check_targets(target: Any, logits_shape: tuple[int, ...], op: str) -> np.ndarray:
    """Class targets as an int64 array of shape (N,), every label in ``0..C-1``."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integer class indices, got dtype {t.dtype}")
    if len(logits_shape) != 2:
        raise ValueError(f"{op}: expected scores of shape (N, C), got {logits_shape}")
    n, classes = logits_shape
    if t.shape != (n,):
        raise ValueError(
            f"{op}: scores have shape {logits_shape} but targets have shape "
            f"{t.shape}; expected ({n},)"
        )
    bad = np.flatnonzero((t < 0) | (t >= classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{op}: label {int(t[i])} at index {i} is out of range for {classes} classes "
            f"(labels must be in 0..{classes - 1})"
        )
    return t.astype(np.int64, copy=False)


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


class CrossEntropy(Function):
    """``l_n = log sum_c exp(x_nc) - x_n,t_n`` for logits ``x (N, C)`` and labels ``t (N,)``.

    Fused: the forward is a shifted log-sum-exp, and the backward collapses to
    ``dx = (softmax(x) - onehot(t)) * g_n`` (divided by ``N`` for the mean).
    """

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
        x = as_float(x)
        rows = np.arange(len(x))
        shifted = x - x.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        total = p.sum(axis=1, keepdims=True)
        losses = np.log(total[:, 0]) - shifted[rows, target]
        p /= total  # p now holds softmax(x)
        ctx.reduction = reduction
        ctx.save(p, target)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        p, target = ctx.saved
        scale = _scale(grad, ctx.reduction, len(p))
        if ctx.reduction == "none":
            scale = scale[:, None]
        grad_x = p * scale
        grad_x[np.arange(len(p)), target] -= scale if scale.ndim == 0 else scale[:, 0]
        return grad_x, None


class NLLLoss(Function):
    """``l_n = -x_n,t_n`` for log-probabilities ``x (N, C)``.   ``dx_nc = -g_n [c = t_n]``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
        ctx.reduction, ctx.in_shape = reduction, x.shape
        ctx.save(target)
        return _reduce(-x[np.arange(len(x)), target], reduction)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        (target,) = ctx.saved
        grad_x = np.zeros(ctx.in_shape, dtype=grad.dtype)
        grad_x[np.arange(len(target)), target] = -_scale(grad, ctx.reduction, len(target))
        return grad_x, None


class MSELoss(Function):
    """``l = (x - y)**2`` elementwise.   ``dx = 2 (x - y) g``,  ``dy = -dx``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray, reduction: str) -> np.ndarray:
        diff = x - y
        ctx.reduction = reduction
        ctx.save(diff)
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        (diff,) = ctx.saved
        grad_x = diff * (2 * _scale(grad, ctx.reduction, diff.size))
        need_x, need_y = ctx.needs_input_grad
        return grad_x if need_x else None, -grad_x if need_y else None


class BCEWithLogits(Function):
    """``l = log(1 + exp(x)) - x y``, computed as ``max(x, 0) - x y + log1p(exp(-|x|))`` so
    that no exponential overflows.   ``dx = (sigmoid(x) - y) g``,  ``dy = -x g``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray, reduction: str) -> np.ndarray:
        x = as_float(x)
        losses = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        ctx.reduction = reduction
        ctx.save(x, y)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, y = ctx.saved
        scale = _scale(grad, ctx.reduction, x.size)
        need_x, need_y = ctx.needs_input_grad
        return (
            (expit(x) - y) * scale if need_x else None,
            -x * scale if need_y else None,
        )


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy between logits (N, C) and integer class targets (N,).

    Example:
        >>> round(cross_entropy(Tensor([[0.0, 0.0]]), [1]).item(), 4)
        0.6931
    """
    logits = as_tensor(logits)
    _check_reduction(reduction, "cross_entropy")
    target = check_targets(target, logits.shape, "cross_entropy")
    return CrossEntropy.apply(logits, target, reduction=reduction)


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer targets (N,) under log-probabilities (N, C).

    Example:
        >>> nll_loss(Tensor([[-1.0, -2.0]]), [1]).item()
        2.0
    """
    log_probs = as_tensor(log_probs)
    _check_reduction(reduction, "nll_loss")
    target = check_targets(target, log_probs.shape, "nll_loss")
    return NLLLoss.apply(log_probs, target, reduction=reduction)


def _paired(op: str, x: Any, y: Any, reduction: str) -> tuple[Any, Any]:
    _check_reduction(reduction, op)
    x, y = operands(as_tensor(x), y)
    x_shape, y_shape = np.shape(x.data), np.shape(y.data if isinstance(y, Tensor) else y)
    if x_shape != y_shape:
        raise ValueError(
            f"{op}: input shape {x_shape} and target shape {y_shape} differ (broadcasting "
            "them is almost always a bug; reshape one of them)"
        )
    return x, y


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)**2``, averaged by default.

    Example:
        >>> mse_loss(Tensor([1.0, 3.0]), Tensor([1.0, 1.0])).item()
        2.0
    """
    x, y = _paired("mse_loss", input, target, reduction)
    return MSELoss.apply(x, y, reduction=reduction)


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of targets in [0, 1] under ``sigmoid(logits)``, computed stably.

    Example:
        >>> round(binary_cross_entropy_with_logits(Tensor([0.0]), Tensor([1.0])).item(), 4)
        0.6931
    """
    x, y = _paired("binary_cross_entropy_with_logits", logits, target, reduction)
    return BCEWithLogits.apply(x, y, reduction=reduction)
