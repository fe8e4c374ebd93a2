"""``Tensor``: an ndarray, the gradient it receives, and the node that produced it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.dtypes import as_array, get_default_dtype

if TYPE_CHECKING:
    from minigrad.autograd import Node

__all__ = ["Tensor", "tensor"]

Axis = int | Sequence[int] | None


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Float data (Python numbers, lists, float ndarrays of any precision) becomes the default
    dtype (float32) unless ``dtype`` is given; integer and boolean data keep their dtype and
    cannot require grad. An ndarray that already has the right dtype is wrapped, not copied.

    Example:
        >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> (x * x).sum().backward(); x.grad
        array([[2., 4.],
               [6., 8.]], dtype=float32)
    """

    __slots__ = ("__weakref__", "_accumulates", "_node", "data", "grad", "requires_grad")
    # ndarray (op) Tensor defers to Tensor's reflected operators instead of converting it.
    __array_ufunc__ = None

    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_array(data, dtype)
        self.grad = None
        self._node: Node | None = None
        self._accumulates = True
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: np.ndarray, node: Node | None) -> Tensor:
        """A tensor around an op's result (no conversion), produced by ``node`` if given."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t._node = node
        t._accumulates = True
        t.requires_grad = node is not None
        return t

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The array's dtype."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor was produced by a recorded operation."""
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The graph node that produced this tensor (``None`` for leaves)."""
        return self._node

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (NumPy's ``.T``)."""
        return _shape.transpose(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place and return it.

        Example:
            >>> Tensor([1.0]).requires_grad_().requires_grad
            True
        """
        if self._node is not None:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; use detach() first"
            )
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only float tensors can require grad, this one has dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied).

        Example:
            >>> Tensor([1.0, 2.0]).numpy()
            array([1., 2.], dtype=float32)
        """
        return self.data

    def item(self) -> int | float | bool:
        """The value of a one-element tensor as a Python number.

        Example:
            >>> Tensor([[2.5]]).item()
            2.5
        """
        if self.data.size != 1:
            raise ValueError(f"item: tensor has {self.data.size} elements, not one")
        return self.data.item()

    def tolist(self) -> Any:
        """The data as nested Python lists."""
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph.

        Example:
            >>> x = Tensor([1.0], requires_grad=True)
            >>> (x * 2).detach().requires_grad
            False
        """
        return Tensor._wrap(self.data, None)

    def astype(self, dtype: Any) -> Tensor:
        """Cast to ``dtype``; the gradient flows back cast to the original dtype.

        Example:
            >>> Tensor([1.5]).astype("float64").dtype
            dtype('float64')
        """
        return _shape.astype(self, dtype)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    # ------------------------------------------------------------------ autograd
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf it uses.

        ``grad`` is the upstream gradient (defaults to 1 for a one-element tensor). The graph's
        saved arrays are freed unless ``retain_graph=True``.

        Example:
            >>> x = Tensor([1.0, 2.0], requires_grad=True)
            >>> (x * 3).sum().backward(); x.grad
            array([3., 3.], dtype=float32)
        """
        roots, seeds = autograd.prepare_roots([self], [grad])
        autograd.backward(roots, seeds, retain_graph=retain_graph)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != get_default_dtype() and self.data.dtype.kind == "f":
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(len(self.data)):
            yield self[i]

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        return _ew.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ew.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ew.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ew.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ew.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ew.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ew.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ew.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ew.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ew.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.absolute(self)

    # comparisons: no gradient, boolean results
    def __lt__(self, other: Any) -> Tensor:
        return _compare.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _compare.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _compare.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _compare.greater_equal(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare.not_equal(self, other)

    # logical operators on boolean masks (no gradient)
    def __and__(self, other: Any) -> Tensor:
        return _compare.logical_and(self, other)

    def __rand__(self, other: Any) -> Tensor:
        return _compare.logical_and(other, self)

    def __or__(self, other: Any) -> Tensor:
        return _compare.logical_or(self, other)

    def __ror__(self, other: Any) -> Tensor:
        return _compare.logical_or(other, self)

    def __xor__(self, other: Any) -> Tensor:
        return _compare.logical_xor(self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return _compare.logical_xor(other, self)

    def __invert__(self) -> Tensor:
        return _compare.logical_not(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _shape.getitem(self, index)

    # ------------------------------------------------------------------ methods
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return _reduce.reduce_sum(self, axis, keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return _reduce.mean(self, axis, keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Variance over ``axis``, biased (``ddof=0``) by default."""
        return _reduce.var(self, axis, keepdims, ddof)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        return _reduce.reduce_max(self, axis, keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; tied minima share the gradient equally."""
        return _reduce.reduce_min(self, axis, keepdims)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """``log(sum(exp(x)))`` over ``axis``, computed stably."""
        return _reduce.logsumexp(self, axis, keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum (no gradient)."""
        return _compare.argmax(self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the minimum (no gradient)."""
        return _compare.argmin(self, axis, keepdims)

    def exp(self) -> Tensor:
        """Elementwise ``e**x``."""
        return _ew.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _ew.log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _ew.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (gradient 0 at 0)."""
        return _ew.absolute(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max``."""
        return _ew.clip(self, min, max)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum; a tie splits the gradient 0.5/0.5."""
        return _ew.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise minimum; a tie splits the gradient 0.5/0.5."""
        return _ew.minimum(self, other)

    def relu(self) -> Tensor:
        """``max(x, 0)``."""
        return _act.relu(self)

    def sigmoid(self) -> Tensor:
        """``1 / (1 + exp(-x))``, computed without overflow."""
        return _act.sigmoid(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return _act.tanh(self)

    def softmax(self, axis: int = -1) -> Tensor:
        """Softmax along ``axis``."""
        return _act.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """Log-softmax along ``axis``."""
        return _act.log_softmax(self, axis)

    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape (one axis may be -1); ``x.reshape(2, 3)`` or ``((2, 3))``."""
        return _shape.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute axes (reverse them when none are given)."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return _shape.transpose(self, axes or None)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """Merge axes ``start_axis..end_axis`` (all by default) into one."""
        return _shape.flatten(self, start_axis, end_axis)

    def squeeze(self, axis: Axis = None) -> Tensor:
        """Remove size-1 axes (all of them, or those in ``axis``)."""
        return _shape.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert a size-1 axis at ``axis``."""
        return _shape.unsqueeze(self, axis)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` (the gradient is summed back)."""
        return _shape.broadcast_to(self, shape)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a Tensor from data (see :class:`Tensor` for the dtype rules).

    Example:
        >>> tensor([1, 2]).dtype, tensor([1.0, 2.0]).dtype
        (dtype('int64'), dtype('float32'))
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# The engine and the ops build Tensors and Tensor's methods call them: they are imported once
# the class exists (minigrad/__init__.py imports this module first).
from minigrad import autograd  # noqa: E402
from minigrad.ops import activation as _act  # noqa: E402
from minigrad.ops import compare as _compare  # noqa: E402
from minigrad.ops import elementwise as _ew  # noqa: E402
from minigrad.ops import linalg as _linalg  # noqa: E402
from minigrad.ops import reduce as _reduce  # noqa: E402
from minigrad.ops import shape as _shape  # noqa: E402
