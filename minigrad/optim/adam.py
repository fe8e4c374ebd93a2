"""Adam and AdamW: one implementation, differing only in how weight decay is applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, ParamsT, _decayed
from minigrad.tensor import Tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, with PyTorch's update for parameter ``p``, gradient ``g``, step count ``t``::

        g = g + weight_decay * p                        (Adam; AdamW instead: p *= 1 - lr * wd)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                           (amsgrad; then used in place of v)
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps
        p = p - lr / (1 - beta1**t) * m / denom

    ``t`` counts the updates of each parameter. The gradient arrays are never modified; the
    state of ``p`` is ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq``.

    Example:
        >>> from minigrad import Tensor; w = Tensor([1.0, 2.0], requires_grad=True)
        >>> w.grad = np.array([1.0, -1.0], np.float32); Adam([w], lr=0.1).step(); w.data.round(4)
        array([0.9, 2.1], dtype=float32)
    """

    _decoupled = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_number("lr", group["lr"], 0)
        self._check_number("weight_decay", group["weight_decay"], 0)
        self._check_number("eps", group["eps"], 0)
        if group["eps"] == 0:
            raise ValueError(f"{self._name}: invalid eps 0: must be > 0")
        betas = group["betas"]
        if not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair of numbers, got {betas!r}")
        for i, beta in enumerate(betas):
            self._check_number(f"betas[{i}]", beta, 0, 1, open_high=True)
        group["betas"] = (float(betas[0]), float(betas[1]))
        if not isinstance(group["amsgrad"], bool | np.bool_):
            raise ValueError(f"{self._name}: amsgrad must be a bool, got {group['amsgrad']!r}")

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The step count and the moment estimates (and their running maximum with amsgrad).

        Example:
            >>> from minigrad import Tensor; p = Tensor([1.0], requires_grad=True)
            >>> opt = Adam([p], amsgrad=True); list(opt.init_state(p, opt.param_groups[0]))
            ['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']
        """
        state = {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p.data)
        return state

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (see the class docstring)."""
        decoupled = self._decoupled
        for group in self.param_groups:
            # Python floats keep a float32 parameter's arithmetic in float32.
            lr = float(group["lr"])
            beta1, beta2 = group["betas"]
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            amsgrad = bool(group["amsgrad"])
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                w = p.data
                p._bump()
                st = self._state_of(p, group)
                t = st["step"] = st["step"] + 1
                if decoupled:
                    g = grad
                    if weight_decay != 0:
                        w *= 1 - lr * weight_decay
                else:
                    g = _decayed(grad, w, weight_decay)
                m, v = st["exp_avg"], st["exp_avg_sq"]
                # m.lerp_(g, 1 - beta1) as PyTorch writes it; ``tmp`` is the one temporary.
                tmp = np.subtract(g, m, out=np.empty_like(m))
                tmp *= 1 - beta1
                m += tmp
                np.multiply(g, g, out=tmp)
                tmp *= 1 - beta2
                v *= beta2
                v += tmp
                if amsgrad:
                    v = np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
                denom = np.sqrt(v, out=tmp)
                denom /= (1 - beta2**t) ** 0.5
                denom += eps
                update = np.divide(m, denom, out=tmp)
                update *= lr / (1 - beta1**t)
                w -= update


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    Same arguments and state as :class:`Adam`, with ``weight_decay=1e-2`` by default.

    Example:
        >>> from minigrad import Tensor; w = Tensor([1.0], requires_grad=True)
        >>> w.grad = np.zeros(1, np.float32); AdamW([w], lr=0.5, weight_decay=0.1).step(); w.data
        array([0.95], dtype=float32)
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
