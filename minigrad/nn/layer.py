"""``Layer``, the base of every model part, and ``Parameter``, a tensor a layer learns.

A layer's parameters, buffers and sub-layers are plain attributes set in ``__init__``; the base
class registers them in insertion order as they are assigned. ``forward`` composes ops, and
``backward`` lives here once: it runs the same engine as ``loss.backward()`` from the layer's
last output down to its inputs, so no layer restates a derivative.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from minigrad import autograd, hooks
from minigrad.device import parse_to
from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A tensor that a layer learns: it requires grad and is found by ``parameters()``.

    The data is copied, so updating the parameter never changes the array it was made from.

    Example:
        >>> p = Parameter(np.zeros(3))
        >>> p.requires_grad, p.dtype
        (True, dtype('float32'))
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(
            np.array(data.data if isinstance(data, Tensor) else data, copy=True),
            requires_grad=requires_grad,
            dtype=dtype,
        )

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` did not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Layer:
    """Base class of every layer and model.

    Subclasses set parameters (``Parameter``), sub-layers (``Layer``) and buffers
    (``register_buffer``) as attributes in ``__init__`` and define ``forward``. Calling the
    layer runs ``forward`` and remembers its inputs and output, so that ``backward`` can later
    push a gradient through exactly this layer.

    Example:
        >>> import minigrad.nn as nn
        >>> class Affine(nn.Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = nn.Parameter(np.ones(2))
        ...     def forward(self, x):
        ...         return x * self.scale
        >>> layer = Affine(); y = layer(np.array([[1.0, 2.0]]))
        >>> layer.backward(np.ones((1, 2))), layer.scale.grad
        (array([[1., 1.]], dtype=float32), array([1., 2.], dtype=float32))
    """

    training: bool

    def __init__(self) -> None:
        # name -> "param" | "buffer" | "layer", in the order the attributes were first set
        object.__setattr__(self, "_registry", {})
        object.__setattr__(self, "_record", None)
        object.__setattr__(self, "_hooks", None)  # a hooks.LayerHooks once one is registered
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_registry")
        if registry is None:
            raise AttributeError(
                f"cannot assign {name!r} before Layer.__init__() has run: call "
                "super().__init__() first in your layer's __init__"
            )
        kind = registry.get(name)
        if isinstance(value, Parameter):
            kind = "param"
        elif isinstance(value, Layer):
            kind = "layer"
        elif kind == "buffer" and isinstance(value, Tensor):
            pass
        else:
            kind = None
        if kind is None:
            registry.pop(name, None)
        elif name not in registry or registry[name] != kind:
            registry.pop(name, None)
            registry[name] = kind
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Any) -> None:
        """Keep a non-learned array (e.g. running statistics) that ``state_dict`` saves and
        ``to`` converts. It is stored as a Tensor without grad.

        Example:
            >>> layer = Layer(); layer.register_buffer("count", np.zeros(1))
            >>> [name for name, _ in layer.named_buffers()]
            ['count']
        """
        tensor = value if isinstance(value, Tensor) else Tensor(np.array(value, copy=True))
        self._registry.pop(name, None)
        self._registry[name] = "buffer"
        object.__setattr__(self, name, tensor)

    # ------------------------------------------------------------------ traversal
    def _walk(self) -> Iterator[tuple[str, str, Any]]:
        """Every registered member below this layer as ``(dotted name, kind, value)``, in
        insertion order, descending into each sub-layer where it was registered (once)."""
        seen = {id(self)}
        stack = [("", self, iter(list(self._registry.items())))]
        while stack:
            prefix, layer, members = stack[-1]
            for name, kind in members:
                value = getattr(layer, name)
                yield prefix + name, kind, value
                if kind == "layer" and id(value) not in seen:
                    seen.add(id(value))
                    stack.append((f"{prefix}{name}.", value, iter(list(value._registry.items()))))
                    break
            else:
                stack.pop()

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (``features.0.weight``), each once, in the
        order the attributes were set.

        Example:
            >>> import minigrad.nn as nn
            >>> [n for n, _ in nn.Sequential(nn.Linear(2, 3)).named_parameters()]
            ['0.weight', '0.bias']
        """
        seen: set[int] = set()
        for name, kind, p in self._walk():
            if kind == "param" and id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter, each once, in registration order.

        Example:
            >>> import minigrad.nn as nn
            >>> sum(p.size for p in nn.Linear(2, 3).parameters())
            9
        """
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name.

        Example:
            >>> import minigrad.nn as nn
            >>> [n for n, _ in nn.BatchNorm1d(3).named_buffers()]
            ['running_mean', 'running_var']
        """
        for name, kind, b in self._walk():
            if kind == "buffer" and b is not None:
                yield name, b

    def buffers(self) -> Iterator[Tensor]:
        """Every buffer (non-learned state such as running statistics).

        Example:
            >>> import minigrad.nn as nn
            >>> len(list(nn.BatchNorm2d(4).buffers()))
            2
        """
        for _, b in self.named_buffers():
            yield b

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        """The direct sub-layers with their attribute names."""
        for name, kind in list(self._registry.items()):
            if kind == "layer":
                yield name, getattr(self, name)

    def children(self) -> Iterator[Layer]:
        """The direct sub-layers, in registration order.

        Example:
            >>> import minigrad.nn as nn
            >>> len(list(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).children()))
            2
        """
        for _, layer in self.named_children():
            yield layer

    def layers(self) -> Iterator[Layer]:
        """This layer and all layers below it (each once), depth-first.

        Example:
            >>> import minigrad.nn as nn
            >>> len(list(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).layers()))
            3
        """
        yield self
        seen = {id(self)}
        for _, kind, layer in self._walk():
            if kind == "layer" and id(layer) not in seen:
                seen.add(id(layer))
                yield layer

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Layer:
        """Put this layer and every sub-layer in training mode (or evaluation if False).

        Example:
            >>> import minigrad.nn as nn
            >>> nn.Sequential(nn.Dropout()).train(False)[0].training
            False
        """
        for layer in self.layers():
            object.__setattr__(layer, "training", bool(mode))
        return self

    def eval(self) -> Layer:
        """Put this layer and every sub-layer in evaluation mode.

        Example:
            >>> import minigrad.nn as nn
            >>> nn.Linear(2, 2).eval().training
            False
        """
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: set them to None, or zero them in place.

        Example:
            >>> import minigrad.nn as nn
            >>> layer = nn.Linear(2, 2); layer.zero_grad(); layer.weight.grad is None
            True
        """
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def to(self, *args: Any, **kwargs: Any) -> Layer:
        """Convert float parameters and buffers to a dtype in place (drops gradients).

        PyTorch's forms are accepted: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(dtype=...)``; the device may only be the CPU (see :func:`minigrad.device`).

        Example:
            >>> import minigrad.nn as nn
            >>> nn.Linear(2, 2).to("float64").weight.dtype, nn.Linear(2, 2).to("cpu").weight.dtype
            (dtype('float64'), dtype('float32'))
        """
        dtype = parse_to(f"{type(self).__name__}.to", args, kwargs)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"to: only float dtypes are supported, got {dtype}")
        for t in [*self.parameters(), *self.buffers()]:
            if t.data.dtype.kind == "f":
                t.data = t.data.astype(dtype)
                t.grad = None
        return self

    def cpu(self) -> Layer:
        """The layer itself (its arrays are always on the CPU).

        Example:
            >>> layer = Layer(); layer.cpu() is layer
            True
        """
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer by dotted name (saveable with ``minigrad.save``).

        Example:
            >>> import minigrad.nn as nn
            >>> sorted(nn.Linear(2, 3).state_dict())
            ['bias', 'weight']
        """
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.data.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state`` into the parameters and buffers, in place.

        ``state`` is a mapping from dotted names to arrays (or Tensors), as :meth:`state_dict`
        gives; anything else is a ``TypeError``. Shapes and dtypes must match exactly (the
        error names the key), and every target must be writable. With ``strict`` (the default),
        missing or unexpected keys are errors (``KeyError``); otherwise they are returned.
        Everything is checked before the first array is copied, so on any error nothing has
        changed.

        Example:
            >>> import minigrad.nn as nn
            >>> a, b = nn.Linear(2, 3), nn.Linear(2, 3)
            >>> _ = b.load_state_dict(a.state_dict())
            >>> bool((a.weight.data == b.weight.data).all())
            True
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: state must be a mapping of names to arrays (such as "
                f"state_dict() returns), got a {type(state).__name__}"
            )
        targets = dict(self.named_parameters())
        targets.update(self.named_buffers())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        arrays = {}
        for key, target in targets.items():
            if key not in state:
                continue
            value = state[key]
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.shape != target.data.shape:
                raise ValueError(
                    f"load_state_dict: {key!r} has shape {array.shape} in the state but "
                    f"{target.data.shape} in the model"
                )
            if array.dtype != target.data.dtype:
                raise ValueError(
                    f"load_state_dict: {key!r} has dtype {array.dtype} in the state but "
                    f"{target.data.dtype} in the model"
                )
            if not target.data.flags.writeable:
                raise ValueError(
                    f"load_state_dict: {key!r} is read-only in the model, so it cannot be loaded "
                    "into (nothing was changed)"
                )
            arrays[key] = array
        for key, array in arrays.items():
            np.copyto(targets[key].data, array)
            targets[key]._bump()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ running
    def forward(self, *inputs: Any) -> Any:
        """The computation; subclasses define it with ops on Tensors."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._hooks is not None or autograd._observer.active is not None:
            return self._call_observed(inputs, kwargs)
        if not autograd.is_grad_enabled():
            object.__setattr__(self, "_record", None)
            return self.forward(*_map(_as_tensor, inputs), **kwargs)
        inputs = _map(_as_input, inputs)
        out = self.forward(*inputs, **kwargs)
        # Remember where the inputs and outputs sit in the graph (nodes, or leaves), not the
        # tensors: a node holds no data, so the last call's activations can be freed.
        object.__setattr__(self, "_record", (_map(_input_place, inputs), _map(_output_place, out)))
        return out

    def _call_observed(self, inputs: tuple, kwargs: dict[str, Any]) -> Any:
        """``__call__`` when hooks are registered or something watches the engine: the layer
        is on the watcher's stack while it runs (its ops record it), the hooks run around
        ``forward``, and backward hooks route the call through a ``hooks.LayerCall``."""
        watch = autograd._observer.active
        if watch is not None:
            watch.enter_layer(self)
        try:
            inputs = _map(_as_tensor, inputs)
            if self._hooks is not None and self._hooks.forward_pre:
                inputs = hooks.run_forward_pre_hooks(self, inputs)
            recording = autograd.is_grad_enabled()
            if recording:
                inputs = _map(_as_input, inputs)
            seen, call = inputs, None  # what forward sees: the inputs, or routed through a call
            if recording and self._hooks is not None and self._hooks.backward:
                call, routed = hooks.enter_call(self, inputs, _leaves(inputs))
                seen = _replace_leaves(inputs, routed)
            out = self.forward(*seen, **kwargs)
            if self._hooks is not None and self._hooks.forward:
                out = hooks.run_forward_hooks(self, seen, out)
            if call is not None:
                out = _replace_leaves(out, hooks.leave_call(call, out, _leaves(out)))
            record = (_map(_input_place, inputs), _map(_output_place, out)) if recording else None
            object.__setattr__(self, "_record", record)
            return out
        finally:
            if watch is not None:
                watch.leave_layer()

    def backward(self, grad_output: Any = None, retain_graph: bool = False) -> Any:
        """Push ``grad_output`` (dL/d output) back through this layer's last call.

        Accumulates the gradients of this layer's parameters, exactly as ``loss.backward()``
        would, and returns dL/d input as ndarrays in the structure of the inputs: one array for
        one input, a tuple for several (nested as the inputs were, e.g. ``(x, (h0, c0))``),
        ``None`` for an input that is not differentiable (class targets). ``grad_output``
        comes in the structure of the output (``None`` for an output that is not used); it
        may be omitted for a one-element output (a loss). Calling ``backward`` on each layer
        of a ``Sequential`` from last to first reproduces ``loss.backward()``.

        Example:
            >>> import minigrad.nn as nn
            >>> relu = nn.ReLU(); _ = relu(np.array([-1.0, 2.0]))
            >>> relu.backward(np.array([5.0, 5.0]))
            array([0., 5.], dtype=float32)
        """
        name = type(self).__name__
        if self._record is None:
            raise RuntimeError(
                f"{name}.backward() needs a forward pass first: call the layer (with gradients "
                "enabled, not under no_grad()) before calling backward"
            )
        if type(self._record) is not tuple:  # a member of a fused pair keeps its own record
            return self._record.backward(name, grad_output)
        places, outputs = self._record
        roots, seeds = [], []
        for i, (output, grad) in enumerate(_pairs(outputs, grad_output, name)):
            if output is None:
                if grad is not None:
                    raise RuntimeError(
                        f"{name}.backward(): output {i} does not require grad, but a gradient "
                        "was given for it"
                    )
                continue
            if grad is None and not (grad_output is None and _one_element(outputs)):
                continue  # an output the loss does not use
            roots.append(output.root)
            seeds.append(autograd.seed_gradient(output.shape, output.dtype, grad))
        if not roots:
            raise RuntimeError(
                f"{name}.backward(): no output of the last call depends on anything that "
                "requires grad, or no gradient was given for one that does"
                if grad_output is None
                else f"{name}.backward(): every gradient given was None"
            )
        flat_places = _leaves(places)
        grads = iter(
            autograd.backward(
                roots,
                seeds,
                retain_graph=retain_graph,
                capture=[p for p in flat_places if p is not None],
                stop_at_capture=True,
            )
        )
        flat = [None if p is None else next(grads) for p in flat_places]
        result = _unflatten(places, iter(flat))
        return result[0] if len(result) == 1 else result

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> hooks.RemovableHandle:
        """Run ``hook(layer, inputs)`` before each ``forward``; it may return replacement
        inputs (a tuple, or one value for a single input). Returns a removable handle.

        Example:
            >>> import minigrad.nn as nn
            >>> relu = nn.ReLU()
            >>> handle = relu.register_forward_pre_hook(lambda layer, inputs: -inputs[0])
            >>> relu(np.array([-1.0, 2.0])).tolist()
            [1.0, 0.0]
        """
        return hooks.register_layer_hook(self, "forward_pre", hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> hooks.RemovableHandle:
        """Run ``hook(layer, inputs, output)`` after each ``forward``; it may return a
        replacement output. Returns a removable handle.

        Example:
            >>> import minigrad.nn as nn
            >>> seen = []
            >>> fc = nn.Linear(3, 2)
            >>> handle = fc.register_forward_hook(lambda layer, i, out: seen.append(out.shape))
            >>> _ = fc(np.zeros((4, 3))); seen
            [(4, 2)]
        """
        return hooks.register_layer_hook(self, "forward", hook)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> hooks.RemovableHandle:
        """Run ``hook(layer, grad_input, grad_output)`` when a backward pass has computed the
        gradients with respect to this layer's inputs.

        Both come as ndarrays in the structure of the call's inputs and output, as tuples
        (``(g,)`` for one tensor): ``grad_input`` holds dL/d input for each positional input
        (``None`` for inputs that do not require grad, such as data or class targets, and
        where no gradient is needed), ``grad_output`` dL/d output (``None`` for an output
        the loss does not use). The hook may return a replacement ``grad_input`` in the same
        structure. It runs for ``loss.backward()`` and ``layer.backward()`` alike, once per
        call of the layer that the gradient reaches. Returns a removable handle.

        Example:
            >>> import minigrad.nn as nn
            >>> relu = nn.ReLU()
            >>> def show(layer, grad_input, grad_output):
            ...     print(grad_output[0], grad_input[0])
            >>> handle = relu.register_full_backward_hook(show)
            >>> x = mg.tensor([-1.0, 2.0], requires_grad=True)
            >>> (relu(x) * 3).sum().backward()
            [3. 3.] [0. 3.]
        """
        return hooks.register_layer_hook(self, "backward", hook)

    # ------------------------------------------------------------------ printing & copying
    def extra_repr(self) -> str:
        """The settings shown inside this layer's ``repr``."""
        return ""

    def summary(self, input_shape: Sequence[int]) -> str:
        """A table of the layers below this one, their output shapes for inputs of
        ``input_shape`` (one example, without the batch axis) and their parameter counts; see
        :func:`minigrad.models.summary`.

        Example:
            >>> import minigrad.nn as nn
            >>> print(nn.Sequential(nn.Linear(3, 2)).summary((3,)).splitlines()[2])
            0       Linear   (N, 2)                  8
        """
        from minigrad.models import summary

        return summary(self, input_shape)

    def __repr__(self) -> str:
        children = [f"({name}): {layer!r}" for name, layer in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        body = "\n".join("  " + line for child in children for line in child.split("\n"))
        return f"{head}\n{body}\n)"

    def __getstate__(self) -> dict[str, Any]:
        # the last call's graph is not part of a layer's state (copies and pickles skip it)
        state = dict(self.__dict__)
        state["_record"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def copy(self) -> Layer:
        """An independent deep copy (parameters, buffers and settings).

        Example:
            >>> import minigrad.nn as nn
            >>> a = nn.Linear(2, 2); b = a.copy(); b.weight.data[...] = 0
            >>> bool((a.weight.data != 0).any())
            True
        """
        return copy.deepcopy(self)


def _as_tensor(x: Any) -> Any:
    return Tensor(x) if isinstance(x, (np.ndarray, list)) else x


def _as_input(x: Any) -> Any:
    """An input as recorded by ``Layer.__call__``.

    A float input that does not require grad is replaced by a leaf that does, but never
    accumulates a ``.grad``: ``loss.backward()`` skips it at no cost, while ``layer.backward``
    can still return the gradient with respect to it.
    """
    x = _as_tensor(x)
    if isinstance(x, Tensor) and not x.requires_grad and x.data.dtype.kind == "f":
        stand_in = Tensor._wrap(x.data, None)
        stand_in._version = x._shared_version()  # the same memory: the same counter
        stand_in.requires_grad = True
        stand_in._accumulates = False
        return stand_in
    return x


# Layers take and return nested tuples of tensors (a recurrent layer returns
# ``(output, (h_n, c_n))``); these helpers walk such structures. Lists are data, not structure.
def _map(fn: Any, tree: Any) -> Any:
    """``tree`` with ``fn`` applied to every leaf (tuples, named tuples included, nest)."""
    if isinstance(tree, tuple):
        items = [_map(fn, item) for item in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return fn(tree)


def _replace_leaves(tree: Any, leaves: list[Any]) -> Any:
    """``tree`` (named tuples kept) with its leaves replaced by ``leaves``, in order."""
    replacements = iter(leaves)
    return _map(lambda _: next(replacements), tree)


def _leaves(tree: Any) -> list[Any]:
    """The leaves of a nested tuple, depth first."""
    if isinstance(tree, tuple):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _unflatten(tree: Any, leaves: Any) -> Any:
    """Plain tuples shaped like ``tree``, filled from the iterator ``leaves``."""
    if isinstance(tree, tuple):
        return tuple(_unflatten(item, leaves) for item in tree)
    return next(leaves)


def _input_place(x: Any) -> Any:
    return autograd.key(x) if isinstance(x, Tensor) and x.requires_grad else None


class _Output:
    """Where a differentiable output of a layer's last call sits in the graph."""

    __slots__ = ("dtype", "root", "shape")

    def __init__(self, y: Tensor) -> None:
        self.root, self.shape, self.dtype = autograd.key(y), y.shape, y.dtype


def _output_place(y: Any) -> _Output | None:
    return _Output(y) if isinstance(y, Tensor) and y.requires_grad else None


def _one_element(outputs: Any) -> bool:
    """Whether the output is a single differentiable one-element tensor (a loss)."""
    return not isinstance(outputs, tuple) and outputs is not None and math.prod(outputs.shape) == 1


def _pairs(outputs: Any, grads: Any, name: str) -> list[tuple[Any, Any]]:
    """Each output's record with its gradient, ``grads`` being in the outputs' structure
    (``None`` standing for a whole subtree of unused outputs)."""
    if not isinstance(outputs, tuple):
        return [(outputs, grads)]
    if grads is None:
        return [(leaf, None) for leaf in _leaves(outputs)]
    if not isinstance(grads, (tuple, list)) or len(grads) != len(outputs):
        got = f"{len(grads)} items" if isinstance(grads, (tuple, list)) else type(grads).__name__
        raise ValueError(
            f"{name}.backward(): the output is a tuple of {len(outputs)}, so grad_output must "
            f"be a tuple of {len(outputs)} in the same structure (None for unused parts); got "
            f"{got}"
        )
    return [pair for o, g in zip(outputs, grads, strict=True) for pair in _pairs(o, g, name)]
