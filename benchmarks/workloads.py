"""The training-step workloads of the benchmark, as plain NumPy data.

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

W4, LeNet-5 with ReLU and max-pooling, x ``(128, 1, 28, 28)``::

    0 Conv2d(1, 6, 5, padding=2)  1 ReLU  2 MaxPool2d(2)
    3 Conv2d(6, 16, 5)            4 ReLU  5 MaxPool2d(2)  6 Flatten
    7 Linear(400, 120)  8 ReLU  9 Linear(120, 84)  10 ReLU  11 Linear(84, 10)
    params: 0.weight 0.bias 3.weight 3.bias 7.weight 7.bias 9.weight 9.bias 11.weight 11.bias

    LeNet-5 as the PyTorch tutorial "Neural Networks" writes it (conv 6@5x5, conv 16@5x5,
    400-120-84-10, ReLU and 2x2 max-pooling), on 28x28 MNIST images padded by 2 to LeNet's
    32x32. LeCun et al. (1998) used scaled tanh, trainable average subsampling and partial
    C3 connectivity; ReLU and max-pooling are what LeNet-5 means in practice today, and they
    keep W4 about size and shape (5x5 kernels, a deeper classifier) next to W2, not about
    other ops.

W5, the network of PyTorch's MNIST example (github.com/pytorch/examples, ``mnist/main.py`` at
commit 77f55b912142e11fcfdf5b530231fb9c52f181e8), x ``(64, 1, 28, 28)``::

    0 Conv2d(1, 32, 3)  1 ReLU  2 Conv2d(32, 64, 3)  3 ReLU  4 MaxPool2d(2)  5 Dropout(0.25)
    6 Flatten  7 Linear(9216, 128)  8 ReLU  9 Dropout(0.5)  10 Linear(128, 10)  11 LogSoftmax
    params: 0.weight 0.bias 2.weight 2.bias 7.weight 7.bias 10.weight 10.bias
    loss: NLL of the log-softmax (the example's ``F.nll_loss``), equal to cross-entropy on the
    logits.

    Dropout uses masks the workload supplies, ``masks["5"]`` ``(P, N, 64, 12, 12)`` and
    ``masks["9"]`` ``(P, N, 128)``: training step ``k`` (counting from 0) multiplies by
    ``masks[key][k % P]``, whose entries are 0 or ``1 / (1 - p)`` (inverted dropout), so every
    implementation drops the same units at every step and the losses agree. Evaluation mode
    skips dropout. The example trains with Adadelta; here, as in every workload, SGD.

``MLP`` (the scaling study), x ``(batch, 784)``: ``depth`` Linear layers, ReLU between them,
``784 - width - ... - width - 10``; Sequential indices 0, 2, 4, ... (W1 is ``784-256-128-10``).

All workloads: softmax cross-entropy (mean over the batch), SGD with ``lr=0.05``,
``momentum=0.9``; one step is zero_grad + forward + backward + update on the same batch.

Example:
    >>> w = make_workload("W2")
    >>> w["x"].shape, list(w["params"])[:2]
    ((64, 1, 28, 28), ['0.weight', '0.bias'])
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
LR = 0.05
MOMENTUM = 0.9
NUM_CLASSES = 10
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
MASK_PERIOD = 4  # distinct dropout masks per layer; step k uses mask k % MASK_PERIOD
IMAGE = (1, 28, 28)

# Per workload: batch size, input shape of one sample, and the layers as (index, kind, shape args).
_SPECS: dict[str, tuple[int, tuple[int, ...], list[tuple[int, str, tuple[int, ...]]]]] = {
    "W1": (
        128,
        (784,),
        [(0, "linear", (784, 256)), (2, "linear", (256, 128)), (4, "linear", (128, 10))],
    ),
    "W2": (
        64,
        IMAGE,
        [(0, "conv", (1, 8, 3)), (3, "conv", (8, 16, 3)), (7, "linear", (784, 10))],
    ),
    "W3": (
        64,
        IMAGE,
        [
            (0, "conv", (1, 8, 3)),
            (1, "bn", (8,)),
            (4, "conv", (8, 16, 3)),
            (5, "bn", (16,)),
            (9, "linear", (784, 10)),
        ],
    ),
    "W4": (
        128,
        IMAGE,
        [
            (0, "conv", (1, 6, 5)),
            (3, "conv", (6, 16, 5)),
            (7, "linear", (400, 120)),
            (9, "linear", (120, 84)),
            (11, "linear", (84, 10)),
        ],
    ),
    "W5": (
        64,
        IMAGE,
        [
            (0, "conv", (1, 32, 3)),
            (2, "conv", (32, 64, 3)),
            (7, "linear", (9216, 128)),
            (10, "linear", (128, 10)),
        ],
    ),
}
# Dropout layers: workload -> [(Sequential index, p, shape of one sample's activation)].
DROPOUT: dict[str, list[tuple[int, float, tuple[int, ...]]]] = {
    "W5": [(5, 0.25, (64, 12, 12)), (9, 0.5, (128,))],
}


def mlp_sizes(width: int, depth: int) -> tuple[int, ...]:
    """Layer widths of the scaling study's MLP: ``depth`` Linear layers from 784 to 10.

    Example:
        >>> mlp_sizes(64, 3)
        (784, 64, 64, 10)
    """
    if depth < 2 or width < 1:
        raise ValueError(f"an MLP needs depth >= 2 and width >= 1, got {depth=}, {width=}")
    return (784, *[width] * (depth - 1), NUM_CLASSES)


def _layers(name: str, sizes: tuple[int, ...] | None) -> list[tuple[int, str, tuple[int, ...]]]:
    if name == "MLP":
        if sizes is None:
            raise ValueError("the MLP workload needs sizes, e.g. mlp_sizes(256, 3)")
        return [(2 * i, "linear", (a, b)) for i, (a, b) in enumerate(itertools.pairwise(sizes))]
    return _SPECS[name][2]


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


def make_workload(
    name: str, seed: int = 0, batch: int | None = None, sizes: tuple[int, ...] | None = None
) -> dict[str, Any]:
    """Deterministic weights, batch and hyper-parameters for workload ``name`` (float32).

    Weights and biases are uniform in ``±1/sqrt(fan_in)`` (PyTorch's default scale), BatchNorm
    weight 1 and bias 0; ``x`` is uniform in ``[0, 1)`` like pixel values, ``y`` uniform labels,
    dropout masks (W5) Bernoulli. ``batch`` overrides the workload's batch size; ``sizes``
    gives the layer widths of the ``"MLP"`` workload (see :func:`mlp_sizes`).

    Example:
        >>> w = make_workload("W1", seed=0)
        >>> w["params"]["0.weight"].shape, w["y"].dtype
        ((256, 784), dtype('int64'))
        >>> make_workload("MLP", batch=8, sizes=mlp_sizes(32, 4))["params"]["4.weight"].shape
        (32, 32)
    """
    if name not in _SPECS and name != "MLP":
        raise ValueError(f"unknown workload {name!r}; expected one of {(*WORKLOADS, 'MLP')}")
    default_batch, sample_shape = _SPECS[name][:2] if name != "MLP" else (128, (784,))
    batch = default_batch if batch is None else batch
    if batch < 1:
        raise ValueError(f"workload {name}: batch must be at least 1, got {batch}")
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    buffers: dict[str, np.ndarray] = {}
    for index, kind, args in _layers(name, sizes):
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
    masks = {}
    for index, p, shape in DROPOUT.get(name, []):
        keep = rng.random((MASK_PERIOD, batch, *shape)) >= p
        masks[str(index)] = keep.astype(np.float32) * np.float32(1.0 / (1.0 - p))
    return {
        "name": name,
        "params": params,
        "buffers": buffers,
        "x": x,
        "y": y,
        "masks": masks,
        "sizes": None if sizes is None else tuple(sizes),
        "lr": LR,
        "momentum": MOMENTUM,
        "bn_eps": BN_EPS,
        "bn_momentum": BN_MOMENTUM,
    }


def parse_spec(spec: str) -> dict[str, Any]:
    """The workload named by ``spec``: a name, then optional ``/b=BATCH``, and for ``MLP``
    ``/w=WIDTH/d=DEPTH``; what the benchmark's worker processes are told to build.

    Example:
        >>> parse_spec("MLP/w=64/d=3/b=8")
        {'name': 'MLP', 'batch': 8, 'sizes': (784, 64, 64, 10)}
        >>> parse_spec("W2")
        {'name': 'W2', 'batch': None, 'sizes': None}
    """
    name, *fields = spec.split("/")
    values: dict[str, int] = {}
    for field in fields:
        key, sep, value = field.partition("=")
        if not sep or key not in ("b", "w", "d") or not value.isdigit():
            raise ValueError(f"bad workload spec {spec!r}: {field!r} is not b=, w= or d=<int>")
        values[key] = int(value)
    if (name == "MLP") != ("w" in values and "d" in values) or name not in (*WORKLOADS, "MLP"):
        raise ValueError(
            f"bad workload spec {spec!r}: expected one of {WORKLOADS} or MLP/w=<int>/d=<int>, "
            "each optionally followed by /b=<batch>"
        )
    sizes = mlp_sizes(values["w"], values["d"]) if name == "MLP" else None
    return {"name": name, "batch": values.get("b"), "sizes": sizes}


def from_spec(spec: str, seed: int = 0) -> dict[str, Any]:
    """:func:`make_workload` for a spec string (see :func:`parse_spec`).

    Example:
        >>> from_spec("W1/b=32")["x"].shape
        (32, 784)
    """
    return make_workload(seed=seed, **parse_spec(spec))


def astype(workload: dict[str, Any], dtype: type | np.dtype) -> dict[str, Any]:
    """A copy of ``workload`` with its float arrays (params, buffers, x, masks) cast to ``dtype``.

    Example:
        >>> astype(make_workload("W1"), np.float64)["x"].dtype
        dtype('float64')
    """
    out = dict(workload)
    for key in ("params", "buffers", "masks"):
        out[key] = {k: v.astype(dtype) for k, v in workload[key].items()}
    out["x"] = workload["x"].astype(dtype)
    out["y"] = workload["y"].copy()
    return out
