"""Hooks: functions of yours that run when a gradient is computed or a layer runs.

PyTorch's names and semantics:

- ``tensor.register_hook(fn)``: ``fn(grad)`` runs when the tensor's gradient has been computed
  (for a leaf: its total gradient of this backward pass, before it is added to ``.grad``) and
  may return a replacement.
- ``layer.register_forward_pre_hook(fn)``: ``fn(layer, inputs)`` before ``forward``; may
  return replacement inputs.
- ``layer.register_forward_hook(fn)``: ``fn(layer, inputs, output)`` after ``forward``; may
  return a replacement output.
- ``layer.register_full_backward_hook(fn)``: ``fn(layer, grad_input, grad_output)`` once the
  gradients with respect to the layer's inputs are computed; may return replacement
  ``grad_input``.

Each returns a :class:`RemovableHandle`. Gradients are ndarrays, as everywhere in minigrad.
Hooks are not state: ``state_dict`` never sees them. ``layer.copy()`` (a deep copy) keeps the
layer hooks, as PyTorch's ``copy.deepcopy`` of a module does, but removing a handle affects only
the layer it was registered on; tensor hooks belong to the tensor object and a copy of a tensor
has none (as a deep-copied PyTorch ``Parameter``).

How a full backward hook sees exactly its layer's gradients: while a layer has backward hooks,
each call routes its inputs that require grad through one node of the graph (:class:`LayerCall`,
with an :class:`EnterLayer` per input) and its outputs through :class:`LeaveLayer`, so the
gradient reaching the inputs *from this call* is gathered in one place before it flows on
(PyTorch wraps modules the same way). Traces and drawings leave these nodes out.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.autograd import Function, Node
from minigrad.tensor import Tensor

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """What every ``register_*hook`` method returns: :meth:`remove` takes the hook off.

    Also a context manager that removes the hook when the block ends.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> (x * 3).sum().backward(); x.grad
        array([30., 30.], dtype=float32)
        >>> handle.remove(); x.grad = None
        >>> (x * 3).sum().backward(); x.grad
        array([3., 3.], dtype=float32)
    """

    def __init__(self, hooks: dict[int, Callable], on_empty: Callable[[], None]) -> None:
        self.id = next(_ids)
        self._hooks = hooks
        self._on_empty = on_empty

    def remove(self) -> None:
        """Take the hook off (doing it twice is harmless)."""
        if self._hooks.pop(self.id, None) is not None and not self._hooks:
            self._on_empty()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


# ---------------------------------------------------------------------------------------------
# tensor hooks
# ---------------------------------------------------------------------------------------------
class _GradHooks(dict):
    """The hooks on one node or leaf ({handle id: hook}), kept in its ``_hooks`` slot, so that
    a hook that refers to its own tensor makes a cycle the garbage collector can free. While
    it holds hooks, its place is counted in ``autograd._hooked``; ``finalizer`` uncounts it if
    the place is freed first."""

    __slots__ = ("finalizer",)


_count_lock = threading.Lock()


def _count(change: int) -> None:
    with _count_lock:
        autograd._hooked += change


def _emptied(hooks: _GradHooks) -> None:
    """The last hook of a place was removed: uncount it (unless its finalizer already did)."""
    if hooks.finalizer.detach() is not None:
        _count(-1)


def register_tensor_hook(t: Tensor, hook: Callable[[np.ndarray], Any]) -> RemovableHandle:
    """Register ``hook`` on the gradient of ``t`` (see ``Tensor.register_hook``)."""
    if not callable(hook):
        raise TypeError(f"register_hook: expected a callable, got {type(hook).__name__}")
    if not t.requires_grad:
        raise RuntimeError(
            "register_hook: this tensor does not require grad, so no gradient is ever computed "
            "for it (make it with requires_grad=True, or compute it from one that does)"
        )
    place = autograd.key(t)  # the node that made it, or the leaf itself
    hooks = getattr(place, "_hooks", None)
    if hooks is None:
        hooks = place._hooks = _GradHooks()
    if not hooks:
        _count(+1)
        hooks.finalizer = weakref.finalize(place, _count, -1)
    handle = RemovableHandle(hooks, lambda: _emptied(hooks))
    hooks[handle.id] = hook
    return handle


# ---------------------------------------------------------------------------------------------
# layer hooks
# ---------------------------------------------------------------------------------------------
class LayerHooks:
    """The hooks registered on one layer, by kind, in registration order."""

    def __init__(self) -> None:
        self.forward_pre: dict[int, Callable] = {}
        self.forward: dict[int, Callable] = {}
        self.backward: dict[int, Callable] = {}

    def empty(self) -> bool:
        return not (self.forward_pre or self.forward or self.backward)


def register_layer_hook(layer: Any, kind: str, hook: Callable) -> RemovableHandle:
    """Register ``hook`` of ``kind`` (``"forward_pre"``, ``"forward"`` or ``"backward"``, an
    attribute of :class:`LayerHooks`) on ``layer``."""
    if not callable(hook):
        raise TypeError(f"register_{kind}_hook: expected a callable, got {type(hook).__name__}")
    hooks = layer._hooks
    if hooks is None:
        hooks = LayerHooks()
        object.__setattr__(layer, "_hooks", hooks)
    table = getattr(hooks, kind)
    owner = weakref.ref(layer)

    def on_empty() -> None:
        # With no hook left, calls take the plain path again.
        target = owner()
        if target is not None and target._hooks is hooks and hooks.empty():
            object.__setattr__(target, "_hooks", None)

    handle = RemovableHandle(table, on_empty)
    table[handle.id] = hook
    return handle


def run_forward_pre_hooks(layer: Any, inputs: tuple) -> tuple:
    """The inputs after every forward pre-hook (a hook returning a non-tuple gives one input)."""
    for hook in list(layer._hooks.forward_pre.values()):
        result = hook(layer, inputs)
        if result is not None:
            inputs = result if isinstance(result, tuple) else (result,)
    return inputs


def run_forward_hooks(layer: Any, inputs: tuple, output: Any) -> Any:
    """The output after every forward hook."""
    for hook in list(layer._hooks.forward.values()):
        result = hook(layer, inputs, output)
        if result is not None:
            output = result
    return output


# ---------------------------------------------------------------------------------------------
# full backward hooks: the nodes that gather one call's gradients
# ---------------------------------------------------------------------------------------------
# A leaf that asks for a gradient and never gets one: the LayerCall node keeps it as its first
# input so that the engine always runs the node (and the hooks) when a gradient reaches the
# call, even if none of the layer's inputs needs one (the data fed to a first layer).
_ALWAYS = Tensor._wrap(np.zeros((), dtype=np.float32), None)
_ALWAYS.requires_grad = True


def _same_memory(result: Tensor, source: Tensor) -> Tensor:
    result._version = source._shared_version()
    return result


class _Call:
    """One call of a layer with backward hooks: its inputs and output (nested tuples, as
    ``Layer`` takes and returns them), the positions of the differentiable inputs among the
    flattened ones, and the gradients its boundary nodes gather during a backward pass."""

    def __init__(self, layer: Any, inputs: tuple, differentiable: list[int]) -> None:
        self.layer, self.inputs, self.differentiable = layer, inputs, differentiable
        self.output: Any = None
        self.gate: Tensor | None = None
        self.grad_inputs: dict[int, np.ndarray] = {}
        self.grad_outputs: dict[int, np.ndarray] = {}

    def fire(self, grads: list[np.ndarray | None]) -> list:
        """Run the layer's backward hooks on this call's gradients (one per differentiable
        input); the input gradients to pass on, replaced if a hook says so."""
        from minigrad.nn.layer import _leaves, _unflatten  # layer.py imports this module

        flat_in: list[Any] = [None] * len(_leaves(self.inputs))
        for i, g in zip(self.differentiable, grads, strict=True):
            flat_in[i] = g
        outputs = self.output if isinstance(self.output, tuple) else (self.output,)
        flat_out = [self.grad_outputs.pop(j, None) for j in range(len(_leaves(outputs)))]
        self.grad_outputs.clear()
        grad_output = _unflatten(outputs, iter(flat_out))
        name = type(self.layer).__name__
        for hook in list(self.layer._hooks.backward.values()) if self.layer._hooks else []:
            grad_input = _unflatten(self.inputs, iter(flat_in))
            result = hook(self.layer, grad_input, grad_output)
            if result is None:
                continue
            replaced = _leaves(result if isinstance(result, tuple) else (result,))
            if len(replaced) != len(flat_in):
                raise RuntimeError(
                    f"{name}: a backward hook returned {len(replaced)} gradients for "
                    f"{len(flat_in)} inputs (return them in the structure of grad_input)"
                )
            for i, (new, old) in enumerate(zip(replaced, flat_in, strict=True)):
                if (new is None) != (old is None) or (
                    new is not None and np.shape(new) != np.shape(old)
                ):
                    raise RuntimeError(
                        f"{name}: a backward hook returned {_describe(new)} for input {i}, "
                        f"whose gradient is {_describe(old)}"
                    )
            flat_in = [None if g is None else np.asarray(g) for g in replaced]
        return [flat_in[i] for i in self.differentiable]


def _describe(g: Any) -> str:
    return "None" if g is None else f"an array of shape {np.shape(g)}"


class LayerCall(Function):
    """One call of a layer with backward hooks. Its inputs are an always-wanted leaf and the
    layer's differentiable inputs; its output is a 0-d gate that each :class:`EnterLayer`
    and :class:`LeaveLayer` of the call takes, so it runs after all of them in a backward
    pass, with the call's gradients gathered: then the hooks run."""

    @staticmethod
    def forward(ctx: Node, always: np.ndarray, *inputs: np.ndarray, call: _Call) -> np.ndarray:
        ctx.call = call
        return np.zeros((), dtype=np.float32)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        call = ctx.call
        grads = [
            call.grad_inputs.pop(k, None) if need else None
            for k, need in enumerate(ctx.needs_input_grad[1:])
        ]
        call.grad_inputs.clear()
        return (None, *call.fire(grads))


class EnterLayer(Function):
    """The identity on input ``index`` of a hooked call; hands its gradient to the call (which
    passes it on to ``x``, so nothing flows along the edge to ``x`` itself: the edge is there
    so that drawings and traces see where the input came from)."""

    @staticmethod
    def forward(ctx: Node, gate: np.ndarray, x: np.ndarray, call: _Call, index: int) -> Any:
        ctx.call, ctx.index = call, index
        return x

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        ctx.call.grad_inputs[ctx.index] = grad
        return np.zeros((), dtype=grad.dtype), None


class LeaveLayer(Function):
    """The identity on output ``index`` of a hooked call; notes its gradient for the call."""

    @staticmethod
    def forward(ctx: Node, gate: np.ndarray, y: np.ndarray, call: _Call, index: int) -> Any:
        ctx.call, ctx.index = call, index
        return y

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        ctx.call.grad_outputs[ctx.index] = grad
        return np.zeros((), dtype=grad.dtype), grad


# The graph nodes that hooks add: traces and drawings look through them. An EnterLayer or
# LeaveLayer node passes on the tensor its second edge leads to.
PLUMBING = frozenset({LayerCall, EnterLayer, LeaveLayer})
PASS_THROUGH = frozenset({EnterLayer, LeaveLayer})


def enter_call(layer: Any, inputs: tuple, flat: list[Any]) -> tuple[_Call, list[Any]]:
    """Route a hooked layer's inputs that require grad (``flat``: ``inputs`` flattened) through
    one :class:`LayerCall`; returns the call and the flattened inputs ``forward`` should see.

    Data (the stand-ins ``Layer`` makes for arrays and tensors without ``requires_grad``) is
    not routed: its ``grad_input`` is ``None``, as in PyTorch, and no gradient is computed for
    it just for the hook.
    """
    differentiable = [
        i
        for i, x in enumerate(flat)
        if isinstance(x, Tensor) and x.requires_grad and (x._node is not None or x._accumulates)
    ]
    call = _Call(layer, inputs, differentiable)
    call.gate = LayerCall.apply(_ALWAYS, *(flat[i] for i in differentiable), call=call)
    routed = list(flat)
    for k, i in enumerate(differentiable):
        entered = EnterLayer.apply(call.gate, flat[i], call=call, index=k)
        routed[i] = _same_memory(entered, flat[i])
    return call, routed


def leave_call(call: _Call, output: Any, flat: list[Any]) -> list[Any]:
    """Route the differentiable outputs of a hooked call (``flat``: ``output`` flattened)
    through :class:`LeaveLayer`; the flattened outputs the caller gets. The call's hooks run
    once the gradients of the routed inputs are known, or, when no input is routed, once
    those of the outputs are."""
    call.output = output
    return [
        _same_memory(LeaveLayer.apply(call.gate, y, call=call, index=j), y)
        if isinstance(y, Tensor) and y.requires_grad
        else y
        for j, y in enumerate(flat)
    ]
