"""Anomaly mode: stop at the first operation that produces NaN or infinity, and say where.

Inside ``with minigrad.detect_anomaly():`` every operation's forward result and every gradient
its backward rule returns is checked. The first NaN or infinity raises :class:`AnomalyError`
naming the op, the phase (forward or backward), the layer it ran in, the statistics of its
inputs, and the line of your code that created it (captured during the forward, only while
the mode is on). Outside the block nothing is checked or captured.

The checks and the captured lines cost time (every value of every op is inspected): turn the
mode on to find a problem, not for training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import _watch
from minigrad.autograd import Node

__all__ = ["AnomalyError", "detect_anomaly"]


class AnomalyError(RuntimeError):
    """An operation produced NaN or infinity in anomaly mode.

    Attributes: ``op`` (its name), ``phase`` (``"forward"`` or ``"backward"``), ``layer``
    (the name of the layer it ran in, or ``None``), ``site`` (``file:line: source`` of the
    user code that created it, ``None`` if that ran outside anomaly mode), ``inputs`` (one line
    of statistics per input at the forward) and ``details`` (the output, or the gradients
    arriving and leaving, that held the NaN or infinity).
    """

    def __init__(
        self,
        op: str,
        phase: str,
        layer: str | None,
        site: str | None,
        inputs: list[str],
        details: list[str],
    ) -> None:
        self.op, self.phase, self.layer, self.site = op, phase, layer, site
        self.inputs, self.details = inputs, details
        where = f" in layer {layer}" if layer else ""
        lines = [f"{op} produced NaN or infinity in its {phase} pass{where}"]
        lines.append(f"  created at {site}" if site else "  created outside anomaly mode")
        if not inputs and phase == "backward":
            lines.append("  input statistics unknown: the forward ran outside anomaly mode")
        lines += [f"  {line}" for line in (*inputs, *details)]
        super().__init__("\n".join(lines))


class detect_anomaly(_watch.Watcher):
    """Context manager: raise :class:`AnomalyError` at the first op whose forward result or
    backward gradients hold NaN or infinity (PyTorch's ``detect_anomaly``, plus the forward).

    ``model`` (optional) names layers by their dotted names; without it, by their class.
    NumPy's floating-point warnings are silenced inside the block: the error says more.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, -1.0], requires_grad=True)
        >>> try:
        ...     with mg.detect_anomaly():
        ...         y = x.log()
        ... except mg.AnomalyError as error:
        ...     print(error.op, error.phase, "|", error.inputs[0])
        Log forward | input 0: shape (2,) min -1 max 1
    """

    anomaly = True

    def __init__(self, model: Any = None) -> None:
        self.names = {id(layer): name for name, layer in _watch.layer_names(model)}

    def __enter__(self) -> detect_anomaly:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def forward(self, node: Node, inputs: tuple, output: Any) -> None:
        array = np.asarray(output)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            self._raise(node, "forward", [f"output: {_watch.statistics(array)}"])

    def backward(self, node: Node, grad: np.ndarray, grads: Any) -> None:
        grads = grads if type(grads) is tuple else (grads,)
        bad = [i for i, g in enumerate(grads) if g is not None and not np.isfinite(g).all()]
        if bad:
            lines = [f"gradient arriving: {_watch.statistics(grad)}"]
            lines += [f"gradient for input {i}: {_watch.statistics(grads[i])}" for i in bad]
            self._raise(node, "backward", lines)

    def _raise(self, node: Node, phase: str, details: list[str]) -> None:
        origin = _watch.origin(node)
        layer = None
        if origin is not None and origin.layer is not None:
            layer = self.names.get(id(origin.layer)) or type(origin.layer).__name__
        stats = origin.inputs if origin is not None and origin.inputs is not None else []
        inputs = [f"input {i}: {s}" for i, s in enumerate(stats) if s is not None]
        site = origin.site if origin is not None else None
        raise AnomalyError(node.name, phase, layer, site, inputs, details)
