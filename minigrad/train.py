"""The training loop: ``fit`` runs epochs, ``evaluate`` measures, ``History`` remembers.

``fit`` checks every step's loss and gradients before it updates anything: a NaN or an
infinity stops training with :class:`NonFiniteLossError`, which says where, and leaves the
parameters, the buffers (batchnorm running statistics) and the optimizer state exactly as they
were before that step. With ``checkpoint=path`` it saves everything needed to continue after
every epoch; ``resume=True`` continues from such a file, bit for bit.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from minigrad import diagnostics
from minigrad import random as mg_random
from minigrad.autograd import no_grad
from minigrad.serialization import load, save
from minigrad.tensor import Tensor

__all__ = ["History", "NonFiniteLossError", "evaluate", "fit"]

Callback = Callable[["History"], Any]


class NonFiniteLossError(FloatingPointError):
    """Training stopped because a loss or gradient was NaN or infinite.

    ``epoch`` and ``step`` (1-based) say where; ``history`` holds the epochs completed.
    """

    def __init__(self, message: str, epoch: int, step: int, history: History) -> None:
        super().__init__(message)
        self.epoch, self.step, self.history = epoch, step, history


class History:
    """Per-epoch records of a training run: ``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy`` (with a validation loader), ``lr`` and ``seconds``.

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
        """Write the records as a JSON list.

        Example:
            >>> import tempfile, os; d = tempfile.mkdtemp()
            >>> History([{"epoch": 1}]).to_json(os.path.join(d, "h.json"))
        """
        Path(path).write_text(json.dumps(self.records, indent=2) + "\n")

    def to_csv(self, path: str | Path) -> None:
        """Write the records as CSV, one row per epoch.

        Example:
            >>> import tempfile, os; d = tempfile.mkdtemp()
            >>> History([{"epoch": 1, "loss": 0.5}]).to_csv(os.path.join(d, "h.csv"))
        """
        with open(path, "w", newline="") as f:
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
        """Save loss and accuracy curves as a PNG; False (nothing written) without matplotlib."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return False
        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
        epochs = self["epoch"]
        for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
            ax.plot(epochs, self[key], marker="o", label="train")
            if any(v is not None for v in self[f"val_{key}"]):
                ax.plot(epochs, self[f"val_{key}"], marker="o", label="validation")
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return True


def _batches_seen(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def evaluate(model: Any, loader: Iterable, loss_fn: Callable | None = None) -> dict[str, float]:
    """Accuracy (and mean loss when ``loss_fn`` is given) of a classifier over a loader.

    Runs in evaluation mode without recording a graph, then restores the model's mode.

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
    correct = seen = 0
    total_loss = 0.0
    try:
        with no_grad():
            for x, y in loader:
                out = model(x)
                labels = y.data if isinstance(y, Tensor) else np.asarray(y)
                correct += int((out.data.argmax(axis=1) == labels).sum())
                seen += len(labels)
                if loss_fn is not None:
                    total_loss += float(loss_fn(out, y).item()) * len(labels)
    finally:
        if was_training:
            model.train()
    if seen == 0:
        raise ValueError("evaluate: the loader produced no examples")
    result = {"accuracy": correct / seen}
    if loss_fn is not None:
        result["loss"] = total_loss / seen
    return result


class _Progress:
    """A tqdm bar per epoch on a terminal; one plain line per epoch otherwise."""

    def __init__(self, enabled: bool, epochs: int) -> None:
        self.enabled, self.epochs = enabled, epochs
        self.bar_wanted = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def start(self, epoch: int, total: int | None) -> None:
        if self.bar_wanted:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=f"epoch {epoch}/{self.epochs}", leave=False)

    def update(self, loss: float, accuracy: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.2%}", refresh=False)
            self.bar.update(1)

    def end(self, record: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.enabled:
            print(_describe(record, self.epochs), flush=True)


def _describe(record: dict[str, Any], epochs: int) -> str:
    parts = [
        f"epoch {record['epoch']}/{epochs}",
        f"loss {record['loss']:.4f}",
        f"acc {record['accuracy']:.2%}",
    ]
    if record.get("val_loss") is not None:
        parts += [f"val_loss {record['val_loss']:.4f}", f"val_acc {record['val_accuracy']:.2%}"]
    parts += [f"lr {record['lr']:.4g}", f"{record['seconds']:.1f}s"]
    return "  ".join(parts)


def _checkpoint_state(model, optimizer, scheduler, loader, epoch, history) -> dict[str, Any]:
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
    return state


def _restore(path, model, optimizer, scheduler, loader) -> tuple[int, History]:
    state = load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        if "scheduler" not in state:
            raise ValueError(f"resume: {path} holds no scheduler state, but a scheduler was given")
        scheduler.load_state_dict(state["scheduler"])
    if "loader" in state and hasattr(loader, "load_state_dict"):
        loader.load_state_dict(state["loader"])
    mg_random.set_rng_state(state["rng"])
    return int(state["epoch"]), History(state["history"]["records"])


def _step(
    model, loss_fn, optimizer, x, y, buffers, epoch: int, step: int, history: History
) -> tuple[float, int, int]:
    """One update; returns (loss, correct, count). Raises before updating on non-finite values."""
    saved = [b.data.copy() for b in buffers]
    optimizer.zero_grad()
    out = model(x)
    loss = loss_fn(out, y)
    value = float(loss.item())
    problem = None if math.isfinite(value) else f"the loss is {value}"
    if problem is None:
        loss.backward()
        bad = [
            p
            for g in optimizer.param_groups
            for p in g["params"]
            if p.grad is not None and not np.isfinite(p.grad).all()
        ]
        if bad:
            named = dict(model.named_parameters()) if hasattr(model, "named_parameters") else {}
            name = next((n for n, p in named.items() if p is bad[0]), f"shape {bad[0].shape}")
            problem = f"the gradient of parameter {name} is not finite"
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
        )
    optimizer.step()
    labels = y.data if isinstance(y, Tensor) else np.asarray(y)
    correct = int((out.data.argmax(axis=1) == labels).sum())
    return value, correct, len(labels)


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
    diagnose: bool | diagnostics.Diagnostics = False,
) -> History:
    """Train ``model`` for ``epochs`` epochs (in total, counting resumed ones).

    Each step: zero the gradients, forward, loss, backward, check that the loss and gradients
    are finite, update. Each epoch records the mean training loss and accuracy, validation
    loss and accuracy (with ``val_loader``), the learning rate and the time; then the scheduler
    steps, the checkpoint (if any) is written, and each callback is called with the
    :class:`History`; a callback returning True stops training early.

    Args:
        checkpoint: a path written (atomically) after every epoch with the model, optimizer,
            scheduler, loader and random states, the epoch and the history.
        resume: load ``checkpoint`` into the given (fresh) objects first and continue from its
            epoch; the result is bit-identical to an uninterrupted run.
        progress: show a progress bar on a terminal and one line per epoch; False is silent.
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
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint= (the file to continue from)")
    history, start = History(), 0
    if resume:
        start, history = _restore(checkpoint, model, optimizer, scheduler, train_loader)
    callbacks = list(callbacks or [])
    buffers = list(model.buffers()) if hasattr(model, "buffers") else []
    bar = _Progress(progress, epochs)
    diagnosis = diagnostics.for_fit(model, diagnose, checkpoint)
    for epoch in range(start + 1, epochs + 1):
        model.train()
        lr = optimizer.param_groups[0]["lr"]
        began = time.perf_counter()
        total_loss = correct = seen = 0
        bar.start(epoch, _batches_seen(train_loader))
        step = 0
        for step, (x, y) in enumerate(train_loader, start=1):
            loss, right, count = _step(
                model, loss_fn, optimizer, x, y, buffers, epoch, step, history
            )
            total_loss += loss * count
            correct += right
            seen += count
            bar.update(loss, right / count)
        if step == 0:
            raise ValueError("fit: the training loader produced no batches")
        record: dict[str, Any] = {
            "epoch": epoch,
            "loss": total_loss / seen,
            "accuracy": correct / seen,
        }
        if val_loader is not None:
            metrics = evaluate(model, val_loader, loss_fn)
            record.update(val_loss=metrics["loss"], val_accuracy=metrics["accuracy"])
        record.update(lr=lr, seconds=time.perf_counter() - began)
        history.append(record)
        if scheduler is not None:
            scheduler.step()
        if checkpoint is not None:
            save(
                _checkpoint_state(model, optimizer, scheduler, train_loader, epoch, history),
                checkpoint,
            )
        bar.end(record)
        requests = [callback(history) for callback in callbacks]  # every callback runs
        if any(request is True for request in requests):
            break
    if diagnosis is not None:
        diagnosis.finish(checkpoint)
    return history
