"""The markdown report of benchmarks/train_step.py, and docs/benchmarks.md built from every
recorded result (``python -m benchmarks.report`` rebuilds it without running anything).

Everything the report says about the machine and the libraries is read at run time, and every
number in it comes from the run it describes, so the page stays true when it is regenerated.

Example:
    >>> ratio(2.0, 4.0)
    '0.50x'
"""

from __future__ import annotations

import json
import shlex
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from minigrad.bench.machine import blas_summary

ROOT = Path(__file__).resolve().parent.parent

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
    "dropout",
    "ReLU",
    "softmax cross-entropy",
    "SGD update",
    "other",
]


def command_line(argv: list[str] | None, module: str = "benchmarks.train_step") -> str:
    """The command that reproduces this run of ``module``, from the repository root.

    Example:
        >>> command_line(["--quick"], "benchmarks.scaling")
        'python -m benchmarks.scaling --quick'
    """
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", module, *args])


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write a benchmark run's record to ``path`` as indented JSON, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")


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


def loss_lines(results: list[dict[str, Any]], steps: int = 6) -> list[str]:
    """The first training losses of every implementation, and the loss of its evaluation
    outputs when it ran them, one row per (workload, threads, impl)."""
    lines = [
        "| workload | threads | implementation | first losses | evaluation loss |",
        "|---|--:|---|---|--:|",
    ]
    for r in results:
        losses = ", ".join(f"{v:.6f}" for v in r["losses"][:steps])
        evaluation = f"{r['eval']['loss']:.6f}" if "eval" in r else "-"
        lines.append(
            f"| {r['workload']} | {r['threads']} | {impl_name(r['impl'])} | {losses} "
            f"| {evaluation} |"
        )
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


def eval_lines(results: list[dict[str, Any]]) -> list[str]:
    """Evaluation-forward throughput per (workload, threads), against PyTorch's."""
    rows = [r for r in results if "eval" in r]
    if not rows:
        return []
    lines = [
        "| workload | threads | implementation | batch | median ms | images/s | vs PyTorch |",
        "|---|--:|---|--:|--:|--:|--:|",
    ]
    torch = {(r["workload"], r["threads"]): r["eval"] for r in rows if r["impl"] == "torch"}
    for r in rows:
        e, ref = r["eval"], torch.get((r["workload"], r["threads"]))
        speed = f"{e['images_per_s'] / ref['images_per_s']:.2f}x" if ref else "-"
        lines.append(
            f"| {r['workload']} | {r['threads']} | {impl_name(r['impl'])} | {r['batch']} "
            f"| {e['median_ms']:.2f} | {e['images_per_s']:,.0f} | {speed} |"
        )
    return lines


OVERHEAD_COLUMNS = {
    "apply_us": "`Function.apply`",
    "apply_no_grad_us": "the same, `no_grad`",
    "operator_us": "`a * b`",
    "backward_node_us": "backward, per node",
}


def overhead_lines(results: list[dict[str, Any]]) -> list[str]:
    """The per-op costs each worker measured: the fastest over the run's configurations."""
    best: dict[str, dict[str, float]] = {}
    for r in results:
        costs = best.setdefault(r["impl"], {})
        for key, us in r.get("overhead", {}).items():
            costs[key] = min(us, costs.get(key, us))
    best = {impl: costs for impl, costs in best.items() if costs}
    if not best:
        return []
    head = " | ".join(f"{title} us" for title in OVERHEAD_COLUMNS.values())
    lines = [f"| implementation | {head} |", "|---|" + "--:|" * len(OVERHEAD_COLUMNS)]
    for impl, costs in best.items():
        cells = " | ".join(f"{costs[key]:.1f}" for key in OVERHEAD_COLUMNS)
        lines.append(f"| {impl_name(impl)} | {cells} |")
    return lines


def heading(level: int, text: str) -> list[str]:
    """A Markdown heading between blank lines."""
    return ["", "#" * level + " " + text, ""]


def page_header(workloads: list[str]) -> list[str]:
    """Title and what the benchmark measures, for the workloads shown."""
    described = {
        "W1": "- **W1** MLP 784-256-128-10 with ReLU, softmax cross-entropy, batch 128.",
        "W2": "- **W2** CNN on (64, 1, 28, 28): Conv2d(1,8,3,p=1)-ReLU-MaxPool2d(2)-"
        "Conv2d(8,16,3,p=1)-ReLU-MaxPool2d(2)-Flatten-Linear(784,10), batch 64.",
        "W3": "- **W3** W2 with BatchNorm2d (training mode) after each conv.",
        "W4": "- **W4** LeNet-5 on (128, 1, 28, 28): Conv2d(1,6,5,p=2)-ReLU-MaxPool2d(2)-"
        "Conv2d(6,16,5)-ReLU-MaxPool2d(2)-Flatten-Linear(400,120)-ReLU-Linear(120,84)-ReLU-"
        "Linear(84,10), batch 128 (ReLU and max-pooling, as PyTorch's tutorial writes LeNet).",
        "W5": "- **W5** the network of PyTorch's MNIST example (`mnist/main.py` of "
        "pytorch/examples at 77f55b9) on (64, 1, 28, 28): Conv2d(1,32,3)-ReLU-Conv2d(32,64,3)-"
        "ReLU-MaxPool2d(2)-Dropout(0.25)-Flatten-Linear(9216,128)-ReLU-Dropout(0.5)-"
        "Linear(128,10)-LogSoftmax with NLL loss, batch 64. Dropout multiplies by masks the "
        "workload supplies (step k uses mask k mod 4), the same in every implementation, so "
        "the losses agree step by step; evaluation mode skips it.",
    }
    return [
        "# Training-step benchmark",
        "",
        "Generated by `benchmarks/train_step.py` and `benchmarks/scaling.py` from the results",
        "they record in `benchmarks/results/`; rerun them (or `python -m benchmarks.report`)",
        "rather than editing this page.",
        "",
        "## What is measured",
        "",
        "One training step (zero_grad + forward + backward + SGD update, lr 0.05, momentum 0.9,",
        "float32, the same seeded batch every step) on these networks (`benchmarks/workloads.py`):",
        "",
        *[described[w] for w in workloads if w in described],
        "",
        "Implementations: the **floor** (`benchmarks/reference_numpy.py` for W1-W3,",
        "`benchmarks/reference_numpy_mnist.py` for W4, W5 and the scaling MLPs: hand-written",
        "straight-line NumPy with preallocated buffers and hand-fused layers, written before the",
        "other implementations and frozen: what a NumPy framework can approach but not beat),",
        "**minigrad** (`benchmarks/impl_minigrad.py`) and **PyTorch** on the CPU",
        "(`benchmarks/impl_torch.py`). All start from the same weights and data. Each runs in its",
        "own process; the driver interleaves them in rounds (A B C A B C ...) after warm-up steps,",
        "so machine noise hits all alike; every step is timed (median and min-max below) and its",
        "minor page faults counted (`getrusage().ru_minflt`). RSS growth is the change of",
        "resident memory over the timed steps; peak RSS is the process's high-water mark",
        "(`ru_maxrss`), import included. Threads are capped in each worker with `threadpoolctl`",
        "(and `torch.set_num_threads`). Before each configuration the driver waits (up to",
        "`--quiet-wait` seconds) for other processes to go quiet, and it records the CPUs they",
        "used while the rounds ran.",
        "",
        "**Evaluation throughput** is the forward pass alone in evaluation mode (`eval()`, under",
        "`no_grad`) on the workload's batch, timed the same way before the training rounds; the",
        "floor has an evaluation forward for W4 and W5. The **per-op overhead budget** is each",
        "library's fixed cost per operation on 2x2 tensors (`benchmarks/overhead.py`): a trivial",
        "`Function.apply` recording the graph, the same under `no_grad`, the operator `a * b`,",
        "and the engine's cost per node of a backward; the fastest of 15 chains of 200 ops.",
        "",
        "The floor's gradients are checked before it is timed, against central differences in",
        "float64 and against PyTorch and minigrad: `python -m benchmarks.verify_reference`.",
    ]


def run_lines(run: dict[str, Any], level: int = 2, workloads: list[str] | None = None) -> list[str]:
    """One recorded run (restricted to ``workloads``): machine, results, evaluation
    throughput, overhead budget, the floor's profile, notes and the loss cross-check, under
    headings of ``level``."""
    m = run["machine"]
    results = [r for r in run["results"] if workloads is None or r["workload"] in workloads]
    extra = {k: v for k, v in run["tuning_env"].items() if k not in run["openblas_env"]}
    tuning = ", ".join(f"`{k}={v}`" for k, v in extra.items()) or "none"
    load = {k: ", ".join(f"{v:.2f}" for v in run["load_average"][k]) for k in ("start", "end")}
    env = ", ".join(f"`{k}={v}`" if v else f"`{k}` unset" for k, v in run["openblas_env"].items())
    settings = run["settings"]
    out = heading(level, "Machine and run")
    out += [
        "Reproduce from the repository root (PyTorch is optional: `pip install torch==2.13.0`",
        "installs the CPU build; without it its rows are skipped with a note):",
        "",
        "```",
        run["command"],
        "```",
        "",
        f"- Run{' on ' + m['date'] if m.get('date') else ''}: {settings['warmup']} warm-up "
        f"steps, then rounds of {settings['block']} steps per implementation",
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
    for threads in sorted({r["threads"] for r in results}):
        rows = [r for r in results if r["threads"] == threads]
        out += heading(level, f"Results, {threads} thread(s)")
        out += results_table(rows)
        out += ["", f"Timed steps per implementation: {rows[0]['steps'] if rows else 0}."]
        out += other_load_lines(rows)
    evaluation = eval_lines(results)
    if evaluation:
        out += heading(level, "Evaluation throughput")
        out += [
            "Forward only, `eval()` mode under `no_grad`, on the workload's batch; images per",
            "second from the median time.",
            "",
            *evaluation,
        ]
    overhead = overhead_lines(results)
    if overhead:
        out += heading(level, "Per-op overhead budget")
        out += [
            "Microseconds per operation on 2x2 float32 tensors, where the arithmetic is free:",
            "the fixed cost every op of a step pays, whatever its size (fastest of the run's",
            "measurements).",
            "",
            *overhead,
        ]
    profile = profile_lines(results)
    if profile:
        out += heading(level, "Where the floor's time goes")
        out += [
            "Share of the floor's step by layer kind (`python -m benchmarks.profile_floor`;",
            "the floor runs ReLU on the pooled tensor, so it is counted with max-pool in the",
            "CNNs; im2col/col2im includes the input's layout copy).",
            "",
            *profile,
        ]
    gemm = gemm_lines(results)
    out += heading(level, "Notes")
    out += [
        "- This is a small shared virtual machine and absolute times drift from run to run;",
        "  compare the ratios within one run.",
        "- The floor beats PyTorch partly through layout and fusion it can afford by being",
        "  hand-written for fixed networks, and partly through the BLAS on this AMD CPU.",
        "  " + gemm_note(results),
        "  On an Intel CPU, where MKL is at home, the ratios to PyTorch could move.",
    ]
    if gemm:
        out += ["", *gemm]
    out += heading(level, "Loss cross-check")
    out += ["Same weights and data, so the losses agree:", ""]
    out += loss_lines(results)
    return out


def markdown(run: dict[str, Any]) -> str:
    """The page of one run alone (what ``train_step --markdown PATH`` writes)."""
    workloads = list(dict.fromkeys(r["workload"] for r in run["results"]))
    return "\n".join(page_header(workloads) + run_lines(run)) + "\n"


def page(runs: list[dict[str, Any]], after: list[str]) -> str:
    """docs/benchmarks.md: the first run whole, then from each later run the workloads no
    earlier run covered (a separate section each), then the lines ``after`` (the ratios
    across repeated runs, the scaling study)."""
    covered: list[str] = []
    body: list[str] = []
    for i, run in enumerate(runs):
        workloads = list(dict.fromkeys(r["workload"] for r in run["results"]))
        new = [w for w in workloads if w not in covered]
        if not new:
            continue
        if i == 0:
            body += run_lines(run)
        else:
            body += heading(2, f"Separate run: {', '.join(new)}")
            body += [
                f"These workloads come from a separate run (`{run['command']}`), recorded in",
                "its own results file; compare ratios within it, not its times with the run",
                "above.",
            ]
            body += run_lines(run, 3, new)
        covered += new
    return "\n".join(page_header(covered) + body + after) + "\n"


def floor_ratios(run: dict[str, Any], impl: str, threads: int = 1) -> dict[str, float]:
    """Workload -> ``impl``'s median step time over the floor's, in one run at ``threads``."""
    medians = {
        (r["workload"], r["impl"]): r["median_ms"]
        for r in run["results"]
        if r["threads"] == threads
    }
    return {
        w: medians[w, impl] / medians[w, "numpy"]
        for w, i in medians
        if i == impl and (w, "numpy") in medians
    }


def repeat_lines(runs: list[dict[str, Any]]) -> list[str]:
    """minigrad's and PyTorch's 1-thread times over the floor's in each of ``runs`` (the main
    run and its repeats), with the median of the runs: the ratios swing between runs on a
    shared machine, so a target is judged on the median."""
    lines = heading(2, f"Across {len(runs)} runs, 1 thread")
    lines += [
        "Each run interleaves the three implementations afresh (the first is the run above;",
        "the others are recorded in `benchmarks/results/train_step_repeat*.json`, made with",
        "`--threads 1`). Step time over the floor's, run by run, and the median of the runs:",
        "",
        "| workload | implementation | "
        + " | ".join(f"run {i + 1}" for i in range(len(runs)))
        + " | median |",
        "|---|---|" + "--:|" * (len(runs) + 1),
    ]
    for impl in ("minigrad", "torch"):
        per_run = [floor_ratios(run, impl) for run in runs]
        for w in sorted(set.intersection(*(set(r) for r in per_run))):
            values = [r[w] for r in per_run]
            cells = " | ".join(f"{v:.2f}x" for v in values)
            median = statistics.median(values)
            lines.append(f"| {w} | {impl_name(impl)} | {cells} | {median:.2f}x |")
    return [*lines, ""]


README_NAMES = {
    "W1": "MLP 784-256-128-10, batch 128",
    "W2": "CNN (2 conv + pool), batch 64",
    "W3": "the same CNN with BatchNorm",
    "W4": "LeNet-5, batch 128",
    "W5": "PyTorch's MNIST example network, batch 64",
}
README_START = "<!-- speed table: written by python -m benchmarks.report -->"
README_END = "<!-- end of speed table -->"


def readme_table(run: dict[str, Any], repeats: list[dict[str, Any]]) -> list[str]:
    """The README's speed table: the main run's 1-thread medians, and minigrad's time over the
    floor's as the median of the main run and its repeats."""
    medians = {
        (r["workload"], r["impl"]): r["median_ms"] for r in run["results"] if r["threads"] == 1
    }
    ratios = [floor_ratios(r, "minigrad") for r in (run, *repeats)]
    lines = [
        "| network | minigrad | PyTorch 2.13 CPU | hand-written NumPy floor "
        f"| minigrad / floor, median of {len(ratios)} runs |",
        "|---|--:|--:|--:|--:|",
    ]
    for w, name in README_NAMES.items():
        if (w, "minigrad") not in medians:
            continue
        times = [medians.get((w, impl)) for impl in ("minigrad", "torch", "numpy")]
        cells = " | ".join(f"{t:.2f} ms" if t else "-" for t in times)
        across = statistics.median(r[w] for r in ratios if w in r)
        lines.append(f"| {name} | {cells} | {across:.2f}x |")
    return lines


def recorded_runs(root: Path = ROOT) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The recorded training-step runs: ``train_step.json`` then the other ``train_step_*.json``
    (which may add workloads), and the repeats of the main run (``train_step_repeat*.json``)."""
    folder = root / "benchmarks" / "results"
    repeat_files = sorted(folder.glob("train_step_repeat*.json"))
    files = [folder / "train_step.json", *sorted(folder.glob("train_step_*.json"))]
    runs = [json.loads(f.read_text()) for f in files if f.exists() and f not in repeat_files]
    return runs, [json.loads(f.read_text()) for f in repeat_files]


def write_page(root: Path = ROOT) -> Path:
    """Rebuild docs/benchmarks.md from ``benchmarks/results/``: ``train_step.json``, then the
    workloads of ``train_step_*.json`` it does not cover, the ratios across the main run and
    its repeats, then ``scaling.json``.

    Returns the page's path.
    """
    runs, repeats = recorded_runs(root)
    folder = root / "benchmarks" / "results"
    scaling_file = folder / "scaling.json"
    after = repeat_lines(runs[:1] + repeats) if runs and repeats else []
    if scaling_file.exists():
        from benchmarks import scaling_report

        after += scaling_report.section(json.loads(scaling_file.read_text()))
    path = root / "docs" / "benchmarks.md"
    path.write_text(page(runs, after))
    return path


def readme_with_table(text: str, table: list[str]) -> str:
    """``text`` (the README) with the lines between its speed-table markers replaced."""
    head, start, rest = text.partition(README_START + "\n")
    _, end, tail = rest.partition(README_END)
    if not start or not end:
        raise ValueError(f"README.md lacks the markers {README_START!r} ... {README_END!r}")
    return head + start + "\n".join(table) + "\n" + end + tail


def write_readme(root: Path = ROOT) -> Path:
    """Regenerate the README's speed table from the recorded main run and its repeats."""
    runs, repeats = recorded_runs(root)
    path = root / "README.md"
    path.write_text(readme_with_table(path.read_text(), readme_table(runs[0], repeats)))
    return path


def main() -> int:
    """``python -m benchmarks.report``: rebuild docs/benchmarks.md and the README's speed table
    from the recorded results."""
    print(f"wrote {write_page()} and {write_readme()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
