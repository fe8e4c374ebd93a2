"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, ParamsT, _decayed
from minigrad.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's update for parameter ``p``, gradient ``g``::

        g = g + weight_decay * p                        (if weight_decay)
        buf = g                                         (first step with momentum)
        buf = momentum * buf + (1 - dampening) * g      (later steps)
        g = g + momentum * buf if nesterov else buf     (if momentum)
        p = p - lr * g

    ``nesterov=True`` needs ``momentum > 0`` and ``dampening == 0``. The gradient arrays are
    never modified; the momentum buffer is ``state[p]["momentum_buffer"]``.

    Example:
        >>> from minigrad import Tensor; w = Tensor([1.0, 2.0], requires_grad=True)
        >>> w.grad = np.ones(2, np.float32); SGD([w], lr=0.1).step(); w.data
        array([0.9, 1.9], dtype=float32)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0,
        dampening: float = 0,
        nesterov: bool = False,
        weight_decay: float = 0,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "momentum", "weight_decay"):
            self._check_number(key, group[key], 0)
        self._check_number("dampening", group["dampening"], 0, 1)
        if not isinstance(group["nesterov"], bool | np.bool_):
            raise ValueError(f"SGD: nesterov must be a bool, got {group['nesterov']!r}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True needs momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']} and dampening={group['dampening']}"
            )

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """A momentum buffer like ``p`` when the group uses momentum, else nothing.

        Example:
            >>> from minigrad import Tensor; p = Tensor([1.0], requires_grad=True)
            >>> opt = SGD([p], lr=0.1, momentum=0.9); list(opt.init_state(p, opt.param_groups[0]))
            ['momentum_buffer']
        """
        return {"momentum_buffer": np.zeros_like(p.data)} if group["momentum"] != 0 else {}

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (see the class docstring)."""
        state = self.state
        for group in self.param_groups:
            # Python floats keep a float32 parameter's arithmetic in float32.
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = bool(group["nesterov"])
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                w = p.data
                g = _decayed(grad, w, weight_decay)
                p._bump()
                if momentum == 0:
                    # A temporary of our own is scaled in place; the user's gradient is not.
                    w -= g * lr if g is grad else np.multiply(g, lr, out=g)
                    continue
                st = state.get(p)
                if st is None:  # PyTorch: the first step's buffer is the raw gradient
                    st = state[p] = self.init_state(p, group)
                    buf = st["momentum_buffer"]
                    np.copyto(buf, g)
                else:
                    buf = st["momentum_buffer"]
                    buf *= momentum
                    buf += g if dampening == 0 else g * (1 - dampening)
                if nesterov:
                    update = np.multiply(buf, momentum, out=np.empty_like(buf))
                    update += g
                    update *= lr
                else:
                    update = buf * lr
                w -= update
