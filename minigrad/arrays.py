"""``InPlaceArray``: the ndarray behind ``.grad`` and user-made tensors' ``.data``, with
PyTorch's in-place methods (``zero_``, ``add_``, ...) so that tutorial code such as
``w.grad.zero_()`` or ``p.data.add_(p.grad, alpha=-lr)`` runs unchanged.

It is an ndarray in every other way. Results of NumPy functions on it are plain ndarrays
(``__array_wrap__`` hands them back as NumPy made them), so the subclass never spreads into
the arrays the ops compute and costs nothing there. Writes through it are not tracked by the
version counter, like writes through ``.data`` in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["InPlaceArray"]


def _values(other: Any) -> Any:
    """The array behind a Tensor operand; anything else as it is."""
    data = getattr(other, "data", None)
    return data if isinstance(data, np.ndarray) and not isinstance(other, np.ndarray) else other


class InPlaceArray(np.ndarray):
    """An ndarray with PyTorch's in-place methods; each changes the array and returns it.

    Example:
        >>> import minigrad as mg
        >>> w = mg.tensor([1.0, 2.0], requires_grad=True); (w * w).sum().backward()
        >>> w.grad.zero_()
        array([0., 0.], dtype=float32)
    """

    def __array_wrap__(
        self, array: np.ndarray, context: Any = None, return_scalar: bool = False
    ) -> Any:
        # A new result stays a plain ndarray; an ``out=`` that is an InPlaceArray stays one.
        return array[()] if return_scalar else array

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def zero_(self) -> InPlaceArray:
        """Set every element to 0.

        Example:
            >>> np.ones(2).view(InPlaceArray).zero_()
            array([0., 0.])
        """
        self.fill(0)
        return self

    def fill_(self, value: float) -> InPlaceArray:
        """Set every element to ``value``.

        Example:
            >>> np.zeros(2).view(InPlaceArray).fill_(3)
            array([3., 3.])
        """
        self.fill(value)
        return self

    def add_(self, other: Any, *, alpha: float = 1) -> InPlaceArray:
        """``self += alpha * other`` (``other`` may be an array, a Tensor or a number).

        Example:
            >>> np.ones(2).view(InPlaceArray).add_(np.array([1.0, 2.0]), alpha=-0.5)
            array([0.5, 0. ])
        """
        other = _values(other)
        self += other if alpha == 1 else np.multiply(other, alpha)
        return self

    def sub_(self, other: Any, *, alpha: float = 1) -> InPlaceArray:
        """``self -= alpha * other``.

        Example:
            >>> np.ones(2).view(InPlaceArray).sub_(1)
            array([0., 0.])
        """
        other = _values(other)
        self -= other if alpha == 1 else np.multiply(other, alpha)
        return self

    def mul_(self, other: Any) -> InPlaceArray:
        """``self *= other``.

        Example:
            >>> np.ones(2).view(InPlaceArray).mul_(3)
            array([3., 3.])
        """
        self *= _values(other)
        return self

    def div_(self, other: Any) -> InPlaceArray:
        """``self /= other``.

        Example:
            >>> np.ones(2).view(InPlaceArray).div_(4)
            array([0.25, 0.25])
        """
        self /= _values(other)
        return self

    def copy_(self, src: Any) -> InPlaceArray:
        """Copy ``src`` (broadcast to this shape) into this array.

        Example:
            >>> np.zeros(2).view(InPlaceArray).copy_([1.0, 2.0])
            array([1., 2.])
        """
        np.copyto(self, _values(src), casting="same_kind")
        return self

    def clamp_(self, min: Any = None, max: Any = None) -> InPlaceArray:
        """Limit the values to ``[min, max]`` (either may be None).

        Example:
            >>> np.array([-1.0, 2.0]).view(InPlaceArray).clamp_(min=0)
            array([0., 2.])
        """
        if min is None and max is None:
            raise ValueError("clamp_: give at least one of min and max")
        np.clip(self, _values(min), _values(max), out=self)
        return self


def in_place_array(array: np.ndarray) -> np.ndarray:
    """``array`` viewed as an :class:`InPlaceArray` (the same memory, no copy)."""
    return array if type(array) is InPlaceArray else array.view(InPlaceArray)
