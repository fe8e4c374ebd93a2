"""The minigrad implementation of the recurrent workloads L1 and C1 (see rnn_workloads.py).

Same interface as :mod:`benchmarks.rnn_floor`.

Example:
    >>> from benchmarks.rnn_workloads import make_workload
    >>> runner = build("L1", make_workload("L1"))
    >>> loss = runner.step()
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad import nn, optim


class Model(nn.Layer):
    """``embed`` (C1 only) -> ``lstm`` -> ``head`` (last step for L1, every step for C1)."""

    def __init__(self, name: str, workload: dict[str, Any]) -> None:
        super().__init__()
        params = workload["params"]
        k, h = params["head.weight"].shape
        i = params["lstm.weight_ih_l0"].shape[1]
        self.per_step = name == "C1"
        if self.per_step:
            self.embed = nn.Embedding(k, i)
        self.lstm = nn.LSTM(i, h)
        self.head = nn.Linear(h, k)

    def forward(self, inputs: Any, state: Any) -> mg.Tensor:
        x = self.embed(inputs) if self.per_step else inputs
        out, _ = self.lstm(x, state)
        return self.head(out).flatten(0, 1) if self.per_step else self.head(out[-1])


class MinigradRunner:
    """One minigrad model, optimizer and batch; ``step()`` is one timed training step."""

    def __init__(self, name: str, workload: dict[str, Any]) -> None:
        params = workload["params"]
        self.model = Model(name, workload).to(params["head.weight"].dtype)
        self.model.load_state_dict(params)
        self.inputs = (
            workload["idx"] if name == "C1" else mg.Tensor(workload["x"], dtype=workload["x"].dtype)
        )
        self.y = workload["y"].reshape(-1)
        self.state = (
            tuple(mg.Tensor(workload[k], dtype=workload[k].dtype) for k in ("h0", "c0"))
            if name == "C1"
            else None
        )
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = optim.SGD(
            self.model.parameters(), lr=workload["lr"], momentum=workload["momentum"]
        )

    def step(self) -> float:
        """zero_grad + forward + backward + update; returns the loss before the update."""
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.inputs, self.state), self.y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    def gradients(self) -> dict[str, np.ndarray]:
        """Gradients of the loss on the current weights, without updating."""
        self.optimizer.zero_grad()
        self.loss_fn(self.model(self.inputs, self.state), self.y).backward()
        return {k: p.grad.copy() for k, p in self.model.named_parameters()}


def build(name: str, workload: dict[str, Any]) -> MinigradRunner:
    """A runner for workload ``name`` starting from ``workload``'s weights and batch.

    Example:
        >>> from benchmarks.rnn_workloads import make_workload
        >>> build("C1", make_workload("C1")).step() > 0
        True
    """
    return MinigradRunner(name, workload)


def version() -> str:
    """The minigrad version."""
    return mg.__version__
