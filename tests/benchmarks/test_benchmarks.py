"""Tests of the benchmark code: workloads, the NumPy floor's correctness, and a harness smoke run.

The floor is frozen, but it is the yardstick every speed claim is measured against, so its
gradients are checked against central differences in every run of the suite.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import minigrad
from benchmarks import (
    impl_minigrad,
    overhead,
    reference_numpy,
    reference_numpy_mnist,
    report,
    train_step,
    verify_reference,
)
from benchmarks.workloads import astype, make_workload

# Batch sizes of the float64 checks: the later, larger networks run on a few images.
CHECK_BATCH = {"W1": None, "W2": None, "W3": None, "W4": 4, "W5": 2, "MLP": 4}

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


@pytest.mark.parametrize("name", CHECK_BATCH)
def test_floor_gradients_match_central_differences(name: str) -> None:
    with threadpool_limits(1):
        checks = verify_reference.numerical_check(name, elements=3, batch=CHECK_BATCH[name])
    assert checks and all(c.ok for c in checks), [c for c in checks if not c.ok]


@pytest.mark.parametrize("name", CHECK_BATCH)
def test_floor_gradients_do_not_depend_on_the_step(name: str) -> None:
    """gradients() leaves the weights alone; step() moves them by SGD with momentum."""
    workload = verify_reference.workload_for(name, batch=CHECK_BATCH[name])
    runner = reference_numpy.build(name, astype(workload, np.float64))
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


def test_mlp_floor_on_w1_sizes_is_the_w1_floor() -> None:
    workload = make_workload("W1")
    w1 = reference_numpy.build("W1", workload)
    mlp = reference_numpy.build("MLP", {**workload, "sizes": (784, 256, 128, 10)})
    assert [w1.step() for _ in range(3)] == [mlp.step() for _ in range(3)]
    assert all(np.array_equal(w1.params[k], mlp.params[k]) for k in w1.params)


@pytest.mark.parametrize("split", [False, True])
def test_col2im_is_the_adjoint_of_im2col(split: bool, rng: np.random.Generator) -> None:
    """<im2col(x), c> == <x, col2im(c)> for every x and c, checked against a plain loop."""
    c, k, out_h, out_w, n = 3, 3, 6, 4, 5
    image = rng.standard_normal((c, out_h + k - 1, out_w + k - 1, n))
    cols = rng.standard_normal((c * k * k, out_h * out_w * n))
    view = reference_numpy_mnist.im2col_view(image, k, out_h, out_w, split)
    rows = (2, out_h // 2) if split else (out_h,)
    taps = cols.reshape(c, k, k, *rows, out_w, n)
    expected = np.zeros_like(image)
    for i in range(k):
        for j in range(k):
            for h in range(out_h):
                row = (h % 2, h // 2) if split else (h,)
                window = view[(slice(None), i, j, *row)].reshape(c, out_w, n)
                assert np.array_equal(window, image[:, h + i, j : j + out_w])
                expected[:, h + i, j : j + out_w] += taps[(slice(None), i, j, *row)]
    result = np.full_like(image, np.nan)  # col2im must overwrite every element
    reference_numpy_mnist.col2im(
        reference_numpy_mnist.col2im_plan(cols, result, k, out_h, out_w, split)
    )
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def test_row_split_pool_sends_a_tie_to_the_first_maximum(rng: np.random.Generator) -> None:
    c, h2, w2, n = 3, 4, 5, 6
    z = rng.integers(-2, 3, size=(c, 2, h2, w2, 2, n)).astype(np.float32)  # ties and zeros
    out = np.empty((c, h2, w2, n), np.float32)
    bufs = reference_numpy_mnist.pool_buffers(out.shape, np.float32)
    reference_numpy_mnist.pool_forward(z, out, bufs)
    # the window members in PyTorch's scan order (0,0), (0,1), (1,0), (1,1)
    windows = z.transpose(0, 2, 3, 5, 1, 4).reshape(c, h2, w2, n, 4)
    first = np.argmax(windows, axis=-1)
    expected = np.maximum(windows.max(axis=-1), 0)
    assert np.array_equal(out, expected)
    inferred = np.empty_like(out)
    reference_numpy_mnist.pool_forward(z, inferred, bufs, train=False)
    assert np.array_equal(inferred, expected)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    grad_z = np.empty_like(z)
    reference_numpy_mnist.pool_backward(grad, grad_z, bufs)
    want = np.zeros_like(windows)
    np.put_along_axis(want, first[..., None], (grad * (expected > 0))[..., None], axis=-1)
    assert np.array_equal(grad_z, want.reshape(c, h2, w2, n, 2, 2).transpose(0, 4, 1, 2, 5, 3))


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch not installed")
@pytest.mark.parametrize("name", CHECK_BATCH)
def test_floor_matches_pytorch(name: str) -> None:
    from benchmarks import impl_torch

    checks = verify_reference.compare_with(name, "torch", impl_torch.build, CHECK_BATCH[name])
    assert checks and all(c.ok for c in checks), [c for c in checks if not c.ok]


@pytest.mark.parametrize("name", ["W4", "W5", "MLP"])
def test_floor_matches_minigrad(name: str) -> None:
    checks = verify_reference.compare_with(name, "minigrad", impl_minigrad.build, batch=8)
    assert any("evaluation" in c.what for c in checks)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch not installed")
@pytest.mark.parametrize("name", ["W2", "W3"])
def test_minigrad_and_pytorch_evaluate_alike(name: str) -> None:
    """The evaluation forward of the workloads the floor cannot evaluate; W3's BatchNorm
    normalizes with running statistics that two training steps have moved."""
    from benchmarks import impl_torch

    workload = make_workload(name, batch=8)
    ours, theirs = impl_minigrad.build(name, workload), impl_torch.build(name, workload)
    for _ in range(2):
        ours.step(), theirs.step()
    np.testing.assert_allclose(ours.infer(), theirs.infer(), rtol=1e-4, atol=1e-5)
    assert not np.allclose(ours.infer(), impl_minigrad.build(name, workload).infer())


def test_given_dropout_uses_the_mask_of_the_step() -> None:
    layer = impl_minigrad.GivenDropout(0.5)
    x = minigrad.tensor(np.ones(3, np.float32))
    with pytest.raises(RuntimeError, match="no masks"):
        layer(x)
    layer.masks = [minigrad.tensor([2.0, 0.0, 2.0]), minigrad.tensor([0.0, 2.0, 0.0])]
    layer.step = 3  # the fourth step uses mask 3 % 2
    assert layer(x).tolist() == [0.0, 2.0, 0.0]
    layer.eval()
    assert layer(x).tolist() == [1.0, 1.0, 1.0]
    runner = impl_minigrad.build("W5", make_workload("W5", batch=2))
    runner.step()
    assert [d.step for d in runner.dropouts] == [1, 1]


def test_overhead_is_measured_per_op() -> None:
    costs = impl_minigrad.overhead(ops=20, repeats=2)
    assert set(costs) == set(overhead.KEYS)
    assert all(0 < us < 1e4 for us in costs.values())


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
    assert [line.split(":")[0] for line in lines] == list(nan_guard.WORKLOADS)
    assert "check" in lines[0] and "snapshot" in lines[0]
    assert not (tmp_path / "nan_guard.json").exists()


def test_harness_evaluates_measures_overhead_and_builds_the_page() -> None:
    args = train_step.parse_args(
        ["--quick", "--impls", "numpy", "minigrad", "--threads", "1", "--workloads", "W4"]
    )
    run = train_step.measure(args)
    assert run["loss_problems"] == [] and run["skipped"] == {}
    floor, ours = run["results"]
    assert floor["eval"]["images_per_s"] > 0 and ours["eval"]["steps"] == args.eval_steps
    assert floor["eval"]["loss"] == pytest.approx(ours["eval"]["loss"], rel=1e-5)
    assert "overhead" in ours and "overhead" not in floor
    text = report.markdown(run)
    assert "| W4 | 1 | minigrad | 128 |" in text and "| minigrad | " in text
    # the page shows the recorded main run, then only what a later run adds
    recorded = json.loads((train_step.ROOT / "benchmarks/results/train_step.json").read_text())
    main = {**recorded, "results": [r for r in recorded["results"] if r["workload"] != "W4"]}
    page = report.page([main, run], ["## Scaling", "", "scaling text"])
    assert "## Separate run: W4" in page and page.endswith("scaling text\n")
    assert page.count("| W4 | floor (NumPy) |") == 1
    assert "Separate run" not in report.page([run, run], [])


def fake_run(ratios: dict[str, float], torch_ms: float = 3.0) -> dict:
    """A recorded run with 1-thread medians: the floor at 1 ms, minigrad at ``ratios[w]`` ms."""
    results = []
    for w, r in ratios.items():
        for impl, ms in (("numpy", 1.0), ("minigrad", r), ("torch", torch_ms)):
            results.append({"workload": w, "impl": impl, "threads": 1, "median_ms": ms})
        results.append({"workload": w, "impl": "minigrad", "threads": 2, "median_ms": 99.0})
    return {"results": results}


def test_ratios_across_repeated_runs_take_the_median_of_each_workload() -> None:
    runs = [
        fake_run({"W1": 1.5, "W2": 1.2}),
        fake_run({"W1": 1.1, "W2": 1.4}),
        fake_run({"W1": 1.3}),
    ]
    lines = report.repeat_lines(runs)
    assert "| W1 | minigrad | 1.50x | 1.10x | 1.30x | 1.30x |" in lines
    assert not any(line.startswith("| W2 |") for line in lines)  # not in every run
    assert "| W1 | PyTorch | 3.00x | 3.00x | 3.00x | 3.00x |" in lines


def test_the_readme_table_is_regenerated_between_its_markers() -> None:
    table = report.readme_table(
        fake_run({"W1": 1.5, "W4": 1.2}), [fake_run({"W1": 1.1, "W4": 1.4})]
    )
    assert table[2] == "| MLP 784-256-128-10, batch 128 | 1.50 ms | 3.00 ms | 1.00 ms | 1.30x |"
    assert table[3].startswith("| LeNet-5, batch 128 | 1.20 ms |") and len(table) == 4
    text = f"intro\n{report.README_START}\nold row\n{report.README_END}\nrest\n"
    new = report.readme_with_table(text, table)
    assert "old row" not in new and new.startswith("intro\n") and new.endswith("rest\n")
    assert report.readme_with_table(new, table) == new
    with pytest.raises(ValueError, match="markers"):
        report.readme_with_table("no markers here", table)


def test_the_readme_speed_table_is_the_recorded_run() -> None:
    """The README's numbers come from benchmarks/results/: `python -m benchmarks.report`."""
    runs, repeats = report.recorded_runs()
    readme = (train_step.ROOT / "README.md").read_text()
    assert readme == report.readme_with_table(readme, report.readme_table(runs[0], repeats))
    assert len(repeats) >= 2


def test_import_time_quick_run_parses_and_writes_nothing(capsys, monkeypatch, tmp_path) -> None:
    from benchmarks import import_time

    monkeypatch.setattr(import_time, "OUT", tmp_path / "import_time.json")
    assert import_time.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("import minigrad beyond numpy: median ")
    assert "scipy imported: False" in out  # scipy.special is loaded on first use, not at import
    assert not (tmp_path / "import_time.json").exists()
