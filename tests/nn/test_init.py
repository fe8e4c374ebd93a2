"""Initializers: the documented ranges and standard deviations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import assert_uniform_within

import minigrad as mg
from minigrad.nn import init


def _big(shape=(256, 512)):
    return mg.zeros(*shape)


def test_kaiming_uniform_and_normal() -> None:
    t = init.kaiming_uniform_(_big(), nonlinearity="relu")
    assert_uniform_within(t.data, math.sqrt(2) * math.sqrt(3 / 512))
    t = init.kaiming_normal_(_big(), nonlinearity="relu", mode="fan_out")
    assert t.data.std() == pytest.approx(math.sqrt(2 / 256), rel=0.02)


def test_xavier_uniform_and_normal() -> None:
    t = init.xavier_uniform_(_big())
    assert_uniform_within(t.data, math.sqrt(6 / (256 + 512)))
    t = init.xavier_uniform_(mg.zeros(64, 32, 3, 3), gain=0.5)  # fans include the kernel
    assert_uniform_within(t.data, 0.5 * math.sqrt(6 / (32 * 9 + 64 * 9)))
    t = init.xavier_normal_(_big(), gain=2.0)
    assert t.data.std() == pytest.approx(2 * math.sqrt(2 / 768), rel=0.02)


def test_constant_zeros_and_fans() -> None:
    assert (init.constant_(mg.zeros(3), 0.25).data == 0.25).all()
    assert (init.zeros_(mg.ones(3)).data == 0).all()
    assert init.fans(mg.zeros(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(_big(), mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.xavier_uniform_(mg.zeros(3))


def test_draws_follow_manual_seed_and_keep_dtype() -> None:
    mg.manual_seed(5)
    a = init.kaiming_uniform_(mg.zeros(4, 4)).data.copy()
    mg.manual_seed(5)
    b = init.kaiming_uniform_(mg.zeros(4, 4))
    np.testing.assert_array_equal(b.data, a)
    assert b.dtype == np.float32
