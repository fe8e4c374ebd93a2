"""Tests of the scaling study: its fits, its tables and plots, and a quick run end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import scaling, scaling_report
from benchmarks.workloads import parse_spec


def test_growth_exponent_recovers_a_power_law(rng: np.random.Generator) -> None:
    xs = [64, 128, 256, 512, 1024]
    ys = [3e-6 * x**1.7 for x in xs]
    assert scaling_report.growth_exponent(xs, ys) == pytest.approx(1.7)
    noisy = [y * (1 + 0.01 * rng.standard_normal()) for y in ys]
    assert scaling_report.growth_exponent(xs, noisy) == pytest.approx(1.7, abs=0.05)


def test_fixed_and_per_example_cost_recovers_a_line() -> None:
    batches = [1, 8, 32, 128, 512]
    a, c = scaling_report.fixed_and_per_example(batches, [0.5 + 0.02 * b for b in batches])
    assert (a, c) == (pytest.approx(0.5), pytest.approx(0.02))


def test_timed_steps_follow_the_flop_count() -> None:
    assert scaling.flops_per_step(parse_spec("W1/b=2")) == 2 * scaling.flops_per_step(
        parse_spec("W1/b=1")
    )
    small, large = scaling.timed_steps("W1/b=1"), scaling.timed_steps("MLP/w=4096/d=3/b=128")
    assert small == scaling.MAX_STEPS and large == scaling.MIN_STEPS
    with pytest.raises(ValueError, match="must name its batch"):
        scaling.flops_per_step(parse_spec("W2"))


def fake_row(family: str, batch: int, impl: str, threads: int, ms: float) -> dict:
    """A result row of the study as train_step.run_config and scaling.measure make it."""
    return {
        "family": family, "batch": batch, "impl": impl, "threads": threads, "median_ms": ms,
        "width": None, "depth": None, "step_memory_mb": 0.01 * batch,
    }  # fmt: skip


def test_speedups_pair_one_and_two_threads() -> None:
    rows = [fake_row("W2", 8, "minigrad", 1, 4.0), fake_row("W2", 8, "minigrad", 2, 2.5)]
    rows.append(fake_row("W2", 32, "minigrad", 1, 9.0))  # no 2-thread run: no speed-up
    assert scaling_report.speedups(rows) == {("W2", "minigrad"): {8: 1.6}}
    assert scaling_report.speedup_lines(rows)[-1] == "| W2 | 8 | 1.60x |"


def test_quick_study_end_to_end(tmp_path: Path) -> None:
    args = scaling.parse_args(["--quick", "--impls", "numpy", "minigrad"])
    study = scaling.measure(args)
    assert study["loss_problems"] == [] and study["skipped"] == {}
    for part, configs in scaling.plan(quick=True).items():
        assert len(study[part]) == 2 * len(configs)
        assert all(r["median_ms"] > 0 and r["steps"] == 2 for r in study[part])
    text = "\n".join(scaling_report.section(study))
    assert "| W1 | 4 |" in text and "crossover batch" in text
    assert "| minigrad | " in text and "exponent, all widths" in text
    # a second thread's runs add the speed-up table and plot
    study["batch"] += [{**r, "threads": 2} for r in study["batch"]]
    assert "### 1 vs 2 threads" in "\n".join(scaling_report.section(study))
    paths = scaling_report.plot(study, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == [f"scaling_{n}.png" for n in ("batch", "depth", "memory", "threads", "width")]
    assert all(p.stat().st_size > 1000 for p in paths)
