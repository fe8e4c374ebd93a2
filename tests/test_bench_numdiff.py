"""The backprop-versus-numerical benchmark: a --quick sweep writes its files, the gradients
agree, central differences cost 2 P loss evaluations (counted, not timed), and a row measured
on a subset is extrapolated and says so."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.bench import numdiff, report
from minigrad.bench.machine import machine_info

MAX_ABS_DIFF = 1e-8  # gradients are ~1e-3; central differences in float64 err by ~1e-10
MEDIAN_REL_DIFF = 1e-7
# Over every parameter of the tiny net; the max over 10^4 parameters is set by the smallest
# gradients (~1e-8, where an error of 1e-11 is already 1e-3 relative), so it is not bounded.
TINY_NET_MAX_REL_DIFF = 1e-6


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One ``--quick`` sweep through the command-line entry point, shared by the tests."""
    out = tmp_path_factory.mktemp("numdiff")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPLCONFIGDIR", str(out / "mplconfig"))
        parser = argparse.ArgumentParser()
        numdiff.add_arguments(parser)
        assert numdiff.main(parser.parse_args(["--quick", "--out", str(out)])) == 0
    result = json.loads((out / numdiff.JSON_NAME).read_text())
    return {"out": out, "rows": result["rows"], "result": result}


def test_quick_sweep_writes_json_table_and_plot(quick: dict[str, Any]) -> None:
    out, rows = quick["out"], quick["rows"]
    assert [r["network"] for r in rows] == ["8-5-10", "784-2-10", "784-16-10"]
    assert [r["params"] for r in rows] == [105, 1600, 12730]
    table = (out / numdiff.TABLE_NAME).read_text()
    assert all(f"| {r['network']} | {r['params']:,} |" in table for r in rows)
    assert "python -m minigrad bench numdiff --quick" in table
    assert (out / numdiff.PLOT_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    machine = quick["result"]["machine"]
    assert machine["numpy"] == np.__version__ and machine["cpu"]


def test_backprop_and_numerical_gradients_agree(quick: dict[str, Any]) -> None:
    for r in quick["rows"]:
        assert r["max_abs_diff"] < MAX_ABS_DIFF, r
        assert r["median_rel_diff"] < MEDIAN_REL_DIFF, r
    assert quick["rows"][0]["max_rel_diff"] < TINY_NET_MAX_REL_DIFF


def test_numerical_differentiation_costs_two_losses_per_parameter(monkeypatch) -> None:
    # Counted, not timed: backprop evaluates the loss once, central differences 2 P times.
    calls = 0
    forward = nn.CrossEntropyLoss.forward

    def counting(self, *args):
        nonlocal calls
        calls += 1
        return forward(self, *args)

    monkeypatch.setattr(nn.CrossEntropyLoss, "forward", counting)
    timing = 2 * (numdiff.WARMUP + 1)  # the forward and backprop medians, one repeat each
    for spec, params in [("8-5-10", 105), ("8-20-10", 390)]:
        calls = 0
        (row,) = numdiff.run([spec], batch=4, budget=math.inf, repeats=1)
        assert row.params == params and calls == timing + 2 * params


def test_numerical_is_slower_than_backprop_in_every_row(quick: dict[str, Any]) -> None:
    # One ratio per row, both times from the same run: no comparison across measurements.
    assert all(r["ratio"] > 10 for r in quick["rows"])


def test_each_row_says_whether_it_was_extrapolated(quick: dict[str, Any]) -> None:
    table = (quick["out"] / numdiff.TABLE_NAME).read_text()
    for r in quick["rows"]:
        p, k = r["params"], r["differentiated"]
        if r["extrapolated"]:
            assert k < p and f"extrapolated from {k:,} of {p:,} parameters" in table
            assert r["numerical_s"] == pytest.approx(r["measured_s"] * p / k)
        else:
            assert k == p and f"all {p:,} parameters" in table
            assert r["numerical_s"] == r["measured_s"]


def test_the_budget_chooses_all_parameters_or_a_subset() -> None:
    (everything,) = numdiff.run(["8-5-10"], batch=4, budget=math.inf, repeats=1)
    assert not everything.extrapolated and everything.differentiated == 105
    (subset,) = numdiff.run(["8-5-10"], batch=4, budget=0, repeats=1)
    assert subset.extrapolated and subset.differentiated == numdiff.MIN_SUBSET
    assert subset.numerical_s == pytest.approx(subset.measured_s * 105 / numdiff.MIN_SUBSET)
    assert everything.max_abs_diff < MAX_ABS_DIFF and subset.max_abs_diff < MAX_ABS_DIFF
    settings = {"batch": 4, "repeats": 1, "warmup": numdiff.WARMUP, "eps": numdiff.EPS}
    table = report.markdown([everything, subset], machine_info(), settings)
    assert "all 105 parameters" in table and "extrapolated from 10 of 105 parameters" in table


def test_run_leaves_minigrad_random_state_alone() -> None:
    state = minigrad.random.get_rng_state()
    numdiff.run(["3-2-2"], batch=4, repeats=1)
    assert minigrad.random.get_rng_state() == state


def test_plot_is_skipped_with_a_note_without_matplotlib(
    quick: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    rows = [numdiff.NumdiffRow(**r) for r in quick["rows"]]
    note = report.write_plot(rows, tmp_path / "plot.png")
    assert note == "the plot needs matplotlib: pip install 'minigrad[plot]'"
    assert not (tmp_path / "plot.png").exists()


@pytest.mark.parametrize(
    ("spec", "sizes"),
    [("16", (784, 16, 10)), ("8-5-10", (8, 5, 10)), ("784-32-16-10", (784, 32, 16, 10))],
)
def test_parse_net(spec: str, sizes: tuple[int, ...]) -> None:
    assert numdiff.parse_net(spec) == sizes


@pytest.mark.parametrize("spec", ["", "0", "8-x-10", "8--10", "-3"])
def test_parse_net_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="numdiff: a network is"):
        numdiff.parse_net(spec)


def test_unsteady_timings_are_flagged(quick: dict[str, Any]) -> None:
    rows = [numdiff.NumdiffRow(**r) for r in quick["rows"]]
    busy = [*rows[:-1], dataclasses.replace(rows[-1], steadiness=4.0)]
    assert report.unsteady([dataclasses.replace(r, steadiness=1.0) for r in rows]) is None
    warning = report.unsteady(busy)
    assert warning is not None and "784-16-10: 4x" in warning
