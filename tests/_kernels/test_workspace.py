"""The fast tier's buffer cache: memory comes back for reuse only once nothing can read it.

The cache used to decide that a buffer was free by reading its reference count; a count off by
one (CPython changes how it counts between versions) silently handed a live buffer out again
and corrupted a weight gradient. Now a buffer is a view of a lease whose ``__del__`` returns
the memory, so these tests hold buffers in every way a program can and check that the memory
is never handed out while they live.
"""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest
from support import SAME_ATOL, SAME_RTOL

import minigrad as mg
import minigrad.functional as F
from minigrad._kernels import layout, workspace

SHAPE = (256, 128)  # above the cache's size threshold
NBYTES = 256 * 128 * 4


@pytest.fixture(autouse=True)
def _fresh_cache():
    workspace.clear()
    yield
    workspace.clear()


def address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_freed_memory_is_reused_and_held_memory_is_not() -> None:
    a = workspace.empty(SHAPE, np.float32)
    first = address(a)
    b = workspace.empty(SHAPE, np.float32)
    assert not np.shares_memory(a, b)
    del a
    c = workspace.empty(SHAPE, np.float32)
    assert address(c) == first  # reused once free
    assert not np.shares_memory(b, c)


def test_blocks_are_shared_by_shapes_and_dtypes_of_the_same_size() -> None:
    a = workspace.empty(SHAPE, np.float32)
    first = address(a)
    del a
    b = workspace.empty((128, 128), np.float64)
    assert address(b) == first and b.dtype == np.float64 and b.flags.c_contiguous


@pytest.mark.parametrize(
    "derive",
    [
        lambda a: a[::2],
        lambda a: a.T,
        lambda a: a.reshape(-1),
        lambda a: a.T[1:][::3],  # a view of a view of a view
        lambda a: np.lib.stride_tricks.as_strided(a, (4,), (8,)),
        lambda a: np.frombuffer(memoryview(a), np.float32),
        lambda a: mg.Tensor._wrap(a[:3], None),
        lambda a: [a[0]],
    ],
    ids=["slice", "transpose", "reshape", "chain", "as_strided", "memoryview", "tensor", "list"],
)
def test_anything_that_reaches_into_a_buffer_keeps_it(derive) -> None:
    a = workspace.empty(SHAPE, np.float32)
    a.fill(1)
    holder = derive(a)
    del a
    for _ in range(3):
        other = workspace.empty(SHAPE, np.float32)
        other.fill(2)  # would overwrite the held memory if it were handed out again
    values = holder[0] if isinstance(holder, list) else holder
    assert np.all(np.asarray(values.data if isinstance(values, mg.Tensor) else values) == 1)


def test_a_reference_cycle_delays_the_return_and_never_hastens_it() -> None:
    class Holder:
        pass

    gc.disable()
    try:
        h = Holder()
        h.self, h.array = h, workspace.empty(SHAPE, np.float32)
        first = address(h.array)
        del h
        assert address(workspace.empty(SHAPE, np.float32)) != first  # still unreachable, held
        gc.collect()
        assert address(workspace.empty(SHAPE, np.float32)) == first
    finally:
        gc.enable()


def test_correctness_does_not_depend_on_reference_counts(monkeypatch, rng) -> None:
    """The failure the issue found, simulated: reference counts read off by one. Nothing in the
    cache reads them any more, so a CNN's gradients stay exactly those of the reference tier."""
    real = sys.getrefcount
    monkeypatch.setattr(sys, "getrefcount", lambda obj: real(obj) - 1)
    x = rng.standard_normal((8, 3, 12, 12))

    def gradients(tier: str) -> list[np.ndarray]:
        mg.manual_seed(0)
        model = mg.nn.Sequential(
            mg.nn.Conv2d(3, 8, 3, padding=1),
            mg.nn.ReLU(),
            mg.nn.MaxPool2d(2),
            mg.nn.Conv2d(8, 8, 3, padding=1),
            mg.nn.BatchNorm2d(8),
            mg.nn.ReLU(),
            mg.nn.Flatten(),
            mg.nn.Linear(8 * 6 * 6, 4),
        ).to("float64")
        with mg.kernels.use(tier):
            for _ in range(3):  # later steps run on recycled buffers
                model.zero_grad()
                F.cross_entropy(model(mg.tensor(x, dtype="float64")), [0, 1, 2, 3] * 2).backward()
        return [p.grad for p in model.parameters()]

    for fast, ref in zip(gradients("fast"), gradients("reference"), strict=True):
        np.testing.assert_allclose(fast, ref, rtol=SAME_RTOL, atol=SAME_ATOL)


def test_small_arrays_bypass_the_cache_and_zeros_are_zero() -> None:
    small = workspace.empty((4,), np.float32)
    assert small.shape == (4,) and workspace.info()["total"] == 0
    a = workspace.empty(SHAPE, np.float32)
    a.fill(7)
    del a
    assert (workspace.zeros(SHAPE, np.float32) == 0).all()


def test_empty_like_keeps_the_memory_order() -> None:
    x = np.empty((8, 16, 32, 4), np.float32).transpose(3, 0, 1, 2)  # batch-last
    y = layout.empty_like(x)
    assert y.shape == x.shape and y.strides == x.strides


def test_outputs_held_by_the_user_survive_further_steps(rng) -> None:
    x = mg.tensor(rng.standard_normal((16, 3, 32, 32)))
    w = mg.tensor(rng.standard_normal((8, 3, 3, 3)), requires_grad=True)
    kept = F.relu(F.conv2d(x, w, padding=1))
    snapshot = kept.numpy().copy()
    for _ in range(3):  # the same shapes again: the cache recycles everything it can
        F.max_pool2d(F.relu(F.conv2d(x, w * 2, padding=1)), 2).sum().backward()
    np.testing.assert_array_equal(kept.numpy(), snapshot)


def test_the_cache_respects_its_limit_and_release_empties_it(monkeypatch) -> None:
    monkeypatch.setattr(workspace, "LIMIT_BYTES", 3 * NBYTES)
    held = [workspace.empty(SHAPE, np.float32) for _ in range(5)]
    assert workspace.info()["total"] == 3 * NBYTES  # the last two are plain allocations
    assert len({address(h) for h in held}) == 5
    del held
    assert mg.kernels.cache_info() == {"idle": 3 * NBYTES, "total": 3 * NBYTES, "limit": 3 * NBYTES}
    mg.kernels.release()
    assert mg.kernels.cache_info()["idle"] == mg.kernels.cache_info()["total"] == 0


def test_idle_blocks_of_other_sizes_make_room_under_the_limit(monkeypatch) -> None:
    monkeypatch.setattr(workspace, "LIMIT_BYTES", 2 * NBYTES)
    a, b = workspace.empty(SHAPE, np.float32), workspace.empty(SHAPE, np.float32)
    del a, b  # two idle blocks
    big = workspace.empty((256, 256), np.float32)  # needs both of them dropped
    assert workspace.info() == {"idle": 0, "total": 2 * NBYTES, "limit": 2 * NBYTES}
    assert big.shape == (256, 256)
