"""Shared test constants and helpers: every tolerance the suite uses lives here."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from minigrad.autograd import Function

# float64 forward results against NumPy/SciPy references
FWD_RTOL, FWD_ATOL = 1e-10, 1e-12
# float32 forward results against float64 references
F32_RTOL, F32_ATOL = 1e-5, 1e-6
# gradcheck on float64 inputs (central differences with eps=1e-6)
GC_EPS, GC_ATOL, GC_RTOL = 1e-6, 1e-6, 1e-4
# two analytic float64 gradients computed along different routes (fused vs composite)
SAME_RTOL, SAME_ATOL = 1e-10, 1e-12


ROOT = Path(__file__).resolve().parents[1]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python process of a test: it imports the minigrad of the
    tree under test (the repository root first on ``PYTHONPATH``), not whatever copy is
    installed, and turns warnings into errors as the suite does. ``extra`` adds variables."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONWARNINGS": "error", **extra}


# uniform initializers: the observed extremes must reach this close to the bound on both sides
# (with n >= 2,000 draws, a correct U(-b, b) falls short with probability below 0.99**2000 ~ 2e-9)
UNIFORM_REACH = 0.99


def assert_uniform_within(values: np.ndarray, bound: float) -> None:
    """``values`` lie in ``[-bound, bound]`` and come close to both ends: a range that is too
    narrow, too wide or one-sided fails."""
    assert values.size >= 2000, "too few draws to tell the range"
    assert np.abs(values).max() <= bound, (np.abs(values).max(), bound)
    assert values.max() > UNIFORM_REACH * bound, (values.max(), bound)
    assert values.min() < -UNIFORM_REACH * bound, (values.min(), bound)


def away_from(values: np.ndarray, kinks: tuple[float, ...], margin: float = 0.1) -> np.ndarray:
    """Push values at least ``margin`` away from each kink (ties, zeros of |x|, relu...)."""
    out = values.copy()
    for k in kinks:
        close = np.abs(out - k) < margin
        out[close] = k + np.where(out[close] >= k, margin, -margin) * 2
    return out


# Geometries of the image-op tests, shared by the op tests and the tier-equivalence tests.
CONV_GRID = [
    # (N, C, H, W, O, kernel, stride, padding, dilation, groups)
    (2, 3, 5, 6, 4, (3, 3), (1, 1), (0, 0), (1, 1), 1),
    (2, 3, 5, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (1, 2, 7, 7, 3, (3, 2), (2, 1), (1, 0), (1, 1), 1),
    (2, 4, 7, 8, 6, (3, 3), (2, 2), (2, 1), (2, 1), 2),
    (1, 4, 6, 6, 4, (1, 1), (1, 1), (0, 0), (1, 1), 4),
    (1, 2, 4, 5, 2, (4, 5), (1, 1), (0, 0), (1, 1), 1),
    (3, 1, 6, 6, 2, (2, 2), (3, 3), (1, 1), (1, 1), 1),
]
CONV_IDS = [f"k{g[5]}s{g[6]}p{g[7]}d{g[8]}g{g[9]}" for g in CONV_GRID]
# (kernel, stride, padding): tiling, overlapping, padded, and uneven windows
POOL_SETTINGS = [
    ((2, 2), (2, 2), (0, 0)),
    ((3, 3), (2, 2), (1, 1)),
    ((3, 3), (1, 1), (1, 1)),
    ((2, 3), (1, 2), (1, 1)),
    ((3, 2), (3, 1), (0, 1)),
]


# --- optimizers: the scenario torch.optim is also checked on, with a reference run by hand ---
# Three parameters in two groups (the second with its own lr), shrinking gradients, and the
# first parameter without a gradient at the second step.
GROUP_SHAPES = [(3, 4), (5,), ()]
GROUP_LRS = [0.1, 0.1, 0.01]


def two_groups(rng: np.random.Generator, steps: int) -> tuple[list, list]:
    """Initial values and, per step, one gradient (or None) per parameter."""
    inits = [rng.standard_normal(shape) for shape in GROUP_SHAPES]
    grads = [
        [
            None if (i == 0 and step == 1) else rng.standard_normal(shape) * 2.0**-step
            for i, shape in enumerate(GROUP_SHAPES)
        ]
        for step in range(steps)
    ]
    return inits, grads


def step_through(opt, params: list, grads_per_step: list) -> list[list[np.ndarray]]:
    """Assign each step's gradients, step, and record a copy of every parameter."""
    history = []
    for grads in grads_per_step:
        for p, g in zip(params, grads, strict=True):
            p.grad = None if g is None else g.astype(p.data.dtype)
        opt.step()
        history.append([p.data.copy() for p in params])
    return history


def skipping_none(reference: Callable, w0: np.ndarray, grads: list, **kwargs) -> list:
    """The parameter after every step when a step without a gradient leaves it and its state
    alone (PyTorch's rule): ``reference`` run on the steps that have one."""
    updates = iter(reference(w0, [g for g in grads if g is not None], **kwargs))
    out, w = [], w0
    for g in grads:
        w = w if g is None else next(updates)
        out.append(w)
    return out


# --- planted mistakes for testing the gradient checkers ---------------------------------------
def planted_rule(mistake: Callable[[np.ndarray], np.ndarray]) -> Callable:
    """``f(x) = 3 * x`` whose backward returns ``mistake(3 * grad)`` instead of ``3 * grad``."""

    class Planted(Function):
        @staticmethod
        def forward(ctx, x):
            return 3 * x

        @staticmethod
        def backward(ctx, grad):
            return mistake(3 * grad)

    return Planted.apply


def _with_nan(g: np.ndarray) -> np.ndarray:
    g = g.copy()
    g.flat[1] = np.nan
    return g


def _with_inf(g: np.ndarray) -> np.ndarray:
    g = g.copy()
    g.flat[-1] = -np.inf
    return g


MISMATCH = "a finite gradient that differs"  # the checker's usual "worst element" message
# name: (mistake, what the failure says; None for no mistake at all)
MISTAKES = {
    "none": (lambda g: g, None),
    "nan": (_with_nan, "the analytic gradient is nan at element"),
    "inf": (_with_inf, "the analytic gradient is -inf at element"),
    # with an upstream gradient of ones the true gradient of sum(3 * x) is constant and
    # equals its permutation: only a random upstream gradient tells them apart
    "permuted": (np.flip, MISMATCH),
    "scaled": (lambda g: g * 1.001, MISMATCH),  # 1e-3 relative: ten times GC_RTOL
}
