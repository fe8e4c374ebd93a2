"""The autograd engine: ``Function`` and its context, grad mode, the graph walk.

Every differentiable operation is a :class:`Function` subclass with two static methods working on
plain ndarrays::

    forward(ctx, *arrays, **attrs) -> ndarray
    backward(ctx, grad) -> ndarray | tuple[ndarray | None, ...]

``Function.apply`` runs ``forward``; when grad mode is on and an input requires grad, the context
``ctx`` becomes a :class:`Node` of the graph and the result remembers it. ``Tensor.backward``
calls :func:`backward`, which walks the nodes in reverse topological order without recursion,
calls each rule once with the summed upstream gradient, sums each returned gradient down to its
input's shape (:func:`sum_to`, the one place where broadcasting is undone) and accumulates into
the ``.grad`` of the leaves.

Graph edges point from a node to the nodes (or leaf tensors) that produced its inputs, never to
intermediate tensors, so a graph keeps alive only what its rules saved; those saved arrays are
dropped as soon as a node's rule has run, unless ``retain_graph=True``.
"""

from __future__ import annotations

import functools
import inspect
import math
import threading
import weakref
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from minigrad.arrays import in_place_array
from minigrad.tensor import Tensor

__all__ = [
    "Function",
    "Node",
    "TensorFunction",
    "backward",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "key",
    "no_grad",
    "sum_to",
]

_F = TypeVar("_F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------------------------
# grad mode
# ---------------------------------------------------------------------------------------------
class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether operations currently record a graph.

    Example:
        >>> with no_grad():
        ...     is_grad_enabled()
        False
    """
    return _grad_mode.enabled


class _SetGradMode:
    """Context manager and decorator that sets grad mode and restores it on exit.

    One object may be entered again before it exits (nested ``with`` blocks): each exit
    restores the mode its own entry found. A decorated generator function runs in the mode
    each time it resumes, and the caller's mode is back whenever it yields.
    """

    _mode: bool

    def __init__(self) -> None:
        self._previous: list[bool] = []  # one entry per entry not yet exited

    def __enter__(self) -> None:
        self._previous.append(_grad_mode.enabled)
        _grad_mode.enabled = self._mode

    def __exit__(self, *exc_info: object) -> None:
        _grad_mode.enabled = self._previous.pop()

    def __call__(self, fn: _F) -> _F:
        mode = self._mode
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def generator(*args: Any, **kwargs: Any) -> Any:
                return (yield from _in_mode(mode, fn(*args, **kwargs)))

            return generator  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = _grad_mode.enabled
            _grad_mode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _grad_mode.enabled = previous

        return wrapper  # type: ignore[return-value]


def _in_mode(mode: bool, inner: Generator) -> Generator:
    """Drive ``inner`` with grad mode set to ``mode`` while it runs, the caller's in between:
    every value sent, exception thrown and ``close()`` is passed on inside the mode."""
    method, argument = inner.send, None
    while True:
        previous = _grad_mode.enabled
        _grad_mode.enabled = mode
        try:
            value = method(argument)
        except StopIteration as stop:
            return stop.value
        finally:
            _grad_mode.enabled = previous
        try:
            argument, method = (yield value), inner.send
        except GeneratorExit:
            previous = _grad_mode.enabled
            _grad_mode.enabled = mode
            try:
                inner.close()
            finally:
                _grad_mode.enabled = previous
            raise
        except BaseException as error:
            argument, method = error, inner.throw


class no_grad(_SetGradMode):
    """Turn graph recording off, as a context manager or a decorator.

    Grad mode is per thread. The mode in force before is restored on exit, also when one
    ``no_grad()`` object is reused in nested ``with`` blocks. On a generator function, the
    mode holds while the generator's body runs (between the caller's ``next`` calls and each
    ``yield``), never in the caller's code between them.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> with mg.no_grad():
        ...     (x * 2).requires_grad
        False
    """

    _mode = False


class enable_grad(_SetGradMode):
    """Turn graph recording back on inside a ``no_grad`` block (context manager or decorator).

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0], requires_grad=True)
        >>> with mg.no_grad(), mg.enable_grad():
        ...     (x * 2).requires_grad
        True
    """

    _mode = True


# ---------------------------------------------------------------------------------------------
# what watches the engine (hooks, traces, anomaly mode): nothing, unless asked
# ---------------------------------------------------------------------------------------------
class _Observer(threading.local):
    """The object watching this thread's operations, or ``None``.

    ``minigrad._watch`` sets it while a trace or anomaly mode is on: ``forward(cls, ctx,
    inputs, attrs)`` then runs each op's forward and ``rule(node, grad)`` each backward rule,
    in place of the engine calling them directly, and ``Layer`` tells it which layer runs.
    """

    active: Any = None


_observer = _Observer()

# Tensor.register_hook keeps a node's or a leaf's hooks in its ``_hooks`` slot ({handle id:
# hook}), and counts here the nodes and leaves that have some (minigrad.hooks keeps the count):
# backward looks for hooks only while there are any.
_hooked = 0


def _run_grad_hooks(hooks: dict, g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``g`` passed through ``hooks`` (a node's or a leaf's), in the order they were registered.

    Each hook sees a read-only view (a gradient may be shared with other inputs) and may return
    a replacement of the same shape.
    """
    for hook in list(hooks.values()):
        view = g.view()
        view.flags.writeable = False
        result = hook(view)
        if result is None or result is view:
            continue
        result = np.asarray(result.data if isinstance(result, Tensor) else result)
        if result.shape != shape:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                f"{result.shape} for a tensor of shape {shape}"
            )
        g = result.astype(g.dtype, copy=False)
    return g


# ---------------------------------------------------------------------------------------------
# Function and Node
# ---------------------------------------------------------------------------------------------
class Node:
    """The context ``ctx`` handed to a rule, and the graph node it becomes.

    ``forward`` keeps arrays for ``backward`` with :meth:`save` (they are released after the
    node's backward has run) and may set plain attributes (axes, shapes, flags) on ``ctx``.

    Attributes:
        function: the :class:`Function` subclass whose rule this node runs.
        edges: one entry per input: the producing :class:`Node`, the leaf ``Tensor`` that
            requires grad, or ``None`` when no gradient can flow there.
        needs_input_grad: one bool per input; ``backward`` skips the gradients marked False.
        requires_grad: whether any input requires grad (``forward`` may skip saving if not).
        saved: the arrays passed to :meth:`save`.
        shape, dtype: of the output, which is what the node's gradient must have.
        versions: for each saved array that is an input's or the output's data, the tensor's
            version counter, its value at the forward, and what the array was; ``backward``
            refuses to run the rule if one of them moved (the array was changed in place).

    While something watches the engine (a trace, anomaly mode), the forward also leaves a
    private ``_origin``: the layer call the op ran in and, in anomaly mode, the user's line.
    Hooks on the gradient of the node's output live in its private ``_hooks``.
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_hooks",
        "_origin",
        "dtype",
        "edges",
        "function",
        "needs_input_grad",
        "released",
        "requires_grad",
        "saved",
        "shape",
        "versions",
    )

    def __init__(self, function: type[Function], edges: tuple, requires_grad: bool) -> None:
        self.function = function
        self.edges = edges
        self.requires_grad = requires_grad
        self.needs_input_grad = tuple(edge is not None for edge in edges)
        self.saved: tuple = ()
        self.versions: tuple = ()
        self.released = False

    def save(self, *arrays: Any) -> None:
        """Keep ``arrays`` for ``backward``; a no-op when no input requires grad."""
        if self.requires_grad:
            self.saved = arrays

    def save_for_backward(self, *arrays: Any) -> None:
        """PyTorch's name for :meth:`save`."""
        self.save(*arrays)

    @property
    def saved_tensors(self) -> tuple:
        """PyTorch's name for :attr:`saved`."""
        return self.saved

    @property
    def name(self) -> str:
        """The operation's name, e.g. ``"MatMul"``."""
        return self.function.__name__

    def __repr__(self) -> str:
        state = ", released" if self.released else ""
        return f"<Node {self.name} shape={getattr(self, 'shape', '?')}{state}>"


class Function:
    """Base class of every differentiable operation.

    Subclasses define ``forward(ctx, *arrays, **attrs)`` and ``backward(ctx, grad)`` as static
    methods on ndarrays. ``backward`` returns one gradient per positional input (a bare array
    when there is one input), ``None`` where ``ctx.needs_input_grad`` is False. It may return a
    gradient of the broadcast output shape: the engine sums it down to the input's shape.

    A subclass whose output may be a view of its first input's memory (reshaping, indexing)
    sets ``returns_view = True``, so the two tensors share one version counter.

    Example:
        >>> import numpy as np, minigrad as mg
        >>> class Square(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved
        ...         return 2 * x * grad
        >>> x = mg.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).sum().backward(); x.grad
        array([6.], dtype=float32)
    """

    returns_view = False

    @staticmethod
    def forward(ctx: Node, *args: Any, **kwargs: Any) -> np.ndarray:
        """Compute the output from ndarrays: Tensor inputs arrive as arrays, constants as they
        are, keyword arguments are settings; keep what ``backward`` needs with ``ctx.save``."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> Any:
        """Given ``grad`` = dL/d(output), return dL/d(input) for each positional input of
        ``forward`` (a bare array when there is one; ``None`` where ``ctx.needs_input_grad``
        is False), of the input's shape or of the broadcast output shape."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any) -> Tensor:
        """Run ``forward`` on the inputs' data and record a node when a gradient may be needed.

        Positional inputs may be Tensors or constants (Python numbers, ndarrays); constants
        are passed to ``forward`` unchanged and receive no gradient.
        """
        record = False
        if _grad_mode.enabled:
            for t in inputs:
                if isinstance(t, Tensor) and t.requires_grad:
                    record = True
                    break
        if record:
            edges = tuple(
                (t._node or (t if t.requires_grad else None)) if isinstance(t, Tensor) else None
                for t in inputs
            )
        else:
            edges = (None,) * len(inputs)
        ctx = Node(cls, edges, record)
        watch = _observer.active
        if watch is None:
            arrays = [t.data if isinstance(t, Tensor) else t for t in inputs]
            out = cls.forward(ctx, *arrays, **attrs)
        else:
            out = watch.forward(cls, ctx, inputs, attrs)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        result = Tensor._wrap(out, ctx if record and out.dtype.kind == "f" else None)
        if cls.returns_view and isinstance(inputs[0], Tensor):
            _share_memory_version(inputs[0], result)
        if result._node is not None:
            ctx.shape = out.shape
            ctx.dtype = out.dtype
            if ctx.saved:
                ctx.versions = _saved_versions(ctx.saved, inputs, result)
        return result


class TensorFunction:
    """A custom op written the PyTorch way: ``forward`` and ``backward`` receive and return
    Tensors, and run under ``no_grad``, so bodies that call tensor methods
    (``input.clamp(min=0)``, ``grad_output.clone()``, ``grad[x < 0] = 0``) port unchanged.

    ``forward(ctx, *inputs)`` returns a Tensor and keeps what ``backward`` needs with
    ``ctx.save_for_backward(...)``; ``backward(ctx, grad_output)`` returns one gradient per
    input (a Tensor, an array, or ``None``), read back with ``ctx.saved_tensors``. Behind it
    sits an ordinary :class:`Function` on the tensors' arrays, so the graph, broadcasting
    and the version check on saved inputs work as for every op. :class:`Function` itself
    stays on ndarrays (the form minigrad's own rules take).

    Example:
        >>> import minigrad as mg
        >>> class MyReLU(TensorFunction):
        ...     @staticmethod
        ...     def forward(ctx, input):
        ...         ctx.save_for_backward(input)
        ...         return input.clamp(min=0)
        ...     @staticmethod
        ...     def backward(ctx, grad_output):
        ...         (input,) = ctx.saved_tensors
        ...         grad_input = grad_output.clone()
        ...         grad_input[input < 0] = 0
        ...         return grad_input
        >>> x = mg.tensor([-1.0, 2.0], requires_grad=True)
        >>> MyReLU.apply(x).sum().backward(); x.grad
        array([0., 1.], dtype=float32)
    """

    _rule: type[Function]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The Function the engine runs: it carries the subclass's name into the graph.
        cls._rule = type(
            cls.__name__,
            (Function,),
            {
                "__module__": cls.__module__,
                "__doc__": cls.__doc__,
                "forward": staticmethod(functools.partial(_tensor_forward, cls)),
                "backward": staticmethod(functools.partial(_tensor_backward, cls)),
            },
        )

    @staticmethod
    def forward(ctx: Node, *args: Any, **kwargs: Any) -> Tensor:
        """Compute the output Tensor from the input Tensors (under ``no_grad``)."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Node, grad_output: Tensor) -> Any:
        """Given ``grad_output`` (a Tensor), return the gradient of each input."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any) -> Tensor:
        """Run ``forward`` and record the op when an input requires grad."""
        if cls is TensorFunction:
            raise TypeError("TensorFunction.apply: subclass TensorFunction and call it there")
        return cls._rule.apply(*inputs, **attrs)


def _as_tensor_arg(value: Any) -> Any:
    return Tensor._wrap(value, None) if isinstance(value, np.ndarray) else value


def _as_array_result(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _tensor_forward(cls: type[TensorFunction], ctx: Node, *args: Any, **kwargs: Any) -> Any:
    with no_grad():
        out = cls.forward(ctx, *(_as_tensor_arg(a) for a in args), **kwargs)
    # Saved Tensors are kept as their arrays, the same objects as the inputs' data, so the
    # engine's version check covers them like any op's saved inputs.
    ctx.saved = tuple(_as_array_result(t) for t in ctx.saved)
    if not isinstance(out, (Tensor, np.ndarray)):
        raise TypeError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}")
    return _as_array_result(out)


def _tensor_backward(cls: type[TensorFunction], ctx: Node, grad: np.ndarray) -> Any:
    ctx.saved = tuple(_as_tensor_arg(a) for a in ctx.saved)
    # A read-only view: a body that writes into grad_output fails instead of corrupting
    # the engine's gradient (clone() it first, as PyTorch's tutorials do).
    grad = grad.view()
    grad.flags.writeable = False
    with no_grad():
        grads = cls.backward(ctx, Tensor._wrap(grad, None))
    if isinstance(grads, tuple):
        return tuple(_as_array_result(g) for g in grads)
    return _as_array_result(grads)


def _share_memory_version(base: Tensor, view: Tensor) -> None:
    """Give ``view`` the version counter of ``base`` when its data is a view into it."""
    if view.data.base is not None and np.may_share_memory(view.data, base.data):
        counter = view._version = base._shared_version()
        if counter.views is None:
            counter.views = weakref.WeakSet()
        counter.views.add(view)


def _saved_versions(saved: tuple, inputs: tuple, result: Tensor) -> tuple:
    """``(counter, version, what)`` for each saved array that is an input's or the output's
    data (arrays the rule derived itself, like im2col columns, need no check)."""
    versions = []
    for array in saved:
        if array is result.data:
            counter = result._shared_version()
            versions.append((counter, counter.value, "its output", array.shape))
            continue
        for i, t in enumerate(inputs):
            if isinstance(t, Tensor) and array is t.data:
                counter = t._shared_version()
                versions.append((counter, counter.value, f"its input {i}", array.shape))
                break
    return tuple(versions)


def _check_versions(node: Node) -> None:
    for counter, version, what, shape in node.versions:
        if counter.value != version:
            raise RuntimeError(
                f"{node.name}'s backward needs {what} (shape {shape}) as it was in the forward "
                f"pass, but it was changed in place since (version {version}, now "
                f"{counter.value}), e.g. by an optimizer step, an in-place method such as add_ "
                "or -=, or load_state_dict. Run backward before changing it, or compute out of "
                "place (y = y * 2 instead of y *= 2)."
            )


# ---------------------------------------------------------------------------------------------
# undoing broadcasting: the one place
# ---------------------------------------------------------------------------------------------
def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, down to ``shape``.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape`` in the forward pass, every
    element of ``x`` was used once per copy, so its gradient is the sum over the copies. A
    ``grad`` that ``shape`` does not broadcast to raises ``ValueError``.

    Example:
        >>> sum_to(np.ones((4, 2, 3)), (2, 1)).tolist()
        [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead >= 0:
        stretched = (lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
        axes = (*range(lead), *stretched)
        summed = grad.sum(axis=axes, keepdims=True) if axes else grad
        if summed.shape[lead:] == shape:
            return summed.reshape(shape)
    raise ValueError(f"a gradient of shape {grad.shape} cannot be summed to shape {shape}")


def _fit(grad: Any, shape: tuple[int, ...], dtype: np.dtype, node: Node, i: int) -> np.ndarray:
    """Bring a rule's gradient for input ``i`` to the input's shape and dtype."""
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != shape:
        try:
            grad = sum_to(grad, shape)
        except ValueError:
            raise RuntimeError(
                f"{node.name}.backward returned a gradient of shape {grad.shape} for input {i}, "
                f"which cannot be summed to the input's shape {shape}"
            ) from None
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


# ---------------------------------------------------------------------------------------------
# the graph walk
# ---------------------------------------------------------------------------------------------
_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to use gradients after the graph "
    "was freed): the saved arrays of {name} were released after the first backward. Pass "
    "retain_graph=True to the first backward if you need to backward through it again."
)


def _topological_order(roots: Iterable[Node], stop: set[int]) -> list[Node]:
    """Nodes reachable from ``roots`` (not past nodes whose id is in ``stop``), inputs first.

    An iterative depth-first search emitting each node after all the nodes it depends on.
    """
    order: list[Node] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.edges) if id(root) not in stop else iter(()))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                if type(edge) is Node and id(edge) not in seen:
                    seen.add(id(edge))
                    stack.append((edge, iter(edge.edges) if id(edge) not in stop else iter(())))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def key(t: Tensor) -> Node | Tensor:
    """Where a tensor sits in the graph: the node that produced it, or the leaf itself."""
    return t if t._node is None else t._node


def backward(
    roots: Sequence[Node | Tensor],
    grads: Sequence[np.ndarray],
    *,
    retain_graph: bool = False,
    accumulate: bool = True,
    capture: Sequence[Node | Tensor] = (),
    stop_at_capture: bool = False,
) -> list[np.ndarray | None]:
    """Backpropagate ``grads`` from ``roots`` through the recorded graph.

    Roots and captured places are given by :func:`key`: a tensor's node, or a leaf tensor.
    Holding a node keeps no tensor's data alive, which is how ``Layer`` remembers its last call.

    Args:
        roots: where to start; each must require grad.
        grads: the upstream gradient of each root, of the root's shape and dtype.
        retain_graph: keep the saved arrays so the graph can be walked again.
        accumulate: add gradients into the ``.grad`` of leaves that require grad. Leaves made
            by ``Layer`` to stand for its non-differentiable inputs never accumulate.
        capture: places whose total gradient is returned, in order; ``None`` for those the
            roots do not reach.
        stop_at_capture: do not walk past captured places (``Layer.backward``'s boundary).

    Returns:
        One gradient (or ``None``) per entry of ``capture``.
    """
    keys = list(capture)
    capture_ids = {id(k) for k in keys}
    stop = capture_ids if stop_at_capture else set()
    root_nodes = []
    node_grads: dict[int, np.ndarray] = {}
    leaf_grads: dict[int, np.ndarray] = {}
    leaves: dict[int, Tensor] = {}

    def deliver_to_leaf(leaf: Tensor, g: np.ndarray) -> None:
        at = id(leaf)
        if at in leaf_grads:
            leaf_grads[at] = leaf_grads[at] + g
        else:
            leaf_grads[at] = g
            leaves[at] = leaf

    watch = _observer.active
    hooked = _hooked > 0
    for root, g in zip(roots, grads, strict=True):
        if type(root) is not Node:
            deliver_to_leaf(root, g)
            continue
        node_grads[id(root)] = node_grads[id(root)] + g if id(root) in node_grads else g
        root_nodes.append(root)

    order = _topological_order(root_nodes, stop)

    # Which edges lead to a gradient somebody asked for: inputs come before their users in
    # ``order``, so one forward sweep settles it.
    wanted: set[int] = set()
    for node in order:
        if id(node) in stop:
            needs = (False,) * len(node.edges)
        else:
            needs = tuple(
                edge is not None
                and (
                    id(edge) in wanted
                    if type(edge) is Node
                    else id(edge) in capture_ids or (accumulate and edge._accumulates)
                )
                for edge in node.edges
            )
        node.needs_input_grad = needs
        if id(node) in capture_ids or True in needs:
            wanted.add(id(node))

    captured: dict[int, np.ndarray] = {}
    for node in reversed(order):
        g = node_grads.pop(id(node), None)
        if g is None or id(node) not in wanted:
            continue
        if hooked and (hooks := getattr(node, "_hooks", None)):
            g = _run_grad_hooks(hooks, g, node.shape)
        if id(node) in capture_ids:
            captured[id(node)] = g
            if id(node) in stop:
                continue
        if node.released:
            raise RuntimeError(_FREED_MESSAGE.format(name=node.name))
        if node.versions:
            _check_versions(node)
        grads_in = node.function.backward(node, g) if watch is None else watch.rule(node, g)
        if type(grads_in) is not tuple:
            grads_in = (grads_in,)
        if not retain_graph:
            node.saved = node.versions = ()
            node.released = True
            node.__dict__.clear()
        for i, (edge, gi, need) in enumerate(
            zip(node.edges, grads_in, node.needs_input_grad, strict=True)
        ):
            if gi is None or not need:
                continue
            if type(edge) is Node:
                gi = _fit(gi, edge.shape, edge.dtype, node, i)
                at = id(edge)
                node_grads[at] = node_grads[at] + gi if at in node_grads else gi
            else:
                deliver_to_leaf(edge, _fit(gi, edge.data.shape, edge.data.dtype, node, i))

    # A leaf's hooks see its total gradient of this pass, before it is accumulated.
    if hooked:
        for at, leaf in leaves.items():
            if hooks := getattr(leaf, "_hooks", None):
                leaf_grads[at] = _run_grad_hooks(hooks, leaf_grads[at], leaf.data.shape)

    # Leaves are written last so that no gradient array is mutated while the walk may still
    # read it. A stored gradient must be a writable array that no other tensor holds.
    handed_out: set[int] = set()

    def owned(g: np.ndarray) -> np.ndarray:
        base = g if g.base is None else g.base
        if id(base) in handed_out or not g.flags.writeable:
            return g.copy()
        handed_out.add(id(base))
        return g

    results: list[np.ndarray | None] = []
    for key_obj in keys:
        g = captured.get(id(key_obj)) if type(key_obj) is Node else leaf_grads.get(id(key_obj))
        results.append(None if g is None else owned(g))
    if accumulate:
        for at, leaf in leaves.items():
            if not leaf._accumulates or not leaf.requires_grad:
                continue
            g = leaf_grads[at]
            if leaf.grad is None:
                leaf.grad = in_place_array(owned(g))
            else:
                leaf.grad += g
    return results


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    *,
    retain_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[np.ndarray | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    ``grad_outputs`` gives the upstream gradient of each output (required for non-scalar
    outputs). An input the outputs do not depend on raises ``RuntimeError`` unless
    ``allow_unused=True``, which gives ``None`` for it.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> mg.grad((x * x).sum(), x)
        (array([2., 4.], dtype=float32),)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray, float, int)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots, seeds = prepare_roots(outputs, grad_outputs)
    results = backward(
        roots, seeds, retain_graph=retain_graph, accumulate=False, capture=[key(t) for t in inputs]
    )
    if not allow_unused:
        for i, g in enumerate(results):
            if g is None:
                raise RuntimeError(
                    f"grad: input {i} is not reachable from the outputs "
                    "(pass allow_unused=True to get None for it)"
                )
    return tuple(results)


def prepare_roots(outputs: list[Tensor], grad_outputs: list[Any]) -> tuple[list, list]:
    """Check each output can be differentiated; return their keys and upstream gradients."""
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs, strict=True)):
        if not out.requires_grad:
            raise RuntimeError(
                f"output {i} does not require grad: it was computed from tensors that do not "
                "require grad, or under no_grad()"
            )
        roots.append(key(out))
        seeds.append(seed_gradient(out.shape, out.dtype, g))
    return roots, seeds


def seed_gradient(shape: tuple[int, ...], dtype: np.dtype, grad: Any) -> np.ndarray:
    """The upstream gradient for a root of ``shape`` and ``dtype``: ones for a one-element
    output, else ``grad`` checked. Always a fresh array, so the caller's array never ends up
    inside some ``.grad``."""
    if grad is None:
        if math.prod(shape) != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for one-element outputs; this "
                f"output has shape {shape}, so pass grad= of that shape"
            )
        return np.ones(shape, dtype=dtype)
    g = grad.data if isinstance(grad, Tensor) else grad
    g = np.array(g, dtype=dtype, copy=True)
    if g.shape != shape:
        raise ValueError(f"backward: grad has shape {g.shape} but the output has shape {shape}")
    return g
