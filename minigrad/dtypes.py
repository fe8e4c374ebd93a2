"""The default float dtype and the rules that turn user data into arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

_default_dtype = np.dtype(np.float32)

# PyTorch's dtype names (``mg.float32`` is ``torch.float32``'s counterpart).
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)

# PyTorch's dtype names that are Python builtins too, served by ``minigrad.__getattr__`` so that
# no module-level name shadows a builtin (``mg.float`` is float32, as ``torch.float`` is).
BUILTIN_NAMED_DTYPES = {
    "float": float32,
    "double": float64,
    "long": int64,
    "int": int32,
    "bool": np.dtype(np.bool_),
}


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (a Python or NumPy int), and not a bool.

    Example:
        >>> is_int(np.int64(3)), is_int(True), is_int(3.0)
        (True, False, False)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that float data becomes (``float32`` unless changed).

    Example:
        >>> import minigrad as mg
        >>> mg.set_default_dtype("float64"); mg.tensor([1.0]).dtype
        dtype('float64')
        >>> mg.set_default_dtype("float32")
    """
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only float dtypes can be the default, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The dtype that float data becomes.

    Example:
        >>> import minigrad as mg
        >>> mg.get_default_dtype()
        dtype('float32')
    """
    return _default_dtype


def _check_dtype(dtype: np.dtype, what: str) -> np.dtype:
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{what}: tensors hold booleans, integers or floats, not dtype {dtype} "
            "(complex, object and string data are not supported)"
        )
    return dtype


def as_array(data: Any, dtype: Any = None, copy: bool = False) -> np.ndarray:
    """Turn ``data`` into an ndarray. With ``copy``, the result never shares memory with
    ``data``; without, it does whenever no conversion is needed.

    Floats of any precision become the default dtype unless ``dtype`` is given; integers and
    booleans keep their kind; anything else (complex, objects, strings) is refused.

    Example:
        >>> as_array([1.5]).dtype, as_array([1]).dtype, as_array([1], "float64").dtype
        (dtype('float32'), dtype('int64'), dtype('float64'))
    """
    array = np.asarray(data)
    if dtype is not None:
        target = _check_dtype(np.dtype(dtype), "tensor")
    else:
        kind = _check_dtype(array.dtype, "tensor").kind
        target = _default_dtype if kind == "f" else array.dtype
    if array.dtype != target:
        return array.astype(target)  # a new array
    # Python lists and numbers were converted into a new array already; anything else (an
    # ndarray, a view of one, an object exposing its memory) may be shared.
    fresh = isinstance(data, (list, tuple, int, float, bool))
    return array.copy() if copy and not fresh else array


def float_result(*dtypes: np.dtype) -> np.dtype:
    """The dtype of an operation on operands of these dtypes (PyTorch's rule): the widest float
    among them; the default float dtype when none is a float.

    Example:
        >>> float_result(np.dtype("int64"), np.dtype("float32")), float_result(np.dtype("int64"))
        (dtype('float32'), dtype('float32'))
    """
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*floats) if floats else _default_dtype
