"""Learning-rate schedules with PyTorch's values in closed form, stepped once per epoch
(``OneCycleLR`` once per batch); ``ReduceLROnPlateau`` follows a metric instead."""

from __future__ import annotations

import math
import numbers
from typing import Any

from minigrad.optim.optimizer import Optimizer

__all__ = ["CosineAnnealingLR", "LRScheduler", "OneCycleLR", "ReduceLROnPlateau", "StepLR"]


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


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), stepped once per batch: the learning rate warms up
    from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of
    ``total_steps``, then anneals to ``max_lr / (div_factor * final_div_factor)``; the
    momentum (SGD's ``momentum``, Adam's ``beta1``) moves the opposite way between
    ``max_momentum`` and ``base_momentum`` when ``cycle_momentum``. PyTorch's values, its
    ``three_phase`` variant and its ``"cos"``/``"linear"`` annealing.

    Give ``total_steps``, or ``epochs`` and ``steps_per_epoch``. ``max_lr`` (and the
    momenta) may be one number or one per parameter group. Stepping past ``total_steps``
    raises ``ValueError``.

    Example:
        >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
        >>> s = OneCycleLR(opt, max_lr=1.0, total_steps=4, cycle_momentum=False)
        >>> lrs = [s.get_last_lr()[0]] + [s.step() or s.get_last_lr()[0] for _ in "abc"]
        >>> [round(lr, 4) for lr in lrs]
        [0.04, 0.8117, 0.2831, 0.0]
    """

    _hyperparameters = (
        "max_lr",
        "total_steps",
        "pct_start",
        "anneal_strategy",
        "cycle_momentum",
        "base_momentum",
        "max_momentum",
        "div_factor",
        "final_div_factor",
        "three_phase",
    )

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"OneCycleLR: {name} must be a positive int, got {value!r}")
            total_steps = epochs * steps_per_epoch
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: expected an Optimizer, got {optimizer!r}")
        n = len(optimizer.param_groups)
        settings = {
            "max_lr": _per_group(max_lr, n, "max_lr"),
            "total_steps": total_steps,
            "pct_start": pct_start,
            "anneal_strategy": anneal_strategy,
            "cycle_momentum": cycle_momentum,
            "base_momentum": _per_group(base_momentum, n, "base_momentum"),
            "max_momentum": _per_group(max_momentum, n, "max_momentum"),
            "div_factor": div_factor,
            "final_div_factor": final_div_factor,
            "three_phase": three_phase,
        }
        self._check(**settings)
        if cycle_momentum and not {"momentum", "betas"} & set(optimizer.defaults):
            raise ValueError(
                f"OneCycleLR: {type(optimizer).__name__} has no momentum or betas to cycle; "
                "pass cycle_momentum=False"
            )
        for key, value in settings.items():
            setattr(self, key, value)
        # The schedule's base learning rate is where it starts: max_lr / div_factor.
        for group, top in zip(optimizer.param_groups, self.max_lr, strict=True):
            group["lr"] = top / div_factor
        super().__init__(optimizer)

    @staticmethod
    def _check(
        max_lr: Any,
        total_steps: Any,
        pct_start: Any,
        anneal_strategy: Any,
        cycle_momentum: Any,
        base_momentum: Any,
        max_momentum: Any,
        div_factor: Any,
        final_div_factor: Any,
        three_phase: Any,
    ) -> None:
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 2:
            raise ValueError(f"OneCycleLR: total_steps must be an int >= 2, got {total_steps!r}")
        if not (isinstance(pct_start, numbers.Real) and 0 < pct_start < 1):
            raise ValueError(f"OneCycleLR: pct_start must be in (0, 1), got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        for name, values in (
            ("max_lr", max_lr),
            ("base_momentum", base_momentum),
            ("max_momentum", max_momentum),
        ):
            if not all(isinstance(v, numbers.Real) and v >= 0 for v in values):
                raise ValueError(f"OneCycleLR: {name} must be numbers >= 0, got {values!r}")
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if not (isinstance(value, numbers.Real) and value > 0):
                raise ValueError(f"OneCycleLR: {name} must be a number > 0, got {value!r}")
        for name, value in (("cycle_momentum", cycle_momentum), ("three_phase", three_phase)):
            if not isinstance(value, bool):
                raise ValueError(f"OneCycleLR: {name} must be a bool, got {value!r}")

    def _phases(self) -> list[tuple[float, str, str, str, str]]:
        """``(end_step, start_lr, end_lr, start_momentum, end_momentum)`` per phase, with the
        names ``"initial"``, ``"max"``, ``"min"`` (learning rates) and ``"base"``/``"top"``
        (momenta)."""
        warm = float(self.pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if self.three_phase:
            return [
                (warm, "initial", "max", "top", "base"),
                (2 * warm, "max", "initial", "base", "top"),
                (last, "initial", "min", "top", "top"),
            ]
        return [(warm, "initial", "max", "top", "base"), (last, "max", "min", "base", "top")]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _at(self, epoch: int, values: dict[str, float]) -> tuple[float, float]:
        """The learning rate and momentum at ``epoch`` from the named anchor values."""
        if epoch > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {epoch} times, more than total_steps={self.total_steps}"
            )
        start = 0.0
        phases = self._phases()
        for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(phases):
            if epoch <= end or i == len(phases) - 1:
                pct = (epoch - start) / (end - start)
                lr = self._anneal(values[lr_from], values[lr_to], pct)
                return lr, self._anneal(values[m_from], values[m_to], pct)
            start = end
        raise AssertionError("unreachable: the last phase always matches")

    def _anchors(self, i: int, base_lr: float) -> dict[str, float]:
        top = base_lr * self.div_factor
        return {
            "initial": base_lr,
            "max": top,
            "min": base_lr / self.final_div_factor,
            "base": self.base_momentum[i],
            "top": self.max_momentum[i],
        }

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate of a group that starts at ``base_lr = max_lr / div_factor``."""
        return self._at(epoch, self._anchors(0, base_lr))[0]

    def _apply(self) -> None:
        self._last_lr = []
        for i, (group, base) in enumerate(
            zip(self.optimizer.param_groups, self.base_lrs, strict=True)
        ):
            lr, momentum = self._at(self.last_epoch, self._anchors(i, base))
            group["lr"] = lr
            self._last_lr.append(lr)
            if self.cycle_momentum:
                if "betas" in group:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum


def _per_group(value: Any, n: int, name: str) -> list[Any]:
    """One value per parameter group: a list of ``n``, or one number repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"OneCycleLR: {name} has {len(value)} values for {n} groups")
        return list(value)
    return [value] * n


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` when a metric has stopped improving for more
    than ``patience`` epochs, with PyTorch's rules: ``step(metric)`` once per epoch;
    ``mode="min"`` (a loss) or ``"max"`` (an accuracy); an improvement must beat the best by
    ``threshold`` (relative, or absolute with ``threshold_mode="abs"``); after a reduction,
    ``cooldown`` epochs pass before bad epochs count again; no learning rate goes below
    ``min_lr``, and a change smaller than ``eps`` is skipped.

    Example:
        >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
        >>> s = ReduceLROnPlateau(opt, factor=0.5, patience=1)
        >>> [s.step(loss) or s.get_last_lr()[0] for loss in [1.0, 1.0, 1.0, 0.5, 0.6, 0.7]]
        [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    """

    _settings = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps")
    _counters = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected an Optimizer, got {optimizer!r}")
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        settings = {
            "mode": mode,
            "factor": factor,
            "patience": patience,
            "threshold": threshold,
            "threshold_mode": threshold_mode,
            "cooldown": cooldown,
            "eps": eps,
        }
        self._check(**settings)
        for key, value in settings.items():
            setattr(self, key, value)
        self.min_lrs = [float(v) for v in _per_group(min_lr, n, "min_lr")]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [float(group["lr"]) for group in optimizer.param_groups]

    @staticmethod
    def _check(**settings: Any) -> None:
        if settings["mode"] not in ("min", "max"):
            raise ValueError(
                f"ReduceLROnPlateau: mode must be 'min' or 'max', got {settings['mode']!r}"
            )
        if settings["threshold_mode"] not in ("rel", "abs"):
            raise ValueError(
                "ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                f"{settings['threshold_mode']!r}"
            )
        factor = settings["factor"]
        if not (isinstance(factor, numbers.Real) and 0 <= factor < 1):
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        for name in ("patience", "cooldown"):
            value = settings[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"ReduceLROnPlateau: {name} must be an int >= 0, got {value!r}")
        for name in ("threshold", "eps"):
            value = settings[name]
            if not (isinstance(value, numbers.Real) and value >= 0):
                raise ValueError(f"ReduceLROnPlateau: {name} must be a number >= 0, got {value!r}")

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            bar = (
                self.best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else (self.best - self.threshold)
            )
            return value < bar
        bar = (
            self.best * (1 + self.threshold)
            if self.threshold_mode == "rel"
            else (self.best + self.threshold)
        )
        return value > bar

    def step(self, metrics: Any) -> None:
        """Record this epoch's metric (a number or a one-element Tensor) and reduce the
        learning rates if it has not improved for more than ``patience`` epochs."""
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        if not math.isfinite(value):
            raise ValueError(f"ReduceLROnPlateau.step: the metric is {value}")
        self.last_epoch += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(group["lr"]) for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group after the last :meth:`step`.

        Example:
            >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
            >>> ReduceLROnPlateau(opt).get_last_lr()
            [1.0]
        """
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The settings, ``min_lrs`` and the counters (``best`` may be infinite: it is a
        number in the metadata, which ``minigrad.save`` stores).

        Example:
            >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
            >>> ReduceLROnPlateau(opt).state_dict()["best"]
            inf
        """
        state = {k: getattr(self, k) for k in (*self._settings, *self._counters)}
        state["min_lrs"] = list(self.min_lrs)
        state["last_lr"] = list(self._last_lr)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the optimizer's learning rates are its own state).

        Example:
            >>> import minigrad as mg; opt = mg.optim.SGD([mg.ones(1, requires_grad=True)], lr=1)
            >>> s = ReduceLROnPlateau(opt); s.load_state_dict(s.state_dict()); s.last_epoch
            0
        """
        name = "ReduceLROnPlateau.load_state_dict"
        expected = {*self._settings, *self._counters, "min_lrs", "last_lr"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            found = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
            raise ValueError(f"{name}: expected keys {sorted(expected)}, got {found}")
        n = len(self.optimizer.param_groups)
        if len(state_dict["min_lrs"]) != n or len(state_dict["last_lr"]) != n:
            raise ValueError(f"{name}: the state is for a different number of groups than {n}")
        self._check(**{k: state_dict[k] for k in self._settings})
        for key in self._settings:
            setattr(self, key, state_dict[key])
        self.best = float(state_dict["best"])
        for key in ("num_bad_epochs", "cooldown_counter", "last_epoch"):
            value = state_dict[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {key} must be an int >= 0, got {value!r}")
            setattr(self, key, value)
        self.min_lrs = [float(v) for v in state_dict["min_lrs"]]
        self._last_lr = [float(v) for v in state_dict["last_lr"]]
