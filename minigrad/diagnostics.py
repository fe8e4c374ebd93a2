"""Gradient health: what each layer of a model does during training, in numbers and words.

``Diagnostics(model)`` puts hooks on the model (and removes them on :meth:`~Diagnostics.detach`
or at the end of a ``with`` block). At every training step (a call of the model in training
mode with gradients on) it records, per layer:

- the mean and standard deviation of the layer's output (its activations);
- for ``ReLU`` layers, the fraction of units that output zero for every example of the batch
  (a unit is one feature, or one channel of an image), and over a window of recent batches
  the fraction that did so for *every* batch: dead units, which get no gradient at all;
- for ``Sigmoid`` and ``Tanh`` layers, the fraction of outputs in the flat ends of the curve
  (within ``saturation_margin`` of the bounds), where the slope is almost zero;
- for layers with parameters, the norm of their gradients, of their weights, and the
  update-to-weight ratio of each step (how much the optimizer changed them, relative to their
  size: around 1e-3 is the usual rule of thumb);
- the gradient flowing back into each layer with parameters, call by call (an unrolled
  recurrent cell is called once per time step), as the root mean square of dL/d output.

From the last ``window`` steps, :attr:`~Diagnostics.warnings` lists what is wrong, each with a
kind (``vanishing``, ``exploding``, ``dead_relu``, ``saturated``), and
:meth:`~Diagnostics.report` says it in plain words with the thresholds (:class:`Thresholds`).
:meth:`~Diagnostics.plot` draws activation and gradient histograms, the gradient flow and the
update ratios (matplotlib, the ``plot`` extra). ``fit(..., diagnose=True)`` and ``python -m
minigrad train --diagnose`` write all of it next to the checkpoint.

The hooks make every step slower (each watched layer's outputs and gradients are summarized);
with no ``Diagnostics`` attached nothing runs.
"""

from __future__ import annotations

import json
import math
import weakref
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.autograd import is_grad_enabled
from minigrad.nn.activation import ReLU, Sigmoid, Tanh
from minigrad.nn.layer import Layer
from minigrad.tensor import Tensor

__all__ = ["Diagnostics", "FitDiagnosis", "HealthWarning", "LayerRecord", "Thresholds", "for_fit"]

SAMPLES = 4096  # values kept per layer for the histograms (of the last recorded step)
KINDS = ("vanishing", "exploding", "dead_relu", "saturated")


@dataclass(frozen=True)
class Thresholds:
    """When :class:`Diagnostics` warns.

    ``vanishing``/``exploding``: the gradient reaching the earliest layer with parameters,
    divided by the gradient at the last one (root mean squares of dL/d output), below or above
    these. ``dead``: the fraction of a ReLU layer's units dead over the window. ``saturated``:
    the fraction of a sigmoid or tanh layer's outputs within ``saturation_margin`` of the
    curve's bounds (0 and 1, or -1 and 1).
    """

    vanishing: float = 1e-2
    exploding: float = 1e2
    dead: float = 0.5
    saturated: float = 0.25
    saturation_margin: float = 0.01


@dataclass
class LayerRecord:
    """What one layer did at one step (``None`` where it does not apply).

    ``dead`` is the fraction of units zero for every example of this batch (ReLU layers);
    ``grad_norm`` the norm of the layer's own parameter gradients taken together, ``weight_norm``
    of its parameters, ``update_ratio`` the norm of the step's change of the parameters over
    ``weight_norm`` (known once the next step starts); ``grad_rms`` the root mean square of
    the gradient reaching the layer's output, over all its calls in the step.
    """

    step: int
    layer: str
    kind: str
    act_mean: float | None = None
    act_std: float | None = None
    dead: float | None = None
    saturated: float | None = None
    grad_norm: float | None = None
    weight_norm: float | None = None
    update_ratio: float | None = None
    grad_rms: float | None = None


@dataclass(frozen=True)
class HealthWarning:
    """One finding: its ``kind`` (``vanishing``, ``exploding``, ``dead_relu`` or
    ``saturated``), the ``layer`` it is about, the measured ``value``, the ``threshold`` it
    crossed, and a ``message`` saying what was measured (``Diagnostics.advice(kind)`` says
    what it means and what to try)."""

    kind: str
    layer: str
    value: float
    threshold: float
    message: str


@dataclass
class _Step:
    """The running sums of one step, per layer, while the step runs."""

    number: int
    sums: dict[str, list[float]] = field(default_factory=dict)  # sum, sum of squares, count
    saturated: dict[str, list[float]] = field(default_factory=dict)  # saturated, count
    alive: dict[str, np.ndarray] = field(default_factory=dict)
    grads: dict[str, float] = field(default_factory=dict)  # squared parameter gradient norms
    flow: list[tuple[str, float]] = field(default_factory=list)  # (layer, rms) per call


class Diagnostics:
    """Watch a model's gradient health during training (see the module documentation).

    ``every`` records one step in that many; ``window`` is how many recorded steps the
    warnings and the report summarize (and over which a ReLU unit must stay silent to count
    as dead).

    Example:
        >>> import minigrad as mg, minigrad.nn as nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> with mg.diagnostics.Diagnostics(model) as diag:
        ...     for _ in range(3):
        ...         loss = nn.CrossEntropyLoss()(model(np.ones((5, 4))), np.zeros(5, int))
        ...         loss.backward()
        >>> [(r.step, r.layer) for r in diag.records][:3]
        [(1, '0'), (1, '1'), (1, '2')]
        >>> diag.warnings
        []
    """

    def __init__(
        self,
        model: Layer,
        every: int = 1,
        window: int = 10,
        thresholds: Thresholds | None = None,
    ) -> None:
        if not isinstance(model, Layer):
            raise TypeError(f"Diagnostics: expected a Layer, got {type(model).__name__}")
        if every < 1 or window < 1:
            raise ValueError(f"Diagnostics: every and window must be >= 1, got {every}, {window}")
        self.model, self.every, self.window = model, every, window
        self.thresholds = thresholds or Thresholds()
        self.records: list[LayerRecord] = []
        self.flows: list[tuple[int, list[tuple[str, float]]]] = []  # per recorded step
        self.samples: dict[str, dict[str, np.ndarray]] = {"activations": {}, "gradients": {}}
        self.steps = 0
        names = [(type(model).__name__, model)] + [
            (name, value) for name, kind, value in model._walk() if kind == "layer"
        ]
        seen: set[int] = set()
        self.layers: list[tuple[str, Layer]] = []  # those with parameters, and the leaves
        self._flow_layers: set[int] = set()  # with parameters, and none in a layer below
        for name, layer in names:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if _owns_parameters(layer) or not any(True for _ in layer.children()):
                self.layers.append((name, layer))
            if _owns_parameters(layer) and not any(
                _owns_parameters(below) for below in layer.layers() if below is not layer
            ):
                self._flow_layers.add(id(layer))
        self._params = [
            (name, p)
            for name, layer in self.layers
            for p in (getattr(layer, n) for n, k in layer._registry.items() if k == "param")
            if p is not None
        ]
        self._names = {id(layer): name for name, layer in self.layers}
        self._current: _Step | None = None
        self._alive: dict[str, deque] = {name: deque(maxlen=window) for name, _ in self.layers}
        self._snapshot: tuple[_Step, list[tuple[np.ndarray, int]]] | None = None
        self._handles: list[Any] = []
        self._finalizer: Any = None

    # ------------------------------------------------------------------ attaching
    def attach(self) -> Diagnostics:
        """Register the hooks (once); returns self."""
        if self._handles:
            return self
        this = weakref.ref(self)  # the hooks must not keep the diagnostics alive

        def call(method: str, *bound: Any) -> Any:
            def hook(*args: Any) -> None:
                target = this()
                if target is not None:
                    getattr(target, method)(*bound, *args)

            return hook

        handles = [self.model.register_forward_pre_hook(call("_begin_step"))]
        for _, layer in self.layers:
            handles.append(layer.register_forward_hook(call("_forward")))
            handles.append(layer.register_full_backward_hook(call("_backward")))
        for name, p in self._params:
            handles.append(p.register_hook(call("_param_grad", name)))
        self._handles = handles
        # Hooks left behind (fit stopped by an error) go when these diagnostics are freed.
        self._finalizer = weakref.finalize(self, _remove, handles)
        return self

    def detach(self) -> None:
        """Remove the hooks (measuring the last step's update first)."""
        self._measure_update()
        if self._finalizer is not None:
            self._finalizer()
        self._handles, self._finalizer = [], None

    @property
    def attached(self) -> bool:
        """Whether the hooks are on the model."""
        return bool(self._handles)

    def __enter__(self) -> Diagnostics:
        return self.attach()

    def __exit__(self, *exc_info: object) -> None:
        self.detach()

    # ------------------------------------------------------------------ the hooks
    def _name(self, layer: Layer) -> str | None:
        """The watched layer's name; ``None`` for a copy of it (its hooks came along)."""
        return self._names.get(id(layer))

    def _begin_step(self, model: Layer, inputs: tuple) -> None:
        if model is not self.model or not (model.training and is_grad_enabled()):
            return
        self._measure_update()
        self.steps += 1
        recording = (self.steps - 1) % self.every == 0
        self._current = _Step(self.steps) if recording else None
        if recording:
            weights = [(np.array(p.data, copy=True), p.version) for _, p in self._params]
            self._snapshot = (self._current, weights)

    def _forward(self, layer: Layer, inputs: tuple, output: Any) -> None:
        step, name = self._current, self._name(layer)
        if step is None or name is None or not is_grad_enabled():
            return
        y = _first_array(output)
        if y is None or y.dtype.kind != "f":
            return
        values = _in_memory_order(y)
        sums = step.sums.setdefault(name, [0.0, 0.0, 0])
        sums[0] += float(values.sum(dtype=np.float64))
        sums[1] += _sum_of_squares(values)
        sums[2] += y.size
        self.samples["activations"][name] = _sample(values)
        if isinstance(layer, ReLU) and y.ndim >= 2:
            # a unit (feature or channel) is alive if it is positive for some example
            alive = (y > 0).any(axis=tuple(i for i in range(y.ndim) if i != 1))
            step.alive[name] = alive if name not in step.alive else step.alive[name] | alive
        elif isinstance(layer, (Sigmoid, Tanh)):
            margin = self.thresholds.saturation_margin
            flat = y > 1 - margin
            flat |= y < (margin if isinstance(layer, Sigmoid) else margin - 1)
            counts = step.saturated.setdefault(name, [0.0, 0])
            counts[0] += float(flat.sum())
            counts[1] += y.size

    def _backward(self, layer: Layer, grad_input: tuple, grad_output: tuple) -> None:
        step, name = self._current, self._name(layer)
        g = _first_array(grad_output)
        if step is None or name is None or g is None:
            return
        values = _in_memory_order(g)
        self.samples["gradients"][name] = _sample(values)
        if id(layer) in self._flow_layers:
            step.flow.append((name, math.sqrt(_sum_of_squares(values) / max(values.size, 1))))

    def _param_grad(self, name: str, grad: np.ndarray) -> None:
        if self._current is not None:
            square = _sum_of_squares(_in_memory_order(grad))
            self._current.grads[name] = self._current.grads.get(name, 0.0) + square

    def _measure_update(self) -> None:
        """Close the step being recorded: its records, and the update its optimizer step made
        (if the weights changed since the snapshot)."""
        if self._current is not None:
            self._close(self._current)
            self._current = None
        if self._snapshot is None:
            return
        step, weights = self._snapshot
        self._snapshot = None
        change: dict[str, list[float]] = {}
        for (name, p), (before, version) in zip(self._params, weights, strict=True):
            if p.version != version and p.data.shape == before.shape:
                sums = change.setdefault(name, [0.0, 0.0])
                sums[0] += _sum_of_squares(_in_memory_order(p.data - before))
                sums[1] += _sum_of_squares(_in_memory_order(before))
        for record in self.records:
            if record.step == step.number and record.layer in change:
                moved, size = change[record.layer]
                record.update_ratio = math.sqrt(moved / size) if size > 0 else None

    def _close(self, step: _Step) -> None:
        self.flows.append((step.number, step.flow))
        for name, layer in self.layers:
            record = LayerRecord(step.number, name, type(layer).__name__)
            if name in step.sums:
                total, squares, count = step.sums[name]
                record.act_mean = total / count
                record.act_std = math.sqrt(max(squares / count - record.act_mean**2, 0.0))
            if name in step.alive:
                self._alive[name].append(step.alive[name])
                record.dead = float(1 - step.alive[name].mean())
            if name in step.saturated:
                record.saturated = step.saturated[name][0] / step.saturated[name][1]
            if name in step.grads:
                record.grad_norm = math.sqrt(step.grads[name])
                weights = [p for n, p in self._params if n == name]
                record.weight_norm = math.sqrt(
                    sum(_sum_of_squares(_in_memory_order(p.data)) for p in weights)
                )
            calls = [rms for n, rms in step.flow if n == name]
            if calls:
                record.grad_rms = math.sqrt(sum(r * r for r in calls) / len(calls))
            self.records.append(record)

    # ------------------------------------------------------------------ findings
    def _recent(self) -> list[LayerRecord]:
        self._settle()
        steps = sorted({r.step for r in self.records})[-self.window :]
        return [r for r in self.records if r.step in set(steps)]

    def _settle(self) -> None:
        """Close the step still open, so that reading results mid-step sees it."""
        if self._current is not None:
            self._close(self._current)
            self._current = None

    def dead_fraction(self, layer: str) -> float | None:
        """Fraction of ``layer``'s units (a ReLU layer) that output zero for every example of
        every one of the last ``window`` recorded batches; ``None`` if not measured.

        Example:
            >>> import minigrad.nn as nn
            >>> Diagnostics(nn.Sequential(nn.ReLU())).dead_fraction("0") is None
            True
        """
        self._settle()
        history = self._alive.get(layer)
        if not history:
            return None
        alive = np.logical_or.reduce(list(history))
        return float(1 - alive.mean())

    def flow_ratio(self) -> tuple[float, str, str] | None:
        """``(ratio, earliest, last)``: the gradient reaching the earliest layer with
        parameters over the gradient at the last one (geometric mean over the window),
        with the two layers' names; ``None`` before a backward pass.

        Example:
            >>> import minigrad.nn as nn
            >>> Diagnostics(nn.Linear(2, 2)).flow_ratio() is None
            True
        """
        self._settle()
        logs, ends = [], None
        for _, flow in self.flows[-self.window :]:
            if len(flow) < 2:
                continue
            last, earliest = flow[0], flow[-1]
            ends = (earliest[0], last[0])
            if not (math.isfinite(earliest[1]) and math.isfinite(last[1])) or last[1] == 0:
                logs.append(math.inf)  # not finite: exploded
            else:
                logs.append(math.log10(earliest[1] / last[1]) if earliest[1] > 0 else -math.inf)
        if not logs or ends is None:
            return None
        mean = sum(logs) / len(logs) if not (math.inf in logs and -math.inf in logs) else math.inf
        return 10**mean, ends[0], ends[1]

    @property
    def warnings(self) -> list[HealthWarning]:
        """What is wrong over the last ``window`` recorded steps (see :class:`Thresholds`),
        the gradient flow first, then layer by layer."""
        limits = self.thresholds
        kinds = {name: type(layer).__name__ for name, layer in self.layers}
        found: list[HealthWarning] = []
        flow = self.flow_ratio()
        if flow is not None:
            ratio, earliest, last = flow
            reaching = (
                f"no gradient at all reaches {_called(earliest, kinds)}"
                if ratio == 0
                else f"the gradient reaching {_called(earliest, kinds)} is {ratio:.1e} times "
                f"the gradient at {_called(last, kinds)}"
            )
            if ratio < limits.vanishing:
                words = f"{reaching} (below {limits.vanishing:g} counts as vanishing)"
                found.append(HealthWarning("vanishing", earliest, ratio, limits.vanishing, words))
            elif ratio > limits.exploding:
                words = f"{reaching} (above {limits.exploding:g} counts as exploding)"
                found.append(HealthWarning("exploding", earliest, ratio, limits.exploding, words))
        recent = self._recent()
        for name, layer in self.layers:
            dead = self.dead_fraction(name) if isinstance(layer, ReLU) else None
            if dead is not None and dead > limits.dead:
                words = (
                    f"{dead:.0%} of the units of {_called(name, kinds)} output zero for every "
                    f"example of the last {len(self._alive[name])} batches (above "
                    f"{limits.dead:.0%} counts as dying)"
                )
                found.append(HealthWarning("dead_relu", name, dead, limits.dead, words))
            values = [r.saturated for r in recent if r.layer == name and r.saturated is not None]
            if values and (mean := sum(values) / len(values)) > limits.saturated:
                words = (
                    f"{mean:.0%} of the outputs of {_called(name, kinds)} are within "
                    f"{limits.saturation_margin:g} of its bounds (above {limits.saturated:.0%} "
                    "counts as saturated)"
                )
                found.append(HealthWarning("saturated", name, mean, limits.saturated, words))
        return found

    def advice(self, kind: str) -> str:
        """What a warning of ``kind`` means and what to try, in plain words.

        Example:
            >>> import minigrad.nn as nn
            >>> Diagnostics(nn.Linear(2, 2)).advice("dead_relu").split(":")[0]
            'A dead ReLU unit outputs zero for every input'
        """
        kinds = {type(layer) for _, layer in self.layers}
        if kind == "vanishing":
            squashing = [k for k in (Sigmoid, Tanh) if k in kinds]
            if squashing:
                slopes = " and ".join(
                    "a sigmoid at most 1/4" if k is Sigmoid else "a tanh at most 1"
                    for k in squashing
                )
                return (
                    "The early layers barely learn: the gradient shrinks on its way back. Each "
                    f"activation multiplies it by its slope ({slopes}, far less once "
                    "saturated), layer after layer. Use ReLU with He initialization "
                    "(nn.init.kaiming_normal_), or BatchNorm after each linear layer."
                )
            return (
                "The early layers barely learn: each layer scales the gradient down on its way "
                "back. Initialize for the activation (He initialization, "
                "nn.init.kaiming_normal_, for ReLU), or add BatchNorm."
            )
        if kind == "exploding":
            return (
                "Each layer (or time step) multiplies the gradient up on its way back, so one "
                "step can throw the weights far away (and the loss to infinity). Clip the "
                "gradient norm (minigrad.optim.clip_grad_norm) to bound each step, and start "
                "from smaller weights; over long sequences, gated cells (LSTM, GRU) keep the "
                "gradient from exploding or vanishing."
            )
        if kind == "dead_relu":
            return (
                "A dead ReLU unit outputs zero for every input: it passes back no gradient, so "
                "the weights feeding it never change again. Usual causes: very negative biases, "
                "or a learning rate so high that one step knocked the units off. Try a smaller "
                "learning rate, zero biases, He initialization, or LeakyReLU."
            )
        if kind == "saturated":
            return (
                "A saturated sigmoid or tanh sits on the flat part of its curve, where its "
                "slope is nearly zero: little gradient gets through. Its inputs are too large: "
                "initialize the weights smaller (Xavier), normalize the inputs, or put "
                "BatchNorm before it."
            )
        raise ValueError(f"advice: unknown kind {kind!r}; expected one of {KINDS}")

    # ------------------------------------------------------------------ reporting
    def summary(self) -> list[dict[str, Any]]:
        """Per layer, the means over the window of each :class:`LayerRecord` field (the
        update ratio and gradient norms as geometric means), and the dead fraction over it.

        Example:
            >>> import minigrad.nn as nn
            >>> Diagnostics(nn.Linear(2, 2)).summary()[0]["layer"]
            'Linear'
        """
        recent = self._recent()
        rows = []
        for name, layer in self.layers:
            mine = [r for r in recent if r.layer == name]
            row: dict[str, Any] = {"layer": name, "kind": type(layer).__name__}
            for key in ("act_mean", "act_std", "saturated"):
                values = [getattr(r, key) for r in mine if getattr(r, key) is not None]
                row[key] = sum(values) / len(values) if values else None
            for key in ("grad_norm", "weight_norm", "update_ratio", "grad_rms"):
                values = [getattr(r, key) for r in mine if getattr(r, key) is not None]
                row[key] = _geometric_mean(values)
            row["dead"] = self.dead_fraction(name)
            rows.append(row)
        return rows

    def report(self) -> str:
        """The findings in plain words, a table of the layers, and the thresholds used.

        Example:
            >>> import minigrad.nn as nn
            >>> print(Diagnostics(nn.Linear(2, 2)).report().splitlines()[0])
            Gradient health of Linear: no training step recorded yet.
        """
        model = type(self.model).__name__
        recorded = sorted({r.step for r in self.records} | {s for s, _ in self.flows})
        if not recorded and self._current is None:
            return f"Gradient health of {model}: no training step recorded yet."
        recent = sorted({r.step for r in self._recent()})
        lines = [
            f"Gradient health of {model} over {self.steps} training steps "
            f"(the last {len(recent)} recorded: steps {recent[0]}-{recent[-1]})",
            "",
        ]
        found = self.warnings
        for kind in KINDS:
            mine = [w for w in found if w.kind == kind]
            if mine:
                lines += _wrap(f"{kind}: " + "; ".join(w.message for w in mine) + ".", "- ")
                lines += _wrap(self.advice(kind), "  ")
        if not found:
            lines.append("No problem found.")
        flow = self.flow_ratio()
        if flow is not None and not any(w.kind in ("vanishing", "exploding") for w in found):
            ratio, earliest, last = flow
            kinds = {name: type(layer).__name__ for name, layer in self.layers}
            lines += _wrap(
                f"The gradient reaching {_called(earliest, kinds)} is {ratio:.2g} times the "
                f"gradient at {_called(last, kinds)}: it flows back without vanishing or "
                "exploding.",
                "- ",
            )
        lines += ["", _table(self.summary()), ""]
        limits = self.thresholds
        lines += _wrap(
            "Columns: activation mean and std; dead: fraction of a ReLU layer's units that "
            f"output zero for every example of the last {self.window} batches; saturated: "
            f"fraction of sigmoid/tanh outputs within {limits.saturation_margin:g} of the "
            "bounds; grad: norm of the parameter gradients; update: norm of a step's change "
            "of the parameters over their norm (about 1e-3 is healthy); grad rms: root mean "
            "square of the gradient reaching the layer's output.",
            "",
        )
        lines += _wrap(
            f"Thresholds: vanishing when the gradient reaching the earliest layer with "
            f"parameters is below {limits.vanishing:g} times the gradient at the last one, "
            f"exploding above {limits.exploding:g}; dead_relu above {limits.dead:.0%} dead "
            f"units; saturated above {limits.saturated:.0%} saturated outputs.",
            "",
        )
        return "\n".join(lines)

    def plot(self, folder: str | Path, prefix: str = "diagnostics") -> list[Path]:
        """Save the plots as PNG files in ``folder``: ``{prefix}-activations.png`` and
        ``{prefix}-gradients.png`` (histograms per layer at the last recorded step),
        ``{prefix}-flow.png`` (the gradient reaching each layer call) and
        ``{prefix}-updates.png`` (update-to-weight ratio per step). Needs matplotlib
        (``pip install minigrad[plot]``); returns the paths written.
        """
        from minigrad import _diagnostics_plots

        self._settle()
        return _diagnostics_plots.plot_all(self, Path(folder), prefix)

    def save(self, folder: str | Path, prefix: str = "diagnostics") -> list[Path]:
        """Write the report (``{prefix}.txt``), the records (``{prefix}.json``) and, when
        matplotlib is installed, the plots into ``folder``; returns the paths written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        text, data = folder / f"{prefix}.txt", folder / f"{prefix}.json"
        text.write_text(self.report() + "\n", encoding="utf-8")
        results = {
            "records": [asdict(r) for r in self.records],
            "flows": [{"step": s, "flow": flow} for s, flow in self.flows],
            "warnings": [asdict(w) for w in self.warnings],
            "thresholds": asdict(self.thresholds),
        }
        data.write_text(json.dumps(results, indent=1, default=_json_number) + "\n")
        try:
            plots = self.plot(folder, prefix)
        except ImportError:  # matplotlib is optional; the report says how to get the plots
            plots = []
        return [text, data, *plots]


def _owns_parameters(layer: Layer) -> bool:
    return any(kind == "param" for kind in layer._registry.values())


def _remove(handles: list[Any]) -> None:
    for handle in handles:
        handle.remove()


def _first_array(value: Any) -> np.ndarray | None:
    """The first tensor's (or array's) data in a nested output or gradient structure."""
    if isinstance(value, tuple):
        for item in value:
            found = _first_array(item)
            if found is not None:
                return found
        return None
    if isinstance(value, Tensor):
        return value.data
    return value if isinstance(value, np.ndarray) else None


def _in_memory_order(array: np.ndarray) -> np.ndarray:
    """The values as one axis, in the order memory holds them: no copy for contiguous arrays
    in any layout (the fast tier keeps images batch-last)."""
    return array.ravel(order="K")


def _sum_of_squares(values: np.ndarray) -> float:
    """``sum(values**2)`` of a 1-d array, without a float64 copy of it."""
    return float(np.dot(values, values))


def _sample(values: np.ndarray) -> np.ndarray:
    """At most ``SAMPLES`` of ``values`` (one axis), evenly spread, as float64 (a copy)."""
    step = max(1, values.size // SAMPLES)
    return np.array(values[::step][:SAMPLES], dtype=np.float64)


def _geometric_mean(values: list[float]) -> float | None:
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not values:
        return None
    if len(positive) < len(values):
        return math.inf if any(not math.isfinite(v) for v in values) else min(values)
    return 10 ** (sum(math.log10(v) for v in positive) / len(positive))


def _called(name: str, kinds: dict[str, str]) -> str:
    """How the report names a layer: ``layer 3 (Linear)``, ``cell (Cell)``."""
    kind = kinds.get(name, "")
    if name == kind:
        return name
    return f"layer {name} ({kind})" if name.isdigit() else f"{name} ({kind})"


def _wrap(text: str, bullet: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(
        text, width, initial_indent=bullet, subsequent_indent=" " * len(bullet)
    ) or [bullet]


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "percent":
        return f"{value:.0%}"
    if kind == "fixed":
        return f"{value:.3f}"
    return f"{value:.2e}"


def _table(summary: list[dict[str, Any]]) -> str:
    columns = [
        ("layer", "layer", None),
        ("kind", "kind", None),
        ("act mean", "act_mean", "fixed"),
        ("act std", "act_std", "fixed"),
        ("dead", "dead", "percent"),
        ("saturated", "saturated", "percent"),
        ("grad", "grad_norm", "sci"),
        ("update", "update_ratio", "sci"),
        ("grad rms", "grad_rms", "sci"),
    ]
    rows = [[title for title, _, _ in columns]]
    for row in summary:
        rows.append(
            [str(row[key]) if kind is None else _format(row[key], kind) for _, key, kind in columns]
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(columns))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if c < 2 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    )


def _json_number(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


class FitDiagnosis:
    """What ``fit(..., diagnose=...)`` keeps: the diagnostics, and whether fit attached them
    (then it also detaches them)."""

    def __init__(self, diagnostics: Diagnostics, owned: bool) -> None:
        self.diagnostics, self.owned = diagnostics, owned

    def finish(self, checkpoint: str | Path | None) -> list[Path]:
        """Detach (if fit attached), and save next to ``checkpoint`` (if any)."""
        if self.owned:
            self.diagnostics.detach()
        if checkpoint is None:
            return []
        return self.diagnostics.save(Path(checkpoint).parent)


def for_fit(model: Layer, diagnose: bool | Diagnostics, checkpoint: Any) -> FitDiagnosis | None:
    """Start watching ``model`` for ``fit(..., diagnose=diagnose)``; ``None`` when off.

    ``diagnose=True`` makes a :class:`Diagnostics` whose report, records and plots are written
    into the checkpoint's folder at the end (so it needs a checkpoint); a :class:`Diagnostics`
    of the model is used as given (attached for the run if it is not), and also saved there
    when there is a checkpoint.

    Example:
        >>> import minigrad.nn as nn
        >>> for_fit(nn.Linear(2, 2), False, None) is None
        True
    """
    if diagnose is False or diagnose is None:
        return None
    if diagnose is True:
        if checkpoint is None:
            raise ValueError(
                "fit: diagnose=True writes its report next to the checkpoint, so it needs "
                "checkpoint=...; or pass diagnose=Diagnostics(model) and read it in code"
            )
        diagnose = Diagnostics(model)
    if not isinstance(diagnose, Diagnostics):
        raise TypeError(f"fit: diagnose must be a bool or a Diagnostics, not {diagnose!r}")
    if diagnose.model is not model:
        raise ValueError("fit: the Diagnostics given watch another model than the one trained")
    owned = not diagnose.attached
    diagnose.attach()
    return FitDiagnosis(diagnose, owned)
