"""Helpers shared by the op modules: operand coercion, axis normalization, float inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.dtypes import as_array, get_default_dtype
from minigrad.tensor import Tensor

PYTHON_SCALARS = (int, float, bool)


def operands(x: Any, y: Any) -> tuple[Any, Any]:
    """Make the constant side of a binary op fit the tensor side.

    Python numbers stay as they are: NumPy treats them as weak, so ``float32 * 2.0`` stays
    float32. Arrays and NumPy scalars adopt the tensor's float dtype, so a float64 constant
    never silently upcasts a float32 model. Two non-tensors are both converted to tensors.
    """
    x_is, y_is = isinstance(x, Tensor), isinstance(y, Tensor)
    if x_is and y_is:
        return x, y
    if not x_is and not y_is:
        return Tensor(x), Tensor(y)
    if x_is:
        return x, _constant(y, x.data.dtype)
    return _constant(x, y.data.dtype), y


def _constant(value: Any, like: np.dtype) -> Any:
    if type(value) in PYTHON_SCALARS:
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot combine a tensor with data of dtype {array.dtype}")
    if like.kind == "f" and array.dtype != like:
        return array.astype(like)
    return array


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a new constant Tensor made from it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def as_float(x: np.ndarray) -> np.ndarray:
    """Integer input to a float function is computed in the default float dtype."""
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype())


def normalize_axis(axis: int | Sequence[int] | None, ndim: int, op: str) -> tuple[int, ...]:
    """Axes as a sorted tuple of non-negative ints (all axes for ``None``)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        # A 0-d tensor accepts axis 0 or -1, like PyTorch, and reduces over nothing.
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a {ndim}-d tensor")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def shape_error(op: str, *shapes: tuple[int, ...], detail: str = "") -> ValueError:
    """The ValueError for operands whose shapes do not fit, naming the op and every shape."""
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ValueError(f"{op}: shapes {listed} {detail or 'cannot be broadcast together'}")


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of a tensor, array or scalar operand."""
    return x.shape if isinstance(x, (Tensor, np.ndarray)) else np.shape(x)


__all__ = [
    "PYTHON_SCALARS",
    "as_array",
    "as_float",
    "as_tensor",
    "normalize_axis",
    "operands",
    "shape_error",
    "shape_of",
]
