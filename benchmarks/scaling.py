"""The scaling study: how a training step's cost grows with batch size, width, depth, threads.

One command runs it all, with the training-step benchmark's machinery (one persistent worker
process per implementation and configuration, interleaved rounds, thread caps, page faults,
RSS, the loss-agreement check; :mod:`benchmarks.train_step`):

* **batch**: W1 and W2 at batch 1, 8, 32, 128, 512, floor vs minigrad vs PyTorch, on 1 and
  2 threads: the cost per example, where Python overhead dominates and where BLAS does (a fit
  of ``t(b) = a + c*b`` per implementation), the speed-up of the second thread, and the
  memory a step adds (peak RSS minus the RSS once the model and batch are built; a fresh
  worker per configuration);
* **width**: an MLP ``784-w-w-10`` (3 Linear layers) at batch 128 for w = 64 ... 4096;
* **depth**: an MLP of width 256 with 2 ... 32 Linear layers at batch 128;

each with the fitted growth exponent of the step time, floor (the W1 floor's code for any
MLP, :mod:`benchmarks.reference_numpy_mnist`) vs minigrad vs PyTorch. Timed steps per
configuration are set from its FLOP count so every configuration takes about the same time.

Run from the repository root (it takes about 10 minutes on a quiet 2-core machine)::

    python -m benchmarks.scaling           # writes benchmarks/results/scaling.json,
                                           # docs/img/scaling_*.png, docs/benchmarks.md
    python -m benchmarks.scaling --quick   # smoke run on tiny sizes, writes nothing

Example:
    >>> flops_per_step(parse_spec("MLP/w=64/d=3/b=2")) == 6 * 2 * (784 * 64 + 64 * 64 + 64 * 10)
    True
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import report, train_step
from benchmarks.workloads import parse_spec

ROOT = train_step.ROOT
BATCHES = (1, 8, 32, 128, 512)
WIDTHS = (64, 128, 256, 512, 1024, 2048, 4096)
DEPTHS = (2, 4, 8, 16, 32)
WIDTH_STUDY_DEPTH = 3
DEPTH_STUDY_WIDTH = 256
STUDY_BATCH = 128
THREADS = (1, 2)
# Multiply-adds per example of the fixed workloads' forward pass (convs and Linear layers).
FORWARD_MACS = {"W1": 784 * 256 + 256 * 128 + 128 * 10, "W2": 784 * 8 * 9 + 196 * 16 * 72 + 7840}
ASSUMED_FLOPS = 20e9  # per second: only sets how many steps a configuration times
TARGET_SECONDS = 1.5  # timed seconds per implementation and configuration
MIN_STEPS, MAX_STEPS = 10, 60


def flops_per_step(workload: dict[str, Any]) -> float:
    """Floating-point operations of one training step (forward 2, backward 4 per multiply-add)
    of a parsed workload spec that names its batch (:func:`benchmarks.workloads.parse_spec`)."""
    if workload["batch"] is None:
        raise ValueError(f"flops_per_step: the spec of {workload['name']} must name its batch")
    if workload["name"] != "MLP":
        return 6.0 * workload["batch"] * FORWARD_MACS[workload["name"]]
    return 6.0 * workload["batch"] * sum(a * b for a, b in itertools.pairwise(workload["sizes"]))


def timed_steps(spec: str) -> int:
    """Steps to time for ``spec``: about TARGET_SECONDS at ASSUMED_FLOPS, within limits.

    Example:
        >>> timed_steps("W1/b=1"), timed_steps("MLP/w=4096/d=3/b=128")
        (60, 10)
    """
    steps = TARGET_SECONDS * ASSUMED_FLOPS / flops_per_step(parse_spec(spec))
    return int(min(MAX_STEPS, max(MIN_STEPS, steps)))


def plan(quick: bool) -> dict[str, list[tuple[str, int]]]:
    """The (spec, threads) configurations of each part of the study.

    Example:
        >>> plan(quick=True)["width"]
        [('MLP/w=16/d=3/b=4', 1), ('MLP/w=32/d=3/b=4', 1)]
    """
    if quick:
        return {
            "batch": [(f"W1/b={b}", 1) for b in (1, 4)],
            "width": [(f"MLP/w={w}/d={WIDTH_STUDY_DEPTH}/b=4", 1) for w in (16, 32)],
            "depth": [(f"MLP/w=16/d={d}/b=4", 1) for d in (2, 3)],
        }
    return {
        "batch": [(f"{w}/b={b}", t) for t in THREADS for w in ("W1", "W2") for b in BATCHES],
        "width": [(f"MLP/w={w}/d={WIDTH_STUDY_DEPTH}/b={STUDY_BATCH}", 1) for w in WIDTHS],
        "depth": [(f"MLP/w={DEPTH_STUDY_WIDTH}/d={d}/b={STUDY_BATCH}", 1) for d in DEPTHS],
    }


def worker_args(spec: str, quick: bool, quiet_wait: float) -> argparse.Namespace:
    """The settings :func:`benchmarks.train_step.run_config` reads, for one configuration:
    training steps only (no evaluation, overhead, SGEMM or profile)."""
    steps = 2 if quick else timed_steps(spec)
    block = min(steps, 10)
    return argparse.Namespace(
        steps=steps,
        warmup=1 if quick else min(block, 5),
        block=block,
        eval_steps=0,
        overhead=False,
        gemm=False,
        profile_steps=0,
        quick=quick,
        quiet_wait=quiet_wait,
        settle=0.0 if quick else 0.2,
    )


def measure(args: argparse.Namespace, argv: list[str] | None = None) -> dict[str, Any]:
    """Run every configuration of the study; the record ``scaling.json`` holds."""
    env = train_step.worker_env()
    started, load_start = time.monotonic(), os.getloadavg()
    parts: dict[str, list[dict[str, Any]]] = {}
    skipped: dict[str, dict[str, list[str]]] = {}
    problems: list[str] = []
    for part, configs in plan(args.quick).items():
        parts[part] = []
        for spec, threads in configs:
            print(f"{part}: {spec} with {threads} thread(s)", flush=True)
            settings = worker_args(spec, args.quick, args.quiet_wait)
            results, config_skipped = train_step.run_config(
                spec, threads, args.impls, settings, env
            )
            for impl, why in config_skipped.items():
                skipped.setdefault(impl, {}).setdefault(why, []).append(f"{spec}/{threads}")
            problems += train_step.check_losses(
                spec, threads, {r["impl"]: r["losses"] for r in results}
            )
            workload = parse_spec(spec)
            for r in results:
                sizes = workload["sizes"]
                r.update(
                    family=workload["name"],
                    width=sizes[1] if sizes else None,
                    depth=len(sizes) - 1 if sizes else None,
                    flops_per_step=flops_per_step(workload),
                    step_memory_mb=r["peak_rss_mb"] - r["rss_ready_mb"],
                )
                del r["times_ms"]  # the medians are what the study uses; keeps the file small
            parts[part] += results
    return {
        "command": report.command_line(argv, "benchmarks.scaling"),
        **train_step.environment(env),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "duration_s": time.monotonic() - started,
        "impls": list(args.impls),
        "skipped": skipped,
        "loss_problems": problems,
        **parts,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--impls", nargs="+", default=["numpy", "minigrad", "torch"], choices=train_step.IMPLS
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="seconds to wait at most, before each configuration, for other work to stop",
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke run, writes nothing")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "scaling.json"
    )
    parser.add_argument("--img", type=Path, default=ROOT / "docs" / "img", help="plot folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.quiet_wait = 0.0
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the study; print its tables; write results, plots and the page unless quick."""
    from benchmarks import scaling_report

    args = parse_args(argv)
    study = measure(args, argv)
    print("\n".join(scaling_report.section(study)))
    if study["loss_problems"]:
        problems = "\n  ".join(study["loss_problems"])
        print(f"LOSSES DISAGREE, results not written:\n  {problems}", file=sys.stderr)
        return 2
    if not args.quick:
        report.write_record(args.json, study)
        plots = scaling_report.plot(study, args.img)
        page = report.write_page()
        print(f"wrote {args.json}, {', '.join(map(str, plots))} and {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
