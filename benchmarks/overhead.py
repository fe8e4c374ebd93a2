"""The fixed cost of one operation in an autograd library: the overhead budget of a step.

Measured on 2x2 tensors, where the arithmetic is free and only the library's bookkeeping is
left, for minigrad and PyTorch alike (``impl_minigrad.overhead``, ``impl_torch.overhead``):

* ``apply_us``: one ``Function.apply`` of a trivial Function (``-x``) recording the graph;
* ``apply_no_grad_us``: the same under ``no_grad`` (nothing recorded);
* ``operator_us``: ``h * c``, the operator path a model's code takes;
* ``backward_node_us``: the engine's cost per node of a backward through a chain of the
  trivial Function (topological order, the rule, accumulation into the leaf).

Each is the fastest of ``repeats`` chains of ``ops`` operations, divided by ``ops``: a fixed
cost is what is left when nothing else interferes, and on a shared machine the slower chains
measure the other processes.

Example:
    >>> import contextlib, numpy as np
    >>> class Leaf:
    ...     grad = None
    ...     def __neg__(self): return self
    ...     def __mul__(self, other): return self
    ...     def backward(self, seed): pass
    >>> leaf = Leaf()
    >>> costs = per_op_costs(leaf, leaf, lambda h: -h, contextlib.nullcontext, None, 5, 2)
    >>> sorted(costs)
    ['apply_no_grad_us', 'apply_us', 'backward_node_us', 'operator_us']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

KEYS = ("apply_us", "apply_no_grad_us", "operator_us", "backward_node_us")


def per_op_costs(
    x: Any,
    c: Any,
    apply: Callable[[Any], Any],
    no_grad: Callable[[], AbstractContextManager[Any]],
    seed: Any,
    ops: int = 200,
    repeats: int = 15,
) -> dict[str, float]:
    """Microseconds per op (see the module docstring) for a library whose leaf tensor ``x``
    requires grad, ``c`` is a constant tensor of its shape, ``apply`` is a trivial Function's
    apply, ``no_grad`` its no-grad context and ``seed`` the upstream gradient of a chain."""

    def chain(op: Callable[[Any], Any]) -> tuple[Any, float]:
        h, t0 = x, time.perf_counter()
        for _ in range(ops):
            h = op(h)
        return h, time.perf_counter() - t0

    samples: dict[str, list[float]] = {key: [] for key in KEYS}
    for _ in range(repeats):
        h, seconds = chain(apply)
        samples["apply_us"].append(seconds)
        t0 = time.perf_counter()
        h.backward(seed)
        samples["backward_node_us"].append(time.perf_counter() - t0)
        with no_grad():
            samples["apply_no_grad_us"].append(chain(apply)[1])
        samples["operator_us"].append(chain(lambda h: h * c)[1])
        x.grad = None
    return {key: 1e6 * min(v) / ops for key, v in samples.items()}
