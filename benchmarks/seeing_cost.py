"""What the tools for seeing backprop cost on the training-step workloads W1, W2, W3.

One process per workload runs the minigrad step of benchmarks/workloads.py under each mode in
turn, a block of steps at a time (plain, watched, diagnostics, trace, anomaly, plain, ...), so
machine noise hits all modes alike; the first round is warm-up. Modes:

- ``plain``: nothing registered, nothing watching (what every user pays);
- ``hooked``: one tensor hook registered on a tensor outside the model, so the engine takes
  its hook path (a dictionary lookup per node) without running any hook;
- ``watched``: a watcher that records nothing, so every op goes through the dispatcher and
  records its innermost layer call (the cost of tagging ops with their layer);
- ``diagnostics``: ``minigrad.diagnostics.Diagnostics`` attached to the model;
- ``trace``: a fresh ``minigrad.trace(model)`` around every step;
- ``anomaly``: ``minigrad.detect_anomaly(model)`` around every step.

Each step is timed with ``perf_counter``; the result records the median per mode and its ratio
to ``plain``, with the machine description.

What ``plain`` costs compared with a minigrad without these tools is too small to see in step
times on a shared machine (``benchmarks.train_step --baseline`` measures it directly); so the
run also counts the checks an idle step makes (one per op, two per layer call, two per
backward pass and per graph node), times each kind with ``timeit``, and records their sum as a
fraction of the step. Run from the repository root::

    python -m benchmarks.seeing_cost --json benchmarks/results/seeing_cost.json

Example:
    >>> MODES[0]
    'plain'
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import statistics
import sys
import time
import timeit
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

import minigrad as mg
from benchmarks import impl_minigrad, report
from benchmarks.workloads import WORKLOADS, make_workload
from minigrad import _watch, autograd
from minigrad.bench.machine import machine_info
from minigrad.diagnostics import Diagnostics

MODES = ("plain", "hooked", "watched", "diagnostics", "trace", "anomaly")


def mode_context(mode: str, model: Any) -> Any:
    """The context a step of ``mode`` runs in."""
    if mode == "trace":
        return mg.trace(model)
    if mode == "anomaly":
        return mg.detect_anomaly(model)
    if mode == "watched":
        return _Watching()
    return contextlib.nullcontext()


class _Watching(_watch.Watcher):
    """A watcher that records nothing: ops are tagged with their layer, and that is all."""

    def __enter__(self) -> _Watching:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_workload(name: str, rounds: int, block: int) -> dict[str, Any]:
    """Interleaved blocks of steps of every mode on workload ``name``."""
    runner = impl_minigrad.build(name, make_workload(name))
    model = runner.model
    outside = mg.tensor([1.0], requires_grad=True)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for round_ in range(rounds + 1):
        for mode in MODES:
            handle = outside.register_hook(lambda g: None) if mode == "hooked" else None
            diagnostics = Diagnostics(model).attach() if mode == "diagnostics" else None
            for _ in range(block):
                began = time.perf_counter()
                with mode_context(mode, model):
                    runner.step()
                if round_ > 0:  # the first round warms up
                    times[mode].append(time.perf_counter() - began)
            if handle is not None:
                handle.remove()
            if diagnostics is not None:
                diagnostics.detach()
    plain = statistics.median(times["plain"])
    return {
        "workload": name,
        "steps_per_mode": len(times["plain"]),
        "median_ms": {mode: 1e3 * statistics.median(t) for mode, t in times.items()},
        "ratio_to_plain": {mode: statistics.median(t) / plain for mode, t in times.items()},
        "times_ms": {mode: [round(1e3 * s, 4) for s in t] for mode, t in times.items()},
    }


def args_list(argv: list[str] | None) -> list[str]:
    """The arguments this run was given."""
    return sys.argv[1:] if argv is None else argv


def idle_checks(name: str, step_ms: float) -> dict[str, Any]:
    """What the watch points cost a step when nothing watches: the checks counted on one
    traced step of workload ``name``, each kind timed, summed, and compared to ``step_ms``."""
    runner = impl_minigrad.build(name, make_workload(name))
    with mg.trace(runner.model) as trace:
        runner.step()
    ops = sum(r.phase == "forward" for r in trace.rows)
    nodes = sum(r.phase == "backward" for r in trace.rows)
    calls = len({call for r in trace.rows for call in r.calls})  # model, layers, loss
    observer, layer, watch = autograd._observer, runner.model, None
    spaces = {"observer": observer, "layer": layer, "watch": watch}
    ns = {
        expression: 1e9
        * min(timeit.repeat(expression, globals=spaces, number=100_000, repeat=5))
        / 100_000
        for expression in ("observer.active is None", "layer._hooks is not None", "watch is None")
    }
    per_step = (
        ops * ns["observer.active is None"]
        + calls * (ns["layer._hooks is not None"] + ns["observer.active is None"])
        + 2 * ns["observer.active is None"]
        + 2 * nodes * ns["watch is None"]
    )
    return {
        "ops": ops,
        "backward_nodes": nodes,
        "layer_calls": calls,
        "ns_per_check": ns,
        "ns_per_step": per_step,
        "fraction_of_plain_step": per_step / (1e6 * step_ms),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every workload and print (and optionally write) the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds of every mode")
    parser.add_argument("--block", type=int, default=5, help="steps per mode per round")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results = []
    with threadpool_limits(args.threads):
        for name in args.workloads:
            result = run_workload(name, args.rounds, args.block)
            result["idle_checks"] = idle_checks(name, result["median_ms"]["plain"])
            results.append(result)
            cells = "  ".join(
                f"{mode} {result['median_ms'][mode]:.1f} ms ({result['ratio_to_plain'][mode]:.2f}x)"
                for mode in MODES
            )
            idle = result["idle_checks"]
            print(f"{name}: {cells}", flush=True)
            print(
                f"    idle checks: {idle['ns_per_step'] / 1e3:.2f} us per step "
                f"({idle['fraction_of_plain_step']:.1e} of a plain step)",
                flush=True,
            )
    if args.json is not None:
        run = {
            "command": shlex.join(["python", "-m", "benchmarks.seeing_cost", *args_list(argv)]),
            "machine": machine_info(),
            "settings": {"rounds": args.rounds, "block": args.block, "threads": args.threads},
            "results": results,
        }
        report.write_record(args.json, run)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
