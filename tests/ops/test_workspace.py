"""The workspace cache reuses a buffer only when nothing else refers to it."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import _workspace as workspace

SHAPE = (256, 128)  # above the cache's size threshold


@pytest.fixture(autouse=True)
def _fresh_cache():
    workspace.clear()
    yield
    workspace.clear()


def test_a_free_buffer_is_reused_and_a_held_one_is_not() -> None:
    a = workspace.empty(SHAPE, np.float32)
    address = a.__array_interface__["data"][0]
    b = workspace.empty(SHAPE, np.float32)
    assert b is not a  # a is still held
    del a, b
    c = workspace.empty(SHAPE, np.float32)
    assert c.__array_interface__["data"][0] == address  # reused once free


def test_a_view_keeps_its_buffer_from_being_reused() -> None:
    a = workspace.empty(SHAPE, np.float32)
    view = a[::2]
    del a
    b = workspace.empty(SHAPE, np.float32)
    assert not np.shares_memory(b, view)


def test_small_arrays_bypass_the_cache_and_zeros_are_zero() -> None:
    small = workspace.empty((4,), np.float32)
    assert small.shape == (4,)
    a = workspace.empty(SHAPE, np.float32)
    a.fill(7)
    del a
    assert (workspace.zeros(SHAPE, np.float32) == 0).all()


def test_empty_like_keeps_the_memory_order() -> None:
    x = np.empty((8, 16, 32, 4), np.float32).transpose(3, 0, 1, 2)  # batch-last
    y = workspace.empty_like(x)
    assert y.shape == x.shape and y.strides == x.strides


def test_outputs_held_by_the_user_survive_further_steps(rng) -> None:
    x = mg.tensor(rng.standard_normal((16, 3, 32, 32)))
    w = mg.tensor(rng.standard_normal((8, 3, 3, 3)), requires_grad=True)
    kept = F.relu(F.conv2d(x, w, padding=1))
    snapshot = kept.numpy().copy()
    for _ in range(3):  # the same shapes again: the cache recycles everything it can
        F.max_pool2d(F.relu(F.conv2d(x, w * 2, padding=1)), 2).sum().backward()
    np.testing.assert_array_equal(kept.numpy(), snapshot)


def test_the_cache_respects_its_limit(monkeypatch) -> None:
    monkeypatch.setattr(workspace, "LIMIT_BYTES", 3 * 256 * 128 * 4)
    held = [workspace.empty(SHAPE, np.float32) for _ in range(5)]
    assert workspace._cache.nbytes <= workspace.LIMIT_BYTES
    assert len({id(h) for h in held}) == 5
