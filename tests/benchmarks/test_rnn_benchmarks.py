"""Tests of the recurrent benchmark: workloads, the floor's gradients, and the other runners."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from benchmarks import rnn_floor, verify_rnn_floor
from benchmarks.rnn_workloads import WORKLOADS, astype, make_workload

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_workloads_are_deterministic() -> None:
    a, b = make_workload("C1", seed=3), make_workload("C1", seed=3)
    assert list(a["params"])[:2] == ["embed.weight", "lstm.weight_ih_l0"]
    assert all(np.array_equal(a["params"][k], b["params"][k]) for k in a["params"])
    assert np.array_equal(a["idx"][1:], a["y"][:-1])  # targets are the next characters
    assert not np.array_equal(a["idx"], make_workload("C1", seed=4)["idx"])


@pytest.mark.parametrize("name", WORKLOADS)
def test_floor_gradients_match_central_differences(name: str) -> None:
    checks = verify_rnn_floor.numerical_check(name, elements=1)
    assert checks and all(error <= tol for _, error, tol in checks), checks


@pytest.mark.parametrize("name", WORKLOADS)
def test_floor_step_is_sgd_on_its_gradients(name: str) -> None:
    runner = rnn_floor.build(name, astype(make_workload(name), np.float64))
    before = {k: v.copy() for k, v in runner.params.items()}
    grads = runner.gradients()
    assert all(np.array_equal(before[k], runner.params[k]) for k in before)
    runner.step()
    for k in before:  # first step: buf = grad
        np.testing.assert_allclose(runner.params[k], before[k] - 0.05 * grads[k], atol=1e-12)


@pytest.mark.parametrize("name", WORKLOADS)
def test_minigrad_matches_the_floor(name: str) -> None:
    from benchmarks import rnn_impl_minigrad

    checks = verify_rnn_floor.compare_with(name, "minigrad", rnn_impl_minigrad.build)
    assert all(error <= tol for _, error, tol in checks), checks


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch not installed")
@pytest.mark.parametrize("name", WORKLOADS)
def test_pytorch_matches_the_floor(name: str) -> None:
    from benchmarks import rnn_impl_torch

    checks = verify_rnn_floor.compare_with(name, "torch", rnn_impl_torch.build)
    assert all(error <= tol for _, error, tol in checks), checks


def test_gradient_flow_vanishes_for_small_and_explodes_for_large_weights() -> None:
    from benchmarks import rnn_gradient_flow

    norms = rnn_gradient_flow.measure(lengths=[1, 20], batch=4, hidden=16)
    small = norms["tanh RNN, W_hh = 0.5 x orthogonal (small)"]
    large = norms["tanh RNN, W_hh = 2 x orthogonal (large)"]
    assert small[1] < 1e-4 * small[0] and large[1] > 5 * large[0]


def test_a_quick_run_builds_its_record_and_writes_nothing(tmp_path) -> None:
    from benchmarks import rnn_step

    out = tmp_path / "rnn_step.json"
    assert rnn_step.main(["--quick", "--workloads", "L1", "--json", str(out)]) == 0
    assert not out.exists()
