"""The minigrad implementation of the benchmark workloads, written against DESIGN.md's API.

Same interface as :mod:`benchmarks.reference_numpy`: ``build(name, workload)`` returns a runner
whose ``step()`` is ``optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward();
optimizer.step()`` and returns the loss, and whose ``gradients()`` returns the parameter
gradients of one forward/backward without updating. Weights are copied in from the workload by
parameter name; BatchNorm running statistics start at their defaults (0 and 1), as the
workload's do. The model runs in the workload's dtype (float32 for the benchmark).

Example:
    >>> from benchmarks.workloads import make_workload
    >>> runner = build("W1", make_workload("W1"))
    >>> loss = runner.step()
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad
from minigrad import nn, optim


def make_model(name: str) -> nn.Sequential:
    """The ``nn.Sequential`` of workload ``name``, with the layer indices of workloads.py.

    Example:
        >>> [k for k, _ in make_model("W2").named_parameters()][:2]
        ['0.weight', '0.bias']
    """
    if name == "W1":
        return nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
        )
    if name == "W2":
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(784, 10),
        )
    if name == "W3":
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(784, 10),
        )
    raise ValueError(f"unknown workload {name!r}")


class MinigradRunner:
    """One minigrad model, optimizer and batch; ``step()`` is one timed training step."""

    def __init__(self, name: str, workload: dict[str, Any]) -> None:
        dtype = workload["x"].dtype
        self.model = make_model(name)
        if dtype != np.float32:
            self.model.to(dtype)
        self.model.train()
        params = dict(self.model.named_parameters())
        if set(params) != set(workload["params"]):
            raise ValueError(
                f"minigrad {name} parameters {sorted(params)} != {sorted(workload['params'])}"
            )
        for key, value in workload["params"].items():
            params[key].data[...] = value
        self.x = minigrad.tensor(workload["x"], dtype=dtype)
        self.y = minigrad.tensor(workload["y"])
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = optim.SGD(
            self.model.parameters(), lr=workload["lr"], momentum=workload["momentum"]
        )

    def step(self) -> float:
        """zero_grad + forward + backward + update; returns the loss before the update."""
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    def gradients(self) -> dict[str, np.ndarray]:
        """Gradients of the loss on the current weights (no update; BN stats do move)."""
        self.optimizer.zero_grad()
        self.loss_fn(self.model(self.x), self.y).backward()
        return {k: np.array(p.grad, copy=True) for k, p in self.model.named_parameters()}


def build(name: str, workload: dict[str, Any]) -> MinigradRunner:
    """A runner for workload ``name`` starting from ``workload``'s weights and batch.

    Example:
        >>> from benchmarks.workloads import make_workload
        >>> build("W2", make_workload("W2")).step() > 0
        True
    """
    return MinigradRunner(name, workload)


def version() -> str:
    """minigrad's version string."""
    return str(getattr(minigrad, "__version__", "unknown"))
