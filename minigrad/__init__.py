"""minigrad: a small deep learning framework on NumPy that shows backpropagation at work."""

# Tensor first: the op modules and Tensor's operators refer to each other.
from minigrad.tensor import Tensor, from_numpy, tensor

# isort: split
from minigrad import data, diagnostics, functional, gradcheck, kernels, nn, optim
from minigrad.anomaly import AnomalyError, detect_anomaly
from minigrad.autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from minigrad.creation import arange, eye, ones, ones_like, rand, randn, zeros, zeros_like
from minigrad.drawing import draw_graph
from minigrad.dtypes import get_default_dtype, set_default_dtype
from minigrad.ops.elementwise import where
from minigrad.ops.shape import concat, stack
from minigrad.random import manual_seed
from minigrad.serialization import CheckpointError, load, save
from minigrad.tracing import trace

# isort: split
# The fast tier registers its kernels against the reference rules imported above.
from minigrad import _kernels  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "CheckpointError",
    "Function",
    "Tensor",
    "__version__",
    "arange",
    "concat",
    "data",
    "detect_anomaly",
    "diagnostics",
    "draw_graph",
    "enable_grad",
    "eye",
    "from_numpy",
    "functional",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "kernels",
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
    "stack",
    "tensor",
    "trace",
    "where",
    "zeros",
    "zeros_like",
]
