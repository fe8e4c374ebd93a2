"""Ops that move data without arithmetic: reshape, transpose, broadcast, cast, index, join, pad.

Their gradients move the upstream gradient back the same way, so most rules are one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops._common import (
    as_tensor,
    axis_int,
    normalize_axis,
    promote,
    shape_error,
    torch_axis,
)
from minigrad.tensor import Tensor


class Reshape(Function):
    """``z = x`` viewed with a new shape.   ``dx = g`` reshaped back to ``x``'s shape."""

    returns_view = True

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(ctx.in_shape)


class Transpose(Function):
    """``z = x`` with axes permuted by ``p``.   ``dx = g`` permuted by the inverse of ``p``."""

    returns_view = True

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        ctx.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return grad.transpose(ctx.inverse)


class BroadcastTo(Function):
    """``z = x`` repeated along broadcast axes.   ``dx = g`` (the engine sums the copies)."""

    returns_view = True

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return grad


class AsType(Function):
    """``z = x`` cast to another dtype.   ``dx = g`` (the engine casts it back)."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return grad


class GetItem(Function):
    """``z = x[index]``.   ``dx`` is zero except at the selected places, which receive ``g``.

    With integer-array indices a place can be selected more than once; ``np.add.at`` then adds
    every copy's gradient (plain assignment would keep only the last).
    """

    returns_view = True

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, index: Any, advanced: bool) -> np.ndarray:
        ctx.index, ctx.advanced, ctx.in_shape = index, advanced, x.shape
        return x[index]

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        grad_x = np.zeros(ctx.in_shape, dtype=grad.dtype)
        if ctx.advanced:
            np.add.at(grad_x, ctx.index, grad)
        else:
            grad_x[ctx.index] = grad
        return grad_x


class Concat(Function):
    """``z = [x_1, ..., x_k]`` joined along ``axis``.   ``dx_i`` = the slice of ``g`` where
    ``x_i`` went."""

    @staticmethod
    def forward(ctx: Node, *xs: np.ndarray, axis: int) -> np.ndarray:
        ctx.axis = axis
        ctx.splits = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        parts = np.split(grad, ctx.splits, axis=ctx.axis)
        return tuple(
            p if need else None for p, need in zip(parts, ctx.needs_input_grad, strict=True)
        )


class Stack(Function):
    """``z = [x_1, ..., x_k]`` stacked along a new ``axis``.   ``dx_i = g`` taken at ``i``."""

    @staticmethod
    def forward(ctx: Node, *xs: np.ndarray, axis: int) -> np.ndarray:
        ctx.axis = axis
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        parts = np.moveaxis(grad, ctx.axis, 0)
        return tuple(
            p if need else None for p, need in zip(parts, ctx.needs_input_grad, strict=True)
        )


class Pad(Function):
    """``z = x`` surrounded by a constant.   ``dx`` = the inner block of ``g``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, pad_width: np.ndarray, value: float) -> np.ndarray:
        ctx.inner = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape, strict=True))
        return np.pad(x, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return grad[ctx.inner]


# ---------------------------------------------------------------------------------------------
# wrappers
# ---------------------------------------------------------------------------------------------
def reshape(x: Any, shape: int | Sequence[int]) -> Tensor:
    """``x`` with a new shape (one entry may be -1).

    Example:
        >>> reshape(Tensor([1.0, 2.0, 3.0, 4.0]), (2, -1)).shape
        (2, 2)
    """
    x = as_tensor(x)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
            f"into shape {shape}"
        ) from None


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes of ``x`` (reverse them by default).

    Example:
        >>> transpose(Tensor(np.zeros((2, 3, 4))), (2, 0, 1)).shape
        (4, 2, 3)
    """
    x = as_tensor(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    else:
        axes = tuple(int(a) % max(x.ndim, 1) for a in axes)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {x.ndim} axes")
    return Transpose.apply(x, axes=axes)


def flatten(
    x: Any,
    start_axis: int | None = None,
    end_axis: int | None = None,
    *,
    start_dim: int | None = None,
    end_dim: int | None = None,
) -> Tensor:
    """Merge the axes ``start_axis`` (0 by default) to ``end_axis`` (-1, inclusive) into one;
    PyTorch's ``start_dim`` and ``end_dim`` are accepted too.

    Both axes must exist (a 0-d tensor counts as having one axis and becomes 1-d) and
    ``start_axis`` must not come after ``end_axis``, as in PyTorch.

    Example:
        >>> flatten(Tensor(np.zeros((2, 3, 4))), 1).shape
        (2, 12)
    """
    x = as_tensor(x)
    start_axis = torch_axis("flatten", start_axis, start_dim, ("start_axis", "start_dim"))
    end_axis = torch_axis("flatten", end_axis, end_dim, ("end_axis", "end_dim"))
    start, end = (
        _existing_axis(a, x.ndim, "flatten", name)
        for a, name in (
            (0 if start_axis is None else start_axis, "start_axis"),
            (-1 if end_axis is None else end_axis, "end_axis"),
        )
    )
    if start > end:
        raise ValueError(
            f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
            f"for a {x.ndim}-d tensor"
        )
    if x.ndim == 0:
        return reshape(x, (1,))
    return reshape(x, (*x.shape[:start], -1, *x.shape[end + 1 :]))


def _existing_axis(axis: Any, ndim: int, op: str, name: str = "axis", extra: int = 0) -> int:
    """``axis`` (negative from the end) as an index in ``range(ndim + extra)``, else an error;
    a 0-d tensor has one axis, as in PyTorch. ``extra=1`` allows the axis after the last."""
    axis = axis_int(axis, op, name)
    n = max(ndim, 1) if extra == 0 else ndim + extra
    if not -n <= axis < n:
        raise ValueError(f"{op}: {name} {axis} is out of range for a {ndim}-d tensor")
    return axis % n


def squeeze(
    x: Any, axis: int | Sequence[int] | None = None, *, dim: int | Sequence[int] | None = None
) -> Tensor:
    """Remove size-1 axes (all of them, or those in ``axis``, which must have size 1).

    Example:
        >>> squeeze(Tensor(np.zeros((1, 3, 1)))).shape
        (3,)
    """
    x = as_tensor(x)
    axis = torch_axis("squeeze", axis, dim)
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalize_axis(axis, x.ndim, "squeeze")
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {x.shape} does not have size 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Insert a size-1 axis at ``axis`` (negative counts from the end of the result).

    Example:
        >>> unsqueeze(Tensor(np.zeros(3)), 0).shape
        (1, 3)
    """
    x = as_tensor(x)
    axis = torch_axis("unsqueeze", axis, dim)
    if axis is None:
        raise TypeError("unsqueeze: give the axis (axis= or dim=)")
    axis = _existing_axis(axis, x.ndim, "unsqueeze", extra=1)
    return reshape(x, (*x.shape[:axis], 1, *x.shape[axis:]))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` without copying.

    Example:
        >>> broadcast_to(Tensor([1.0, 2.0]), (3, 2)).shape
        (3, 2)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        return BroadcastTo.apply(x, shape=shape)
    except ValueError:
        raise shape_error("broadcast_to", x.shape, shape) from None


def astype(x: Any, dtype: Any) -> Tensor:
    """``x`` cast to ``dtype``; the gradient comes back in ``x``'s dtype.

    Example:
        >>> astype(Tensor([1.7]), "int64").tolist()
        [1]
    """
    return AsType.apply(as_tensor(x), dtype=np.dtype(dtype))


def _index(index: Any) -> tuple[Any, bool]:
    """Convert Tensors and lists in an index to arrays; report whether it is advanced."""
    parts = index if isinstance(index, tuple) else (index,)
    converted, advanced = [], False
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        elif isinstance(part, list):
            part = np.asarray(part)
        if isinstance(part, np.ndarray):
            if part.dtype.kind not in "biu":
                raise IndexError(
                    f"getitem: index arrays must be integer or boolean, not {part.dtype}"
                )
            advanced = advanced or part.dtype.kind != "b"
        converted.append(part)
    return (tuple(converted) if isinstance(index, tuple) else converted[0]), advanced


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: basic slicing, integer arrays (repeats accumulate), boolean masks.

    Example:
        >>> getitem(Tensor([1.0, 2.0, 3.0]), [0, 0, 2]).tolist()
        [1.0, 1.0, 3.0]
    """
    index, advanced = _index(index)
    return GetItem.apply(as_tensor(x), index=index, advanced=advanced)


def concat(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (``axis`` or PyTorch's ``dim``); integer tensors
    joined with float ones take their float dtype.

    Example:
        >>> concat([Tensor(np.zeros((2, 3))), Tensor(np.ones((1, 3)))]).shape
        (3, 3)
    """
    axis = torch_axis("concat", axis, dim) or 0
    tensors = promote(*(as_tensor(t) for t in tensors))
    if not tensors:
        raise ValueError("concat: need at least one tensor")
    axis = _existing_axis(axis, min(t.ndim for t in tensors), "concat")
    try:
        return Concat.apply(*tensors, axis=axis)
    except ValueError:
        raise shape_error(
            "concat", *(t.shape for t in tensors), detail=f"do not match outside axis {axis}"
        ) from None


def stack(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis (``axis`` or PyTorch's ``dim``); integer
    tensors joined with float ones take their float dtype.

    Example:
        >>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])], axis=1).tolist()
        [[1.0, 3.0], [2.0, 4.0]]
    """
    axis = torch_axis("stack", axis, dim) or 0
    tensors = promote(*(as_tensor(t) for t in tensors))
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    if len({t.shape for t in tensors}) > 1:
        raise shape_error("stack", *(t.shape for t in tensors), detail="differ")
    return Stack.apply(*tensors, axis=_existing_axis(axis, tensors[0].ndim, "stack", extra=1))


def pad(x: Any, pad_width: Any, value: float = 0) -> Tensor:
    """Pad with a constant; ``pad_width`` follows ``np.pad`` (an int, ``(before, after)``, or
    one pair per axis).

    Example:
        >>> pad(Tensor([[1.0]]), 1).tolist()
        [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    x = as_tensor(x)
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape}"
        ) from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    return Pad.apply(x, pad_width=widths.tolist(), value=value)
