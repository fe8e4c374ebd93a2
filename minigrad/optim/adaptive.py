"""Adagrad, RMSprop and Adadelta: per-element step sizes from running sums of squared
gradients, with PyTorch's update rules, defaults and state names."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, ParamsT, _decayed
from minigrad.tensor import Tensor

__all__ = ["Adadelta", "Adagrad", "RMSprop"]


def _zeros(p: Tensor, fill: float = 0.0) -> np.ndarray:
    """A state buffer shaped and typed like ``p`` (a plain ndarray)."""
    return np.full(p.data.shape, fill, dtype=p.data.dtype)


def _sqrt(x: np.ndarray) -> np.ndarray:
    """``sqrt(x)`` as a new array, also for a 0-d ``x`` (where NumPy would return a scalar)."""
    return np.sqrt(x, out=np.empty(x.shape, x.dtype))


class Adagrad(Optimizer):
    """Adagrad, with PyTorch's update for parameter ``p``, gradient ``g``, step count ``t``::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g                        (starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(sum) + eps)

    The state of ``p`` is ``step`` and ``sum``.

    Example:
        >>> from minigrad import Tensor; w = Tensor([1.0, 2.0], requires_grad=True)
        >>> w.grad = np.array([2.0, -1.0], np.float32); Adagrad([w], lr=0.5).step(); w.data
        array([0.5, 2.5], dtype=float32)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._check_number(key, group[key], 0)

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The step count and the running sum of squared gradients.

        Example:
            >>> from minigrad import Tensor; p = Tensor([1.0], requires_grad=True)
            >>> opt = Adagrad([p], initial_accumulator_value=0.1)
            >>> opt.init_state(p, opt.param_groups[0])
            {'step': 0, 'sum': array([0.1], dtype=float32)}
        """
        return {"step": 0, "sum": _zeros(p, group["initial_accumulator_value"])}

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (see the class docstring)."""
        for group in self.param_groups:
            lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
            weight_decay, eps = float(group["weight_decay"]), float(group["eps"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                w = p.data
                p._bump()
                st = self._state_of(p, group)
                t = st["step"] = st["step"] + 1
                g = _decayed(p.grad, w, weight_decay)
                total = st["sum"]
                total += g * g
                std = _sqrt(total)
                std += eps
                update = np.divide(g, std, out=std)
                update *= lr / (1 + (t - 1) * lr_decay)
                w -= update


class RMSprop(Optimizer):
    """RMSprop, with PyTorch's update for parameter ``p`` and gradient ``g``::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        m = alpha * m + (1 - alpha) * g;  v_hat = v - m * m      (centered; else v_hat = v)
        d = g / (sqrt(v_hat) + eps)
        b = momentum * b + d;  d = b                             (momentum > 0)
        p = p - lr * d

    The state of ``p`` is ``step``, ``square_avg`` (v), and ``momentum_buffer`` (b) with
    momentum, ``grad_avg`` (m) when centered.

    Example:
        >>> from minigrad import Tensor; w = Tensor([1.0], requires_grad=True)
        >>> w.grad = np.array([2.0], np.float32); RMSprop([w], lr=0.1, alpha=0.75).step(); w.data
        array([0.8], dtype=float32)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay", "momentum"):
            self._check_number(key, group[key], 0)
        self._check_number("alpha", group["alpha"], 0, 1)
        if not isinstance(group["centered"], bool | np.bool_):
            raise ValueError(f"RMSprop: centered must be a bool, got {group['centered']!r}")

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The step count, the mean square, and the momentum buffer and mean gradient when
        the group uses them.

        Example:
            >>> from minigrad import Tensor; p = Tensor([1.0], requires_grad=True)
            >>> opt = RMSprop([p], momentum=0.9, centered=True)
            >>> list(opt.init_state(p, opt.param_groups[0]))
            ['step', 'square_avg', 'momentum_buffer', 'grad_avg']
        """
        state = {"step": 0, "square_avg": _zeros(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros(p)
        if group["centered"]:
            state["grad_avg"] = _zeros(p)
        return state

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (see the class docstring)."""
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                w = p.data
                p._bump()
                st = self._state_of(p, group)
                st["step"] += 1
                g = _decayed(p.grad, w, weight_decay)
                v = st["square_avg"]
                v *= alpha
                v += (1 - alpha) * (g * g)
                if group["centered"]:
                    m = st["grad_avg"]
                    m *= alpha
                    m += (1 - alpha) * g
                    avg = _sqrt(v - m * m)
                else:
                    avg = _sqrt(v)
                avg += eps
                d = np.divide(g, avg, out=avg)
                if momentum > 0:
                    b = st["momentum_buffer"]
                    b *= momentum
                    b += d
                    d = b * lr
                else:
                    d *= lr
                w -= d


class Adadelta(Optimizer):
    """Adadelta, with PyTorch's update for parameter ``p`` and gradient ``g``::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d

    ``lr`` defaults to 1.0, as in PyTorch (Adadelta needs no learning rate; it scales the
    step). The state of ``p`` is ``step``, ``square_avg`` (v) and ``acc_delta`` (u).

    Example:
        >>> from minigrad import Tensor; w = Tensor([1.0], requires_grad=True)
        >>> w.grad = np.array([1.0], np.float32); Adadelta([w], rho=0.0, eps=1.0).step(); w.data
        array([0.29289323], dtype=float32)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
    ) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay"):
            self._check_number(key, group[key], 0)
        self._check_number("rho", group["rho"], 0, 1)

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The step count and the running averages of squared gradients and updates.

        Example:
            >>> from minigrad import Tensor; p = Tensor([1.0], requires_grad=True)
            >>> opt = Adadelta([p]); list(opt.init_state(p, opt.param_groups[0]))
            ['step', 'square_avg', 'acc_delta']
        """
        return {"step": 0, "square_avg": _zeros(p), "acc_delta": _zeros(p)}

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (see the class docstring)."""
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                w = p.data
                p._bump()
                st = self._state_of(p, group)
                st["step"] += 1
                g = _decayed(p.grad, w, weight_decay)
                v, u = st["square_avg"], st["acc_delta"]
                v *= rho
                v += (1 - rho) * (g * g)
                d = np.sqrt(u + eps)
                d /= np.sqrt(v + eps)
                d *= g
                u *= rho
                u += (1 - rho) * (d * d)
                d *= lr
                w -= d
