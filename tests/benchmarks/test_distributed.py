"""Tests of benchmarks/distributed.py's arithmetic and of its worker in one plain process."""

from __future__ import annotations

import pytest

from benchmarks import distributed


def test_fit_recovers_latency_and_bandwidth() -> None:
    alpha, beta = 20e-6, 2e9
    points = [{"bytes": n, "median_s": alpha + n / beta} for n in (4096, 65536, 2**20)]
    fitted_alpha, fitted_beta = distributed.fit_latency_bandwidth(points)
    assert fitted_alpha == pytest.approx(alpha, rel=1e-6)
    assert fitted_beta == pytest.approx(beta, rel=1e-6)


def test_ring_allreduce_cost_grows_with_ranks_towards_twice_the_transfer() -> None:
    nbytes, beta = 2**20, 1e9
    two = distributed.ring_allreduce_seconds(nbytes, 2, alpha=0.0, beta=beta)
    many = distributed.ring_allreduce_seconds(nbytes, 1024, alpha=0.0, beta=beta)
    assert two == pytest.approx(nbytes / beta)  # each rank sends and receives half, twice
    assert two < many < 2 * nbytes / beta
    assert distributed.ring_allreduce_seconds(8, 4, alpha=1e-6, beta=beta) > 6e-6


def test_projection_compares_allreduce_with_compute() -> None:
    summary = {"W": {"compute_cpu_per_step_ms": 10.0, "parameters": 250_000}}
    rows = distributed.projection(summary, (10e-6, 1e9))
    here = [r for r in rows if r["network"] == distributed.HERE]
    assert len(here) == 1 and here[0]["gradient_bytes"] == 1_000_000
    assert here[0]["efficiency"] == pytest.approx(10 / (10 + 1e3 * (10e-6 + 1e6 / 1e9)))
    for network, *_ in distributed.NETWORKS:
        efficiencies = [r["efficiency"] for r in rows if r["network"] == network]
        assert len(efficiencies) == len(distributed.PROJECTED_RANKS)
        assert efficiencies == sorted(efficiencies, reverse=True)


def test_worker_reports_a_plain_process() -> None:
    result = distributed.worker("W2", fraction=2, distributed=False, steps=2)
    assert result is not None
    assert (result["ranks"], result["batch_per_rank"], result["steps"]) == (1, 32, 2)
    assert result["examples_per_s"] > 0 and result["median_ms"]["communicate"] < 0.1  # nothing


def test_command_line_runs_give_accuracy_and_time_for_every_configuration(monkeypatch) -> None:
    """One round, one epoch: three runs of the command line into the same --out folder."""
    if not distributed.MPIEXEC.exists():
        pytest.skip("no mpiexec beside this Python (install the mpi extra)")
    monkeypatch.setattr(distributed, "wait_until_quiet", lambda seconds: None)
    runs = distributed.command_line_runs(rounds=1, epochs=1, quiet_wait=0)
    assert list(runs) == list(distributed.CLI_CONFIGS)
    for name, (result,) in runs.items():
        assert 0.5 < result["accuracy"] <= 1 and result["seconds"] > 0, name
