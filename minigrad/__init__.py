"""minigrad: a small deep learning framework on NumPy that shows backpropagation at work."""

from typing import Any

# Tensor first: the op modules and Tensor's operators refer to each other.
from minigrad.tensor import Tensor, from_numpy, tensor

# isort: split
from minigrad import (
    accelerator,
    cuda,
    data,
    diagnostics,
    functional,
    gradcheck,
    kernels,
    nn,
    optim,
    utils,
)
from minigrad.anomaly import AnomalyError, detect_anomaly
from minigrad.autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from minigrad.creation import (
    arange,
    eye,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from minigrad.device import device
from minigrad.drawing import draw_graph
from minigrad.dtypes import (
    BUILTIN_NAMED_DTYPES,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from minigrad.ops.compare import argmax
from minigrad.ops.elementwise import cos, sin, where
from minigrad.ops.shape import concat, flatten, stack
from minigrad.random import manual_seed
from minigrad.serialization import CheckpointError, load, save
from minigrad.tracing import trace

# isort: split
# The fast tier registers its kernels against the reference rules imported above.
from minigrad import _kernels  # noqa: F401

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``mg.float``, ``mg.double``, ``mg.long``, ``mg.int``, ``mg.bool``: PyTorch's dtype names
    that are builtins, served without shadowing them."""
    if name in BUILTIN_NAMED_DTYPES:
        return BUILTIN_NAMED_DTYPES[name]
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


__all__ = [
    "AnomalyError",
    "CheckpointError",
    "Function",
    "Tensor",
    "__version__",
    "accelerator",
    "arange",
    "argmax",
    "concat",
    "cos",
    "cuda",
    "data",
    "detect_anomaly",
    "device",
    "diagnostics",
    "draw_graph",
    "enable_grad",
    "eye",
    "flatten",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "functional",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "int32",
    "int64",
    "is_grad_enabled",
    "kernels",
    "linspace",
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "randn",
    "save",
    "set_default_dtype",
    "sin",
    "stack",
    "tensor",
    "trace",
    "utils",
    "where",
    "zeros",
    "zeros_like",
]
