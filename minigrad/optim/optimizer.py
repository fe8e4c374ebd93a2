"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and the state dict."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["Optimizer"]

# What ``params`` may be: Tensors, or parameter-group dicts ``{"params": [...], "lr": ...}``.
ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class of the optimizers: parameter groups, per-parameter state, the state dict.

    ``params`` is an iterable of Tensors (``model.parameters()`` is fine) or of dicts
    ``{"params": [...], "lr": ...}``: parameter groups, each falling back to ``defaults`` for
    the hyperparameters it leaves out. Parameters are identified by their position in that
    order (the first group's first, and so on). ``state[p]`` holds the buffers of parameter
    ``p``, created at its first update from :meth:`init_state`.

    A subclass implements ``step``, validates its hyperparameters in ``_check_group``, and
    declares its per-parameter state once, in :meth:`init_state`: ``step`` creates each
    parameter's state with it, and ``load_state_dict`` checks saved state against it.

    Example:
        >>> from minigrad.optim import SGD; opt = SGD([Tensor([1.0], requires_grad=True)], lr=0.1)
        >>> len(opt.param_groups), opt.param_groups[0]["lr"]
        (1, 0.1)
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}: params must be an iterable of Tensors or of dicts, "
                "got a single Tensor (wrap it in a list)"
            )
        items = [params] if isinstance(params, dict) else list(params)
        if not items:
            raise ValueError(f"{self._name}: got an empty parameter list")
        is_group = [isinstance(item, dict) for item in items]
        if any(is_group) and not all(is_group):
            raise TypeError(f"{self._name}: params mixes Tensors and parameter-group dicts")
        for group in items if all(is_group) else [{"params": items}]:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], **hyperparameters}`` (missing ones from ``defaults``).

        Example:
            >>> from minigrad.optim import SGD; opt = SGD([Tensor([1.0], requires_grad=True)], lr=1)
            >>> opt.add_param_group({"params": [Tensor([2.0], requires_grad=True)], "lr": 0.01})
        """
        index = len(self.param_groups)
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._name}: parameter group {index} must be a dict with 'params'")
        unknown = sorted(set(group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(
                f"{self._name}: parameter group {index} has unknown keys {unknown}; "
                f"allowed: {sorted(self.defaults)}"
            )
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{self._name}: parameter group {index} has no parameters")
        seen = {id(p) for p in self._params()}
        for i, p in enumerate(params, start=len(seen)):
            self._check_param(i, p)
            if id(p) in seen:
                raise ValueError(
                    f"{self._name}: parameter {i} appears more than once (in one group or "
                    "in two); each tensor must be given exactly once"
                )
            seen.add(id(p))
        new = {**self.defaults, **group, "params": params}
        self._check_group(new)
        self.param_groups.append(new)

    def _check_param(self, i: int, p: Any) -> None:
        if not isinstance(p, Tensor):
            raise TypeError(f"{self._name}: parameter {i} is a {type(p).__name__}, not a Tensor")
        if p.data.dtype.kind != "f":
            raise TypeError(f"{self._name}: parameter {i} has dtype {p.data.dtype}, not float")
        if not p.requires_grad:
            raise ValueError(f"{self._name}: parameter {i} does not require grad")
        if not p.is_leaf:
            raise ValueError(f"{self._name}: parameter {i} is not a leaf tensor")

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` on invalid hyperparameters (subclasses override)."""

    def _check_number(
        self, key: str, value: Any, low: float, high: float = math.inf, open_high: bool = False
    ) -> None:
        """Require a finite real number ``value`` in ``[low, high]`` (``[low, high)`` if
        ``open_high``); NaN and infinity are refused even when ``high`` is ``math.inf``."""
        real = isinstance(value, int | float | np.integer | np.floating)
        ok = real and not isinstance(value, bool) and math.isfinite(value) and low <= value <= high
        if ok and not (open_high and value == high):
            return
        closing = ")" if open_high else "]"
        rule = f">= {low}" if high == math.inf else f"in [{low}, {high}{closing}"
        raise ValueError(f"{self._name}: invalid {key} {value!r}: must be a finite number {rule}")

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state parameter ``p`` of ``group`` starts with: arrays shaped and typed like
        ``p.data``, and step counts as ints (an empty dict: the optimizer keeps no state).

        Example:
            >>> from minigrad.optim import Adam; p = Tensor([1.0, 2.0], requires_grad=True)
            >>> opt = Adam([p]); sorted(opt.init_state(p, opt.param_groups[0]))
            ['exp_avg', 'exp_avg_sq', 'step']
        """
        return {}

    def _state_of(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of parameter ``p``, made by :meth:`init_state` at its first step."""
        st = self.state.get(p)
        if st is None:
            st = self.state[p] = self.init_state(p, group)
        return st

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: set ``.grad`` to ``None``, or zero it in place.

        Example:
            >>> w = Tensor([1.0], requires_grad=True); w.grad = np.ones(1, np.float32)
            >>> from minigrad.optim import SGD; SGD([w], lr=0.1).zero_grad(); w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.fill(0)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """A snapshot that ``minigrad.save`` can store (arrays are copied).

        ``{"state": {"0": {"momentum_buffer": array}, ...}, "param_groups": [{"lr": 0.1, ...,
        "params": [0, 1]}]}``: state keys and ``params`` entries are parameter indices.

        Example:
            >>> from minigrad.optim import SGD; opt = SGD([Tensor([1.0], requires_grad=True)], lr=1)
            >>> opt.state_dict()["param_groups"][0]["params"]
            [0]
        """
        state: dict[str, Any] = {}
        groups = []
        i = 0
        for group in self.param_groups:
            entry = {k: _plain(v) for k, v in group.items() if k != "params"}
            entry["params"] = list(range(i, i + len(group["params"])))
            groups.append(entry)
            for p in group["params"]:
                st = self.state.get(p)
                if st is not None:
                    state[str(i)] = {k: _plain(v) for k, v in st.items()}
                i += 1
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and buffers from :meth:`state_dict` (arrays are copied).

        Checks the number of groups and parameters, and each buffer's shape and dtype against
        its parameter; on error nothing is changed.

        Example:
            >>> from minigrad.optim import SGD; opt = SGD([Tensor([1.0], requires_grad=True)], lr=1)
            >>> opt.load_state_dict(opt.state_dict()); opt.param_groups[0]["lr"]
            1
        """
        name = f"{self._name}.load_state_dict"
        try:
            saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups'") from None
        if not isinstance(saved_groups, list | tuple) or not isinstance(saved_state, dict):
            raise ValueError(
                f"{name}: 'param_groups' must be a list and 'state' a dict, got a "
                f"{type(saved_groups).__name__} and a {type(saved_state).__name__}"
            )
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        new_groups = []
        where: dict[str, tuple[int, Tensor, dict[str, Any]]] = {}
        i = 0
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}: group {g} is not a dict with 'params'")
            indices = saved["params"]
            if not isinstance(indices, list | tuple) or not all(
                isinstance(k, int | np.integer) and not isinstance(k, bool) for k in indices
            ):
                raise ValueError(
                    f"{name}: group {g}: 'params' must be a list of parameter indices, "
                    f"got {indices!r}"[:200]
                )
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}: group {g} has {len(saved['params'])} parameters in the state, "
                    f"{len(group['params'])} here"
                )
            if set(saved) - {"params"} != set(self.defaults):
                raise ValueError(
                    f"{name}: group {g} has hyperparameters {sorted(set(saved) - {'params'})}, "
                    f"expected {sorted(self.defaults)}"
                )
            new = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
            new["params"] = group["params"]
            self._check_group(new)
            new_groups.append(new)
            for key, p in zip(saved["params"], group["params"], strict=True):
                where[str(key)] = (i, p, new)
                i += 1
        new_state = {}
        for key, st in saved_state.items():
            if key not in where:
                raise ValueError(f"{name}: state for unknown parameter {key!r}")
            i, p, group = where[key]
            new_state[p] = self._restore(name, i, st, self.init_state(p, group))
        for group, new in zip(self.param_groups, new_groups, strict=True):
            group.update(new)
        self.state = new_state

    def _restore(
        self, name: str, i: int, st: dict[str, Any], template: dict[str, Any]
    ) -> dict[str, Any]:
        """Check parameter ``i``'s saved state against the state it would start with
        (``template``, from :meth:`init_state`) and return a copy of it."""
        if not isinstance(st, dict) or set(st) != set(template):
            found = sorted(st) if isinstance(st, dict) else type(st).__name__
            raise ValueError(
                f"{name}: parameter {i} has state {found}, expected {sorted(template)}"
            )
        out: dict[str, Any] = {}
        for k, like in template.items():
            v = st[k]
            if not isinstance(like, np.ndarray):  # a step count
                if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
                    raise ValueError(f"{name}: parameter {i}: {k} must be a count, got {v!r}")
                out[k] = int(v)
            elif not isinstance(v, np.ndarray):
                raise ValueError(
                    f"{name}: parameter {i}: {k} is a {type(v).__name__}, not an array"
                )
            elif v.shape != like.shape or v.dtype != like.dtype:
                raise ValueError(
                    f"{name}: parameter {i}: {k} has shape {v.shape} and dtype {v.dtype}, "
                    f"the parameter has shape {like.shape} and dtype {like.dtype}"
                )
            else:
                out[k] = v.copy()
        return out

    def __repr__(self) -> str:
        n = len(self._params())
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{self._name}({n} parameters in {len(self.param_groups)} groups; {hyper})"


def _decayed(grad: np.ndarray, w: np.ndarray, weight_decay: float) -> np.ndarray:
    """``grad + weight_decay * w`` in a new array, or ``grad`` itself when there is no decay.
    (``out=`` keeps the temporary an array even for a 0-d parameter.)"""
    if weight_decay == 0:
        return grad
    g = np.multiply(w, weight_decay, out=np.empty_like(w))
    g += grad
    return g


def _plain(value: Any) -> Any:
    """A state-dict leaf: arrays copied, tuples as lists, NumPy scalars as Python numbers."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
