"""Batch normalization with one fused backward rule.

This is the reference rule, on the input's own ``(N, C, ...)`` layout; the fast kernel in
``minigrad/_kernels/norm.py`` computes the same on one ``(C, M)`` row per channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function, Node
from minigrad.ops._common import as_float, as_tensor, promote
from minigrad.tensor import Tensor


def channel_axes(x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes batch normalization reduces over (all but axis 1), and the shape that makes a
    per-channel ``(C,)`` vector broadcast against ``x``."""
    return (0, *range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    """``y = gamma * xhat + beta`` with ``xhat = (x - mu) / sqrt(var + eps)`` per channel
    (axis 1), ``mu`` and ``var`` the batch mean and biased variance over the other axes in
    training, the running estimates in evaluation.

    Training, with ``m`` values per channel and sums over them:
    ``dbeta = sum g``,  ``dgamma = sum g * xhat``,
    ``dx = gamma / (m sqrt(var + eps)) * (m g - dbeta - xhat * dgamma)``:
    the closed form of the chain through ``mu`` and ``var`` (derived in the docs).
    Evaluation normalizes with constants, so ``dx = g * gamma / sqrt(running_var + eps)``.
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        gamma: np.ndarray | None,
        beta: np.ndarray | None,
        running_mean: np.ndarray | None,
        running_var: np.ndarray | None,
        training: bool,
        momentum: float,
        eps: float,
    ) -> np.ndarray:
        axes, per_channel = channel_axes(x)
        if training:
            mu, var = x.mean(axis=axes), x.var(axis=axes)
            if running_mean is not None:
                m = x.size // x.shape[1]
                # the running variance is the unbiased one (PyTorch's convention)
                running_mean *= 1 - momentum
                running_mean += momentum * mu
                running_var *= 1 - momentum
                running_var += momentum * m / max(m - 1, 1) * var
        else:
            mu, var = running_mean, running_var
        # statistics kept in another precision never change the output's dtype
        mu = mu.astype(x.dtype, copy=False)
        inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = (x - mu.reshape(per_channel)) * inv_std.reshape(per_channel)
        y = xhat if gamma is None else xhat * gamma.reshape(per_channel)
        if beta is not None:
            y = y + beta.reshape(per_channel)
        ctx.training = training
        ctx.save(xhat, inv_std, gamma)
        return y

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        xhat, inv_std, gamma = ctx.saved
        need_x, need_gamma, need_beta = ctx.needs_input_grad[:3]
        axes, per_channel = channel_axes(grad)
        dbeta = grad.sum(axis=axes)
        dgamma = (grad * xhat).sum(axis=axes)
        grad_x = None
        if need_x:
            scale = (inv_std if gamma is None else gamma * inv_std).reshape(per_channel)
            if ctx.training:
                m = grad.size // grad.shape[1]
                grad_x = (
                    scale
                    / m
                    * (m * grad - dbeta.reshape(per_channel) - xhat * dgamma.reshape(per_channel))
                )
            else:
                grad_x = grad * scale
        return grad_x, dgamma if need_gamma else None, dbeta if need_beta else None, None, None


def _data(t: Any) -> np.ndarray | None:
    return t.data if isinstance(t, Tensor) else t


def batch_norm(
    x: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over axis 1 of ``x`` (N, C) or (N, C, H, W) (any (N, C, ...)).

    In training, normalizes with the batch statistics and updates ``running_mean`` and
    ``running_var`` (arrays or Tensors, updated in place; may be None) with ``momentum``; in
    evaluation, normalizes with them and leaves them unchanged.

    Example:
        >>> y = batch_norm(Tensor([[1.0], [3.0]]), None, None, training=True)
        >>> y.numpy().ravel().round(3).tolist()
        [-1.0, 1.0]
    """
    x = as_tensor(x)
    weight, bias = (None if p is None else as_tensor(p) for p in (weight, bias))
    x, weight, bias = promote(x, weight, bias)
    if x.data.dtype.kind != "f":  # no float parameter to meet: integers take the default dtype
        x = Tensor._wrap(as_float(x.data), None)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {x.shape}")
    c = x.shape[1]
    rm, rv = _data(running_mean), _data(running_var)
    for name, v in (("weight", weight), ("bias", bias), ("running_mean", rm), ("running_var", rv)):
        if v is not None and np.shape(_data(v)) != (c,):
            raise ValueError(
                f"batch_norm: {name} has shape {np.shape(_data(v))} but the input {x.shape} "
                f"has {c} channels"
            )
    if (rm is None) != (rv is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and rm is None:
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    if training and x.size // c < 2:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel in training, got input shape "
            f"{x.shape}"
        )
    return kernels.pick(BatchNorm).apply(
        x,
        weight,
        bias,
        rm,
        rv,
        training=training,
        momentum=momentum,
        eps=eps,
    )
