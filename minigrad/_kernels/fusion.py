"""Fused layer pairs: ReLU followed by max pooling, computed in the other order.

``max_pool(relu(x)) == relu(max_pool(x))`` exactly (the maximum commutes with any monotone
function), and the right-hand side runs the ReLU on a quarter of the values for a 2x2 pool. Its
gradient is bit-identical too: each window sends ``g * [z > 0]`` to the first maximum of its
pre-activation values, which is the first maximum of the activations wherever ``z > 0``.

``Sequential`` runs a ``ReLU`` layer followed by a ``MaxPool2d`` layer through this kernel in the
fast tier. Each layer of the pair keeps a :class:`Half` as its record, so ``layer.backward``
still works on either one: it runs that layer's own rule (the pool's routing, then the ReLU's
mask) on the arrays the fused node saved.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad._kernels import layout
from minigrad._kernels.pool import MaxPool2d as FastMaxPool2d
from minigrad._kernels.pool import route_max
from minigrad.autograd import Function, Node, seed_gradient


class ReLUMaxPool2d(Function):
    """``z = relu(max_pool(x))``, equal to ``max_pool(relu(x))``.

    ``dx``: each window routes ``g * [z > 0]`` to the first maximum of ``x`` in it (the
    fast max-pool's routing of the masked gradient).
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
    ) -> np.ndarray:
        pooled = FastMaxPool2d.forward(ctx, x, kernel, stride, padding)  # saves (xp, pooled)
        return np.maximum(pooled, 0, out=layout.empty_like(pooled))

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        xp, pooled = ctx.saved
        return route_max(xp, pooled, ctx.window, grad * (pooled > 0))


def run(relu: Any, pool: Any, x: Any) -> Any:
    """``pool(relu(x))`` through the fused kernel, leaving both layers a :class:`Half` record."""
    from minigrad import autograd
    from minigrad.nn.layer import _as_input, _as_tensor
    from minigrad.ops.pool import _float_input, _pool_args

    recording = autograd.is_grad_enabled()
    x = _float_input(_as_input(x) if recording else _as_tensor(x))
    settings = _pool_args("max_pool2d", x, pool.kernel_size, pool.stride, pool.padding)
    z = ReLUMaxPool2d.apply(x, **settings)
    if recording and z.requires_grad:
        node = z.grad_fn
        place = autograd.key(x)
        object.__setattr__(relu, "_record", Half(node, "relu", place))
        object.__setattr__(pool, "_record", Half(node, "pool", place))
    else:
        for layer in (relu, pool):
            object.__setattr__(layer, "_record", None)
    return z


class Half:
    """The record a layer of a fused pair keeps: the fused node, and which half it is."""

    __slots__ = ("half", "input_place", "node")

    def __init__(self, node: Node, half: str, input_place: Any) -> None:
        self.node, self.half, self.input_place = node, half, input_place

    def backward(self, name: str, grad_output: Any) -> np.ndarray:
        """This layer's own rule, on the fused node's saved arrays: the pool routes its
        gradient onto the ReLU's output, recomputed (ties among its zeros go where the unfused
        pool sends them); the ReLU masks a gradient by ``x > 0``."""
        node = self.node
        if node.released:
            raise RuntimeError(
                f"{name}.backward(): the graph of the last call was already freed by a "
                "backward; run the forward again"
            )
        xp, pooled = node.saved
        win = node.window
        (ph, pw), (h, w) = win.padding, win.in_shape[2:]
        x = xp[:, :, ph : ph + h, pw : pw + w]
        if self.half == "pool":
            g = seed_gradient(node.shape, node.dtype, grad_output)
            relu_xp = layout.padded(np.maximum(x, 0), win.padding, -np.inf)
            return route_max(relu_xp, np.maximum(pooled, 0), win, g)
        return seed_gradient(x.shape, node.dtype, grad_output) * (x > 0)
