"""The PyTorch (CPU) implementation of the benchmark workloads.

Same interface as :mod:`benchmarks.impl_minigrad`: ``build(name, workload)`` returns a runner
whose ``step()`` does zero_grad + forward + backward + SGD update and returns the loss, whose
``gradients()`` returns the parameter gradients of one forward/backward without updating, and
whose ``infer()`` is the evaluation forward (``eval()`` mode, under ``torch.no_grad()``). W5's
dropout layers multiply by the workload's masks (:class:`GivenDropout`), as minigrad's do.

Example:
    >>> from benchmarks.workloads import make_workload
    >>> runner = build("W1", make_workload("W1"))
    >>> loss = runner.step()
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.overhead import per_op_costs
from benchmarks.workloads import layer_indices


class GivenDropout(nn.Module):
    """Dropout whose masks are given: training step ``k`` multiplies by ``masks[k % P]``
    (entries 0 or ``1 / (1 - p)``); the identity in evaluation mode.

    Example:
        >>> layer = GivenDropout(0.5)
        >>> layer.masks = [torch.tensor([2.0, 0.0])]
        >>> layer(torch.tensor([1.0, 1.0])).tolist()
        [2.0, 0.0]
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.masks: list[torch.Tensor] = []
        self.step = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        if not self.masks:
            raise RuntimeError("GivenDropout: no masks given; set .masks before training")
        return x * self.masks[self.step % len(self.masks)]


def make_mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """Linear layers of ``sizes`` with ReLU between them (Sequential indices 0, 2, 4, ...).

    Example:
        >>> [k for k, _ in make_mlp((4, 3, 2)).named_parameters()]
        ['0.weight', '0.bias', '2.weight', '2.bias']
    """
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def make_model(name: str, sizes: tuple[int, ...] | None = None) -> nn.Sequential:
    """The ``nn.Sequential`` of workload ``name``, with the layer indices of workloads.py
    (``sizes`` for the ``"MLP"`` workload).

    Example:
        >>> [k for k, _ in make_model("W2").named_parameters()][:2]
        ['0.weight', '0.bias']
    """
    if name == "W1":
        return make_mlp((784, 256, 128, 10))
    if name == "MLP" and sizes is not None:
        return make_mlp(sizes)
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
    if name == "W4":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )
    if name == "W5":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            GivenDropout(0.25),
            nn.Flatten(),
            nn.Linear(9216, 128),
            nn.ReLU(),
            GivenDropout(0.5),
            nn.Linear(128, 10),
            nn.LogSoftmax(dim=1),
        )
    raise ValueError(f"unknown workload {name!r} (MLP needs sizes)")


class TorchRunner:
    """One PyTorch model, optimizer and batch; ``step()`` is one timed training step."""

    def __init__(self, name: str, workload: dict[str, Any]) -> None:
        dtype = torch.float64 if workload["x"].dtype == np.float64 else torch.float32
        self.model = make_model(name, workload.get("sizes")).to(dtype).train()
        state = {**workload["params"], **workload["buffers"]}
        with torch.no_grad():
            for key, tensor in [*self.model.named_parameters(), *self.model.named_buffers()]:
                if key in state:
                    tensor.copy_(torch.from_numpy(state[key]))
        self.dropouts = []
        for index, masks in workload.get("masks", {}).items():
            layer = self.model[int(index)]
            layer.masks = [torch.from_numpy(m.copy()) for m in masks]
            self.dropouts.append(layer)
        self.x = torch.from_numpy(workload["x"].copy())
        self.y = torch.from_numpy(workload["y"].copy())
        self.loss_fn = nn.NLLLoss() if name == "W5" else nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=workload["lr"], momentum=workload["momentum"]
        )

    def step(self) -> float:
        """zero_grad + forward + backward + update; returns the loss before the update."""
        if not self.model.training:
            self.model.train()
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        for layer in self.dropouts:
            layer.step += 1
        return float(loss.item())

    def gradients(self) -> dict[str, np.ndarray]:
        """Gradients of the loss on the current weights (no update; BN stats do move)."""
        self.optimizer.zero_grad()
        self.loss_fn(self.model(self.x), self.y).backward()
        return {k: p.grad.numpy().copy() for k, p in self.model.named_parameters()}

    def infer(self) -> np.ndarray:
        """The model's output (N, 10) in evaluation mode, under ``torch.no_grad()``."""
        if self.model.training:
            self.model.eval()
        with torch.no_grad():
            return self.model(self.x).numpy()

    def buffers(self) -> dict[str, np.ndarray]:
        """BatchNorm running statistics by name (the step counter left out)."""
        return {
            k: b.numpy().copy()
            for k, b in self.model.named_buffers()
            if not k.endswith("num_batches_tracked")
        }


class Negate(torch.autograd.Function):
    """``-x``: a Function whose arithmetic costs nothing next to the engine's bookkeeping."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return -x

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return -grad


def overhead(ops: int = 200, repeats: int = 15) -> dict[str, float]:
    """PyTorch's fixed cost per operation in microseconds, on 2x2 float32 tensors, measured
    as minigrad's is (what each key means: :mod:`benchmarks.overhead`).

    Example:
        >>> sorted(overhead(ops=5, repeats=2))
        ['apply_no_grad_us', 'apply_us', 'backward_node_us', 'operator_us']
    """
    x = torch.ones((2, 2), requires_grad=True)
    c = torch.ones((2, 2))
    return per_op_costs(x, c, Negate.apply, torch.no_grad, torch.ones((2, 2)), ops, repeats)


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
