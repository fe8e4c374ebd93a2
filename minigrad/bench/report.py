"""Reporting for ``python -m minigrad bench numdiff``: the machine, the table, the plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.bench.machine import blas_summary

if TYPE_CHECKING:
    from minigrad.bench.numdiff import NumdiffRow

STEADY = (0.67, 1.5)  # steadiness outside this range: the machine was busy, say so


def _ratio_label(ratio: float) -> str:
    """``71x`` or ``1.2x10^3`` (mathtext) for the plot."""
    if ratio < 1e3:
        return f"{ratio:.0f}×"
    exponent = int(np.floor(np.log10(ratio)))
    return rf"${ratio / 10**exponent:.1f}\times10^{{{exponent}}}$"


def _num(value: float) -> str:
    """Three significant digits, without exponent noise below 10,000."""
    return f"{value:,.0f}" if 100 <= value < 1e4 else f"{value:.3g}".replace("e+0", "e")


def markdown(rows: Sequence[NumdiffRow], info: dict[str, Any], settings: dict[str, Any]) -> str:
    """The result table and a one-line note on the machine, the method and the command.

    Example:
        >>> from minigrad.bench.machine import machine_info
        >>> settings = {"batch": 8, "repeats": 3, "warmup": 2, "eps": 1e-5}
        >>> md = markdown([], machine_info(), settings)
        >>> md.splitlines()[0].split(" | ")[:3]
        ['| network', 'P', 'forward ms']
    """
    lines = [
        "| network | P | forward ms | backprop ms | numerical s | numerical measured on "
        "| ratio numerical/backprop | max abs diff | max rel diff | median rel diff |",
        "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|",
    ]
    for r in rows:
        measured = (
            f"extrapolated from {r.differentiated:,} of {r.params:,} parameters"
            if r.extrapolated
            else f"all {r.params:,} parameters"
        )
        lines.append(
            f"| {r.network} | {r.params:,} | {r.forward_ms:.3g} | {r.backprop_ms:.3g} "
            f"| {_num(r.numerical_s)} | {measured} | {_num(r.ratio)} | {r.max_abs_diff:.1e} "
            f"| {r.max_rel_diff:.1e} | {r.median_rel_diff:.1e} |"
        )
    command = settings.get("command")
    warning = unsteady(rows)
    note = (
        f"{info['cpu']}, {info['logical_cpus']} logical CPUs, Python {info['python']}, "
        f"NumPy {info['numpy']}, {blas_summary(info['blas'], numpy_only=True)}, "
        f"{info['date'][:10]}. "
        f"float64, batch {settings['batch']}, cross-entropy on seeded N(0, 1) inputs; forward "
        f"(no graph) and backprop (forward + backward) are medians of {settings['repeats']} "
        f"runs after {settings['warmup']} warm-ups; numerical is one pass of central differences "
        f"(eps {settings['eps']:g}, two forward passes per parameter)"
        + (f". Command: `{command}`" if command else "")
        + (f". **{warning}**" if warning else "")
    )
    return "\n".join(lines) + "\n\n" + note + ".\n"


def unsteady(rows: Sequence[NumdiffRow]) -> str | None:
    """A warning when a forward pass inside numerical differentiation took much more (or
    less) time than the median forward: the machine was busy, the timings are unreliable.

    Example:
        >>> unsteady([]) is None
        True
    """
    bad = [r for r in rows if not STEADY[0] <= r.steadiness <= STEADY[1]]
    if not bad:
        return None
    cases = ", ".join(f"{r.network}: {r.steadiness:.2g}x" for r in bad)
    return (
        "Unsteady timings: a forward pass inside numerical differentiation took a different "
        f"time than the median forward pass ({cases}); the machine was probably busy, rerun it"
    )


def write_plot(rows: Sequence[NumdiffRow], path: str | Path, subtitle: str = "") -> str | None:
    """Log-log time against P for both methods with a slope-1 reference line, as a PNG.

    Returns None, or a note saying why nothing was written (matplotlib is not installed).

    Example:
        >>> write_plot([], "numdiff.png")
        'no rows to plot'
    """
    if not rows:
        return "no rows to plot"
    try:
        from matplotlib.figure import Figure  # no pyplot: the global backend is left alone
    except ImportError:
        from minigrad._extras import install_hint

        return install_hint("the plot", "plot")
    rows = sorted(rows, key=lambda r: r.params)
    p = np.array([r.params for r in rows], dtype=float)
    numerical = np.array([r.numerical_s for r in rows])
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.add_subplot()
    slope = np.polyfit(np.log(p), np.log(numerical), 1)[0] if len(rows) > 1 else float("nan")
    label = f"numerical: central differences (fitted slope {slope:.2f})"
    ax.loglog(p, numerical, "-", color="C3", label=label)
    ax.loglog(p, [1e-3 * r.backprop_ms for r in rows], "s-", color="C0", label="backprop")
    ax.loglog(p, [1e-3 * r.forward_ms for r in rows], ".--", color="0.5", label="one forward pass")
    forward_s = np.array([1e-3 * r.forward_ms for r in rows])
    ax.loglog(p, 2 * p * forward_s, ":", color="C3", lw=1.5, label="2P × one forward pass")
    # slope 1 from the smallest net: where the forward pass is mostly fixed overhead
    ax.loglog(p, numerical[0] * p / p[0], ":", color="k", lw=1, label="slope 1: time ∝ P")
    for r in rows:
        ax.plot(
            r.params, r.numerical_s, "o", color="C3", ms=7, mfc="white" if r.extrapolated else "C3"
        )
        ax.annotate(
            _ratio_label(r.ratio),
            (r.params, r.numerical_s),
            textcoords="offset points",
            xytext=(-8, 5),
            ha="right",
            fontsize=8,
            color="C3",
        )
    ax.plot([], [], "o", color="C3", label="measured on all parameters")
    if any(r.extrapolated for r in rows):
        ax.plot([], [], "o", color="C3", mfc="white", label="extrapolated from a random subset")
    ax.set_xlabel("parameters P")
    ax.set_ylabel("time for one full gradient (s)")
    ax.set_xlim(p[0] / 2, p[-1] * 3)
    title = "One full gradient: backprop vs numerical differentiation"
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        fontsize=8,
        title="numbers: numerical time / backprop time",
        title_fontsize=8,
        loc="lower right",
        bbox_to_anchor=(1, 0.22),
    )
    fig.savefig(path, dpi=120)
    return None
