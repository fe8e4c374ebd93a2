"""The command line's models (a small MLP and a small CNN for digit images) and ``summary``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from minigrad import nn
from minigrad.autograd import no_grad
from minigrad.creation import zeros
from minigrad.tensor import Tensor

__all__ = ["MODELS", "build", "cnn", "mlp", "summary"]


def mlp(
    image_shape: tuple[int, int, int], num_classes: int = 10, hidden: int = 128
) -> nn.Sequential:
    """Flatten, then two hidden ReLU layers of ``hidden`` units.

    Example:
        >>> mlp((1, 8, 8))[-1]
        Linear(in_features=128, out_features=10, bias=True)
    """
    c, h, w = image_shape
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(c * h * w, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


def cnn(image_shape: tuple[int, int, int], num_classes: int = 10) -> nn.Sequential:
    """Two convolution blocks (conv-batchnorm-ReLU, then max-pool), a hidden layer, dropout.

    Images of 16 pixels or more are pooled after each block (28x28 becomes 7x7); smaller
    images (the 8x8 digits) only after the second.

    Example:
        >>> cnn((1, 28, 28))(np.zeros((2, 1, 28, 28))).shape
        (2, 10)
    """
    c, h, w = image_shape
    pool_first = min(h, w) >= 16
    first = [nn.Conv2d(c, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()]
    if pool_first:
        first.append(nn.MaxPool2d(2))
        h, w = h // 2, w // 2
    second = [nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2)]
    h, w = h // 2, w // 2
    return nn.Sequential(
        *first,
        *second,
        nn.Flatten(),
        nn.Linear(32 * h * w, 128),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(128, num_classes),
    )


#: The models the command line builds by name.
MODELS = {"mlp": mlp, "cnn": cnn}


def build(name: str, image_shape: tuple[int, int, int], num_classes: int = 10) -> nn.Sequential:
    """One of the command line's models (:data:`MODELS`) by name, for ``image_shape`` inputs.

    Example:
        >>> build("mlp", (1, 8, 8))[1]
        Linear(in_features=64, out_features=128, bias=True)
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](tuple(image_shape), num_classes=num_classes)


def summary(model: nn.Layer, input_shape: Sequence[int]) -> str:
    """A table of ``model``'s layers, their output shapes and parameter counts (as Keras's
    ``model.summary()`` and torchinfo print), for inputs of ``input_shape`` (one example,
    without the batch axis, which shows as ``N``).

    One forward pass over a batch of zeros finds the shapes; it runs in evaluation mode without
    recording a graph, and leaves the model's mode and state as they were. Each row is a layer
    below ``model``, indented under its container; its parameters are those it holds itself,
    so that the column adds up to the total. ``nn.Layer.summary`` calls this.

    Example:
        >>> print(summary(mlp((1, 8, 8), hidden=16), (1, 8, 8)))
        Layer   Type      Output shape   Parameters
        ===========================================
        0       Flatten   (N, 64)                 -
        1       Linear    (N, 16)             1,040
        2       ReLU      (N, 16)                 -
        3       Linear    (N, 16)               272
        4       ReLU      (N, 16)                 -
        5       Linear    (N, 10)               170
        ===========================================
        Input (N, 1, 8, 8); 1,482 parameters (1,482 trainable), 5.8 KiB
    """
    rows = list(_rows(model))
    shapes = _output_shapes(model, [layer for _, _, layer in rows], tuple(input_shape))
    own = {id(layer): _own_parameters(layer) for _, _, layer in rows}
    table = [("Layer", "Type", "Output shape", "Parameters")]
    for name, depth, layer in rows:
        count = sum(p.size for p in own[id(layer)])
        shape = shapes.get(id(layer), "-")
        table.append(
            ("  " * depth + name, type(layer).__name__, shape, f"{count:,}" if count else "-")
        )
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = [
        "   ".join(f"{cell:<{width}}" for cell, width in zip(row[:3], widths, strict=False))
        + f"   {row[3]:>{widths[3]}}"
        for row in table
    ]
    rule = "=" * len(lines[0])
    params = list(model.parameters())
    total = sum(p.size for p in params)
    trainable = sum(p.size for p in params if p.requires_grad)
    size = sum(p.data.nbytes for p in params) / 1024
    batch = _batch_shape(input_shape)
    footer = f"Input {batch}; {total:,} parameters ({trainable:,} trainable), {size:.1f} KiB"
    buffers = sum(b.size for b in model.buffers())
    if buffers:
        footer += f"; buffers: {buffers:,} values"
    return "\n".join([lines[0], rule, *lines[1:], rule, footer])


def _rows(model: nn.Layer) -> Iterator[tuple[str, int, nn.Layer]]:
    """Every layer below ``model`` as (dotted name, depth, layer), depth first, each once."""
    seen = {id(model)}
    stack = [("", 0, iter(list(model.named_children())))]
    while stack:
        prefix, depth, children = stack[-1]
        for name, child in children:
            if id(child) in seen:
                continue
            seen.add(id(child))
            yield prefix + name, depth, child
            stack.append((f"{prefix}{name}.", depth + 1, iter(list(child.named_children()))))
            break
        else:
            stack.pop()


def _own_parameters(layer: nn.Layer) -> list[nn.Parameter]:
    below = {id(p) for child in layer.children() for p in child.parameters()}
    return [p for p in layer.parameters() if id(p) not in below]


def _batch_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def _output_shapes(
    model: nn.Layer, layers: list[nn.Layer], input_shape: tuple[int, ...]
) -> dict[int, str]:
    """Run ``model`` once on zeros and note the output shape of each of ``layers``."""
    shapes: dict[int, str] = {}

    def recording(layer: nn.Layer) -> Any:
        forward = type(layer).forward

        def forward_and_note(*args: Any, **kwargs: Any) -> Any:
            out = forward(layer, *args, **kwargs)
            if isinstance(out, Tensor):
                shapes[id(layer)] = _batch_shape(out.shape[1:])
            return out

        return forward_and_note

    was_training = model.training
    for layer in layers:  # an instance attribute, found before the class's forward
        object.__setattr__(layer, "forward", recording(layer))
    try:
        model.eval()
        with no_grad():
            model(zeros((1, *input_shape)))
    finally:
        for layer in layers:
            object.__delattr__(layer, "forward")
        model.train(was_training)
    return shapes
