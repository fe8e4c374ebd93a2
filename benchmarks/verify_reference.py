"""Checks that the NumPy floor computes the right gradients before anyone times it.

1. float64: the floor's gradients against central differences of its own loss, on a random
   subset of the elements of every parameter (relative error ~1e-6 or better).
2. Against PyTorch when importable: gradients in float64 and float32, on the workload's data and
   on data full of exact ties (blank images: every pooling window of a constant region ties, so
   PyTorch's first-maximum rule is exercised), and the loss trajectory over the first steps.
3. Against minigrad when importable: gradients in float32.

Run from the repository root::

    python -m benchmarks.verify_reference            # all workloads
    python -m benchmarks.verify_reference W2 --elements 4

Exits non-zero when a check fails.

Example:
    >>> report = numerical_check("W1", elements=2)
    >>> bool(max(r.error for r in report) < 1e-6)
    True
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import reference_numpy
from benchmarks.workloads import WORKLOADS, astype, make_workload, mlp_sizes

# Tolerances, in one place.
NUMERICAL_RTOL = 1e-6  # float64 analytic vs central differences
# Central-difference steps (float64). A step that straddles a kink of ReLU or max-pool (an
# argmax switching) spoils one difference; a wrong gradient is wrong at both steps, so an
# element's error is the smaller of the two.
NUMERICAL_STEPS = (1e-6, 1e-7)
FLOAT64_RTOL = 1e-9  # floor vs PyTorch, float64
FLOAT32_RTOL = 1e-4  # floor vs PyTorch or minigrad, float32, relative to the largest gradient
LOSS_RTOL = 1e-5  # float32 loss trajectories, relative to max(1, |loss|)
TRAJECTORY_STEPS = 6  # more than workloads.MASK_PERIOD: W5's dropout masks come round again
MLP_SIZES = mlp_sizes(32, 4)
NUMERICAL_W5_BATCH = 8  # the scaling study's MLP, at a size the checks run quickly


@dataclass
class Check:
    """One comparison: which workload/parameter, the error and the tolerance it must meet."""

    workload: str
    what: str
    error: float
    tol: float

    @property
    def ok(self) -> bool:
        """Whether the error is within tolerance (NaN fails)."""
        return bool(self.error <= self.tol)


def analytically_zero(name: str, param: str) -> bool:
    """True for a conv bias followed by BatchNorm (W3's ``0.bias``, ``4.bias``): its gradient is
    zero up to rounding, which in float32 is a sum of 10^5 terms' noise, so it is compared in
    float64 only."""
    return name == "W3" and param in ("0.bias", "4.bias")


def error_scale(name: str, param: str, grads: dict[str, np.ndarray]) -> float:
    """What an error in ``param``'s gradient is measured against: its largest entry (for an
    analytically zero gradient, the largest entry of the conv weight's gradient)."""
    if analytically_zero(name, param):
        param = param.replace("bias", "weight")
    return max(float(np.abs(grads[param]).max()), 1e-30)


def workload_for(name: str, seed: int = 0, batch: int | None = None) -> dict[str, Any]:
    """The workload the checks use: ``name``'s (``MLP``: of MLP_SIZES), ``batch`` if given.

    Example:
        >>> workload_for("MLP", batch=2)["x"].shape
        (2, 784)
    """
    return make_workload(name, seed, batch, MLP_SIZES if name == "MLP" else None)


def numerical_check(
    name: str, elements: int = 6, seed: int = 0, batch: int | None = None
) -> list[Check]:
    """float64 floor gradients vs central differences on ``elements`` random entries per param.

    The error of a parameter is the largest difference over the largest analytic entry (see
    NUMERICAL_STEPS for why two step sizes). ``batch`` shrinks the batch (W5 at full size
    takes seconds per check in float64).

    Example:
        >>> all(c.ok for c in numerical_check("W1", elements=1))
        True
    """
    runner = reference_numpy.build(name, astype(workload_for(name, seed, batch), np.float64))
    analytic = runner.gradients()
    rng = np.random.default_rng(seed + 1)
    checks = []
    for param, value in runner.params.items():
        flat_indices = rng.choice(value.size, size=min(elements, value.size), replace=False)
        scale = error_scale(name, param, analytic)
        worst = 0.0
        for flat in flat_indices:
            index = np.unravel_index(flat, value.shape)
            original = value[index]
            errors = []
            for eps in NUMERICAL_STEPS:
                value[index] = original + eps
                plus = runner.forward_backward()
                value[index] = original - eps
                minus = runner.forward_backward()
                value[index] = original
                errors.append(abs(analytic[param][index] - (plus - minus) / (2 * eps)))
                if errors[-1] <= NUMERICAL_RTOL * scale:
                    break
            worst = max(worst, min(errors))
        checks.append(Check(name, f"numerical {param}", worst / scale, NUMERICAL_RTOL))
    return checks


def blank_images(workload: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """``workload`` with images zero except one random 10x10 patch each (constant regions tie)."""
    out = dict(workload)
    x = np.zeros_like(workload["x"])
    rng = np.random.default_rng(seed)
    for i in range(x.shape[0]):
        r, c = rng.integers(0, 18, size=2)
        x[i, :, r : r + 10, c : c + 10] = workload["x"][i, :, r : r + 10, c : c + 10]
    out["x"] = x
    return out


def log_softmax(a: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64 (the identity on rows that are log-probabilities).

    Example:
        >>> np.exp(log_softmax(np.array([[0.0, 0.0]]))).tolist()
        [[0.5, 0.5]]
    """
    a = np.asarray(a, np.float64)
    shifted = a - a.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def compare_gradients(
    name: str, label: str, ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray], rtol: float
) -> list[Check]:
    """Per parameter: max |ours - theirs| over the largest |theirs| (see error_scale)."""
    checks = []
    for param, expected in theirs.items():
        if analytically_zero(name, param) and expected.dtype != np.float64:
            continue
        diff = float(np.abs(ours[param].astype(np.float64) - expected).max())
        scale = error_scale(name, param, theirs)
        checks.append(Check(name, f"{label} {param}", diff / scale, rtol))
    return checks


def compare_with(
    name: str,
    label: str,
    build_other: Callable[[str, dict[str, Any]], Any],
    batch: int | None = None,
) -> list[Check]:
    """The floor against another implementation: gradients (float64 when it supports it,
    float32, tied data), the float32 loss trajectory over the first steps, and the evaluation
    outputs where the floor has them (W4, W5, MLP)."""
    checks = []
    base = workload_for(name, batch=batch)
    variants = [("float32", base, FLOAT32_RTOL)]
    if label == "torch":
        variants.insert(0, ("float64", astype(base, np.float64), FLOAT64_RTOL))
    if name not in ("W1", "MLP"):
        variants.append(("float32 ties", blank_images(base), FLOAT32_RTOL))
    for variant, workload, rtol in variants:
        ours = reference_numpy.build(name, workload).gradients()
        theirs = build_other(name, workload).gradients()
        checks += compare_gradients(name, f"{label} {variant}", ours, theirs, rtol)
    floor, other = reference_numpy.build(name, base), build_other(name, base)
    if hasattr(floor, "infer"):  # compared as log-probabilities (W5's model returns them)
        ours, theirs = log_softmax(floor.infer()), log_softmax(other.infer())
        error = float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30))
        checks.append(Check(name, f"{label} evaluation outputs", error, FLOAT32_RTOL))
    worst = 0.0
    for _ in range(TRAJECTORY_STEPS):
        a, b = floor.step(), other.step()
        worst = max(worst, abs(a - b) / max(1.0, abs(b)))
    checks.append(Check(name, f"{label} loss over {TRAJECTORY_STEPS} steps", worst, LOSS_RTOL))
    if hasattr(other, "buffers"):
        theirs = other.buffers()
        for key, value in floor.buffers().items():
            error = float(np.abs(value - theirs[key]).max() / max(np.abs(theirs[key]).max(), 1e-30))
            checks.append(Check(name, f"{label} {key} after steps", error, FLOAT32_RTOL))
    return checks


def optional_builders() -> dict[str, Callable[[str, dict[str, Any]], Any] | str]:
    """Builders of the other implementations, or the reason one cannot be imported."""
    out: dict[str, Callable[[str, dict[str, Any]], Any] | str] = {}
    try:
        from benchmarks import impl_torch

        out["torch"] = impl_torch.build
    except ImportError as exc:
        out["torch"] = f"skipped: {exc}"
    try:
        from benchmarks import impl_minigrad

        out["minigrad"] = impl_minigrad.build
    except ImportError as exc:
        out["minigrad"] = f"skipped: {exc}"
    return out


def main(argv: list[str] | None = None) -> int:
    """Runs every check, prints one line each, returns 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "workloads", nargs="*", default=[*WORKLOADS, "MLP"], choices=[*WORKLOADS, "MLP"]
    )
    parser.add_argument("--elements", type=int, default=6, help="entries checked per parameter")
    parser.add_argument(
        "--batch",
        type=int,
        help="batch size of the central-difference checks (default: the workload's; W5's "
        "takes minutes in float64, so 8 is used for it unless given)",
    )
    args = parser.parse_args(argv)
    builders = optional_builders()
    checks: list[Check] = []
    for name in args.workloads:
        batch = args.batch or (NUMERICAL_W5_BATCH if name == "W5" else None)
        checks += numerical_check(name, args.elements, batch=batch)
        for label, build in builders.items():
            if callable(build):
                try:
                    checks += compare_with(name, label, build)
                except Exception as exc:  # a half-written minigrad must not hide the others
                    print(f"{name} {label}: could not run ({type(exc).__name__}: {exc})")
                    checks.append(Check(name, f"{label} ran", float("nan"), 0.0))
    for label, build in builders.items():
        if not callable(build):
            print(f"{label}: {build}")
    for c in checks:
        status = "ok  " if c.ok else "FAIL"
        print(f"{status} {c.workload} {c.what:<40} {c.error:9.2e} <= {c.tol:.0e}")
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
