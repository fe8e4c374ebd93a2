"""Data-parallel throughput: one process versus two MPI ranks, and what allreduce costs.

For every workload (W1, W2, W3 of benchmarks/workloads.py and the command line's digits CNN)
four configurations run, each in a launch of its own, in interleaved rounds (A B C D A B C D
...) so that the machine's noise hits them alike; before each launch the driver waits (a
bounded time) for other work to stop:

- ``one``: one plain process (no MPI) at the workload's batch ``B``: the baseline;
- ``one-half``: one plain process at ``B/2``: the efficiency lost by halving a batch;
- ``weak``: ``mpiexec -n 2``, each rank at ``B`` (twice the examples per step);
- ``strong``: ``mpiexec -n 2``, each rank at ``B/2`` (the baseline's global batch).

BLAS runs on one thread in every process (``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1``). A
launch runs warm-up steps, then timed steps, each split into compute (zero_grad, forward,
backward), wait (a barrier: the other rank is still computing), communicate
(``synchronize``: packing, the allreduces, unpacking) and update (the optimizer's step);
examples per second count every rank's examples. Each launch also reports how many CPUs other
processes used meanwhile (from /proc: all busy time less the ranks' own).

Then one launch times ``Allreduce`` of float32 buffers from 4 KiB to 16 MiB between two
ranks, fits ``t = alpha + bytes / beta``, and projects, with a ring allreduce's cost model, the
efficiency of each workload at more ranks on networks whose latency and bandwidth are stated
as assumptions. Last, the command line trains the default model on one process and on two
(``--distributed``, at ``--batch-size`` 64 and 32), in rounds, recording time and accuracy.

Run from the repository root (minutes; results in benchmarks/results/distributed.json)::

    python -m benchmarks.distributed
    python -m benchmarks.distributed --quick      # smoke run, writes nothing
    python -m benchmarks.distributed --reanalyze  # re-derive the summary from the recorded run

Example:
    >>> ring_allreduce_seconds(2**20, ranks=4, alpha=1e-5, beta=1e9) > 0
    True
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import report
from benchmarks.machine_load import CLOCK_TICKS, busy_ticks, wait_until_quiet
from minigrad.bench.machine import machine_info, package_version

ROOT = Path(__file__).resolve().parent.parent
MPIEXEC = Path(sys.executable).with_name("mpiexec")
WORKLOADS = ("W1", "W2", "W3", "digits")
CONFIGS = {  # name: (ranks, fraction of the workload's batch per rank)
    "one": (1, 1),
    "one-half": (1, 2),
    "weak": (2, 1),
    "strong": (2, 2),
}
TIMED_STEPS = {"W1": 400, "W2": 100, "W3": 100, "digits": 150}
WARMUP_STEPS = 10
ALLREDUCE_BYTES = [2**k for k in range(12, 25, 2)]  # 4 KiB .. 16 MiB
# Networks for the projection: (name, latency alpha in s, bandwidth beta in bytes/s). These
# are assumptions (typical published figures), not measurements: this machine has no network.
NETWORKS = [
    ("10 Gb/s Ethernet (assumed: 30 us, 1.1 GB/s)", 30e-6, 1.1e9),
    ("100 Gb/s InfiniBand (assumed: 2 us, 11 GB/s)", 2e-6, 11e9),
]
PROJECTED_RANKS = [2, 4, 8, 16, 64]
HERE = "this machine, 2 ranks, shared memory (fitted line)"
PHASES = ("compute", "wait", "communicate", "update")
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ---------------------------------------------------------------------------------------------
# worker side (one launch)
# ---------------------------------------------------------------------------------------------
def build(workload: str) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """Model, optimizer, images and labels of ``workload`` at its full batch."""
    import minigrad as mg
    from minigrad import models, optim

    if workload == "digits":
        from minigrad.data import load_digits

        mg.manual_seed(0)
        x, y = load_digits("train")
        model = models.cnn(x.shape[1:])
        return model, optim.Adam(model.parameters(), lr=2e-3), x[:64], y[:64]
    from benchmarks.impl_minigrad import make_model
    from benchmarks.workloads import make_workload

    w = make_workload(workload)
    model = make_model(workload)
    return model, optim.SGD(model.parameters(), lr=w["lr"], momentum=w["momentum"]), w["x"], w["y"]


def worker(workload: str, fraction: int, distributed: bool, steps: int) -> dict[str, Any] | None:
    """Time ``steps`` training steps after a warm-up; the report on rank 0, None elsewhere."""
    import resource

    import threadpoolctl

    import minigrad as mg
    from minigrad import nn

    model, optimizer, x, y = build(workload)  # the optimizer holds the same Parameters
    rank, size = 0, 1
    if distributed:
        from mpi4py import MPI

        from minigrad.distributed import DistributedDataParallel

        model = DistributedDataParallel(model)
        rank, size = model.rank, model.world_size
    batch = len(x) // fraction
    start = rank * batch % len(x)  # strong scaling: each rank its part of the batch
    images, labels = mg.tensor(x[start : start + batch]), mg.tensor(y[start : start + batch])
    loss_fn = nn.CrossEntropyLoss()
    phases = np.zeros((steps, 4))
    for step in range(-WARMUP_STEPS, steps):
        if step == 0:
            if distributed:
                MPI.COMM_WORLD.Barrier()
            began, busy_before = time.perf_counter(), busy_ticks()
            cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        t0 = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        t1 = time.perf_counter()
        if distributed:
            MPI.COMM_WORLD.Barrier()
        t2 = time.perf_counter()
        if distributed:
            model.synchronize(float(loss.item()) * batch, float(batch))
        t3 = time.perf_counter()
        optimizer.step()
        if step >= 0:
            phases[step] = (t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3)
    elapsed = time.perf_counter() - began
    busy = (busy_ticks() - busy_before) / CLOCK_TICKS
    own = np.array([sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_before])
    if distributed:
        MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, own)  # every rank's CPU seconds
    if rank != 0:
        return None
    medians = 1e3 * np.median(phases, axis=0)
    return {
        "ranks": size,
        "batch_per_rank": batch,
        "parameters": int(sum(p.size for p in model.parameters())),
        "steps": steps,
        "examples_per_s": steps * batch * size / elapsed,
        "median_step_ms": 1e3 * float(np.median(phases.sum(axis=1))),
        "median_ms": dict(zip(PHASES, medians.tolist(), strict=True)),
        "own_cpus": float(own[0]) / elapsed,  # CPUs the ranks got (waiting ranks spin)
        "other_cpus": max(busy - float(own[0]), 0.0) / elapsed,
        "blas_threads": [p["num_threads"] for p in threadpoolctl.threadpool_info()],
    }


def allreduce_worker(repeats: int) -> list[dict[str, float]]:
    """Median and minimum seconds of an in-place float32 Allreduce per size (barrier first)."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    out = []
    for nbytes in ALLREDUCE_BYTES:
        buffer = np.ones(nbytes // 4, np.float32)
        times = []
        for i in range(repeats + 5):
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buffer)
            if i >= 5:
                times.append(time.perf_counter() - t0)
        out.append({"bytes": nbytes, "median_s": statistics.median(times), "min_s": min(times)})
    return out


# ---------------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------------
def run(command: list[str], timeout: float = 600) -> str:
    """Run a launch with single-threaded BLAS and this tree first on the path; its stdout."""
    env = {**os.environ, **ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def launch(workload: str, config: str, steps: int) -> dict[str, Any]:
    ranks, fraction = CONFIGS[config]
    command = [sys.executable, "-m", "benchmarks.distributed", "--worker", workload]
    command += ["--fraction", str(fraction), "--steps", str(steps)]
    if ranks > 1:
        command = [str(MPIEXEC), "-n", str(ranks), *command, "--distributed"]
    return json.loads(run(command))


def ring_allreduce_seconds(nbytes: float, ranks: int, alpha: float, beta: float) -> float:
    """A ring allreduce's time: 2(p-1) messages of nbytes/p each way (reduce-scatter, then
    allgather), each paying latency ``alpha`` and ``nbytes / p / beta`` of transfer."""
    return 2 * (ranks - 1) * (alpha + nbytes / ranks / beta)


def fit_latency_bandwidth(points: list[dict[str, float]]) -> tuple[float, float]:
    """Least-squares ``t = alpha + bytes / beta`` through the measured medians, in relative
    error (sizes span four decades: plain least squares would fit the largest alone)."""
    sizes = np.array([p["bytes"] for p in points], float)
    times = np.array([p["median_s"] for p in points])
    slope, intercept = np.polyfit(sizes, times, 1, w=1 / times)
    return float(intercept), float(1 / slope)


def projection(workloads: dict[str, dict], fitted: tuple[float, float]) -> list[dict]:
    """Per workload: the allreduce time of its gradients against its measured compute time per
    step (the weak-scaling rank's median compute + update, in CPU time), on this machine from
    the fitted line (two ranks), and on each assumed network from a ring allreduce at more
    ranks."""
    alpha_here, beta_here = fitted
    rows = []
    for name, summary in workloads.items():
        compute_s = summary["compute_cpu_per_step_ms"] / 1e3
        nbytes = 4 * summary["parameters"]
        estimates = [(HERE, 2, alpha_here + nbytes / beta_here)]
        estimates += [
            (network, ranks, ring_allreduce_seconds(nbytes, ranks, alpha, beta))
            for network, alpha, beta in NETWORKS
            for ranks in PROJECTED_RANKS
        ]
        for network, ranks, comm_s in estimates:
            rows.append(
                {
                    "workload": name,
                    "network": network,
                    "ranks": ranks,
                    "gradient_bytes": nbytes,
                    "allreduce_ms": 1e3 * comm_s,
                    "compute_ms": 1e3 * compute_s,
                    "efficiency": compute_s / (compute_s + comm_s),
                }
            )
    return rows


def analyze(results: dict[str, Any]) -> None:
    """Add the summary, the allreduce fit and the projection to a run's recorded measurements
    (``launches`` and ``allreduce.points``)."""
    fitted = fit_latency_bandwidth(results["allreduce"]["points"])
    results["allreduce"]["fitted_alpha_s"], results["allreduce"]["fitted_beta_bytes_per_s"] = fitted
    results["summary"] = summarize(results["launches"])
    results["projection"] = projection(results["summary"], fitted)


CLI_CONFIGS = {
    "one process": [],
    "2 processes, batch 64 each": ["--distributed"],
    "2 processes, batch 32 each": ["--distributed", "--batch-size", "32"],
}
CLI_RESULT = re.compile(r"test accuracy ([\d.]+)% .* in ([\d.]+)s")


def command_line_runs(rounds: int, epochs: int | None, quiet_wait: float) -> dict[str, list]:
    """Test accuracy and training seconds of ``python -m minigrad train`` per configuration."""
    runs: dict[str, list] = {name: [] for name in CLI_CONFIGS}
    for _ in range(rounds):
        for name, extra in CLI_CONFIGS.items():
            wait_until_quiet(quiet_wait)
            command = [sys.executable, "-m", "minigrad", "train", "--quiet", *extra]
            command += ["--out", f"/tmp/minigrad-bench-{os.getpid()}", "--overwrite"]
            command += ["--epochs", str(epochs)] if epochs else []
            if extra:
                command = [str(MPIEXEC), "-n", "2", *command]
            match = CLI_RESULT.search(run(command))
            assert match, f"no result line from {command}"
            runs[name].append({"accuracy": float(match[1]) / 100, "seconds": float(match[2])})
    return runs


def summarize(launches: dict[str, dict[str, list[dict]]]) -> dict[str, dict]:
    """Medians over rounds and the speedups they give, per workload."""
    out = {}
    for workload, per_config in launches.items():
        rate = {
            c: statistics.median(r["examples_per_s"] for r in rs) for c, rs in per_config.items()
        }
        # per CPU-second the processes actually got (a waiting rank spins: its wait counts)
        per_cpu = {
            c: statistics.median(r["examples_per_s"] / r["own_cpus"] for r in rs)
            for c, rs in per_config.items()
        }
        weak = per_config["weak"]
        out[workload] = {
            "parameters": weak[0]["parameters"],
            "examples_per_s": rate,
            "weak_speedup": rate["weak"] / rate["one"],
            "strong_speedup": rate["strong"] / rate["one"],
            "half_batch_efficiency": rate["one-half"] / rate["one"],
            "examples_per_cpu_second": per_cpu,
            "weak_cpu_efficiency": per_cpu["weak"] / per_cpu["one"],
            "strong_cpu_efficiency": per_cpu["strong"] / per_cpu["one"],
            "compute_per_step_ms": statistics.median(
                r["median_ms"]["compute"] + r["median_ms"]["update"] for r in weak
            ),
            # the same in CPU time: wall time scaled by the share of a CPU each rank got
            "compute_cpu_per_step_ms": statistics.median(
                (r["median_ms"]["compute"] + r["median_ms"]["update"]) * r["own_cpus"] / r["ranks"]
                for r in weak
            ),
            "communicate_per_step_ms": {
                c: statistics.median(r["median_ms"]["communicate"] for r in per_config[c])
                for c in ("weak", "strong")
            },
            "wait_per_step_ms": {
                c: statistics.median(r["median_ms"]["wait"] for r in per_config[c])
                for c in ("weak", "strong")
            },
            "own_cpus_median": {
                c: statistics.median(r["own_cpus"] for r in rs) for c, rs in per_config.items()
            },
            "other_cpus_median": statistics.median(
                r["other_cpus"] for rs in per_config.values() for r in rs
            ),
        }
    return out


def print_summary(summary: dict[str, dict], fitted: tuple[float, float]) -> None:
    print("workload  params   1 proc ex/s  weak 2 ranks  strong 2 ranks  half-batch  comm ms")
    for name, s in summary.items():
        rate = s["examples_per_s"]
        print(
            f"{name:8s} {s['parameters']:7d}   {rate['one']:10.0f}   {rate['weak']:7.0f} "
            f"({s['weak_speedup']:.2f}x)  {rate['strong']:7.0f} ({s['strong_speedup']:.2f}x)"
            f"   {s['half_batch_efficiency']:.2f}x     {s['communicate_per_step_ms']['weak']:.3f}"
        )
    alpha, beta = fitted
    print(f"allreduce, 2 ranks: latency {1e6 * alpha:.1f} us, bandwidth {beta / 1e9:.2f} GB/s")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds of launches")
    parser.add_argument("--cli-rounds", type=int, default=3)
    parser.add_argument("--cli-epochs", type=int, help="default: the command line's own")
    parser.add_argument("--allreduce-repeats", type=int, default=200)
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="seconds, per launch")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run, writes nothing")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "distributed.json"
    )
    parser.add_argument(
        "--reanalyze",
        action="store_true",
        help="recompute the summary and projection of the run recorded in --json, measure nothing",
    )
    parser.add_argument("--worker", choices=WORKLOADS, help=argparse.SUPPRESS)
    parser.add_argument("--allreduce-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.cli_rounds, args.cli_epochs, args.allreduce_repeats = 1, 1, 1, 5
        args.quiet_wait = 0.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        result = worker(args.worker, args.fraction, args.distributed, args.steps)
        if result is not None:
            print(json.dumps(result), flush=True)
        return 0
    if args.reanalyze:
        results = json.loads(args.json.read_text())
        analyze(results)
        report_and_write(results, args.json)
        return 0
    if args.allreduce_worker:
        from mpi4py import MPI

        times = allreduce_worker(args.allreduce_repeats)
        if MPI.COMM_WORLD.rank == 0:
            print(json.dumps(times), flush=True)
        return 0
    started, load_start = time.time(), os.getloadavg()
    launches: dict[str, dict[str, list]] = {w: {c: [] for c in CONFIGS} for w in args.workloads}
    for round_ in range(args.rounds):
        for workload in args.workloads:
            for config in CONFIGS:
                quiet = wait_until_quiet(args.quiet_wait) if args.quiet_wait else None
                steps = 5 if args.quick else TIMED_STEPS[workload]
                result = launch(workload, config, steps) | {"other_cpus_before": quiet}
                launches[workload][config].append(result)
                print(
                    f"round {round_ + 1} {workload:6s} {config:8s} "
                    f"{result['examples_per_s']:8.0f} ex/s  own cpus {result['own_cpus']:.2f}  "
                    f"other cpus {result['other_cpus']:.2f}",
                    flush=True,
                )
    allreduce_command = [str(MPIEXEC), "-n", "2", sys.executable, "-m", "benchmarks.distributed"]
    allreduce_command += ["--allreduce-worker", "--allreduce-repeats", str(args.allreduce_repeats)]
    if args.quiet_wait:
        wait_until_quiet(args.quiet_wait)
    allreduce = json.loads(run(allreduce_command))
    cli = command_line_runs(args.cli_rounds, args.cli_epochs, args.quiet_wait)
    results = {
        "command": report.command_line(argv, "benchmarks.distributed"),
        "machine": machine_info() | {name: package_version(name) for name in ("mpi4py", "mpich")},
        "env": ENV,
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "minutes": (time.time() - started) / 60,
        "settings": {
            "rounds": args.rounds,
            "timed_steps": TIMED_STEPS,
            "warmup_steps": WARMUP_STEPS,
            "configs": CONFIGS,
        },
        "allreduce": {"points": allreduce},
        "command_line": {
            name: {"runs": runs, "median_seconds": statistics.median(r["seconds"] for r in runs)}
            for name, runs in cli.items()
        },
        "launches": launches,
    }
    analyze(results)
    report_and_write(results, None if args.quick else args.json)
    return 0


def report_and_write(results: dict[str, Any], path: Path | None) -> None:
    """Print the summary and the command-line runs; write the JSON to ``path`` (if any)."""
    allreduce = results["allreduce"]
    print_summary(
        results["summary"], (allreduce["fitted_alpha_s"], allreduce["fitted_beta_bytes_per_s"])
    )
    for name, entry in results["command_line"].items():
        print(f"command line, {name}: {entry['runs']}")
    if path is not None:
        report.write_record(path, results)
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
