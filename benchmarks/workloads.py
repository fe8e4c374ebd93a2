"""The three training-step workloads of the benchmark, as plain NumPy data.

Every implementation (the NumPy floor, minigrad, PyTorch) builds its network from the dictionary
returned by :func:`make_workload`, so all of them start from the same weights and see the same
batch, and their losses agree step by step.

Parameter names are the ones a ``Sequential`` of the listed layers gives them (index of the layer,
then ``weight`` or ``bias``), in PyTorch layouts: Linear weight ``(out, in)``, bias ``(out,)``;
Conv2d weight ``(O, C, KH, KW)``, bias ``(O,)``; BatchNorm2d weight and bias ``(C,)``.

W1, MLP, x ``(128, 784)``::

    0 Linear(784, 256)  1 ReLU  2 Linear(256, 128)  3 ReLU  4 Linear(128, 10)
    params: 0.weight 0.bias 2.weight 2.bias 4.weight 4.bias

W2, CNN, x ``(64, 1, 28, 28)``::

    0 Conv2d(1, 8, 3, padding=1)  1 ReLU  2 MaxPool2d(2)
    3 Conv2d(8, 16, 3, padding=1) 4 ReLU  5 MaxPool2d(2)  6 Flatten  7 Linear(784, 10)
    params: 0.weight 0.bias 3.weight 3.bias 7.weight 7.bias

W3, CNN with BatchNorm2d (training mode) after each conv, x ``(64, 1, 28, 28)``::

    0 Conv2d(1, 8, 3, padding=1)  1 BatchNorm2d(8)  2 ReLU  3 MaxPool2d(2)
    4 Conv2d(8, 16, 3, padding=1) 5 BatchNorm2d(16) 6 ReLU  7 MaxPool2d(2)
    8 Flatten  9 Linear(784, 10)
    params: 0.weight 0.bias 1.weight 1.bias 4.weight 4.bias 5.weight 5.bias 9.weight 9.bias
    buffers: 1.running_mean 1.running_var 5.running_mean 5.running_var

All workloads: softmax cross-entropy (mean over the batch), SGD with ``lr=0.05``,
``momentum=0.9``; one step is zero_grad + forward + backward + update on the same batch.

Example:
    >>> w = make_workload("W2")
    >>> w["x"].shape, list(w["params"])[:2]
    ((64, 1, 28, 28), ['0.weight', '0.bias'])
"""

from __future__ import annotations

from typing import Any

import numpy as np

WORKLOADS = ("W1", "W2", "W3")
LR = 0.05
MOMENTUM = 0.9
NUM_CLASSES = 10
BN_EPS = 1e-5
BN_MOMENTUM = 0.1

# Per workload: batch size, input shape of one sample, and the layers as (index, kind, shape args).
_SPECS: dict[str, tuple[int, tuple[int, ...], list[tuple[int, str, tuple[int, ...]]]]] = {
    "W1": (
        128,
        (784,),
        [(0, "linear", (784, 256)), (2, "linear", (256, 128)), (4, "linear", (128, 10))],
    ),
    "W2": (
        64,
        (1, 28, 28),
        [(0, "conv", (1, 8, 3)), (3, "conv", (8, 16, 3)), (7, "linear", (784, 10))],
    ),
    "W3": (
        64,
        (1, 28, 28),
        [
            (0, "conv", (1, 8, 3)),
            (1, "bn", (8,)),
            (4, "conv", (8, 16, 3)),
            (5, "bn", (16,)),
            (9, "linear", (784, 10)),
        ],
    ),
}


def layer_indices(name: str) -> dict[str, list[int]]:
    """Sequential indices of each parametrized layer kind in workload ``name``.

    Example:
        >>> layer_indices("W3")["bn"]
        [1, 5]
    """
    out: dict[str, list[int]] = {"linear": [], "conv": [], "bn": []}
    for index, kind, _ in _SPECS[name][2]:
        out[kind].append(index)
    return out


def make_workload(name: str, seed: int = 0) -> dict[str, Any]:
    """Deterministic weights, batch and hyper-parameters for workload ``name`` (float32).

    Weights and biases are uniform in ``±1/sqrt(fan_in)`` (PyTorch's default scale), BatchNorm
    weight 1 and bias 0; ``x`` is uniform in ``[0, 1)`` like pixel values, ``y`` uniform labels.

    Example:
        >>> w = make_workload("W1", seed=0)
        >>> w["params"]["0.weight"].shape, w["y"].dtype
        ((256, 784), dtype('int64'))
    """
    if name not in _SPECS:
        raise ValueError(f"unknown workload {name!r}; expected one of {WORKLOADS}")
    batch, sample_shape, layers = _SPECS[name]
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    buffers: dict[str, np.ndarray] = {}
    for index, kind, args in layers:
        if kind == "bn":
            (channels,) = args
            params[f"{index}.weight"] = np.ones(channels, np.float32)
            params[f"{index}.bias"] = np.zeros(channels, np.float32)
            buffers[f"{index}.running_mean"] = np.zeros(channels, np.float32)
            buffers[f"{index}.running_var"] = np.ones(channels, np.float32)
            continue
        if kind == "linear":
            fan_in, fan_out = args
            weight_shape: tuple[int, ...] = (fan_out, fan_in)
        else:
            cin, cout, k = args
            fan_in = cin * k * k
            weight_shape = (cout, cin, k, k)
        bound = 1.0 / np.sqrt(fan_in)
        params[f"{index}.weight"] = rng.uniform(-bound, bound, weight_shape).astype(np.float32)
        params[f"{index}.bias"] = rng.uniform(-bound, bound, weight_shape[0]).astype(np.float32)
    x = rng.random((batch, *sample_shape), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, batch).astype(np.int64)
    return {
        "name": name,
        "params": params,
        "buffers": buffers,
        "x": x,
        "y": y,
        "lr": LR,
        "momentum": MOMENTUM,
        "bn_eps": BN_EPS,
        "bn_momentum": BN_MOMENTUM,
    }


def astype(workload: dict[str, Any], dtype: type | np.dtype) -> dict[str, Any]:
    """A copy of ``workload`` with its float arrays (params, buffers, x) cast to ``dtype``.

    Example:
        >>> astype(make_workload("W1"), np.float64)["x"].dtype
        dtype('float64')
    """
    out = dict(workload)
    out["params"] = {k: v.astype(dtype) for k, v in workload["params"].items()}
    out["buffers"] = {k: v.astype(dtype) for k, v in workload["buffers"].items()}
    out["x"] = workload["x"].astype(dtype)
    out["y"] = workload["y"].copy()
    return out
