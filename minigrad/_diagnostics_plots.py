"""The plots of :class:`minigrad.diagnostics.Diagnostics` (matplotlib, imported here only).

Figures are made with ``matplotlib.figure.Figure`` directly, never through pyplot, so drawing
them changes no global matplotlib state (backend, open figures).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

COLUMNS = 4


def plot_all(diag: Any, folder: Path, prefix: str) -> list[Path]:
    """Write the four plots of ``diag`` into ``folder``; the paths written."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("Diagnostics.plot needs matplotlib: pip install minigrad[plot]") from None
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (
        ("activations", _histograms),
        ("gradients", _histograms),
        ("flow", _flow),
        ("updates", _updates),
    ):
        fig = draw(Figure, diag, name)
        if fig is None:
            continue
        path = folder / f"{prefix}-{name}.png"
        fig.savefig(path, dpi=90)
        written.append(path)
    return written


def _histograms(figure: Any, diag: Any, what: str) -> Any:
    samples = diag.samples[what]
    names = [name for name, _ in diag.layers if name in samples]
    if not names:
        return None
    rows = math.ceil(len(names) / COLUMNS)
    height = 2.2 * rows + 0.8
    fig = figure(figsize=(3.2 * min(len(names), COLUMNS), height))
    axes = fig.subplots(rows, min(len(names), COLUMNS), squeeze=False).ravel()
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.4 / height, top=1 - 0.75 / height)
    fig.subplots_adjust(hspace=0.6, wspace=0.25)
    kinds = {name: type(layer).__name__ for name, layer in diag.layers}
    for ax, name in zip(axes, names, strict=False):
        values = samples[name]
        finite = values[np.isfinite(values)]
        counts, edges = np.histogram(finite, bins=50)
        color = "#3e64a8" if what == "activations" else "#d7191c"
        ax.stairs(counts, edges, fill=True, color=color)  # one patch, not one per bar
        ax.set_title(f"{name} ({kinds[name]})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.locator_params(axis="x", nbins=4)
        ax.text(
            0.98,
            0.95,
            f"mean {finite.mean():.2g}\nstd {finite.std():.2g}" if finite.size else "no values",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7,
        )
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    label = "activations (layer outputs)" if what == "activations" else "dL/d output"
    fig.suptitle(f"{label} at step {diag.steps} (each plot has its own scale)", fontsize=10)
    return fig


def _flow(figure: Any, diag: Any, what: str) -> Any:
    flows = [(step, flow) for step, flow in diag.flows if flow]
    if not flows:
        return None
    step, flow = flows[-1]
    ordered = flow[::-1]  # the backward meets the layers last to first: input side first
    fig = figure(figsize=(max(5.0, 0.22 * len(ordered) + 2), 3.2), layout="constrained")
    ax = fig.subplots()
    values = [max(rms, 1e-300) for _, rms in ordered]
    ax.semilogy(range(len(values)), values, marker="o", markersize=3, color="#3e64a8")
    ax.set_xticks(range(len(values)))
    every = max(1, len(values) // 25)
    ax.set_xticklabels(
        [name if i % every == 0 else "" for i, (name, _) in enumerate(ordered)],
        rotation=60,
        fontsize=7,
        ha="right",
    )
    ax.set_ylabel("rms of dL/d output")
    ax.set_title(f"gradient reaching each layer call, input side first (step {step})", fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def _updates(figure: Any, diag: Any, what: str) -> Any:
    series: dict[str, tuple[list[int], list[float]]] = {}
    for record in diag.records:
        if record.update_ratio is not None and record.update_ratio > 0:
            steps, ratios = series.setdefault(record.layer, ([], []))
            steps.append(record.step)
            ratios.append(record.update_ratio)
    if not series:
        return None
    fig = figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    for name, (steps, ratios) in series.items():
        ax.semilogy(steps, ratios, label=name, linewidth=1)
    ax.axhline(1e-3, color="black", linestyle="--", linewidth=0.8, label="1e-3")
    ax.set_xlabel("step")
    ax.set_ylabel("|update| / |weights|")
    ax.set_title("update-to-weight ratio per layer", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig
