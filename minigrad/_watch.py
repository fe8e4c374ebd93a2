"""The one object through which traces and anomaly mode watch a thread's operations.

While at least one watcher is active in a thread, ``autograd._observer.active`` holds a
:class:`Dispatcher`: ``Function.apply`` hands it every forward and the engine every backward
rule, and ``Layer.__call__`` tells it which layer call is running. Each op's node then records
an :class:`Origin`: the innermost layer call it ran in and, in anomaly mode, the line of user
code that created it. With no watcher, none of this runs: the engine checks one attribute.
"""

from __future__ import annotations

import itertools
import linecache
import os
import sys
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.autograd import Node
from minigrad.tensor import Tensor

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


class Origin:
    """Where an op ran: ``stack``, the layer calls it ran inside, outermost first, as ``(layer,
    call number)`` pairs (numbers count this thread's layer calls); in anomaly mode also the
    user's line (``site``) and the statistics of its inputs at the forward."""

    __slots__ = ("inputs", "site", "stack")

    def __init__(self, stack: tuple, site: str | None, inputs: list | None) -> None:
        self.stack, self.site, self.inputs = stack, site, inputs

    @property
    def layer(self) -> Any:
        """The innermost layer, or ``None`` outside layers."""
        return self.stack[-1][0] if self.stack else None


class Watcher:
    """What a dispatcher notifies: ``forward`` after each op's forward, ``backward`` after
    each rule (``grads`` as the rule returned them). ``anomaly`` watchers make the dispatcher
    capture user lines and input statistics and silence NumPy's floating-point warnings."""

    anomaly = False

    def forward(self, node: Node, inputs: tuple, output: Any) -> None:
        """Called after ``node``'s forward computed ``output`` from ``inputs``."""

    def backward(self, node: Node, grad: np.ndarray, grads: Any) -> None:
        """Called after ``node``'s rule turned ``grad`` into ``grads``."""

    def start(self) -> None:
        """Begin watching this thread's operations."""
        dispatcher = autograd._observer.active
        if dispatcher is None:
            dispatcher = autograd._observer.active = Dispatcher()
        dispatcher.add(self)

    def stop(self) -> None:
        """Stop watching."""
        dispatcher = autograd._observer.active
        if dispatcher is not None and dispatcher.remove(self):
            autograd._observer.active = None


class Dispatcher:
    """Runs forwards and rules on behalf of the engine while watchers are active."""

    def __init__(self) -> None:
        self.watchers: list[Watcher] = []
        self.stack: tuple[tuple[Any, int], ...] = ()  # the running layer calls, innermost last
        self.count = itertools.count(1)
        self.anomaly = False

    def add(self, watcher: Watcher) -> None:
        # anomaly watchers last, so that a trace records the row that an anomaly stops at
        self.watchers.append(watcher)
        self.watchers.sort(key=lambda w: w.anomaly)
        self.anomaly = any(w.anomaly for w in self.watchers)

    def remove(self, watcher: Watcher) -> bool:
        """Forget ``watcher``; True when none is left."""
        if watcher in self.watchers:
            self.watchers.remove(watcher)
        self.anomaly = any(w.anomaly for w in self.watchers)
        return not self.watchers

    def enter_layer(self, layer: Any) -> None:
        self.stack = (*self.stack, (layer, next(self.count)))

    def leave_layer(self) -> None:
        self.stack = self.stack[:-1]

    def forward(self, cls: type, ctx: Node, inputs: tuple, attrs: dict) -> Any:
        arrays = [t.data if isinstance(t, Tensor) else t for t in inputs]
        if self.anomaly:
            ctx._origin = Origin(self.stack, user_site(), [statistics(a) for a in arrays])
            with np.errstate(all="ignore"):  # anomaly mode says it better, and raises
                out = cls.forward(ctx, *arrays, **attrs)
        else:
            ctx._origin = Origin(self.stack, None, None)
            out = cls.forward(ctx, *arrays, **attrs)
        for watcher in list(self.watchers):
            watcher.forward(ctx, inputs, out)
        return out

    def rule(self, node: Node, grad: np.ndarray) -> Any:
        if self.anomaly:
            with np.errstate(all="ignore"):
                grads = node.function.backward(node, grad)
        else:
            grads = node.function.backward(node, grad)
        for watcher in list(self.watchers):
            watcher.backward(node, grad, grads)
        return grads


def origin(node: Node) -> Origin | None:
    """The origin recorded by a watched forward, or ``None``."""
    return getattr(node, "_origin", None)


def user_site() -> str:
    """``file:line: source`` of the innermost frame outside the minigrad package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    filename, line = frame.f_code.co_filename, frame.f_lineno
    source = linecache.getline(filename, line).strip()
    return f"{filename}:{line}" + (f": {source}" if source else "")


def statistics(value: Any) -> str | None:
    """``shape (2, 3) min -1 max 4`` (with the count of NaN/inf if any) for a float array."""
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if array.dtype.kind != "f":
        return None
    finite = np.isfinite(array)
    text = f"shape {array.shape}"
    if finite.any():
        shown = array[finite]
        text += f" min {shown.min():.4g} max {shown.max():.4g}"
    nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    if nan or inf:
        text += f", {nan} NaN and {inf} inf of {array.size} values"
    return text


def layer_names(model: Any) -> list[tuple[str, Any]]:
    """``(dotted name, layer)`` for ``model`` (named by its class) and every layer below it."""
    if model is None:
        return []
    return [(type(model).__name__, model)] + [
        (name, value) for name, kind, value in model._walk() if kind == "layer"
    ]
