"""Batch normalization layers."""

from __future__ import annotations

import numpy as np

from minigrad.nn.layer import Layer, Parameter
from minigrad.ops.norm import batch_norm
from minigrad.tensor import Tensor


class _BatchNorm(Layer):
    _expected_ndim: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        count = isinstance(num_features, (int, np.integer)) and not isinstance(num_features, bool)
        if not count or num_features < 0:
            raise ValueError(
                f"{type(self).__name__}: num_features must be an int >= 0, got {num_features!r}"
            )
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features)) if affine else None
        self.bias = Parameter(np.zeros(num_features)) if affine else None
        self.track_running_stats = track_running_stats
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
        else:
            self.running_mean = self.running_var = None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._expected_ndim:
            raise ValueError(
                f"{type(self).__name__}: expected a {' or '.join(map(str, self._expected_ndim))}"
                f"-d input, got shape {x.shape}"
            )
        use_batch_stats = self.training or self.running_mean is None
        return batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=self.momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs over every axis but C.

    Training normalizes with the batch's mean and biased variance and updates
    ``running_mean`` / ``running_var`` (unbiased) with ``momentum``; evaluation uses them.

    Example:
        >>> bn = BatchNorm1d(3)
        >>> y = bn(np.random.default_rng(0).normal(5, 2, (64, 3))).numpy()
        >>> bool(np.allclose(y.mean(axis=0), 0, atol=1e-5))
        True
    """

    _expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs per channel.

    Example:
        >>> BatchNorm2d(8)(np.zeros((2, 8, 5, 5))).shape
        (2, 8, 5, 5)
    """

    _expected_ndim = (4,)
