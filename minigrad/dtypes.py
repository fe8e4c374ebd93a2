"""The default float dtype and the rules that turn user data into arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

_default_dtype = np.dtype(np.float32)


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


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn ``data`` into an ndarray, sharing memory when no conversion is needed.

    Floats of any precision become the default dtype unless ``dtype`` is given; integers and
    booleans keep their kind; anything else (complex, objects, strings) is refused.
    """
    if dtype is not None:
        return np.asarray(data, dtype=np.dtype(dtype))
    array = np.asarray(data)
    kind = array.dtype.kind
    if kind == "f":
        return array if array.dtype == _default_dtype else array.astype(_default_dtype)
    if kind in "iub":
        return array
    raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}")
