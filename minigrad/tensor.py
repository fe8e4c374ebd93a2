"""``Tensor``: an ndarray, the gradient it receives, and the node that produced it."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from minigrad.arrays import in_place_array
from minigrad.device import Device, check_device, parse_to
from minigrad.dtypes import as_array, get_default_dtype

if TYPE_CHECKING:
    from minigrad.autograd import Node

__all__ = ["Tensor", "ValuesIndices", "Version", "from_numpy", "tensor"]

Axis = int | Sequence[int] | None


class Version:
    """How many times the memory behind a tensor was changed in place by minigrad.

    Tensors that share memory (a view made by indexing or reshaping, ``detach()``, the stand-in
    a ``Layer`` makes for its input) share one counter. A graph node records the version of each
    input or output it saved for backward, and the backward refuses to run if it moved.
    ``views`` holds the live tensors that are views into this memory.
    """

    __slots__ = ("value", "views")

    def __init__(self) -> None:
        self.value = 0
        self.views: weakref.WeakSet[Tensor] | None = None


class ValuesIndices(NamedTuple):
    """What ``max(dim)``/``min(dim)`` return when called the PyTorch way: the extreme values
    (with a gradient) and their int64 indices.

    Example:
        >>> Tensor([[1.0, 5.0], [7.0, 2.0]]).max(1).indices.tolist()
        [1, 0]
    """

    values: Tensor
    indices: Tensor


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Float data (Python numbers, lists, float ndarrays of any precision) becomes the default
    dtype (float32) unless ``dtype`` is given; integer and boolean data keep their dtype and
    cannot require grad. The data is copied (as ``torch.tensor`` does): changing the array
    afterwards never changes the tensor. :func:`from_numpy` shares memory instead.

    ``.data`` (for tensors made by the user) and ``.grad`` are ndarrays of the subclass
    :class:`~minigrad.arrays.InPlaceArray`, which adds PyTorch's in-place methods
    (``w.grad.zero_()``, ``p.data.add_(...)``); writes through them are not tracked.

    Example:
        >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> (x * x).sum().backward(); x.grad
        array([[2., 4.],
               [6., 8.]], dtype=float32)
    """

    __slots__ = (
        "__weakref__",
        "_accumulates",
        "_hooks",
        "_node",
        "_version",
        "data",
        "grad",
        "requires_grad",
    )
    # ndarray (op) Tensor defers to Tensor's reflected operators instead of converting it.
    __array_ufunc__ = None

    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = in_place_array(as_array(data, dtype, copy=True))
        self.grad = None
        self._node: Node | None = None
        self._version: Version | None = None
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
        t._version = None
        t._accumulates = True
        t.requires_grad = node is not None
        return t

    def _shared_version(self) -> Version:
        """This tensor's version counter, made on first use (most tensors never need one)."""
        if self._version is None:
            self._version = Version()
        return self._version

    def _bump(self) -> None:
        """Record an in-place change of this tensor's memory (and of every alias of it)."""
        self._shared_version().value += 1

    @property
    def version(self) -> int:
        """How many times this tensor's memory was changed in place through minigrad (in-place
        methods, optimizer steps, ``load_state_dict``); writes through ``.data`` do not count.

        Example:
            >>> t = Tensor([1.0]); _ = t.add_(1); t.version
            1
        """
        return self._shared_version().value

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

    def numel(self) -> int:
        """Number of elements (PyTorch's name for ``.size``, which stays NumPy's count).

        Example:
            >>> Tensor([[1, 2, 3]]).numel()
            3
        """
        return self.data.size

    @property
    def device(self) -> Device:
        """Where the data lives: always the CPU.

        Example:
            >>> Tensor([1.0]).device
            device(type='cpu')
        """
        return Device("cpu")

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
        detached = Tensor._wrap(self.data, None)
        detached._version = self._shared_version()  # the same memory: the same counter
        return detached

    def astype(self, dtype: Any) -> Tensor:
        """Cast to ``dtype``; the gradient flows back cast to the original dtype.

        Example:
            >>> Tensor([1.5]).astype("float64").dtype
            dtype('float64')
        """
        return _shape.astype(self, dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """PyTorch's ``to``: a device (``"cpu"`` or ``minigrad.device("cpu")``; CUDA raises), a
        dtype, a tensor whose dtype to take, or a device and a dtype. Returns the tensor itself
        when nothing changes (a copy with ``copy=True``), else a cast copy (the gradient flows
        back, as with :meth:`astype`).

        Example:
            >>> x = Tensor([1.0]); x.to("cpu") is x, x.to("float64").dtype
            (True, dtype('float64'))
        """
        if len(args) == 1 and isinstance(args[0], Tensor):
            args = (args[0].data.dtype,)
        dtype = parse_to("Tensor.to", args, kwargs)
        if dtype is not None and dtype != self.data.dtype:
            return self.astype(dtype)
        return self.clone() if kwargs.get("copy") else self

    def cpu(self) -> Tensor:
        """The tensor itself (its data is always on the CPU).

        Example:
            >>> x = Tensor([1.0]); x.cpu() is x
            True
        """
        return self

    def cuda(self, device: Any = None) -> Tensor:
        """Raises ``RuntimeError``: minigrad runs on the CPU only (see :func:`minigrad.device`).

        Example:
            >>> Tensor([1.0]).cuda()
            Traceback (most recent call last):
            ...
            RuntimeError: Tensor.cuda: device 'cuda': minigrad runs on the CPU only (no CUDA); ...
        """
        check_device("Tensor.cuda", "cuda")
        return self

    def float(self) -> Tensor:
        """Cast to float32 (PyTorch's ``.float()``).

        Example:
            >>> Tensor([1, 2]).float().dtype
            dtype('float32')
        """
        return self.to(np.float32)

    def double(self) -> Tensor:
        """Cast to float64 (PyTorch's ``.double()``).

        Example:
            >>> Tensor([1.0]).double().dtype
            dtype('float64')
        """
        return self.to(np.float64)

    def long(self) -> Tensor:
        """Cast to int64 (PyTorch's ``.long()``; no gradient flows through integers).

        Example:
            >>> Tensor([1.7, -1.7]).long().tolist()
            [1, -1]
        """
        return self.to(np.int64)

    def clone(self) -> Tensor:
        """A copy of the data; the gradient flows back to this tensor.

        Example:
            >>> x = Tensor([1.0]); y = x.clone(); _ = y.add_(1); x.tolist(), y.tolist()
            ([1.0], [2.0])
        """
        return _shape.astype(self, self.data.dtype)

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

    def register_hook(self, hook: Callable[[np.ndarray], Any]) -> hooks.RemovableHandle:
        """Run ``hook(grad)`` when this tensor's gradient is computed in a backward pass.

        ``grad`` is a read-only ndarray: on a leaf, its total gradient from this pass, before it
        is added to ``.grad``; on a computed tensor, the gradient reaching it from everything
        that used it. The hook may return a replacement array of the same shape, which is what
        flows on (and accumulates). Returns a handle whose ``remove()`` takes the hook off.
        Several hooks run in the order they were registered. Hooks are not copied with the
        tensor.

        Example:
            >>> x = Tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * x
            >>> _ = y.register_hook(lambda g: print("dL/dy =", g))
            >>> _ = x.register_hook(lambda g: g * 0.5)  # halve x's gradient
            >>> y.sum().backward(); x.grad
            dL/dy = [1. 1.]
            array([1., 2.], dtype=float32)
        """
        return hooks.register_tensor_hook(self, hook)

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        # What copy.copy and copy.deepcopy (so Layer.copy) copy: everything but the hooks,
        # which belong to this tensor object (as in PyTorch).
        return None, {
            name: getattr(self, name)
            for name in Tensor.__slots__
            if name not in ("__weakref__", "_hooks") and hasattr(self, name)
        }

    # ------------------------------------------------------------------ in place
    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self += alpha * other``, in place.

        In-place methods follow PyTorch's rules: on a leaf that requires grad they work only
        under ``no_grad()`` (that is how parameters are updated by hand); elsewhere, while
        gradients are recorded, the change becomes part of the graph. Every in-place change
        bumps the tensor's :attr:`version`, so a backward that needs the old values refuses to
        run instead of computing with the new ones.

        Example:
            >>> import minigrad as mg
            >>> w = Tensor([1.0, 2.0], requires_grad=True)
            >>> with mg.no_grad():
            ...     _ = w.add_(Tensor([0.5, 0.5]), alpha=-2)
            >>> w.data
            array([0., 1.], dtype=float32)
        """
        other = other if alpha == 1 else other * alpha
        return self._in_place("add_", _ew.add, np.add, other)

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self -= alpha * other``, in place (see :meth:`add_` for the rules).

        Example:
            >>> Tensor([3.0]).sub_(1).tolist()
            [2.0]
        """
        other = other if alpha == 1 else other * alpha
        return self._in_place("sub_", _ew.sub, np.subtract, other)

    def mul_(self, other: Any) -> Tensor:
        """``self *= other``, in place (see :meth:`add_` for the rules).

        Example:
            >>> Tensor([3.0]).mul_(2).tolist()
            [6.0]
        """
        return self._in_place("mul_", _ew.mul, np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        """``self /= other``, in place (see :meth:`add_` for the rules).

        Example:
            >>> Tensor([3.0]).div_(2).tolist()
            [1.5]
        """
        return self._in_place("div_", _ew.div, np.true_divide, other)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit the values to ``[min, max]``, in place (see :meth:`add_` for the rules).

        Example:
            >>> Tensor([-1.0, 0.5, 2.0]).clamp_(0, 1).tolist()
            [0.0, 0.5, 1.0]
        """
        return self._in_place("clamp_", lambda x: _ew.clip(x, min, max), None)

    def fill_(self, value: float) -> Tensor:
        """Set every element to ``value``, in place (see :meth:`add_` for the rules); while
        gradients are recorded, no gradient flows to the old values.

        Example:
            >>> Tensor([1.0, 2.0]).fill_(7).tolist()
            [7.0, 7.0]
        """
        return self._in_place("fill_", _replaced, None, value)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place (see :meth:`fill_`).

        Example:
            >>> Tensor([1.0, 2.0]).zero_().tolist()
            [0.0, 0.0]
        """
        return self.fill_(0)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this tensor, in place; while gradients
        are recorded, the gradient flows to ``src`` (see :meth:`add_` for the rules).

        Example:
            >>> Tensor([1.0, 2.0]).copy_([5.0, 6.0]).tolist()
            [5.0, 6.0]
        """
        return self._in_place("copy_", _replaced, None, src)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def _in_place(self, name: str, op: Callable, ufunc: Any, *args: Any) -> Tensor:
        """Change this tensor's memory to ``op(self, *args)``, recorded in the graph when
        gradients are (PyTorch's rules; see :meth:`add_`), and bump its version."""
        if autograd.is_grad_enabled() and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args)
        ):
            self._record_in_place(name, op, args)
        elif ufunc is not None:
            other = args[0].data if isinstance(args[0], Tensor) else args[0]
            try:
                ufunc(self.data, other, out=self.data)
            except ValueError:
                raise ValueError(
                    f"{name}: an operand of shape {np.shape(other)} does not broadcast to the "
                    f"tensor's shape {self.data.shape}"
                ) from None
            except TypeError:
                raise TypeError(
                    f"{name}: the result cannot be stored in place in a tensor of dtype "
                    f"{self.data.dtype} (operand dtype {np.asarray(other).dtype})"
                ) from None
        else:
            with autograd.no_grad():
                self._store(name, op(self, *args).data)
        self._bump()
        return self

    def _record_in_place(self, name: str, op: Callable, args: tuple) -> None:
        if self._node is None and self.requires_grad:
            raise RuntimeError(
                f"{name}: this leaf tensor (shape {self.data.shape}) requires grad, so it cannot "
                "be changed in place while gradients are recorded (the change would sit in the "
                "graph that computes its own gradient). Update it inside `with "
                "minigrad.no_grad():`, as optimizers do, or compute out of place (x = x + ...)."
            )
        if self._version is not None and self._version.views:
            raise RuntimeError(
                f"{name}: this tensor (shape {self.data.shape}) shares memory with views made "
                "by indexing, reshaping or transposing that are still alive; recording an "
                "in-place change would leave their history stale. Compute out of place "
                "(y = y + ...), or change it under no_grad()."
            )
        # The op runs on a frozen copy of the old values (what its node may save), at the same
        # place in the graph; then this tensor takes the result and becomes the op's output.
        frozen = Tensor._wrap(self.data.copy(), self._node)
        frozen.requires_grad = self.requires_grad
        result = op(frozen, *args)
        self._store(name, result.data)
        self._node = result._node
        self.requires_grad = result.requires_grad
        if self._node is not None:
            self._node.dtype = self.data.dtype

    def _store(self, name: str, values: np.ndarray) -> None:
        if values.shape != self.data.shape:
            raise ValueError(
                f"{name}: the result has shape {values.shape}, which does not fit in place in "
                f"the tensor's shape {self.data.shape}"
            )
        if not np.can_cast(values.dtype, self.data.dtype, casting="same_kind"):
            raise TypeError(
                f"{name}: a result of dtype {values.dtype} cannot be stored in place in a "
                f"tensor of dtype {self.data.dtype}"
            )
        np.copyto(self.data, values, casting="same_kind")

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

    # ``tensor == None`` is False and ``!=`` True, as in PyTorch: Python's answer for objects
    # that cannot be compared (``is None`` is the way to test for None).
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return NotImplemented if other is None else _compare.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return NotImplemented if other is None else _compare.not_equal(self, other)

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

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value``, in place (see :meth:`add_` for the rules). While gradients
        are recorded, the overwritten elements get no gradient and ``value`` may not require
        grad (build the result with :func:`minigrad.where` instead)."""
        if isinstance(value, Tensor) and value.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                "x[index] = value: a value that requires grad cannot be assigned in place "
                "while gradients are recorded; build the result out of place with "
                "minigrad.where(mask, value, x), or assign under no_grad()"
            )
        index = _shape._index(index)[0]
        values = value.data if isinstance(value, Tensor) else value
        if autograd.is_grad_enabled() and self.requires_grad:
            self._record_in_place("setitem", lambda x: _assigned(x, index, values), ())
        else:
            self.data[index] = values
        self._bump()

    # ------------------------------------------------------------------ methods
    # Reductions take NumPy's ``axis=``/``keepdims=`` or PyTorch's ``dim=``/``keepdim=``.
    def sum(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return _reduce.reduce_sum(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return _reduce.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        ddof: int = 0,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Variance over ``axis``, biased (``ddof=0``) by default."""
        return _reduce.var(self, axis, keepdims, ddof, dim=dim, keepdim=keepdim)

    def max(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        axis: Axis = None,
        keepdims: bool = False,
    ) -> Any:
        """Maximum; tied maxima share the gradient equally.

        Called the NumPy way (``axis=``, or no axis) it returns the values; called the PyTorch
        way (a positional axis or ``dim=``) it returns ``(values, indices)`` as a
        :class:`ValuesIndices`; with a tensor, the elementwise :meth:`maximum`.

        Example:
            >>> x = Tensor([[1.0, 5.0], [7.0, 2.0]])
            >>> x.max().item(), x.max(axis=1).tolist(), x.max(1).indices.tolist()
            (7.0, [5.0, 7.0], [1, 0])
        """
        return self._extreme("max", dim, keepdim, axis, keepdims)

    def min(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        axis: Axis = None,
        keepdims: bool = False,
    ) -> Any:
        """Minimum, with the calling rules of :meth:`max`.

        Example:
            >>> x = Tensor([[1.0, 5.0], [7.0, 2.0]])
            >>> x.min().item(), x.min(axis=0).tolist(), x.min(dim=0).indices.tolist()
            (1.0, [1.0, 2.0], [0, 1])
        """
        return self._extreme("min", dim, keepdim, axis, keepdims)

    def _extreme(self, op: str, dim: Any, keepdim: bool, axis: Axis, keepdims: bool) -> Any:
        if isinstance(dim, Tensor):
            return _ew.maximum(self, dim) if op == "max" else _ew.minimum(self, dim)
        reduce = _reduce.reduce_max if op == "max" else _reduce.reduce_min
        if dim is None:
            return reduce(self, axis, keepdims or keepdim)
        if axis is not None:
            raise TypeError(f"{op}: give axis= or dim=, not both")
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int, got {dim!r}")
        keep = keepdim or keepdims
        arg = _compare.argmax if op == "max" else _compare.argmin
        return ValuesIndices(reduce(self, dim, keep), arg(self, dim, keep))

    def logsumexp(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """``log(sum(exp(x)))`` over ``axis``, computed stably."""
        return _reduce.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the maximum (no gradient)."""
        return _compare.argmax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the minimum (no gradient)."""
        return _compare.argmin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def exp(self) -> Tensor:
        """Elementwise ``e**x``."""
        return _ew.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _ew.log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _ew.sqrt(self)

    def sin(self) -> Tensor:
        """Elementwise sine."""
        return _ew.sin(self)

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return _ew.cos(self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (gradient 0 at 0)."""
        return _ew.absolute(self)

    def pow(self, exponent: Any) -> Tensor:
        """``self ** exponent`` (PyTorch's name).

        Example:
            >>> Tensor([2.0, 3.0]).pow(2).tolist()
            [4.0, 9.0]
        """
        return _ew.power(self, exponent)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max``."""
        return _ew.clip(self, min, max)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """PyTorch's name for :meth:`clip`.

        Example:
            >>> Tensor([-1.0, 2.0]).clamp(min=0).tolist()
            [0.0, 2.0]
        """
        return _ew.clip(self, min, max)

    def mm(self, other: Any) -> Tensor:
        """Matrix product of two 2-d tensors (PyTorch's ``mm``; ``@`` takes any rank).

        Example:
            >>> Tensor([[1.0, 2.0]]).mm(Tensor([[3.0], [4.0]])).tolist()
            [[11.0]]
        """
        other_ndim = np.ndim(other.data if isinstance(other, Tensor) else other)
        if self.data.ndim != 2 or other_ndim != 2:
            raise ValueError(
                f"mm: expects two 2-d tensors, got {self.data.ndim}-d and {other_ndim}-d "
                "(use @ or matmul for other ranks)"
            )
        return _linalg.matmul(self, other)

    def eq(self, other: Any) -> Tensor:
        """``self == other`` as a boolean tensor (PyTorch's name)."""
        return _compare.equal(self, other)

    def ne(self, other: Any) -> Tensor:
        """``self != other`` as a boolean tensor."""
        return _compare.not_equal(self, other)

    def lt(self, other: Any) -> Tensor:
        """``self < other`` as a boolean tensor."""
        return _compare.less(self, other)

    def le(self, other: Any) -> Tensor:
        """``self <= other`` as a boolean tensor."""
        return _compare.less_equal(self, other)

    def gt(self, other: Any) -> Tensor:
        """``self > other`` as a boolean tensor."""
        return _compare.greater(self, other)

    def ge(self, other: Any) -> Tensor:
        """``self >= other`` as a boolean tensor."""
        return _compare.greater_equal(self, other)

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

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Softmax along ``axis`` (or ``dim``; the last by default)."""
        return _act.softmax(self, axis, dim=dim)

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Log-softmax along ``axis`` (or ``dim``; the last by default)."""
        return _act.log_softmax(self, axis, dim=dim)

    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape (one axis may be -1); ``x.reshape(2, 3)`` or ``((2, 3))``."""
        return _shape.reshape(self, shape[0] if len(shape) == 1 else shape)

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for :meth:`reshape` (which also copies when it has to).

        Example:
            >>> Tensor([1.0, 2.0, 3.0, 4.0]).view(2, -1).shape
            (2, 2)
        """
        return self.reshape(*shape)

    def view_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape.

        Example:
            >>> Tensor([1, 2]).view_as(Tensor([[0], [0]])).shape
            (2, 1)
        """
        return _shape.reshape(self, other.shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Two axes ``transpose(d0, d1)`` swap them (PyTorch); otherwise the axes are permuted
        as NumPy does (reversed when none are given).

        Example:
            >>> x = Tensor(np.zeros((2, 3, 4)))
            >>> x.transpose(0, 2).shape, x.transpose(1, 2, 0).shape, x.transpose().shape
            ((4, 3, 2), (3, 4, 2), (4, 3, 2))
        """
        if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
            axes = axes[0]
        elif len(axes) == 2:
            d0, d1 = (_axis_in_range("transpose", int(a), self.data.ndim) for a in axes)
            order = list(range(self.data.ndim))
            order[d0], order[d1] = order[d1], order[d0]
            axes = tuple(order)
        return _shape.transpose(self, axes or None)

    def permute(self, *order: Any) -> Tensor:
        """Reorder the axes: ``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))``.

        Example:
            >>> Tensor(np.zeros((2, 3, 4))).permute(2, 0, 1).shape
            (4, 2, 3)
        """
        if len(order) == 1 and not isinstance(order[0], (int, np.integer)):
            order = tuple(order[0])
        return _shape.transpose(self, order)

    def flatten(
        self,
        start_axis: int | None = None,
        end_axis: int | None = None,
        *,
        start_dim: int | None = None,
        end_dim: int | None = None,
    ) -> Tensor:
        """Merge axes ``start_axis..end_axis`` (all by default) into one."""
        return _shape.flatten(self, start_axis, end_axis, start_dim=start_dim, end_dim=end_dim)

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Remove size-1 axes (all of them, or those in ``axis``)."""
        return _shape.squeeze(self, axis, dim=dim)

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Insert a size-1 axis at ``axis``."""
        return _shape.unsqueeze(self, axis, dim=dim)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` (the gradient is summed back)."""
        return _shape.broadcast_to(self, shape)


def _axis_in_range(op: str, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a {ndim}-d tensor")
    return axis % ndim


def _assigned(x: Tensor, index: Any, values: Any) -> Tensor:
    """``x`` with ``values`` written at ``index``, as an op of ``x`` whose gradient is zero at
    the overwritten places (how ``__setitem__`` is recorded)."""
    mask = np.zeros(x.data.shape, dtype=bool)
    mask[index] = True
    filled = np.zeros_like(x.data)
    filled[index] = values
    return _ew.where(mask, filled, x)


def _replaced(x: Tensor, value: Any) -> Tensor:
    """``value`` broadcast to ``x``'s shape, as an op of both: the gradient goes to ``value``
    and none to the replaced ``x`` (how ``fill_`` and ``copy_`` are recorded)."""
    return _ew.where(np.zeros(x.data.shape, dtype=bool), x, value)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Make a Tensor from a copy of ``data`` (see :class:`Tensor` for the dtype rules);
    ``device`` may only be the CPU.

    Example:
        >>> tensor([1, 2]).dtype, tensor([1.0, 2.0]).dtype
        (dtype('int64'), dtype('float32'))
    """
    check_device("tensor", device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with ``array`` and keeps its dtype (float64 stays float64):
    the explicit opt-out of :func:`tensor`'s copy and float32 default. Changes to the array
    show in the tensor and the other way round; like writes through ``.data``, they are not
    tracked by the version counter.

    Example:
        >>> a = np.zeros(2); t = from_numpy(a); a[0] = 5
        >>> t.tolist(), t.dtype
        ([5.0, 0.0], dtype('float64'))
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: arrays of dtype {array.dtype} are not supported")
    return Tensor._wrap(array, None)


# The engine and the ops build Tensors and Tensor's methods call them: they are imported once
# the class exists (minigrad/__init__.py imports this module first).
from minigrad import autograd, hooks  # noqa: E402
from minigrad.ops import activation as _act  # noqa: E402
from minigrad.ops import compare as _compare  # noqa: E402
from minigrad.ops import elementwise as _ew  # noqa: E402
from minigrad.ops import linalg as _linalg  # noqa: E402
from minigrad.ops import reduce as _reduce  # noqa: E402
from minigrad.ops import shape as _shape  # noqa: E402
