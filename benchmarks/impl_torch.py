"""The PyTorch (CPU) implementation of the benchmark workloads.

Same interface as :mod:`benchmarks.reference_numpy`: ``build(name, workload)`` returns a runner
whose ``step()`` does zero_grad + forward + backward + SGD update and returns the loss, and whose
``gradients()`` returns the parameter gradients of one forward/backward without updating.

Example:
    >>> from benchmarks.workloads import make_workload
    >>> runner = build("W1", make_workload("W1"))
    >>> loss = runner.step()
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.workloads import layer_indices


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
        model = nn.Sequential(
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
        assert [i for i, m in enumerate(model) if isinstance(m, nn.BatchNorm2d)] == (
            layer_indices("W3")["bn"]
        )
        return model
    raise ValueError(f"unknown workload {name!r}")


class TorchRunner:
    """One PyTorch model, optimizer and batch; ``step()`` is one timed training step."""

    def __init__(self, name: str, workload: dict[str, Any]) -> None:
        dtype = torch.float64 if workload["x"].dtype == np.float64 else torch.float32
        self.model = make_model(name).to(dtype).train()
        state = {**workload["params"], **workload["buffers"]}
        with torch.no_grad():
            for key, tensor in [*self.model.named_parameters(), *self.model.named_buffers()]:
                if key in state:
                    tensor.copy_(torch.from_numpy(state[key]))
        self.x = torch.from_numpy(workload["x"].copy())
        self.y = torch.from_numpy(workload["y"].copy())
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(
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
        return {k: p.grad.numpy().copy() for k, p in self.model.named_parameters()}

    def buffers(self) -> dict[str, np.ndarray]:
        """BatchNorm running statistics by name (the step counter left out)."""
        return {
            k: b.numpy().copy()
            for k, b in self.model.named_buffers()
            if not k.endswith("num_batches_tracked")
        }


def set_threads(n: int) -> None:
    """Use ``n`` intra-op threads."""
    torch.set_num_threads(n)


def build(name: str, workload: dict[str, Any]) -> TorchRunner:
    """A runner for workload ``name`` starting from ``workload``'s weights and batch.

    Example:
        >>> from benchmarks.workloads import make_workload
        >>> build("W3", make_workload("W3")).step() > 0
        True
    """
    return TorchRunner(name, workload)


def version() -> str:
    """The PyTorch version and the BLAS and CPU capability it was built to use."""
    config = torch.__config__.show()
    blas = "MKL" if "Math Kernel Library" in config else "unknown BLAS"
    for line in config.splitlines():
        if "Math Kernel Library Version" in line:
            blas = "MKL " + line.split("Version")[1].split()[0]
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{torch.__version__} ({blas}, CPU capability {capability})"
