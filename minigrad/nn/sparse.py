"""``Embedding``: a learned vector per integer token."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.dtypes import is_int
from minigrad.nn import init
from minigrad.nn.layer import Layer, Parameter
from minigrad.ops.recurrent import embedding
from minigrad.tensor import Tensor


class Embedding(Layer):
    """A lookup table: ``weight (num_embeddings, embedding_dim)``, one row per index.

    Integer input of any shape gives ``(*input.shape, embedding_dim)``. ``weight`` starts as
    N(0, 1) draws, as in PyTorch; the ``padding_idx`` row (if given) starts at zero and never
    receives a gradient. ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not supported.

    Example:
        >>> emb = Embedding(10, 3, padding_idx=0)
        >>> emb(np.array([[1, 2, 0]])).shape, emb.weight.numpy()[0].tolist()
        ((1, 3, 3), [0.0, 0.0, 0.0])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> None:
        super().__init__()
        for what, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"Embedding: {what} must be a positive integer, got {value!r}")
        unsupported = {
            "max_norm": max_norm is not None,
            "scale_grad_by_freq": scale_grad_by_freq,
            "sparse": sparse,
        }
        for what, used in unsupported.items():
            if used:
                raise NotImplementedError(f"Embedding: {what} is not supported by minigrad")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is out of range for "
                    f"{num_embeddings} embeddings"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(np.zeros((num_embeddings, embedding_dim)))
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An embedding holding a copy of ``embeddings (num_embeddings, embedding_dim)``;
        ``freeze`` keeps it from learning.

        Example:
            >>> emb = Embedding.from_pretrained(np.eye(3))
            >>> emb(np.array([2])).tolist(), emb.weight.requires_grad
            ([[0.0, 0.0, 1.0]], False)
        """
        array = np.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if array.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {array.shape}"
            )
        layer = cls(*array.shape, padding_idx=padding_idx)
        layer.weight = Parameter(array, requires_grad=not freeze)
        return layer

    def forward(self, input: Any) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
