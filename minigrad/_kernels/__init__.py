"""The fast tier: kernels for the hot image ops, each registered against its reference rule.

Private: users choose tiers with :mod:`minigrad.kernels`. Each module holds the fast kernel of
ops whose readable reference rules live in ``minigrad/ops/``, tested equal to them.
"""

from minigrad._kernels import activation, conv, norm, pool

__all__ = ["activation", "conv", "norm", "pool"]
