"""Which dtype a result has: float data becomes the default dtype (float32), and an integer
tensor meeting a float takes that float's dtype (PyTorch's rule), so integer inputs never
silently turn a float32 model's arithmetic into float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

INTS = mg.tensor([[1, 2], [3, 4]])
FLOATS = mg.tensor([[0.5, 1.5], [2.5, 3.5]], requires_grad=True)


@pytest.mark.parametrize(
    "op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a @ b]
)
def test_an_integer_tensor_meeting_a_float_tensor_takes_its_dtype(op) -> None:
    for a, b in ((INTS, FLOATS), (FLOATS, INTS)):
        out = op(a, b)
        assert out.dtype == np.float32 and out.requires_grad
    out = op(INTS, FLOATS.astype("float64"))
    assert out.dtype == np.float64
    out.sum().backward()


@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda: INTS / INTS, "float32"),
        (lambda: INTS / 2, "float32"),
        (lambda: INTS.mean(), "float32"),
        (lambda: INTS.exp(), "float32"),
        (lambda: INTS * 2.5, "float32"),
        (lambda: INTS + np.array([0.5, 1.5]), "float32"),
        (lambda: INTS**0.5, "float32"),
        (lambda: INTS + 2, "int64"),
        (lambda: INTS * INTS, "int64"),
        (lambda: FLOATS + np.array([0.5, 1.5]), "float32"),
    ],
    ids=[
        "int/int",
        "int/2",
        "mean",
        "exp",
        "int*2.5",
        "int+f64array",
        "int**0.5",
        "int+2",
        "int*int",
        "f32+f64array",
    ],
)
def test_integer_only_float_results_take_the_default_dtype(make, dtype) -> None:
    assert make().dtype == np.dtype(dtype)


def test_the_default_dtype_decides_integer_only_results() -> None:
    mg.set_default_dtype("float64")
    assert (INTS / INTS).dtype == np.float64 and INTS.mean().dtype == np.float64


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_fed_integers_compute_in_their_own_dtype(dtype) -> None:
    images = mg.tensor(np.arange(2 * 1 * 6 * 6).reshape(2, 1, 6, 6) % 7)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(18, 3),
    ).to(dtype)
    out = model(images)
    assert out.dtype == np.dtype(dtype)
    F.cross_entropy(out, [0, 2]).backward()
    assert all(p.grad.dtype == np.dtype(dtype) for p in model.parameters())
    assert nn.Linear(2, 2).to(dtype)(INTS).dtype == np.dtype(dtype)
    for pool in (F.max_pool2d, F.avg_pool2d):
        assert pool(images, 2).dtype == np.float32  # no parameters: the default dtype
    assert F.cross_entropy(INTS, [0, 1]).dtype == np.float32
