"""Recurrent training-step benchmark: the NumPy floor, minigrad and PyTorch on L1 and C1.

One process per workload runs the three implementations interleaved, a block of steps each
(floor, minigrad, torch, floor, ...), all from the same weights and batch
(benchmarks/rnn_workloads.py), so machine noise hits them alike. BLAS and PyTorch are held to
``--threads`` threads (``threadpoolctl``, ``torch.set_num_threads``). The first round is
warm-up; medians of the timed steps are reported with their ratio to the floor. The losses of
the first steps must agree (float32 tolerance), or nothing is written. ``--profile`` adds the
functions where minigrad's step spends its time (cProfile, separate untimed steps).

Run from the repository root::

    python -m benchmarks.rnn_step              # writes benchmarks/results/rnn_step.json
    python -m benchmarks.rnn_step --quick      # smoke run, writes nothing

Example:
    >>> ratio_to_floor({"numpy": 2.0, "minigrad": 2.5})["minigrad"]
    1.25
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.machine_load import OtherLoad, wait_until_quiet
from benchmarks.rnn_workloads import SIZES, WORKLOADS, make_workload
from minigrad.bench.machine import machine_info

ROOT = Path(__file__).resolve().parent.parent
IMPLS = {
    "numpy": "benchmarks.rnn_floor",
    "minigrad": "benchmarks.rnn_impl_minigrad",
    "torch": "benchmarks.rnn_impl_torch",
}
LOSS_CHECK_STEPS = 5
LOSS_RTOL = 1e-4


def ratio_to_floor(medians: dict[str, float]) -> dict[str, float]:
    """Each implementation's median over the floor's."""
    return {impl: value / medians["numpy"] for impl, value in medians.items()}


def load_runners(name: str, threads: int) -> tuple[dict[str, Any], dict[str, str]]:
    """One runner per implementation that imports; the reasons for those that do not."""
    runners, skipped = {}, {}
    for impl, module_name in IMPLS.items():
        try:
            module = __import__(module_name, fromlist=["build"])
        except ImportError as exc:
            skipped[impl] = f"{exc}" + ("; pip install torch==2.13.0" if impl == "torch" else "")
            continue
        if hasattr(module, "set_threads"):
            module.set_threads(threads)
        runners[impl] = (module, module.build(name, make_workload(name)))
    return runners, skipped


def profile_minigrad(name: str, steps: int) -> list[dict[str, Any]]:
    """The 15 functions with the most own time over ``steps`` untimed minigrad steps."""
    from benchmarks import rnn_impl_minigrad

    runner = rnn_impl_minigrad.build(name, make_workload(name))
    runner.step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        runner.step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():
        where = f"{Path(filename).name}:{line}({function})"
        rows.append(
            {
                "function": where,
                "calls_per_step": calls / steps,
                "own_ms_per_step": 1e3 * own / steps,
                "cumulative_ms_per_step": 1e3 * cumulative / steps,
            }
        )
    return sorted(rows, key=lambda r: -r["own_ms_per_step"])[:15]


def run_workload(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Interleaved rounds for one workload; per implementation times, losses and summary."""
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(args.threads):
        runners, skipped = load_runners(name, args.threads)
        times: dict[str, list[float]] = {impl: [] for impl in runners}
        losses: dict[str, list[float]] = {impl: [] for impl in runners}
        quiet_before = wait_until_quiet(args.quiet_wait) if args.quiet_wait > 0 else None
        meter = OtherLoad([])
        rounds = 1 + -(-args.steps // args.block)
        for r in range(rounds):
            for impl, (_, runner) in runners.items():
                for _ in range(args.warmup if r == 0 else args.block):
                    t0 = time.perf_counter()
                    losses[impl].append(runner.step())
                    if r > 0:
                        times[impl].append(time.perf_counter() - t0)
        other_cpus = meter.cpus()
        blas = threadpool_info()
        profile = profile_minigrad(name, args.profile_steps) if args.profile_steps else []
    medians = {impl: 1e3 * statistics.median(t) for impl, t in times.items()}
    return {
        "workload": name,
        "sizes": SIZES[name],
        "threads": args.threads,
        "skipped": skipped,
        "versions": {impl: module.version() for impl, (module, _) in runners.items()},
        "blas": blas,
        "median_ms": medians,
        "ratio_to_floor": ratio_to_floor(medians) if "numpy" in medians else {},
        "times_ms": {impl: [round(1e3 * x, 3) for x in t] for impl, t in times.items()},
        "losses": losses,
        "other_cpus_before": quiet_before,
        "other_cpus": other_cpus,
        "minigrad_profile": profile,
    }


def loss_problems(result: dict[str, Any]) -> list[str]:
    """First losses of every implementation that differ from the floor's."""
    losses = result["losses"]
    problems = []
    for impl, values in losses.items():
        for step, (a, b) in enumerate(zip(values, losses["numpy"], strict=False)):
            if step < LOSS_CHECK_STEPS and not abs(a - b) <= LOSS_RTOL * max(1.0, abs(b)):
                problems.append(f"{result['workload']}: {impl} loss {a} at step {step} != {b}")
    return problems


def table(results: list[dict[str, Any]]) -> str:
    """A Markdown table of medians and ratios."""
    lines = [
        "| workload | threads | floor (NumPy) ms | minigrad ms | PyTorch ms | minigrad / floor "
        "| PyTorch / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m, q = r["median_ms"], r["ratio_to_floor"]
        cell = lambda d, k, f: f.format(d[k]) if k in d else "skipped"  # noqa: E731
        lines.append(
            f"| {r['workload']} | {r['threads']} | {cell(m, 'numpy', '{:.2f}')} | "
            f"{cell(m, 'minigrad', '{:.2f}')} | {cell(m, 'torch', '{:.2f}')} | "
            f"{cell(q, 'minigrad', '{:.3f}')} | {cell(q, 'torch', '{:.3f}')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON unless told not to."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per implementation")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--block", type=int, default=5, help="steps per turn in a round")
    parser.add_argument("--profile-steps", type=int, default=10)
    parser.add_argument("--quiet-wait", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run, writes nothing")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "rnn_step.json"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.block, args.profile_steps, args.quiet_wait = 2, 1, 1, 0, 0
    load_start = os.getloadavg()
    results = [run_workload(name, args) for name in args.workloads]
    problems = [p for r in results if "numpy" in r["losses"] for p in loss_problems(r)]
    print(table(results))
    if problems:
        print("LOSSES DISAGREE, nothing written:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    run = {
        "command": report.command_line(argv, "benchmarks.rnn_step"),
        "machine": machine_info(),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "settings": {k: getattr(args, k) for k in ("steps", "warmup", "block", "threads")},
        "results": results,
    }
    if not args.quick:
        report.write_record(args.json, run)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
