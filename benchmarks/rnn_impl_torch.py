"""The PyTorch (CPU) implementation of the recurrent workloads L1 and C1.

Same interface as :mod:`benchmarks.rnn_floor`: ``build(name, workload)`` returns a runner whose
``step()`` does zero_grad + forward + backward + SGD update and returns the loss, and whose
``gradients()`` returns the parameter gradients of one forward/backward without updating.

Example:
    >>> from benchmarks.rnn_workloads import make_workload
    >>> runner = build("L1", make_workload("L1"))
    >>> loss = runner.step()
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class Model(nn.Module):
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

    def forward(self, inputs: torch.Tensor, state: Any) -> torch.Tensor:
        x = self.embed(inputs) if self.per_step else inputs
        out, _ = self.lstm(x, state)
        return self.head(out).flatten(0, 1) if self.per_step else self.head(out[-1])


class TorchRunner:
    """One PyTorch model, optimizer and batch; ``step()`` is one timed training step."""

    def __init__(self, name: str, workload: dict[str, Any]) -> None:
        params = workload["params"]
        dtype = torch.float64 if params["head.weight"].dtype == np.float64 else torch.float32
        self.model = Model(name, workload).to(dtype)
        with torch.no_grad():
            for key, tensor in self.model.named_parameters():
                tensor.copy_(torch.from_numpy(params[key]))
        inputs = workload["idx"] if name == "C1" else workload["x"]
        self.inputs = torch.from_numpy(inputs.copy())
        self.y = torch.from_numpy(workload["y"].reshape(-1).copy())
        self.state = (
            (torch.from_numpy(workload["h0"].copy()), torch.from_numpy(workload["c0"].copy()))
            if name == "C1"
            else None
        )
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(
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
        return {k: p.grad.numpy().copy() for k, p in self.model.named_parameters()}


def set_threads(n: int) -> None:
    """Use ``n`` intra-op threads."""
    torch.set_num_threads(n)


def build(name: str, workload: dict[str, Any]) -> TorchRunner:
    """A runner for workload ``name`` starting from ``workload``'s weights and batch.

    Example:
        >>> from benchmarks.rnn_workloads import make_workload
        >>> build("C1", make_workload("C1")).step() > 0
        True
    """
    return TorchRunner(name, workload)


def version() -> str:
    """The PyTorch version."""
    return torch.__version__
