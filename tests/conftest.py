"""Fixtures shared by the whole suite."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad


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
