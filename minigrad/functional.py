"""The functional namespace, imported as ``F``: every op as a plain function.

Example:
    >>> import minigrad as mg, minigrad.functional as F
    >>> F.relu(mg.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from minigrad.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minigrad.ops.elementwise import clip, maximum, minimum, where
from minigrad.ops.linalg import linear, matmul
from minigrad.ops.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from minigrad.ops.reduce import logsumexp
from minigrad.ops.shape import pad

__all__ = [
    "binary_cross_entropy_with_logits",
    "clip",
    "cross_entropy",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsumexp",
    "matmul",
    "maximum",
    "minimum",
    "mse_loss",
    "nll_loss",
    "pad",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "where",
]
