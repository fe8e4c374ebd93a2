"""Machine description and the markdown report of benchmarks/train_step.py.

Everything the report says about the machine and the libraries is read at run time, and every
number in it comes from the run it describes, so the page stays true when it is regenerated.

Example:
    >>> ratio(2.0, 4.0)
    '0.50x'
"""

from __future__ import annotations

import shlex
import sys
from collections import defaultdict
from typing import Any

from minigrad.bench.machine import blas_summary

IMPL_NAMES = {
    "numpy": "floor (NumPy)",
    "minigrad": "minigrad",
    "minigrad-reference": "minigrad, reference tier",
    "torch": "PyTorch",
}


def impl_name(impl: str) -> str:
    """How an implementation is named in tables (``minigrad@REV`` names itself)."""
    return IMPL_NAMES.get(impl, impl)


PROFILE_ORDER = [
    "conv GEMM",
    "conv im2col/col2im",
    "max-pool + ReLU",
    "batchnorm",
    "linear GEMM",
    "ReLU",
    "softmax cross-entropy",
    "SGD update",
    "other",
]


def command_line(argv: list[str] | None) -> str:
    """The command that reproduces this run, from the repository root."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", "benchmarks.train_step", *args])


def ratio(value: float, reference: float | None) -> str:
    """``value / reference`` formatted as ``0.50x``, or a dash without a reference."""
    return f"{value / reference:.2f}x" if reference else "-"


def results_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown rows for one thread count: timings, ratios, memory and page faults."""
    lines = [
        "| workload | implementation | median ms | min-max ms | vs floor | vs PyTorch "
        "| peak RSS MB | RSS growth MB | minor faults/step |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    by_workload: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        by_workload[r["workload"]][r["impl"]] = r
    for name, impls in by_workload.items():
        floor = impls.get("numpy", {}).get("median_ms")
        torch = impls.get("torch", {}).get("median_ms")
        for impl, r in impls.items():
            lines.append(
                f"| {name} | {impl_name(impl)} | {r['median_ms']:.2f} "
                f"| {r['min_ms']:.2f}-{r['max_ms']:.2f} | {ratio(r['median_ms'], floor)} "
                f"| {ratio(r['median_ms'], torch)} | {r['peak_rss_mb']:.0f} "
                f"| {r['rss_growth_mb']:+.1f} | {r['faults_per_step']:.0f} |"
            )
    return lines


def other_load_lines(rows: list[dict[str, Any]]) -> list[str]:
    """How many CPUs other processes used while each workload's rounds ran."""
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        seen.setdefault(r["workload"], r)
    if not seen or all(r.get("other_cpus") is None for r in seen.values()):
        return []
    parts = [f"{name} {r['other_cpus']:.2f}" for name, r in seen.items()]
    return [
        f"CPUs kept busy by other processes (and hypervisor steal) during the rounds: "
        f"{', '.join(parts)}. Well above 0, the implementations competed with other work for "
        "the cores, which disturbs the times and, on 2 threads, the ratios too."
    ]


def loss_lines(results: list[dict[str, Any]], steps: int = 5) -> list[str]:
    """The first losses of every implementation, one row per (workload, threads, impl)."""
    lines = ["| workload | threads | implementation | first losses |", "|---|--:|---|---|"]
    for r in results:
        losses = ", ".join(f"{v:.6f}" for v in r["losses"][:steps])
        lines.append(f"| {r['workload']} | {r['threads']} | {impl_name(r['impl'])} | {losses} |")
    return lines


def profile_lines(results: list[dict[str, Any]]) -> list[str]:
    """The floor's time by layer kind, one column per workload (first thread count run)."""
    profiles = {}
    for r in results:
        if "profile" in r and r["workload"] not in profiles:
            profiles[r["workload"]] = (r["threads"], r["profile"])
    if not profiles:
        return []
    kinds = PROFILE_ORDER + sorted({k for _, p in profiles.values() for k in p["kinds_ms"]})
    kinds = list(dict.fromkeys(kinds))
    head = " | ".join(f"{w} ({t} thr)" for w, (t, _) in profiles.items())
    lines = [f"| kind | {head} |", "|---|" + "--:|" * len(profiles)]
    for kind in kinds:
        if not any(p["kinds_ms"].get(kind) for _, p in profiles.values()):
            continue
        cells = []
        for _, p in profiles.values():
            ms = p["kinds_ms"].get(kind)
            cells.append(f"{100 * ms / p['total_ms']:.0f}%" if ms else "-")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    totals = " | ".join(f"{p['total_ms']:.2f} ms" for _, p in profiles.values())
    lines.append(f"| traced step | {totals} |")
    return lines


def gemm_lines(results: list[dict[str, Any]]) -> list[str]:
    """SGEMM times measured by the floor's and PyTorch's workers on the workloads' shapes."""
    rows = {}
    for r in results:
        for g in r.get("gemm", []):
            rows.setdefault((r["threads"], tuple(g["shape"])), {})[r["impl"]] = g["us"]
    if not rows:
        return []
    lines = [
        "| threads | m x k x n | NumPy (OpenBLAS) us | PyTorch us | PyTorch / NumPy |",
        "|--:|---|--:|--:|--:|",
    ]
    for (threads, shape), t in sorted(rows.items()):
        if "numpy" in t and "torch" in t:
            lines.append(
                f"| {threads} | {' x '.join(map(str, shape))} | {t['numpy']:.0f} "
                f"| {t['torch']:.0f} | {t['torch'] / t['numpy']:.2f} |"
            )
    return lines


def gemm_note(results: list[dict[str, Any]]) -> str:
    """Sentences on the measured NumPy-vs-PyTorch SGEMM speed, true to this run."""
    ratios: dict[int, dict[tuple[int, ...], dict[str, float]]] = defaultdict(dict)
    for r in results:
        for g in r.get("gemm", []):
            ratios[r["threads"]].setdefault(tuple(g["shape"]), {})[r["impl"]] = g["us"]
    parts = []
    for threads, shapes in sorted(ratios.items()):
        pairs = {s: t["torch"] / t["numpy"] for s, t in shapes.items() if len(t) == 2}
        small = [q for s, q in pairs.items() if s != (512, 512, 512)]
        if not small:
            continue
        low, high = min(small), max(small)
        verdict = (
            "faster than" if low > 1.05 else "slower than" if high < 0.95 else "about as fast as"
        )
        square = (
            f"; {pairs[(512, 512, 512)]:.2f}x on 512x512x512" if (512, 512, 512) in pairs else ""
        )
        parts.append(
            f"With {threads} thread(s) NumPy's OpenBLAS SGEMM was {verdict} the MKL inside "
            f"PyTorch: PyTorch took {low:.2f}-{high:.2f}x NumPy's time on the workloads' GEMM "
            f"shapes{square}."
        )
    return " ".join(parts) or "The SGEMM comparison needs both the floor and PyTorch in the run."


def markdown(run: dict[str, Any]) -> str:
    """The whole docs/benchmarks.md page for one run."""
    m, results = run["machine"], run["results"]
    extra = {k: v for k, v in run["tuning_env"].items() if k not in run["openblas_env"]}
    tuning = ", ".join(f"`{k}={v}`" for k, v in extra.items()) or "none"
    load = {k: ", ".join(f"{v:.2f}" for v in run["load_average"][k]) for k in ("start", "end")}
    env = ", ".join(f"`{k}={v}`" if v else f"`{k}` unset" for k, v in run["openblas_env"].items())
    threads_run = sorted({r["threads"] for r in results})
    out = [
        "# Training-step benchmark",
        "",
        "Generated by `benchmarks/train_step.py`; rerun it rather than editing this page.",
        "",
        "## What is measured",
        "",
        "One training step (zero_grad + forward + backward + SGD update, lr 0.05, momentum 0.9,",
        "float32, the same seeded batch every step) on three networks (`benchmarks/workloads.py`):",
        "",
        "- **W1** MLP 784-256-128-10 with ReLU, softmax cross-entropy, batch 128.",
        "- **W2** CNN on (64, 1, 28, 28): Conv2d(1,8,3,p=1)-ReLU-MaxPool2d(2)-"
        "Conv2d(8,16,3,p=1)-ReLU-MaxPool2d(2)-Flatten-Linear(784,10), batch 64.",
        "- **W3** W2 with BatchNorm2d (training mode) after each conv.",
        "",
        "Implementations: the **floor** (`benchmarks/reference_numpy.py`, hand-written",
        "straight-line NumPy with preallocated buffers and hand-fused layers: what a NumPy",
        "framework can approach but not beat), **minigrad** (`benchmarks/impl_minigrad.py`) and",
        "**PyTorch** on the CPU (`benchmarks/impl_torch.py`). All start from the same weights and",
        "data. Each runs in its own process; the driver interleaves them in rounds of "
        f"{run['settings']['block']} steps",
        f"(A B C A B C ...) after {run['settings']['warmup']} warm-up steps each, so machine "
        "noise hits all alike;",
        "every step is timed (median and min-max below) and its minor page faults counted",
        "(`getrusage().ru_minflt`). RSS growth is the change of resident memory over the timed",
        "steps; peak RSS is the process's high-water mark (`ru_maxrss`), import included.",
        "Threads are capped in each worker with `threadpoolctl` (and `torch.set_num_threads`).",
        "Before each configuration the driver waits (up to `--quiet-wait` seconds) for other",
        "processes to go quiet, and it records the CPUs they used while the rounds ran.",
        "",
        "Reproduce from the repository root (PyTorch is optional: `pip install torch==2.13.0`",
        "installs the CPU build; without it its rows are skipped with a note):",
        "",
        "```",
        run["command"],
        "```",
        "",
        "The floor's gradients are checked before it is timed, against central differences in",
        "float64 and against PyTorch and minigrad: `python -m benchmarks.verify_reference`.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']} ({m['vendor']}, {m['family_model']}), {m['logical_cpus']} logical "
        f"CPUs ({m['usable_cpus']} usable){', virtual machine' if m['virtualized'] else ''}; "
        f"SIMD: {', '.join(m['simd']) or 'none listed'}",
        f"- Memory: {m['mem_gib']} GiB; OS: {m['os']}",
        f"- Python {m['python']}, NumPy {m['numpy']}, PyTorch {m['torch'] or 'not installed'}, "
        f"threadpoolctl {m['threadpoolctl']}",
        f"- OpenBLAS environment of the workers: {env}",
        f"- Other allocator/threading variables set for the workers: {tuning}",
        f"- Load average (1, 5, 15 min) at the start of the run: {load['start']}, at the end: "
        f"{load['end']} (other processes competing for the {m['logical_cpus']} CPUs)",
    ]
    seen = set()
    for r in results:
        if (r["impl"], r["threads"]) in seen:
            continue
        seen.add((r["impl"], r["threads"]))
        version = f" {r['version']}" if r["version"] else ""
        out.append(
            f"- {impl_name(r['impl'])}{version}, {r['threads']} thread(s): "
            f"{blas_summary(r['blas'])}"
        )
    for impl, reasons in run["skipped"].items():
        for why, configs in reasons.items():
            where = ", ".join(configs)
            out.append(f"- {impl_name(impl)}: skipped on {where} (workload/threads): {why}")
    for threads in threads_run:
        rows = [r for r in results if r["threads"] == threads]
        out += ["", f"## Results, {threads} thread(s)", ""]
        out += results_table(rows)
        out += ["", f"Timed steps per implementation: {rows[0]['steps'] if rows else 0}."]
        out += other_load_lines(rows)
    profile = profile_lines(results)
    if profile:
        out += [
            "",
            "## Where the floor's time goes",
            "",
            "Share of the floor's step by layer kind (`python -m benchmarks.profile_floor`;",
            "the floor runs ReLU on the pooled tensor, so it is counted with max-pool in the",
            "CNNs; im2col/col2im includes the input's layout copy).",
            "",
            *profile,
        ]
    gemm = gemm_lines(results)
    out += ["", "## Notes", ""]
    out += [
        "- This is a small shared virtual machine and absolute times drift from run to run;",
        "  compare the ratios within one run.",
        "- The floor beats PyTorch partly through layout and fusion it can afford by being",
        "  hand-written for three fixed networks, and partly through the BLAS on this AMD CPU.",
        "  " + gemm_note(results),
        "  On an Intel CPU, where MKL is at home, the ratios to PyTorch could move.",
    ]
    if gemm:
        out += ["", *gemm]
    out += ["", "## Loss cross-check", "", "Same weights and data, so the losses agree:", ""]
    out += loss_lines(results)
    return "\n".join(out) + "\n"
