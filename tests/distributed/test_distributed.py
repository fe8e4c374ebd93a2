"""Data-parallel training over MPI: two ranks launched with ``mpiexec`` equal one process.

The two-rank runs are scenarios of ``worker.py`` (one ``mpiexec -n 2`` launch each, a few
seconds, with this tree first on ``PYTHONPATH``); the one-process references are computed here
from the worker's own data, model and sampler. Everything is skipped without mpi4py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset

pytest.importorskip("mpi4py", reason="minigrad.distributed needs the mpi extra")

from minigrad.distributed import (
    DistributedDataParallel,
    DistributedSampler,
    World,
    init,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MPIEXEC = Path(sys.executable).with_name("mpiexec")
LAUNCH_TIMEOUT = 120  # seconds; a launch takes 2-4 s on a quiet machine
FAIL_TIMEOUT = 30  # a failing launch that is still running after this hangs
# float32: parameters after 14 steps, one process vs two ranks (summation order differs)
F32_RTOL, F32_ATOL = 1e-5, 1e-6
# float64: the bound
F64_RTOL, F64_ATOL = 1e-12, 1e-14

spec = importlib.util.spec_from_file_location("distributed_worker", HERE / "worker.py")
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)


def mpiexec(*args: str, cwd: Path, timeout: float = LAUNCH_TIMEOUT) -> subprocess.CompletedProcess:
    """``mpiexec -n 2 python *args`` in ``cwd``, killed with every rank after ``timeout`` s."""
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec beside {sys.executable} (install the mpi extra)")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLCONFIGDIR": str(cwd / "mpl"),
    }
    command = [str(MPIEXEC), "-n", "2", sys.executable, *args]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a hang can be killed with every rank
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{' '.join(args)}: still running after {timeout}s (a hang):\n{stderr}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def launch(
    scenario: str, out: Path, timeout: float = LAUNCH_TIMEOUT
) -> subprocess.CompletedProcess:
    """Run one scenario of worker.py on two ranks."""
    return mpiexec(str(HERE / "worker.py"), scenario, str(out), cwd=out, timeout=timeout)


def ranks_results(out: Path, name: str) -> list[tuple[dict, object]]:
    """Each rank's final state (arrays) and JSON record for run ``name``."""
    return [
        (
            dict(np.load(out / f"{name}-rank{r}.npz")),
            json.loads((out / f"{name}-rank{r}.json").read_text()),
        )
        for r in range(2)
    ]


# ---------------------------------------------------------------------------------------------
# the one-process reference
# ---------------------------------------------------------------------------------------------
def one_process(dtype: str, batchnorm: bool) -> tuple[dict, list[float]]:
    """Train on the global batches the two ranks share, in one process: the forward runs on
    the whole global batch, except with BatchNorm, where each rank's half is normalized on its
    own (as the ranks do) and the running statistics are the mean of the halves' updates.
    Returns the final state and the per-epoch mean losses."""
    mg.set_default_dtype(dtype)
    x, y = worker.make_data(dtype)
    model = worker.make_model(batchnorm, worker.SEED)
    opt = optim.SGD(model.parameters(), lr=worker.LR, momentum=worker.MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    samplers = [worker.make_loader(x, y, r, 2).sampler for r in range(2)]
    buffers = list(model.buffers())
    epoch_losses = []
    for epoch in range(worker.EPOCHS):
        shards = [s.indices(epoch) for s in samplers]
        total = seen = 0.0
        for start in range(0, len(shards[0]), worker.BATCH):
            halves = [shard[start : start + worker.BATCH] for shard in shards]
            opt.zero_grad()
            if batchnorm:
                before = [b.data.copy() for b in buffers]
                updated = []
                for half in halves:
                    for b, value in zip(buffers, before, strict=True):
                        b.data[...] = value
                    loss = loss_fn(model(x[half]), y[half])
                    (loss / len(halves)).backward()
                    total += loss.item() * len(half)
                    updated.append([b.data.copy() for b in buffers])
                for b, *values in zip(buffers, *updated, strict=True):
                    b.data[...] = np.mean(values, axis=0)
            else:
                batch = np.concatenate(halves)
                loss = loss_fn(model(x[batch]), y[batch])
                loss.backward()
                total += loss.item() * len(batch)
            seen += sum(len(h) for h in halves)
            opt.step()
        epoch_losses.append(total / seen)
    return model.state_dict(), epoch_losses


# ---------------------------------------------------------------------------------------------
# two ranks
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``train`` scenario: two epochs of every configuration, then the NaN run."""
    out = tmp_path_factory.mktemp("train")
    result = launch("train", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize(("dtype", "batchnorm"), worker.CONFIGS)
def test_two_ranks_equal_one_process_on_the_global_batches(
    trained: Path, dtype: str, batchnorm: bool
) -> None:
    (state0, history0), (state1, history1) = ranks_results(
        trained, worker.config_name(dtype, batchnorm)
    )
    # the replicas are identical, bit for bit, though rank 1 was initialized differently
    assert state0.keys() == state1.keys()
    for key in state0:
        np.testing.assert_array_equal(state0[key], state1[key], err_msg=key)
    assert history0 == history1
    reference, losses = one_process(dtype, batchnorm)
    rtol, atol = (F32_RTOL, F32_ATOL) if dtype == "float32" else (F64_RTOL, F64_ATOL)
    assert state0.keys() == reference.keys()
    for key, value in reference.items():
        assert state0[key].dtype == value.dtype
        np.testing.assert_allclose(state0[key], value, rtol=rtol, atol=atol, err_msg=key)
    np.testing.assert_allclose([r["loss"] for r in history0], losses, rtol=rtol)


def test_only_rank_zero_prints_and_writes_checkpoints(trained: Path) -> None:
    printed = [(trained / f"stdout-rank{r}.txt").read_text() for r in range(2)]
    assert printed[1] == ""
    assert printed[0].count("epoch 2/2  loss") == len(worker.CONFIGS)
    saves = [json.loads((trained / f"train-saves-rank{r}.json").read_text()) for r in range(2)]
    assert saves[1] == [] and len(saves[0]) == worker.EPOCHS * len(worker.CONFIGS)
    checkpoint = mg.load(trained / f"{worker.config_name('float32', True)}.npz")
    final, _ = ranks_results(trained, worker.config_name("float32", True))[0]
    for key, value in checkpoint["model"].items():  # no "module." prefix: loads unwrapped
        np.testing.assert_array_equal(value, final[key])


def test_a_nan_on_one_rank_stops_both_before_the_update(trained: Path) -> None:
    reports = [json.loads((trained / f"nan-rank{r}.json").read_text()) for r in range(2)]
    for report in reports:
        assert (report["epoch"], report["step"]) == (1, 2), report
        assert "the loss is nan" in report["message"]
        assert report["unchanged"], "the step that met a NaN changed the model"
    (after0, history0), (after1, history1) = ranks_results(trained, "after-nan")
    assert history0 == history1 and np.isfinite(history0[0]["loss"])
    for key, value in after0.items():  # training went on, alike and finite on both ranks
        assert np.isfinite(value).all(), key
        np.testing.assert_array_equal(value, after1[key], err_msg=key)


def test_resume_after_a_restart_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    first = launch("first", tmp_path)
    assert first.returncode == 0, first.stderr
    second = launch("resume", tmp_path)
    assert second.returncode == 0, second.stderr
    uninterrupted = ranks_results(tmp_path, "uninterrupted")
    resumed = ranks_results(tmp_path, "interrupted-resumed")
    for (state, history), (state_resumed, history_resumed) in zip(
        uninterrupted, resumed, strict=True
    ):
        assert history_resumed == history
        for key in state:
            np.testing.assert_array_equal(state_resumed[key], state[key], err_msg=key)


def test_an_error_on_one_rank_ends_both_with_a_clear_message(tmp_path: Path) -> None:
    result = launch("fail", tmp_path, timeout=FAIL_TIMEOUT)
    assert result.returncode != 0
    assert "ValueError: a bad batch on rank 1" in result.stderr  # the traceback
    assert "rank 1 of 2: uncaught ValueError" in result.stderr
    assert "stopping all 2 processes" in result.stderr
    assert not list(tmp_path.glob("fail-finished-*")), "a rank finished training"


def test_the_command_line_trains_in_two_processes(tmp_path: Path) -> None:
    args = ["-m", "minigrad", "train", "--distributed", "--model", "mlp", "--epochs", "1"]
    result = mpiexec(*args, "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("in 2 processes") == 1
    assert result.stdout.count("epoch 1/1") == result.stdout.count("test accuracy") == 1
    for name in ("checkpoint.npz", "history.json", "history.csv", "curves.png"):
        assert (tmp_path / "out" / name).exists(), name
    assert len(json.loads((tmp_path / "out" / "history.json").read_text())) == 1


def test_a_command_line_error_stops_both_processes(tmp_path: Path) -> None:
    args = ["-m", "minigrad", "train", "--distributed", "--resume", "--out", "empty"]
    result = mpiexec(*args, cwd=tmp_path, timeout=FAIL_TIMEOUT)
    assert result.returncode != 0
    assert "minigrad: error: --resume: no checkpoint at empty/checkpoint.npz" in result.stderr
    assert "stopping all 2 processes" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# one process: a world of one, the sampler, the loader, the errors
# ---------------------------------------------------------------------------------------------
def test_import_minigrad_does_not_import_mpi4py() -> None:
    code = (
        "import sys, minigrad, minigrad.train, minigrad.distributed; print('mpi4py' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"


def test_sampler_shards_are_disjoint_equal_and_cover_the_epoch() -> None:
    for n, world_size in [(10, 2), (11, 3), (7, 7)]:
        samplers = [
            DistributedSampler(n, seed=5, rank=r, world_size=world_size) for r in range(world_size)
        ]
        for epoch in range(3):
            shards = [s.indices(epoch) for s in samplers]
            assert {len(s) for s in shards} == {n // world_size} == {len(samplers[0])}
            together = np.concatenate(shards)
            assert len(np.unique(together)) == len(together) == n - n % world_size
        assert not np.array_equal(samplers[0].indices(0), samplers[0].indices(1))
        again = DistributedSampler(n, seed=5, rank=0, world_size=world_size)
        np.testing.assert_array_equal(again.indices(2), samplers[0].indices(2))


def test_sampler_in_a_loader_resumes_from_the_loader_state() -> None:
    data = TensorDataset(np.arange(20, dtype=np.float32), np.arange(20))
    loader = DataLoader(data, 3, sampler=DistributedSampler(20, seed=1, rank=1, world_size=2))
    assert len(loader) == 4
    _ = list(loader)
    saved = loader.state_dict()
    expected = [y.numpy() for _, y in loader]
    fresh = DataLoader(data, 3, sampler=DistributedSampler(20, seed=1, rank=1, world_size=2))
    fresh.load_state_dict(saved)
    got = [y.numpy() for _, y in fresh]
    assert len(got) == len(expected) == 4
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.concatenate(got), fresh.sampler.indices(1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rank": 2, "world_size": 2}, "rank must be in"),
        ({"rank": 0, "world_size": 0}, "rank must be in"),
        ({"seed": -1, "rank": 0, "world_size": 1}, "seed must be a non-negative int"),
    ],
)
def test_sampler_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DistributedSampler(10, **kwargs)


def test_sampler_needs_an_example_per_rank_and_loader_one_order() -> None:
    with pytest.raises(ValueError, match="3 examples cannot be shared among 4 processes"):
        DistributedSampler(3, rank=0, world_size=4)
    sampler = DistributedSampler(4, rank=0, world_size=1)
    with pytest.raises(ValueError, match="shuffle=True or a sampler, not both"):
        DataLoader(TensorDataset(np.zeros(4)), 2, shuffle=True, sampler=sampler)


def test_a_world_of_one_averages_nothing_and_keeps_names() -> None:
    assert init() == World(0, 1)
    plain = worker.make_model(True, 0)
    model = DistributedDataParallel(worker.make_model(True, 0), bucket_cap_mb=1e-4)
    assert len(model._buckets.arrays) > 2  # a tiny cap: several buckets, one per parameter
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in plain.named_parameters()]
    x = np.random.default_rng(0).normal(size=(6, 1, 8, 8))
    for m in (plain, model):
        nn.CrossEntropyLoss()(m(x), np.arange(6)).backward()
    buffers = {k: v.copy() for k, v in model.state_dict().items()}
    assert model.synchronize(2.5, 6.0) == (2.5, 6.0)
    assert model.state_dict().keys() == buffers.keys()
    for (name, p), q in zip(model.named_parameters(), plain.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, buffers[name], err_msg=name)
    plain.load_state_dict(model.state_dict())  # and back: the same keys


def test_unused_parameters_keep_no_gradient_and_dtype_changes_are_caught() -> None:
    class TwoHeads(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.used, self.unused = nn.Linear(2, 1), nn.Linear(2, 1)

        def forward(self, x: mg.Tensor) -> mg.Tensor:
            return self.used(x)

    model = DistributedDataParallel(TwoHeads())
    model(np.ones((3, 2))).sum().backward()
    model.synchronize()
    assert model.module.used.weight.grad is not None and model.module.unused.weight.grad is None
    model.module.used.weight.data = model.module.used.weight.data.astype(np.float64)
    with pytest.raises(RuntimeError, match="changed size or dtype since the model was wrapped"):
        model.synchronize()


def test_wrapping_needs_a_layer_and_a_positive_bucket_cap() -> None:
    with pytest.raises(TypeError, match="wraps a minigrad Layer, got function"):
        DistributedDataParallel(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb must be positive, got 0"):
        DistributedDataParallel(nn.Linear(1, 1), bucket_cap_mb=0)
