"""Helpers shared by the op modules: operand coercion, axis normalization, float inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.dtypes import as_array, float_result, get_default_dtype, is_int
from minigrad.tensor import Tensor

PYTHON_SCALARS = (int, float, bool)


def promote(*tensors: Tensor | None) -> list[Tensor | None]:
    """The tensors with every integer or boolean one cast to the float dtype of the others
    (PyTorch's rule: an integer tensor meeting a float tensor takes that float dtype), so
    int64 data fed to a float32 model computes in float32. Integers carry no gradient, so the
    cast records nothing. ``None`` entries pass through.

    Example:
        >>> [t.dtype for t in promote(Tensor([1, 2]), Tensor([0.5, 1.0]))]
        [dtype('float32'), dtype('float32')]
    """
    present = [t for t in tensors if t is not None]
    if all(t.data.dtype.kind == "f" for t in present) or not any(
        t.data.dtype.kind == "f" for t in present
    ):
        return list(tensors)
    target = float_result(*(t.data.dtype for t in present))
    return [
        t if t is None or t.data.dtype.kind == "f" else Tensor._wrap(t.data.astype(target), None)
        for t in tensors
    ]


def operands(x: Any, y: Any) -> tuple[Any, Any]:
    """Make the two sides of a binary op fit each other.

    Python numbers stay as they are: NumPy treats them as weak, so ``float32 * 2.0`` stays
    float32. Arrays and NumPy scalars are copied and adopt the result's float dtype, so a
    float64 constant never silently upcasts a float32 model (and a later change to the caller's
    array cannot reach a saved operand). An integer tensor meeting a float (a tensor, an
    array or a Python float) computes in that float dtype, the default one for a Python float
    or float array. Two non-tensors are both converted to tensors.
    """
    x_is, y_is = isinstance(x, Tensor), isinstance(y, Tensor)
    if x_is and y_is:
        x, y = promote(x, y)
        return x, y
    if not x_is and not y_is:
        return operands(Tensor(x), Tensor(y))
    if x_is:
        x = _meet_constant(x, y)
        return x, _constant(y, x.data.dtype)
    y = _meet_constant(y, x)
    return _constant(x, y.data.dtype), y


def _meet_constant(t: Tensor, value: Any) -> Tensor:
    """An integer tensor meeting a float constant becomes the default float dtype."""
    if t.data.dtype.kind == "f":
        return t
    is_float = isinstance(value, float) or np.asarray(value).dtype.kind == "f"
    return Tensor._wrap(t.data.astype(get_default_dtype()), None) if is_float else t


def _constant(value: Any, like: np.dtype) -> Any:
    if type(value) in PYTHON_SCALARS:
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot combine a tensor with data of dtype {array.dtype}")
    return np.array(array, dtype=like if like.kind == "f" else array.dtype, copy=True)


def integral(value: Any) -> bool:
    """Whether an operand (array or Python number) holds integers or booleans."""
    return np.asarray(value).dtype.kind in "biu"


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a new constant Tensor made from it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def as_float(x: np.ndarray) -> np.ndarray:
    """Integer input to a float function is computed in the default float dtype."""
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype())


def axis_int(axis: Any, op: str, name: str = "axis") -> int:
    """``axis`` as a Python int; a float, a string or a bool is a ``TypeError`` naming ``op``.

    Example:
        >>> axis_int(np.int64(1), "sum")
        1
    """
    if is_int(axis):
        return int(axis)
    raise TypeError(f"{op}: {name} must be an int, got {axis!r} ({type(axis).__name__})")


def normalize_axis(axis: int | Sequence[int] | None, ndim: int, op: str) -> tuple[int, ...]:
    """Axes as a sorted tuple of non-negative ints (all axes for ``None``)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple, np.ndarray)):
        axes = tuple(axis)
        if not all(is_int(a) for a in axes):
            raise TypeError(f"{op}: axis must be an int or a sequence of ints, got {axis!r}")
    else:
        axes = (axis_int(axis, op),)
    out = []
    for a in axes:
        # A 0-d tensor accepts axis 0 or -1, like PyTorch, and reduces over nothing.
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a {ndim}-d tensor")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def torch_axis(op: str, axis: Any, dim: Any, names: tuple[str, str] = ("axis", "dim")) -> Any:
    """The axis given as NumPy's ``axis=`` or PyTorch's ``dim=`` (both: ``TypeError``).

    Example:
        >>> torch_axis("sum", None, 1)
        1
    """
    if dim is None:
        return axis
    if axis is not None:
        raise TypeError(f"{op}: give {names[0]}= or {names[1]}=, not both")
    return dim


def torch_keepdims(op: str, keepdims: bool, keepdim: bool | None) -> bool:
    """``keepdims=`` (NumPy) or ``keepdim=`` (PyTorch); both at once is a ``TypeError``.

    Example:
        >>> torch_keepdims("sum", False, True)
        True
    """
    if keepdim is None:
        return bool(keepdims)
    if keepdims:
        raise TypeError(f"{op}: give keepdims= or keepdim=, not both")
    return bool(keepdim)


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
    "axis_int",
    "integral",
    "normalize_axis",
    "operands",
    "promote",
    "shape_error",
    "shape_of",
    "torch_axis",
    "torch_keepdims",
]
