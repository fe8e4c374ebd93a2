"""Numerical gradients and the gradient checker.

``numerical_grad`` is the naive way to get a gradient: nudge one number at a time and run the
whole function twice (central differences). It costs two forward passes per parameter, which is
why backpropagation exists, and it is what the benchmarks compare backprop against. It is also
the ground truth that ``gradcheck`` holds the analytic rules to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from minigrad.autograd import grad as autograd_grad
from minigrad.autograd import no_grad
from minigrad.tensor import Tensor

__all__ = ["GradcheckError", "check_model", "gradcheck", "numerical_grad"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one, or a value that the check needs
    (the function's output, either gradient) is NaN or infinite; the message says which and
    where."""


def _value(out: Any, where: str) -> float:
    if not isinstance(out, Tensor) or out.data.size != 1:
        shape = out.shape if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"{where}: f must return a one-element Tensor, got {shape}")
    return float(out.data.reshape(()))


@contextmanager
def _writable(t: Tensor) -> Iterator[np.ndarray]:
    """A flat, writable view of ``t.data`` for nudging; the original array is restored after."""
    original = t.data
    if not (original.flags.c_contiguous and original.flags.writeable):
        t.data = np.ascontiguousarray(original).copy()
    try:
        yield t.data.reshape(-1)
    finally:
        t.data = original


def _central_differences(
    f: Callable[..., Tensor],
    inputs: Sequence[Any],
    t: Tensor,
    eps: float,
    indices: Sequence[int] | None = None,
) -> np.ndarray:
    """d f / d t by central differences at every element of ``t`` (or the flat ``indices``)."""
    result = np.zeros(t.data.shape, dtype=np.float64)
    with no_grad(), _writable(t) as flat:
        for i in range(flat.size) if indices is None else indices:
            original = flat[i]
            flat[i] = original + eps
            plus = _value(f(*inputs), "numerical_grad")
            flat[i] = original - eps
            minus = _value(f(*inputs), "numerical_grad")
            flat[i] = original
            result.flat[i] = (plus - minus) / (2 * eps)
    return result


def numerical_grad(
    f: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6
) -> list[np.ndarray | None]:
    """The gradient of ``f(*inputs)`` (a one-element Tensor) by central differences.

    Each element of each float Tensor input is nudged by ``+eps`` and ``-eps`` in turn and ``f``
    is evaluated twice: two forward passes per parameter. Returns one float64 array per input
    (``None`` for inputs that are not float Tensors). Use float64 inputs: in float32 the
    differences lose about half the significant digits.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], dtype="float64")
        >>> numerical_grad(lambda x: (x * x).sum(), [x])[0].round(6).tolist()
        [2.0, 4.0]
    """
    return [
        _central_differences(f, inputs, t, eps)
        if isinstance(t, Tensor) and t.data.dtype.kind == "f"
        else None
        for t in inputs
    ]


def _checked_inputs(inputs: Sequence[Any]) -> list[int]:
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in positions:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; gradient checking needs float64 "
                "(central differences in float32 keep only about 3 significant digits). "
                "Pass x.astype('float64') or call minigrad.set_default_dtype('float64')."
            )
    return positions


def _non_finite(
    what: str, values: np.ndarray, shape: tuple[int, ...], flat: np.ndarray | None = None
) -> str | None:
    """``"the analytic gradient is nan at element (0, 2)"`` for the first NaN or infinity in
    ``values`` (whose element ``k`` is the flat element ``flat[k]`` of ``shape``), or None."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size == 0:
        return None
    k = int(bad[0])
    element = k if flat is None else int(flat[k])
    more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
    return f"the {what} is {values.reshape(-1)[k]} at element {_index(element, shape)}{more}"


def _nudging() -> np.errstate:
    """The floating-point error state for evaluating f at nudged inputs: silent, since a nudge
    that steps outside f's domain shows up as a NaN or inf that is reported with its own
    message (a NumPy warning about it, raised as an error, would only hide that message)."""
    return np.errstate(all="ignore")


def _numerical_hint(eps: float) -> str:
    return (
        f"; the function is not finite within eps={eps:g} of this point: check away from its "
        "singularities and the edges of its domain"
    )


def _compare(
    analytic: np.ndarray,
    numerical: np.ndarray,
    flat: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
) -> str | None:
    """Why the gradient ``analytic`` disagrees with ``numerical``, its central differences at
    the flat elements ``flat``; None when they agree."""
    failure = _non_finite("numerical gradient", numerical, analytic.shape, flat)
    if failure:
        return failure + _numerical_hint(eps)
    mismatch = _worst_mismatch(analytic.reshape(-1)[flat], numerical, atol, rtol)
    return mismatch and (
        f"worst element {_index(int(flat[mismatch[0]]), analytic.shape)}: "
        f"{_values(*mismatch[1:], atol, rtol)}"
    )


def _worst_mismatch(
    analytic: np.ndarray, numerical: np.ndarray, atol: float, rtol: float
) -> tuple[int, float, float, float] | None:
    """The flat index, both values and the relative error of the element that exceeds
    ``atol + rtol * |numerical|`` the most, or None when every element is within tolerance.
    Both arrays must be finite (see :func:`_non_finite`): NaN compares as within tolerance."""
    analytic, numerical = analytic.reshape(-1), numerical.reshape(-1)
    excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
    if not (excess > 0).any():
        return None
    worst = int(np.argmax(excess))
    a, n = float(analytic[worst]), float(numerical[worst])
    return worst, a, n, abs(a - n) / max(abs(a), abs(n), 1e-8)


def _values(a: float, n: float, rel: float, atol: float, rtol: float) -> str:
    return (
        f"analytic {a:.8g}, numerical {n:.8g}, relative error {rel:.3g} "
        f"(atol={atol:g}, rtol={rtol:g})"
    )


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def gradcheck(
    f: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    fast: bool = False,
    seed: int = 0,
) -> bool:
    """Check the analytic gradients of ``f`` against central differences, in float64.

    ``f(*inputs)`` may return any shape: it is contracted with a random upstream gradient ``v``
    so that every output element is checked, and the gradient of ``sum(v * f)`` is compared at
    every element of every input that requires grad. ``fast=True`` instead compares one
    directional derivative per input along a random direction (two forward passes per input),
    for large inputs. Returns True, or raises :class:`GradcheckError` naming the input, the
    worst element, both values and the relative error. NaN or infinity in the output of ``f``
    or in either gradient is a failure too, with its own message: nothing can be compared there.

    Example:
        >>> import minigrad as mg
        >>> x = mg.tensor([0.5, -1.5], dtype="float64", requires_grad=True)
        >>> gradcheck(lambda x: x.tanh(), [x])
        True
    """
    inputs = list(inputs)
    positions = _checked_inputs(inputs)
    rng = np.random.default_rng(seed)
    out = f(*inputs)
    if not isinstance(out, Tensor):
        raise ValueError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    problem = _non_finite("output of f", out.data, out.shape)
    if problem:
        raise GradcheckError(f"gradcheck failed: {problem}, so no gradient can be checked there")
    upstream = rng.standard_normal(out.shape)

    def contracted(*args: Any) -> Tensor:
        return (f(*args) * upstream).sum()

    analytic = autograd_grad(out, [inputs[i] for i in positions], upstream, allow_unused=True)
    for i, a in zip(positions, analytic, strict=True):
        t = inputs[i]
        a = np.zeros(t.shape) if a is None else a
        failure = _non_finite("analytic gradient", a, t.shape)
        if failure is None and fast:
            failure = _check_direction(contracted, inputs, i, a, rng, eps, atol, rtol)
        elif failure is None:
            with _nudging():
                numerical = _central_differences(contracted, inputs, t, eps).reshape(-1)
            failure = _compare(a, numerical, np.arange(t.size), eps, atol, rtol)
        if failure:
            raise GradcheckError(f"gradcheck failed for input {i} (shape {t.shape}): {failure}")
    return True


def _check_direction(
    f: Callable[..., Tensor],
    inputs: list[Any],
    i: int,
    analytic: np.ndarray,
    rng: np.random.Generator,
    eps: float,
    atol: float,
    rtol: float,
) -> str | None:
    """Compare the derivative of ``f`` along one random unit direction in input ``i``; the
    failure's description, or None."""
    t = inputs[i]
    u = rng.standard_normal(t.shape)
    u /= max(np.linalg.norm(u), 1e-12)
    original = t.data
    try:
        with no_grad(), _nudging():
            t.data = original + eps * u
            plus = _value(f(*inputs), "gradcheck")
            t.data = original - eps * u
            minus = _value(f(*inputs), "gradcheck")
    finally:
        t.data = original
    numerical = (plus - minus) / (2 * eps)
    if not np.isfinite(numerical):
        hint = _numerical_hint(eps)
        return f"the numerical derivative along a random direction is {numerical}{hint}"
    predicted = float(np.sum(analytic * u))
    if abs(predicted - numerical) <= atol + rtol * abs(numerical):
        return None
    rel = abs(predicted - numerical) / max(abs(predicted), abs(numerical), 1e-8)
    return f"along a random direction: {_values(predicted, numerical, rel, atol, rtol)}"


def check_model(
    model: Any,
    loss_fn: Callable[..., Tensor],
    x: Any,
    target: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 20,
    seed: int = 0,
) -> bool:
    """Gradcheck every parameter of ``model`` under ``loss_fn(model(x), target)``, in float64.

    Works on a float64 copy, so the user's model, its buffers and minigrad's random state are
    left as they were. Every evaluation restores the copy's buffers (batchnorm running
    statistics) and reseeds the random generators, so dropout draws the same mask each time.
    Each parameter is checked at all of its elements, or at ``max_elements`` of them chosen at
    random when it is larger. Returns True, or raises :class:`GradcheckError` naming the
    parameter by its dotted name (``features.0.weight``), the element, both values and the
    relative error. A loss or a gradient that is NaN or infinite fails with its own message.

    Example:
        >>> import minigrad.nn as nn
        >>> model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        >>> check_model(model, nn.CrossEntropyLoss(), np.ones((5, 3)), np.array([0, 1, 0, 1, 0]))
        True
    """
    from minigrad import random as mg_random
    from minigrad.nn import Layer

    user_rng_state = mg_random.get_rng_state()
    copy64 = model.copy().to(np.float64)
    loss64 = loss_fn.copy().to(np.float64) if isinstance(loss_fn, Layer) else loss_fn
    x64 = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    buffers = [(b, b.data.copy()) for b in copy64.buffers()]
    generators = [
        (g, g.bit_generator.state)
        for layer in copy64.layers()
        for g in vars(layer).values()
        if isinstance(g, np.random.Generator)
    ]

    def loss() -> Tensor:
        for b, saved in buffers:
            np.copyto(b.data, saved)
        for g, state in generators:
            g.bit_generator.state = state
        mg_random.manual_seed(seed)
        return loss64(copy64(Tensor(x64, dtype=np.float64)), target)

    try:
        copy64.zero_grad()
        value = loss()
        number = _value(value, "check_model")
        if not np.isfinite(number):
            raise GradcheckError(
                f"check_model failed: the loss is {number}, so no gradient can be checked there"
            )
        value.backward()
        rng = np.random.default_rng(seed)
        for name, p in copy64.named_parameters():
            analytic = np.zeros(p.shape) if p.grad is None else p.grad
            flat = (
                np.arange(p.size)
                if p.size <= max_elements
                else np.sort(rng.choice(p.size, max_elements, replace=False))
            )
            failure = _non_finite("analytic gradient", analytic, p.shape)
            if failure is None:
                with _nudging():
                    numerical = _central_differences(loss, [], p, eps, flat).reshape(-1)[flat]
                failure = _compare(analytic, numerical, flat, eps, atol, rtol)
            if failure:
                raise GradcheckError(
                    f"check_model failed for parameter {name!r} (shape {p.shape}): {failure}"
                )
    finally:
        mg_random.set_rng_state(user_rng_state)
    return True
