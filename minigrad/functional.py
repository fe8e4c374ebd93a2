"""The functional namespace, imported as ``F``: every op as a plain function.

Example:
    >>> import minigrad as mg, minigrad.functional as F
    >>> F.relu(mg.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from minigrad.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minigrad.ops.conv import conv2d
from minigrad.ops.dropout import dropout
from minigrad.ops.elementwise import clip, maximum, minimum, where
from minigrad.ops.linalg import linear, matmul
from minigrad.ops.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from minigrad.ops.norm import batch_norm
from minigrad.ops.pool import avg_pool2d, max_pool2d
from minigrad.ops.recurrent import embedding
from minigrad.ops.reduce import logsumexp
from minigrad.ops.shape import pad

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "clip",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max_pool2d",
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
