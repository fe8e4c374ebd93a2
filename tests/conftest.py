"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

import minigrad

# Property tests replay: in CI (CI set) the examples are derandomized, so a failure there
# happens again on every run; elsewhere they are random, and a failure prints the
# @reproduce_failure blob that replays it. No example database is kept, and no per-example
# deadline (a timing that flakes on a busy machine).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile("dev", database=None, print_blob=True, deadline=None)
settings.load_profile("ci" if "CI" in os.environ else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-network", action="store_true", help="run tests that download real datasets"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-network"):
        return
    skip = pytest.mark.skip(reason="downloads real files: pass --run-network to run")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for every test."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _isolated_global_state():
    """Each test starts with float32 as the default dtype and a freshly seeded generator."""
    minigrad.set_default_dtype("float32")
    minigrad.manual_seed(0)
    yield
    minigrad.set_default_dtype("float32")
