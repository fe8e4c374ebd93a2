"""Containers: ``LayerList`` holds layers, ``Sequential`` also chains them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from minigrad import autograd, kernels
from minigrad._kernels import fusion
from minigrad.nn.activation import ReLU
from minigrad.nn.layer import Layer
from minigrad.nn.pooling import MaxPool2d


class LayerList(Layer):
    """A list of layers whose parameters are registered (it has no ``forward`` of its own).

    Sub-layers are named ``"0"``, ``"1"``, ... so parameters are named ``"0.weight"`` etc.

    Example:
        >>> import minigrad.nn as nn
        >>> blocks = nn.LayerList([nn.Linear(2, 2) for _ in range(3)])
        >>> len(blocks), len(list(blocks.parameters()))
        (3, 6)
    """

    def __init__(self, layers: Iterable[Layer] = ()) -> None:
        super().__init__()
        for layer in layers:
            self.append(layer)

    def append(self, layer: Layer) -> LayerList:
        """Add a layer at the end."""
        if not isinstance(layer, Layer):
            raise TypeError(f"{type(self).__name__}: expected a Layer, got {type(layer).__name__}")
        setattr(self, str(len(self)), layer)
        return self

    def _of(self, layers: list[Layer]) -> LayerList:
        return LayerList(layers)

    def __getitem__(self, index: int | slice) -> Any:
        layers = list(self.children())
        return self._of(layers[index]) if isinstance(index, slice) else layers[index]

    def __len__(self) -> int:
        return sum(1 for _ in self.children())

    def __iter__(self) -> Iterator[Layer]:
        return self.children()


class Sequential(LayerList):
    """Layers applied one after the other; indexable, sliceable and iterable.

    Example:
        >>> import minigrad.nn as nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> model(np.zeros((3, 4))).shape, len(model), type(model[1]).__name__
        ((3, 2), 3, 'ReLU')
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__(layers)

    def _of(self, layers: list[Layer]) -> Sequential:
        return Sequential(*layers)

    def forward(self, x: Any) -> Any:
        layers = list(self.children())
        i = 0
        while i < len(layers):
            if i + 1 < len(layers) and _fusable(layers[i], layers[i + 1]):
                x = fusion.run(layers[i], layers[i + 1], x)
                i += 2
            else:
                x = layers[i](x)
                i += 1
        return x


def _fusable(first: Layer, second: Layer) -> bool:
    """Whether a ReLU layer and the max-pooling layer after it may run as one fast kernel
    (:mod:`minigrad._kernels.fusion`): in the fast tier, for the plain layers only, and while
    nothing watches them: no trace or anomaly mode, no hook on either layer (diagnostics use
    hooks), no forward replaced on the instance (as ``summary`` does)."""
    return (
        type(first) is ReLU
        and type(second) is MaxPool2d
        and kernels.current() == "fast"
        and autograd._observer.active is None
        and not _observed(first)
        and not _observed(second)
    )


def _observed(layer: Layer) -> bool:
    return layer._hooks is not None or "forward" in layer.__dict__
