"""Tables, fits and log-log plots of the scaling study (benchmarks/scaling.py).

:func:`section` writes the "Scaling" section of docs/benchmarks.md from a recorded study and
:func:`plot` its figures into docs/img/; every number comes from the study's record.

Two fits summarise the curves:

* the growth exponent ``k`` of ``t ~ x**k``: the least-squares slope of ``log t`` against
  ``log x``, over all points and over the largest three (where fixed costs have faded);
* for batch size ``b``, ``t(b) = a + c*b``: ``a`` the fixed cost of a step (Python, op
  dispatch, per-call overhead), ``c`` the cost per example (BLAS and memory traffic), fitted
  by least squares on relative error; they weigh the same at the crossover ``b = a / c``.

Example:
    >>> round(growth_exponent([1, 2, 4], [3.0, 12.0, 48.0]), 6)
    2.0
    >>> a, c = fixed_and_per_example([1, 10, 100], [1.1, 2.0, 11.0])
    >>> round(a, 3), round(c, 3)
    (1.0, 0.1)
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import heading, impl_name
from minigrad.bench.machine import blas_summary

COLORS = {"numpy": "tab:gray", "minigrad": "tab:blue", "torch": "tab:orange"}


def num(value: float) -> str:
    """A measurement with three significant digits, without an exponent.

    Example:
        >>> num(3370.2), num(18.24), num(0.2891)
        ('3,370', '18.2', '0.289')
    """
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def growth_exponent(xs: list[float], ys: list[float]) -> float:
    """Slope of the least-squares line through ``(log x, log y)``."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def fixed_and_per_example(batches: list[float], times: list[float]) -> tuple[float, float]:
    """``(a, c)`` of ``t = a + c*b`` minimising the squared relative error ``(a + c*b)/t - 1``."""
    t = np.asarray(times, float)
    design = np.stack([np.ones_like(t), np.asarray(batches, float)], axis=1) / t[:, None]
    (a, c), *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    return float(a), float(c)


def series(rows: list[dict[str, Any]], x: str, value: str = "median_ms") -> dict[Any, Any]:
    """``{(family, threads, impl): ([x...], [value...])}``, sorted by x."""
    out: dict[Any, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for r in sorted(rows, key=lambda r: r[x]):
        xs, ys = out[(r["family"], r["threads"], r["impl"])]
        xs.append(r[x])
        ys.append(r[value])
    return dict(out)


def impls_in(rows: list[dict[str, Any]]) -> list[str]:
    """The implementations present, in the study's order."""
    return list(dict.fromkeys(r["impl"] for r in rows))


def grid(rows: list[dict[str, Any]], x: str, cell: Any, threads: int = 1) -> list[str]:
    """A table with one row per (family, x) and one column per implementation."""
    impls = impls_in(rows)
    lines = [
        f"| workload | {x} | " + " | ".join(impl_name(i) for i in impls) + " |",
        "|---|--:|" + "--:|" * len(impls),
    ]
    table: dict[tuple[str, int], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        if r["threads"] == threads:
            table[(r["family"], r[x])][r["impl"]] = r
    for (family, value), by_impl in sorted(table.items()):
        cells = [cell(by_impl[i], by_impl) if i in by_impl else "-" for i in impls]
        lines.append(f"| {family} | {value} | " + " | ".join(cells) + " |")
    return lines


def exponent_lines(rows: list[dict[str, Any]], x: str) -> list[str]:
    """Growth exponents of the step time against ``x`` per implementation."""
    lines = [
        f"| implementation | exponent, all {x}s | exponent, largest three |",
        "|---|--:|--:|",
    ]
    for (_, _, impl), (xs, ys) in series(rows, x).items():
        lines.append(
            f"| {impl_name(impl)} | {growth_exponent(xs, ys):.2f} "
            f"| {growth_exponent(xs[-3:], ys[-3:]):.2f} |"
        )
    return lines


def overhead_fit_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The fixed and per-example cost of a step, and where they weigh the same (1 thread)."""
    lines = [
        "| workload | implementation | fixed cost a, ms/step | per example c, us "
        "| crossover batch a/c |",
        "|---|---|--:|--:|--:|",
    ]
    for (family, threads, impl), (batches, times) in series(rows, "batch").items():
        if threads != 1:
            continue
        a, c = fixed_and_per_example(batches, times)
        crossover = f"{a / c:.0f}" if a > 0 and c > 0 else "-"
        lines.append(f"| {family} | {impl_name(impl)} | {a:.3f} | {1e3 * c:.1f} | {crossover} |")
    return lines


def ratio_cell(value: str, reference: str) -> Any:
    """A table cell: ``value`` of a row, and its ratio to the ``reference`` implementation's."""

    def cell(r: dict[str, Any], by_impl: dict[str, dict[str, Any]]) -> str:
        ref = by_impl.get(reference)
        text = num(r[value])
        if ref and r["impl"] != reference:
            text += f" ({r[value] / ref[value]:.2f}x)"
        return text

    return cell


def per_example_cell(r: dict[str, Any], by_impl: dict[str, dict[str, Any]]) -> str:
    """Microseconds per example, and the ratio to the floor's."""
    us = 1e3 * r["median_ms"] / r["batch"]
    floor = by_impl.get("numpy")
    ratio = f" ({r['median_ms'] / floor['median_ms']:.2f}x)" if floor and r is not floor else ""
    return f"{num(us)}{ratio}"


def speedups(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[int, float]]:
    """``{(family, impl): {batch: step time on 1 thread / on 2 threads}}``."""
    times = {(r["family"], r["batch"], r["impl"], r["threads"]): r["median_ms"] for r in rows}
    out: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for (family, batch, impl, threads), two in sorted(times.items()):
        one = times.get((family, batch, impl, 1))
        if threads == 2 and one:
            out[(family, impl)][batch] = one / two
    return dict(out)


def speedup_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The speed-up from a second thread per (workload, batch), one column per impl."""
    gains = speedups(rows)
    impls = impls_in(rows)
    lines = [
        "| workload | batch | " + " | ".join(impl_name(i) for i in impls) + " |",
        "|---|--:|" + "--:|" * len(impls),
    ]
    for family, batch in sorted({(f, b) for (f, _), by in gains.items() for b in by}):
        cells = [gains.get((family, i), {}).get(batch) for i in impls]
        text = [f"{g:.2f}x" if g else "-" for g in cells]
        lines.append(f"| {family} | {batch} | " + " | ".join(text) + " |")
    return lines


def machine_lines(study: dict[str, Any]) -> list[str]:
    """What the study ran on: CPU, BLAS kernels, load."""
    m = study["machine"]
    rows = [r for part in ("batch", "width", "depth") for r in study[part]]
    versions = {r["impl"]: (r["version"], r["blas"]) for r in rows}
    load = {k: ", ".join(f"{v:.2f}" for v in study["load_average"][k]) for k in ("start", "end")}
    others = [r["other_cpus"] for r in rows if r.get("other_cpus") is not None]
    lines = [
        f"- Run on {m['date']}, {study['duration_s'] / 60:.0f} minutes: `{study['command']}`",
        f"- CPU: {m['cpu']}, {m['logical_cpus']} logical CPUs"
        f"{', virtual machine' if m['virtualized'] else ''}; SIMD: {', '.join(m['simd'])}",
    ]
    for impl, (version, blas) in versions.items():
        # PyTorch's version names its own BLAS (MKL) and CPU kernels; NumPy's is OpenBLAS
        kernels = "" if impl == "torch" else f": {blas_summary(blas, numpy_only=True)}"
        lines.append(f"- {impl_name(impl)} {version}{kernels}")
    lines.append(
        f"- Load average (1, 5, 15 min) at the start: {load['start']}, at the end: "
        f"{load['end']}; CPUs kept busy by other processes while the configurations ran: "
        f"{np.mean(others):.2f} on average, {max(others):.2f} at most"
        if others
        else f"- Load average at the start: {load['start']}, at the end: {load['end']}"
    )
    return lines


def section(study: dict[str, Any]) -> list[str]:
    """The "Scaling" section of docs/benchmarks.md, from a recorded study."""
    batch, width, depth = study["batch"], study["width"], study["depth"]
    out = heading(2, "Scaling")
    out += [
        "How a training step's cost grows with batch size, width, depth and threads,",
        "measured by `benchmarks/scaling.py` with the same interleaved workers as above",
        "(medians; the timed steps per configuration follow its FLOP count). Plots are",
        "log-log.",
        "",
        *machine_lines(study),
    ]
    for impl, reasons in study["skipped"].items():
        for why, configs in reasons.items():
            out.append(f"- {impl_name(impl)}: skipped on {', '.join(configs)}: {why}")
    out += heading(3, "Cost per example vs batch size")
    out += [
        "Microseconds per example of a training step on 1 thread (in brackets: the ratio to",
        "the floor's step time).",
        "",
        "![cost per example vs batch size](img/scaling_batch.png)",
        "",
        *grid(batch, "batch", per_example_cell),
        "",
        "Fit of the step time `t(b) = a + c*b`: below the crossover batch the fixed cost of a",
        "step (Python, dispatch and call overhead) dominates, above it the cost per example",
        "(BLAS and memory traffic).",
        "",
        *overhead_fit_lines(batch),
    ]
    if any(r["threads"] == 2 for r in batch):
        out += heading(3, "1 vs 2 threads")
        out += [
            "Speed-up of the step from a second thread (step time on 1 thread over 2).",
            "",
            "![speed-up from a second thread](img/scaling_threads.png)",
            "",
            *speedup_lines(batch),
        ]
    out += heading(3, "Peak memory per step vs batch size")
    out += [
        "Memory a training step adds, in MB: peak RSS minus the RSS once the model and the",
        "batch are built (activations, gradients, optimizer state, workspaces; a fresh worker",
        "per configuration, 1 thread). In brackets: the ratio to PyTorch's.",
        "",
        "![memory per step vs batch size](img/scaling_memory.png)",
        "",
        *grid(batch, "batch", ratio_cell("step_memory_mb", "torch")),
    ]
    for rows, x, title in ((width, "width", "Cost vs width"), (depth, "depth", "Cost vs depth")):
        if not rows:
            continue
        fixed = (
            f"{rows[0]['depth']} Linear layers `784-w-...-w-10`"
            if x == "width"
            else f"width {rows[0]['width']} and `depth` Linear layers"
        )
        out += heading(3, title)
        out += [
            f"MLP with {fixed}, batch {rows[0]['batch']}, 1 thread: step time",
            "in ms (in brackets: the ratio to the floor's), and the growth exponent of the step",
            f"time with {x}.",
            "",
            f"![step time vs {x}](img/scaling_{x}.png)",
            "",
            *grid(rows, x, ratio_cell("median_ms", "numpy")),
            "",
            *exponent_lines(rows, x),
        ]
    out += [
        "",
        "Every configuration's first losses agreed across the implementations (the study",
        "stops, writing nothing, when they do not).",
    ]
    return out


def plot(study: dict[str, Any], folder: Path) -> list[Path]:
    """Write the study's log-log figures to ``folder``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    families = sorted({r["family"] for r in study["batch"]})
    figures = {
        "batch": (study["batch"], "batch", "median_ms", "us per example", True),
        "memory": (study["batch"], "batch", "step_memory_mb", "MB added by a step", False),
        "width": (study["width"], "width", "median_ms", "ms per step", False),
        "depth": (study["depth"], "depth", "median_ms", "ms per step", False),
    }
    paths = []
    for name, (rows, x, value, label, per_example) in figures.items():
        panels = families if name in ("batch", "memory") else ["MLP"]
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
        for ax, family in zip(axes[0], panels, strict=True):
            for (fam, threads, impl), (xs, ys) in series(rows, x, value).items():
                if fam != family or threads != 1:
                    continue
                ys = [1e3 * y / b for y, b in zip(ys, xs, strict=True)] if per_example else ys
                ys = [max(y, 1e-2) for y in ys]  # a log axis cannot show 0 MB
                ax.plot(xs, ys, "o-", color=COLORS.get(impl), label=impl_name(impl))
            ax.set(xscale="log", yscale="log", xlabel=x, ylabel=label, title=family)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        paths.append(save(fig, folder / f"scaling_{name}.png"))
    gains = speedups(study["batch"])
    if gains:
        fig, axes = plt.subplots(1, len(families), figsize=(5 * len(families), 3.6), squeeze=False)
        for ax, family in zip(axes[0], families, strict=True):
            for (fam, impl), by_batch in gains.items():
                if fam == family:
                    xs = sorted(by_batch)
                    ys = [by_batch[b] for b in xs]
                    ax.plot(xs, ys, "o-", color=COLORS.get(impl), label=impl_name(impl))
            ax.axhline(1.0, color="black", lw=0.8)
            ax.set(xscale="log", xlabel="batch", ylabel="speed-up, 2 threads vs 1", title=family)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        paths.append(save(fig, folder / "scaling_threads.png"))
    return paths


def save(fig: Any, path: Path) -> Path:
    """Save and close a figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
