"""Reductions over one axis, several, or all: sum, mean, var, max, min, logsumexp.

Each rule first restores the reduced axes as size 1 (``keepdims``), so the upstream gradient
broadcasts against the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.dtypes import is_int
from minigrad.ops._common import as_float, as_tensor, normalize_axis, torch_axis, torch_keepdims
from minigrad.tensor import Tensor

Axis = int | Sequence[int] | None


def _kept(grad: np.ndarray, ctx: Node) -> np.ndarray:
    """The upstream gradient with the reduced axes put back as size 1."""
    return grad if ctx.keepdims else np.expand_dims(grad, ctx.axes)


def _dropped(z: np.ndarray, ctx: Node) -> np.ndarray:
    """A result computed with ``keepdims=True``, with the reduced axes removed unless kept."""
    if ctx.keepdims:
        return z
    return z.reshape([n for i, n in enumerate(z.shape) if i not in ctx.axes])


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


class Sum(Function):
    """``z = sum_A x``.   ``dx = g`` broadcast back over the reduced axes ``A``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
        ctx.axes, ctx.keepdims, ctx.in_shape = axes, keepdims, x.shape
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return np.broadcast_to(_kept(grad, ctx), ctx.in_shape)


class Mean(Function):
    """``z = sum_A x / n`` with ``n`` the number of elements reduced.   ``dx = g / n``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
        ctx.axes, ctx.keepdims, ctx.in_shape = axes, keepdims, x.shape
        ctx.n = _count(x.shape, axes)
        return as_float(x).mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return np.broadcast_to(_kept(grad, ctx) / ctx.n, ctx.in_shape)


class Var(Function):
    """``z = sum_A (x - mean_A x)**2 / (n - ddof)``.   ``dx = g * 2 (x - mean) / (n - ddof)``.

    The mean's own dependence on ``x`` drops out because ``sum_A (x - mean) = 0``.
    """

    @staticmethod
    def forward(
        ctx: Node, x: np.ndarray, axes: tuple[int, ...], keepdims: bool, ddof: int
    ) -> np.ndarray:
        x = as_float(x)
        ctx.axes, ctx.keepdims = axes, keepdims
        n = _count(x.shape, axes)
        if ddof >= n:
            raise ValueError(
                f"var: ddof={ddof} needs more than {ddof} elements in each reduction, but "
                f"reducing shape {x.shape} over axes {axes} takes {n}"
            )
        ctx.scale = 2.0 / (n - ddof)
        ctx.save(x)
        return x.var(axis=axes, keepdims=keepdims, ddof=ddof)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        centered = x - x.mean(axis=ctx.axes, keepdims=True)
        return _kept(grad, ctx) * (centered * x.dtype.type(ctx.scale))


class Extreme(Function):
    """``z = max_A x`` (or ``min_A x``).   ``dx = g * [x == z] / (number of ties)``: tied
    extremes share the gradient equally."""

    @staticmethod
    def forward(
        ctx: Node, x: np.ndarray, axes: tuple[int, ...], keepdims: bool, largest: bool
    ) -> np.ndarray:
        if x.size == 0:
            raise ValueError(f"{'max' if largest else 'min'}: cannot reduce an empty tensor")
        z = (x.max if largest else x.min)(axis=axes, keepdims=True)
        ctx.axes, ctx.keepdims = axes, keepdims
        ctx.save(x, z)
        return _dropped(z, ctx)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        x, z = ctx.saved
        hit = x == z
        ties = hit.sum(axis=ctx.axes, keepdims=True)
        return hit * (_kept(grad, ctx) / ties)


class LogSumExp(Function):
    """``z = log sum_A exp(x)``, computed as ``m + log sum_A exp(x - m)`` with ``m = max_A x``.
    ``dx = g * exp(x - z)`` (the softmax over ``A``)."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
        x = as_float(x)
        m = x.max(axis=axes, keepdims=True)
        # An all -inf slice would give -inf - -inf = nan; shifting by 0 there is exact.
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
        z = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.axes, ctx.keepdims = axes, keepdims
        ctx.save(x, z)
        return _dropped(z, ctx)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        x, z = ctx.saved
        return _kept(grad, ctx) * np.exp(x - z)


def _reduce(
    fn: type[Function],
    op: str,
    x: Any,
    axis: Axis,
    keepdims: bool,
    dim: Axis = None,
    keepdim: bool | None = None,
    **attrs,
) -> Tensor:
    x = as_tensor(x)
    axes = normalize_axis(torch_axis(op, axis, dim), x.ndim, op)
    keepdims = torch_keepdims(op, keepdims, keepdim)
    return fn.apply(x, axes=axes, keepdims=keepdims, **attrs)


def reduce_sum(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Sum over ``axis`` (an int, a tuple, or None for all).

    Example:
        >>> reduce_sum(Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
        [4.0, 6.0]
    """
    return _reduce(Sum, "sum", x, axis, keepdims, dim, keepdim)


def mean(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Mean over ``axis``.

    Example:
        >>> mean(Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1).tolist()
        [1.5, 3.5]
    """
    return _reduce(Mean, "mean", x, axis, keepdims, dim, keepdim)


def var(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    ddof: int = 0,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Variance over ``axis``; biased (divides by n) unless ``ddof`` is given.

    ``ddof`` is an int from 0 to n - 1, for n elements per reduction (it divides by n - ddof).

    Example:
        >>> var(Tensor([1.0, 3.0])).item()
        1.0
    """
    if not is_int(ddof) or ddof < 0:
        raise ValueError(f"var: ddof must be an int >= 0, got {ddof!r}")
    return _reduce(Var, "var", x, axis, keepdims, dim, keepdim, ddof=ddof)


def reduce_max(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient equally.

    Example:
        >>> reduce_max(Tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1).tolist()
        [5.0, 7.0]
    """
    return _reduce(Extreme, "max", x, axis, keepdims, dim, keepdim, largest=True)


def reduce_min(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Minimum over ``axis``; tied minima share the gradient equally.

    Example:
        >>> reduce_min(Tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1).tolist()
        [1.0, 2.0]
    """
    return _reduce(Extreme, "min", x, axis, keepdims, dim, keepdim, largest=False)


def logsumexp(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: bool | None = None,
) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, stable for large inputs.

    Example:
        >>> round(logsumexp(Tensor([1000.0, 1000.0], dtype="float64")).item(), 4)
        1000.6931
    """
    return _reduce(LogSumExp, "logsumexp", x, axis, keepdims, dim, keepdim)
