"""Functions that make new tensors: zeros, ones, random draws, ranges, identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.arrays import in_place_array
from minigrad.device import check_device
from minigrad.dtypes import as_array, get_default_dtype, is_int
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
    data = in_place_array(as_array(data, dtype))
    return Tensor._wrap(data, None).requires_grad_(requires_grad)


def zeros(
    *shape: Shape, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``.

    Example:
        >>> zeros(2, 3).shape
        (2, 3)
    """
    check_device("zeros", device)
    dtype = _dtype(dtype)
    return _leaf(np.zeros(_shape(shape), dtype), dtype, requires_grad)


def ones(
    *shape: Shape, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``.

    Example:
        >>> ones(2).tolist()
        [1.0, 1.0]
    """
    check_device("ones", device)
    dtype = _dtype(dtype)
    return _leaf(np.ones(_shape(shape), dtype), dtype, requires_grad)


def zeros_like(
    x: Tensor | np.ndarray, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``.

    Example:
        >>> zeros_like(ones(2)).tolist()
        [0.0, 0.0]
    """
    check_device("zeros_like", device)
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    dtype = np.dtype(dtype or data.dtype)
    return _leaf(np.zeros(data.shape, dtype), dtype, requires_grad)


def ones_like(
    x: Tensor | np.ndarray, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``.

    Example:
        >>> ones_like(zeros(2)).tolist()
        [1.0, 1.0]
    """
    check_device("ones_like", device)
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    dtype = np.dtype(dtype or data.dtype)
    return _leaf(np.ones(data.shape, dtype), dtype, requires_grad)


def randn(
    *shape: Shape,
    dtype: Any = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
    device: Any = None,
) -> Tensor:
    """Standard normal samples from minigrad's generator (see ``manual_seed``).

    Example:
        >>> randn(2, 3).shape
        (2, 3)
    """
    check_device("randn", device)
    rng = generator or default_generator()
    dtype = _dtype(dtype)
    data = rng.standard_normal(_shape(shape), dtype=np.float64).astype(dtype)
    return _leaf(data, dtype, requires_grad)


def rand(
    *shape: Shape,
    dtype: Any = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
    device: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1) from minigrad's generator (see ``manual_seed``).

    Example:
        >>> bool(((rand(100) >= 0) & (rand(100) < 1)).numpy().all())
        True
    """
    check_device("rand", device)
    rng = generator or default_generator()
    dtype = _dtype(dtype)
    data = rng.random(_shape(shape), dtype=np.float64).astype(dtype)
    return _leaf(data, dtype, requires_grad)


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in ``[start, stop)``: integers for integer arguments, else floats.

    ``start``, ``stop`` and ``step`` are finite real numbers and ``step`` is not 0.

    Example:
        >>> arange(3).tolist(), arange(0, 1, 0.5).tolist()
        ([0, 1, 2], [0.0, 0.5])
    """
    check_device("arange", device)
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        )
        if value is not None and not (real and np.isfinite(value)):
            raise ValueError(f"arange: {name} must be a finite number, got {value!r}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    data = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return _leaf(data, dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """The identity matrix (``n`` by ``m``, square by default).

    Example:
        >>> eye(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    check_device("eye", device)
    return _leaf(np.eye(n, m), _dtype(dtype))


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (PyTorch's
    ``linspace``), in the default float dtype unless ``dtype`` is given.

    Example:
        >>> linspace(0, 1, 5).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    check_device("linspace", device)
    if not is_int(steps) or steps < 0:
        raise ValueError(f"linspace: steps must be an int >= 0, got {steps!r}")
    return _leaf(np.linspace(start, end, int(steps)), _dtype(dtype), requires_grad)


def full(
    size: Shape,
    fill_value: float,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``: float values take the default
    float dtype, integers and booleans keep theirs (PyTorch's rule), unless ``dtype`` is given.

    Example:
        >>> full((2,), 0.5).tolist(), full((), 3).dtype
        ([0.5, 0.5], dtype('int64'))
    """
    check_device("full", device)
    shape = _shape((size,))
    return _leaf(np.full(shape, fill_value), dtype, requires_grad)
