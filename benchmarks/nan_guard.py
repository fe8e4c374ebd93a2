"""What fit's guard after the update costs per step, on workloads W1, W2, W3.

``fit`` checks, after every update, that no parameter became NaN or infinite
(``minigrad.train._first_non_finite``: one BLAS dot product per parameter, no allocation). This
measures, in one process and interleaved in blocks of steps (A B C A B C ...) so machine noise
hits all alike, with BLAS on one thread:

- ``step``: one training step (zero_grad, forward, backward, SGD update), the workload alone;
- ``check``: the check after the update, alone (the sum of squares of every parameter);
- ``check_isfinite``: the same check written as ``np.isfinite(p).all()`` (allocates a mask);
- ``snapshot``: copying every parameter and optimizer buffer, which restoring the pre-step
  state after a bad update would need before every step.

It writes medians of the timed steps, and each cost as a fraction of ``step``, to
``benchmarks/results/nan_guard.json``.

Run from the repository root::

    python -m benchmarks.nan_guard             # full run (200 timed steps per variant)
    python -m benchmarks.nan_guard --quick     # smoke run, writes nothing

Example:
    >>> round(median([3.0, 1.0, 2.0]), 1)
    2.0
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import report
from benchmarks.impl_minigrad import MinigradRunner
from benchmarks.workloads import make_workload
from minigrad.bench.machine import machine_info
from minigrad.train import _first_non_finite

WORKLOADS = ("W1", "W2", "W3")  # the recorded run's workloads

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "nan_guard.json"


def median(values: list[float]) -> float:
    """The median of a list of numbers."""
    return statistics.median(values)


def variants(runner: MinigradRunner) -> dict[str, Callable[[], Any]]:
    """The timed callables of one workload; each runs once per timed step."""
    params = list(runner.model.parameters())
    optimizer = runner.optimizer

    def snapshot() -> list[np.ndarray]:
        arrays = [p.data.copy() for p in params]
        for state in optimizer.state.values():
            arrays += [v.copy() for v in state.values() if isinstance(v, np.ndarray)]
        return arrays

    return {
        "step": runner.step,
        "check": lambda: _first_non_finite(params, lambda p: p.data),
        "check_isfinite": lambda: [np.isfinite(p.data).all() for p in params],
        "snapshot": snapshot,
    }


def measure(name: str, steps: int, block: int) -> dict[str, Any]:
    """Interleaved timings of every variant on workload ``name``, in milliseconds."""
    runner = MinigradRunner(name, make_workload(name))
    timed = variants(runner)
    for fn in timed.values():  # warm-up (and the optimizer's state exists from here on)
        for _ in range(block):
            fn()
    times: dict[str, list[float]] = {k: [] for k in timed}
    while len(times["step"]) < steps:
        for key, fn in timed.items():
            for _ in range(block):
                began = time.perf_counter()
                fn()
                times[key].append((time.perf_counter() - began) * 1e3)
    medians = {k: median(v) for k, v in times.items()}
    return {
        "workload": name,
        "steps": steps,
        "median_ms": medians,
        "fraction_of_step": {k: medians[k] / medians["step"] for k in medians if k != "step"},
        "parameters": sum(p.size for p in runner.model.parameters()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and write the JSON (unless ``--quick``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps, write nothing")
    args = parser.parse_args(argv)
    steps, block = (20, 5) if args.quick else (200, 10)
    load_start = os.getloadavg()
    with threadpool_limits(limits=1):
        results = [measure(name, steps, block) for name in WORKLOADS]
    load = {"start": list(load_start), "end": list(os.getloadavg())}
    for r in results:
        fractions = "  ".join(f"{k} {v:.2%}" for k, v in r["fraction_of_step"].items())
        print(f"{r['workload']}: step {r['median_ms']['step']:.3f} ms  {fractions}")
    if not args.quick:
        record = {
            "command": "python -m benchmarks.nan_guard",
            "machine": machine_info(),
            "load_average": load,  # other work on the machine slows steps more than the check
            "settings": {"steps": steps, "block": block, "threads": 1},
            "results": results,
        }
        report.write_record(OUT, record)
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
