"""A step-by-step record of forward and backward passes: ``with minigrad.trace(model) as t:``.

Every operation run inside the block becomes a :class:`Row`, in execution order: a forward row
when the op computes its result, a backward row when its rule turns the gradient arriving at its
output into gradients for its inputs. A row says which op ran (and on which tier of kernels),
in which layer (the innermost layer whose ``forward`` called it, by dotted name when the model
is given), and what went in and out: shapes, norms, and for small tensors the numbers
themselves. ``print(t)`` shows the table; ``t.rows`` holds the data; ``minigrad.draw_graph(t,
path)`` draws it.

Tensors are named so that rows refer to each other: ``#3`` is the result of row 3 (of the op
that row ran), parameters have their dotted names (``fc1.weight``), inputs are ``input1``,
``input2``... and results of ops that ran before the trace began are named by their op
(``MatMul1``). A backward row's ``output`` is the gradient arriving at the op's result and its
``inputs`` are the gradients it sends to each input (``None`` where none is needed), named
after the tensors they are gradients of.

A trace keeps every tensor it names alive until it is freed: trace a step or two, not a
training run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import _watch, hooks
from minigrad.autograd import Node, sum_to
from minigrad.nn.layer import Parameter
from minigrad.tensor import Tensor

__all__ = ["Row", "Trace", "Value", "trace"]


@dataclass(frozen=True)
class Value:
    """One array a trace saw: the tensor it belongs to (or is the gradient of), its shape, its
    norm (``None`` if not float) and, when it has at most ``max_values`` elements, a copy of
    the numbers (else ``None``)."""

    name: str
    shape: tuple[int, ...]
    norm: float | None
    values: np.ndarray | None

    def describe(self) -> str:
        """The numbers on one line, or the norm when they were not kept."""
        if self.values is not None and self.values.ndim == 0:
            return f"{self.values.item():.6g}"
        if self.values is not None:
            text = np.array2string(
                self.values, precision=4, suppress_small=True, max_line_width=10**9
            )
            return " ".join(text.split())
        return "" if self.norm is None else f"norm {self.norm:.4g}"


@dataclass(frozen=True)
class Row:
    """One step of a trace.

    ``phase`` is ``"forward"`` or ``"backward"``; ``op`` the operation's name and ``tier`` the
    kind of rule that ran (``"reference"``, ``"fast"`` or ``"custom"``); ``layers`` the
    layers whose ``forward`` it ran inside, outermost first, and ``calls`` which calls of them
    (numbers counting the layer calls the trace saw: the 50 steps of an unrolled cell are 50
    calls); ``layer`` the innermost of them (``None`` outside layers); ``node`` the name of the
    op's result.
    Forward: ``inputs`` are the operands, ``output`` the result. Backward: ``output`` is the
    gradient arriving at the result, ``inputs`` the gradients sent to each operand.
    """

    step: int
    phase: str
    op: str
    tier: str
    layers: tuple[str, ...]
    calls: tuple[int, ...]
    node: str
    inputs: tuple[Value | None, ...]
    output: Value

    @property
    def layer(self) -> str | None:
        """The innermost layer the op ran in, or ``None``."""
        return self.layers[-1] if self.layers else None


class Trace(_watch.Watcher):
    """The context manager :func:`trace` returns; see the module documentation.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, -2.0], requires_grad=True)
        >>> with mg.trace() as t:
        ...     x.relu().sum().backward()
        >>> [(r.phase, r.op) for r in t.rows]
        [('forward', 'ReLU'), ('forward', 'Sum'), ('backward', 'Sum'), ('backward', 'ReLU')]
        >>> t.rows[-1].inputs[0].values
        array([1., 0.], dtype=float32)
    """

    def __init__(self, model: Any = None, max_values: int = 16) -> None:
        self.model = model
        self.max_values = max_values
        self.rows: list[Row] = []
        self._layers = {id(layer): name for name, layer in _watch.layer_names(model)}
        self._params = {id(p): n for n, p in model.named_parameters()} if model is not None else {}
        self._names: dict[int, str] = {}  # id of a node, leaf or no-grad result -> its name
        self._keep: list[Any] = []  # what is named stays alive, so no id is reused meanwhile
        self._counts: Counter[str] = Counter()
        self._calls: dict[int, int] = {}  # the dispatcher's call numbers, renumbered from 1

    def __enter__(self) -> Trace:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ naming
    def _new_name(self, kind: str) -> str:
        self._counts[kind] += 1
        return f"{kind}{self._counts[kind]}"

    def _name(self, obj: Any, make: Any) -> str:
        name = self._names.get(id(obj))
        if name is None:
            name = self._names[id(obj)] = make()
            self._keep.append(obj)
        return name

    def _tensor_name(self, t: Tensor) -> str:
        if t._node is not None:
            return self._node_name(t._node)
        if id(t.data) in self._names:  # the result of an op that recorded no node
            return self._names[id(t.data)]
        return self._leaf_name(t)

    def _node_name(self, node: Node) -> str:
        return self._name(node, lambda: self._new_name(node.name))

    def _leaf_name(self, t: Tensor) -> str:
        if id(t) in self._params:
            return self._params[id(t)]
        if isinstance(t, Parameter):
            kind = "param"
        else:
            kind = "leaf" if t.requires_grad and t._accumulates else "input"
        return self._name(t, lambda: self._new_name(kind))

    def _edge_name(self, edge: Node | Tensor) -> str:
        return self._node_name(edge) if type(edge) is Node else self._leaf_name(edge)

    def _value(self, name: str, array: Any) -> Value:
        array = np.asarray(array)
        norm = float(np.linalg.norm(array.ravel(order="K"))) if array.dtype.kind in "fiub" else None
        kept = np.array(array, copy=True) if array.size <= self.max_values else None
        return Value(name, array.shape, norm, kept)

    def _where(self, node: Node) -> tuple[tuple[str, ...], tuple[int, ...]]:
        origin = _watch.origin(node)
        if origin is None:
            return (), ()
        layers = tuple(
            self._layers.get(id(layer)) or type(layer).__name__ for layer, _ in origin.stack
        )
        calls = tuple(self._calls.setdefault(c, len(self._calls) + 1) for _, c in origin.stack)
        return layers, calls

    # ------------------------------------------------------------------ watching
    def forward(self, node: Node, inputs: tuple, output: Any) -> None:
        if node.function in hooks.PLUMBING:
            self._alias(node, inputs)
            return
        step = len(self.rows) + 1
        name = self._names[id(node)] = f"#{step}"
        self._keep.append(node)
        if not node.requires_grad and isinstance(output, np.ndarray):
            self._names[id(output)] = name  # consumers will see a tensor without a node
            self._keep.append(output)
        values = tuple(
            self._value(self._tensor_name(t), t.data)
            if isinstance(t, Tensor)
            else (None if t is None else self._value("constant", t))
            for t in inputs
        )
        self._append(step, "forward", node, values, self._value(name, output))

    def _alias(self, node: Node, inputs: tuple) -> None:
        """Hook plumbing passes a tensor through: its result keeps the tensor's name."""
        if node.function in hooks.PASS_THROUGH:
            self._names[id(node)] = self._tensor_name(inputs[1])
            self._keep.append(node)

    def backward(self, node: Node, grad: np.ndarray, grads: Any) -> None:
        if node.function in hooks.PLUMBING:
            return
        grads = grads if type(grads) is tuple else (grads,)
        values = []
        for edge, g, need in zip(node.edges, grads, node.needs_input_grad, strict=True):
            if edge is None or g is None or not need:
                values.append(None)
                continue
            shape = edge.shape if type(edge) is Node else edge.data.shape
            values.append(self._value(self._edge_name(edge), sum_to(np.asarray(g), shape)))
        output = self._value(self._node_name(node), grad)
        self._append(len(self.rows) + 1, "backward", node, tuple(values), output)

    def _append(self, step: int, phase: str, node: Node, inputs: tuple, output: Value) -> None:
        layers, calls = self._where(node)
        module = node.function.__module__
        tier = (
            "fast"
            if module.startswith("minigrad._kernels")
            else "reference"
            if module.startswith("minigrad.")
            else "custom"
        )
        self.rows.append(
            Row(step, phase, node.name, tier, layers, calls, self._node_name(node), inputs, output)
        )

    # ------------------------------------------------------------------ printing
    def table(self, phase: str | None = None) -> str:
        """The rows (of one ``phase``, or all) as a text table, one line per value: for a
        forward row its inputs then its output (``->``); for a backward row the gradient
        arriving at its output, then the gradient sent to each input (``->``)."""
        header = ("step", "phase", "op", "layer", "", "tensor", "shape", "values")
        lines: list[tuple[str, ...]] = [header]
        for row in self.rows:
            if phase is not None and row.phase != phase:
                continue
            head = (str(row.step), row.phase, row.op, row.layer or "")
            if row.phase == "forward":
                entries = [("", v) for v in row.inputs if v is not None]
                entries.append(("->", row.output))
            else:
                entries = [("grad", row.output)]
                entries += [("-> grad", v) for v in row.inputs if v is not None]
            for i, (arrow, value) in enumerate(entries):
                cells = head if i == 0 else ("", "", "", "")
                lines.append((*cells, arrow, value.name, str(value.shape), value.describe()))
        widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in lines
        )

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<Trace of {len(self.rows)} rows>"


def trace(model: Any = None, max_values: int = 16) -> Trace:
    """Record every op run inside the ``with`` block, forward and backward, step by step.

    ``model`` (optional) names layers and parameters by their dotted names; ``max_values`` is
    the size up to which a tensor's numbers are kept in the rows (larger ones keep their norm).
    See :mod:`minigrad.tracing` for what a row holds.

    Example:
        >>> import minigrad as mg
        >>> w = mg.tensor([2.0, 3.0], requires_grad=True)
        >>> with mg.trace() as t:
        ...     (w * w).sum().backward()
        >>> print(t)
        step  phase     op   layer           tensor  shape  values
        1     forward   Mul                  leaf1   (2,)   [2. 3.]
                                             leaf1   (2,)   [2. 3.]
                                    ->       #1      (2,)   [4. 9.]
        2     forward   Sum                  #1      (2,)   [4. 9.]
                                    ->       #2      ()     13
        3     backward  Sum         grad     #2      ()     1
                                    -> grad  #1      (2,)   [1. 1.]
        4     backward  Mul         grad     #1      (2,)   [1. 1.]
                                    -> grad  leaf1   (2,)   [2. 3.]
                                    -> grad  leaf1   (2,)   [2. 3.]
    """
    return Trace(model, max_values)
