"""Tests of the benchmark code: workloads, the NumPy floor's correctness, and a harness smoke run.

The floor is frozen, but it is the yardstick every speed claim is measured against, so its
gradients are checked against central differences in every run of the suite.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from benchmarks import reference_numpy, train_step, verify_reference
from benchmarks.workloads import WORKLOADS, astype, make_workload

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_workloads_are_deterministic_and_named_like_sequential() -> None:
    a, b = make_workload("W3", seed=3), make_workload("W3", seed=3)
    assert list(a["params"]) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias",
        "5.weight", "5.bias", "9.weight", "9.bias",
    ]  # fmt: skip
    assert all(np.array_equal(a["params"][k], b["params"][k]) for k in a["params"])
    assert np.array_equal(a["x"], b["x"]) and np.array_equal(a["y"], b["y"])
    assert a["x"].dtype == np.float32 and a["y"].dtype == np.int64
    assert not np.array_equal(a["x"], make_workload("W3", seed=4)["x"])
    assert list(make_workload("W2")["params"])[::2] == ["0.weight", "3.weight", "7.weight"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_floor_gradients_match_central_differences(name: str) -> None:
    checks = verify_reference.numerical_check(name, elements=3)
    assert checks and all(c.ok for c in checks), [c for c in checks if not c.ok]


@pytest.mark.parametrize("name", WORKLOADS)
def test_floor_gradients_do_not_depend_on_the_step(name: str) -> None:
    """gradients() leaves the weights alone; step() moves them by SGD with momentum."""
    runner = reference_numpy.build(name, astype(make_workload(name), np.float64))
    before = {k: v.copy() for k, v in runner.params.items()}
    g1 = runner.gradients()
    assert all(np.array_equal(before[k], runner.params[k]) for k in before)
    runner.step()
    expected = {k: before[k] - 0.05 * g1[k] for k in before}  # first step: buf = grad
    assert all(np.allclose(runner.params[k], expected[k], atol=1e-12) for k in before)


def naive_pool(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """relu(maxpool) of (C, 4, L) windows and the index of each window's first maximum."""
    first = np.argmax(y, axis=1)  # argmax returns the first of tied maxima
    return np.maximum(y.max(axis=1), 0), first


def test_pool_sends_a_tie_to_the_first_maximum(rng: np.random.Generator) -> None:
    y = rng.integers(-2, 3, size=(3, 4, 500)).astype(np.float32)  # many ties and zeros
    bufs = reference_numpy.pool_buffers((3, 500), np.float32)
    out = np.empty((3, 500), np.float32)
    reference_numpy.pool_forward(y, out, bufs)
    expected, first = naive_pool(y)
    assert np.array_equal(out, expected)
    grad = rng.standard_normal((3, 500)).astype(np.float32)
    grad_y = np.empty_like(y)
    reference_numpy.pool_backward(grad, grad_y, bufs)
    want = np.zeros_like(y)
    np.put_along_axis(want, first[:, None], (grad * (expected > 0))[:, None], axis=1)
    assert np.array_equal(grad_y, want)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch not installed")
@pytest.mark.parametrize("name", WORKLOADS)
def test_floor_matches_pytorch(name: str) -> None:
    from benchmarks import impl_torch

    checks = verify_reference.compare_with(name, "torch", impl_torch.build)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


def test_check_losses_flags_disagreement() -> None:
    same = {"numpy": [2.3, 2.2], "torch": [2.3, 2.2000001]}
    assert train_step.check_losses("W1", 1, same) == []
    problems = train_step.check_losses("W1", 1, {"numpy": [2.3, 2.2], "torch": [2.3, 2.25]})
    assert len(problems) == 1 and "torch" in problems[0] and "step 1" in problems[0]


def test_harness_quick_run_with_the_floor(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--quick", "--impls", "numpy", "--threads", "1", "--workloads", "W2"]
    assert train_step.main(argv) == 0
    out = capsys.readouterr().out
    assert "| W2 | floor (NumPy) |" in out and "minor faults/step" in out


def test_nan_guard_benchmark_quick_run_writes_nothing(capsys, monkeypatch, tmp_path) -> None:
    from benchmarks import nan_guard

    monkeypatch.setattr(nan_guard, "OUT", tmp_path / "nan_guard.json")
    assert nan_guard.main(["--quick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == list(WORKLOADS)
    assert "check" in lines[0] and "snapshot" in lines[0]
    assert not (tmp_path / "nan_guard.json").exists()
