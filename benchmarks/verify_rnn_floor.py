"""Checks that the recurrent floor computes the right gradients before anyone times it.

1. float64: the floor's gradients against central differences of its own loss, on a random
   subset of the elements of every parameter.
2. Against PyTorch when importable, and against minigrad: float64 gradients and the float32
   loss over the first steps.

Run from the repository root::

    python -m benchmarks.verify_rnn_floor            # L1 and C1

Exits non-zero when a check fails.

Example:
    >>> max(error for _, error, _ in numerical_check("L1", elements=2)) < NUMERICAL_RTOL
    True
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import rnn_floor
from benchmarks.rnn_workloads import WORKLOADS, astype, make_workload

NUMERICAL_RTOL = 1e-6  # float64 analytic vs central differences, relative to the largest entry
NUMERICAL_EPS = 1e-5  # C1 averages 2048 losses: a smaller step drowns in rounding
FLOAT64_RTOL = 1e-10  # floor vs another implementation, float64
LOSS_RTOL = 1e-5  # float32 loss over the first steps, relative to max(1, |loss|)
TRAJECTORY_STEPS = 5

Check = tuple[str, float, float]  # what, error, tolerance


def numerical_check(name: str, elements: int = 6, seed: int = 0) -> list[Check]:
    """float64 floor gradients vs central differences on ``elements`` random entries per
    parameter; the error is the largest difference over the largest analytic entry.

    Example:
        >>> all(error <= tol for _, error, tol in numerical_check("C1", elements=1))
        True
    """
    runner = rnn_floor.build(name, astype(make_workload(name, seed), np.float64))
    analytic = runner.gradients()
    rng = np.random.default_rng(seed + 1)
    checks = []
    for param, value in runner.params.items():
        scale = max(float(np.abs(analytic[param]).max()), 1e-30)
        worst = 0.0
        for flat in rng.choice(value.size, size=min(elements, value.size), replace=False):
            index = np.unravel_index(flat, value.shape)
            original = value[index]
            value[index] = original + NUMERICAL_EPS
            plus = runner.forward_backward()
            value[index] = original - NUMERICAL_EPS
            minus = runner.forward_backward()
            value[index] = original
            numerical = (plus - minus) / (2 * NUMERICAL_EPS)
            worst = max(worst, abs(analytic[param][index] - numerical))
        checks.append((f"{name} numerical {param}", worst / scale, NUMERICAL_RTOL))
    return checks


def compare_with(name: str, label: str, build: Callable[[str, dict[str, Any]], Any]) -> list[Check]:
    """The floor against another implementation: float64 gradients of every parameter and the
    float32 loss over the first steps."""
    base = make_workload(name)
    w64 = astype(base, np.float64)
    ours, theirs = rnn_floor.build(name, w64).gradients(), build(name, w64).gradients()
    checks = [
        (
            f"{name} {label} float64 {param}",
            float(np.abs(ours[param] - value).max() / max(np.abs(value).max(), 1e-30)),
            FLOAT64_RTOL,
        )
        for param, value in theirs.items()
    ]
    floor, other = rnn_floor.build(name, base), build(name, base)
    worst = 0.0
    for _ in range(TRAJECTORY_STEPS):
        a, b = floor.step(), other.step()
        worst = max(worst, abs(a - b) / max(1.0, abs(b)))
    checks.append((f"{name} {label} loss over {TRAJECTORY_STEPS} steps", worst, LOSS_RTOL))
    return checks


def other_builders() -> dict[str, Callable[[str, dict[str, Any]], Any] | str]:
    """Builders of minigrad's and PyTorch's runners, or why one cannot be imported."""
    out: dict[str, Callable[[str, dict[str, Any]], Any] | str] = {}
    for label, module in (("minigrad", "rnn_impl_minigrad"), ("torch", "rnn_impl_torch")):
        try:
            out[label] = __import__(f"benchmarks.{module}", fromlist=["build"]).build
        except ImportError as exc:
            out[label] = f"skipped: {exc}"
    return out


def main(argv: list[str] | None = None) -> int:
    """Runs every check, prints one line each, returns 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--elements", type=int, default=6, help="entries checked per parameter")
    args = parser.parse_args(argv)
    checks: list[Check] = []
    builders = other_builders()
    for name in args.workloads:
        checks += numerical_check(name, args.elements)
        for label, build in builders.items():
            if callable(build):
                checks += compare_with(name, label, build)
            else:
                print(f"{label}: {build}")
    for what, error, tol in checks:
        print(f"{'ok  ' if error <= tol else 'FAIL'} {what:<45} {error:9.2e} <= {tol:.0e}")
    failed = sum(not error <= tol for _, error, tol in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
