"""Comparisons, argmax and argmin: results that carry no gradient (no graph is recorded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.ops._common import (
    as_tensor,
    axis_int,
    operands,
    shape_error,
    shape_of,
    torch_axis,
    torch_keepdims,
)
from minigrad.tensor import Tensor


def _compare(ufunc: Callable, op: str, x: Any, y: Any) -> Tensor:
    x, y = operands(x, y)
    a = x.data if isinstance(x, Tensor) else x
    b = y.data if isinstance(y, Tensor) else y
    try:
        return Tensor._wrap(np.asarray(ufunc(a, b)), None)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise shape_error(op, shape_of(x), shape_of(y)) from None


def less(x: Any, y: Any) -> Tensor:
    """``x < y`` as a boolean tensor.

    Example:
        >>> less(Tensor([1.0, 3.0]), 2).tolist()
        [True, False]
    """
    return _compare(np.less, "less", x, y)


def less_equal(x: Any, y: Any) -> Tensor:
    """``x <= y`` as a boolean tensor.

    Example:
        >>> less_equal(Tensor([2.0]), 2).tolist()
        [True]
    """
    return _compare(np.less_equal, "less_equal", x, y)


def greater(x: Any, y: Any) -> Tensor:
    """``x > y`` as a boolean tensor.

    Example:
        >>> greater(Tensor([1.0, 3.0]), 2).tolist()
        [False, True]
    """
    return _compare(np.greater, "greater", x, y)


def greater_equal(x: Any, y: Any) -> Tensor:
    """``x >= y`` as a boolean tensor.

    Example:
        >>> greater_equal(Tensor([2.0]), 2).tolist()
        [True]
    """
    return _compare(np.greater_equal, "greater_equal", x, y)


def equal(x: Any, y: Any) -> Tensor:
    """``x == y`` as a boolean tensor.

    Example:
        >>> equal(Tensor([1, 2]), Tensor([1, 3])).tolist()
        [True, False]
    """
    return _compare(np.equal, "equal", x, y)


def not_equal(x: Any, y: Any) -> Tensor:
    """``x != y`` as a boolean tensor.

    Example:
        >>> not_equal(Tensor([1, 2]), 2).tolist()
        [True, False]
    """
    return _compare(np.not_equal, "not_equal", x, y)


def logical_and(x: Any, y: Any) -> Tensor:
    """Elementwise ``x & y`` of boolean (or integer) tensors.

    Example:
        >>> logical_and(Tensor([True, True]), Tensor([True, False])).tolist()
        [True, False]
    """
    return _compare(np.bitwise_and, "and", x, y)


def logical_or(x: Any, y: Any) -> Tensor:
    """Elementwise ``x | y`` of boolean (or integer) tensors.

    Example:
        >>> logical_or(Tensor([True, False]), Tensor([False, False])).tolist()
        [True, False]
    """
    return _compare(np.bitwise_or, "or", x, y)


def logical_xor(x: Any, y: Any) -> Tensor:
    """Elementwise ``x ^ y`` of boolean (or integer) tensors.

    Example:
        >>> logical_xor(Tensor([True, True]), Tensor([True, False])).tolist()
        [False, True]
    """
    return _compare(np.bitwise_xor, "xor", x, y)


def logical_not(x: Any) -> Tensor:
    """Elementwise ``~x`` of a boolean (or integer) tensor.

    Example:
        >>> logical_not(Tensor([True, False])).tolist()
        [False, True]
    """
    data = as_tensor(x).data
    if data.dtype.kind not in "biu":
        raise TypeError(f"~ needs a boolean or integer tensor, got dtype {data.dtype}")
    return Tensor._wrap(np.asarray(np.invert(data)), None)


def argmax(
    x: Any,
    axis: int | None = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Index of the first maximum along ``axis`` (or ``dim``; of the flattened tensor by
    default), as int64.

    Example:
        >>> argmax(Tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1).tolist()
        [1, 0]
    """
    return _position(np.argmax, x, axis, keepdims, dim, keepdim)


def argmin(
    x: Any,
    axis: int | None = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Index of the first minimum along ``axis`` (or ``dim``; of the flattened tensor by
    default), as int64.

    Example:
        >>> argmin(Tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1).tolist()
        [0, 1]
    """
    return _position(np.argmin, x, axis, keepdims, dim, keepdim)


def _position(find: Any, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Tensor:
    """``find`` (``np.argmax`` or ``np.argmin``) of ``x`` along a NumPy or PyTorch axis."""
    name = find.__name__
    axis = torch_axis(name, axis, dim)
    keepdims = torch_keepdims(name, keepdims, keepdim)
    if axis is not None:
        axis = axis_int(axis, name)
    return Tensor._wrap(np.asarray(find(as_tensor(x).data, axis, keepdims=keepdims)), None)
