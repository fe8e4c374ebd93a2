"""The minigrad implementation of the benchmark workloads, written against DESIGN.md's API.

Same interface as :mod:`benchmarks.reference_numpy`: ``build(name, workload)`` returns a runner
whose ``step()`` is ``optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward();
optimizer.step()`` and returns the loss, whose ``gradients()`` returns the parameter
gradients of one forward/backward without updating, and whose ``infer()`` is the evaluation
forward (``eval()`` mode, under ``no_grad``). Weights are copied in from the workload by
parameter name; BatchNorm running statistics start at their defaults (0 and 1), as the
workload's do. The model runs in the workload's dtype (float32 for the benchmark).

W5's dropout layers are :class:`GivenDropout`: they multiply by the workload's mask for the
step instead of drawing one, so the losses agree with the other implementations'.

Example:
    >>> from benchmarks.workloads import make_workload
    >>> runner = build("W1", make_workload("W1"))
    >>> loss = runner.step()
    >>> runner.infer().shape
    (128, 10)
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

import minigrad
import minigrad.functional as F
from benchmarks.overhead import per_op_costs
from minigrad import nn, optim


class GivenDropout(nn.Layer):
    """Dropout whose masks are given: training step ``k`` multiplies by ``masks[k % P]``
    (entries 0 or ``1 / (1 - p)``); the identity in evaluation mode.

    The runner sets ``masks`` (Tensors) and advances ``step`` after each optimizer step.

    Example:
        >>> layer = GivenDropout(0.5)
        >>> layer.masks = [minigrad.tensor([2.0, 0.0])]
        >>> layer(minigrad.tensor([1.0, 1.0])).tolist()
        [2.0, 0.0]
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.masks: list[minigrad.Tensor] = []
        self.step = 0

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        if not self.training:
            return x
        if not self.masks:
            raise RuntimeError("GivenDropout: no masks given; set .masks before training")
        return x * self.masks[self.step % len(self.masks)]


class LogSoftmax(nn.Layer):
    """``log_softmax`` over the class axis, as the model of PyTorch's MNIST example ends.

    Example:
        >>> LogSoftmax()(minigrad.tensor([[0.0, 0.0]])).exp().tolist()
        [[0.5, 0.5]]
    """

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return x.log_softmax(axis=1)


def make_mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """Linear layers of ``sizes`` with ReLU between them (Sequential indices 0, 2, 4, ...).

    Example:
        >>> [k for k, _ in make_mlp((4, 3, 2)).named_parameters()]
        ['0.weight', '0.bias', '2.weight', '2.bias']
    """
    layers: list[nn.Layer] = []
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
            LogSoftmax(),
        )
    raise ValueError(f"unknown workload {name!r} (MLP needs sizes)")


class MinigradRunner:
    """One minigrad model, optimizer and batch; ``step()`` is one timed training step."""

    def __init__(self, name: str, workload: dict[str, Any]) -> None:
        dtype = workload["x"].dtype
        self.model = make_model(name, workload.get("sizes"))
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
        self.dropouts = []
        for index, masks in workload.get("masks", {}).items():
            layer = self.model[int(index)]
            layer.masks = [minigrad.tensor(m, dtype=dtype) for m in masks]
            self.dropouts.append(layer)
        self.x = minigrad.tensor(workload["x"], dtype=dtype)
        self.y = minigrad.tensor(workload["y"])
        self.loss_fn = F.nll_loss if name == "W5" else nn.CrossEntropyLoss()
        self.optimizer = optim.SGD(
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
        return {k: np.array(p.grad, copy=True) for k, p in self.model.named_parameters()}

    def infer(self) -> np.ndarray:
        """The model's output (N, 10) in evaluation mode, under ``no_grad``."""
        if self.model.training:
            self.model.eval()
        with minigrad.no_grad():
            return self.model(self.x).numpy()


class Negate(minigrad.Function):
    """``-x``: a Function whose arithmetic costs nothing next to the engine's bookkeeping."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return -x

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> np.ndarray:
        return -grad


def overhead(ops: int = 200, repeats: int = 15) -> dict[str, float]:
    """minigrad's fixed cost per operation in microseconds, on 2x2 float32 tensors (what each
    key means: :mod:`benchmarks.overhead`).

    Example:
        >>> sorted(overhead(ops=5, repeats=2))
        ['apply_no_grad_us', 'apply_us', 'backward_node_us', 'operator_us']
    """
    x = minigrad.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    c = minigrad.tensor(np.ones((2, 2), np.float32))
    seed = np.ones((2, 2), np.float32)
    return per_op_costs(x, c, Negate.apply, minigrad.no_grad, seed, ops, repeats)


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
