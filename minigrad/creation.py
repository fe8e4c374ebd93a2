"""Functions that make new tensors: zeros, ones, random draws, ranges, identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.dtypes import as_array, get_default_dtype
from minigrad.random import default_generator
from minigrad.tensor import Tensor

Shape = int | Sequence[int]


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _leaf(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A leaf around a freshly made array: converted by the usual dtype rules, never copied."""
    return Tensor._wrap(as_array(data, dtype), None).requires_grad_(requires_grad)


def zeros(*shape: Shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``.

    Example:
        >>> zeros(2, 3).shape
        (2, 3)
    """
    dtype = _dtype(dtype)
    return _leaf(np.zeros(_shape(shape), dtype), dtype, requires_grad)


def ones(*shape: Shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``.

    Example:
        >>> ones(2).tolist()
        [1.0, 1.0]
    """
    dtype = _dtype(dtype)
    return _leaf(np.ones(_shape(shape), dtype), dtype, requires_grad)


def zeros_like(x: Tensor | np.ndarray, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``.

    Example:
        >>> zeros_like(ones(2)).tolist()
        [0.0, 0.0]
    """
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    dtype = np.dtype(dtype or data.dtype)
    return _leaf(np.zeros(data.shape, dtype), dtype, requires_grad)


def ones_like(x: Tensor | np.ndarray, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``.

    Example:
        >>> ones_like(zeros(2)).tolist()
        [1.0, 1.0]
    """
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    dtype = np.dtype(dtype or data.dtype)
    return _leaf(np.ones(data.shape, dtype), dtype, requires_grad)


def randn(
    *shape: Shape,
    dtype: Any = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Standard normal samples from minigrad's generator (see ``manual_seed``).

    Example:
        >>> randn(2, 3).shape
        (2, 3)
    """
    rng = generator or default_generator()
    dtype = _dtype(dtype)
    data = rng.standard_normal(_shape(shape), dtype=np.float64).astype(dtype)
    return _leaf(data, dtype, requires_grad)


def rand(
    *shape: Shape,
    dtype: Any = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples in [0, 1) from minigrad's generator (see ``manual_seed``).

    Example:
        >>> bool(((rand(100) >= 0) & (rand(100) < 1)).numpy().all())
        True
    """
    rng = generator or default_generator()
    dtype = _dtype(dtype)
    data = rng.random(_shape(shape), dtype=np.float64).astype(dtype)
    return _leaf(data, dtype, requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``: integers for integer arguments, else floats.

    ``start``, ``stop`` and ``step`` are finite real numbers and ``step`` is not 0.

    Example:
        >>> arange(3).tolist(), arange(0, 1, 0.5).tolist()
        ([0, 1, 2], [0.0, 0.5])
    """
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        )
        if value is not None and not (real and np.isfinite(value)):
            raise ValueError(f"arange: {name} must be a finite number, got {value!r}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return _leaf(np.arange(start, stop, step) if stop is not None else np.arange(start), dtype)


def eye(n: int, m: int | None = None, dtype: Any = None) -> Tensor:
    """The identity matrix (``n`` by ``m``, square by default).

    Example:
        >>> eye(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return _leaf(np.eye(n, m), _dtype(dtype))
