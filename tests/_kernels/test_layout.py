"""The fast tier's batch-last layout holds through a whole CNN: no hidden relayout copies.

Every fast kernel aligns what it receives through ``layout.aligned``, which records each copy
it makes. Through the default CNN and the benchmark's W2/W3 networks, the one place where an
array changes layout is ``Flatten``'s backward: it hands the pool a gradient in plain NCHW order,
which the pool aligns once. (Its forward costs nothing: in batch-last memory ``(C, H, W, N)`` the
merged axes are contiguous, so the reshape is a view, and the next ``Linear`` reads it as a
transposed matrix.) Anything else would be a copy nobody asked for.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from benchmarks.impl_minigrad import make_model
from minigrad import models
from minigrad._kernels import layout


@pytest.mark.parametrize(
    ("name", "build", "image"),
    [
        ("models.cnn digits", lambda: models.cnn((1, 8, 8)), (1, 8, 8)),
        ("models.cnn 28x28", lambda: models.cnn((1, 28, 28)), (1, 28, 28)),
        ("W2", lambda: make_model("W2"), (1, 28, 28)),
        ("W3", lambda: make_model("W3"), (1, 28, 28)),
    ],
)
def test_the_only_relayout_is_at_flatten(name: str, build, image, rng) -> None:
    model = build()
    layers = list(model)
    flatten = next(i for i, layer in enumerate(layers) if isinstance(layer, mg.nn.Flatten))
    x = rng.standard_normal((16, *image)).astype(np.float32)
    with mg.kernels.use("fast"), layout.recording() as copies:
        h = mg.tensor(x)
        for layer in layers[:flatten]:
            h = layer(h)
        before_flatten = h
        for layer in layers[flatten:]:
            h = layer(h)
        loss = F.cross_entropy(h, rng.integers(0, 10, 16))
        assert copies == [], f"{name}: the forward relaid {copies}"
        loss.backward()
    assert copies == [(before_flatten.shape, layout.BATCH_LAST)], name
    assert np.shares_memory(layers[flatten](before_flatten).numpy(), before_flatten.numpy())
