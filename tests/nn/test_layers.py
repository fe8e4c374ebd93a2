"""Each concrete layer: shapes, PyTorch layouts and defaults, modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import assert_uniform_within

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn


def test_linear_layout_and_forward() -> None:
    mg.manual_seed(0)
    lin = nn.Linear(100, 30)
    assert lin.weight.shape == (30, 100) and lin.bias.shape == (30,)
    x = np.random.default_rng(0).standard_normal((5, 100)).astype(np.float32)
    np.testing.assert_allclose(lin(x).numpy(), x @ lin.weight.data.T + lin.bias.data, rtol=1e-5)
    assert nn.Linear(3, 2, bias=False).bias is None


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [
        (lambda: nn.Linear(100, 3000), 100),
        (lambda: nn.Conv2d(4, 2048, (3, 5), groups=2), 2 * 3 * 5),
    ],
    ids=["linear", "conv2d"],
)
def test_default_init_is_uniform_over_pytorchs_range(make, fan_in) -> None:
    # PyTorch's default: weight and bias both U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    layer = make()
    assert_uniform_within(layer.weight.data, 1 / math.sqrt(fan_in))
    assert_uniform_within(layer.bias.data, 1 / math.sqrt(fan_in))


def test_conv_layout() -> None:
    conv = nn.Conv2d(4, 8, (3, 5), padding=(1, 2), groups=2)
    assert conv.weight.shape == (8, 2, 3, 5)
    assert conv(np.zeros((2, 4, 6, 7))).shape == (2, 8, 6, 7)
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_initialization_is_reproducible_from_manual_seed() -> None:
    mg.manual_seed(42)
    a = nn.Conv2d(3, 4, 3).weight.data.copy()
    mg.manual_seed(42)
    np.testing.assert_array_equal(nn.Conv2d(3, 4, 3).weight.data, a)


@pytest.mark.parametrize(
    ("layer", "fn"),
    [
        (nn.ReLU(), F.relu),
        (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
        (nn.Sigmoid(), F.sigmoid),
        (nn.Tanh(), F.tanh),
        (nn.MaxPool2d(2), lambda x: F.max_pool2d(x, 2)),
        (nn.AvgPool2d(3, 1, 1), lambda x: F.avg_pool2d(x, 3, 1, 1)),
        (nn.Flatten(), lambda x: x.reshape(2, -1)),
    ],
)
def test_parameter_free_layers_apply_their_op(layer, fn) -> None:
    x = mg.tensor(np.random.default_rng(1).standard_normal((2, 3, 4, 4)))
    np.testing.assert_array_equal(layer(x).numpy(), fn(x).numpy())


def test_batchnorm_layers_modes_and_buffers() -> None:
    bn = nn.BatchNorm2d(3)
    x = np.random.default_rng(0).normal(4, 2, (8, 3, 5, 5)).astype(np.float32)
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert not np.allclose(bn.running_mean.data, 0)
    bn.eval()
    before = bn.running_mean.data.copy()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean.data, before)
    with pytest.raises(ValueError, match="4-d input"):
        bn(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2 or 3-d input"):
        nn.BatchNorm1d(3)(np.zeros((2, 3, 4, 4)))
    assert nn.BatchNorm1d(3)(np.zeros((4, 3, 6))).shape == (4, 3, 6)
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False).eval()
    assert plain(x[:, :, 0, 0]).shape == (8, 3)  # batch statistics without running ones


def test_dropout_layer_modes_and_generator() -> None:
    drop = nn.Dropout(0.5, generator=np.random.default_rng(0))
    y = drop(np.ones(1000)).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    drop.eval()
    assert (drop(np.ones(10)).numpy() == 1).all()


def test_losses() -> None:
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    target = np.array([0, 2])
    assert nn.CrossEntropyLoss()(logits, target).item() == pytest.approx(
        F.cross_entropy(mg.tensor(logits), target).item()
    )
    assert nn.CrossEntropyLoss(reduction="none")(logits, target).shape == (2,)
    assert nn.MSELoss(reduction="sum")(np.ones(3), np.zeros(3)).item() == 3.0
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_sequential_and_layer_list_containers() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    assert isinstance(model[:2], nn.Sequential) and len(model[:2]) == 2
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    blocks = nn.LayerList([nn.Linear(2, 2), nn.Linear(2, 2)])
    assert len(list(blocks.parameters())) == 4 and isinstance(blocks[1], nn.Linear)
    with pytest.raises(TypeError, match="expected a Layer"):
        nn.Sequential(lambda x: x)
