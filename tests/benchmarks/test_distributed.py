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


def test_a_quick_run_goes_end_to_end_and_writes_nothing(capsys, tmp_path) -> None:
    """Launches, the allreduce sweep, three command-line runs into one --out folder, the
    record and its summary: everything a full run does, on tiny settings."""
    if not distributed.MPIEXEC.exists():
        pytest.skip("no mpiexec beside this Python (install the mpi extra)")
    out = tmp_path / "distributed.json"
    args = ["--quick", "--rounds", "1", "--cli-rounds", "1", "--cli-epochs", "1"]
    args += ["--workloads", "W2", "--quiet-wait", "0", "--json", str(out)]
    assert distributed.main(args) == 0
    printed = capsys.readouterr().out
    for name in distributed.CLI_CONFIGS:
        assert f"command line, {name}: [{{'accuracy': " in printed
    assert "allreduce, 2 ranks: latency" in printed
    assert not out.exists()
