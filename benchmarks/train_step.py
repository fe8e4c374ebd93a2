"""Training-step benchmark: the NumPy floor, minigrad and PyTorch on workloads W1 to W5.

For every (workload, thread count) the driver starts one persistent worker process per
implementation, all from the same weights and batch (benchmarks/workloads.py), and runs them
interleaved in rounds, a block of steps each (A B C A B C ...), so machine noise hits all alike.
The first round is warm-up; then at least 50 timed steps each. A worker times every step
(``perf_counter``) and counts its minor page faults (``getrusage().ru_minflt``); it reports its
peak RSS (``ru_maxrss``) and its RSS (``/proc/self/statm``) before and after the timed steps.
Threads are capped in the worker with ``threadpoolctl.threadpool_limits`` (and
``torch.set_num_threads``). Every step of every implementation is measured the same way.

Before training, each worker also times the evaluation forward (``infer()``: ``eval()`` mode
under ``no_grad``, on the same batch), interleaved the same way, for images per second; the
floor has one for W4 and W5 only. The minigrad and PyTorch workers measure their fixed cost per
operation on tiny tensors (:mod:`benchmarks.overhead`): the overhead budget of a step.

The losses of the first steps, and the evaluation outputs' loss, must agree across
implementations (same weights, same data): the run fails loudly, writing nothing, if they
differ beyond float32 tolerance.

Run from the repository root::

    python -m benchmarks.train_step                      # full run, writes docs/benchmarks.md
    python -m benchmarks.train_step --quick              # smoke run, writes nothing
    python -m benchmarks.train_step --workloads W4 W5 \
        --json benchmarks/results/train_step_w4_w5.json
    python -m benchmarks.train_step --impls numpy torch --threads 1 --workloads W2
    python -m benchmarks.train_step --baseline main~3 --impls numpy minigrad --threads 1 \
        --json benchmarks/results/before_after.json --markdown /dev/null

``--baseline REV`` adds one more worker, ``minigrad@REV``, running the ``minigrad`` package as it
was at git revision ``REV`` (exported with ``git archive``) on the same workloads, interleaved
with the others: the before/after comparison of a change, measured in one run.
``minigrad-reference`` is minigrad with every op on its readable reference rule
(``minigrad.kernels.use("reference")``): the price of readability.

The results go to ``--json``; ``docs/benchmarks.md`` is then rebuilt from every recorded
result (:func:`benchmarks.report.write_page`): ``train_step.json``, then the workloads of any
``train_step_*.json`` it does not cover, the ratios across ``train_step.json`` and its repeats
(``train_step_repeat*.json``, runs with ``--threads 1 --markdown /dev/null``), then the scaling
study. The README's speed table comes from the same files: after new runs, regenerate both
with ``python -m benchmarks.report``.

Example:
    >>> summarize([1.0, 3.0, 2.0])["median_ms"]
    2.0
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.machine_load import OtherLoad, wait_until_quiet
from benchmarks.workloads import WORKLOADS
from minigrad.bench.machine import machine_info

ROOT = Path(__file__).resolve().parent.parent
IMPLS = ("numpy", "minigrad", "minigrad-reference", "torch")
DEFAULT_IMPLS = ("numpy", "minigrad", "torch")
MODULES = {
    "numpy": "benchmarks.reference_numpy",
    "minigrad": "benchmarks.impl_minigrad",
    "minigrad-reference": "benchmarks.impl_minigrad",
    "torch": "benchmarks.impl_torch",
}
OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# Other environment variables that change the measurement; recorded when set.
TUNING_ENV_PREFIXES = ("OPENBLAS_", "MALLOC_", "OMP_", "MKL_", "GOMP_", "KMP_")
MIN_TIMED_STEPS = 50
LOSS_CHECK_STEPS = 6  # more than workloads.MASK_PERIOD: W5's dropout masks come round again
LOSS_RTOL = 1e-4  # float32 loss agreement over the first steps, relative to max(1, |loss|)


# ---------------------------------------------------------------------------------------------
# worker side
# ---------------------------------------------------------------------------------------------

# SGEMM shapes (m, k, n) the floor runs (W1 layer 0, W2 conv2 forward and weight gradient),
# and a large square one for context.
GEMM_SHAPES = [(256, 784, 128), (16, 73, 12544), (16, 12544, 73), (512, 512, 512)]


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def gemm_times(impl: str, repeats: int = 50) -> list[dict[str, Any]]:
    """Median microseconds of one float32 matrix product per GEMM_SHAPES entry, with NumPy
    (``np.matmul``) or, in the PyTorch worker, ``torch.mm``."""
    import numpy as np

    rng = np.random.default_rng(0)
    out = []
    for m, k, n in GEMM_SHAPES:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.random((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        if impl == "torch":
            import torch

            tensors = (torch.from_numpy(a), torch.from_numpy(b))
            product = functools.partial(torch.mm, *tensors, out=torch.from_numpy(c))
        else:
            product = functools.partial(np.matmul, a, b, out=c)
        samples = []
        for i in range(repeats + 5):
            t0 = time.perf_counter()
            product()
            if i >= 5:
                samples.append(time.perf_counter() - t0)
        out.append({"shape": [m, k, n], "us": 1e6 * statistics.median(samples)})
    return out


def eval_loss(outputs: Any, y: Any) -> float:
    """Mean cross-entropy of class scores ``outputs`` (N, K) against labels ``y``, in float64
    (the same for logits and for log-probabilities, whose log-softmax they are).

    Example:
        >>> round(eval_loss([[0.0, 0.0]], [1]), 4)
        0.6931
    """
    import numpy as np

    a = np.asarray(outputs, np.float64)
    shifted = a - a.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(a)), np.asarray(y)].mean())


def worker(impl: str, spec: str, threads: int) -> None:
    """Serve one implementation of workload ``spec`` over stdin/stdout, one JSON object a line.

    Requests: ``{"cmd": "run", "steps": k, "timed": bool}`` (training steps),
    ``{"cmd": "eval", "steps": k, "timed": bool}`` (evaluation forwards), ``{"cmd": "stats"}``,
    ``{"cmd": "overhead"}`` (per-op costs), ``{"cmd": "profile", "steps": k}`` (the floor's
    breakdown), ``{"cmd": "gemm"}`` (SGEMM timings), ``{"cmd": "quit"}``. The ready message
    says whether the runner can evaluate and measure overhead, and the RSS after building.
    Anything the implementation prints goes to stderr, so stdout carries only the protocol.
    """
    import importlib
    import resource

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def reply(obj: dict[str, Any]) -> None:
        proto.write(json.dumps(obj) + "\n")

    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        from benchmarks.workloads import from_spec

        module = importlib.import_module(MODULES[impl.partition("@")[0]])
        if impl == "minigrad-reference":
            import minigrad.kernels

            minigrad.kernels.use("reference")
        limiter = threadpool_limits(threads)
        if hasattr(module, "set_threads"):
            module.set_threads(threads)
        workload = from_spec(spec)
        runner = module.build(workload["name"], workload)
    except Exception as exc:  # reported to the driver, which skips this implementation
        reply({"error": f"{type(exc).__name__}: {exc}"})
        return
    info = {
        "blas": threadpool_info(),
        "version": getattr(module, "version", lambda: "")(),
        "can_eval": hasattr(runner, "infer"),
        "can_overhead": hasattr(module, "overhead"),
        "rss_ready": rss_bytes(),
        "batch": len(workload["y"]),
    }
    reply({"ready": True, **info})
    rss_start: int | None = None
    rss_end = 0
    for line in sys.stdin:
        request = json.loads(line)
        if request["cmd"] == "run":
            if request["timed"] and rss_start is None:
                rss_start = rss_bytes()
            times, faults, losses = [], [], []
            for _ in range(request["steps"]):
                faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0 = time.perf_counter()
                try:
                    loss = runner.step()
                except Exception as exc:  # reported; the driver drops this implementation
                    reply({"error": f"{type(exc).__name__}: {exc}"})
                    return
                t1 = time.perf_counter()
                faults1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                times.append(t1 - t0)
                faults.append(faults1 - faults0)
                losses.append(loss)
            if request["timed"]:
                rss_end = rss_bytes()
            reply({"times": times, "faults": faults, "losses": losses})
        elif request["cmd"] == "eval":
            times, outputs = [], None
            for _ in range(request["steps"]):
                t0 = time.perf_counter()
                try:
                    outputs = runner.infer()
                except Exception as exc:  # reported; the driver drops this implementation
                    reply({"error": f"{type(exc).__name__}: {exc}"})
                    return
                times.append(time.perf_counter() - t0)
            loss = eval_loss(outputs, workload["y"]) if outputs is not None else None
            reply({"times": times, "losses": [loss]})
        elif request["cmd"] == "overhead":
            reply({"overhead": module.overhead()})
        elif request["cmd"] == "stats":
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
            start = rss_end if rss_start is None else rss_start
            reply({"peak_rss": peak_kb * 1024, "rss_start": start, "rss_end": rss_end})
        elif request["cmd"] == "profile":
            from benchmarks import profile_floor

            reply({"profile": profile_floor.breakdown(runner, request["steps"])})
        elif request["cmd"] == "gemm":
            reply({"gemm": gemm_times(impl)})
        else:
            break
    limiter.restore_original_limits()


# ---------------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------------


class Worker:
    """A running worker process and its replies."""

    def __init__(self, impl: str, spec: str, threads: int, env: dict[str, str]) -> None:
        if "@" in impl:  # the package as it was at a git revision, found first on the path
            env = {**env, "PYTHONPATH": os.pathsep.join([env["BASELINE_PATH"], env["PYTHONPATH"]])}
        cmd = [sys.executable, "-m", "benchmarks.train_step", "--worker", impl]
        cmd += ["--spec", spec, "--threads", str(threads)]
        self.impl = impl
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.hello = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            return {"error": f"worker exited with code {self.proc.wait()}"}
        return json.loads(line)

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its reply."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Ask the worker to quit and wait for it."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):  # the worker has already exited
            pass
        self.proc.wait(timeout=60)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def summarize(times: list[float]) -> dict[str, float]:
    """Median, min and max of step times given in seconds, in milliseconds."""
    ms = [1e3 * t for t in times]
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms)}


def check_losses(
    name: str, threads: int, losses: dict[str, list[float]], what: str = "loss"
) -> list[str]:
    """Problems found comparing every implementation's first losses (``what`` they are) with
    the floor's (or the first implementation's when the floor did not run)."""
    if not losses:
        return []
    ref_impl = "numpy" if "numpy" in losses else next(iter(losses))
    problems = []
    for impl, values in losses.items():
        pairs = zip(values[:LOSS_CHECK_STEPS], losses[ref_impl][:LOSS_CHECK_STEPS], strict=True)
        for step, (a, b) in enumerate(pairs):
            if not abs(a - b) <= LOSS_RTOL * max(1.0, abs(b)):
                problems.append(
                    f"{name} threads={threads}: {impl} {what} {a!r} at step {step} "
                    f"!= {ref_impl} {b!r}"
                )
    return problems


def start_workers(
    spec: str, threads: int, impls: list[str], env: dict[str, str]
) -> tuple[list[Worker], dict[str, str]]:
    """One worker per implementation for workload ``spec``; the ones that failed to start,
    with their errors."""
    workers, skipped = [], {}
    for impl in impls:
        w = Worker(impl, spec, threads, env)
        if "error" in w.hello:
            hint = "; install with `pip install torch==2.13.0`" if impl == "torch" else ""
            skipped[impl] = w.hello["error"] + hint
            w.close()
        else:
            workers.append(w)
    return workers, skipped


def run_config(
    spec: str, threads: int, impls: list[str], args: argparse.Namespace, env: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Interleaved rounds for one (workload, threads): evaluation forwards first (when
    ``args.eval_steps``), then training steps; results per implementation and skips.

    An implementation that fails to start, or fails while running, is dropped with its error.
    """
    workers, skipped = start_workers(spec, threads, impls, env)
    train = {w.impl: {"times": [], "faults": [], "losses": []} for w in workers}
    evals = {w.impl: {"times": [], "losses": []} for w in workers if w.hello["can_eval"]}

    def turn(request: dict[str, Any], records: dict[str, dict[str, list]]) -> None:
        for w in [w for w in workers if w.impl in records]:
            if threads > 1:
                # Idle BLAS/OpenMP threads of the previous worker spin for up to ~0.1 s before
                # they sleep; with 2 cores they would steal one from this worker's block.
                time.sleep(args.settle)
            reply = w.ask(request)
            if "error" in reply:
                skipped[w.impl] = f"failed while running: {reply['error']}"
                workers.remove(w)
                w.close()
                continue
            for key, values in reply.items():
                if request["timed"] or key == "losses":
                    records[w.impl][key] += values

    def rounds(cmd: str, steps: int, records: dict[str, dict[str, list]]) -> None:
        turn({"cmd": cmd, "steps": args.warmup, "timed": False}, records)
        for _ in range(-(-steps // args.block)):
            turn({"cmd": cmd, "steps": args.block, "timed": True}, records)

    results = []
    try:
        quiet_before = wait_until_quiet(args.quiet_wait) if args.quiet_wait > 0 else None
        meter = OtherLoad([w.proc.pid for w in workers])
        if args.eval_steps and evals:
            rounds("eval", args.eval_steps, evals)
        rounds("run", args.steps, train)
        others = meter.cpus()
        for w in workers:
            rec = train[w.impl]
            stats = w.ask({"cmd": "stats"})
            result = {
                "workload": spec,
                "threads": threads,
                "impl": w.impl,
                "version": w.hello["version"],
                "blas": w.hello["blas"],
                "batch": w.hello["batch"],
                "steps": len(rec["times"]),
                **summarize(rec["times"]),
                "times_ms": [round(1e3 * t, 4) for t in rec["times"]],
                "faults_per_step": statistics.fmean(rec["faults"]),
                "peak_rss_mb": stats["peak_rss"] / 2**20,
                "rss_ready_mb": w.hello["rss_ready"] / 2**20,
                "rss_growth_mb": (stats["rss_end"] - stats["rss_start"]) / 2**20,
                "losses": rec["losses"],  # warm-up steps first
                "other_cpus_before": quiet_before,
                "other_cpus": others,
            }
            if evals.get(w.impl, {}).get("times"):
                timing = summarize(evals[w.impl]["times"])
                result["eval"] = {
                    **timing,
                    "steps": len(evals[w.impl]["times"]),
                    "images_per_s": 1e3 * w.hello["batch"] / timing["median_ms"],
                    "loss": evals[w.impl]["losses"][0],
                }
            if w.hello["can_overhead"] and args.overhead:
                result["overhead"] = w.ask({"cmd": "overhead"})["overhead"]
            if w.impl in ("numpy", "torch") and not args.quick and args.gemm:
                result["gemm"] = w.ask({"cmd": "gemm"})["gemm"]
            if w.impl == "numpy" and args.profile_steps:
                result["profile"] = w.ask({"cmd": "profile", "steps": args.profile_steps})[
                    "profile"
                ]
            results.append(result)
    finally:
        for w in workers:
            w.close()
    return results, skipped


def export_package(revision: str) -> str:
    """A temporary folder holding the ``minigrad`` package as it was at git ``revision``."""
    import tarfile
    import tempfile

    folder = tempfile.mkdtemp(prefix="minigrad-baseline-")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "minigrad"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--impls", nargs="+", default=list(DEFAULT_IMPLS), choices=IMPLS)
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also run minigrad as it was at git revision REV, interleaved (before/after)",
    )
    parser.add_argument("--steps", type=int, default=100, help="timed steps per implementation")
    parser.add_argument(
        "--eval-steps",
        type=int,
        default=50,
        help="timed evaluation forwards per implementation (0: none)",
    )
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--block", type=int, default=10, help="steps per turn in a round")
    parser.add_argument(
        "--profile-steps", type=int, default=50, help="steps of the floor's per-layer profile"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="seconds to wait at most, before each configuration, for other work to stop",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.2,
        help="seconds to pause before each worker's turn when running more than one thread, "
        "so the previous worker's spinning BLAS threads go idle first",
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke run, writes nothing")
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        help=f"remove {' and '.join(OPENBLAS_ENV)} for the worker processes",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        help="write this run's page alone to this file, instead of rebuilding "
        "docs/benchmarks.md from every recorded result",
    )
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "train_step.json"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)  # the worker's workload
    parser.set_defaults(overhead=True, gemm=True)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.block, args.profile_steps, args.quiet_wait = 4, 2, 2, 0, 0
        args.eval_steps = min(args.eval_steps, 2)
        args.settle = 0.0
        args.no_write = True
    elif args.steps < MIN_TIMED_STEPS:
        parser.error(f"--steps must be at least {MIN_TIMED_STEPS} (or use --quick)")
    return args


def worker_env(unset_openblas_env: bool = False) -> dict[str, str]:
    """The environment of the worker processes: this one, with the repository on the path
    (and without the OpenBLAS tuning variables if asked)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if unset_openblas_env:
        for key in OPENBLAS_ENV:
            env.pop(key, None)
    return env


def environment(env: dict[str, str]) -> dict[str, Any]:
    """What a results file records about the machine and the workers' environment."""
    return {
        "machine": machine_info(),
        "openblas_env": {k: env.get(k) for k in OPENBLAS_ENV},
        "tuning_env": {k: v for k, v in sorted(env.items()) if k.startswith(TUNING_ENV_PREFIXES)},
    }


def measure(args: argparse.Namespace, argv: list[str] | None = None) -> dict[str, Any]:
    """Every (threads, workload) configuration of ``args``, interleaved: the run's record
    (what ``--json`` holds), with the loss disagreements found in ``loss_problems``."""
    env = worker_env(args.unset_openblas_env)
    impls = list(args.impls)
    if args.baseline:
        env["BASELINE_PATH"] = export_package(args.baseline)
        impls.append(f"minigrad@{args.baseline}")
    results, skipped, problems = [], {}, []
    load_start = os.getloadavg()
    for threads in args.threads:
        for name in args.workloads:
            print(f"running {name} with {threads} thread(s): {' '.join(impls)}", flush=True)
            config_results, config_skipped = run_config(name, threads, impls, args, env)
            results += config_results
            for impl, why in config_skipped.items():
                skipped.setdefault(impl, {}).setdefault(why, []).append(f"{name}/{threads}")
            losses = {r["impl"]: r["losses"] for r in config_results}
            problems += check_losses(name, threads, losses)
            eval_losses = {r["impl"]: [r["eval"]["loss"]] for r in config_results if "eval" in r}
            problems += check_losses(name, threads, eval_losses, "evaluation loss")
    return {
        "command": report.command_line(argv),
        **environment(env),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "settings": {
            k: getattr(args, k) for k in ("steps", "eval_steps", "warmup", "block", "threads")
        },
        "skipped": skipped,
        "results": results,
        "loss_problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; write markdown and JSON unless told not to."""
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.spec, args.threads[0])
        return 0
    run = measure(args, argv)
    problems = run["loss_problems"]
    text = report.markdown(run)
    print(text)
    if problems:
        print("LOSSES DISAGREE, results not written:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if not args.no_write:
        report.write_record(args.json, run)
        if args.markdown:
            args.markdown.write_text(text)
        else:
            args.markdown = report.write_page()
        print(f"wrote {args.json} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
