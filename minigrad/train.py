"""The training loop: ``fit`` runs epochs, ``evaluate`` measures, ``History`` remembers.

``fit`` guards every step. Before updating, it checks the loss and the gradients: a NaN or an
infinity stops training with :class:`NonFiniteLossError` and leaves the parameters, the buffers
(batchnorm running statistics) and the optimizer state exactly as they were before that step.
After updating, it checks the parameters: an update that made one non-finite (a learning rate
far too large, or a float32 overflow) also stops training, with an error that says so, that the
parameters now hold that update, and which checkpoint (if any) holds the last good state.
With ``checkpoint=path`` it saves everything needed to continue after every epoch;
``resume=True`` checks such a file field by field and continues from it, bit for bit.

What is measured is chosen by ``metrics``: by default the accuracy when the targets are class
labels (integers), nothing but the loss otherwise (regression); ``"mse"`` and ``"mae"`` and
functions of ``(output, target)`` can be asked for.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from minigrad import diagnostics
from minigrad import random as mg_random
from minigrad._io import atomic_file
from minigrad.autograd import no_grad
from minigrad.serialization import load, save
from minigrad.tensor import Tensor

__all__ = ["METRICS", "History", "NonFiniteLossError", "evaluate", "fit"]

Callback = Callable[["History"], Any]
Metric = str | Callable[[np.ndarray, np.ndarray], float]


class NonFiniteLossError(FloatingPointError):
    """Training stopped because a loss, a gradient or an updated parameter was NaN or infinite.

    ``epoch`` and ``step`` (1-based) say where; ``history`` holds the epochs completed;
    ``checkpoint`` is the file holding the last good state (``None`` if there is none).
    """

    def __init__(
        self,
        message: str,
        epoch: int,
        step: int,
        history: History,
        checkpoint: str | Path | None = None,
    ) -> None:
        super().__init__(message)
        self.epoch, self.step, self.history = epoch, step, history
        self.checkpoint = checkpoint


class History:
    """Per-epoch records of a training run: ``loss`` and each metric (``accuracy``), the same
    on the validation loader as ``val_loss``, ``val_accuracy``..., then ``lr`` and ``seconds``.

    Example:
        >>> h = History([{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
        >>> h["loss"], len(h)
        ([0.5, 0.25], 2)
    """

    def __init__(self, records: Iterable[dict[str, Any]] = ()) -> None:
        self.records: list[dict[str, Any]] = [dict(r) for r in records]

    def append(self, record: dict[str, Any]) -> None:
        """Add one epoch's record."""
        self.records.append(dict(record))

    def __getitem__(self, key: str) -> list[Any]:
        return [r.get(key) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, last={self.records[-1] if self.records else None})"

    @property
    def keys(self) -> list[str]:
        """Every key that appears in some record, in first-seen order."""
        return list(dict.fromkeys(k for r in self.records for k in r))

    def to_json(self, path: str | Path) -> None:
        """Write the records as a JSON list, atomically (a temporary file, then a rename).

        Example:
            >>> import tempfile, os; d = tempfile.mkdtemp()
            >>> History([{"epoch": 1}]).to_json(os.path.join(d, "h.json"))
        """
        with atomic_file(path, "w", "History.to_json") as f:
            f.write(json.dumps(self.records, indent=2) + "\n")

    def to_csv(self, path: str | Path) -> None:
        """Write the records as CSV, one row per epoch, atomically.

        Example:
            >>> import tempfile, os; d = tempfile.mkdtemp()
            >>> History([{"epoch": 1, "loss": 0.5}]).to_csv(os.path.join(d, "h.csv"))
        """
        with atomic_file(path, "w", "History.to_csv") as f:
            writer = csv.DictWriter(f, fieldnames=self.keys)
            writer.writeheader()
            writer.writerows(self.records)

    @classmethod
    def from_json(cls, path: str | Path) -> History:
        """Read records written by :meth:`to_json`.

        Example:
            >>> import tempfile, os; p = os.path.join(tempfile.mkdtemp(), "h.json")
            >>> History([{"epoch": 1}]).to_json(p); History.from_json(p)["epoch"]
            [1]
        """
        return cls(json.loads(Path(path).read_text()))

    def plot(self, path: str | Path) -> bool:
        """Save the curves (loss, then each metric) of training against validation as a PNG,
        atomically; False (nothing written) without matplotlib."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return False
        names = [k for k in self.keys if k not in _NOT_PLOTTED and not k.startswith("val_")]
        fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
        epochs = self["epoch"]
        for key, ax in zip(names, axes[0], strict=True):
            ax.plot(epochs, self[key], marker="o", label="training")
            if any(v is not None for v in self[f"val_{key}"]):
                ax.plot(epochs, self[f"val_{key}"], marker="o", label="validation")
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        with atomic_file(path, "wb", "History.plot") as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)
        return True


_NOT_PLOTTED = ("epoch", "lr", "seconds")


# --------------------------------------------------------------------------------------------
# metrics: each gives (sum over the batch, count), so that means over an epoch are exact
# --------------------------------------------------------------------------------------------
def _accuracy(out: np.ndarray, target: np.ndarray) -> tuple[float, int]:
    if out.ndim != 2 or target.shape != out.shape[:1] or target.dtype.kind not in "iu":
        raise ValueError(
            f"metric accuracy: needs outputs of shape (N, classes) and integer class labels of "
            f"shape (N,), got outputs {out.shape} and targets {target.shape} of {target.dtype}"
        )
    return float(np.count_nonzero(out.argmax(axis=1) == target)), len(target)


def _elementwise(name: str, error: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def metric(out: np.ndarray, target: np.ndarray) -> tuple[float, int]:
        if out.shape != target.shape:
            raise ValueError(
                f"metric {name}: outputs {out.shape} and targets {target.shape} differ in shape"
            )
        return float(error(out - target).sum(dtype=np.float64)), out.size

    return metric


#: The metrics ``fit`` and ``evaluate`` know by name; each maps a batch's outputs and targets to
#: (sum over the batch, count).
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], tuple[float, int]]] = {
    "accuracy": _accuracy,  # the fraction of argmax predictions equal to the label
    "mse": _elementwise("mse", np.square),  # the mean squared error over every element
    "mae": _elementwise("mae", np.abs),  # the mean absolute error over every element
}


class _Meter:
    """Running sums of the loss and of each metric over an epoch or an evaluation."""

    def __init__(self, metrics: Sequence[Metric] | None) -> None:
        self.metrics: dict[str, Callable] | None = None if metrics is None else _resolve(metrics)
        self.loss = 0.0
        self.examples = 0
        self.sums: dict[str, list[float]] = {}

    def add(self, out: Tensor, y: Any, loss: float | None) -> None:
        target = y.data if isinstance(y, Tensor) else np.asarray(y)
        if self.metrics is None:  # the default: accuracy for class labels, else none
            self.metrics = _resolve(["accuracy"] if target.dtype.kind in "iu" else [])
        n = len(target)
        self.examples += n
        if loss is not None:
            self.loss += loss * n
        for name, fn in self.metrics.items():
            total, count = fn(out.data, target)
            entry = self.sums.setdefault(name, [0.0, 0])
            entry[0] += total
            entry[1] += count

    def combine(self, all_sum: Callable[[list[float]], list[float]]) -> None:
        """Replace the sums by their totals over the processes of a distributed run."""
        names = sorted(self.sums)
        local = [self.loss, self.examples, *(v for n in names for v in self.sums[n])]
        total = all_sum(local)
        self.loss, self.examples = total[0], int(total[1])
        for i, name in enumerate(names):
            self.sums[name] = [total[2 + 2 * i], total[3 + 2 * i]]

    def means(self, prefix: str = "", with_loss: bool = True) -> dict[str, float]:
        result = {f"{prefix}loss": self.loss / self.examples} if with_loss else {}
        result.update({prefix + name: total / count for name, (total, count) in self.sums.items()})
        return result


def _resolve(metrics: Sequence[Metric]) -> dict[str, Callable]:
    if isinstance(metrics, str):
        metrics = [metrics]
    resolved: dict[str, Callable] = {}
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRICS)}")
            resolved[metric] = METRICS[metric]
        elif callable(metric):
            resolved[metric.__name__] = _batch_mean(metric)
        else:
            raise TypeError(f"a metric is a name or a function, got {metric!r}")
    return resolved


def _batch_mean(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable:
    """A user metric returns the mean over a batch; weigh it by the batch size."""

    def metric(out: np.ndarray, target: np.ndarray) -> tuple[float, int]:
        return float(fn(out, target)) * len(target), len(target)

    return metric


def evaluate(
    model: Any,
    loader: Iterable,
    loss_fn: Callable | None = None,
    metrics: Sequence[Metric] | None = None,
) -> dict[str, float]:
    """The mean loss (when ``loss_fn`` is given) and metrics of ``model`` over a loader.

    ``metrics`` are names from :data:`METRICS` (``"accuracy"``, ``"mse"``, ``"mae"``) or
    functions ``fn(output, target) -> float`` giving the mean over a batch (keyed by their
    ``__name__``). By default: ``"accuracy"`` when the targets are integer class labels, no
    metric otherwise. Runs in evaluation mode without recording a graph, then restores the
    model's mode.

    Example:
        >>> import minigrad.nn as nn
        >>> from minigrad.data import DataLoader, TensorDataset
        >>> loader = DataLoader(TensorDataset(np.zeros((4, 3), np.float32), np.zeros(4, int)), 2)
        >>> sorted(evaluate(nn.Linear(3, 2), loader, nn.CrossEntropyLoss()))
        ['accuracy', 'loss']
    """
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    meter = _Meter(metrics)
    try:
        with no_grad():
            for x, y in loader:
                out = model(x)
                loss = float(loss_fn(out, y).item()) if loss_fn is not None else None
                meter.add(out, y, loss)
    finally:
        if was_training:
            model.train()
    if meter.examples == 0:
        raise ValueError("evaluate: the loader produced no examples")
    result = meter.means(with_loss=loss_fn is not None)
    if not result:
        raise ValueError(
            "evaluate: nothing to measure: the targets are not class labels, so pass loss_fn "
            "or metrics (such as metrics=['mse'])"
        )
    return result


# --------------------------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------------------------
class _Progress:
    """A tqdm bar per epoch on a terminal, showing the epoch's running means (as Keras does);
    one plain line per epoch otherwise."""

    def __init__(self, enabled: bool, epochs: int) -> None:
        self.enabled, self.epochs = enabled, epochs
        self.bar_wanted = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def start(self, epoch: int, total: int | None) -> None:
        if self.bar_wanted:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=f"epoch {epoch}/{self.epochs}", leave=False)

    def update(self, meter: _Meter) -> None:
        if self.bar is not None:
            self.bar.set_postfix(_short_names(meter.means()), refresh=False)
            self.bar.update(1)

    def end(self, record: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.enabled:
            print(_describe(record, self.epochs), flush=True)


_FORMATS = {"accuracy": "{:.2%}", "loss": "{:.4f}"}  # other metrics: 4 significant digits


def _format(name: str, value: float) -> str:
    return _FORMATS.get(name.removeprefix("val_"), "{:.4g}").format(value)


def _short_names(values: dict[str, float]) -> dict[str, str]:
    return {k.replace("accuracy", "acc"): _format(k, v) for k, v in values.items()}


def _describe(record: dict[str, Any], epochs: int) -> str:
    measured = {k: v for k, v in record.items() if k not in _NOT_PLOTTED and v is not None}
    parts = [f"epoch {record['epoch']}/{epochs}"]
    parts += [f"{k} {v}" for k, v in _short_names(measured).items()]
    parts += [f"lr {record['lr']:.4g}", f"{record['seconds']:.1f}s"]
    return "  ".join(parts)


# --------------------------------------------------------------------------------------------
# checkpoints and resuming
# --------------------------------------------------------------------------------------------
def _checkpoint_state(
    model, optimizer, scheduler, loader, epoch, history, config
) -> dict[str, Any]:
    state = {
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": mg_random.get_rng_state(),
        "history": {"records": history.records},
    }
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if hasattr(loader, "state_dict"):
        state["loader"] = loader.state_dict()
    if config is not None:
        state["config"] = dict(config)
    return state


def _restore(path, model, optimizer, scheduler, loader, epochs: int) -> tuple[int, History]:
    """Check every field of the checkpoint ``fit`` reads, then load them all, or none."""
    state = load(path)
    where = f"resume from {path}"
    required = ["epoch", "model", "optimizer", "rng", "history"]
    if scheduler is not None:
        required.append("scheduler")
    missing = [key for key in required if key not in state]
    if missing:
        raise ValueError(f"{where}: the checkpoint has no {', '.join(map(repr, missing))}")
    epoch = state["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
        raise ValueError(f"{where}: 'epoch' must be an int >= 0, got {epoch!r}")
    epoch = int(epoch)
    if epoch > epochs:
        raise ValueError(
            f"{where}: the checkpoint has trained {epoch} epochs, more than epochs={epochs}"
        )
    history = state["history"]
    records = history.get("records") if isinstance(history, dict) else None
    if not (
        isinstance(records, list)
        and len(records) == epoch
        and all(isinstance(r, dict) and r.get("epoch") == i for i, r in enumerate(records, 1))
    ):
        raise ValueError(
            f"{where}: 'history' must hold one record per epoch trained ({epoch}), numbered from 1"
        )
    rng = state["rng"]
    try:
        probe = type(mg_random.default_generator().bit_generator)()
        probe.state = rng
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{where}: 'rng' is not a state of minigrad's generator ({exc})") from None
    parts = [("model", model), ("optimizer", optimizer)]
    if scheduler is not None:
        parts.append(("scheduler", scheduler))
    if "loader" in state and hasattr(loader, "load_state_dict"):
        parts.append(("loader", loader))
    before = [(name, part, part.state_dict()) for name, part in parts]
    for name, part in parts:
        try:
            part.load_state_dict(state[name])
        except (KeyError, ValueError, TypeError) as exc:
            for _, earlier, saved in before:  # put back what was loaded already
                earlier.load_state_dict(saved)
            reason = exc.args[0] if exc.args else exc
            raise ValueError(f"{where}: the {name} does not match: {reason}") from None
    mg_random.set_rng_state(rng)
    return epoch, History(records)


# --------------------------------------------------------------------------------------------
# one step, guarded
# --------------------------------------------------------------------------------------------
def _name(model: Any, p: Tensor) -> str:
    named = model.named_parameters() if hasattr(model, "named_parameters") else ()
    return next((name for name, q in named if q is p), f"of shape {p.shape}")


def _first_non_finite(params: Iterable[Tensor], arrays: Callable[[Tensor], Any]) -> Any:
    """The first parameter whose array (``arrays(p)``, skipped when None) holds a NaN or an
    infinity. One BLAS pass per array, no allocation: a NaN or an infinity makes the sum of
    squares non-finite; a sum that overflows from finite values is checked element by element.
    """
    for p in params:
        a = arrays(p)
        if a is None or a.dtype.kind != "f":
            continue
        flat = a.reshape(-1)
        if not math.isfinite(float(np.dot(flat, flat))) and not np.isfinite(a).all():
            return p
    return None


def _step(
    model, loss_fn, optimizer, x, y, buffers, params, where: tuple[int, int], history, checkpoint
) -> tuple[float, Tensor]:
    """One update; returns (loss, output). Raises before updating on a non-finite loss or
    gradient, and after it if the update made a parameter non-finite."""
    saved = [b.data.copy() for b in buffers]
    optimizer.zero_grad()
    out = model(x)
    loss = loss_fn(out, y)
    value = float(loss.item())
    if math.isfinite(value):
        loss.backward()
    if hasattr(model, "synchronize"):  # replicas in other processes (minigrad.distributed)
        # averages the gradients over the processes; a NaN loss anywhere is seen everywhere
        (everyone,) = model.synchronize(value)
        value = value if math.isfinite(everyone) else everyone
    problem = None if math.isfinite(value) else f"the loss is {value}"
    if problem is None:
        bad = _first_non_finite(params, lambda p: p.grad)
        if bad is not None:
            problem = f"the gradient of parameter {_name(model, bad)} is not finite"
    epoch, step = where
    if problem is not None:
        for b, data in zip(buffers, saved, strict=True):
            np.copyto(b.data, data)
        optimizer.zero_grad()
        raise NonFiniteLossError(
            f"training stopped at epoch {epoch}, step {step}: {problem}; parameters, buffers "
            "and optimizer state are as they were before this step (try a smaller learning "
            "rate, or check the data for NaNs)",
            epoch,
            step,
            history,
            checkpoint,
        )
    optimizer.step()
    bad = _first_non_finite(params, lambda p: p.data)
    if bad is not None:
        count = bad.data.size - int(np.count_nonzero(np.isfinite(bad.data)))
        good = (
            f"the last good state is in {checkpoint} (after epoch {len(history)}): resume from "
            "it with a smaller learning rate"
            if checkpoint is not None
            else "no checkpoint holds a good state (fit(checkpoint=...) keeps one per epoch)"
        )
        lr = optimizer.param_groups[0]["lr"]
        raise NonFiniteLossError(
            f"training stopped at epoch {epoch}, step {step}: the update made parameter "
            f"{_name(model, bad)} non-finite ({count} of {bad.data.size} values are NaN "
            f"or infinite) although the loss and the gradients were finite: the step was too "
            f"large for {bad.data.dtype} (lr {lr:g}). The parameters and the optimizer state "
            f"now hold that update; {good}",
            epoch,
            step,
            history,
            checkpoint,
        )
    return value, out


# --------------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------------
def fit(
    model: Any,
    loss_fn: Callable,
    optimizer: Any,
    train_loader: Iterable,
    epochs: int,
    val_loader: Iterable | None = None,
    scheduler: Any = None,
    callbacks: Iterable[Callback] | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    metrics: Sequence[Metric] | None = None,
    config: Mapping[str, Any] | None = None,
    diagnose: bool | diagnostics.Diagnostics = False,
) -> History:
    """Train ``model`` for ``epochs`` epochs (in total, counting resumed ones).

    Each step: zero the gradients, forward, loss, backward, check that the loss and gradients
    are finite, update, check that the parameters are finite (see the module docstring for
    what each check leaves behind). Each epoch records the mean training loss and the mean of
    each metric, the same on ``val_loader`` (as ``val_loss``, ``val_accuracy``...), the
    learning rate and the time; then the scheduler steps, the checkpoint (if any) is written,
    and each callback is called with the :class:`History`; a callback returning True stops
    training early.

    A model wrapped in :class:`minigrad.distributed.DistributedDataParallel` trains as one
    model in every process of an MPI launch: each step, ``fit`` has it average the gradients
    over the processes (its ``synchronize``) before checking them and updating, so all
    processes stop together on a non-finite value; the recorded loss and accuracy cover every
    process's examples; only the main process (``is_main_process``) prints and writes the
    checkpoint, which every process reads to resume.

    Args:
        epochs: a positive int, the total number of epochs, counting those of a checkpoint
            resumed from.
        metrics: what to measure besides the loss (see :func:`evaluate`); by default the
            accuracy when the targets are class labels, nothing else for other targets.
        checkpoint: a path written (atomically) after every epoch with the model, optimizer,
            scheduler, loader and random states, the epoch, the history and ``config``.
        resume: load ``checkpoint`` into the given (fresh) objects first and continue from its
            epoch; the result is bit-identical to an uninterrupted run. Every field read is
            checked first (``ValueError`` naming it); on any error nothing has changed. A
            checkpoint that has already trained ``epochs`` epochs returns its history.
        config: a dict saved in every checkpoint under ``"config"``: what a program needs to
            rebuild and feed the model (the command line stores its settings there).
        progress: show a progress bar with the epoch's running means on a terminal, and one
            line per epoch; False is silent.
        diagnose: watch the model's gradient health (:mod:`minigrad.diagnostics`) and write
            the report, records and plots next to ``checkpoint`` (``diagnostics.txt``,
            ``.json``, ``-*.png``); True needs a checkpoint, or pass a ``Diagnostics`` of
            the model to read the results in code.

    Example:
        >>> import minigrad.nn as nn, minigrad.optim as optim
        >>> from minigrad.data import DataLoader, TensorDataset
        >>> data = DataLoader(TensorDataset(np.eye(4, dtype=np.float32), np.arange(4)), 2)
        >>> model = nn.Linear(4, 4)
        >>> h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5), data,
        ...         epochs=3, progress=False)
        >>> len(h), h["loss"][-1] < h["loss"][0]
        (3, True)
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(
            f"fit: epochs must be a positive int (the total, counting resumed epochs), "
            f"got {epochs!r}"
        )
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint= (the file to continue from)")
    _resolve(metrics or [])  # unknown names fail now, not after the first epoch
    params = [p for group in optimizer.param_groups for p in group["params"]]
    history, start = History(), 0
    if resume:
        start, history = _restore(checkpoint, model, optimizer, scheduler, train_loader, epochs)
    bad = _first_non_finite(params, lambda p: p.data)
    if bad is not None:
        raise ValueError(f"fit: parameter {_name(model, bad)} is not finite before training")
    callbacks = list(callbacks or [])
    buffers = list(model.buffers()) if hasattr(model, "buffers") else []
    writes = getattr(model, "is_main_process", True)  # one of several replicas writes
    bar = _Progress(progress and writes, epochs)
    last_good = checkpoint if resume else None  # a file this run has written or resumed
    diagnosis = diagnostics.for_fit(model, diagnose, checkpoint)
    for epoch in range(start + 1, epochs + 1):
        model.train()
        lr = optimizer.param_groups[0]["lr"]
        began = time.perf_counter()
        meter = _Meter(metrics)
        bar.start(epoch, _batches_seen(train_loader))
        for step, (x, y) in enumerate(train_loader, start=1):
            where = (epoch, step)
            loss, out = _step(
                model, loss_fn, optimizer, x, y, buffers, params, where, history, last_good
            )
            meter.add(out, y, loss)
            bar.update(meter)
        if meter.examples == 0:
            raise ValueError("fit: the training loader produced no batches")
        if hasattr(model, "all_sum"):  # every process's examples (minigrad.distributed)
            meter.combine(model.all_sum)
        record: dict[str, Any] = {"epoch": epoch, **meter.means()}
        if val_loader is not None:
            chosen = list(meter.metrics or {}) if metrics is None else metrics
            record.update(_prefixed(evaluate(model, val_loader, loss_fn, chosen), "val_"))
        record.update(lr=lr, seconds=time.perf_counter() - began)
        history.append(record)
        if scheduler is not None:
            scheduler.step()
        if checkpoint is not None:
            state = _checkpoint_state(
                model, optimizer, scheduler, train_loader, epoch, history, config
            )
            if writes:
                save(state, checkpoint)
            last_good = checkpoint
        bar.end(record)
        requests = [callback(history) for callback in callbacks]  # every callback runs
        if any(request is True for request in requests):
            break
    if diagnosis is not None:
        diagnosis.finish(checkpoint if writes else None)
    return history


def _prefixed(values: dict[str, float], prefix: str) -> dict[str, float]:
    return {prefix + k: v for k, v in values.items()}


def _batches_seen(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None
