"""Learning-rate schedules, stepped once per epoch, with PyTorch's values in closed form."""

from __future__ import annotations

import math
import numbers
from typing import Any

from minigrad.optim.optimizer import Optimizer

__all__ = ["CosineAnnealingLR", "LRScheduler", "StepLR"]


class LRScheduler:
    """Base class: sets each parameter group's ``lr`` from its initial value and the epoch.

    At construction ``last_epoch`` is 0 and the learning rates are the optimizer's own (the
    ``base_lrs``); each :meth:`step` advances ``last_epoch`` by one and writes
    ``lr_at(base_lr, last_epoch)`` into every group, so the schedule owns ``lr``: a value set
    by hand is overwritten at the next step. Subclasses implement ``lr_at``.

    Example:
        >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
        >>> StepLR(opt, step_size=1).base_lrs
        [1.0]
    """

    _hyperparameters: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {optimizer!r}")
        self.optimizer = optimizer
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at ``epoch`` of a group that started at ``base_lr``."""
        raise NotImplementedError

    def _apply(self) -> None:
        self._last_lr = [self.lr_at(base, self.last_epoch) for base in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
            group["lr"] = lr

    def step(self) -> None:
        """Advance one epoch and set the new learning rates (call after the epoch's updates).

        Example:
            >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
            >>> s = StepLR(opt, step_size=1, gamma=0.5); s.step(); s.last_epoch, s.get_last_lr()
            (1, [0.5])
        """
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group, as last set by this scheduler.

        Example:
            >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
            >>> s = StepLR(opt, step_size=1, gamma=0.5); s.step(); s.get_last_lr()
            [0.5]
        """
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """``last_epoch``, ``base_lrs`` and the schedule's hyperparameters (for ``minigrad.save``).

        Example:
            >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
            >>> StepLR(opt, step_size=2).state_dict()
            {'last_epoch': 0, 'base_lrs': [1.0], 'step_size': 2, 'gamma': 0.1}
        """
        keys = ("last_epoch", "base_lrs", *self._hyperparameters)
        return {k: list(getattr(self, k)) if k == "base_lrs" else getattr(self, k) for k in keys}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` and set the optimizer's learning rates to match it.

        Example:
            >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
            >>> s = StepLR(opt, step_size=1); s.load_state_dict(s.state_dict()); s.last_epoch
            0
        """
        name = f"{type(self).__name__}.load_state_dict"
        expected = {"last_epoch", "base_lrs", *self._hyperparameters}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            found = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
            raise ValueError(f"{name}: expected keys {sorted(expected)}, got {found}")
        if not isinstance(state_dict["base_lrs"], list | tuple):
            raise ValueError(f"{name}: base_lrs must be a list, got {state_dict['base_lrs']!r}")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{name}: the state has {len(state_dict['base_lrs'])} learning rates, the "
                f"optimizer has {len(self.optimizer.param_groups)} parameter groups"
            )
        type(self)._check(**{k: state_dict[k] for k in self._hyperparameters})
        for lr in state_dict["base_lrs"]:
            _check_finite(name, "base_lrs", lr)
        epoch = state_dict["last_epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"{name}: last_epoch must be an int >= 0, got {epoch!r}")
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = [float(lr) for lr in state_dict["base_lrs"]]
        for k in self._hyperparameters:
            setattr(self, k, state_dict[k])
        self._apply()

    @staticmethod
    def _check(**hyperparameters: Any) -> None:
        """Raise ``ValueError`` on invalid hyperparameters (subclasses override)."""


def _check_finite(name: str, key: str, value: Any) -> None:
    """Require a finite real number >= 0 (NaN and infinity would poison every learning rate)."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (real and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: {key} must be a finite number >= 0, got {value!r}")


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr = base_lr * gamma ** (epoch // step_size)``.

    Example:
        >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
        >>> s = StepLR(opt, 2, gamma=0.5); [s.step() or s.get_last_lr()[0] for _ in "1234"]
        [1.0, 0.5, 0.5, 0.25]
    """

    _hyperparameters = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self._check(step_size=step_size, gamma=gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    @staticmethod
    def _check(step_size: Any, gamma: Any) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        _check_finite("StepLR", "gamma", gamma)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """``base_lr * gamma ** (epoch // step_size)``."""
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from its initial value to ``eta_min`` along a half cosine.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``: ``eta_min`` at
    epoch ``T_max``, rising again after it (PyTorch's curve, period ``2 * T_max``).

    Example:
        >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
        >>> s = CosineAnnealingLR(opt, T_max=2); [s.step() or s.get_last_lr()[0] for _ in "abc"]
        [0.5, 0.0, 0.4999999999999999]
    """

    _hyperparameters = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0) -> None:
        self._check(T_max=T_max, eta_min=eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    @staticmethod
    def _check(T_max: Any, eta_min: Any) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        _check_finite("CosineAnnealingLR", "eta_min", eta_min)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """``eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``."""
        if epoch == 0:
            return base_lr
        cosine = 1 + math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (base_lr - self.eta_min) * cosine / 2
